//! DART application transactions: the messages inside a data block.
//!
//! A data block holds one or more transactions, each `TRANS LNG DATA…` where TRANS is the
//! transaction number and LNG the length of DATA (Dart Pump Interface, section 3
//! "Transactions"). Controller → pump transactions are named CDn, pump → controller DCn; the
//! same TRANS number means different things in the two directions, so the codec is per
//! direction: [`ToPump`] and [`FromPump`].
//!
//! Volumes, amounts and prices are the pump's own integers: the position of the decimal point
//! is a pump setting (returned in DC7 "pump parameters"), not part of the field. The types here
//! therefore carry digit counts, not units; the adapter that knows the pump's settings turns
//! them into millilitres and won, in one place.

use thiserror::Error;

use super::bcd::{self, BcdError};

/// A logical nozzle number, 1 to 15 (a nibble; 0 means "no nozzle").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NozzleNumber(u8);

impl NozzleNumber {
    /// A nozzle number; `None` outside 1–15.
    #[must_use]
    pub const fn new(number: u8) -> Option<Self> {
        if number >= 1 && number <= 15 {
            Some(Self(number))
        } else {
            None
        }
    }

    /// The number.
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }
}

macro_rules! bcd_quantity {
    ($(#[$doc:meta])* $name:ident, $inner:ty, $bytes:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name($inner);

        impl $name {
            /// Bytes of packed BCD on the wire.
            pub const BYTES: usize = $bytes;

            /// The value, if it fits the field's digits.
            #[must_use]
            pub fn new(value: $inner) -> Option<Self> {
                bcd::encode::<$bytes>(u64::from(value)).ok().map(|_| Self(value))
            }

            /// The value in the pump's unit.
            #[must_use]
            pub const fn get(self) -> $inner {
                self.0
            }

            fn encode(self) -> [u8; $bytes] {
                // `new` checked the digits, so this cannot fail; zeros would be the fallback.
                bcd::encode::<$bytes>(u64::from(self.0)).unwrap_or_default()
            }

            fn decode(bytes: &[u8]) -> Result<Self, BcdError> {
                let value = bcd::decode(bytes)?;
                <$inner>::try_from(value)
                    .map(Self)
                    .map_err(|_| BcdError::TooLarge { value, digits: 2 * $bytes })
            }
        }
    };
}

bcd_quantity!(
    /// A volume in the pump's volume unit: 8 digits (4 bytes BCD).
    PumpVolume,
    u32,
    4
);
bcd_quantity!(
    /// A money amount in the pump's amount unit: 8 digits (4 bytes BCD).
    PumpAmount,
    u32,
    4
);
bcd_quantity!(
    /// A unit price in the pump's price unit: 6 digits (3 bytes BCD).
    PumpPrice,
    u32,
    3
);
bcd_quantity!(
    /// A total counter: 10 digits (5 bytes BCD).
    PumpTotal,
    u64,
    5
);
bcd_quantity!(
    /// A pump identity number: 10 digits (5 bytes BCD).
    PumpIdentity,
    u64,
    5
);

/// CD1 "Command to pump": the DCC byte (Dart Pump Interface, 3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PumpCommand {
    /// 00H: answer with DC1 pump status.
    ReturnStatus,
    /// 02H: answer with DC7 pump parameters.
    ReturnPumpParameters,
    /// 03H: answer with DC9 pump identity.
    ReturnPumpIdentity,
    /// 04H: answer with the filling information (DC2, DC3).
    ReturnFillingInformation,
    /// 05H: make the pump ready for the next filling (clears the previous one).
    Reset,
    /// 06H: allow a filling with the nozzles, presets and prices sent before.
    Authorize,
    /// 08H: stop the filling now.
    Stop,
    /// 0AH: take the pump out of service.
    SwitchOff,
    /// 0DH: suspend the filling (it can be resumed).
    Suspend,
    /// 0EH: resume a suspended filling.
    Resume,
}

impl PumpCommand {
    const fn code(self) -> u8 {
        match self {
            Self::ReturnStatus => 0x00,
            Self::ReturnPumpParameters => 0x02,
            Self::ReturnPumpIdentity => 0x03,
            Self::ReturnFillingInformation => 0x04,
            Self::Reset => 0x05,
            Self::Authorize => 0x06,
            Self::Stop => 0x08,
            Self::SwitchOff => 0x0A,
            Self::Suspend => 0x0D,
            Self::Resume => 0x0E,
        }
    }

