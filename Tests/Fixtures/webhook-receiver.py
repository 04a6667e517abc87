#!/usr/bin/env python3
"""A webhook receiver for Postdesk's tests, on a loopback port.

Every POST is checked the Standard Webhooks way (standardwebhooks.com), written independently of Postdesk's
Swift code: the key is the base64 after `whsec_` (else the secret's UTF-8 bytes), the signature is the base64
HMAC-SHA256 of "webhook-id.webhook-timestamp.body", the timestamp must be within 5 minutes. Each request is
appended to DIR/received.jsonl (id, timestamp, verified, problem, status answered, body). The answer is chosen
by DIR/mode, read per request: "ok" (204, the default), "500", or "hang" (logged with status 0, then no answer
for 120 s: a request in flight). A bad signature is answered 401.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import signal
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def key_from_secret(secret):
    secret = secret.strip()
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[len("whsec_"):])
    return secret.encode("utf-8")


def problem_with(key, headers, body):
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and timestamp and signatures):
        return "missing webhook headers"
    if abs(time.time() - int(timestamp)) > 300:
        return "timestamp outside the tolerance"
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return None
    return "signature mismatch"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--secret-file", required=True)
    args = parser.parse_args()
    with open(args.secret_file) as handle:
        key = key_from_secret(handle.read())
    log_path = os.path.join(args.dir, "received.jsonl")
    mode_path = os.path.join(args.dir, "mode")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            try:
                with open(mode_path) as handle:
                    mode = handle.read().strip()
            except FileNotFoundError:
                mode = "ok"
            problem = problem_with(key, self.headers, body)
            status = 401 if problem else (500 if mode == "500" else 0 if mode == "hang" else 204)
            record = {
                "id": self.headers.get("webhook-id"),
                "timestamp": self.headers.get("webhook-timestamp"),
                "verified": problem is None,
                "problem": problem,
                "status": status,
                "body": body.decode("utf-8"),
            }
            with open(log_path, "a", encoding="utf-8") as log:
                log.write(json.dumps(record, ensure_ascii=False) + "\n")
            if status == 0:
                time.sleep(120)
                return
            answer = b"receiver failing" if status == 500 else (problem or "").encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            if answer:
                self.wfile.write(answer)

        def log_message(self, *args):
            pass

    # The test process may have SIGTERM ignored, and an ignored signal stays ignored across exec: stop on it.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    port_file = os.path.join(args.dir, "port")
    with open(port_file + ".tmp", "w") as handle:
        handle.write(str(server.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
