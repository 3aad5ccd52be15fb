#!/usr/bin/env bash
# Replay throughput and peak memory, side by side in one run: the release build of
# `responder replay --output json` (pure CLI, no aws feature) against the straightforward
# Python implementation of the same pipeline (bench/replay_pipeline.py), on one
# `aws guardduty get-findings` export (PascalCase) generated from events/.
#
#   bench/replay_throughput.sh [N ...]        # default: 4200 100000
#
# Needs /usr/bin/time (GNU time, Debian package `time`) for peak RSS. Builds the release CLI
# into $CARGO_TARGET_DIR (default target/). Not part of .ci/run: it takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p responder-cli
bin="$target/release/responder"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
[ $# -gt 0 ] || set -- 4200 100000

# seconds and peak kB of one command, its stdout discarded
measure() {
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" > "$work/out"
  read -r seconds kb < "$work/time"
  echo "$seconds $kb"
}

printf '%-9s %-8s %-10s %-14s %-11s %s\n' findings input implementation "findings/s" "peak RSS" speed-up
for n in "$@"; do
  python3 bench/gen_get_findings.py "$n" > "$work/export.json"
  size="$(du -m "$work/export.json" | cut -f1) MB"
  read -r rs rk < <(measure "$bin" replay "$work/export.json" --output json)
  plans=$(grep -c '"finding_id"' "$work/out")
  [ "$plans" = "$n" ] || { echo "rust: $plans plans for $n findings" >&2; exit 1; }
  read -r ps pk < <(measure python3 bench/replay_pipeline.py "$work/export.json")
  plans=$(grep -c '"finding_id"' "$work/out")
  [ "$plans" = "$n" ] || { echo "python: $plans plans for $n findings" >&2; exit 1; }
  python3 - "$n" "$size" "$rs" "$rk" "$ps" "$pk" <<'EOF'
import sys
n, size, rs, rk, ps, pk = sys.argv[1:]
n, rs, ps = int(n), max(float(rs), 0.01), max(float(ps), 0.01)
print(f"{n:<9} {size:<8} {'rust':<10} {n / rs:<14,.0f} {int(rk) / 1024:<8.1f} MB  {ps / rs:.1f}x")
print(f"{n:<9} {size:<8} {'python':<10} {n / ps:<14,.0f} {int(pk) / 1024:<8.1f} MB")
EOF
done
