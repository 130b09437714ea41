"""The optional LLM step, end to end: warblerd's bot retrieves passages, the
http thread calls a local OpenAI-compatible endpoint (a fake that checks the
request shape), and the customer gets the model's answer; on a 500 or a
timeout the customer gets the retrieved passage instead."""
import http.server
import json
import os
import socketserver
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import wbtest  # noqa: E402

KEY = "sk-integration-test"


class FakeLLM:
    def __init__(self):
        self.requests = []
        self.problems = []
        self.mode = "ok"
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.check(self.path, self.headers, body)
                mode = outer.mode
                if mode == "slow":
                    time.sleep(3)
                if mode == "hang":
                    time.sleep(20)
                if mode == "error":
                    data = b'{"error":{"message":"overloaded"}}'
                    self.send_response(500)
                else:
                    data = json.dumps({"id": "chatcmpl-1", "object": "chat.completion",
                                       "choices": [{"index": 0, "finish_reason": "stop",
                                                    "message": {"role": "assistant",
                                                                "content": "LLM-ANSWER: refunds "
                                                                           "take 5 days."}}]}).encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:
                    pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def check(self, path, headers, body):
        self.requests.append(body)
        if path != "/v1/chat/completions":
            self.problems.append("path " + path)
        if headers.get("Authorization") != "Bearer " + KEY:
            self.problems.append("authorization")
        if not headers.get("Content-Type", "").startswith("application/json"):
            self.problems.append("content-type")
        try:
            j = json.loads(body)
        except ValueError:
            self.problems.append("body not JSON")
            return
        msgs = j.get("messages") or []
        if j.get("model") != "test-model" or not isinstance(j.get("max_tokens"), int):
            self.problems.append("model/max_tokens")
        if len(msgs) < 2 or msgs[0].get("role") != "system" or msgs[-1].get("role") != "user":
            self.problems.append("messages shape")


def start_daemon(cb, llm, timeout):
    """warblerd with the LLM step pointed at llm, its API key in a 0600 file."""
    tmp = tempfile.mkdtemp(prefix="wb-llm-")
    keyfile = os.path.join(tmp, "llm.key")
    fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, KEY.encode() + b"\n")
    os.close(fd)
    return wbtest.Daemon(cb.url, tmp=tmp, bot_extra=(
        'llm_enabled = true; llm_base_url = "%s"; llm_model = "test-model"; '
        'llm_api_key_file = "%s"; llm_timeout = "%s";' % (llm.url, keyfile, timeout))).start()


class LLM(unittest.TestCase):
    def test_llm_answer_and_fallbacks(self):
        llm = FakeLLM()
        cb = wbtest.Callback()
        d = start_daemon(cb, llm, "1s")
        try:
            def reply_for(rid):
                recs = cb.wait_for(lambda rs: any(r["json"]["recipient"]["id"] == rid
                                                  for r in rs), timeout=15)
                got = [r for r in recs if r["json"]["recipient"]["id"] == rid]
                self.assertEqual(len(got), 1, rid)
                return got[0]["json"]["message"]["text"]

            st, _ = d.post_message("llm-ok", "llm-1", "How long does a refund take?")
            self.assertEqual(st, 200)
            self.assertEqual(reply_for("llm-ok"), "LLM-ANSWER: refunds take 5 days.")

            llm.mode = "error"
            d.post_message("llm-err", "llm-2", "How long does a refund take?")
            text = reply_for("llm-err")
            self.assertNotIn("LLM-ANSWER", text)
            self.assertTrue(text)

            llm.mode = "slow"
            t0 = time.time()
            d.post_message("llm-slow", "llm-3", "How long does a refund take?")
            text = reply_for("llm-slow")
            self.assertNotIn("LLM-ANSWER", text)
            self.assertLess(time.time() - t0, 3.0, "the timeout must cut the call short")

            # greetings never reach the LLM
            n = len(llm.requests)
            llm.mode = "ok"
            d.post_message("llm-hi", "llm-4", "hello")
            self.assertNotIn("LLM-ANSWER", reply_for("llm-hi"))
            self.assertEqual(len(llm.requests), n)
            self.assertEqual(llm.problems, [])
            self.assertNotIn(KEY, d.read_log(), "the API key must never be logged")
            self.assertEqual(d.read_log().count("LLM not used"), 2, d.read_log())
            with d.db() as db:
                drafts = db.execute("SELECT count(*) FROM messages WHERE delivery = 4").fetchone()[0]
            self.assertEqual(drafts, 0, "every draft must be finished")
        finally:
            d.stop()
            cb.close()

    def test_draft_survives_a_crash(self):
        llm = FakeLLM()
        llm.mode = "hang"
        cb = wbtest.Callback()
        d = start_daemon(cb, llm, "30s")
        try:
            st, _ = d.post_message("crash-1", "cr-1", "How long does a refund take?")
            self.assertEqual(st, 200)
            deadline = time.time() + 10
            while time.time() < deadline and not llm.requests:
                time.sleep(0.05)
            self.assertEqual(len(llm.requests), 1)
            d.kill()
            self.assertEqual(cb.snapshot(), [])
            d.start()
            recs = cb.wait_for(lambda rs: len(rs) >= 1, timeout=15)
            self.assertEqual(len(recs), 1)
            self.assertNotIn("LLM-ANSWER", recs[0]["json"]["message"]["text"])
            self.assertIn("draft answer(s) left by a crash", d.read_log())
        finally:
            d.stop()
            cb.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
