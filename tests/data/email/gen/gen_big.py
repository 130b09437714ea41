#!/usr/bin/env python3
"""Make the two big corpus messages at test time (never committed).

many_recipients.eml: an Outlook-shaped announcement to 300 To and 200 Cc
addresses (with display names, some RFC 2047 encoded), folded the way
Outlook folds long address lists.
big_attachment.eml: a Python email-package message with a 10 MiB PDF-like
attachment, base64 at 76 columns.

Usage: python3 gen_big.py OUT_DIR
"""
import hashlib
import os
import sys
from email.message import EmailMessage
from email import policy


def many_recipients(out):
    to = ",\r\n\t".join('"User %d" <user%d@example.com>' % (i, i) for i in range(300))
    cc = ",\r\n\t".join("=?utf-8?B?5a6i5oi3?= %d <cc%d@example.cn>" % (i, i) for i in range(200))
    text = (
        "From: Big Corp Announcements <announce@example.com>\r\n"
        "To: " + to + "\r\n"
        "CC: " + cc + "\r\n"
        "Subject: Quarterly update to all partners\r\n"
        "Thread-Topic: Quarterly update to all partners\r\n"
        "Date: Mon, 1 Apr 2024 09:00:00 +0000\r\n"
        "Message-ID: <BY5PR01MB0000many@BY5PR01MB0000.namprd01.prod.outlook.example>\r\n"
        "Content-Type: text/plain; charset=\"us-ascii\"\r\n"
        "Content-Transfer-Encoding: 7bit\r\n"
        "MIME-Version: 1.0\r\n"
        "\r\n"
        "Dear partners, please find our quarterly update below.\r\n"
    )
    with open(os.path.join(out, "many_recipients.eml"), "wb") as f:
        f.write(text.encode("ascii"))


def big_attachment(out):
    block = b"%PDF-1.4\n" + hashlib.sha256(b"warbler").digest() * 64
    data = (block * (10 * 1024 * 1024 // len(block) + 1))[: 10 * 1024 * 1024]
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = "Designer <designer@example.com>"
    msg["To"] = "support@warbler.example"
    msg["Subject"] = "The full catalogue (10 MB)"
    msg["Date"] = "Mon, 01 Apr 2024 10:00:00 +0000"
    msg["Message-ID"] = "<big-attachment@example.com>"
    msg.set_content("The catalogue is attached.\n")
    msg.add_attachment(data, maintype="application", subtype="pdf", filename="catalogue.pdf")
    msg.set_boundary("===============1010101010101010101==")
    with open(os.path.join(out, "big_attachment.eml"), "wb") as f:
        f.write(msg.as_bytes())


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    many_recipients(out)
    big_attachment(out)


if __name__ == "__main__":
    main()
