#!/usr/bin/env python3
"""Records real IMAP server bytes for the IMAPProtocol tests.

Usage: capture-transcripts.py PORT OUTDIR [sessions|replay]
  (a private Dovecot, see RECIPES.md section 3, with namespace inbox { separator = / } and two passwd-file users:
   bench / benchpw and umlaut / `pässwort 1"\` (UTF-8); both mailboxes empty at the start)
sessions (default): the hand-written sessions below, as user bench.
replay: the commands IMAPCommandEncoder wrote (encoder-session.json, see EncoderSessionTests), as user umlaut,
  segment by segment: the next segment is sent after the server's `+`, IDLE is ended with DONE after its `+`.
Writes NAME.server (exactly the bytes the server sent) and NAME.client (what was sent) for each session.
"""
import json
import base64
import socket
import sys
import time

PORT = int(sys.argv[1])
OUT = sys.argv[2]
MODE = sys.argv[3] if len(sys.argv) > 3 else "sessions"


def mutf7(name):
    """RFC 3501 5.1.3 modified UTF-7 (for creating the test folders)."""
    out, pending = [], []

    def flush():
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


class Session:
    def __init__(self, name):
        self.name = name
        self.sock = socket.create_connection(("127.0.0.1", PORT))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server = bytearray()
        self.client = bytearray()
        self.pending = bytearray()
        self.tag = 0
        self.read_line()  # greeting

    def recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("server closed")
        self.server += data
        self.pending += data

    def read_line(self):
        """One response line with its literals; returns the bytes."""
        line = bytearray()
        while True:
            while b"\r\n" not in self.pending:
                self.recv()
            end = self.pending.index(b"\r\n") + 2
            part = bytes(self.pending[:end])
            del self.pending[:end]
            line += part
            if part.endswith(b"}\r\n") and b"{" in part:
                size = int(part[part.rindex(b"{") + 1 : -3].rstrip(b"+"))
                while len(self.pending) < size:
                    self.recv()
                line += self.pending[:size]
                del self.pending[:size]
                continue
            return bytes(line)

    def send(self, data):
        self.client += data
        self.sock.sendall(data)

    def command(self, text, literals=(), sync=False):
        """Sends `TAG text`; `text` holds {} placeholders for literals; waits for the tagged reply."""
        self.tag += 1
        tag = b"a%d" % self.tag
        parts = text.encode().split(b"{}")
        self.send(tag + b" " + parts[0])
        for literal, rest in zip(literals, parts[1:]):
            if sync:
                self.send(b"{%d}\r\n" % len(literal))
                while not self.read_line().startswith(b"+"):
                    pass
                self.send(literal + rest)
            else:
                self.send(b"{%d+}\r\n" % len(literal) + literal + rest)
        self.send(b"\r\n")
        while True:
            line = self.read_line()
            if line.startswith(tag + b" "):
                return line

    def close(self):
        try:
            self.command("LOGOUT")
        except EOFError:
            pass
        try:
            while True:
                self.recv()
        except (EOFError, OSError):
            pass
        self.sock.close()
        with open(f"{OUT}/{self.name}.server", "wb") as f:
            f.write(self.server)
        with open(f"{OUT}/{self.name}.client", "wb") as f:
            f.write(self.client)


def crlf(text):
    return text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


