#!/usr/bin/env python3
"""Writes the test messages (CRLF line ends, as Dovecot's POP3 sends them back) into messages/."""
import os, random

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "messages")
os.makedirs(out, exist_ok=True)

def write(name, lines, tail=b""):
    data = b"".join(l + b"\r\n" for l in lines) + tail
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)

write("1-ascii.eml", [
    b"From: Alice Example <alice@example.org>",
    b"To: support@support.test",
    b"Subject: Printer on fire",
    b"Message-ID: <ascii-1@example.org>",
    b"Date: Sat, 05 Dec 2026 09:00:00 +0000",
    b"",
    b"Hello,",
    b"the printer is on fire.",
])
write("2-non-ascii.eml", [
    "From: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <juergen@example.de>".encode(),
    b"To: support@support.test",
    "Subject: =?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?= und =?UTF-8?B?5pel5pys6Kqe?=".encode(),
    "X-Raw-UTF8: Zoë Ωmega 日本語".encode("utf-8"),
    b"Message-ID: <non-ascii-2@example.de>",
    b"MIME-Version: 1.0",
    b"Content-Type: text/plain; charset=utf-8",
    b"Content-Transfer-Encoding: 8bit",
    b"",
    "Grüße aus Köln — ça va? 日本語のテキスト".encode("utf-8"),
    b".a line that starts with a dot",
    b"..two dots",
    b".",
    b". dot space",
    b"..",
    b"The line above was a lone dot, and the next is empty:",
    b"",
    b"end.",
])
write("3-eight-bit.eml", [
    b"From: latin1@example.fr",
    b"To: support@support.test",
    b"Subject: =?ISO-8859-1?Q?caf=E9?=",
    b"Message-ID: <eight-bit-3@example.fr>",
    b"MIME-Version: 1.0",
    b"Content-Type: text/plain; charset=iso-8859-1",
    b"Content-Transfer-Encoding: 8bit",
    b"",
    b"Caf\xe9 cr\xe8me br\xfbl\xe9e \xff\xfe\x80\x81 control \x01\x7f",
    b".\xe9 dot then 8-bit",
    b"last line",
])
rng = random.Random(13)
big = [b"From: big@example.net", b"To: support@support.test", b"Subject: big 8-bit body",
       b"Message-ID: <big-4@example.net>", b""]
for i in range(3000):
    length = rng.randrange(0, 200)
    line = bytes(rng.choice(b"abcdefghij .\xc3\xa9\xe2\x82\xac\xff\x80") for _ in range(length))
    if i % 7 == 0:
        line = b"." + line
    big.append(line)
write("4-big.eml", big)
