#!/usr/bin/env python3
"""Fill a Maildir with N realistic customer e-mails, fast (Python standard library only).

The messages are written straight into the Maildir (tmp/ then rename into new/, as
an MDA does), then Dovecot is asked for the folder status so that it indexes them
before any benchmark runs: 10,000 messages take a few seconds.

The mix (deterministic for a given --seed): plain ASCII questions, UTF-8 bodies
in quoted-printable with RFC 2047 names and subjects, multipart/alternative
text + HTML, replies that quote the previous message (In-Reply-To, References),
and about one in ten with a small base64 attachment.  Every message carries a
Received chain, a DKIM-Signature-like folded header and a unique Message-ID.

Files are stored with LF line ends, as Dovecot stores what LMTP delivers.

As a module:   seed_peers(peers, "support@example.test", 10000)
From a shell:  seed_mailbox.py --maildir DIR --count N [--owner wbmail] [--folder F]
               (without Dovecot: the caller must make Dovecot re-read the folder)
"""
import argparse
import base64
import os
import pwd
import quopri
import random
import socket
import sys
import time
import unicodedata

FIRST = ["Anna", "Ben", "Chloé", "Dmitri", "Elif", "François", "Grace", "Hiro", "Ingrid", "José",
         "Kwame", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Søren", "Tomás"]
LAST = ["Müller", "Smith", "García", "Nakamura", "Okafor", "Dubois", "Kowalski", "Rossi", "Novák",
        "Andersson", "O'Brien", "Jensen", "Yılmaz", "Silva", "Ivanova", "Chen"]
TOPICS = [
    ("Where is my order #{n}?", "my order #{n} was supposed to arrive on {d} but the tracking page "
     "has not changed for three days. Could you check what happened to it?"),
    ("Refund for order {n}", "I returned the parcel last week (return label {n}-R) and have not "
     "received my refund yet. How long does it usually take?"),
    ("Cannot log in to my account", "since yesterday the password reset link says it has expired, "
     "even when I click it right away. My account e-mail is this address."),
    ("Invoice {n} shows the wrong VAT number", "the invoice for order {n} shows our old VAT "
     "number. Could you send a corrected invoice? Our current number is DE{n}77."),
    ("Änderung der Lieferadresse für Bestellung {n}", "bitte liefern Sie die Bestellung {n} an "
     "meine neue Adresse: Hauptstraße 12, 80331 München. Vielen Dank für Ihre Hilfe!"),
    ("Question sur la garantie", "mon appareil acheté le {d} ne s'allume plus. Est-ce que la "
     "garantie couvre ce problème ? Je peux envoyer une photo du numéro de série."),
    ("Product size question", "does the jacket (article {n}) run small? I am usually an M but the "
     "reviews say to order one size up."),
    ("Cancel my subscription", "please cancel my subscription at the end of the current period "
     "and confirm by e-mail. Customer number {n}."),
]
SIGN = ["Best regards", "Thanks", "Kind regards", "Mit freundlichen Grüßen", "Cordialement",
        "Cheers"]
ASCII = str.maketrans("øı", "oi")
FILLER = ("We have been customers for years and are generally very happy with the service. "
          "I tried the FAQ and the chat first but could not find an answer there. ")


def _ascii(name):
    name = unicodedata.normalize("NFKD", name.lower().translate(ASCII))
    return name.encode("ascii", "ignore").decode().replace("'", "")


def _hdr_encode(text):
    """RFC 2047 B-encoding when not ASCII."""
    try:
        text.encode("ascii")
        return text
    except UnicodeEncodeError:
        return "=?UTF-8?B?%s?=" % base64.b64encode(text.encode()).decode()


def _addr(name, email):
    n = _hdr_encode(name)
    if n == name and any(c in name for c in "'.,"):
        n = '"%s"' % name
    return "%s <%s>" % (n, email)


def _fold_b64(data, width=76):
    s = base64.b64encode(data).decode()
    return "\r\n".join(s[i:i + width] for i in range(0, len(s), width))


def make_messages(count, to="support@example.test", seed=1, start=None):
    """Yield (raw_bytes, unix_time) for `count` messages, oldest first."""
    rnd = random.Random(seed)
    start = start or int(time.time()) - count * 60
    host = "mx%d.mail.example.net"
    prev_ids = {}
    for i in range(count):
        t = start + i * 60 + rnd.randrange(60)
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        local = "%s.%s%d" % (_ascii(first), _ascii(last), rnd.randrange(10))
        sender = "%s@customers.example.net" % local
        subj_t, body_t = rnd.choice(TOPICS)
        n = rnd.randrange(100000, 999999)
        d = time.strftime("%d.%m.%Y", time.gmtime(t - 86400 * rnd.randrange(2, 20)))
        subject = subj_t.format(n=n, d=d)
        para = body_t.format(n=n, d=d)
        msgid = "<%d.%d.%s@customers.example.net>" % (t, i, local)
        date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t))
        headers = [
            "Return-Path: <%s>" % sender,
            "Delivered-To: %s" % to,
            "Received: from %s (%s [192.0.2.%d])\r\n\tby mail.example.test (Postfix) with "
            "ESMTPS id %08X\r\n\tfor <%s>; %s" % (host % rnd.randrange(9), host % 1,
                                                 rnd.randrange(1, 254), rnd.getrandbits(32), to,
                                                 date),
            "Received: from [10.0.0.%d] by %s with ESMTPSA; %s" % (
                rnd.randrange(1, 254), host % 2, date),
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=customers.example.net;\r\n"
            "\ts=mail; t=%d; h=from:to:subject:date:message-id;\r\n\tbh=%s;\r\n\tb=%s" % (
                t, base64.b64encode(rnd.randbytes(32)).decode(),
                _fold_b64(rnd.randbytes(128), 70).replace("\r\n", "\r\n\t ")),
            "From: %s" % _addr("%s %s" % (first, last), sender),
            "To: Support <%s>" % to,
            "Date: %s" % date,
            "Message-ID: %s" % msgid,
            "MIME-Version: 1.0",
        ]
        greeting = "Hello,"
        text = "%s\r\n\r\n%s\r\n\r\n%s\r\n\r\n%s,\r\n%s %s\r\n" % (
            greeting, para, FILLER * rnd.randrange(0, 4), rnd.choice(SIGN), first, last)
        # A reply to an earlier message of the same sender: quote it.
        if local in prev_ids and rnd.random() < 0.5:
            old_id, old_subj, old_para = prev_ids[local]
            subject = "Re: " + old_subj
            headers.append("In-Reply-To: %s" % old_id)
            headers.append("References: %s" % old_id)
            text += "\r\nOn an earlier day, Support <%s> wrote:\r\n> %s\r\n> %s\r\n" % (
                to, "Thank you for your message.", old_para[:70])
        prev_ids[local] = (msgid, subject, para)
        headers.append("Subject: %s" % _hdr_encode(subject))
        kind = rnd.random()
        ascii_text = all(ord(c) < 128 for c in text)
        if ascii_text:
            part_hdr = "Content-Type: text/plain; charset=us-ascii\r\n" \
                       "Content-Transfer-Encoding: 7bit"
            part_body = text
        else:
            part_hdr = "Content-Type: text/plain; charset=utf-8\r\n" \
                       "Content-Transfer-Encoding: quoted-printable"
            part_body = quopri.encodestring(text.encode()).decode("ascii").replace("\n", "\r\n") \
                .replace("\r\r\n", "\r\n")
        if kind < 0.45:
            body = part_body
            headers.append(part_hdr)
        elif kind < 0.9:
            b = "alt-%016x" % rnd.getrandbits(64)
            html = "<html><body><p>%s</p><p>%s</p><p>%s,<br>%s %s</p></body></html>" % (
                greeting, para, rnd.choice(SIGN), first, last)
            html_qp = quopri.encodestring(html.encode()).decode("ascii").replace("\n", "\r\n") \
                .replace("\r\r\n", "\r\n")
            headers.append('Content-Type: multipart/alternative; boundary="%s"' % b)
            body = ("--%s\r\n%s\r\n\r\n%s\r\n--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
                    "Content-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n--%s--\r\n" % (
                        b, part_hdr, part_body, b, html_qp, b))
        else:
            b = "mix-%016x" % rnd.getrandbits(64)
            att = rnd.randbytes(rnd.randrange(2000, 20000))
            headers.append('Content-Type: multipart/mixed; boundary="%s"' % b)
            body = ("This is a multi-part message in MIME format.\r\n--%s\r\n%s\r\n\r\n%s\r\n"
                    "--%s\r\nContent-Type: application/pdf; name=\"receipt-%d.pdf\"\r\n"
                    "Content-Disposition: attachment; filename=\"receipt-%d.pdf\"\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--%s--\r\n" % (
                        b, part_hdr, part_body, b, n, n, _fold_b64(att), b))
        raw = ("\r\n".join(headers) + "\r\n\r\n" + body).encode("ascii")
        yield raw, t


