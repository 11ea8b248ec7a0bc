//! The ESC/POS commands this crate emits, one function per command, named after the Epson
//! ESC/POS Application Programming Guide. Written by hand (not with the `escpos` crate): that
//! crate encodes text through single-byte code pages and writes through its own drivers, while
//! a Korean receipt needs the double-byte KS C 5601 mode (`FS &`) and we need the bytes as a
//! plain value, with no I/O, so the decoder and the simulator can check them.

/// `LF` — print the buffer and feed one line.
pub const LINE_FEED: u8 = 0x0A;
/// `ESC` prefix.
pub const ESC: u8 = 0x1B;
/// `GS` prefix.
pub const GS: u8 = 0x1D;
/// `FS` prefix.
pub const FS: u8 = 0x1C;
/// `DLE` prefix (real-time commands).
pub const DLE: u8 = 0x10;
/// `EOT`, second byte of `DLE EOT`.
pub const EOT: u8 = 0x04;

/// `ESC R 13`: international character set "Korea" (0x5C prints as the won sign).
pub const KOREA_CHARACTER_SET: u8 = 13;

/// `ESC @` — initialize printer: clears the buffer and resets modes to power-on defaults.
#[must_use]
pub fn initialize() -> [u8; 2] {
    [ESC, b'@']
}

/// `ESC R n` — select an international character set.
#[must_use]
pub fn select_international_character_set(n: u8) -> [u8; 3] {
    [ESC, b'R', n]
}

/// `FS &` — select Kanji character mode; on Korean models the double-byte code is KS C 5601
/// (EUC-KR): a byte ≥ 0xA1 starts a two-byte character, bytes below 0x80 stay ASCII.
#[must_use]
pub fn select_korean_mode() -> [u8; 2] {
    [FS, b'&']
}

/// `FS .` — cancel Kanji (Korean) character mode.
#[must_use]
pub fn cancel_korean_mode() -> [u8; 2] {
    [FS, b'.']
}

/// Text alignment for `ESC a n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Justification {
    /// n = 0
    Left,
    /// n = 1
    Centre,
    /// n = 2
    Right,
}

/// `ESC a n` — select justification.
#[must_use]
pub fn select_justification(justification: Justification) -> [u8; 3] {
    let n = match justification {
        Justification::Left => 0,
        Justification::Centre => 1,
        Justification::Right => 2,
    };
    [ESC, b'a', n]
}

/// `ESC E n` — turn emphasized (bold) mode on (n = 1) or off (n = 0).
#[must_use]
pub fn emphasized(on: bool) -> [u8; 3] {
    [ESC, b'E', u8::from(on)]
}

/// Character size for `GS ! n`: normal (0x00) or double width and height (0x11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharacterSize {
    /// n = 0x00
    Normal,
    /// n = 0x11: width ×2 (bits 4–6 = 1) and height ×2 (bits 0–2 = 1).
    Double,
}

/// `GS ! n` — select character size.
#[must_use]
pub fn select_character_size(size: CharacterSize) -> [u8; 3] {
    let n = match size {
        CharacterSize::Normal => 0x00,
        CharacterSize::Double => 0x11,
    };
    [GS, b'!', n]
}

/// `ESC d n` — print the buffer and feed n lines.
#[must_use]
pub fn print_and_feed_lines(n: u8) -> [u8; 3] {
    [ESC, b'd', n]
}

/// `GS V 0` — full cut.
#[must_use]
pub fn cut() -> [u8; 3] {
    [GS, b'V', 0]
}

/// `GS ( k` <Function 165> — QR Code: select model 2 (`cn = 49, fn = 65, n1 = 50, n2 = 0`).
#[must_use]
pub fn qr_select_model_2() -> [u8; 9] {
    [GS, b'(', b'k', 4, 0, 49, 65, 50, 0]
}

/// `GS ( k` <Function 167> — QR Code: module size in dots (1..=16).
#[must_use]
pub fn qr_module_size(dots: u8) -> [u8; 8] {
    [GS, b'(', b'k', 3, 0, 49, 67, dots]
}

/// QR error-correction level for <Function 169>.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrErrorCorrection {
    /// n = 48, about 7 % recovery.
    L,
    /// n = 49, about 15 % recovery.
    M,
    /// n = 50, about 25 % recovery.
    Q,
    /// n = 51, about 30 % recovery.
    H,
}

