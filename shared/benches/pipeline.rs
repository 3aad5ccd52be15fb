//! The whole pure pipeline per finding: parse + classify + decide + plan + render (all
//! channels). Target: ≤ 10 µs for a typical finding. Results go in docs/benchmarks.md.

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use responder::Config;
use responder::pipeline::{Handled, plan_input};

/// The pipeline as a dry run sees it: every plan of the input with its notification
/// rendered (rendering is a stage after planning; the plan does not hold it).
fn plan_and_render(bytes: &[u8], config: &Config) -> usize {
    plan_input(bytes, config)
        .expect("plans")
        .into_iter()
        .map(|h| match h {
            Handled::Plan(p) => p.notification().text.len(),
            Handled::NotAFinding { .. } => 0,
        })
        .sum()
}

fn event(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"))).expect("sample event")
}

/// The event as EventBridge hands it to Lambda: JSON without insignificant whitespace (the
/// files in events/ are indented for people to read).
fn compact(pretty: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pretty.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in pretty {
        if in_string {
            (in_string, escaped) = (escaped || b != b'"', !escaped && b == b'\\');
        } else if b == b'"' {
            in_string = true;
        } else if b.is_ascii_whitespace() {
            continue;
        }
        out.push(b);
    }
    out
}

fn pipeline(c: &mut Criterion) {
    let config = Config::default();
    let mut group = c.benchmark_group("pipeline");
    let indented = event("eks-execution-reverse-shell.json");
    let typical = compact(&indented);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&typical).unwrap(),
        serde_json::from_slice::<serde_json::Value>(&indented).unwrap()
    );
    group.throughput(Throughput::Bytes(typical.len() as u64));
    group.bench_function("eks-execution-reverse-shell-compact", |b| {
        b.iter(|| plan_and_render(black_box(&typical), &config))
    });
    for name in [
        "eks-execution-reverse-shell.json",
        "ec2-defense-evasion-kernel-module.json",
        "ecs-fargate-impact-cryptominer.json",
        "non-runtime-port-probe.json",
        "hostile-large-command-line.json",
    ] {
        let bytes = event(name);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name.trim_end_matches(".json"), |b| {
            b.iter(|| plan_and_render(black_box(&bytes), &config))
        });
    }
    group.finish();

    // Where the time goes, for the typical EKS finding as delivered.
    let bytes = typical;
    let mut stages = c.benchmark_group("stages");
    stages.bench_function("serde_json_value_only", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&bytes)).unwrap())
    });
    // The floor for any serde_json parse: scanning the event without keeping anything.
    stages.bench_function("serde_json_scan_only", |b| {
        b.iter(|| serde_json::from_slice::<serde::de::IgnoredAny>(black_box(&bytes)).unwrap())
    });
    stages.bench_function("parse", |b| {
        b.iter(|| responder::parse_input(black_box(&bytes)).unwrap())
    });
    let finding = match responder::parse_input(&bytes).unwrap().pop() {
        Some(responder::Entry::Finding(f)) => *f,
        _ => unreachable!("sample is a finding"),
    };
    stages.bench_function("classify_decide_plan_render", |b| {
        b.iter(|| responder::plan(black_box(finding.clone()), &config).notification())
    });
    let planned = responder::plan(finding.clone(), &config);
    stages.bench_function("render_only", |b| {
        b.iter(|| responder::render::render(black_box(&planned), None))
    });
    stages.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
