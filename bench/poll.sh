#!/bin/bash
# Poll benchmark (issue 13): MESSAGES × 2 KB messages are loaded over LMTP into a private Dovecot mailbox, then
# drained with delete-after-commit by each of these, one at a time, in the same run:
#   fetchmail-imap   fetchmail over IMAP → `postdesk serve` over LMTP (nokeep fetchall): what a Postfix site
#                    would use today
#   fetchmail-pop3   the same over POP3
#   fetchmail-sink   fetchmail over IMAP → Postfix's smtp-sink over LMTP: fetchmail's ceiling on this machine
#   postdesk-imap    Postdesk's own poller: `postdesk serve` with a `mailboxes:` entry (imap, after_commit: delete)
#   postdesk-pop3    the same over POP3
# A run's time is from the drainer's start until the mailbox is empty (and, with Postdesk, every message is a
# ticket in the store). It prints msg/s per scenario (median of REPS) and the ratios Postdesk poller /
# fetchmail → Postdesk. Then the IDLE mode: IDLE_MESSAGES messages delivered one at a time to Postdesk's poller
# watching the mailbox with IDLE; latency from the start of each delivery to its committed ticket, p50/p99/max.
#
# Every run starts a fresh Dovecot with an empty mailbox (the first fetch after a bulk load, and Dovecot's LMTP,
# get slower as a Maildir grows), loads it, makes Dovecot index it (outside the timing), then drains it.
#
# Environment:
#   MESSAGES=N       messages per run (default 1000)
#   REPS=N           runs per scenario; the median is reported (default 3: runs vary by about ±15% on 2 cores)
#   SIZE=BYTES       message size (smtp-source -l, default 2048)
#   SCENARIOS="…"    which drainers to run (default: the five above, in that order)
#   IDLE_MESSAGES=N  messages in the IDLE mode (default 200; 0 skips it)
#   RUN_TIMEOUT=S    seconds one drain may take (default 600)
#   LOG_LEVEL        postdesk's log.level (default info, as shipped)
#   POSTDESK=BIN     the postdesk binary (default: .build/release/postdesk, else .build/debug/postdesk; this
#                    script does not build). Without one, only fetchmail-sink runs. With a binary whose
#                    configuration has no `mailboxes:` key (`postdesk check-config` rejects it), the poller
#                    scenarios and the IDLE mode are skipped with a line saying so.
# Needs: scripts/install-test-peers.sh --bench (Dovecot imapd/pop3d/lmtpd, fetchmail, smtp-source, smtp-sink,
# sqlite3, python3). Results go to stdout and bench/out/poll-<UTC time>.txt. Everything started is stopped by pid.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
MESSAGES=${MESSAGES:-1000}
REPS=${REPS:-3}
SIZE=${SIZE:-2048}
SCENARIOS=${SCENARIOS:-fetchmail-imap fetchmail-pop3 fetchmail-sink postdesk-imap postdesk-pop3}
IDLE_MESSAGES=${IDLE_MESSAGES:-200}
RUN_TIMEOUT=${RUN_TIMEOUT:-600}
LOG_LEVEL=${LOG_LEVEL:-info}
USER_NAME=bench
PASSWORD=bench-password
RECIPIENT=bench@support.test
SENDER=sender@example.test
wanted() { [[ " $SCENARIOS " == *" $1 "* ]]; }

for tool in dovecot doveadm fetchmail smtp-source smtp-sink sqlite3 python3; do
    command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin
    command -v "$tool" >/dev/null || { echo "poll.sh: $tool missing: run scripts/install-test-peers.sh --bench" >&2; exit 1; }
done

# /tmp keeps socket paths short; 0755 so that Dovecot's mail user (nobody) can reach its home.
WORK=$(mktemp -d /tmp/pd-poll.XXXXXX)
chmod 755 "$WORK"
PIDS=()