    const fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0x00 => Self::ReturnStatus,
            0x02 => Self::ReturnPumpParameters,
            0x03 => Self::ReturnPumpIdentity,
            0x04 => Self::ReturnFillingInformation,
            0x05 => Self::Reset,
            0x06 => Self::Authorize,
            0x08 => Self::Stop,
            0x0A => Self::SwitchOff,
            0x0D => Self::Suspend,
            0x0E => Self::Resume,
            _ => return None,
        })
    }
}

/// DC1 "Pump status" (Dart Pump Interface, transaction DC1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PumpStatus {
    /// 0: the pump has no prices or parameters yet.
    NotProgrammed,
    /// 1: idle, ready for a filling.
    Reset,
    /// 2: authorized, waiting for the nozzle or filling to start.
    Authorized,
    /// 4: dispensing.
    Filling,
    /// 5: the filling ended (nozzle hung up or stopped).
    FillingCompleted,
    /// 6: the filling ended at the preset volume or amount.
    MaxAmountOrVolumeReached,
    /// 7: out of service.
    SwitchedOff,
    /// 8: filling suspended.
    Suspended,
}

impl PumpStatus {
    const fn code(self) -> u8 {
        match self {
            Self::NotProgrammed => 0,
            Self::Reset => 1,
            Self::Authorized => 2,
            Self::Filling => 4,
            Self::FillingCompleted => 5,
            Self::MaxAmountOrVolumeReached => 6,
            Self::SwitchedOff => 7,
            Self::Suspended => 8,
        }
    }

    const fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::NotProgrammed,
            1 => Self::Reset,
            2 => Self::Authorized,
            4 => Self::Filling,
            5 => Self::FillingCompleted,
            6 => Self::MaxAmountOrVolumeReached,
            7 => Self::SwitchedOff,
            8 => Self::Suspended,
            _ => return None,
        })
    }
}

/// Which total counter CD101 asks for and DC101 reports (the COUN byte).
///
/// 01H–08H are the volume totals of logical nozzles 1–8 and 11H–18H their money totals; 09H and
/// 19H the pump's volume and money totals over all nozzles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TotalCounter {
    /// Volume total of one logical nozzle (1–8).
    NozzleVolume(NozzleNumber),
    /// Volume total of the whole pump.
    PumpVolume,
    /// Money total of one logical nozzle (1–8).
    NozzleAmount(NozzleNumber),
    /// Money total of the whole pump.
    PumpAmount,
}

impl TotalCounter {
    /// The COUN byte.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::NozzleVolume(nozzle) => nozzle.get(),
            Self::PumpVolume => 0x09,
            Self::NozzleAmount(nozzle) => 0x10 | nozzle.get(),
            Self::PumpAmount => 0x19,
        }
    }

    /// The counter a COUN byte names; `None` for a byte outside the ranges above.
    #[must_use]
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            0x09 => Some(Self::PumpVolume),
            0x19 => Some(Self::PumpAmount),
            0x01..=0x08 => match NozzleNumber::new(code) {
                Some(nozzle) => Some(Self::NozzleVolume(nozzle)),
                None => None,
            },
            0x11..=0x18 => match NozzleNumber::new(code & 0x0F) {
                Some(nozzle) => Some(Self::NozzleAmount(nozzle)),
                None => None,
            },
            _ => None,
        }
    }
}

/// A transaction from the controller to a pump (CDn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToPump {
    /// CD1 (TRANS 01H): a command.
    Command(PumpCommand),
    /// CD2 (TRANS 02H): the nozzles allowed for the next filling.
    AllowedNozzles(Vec<NozzleNumber>),
    /// CD3 (TRANS 03H): stop the next filling at this volume.
    PresetVolume(PumpVolume),
    /// CD4 (TRANS 04H): stop the next filling at this amount.
    PresetAmount(PumpAmount),
    /// CD5 (TRANS 05H): unit prices, one per logical nozzle in nozzle order.
    PriceUpdate(Vec<PumpPrice>),
    /// CD101 (TRANS 65H): ask for a total counter (answered with DC101).
    RequestTotalCounter(TotalCounter),
}

