#!/usr/bin/env python3
"""Fake OpenAI-compatible /v1/chat/completions endpoint for the bot's LLM test.

Checks each request's shape (method, path, headers, JSON body) the way the
real API documents it, answers according to the model name, and runs the
round-trip program given on the command line with the endpoint's base URL:

    fake_llm.py PROGRAM [ARGS...]      # PROGRAM gets BASE_URL appended

Models: "ok" answers from the passages, "handoff" declines, "slow" answers
after 3 s (longer than the test's timeout), "error" answers HTTP 500.
A malformed request gets HTTP 400 and makes the whole test fail.
"""
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEY = "sk-fake-test-key"
problems = []


def check(req, headers, body):
    errs = []
    if req != "/v1/chat/completions":
        errs.append("path %s" % req)
    if headers.get("Content-Type") != "application/json":
        errs.append("content-type %r" % headers.get("Content-Type"))
    if headers.get("Authorization") != "Bearer " + KEY:
        errs.append("authorization header missing or wrong")
    try:
        j = json.loads(body)
    except ValueError as e:
        return errs + ["body is not JSON: %s" % e], None
    if not isinstance(j.get("model"), str):
        errs.append("model")
    if not isinstance(j.get("max_tokens"), int) or j["max_tokens"] <= 0:
        errs.append("max_tokens")
    msgs = j.get("messages")
    if not isinstance(msgs, list) or len(msgs) < 2:
        errs.append("messages")
    else:
        if msgs[0].get("role") != "system" or not msgs[0].get("content"):
            errs.append("first message must be the system prompt")
        if msgs[-1].get("role") != "user" or "Passages" not in msgs[-1].get("content", ""):
            errs.append("last message must be the user's, with the passages")
    if j.get("stream") not in (None, False):
        errs.append("stream must be off")
    return errs, j


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        errs, j = check(self.path, self.headers, body)
        if errs:
            problems.extend(errs)
            self.reply(400, {"error": {"message": "; ".join(errs)}})
            return
        model = j["model"]
        if model == "error":
            self.reply(500, {"error": {"message": "overloaded"}})
            return
        if model == "slow":
            time.sleep(3)
        content = "HANDOFF\nI will ask a colleague." if model == "handoff" else \
            "LLM: annual plans are refunded within 30 days."
        self.reply(200, {"id": "chatcmpl-1", "object": "chat.completion",
                         "choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant", "content": content}}]})

    def do_GET(self):
        problems.append("GET %s" % self.path)
        self.reply(405, {})


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d" % srv.server_address[1]
    rc = subprocess.call(sys.argv[1:] + [url, KEY])
    srv.shutdown()
    for p in problems:
        print("fake_llm: bad request:", p)
    sys.exit(1 if problems else rc)


if __name__ == "__main__":
    main()
