#!/usr/bin/env python3
"""IDLE pickup latency for bench/poll.sh: delivers messages one at a time over LMTP into a Dovecot mailbox that
an IDLE-watching poller drains, and measures, for each, the time from the start of the delivery to the moment
the poller's ticket is committed (visible to a reader of the SQLite store: one more row in `tickets`).

usage: idle_latency.py LMTP_SOCKET RECIPIENT DATABASE COUNT [--size BYTES] [--timeout SECONDS] [--gap SECONDS]
Prints one line: "p50_ms p99_ms max_ms timed_out" (timed_out = messages not committed within --timeout).
The first message is a warm-up (the poller's first IDLE) and is not counted.
"""
import argparse
import smtplib
import sqlite3
import time


def committed(database):
    try:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1)
        try:
            return connection.execute("select count(*) from tickets").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error:
        return 0  # not created yet, or locked for a moment


def message(number, size):
    header = (f"From: IDLE bench <idle@example.test>\r\nTo: bench@support.test\r\n"
              f"Subject: IDLE latency {number}\r\nMessage-ID: <idle-{number}-{time.time_ns()}@bench.test>\r\n\r\n")
    line = "x" * 76 + "\r\n"
    return (header + line * max(1, (size - len(header)) // len(line))).encode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("socket")
    parser.add_argument("recipient")
    parser.add_argument("database")
    parser.add_argument("count", type=int)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--gap", type=float, default=0.05)
    options = parser.parse_args()

    latencies = []
    timed_out = 0
    for number in range(options.count + 1):  # number 0: warm-up
        before = committed(options.database)
        start = time.monotonic()
        with smtplib.LMTP(options.socket) as lmtp:
            lmtp.sendmail("idle@example.test", [options.recipient], message(number, options.size))
        deadline = start + options.timeout
        while committed(options.database) <= before:
            if time.monotonic() > deadline:
                break
            time.sleep(0.002)  # bounded by the deadline above
        else:
            if number > 0:
                latencies.append(time.monotonic() - start)
            time.sleep(options.gap)
            continue
        if number > 0:
            timed_out += 1
        else:
            raise SystemExit("idle_latency.py: the warm-up message was not committed within the timeout")
    if not latencies:
        print(f"- - - {timed_out}")
        return
    latencies.sort()

    def percentile(fraction):
        return latencies[min(len(latencies) - 1, int(fraction * len(latencies)))] * 1000

    print(f"{percentile(0.5):.0f} {percentile(0.99):.0f} {latencies[-1] * 1000:.0f} {timed_out}")


if __name__ == "__main__":
    main()