/// A transaction from a pump to the controller (DCn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromPump {
    /// DC1 (TRANS 01H).
    Status(PumpStatus),
    /// DC2 (TRANS 02H): the filling so far, or the finished filling.
    FilledVolumeAndAmount {
        /// Volume dispensed.
        volume: PumpVolume,
        /// Money amount of it.
        amount: PumpAmount,
    },
    /// DC3 (TRANS 03H): which nozzle is selected, whether it is out of its holster, and the
    /// price of the filling.
    NozzleStatusAndPrice {
        /// Unit price used for the filling.
        price: PumpPrice,
        /// The selected logical nozzle, `None` when none is (NOZIO low nibble 0).
        nozzle: Option<NozzleNumber>,
        /// NOZIO bit 4: the nozzle is out (lifted).
        nozzle_out: bool,
    },
    /// DC5 (TRANS 05H): an alarm code.
    Alarm {
        /// The alarm code, as the pump's documentation lists it.
        code: u8,
    },
    /// DC9 (TRANS 09H): the pump's identity number.
    Identity(PumpIdentity),
    /// DC101 (TRANS 65H): one total counter, in one of the two forms a pump sends:
    ///
    /// - `COUN TOTVAL TOTM1 TOTM2`, LNG 16: the electronic total and the totals of the two
    ///   meters a nozzle may have (Dart Pump Interface 2.11, DC101; the form of the captured
    ///   frames below);
    /// - `COUN TOTVAL TOTM1`, LNG 11: without the second meter's total, from pumps with one
    ///   meter per nozzle (read so by an independent decoder of the same revision).
    ///
    /// Every total is 10 digits of packed BCD (5 bytes). A volume counter (COUN 01H–09H) counts
    /// in the pump's volume unit, a money counter (11H–19H) in its amount unit. Any other LNG is
    /// [`TransactionError::BadLength`]: no other form is known to us, and a guess could turn a
    /// meter's total into the electronic one.
    TotalCounter {
        /// Which counter.
        counter: TotalCounter,
        /// TOTVAL: the electronic total.
        total: PumpTotal,
        /// TOTM1: the first meter's total.
        meter_1: PumpTotal,
        /// TOTM2: the second meter's total; `None` in the form without it (LNG 11).
        meter_2: Option<PumpTotal>,
    },
    /// A transaction this codec does not interpret (for instance DC7 pump parameters), kept
    /// whole so that nothing the pump said is lost.
    Other {
        /// TRANS.
        trans: u8,
        /// DATA.
        data: Vec<u8>,
    },
}

/// A transaction that could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransactionError {
    /// The block ends inside a transaction header or its data.
    #[error("transaction {trans:02X}H announces {declared} data bytes but only {available} remain")]
    Truncated {
        /// TRANS of the cut transaction (0 if even TRANS is missing).
        trans: u8,
        /// LNG.
        declared: usize,
        /// Bytes left in the block.
        available: usize,
    },
    /// LNG does not match what the transaction needs.
    #[error("transaction {trans:02X}H has {length} data bytes, which its format does not allow")]
    BadLength {
        /// TRANS.
        trans: u8,
        /// LNG.
        length: usize,
    },
    /// A numeric field is not packed BCD or is too large.
    #[error("transaction {trans:02X}H: {source}")]
    Bcd {
        /// TRANS.
        trans: u8,
        /// What was wrong with the field.
        source: BcdError,
    },
    /// A code byte with no known meaning.
    #[error("transaction {trans:02X}H: unknown code {code:02X}H")]
    UnknownCode {
        /// TRANS.
        trans: u8,
        /// The code.
        code: u8,
    },
    /// A list transaction with nothing in it, or more than LNG can say.
    #[error("transaction {trans:02X}H must hold 1 to {max} entries, not {count}")]
    BadCount {
        /// TRANS.
        trans: u8,
        /// Entries asked for.
        count: usize,
        /// The most allowed.
        max: usize,
    },
}

impl TransactionError {
    /// A stable code for logs and metrics.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Truncated { .. } => "dart.transaction_truncated",
            Self::BadLength { .. } => "dart.transaction_bad_length",
            Self::Bcd { .. } => "dart.transaction_bad_bcd",
            Self::UnknownCode { .. } => "dart.transaction_unknown_code",
            Self::BadCount { .. } => "dart.transaction_bad_count",
        }
    }
}

/// One `TRANS LNG DATA…` unit of a data block, not yet interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawTransaction<'a> {
    /// TRANS.
    pub trans: u8,
    /// DATA (LNG bytes).
    pub data: &'a [u8],
}

impl RawTransaction<'_> {
    /// The transaction as it was on the wire, `TRANS LNG DATA…`, to log one that could not be
    /// read.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.data.len() + 2);
        bytes.push(self.trans);
        // `split` made DATA from a one-byte LNG, so it always fits.
        bytes.push(u8::try_from(self.data.len()).unwrap_or(u8::MAX));
        bytes.extend_from_slice(self.data);
        bytes
    }
}

