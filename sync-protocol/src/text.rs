//! What a text that crosses the wire may hold, so that it can also go on a receipt: no control
//! character (a tab or line feed is a printer command), and nothing outside the receipt
//! printer's Korean code page, KS X 1001 (KS C 5601) as EUC-KR. One rule for the station's check
//! of every name, reference and reason it takes, for HQ's check of the names it sends (so a name
//! HQ sends is always one a station can take), and for the receipt printer's encoder and its
//! fallback copy (`receipt-printer` re-exports this module). No I/O.
//!
//! `encoding_rs`'s EUC-KR is the WHATWG encoding, which is Windows code page 949: it also
//! encodes the 8,822 Hangul syllables KS X 1001 lacks (e.g. "똠" as `8C 63`), with bytes a
//! printer in KS C 5601 mode reads as other characters. Only pairs of bytes in `A1..=FE` are
//! KS X 1001, so only those are taken here.

/// Why a character cannot be printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unprintable {
    /// A control character (tab, line feed, ...), which the printer would read as a command.
    ControlCharacter,
    /// Not in the printer's Korean code page.
    NotInCodePage,
}

/// The first character of a text the printer cannot print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnprintableCharacter {
    /// Its position in the text, counting characters from 1.
    pub position: usize,
    pub character: char,
    pub why: Unprintable,
}

impl Unprintable {
    /// What is wrong with the character, as the end of a sentence.
    pub fn why(self) -> &'static str {
        match self {
            Unprintable::ControlCharacter => "is a control character",
            Unprintable::NotInCodePage => {
                "is not in the receipt printer's Korean code page (KS X 1001, EUC-KR)"
            }
        }
    }
}

impl std::fmt::Display for UnprintableCharacter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} (U+{:04X}) at character {} {}",
            self.character,
            u32::from(self.character),
            self.position,
            self.why.why()
        )
    }
}

/// The byte range of each byte of a KS X 1001 character in EUC-KR.
const KS_X_1001_BYTES: std::ops::RangeInclusive<u8> = 0xA1..=0xFE;

/// `text` as the printer's bytes (ASCII as is, other characters as two EUC-KR bytes), or the
/// first character it cannot print.
///
/// # Errors
/// [`UnprintableCharacter`] for a control character or one outside KS X 1001.
pub fn encode(text: &str) -> Result<Vec<u8>, UnprintableCharacter> {
    let mut out = Vec::with_capacity(text.len());
    for (index, character) in text.chars().enumerate() {
        match encode_char(character) {
            Ok(bytes) => out.extend_from_slice(bytes.as_slice()),
            Err(why) => {
                return Err(UnprintableCharacter {
                    position: index + 1,
                    character,
                    why,
                });
            }
        }
    }
    Ok(out)
}

/// The first character of `text` the printer cannot print, if any.
#[must_use]
pub fn first_unprintable(text: &str) -> Option<UnprintableCharacter> {
    encode(text).err()
}

/// `text` with every character the printer cannot print replaced by `?`.
#[must_use]
pub fn replace_unprintable(text: &str) -> String {
    text.chars()
        .map(|character| {
            if encode_char(character).is_ok() {
                character
            } else {
                '?'
            }
        })
        .collect()
}

/// One character's bytes: one for ASCII, two for KS X 1001.
enum CharBytes {
    One([u8; 1]),
    Two([u8; 2]),
}

impl CharBytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            CharBytes::One(bytes) => bytes,
            CharBytes::Two(bytes) => bytes,
        }
    }
}

fn encode_char(character: char) -> Result<CharBytes, Unprintable> {
    if character.is_control() {
        return Err(Unprintable::ControlCharacter);
    }
    if let Ok(byte) = u8::try_from(character)
        && byte.is_ascii()
    {
        return Ok(CharBytes::One([byte]));
    }
    let mut buffer = [0_u8; 4];
    let (bytes, _, unmappable) = encoding_rs::EUC_KR.encode(character.encode_utf8(&mut buffer));
    match *bytes {
        [lead, trail]
            if !unmappable
                && KS_X_1001_BYTES.contains(&lead)
                && KS_X_1001_BYTES.contains(&trail) =>
        {
            Ok(CharBytes::Two([lead, trail]))
        }
        _ => Err(Unprintable::NotInCodePage),
    }
}

/// Whether a two-byte sequence is a KS X 1001 character in EUC-KR, as the printer reads it.
#[must_use]
pub fn is_ks_x_1001_pair(lead: u8, trail: u8) -> bool {
    KS_X_1001_BYTES.contains(&lead) && KS_X_1001_BYTES.contains(&trail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_reads_as_the_station_and_hq_report_it() {
        assert_eq!(
            first_unprintable("Café").map(|u| u.to_string()).as_deref(),
            Some(
                "'é' (U+00E9) at character 4 is not in the receipt printer's Korean code page (KS X 1001, EUC-KR)"
            )
        );
    }

    #[test]
    fn korean_and_ascii_print_and_the_rest_is_named() {
        assert_eq!(
            encode("경유 A-1").unwrap(),
            [0xB0, 0xE6, 0xC0, 0xAF, b' ', b'A', b'-', b'1']
        );
        assert_eq!(encode("①·×").unwrap(), [0xA8, 0xE7, 0xA1, 0xA4, 0xA1, 0xBF]);
        let cases = [
            ("A\t1", 2, '\t', Unprintable::ControlCharacter),
            ("Café", 4, 'é', Unprintable::NotInCodePage),
            ("똠얌", 1, '똠', Unprintable::NotInCodePage),
            ("가햏", 2, '햏', Unprintable::NotInCodePage),
            ("🚗", 1, '🚗', Unprintable::NotInCodePage),
            ("a\u{7f}", 2, '\u{7f}', Unprintable::ControlCharacter),
        ];
        for (text, position, character, why) in cases {
            assert_eq!(
                first_unprintable(text),
                Some(UnprintableCharacter {
                    position,
                    character,
                    why
                }),
                "{text:?}"
            );
        }
        assert_eq!(first_unprintable("강남주유소 #1"), None);
    }

    #[test]
    fn the_fallback_replaces_only_what_cannot_print() {
        assert_eq!(replace_unprintable("Café\t똠얌 경유"), "Caf???얌 경유");
    }
}
