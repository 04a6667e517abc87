#!/usr/bin/env python3
"""Measures how long fdatasync takes on the disk holding DIRECTORY (default: the current one).

Every durable receiver answers a message only after at least one fsync that started after the message
arrived, so with S concurrent sessions no durable receiver can exceed S / latency messages per second on this
disk. Printed as one line: `fdatasync p50 X ms p90 Y ms (N samples)`, plus the bound for --sessions.
Bounded: --samples writes of 16 KiB to a temporary file, removed afterwards.
"""
import argparse
import os
import tempfile
import time

parser = argparse.ArgumentParser()
parser.add_argument("directory", nargs="?", default=".")
parser.add_argument("--samples", type=int, default=200)
parser.add_argument("--sessions", type=int, default=10)
args = parser.parse_args()

block = b"x" * 16384
with tempfile.NamedTemporaryFile(dir=args.directory, prefix="fsync-probe-") as probe:
    latencies = []
    for i in range(args.samples):
        os.pwrite(probe.fileno(), block, (i % 64) * len(block))
        start = time.perf_counter()
        os.fdatasync(probe.fileno())
        latencies.append(time.perf_counter() - start)
latencies.sort()
p50 = latencies[len(latencies) // 2]
p90 = latencies[len(latencies) * 9 // 10]
print(
    f"fdatasync p50 {p50 * 1e3:.2f} ms p90 {p90 * 1e3:.2f} ms ({len(latencies)} samples): "
    f"a durable receiver with {args.sessions} sessions is bound to about {args.sessions / p50:.0f} msg/s here"
)