/// Cuts a data block's payload into its transactions.
///
/// # Errors
/// [`TransactionError::Truncated`] if the payload ends inside a transaction; the transactions
/// before it are lost with it, because a length that lies makes everything after it suspect.
pub fn split(payload: &[u8]) -> Result<Vec<RawTransaction<'_>>, TransactionError> {
    let mut out = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let [trans, length, tail @ ..] = rest else {
            return Err(TransactionError::Truncated {
                trans: rest.first().copied().unwrap_or_default(),
                declared: 0,
                available: rest.len(),
            });
        };
        let declared = usize::from(*length);
        let (Some(data), Some(after)) = (tail.get(..declared), tail.get(declared..)) else {
            return Err(TransactionError::Truncated {
                trans: *trans,
                declared,
                available: tail.len(),
            });
        };
        out.push(RawTransaction {
            trans: *trans,
            data,
        });
        rest = after;
    }
    Ok(out)
}

/// The payload of a data block carrying `transactions` to a pump.
///
/// # Errors
/// [`TransactionError::BadCount`] for an empty or over-long nozzle or price list.
pub fn encode_to_pump(transactions: &[ToPump]) -> Result<Vec<u8>, TransactionError> {
    let mut out = Vec::new();
    for transaction in transactions {
        let (trans, data): (u8, Vec<u8>) = match transaction {
            ToPump::Command(command) => (0x01, vec![command.code()]),
            ToPump::AllowedNozzles(nozzles) => {
                check_count(0x02, nozzles.len(), 15)?;
                (0x02, nozzles.iter().map(|nozzle| nozzle.get()).collect())
            }
            ToPump::PresetVolume(volume) => (0x03, volume.encode().to_vec()),
            ToPump::PresetAmount(amount) => (0x04, amount.encode().to_vec()),
            ToPump::PriceUpdate(prices) => {
                check_count(0x05, prices.len(), 15)?;
                (
                    0x05,
                    prices.iter().flat_map(|price| price.encode()).collect(),
                )
            }
            ToPump::RequestTotalCounter(counter) => (0x65, vec![counter.code()]),
        };
        push_transaction(&mut out, trans, &data)?;
    }
    Ok(out)
}

/// Reads one transaction sent to a pump; used by tests and by pump simulators.
///
/// # Errors
/// A [`TransactionError`] naming what is wrong with it.
pub fn decode_to_pump(raw: RawTransaction<'_>) -> Result<ToPump, TransactionError> {
    let RawTransaction { trans, data } = raw;
    let bad_length = || TransactionError::BadLength {
        trans,
        length: data.len(),
    };
    let bcd_error = |source| TransactionError::Bcd { trans, source };
    match trans {
        0x01 => {
            let [code] = data else {
                return Err(bad_length());
            };
            PumpCommand::from_code(*code)
                .map(ToPump::Command)
                .ok_or(TransactionError::UnknownCode { trans, code: *code })
        }
        0x02 => {
            check_count(trans, data.len(), 15)?;
            data.iter()
                .map(|&code| {
                    NozzleNumber::new(code).ok_or(TransactionError::UnknownCode { trans, code })
                })
                .collect::<Result<_, _>>()
                .map(ToPump::AllowedNozzles)
        }
        0x03 | 0x04 if data.len() == PumpVolume::BYTES => if trans == 0x03 {
            PumpVolume::decode(data).map(ToPump::PresetVolume)
        } else {
            PumpAmount::decode(data).map(ToPump::PresetAmount)
        }
        .map_err(bcd_error),
        0x05 if !data.is_empty() && data.len() % PumpPrice::BYTES == 0 => data
            .chunks(PumpPrice::BYTES)
            .map(PumpPrice::decode)
            .collect::<Result<_, _>>()
            .map(ToPump::PriceUpdate)
            .map_err(bcd_error),
        0x65 => {
            let [code] = data else {
                return Err(bad_length());
            };
            TotalCounter::from_code(*code)
                .map(ToPump::RequestTotalCounter)
                .ok_or(TransactionError::UnknownCode { trans, code: *code })
        }
        0x03..=0x05 => Err(bad_length()),
        _ => Err(TransactionError::UnknownCode { trans, code: trans }),
    }
}

