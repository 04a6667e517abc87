#!/bin/bash
# API under intake load (issue 14): does reading tickets over the HTTP API slow down LMTP intake?
# One release `postdesk serve` (fresh database, LMTP on a unix socket, the HTTP API on a free loopback port):
#   1. a read token is created and TICKETS tickets are delivered first (the API's targets);
#   2. bench/intake.sh's case (`-d -L -s 10 -l 2048` by default) runs alone: intake msg/s without API load;
#   3. wrk reads `GET /api/v1/tickets/{n}` (n over the seeded tickets, with the token) while the same case runs
#      again against the same daemon: intake msg/s with API load, and the API's requests/s, p50 and p99.
# It prints both intake rates, their ratio (the target is >= 0.9) and the API's figures, and checks that every
# message became a ticket and that every API answer was a 200.
#
# Environment:
#   MESSAGES=N      messages per intake run (default 20000, as bench/intake.sh)
#   CASE="…"        smtp-source options of the intake case (default "-d -L -s 10 -l 2048")
#   TICKETS=N       tickets seeded for the API to read (default 20)
#   SEED_ATTACHMENT=N  bytes of a PDF attachment on each seeded ticket's mail, beside a short non-ASCII text
#                   (default 0: smtp-source's plain mail); a ticket read then renders a mail of that size
#   WRK_THREADS=N   wrk threads (default 2), WRK_CONNECTIONS=N its connections (default 8)
#   WRK_SECONDS=N   the longest wrk may run (default 900); it is stopped when the intake run ends
#   API_ALONE_SECONDS=N  wrk alone for N seconds before the intake runs: the API's own figures (default 10; 0 skips)
#   RUN_TIMEOUT=N   seconds one smtp-source run may take (default 900)
#   POSTDESK=BIN    the postdesk binary (default: `swift build -c release --product postdesk`, then its path)
#   LOG_LEVEL       postdesk's log.level (default info, as shipped)
# Needs: scripts/install-test-peers.sh --bench (smtp-source, wrk, python3, curl).
# Results go to stdout and to bench/out/api-<UTC time>.txt. Only loopback; everything started is stopped by its
# pid on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
MESSAGES=${MESSAGES:-20000}
CASE=${CASE:--d -L -s 10 -l 2048}
TICKETS=${TICKETS:-20}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-8}
WRK_SECONDS=${WRK_SECONDS:-900}
API_ALONE_SECONDS=${API_ALONE_SECONDS:-10}
RUN_TIMEOUT=${RUN_TIMEOUT:-900}
LOG_LEVEL=${LOG_LEVEL:-info}
RECIPIENT=support@support.test
SENDER=bench@example.test
SEED_ATTACHMENT=${SEED_ATTACHMENT:-0}

for tool in smtp-source wrk python3 curl; do
    command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin
    command -v "$tool" >/dev/null || { echo "api.sh: $tool missing: run scripts/install-test-peers.sh --bench" >&2; exit 1; }
done

export SWIFT_DETERMINISTIC_HASHING=1
if [ -z "${POSTDESK:-}" ]; then
    echo "building release postdesk…" >&2
    swift build -c release --product postdesk >&2
    POSTDESK=$(swift build -c release --show-bin-path)/postdesk
fi
[ -x "$POSTDESK" ] || { echo "api.sh: $POSTDESK is not an executable" >&2; exit 1; }

WORK=$(mktemp -d /tmp/pd-api-bench.XXXXXX)
chmod 755 "$WORK"
SERVER_PID=""
WRK_PID=""

stop_pid() { # pid
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    stop_pid "$WRK_PID"
    stop_pid "$SERVER_PID"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SOCKET=$WORK/lmtp.sock
CONFIG=$WORK/postdesk.yaml
cat >"$CONFIG" <<EOF
log:
  level: $LOG_LEVEL
store:
  path: $WORK/postdesk.db
lmtp:
  socket: $SOCKET
  mode: "0666"
smtp:
  listen: ""
http:
  listen: "127.0.0.1:$PORT"
queues:
  names: [support]
  support:
    tag: Support
    addresses: ["$RECIPIENT"]
EOF

TOKEN=$("$POSTDESK" tokens create api-bench --scope read --config "$CONFIG" 2>"$WORK/token.err") ||
    { echo "api.sh: cannot create a token:" >&2; cat "$WORK/token.err" >&2; exit 1; }
"$POSTDESK" serve --config "$CONFIG" 2>"$WORK/postdesk.log" &
SERVER_PID=$!
for _ in $(seq 300); do
    [ -S "$SOCKET" ] && curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "api.sh: postdesk exited:" >&2; tail -20 "$WORK/postdesk.log" >&2; exit 1; }
    sleep 0.1
