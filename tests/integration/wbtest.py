"""Shared helpers for warbler's integration tests (Python standard library only).

Starts warblerd on a temporary config with an ephemeral port, runs a local
callback server that records what the API channel delivers, and signs
requests the way the API channel expects.
"""
import hashlib
import hmac
import http.client
import http.server
import json
import os
import signal
import socketserver
import subprocess
import tempfile
import threading
import time

SECRET = b"integration-test-secret-0123456789"
SOURCE_DIR = os.environ.get(
    "WB_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD_DIR = os.environ.get("WB_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))


def sign(body: bytes, secret: bytes = SECRET) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class Callback:
    """A local HTTP server standing in for the business's callback endpoint.

    `plan` decides the status per request: a function (path, body, n) -> status.
    Every request is recorded with its headers and parsed body.
    """

    def __init__(self, plan=None):
        self.records = []
        self.lock = threading.Lock()
        self.plan = plan or (lambda rec, n: 200)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n)
                rec = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                       "raw": raw}
                try:
                    rec["json"] = json.loads(raw)
                except ValueError:
                    rec["json"] = None
                with outer.lock:
                    outer.records.append(rec)
                    count = len(outer.records)
                status = outer.plan(rec, count)
                extra = {}
                if isinstance(status, tuple):
                    status, extra = status
                body = b'{"ok":true}'
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                pass  # a client (warblerd) killed mid-request is expected here

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/warbler/callback" % self.port

    def snapshot(self):
        with self.lock:
            return list(self.records)

    def wait_for(self, pred, timeout=15.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            recs = self.snapshot()
            if pred(recs):
                return recs
            time.sleep(0.05)
        return self.snapshot()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def warblerd_path():
    return os.environ.get("WARBLERD", os.path.join(BUILD_DIR, "src", "warblerd"))


class Daemon:
    """warblerd on a temp config; `extra` is appended inside the top level."""

    def __init__(self, callback_url, tmp=None, outbox="", channels_extra="", extra="",
                 knowledge=None, bot_extra=""):
        self.tmp = tmp or tempfile.mkdtemp(prefix="wb-it-")
        self.secret_file = os.path.join(self.tmp, "api.secret")
        if not os.path.exists(self.secret_file):
            fd = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT, 0o600)
            os.write(fd, SECRET + b"\n")
            os.close(fd)
        self.conf = os.path.join(self.tmp, "warbler.conf")
        self.port_file = os.path.join(self.tmp, "port")
        self.log_path = os.path.join(self.tmp, "warblerd.log")
        knowledge = knowledge or os.path.join(SOURCE_DIR, "etc", "knowledge")
        with open(self.conf, "w") as f:
            f.write(f"""
state_dir = "{self.tmp}/state";
log = {{ level = "info"; sink = "stderr"; }};
http = {{ listen = "127.0.0.1"; port = 0; max_body = "64k"; }};
core = {{ batch_wait = "1ms"; }};
outbox = {{ backoff_base = "100ms"; backoff_max = "1s"; timeout = "5s"; {outbox} }};
bot = {{ knowledge_dir = "{knowledge}"; {bot_extra} }};
channels = (
  {{ id = "api-main"; type = "api"; secret_file = "{self.secret_file}";
     callback_url = "{callback_url}"; }}{channels_extra}
);
{extra}
""")
        self.proc = None
        self.port = None

    def start(self, timeout=15.0):
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([warblerd_path(), "-c", self.conf, "-p", self.port_file],
                                     stdout=self.log, stderr=self.log)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("warblerd exited with %d:\n%s" % (self.proc.returncode,
                                                                      self.read_log()))
            if os.path.exists(self.port_file):
                with open(self.port_file) as f:
                    self.port = int(f.read().strip())
                return self
            time.sleep(0.02)
        raise RuntimeError("warblerd did not start:\n" + self.read_log())

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)
        self.log.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.kill(signal.SIGTERM)

    def request(self, method, path, body=b"", headers=None, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data
        finally:
            c.close()

    def post_message(self, sender_id, msg_id, text, name=None, email=None, secret=SECRET,
                     channel="api-main", timeout=30):
        sender = {"id": sender_id}
        if name:
            sender["name"] = name
        if email:
            sender["email"] = email
        body = json.dumps({"sender": sender, "message": {"id": msg_id, "text": text}},
                          ensure_ascii=False).encode()
        st, hdrs, data = self.request("POST", "/hooks/" + channel, body, {
            "Content-Type": "application/json", "X-Warbler-Signature": sign(body, secret)},
            timeout=timeout)
        try:
            return st, json.loads(data)
        except ValueError:
            return st, data

    def health(self):
        st, _, data = self.request("GET", "/healthz")
        return st, json.loads(data)

    def db(self):
        import sqlite3
        return sqlite3.connect("file:%s/state/warbler.db?mode=ro" % self.tmp, uri=True,
                               timeout=10)
