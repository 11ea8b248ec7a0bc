//! The mutators: random bytes, byte-level mutations of a valid input, and JSON-aware ones
//! (numeric extremes, odd strings, huge strings, deep nesting, fields removed, duplicated or of
//! the wrong type).

use serde_json::Value;

use crate::Rng;

/// How a target's inputs are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Any bytes.
    Bytes,
    /// `header` bytes the target reads itself (for instance which route), then a JSON document.
    Json {
        /// Bytes before the document.
        header: usize,
    },
}

impl Shape {
    const fn header(self) -> usize {
        match self {
            Shape::Bytes => 0,
            Shape::Json { header } => header,
        }
    }
}

/// Random bytes, mostly short; for JSON targets, the header is random too.
pub fn random_bytes(rng: &mut Rng, shape: Shape) -> Vec<u8> {
    let length = rng.length(4096) + shape.header();
    (0..length).map(|_| rng.byte()).collect()
}

/// Dictionary words and random bytes strung together.
pub fn dictionary_soup(rng: &mut Rng, dictionary: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.length(64) {
        if dictionary.is_empty() || rng.below(4) == 0 {
            out.push(rng.byte());
        } else {
            let word = &dictionary[rng.below(dictionary.len())];
            out.extend_from_slice(word);
        }
    }
    out
}

/// One to four stacked mutations of `base`; `other` is another valid input to splice with.
pub fn mutate(
    rng: &mut Rng,
    base: &[u8],
    other: &[u8],
    shape: Shape,
    dictionary: &[Vec<u8>],
    json_keys: &[String],
) -> Vec<u8> {
    let mut input = base.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        match shape {
            // JSON-aware four times in five: byte-level ones mostly make the text not JSON.
            Shape::Json { header } if rng.below(5) != 0 => {
                let split = header.min(input.len());
                let body = input.split_off(split);
                input.extend(mutate_json(rng, &body, json_keys));
            }
            _ => mutate_bytes(rng, &mut input, other, dictionary),
        }
        // Inputs grow with stacking; past 256 KiB they test the allocator, not the decoder.
        input.truncate(256 * 1024);
        // A huge input is mutated no further: one huge field is the point of it.
        if input.len() > 16 * 1024 {
            break;
        }
    }
    input
}

/// Bytes that sit on edges: zero, sign bits, ASCII controls and delimiters.
const INTERESTING_BYTES: &[u8] = &[
    0x00, 0x01, 0x02, 0x03, 0x04, 0x0A, 0x0D, 0x10, 0x1B, 0x1D, 0x1C, 0x20, 0x22, 0x2C, 0x2D, 0x2E,
    0x30, 0x39, 0x3A, 0x5B, 0x5C, 0x5D, 0x7B, 0x7D, 0x7F, 0x80, 0x81, 0xA1, 0xFE, 0xFF,
];

/// Numbers as text: integer edges of every width, floats past every edge.
pub const NUMBER_LITERALS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "2",
    "9",
    "10",
    "99",
    "100",
    "127",
    "128",
    "255",
    "256",
    "-129",
    "32767",
    "32768",
    "65535",
    "65536",
    "2147483647",
    "2147483648",
    "-2147483649",
    "4294967295",
    "4294967296",
    "9007199254740993",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "123456789012345678901234567890",
    "1e308",
    "-1e308",
    "1e309",
    "5e-324",
    "1e-400",
    "1.5",
    "0.1",
    "-0.0",
    "2.0",
    "1E2",
    "1e18",
    "9.223372036854776e18",
    "1.7976931348623157e308",
];

/// Strings that break naive parsers, or that look like the wire's values.
const STRING_LITERALS: &[&str] = &[
    r#""""#,
    r#"" ""#,
    r#""null""#,
    r#""0""#,
    r#""-1""#,
    r#""9223372036854775808""#,
    r#""ST0001""#,
    r#""HQ""#,
    r#""st0001""#,
    r#""ST0001 ""#,
    r#""CD1001""#,
    r#""kim""#,
    r#""park""#,
    r#""1234""#,
    r#""9999""#,
    r#""cash""#,
    r#""card""#,
    r#""account""#,
    r#""litre""#,
    r#""piece""#,
    r#""manager""#,
    r#""cashier""#,
    r#""2026-11-24T00:32:10Z""#,
    r#""2026-11-24T00:32:10""#,
    r#""9999-12-31T23:59:59Z""#,
    r#""-009999-01-01T00:00:00Z""#,
    r#""+009999-12-31T23:59:59.999999999+25:59""#,
    r#""2026-02-30""#,
    r#""2026-11-26""#,
    r#""0000-00-00""#,
    r#""9999-12-31""#,
    r#""01a20af7-a00a-79b2-9f55-aad57714dc91""#,
    r#""00000000-0000-0000-0000-000000000000""#,
    r#""\u0000""#,
    r#""\ud800""#,
    r#""\udc00\ud800""#,
    r#""\\""#,
    r#""한글 경유""#,
    r#""💥""#,
    r#""%s%n%x""#,
    r#""'; DROP TABLE sales; --""#,
];

