//! Fuzz-style runs of every decoder that reads bytes from outside the process: the sync
//! envelope and its transport messages, DART frames and transactions, the tank gauge's replies,
//! the receipt printer's status and ESC/POS bytes, and the JSON bodies of the station's and the
//! hub's HTTP APIs (through their real routers, on real database files).
//!
//! Each decoder is a [`Target`]: valid examples to start from (golden vectors, frames made by the
//! crates' own encoders, the gauge simulator's replies, the printer's status bytes, the example
//! bodies of the API routes) and one function that feeds it one input. [`run`] makes inputs from
//! a seeded generator (random bytes, and mutations of the examples: bit flips, inserted and
//! deleted bytes, truncation, splicing, numeric extremes, huge strings, deep nesting) and calls
//! the target under [`std::panic::catch_unwind`]. A panic, or a broken property the target
//! checks (a decoded message that does not survive its own encoder, a 5xx the API does not
//! document), is a [`Failure`]: its input is written as a hex dump to a file.
//!
//! Not coverage-guided: there is no instrumentation. The one feedback is cheap: an input whose
//! outcome (error code, route and status) is rare so far joins the pool that later inputs are
//! mutated from, so inputs that got past one check are mutated further.
//!
//! Deterministic: the same seed (`FUZZ_SEED`) gives the same inputs and outcomes for every
//! decoder without state. The API targets' handlers read the clock, so an input's outcome there
//! can vary with the time, and with it the pool later inputs are mutated from; a failure is
//! reproduced from its dump, or, when it needs the requests before it, as a request sequence
//! (see the regression tests).

pub mod mutate;
pub mod targets;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once, PoisonError};
use std::time::{Duration, Instant};

pub use mutate::Shape;

/// The seed used when `FUZZ_SEED` is not set.
pub const DEFAULT_SEED: u64 = 0x6761_7373_7461_7469;

/// The seed from `FUZZ_SEED` (decimal or `0x` hex), else [`DEFAULT_SEED`].
///
/// # Panics
/// If `FUZZ_SEED` is set but is not a number: a typo must not silently run another seed.
#[must_use]
pub fn seed_from_env() -> u64 {
    match std::env::var("FUZZ_SEED") {
        Ok(text) => parse_seed(&text).unwrap_or_else(|| panic!("FUZZ_SEED={text:?} is no number")),
        Err(_) => DEFAULT_SEED,
    }
}

fn parse_seed(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// A decoder under test.
pub trait Target {
    /// A stable name, such as `sync.envelope`.
    fn name(&self) -> &'static str;

    /// Valid inputs to mutate from.
    fn seeds(&mut self) -> Vec<Vec<u8>>;

    /// How inputs are built, for the mutators.
    fn shape(&self) -> Shape {
        Shape::Bytes
    }

    /// Byte strings that mean something to this decoder (control bytes, keywords).
    fn dictionary(&self) -> Vec<Vec<u8>> {
        Vec::new()
    }

    /// Repairs a mutated input's integrity check (a CRC, a checksum) so that the mutation
    /// reaches the parser behind it. Called for half of the mutated inputs.
    fn reseal(&self, _input: &mut Vec<u8>) {}

    /// Feeds one input. Records what the decoder said in `outcomes`; returns a [`Violation`]
    /// for a broken property. A panic is caught by the runner.
    ///
    /// # Errors
    /// A [`Violation`] naming the property the input broke.
    fn feed(&mut self, input: &[u8], outcomes: &mut Outcomes) -> Result<(), Violation>;

    /// Starts again from a fresh state (after a failure, or to keep state from growing without
    /// bound). Decoders without state do nothing.
    fn reset(&mut self) {}

    /// How many inputs may go by before [`Target::reset`] keeps state from piling up; `None`
    /// for decoders without state.
    fn reset_every(&self) -> Option<u64> {
        None
    }
}

/// A property an input broke, other than by panicking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub String);

/// How often each outcome (an error code, `ok`, a route's status) was seen.
#[derive(Debug, Default)]
pub struct Outcomes {
    counts: BTreeMap<Cow<'static, str>, u64>,
    rare: bool,
}

/// An outcome seen this few times is rare: its input joins the mutation pool.
const RARE: u64 = 4;

impl Outcomes {
    /// Counts one outcome.
    pub fn record(&mut self, code: impl Into<Cow<'static, str>>) {
        let count = self.counts.entry(code.into()).or_insert(0);
        *count += 1;
        self.rare |= *count <= RARE;
    }

    /// Every outcome seen, with its count.
    #[must_use]
    pub fn counts(&self) -> &BTreeMap<Cow<'static, str>, u64> {
        &self.counts
    }

    fn take_rare(&mut self) -> bool {
        std::mem::take(&mut self.rare)
    }
}