stop_pid() { # pid: SIGTERM, SIGKILL after 10 s; then its children that outlived it (a Dovecot imap process
    # whose client is still in IDLE outlives the master), by pid
    local pid=$1 children child
    children=$(pgrep -P "$pid" || true)
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for child in $children; do kill -TERM "$child" 2>/dev/null || true; done
    for child in $children; do
        for _ in $(seq 50); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$child" 2>/dev/null || true
    done
}
stop_all() { # the last started first: clients before Dovecot
    local index
    for ((index = ${#PIDS[@]} - 1; index >= 0; index--)); do stop_pid "${PIDS[index]}"; done
    PIDS=()
}
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    stop_all
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_until() { # seconds, description, command…: polls every 0.1 s
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq $((seconds * 10))); do
        "$@" && return 0
        sleep 0.1
    done
    echo "poll.sh: gave up after $seconds s waiting for $what" >&2
    return 1
}
port_open() { (: >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
sockets_ready() { # run directory
    [ -S "$1/dovecot-lmtp.sock" ] && port_open "$IMAP_PORT" && port_open "$POP3_PORT"
}

# --- The postdesk binary and whether it has the poller ------------------------------------------------------
POSTDESK=${POSTDESK:-}
if [ -z "$POSTDESK" ]; then
    for candidate in "$ROOT/.build/release/postdesk" "$ROOT/.build/debug/postdesk"; do
        [ -x "$candidate" ] && { POSTDESK=$candidate; break; }
    done
fi
POSTDESK_NOTE=""
POLLER_NOTE=""
if [ -z "$POSTDESK" ] || [ ! -x "$POSTDESK" ]; then
    POSTDESK_NOTE="no postdesk binary (build one with \`swift build -c release\`, or set POSTDESK=…): skipped"
    POLLER_NOTE=$POSTDESK_NOTE
    POSTDESK=""
fi

# --- Dovecot -----------------------------------------------------------------------------------------------------
# A private instance: IMAP and POP3 without TLS on free loopback ports, LMTP on a unix socket to load mail, one user
# whose mail belongs to nobody (65534), so no system user is created. Nothing of /etc/dovecot is read. Dovecot's
# defaults otherwise (mail_fsync = optimized, inotify to wake IDLE sessions).
write_dovecot_config() { # run directory
    local dir=$1
    mkdir -p "$dir/dovecot/run" "$dir/dovecot/state" "$dir/dovecot/mail"
    chown 65534:65534 "$dir/dovecot/mail"
    echo "$USER_NAME:{PLAIN}$PASSWORD:65534:65534::$dir/dovecot/mail/$USER_NAME::" >"$dir/dovecot/users"
    # Dovecot's auth process reads it as group dovecot.
    chown root:dovecot "$dir/dovecot/users"
    chmod 640 "$dir/dovecot/users"
    cat >"$dir/dovecot.conf" <<EOF
instance_name = postdesk-poll-bench
base_dir = $dir/dovecot/run
state_dir = $dir/dovecot/state
protocols = imap pop3 lmtp
listen = 127.0.0.1
log_path = $dir/dovecot/dovecot.log
info_log_path = $dir/dovecot/info.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Ln
mail_location = maildir:~/Maildir
first_valid_uid = 1
mail_max_userip_connections = 50
pop3_uidl_format = %08Xu%08Xv
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $dir/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%n $dir/dovecot/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $POP3_PORT
  }
}
service lmtp {
  unix_listener $dir/dovecot-lmtp.sock {
    mode = 0666
  }
}
EOF
}

# Starts a fresh Dovecot in $RUN with MESSAGES messages (none with "empty") in the user's INBOX, indexed.
start_dovecot() { # [empty]
    IMAP_PORT=$(free_port)
    POP3_PORT=$(free_port)
    write_dovecot_config "$RUN"
    # -F: the master stays in the foreground, so its pid is ours to stop (it stops its children).
    dovecot -F -c "$RUN/dovecot.conf" 2>"$RUN/dovecot.stderr" &
    PIDS+=($!)
    wait_until 30 "Dovecot's listeners" sockets_ready "$RUN" || { cat "$RUN/dovecot.stderr" >&2; return 1; }
    [ "${1:-}" = empty ] && return 0
    timeout "$RUN_TIMEOUT" smtp-source -d -L -s 5 -m "$MESSAGES" -l "$SIZE" -f "$SENDER" -t "$RECIPIENT" \
        "unix:$RUN/dovecot-lmtp.sock" >"$RUN/load.log" 2>&1 || {
        echo "poll.sh: loading the mailbox failed:" >&2
        tail -5 "$RUN/load.log" >&2
        return 1
    }
    # The first access after a bulk load moves new/ to cur/ and builds the index: not the drainer's cost.
    doveadm -c "$RUN/dovecot.conf" fetch -u "$USER_NAME" uid mailbox INBOX >/dev/null || return 1
    local loaded
    loaded=$(doveadm -c "$RUN/dovecot.conf" -f flow mailbox status -u "$USER_NAME" messages INBOX | sed 's/.*messages=//') ||
        return 1
    [ "$loaded" = "$MESSAGES" ] || { echo "poll.sh: $loaded messages loaded, not $MESSAGES" >&2; return 1; }
}

# Messages still in the mailbox: Dovecot unlinks a Maildir file when the message is expunged. No process forked.
mailbox_left() {
    local files
    shopt -s nullglob
    files=("$RUN/dovecot/mail/$USER_NAME/Maildir/cur/"* "$RUN/dovecot/mail/$USER_NAME/Maildir/new/"*)
    shopt -u nullglob
    echo "${#files[@]}"
}
ticket_count() { sqlite3 "file:$RUN/postdesk.db?mode=ro" 'select count(*) from tickets' 2>/dev/null || echo 0; }

# --- Postdesk ------------------------------------------------------------------------------------------------------
# `postdesk serve` with an LMTP socket (fetchmail's destination) and, for the poller scenarios, one mailbox.
write_postdesk_config() { # file, [imap|pop3], [idle true|false]
    local file=$1 protocol=${2:-} idle=${3:-false}
    cat >"$file" <<EOF
log:
  level: $LOG_LEVEL
store:
  path: $RUN/postdesk.db
lmtp:
  socket: $RUN/postdesk-lmtp.sock
  mode: "0666"
smtp:
  listen: ""
queues:
  names: [support]
  support:
    tag: Support
    addresses: ["$RECIPIENT"]
EOF
    [ -n "$protocol" ] || return 0
    local port=$IMAP_PORT interval=1
    [ "$protocol" = pop3 ] && port=$POP3_PORT
    # With IDLE, a long poll interval: a pickup must come from IDLE, not from the next poll.
    [ "$idle" = true ] && interval=300
    printf '%s\n' "$PASSWORD" >"$RUN/mailbox.secret"
    chmod 600 "$RUN/mailbox.secret"
    cat >>"$file" <<EOF
mailboxes:
  - name: bench-$protocol
    protocol: $protocol
    host: 127.0.0.1
    port: $port
    tls: none
    username: $USER_NAME
    auth:
      password_file: $RUN/mailbox.secret
    queue: support
    after_commit: delete
    poll_interval: $interval
EOF
    if [ "$protocol" = imap ]; then
        printf '    folders: [INBOX]\n    idle: %s\n' "$idle" >>"$file"
    fi
}
start_postdesk() { # config file
    "$POSTDESK" serve --config "$1" 2>>"$RUN/postdesk.log" &
    PIDS+=($!)
    local pid=$!
    wait_until 30 "postdesk's LMTP socket" test -S "$RUN/postdesk-lmtp.sock" || {
        tail -20 "$RUN/postdesk.log" >&2
        return 1
    }
    kill -0 "$pid" 2>/dev/null
}

if [ -n "$POSTDESK" ]; then
    RUN=$WORK/check
    mkdir -p "$RUN"
    IMAP_PORT=1143 POP3_PORT=1110 # not contacted: check-config only reads the file
    write_postdesk_config "$RUN/postdesk.yaml" imap
    if ! "$POSTDESK" check-config --config "$RUN/postdesk.yaml" >"$RUN/check.out" 2>&1; then
        POLLER_NOTE="poller not built into this binary: \`postdesk check-config\` rejects \`mailboxes:\` ($(grep -m1 -i mailboxes "$RUN/check.out" | cut -c1-120)); skipped"
    fi
    rm -rf "$RUN"
fi

# --- fetchmail ----------------------------------------------------------------------------------------------------
write_fetchmail_rc() { # protocol (IMAP|POP3), LMTP socket
    local port=$IMAP_PORT
    [ "$1" = POP3 ] && port=$POP3_PORT
    mkdir -p "$RUN/fetchmail"
    # sslproto '': no STARTTLS attempt on the plain port (Postdesk's poller uses tls: none too).
    cat >"$RUN/fetchmail/rc" <<EOF
set no bouncemail
set no syslog
poll 127.0.0.1 service $port protocol $1
  user "$USER_NAME" there with password "$PASSWORD" is "$USER_NAME" here
  sslproto ''
  nokeep fetchall
  lmtp smtphost $2 smtpname $RECIPIENT
EOF
    chmod 600 "$RUN/fetchmail/rc"
}
run_fetchmail() {
    FETCHMAILHOME=$RUN/fetchmail timeout "$RUN_TIMEOUT" fetchmail -f "$RUN/fetchmail/rc" \
        --pidfile "$RUN/fetchmail/fm.pid" -i "$RUN/fetchmail/ids" >"$RUN/fetchmail.log" 2>&1
}

# --- One run -------------------------------------------------------------------------------------------------------
# Sets SECONDS_TAKEN and RATE (msg/s, FAIL, or - when skipped), and CHECK (ok or what was wrong).
now() { date +%s.%N; }
run_once() { # scenario
    local scenario=$1 start end
    RATE="-" SECONDS_TAKEN="-" CHECK="-"
    case $scenario in
    fetchmail-imap | fetchmail-pop3) [ -n "$POSTDESK" ] || return 0 ;;
    postdesk-imap | postdesk-pop3) [ -z "$POLLER_NOTE" ] || return 0 ;;
    esac
    RUN=$WORK/run
    rm -rf "$RUN"
    mkdir -p "$RUN"
    chmod 755 "$RUN"
    if ! start_dovecot; then
        stop_all
        RATE=FAIL CHECK=failed
        return 0
    fi
    local status=0 tickets="-"
    case $scenario in
    fetchmail-imap | fetchmail-pop3)
        local protocol=IMAP
        [ "$scenario" = fetchmail-pop3 ] && protocol=POP3
        write_postdesk_config "$RUN/postdesk.yaml"
        start_postdesk "$RUN/postdesk.yaml" || status=1
        write_fetchmail_rc "$protocol" "$RUN/postdesk-lmtp.sock"
        start=$(now)
        [ $status -eq 0 ] && { run_fetchmail || status=$?; }
        end=$(now)
        tickets=$(ticket_count)
        ;;
    fetchmail-sink)
        # -u: smtp-sink refuses to run as root otherwise.
        smtp-sink -u nobody -L "unix:$RUN/sink.sock" 1000 2>"$RUN/sink.log" &
        PIDS+=($!)
        wait_until 10 "smtp-sink's socket" test -S "$RUN/sink.sock" || status=1
        chmod 666 "$RUN/sink.sock" 2>/dev/null || true
        write_fetchmail_rc IMAP "$RUN/sink.sock"
        start=$(now)
        [ $status -eq 0 ] && { run_fetchmail || status=$?; }
        end=$(now)
        ;;
    postdesk-imap | postdesk-pop3)
        write_postdesk_config "$RUN/postdesk.yaml" "${scenario#postdesk-}" false
        start=$(now)
        start_postdesk "$RUN/postdesk.yaml" || status=1
        # Done when the mailbox is empty (delete comes after commit) and every message is a ticket.
        local deadline=$((SECONDS + RUN_TIMEOUT))
        while [ $status -eq 0 ]; do
            if [ "$(mailbox_left)" -eq 0 ] && [ "$(ticket_count)" -ge "$MESSAGES" ]; then break; fi
            [ $SECONDS -lt $deadline ] || { echo "poll.sh: $scenario timed out" >&2; status=1; }
            sleep 0.05
        done
        end=$(now)
        tickets=$(ticket_count)
        ;;
    esac
    # Dovecot's own count, after the timing.
    local left
    left=$(doveadm -c "$RUN/dovecot.conf" -f flow mailbox status -u "$USER_NAME" messages INBOX 2>/dev/null |
        sed 's/.*messages=//') || true
    stop_all
    if [ $status -ne 0 ]; then
        echo "poll.sh: $scenario failed (status $status); last lines:" >&2
        tail -5 "$RUN/fetchmail.log" "$RUN/postdesk.log" "$RUN/dovecot/dovecot.log" 2>/dev/null >&2 || true
        RATE=FAIL
        CHECK="failed"
    else
        CHECK=ok
        [ "$left" = 0 ] || CHECK="left:${left:-?}"
        [ "$tickets" = "-" ] || [ "$tickets" = "$MESSAGES" ] || CHECK="$CHECK,tickets:$tickets"
        SECONDS_TAKEN=$(python3 -c "print(f'{$end - $start:.2f}')")
        RATE=$(python3 -c "print(f'{$MESSAGES / ($end - $start):.0f}')")
    fi
    rm -rf "$RUN"
}

