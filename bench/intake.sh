#!/bin/bash
# Intake benchmark: smtp-source drives the same LMTP load into four receivers on a unix socket:
#   postdesk    the release build of `postdesk serve` (fresh database per run, default durability)
#   smtp-sink   Postfix's sink: accepts and discards (the ceiling of this machine)
#   dovecot     a private Dovecot LMTP instance delivering into a Maildir (mail_fsync = optimized, its default)
#   python      bench/peers/lmtp_sqlite_peer.py: aiosmtpd + email + SQLite (WAL, COMMIT per message)
# and prints msg/s per receiver, the ratios, postdesk's peak RSS, and checks postdesk's ticket count and
# Dovecot's Maildir file count.
# Before each case it probes the disk's fdatasync latency (bench/fsync_latency.py): a durable receiver with S
# sessions cannot exceed S / latency msg/s, and on a VM that latency can change several-fold from minute to minute.
#
# Environment:
#   MESSAGES=N   messages per run (default 20000, each case's -m)
#   REPS=N       runs per case and receiver; the median is reported (default 1, for speed: runs vary
#                by about ±15% on this 2-core machine, use REPS=3 for figures worth quoting: about 40 minutes
#                with every receiver, most of it Dovecot and Python at 100 KB and at one session)
#   CASES="…"    smtp-source options per case, separated by ';' (default: the three below)
#   RUN_TIMEOUT  seconds one smtp-source run may take (default 900)
#   LOG_LEVEL    postdesk's log.level (default info, as shipped; "warning" shows the cost of logging)
#   RECEIVERS    which receivers to run (default "postdesk smtp-sink dovecot python"; without postdesk no build)
#   BASELINE=BIN another postdesk binary (e.g. an earlier commit's release build) run right after postdesk in
#                each repetition, with the same configuration: adds the columns baseline/s and pd/base
#   BINARY=BIN   the postdesk binary to measure instead of building the release product (no POSTDESK_ prefix:
#                the daemon refuses environment variables it does not know)
#   EXTRA_CONFIG=FILE  YAML appended to postdesk's configuration only (not the baseline's): with
#                BASELINE set to the same binary, pd/base is what that configuration costs (e.g. a queue with
#                every mail-command syntax on: bench/commands-on.yaml)
# Needs: scripts/install-test-peers.sh --bench (smtp-source, smtp-sink, dovecot-lmtpd, python3 + aiosmtpd).
# Results go to stdout and to bench/out/intake-<UTC date>.txt. Everything started is stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
MESSAGES=${MESSAGES:-20000}
REPS=${REPS:-1}
RUN_TIMEOUT=${RUN_TIMEOUT:-900}
RECEIVERS=${RECEIVERS:-postdesk smtp-sink dovecot python}
LOG_LEVEL=${LOG_LEVEL:-info}
DEFAULT_CASES="-d -L -s 10 -l 2048;-d -L -s 10 -l 102400;-d -L -s 1 -l 2048"
IFS=';' read -r -a CASE_LIST <<<"${CASES:-$DEFAULT_CASES}"
RECIPIENT=support@support.test
SENDER=bench@example.test

BASELINE=${BASELINE:-}
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || { echo "intake.sh: BASELINE=$BASELINE is not an executable" >&2; exit 1; }
[ -z "$BASELINE" ] || RECEIVERS="$RECEIVERS baseline"
wanted() { [[ " $RECEIVERS " == *" $1 "* ]]; }

tools=(smtp-source smtp-sink python3)
wanted dovecot && tools+=(dovecot)
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin
    command -v "$tool" >/dev/null || { echo "intake.sh: $tool missing: run scripts/install-test-peers.sh --bench" >&2; exit 1; }
done
python3 -c 'import aiosmtpd' 2>/dev/null || { echo "intake.sh: aiosmtpd missing: run scripts/install-test-peers.sh" >&2; exit 1; }

export SWIFT_DETERMINISTIC_HASHING=1
POSTDESK=""
if wanted postdesk && [ -n "${BINARY:-}" ]; then
    POSTDESK=$BINARY
    [ -x "$POSTDESK" ] || { echo "intake.sh: BINARY=$POSTDESK is not an executable" >&2; exit 1; }
elif wanted postdesk; then
    echo "building release postdesk…" >&2
    swift build -c release --product postdesk >&2
    POSTDESK=$(swift build -c release --show-bin-path)/postdesk
    [ -x "$POSTDESK" ] || { echo "intake.sh: $POSTDESK not built" >&2; exit 1; }
fi

# /tmp keeps socket paths short; 0755 so that any receiver user can reach its socket.
WORK=$(mktemp -d /tmp/pd-bench.XXXXXX)
chmod 755 "$WORK"
RECEIVER_PID=""

