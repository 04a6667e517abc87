#!/bin/bash
# Long run of the whole-pipeline robustness tests: seeded mutations of the parser corpus through the whole
# TicketIntake into a real SQLite store, with other seeds and larger counts than CI uses.
#
#   scripts/robustness-soak.sh SEED COUNT [SECONDS]
#
# SEED and COUNT choose the mutations (the same seed and count give the same messages); SECONDS (default
# 3600) bounds the whole run: the run is stopped and reported as failed when it takes longer. Each message is
# still bounded in time and memory by the test itself. Builds the tests first when needed.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 SEED COUNT [SECONDS]" >&2
    exit 2
fi
seed=$1
count=$2
limit=${3:-3600}
case "$seed$count$limit" in
    *[!0-9]*) echo "robustness-soak: SEED, COUNT and SECONDS must be decimal numbers" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
export SWIFT_DETERMINISTIC_HASHING=1
swift build --build-tests

echo "robustness-soak: seed $seed, $count mutations, at most $limit s"
status=0
ROBUSTNESS_SEED=$seed ROBUSTNESS_COUNT=$count timeout --signal=TERM --kill-after=30 "$limit" \
    swift test --skip-build --filter "PipelineRobustnessTests" || status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "robustness-soak: stopped after $limit s (seed $seed, count $count): a message may hang" >&2
    exit 1
fi
if [ "$status" -ne 0 ]; then
    echo "robustness-soak: failures with seed $seed, count $count (the test output names each message)" >&2
fi
exit "$status"
