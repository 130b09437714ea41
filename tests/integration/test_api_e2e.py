"""End to end: warblerd with the API channel, a real SQLite store, the bot and
a local callback server.  Run by ctest (label: integration)."""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import wbtest  # noqa: E402


class ApiChannel(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        def plan(rec, n):
            text = (rec["json"] or {}).get("recipient", {}).get("id", "")
            if text.startswith("flaky"):
                # fail the first attempt for this recipient, with Retry-After
                seen = [r for r in cls.cb.snapshot()
                        if (r["json"] or {}).get("recipient", {}).get("id") == text]
                if len(seen) == 1:
                    return 503, {"Retry-After": "1"}
            if text.startswith("refuse"):
                return 400
            return 200
        cls.cb = wbtest.Callback(plan)
        cls.d = wbtest.Daemon(cls.cb.url).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.cb.close()

    def replies_to(self, recipient, n=1, timeout=15):
        recs = self.cb.wait_for(
            lambda rs: len([r for r in rs if (r["json"] or {}).get("recipient", {}).get("id")
                            == recipient]) >= n, timeout)
        return [r for r in recs if (r["json"] or {}).get("recipient", {}).get("id") == recipient]

    def test_message_answered_signed_once(self):
        st, body = self.d.post_message("u-42", "m-1001", "How long does a refund take?",
                                       name="Li Lei", email="li@example.com")
        self.assertEqual(st, 200, body)
        self.assertFalse(body["duplicate"])
        self.assertGreater(body["conversation_id"], 0)
        self.assertGreater(body["message_id"], 0)
        st2, body2 = self.d.post_message("u-42", "m-1001", "How long does a refund take?")
        self.assertEqual(st2, 200)
        self.assertTrue(body2["duplicate"])
        self.assertEqual(body2["message_id"], body["message_id"])
        self.assertEqual(body2["conversation_id"], body["conversation_id"])
        recs = self.replies_to("u-42")
        self.assertEqual(len(recs), 1)
        time.sleep(0.5)
        recs = self.replies_to("u-42")
        self.assertEqual(len(recs), 1, "a duplicate delivery must not be answered twice")
        r = recs[0]
        self.assertEqual(r["headers"]["x-warbler-signature"], wbtest.sign(r["raw"]))
        self.assertTrue(r["headers"]["idempotency-key"])
        self.assertEqual(r["headers"]["content-type"], "application/json")
        msg = r["json"]
        self.assertEqual(msg["conversation_id"], body["conversation_id"])
        self.assertEqual(msg["message"]["author"], "bot")
        self.assertTrue(msg["message"]["text"])
        self.assertTrue(msg["message"]["id"])
        with self.d.db() as db:
            n = db.execute("SELECT count(*) FROM messages WHERE channel_id='api-main' AND "
                           "external_id='m-1001'").fetchone()[0]
            self.assertEqual(n, 1)

    def test_bad_requests(self):
        body = json.dumps({"sender": {"id": "x"}, "message": {"id": "b-1", "text": "hi"}}).encode()
        cases = [
            ("no signature", "/hooks/api-main", body, {"Content-Type": "application/json"}, 401),
            ("wrong signature", "/hooks/api-main", body,
             {"Content-Type": "application/json", "X-Warbler-Signature": wbtest.sign(body, b"nope")},
             401),
            ("malformed json", "/hooks/api-main", b"{\"sender\":",
             {"Content-Type": "application/json", "X-Warbler-Signature": wbtest.sign(b"{\"sender\":")},
             400),
            ("missing fields", "/hooks/api-main", b"{\"sender\":{\"id\":\"x\"}}",
             {"Content-Type": "application/json",
              "X-Warbler-Signature": wbtest.sign(b"{\"sender\":{\"id\":\"x\"}}")}, 400),
            ("unknown channel", "/hooks/nope", body,
             {"Content-Type": "application/json", "X-Warbler-Signature": wbtest.sign(body)}, 404),
            ("unknown route", "/elsewhere", b"", {}, 404),
        ]
        for label, path, b, h, want in cases:
            with self.subTest(label):
                st, hdrs, data = self.d.request("POST", path, b, h)
                self.assertEqual(st, want, data)
                self.assertIn("error", json.loads(data))
        # a chunked body (no Content-Length) is refused at once, not left hanging
        import socket
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=5) as sock:
            sock.sendall(b"POST /hooks/api-main HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"7\r\n{\"a\":1}\r\n0\r\n\r\n")
            head = sock.recv(4096)
        self.assertTrue(head.startswith(b"HTTP/1.1 411"), head[:80])
        big = b"{" + b" " * (80 * 1024) + b"}"
        st, _, data = self.d.request("POST", "/hooks/api-main", big, {
            "Content-Type": "application/json", "X-Warbler-Signature": wbtest.sign(big)})
        self.assertEqual(st, 413)
        self.assertIn("error", json.loads(data))
        with self.d.db() as db:
            n = db.execute("SELECT count(*) FROM messages WHERE external_id='b-1'").fetchone()[0]
            self.assertEqual(n, 0, "a refused request must store nothing")

    def test_retry_keeps_idempotency_key(self):
        st, body = self.d.post_message("flaky-1", "f-1", "Do you ship to Canada?")
        self.assertEqual(st, 200)
        recs = self.replies_to("flaky-1", 2, timeout=20)
        self.assertEqual(len(recs), 2, "the 503 must be retried")
        self.assertEqual(recs[0]["headers"]["idempotency-key"], recs[1]["headers"]["idempotency-key"])
        self.assertEqual(recs[0]["raw"], recs[1]["raw"])

    def test_permanent_failure_is_dead(self):
        st, body = self.d.post_message("refuse-1", "r-1", "hello?")
        self.assertEqual(st, 200)
        self.replies_to("refuse-1", 1)
        deadline = time.time() + 10
        state = None
        while time.time() < deadline:
            with self.d.db() as db:
                row = db.execute("SELECT state, last_error FROM outbox o JOIN messages m ON "
                                 "m.id = o.message_id WHERE o.recipient_id='refuse-1'").fetchone()
            if row and row[0] != 0:
                state = row
                break
            time.sleep(0.1)
        self.assertIsNotNone(state, "the outbox row must leave pending")
        self.assertIn("400", state[1])
        time.sleep(0.5)
        self.assertEqual(len(self.replies_to("refuse-1", 1)), 1, "4xx must not be retried")

    def test_health_and_metrics(self):
        st, h = self.d.health()
        self.assertEqual(st, 200)
        self.assertEqual(h["status"], "ok")
        ch = [c for c in h["channels"] if c["id"] == "api-main"][0]
        self.assertEqual(ch["type"], "api")
        self.assertIn(ch["state"], ("up", "degraded", "down"))
        self.d.post_message("metrics-1", "mx-1", "thanks")
        st, hdrs, data = self.d.request("GET", "/metrics")
        self.assertEqual(st, 200)
        text = data.decode()
        self.assertTrue(hdrs["content-type"].startswith("text/plain"))
        for name in ("warbler_inbound_messages_total{channel=\"api-main\"}",
                     "warbler_outbox_depth", "warbler_outbox_retries_total",
                     "warbler_outbox_dead_letters_total", "warbler_batch_size_bucket",
                     "warbler_ingest_latency_seconds_bucket", "warbler_outbound_messages_total"):
            self.assertIn(name, text)
        inbound = [l for l in text.splitlines()
                   if l.startswith("warbler_inbound_messages_total{channel=\"api-main\"}")][0]
        self.assertGreaterEqual(int(inbound.split()[-1]), 1)

    def test_reload_keeps_old_config_on_error(self):
        with open(self.d.conf) as f:
            good = f.read()
        try:
            with open(self.d.conf, "w") as f:
                f.write(good + "\nhttp_typo = 1;\n")
            self.d.proc.send_signal(signal.SIGHUP)
            time.sleep(0.5)
            self.assertIn("reload failed", self.d.read_log())
            st, body = self.d.post_message("reload-1", "rl-1", "still there?")
            self.assertEqual(st, 200)
        finally:
            with open(self.d.conf, "w") as f:
                f.write(good)
        self.d.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        self.assertIn("reloaded", self.d.read_log())
        st, body = self.d.post_message("reload-2", "rl-2", "and now?")
        self.assertEqual(st, 200)

    def test_second_daemon_on_the_database_refused(self):
        # same config, so the same database: the caches of the running one stay exact
        r = subprocess.run([wbtest.warblerd_path(), "-c", self.d.conf], capture_output=True,
                           text=True, timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("is in use by another warblerd", self.d.read_log() + r.stderr)
        st, _ = self.d.post_message("lock-1", "lk-1", "still here?")
        self.assertEqual(st, 200)

    def test_config_check(self):
        ok = subprocess.run([wbtest.warblerd_path(), "-t", "-c", self.d.conf],
                            capture_output=True, text=True)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        bad = os.path.join(self.d.tmp, "bad.conf")
        with open(bad, "w") as f:
            f.write('http = {\n  port = "eighty";\n};\n')
        r = subprocess.run([wbtest.warblerd_path(), "-t", "-c", bad], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 78)
        self.assertIn("bad.conf:2", r.stderr)
        self.assertIn("port", r.stderr)


class Privileges(unittest.TestCase):
    """Started as root with `user` set, warblerd binds, then runs as that user."""

    def test_switches_user(self):
        import pwd
        import shutil
        import tempfile
        self.assertEqual(os.geteuid(), 0, "this test (like the README's test command) runs as root")
        tmp = tempfile.mkdtemp(prefix="wb-priv-")
        os.chmod(tmp, 0o755)  # the unprivileged user must reach its state directory
        kb = os.path.join(tmp, "knowledge")
        shutil.copytree(os.path.join(wbtest.SOURCE_DIR, "etc", "knowledge"), kb)
        cb = wbtest.Callback()
        d = wbtest.Daemon(cb.url, tmp=tmp, knowledge=kb, extra='user = "nobody";').start()
        try:
            nobody = pwd.getpwnam("nobody")
            with open("/proc/%d/status" % d.proc.pid) as f:
                uids = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
            self.assertEqual(set(uids), {str(nobody.pw_uid)}, uids)
            st, body = d.post_message("priv-1", "priv-1", "How long does a refund take?")
            self.assertEqual(st, 200, body)
            self.assertEqual(os.stat(os.path.join(tmp, "state", "warbler.db")).st_uid,
                             nobody.pw_uid)
            self.assertIn("running as user nobody", d.read_log())
        finally:
            d.stop()
            cb.close()


class KnowledgeReload(unittest.TestCase):
    """Editing the knowledge files changes the bot's answers without a restart."""

    def test_new_article_is_used(self):
        import shutil
        import tempfile
        kb = tempfile.mkdtemp(prefix="wb-kb-")
        for f in os.listdir(os.path.join(wbtest.SOURCE_DIR, "etc", "knowledge")):
            shutil.copy(os.path.join(wbtest.SOURCE_DIR, "etc", "knowledge", f), kb)
        cb = wbtest.Callback()
        d = wbtest.Daemon(cb.url, knowledge=kb).start()
        try:
            q = "Can I pay for my subscription with zorbleflux tokens?"
            d.post_message("kb-1", "kb-1", q)
            first = cb.wait_for(lambda rs: len(rs) >= 1)[0]["json"]["message"]["text"]
            self.assertNotIn("zorbleflux", first.lower())
            with open(os.path.join(kb, "zz-tokens.md"), "w") as f:
                f.write("# Paying with zorbleflux tokens\n\n"
                        "Zorbleflux tokens are accepted for every subscription plan: "
                        "add them under Billing > Payment methods.\n")
            deadline = time.time() + 15
            while time.time() < deadline and "bot: knowledge base swapped" not in d.read_log():
                time.sleep(0.2)
            self.assertIn("bot: knowledge base swapped", d.read_log())
            d.post_message("kb-2", "kb-2", q)
            recs = cb.wait_for(lambda rs: len(rs) >= 2)
            second = [r for r in recs if r["json"]["recipient"]["id"] == "kb-2"][0]
            self.assertIn("zorbleflux", second["json"]["message"]["text"].lower())
        finally:
            d.stop()
            cb.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
