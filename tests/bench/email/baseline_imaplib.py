#!/usr/bin/env python3
"""The Python baseline for warbler's email ingest (DESIGN.md: warbler must be >= 5x faster).

Logs in with imaplib, SELECTs the folder, fetches every message with
`UID FETCH 1:* (BODY.PEEK[])`, parses each with
email.parser.BytesParser(policy=email.policy.default), extracts From, Subject
and the text body (text/plain preferred, else text/html), and stores each row
into SQLite (WAL, one commit per 256 messages).  Prints messages/s and the
elapsed time (login to last commit), then one JSON line for scripts.

Against an existing server:
  baseline_imaplib.py --port 993 --user support@example.test \
      --password-file pw --ca-file ca.pem [--tls implicit|starttls|none]
Self-contained (starts tests/integration/mailpeers.MailPeers, seeds N messages
into support@'s INBOX with seed_mailbox.py, runs, stops):
  baseline_imaplib.py --self-contained 10000 [--runs 3]
"""
import argparse
import email.parser
import email.policy
import imaplib
import json
import os
import sqlite3
import ssl
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COMMIT_EVERY = 256


def text_body(msg):
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError, ValueError):
        data = part.get_payload(decode=True) or b""
        return data.decode("utf-8", "replace")


def run(host, port, user, password, ca_file=None, tls="implicit", folder="INBOX", db=None):
    """Returns a dict with count, elapsed, rate."""
    own_db = db is None
    if own_db:
        fd, db = tempfile.mkstemp(prefix="wb-baseline-", suffix=".sqlite")
        os.close(fd)
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("DROP TABLE IF EXISTS messages")
    con.execute("CREATE TABLE messages (uid INTEGER PRIMARY KEY, message_id TEXT, "
                "from_addr TEXT, subject TEXT, body TEXT)")
    con.commit()
    parser = email.parser.BytesParser(policy=email.policy.default)
    ctx = ssl.create_default_context(cafile=ca_file) if tls != "none" else None

    t0 = time.perf_counter()
    if tls == "implicit":
        imap = imaplib.IMAP4_SSL(host, port, ssl_context=ctx)
    else:
        imap = imaplib.IMAP4(host, port)
        if tls == "starttls":
            imap.starttls(ctx)
    imap.login(user, password)
    typ, data = imap.select('"%s"' % folder, readonly=True)
    if typ != "OK":
        raise SystemExit("SELECT failed: %r" % data)
    typ, data = imap.uid("FETCH", "1:*", "(BODY.PEEK[])")
    if typ != "OK":
        raise SystemExit("FETCH failed: %r" % data)
    t_fetched = time.perf_counter()
    count = 0
    for item in data:
        if not isinstance(item, tuple):
            continue
        meta, raw = item
        uid = int(meta.split(b"UID ", 1)[1].split()[0].rstrip(b")"))
        msg = parser.parsebytes(raw)
        con.execute("INSERT INTO messages VALUES (?, ?, ?, ?, ?)",
                    (uid, str(msg.get("Message-ID", "")), str(msg.get("From", "")),
                     str(msg.get("Subject", "")), text_body(msg)))
        count += 1
        if count % COMMIT_EVERY == 0:
            con.commit()
    con.commit()
    elapsed = time.perf_counter() - t0
    imap.logout()
    con.close()
    if own_db:
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(db + suffix)
            except FileNotFoundError:
                pass
    return {"count": count, "elapsed": elapsed, "fetch_elapsed": t_fetched - t0,
            "rate": count / elapsed if elapsed > 0 else 0.0}


def report(r):
    print("%d messages in %.2fs: %.0f messages/s (IMAP fetch %.2fs)" % (
        r["count"], r["elapsed"], r["rate"], r["fetch_elapsed"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int)
    ap.add_argument("--user", default="support@example.test")
    ap.add_argument("--password-file")
    ap.add_argument("--ca-file")
    ap.add_argument("--tls", choices=("implicit", "starttls", "none"), default="implicit")
    ap.add_argument("--folder", default="INBOX")
    ap.add_argument("--db", help="SQLite file (default: a temp file, removed after)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--self-contained", type=int, metavar="N",
                    help="start MailPeers, seed N messages, run, stop")
    a = ap.parse_args()

    peers = None
    try:
        if a.self_contained:
            sys.path.insert(0, os.path.join(HERE, "..", "..", "integration"))
            sys.path.insert(0, HERE)
            from mailpeers import MailPeers
            from seed_mailbox import seed_peers
            t = time.time()
            peers = MailPeers()
            print("mail peers up in %.2fs" % (time.time() - t))
            t = time.time()
            n = seed_peers(peers, a.user, a.self_contained, a.folder)
            print("seeded %d messages in %.2fs" % (n, time.time() - t))
            host, port, ca = peers.host, (peers.imaps_port if a.tls == "implicit"
                                          else peers.imap_port), peers.ca_file
            password = peers.users[a.user]
        else:
            if not (a.port and a.password_file):
                ap.error("--port and --password-file are needed (or --self-contained N)")
            host, port, ca = a.host, a.port, a.ca_file
            with open(a.password_file) as f:
                password = f.read().rstrip("\r\n")
        results = []
        for _ in range(a.runs):
            r = run(host, port, a.user, password, ca, a.tls, a.folder, a.db)
            report(r)
            results.append(r)
        best = max(results, key=lambda r: r["rate"])
        print(json.dumps({"bench": "email_ingest_baseline_imaplib", "messages": best["count"],
                          "elapsed_s": round(best["elapsed"], 3),
                          "messages_per_s": round(best["rate"], 1), "runs": a.runs}))
    finally:
        if peers:
            peers.stop()


if __name__ == "__main__":
    main()
