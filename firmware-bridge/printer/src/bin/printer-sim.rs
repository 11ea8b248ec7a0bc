//! `printer-sim`: a simulated ESC/POS receipt printer on a pseudo-terminal.
//!
//! Prints `{"event":"ready","path":"/dev/pts/N"}` on stdout; open that path as the printer's
//! serial port. Received receipts and state changes follow as JSON lines on stdout. Control
//! lines on stdin: `paper-out on|off`, `paper-near-end on|off`, `cover-open on|off`. Exits
//! when stdin closes.

fn main() -> anyhow::Result<()> {
    // The JSON lines on stdout are this program's output; they go through a `Write` handle.
    receipt_printer::simulator::run_on_pty(
        std::io::BufReader::new(std::io::stdin()),
        std::io::stdout(),
    )
}
