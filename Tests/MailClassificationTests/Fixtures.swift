import Foundation
import MailParser

/// Fixture messages written from the RFCs and from the structure real systems send. Written with LF line
/// ends for readability; `parsed` turns them into CRLF wire format first, as an MTA delivers them.
enum Fixture {
    static func parsed(_ text: String) -> ParsedMessage {
        MessageParser.parse(Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8))
    }

    /// The ticket notification we sent, which the bounces below return. Our Message-ID is in helpdesk.example.
    static let ourMessageID = "T12.A34.f00d@helpdesk.example"

    // MARK: - Bounces and reports

    /// Postfix bounce: multipart/report (RFC 3464) with the original attached as message/rfc822.
    static let postfixBounce = """
        Return-Path: <>
        Received: by mail.helpdesk.example (Postfix) id 4F1C22A0; Mon, 23 Nov 2026 10:00:02 +0000 (UTC)
        Date: Mon, 23 Nov 2026 10:00:02 +0000 (UTC)
        From: MAILER-DAEMON@mail.helpdesk.example (Mail Delivery System)
        Subject: Undelivered Mail Returned to Sender
        To: support@helpdesk.example
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status;
        \tboundary="4F1C22A0.1763892002/mail.helpdesk.example"
        Content-Transfer-Encoding: 8bit
        Message-Id: <20261123100002.4F1C22A0@mail.helpdesk.example>

        This is a MIME-encapsulated message.

        --4F1C22A0.1763892002/mail.helpdesk.example
        Content-Description: Notification
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: 8bit

        This is the mail system at host mail.helpdesk.example.

        I'm sorry to have to inform you that your message could not
        be delivered to one or more recipients. It's attached below.

        <nobody@customer.example>: host mx.customer.example[192.0.2.25] said: 550 5.1.1
            <nobody@customer.example>: Recipient address rejected: User unknown in
            virtual mailbox table (in reply to RCPT TO command)

        --4F1C22A0.1763892002/mail.helpdesk.example
        Content-Description: Delivery report
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.helpdesk.example
        X-Postfix-Queue-ID: 4F1C22A0
        X-Postfix-Sender: rfc822; support@helpdesk.example
        Arrival-Date: Mon, 23 Nov 2026 10:00:01 +0000 (UTC)

        Final-Recipient: rfc822; nobody@customer.example
        Original-Recipient: rfc822;nobody@customer.example
        Action: failed
        Status: 5.1.1
        Remote-MTA: dns; mx.customer.example
        Diagnostic-Code: smtp; 550 5.1.1 <nobody@customer.example>: Recipient address
            rejected: User unknown in virtual mailbox table

        --4F1C22A0.1763892002/mail.helpdesk.example
        Content-Description: Undelivered Message
        Content-Type: message/rfc822
        Content-Transfer-Encoding: 8bit

        Return-Path: <support@helpdesk.example>
        From: Support <support@helpdesk.example>
        To: nobody@customer.example
        Subject: [Support #12] Your printer
        Message-ID: <T12.A34.f00d@helpdesk.example>
        X-Postdesk-Loop: helpdesk-1
        Date: Mon, 23 Nov 2026 10:00:00 +0000

        We are looking into it.

        --4F1C22A0.1763892002/mail.helpdesk.example--
        """

    /// Postfix bounce with only the original's headers (`text/rfc822-headers`, as with `bounce_size_limit`
    /// or DSN RET=HDRS), and two recipients: one failed, one delayed.
    static let postfixHeadersOnlyBounce = """
        Return-Path: <>
        From: MAILER-DAEMON@mail.helpdesk.example (Mail Delivery System)
        Subject: Undelivered Mail Returned to Sender
        To: support@helpdesk.example
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="B1"
        Message-Id: <20261123100003.5A@mail.helpdesk.example>

        --B1
        Content-Type: text/plain

        Your message could not be delivered.

        --B1
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.helpdesk.example

        Final-Recipient: rfc822; gone@customer.example
        Action: failed
        Status: 5.2.1
        Diagnostic-Code: smtp; 550 5.2.1 mailbox disabled

        Final-Recipient: rfc822; slow@other.example
        Action: delayed
        Status: 4.4.1
        Diagnostic-Code: X-Postfix; connect to mx.other.example[198.51.100.7]:25: Connection timed out

        --B1
        Content-Type: text/rfc822-headers

        From: Support <support@helpdesk.example>
        To: gone@customer.example, slow@other.example
        Subject: [Support #12] Your printer
        Message-ID: <T12.A35.beef@helpdesk.example>
        Date: Mon, 23 Nov 2026 10:00:00 +0000

        --B1--
        """

    /// Exim's default bounce: text/plain, `X-Failed-Recipients`, the original quoted as text.
    static let eximBounce = """
        Return-path: <>
        Received: from Debian-exim by mx.example.org with local (Exim 4.96)
        \tid 1tE3Xy-0001Ab-2K
        \tfor support@helpdesk.example; Mon, 23 Nov 2026 10:01:00 +0000
        X-Failed-Recipients: nobody@example.org
        Auto-Submitted: auto-replied
        From: Mail Delivery System <Mailer-Daemon@mx.example.org>
        To: support@helpdesk.example
        Content-Type: text/plain; charset=us-ascii
        Subject: Mail delivery failed: returning message to sender
        Message-Id: <E1tE3Xy-0001Ab-2K@mx.example.org>
        Date: Mon, 23 Nov 2026 10:01:00 +0000

        This message was created automatically by mail delivery software.

        A message that you sent could not be delivered to one or more of its
        recipients. This is a permanent error. The following address(es) failed:

          nobody@example.org
            host mx.example.org [203.0.113.5]
            SMTP error from remote mail server after RCPT TO:<nobody@example.org>:
            550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown

        ------ This is a copy of the message, including all the headers. ------

        Return-path: <support@helpdesk.example>
        From: Support <support@helpdesk.example>
        To: nobody@example.org
        Subject: [Support #7] Re: Login problem
        Message-ID: <T7.A20.c0de@helpdesk.example>
        Date: Mon, 23 Nov 2026 10:00:58 +0000

        Hello, we reset your password.
        """

    /// Exchange Online NDR: multipart/report with a multipart/alternative explanation, the DSN, and the
    /// original attached.
    static let exchangeBounce = """
        From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.onmicrosoft.com>
        To: <support@helpdesk.example>
        Date: Mon, 23 Nov 2026 10:02:00 +0000
        Content-Type: multipart/report; report-type=delivery-status;
        \tboundary="b1a4c6d6-2b1f-4b7e-9d3c-0e1f2a3b4c5d"
        X-MS-Exchange-Message-Is-Ndr:
        Content-Language: en-US
        Message-ID: <8f0e1a2b-3c4d-4e5f-a6b7-c8d9e0f1a2b3@AM0PR01MB1234.eurprd01.prod.exchangelabs.com>
        In-Reply-To: <T9.A50.abcd@helpdesk.example>
        References: <T9.A50.abcd@helpdesk.example>
        Subject: Undeliverable: [Support #9] Password reset
        Auto-Submitted: auto-replied
        MIME-Version: 1.0

        --b1a4c6d6-2b1f-4b7e-9d3c-0e1f2a3b4c5d
        Content-Type: multipart/alternative; differences=Content-Type;
        \tboundary="c2b5d7e7-3c20-4c8f-8e4d-1f203b4c5d6e"

        --c2b5d7e7-3c20-4c8f-8e4d-1f203b4c5d6e
        Content-Type: text/plain; charset="us-ascii"
        Content-Transfer-Encoding: quoted-printable

        Your message to ghost@contoso.com couldn't be delivered.
        ghost wasn't found at contoso.com.

        --c2b5d7e7-3c20-4c8f-8e4d-1f203b4c5d6e
        Content-Type: text/html; charset="us-ascii"
        Content-Transfer-Encoding: quoted-printable

        <html><body><p>Your message to ghost@contoso.com couldn't be delivered.</p></body></html>

        --c2b5d7e7-3c20-4c8f-8e4d-1f203b4c5d6e--

        --b1a4c6d6-2b1f-4b7e-9d3c-0e1f2a3b4c5d
        Content-Type: message/delivery-status

        Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com
        Received-From-MTA: dns;mail.helpdesk.example
        Arrival-Date: Mon, 23 Nov 2026 10:01:58 +0000

        Original-Recipient: rfc822;ghost@contoso.com
        Final-Recipient: rfc822;ghost@contoso.com
        Action: failed
        Status: 5.1.10
        Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient ghost@contoso.com not found by SMTP address lookup

        --b1a4c6d6-2b1f-4b7e-9d3c-0e1f2a3b4c5d
        Content-Type: message/rfc822

        From: Support <support@helpdesk.example>
        To: ghost@contoso.com
        Subject: [Support #9] Password reset
        Message-ID: <T9.A50.abcd@helpdesk.example>
        Date: Mon, 23 Nov 2026 10:01:57 +0000

        Your password was reset.

        --b1a4c6d6-2b1f-4b7e-9d3c-0e1f2a3b4c5d--
        """

    /// Gmail bounce: "Mail Delivery Subsystem", `X-Original-Message-ID` in the per-message DSN fields,
    /// the original's headers attached.
    static let gmailBounce = """
        Return-Path: <>
        Received: by 2002:a05:6a10:1234:0:0:0:0 with SMTP id abc; Mon, 23 Nov 2026 02:03:00 -0800 (PST)
        From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
        To: support@helpdesk.example
        Auto-Submitted: auto-replied
        Subject: Delivery Status Notification (Failure)
        References: <T5.A11.9999@helpdesk.example>
        In-Reply-To: <T5.A11.9999@helpdesk.example>
        X-Failed-Recipients: no.such.user@gmail.com
        Message-ID: <63a1b2c3.050a0220.1a2b.3c4d.GMR@mx.google.com>
        Date: Mon, 23 Nov 2026 02:03:00 -0800 (PST)
        MIME-Version: 1.0
        Content-Type: multipart/report; boundary="000000000000deadbeef"; report-type=delivery-status

        --000000000000deadbeef
        Content-Type: multipart/related; boundary="000000000000cafebabe"

        --000000000000cafebabe
        Content-Type: multipart/alternative; boundary="000000000000f00dfeed"

        --000000000000f00dfeed
        Content-Type: text/plain; charset="UTF-8"

        ** Address not found **

        Your message wasn't delivered to no.such.user@gmail.com because the address couldn't be found, or is unable to receive mail.

        --000000000000f00dfeed--
        --000000000000cafebabe--
        --000000000000deadbeef
        Content-Type: message/delivery-status

        Reporting-MTA: dns; googlemail.com
        Received-From-MTA: dns; support@helpdesk.example
        Arrival-Date: Mon, 23 Nov 2026 02:02:59 -0800 (PST)
        X-Original-Message-ID: <T5.A11.9999@helpdesk.example>

        Final-Recipient: rfc822; no.such.user@gmail.com
        Action: failed
        Status: 5.1.1
        Remote-MTA: dns; gmail-smtp-in.l.google.com. (2a00:1450:4013:c00::1a, the server for the domain gmail.com.)
        Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try
         550-5.1.1 double-checking the recipient's email address for typos or
         550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser
        Last-Attempt-Date: Mon, 23 Nov 2026 02:03:00 -0800 (PST)

        --000000000000deadbeef
        Content-Type: text/rfc822-headers

        From: Support <support@helpdesk.example>
        To: no.such.user@gmail.com
        Subject: [Support #5] Your order
        Message-ID: <T5.A11.9999@helpdesk.example>
        Date: Mon, 23 Nov 2026 10:02:58 +0000

        --000000000000deadbeef--
        """

    /// Gmail delay warning: a DSN whose only recipient is `delayed`.
    static let gmailDelay = """
        Return-Path: <>
        From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
        To: support@helpdesk.example
        Subject: Delivery Status Notification (Delay)
        Message-ID: <delay.1@mx.google.com>
        MIME-Version: 1.0
        Content-Type: multipart/report; boundary="D"; report-type=delivery-status

        --D
        Content-Type: text/plain; charset="UTF-8"

        ** Message not delivered yet **

        --D
        Content-Type: message/delivery-status

        Reporting-MTA: dns; googlemail.com

        Final-Recipient: rfc822; slow@far.example
        Action: delayed
        Status: 4.4.1
        Diagnostic-Code: smtp; 421 4.4.1 try again later
        Will-Retry-Until: Wed, 25 Nov 2026 02:03:00 -0800 (PST)

        --D
        Content-Type: message/rfc822

        From: Support <support@helpdesk.example>
        To: slow@far.example
        Subject: [Support #6] Update
        Message-ID: <T6.A12.aaaa@helpdesk.example>

        Hello.

        --D--
        """

    /// RFC 5965 ARF abuse report (the structure of the RFC's example and of Yahoo/AOL feedback loops).
    static let arfReport = """
        From: <abusedesk@example.com>
        Date: Thu, 8 Mar 2026 14:00:00 EDT
        Subject: FW: Earn money
        To: <abuse@helpdesk.example>
        MIME-Version: 1.0
        Message-ID: <arf.1@example.com>
        Content-Type: multipart/report; report-type=feedback-report;
        \tboundary="part1_13d.2e68ed54_boundary"

        --part1_13d.2e68ed54_boundary
        Content-Type: text/plain; charset="US-ASCII"
        Content-Transfer-Encoding: 7bit

        This is an email abuse report for an email message received from IP
        192.0.2.1 on Thu, 8 Mar 2026 14:00:00 EDT.
        For more information about this format please see
        https://www.rfc-editor.org/rfc/rfc5965.

        --part1_13d.2e68ed54_boundary
        Content-Type: message/feedback-report

        Feedback-Type: abuse
        User-Agent: SomeGenerator/1.0
        Version: 1
        Original-Mail-From: <support@helpdesk.example>
        Original-Rcpt-To: <user@example.com>
        Arrival-Date: Thu, 8 Mar 2026 14:00:00 EDT
        Reporting-MTA: dns; mail.example.com
        Source-IP: 192.0.2.1
        Authentication-Results: mail.example.com; spf=pass smtp.mail=support@helpdesk.example
        Reported-Domain: helpdesk.example

        --part1_13d.2e68ed54_boundary
        Content-Type: message/rfc822
        Content-Disposition: inline

        From: <support@helpdesk.example>
        Received: from mailserver.example.net (mailserver.example.net [192.0.2.1]) by example.com
        To: <user@example.com>
        Subject: [Support #3] Earn money
        MIME-Version: 1.0
        Content-type: text/plain
        Message-ID: <T3.A8.1234@helpdesk.example>
        Date: Thu, 02 Sep 2026 12:30:00 -0400

        Spam Spam Spam

        --part1_13d.2e68ed54_boundary--
        """

    /// RFC 8098 read receipt as Outlook/Thunderbird send it.
    static let readReceipt = """
        From: Alice Customer <alice@customer.example>
        To: support@helpdesk.example
        Subject: Read: [Support #12] Your printer
        Date: Mon, 23 Nov 2026 11:00:00 +0000
        Message-ID: <mdn.42@customer.example>
        References: <T12.A34.f00d@helpdesk.example>
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=disposition-notification;
        \tboundary="RAA14128.773615765/customer.example"

        --RAA14128.773615765/customer.example
        Content-Type: text/plain; charset=utf-8

        Your message was displayed on Mon, 23 Nov 2026 11:00:00 +0000.

        --RAA14128.773615765/customer.example
        Content-Type: message/disposition-notification

        Reporting-UA: customer.example; Thunderbird 128.0
        Original-Recipient: rfc822;alice@customer.example
        Final-Recipient: rfc822;alice@customer.example
        Original-Message-ID: <T12.A34.f00d@helpdesk.example>
        Disposition: manual-action/MDN-sent-manually; displayed

        --RAA14128.773615765/customer.example--
        """

    /// qmail's "failure notice": no DSN, no X-Failed-Recipients.
    static let qmailBounce = """
        Return-Path: <>
        From: MAILER-DAEMON@qmail.example.net
        To: support@helpdesk.example
        Subject: failure notice
        Date: 23 Nov 2026 10:05:00 -0000
        Message-ID: <20261123100500.1234.qmail@qmail.example.net>

        Hi. This is the qmail-send program at qmail.example.net.
        I'm afraid I wasn't able to deliver your message to the following addresses.
        This is a permanent error; I've given up. Sorry it didn't work out.

        <nobody@qmail.example.net>:
        Sorry, no mailbox here by that name. (#5.1.1)

        --- Below this line is a copy of the message.

        Return-Path: <support@helpdesk.example>
        From: Support <support@helpdesk.example>
        Message-ID: <T8.A9.7777@helpdesk.example>
        Subject: [Support #8] Hello

        Hello.
        """

    /// A postmaster bounce with the null sender and a bounce subject, plain text, original Message-ID only in
    /// In-Reply-To.
    static let postmasterBounce = """
        Return-Path: <>
        From: postmaster@old.example
        To: support@helpdesk.example
        Subject: Returned mail: see transcript for details
        In-Reply-To: <T4.A4.4444@helpdesk.example>
        Message-ID: <pm.1@old.example>

        The original message was received but could not be delivered.
        """

    // MARK: - Automated mail

    /// Exchange/Outlook out-of-office.
    static let exchangeOutOfOffice = """
        From: Bob Builder <bob@contoso.com>
        To: Support <support@helpdesk.example>
        Subject: Automatic reply: [Support #12] Your printer
        Thread-Topic: [Support #12] Your printer
        Thread-Index: AQHZ1234567890abcdef==
        Date: Mon, 23 Nov 2026 10:10:00 +0000
        Message-ID: <oof.1@AM0PR01MB1234.eurprd01.prod.outlook.com>
        In-Reply-To: <T12.A34.f00d@helpdesk.example>
        References: <T12.A34.f00d@helpdesk.example>
        Auto-Submitted: auto-generated
        X-MS-Has-Attach:
        X-Auto-Response-Suppress: All
        X-MS-Exchange-Organization-SCL: -1
        X-MS-TNEF-Correlator:
        Content-Type: text/plain; charset="us-ascii"
        MIME-Version: 1.0

        I am out of the office until Monday.
        """

    /// Gmail vacation responder.
    static let gmailVacation = """
        From: Carol <carol@gmail.com>
        To: support@helpdesk.example
        Subject: Re: [Support #12] Your printer
        Date: Mon, 23 Nov 2026 10:11:00 +0000
        Message-ID: <CAJvacation123@mail.gmail.com>
        In-Reply-To: <T12.A34.f00d@helpdesk.example>
        References: <T12.A34.f00d@helpdesk.example>
        Auto-Submitted: auto-replied
        Precedence: bulk
        X-Autoreply: yes
        Content-Type: text/plain; charset="UTF-8"

        I'm on vacation with limited access to email.
        """

    /// A mailing-list post (Mailman 3).
    static let mailingList = """
        From: Dave <dave@lists.example.org>
        To: users@lists.example.org
        Cc: support@helpdesk.example
        Subject: [users] Anyone seen this printer error?
        Date: Mon, 23 Nov 2026 10:12:00 +0000
        Message-ID: <list.1@lists.example.org>
        Precedence: list
        List-Id: Users list <users.lists.example.org>
        List-Unsubscribe: <mailto:users-leave@lists.example.org>
        List-Post: <mailto:users@lists.example.org>
        Content-Type: text/plain

        Printer says PC LOAD LETTER.
        """

    /// A newsletter.
    static let newsletter = """
        From: Shop News <news@shop.example>
        To: support@helpdesk.example
        Subject: Our autumn offers
        Message-ID: <news.1@shop.example>
        Precedence: bulk
        List-Unsubscribe: <https://shop.example/unsubscribe?u=1>, <mailto:unsub@shop.example>
        List-Unsubscribe-Post: List-Unsubscribe=One-Click
        Content-Type: text/plain

        Buy now.
        """

    /// An Exchange inbox rule forwarding/replying.
    static let exchangeInboxRule = """
        From: Erin <erin@contoso.com>
        To: support@helpdesk.example
        Subject: FW: invoice
        Message-ID: <rule.1@contoso.com>
        X-MS-Exchange-Inbox-Rules-Loop: erin@contoso.com
        Content-Type: text/plain

        Forwarded by rule.
        """

    /// A TLS report: a multipart/report that is neither a bounce nor a receipt.
    static let tlsReport = """
        From: noreply-smtp-tls-reporting@google.com
        To: tlsrpt@helpdesk.example
        Subject: Report Domain: helpdesk.example Submitter: google.com Report-ID: <2026.11.22T00.00.00Z+helpdesk.example@google.com>
        Message-ID: <tlsrpt.1@google.com>
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type="tlsrpt"; boundary="T"

        --T
        Content-Type: text/plain

        This is an aggregate TLS report from google.com

        --T
        Content-Type: application/tlsrpt+gzip
        Content-Disposition: attachment; filename="google.com!helpdesk.example!1763769600!1763855999.json.gz"
        Content-Transfer-Encoding: base64

        H4sIAAAAAAAAA6tWKkktLlGyUlAqS8wpTVWqBQBJ8Hb2EQAAAA==

        --T--
        """

    // MARK: - People

    /// An ordinary reply from Outlook, with In-Reply-To and References.
    static let normalReply = """
        From: Alice Customer <alice@customer.example>
        To: Support <support@helpdesk.example>
        Subject: RE: [Support #12] Your printer
        Date: Mon, 23 Nov 2026 10:20:00 +0000
        Message-ID: <AM0PR01MB9999.reply@customer.example>
        In-Reply-To: <T12.A34.f00d@helpdesk.example>
        References: <T12.A34.f00d@helpdesk.example>
        Thread-Topic: [Support #12] Your printer
        X-Auto-Response-Suppress: DR, RN, NRN
        Content-Type: text/plain; charset="utf-8"
        MIME-Version: 1.0

        Thanks, it works now. The delivery failed once, but that was yesterday.
        """

    /// A person's message that says `Auto-Submitted: no` explicitly (RFC 3834 §5).
    static let humanAutoSubmittedNo = """
        From: Frank <frank@customer.example>
        To: support@helpdesk.example
        Subject: New laptop please
        Message-ID: <human.1@customer.example>
        Auto-Submitted: no
        Content-Type: text/plain

        My laptop is broken.
        """

    /// A person who writes a subject starting like a bounce; not from a mail system, not the null sender.
    static let humanBounceLookalike = """
        From: Grace <grace@customer.example>
        To: support@helpdesk.example
        Subject: Undeliverable: why do my mails to the CFO bounce?
        Message-ID: <human.2@customer.example>
        Content-Type: text/plain

        Every message I send to cfo@customer.example comes back. Help!
        """

    /// A person forwarding a bounce they received, as an attachment: the outer message is not a bounce.
    static let forwardedBounce = """
        From: Heidi <heidi@customer.example>
        To: support@helpdesk.example
        Subject: Fwd: Undelivered Mail Returned to Sender
        Message-ID: <human.3@customer.example>
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="F"

        --F
        Content-Type: text/plain

        Can you explain this bounce?

        --F
        Content-Type: message/rfc822

        \(postfixBounce.replacingOccurrences(of: "4F1C22A0.1763892002/mail.helpdesk.example", with: "INNER"))

        --F--
        """

    /// Spoofed: someone else's loop header value, and a Message-ID that only resembles ours.
    static let foreignLoopHeader = """
        From: Ivan <ivan@customer.example>
        To: support@helpdesk.example
        Subject: Question
        Message-ID: <x.1@helpdesk.example.attacker.test>
        X-Postdesk-Loop: someone-else
        X-Loop: ivan@customer.example
        Content-Type: text/plain

        Hello.
        """

    // MARK: - Own mail and loops

    /// Our own notification coming back verbatim (a customer address forwarding to our queue).
    static let ownNotification = """
        From: Support <support@helpdesk.example>
        To: alice@customer.example
        Subject: [Support #12] Your printer
        Message-ID: <T12.A36.feed@helpdesk.example>
        X-Postdesk-Loop: Helpdesk-1
        Content-Type: text/plain

        We are looking into it.
        """

    /// A message whose only sign of being ours is the Message-ID domain.
    static let ownMessageIDOnly = """
        From: Someone <someone@customer.example>
        To: support@helpdesk.example
        Subject: Hello
        Message-ID: <T1.A1.0000@HelpDesk.Example>
        Content-Type: text/plain

        Hi.
        """

    /// An auto-responder elsewhere that kept our X-Loop.
    static let xLoopOurs = """
        From: Responder <responder@customer.example>
        To: support@helpdesk.example
        Subject: Re: Hello
        Message-ID: <loop.1@customer.example>
        X-Loop: <support@helpdesk.example>
        Content-Type: text/plain

        Hi.
        """

    /// One queue mailing another.
    static let queueToQueue = """
        From: Billing <billing+escalation@helpdesk.example>
        To: support@helpdesk.example
        Subject: Escalation
        Message-ID: <q2q.1@customer.example>
        Content-Type: text/plain

        Hi.
        """

    // MARK: - Attachments

    /// A message with a signature logo, Outlook's image00N files, an S/MIME signature and a real file.
    static let withAttachments = """
        From: Alice Customer <alice@customer.example>
        To: support@helpdesk.example
        Subject: Screenshots
        Message-ID: <att.1@customer.example>
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="A"

        --A
        Content-Type: text/plain

        See attached.

        --A
        Content-Type: image/png
        Content-Disposition: inline; filename="Logo.PNG"
        Content-Transfer-Encoding: base64

        iVBORw0KGgo=

        --A
        Content-Type: image/png
        Content-Disposition: attachment; filename="image001.png"
        Content-Transfer-Encoding: base64

        iVBORw0KGgo=

        --A
        Content-Type: application/pkcs7-signature; name="smime.p7s"
        Content-Disposition: attachment; filename="smime.p7s"
        Content-Transfer-Encoding: base64

        MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAA==

        --A
        Content-Type: application/pdf
        Content-Disposition: attachment; filename="report.pdf"
        Content-Transfer-Encoding: base64

        JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxlcgo8PC9Sb290IDEgMCBSPj4KJSVFT0YK

        --A--
        """
}