stop_receiver() {
    [ -n "$RECEIVER_PID" ] || return 0
    kill -TERM "$RECEIVER_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$RECEIVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$RECEIVER_PID" 2>/dev/null || true
    wait "$RECEIVER_PID" 2>/dev/null || true
    RECEIVER_PID=""
}
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    stop_receiver
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for_socket() { # path, name
    for _ in $(seq 300); do
        [ -S "$1" ] && return 0
        kill -0 "$RECEIVER_PID" 2>/dev/null || { echo "intake.sh: $2 exited before listening:" >&2; tail -n 5 "$WORK"/run/*.log >&2 2>/dev/null; return 1; }
        sleep 0.1
    done
    echo "intake.sh: $2 never created $1" >&2
    return 1
}

# A private Dovecot with LMTP only: the recipient's local part is the user (support), whose Maildir is under
# the run directory; mail belongs to nobody (65534), so no system user is created. Nothing of /etc/dovecot is read.
write_dovecot_config() { # run directory
    local dir=$1
    mkdir -p "$dir/dovecot/run" "$dir/dovecot/state" "$dir/dovecot/mail"
    chown 65534:65534 "$dir/dovecot/mail"
    echo "${RECIPIENT%@*}:{PLAIN}unused:65534:65534::$dir/dovecot/mail/${RECIPIENT%@*}::" >"$dir/dovecot/users"
    cat >"$dir/dovecot.conf" <<EOF
instance_name = postdesk-bench-dovecot
base_dir = $dir/dovecot/run
state_dir = $dir/dovecot/state
protocols = lmtp
log_path = $dir/dovecot/dovecot.log
ssl = no
auth_username_format = %Ln
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $dir/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%n $dir/dovecot/users
}
service lmtp {
  unix_listener $dir/lmtp.sock {
    mode = 0666
  }
}
EOF
}

# Start one receiver on $WORK/run/lmtp.sock; sets RECEIVER_PID.
start_receiver() { # kind
    rm -rf "$WORK/run"
    mkdir -p "$WORK/run"
    chmod 755 "$WORK/run"
    local socket=$WORK/run/lmtp.sock
    case $1 in
    postdesk | baseline)
        cat >"$WORK/run/postdesk.yaml" <<EOF
log:
  level: $LOG_LEVEL
store:
  path: $WORK/run/postdesk.db
lmtp:
  socket: $socket
  mode: "0666"
smtp:
  listen: ""
queues:
  names: [support]
  support:
    tag: Support
    addresses: ["$RECIPIENT"]
EOF
        if [ "$1" = postdesk ] && [ -n "${EXTRA_CONFIG:-}" ]; then
            cat "$EXTRA_CONFIG" >>"$WORK/run/postdesk.yaml"
        fi
        local binary=$POSTDESK
        [ "$1" = baseline ] && binary=$BASELINE
        "$binary" serve --config "$WORK/run/postdesk.yaml" 2>"$WORK/run/postdesk.log" &
        ;;
    smtp-sink)
        # Listen backlog 1000; -u: it refuses to run as root otherwise.
        smtp-sink -u nobody -L "unix:$socket" 1000 2>"$WORK/run/sink.log" &
        ;;
    dovecot)
        write_dovecot_config "$WORK/run"
        # -F: the master stays in the foreground, so its pid is ours to stop (it stops its children).
        dovecot -F -c "$WORK/run/dovecot.conf" 2>"$WORK/run/dovecot.stderr" &
        ;;
    python)
        python3 "$ROOT/bench/peers/lmtp_sqlite_peer.py" --socket "$socket" --db "$WORK/run/peer.db" \
            2>"$WORK/run/peer.log" &
        ;;
    esac
    RECEIVER_PID=$!
    wait_for_socket "$socket" "$1"
    chmod 666 "$socket" 2>/dev/null || true
}

# One timed smtp-source run; sets RATE (msg/s or FAIL), and for postdesk LAST_RSS_KB and LAST_COUNT.
# (Globals, not $(…) output: a subshell would hide the receiver's pid from the cleanup trap.)
RATE=""
LAST_RSS_KB=""
LAST_COUNT=""
run_once() { # kind, options
    local kind=$1 options=$2
    RATE="-"
    LAST_RSS_KB=""
    LAST_COUNT=""
    wanted "$kind" || return 0
    start_receiver "$kind"
    local start end
    start=$(date +%s.%N)
    # shellcheck disable=SC2086 # options are smtp-source flags, split on purpose
    if ! timeout "$RUN_TIMEOUT" smtp-source $options -m "$MESSAGES" -f "$SENDER" -t "$RECIPIENT" \
        "unix:$WORK/run/lmtp.sock" >"$WORK/run/source.log" 2>&1; then
        echo "intake.sh: smtp-source failed against $kind ($options):" >&2
        tail -5 "$WORK/run/source.log" >&2
        [[ $kind == postdesk || $kind == baseline ]] && tail -20 "$WORK/run/postdesk.log" >&2
        stop_receiver
        RATE=FAIL
        return 0
    fi
    end=$(date +%s.%N)
    if [ "$kind" = postdesk ]; then
        LAST_RSS_KB=$(awk '/^VmHWM:/ {print $2}' "/proc/$RECEIVER_PID/status")
        stop_receiver
        LAST_COUNT=$("$POSTDESK" tickets list --json --limit 100000000 --config "$WORK/run/postdesk.yaml" 2>"$WORK/run/list.err" |
            python3 -c 'import json, sys; print(len(json.load(sys.stdin)))' || echo "?")
    elif [ "$kind" = dovecot ]; then
        stop_receiver
        LAST_COUNT=$(find "$WORK/run/dovecot/mail" -path '*/Maildir/new/*' -type f | wc -l)
    else
        stop_receiver
    fi
    rm -rf "$WORK/run"
    RATE=$(python3 -c "print(f'{$MESSAGES / ($end - $start):.0f}')")
}

median() { # values… ("-" = not run, FAIL = failed run)
    printf '%s\n' "$@" | { grep -Ev '^(FAIL|-)$' || true; } | sort -n |
        awk -v failed="$(printf '%s\n' "$@" | grep -c FAIL || true)" '
        { v[NR] = $1 }
        END { if (NR == 0) print (failed ? "FAIL" : "-"); else if (NR % 2) print v[(NR + 1) / 2];
              else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
ratio() { # a, b
    python3 -c "import sys; a, b = sys.argv[1:]; print(f'{float(a) / float(b):.2f}' if a.isdigit() and b.isdigit() else '-')" "$1" "$2"
}

mkdir -p "$ROOT/bench/out"
OUT=$ROOT/bench/out/intake-$(date -u +%Y%m%dT%H%MZ).txt
{
    echo "# Postdesk intake benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $MESSAGES messages per run"
    echo "# median of REPS=$REPS run(s) per receiver; smtp-source -f $SENDER -t $RECIPIENT over unix:lmtp.sock"
    echo "# receivers: $RECEIVERS; postdesk: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') release, log.level $LOG_LEVEL; python: aiosmtpd $(python3 -c 'import aiosmtpd; print(aiosmtpd.__version__)') + sqlite3 WAL synchronous=FULL$(wanted dovecot && echo "; dovecot $(dovecot --version | cut -d' ' -f1)")"
} | tee "$OUT"
[ -z "$BASELINE" ] || echo "# baseline: $BASELINE" | tee -a "$OUT"
FORMAT='%-26s %11s %11s %10s %9s %8s %7s %8s %10s %8s %11s %8s\n'
# shellcheck disable=SC2059 # the format is ours
printf "$FORMAT" case postdesk/s smtp-sink/s dovecot/s python/s pd/sink pd/dov pd/py pd-RSS-MB stored \
    baseline/s pd/base | tee -a "$OUT"

status=0
for options in "${CASE_LIST[@]}"; do
    options=$(echo "$options" | xargs)
    # Every durable receiver waits for an fsync per message: the disk's fsync latency bounds it (see the probe).
    sessions=$(echo "$options" | sed -n 's/.*-s \([0-9]*\).*/\1/p')
    echo "# disk before '$options': $(python3 "$ROOT/bench/fsync_latency.py" "$WORK" --samples 100 --sessions "${sessions:-1}")" |
        tee -a "$OUT"
    pd=() sink=() dove=() py=() rss=() counts=() base=()
    for _ in $(seq "$REPS"); do
        run_once postdesk "$options"
        pd+=("$RATE")
        rss+=("${LAST_RSS_KB:-0}")
        counts+=("${LAST_COUNT:--}")
        run_once baseline "$options"
        base+=("$RATE")
        run_once smtp-sink "$options"
        sink+=("$RATE")
        run_once dovecot "$options"
        dove+=("$RATE")
        counts+=("${LAST_COUNT:--}")
        run_once python "$options"
        py+=("$RATE")
    done
    pd_median=$(median "${pd[@]}")
    sink_median=$(median "${sink[@]}")
    dove_median=$(median "${dove[@]}")
    py_median=$(median "${py[@]}")
    base_median=$(median "${base[@]}")
    peak_kb=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
    count_check="-"
    [[ " ${pd[*]} ${sink[*]} ${dove[*]} ${py[*]} ${base[*]} " == *" FAIL "* ]] && status=1
    for count in "${counts[@]}"; do
        [ "$count" = "$MESSAGES" ] && [ "$count_check" = "-" ] && count_check="ok"
        if [ "$count" != "-" ] && [ "$count" != "$MESSAGES" ]; then
            count_check="BAD:$count"
            status=1
        fi
    done
    # shellcheck disable=SC2059
    printf "$FORMAT" "$options" "$pd_median" "$sink_median" "$dove_median" "$py_median" \
        "$(ratio "$pd_median" "$sink_median")" "$(ratio "$pd_median" "$dove_median")" "$(ratio "$pd_median" "$py_median")" \
        "$((peak_kb / 1024))" "$count_check" "$base_median" "$(ratio "$pd_median" "$base_median")" | tee -a "$OUT"
done
echo "# stored: ok = postdesk stored exactly one ticket, and dovecot one Maildir file, per message sent, in every run" | tee -a "$OUT"
echo "results written to $OUT" >&2
exit $status