/// A JSON value that is no string or number.
const OTHER_LITERALS: &[&str] = &["null", "true", "false", "[]", "{}", "[null]", r#"{"":0}"#];

fn mutate_bytes(rng: &mut Rng, input: &mut Vec<u8>, other: &[u8], dictionary: &[Vec<u8>]) {
    let len = input.len();
    match rng.below(14) {
        0 if len > 0 => {
            let at = rng.below(len);
            input[at] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let at = rng.below(len);
            input[at] = *rng.pick(INTERESTING_BYTES);
        }
        2 if len > 0 => {
            let at = rng.below(len);
            input[at] = rng.byte();
        }
        3 => {
            let at = rng.below(len + 1);
            let count = 1 + rng.below(8);
            let bytes: Vec<u8> = (0..count).map(|_| rng.byte()).collect();
            input.splice(at..at, bytes);
        }
        4 if len > 0 => {
            let at = rng.below(len);
            let count = 1 + rng.below((len - at).min(1 + len / 4));
            input.drain(at..at + count);
        }
        5 => input.truncate(rng.below(len + 1)),
        6 if len > 0 => {
            // A chunk copied elsewhere.
            let from = rng.below(len);
            let count = 1 + rng.below((len - from).min(64));
            let chunk = input[from..from + count].to_vec();
            let at = rng.below(len + 1);
            input.splice(at..at, chunk);
        }
        7 => {
            // Splice: the head of this input, the tail of another.
            let head = rng.below(len + 1);
            let tail = rng.below(other.len() + 1);
            input.truncate(head);
            input.extend_from_slice(&other[tail..]);
        }
        8 if !dictionary.is_empty() => {
            let at = rng.below(len + 1);
            let word = rng.pick(dictionary).clone();
            input.splice(at..at, word);
        }
        9 if !dictionary.is_empty() && len > 0 => {
            let at = rng.below(len);
            let word = rng.pick(dictionary);
            let end = (at + word.len()).min(len);
            input.splice(at..end, word.iter().copied());
        }
        10 if len > 0 => {
            // A chunk repeated many times.
            let from = rng.below(len);
            let count = 1 + rng.below((len - from).min(16));
            let chunk = input[from..from + count].to_vec();
            let times = 2 + rng.length(512);
            let at = rng.below(len + 1);
            input.splice(at..at, chunk.repeat(times));
        }
        11 if len > 0 => {
            let at = rng.below(len);
            input[at] = input[at].wrapping_add(rng.byte() % 9).wrapping_sub(4);
        }
        12 if len > 1 => {
            let (a, b) = (rng.below(len), rng.below(len));
            input.swap(a, b);
        }
        13 => {
            // A number as text, for the text protocols (the gauge's display format).
            let at = rng.below(len + 1);
            let literal = rng.pick(NUMBER_LITERALS).as_bytes();
            input.splice(at..at, literal.iter().copied());
        }
        _ => {
            let at = rng.below(len + 1);
            input.insert(at, rng.byte());
        }
    }
}

/// Every object key of the JSON seeds, for mutations that add or duplicate fields.
#[must_use]
pub fn json_keys(seeds: &[Vec<u8>], shape: Shape) -> Vec<String> {
    let Shape::Json { header } = shape else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    for seed in seeds {
        if let Ok(value) = serde_json::from_slice::<Value>(seed.get(header..).unwrap_or_default()) {
            collect_keys(&value, &mut keys);
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

fn collect_keys(value: &Value, keys: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                keys.push(key.clone());
                collect_keys(inner, keys);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_keys(item, keys)),
        _ => {}
    }
}

fn mutate_json(rng: &mut Rng, body: &[u8], keys: &[String]) -> Vec<u8> {
    if rng.below(2) == 0
        && let Ok(mut value) = serde_json::from_slice::<Value>(body)
    {
        mutate_value(rng, &mut value, keys);
        return serde_json::to_vec(&value).unwrap_or_default();
    }
    mutate_json_text(rng, body, keys)
}

/// A structural mutation of a parsed document: one node replaced, removed, duplicated,
/// retyped, or a field added.
fn mutate_value(rng: &mut Rng, value: &mut Value, keys: &[String]) {
    let mut count = 0;
    count_nodes(value, &mut count);
    let target = rng.below(count);
    let mut seen = 0;
    let Some(node) = nth_node(value, target, &mut seen) else {
        return;
    };
    match rng.below(8) {
        0 => *node = interesting_value(rng),
        1 => {
            if let Value::Object(map) = node
                && !map.is_empty()
            {
                let key = map.keys().nth(rng.below(map.len())).cloned();
                if let Some(key) = key {
                    map.remove(&key);
                }
            } else {
                *node = Value::Null;
            }
        }
        2 => {
            if let Value::Object(map) = node {
                let key = if keys.is_empty() || rng.below(4) == 0 {
                    "unknown_field".to_owned()
                } else {
                    rng.pick(keys).clone()
                };
                map.insert(key, interesting_value(rng));
            } else {
                *node = Value::Array(vec![node.take()]);
            }
        }
        3 => {
            if let Value::Array(items) = node
                && let Some(first) = items.first().cloned()
            {
                // Up to 300 copies, and never more than about 64 KiB of them.
                let size = serde_json::to_vec(&first).map_or(1, |bytes| bytes.len().max(1));
                let times = (1 + rng.length(300)).min(64 * 1024 / size);
                items.extend(std::iter::repeat_n(first, times));
            } else {
                let inner = node.take();
                *node = Value::Array(vec![inner.clone(), inner]);
            }
        }
        4 => {
            // The wrong type: a number as a string, a string as a number, an object as a list.
            *node = match node.take() {
                Value::Number(n) => Value::String(n.to_string()),
                Value::String(s) => s.parse().map(Value::Number).unwrap_or(Value::Bool(true)),
                Value::Object(map) => Value::Array(map.into_values().collect()),
                Value::Array(items) => items.into_iter().next().unwrap_or(Value::Null),
                Value::Bool(b) => Value::String(b.to_string()),
                Value::Null => Value::from(0),
            };
        }
        5 => {
            if let Value::String(text) = node {
                *text = huge_string(rng, text);
            } else {
                *node = Value::String(huge_string(rng, ""));
            }
        }
        6 => {
            if let Value::Number(_) = node {
                *node = numeric_extreme(rng);
            } else {
                *node = interesting_value(rng);
            }
        }
        _ => {
            // A little nesting (deep nesting is done as text: a deep `Value` would overflow
            // the stack of the mutator itself when dropped).
            let depth = 1 + rng.below(8);
            let mut inner = node.take();
            for _ in 0..depth {
                inner = if rng.below(2) == 0 {
                    Value::Array(vec![inner])
                } else {
                    serde_json::json!({ "x": inner })
                };
            }
            *node = inner;
        }
    }
}

fn count_nodes(value: &Value, count: &mut usize) {
    *count += 1;
    match value {
        Value::Object(map) => map.values().for_each(|inner| count_nodes(inner, count)),
        Value::Array(items) => items.iter().for_each(|inner| count_nodes(inner, count)),
        _ => {}
    }
}

fn nth_node<'a>(value: &'a mut Value, target: usize, seen: &mut usize) -> Option<&'a mut Value> {
    if *seen == target {
        return Some(value);
    }
    *seen += 1;
    match value {
        Value::Object(map) => map
            .values_mut()
            .find_map(|inner| nth_node(inner, target, seen)),
        Value::Array(items) => items
            .iter_mut()
            .find_map(|inner| nth_node(inner, target, seen)),
        _ => None,
    }
}

