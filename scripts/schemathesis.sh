#!/bin/bash
# Fuzzes a running Postdesk HTTP API with schemathesis (PyPI) from api/openapi.yaml, with api/schemathesis.toml's
# settings, a fixed seed and a bounded number of examples per operation: every response must match the spec and
# none may be a 5xx (exit status 0 only then). The one place these options live: PostdeskHTTPTests (an in-process
# server) and IntegrationTests (the real `postdesk serve`) both run it, and so can you.
#
# Usage: POSTDESK_TOKEN=pd_… scripts/schemathesis.sh http://127.0.0.1:8025
#   POSTDESK_TOKEN   a write token (postdesk tokens create NAME --scope write): every operation is reached
#   MAX_EXAMPLES=N   examples per operation (default 25); SEED=N (default 14)
# Needs: schemathesis 4.x (scripts/install-test-peers.sh installs it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ $# -eq 1 ] || { echo "usage: POSTDESK_TOKEN=… $0 BASE_URL" >&2; exit 2; }
[ -n "${POSTDESK_TOKEN:-}" ] || { echo "schemathesis.sh: set POSTDESK_TOKEN to a write token" >&2; exit 2; }
command -v schemathesis >/dev/null ||
    { echo "schemathesis.sh: schemathesis is not installed: run scripts/install-test-peers.sh" >&2; exit 127; }
case $1 in
http://127.0.0.1:* | http://localhost:* | "http://[::1]:"*) ;;
*) echo "schemathesis.sh: only a loopback URL, got $1" >&2; exit 2 ;;
esac
REPORT=$(mktemp /tmp/postdesk-schemathesis.XXXXXX)
trap 'rm -f "$REPORT"' EXIT
status=0
schemathesis --config-file "$ROOT/api/schemathesis.toml" run "$ROOT/api/openapi.yaml" \
    --url "$1" --header "Authorization: Bearer $POSTDESK_TOKEN" \
    --max-examples "${MAX_EXAMPLES:-25}" --seed "${SEED:-14}" --no-color >"$REPORT" 2>&1 || status=$?
cat "$REPORT"
if [ $status -ne 0 ]; then
    # The report quotes bodies that can be megabytes: the failing operations and checks once more, last.
    echo "schemathesis.sh: exit status $status; failing operations and checks:"
    grep -E '^___|- ST|\[5' "$REPORT" | head -80 || true
fi
exit $status