done
[ -S "$SOCKET" ] || { echo "api.sh: postdesk never listened" >&2; tail -20 "$WORK/postdesk.log" >&2; exit 1; }

ticket_count() {
    "$POSTDESK" tickets list --json --limit 100000000 --config "$CONFIG" 2>"$WORK/list.err" |
        python3 -c 'import json, sys; print(len(json.load(sys.stdin)))' || echo "?"
}

# One timed intake run of the case; sets RATE (msg/s).
RATE=""
intake() { # label
    local start end
    start=$(date +%s.%N)
    # shellcheck disable=SC2086 # CASE holds smtp-source flags, split on purpose
    if ! timeout "$RUN_TIMEOUT" smtp-source $CASE -m "$MESSAGES" -f "$SENDER" -t "$RECIPIENT" "unix:$SOCKET" \
        >"$WORK/source-$1.log" 2>&1; then
        echo "api.sh: smtp-source failed ($1):" >&2
        tail -5 "$WORK/source-$1.log" >&2
        tail -20 "$WORK/postdesk.log" >&2
        exit 1
    fi
    end=$(date +%s.%N)
    RATE=$(python3 -c "print(f'{$MESSAGES / ($end - $start):.0f}')")
}

# The API's targets: TICKETS tickets, numbers 1…TICKETS (one session, so in order).
if [ "$SEED_ATTACHMENT" -gt 0 ]; then
    timeout "$RUN_TIMEOUT" python3 - "$SOCKET" "$TICKETS" "$SEED_ATTACHMENT" "$SENDER" "$RECIPIENT" \
        >"$WORK/seed.log" 2>&1 <<'PYTHON' || { echo "api.sh: seeding failed" >&2; cat "$WORK/seed.log" >&2; exit 1; }
import os, smtplib, sys
from email.message import EmailMessage
socket, tickets, size, sender, recipient = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
client = smtplib.LMTP(socket)
for n in range(1, tickets + 1):
    message = EmailMessage()
    message["From"] = f"Zoë Ångström <{sender}>"
    message["To"] = recipient
    message["Subject"] = f"API bench ticket {n}: Rechnung – 请求"
    message["Message-ID"] = f"<api-bench-{n}@example.test>"
    message.set_content("Die Rechnung im Anhang. 请查收附件。\n\n-- \nZoë\n")
    message.add_attachment(os.urandom(size), maintype="application", subtype="pdf", filename=f"Rechnung {n}.pdf")
    client.sendmail(sender, [recipient], message.as_bytes())
client.quit()
PYTHON
else
    timeout "$RUN_TIMEOUT" smtp-source -L -s 1 -m "$TICKETS" -S "API bench ticket" -f "$SENDER" -t "$RECIPIENT" \
        "unix:$SOCKET" >"$WORK/seed.log" 2>&1 || { echo "api.sh: seeding failed" >&2; cat "$WORK/seed.log" >&2; exit 1; }
fi
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/tickets/1")
[ "$status" = 200 ] || { echo "api.sh: GET /api/v1/tickets/1 answered $status" >&2; exit 1; }

mkdir -p "$ROOT/bench/out"
OUT=$ROOT/bench/out/api-$(date -u +%Y%m%dT%H%MZ).txt
{
    echo "# Postdesk API under intake load, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
    echo "# postdesk: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') ($POSTDESK), log.level $LOG_LEVEL"
    echo "# intake: smtp-source $CASE -m $MESSAGES over unix:lmtp.sock, alone, then with"
    echo "# wrk -t $WRK_THREADS -c $WRK_CONNECTIONS: GET /api/v1/tickets/{1…$TICKETS} (read token) on 127.0.0.1:$PORT"
    [ "$SEED_ATTACHMENT" = 0 ] || echo "# each seeded ticket's mail carries a $SEED_ATTACHMENT-byte attachment"
} | tee "$OUT"

