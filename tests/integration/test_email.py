"""The email channel end to end against a real Dovecot + Postfix (mailpeers.py).

A customer's mail delivered to support@ over the MX port is fetched by
warblerd's IMAP worker, stored once, marked \\Seen only after the commit,
answered by the bot over SMTP with correct threading headers; restarts, a
UIDVALIDITY change and deleted mail never import anything twice; a server
certificate from an untrusted CA is refused and shows in /healthz.

Needs root and Dovecot/Postfix (see mailpeers.py); skipped (exit 0) without
them unless WB_REQUIRE_MAILPEERS=1.
"""
import email
import email.policy
import imaplib
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wbtest  # noqa: E402
from mailpeers import MailPeers, make_message, warbler_channel_conf as channel_conf  # noqa: E402

SUPPORT = "support@example.test"
CUSTOMER = "customer@example.test"
QUESTION = "How long does a refund take?"


def wait_until(pred, timeout=30.0, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


class EmailTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # a missing Dovecot or Postfix fails the test: packaging/setup.sh installs them
        cls.peers = MailPeers()
        cls.cb = wbtest.Callback()

    @classmethod
    def tearDownClass(cls):
        cls.cb.close()
        cls.peers.stop()

    def setUp(self):
        self.d = None

    def tearDown(self):
        if self.d is not None:
            self.d.stop()
            if sys.exc_info()[0] is not None or os.environ.get("WB_VERBOSE"):
                print(self.d.read_log()[-4000:])

    def start(self, tmp=None, **kw):
        self.d = wbtest.Daemon(self.cb.url, tmp=tmp, channels_extra=channel_conf(self.peers, **kw))
        self.d.start()
        return self.d

    def rows(self, sql, *args):
        db = self.d.db()
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def inbound(self, ext_id=None):
        if ext_id is None:
            return self.rows("SELECT external_id FROM messages WHERE channel_id='mail' "
                             "AND direction=0")
        return self.rows("SELECT id FROM messages WHERE channel_id='mail' AND direction=0 "
                         "AND external_id=?", ext_id)

    def support_flags(self):
        c = self.peers.imap(SUPPORT)
        try:
            c.select("INBOX", readonly=True)
            typ, data = c.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            out = {}
            for item in data:
                if isinstance(item, tuple):
                    hdr = email.message_from_bytes(item[1])
                    out[(hdr["Message-ID"] or "").strip("<> ")] = item[0].decode()
            return out
        finally:
            c.logout()

    def health(self):
        st, h = self.d.health()
        return {c["id"]: c for c in h["channels"]}

    def deliver(self, subject, body, msg_id=None, extra_headers=()):
        raw = make_message(CUSTOMER, SUPPORT, subject, body, message_id=msg_id,
                           extra_headers=extra_headers)
        self.peers.deliver(raw, CUSTOMER, SUPPORT)
        return email.message_from_bytes(raw)["Message-ID"].strip("<>")

    def test_1_ingest_reply_restart_uidvalidity(self):
        mid = self.deliver("Refund question", QUESTION)
        self.peers.wait_for(SUPPORT, 1)
        d = self.start()
        self.assertTrue(wait_until(lambda: self.inbound(mid), 30), d.read_log()[-3000:])
        self.assertEqual(self.health()["mail"]["state"], "up")
        # \Seen only after the commit: it must be there now that the row is
        flags = wait_until(lambda: "\\Seen" in self.support_flags().get(mid, "") and
                           self.support_flags(), 15)
        self.assertTrue(flags, self.support_flags())

        # the bot's reply reaches the customer, threaded
        replies = self.peers.wait_for(CUSTOMER, 1, timeout=60)
        r = email.message_from_bytes(replies[-1], policy=email.policy.default)
        self.assertEqual(r["In-Reply-To"].strip(), "<%s>" % mid)
        self.assertIn("<%s>" % mid, r["References"])
        self.assertTrue(r["Subject"].startswith("Re: Refund question"), r["Subject"])
        self.assertEqual(r["Auto-Submitted"], "auto-replied")
        self.assertIn(SUPPORT, r["From"])

        # a second mail while running (IDLE)
        mid2 = self.deliver("Another one", "Do you ship to Canada?")
        self.assertTrue(wait_until(lambda: self.inbound(mid2), 30))

        # restart: resumes after last_uid, nothing imported twice
        tmp = d.tmp
        d.stop()
        mid3 = self.deliver("While you were away", "Hello again")
        self.start(tmp=tmp)
        self.assertTrue(wait_until(lambda: self.inbound(mid3), 30))
        time.sleep(1.5)
        ids = [r[0] for r in self.inbound()]
        self.assertEqual(sorted(ids), sorted(set(ids)))
        self.assertEqual(len(ids), 3)
        state = dict(self.rows("SELECT key, value FROM channel_state WHERE channel_id='mail'"))
        self.assertIn("uidvalidity", state)
        self.assertGreaterEqual(int(state["last_uid"]), 3)

        # UIDVALIDITY change: the folder is rescanned, nothing is imported twice
        self.d.stop()
        old, new = self.peers.uidvalidity_bump(SUPPORT)
        mid4 = self.deliver("After the rebuild", "Still there?")
        self.start(tmp=tmp)
        self.assertTrue(wait_until(lambda: self.inbound(mid4), 30), self.d.read_log()[-3000:])
        self.assertTrue(wait_until(lambda: dict(self.rows(
            "SELECT key, value FROM channel_state WHERE channel_id='mail'")).get(
                "uidvalidity") == str(new), 15))
        time.sleep(1.5)
        ids = [r[0] for r in self.inbound()]
        self.assertEqual(len(ids), 4, ids)
        self.assertEqual(len(set(ids)), 4)

        # deleted mail is not imported again, and a new one still is
        c = self.peers.imap(SUPPORT)
        try:
            c.select("INBOX")
            c.uid("STORE", "1:*", "+FLAGS.SILENT", "(\\Deleted)")
            c.expunge()
        finally:
            c.logout()
        mid5 = self.deliver("After the cleanup", "One more")
        self.assertTrue(wait_until(lambda: self.inbound(mid5), 30))
        self.d.stop()
        self.start(tmp=tmp)
        time.sleep(2)
        self.assertEqual(len(self.inbound()), 5)
        self.assertEqual(self.health()["mail"]["state"], "up")

    def test_2_unparseable_is_stored_raw(self):
        d = self.start()
        raw = b"this is not a mail at all\r\n\r\n\x00\x01"
        self.peers.append(SUPPORT, raw)
        ok = wait_until(lambda: self.rows(
            "SELECT text FROM messages WHERE channel_id='mail' AND direction=0 AND text LIKE "
            "'(this message could not be parsed%'"), 30)
        self.assertTrue(ok, d.read_log()[-3000:])

    def test_3_untrusted_ca_refused(self):
        d = self.start(ca_file=self.peers.untrusted_ca_file)
        h = wait_until(lambda: self.health()["mail"]["state"] == "down" and self.health(), 30)
        self.assertTrue(h, self.health())
        self.assertIn("certificate", h["mail"]["last_error"])
        self.assertIn("not accepted", h["mail"]["last_error"])
        self.assertNotIn("password", d.read_log().lower().replace("password_file", ""))

    def conv_of(self, ext_id):
        r = self.rows("SELECT conversation_id FROM messages WHERE channel_id='mail' "
                      "AND external_id=?", ext_id)
        return r[0][0] if r else None

    def test_4_reply_threads_and_stranger_does_not(self):
        d = self.start()
        before = len(self.peers.fetch(CUSTOMER))
        mid = self.deliver("Order 1234 status", "Where is my order 1234?")
        self.assertTrue(wait_until(lambda: self.inbound(mid), 30), d.read_log()[-3000:])
        replies = self.peers.wait_for(CUSTOMER, before + 1, timeout=60)
        ours = email.message_from_bytes(replies[-1])
        bot_mid = ours["Message-ID"].strip().strip("<>")
        self.assertTrue(bot_mid.startswith("wb."), bot_mid)

        # the customer answers the bot's mail, with a different subject
        mid2 = self.deliver("回复: something else entirely", "Thanks, and can I change the address?",
                            extra_headers=[("In-Reply-To", "<%s>" % bot_mid),
                                           ("References", "<%s> <%s>" % (mid, bot_mid))])
        self.assertTrue(wait_until(lambda: self.inbound(mid2), 30))
        self.assertEqual(self.conv_of(mid2), self.conv_of(mid))

        # someone else quoting the same headers never joins that conversation
        raw = make_message("stranger@elsewhere.test", SUPPORT, "Re: Order 1234 status",
                           "I am not the customer.",
                           extra_headers=[("In-Reply-To", "<%s>" % bot_mid)])
        self.peers.deliver(raw, "stranger@elsewhere.test", SUPPORT)
        mid3 = email.message_from_bytes(raw)["Message-ID"].strip("<>")
        self.assertTrue(wait_until(lambda: self.inbound(mid3), 30))
        self.assertNotEqual(self.conv_of(mid3), self.conv_of(mid))

    def test_5_sigkill_mid_batch(self):
        """Kill warblerd while it ingests a burst: after a restart every mail is
        stored once, marked processed, and answered once (by Message-ID)."""
        n = 200
        before = {email.message_from_bytes(r)["Message-ID"]
                  for r in self.peers.fetch(CUSTOMER)}
        mids = [self.deliver("Burst %d" % i, "How long does a refund take? (%d)" % i)
                for i in range(n)]
        self.peers.wait_for(SUPPORT, n, timeout=60)
        # no cap on automatic replies here (every mail comes from one customer);
        # small batches, so the kill lands between two commits
        d = self.start(extra="max_auto_replies_per_hour = 0; fetch_batch = 50;")
        self.assertTrue(wait_until(lambda: len(self.rows(
            "SELECT id FROM messages WHERE channel_id='mail' AND direction=0 "
            "AND subject LIKE 'Burst %'")) >= 1, 60, step=0.005), d.read_log()[-3000:])
        d.kill()
        stored_at_kill = len(self.rows("SELECT id FROM messages WHERE channel_id='mail' "
                                       "AND direction=0 AND subject LIKE 'Burst %'"))
        self.assertLess(stored_at_kill, n, "the kill must land in the middle of the burst")
        self.start(tmp=d.tmp, extra="max_auto_replies_per_hour = 0; fetch_batch = 50;")
        self.assertTrue(wait_until(lambda: len(self.rows(
            "SELECT id FROM messages WHERE channel_id='mail' AND direction=0 "
            "AND subject LIKE 'Burst %'")) >= n, 120), self.d.read_log()[-3000:])
        rows = self.rows("SELECT external_id, count(*) FROM messages WHERE channel_id='mail' "
                         "AND direction=0 AND subject LIKE 'Burst %' GROUP BY external_id")
        self.assertEqual(len(rows), n)
        self.assertTrue(all(c == 1 for _, c in rows))
        self.assertEqual({r[0] for r in rows}, set(mids))
        flags = wait_until(lambda: (lambda f: all("\\Seen" in f.get(m, "") for m in mids) and f)(
            self.support_flags()), 30)
        self.assertTrue(flags, "every stored mail is marked processed")

        def answered():
            got = {}
            for r in self.peers.fetch(CUSTOMER):
                m = email.message_from_bytes(r)
                if m["Message-ID"] in before:
                    continue
                irt = (m["In-Reply-To"] or "").strip().strip("<>")
                if irt in mids:
                    got.setdefault(irt, set()).add(m["Message-ID"])
            return got
        got = wait_until(lambda: (lambda g: len(g) >= n and g)(answered()), 180)
        self.assertTrue(got, "every mail answered; got %d" % len(answered()))
        self.assertTrue(all(len(v) == 1 for v in got.values()),
                        "a reply with two Message-IDs: %r" %
                        {k: v for k, v in got.items() if len(v) > 1})
        print("killed with %d of %d stored; all %d stored once and answered" %
              (stored_at_kill, n, n))

    def test_6_reply_over_smtps(self):
        """The whole daemon with smtp_tls = implicit (SMTPS through libcurl)."""
        d = self.start(smtps=True)
        before = len(self.peers.fetch(CUSTOMER))
        mid = self.deliver("Implicit TLS please", "Do you ship to Canada?")
        self.assertTrue(wait_until(lambda: self.inbound(mid), 30), d.read_log()[-3000:])
        replies = self.peers.wait_for(CUSTOMER, before + 1, timeout=60)
        r = email.message_from_bytes(replies[-1])
        self.assertEqual(r["In-Reply-To"].strip(), "<%s>" % mid)
        with open(self.peers.postfix_log, errors="replace") as f:
            self.assertIn("postfix/smtps", f.read())


if __name__ == "__main__":
    unittest.main(verbosity=2)