/// Reads one transaction sent by a pump.
///
/// # Errors
/// A [`TransactionError`] naming what is wrong with it. A TRANS this codec does not know is not
/// an error: it becomes [`FromPump::Other`].
pub fn decode_from_pump(raw: RawTransaction<'_>) -> Result<FromPump, TransactionError> {
    let RawTransaction { trans, data } = raw;
    let bad_length = || TransactionError::BadLength {
        trans,
        length: data.len(),
    };
    let bcd_error = |source| TransactionError::Bcd { trans, source };
    match trans {
        0x01 => {
            let [code] = data else {
                return Err(bad_length());
            };
            PumpStatus::from_code(*code)
                .map(FromPump::Status)
                .ok_or(TransactionError::UnknownCode { trans, code: *code })
        }
        0x02 => {
            if data.len() != PumpVolume::BYTES + PumpAmount::BYTES {
                return Err(bad_length());
            }
            let (volume, amount) = data.split_at(PumpVolume::BYTES);
            Ok(FromPump::FilledVolumeAndAmount {
                volume: PumpVolume::decode(volume).map_err(bcd_error)?,
                amount: PumpAmount::decode(amount).map_err(bcd_error)?,
            })
        }
        0x03 => {
            let [price @ .., nozio] = data else {
                return Err(bad_length());
            };
            if price.len() != PumpPrice::BYTES {
                return Err(bad_length());
            }
            Ok(FromPump::NozzleStatusAndPrice {
                price: PumpPrice::decode(price).map_err(bcd_error)?,
                nozzle: NozzleNumber::new(nozio & 0x0F),
                nozzle_out: nozio & 0x10 != 0,
            })
        }
        0x05 => {
            let [code] = data else {
                return Err(bad_length());
            };
            Ok(FromPump::Alarm { code: *code })
        }
        0x09 => {
            if data.len() != PumpIdentity::BYTES {
                return Err(bad_length());
            }
            PumpIdentity::decode(data)
                .map(FromPump::Identity)
                .map_err(bcd_error)
        }
        0x65 => {
            let [code, totals @ ..] = data else {
                return Err(bad_length());
            };
            // The two forms (see `FromPump::TotalCounter`): three totals, or two without TOTM2.
            if totals.len() != 3 * PumpTotal::BYTES && totals.len() != 2 * PumpTotal::BYTES {
                return Err(bad_length());
            }
            let counter = TotalCounter::from_code(*code)
                .ok_or(TransactionError::UnknownCode { trans, code: *code })?;
            let mut fields = totals
                .chunks_exact(PumpTotal::BYTES)
                .map(|field| PumpTotal::decode(field).map_err(bcd_error));
            let (Some(total), Some(meter_1)) = (fields.next(), fields.next()) else {
                return Err(bad_length());
            };
            Ok(FromPump::TotalCounter {
                counter,
                total: total?,
                meter_1: meter_1?,
                meter_2: fields.next().transpose()?,
            })
        }
        _ => Ok(FromPump::Other {
            trans,
            data: data.to_vec(),
        }),
    }
}

/// The payload of a data block carrying `transactions` from a pump; used by tests and by pump
/// simulators.
///
/// # Errors
/// [`TransactionError::BadLength`] if an [`FromPump::Other`] holds more than 255 bytes.
pub fn encode_from_pump(transactions: &[FromPump]) -> Result<Vec<u8>, TransactionError> {
    let mut out = Vec::new();
    for transaction in transactions {
        let (trans, data): (u8, Vec<u8>) = match transaction {
            FromPump::Status(status) => (0x01, vec![status.code()]),
            FromPump::FilledVolumeAndAmount { volume, amount } => {
                (0x02, [volume.encode(), amount.encode()].concat())
            }
            FromPump::NozzleStatusAndPrice {
                price,
                nozzle,
                nozzle_out,
            } => {
                let nozio =
                    nozzle.map_or(0, NozzleNumber::get) | if *nozzle_out { 0x10 } else { 0 };
                let mut data = price.encode().to_vec();
                data.push(nozio);
                (0x03, data)
            }
            FromPump::Alarm { code } => (0x05, vec![*code]),
            FromPump::Identity(identity) => (0x09, identity.encode().to_vec()),
            FromPump::TotalCounter {
                counter,
                total,
                meter_1,
                meter_2,
            } => {
                let mut data = vec![counter.code()];
                for value in [Some(total), Some(meter_1), meter_2.as_ref()]
                    .into_iter()
                    .flatten()
                {
                    data.extend_from_slice(&value.encode());
                }
                (0x65, data)
            }
            FromPump::Other { trans, data } => (*trans, data.clone()),
        };
        push_transaction(&mut out, trans, &data)?;
    }
    Ok(out)
}

fn push_transaction(out: &mut Vec<u8>, trans: u8, data: &[u8]) -> Result<(), TransactionError> {
    let length = u8::try_from(data.len()).map_err(|_| TransactionError::BadLength {
        trans,
        length: data.len(),
    })?;
    out.push(trans);
    out.push(length);
    out.extend_from_slice(data);
    Ok(())
}

const fn check_count(trans: u8, count: usize, max: usize) -> Result<(), TransactionError> {
    if count == 0 || count > max {
        Err(TransactionError::BadCount { trans, count, max })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