median() { # values… ("-" = not run, FAIL = failed run)
    printf '%s\n' "$@" | { grep -Ev '^(FAIL|-)$' || true; } | sort -n |
        awk -v failed="$(printf '%s\n' "$@" | grep -c FAIL || true)" '
        { v[NR] = $1 }
        END { if (NR == 0) print (failed ? "FAIL" : "-"); else if (NR % 2) print v[(NR + 1) / 2];
              else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { # a, b
    python3 -c "
import sys
a, b = sys.argv[1:]
try: print(f'{float(a) / float(b):.2f}')
except ValueError: print('-')" "$1" "$2"
}

mkdir -p "$ROOT/bench/out"
OUT=$ROOT/bench/out/poll-$(date -u +%Y%m%dT%H%MZ).txt
{
    echo "# Postdesk poll benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $MESSAGES × $SIZE B messages per run"
    echo "# median of REPS=$REPS run(s) per scenario; delete after commit; dovecot $(dovecot --version | cut -d' ' -f1)," \
        "$(fetchmail --version 2>/dev/null | head -1 | cut -c1-40)"
    echo "# postdesk: ${POSTDESK:-none} ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') checkout), log.level $LOG_LEVEL"
    [ -z "$POSTDESK_NOTE" ] || echo "# fetchmail-imap, fetchmail-pop3: $POSTDESK_NOTE"
    [ -z "$POLLER_NOTE" ] || echo "# postdesk-imap, postdesk-pop3, IDLE: $POLLER_NOTE"
} | tee "$OUT"
FORMAT='%-16s %9s %8s %s\n'
# shellcheck disable=SC2059 # the format is ours
printf "$FORMAT" scenario seconds msg/s "checks (every run)" | tee -a "$OUT"

declare -A MEDIAN_RATE
status=0
for scenario in $SCENARIOS; do
    rates=() times=() checks=()
    for _ in $(seq "$REPS"); do
        run_once "$scenario"
        rates+=("$RATE")
        times+=("$SECONDS_TAKEN")
        checks+=("$CHECK")
    done
    MEDIAN_RATE[$scenario]=$(median "${rates[@]}")
    check=$(printf '%s\n' "${checks[@]}" | sort -u | paste -sd' ')
    [[ " ${checks[*]} " == *" ok "* ]] || [ "$check" = "-" ] || status=1
    [[ "$check" =~ (left|tickets|failed) ]] && status=1
    # shellcheck disable=SC2059
    printf "$FORMAT" "$scenario" "$(median "${times[@]}")" "${MEDIAN_RATE[$scenario]}" "$check" | tee -a "$OUT"
done
{
    echo "# checks: ok = the mailbox was empty after the run and (with Postdesk) the store had one ticket per message"
    echo "postdesk-imap / fetchmail-imap (→ postdesk): $(ratio "${MEDIAN_RATE[postdesk-imap]:--}" "${MEDIAN_RATE[fetchmail-imap]:--}")"
    echo "postdesk-pop3 / fetchmail-pop3 (→ postdesk): $(ratio "${MEDIAN_RATE[postdesk-pop3]:--}" "${MEDIAN_RATE[fetchmail-pop3]:--}")"
    echo "postdesk-imap / fetchmail-sink (fetchmail's ceiling): $(ratio "${MEDIAN_RATE[postdesk-imap]:--}" "${MEDIAN_RATE[fetchmail-sink]:--}")"
} | tee -a "$OUT"

# --- IDLE latency -------------------------------------------------------------------------------------------------
if [ "$IDLE_MESSAGES" -gt 0 ]; then
    if [ -n "$POLLER_NOTE" ]; then
        echo "IDLE: $POLLER_NOTE" | tee -a "$OUT"
    else
        RUN=$WORK/idle
        mkdir -p "$RUN"
        chmod 755 "$RUN"
        idle_result=""
        if start_dovecot empty; then
            write_postdesk_config "$RUN/postdesk.yaml" imap true
            if start_postdesk "$RUN/postdesk.yaml" &&
                wait_until 30 "the poller's IMAP session" \
                    bash -c "doveadm -c '$RUN/dovecot.conf' who 2>/dev/null | grep -q '^$USER_NAME .*imap'"; then
                idle_result=$(timeout "$RUN_TIMEOUT" python3 "$ROOT/bench/idle_latency.py" "$RUN/dovecot-lmtp.sock" \
                    "$RECIPIENT" "$RUN/postdesk.db" "$IDLE_MESSAGES" --size "$SIZE" 2>"$RUN/idle.err") || {
                    cat "$RUN/idle.err" >&2
                    idle_result=""
                }
            fi
        fi
        stop_all
        if [ -n "$idle_result" ]; then
            read -r p50 p99 max missed <<<"$idle_result"
            echo "IDLE: $IDLE_MESSAGES messages one at a time, delivery start → committed ticket:" \
                "p50 $p50 ms, p99 $p99 ms, max $max ms, not committed within 30 s: $missed" | tee -a "$OUT"
            [ "$missed" = 0 ] || status=1
        else
            echo "IDLE: FAILED (see above; postdesk log tail follows)" | tee -a "$OUT"
            tail -10 "$RUN/postdesk.log" >&2 2>/dev/null || true
            status=1
        fi
        rm -rf "$RUN"
    fi
fi
echo "results written to $OUT" >&2
exit $status
