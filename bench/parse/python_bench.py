#!/usr/bin/env python3
"""Python's email package (policy.default) on the same workload, printing the same JSON line as
ParseBench: parse, then read the body text and every attachment's content, as Postdesk does."""
import email, email.policy, json, sys, time

name, seconds, files = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
messages = [open(f, "rb").read() for f in files]

def parse(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    body = msg.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    sizes = [len(part.get_payload(decode=True) or b"") for part in msg.iter_attachments()]
    return len(text) + len(sizes)

checksum = sum(parse(m) for m in messages)
start = time.perf_counter()
rounds = 0
while time.perf_counter() - start < seconds or rounds == 0:
    for m in messages:
        checksum += parse(m)
    rounds += 1
elapsed = time.perf_counter() - start
total = sum(len(m) for m in messages)
print(json.dumps({"parser": "python-email", "workload": name, "messages": len(messages), "bytes": total,
                  "rounds": rounds, "seconds": elapsed, "mb_per_s": rounds * total / 1e6 / elapsed,
                  "msg_per_s": rounds * len(messages) / elapsed,
                  "us_per_msg": elapsed / (rounds * len(messages)) * 1e6, "checksum": checksum},
                 sort_keys=True))
