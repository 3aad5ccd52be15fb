//! Runs the pure pipeline on one sample event in a loop, for instruction counts that do not
//! depend on how busy the machine is (see docs/benchmarks.md):
//! `valgrind --tool=callgrind target/release/examples/pipeline_loop <event> <iterations>`,
//! where `<event>` is a file name in `events/` or a path.

use responder::Config;
use responder::pipeline::plan_input;
use std::hint::black_box;

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args
        .next()
        .unwrap_or_else(|| "eks-execution-reverse-shell.json".into());
    let iterations: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let path = if std::path::Path::new(&name).is_file() {
        name
    } else {
        format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"))
    };
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let config = Config::default();
    let started = std::time::Instant::now();
    for _ in 0..iterations {
        black_box(plan_input(black_box(&bytes), &config).expect("sample event plans"));
    }
    eprintln!("{:?} per finding", started.elapsed() / iterations.max(1));
}
