"""The real-mail-server harness works: Dovecot + Postfix on ephemeral loopback ports.

Runs without warblerd: it checks the peers that the email channel's tests use.
"""
import imaplib
import os
import smtplib
import ssl
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailpeers  # noqa: E402
from mailpeers import MailPeers, make_message  # noqa: E402

SUPPORT = "support@example.test"
CUSTOMER = "customer@example.test"


def pgrep_session(sid):
    p = subprocess.run(["pgrep", "-s", str(sid)], stdout=subprocess.PIPE, text=True)
    return p.stdout.split()


class MailPeersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # a missing Dovecot or Postfix fails the test: packaging/setup.sh installs them
        mailpeers.check_prerequisites()
        t0 = time.time()
        cls.peers = MailPeers()
        cls.startup = time.time() - t0
        sys.stderr.write("MailPeers up in %.2fs (imap %d, imaps %d, submission %d, mx %d)\n" % (
            cls.startup, cls.peers.imap_port, cls.peers.imaps_port, cls.peers.smtp_port,
            cls.peers.mx_port))

    @classmethod
    def tearDownClass(cls):
        p = getattr(cls, "peers", None)
        if p is None:
            return
        sessions = p.sessions()
        pids = p.pids()
        tmp = p.tmp
        p.stop()
        for sid in sessions:
            left = pgrep_session(sid)
            assert not left, "processes left in session %d: %s" % (sid, left)
        for pid in pids:
            assert not os.path.exists("/proc/%d" % pid) or \
                open("/proc/%d/stat" % pid).read().split(") ")[1][0] == "Z", \
                "process %d still running" % pid
        assert not os.path.exists(tmp), "temp dir left: " + tmp

    def test_0_ports_distinct_and_ephemeral(self):
        p = self.peers
        ports = {p.imap_port, p.imaps_port, p.smtp_port, p.mx_port}
        self.assertEqual(len(ports), 4)
        for port in ports:
            self.assertNotIn(port, (25, 143, 465, 587, 993))
        self.assertEqual(len(p.sessions()), 2)
        self.assertTrue(pgrep_session(p.sessions()[0]))
        self.assertTrue(pgrep_session(p.sessions()[1]))
        for user in p.users:
            path = p.password_file(user)
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
            with open(path) as f:
                self.assertEqual(f.read().strip(), p.users[user])

    def test_1_mx_delivery_seen_over_imaps(self):
        p = self.peers
        raw = make_message(CUSTOMER, SUPPORT, "Where is my order #4711?",
                           "Hello,\nmy parcel has not arrived.\n",
                           message_id="<order-4711@customer.example.test>")
        p.deliver(raw, CUSTOMER, SUPPORT)
        msgs = p.wait_for(SUPPORT, 1)
        self.assertTrue(any(b"Message-ID: <order-4711@customer.example.test>" in m for m in msgs))
        self.assertTrue(any(b"my parcel has not arrived" in m for m in msgs))

    def test_2_submission_with_auth(self):
        p = self.peers
        before = len(p.fetch(CUSTOMER))
        raw = make_message(SUPPORT, CUSTOMER, "Re: Where is my order #4711?",
                           "It ships tomorrow.\n", message_id="<reply-1@example.test>")
        with smtplib.SMTP(p.host, p.smtp_port, timeout=30) as s:
            s.ehlo()
            self.assertFalse(s.has_extn("auth"), "AUTH must need TLS first")
            s.starttls(context=p.ssl_context())
            s.ehlo()
            mechs = s.esmtp_features.get("auth", "").upper().split()
            self.assertIn("PLAIN", mechs)
            self.assertIn("LOGIN", mechs)
            s.login(SUPPORT, p.users[SUPPORT])
            s.sendmail(SUPPORT, [CUSTOMER], raw)
        msgs = p.wait_for(CUSTOMER, before + 1)
        self.assertTrue(any(b"<reply-1@example.test>" in m for m in msgs))

    def test_3_submission_refuses_bad_password_and_anonymous(self):
        p = self.peers
        with smtplib.SMTP(p.host, p.smtp_port, timeout=30) as s:
            s.starttls(context=p.ssl_context())
            with self.assertRaises(smtplib.SMTPAuthenticationError):
                s.login(SUPPORT, "wrong")
        with smtplib.SMTP(p.host, p.smtp_port, timeout=30) as s:
            s.starttls(context=p.ssl_context())
            with self.assertRaises(smtplib.SMTPException):
                s.sendmail(CUSTOMER, [SUPPORT], b"Subject: x\r\n\r\nx\r\n")

    def test_4_mx_rejects_unknown_and_foreign(self):
        p = self.peers
        with self.assertRaises(smtplib.SMTPRecipientsRefused):
            p.deliver(b"Subject: x\r\n\r\nx\r\n", CUSTOMER, "nobody@example.test")
        with self.assertRaises(smtplib.SMTPRecipientsRefused):
            p.deliver(b"Subject: x\r\n\r\nx\r\n", CUSTOMER, "someone@elsewhere.example")

    def test_5_untrusted_ca_is_refused(self):
        p = self.peers
        bad = p.ssl_context(p.untrusted_ca_file)
        with self.assertRaises(ssl.SSLCertVerificationError):
            imaplib.IMAP4_SSL(p.host, p.imaps_port, ssl_context=bad, timeout=30)
        c = imaplib.IMAP4(p.host, p.imap_port, timeout=30)
        try:
            with self.assertRaises(ssl.SSLCertVerificationError):
                c.starttls(bad)
        finally:
            c.sock.close()
        with smtplib.SMTP(p.host, p.smtp_port, timeout=30) as s:
            with self.assertRaises(ssl.SSLCertVerificationError):
                s.starttls(context=bad)
        # ...while the right CA verifies both the name and the address.
        for name in ("localhost", "127.0.0.1"):
            c = imaplib.IMAP4(name, p.imap_port, timeout=30)
            c.starttls(p.ssl_context())
            c.login(SUPPORT, p.users[SUPPORT])
            c.logout()

    def test_6_imap_plain_login_idle_sent(self):
        p = self.peers
        c = imaplib.IMAP4(p.host, p.imap_port, timeout=30)
        self.assertIn("STARTTLS", c.capabilities)
        c.login(SUPPORT, p.users[SUPPORT])  # plain LOGIN allowed on loopback
        try:
            typ, caps = c.capability()
            self.assertIn(b"IDLE", caps[0].split())
            typ, boxes = c.list()
            sent = [b for b in boxes if b.endswith(b'"Sent"') or b.endswith(b" Sent")]
            self.assertTrue(sent, boxes)
            self.assertIn(b"\\Sent", sent[0])
            typ, subs = c.lsub()
            self.assertTrue(any(b"Sent" in b for b in subs), subs)
        finally:
            c.logout()

    def test_7_append_and_uidvalidity_bump(self):
        p = self.peers
        for i in range(3):
            p.append(CUSTOMER, make_message(SUPPORT, CUSTOMER, "seed %d" % i, "seed body %d\n" % i,
                                            message_id="<seed-%d@example.test>" % i), "Sent")
        sent = p.fetch(CUSTOMER, "Sent")
        self.assertEqual(len(sent), 3)
        for folder, n in (("Sent", 3), ("INBOX", len(p.fetch(CUSTOMER)))):
            old, new = p.uidvalidity_bump(CUSTOMER, folder)
            self.assertGreater(new, old)
            after = p.fetch(CUSTOMER, folder)
            self.assertEqual(len(after), n)
        self.assertEqual(sorted(p.fetch(CUSTOMER, "Sent")), sorted(sent))
        # A client that has the folder selected is told to log in again.
        c = p.imap(CUSTOMER)
        c.select("Sent")
        p.uidvalidity_bump(CUSTOMER, "Sent")
        with self.assertRaises(imaplib.IMAP4.abort):
            c.noop()
        c.shutdown()

    def test_8_bench_seeding(self):
        # tests/bench/email/seed_mailbox.py writes Maildir files that Dovecot must index.
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "..", "bench", "email"))
        from seed_mailbox import seed_peers
        import email.parser
        import email.policy
        self.assertEqual(seed_peers(self.peers, SUPPORT, 50, folder="Bench"), 50)
        msgs = self.peers.fetch(SUPPORT, "Bench")
        self.assertEqual(len(msgs), 50)
        parser = email.parser.BytesParser(policy=email.policy.default)
        for raw in msgs:
            self.assertIn(b"\r\n", raw)  # stored with LF, served as CRLF
            m = parser.parsebytes(raw)
            self.assertTrue(m["Message-ID"])
            self.assertTrue(m.get_body(("plain", "html")).get_content())


if __name__ == "__main__":
    unittest.main(verbosity=2)
