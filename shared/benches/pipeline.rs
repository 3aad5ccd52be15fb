//! The whole pure pipeline per finding: parse + classify + decide + plan + render (all
//! channels). Target: ≤ 10 µs for a typical finding. Results go in docs/benchmarks.md.

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use responder::Config;
use responder::pipeline::plan_input;

fn event(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"))).expect("sample event")
}

fn pipeline(c: &mut Criterion) {
    let config = Config::default();
    let mut group = c.benchmark_group("pipeline");
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
            b.iter(|| plan_input(black_box(&bytes), &config).expect("plans"))
        });
    }
    group.finish();

    // Where the time goes, for the typical EKS finding.
    let bytes = event("eks-execution-reverse-shell.json");
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
        b.iter(|| responder::plan(black_box(finding.clone()), &config))
    });
    let planned = responder::plan(finding.clone(), &config);
    stages.bench_function("render_only", |b| {
        b.iter(|| responder::render::render(black_box(&planned), None))
    });
    stages.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