def write_maildir(maildir, messages, owner=None, seen=False):
    """Store (raw, time) pairs in `maildir` (cur/ with flag S when seen, else new/).
    owner: a user name whose uid/gid own the files.  Returns the count."""
    uid = gid = None
    if owner:
        pw = pwd.getpwnam(owner)
        uid, gid = pw.pw_uid, pw.pw_gid
    for sub in ("cur", "new", "tmp"):
        p = os.path.join(maildir, sub)
        os.makedirs(p, mode=0o700, exist_ok=True)
        if uid is not None:
            os.chown(p, uid, gid)
    hostname = socket.gethostname().replace("/", "_").replace(":", "_")
    pid = os.getpid()
    count = 0
    for raw, t in messages:
        # Stored with LF line ends like Dovecot's own deliveries (LMTP, mail_save_crlf=no);
        # W= is the CRLF size IMAP reports, S= the file size (Dovecot's naming).
        vsize = len(raw)
        raw = raw.replace(b"\r\n", b"\n")
        base = "%d.M%dP%d.%s,S=%d,W=%d" % (t, count, pid, hostname, len(raw), vsize)
        tmp = os.path.join(maildir, "tmp", base)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, raw)
            if uid is not None:
                os.fchown(fd, uid, gid)
        finally:
            os.close(fd)
        os.utime(tmp, (t, t))  # Dovecot takes INTERNALDATE from the mtime
        if seen:
            os.rename(tmp, os.path.join(maildir, "cur", base + ":2,S"))
        else:
            os.rename(tmp, os.path.join(maildir, "new", base))
        count += 1
    return count