MESSAGES = [
    crlf(b"From: Alice <alice@example.test>\nTo: support@example.test\nSubject: Printer broken\n"
         b"Message-ID: <m1@example.test>\nDate: Sat, 05 Dec 2026 08:00:00 +0000\n\nThe printer on floor 2 is broken.\n"),
    crlf("From: Jürgen Müller <juergen@example.test>\nTo: support@example.test\n"
         "Subject: Grüße aus Köln – Drucker kaputt\nMessage-ID: <m2@example.test>\nMIME-Version: 1.0\n"
         "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
         "Der Drucker im 2. Stock druckt nur noch Kästchen: ☐☐☐.\nViele Grüße\nJürgen 😀\n".encode()),
    crlf(b"From: =?UTF-8?B?5bGx55Sw5aSq6YOO?= <yamada@example.test>\nTo: support@example.test\n"
         b"Subject: =?UTF-8?B?5Yem55CG5riI44G/?= =?ISO-8859-1?Q?=C4rger_mit_dem_Drucker?=\n"
         b"Message-ID: <m3@example.test>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\n"
         b"Content-Transfer-Encoding: 8bit\n\n\xc4rger mit dem Drucker, sch\xf6ne Gr\xfc\xdfe.\n"),
]
# A larger multipart message: many literal chunks when fed in pieces.
attachment = base64.encodebytes(bytes((i * 7 + 3) % 256 for i in range(150_000)))
MESSAGES.append(crlf(
    b"From: Big Sender <big@example.test>\nTo: support@example.test\nSubject: Logs attached\n"
    b"Message-ID: <m4@example.test>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n"
    b"--b1\nContent-Type: text/plain; charset=utf-8\n\nSee the attached log, caf\xc3\xa9.\n"
    b"--b1\nContent-Type: application/octet-stream; name=\"log.bin\"\nContent-Transfer-Encoding: base64\n\n"
    + attachment + b"--b1--\n"))



def replay():
    """Appends the messages for user umlaut, then replays encoder-session.json."""
    setup = Session("encoder-setup")
    setup.command("LOGIN umlaut {}", ["pässwort 1\"\\".encode()])
    for m in MESSAGES:
        setup.command("APPEND INBOX {}", [m])
    setup.close()
    import os
    os.remove(f"{OUT}/encoder-setup.server")
    os.remove(f"{OUT}/encoder-setup.client")
    with open(f"{OUT}/encoder-session.json") as f:
        sessions = json.load(f)
    for session in sessions:
        s = Session(session["name"])
        for command in session["commands"]:
            tag = command["tag"].encode()
            segments = [segment.encode() for segment in command["segments"]]
            s.send(segments[0])
            failed = False
            for segment in segments[1:]:
                while True:
                    line = s.read_line()
                    if line.startswith(b"+"):
                        break
                    if line.startswith(tag + b" "):
                        failed = True
                        break
                if failed:
                    break
                s.send(segment)
            if failed:
                continue
            if command["idle"]:
                while not s.read_line().startswith(b"+"):
                    pass
                s.send(b"DONE\r\n")
            while True:
                line = s.read_line()
                if line.startswith(tag + b" "):
                    break
        try:
            while True:
                s.recv()
        except (EOFError, OSError):
            pass
        s.sock.close()
        with open(f"{OUT}/{s.name}.server", "wb") as f:
            f.write(s.server)
        with open(f"{OUT}/{s.name}.client", "wb") as f:
            f.write(s.client)
    print("replayed")