/// An input that made a decoder panic or broke a property.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Position of the input in the run (0-based).
    pub index: u64,
    /// The input.
    pub input: Vec<u8>,
    /// The panic message, or the property broken.
    pub message: String,
    /// The hex dump written for it, when the dump could be written.
    pub dump: Option<PathBuf>,
}

/// What one run found.
#[derive(Debug)]
pub struct Report {
    /// The target's name.
    pub target: &'static str,
    /// The seed of the run.
    pub seed: u64,
    /// Inputs fed.
    pub inputs: u64,
    /// Wall time of the run, set-up included.
    pub elapsed: Duration,
    /// Outcomes seen.
    pub outcomes: Outcomes,
    /// Panics and broken properties, at most [`MAX_FAILURES`] different ones.
    pub failures: Vec<Failure>,
}

impl Report {
    /// Inputs per second.
    #[must_use]
    pub fn rate(&self) -> u64 {
        let micros = self.elapsed.as_micros().max(1);
        u64::try_from(u128::from(self.inputs) * 1_000_000 / micros).unwrap_or(u64::MAX)
    }

    /// One line per failure: where its dump is and what happened.
    #[must_use]
    pub fn describe_failures(&self) -> String {
        let mut text = String::new();
        for failure in &self.failures {
            let _ = writeln!(
                text,
                "{} input #{} (seed {:#x}): {}\n  dump: {}\n  input: {}",
                self.target,
                failure.index,
                self.seed,
                failure.message,
                failure
                    .dump
                    .as_deref()
                    .map_or_else(|| "(not written)".to_owned(), |p| p.display().to_string()),
                short_hex(&failure.input),
            );
        }
        text
    }
}

/// A run stops after this many different failures (each is also written out). A failure like
/// one already kept (the same message but for its numbers) is only counted, as `FAILURE` in
/// the outcomes, so that one known bug does not end the run.
pub const MAX_FAILURES: usize = 5;

/// A failure's message without its numbers and quoted values, to tell failures apart.
fn failure_kind(message: &str) -> String {
    message
        .chars()
        .filter(|c| !c.is_ascii_digit())
        .take(160)
        .collect()
}

/// Feeds `inputs` generated inputs to `target` with `seed`, writing a hex dump of each failing
/// input into `dumps`.
pub fn run(target: &mut dyn Target, inputs: u64, seed: u64, dumps: &Path) -> Report {
    install_panic_hook();
    let started = Instant::now();
    let name = target.name();
    let mut rng = Rng::new(seed ^ fnv1a(name.as_bytes()));
    let seeds = target.seeds();
    let shape = target.shape();
    let dictionary = target.dictionary();
    let json_keys = mutate::json_keys(&seeds, shape);
    let mut pool: Vec<Vec<u8>> = Vec::new();
    let mut outcomes = Outcomes::default();
    let mut failures = Vec::new();
    let reset_every = target.reset_every();
    let _fuzzing = FuzzingGuard::enter();
    for index in 0..inputs {
        if reset_every.is_some_and(|every| index > 0 && index.is_multiple_of(every)) {
            target.reset();
        }
        let input = generate(
            &mut rng,
            index,
            &seeds,
            &pool,
            shape,
            &dictionary,
            &json_keys,
            &*target,
        );
        take_panic_message();
        let result = catch_unwind(AssertUnwindSafe(|| target.feed(&input, &mut outcomes)));
        let message = match result {
            Ok(Ok(())) => None,
            Ok(Err(Violation(message))) => {
                // A violation may come from a panic on another thread (a blocking task).
                Some(match take_panic_message() {
                    Some(panic) => format!("{message}; {panic}"),
                    None => message,
                })
            }
            Err(payload) => Some(
                take_panic_message()
                    .unwrap_or_else(|| format!("panic: {}", payload_text(&payload))),
            ),
        };
        if let Some(message) = message {
            outcomes.record("FAILURE");
            target.reset();
            // The same failure again (a state the run keeps reaching) is counted, not kept.
            let kind = failure_kind(&message);
            if failures
                .iter()
                .any(|f: &Failure| failure_kind(&f.message) == kind)
            {
                continue;
            }
            let dump = write_dump(dumps, name, seed, index, &input, &message);
            failures.push(Failure {
                index,
                input,
                message,
                dump,
            });
            if failures.len() >= MAX_FAILURES {
                return Report {
                    target: name,
                    seed,
                    inputs: index + 1,
                    elapsed: started.elapsed(),
                    outcomes,
                    failures,
                };
            }
            continue;
        }
        if outcomes.take_rare() && input.len() <= 64 * 1024 {
            if pool.len() < POOL_SIZE {
                pool.push(input);
            } else {
                let slot = rng.below(POOL_SIZE);
                pool[slot] = input;
            }
        }
    }
    Report {
        target: name,
        seed,
        inputs,
        elapsed: started.elapsed(),
        outcomes,
        failures,
    }
}

