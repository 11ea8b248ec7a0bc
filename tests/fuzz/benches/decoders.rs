//! The million-input run: every decoder that reads from outside gets 1,000,000 random and
//! mutated inputs, and none may panic. The figures in BENCHMARKS.md come from here.
//!
//! ```sh
//! cargo bench -p decoder-fuzz --bench decoders --profile fuzz              # every decoder
//! cargo bench -p decoder-fuzz --bench decoders --profile fuzz -- dart tls  # names containing these
//! FUZZ_SEED=0x1234 FUZZ_INPUTS=200000 cargo bench -p decoder-fuzz --bench decoders --profile fuzz
//! ```
//!
//! Run it with the `fuzz` profile: the release optimisations with overflow checks and debug
//! assertions on, so an input that would make a debug build panic (an arithmetic overflow, a
//! `debug_assert!`) panics here too, at release speed. The plain bench profile turns overflow
//! checks off, and then an overflow wraps silently: such a run says nothing about debug builds,
//! and the header says so.
//!
//! A failing input is written as a hex dump (and the raw bytes) to `FUZZ_FAILURES_DIR`, by
//! default `<target dir>/tmp/fuzz-failures/`; the run then exits with status 1.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::ExitCode;

use decoder_fuzz::targets::ALL;
use decoder_fuzz::{Report, run, seed_from_env};

fn main() -> ExitCode {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let inputs: u64 = std::env::var("FUZZ_INPUTS")
        .ok()
        .and_then(|text| text.replace(['_', ','], "").parse().ok())
        .unwrap_or(1_000_000);
    let seed = seed_from_env();
    let dumps = std::env::var_os("FUZZ_FAILURES_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures"),
        PathBuf::from,
    );
    let checks = overflow_checks_on();
    println!(
        "decoder fuzz: seed {seed:#x}, {} inputs per decoder, overflow checks {}, debug assertions {}",
        thousands(inputs),
        if checks { "on" } else { "OFF" },
        if cfg!(debug_assertions) { "on" } else { "off" },
    );
    if !checks {
        println!(
            "WARNING: overflow checks are off, so an overflow wraps instead of panicking as in a \
             debug build; run with --profile fuzz"
        );
    }
    let selected: Vec<_> = ALL
        .iter()
        .filter(|entry| filters.is_empty() || filters.iter().any(|f| entry.name.contains(f)))
        .collect();
    let mut reports = Vec::new();
    for entry in selected {
        let mut target = (entry.make)();
        let report = run(target.as_mut(), inputs, seed, &dumps);
        println!(
            "  {:<22} {:>10} inputs {:>8.1} s {:>9}/s  {} outcomes  {} failures",
            report.target,
            thousands(report.inputs),
            report.elapsed.as_secs_f64(),
            thousands(report.rate()),
            report.outcomes.counts().len(),
            report.failures.len(),
        );
        reports.push(report);
    }
    print_table(&reports);
    let failed: Vec<&Report> = reports.iter().filter(|r| !r.failures.is_empty()).collect();
    if failed.is_empty() {
        println!("\nno decoder panicked or broke a property");
        ExitCode::SUCCESS
    } else {
        println!("\nFAILURES (reproduce with FUZZ_SEED={seed:#x}):");
        for report in failed {
            print!("{}", report.describe_failures());
        }
        ExitCode::FAILURE
    }
}

fn print_table(reports: &[Report]) {
    println!("\n| decoder | inputs | seconds | inputs/s | distinct outcomes | failures |");
    println!("|---|---|---|---|---|---|");
    for report in reports {
        println!(
            "| `{}` | {} | {:.1} | {} | {} | {} |",
            report.target,
            thousands(report.inputs),
            report.elapsed.as_secs_f64(),
            thousands(report.rate()),
            report.outcomes.counts().len(),
            report.failures.len(),
        );
    }
    println!("\noutcomes seen (count):");
    for report in reports {
        let codes: Vec<String> = report
            .outcomes
            .counts()
            .iter()
            .map(|(code, count)| format!("{code} ({})", thousands(*count)))
            .collect();
        println!("  {}: {}", report.target, codes.join(", "));
    }
}

/// Whether `u8::MAX + 1` panics in this build.
fn overflow_checks_on() -> bool {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let max = std::hint::black_box(u8::MAX);
    let panicked = std::panic::catch_unwind(|| max + std::hint::black_box(1)).is_err();
    std::panic::set_hook(previous);
    panicked
}

fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
