#!/usr/bin/env bash
# Builds the current commit without the pipeline stages of issue 4 (no classification, no body fingerprint, no
# message record), for `BASELINE=` in bench/intake.sh: the stages' cost is then measured in one run.
# It patches Sources/ in place, builds the release binary, copies it to bench/out/postdesk-without-stages and
# restores Sources/ from git. Refuses to run on a tree with uncommitted changes under Sources/.
set -euo pipefail
export SWIFT_DETERMINISTIC_HASHING=1
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [ -n "$(git status --porcelain -- Sources)" ]; then
    echo "build_without_stages.sh: Sources/ has uncommitted changes; commit or stash them first" >&2
    exit 1
fi
trap 'git checkout -- Sources' EXIT
python3 bench/without_stages.py "$root"
swift build -c release --product postdesk >&2
mkdir -p bench/out
cp "$(swift build -c release --show-bin-path)/postdesk" bench/out/postdesk-without-stages
echo "$root/bench/out/postdesk-without-stages"
