//! Thin serial transport to an ESC/POS printer: open the port, write a receipt, query the
//! real-time status with a timeout. All protocol knowledge lives in the pure modules.

use std::io::{self, Read, Write};
use std::time::Duration;

use serialport::{ClearBuffer, DataBits, FlowControl, Parity, SerialPort, StopBits};

use crate::receipt::{EncodeError, Receipt};
use crate::status::{
    Connection, Cover, Paper, PrinterState, StatusError, StatusReply, StatusRequest,
};

/// Serial line settings; data bits, parity and stop bits are fixed at 8N1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SerialSettings {
    /// Baud rate, 9600 by default.
    pub baud_rate: u32,
    /// How long a write may block.
    pub write_timeout: Duration,
}

impl Default for SerialSettings {
    fn default() -> Self {
        Self {
            baud_rate: 9600,
            write_timeout: Duration::from_secs(5),
        }
    }
}

/// Why talking to the printer failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The port could not be opened or configured.
    #[error("cannot open serial port {path}: {source}")]
    Open {
        /// Port path.
        path: String,
        /// Cause.
        source: serialport::Error,
    },
    /// The receipt could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// Writing to or reading from the port failed.
    #[error("serial I/O failed: {0}")]
    Io(#[from] io::Error),
    /// The printer did not answer a status request in time.
    #[error("no reply to DLE EOT {n} within {timeout:?}")]
    StatusTimeout {
        /// The `n` of `DLE EOT n`.
        n: u8,
        /// The timeout waited.
        timeout: Duration,
    },
    /// The printer answered with a byte that is not a status byte.
    #[error(transparent)]
    Status(#[from] StatusError),
}

/// A printer on a serial line.
#[derive(Debug)]
pub struct SerialPrinter {
    port: Box<dyn SerialPort>,
    write_timeout: Duration,
}

impl SerialPrinter {
    /// Open the printer's serial port at `path` (8N1, no flow control).
    ///
    /// # Errors
    /// [`TransportError::Open`].
    pub fn open(path: &str, settings: SerialSettings) -> Result<Self, TransportError> {
        let port = serialport::new(path, settings.baud_rate)
            .data_bits(DataBits::Eight)
            .parity(Parity::None)
            .stop_bits(StopBits::One)
            .flow_control(FlowControl::None)
            .timeout(settings.write_timeout)
            .open()
            .map_err(|source| TransportError::Open {
                path: path.to_owned(),
                source,
            })?;
        Ok(Self {
            port,
            write_timeout: settings.write_timeout,
        })
    }

    /// Encode and send one receipt.
    ///
    /// # Errors
    /// [`TransportError::Encode`] or [`TransportError::Io`].
    pub fn print(&mut self, receipt: &Receipt) -> Result<(), TransportError> {
        let bytes = receipt.encode()?;
        self.write_bytes(&bytes)
    }

    /// Send raw ESC/POS bytes.
    ///
    /// # Errors
    /// [`TransportError::Io`].
    pub fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        self.port
            .set_timeout(self.write_timeout)
            .map_err(io::Error::from)?;
        self.port.write_all(bytes)?;
        self.port.flush()?;
        Ok(())
    }

    /// Ask one real-time status (`DLE EOT n`) and wait up to `timeout` for its byte.
    ///
    /// # Errors
    /// [`TransportError::StatusTimeout`], [`TransportError::Status`] or [`TransportError::Io`].
    pub fn query(
        &mut self,
        request: StatusRequest,
        timeout: Duration,
    ) -> Result<StatusReply, TransportError> {
        // A late answer to an earlier, timed-out query must not be read as this one's.
        self.port
            .clear(ClearBuffer::Input)
            .map_err(io::Error::from)?;
        self.write_bytes(&request.request_bytes())?;
        self.port.set_timeout(timeout).map_err(io::Error::from)?;
        let mut byte = [0_u8; 1];
        match self.port.read(&mut byte) {
            Ok(1) => Ok(request.parse(byte[0])?),
            Ok(_) => Err(TransportError::StatusTimeout {
                n: request.n(),
                timeout,
            }),
            Err(error) if error.kind() == io::ErrorKind::TimedOut => {
                Err(TransportError::StatusTimeout {
                    n: request.n(),
                    timeout,
                })
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Query printer, offline-cause and roll-paper status and combine them.
    ///
    /// # Errors
    /// As [`Self::query`].
    pub fn query_status(&mut self, timeout: Duration) -> Result<PrinterState, TransportError> {
        let mut connection = Connection::Online;
        let mut cover = Cover::Closed;
        let mut stopped_by_paper_end = false;
        let mut paper = Paper::Adequate;
        for request in StatusRequest::ALL {
            match self.query(request, timeout)? {
                StatusReply::Printer(reply) => connection = reply,
                StatusReply::OfflineCause {
                    cover: reply_cover,
                    stopped_by_paper_end: stopped,
                } => {
                    cover = reply_cover;
                    stopped_by_paper_end = stopped;
                }
                StatusReply::RollPaperSensor(reply) => paper = reply,
            }
        }
        Ok(PrinterState::from_replies(
            connection,
            cover,
            stopped_by_paper_end,
            paper,
        ))
    }
}
