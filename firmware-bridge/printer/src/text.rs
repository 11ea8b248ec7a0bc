//! What the printer can print, character by character: the one rule of `sync_protocol::text`
//! (its Korean code page is KS X 1001 as EUC-KR, selected by `FS &`; a control character would
//! be read as a command), used by the encoder, by checks made before encoding, and by the
//! fallback copy that replaces what cannot be printed.

pub use sync_protocol::text::*;