/// `GS ( k` <Function 169> — QR Code: select the error-correction level.
#[must_use]
pub fn qr_error_correction(level: QrErrorCorrection) -> [u8; 8] {
    let n = match level {
        QrErrorCorrection::L => 48,
        QrErrorCorrection::M => 49,
        QrErrorCorrection::Q => 50,
        QrErrorCorrection::H => 51,
    };
    [GS, b'(', b'k', 3, 0, 49, 69, n]
}

/// `GS ( k` <Function 180> — QR Code: store `data` in the symbol storage area
/// (`pL pH` = data length + 3, `cn = 49, fn = 80, m = 48`). `None` if `data` is longer than the
/// 7 089 bytes a QR symbol can hold.
#[must_use]
pub fn qr_store(data: &[u8]) -> Option<Vec<u8>> {
    if data.len() > 7_089 {
        return None;
    }
    let length = u16::try_from(data.len() + 3).ok()?;
    let [p_low, p_high] = length.to_le_bytes();
    let mut bytes = vec![GS, b'(', b'k', p_low, p_high, 49, 80, 48];
    bytes.extend_from_slice(data);
    Some(bytes)
}

/// `GS ( k` <Function 181> — QR Code: print the symbol in the storage area.
#[must_use]
pub fn qr_print() -> [u8; 8] {
    [GS, b'(', b'k', 3, 0, 49, 81, 48]
}

/// `DLE EOT n` — transmit real-time status; n = 1 printer, 2 offline cause, 3 error cause,
/// 4 roll paper sensor.
#[must_use]
pub fn transmit_real_time_status(n: u8) -> [u8; 3] {
    [DLE, EOT, n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_bytes_are_exact() {
        assert_eq!(initialize(), [0x1B, 0x40]);
        assert_eq!(
            select_international_character_set(KOREA_CHARACTER_SET),
            [0x1B, 0x52, 0x0D]
        );
        assert_eq!(select_korean_mode(), [0x1C, 0x26]);
        assert_eq!(cancel_korean_mode(), [0x1C, 0x2E]);
        assert_eq!(
            select_justification(Justification::Left),
            [0x1B, 0x61, 0x00]
        );
        assert_eq!(
            select_justification(Justification::Centre),
            [0x1B, 0x61, 0x01]
        );
        assert_eq!(
            select_justification(Justification::Right),
            [0x1B, 0x61, 0x02]
        );
        assert_eq!(emphasized(true), [0x1B, 0x45, 0x01]);
        assert_eq!(emphasized(false), [0x1B, 0x45, 0x00]);
        assert_eq!(
            select_character_size(CharacterSize::Double),
            [0x1D, 0x21, 0x11]
        );
        assert_eq!(
            select_character_size(CharacterSize::Normal),
            [0x1D, 0x21, 0x00]
        );
        assert_eq!(print_and_feed_lines(3), [0x1B, 0x64, 0x03]);
        assert_eq!(cut(), [0x1D, 0x56, 0x00]);
        assert_eq!(
            qr_select_model_2(),
            [0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]
        );
        assert_eq!(
            qr_module_size(6),
            [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06]
        );
        assert_eq!(
            qr_error_correction(QrErrorCorrection::M),
            [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31]
        );
        assert_eq!(
            qr_store(b"AB"),
            Some(vec![
                0x1D, 0x28, 0x6B, 0x05, 0x00, 0x31, 0x50, 0x30, b'A', b'B'
            ])
        );
        assert_eq!(qr_print(), [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]);
        assert_eq!(transmit_real_time_status(1), [0x10, 0x04, 0x01]);
        assert_eq!(transmit_real_time_status(2), [0x10, 0x04, 0x02]);
        assert_eq!(transmit_real_time_status(4), [0x10, 0x04, 0x04]);
    }

    #[test]
    fn qr_store_length_is_little_endian_and_bounded() {
        let data = vec![b'x'; 300];
        let bytes = qr_store(&data).unwrap();
        assert_eq!(&bytes[3..5], &[0x2F, 0x01]); // 303 = 0x012F
        assert!(qr_store(&vec![b'x'; 7_090]).is_none());
    }
}
