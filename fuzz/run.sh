#!/usr/bin/env bash
# Fuzzes the pure pipeline for a bounded time (default 300 s), seeded with events/.
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Not run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-300}
mkdir -p corpus/pipeline
cp ../events/*.json ../events/*.jsonl ../events/*.jsonl.gz corpus/pipeline/
cargo +nightly fuzz run pipeline corpus/pipeline -- -max_total_time="$seconds" -max_len=262144 -rss_limit_mb=2048 2>&1 | tee /tmp/fuzz-pipeline.log | tail -n 20
