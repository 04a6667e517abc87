#!/usr/bin/env bash
# Parser throughput: Postdesk's MessageParser vs Python's email package, same run, same files.
# Workloads: (a) the test corpus, (b) a typical 25 KB reply, (c) a 10 MB attachment-heavy message, plus the
# 2 KB plain message the daemon benchmark sends. Results: one JSON line each, also in bench/out/parse/.
# Usage: bench/parse/run.sh [SECONDS_PER_WORKLOAD]
set -euo pipefail
export SWIFT_DETERMINISTIC_HASHING=1
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds="${1:-3}"
out="$root/bench/out/parse"
mkdir -p "$out"
python3 "$here/generate.py" "$out/messages"
swift build -c release --package-path "$here" --product ParseBench >&2
bench="$(swift build -c release --package-path "$here" --show-bin-path)/ParseBench"
corpus=("$root"/Tests/MailParserTests/Corpus/*.eml)
results="$out/results.jsonl"
: >"$results"
run() {
    local name="$1"
    shift
    "$bench" "$name" "$seconds" "$@" | tee -a "$results"
    python3 "$here/python_bench.py" "$name" "$seconds" "$@" | tee -a "$results"
}
run corpus "${corpus[@]}"
run reply-25k "$out/messages/reply-25k.eml"
run attachments-10m "$out/messages/attachments-10m.eml"
run plain-2k "$out/messages/plain-2k.eml"
python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r["workload"], {})[r["parser"]] = r
print("\nworkload          postdesk MB/s   msg/s      python MB/s   msg/s     speed-up")
for w, r in by.items():
    p, q = r["postdesk"], r["python-email"]
    print(f"{w:17} {p['mb_per_s']:10.1f} {p['msg_per_s']:10.0f} {q['mb_per_s']:10.1f} {q['msg_per_s']:9.0f}"
          f"   {p['msg_per_s'] / q['msg_per_s']:6.1f}x")
PY
