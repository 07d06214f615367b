#!/usr/bin/env bash
# Fuzzes the compiled core's segment reader (fuzz/fuzz_targets/segment.rs) for a given
# time: builds the seed corpus from a small valid segment, builds the target with
# cargo-fuzz on the nightly toolchain (release, debug assertions and overflow checks on),
# and runs libFuzzer niced on one core. Any panic, abort, timeout or allocation past the
# RSS limit stops the run and leaves the input under fuzz/artifacts/segment/.
#
#   benchmarks/fuzz_segments.sh            # 10 minutes
#   benchmarks/fuzz_segments.sh 60         # one minute
#   SANITIZER=address benchmarks/fuzz_segments.sh 600
#   FUZZ_ARGS=-len_control=0 benchmarks/fuzz_segments.sh 600   # more libFuzzer options
#
# The decoders are safe Rust, so the default is no sanitizer (about three times the
# executions of AddressSanitizer); libFuzzer's RSS limit still catches runaway allocation.
# The log is written to benchmarks/scratch/fuzz-segment.log; the figures that
# benchmarks/results/fuzz.md records are the last lines it prints.
set -euo pipefail

seconds="${1:-600}"
sanitizer="${SANITIZER:-none}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"
mkdir -p corpus/segment "$root/benchmarks/scratch"
log="$root/benchmarks/scratch/fuzz-segment.log"
# The target's scratch segments, in memory where possible, removed when the run ends.
SEARCHLIB_FUZZ_SCRATCH="$(mktemp -d /dev/shm/searchlib-fuzz.XXXXXX 2>/dev/null || mktemp -d)"
export SEARCHLIB_FUZZ_SCRATCH
trap 'rm -rf "$SEARCHLIB_FUZZ_SCRATCH"' EXIT

nice cargo run --quiet --release --bin seeds -- corpus/segment
nice cargo +nightly fuzz build segment --release --debug-assertions --sanitizer "$sanitizer"
# -max_len: the largest seed file (the store, about 19 KB) with room to grow.
set +e
nice cargo +nightly fuzz run segment --release --debug-assertions --sanitizer "$sanitizer" corpus/segment -- \
    -max_len=24000 -rss_limit_mb=2048 -timeout=10 -max_total_time="$seconds" -print_final_stats=1 \
    ${FUZZ_ARGS:-} >"$log" 2>&1
status=$?
set -e
grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::|^Done|panicked|ERROR|Test unit written' "$log" || true
echo "commit $(git -C "$root" rev-parse --short HEAD); sanitizer $sanitizer; exit status $status; log $log"
exit "$status"
