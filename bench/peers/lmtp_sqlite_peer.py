#!/usr/bin/env python3
"""Reference peer for bench/intake.sh: the same job as Postdesk's intake, written the obvious way
in Python. aiosmtpd speaks LMTP on a unix socket; each message is parsed with the standard
`email` package, then a ticket row and an article row (with the raw message) are inserted and
committed (WAL, one COMMIT per message) before the reply: one reply line per recipient.

usage: lmtp_sqlite_peer.py --socket PATH --db FILE [--synchronous FULL|NORMAL] [--pidfile FILE]
Stops on SIGTERM/SIGINT and removes its socket.
"""
import argparse
import asyncio
import email
import os
import signal
import sqlite3
import sys
import time
from email import policy

from aiosmtpd.lmtp import LMTP

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--socket", required=True, help="unix socket path to listen on")
parser.add_argument("--db", required=True, help="SQLite database file (created)")
parser.add_argument("--synchronous", default="FULL", choices=["FULL", "NORMAL"],
                    help="SQLite synchronous pragma; FULL fsyncs every commit (durable)")
parser.add_argument("--pidfile")
args = parser.parse_args()

db = sqlite3.connect(args.db, isolation_level=None)  # explicit BEGIN/COMMIT
db.execute("PRAGMA journal_mode=WAL")
db.execute(f"PRAGMA synchronous={args.synchronous}")
db.executescript("""
CREATE TABLE IF NOT EXISTS tickets(
  id INTEGER PRIMARY KEY, queue TEXT NOT NULL, subject TEXT, requester TEXT, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS articles(
  id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL REFERENCES tickets(id), message_id TEXT,
  sender TEXT, recipients TEXT, body TEXT, raw BLOB NOT NULL);
""")


def body_text(message):
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        return part.get_content()
    except Exception:  # undecodable charset and the like
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace")


class TicketHandler:
    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        try:
            message = email.message_from_bytes(raw, policy=policy.default)
            subject = str(message.get("subject", "")) or None
            db.execute("BEGIN")
            cursor = db.execute(
                "INSERT INTO tickets(queue, subject, requester, created) VALUES('support', ?, ?, ?)",
                (subject, str(message.get("from", "")), time.time()))
            db.execute(
                "INSERT INTO articles(ticket_id, message_id, sender, recipients, body, raw)"
                " VALUES(?, ?, ?, ?, ?, ?)",
                (cursor.lastrowid, str(message.get("message-id", "")) or None, envelope.mail_from,
                 ",".join(envelope.rcpt_tos), body_text(message), raw))
            db.execute("COMMIT")
            status = "250 2.0.0 Ok: stored"
        except Exception as error:  # a temporary failure makes the MTA retry
            if db.in_transaction:
                db.execute("ROLLBACK")
            print("error:", repr(error), file=sys.stderr, flush=True)
            status = "451 4.3.0 Error: " + type(error).__name__
        # LMTP: one reply per accepted recipient; aiosmtpd sends the string as it is.
        return "\r\n".join([status] * len(envelope.rcpt_tos))


async def main():
    loop = asyncio.get_running_loop()
    try:
        os.unlink(args.socket)
    except FileNotFoundError:
        pass
    server = await loop.create_unix_server(
        lambda: LMTP(TicketHandler(), hostname="python-peer", ident="python-peer"),
        path=args.socket, backlog=1000)
    os.chmod(args.socket, 0o666)
    if args.pidfile:
        with open(args.pidfile, "w") as pidfile:
            pidfile.write(str(os.getpid()))
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()
    db.close()
    try:
        os.unlink(args.socket)
    except FileNotFoundError:
        pass


asyncio.run(main())