def capture_sessions():
    with open(f"{OUT}/messages.bin", "wb") as f:
        for m in MESSAGES:
            f.write(b"%d\n" % len(m) + m)

    FOLDER1 = mutf7("Erledigt/Überprüft")
    FOLDER2 = mutf7("処理済み")

    # 1. Setup: folders and messages (APPEND with literals, LITERAL+ and synchronizing).
    s = Session("setup-append")
    s.command("LOGIN bench benchpw")
    s.command(f"CREATE \"{FOLDER1}\"")
    s.command(f"CREATE \"{FOLDER2}\"")
    s.command("CREATE Processed")
    for i, m in enumerate(MESSAGES):
        s.command("APPEND INBOX {}", [m], sync=(i % 2 == 1))
    s.close()

    # 2. The poller's session: capabilities, login, list, status, select, search, fetch, store, copy, move, expunge.
    s = Session("poll-session")
    s.command("CAPABILITY")
    s.command("LOGIN {} {}", [b"bench", b"benchpw"], sync=True)
    s.command("ENABLE CONDSTORE")
    s.command("LIST \"\" \"*\"")
    s.command(f"STATUS \"{FOLDER2}\" (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)")
    s.command("STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN RECENT)")
    s.command("SELECT INBOX")
    s.command("UID SEARCH ALL")
    s.command("UID SEARCH UID 2:*")
    s.command("UID FETCH 1:* (UID RFC822.SIZE)")
    s.command("UID FETCH 1:* (FLAGS INTERNALDATE)")
    s.command("UID FETCH 1:4 (UID RFC822.SIZE BODY.PEEK[])")
    s.command("UID FETCH 2 (ENVELOPE BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])")
    s.command("UID FETCH 3 (BODYSTRUCTURE)")
    s.command("UID FETCH 1 (BODY.PEEK[]<0.20>)")
    s.command("UID SEARCH RETURN (MIN MAX COUNT ALL) ALL")
    s.command("UID FETCH 3 (PREVIEW BINARY.PEEK[1] BINARY.SIZE[1])")
    s.command("ID NIL")
    s.command("NAMESPACE")
    s.command("UID STORE 1 +FLAGS.SILENT (\\Seen)")
    s.command("UID STORE 2 +FLAGS (\\Seen)")
    s.command(f"UID COPY 1 \"{FOLDER1}\"")
    s.command("UID COPY 1 Missing")
    s.command(f"UID MOVE 2 \"{FOLDER2}\"")
    s.command("UID STORE 1 +FLAGS.SILENT (\\Deleted)")
    s.command("UID EXPUNGE 1")
    s.command("NOOP")
    s.command(f"EXAMINE \"{FOLDER2}\"")
    s.command(f"SELECT \"{FOLDER1}\"")
    s.command("UID FETCH 1 (BODY.PEEK[] RFC822.SIZE)")
    s.command("SELECT Nonexistent")
    s.command("BOGUS")
    s.close()

    # 3. AUTHENTICATE PLAIN: with SASL-IR, without (continuation), failing, cancelled.
    s = Session("authenticate")
    s.command("AUTHENTICATE PLAIN " + base64.b64encode(b"\0bench\0wrong").decode())
    s.tag += 1
    s.send(b"a%d AUTHENTICATE PLAIN\r\n" % s.tag)
    s.read_line()
    s.send(b"*\r\n")
    while not s.read_line().startswith(b"a%d " % s.tag):
        pass
    s.tag += 1
    s.send(b"a%d AUTHENTICATE PLAIN\r\n" % s.tag)
    s.read_line()
    s.send(base64.b64encode(b"\0bench\0benchpw") + b"\r\n")
    while not s.read_line().startswith(b"a%d " % s.tag):
        pass
    s.close()

    s = Session("login-failure")
    s.command("LOGIN bench wrongpw")
    s.command("AUTHENTICATE PLAIN " + base64.b64encode(b"\0bench\0benchpw").decode())
    s.close()

    # 4. IDLE: another session appends while this one idles.
    s = Session("idle")
    s.command("LOGIN bench benchpw")
    s.command("SELECT INBOX")
    s.tag += 1
    idle_tag = b"a%d" % s.tag
    s.send(idle_tag + b" IDLE\r\n")
    assert s.read_line().startswith(b"+")
    other = Session("idle-appender")
    other.command("LOGIN bench benchpw")
    other.command("APPEND INBOX (\\Seen) {}", [crlf("Subject: während IDLE\n\nneu\n".encode())])
    other.close()
    while b"EXISTS" not in s.read_line():
        pass
    s.send(b"DONE\r\n")
    while not s.read_line().startswith(idle_tag + b" "):
        pass
    s.close()

    # 5. QRESYNC: expunges are reported as VANISHED.
    s = Session("qresync")
    s.command("LOGIN bench benchpw")
    s.command("ENABLE QRESYNC")
    s.command("SELECT INBOX")
    s.command("UID SEARCH ALL")
    s.command("UID STORE 3 +FLAGS.SILENT (\\Deleted)")
    s.command("UID EXPUNGE 3")
    s.close()

    # 6. STARTTLS: only up to the server's go-ahead.
    s = Session("starttls")
    s.tag += 1
    s.send(b"a1 STARTTLS\r\n")
    s.read_line()
    s.sock.close()
    with open(f"{OUT}/starttls.server", "wb") as f:
        f.write(s.server)
    print("done")


if MODE == "replay":
    replay()
else:
    capture_sessions()