/// Feeds one input, as a regression test does with an input that once failed.
///
/// # Errors
/// The panic message or the property broken.
pub fn replay(target: &mut dyn Target, input: &[u8]) -> Result<Outcomes, String> {
    install_panic_hook();
    let _fuzzing = FuzzingGuard::enter();
    let mut outcomes = Outcomes::default();
    take_panic_message();
    match catch_unwind(AssertUnwindSafe(|| target.feed(input, &mut outcomes))) {
        Ok(Ok(())) => Ok(outcomes),
        Ok(Err(Violation(message))) => Err(message),
        Err(payload) => Err(take_panic_message().unwrap_or_else(|| payload_text(&payload))),
    }
}

/// Feeds inputs in order to one target, as a regression test does with a sequence that once
/// failed (the API targets keep their database between inputs).
///
/// # Errors
/// The position of the input that failed, and its panic message or the property broken.
pub fn replay_all(target: &mut dyn Target, inputs: &[Vec<u8>]) -> Result<Outcomes, String> {
    let mut all = Outcomes::default();
    for (index, input) in inputs.iter().enumerate() {
        let outcomes =
            replay(target, input).map_err(|message| format!("input {index}: {message}"))?;
        for (code, count) in outcomes.counts {
            *all.counts.entry(code).or_insert(0) += count;
        }
    }
    Ok(all)
}

const POOL_SIZE: usize = 512;

#[allow(clippy::too_many_arguments)]
fn generate(
    rng: &mut Rng,
    index: u64,
    seeds: &[Vec<u8>],
    pool: &[Vec<u8>],
    shape: Shape,
    dictionary: &[Vec<u8>],
    json_keys: &[String],
    target: &dyn Target,
) -> Vec<u8> {
    // Every seed as it is comes first: a valid input must pass before its mutations count.
    if let Some(seed) = usize::try_from(index).ok().and_then(|i| seeds.get(i)) {
        return seed.clone();
    }
    let roll = rng.below(100);
    if roll < 8 || seeds.is_empty() {
        return mutate::random_bytes(rng, shape);
    }
    if roll < 12 {
        return mutate::dictionary_soup(rng, dictionary);
    }
    let from_pool = !pool.is_empty() && rng.below(3) == 0;
    let base = if from_pool {
        &pool[rng.below(pool.len())]
    } else {
        &seeds[rng.below(seeds.len())]
    };
    let other = &seeds[rng.below(seeds.len())];
    let mut input = mutate::mutate(rng, base, other, shape, dictionary, json_keys);
    if rng.below(2) == 0 {
        target.reseal(&mut input);
    }
    input
}

