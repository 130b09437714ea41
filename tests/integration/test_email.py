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
from mailpeers import MailPeers, MailPeersError, make_message  # noqa: E402

SUPPORT = "support@example.test"
CUSTOMER = "customer@example.test"
QUESTION = "How long does a refund take?"


def channel_conf(peers, ch_id="mail", ca_file=None, extra=""):
    return f""",
  {{ id = "{ch_id}"; type = "email"; address = "{SUPPORT}"; display_name = "Example Support";
     imap_host = "{peers.host}"; imap_port = {peers.imaps_port}; imap_tls = "implicit";
     imap_user = "{SUPPORT}"; imap_password_file = "{peers.password_file(SUPPORT)}";
     smtp_host = "{peers.host}"; smtp_port = {peers.smtp_port}; smtp_tls = "starttls";
     smtp_user = "{SUPPORT}"; smtp_password_file = "{peers.password_file(SUPPORT)}";
     ca_file = "{ca_file or peers.ca_file}"; poll_interval = "1s"; timeout = "10s"; {extra} }}"""


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


if __name__ == "__main__":
    unittest.main(verbosity=2)
