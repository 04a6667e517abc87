#!/usr/bin/env python3
"""Captures real POP3 transcripts from a private Dovecot (see RECIPES.md §3) for POP3ProtocolTests.

usage: capture.py PORT [oauth]
Sessions 1-8 were captured with `auth_mechanisms = plain login` (the tests check that CAPA and that XOAUTH2 is
refused as unsupported); session 9 with `plain login xoauth2 oauthbearer`. With "oauth", Dovecot must also have the oauth2 passdb (RECIPES.md §6) whose introspection endpoint answers
{"active": true, "username": "bench"} for the token "good-token" and {"active": false} for any other.
For each session writes NAME.server (the server's bytes exactly), NAME.client (what this script sent) and
NAME.kinds (the response kind the client expected for each response, one per line, greeting first).
"""
import base64, os, socket, sys

PORT = int(sys.argv[1])
here = os.path.dirname(os.path.abspath(__file__))

class Session:
    def __init__(self, name):
        self.name = name
        self.sock = socket.create_connection(("127.0.0.1", PORT), timeout=15)
        self.server = bytearray()
        self.client = bytearray()
        self.kinds = []
        self.pending = bytearray()
        self.read("status")

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError(self.name)
        self.server += data
        self.pending += data

    def _line(self):
        while b"\n" not in self.pending:
            self._fill()
        i = self.pending.index(b"\n") + 1
        line = bytes(self.pending[:i]); del self.pending[:i]
        return line

    def read(self, kind):
        self.kinds.append(kind)
        first = self._line()
        if kind in ("capabilityListing", "scanListing", "uniqueIDListing", "messageBody") and first.startswith(b"+OK"):
            while True:
                if self._line() == b".\r\n":
                    break
        return first

    def send(self, line, kind):
        data = line if isinstance(line, bytes) else line.encode()
        data += b"\r\n"
        self.client += data
        self.sock.sendall(data)
        return self.read(kind)

    def close(self):
        self.sock.close()
        assert not self.pending, (self.name, bytes(self.pending))
        for ext, data in (("server", bytes(self.server)), ("client", bytes(self.client)),
                          ("kinds", ("\n".join(self.kinds) + "\n").encode())):
            with open(os.path.join(here, f"{self.name}.{ext}"), "wb") as f:
                f.write(data)

def b64(raw):
    return base64.b64encode(raw).decode()

# 1. USER/PASS, every listing, every message, TOP, errors for bad numbers; nothing deleted (RSET before QUIT).
s = Session("user-pass-retr")
s.send("CAPA", "capabilityListing")
s.send("USER bench", "status")
s.send("PASS benchpw", "status")
s.send("STAT", "status")
s.send("LIST", "scanListing")
s.send("UIDL", "uniqueIDListing")
s.send("LIST 2", "status")
s.send("UIDL 3", "status")
for n in (1, 2, 3, 4):
    s.send(f"RETR {n}", "messageBody")
s.send("TOP 2 0", "messageBody")
s.send("TOP 2 3", "messageBody")
s.send("RETR 99", "messageBody")
s.send("LIST 99", "status")
s.send("UIDL 99", "uniqueIDListing")  # a listing expected, -ERR received: no lines follow
s.send("DELE 1", "status")
s.send("RETR 1", "messageBody")  # deleted: -ERR
s.send("NOOP", "status")
s.send("RSET", "status")
s.send("QUIT", "status")
s.close()

# 2. AUTH PLAIN with an initial response.
s = Session("auth-plain-initial-response")
s.send("CAPA", "capabilityListing")
s.send("AUTH PLAIN " + b64(b"\0bench\0benchpw"), "authenticationStep")
s.send("STAT", "status")
s.send("QUIT", "status")
s.close()

# 3. AUTH PLAIN without one: the server asks with an empty challenge.
s = Session("auth-plain-challenge")
s.send("AUTH PLAIN", "authenticationStep")
s.send(b64(b"\0bench\0benchpw"), "authenticationStep")
s.send("QUIT", "status")
s.close()

# 4. AUTH LOGIN: Username:/Password: prompts.
s = Session("auth-login")
s.send("AUTH LOGIN", "authenticationStep")
s.send(b64(b"bench"), "authenticationStep")
s.send(b64(b"benchpw"), "authenticationStep")
s.send("UIDL", "uniqueIDListing")
s.send("QUIT", "status")
s.close()

# 5. Failures: wrong password (PLAIN and USER/PASS), cancelled AUTH, unknown mechanism.
s = Session("auth-failures")
s.send("AUTH PLAIN " + b64(b"\0bench\0wrong"), "authenticationStep")
s.send("AUTH LOGIN", "authenticationStep")
s.send("*", "authenticationStep")
s.send("AUTH XOAUTH2", "authenticationStep")
s.send("USER bench", "status")
s.send("PASS wrong", "status")
s.send("RETR 1", "messageBody")
s.send("QUIT", "status")
s.close()

# 6. STLS: the server says +OK and waits for the TLS handshake; the capture stops there.
s = Session("stls")
s.send("STLS", "status")
s.close()

# 7. Non-ASCII user name and password (UTF-8) through PLAIN and LOGIN.
s = Session("auth-utf8")
s.send("AUTH PLAIN " + b64("\0jürgen\0pässwörd-日本".encode()), "authenticationStep")
s.send("QUIT", "status")
s.close()
s = Session("auth-login-utf8")
s.send("AUTH LOGIN", "authenticationStep")
s.send(b64("jürgen".encode()), "authenticationStep")
s.send(b64("pässwörd-日本".encode()), "authenticationStep")
s.send("QUIT", "status")
s.close()

# 8. A small session with every response shape (no large message): the seed of the mutation fuzz.
s = Session("fuzz-seed")
s.send("CAPA", "capabilityListing")
s.send("AUTH PLAIN " + b64(b"\0bench\0benchpw"), "authenticationStep")
s.send("STAT", "status")
s.send("LIST", "scanListing")
s.send("UIDL", "uniqueIDListing")
s.send("RETR 2", "messageBody")
s.send("RETR 3", "messageBody")
s.send("TOP 1 1", "messageBody")
s.send("UIDL 1", "status")
s.send("RETR 9", "messageBody")
s.send("QUIT", "status")
s.close()

# 9. XOAUTH2 and OAUTHBEARER: a refused token (the JSON failure challenge and the client's closing answer), then a
#    good one, each with its initial response.
if len(sys.argv) > 2 and sys.argv[2] == "oauth":
    s = Session("auth-oauth")
    s.send("AUTH XOAUTH2 " + b64(b"user=bench\x01auth=Bearer bad-token\x01\x01"), "authenticationStep")
    s.send("", "authenticationStep")
    s.send("AUTH OAUTHBEARER " + b64(b"n,a=bench,\x01host=localhost\x01port=21110\x01auth=Bearer bad-token\x01\x01"),
           "authenticationStep")
    s.send(b64(b"\x01"), "authenticationStep")
    s.send("AUTH XOAUTH2", "authenticationStep")
    s.send(b64(b"user=bench\x01auth=Bearer good-token\x01\x01"), "authenticationStep")
    s.send("QUIT", "status")
    s.close()