/// SplitMix64: small, fast, and the same on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    #[must_use]
    pub const fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`; 0 when `n` is 0.
    pub fn below(&mut self, n: usize) -> usize {
        let wide = u128::from(self.next_u64()) * n as u128;
        usize::try_from(wide >> 64).unwrap_or(0)
    }

    /// A random byte.
    pub fn byte(&mut self) -> u8 {
        self.next_u64().to_le_bytes()[0]
    }

    /// One of `items`.
    ///
    /// # Panics
    /// If `items` is empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A length, mostly short: each step up doubles the range and halves the odds.
    pub fn length(&mut self, max: usize) -> usize {
        let bits = self.below(17);
        let range = (1usize << bits).min(max.max(1));
        self.below(range + 1)
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

// ---- panics

static PANIC_MESSAGE: Mutex<Option<String>> = Mutex::new(None);
static FUZZING: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static FUZZING_HERE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks a run in progress: panics are recorded, and not printed on the fuzzing thread (a
/// caught panic is an outcome, not noise; a panic on another thread still prints).
struct FuzzingGuard;

impl FuzzingGuard {
    fn enter() -> FuzzingGuard {
        FUZZING.fetch_add(1, Ordering::SeqCst);
        FUZZING_HERE.with(|here| here.set(true));
        FuzzingGuard
    }
}

impl Drop for FuzzingGuard {
    fn drop(&mut self) {
        FUZZING_HERE.with(|here| here.set(false));
        FUZZING.fetch_sub(1, Ordering::SeqCst);
    }
}

fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if FUZZING.load(Ordering::SeqCst) > 0 {
                let thread = std::thread::current();
                let message = format!(
                    "panicked on thread {} at {}: {}",
                    thread.name().unwrap_or("unnamed"),
                    info.location()
                        .map_or_else(|| "?".to_owned(), ToString::to_string),
                    payload_text(info.payload()),
                );
                *PANIC_MESSAGE.lock().unwrap_or_else(PoisonError::into_inner) = Some(message);
                if FUZZING_HERE.with(std::cell::Cell::get) {
                    return;
                }
            }
            previous(info);
        }));
    });
}

fn take_panic_message() -> Option<String> {
    PANIC_MESSAGE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic without a message)".to_owned()
    }
}

// ---- dumps

/// Writes `<dumps>/<target>-<seed>-<index>.hex` (a header, then offset, hex and ASCII, 16 bytes
/// a line) and the raw `.bin` beside it.
fn write_dump(
    dumps: &Path,
    target: &str,
    seed: u64,
    index: u64,
    input: &[u8],
    message: &str,
) -> Option<PathBuf> {
    std::fs::create_dir_all(dumps).ok()?;
    let stem = format!("{target}-{seed:016x}-{index}");
    let path = dumps.join(format!("{stem}.hex"));
    let mut text = format!(
        "# target: {target}\n# seed: {seed:#x} (FUZZ_SEED), input #{index}, {} bytes\n# failure: {}\n",
        input.len(),
        message.replace('\n', "\n#   ")
    );
    text.push_str(&hex_dump(input));
    std::fs::write(&path, text).ok()?;
    std::fs::write(dumps.join(format!("{stem}.bin")), input).ok()?;
    Some(path)
}

/// Offset, sixteen hex bytes and their ASCII, a line each, as `xxd` prints them.
#[must_use]
pub fn hex_dump(bytes: &[u8]) -> String {
    let mut text = String::new();
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(text, "{:08x}: ", line * 16);
        for column in 0..16 {
            match chunk.get(column) {
                Some(byte) => {
                    let _ = write!(text, "{byte:02x} ");
                }
                None => text.push_str("   "),
            }
        }
        text.push(' ');
        text.extend(chunk.iter().map(|&byte| {
            if byte.is_ascii_graphic() || byte == b' ' {
                char::from(byte)
            } else {
                '.'
            }
        }));
        text.push('\n');
    }
    text
}

/// The input as one hex string, cut after 96 bytes.
#[must_use]
pub fn short_hex(bytes: &[u8]) -> String {
    let mut text: String = bytes.iter().take(96).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > 96 {
        let _ = write!(text, "… ({} bytes)", bytes.len());
    }
    text
}

/// Reads a hex string (whitespace ignored), as regression vectors are written.
///
/// # Panics
/// On a character that is not a hex digit, or an odd count of digits.
#[must_use]
pub fn from_hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len().is_multiple_of(2), "odd number of hex digits");
    digits
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).expect("hex digits are ASCII");
            u8::from_str_radix(pair, 16).expect("hex digits")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_the_same_everywhere() {
        let mut rng = Rng::new(1);
        assert_eq!(rng.next_u64(), 0x910a_2dec_8902_5cc1);
        assert!((0..1000).all(|_| rng.below(7) < 7));
        assert_eq!(Rng::new(0).below(0), 0);
    }

    #[test]
    fn seeds_read_as_decimal_or_hex() {
        assert_eq!(parse_seed("42"), Some(42));
        assert_eq!(parse_seed("0x2a"), Some(42));
        assert_eq!(parse_seed("x"), None);
    }

    #[test]
    fn hex_round_trips() {
        let bytes: Vec<u8> = (0..=255).collect();
        let dump = hex_dump(&bytes);
        assert!(dump.starts_with("00000000: 00 01 02"));
        assert_eq!(dump.lines().count(), 16);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(from_hex(&hex), bytes);
    }
}
