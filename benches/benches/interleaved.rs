//! The #2 figures measured by interleaving instead of by criterion's consecutive runs:
//! `cargo bench -p mailwire-benches --bench interleaved`.
//!
//! On a shared machine the speed changes from one second to the next, and criterion
//! measures each side in its own few seconds: two rounds of the same code have given
//! ratios 1.5x apart. Here the two sides alternate in short windows (20,000 transactions
//! each), 60 times, and each side's fastest window is kept (noise only ever slows a
//! window down), then the median window too.
//!
//! - Command parsing, mailwire (`parse_command_ref`) against smtp-proto (`Request::parse`,
//!   borrowing), on the two transactions of `benches/smtp_parse.rs`.
//! - Whole in-memory sessions (`benches/smtp_transaction.rs`'s `session`): sessions per
//!   second, best and median window.

// A bench without criterion: `main` prints.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use mailwire_benches::parse::{COMMANDS, PLAIN, TRANSACTION, mailwire_ref, smtp_proto};
use mailwire_benches::transaction::{Setup, session};
use mailwire_smtp::parse::CommandParseOptions;

const WINDOWS: usize = 60;
const PER_WINDOW: usize = 20_000;

/// Seconds per call of `f` in one window.
fn window(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..PER_WINDOW {
        f();
    }
    start.elapsed().as_secs_f64() / PER_WINDOW as f64
}

fn best_and_median(mut times: Vec<f64>) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    (times[0], times[times.len() / 2])
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once, quickly.
    let quick = !std::env::args().any(|a| a == "--bench");
    let windows = if quick { 2 } else { WINDOWS };
    let opts = CommandParseOptions::default();
    assert_eq!(mailwire_ref(TRANSACTION, &opts), COMMANDS);
    assert_eq!(smtp_proto(TRANSACTION), COMMANDS);
    assert_eq!(mailwire_ref(PLAIN, &opts), 7);
    assert_eq!(smtp_proto(PLAIN), 7);
    for (name, input) in [("dsn", TRANSACTION), ("plain", PLAIN)] {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..windows {
            ours.push(window(|| {
                black_box(mailwire_ref(black_box(input), &opts));
            }));
            theirs.push(window(|| {
                black_box(smtp_proto(black_box(input)));
            }));
        }
        let (a, am) = best_and_median(ours);
        let (b, bm) = best_and_median(theirs);
        println!(
            "command parse ({name}): mailwire {:.0} ns, smtp-proto {:.0} ns: {:.2}x \
             (medians {:.0} / {:.0} ns: {:.2}x)",
            a * 1e9,
            b * 1e9,
            b / a,
            am * 1e9,
            bm * 1e9,
            bm / am
        );
    }
    let setup = Setup::new(false);
    let now = Instant::now();
    let mut times = Vec::new();
    for _ in 0..windows {
        times.push(window(|| assert_eq!(session(black_box(&setup), now), 1)));
    }
    let (best, median) = best_and_median(times);
    println!(
        "sessions: best window {:.0} ns = {:.0}/s, median {:.0} ns = {:.0}/s",
        best * 1e9,
        1.0 / best,
        median * 1e9,
        1.0 / median
    );
}
