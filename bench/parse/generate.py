#!/usr/bin/env python3
"""Writes the synthetic benchmark messages: a typical 2 KB plain message, a 25 KB reply (quoted
history, HTML alternative) and a 10 MB attachment-heavy message. Deterministic (fixed seed)."""
import base64, os, random, sys, textwrap

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rnd = random.Random(42)
words = ("the printer on floor three is broken again and nobody can print invoices please help "
         "ticket server login password reset urgent customer order delivery invoice thanks regards").split()

def para(n):
    return textwrap.fill(" ".join(rnd.choice(words) for _ in range(n)), 72)

headers = ("Return-Path: <alice@example.com>\r\nReceived: from mx.example.com (mx.example.com [192.0.2.1])\r\n"
           "\tby mail.example.org (Postfix) with ESMTPS id 4Xyz123\r\n\tfor <support@example.org>; "
           "Mon, 2 Jan 2006 15:04:05 +0000 (UTC)\r\nFrom: Alice Example <alice@example.com>\r\n"
           "To: Support <support@example.org>\r\nSubject: {subject}\r\nDate: Mon, 2 Jan 2006 15:04:05 +0000\r\n"
           "Message-ID: <{mid}@example.com>\r\nMIME-Version: 1.0\r\n")

# (a') 2 KB plain message, the daemon's benchmark size.
body = "\r\n".join(para(300).splitlines())[:1500]
plain = headers.format(subject="Printer broken", mid="plain2k") + \
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" + body + "\r\n"
open(os.path.join(out, "plain-2k.eml"), "w", newline="").write(plain)

# (b) 25 KB reply: alternative text+html, quoted history.
def qp(s):
    import quopri
    return quopri.encodestring(s.encode()).decode().replace("\n", "\r\n")

def reply_message(quoted_paragraphs):
    text = para(120) + "\n\nOn Mon, 2 Jan 2006 at 15:04, Bob <bob@example.com> wrote:\n" + \
        "\n".join("> " + l for l in "\n".join(para(80) for _ in range(quoted_paragraphs)).splitlines())
    html = "<html><body><p>" + para(120).replace("\n", " ") + "</p><div class=\"gmail_quote\"><blockquote>" + \
        "".join("<p>" + para(80).replace("\n", " ") + " <a href=\"https://example.com/%d\">link</a></p>" % i
                for i in range(quoted_paragraphs)) + "</blockquote></div></body></html>"
    return headers.format(subject="Re: Printer broken", mid="reply25k") + \
        "In-Reply-To: <plain2k@example.com>\r\nReferences: <plain2k@example.com>\r\n" + \
        "Content-Type: multipart/alternative; boundary=\"=_alt\"\r\n\r\n--=_alt\r\n" + \
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + \
        qp(text) + "\r\n--=_alt\r\nContent-Type: text/html; charset=utf-8\r\n" + \
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + qp(html) + "\r\n--=_alt--\r\n"

quoted = 4
reply = reply_message(quoted)
while len(reply) < 25_000 and quoted < 200:
    quoted += 1
    reply = reply_message(quoted)
open(os.path.join(out, "reply-25k.eml"), "w", newline="").write(reply)

# (c) 10 MB attachment-heavy message: 4 binary attachments, base64, 76-column lines.
parts = []
for i, size in enumerate([4_000_000, 2_500_000, 500_000, 500_000]):
    data = rnd.randbytes(size)
    encoded = base64.encodebytes(data).decode().replace("\n", "\r\n")
    parts.append("--=_mix\r\nContent-Type: application/octet-stream; name=\"file%d.bin\"\r\n"
                 "Content-Disposition: attachment; filename=\"file%d.bin\"\r\n"
                 "Content-Transfer-Encoding: base64\r\n\r\n%s" % (i, i, encoded))
big = headers.format(subject="Scans", mid="big10m") + \
    "Content-Type: multipart/mixed; boundary=\"=_mix\"\r\n\r\n--=_mix\r\nContent-Type: text/plain\r\n\r\n" + \
    "Attached are the scans.\r\n" + "".join(parts) + "--=_mix--\r\n"
open(os.path.join(out, "attachments-10m.eml"), "w", newline="").write(big)
