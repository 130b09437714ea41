"""wb_email_send against a real Postfix (submission: STARTTLS + AUTH, libesmtp;
smtps: implicit TLS + AUTH, libcurl) and Dovecot.

Runs tests/unit/email/email_send_driver (path in $EMAIL_SEND_DRIVER), which
calls wb_email_send once with a conf given on its command line, and checks
what arrived in customer@'s INBOX and support@'s Sent folder over IMAP.
Never skipped: without root, the mail packages or the driver the test fails.
"""
import email
import email.policy
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mailpeers  # noqa: E402
from mailpeers import MailPeers  # noqa: E402

SUPPORT = "support@example.test"
CUSTOMER = "customer@example.test"
DRIVER = os.environ.get("EMAIL_SEND_DRIVER", "")


class EmailSmtpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # missing mail servers or driver fail the test: setup.sh installs, CMake builds them
        mailpeers.check_prerequisites()
        if not os.access(DRIVER, os.X_OK):
            raise RuntimeError("EMAIL_SEND_DRIVER not set or not executable: %r" % DRIVER)
        cls.peers = MailPeers()

    @classmethod
    def tearDownClass(cls):
        p = getattr(cls, "peers", None)
        if p is not None:
            p.stop()

    def conf(self, **over):
        p = self.peers
        c = {
            "smtp_host": p.host, "smtp_port": p.smtp_port, "smtp_tls": "starttls",
            "smtp_user": SUPPORT, "smtp_password_file": p.password_file(SUPPORT),
            "imap_host": p.host, "imap_port": p.imaps_port, "imap_tls": "implicit",
            "imap_user": SUPPORT, "imap_password_file": p.password_file(SUPPORT),
            "sent_folder": "Sent", "ca_file": p.ca_file, "tls_verify": "1",
            "address": SUPPORT, "display_name": "Équipe Support", "timeout_ms": 20000,
            "to": CUSTOMER, "to_name": "Zoë Customer", "subject": "Commande 42",
            "text": "Bonjour,\nvotre commande est partie.\n\n<merci> & à bientôt",
            "author": "agent", "conversation": 5, "message": 9,
        }
        c.update(over)
        return c

    def send(self, conf, refs=()):
        argv = [DRIVER] + ["%s=%s" % (k, v) for k, v in conf.items()]
        argv += ["ref=" + r for r in refs]
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
        return out, r.stderr

    def inbox_count(self, user, folder="INBOX"):
        return len(self.peers.fetch(user, folder))

    def test_1_reply_arrives_threaded_with_sent_copy(self):
        before = self.inbox_count(CUSTOMER)
        sent_before = self.inbox_count(SUPPORT, "Sent")
        refs = ["first@customer.example", "sha256:00ff", "wb.5.3.abcdef0123456789@example.test",
                "newest@customer.example"]
        res, err = self.send(self.conf(author="bot"), refs)
        self.assertEqual(res["outcome"], "OK", res.get("reason", "") + err)
        mid = res["external_id"]
        self.assertTrue(mid.startswith("wb.5.9.") and mid.endswith("@example.test"), mid)
        self.assertNotIn("<", mid)

        raw = self.peers.wait_for(CUSTOMER, before + 1)[-1]
        m = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual(m["Message-ID"], "<%s>" % mid)
        self.assertEqual(m["From"].addresses[0].display_name, "Équipe Support")
        self.assertEqual(m["From"].addresses[0].addr_spec, SUPPORT)
        self.assertEqual(m["To"].addresses[0].display_name, "Zoë Customer")
        self.assertEqual(str(m["Subject"]), "Re: Commande 42")
        self.assertEqual(m["In-Reply-To"], "<newest@customer.example>")
        self.assertEqual(m["References"].split(),
                         ["<first@customer.example>", "<wb.5.3.abcdef0123456789@example.test>",
                          "<newest@customer.example>"])
        self.assertEqual(m["Auto-Submitted"], "auto-replied")
        self.assertEqual(m["X-Auto-Response-Suppress"], "All")
        self.assertIsNotNone(m["Date"])
        self.assertEqual(m.get_content_type(), "multipart/alternative")
        plain = m.get_body(("plain",))
        html = m.get_body(("html",))
        self.assertIn("votre commande est partie.", plain.get_content())
        self.assertIn("<merci> & à bientôt", plain.get_content())
        self.assertIn("&lt;merci&gt; &amp; à bientôt", html.get_content())
        self.assertIn("<br>", html.get_content())

        sent = self.peers.wait_for(SUPPORT, sent_before + 1, folder="Sent")
        copy = email.message_from_bytes(sent[-1], policy=email.policy.default)
        self.assertEqual(copy["Message-ID"], "<%s>" % mid)
        c = self.peers.imap(SUPPORT)
        try:
            c.select('"Sent"', readonly=True)
            typ, data = c.fetch("*", "(FLAGS)")
            self.assertEqual(typ, "OK")
            self.assertIn(b"\\Seen", data[0])
        finally:
            c.logout()

    def test_2_agent_reply_not_auto_submitted(self):
        before = self.inbox_count(CUSTOMER)
        res, err = self.send(self.conf(subject="RE: Commande 42", sent_folder=""))
        self.assertEqual(res["outcome"], "OK", res.get("reason", "") + err)
        m = email.message_from_bytes(self.peers.wait_for(CUSTOMER, before + 1)[-1],
                                     policy=email.policy.default)
        self.assertEqual(str(m["Subject"]), "RE: Commande 42")
        self.assertIsNone(m["Auto-Submitted"])
        self.assertIsNone(m["In-Reply-To"])

    def test_3_untrusted_certificate_is_retried(self):
        before = self.inbox_count(CUSTOMER)
        res, _ = self.send(self.conf(ca_file=self.peers.untrusted_ca_file))
        self.assertEqual(res["outcome"], "RETRY")
        self.assertIn("tls", res["reason"])
        self.assertIn("certificate verify failed", res["reason"])
        self.assertEqual(res["external_id"], "")
        self.assertEqual(self.inbox_count(CUSTOMER), before)

    def test_4_unknown_recipient_is_permanent(self):
        res, _ = self.send(self.conf(to="nobody@example.test"))
        self.assertEqual(res["outcome"], "PERMANENT")
        self.assertIn("550", res["reason"])
        self.assertIn("nobody@example.test", res["reason"])
        self.assertNotIn("\r", res["reason"])
        self.assertNotIn("\n", res["reason"])

    def test_5_wrong_password_is_retried(self):
        bad = os.path.join(self.peers.tmp, "secrets", "wrong.password")
        with open(bad, "w") as f:
            f.write("not-the-password\n")
        res, err = self.send(self.conf(smtp_password_file=bad))
        self.assertEqual(res["outcome"], "RETRY", res)
        self.assertIn("authentication rejected", res["reason"])
        self.assertNotIn("not-the-password", res["reason"] + err)

    def smtps_conf(self, **over):
        """The conf for Postfix's smtps port: implicit TLS, so libcurl sends."""
        c = self.conf(smtp_tls="implicit", smtp_port=self.peers.smtps_port)
        c.update(over)
        return c

    def test_6_smtps_with_auth_arrives_with_sent_copy(self):
        before = self.inbox_count(CUSTOMER)
        sent_before = self.inbox_count(SUPPORT, "Sent")
        res, err = self.send(self.smtps_conf(conversation=6, message=12),
                             ["first@customer.example"])
        self.assertEqual(res["outcome"], "OK", res.get("reason", "") + err)
        mid = res["external_id"]
        self.assertTrue(mid.startswith("wb.6.12.") and mid.endswith("@example.test"), mid)
        self.assertEqual(res["reason"], "")
        raw = self.peers.wait_for(CUSTOMER, before + 1)[-1]
        m = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual(m["Message-ID"], "<%s>" % mid)
        self.assertEqual(m["In-Reply-To"], "<first@customer.example>")
        self.assertEqual(m["From"].addresses[0].addr_spec, SUPPORT)
        self.assertIn("<merci> & à bientôt", m.get_body(("plain",)).get_content())
        # it came in through Postfix's smtps service, authenticated as support@
        with open(self.peers.postfix_log, encoding="utf-8", errors="replace") as f:
            log = f.read()
        self.assertRegex(log, r"postfix/smtps/smtpd\[\d+\]: \w+: client=\S+, "
                              r"sasl_method=PLAIN, sasl_username=" + SUPPORT)
        sent = self.peers.wait_for(SUPPORT, sent_before + 1, folder="Sent")
        copy = email.message_from_bytes(sent[-1], policy=email.policy.default)
        self.assertEqual(copy["Message-ID"], "<%s>" % mid)

    def test_12_smtps_untrusted_certificate_is_retried(self):
        before = self.inbox_count(CUSTOMER)
        res, _ = self.send(self.smtps_conf(ca_file=self.peers.untrusted_ca_file))
        self.assertEqual(res["outcome"], "RETRY", res)
        self.assertIn("smtps: tls", res["reason"])
        self.assertIn("certificate verify failed", res["reason"])
        self.assertEqual(res["external_id"], "")
        self.assertEqual(self.inbox_count(CUSTOMER), before)

    def test_13_smtps_unknown_recipient_is_permanent(self):
        res, _ = self.send(self.smtps_conf(to="nobody@example.test"))
        self.assertEqual(res["outcome"], "PERMANENT", res)
        # Postfix's own words, not just curl's "RCPT failed: 550"
        self.assertIn("550 5.1.1 <nobody@example.test>: Recipient address rejected",
                      res["reason"])
        self.assertEqual(res["external_id"], "")
        self.assertNotIn("\r", res["reason"])
        self.assertNotIn("\n", res["reason"])

    def test_14_smtps_wrong_password_is_retried(self):
        bad = os.path.join(self.peers.tmp, "secrets", "wrong-smtps.password")
        with open(bad, "w") as f:
            f.write("not-the-smtps-password\n")
        res, err = self.send(self.smtps_conf(smtp_password_file=bad))
        self.assertEqual(res["outcome"], "RETRY", res)
        self.assertIn("authentication rejected", res["reason"])
        self.assertIn("535", res["reason"])
        self.assertNotIn("not-the-smtps-password", res["reason"] + err)

    def test_15_smtps_no_server_is_retried(self):
        port = mailpeers.free_ports(1)[0]
        res, _ = self.send(self.smtps_conf(smtp_port=port))
        self.assertEqual(res["outcome"], "RETRY", res)
        self.assertIn("127.0.0.1:%d" % port, res["reason"])

    def test_16_smtps_verification_off_accepts_untrusted(self):
        res, err = self.send(self.smtps_conf(ca_file=self.peers.untrusted_ca_file,
                                             tls_verify="0", sent_folder=""))
        self.assertEqual(res["outcome"], "OK", res.get("reason", "") + err)

    def test_7_plain_only_on_loopback(self):
        before = self.inbox_count(CUSTOMER)
        res, err = self.send(self.conf(smtp_tls="plain", smtp_port=self.peers.mx_port,
                                       smtp_user="", sent_folder=""))
        self.assertEqual(res["outcome"], "OK", res.get("reason", "") + err)
        self.peers.wait_for(CUSTOMER, before + 1)
        res, _ = self.send(self.conf(smtp_tls="plain", smtp_host="mail.example.com"))
        self.assertEqual(res["outcome"], "PERMANENT")
        self.assertIn("loopback", res["reason"])

    def test_8_no_server_is_retried(self):
        port = mailpeers.free_ports(1)[0]
        res, _ = self.send(self.conf(smtp_port=port))
        self.assertEqual(res["outcome"], "RETRY")
        self.assertIn("127.0.0.1:%d" % port, res["reason"])

    def test_9_verification_off_accepts_untrusted(self):
        res, err = self.send(self.conf(ca_file=self.peers.untrusted_ca_file, tls_verify="0",
                                       sent_folder=""))
        self.assertEqual(res["outcome"], "OK", res.get("reason", "") + err)

    def test_10_sent_copy_over_starttls_into_new_folder(self):
        res, err = self.send(self.conf(imap_tls="starttls", imap_port=self.peers.imap_port,
                                       sent_folder="Replies"))
        self.assertEqual(res["outcome"], "OK", res.get("reason", "") + err)
        copies = self.peers.wait_for(SUPPORT, 1, folder="Replies")
        self.assertIn(("<%s>" % res["external_id"]).encode(), copies[-1])

    def test_11_failed_sent_copy_does_not_fail_the_send(self):
        res, err = self.send(self.conf(imap_port=mailpeers.free_ports(1)[0]))
        self.assertEqual(res["outcome"], "OK", res.get("reason", "") + err)
        self.assertIn("could not keep a copy", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
