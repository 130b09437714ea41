#!/usr/bin/env python3
"""Email ingest benchmark: a 10,000-message mailbox in a real Dovecot, read by
the Python baseline (imaplib + email.parser + SQLite, baseline_imaplib.py) and
by warblerd (IMAP worker: fetch, MIME parse, commit, \\Seen), in one run.

    tests/bench/email/bench_email.py [N] [BUILD_DIR]
    WB_EMAIL_EXTRA='fetch_batch = 2000;' tests/bench/email/bench_email.py   # extra channel settings

warblerd runs with the email channel's defaults (the bot answers at most 5
mails per sender per hour; those replies go out through the local Postfix
during the run). Its time is from process start to the N-th inbound message
committed in its store; the baseline's from login to its last commit.
"""
import os
import sqlite3
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
sys.path.insert(0, HERE)
import baseline_imaplib  # noqa: E402
import seed_mailbox  # noqa: E402
import wbtest  # noqa: E402
from mailpeers import MailPeers, warbler_channel_conf  # noqa: E402

SUPPORT = "support@example.test"


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    if len(sys.argv) > 2:
        os.environ["WARBLERD"] = os.path.join(sys.argv[2], "src", "warblerd")
    peers = MailPeers()
    cb = wbtest.Callback()
    try:
        count = seed_mailbox.seed_peers(peers, SUPPORT, n)
        assert count == n, count
        with open(peers.password_file(SUPPORT)) as f:
            password = f.read().strip()
        base = baseline_imaplib.run(peers.host, peers.imaps_port, SUPPORT, password,
                                    ca_file=peers.ca_file, tls="implicit")
        print("python imaplib+email: %d messages in %.2f s = %.0f messages/s" %
              (base["count"], base["elapsed"], base["rate"]))

        conf = warbler_channel_conf(peers, extra=os.environ.get("WB_EMAIL_EXTRA", ""))
        d = wbtest.Daemon(cb.url, channels_extra=conf, extra="")
        t0 = time.perf_counter()
        d.start()
        db_path = os.path.join(d.tmp, "state", "warbler.db")
        stored = 0
        while time.perf_counter() - t0 < 600:
            try:
                con = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=5)
                stored = con.execute("SELECT count(*) FROM messages WHERE channel_id='mail' "
                                     "AND direction=0").fetchone()[0]
                con.close()
            except sqlite3.Error:
                pass
            if stored >= n:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - t0
        threads = []
        for tid in sorted(os.listdir("/proc/%d/task" % d.proc.pid), key=int):
            with open("/proc/%d/task/%s/stat" % (d.proc.pid, tid)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open("/proc/%d/task/%s/comm" % (d.proc.pid, tid)) as f:
                name = f.read().strip()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            threads.append("%s %.2fs" % (name, cpu))
        rss = 0
        with open("/proc/%d/status" % d.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM"):
                    rss = int(line.split()[1])
        d.stop()
        rate = stored / elapsed
        print("warblerd:             %d messages in %.2f s = %.0f messages/s (peak RSS %.1f MB)" %
              (stored, elapsed, rate, rss / 1024))
        print("ratio: %.1fx" % (rate / base["rate"]))
        print("warblerd threads (CPU): " + ", ".join(threads))
        if stored < n:
            print("FAIL: only %d of %d stored" % (stored, n))
            return 1
        return 0
    finally:
        cb.close()
        peers.stop()


if __name__ == "__main__":
    sys.exit(main())