def seed_peers(peers, user, count, folder="INBOX", seen=False, seed=1):
    """Seed `user`'s `folder` in a running tests/integration/mailpeers.MailPeers and
    make Dovecot index it.  Returns the folder's message count afterwards."""
    # Let Dovecot create the Maildir (and the folder) with its own layout first.
    if folder != "INBOX":
        try:
            peers.doveadm("mailbox", "create", "-s", "-u", user, folder)
        except Exception as e:  # already exists
            if "exists" not in str(e):
                raise
    peers.doveadm("mailbox", "status", "-u", user, "messages", "INBOX")
    root = peers.maildir(user)
    path = root if folder == "INBOX" else os.path.join(root, "." + folder.replace("/", "."))
    write_maildir(path, make_messages(count, to=user, seed=seed), owner="wbmail", seen=seen)
    out = peers.doveadm("mailbox", "status", "-u", user, "messages", folder)
    return int(out.split("=")[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--maildir", required=True, help="the Maildir (folder) to fill")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--owner", help="user that owns the files (e.g. wbmail)")
    ap.add_argument("--to", default="support@example.test")
    ap.add_argument("--seen", action="store_true", help="store as read (cur/, flag S)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    t0 = time.time()
    n = write_maildir(a.maildir, make_messages(a.count, to=a.to, seed=a.seed), a.owner, a.seen)
    print("wrote %d messages to %s in %.2fs" % (n, a.maildir, time.time() - t0))


if __name__ == "__main__":
    sys.exit(main())