# wrk's script: rotates over the seeded tickets, and prints one parseable line when it stops (SIGINT included).
cat >"$WORK/tickets.lua" <<EOF
local n = 0
request = function()
    n = n % $TICKETS + 1
    return wrk.format("GET", "/api/v1/tickets/" .. n)
end
done = function(summary, latency, requests)
    local non2xx = summary.errors.status
    local failed = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
    io.write(string.format("API %d %.3f %.2f %.2f %d %d\n", summary.requests, summary.duration / 1e6,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, non2xx, failed))
end
EOF
API_ALONE=""
if [ "$API_ALONE_SECONDS" -gt 0 ]; then
    timeout $((API_ALONE_SECONDS + 60)) wrk -t "$WRK_THREADS" -c "$WRK_CONNECTIONS" -d "${API_ALONE_SECONDS}s" \
        -H "Authorization: Bearer $TOKEN" -s "$WORK/tickets.lua" "http://127.0.0.1:$PORT" >"$WORK/wrk-alone.log" 2>&1 ||
        { echo "api.sh: wrk alone failed:" >&2; cat "$WORK/wrk-alone.log" >&2; exit 1; }
    API_ALONE=$(grep '^API ' "$WORK/wrk-alone.log" || true)
    [ -n "$API_ALONE" ] || { echo "api.sh: wrk alone reported nothing:" >&2; cat "$WORK/wrk-alone.log" >&2; exit 1; }
fi

intake alone
alone=$RATE

wrk -t "$WRK_THREADS" -c "$WRK_CONNECTIONS" -d "${WRK_SECONDS}s" -H "Authorization: Bearer $TOKEN" \
    -s "$WORK/tickets.lua" "http://127.0.0.1:$PORT" >"$WORK/wrk.log" 2>&1 &
WRK_PID=$!
sleep 1
intake loaded
loaded=$RATE
# SIGINT: wrk stops and reports (its `done` runs); then it is waited for, bounded.
kill -INT "$WRK_PID" 2>/dev/null || true
for _ in $(seq 100); do kill -0 "$WRK_PID" 2>/dev/null || break; sleep 0.1; done
stop_pid "$WRK_PID"
WRK_PID=""
api=$(grep '^API ' "$WORK/wrk.log" || true)
[ -n "$api" ] || { echo "api.sh: wrk reported nothing:" >&2; cat "$WORK/wrk.log" >&2; exit 1; }
read -r _ requests seconds p50 p99 non2xx failed <<<"$api"

stored=$(ticket_count)
expected=$((TICKETS + 2 * MESSAGES))
check=ok
status=0
if [ "$stored" != "$expected" ]; then check="BAD:$stored/$expected"; status=1; fi
if [ "$non2xx" != 0 ] || [ "$failed" != 0 ]; then status=1; fi
if [ -n "$API_ALONE" ]; then
    read -r _ a_requests a_seconds a_p50 a_p99 a_non2xx a_failed <<<"$API_ALONE"
    if [ "$a_non2xx" != 0 ] || [ "$a_failed" != 0 ]; then status=1; fi
fi

FORMAT='%-26s %10s %10s %7s %8s %9s %9s %8s %7s\n'
# shellcheck disable=SC2059 # the format is ours
{
    printf "$FORMAT" case alone/s loaded/s ratio api-req/s api-p50ms api-p99ms non-2xx stored
    printf "$FORMAT" "$CASE" "$alone" "$loaded" \
        "$(python3 -c "print(f'{$loaded / $alone:.2f}')")" \
        "$(python3 -c "print(f'{$requests / $seconds:.0f}')")" "$p50" "$p99" "$((non2xx + failed))" "$check"
    echo "# ratio = intake msg/s with API load / alone (target >= 0.9); stored: one ticket per message sent"
    if [ -n "$API_ALONE" ]; then
        echo "# API alone (no intake, ${API_ALONE_SECONDS} s): $(python3 -c "print(f'{$a_requests / $a_seconds:.0f}')") req/s," \
            "p50 $a_p50 ms, p99 $a_p99 ms, non-2xx $((a_non2xx + a_failed))"
    fi
} | tee -a "$OUT"
echo "results written to $OUT" >&2
exit $status