fn numeric_extreme(rng: &mut Rng) -> Value {
    let literal = rng.pick(NUMBER_LITERALS);
    // Literals past f64's range do not parse into a `Value`; those are tried as text.
    serde_json::from_str(literal).unwrap_or(Value::from(i64::MIN))
}

fn interesting_value(rng: &mut Rng) -> Value {
    let literal = match rng.below(3) {
        0 => *rng.pick(NUMBER_LITERALS),
        1 => *rng.pick(STRING_LITERALS),
        _ => *rng.pick(OTHER_LITERALS),
    };
    serde_json::from_str(literal).unwrap_or(Value::Null)
}

fn huge_string(rng: &mut Rng, base: &str) -> String {
    let times = match rng.below(16) {
        0 => 100_000,
        1..=3 => 4_096,
        _ => 2 + rng.length(256),
    };
    let unit = if base.is_empty() || base.len() > 64 || rng.below(3) == 0 {
        rng.pick(&["A", "é", "한", "💥", "\u{0}", " "]).to_string()
    } else {
        base.to_owned()
    };
    let mut out = unit.repeat(times.min(200_000 / unit.len()));
    let mut end = out.len().min(200_000);
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    out.truncate(end);
    out
}

/// A mutation of the text: a number or string token replaced by a raw literal (which may not
/// fit any Rust number: `1e400`, `18446744073709551616`), a token wrapped in deep nesting, a
/// field inserted after a `{` (perhaps a duplicate key), or a token removed.
fn mutate_json_text(rng: &mut Rng, body: &[u8], keys: &[String]) -> Vec<u8> {
    let tokens = scalar_tokens(body);
    let mut out = body.to_vec();
    match rng.below(5) {
        0 | 1 if !tokens.is_empty() => {
            let (start, end) = *rng.pick(&tokens);
            let literal = match rng.below(5) {
                0 | 1 => (*rng.pick(NUMBER_LITERALS)).to_owned(),
                2 => (*rng.pick(STRING_LITERALS)).to_owned(),
                3 => (*rng.pick(OTHER_LITERALS)).to_owned(),
                _ => serde_json::to_string(&huge_string(rng, "")).unwrap_or_default(),
            };
            out.splice(start..end, literal.into_bytes());
        }
        2 if !tokens.is_empty() => {
            let (start, end) = *rng.pick(&tokens);
            let depth = *rng.pick(&[16, 126, 127, 128, 129, 200, 1_000, 20_000]);
            let (open, close) = if rng.below(2) == 0 {
                ("[", "]")
            } else {
                (r#"{"x":"#, "}")
            };
            let token = out[start..end].to_vec();
            let mut nested = open.repeat(depth).into_bytes();
            nested.extend_from_slice(&token);
            // Sometimes left unclosed.
            if rng.below(4) != 0 {
                nested.extend_from_slice(close.repeat(depth).as_bytes());
            }
            out.splice(start..end, nested);
        }
        3 => {
            let braces: Vec<usize> = out
                .iter()
                .enumerate()
                .filter(|&(_, &b)| b == b'{')
                .map(|(i, _)| i + 1)
                .collect();
            if let Some(&at) = (!braces.is_empty()).then(|| rng.pick(&braces)) {
                let key = if keys.is_empty() {
                    "schema".to_owned()
                } else {
                    rng.pick(keys).clone()
                };
                let value = match rng.below(3) {
                    0 => *rng.pick(NUMBER_LITERALS),
                    1 => *rng.pick(STRING_LITERALS),
                    _ => *rng.pick(OTHER_LITERALS),
                };
                let field = format!("{}:{value},", Value::String(key));
                out.splice(at..at, field.into_bytes());
            }
        }
        _ if !tokens.is_empty() => {
            let (start, end) = *rng.pick(&tokens);
            out.drain(start..end);
        }
        _ => {}
    }
    out
}

/// The spans of the string and number tokens of a JSON text (keys included).
fn scalar_tokens(text: &[u8]) -> Vec<(usize, usize)> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < text.len() && text[i] != b'"' {
                    i += if text[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(text.len());
                tokens.push((start, i));
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < text.len()
                    && matches!(text[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                tokens.push((start, i));
            }
            _ => i += 1,
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_strings_and_numbers() {
        let text = br#"{"a":-12.5e3,"b":"x\"y","c":[true,7]}"#;
        let tokens: Vec<&[u8]> = scalar_tokens(text)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect();
        assert_eq!(
            tokens,
            [
                &br#""a""#[..],
                b"-12.5e3",
                br#""b""#,
                br#""x\"y""#,
                br#""c""#,
                b"7"
            ]
        );
    }

    #[test]
    fn mutations_stay_in_bounds_for_any_input() {
        let mut rng = Rng::new(7);
        let seeds: Vec<Vec<u8>> = vec![Vec::new(), vec![0], br#"{"a":[1,{"b":"c"}]}"#.to_vec()];
        let keys = json_keys(&seeds, Shape::Json { header: 1 });
        for round in 0..5_000 {
            let base = &seeds[round % seeds.len()];
            let shape = if round % 2 == 0 {
                Shape::Bytes
            } else {
                Shape::Json { header: 1 }
            };
            let out = mutate(&mut rng, base, &seeds[2], shape, &[b"ab".to_vec()], &keys);
            assert!(out.len() <= 256 * 1024);
        }
    }
}
