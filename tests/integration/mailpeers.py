"""A real Dovecot + Postfix pair for warbler's email tests (Python standard library only).

MailPeers() starts, as ordinary processes under a private temp dir, on free
127.0.0.1 ports:

  * Dovecot: IMAP (STARTTLS, plain LOGIN allowed on loopback), IMAPS, LMTP on a
    unix socket, and an auth socket for Postfix.  Maildir under the temp dir,
    users from a passwd-file, mail owned by the unprivileged user `wbmail`
    (created with useradd when missing).
  * Postfix: an "MX" smtpd (no auth, accepts mail for example.test only), a
    submission smtpd (STARTTLS required, AUTH PLAIN/LOGIN through Dovecot) and
    an smtps smtpd (implicit TLS from the first byte, smtpd_tls_wrappermode,
    the same AUTH and restrictions as submission).
    example.test is delivered to Dovecot over LMTP; every other domain is
    bounced by the `error` transport, so nothing ever leaves the machine.

Nothing in /etc is read or written (besides looking up the users postfix,
postdrop, dovecot, dovenull and wbmail).  stop() ends every process of both
servers and removes the temp dir.  See MAILPEERS.md.
"""
import atexit
import email.utils
import imaplib
import os
import pwd
import grp
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time

DOMAIN = "example.test"
MAIL_USER = "wbmail"
POSTFIX_USER = "postfix"
POSTFIX_GROUP = "postdrop"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"
POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
PACKAGES = "dovecot-imapd dovecot-lmtpd postfix openssl"


class MailPeersError(RuntimeError):
    pass


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (bound together, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            data = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(data[-lines:]) or "(empty)"
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)


def _run(argv, what, env=None, timeout=60):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                       timeout=timeout)
    if p.returncode != 0:
        raise MailPeersError("%s failed (exit %d): %s\n%s" % (
            what, p.returncode, " ".join(argv), p.stdout.decode("utf-8", "replace")))
    return p.stdout.decode("utf-8", "replace")


def _session_pids(sid, zombies=False):
    """pids of processes in session `sid` (from /proc), zombies only when asked."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        # fields[0] = state, [1] = ppid, [2] = pgrp, [3] = session
        if (zombies or fields[0] != "Z") and int(fields[3]) == sid:
            out.append(int(d))
    return out


def ensure_mail_user():
    """The unprivileged owner of the test mail (Dovecot refuses to run mail as root)."""
    try:
        return pwd.getpwnam(MAIL_USER)
    except KeyError:
        pass
    if os.geteuid() != 0:
        raise MailPeersError("user %r is missing and we are not root to create it" % MAIL_USER)
    nologin = "/usr/sbin/nologin" if os.path.exists("/usr/sbin/nologin") else "/bin/false"
    try:
        _run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
              "/nonexistent", "--shell", nologin, MAIL_USER], "creating user " + MAIL_USER)
    except MailPeersError:
        try:
            return pwd.getpwnam(MAIL_USER)  # a parallel test created it first
        except KeyError:
            raise
    return pwd.getpwnam(MAIL_USER)


def check_prerequisites():
    """Raise MailPeersError with a clear message when the harness cannot run here."""
    if os.geteuid() != 0:
        raise MailPeersError("MailPeers needs root (Postfix's master and Dovecot start as root)")
    missing = [p for p in (DOVECOT, DOVEADM, POSTFIX, OPENSSL) if not os.path.exists(p)]
    if not os.path.exists("/usr/lib/dovecot/lmtp"):
        missing.append("/usr/lib/dovecot/lmtp")
    if not os.path.exists("/usr/lib/dovecot/imap"):
        missing.append("/usr/lib/dovecot/imap")
    if missing:
        raise MailPeersError("missing %s: apt-get install %s" % (", ".join(missing), PACKAGES))
    for u in (POSTFIX_USER, "dovecot", "dovenull"):
        try:
            pwd.getpwnam(u)
        except KeyError:
            raise MailPeersError("system user %r missing (apt-get install %s)" % (u, PACKAGES))
    try:
        grp.getgrnam(POSTFIX_GROUP)
    except KeyError:
        raise MailPeersError("group %r missing (apt-get install postfix)" % POSTFIX_GROUP)


class MailPeers:
    host = "127.0.0.1"
    users = {"support@" + DOMAIN: "password1", "customer@" + DOMAIN: "password2"}

    def __init__(self, tmpdir=None, start_timeout=30.0, auth_penalty=False):
        """Start Dovecot + Postfix under `tmpdir` (a fresh temp dir by default; a given
        dir is used as is and not removed at stop) and wait until every port answers.
        auth_penalty=True keeps Dovecot's per-IP delay after failed logins (off by
        default: see _start_dovecot)."""
        check_prerequisites()
        self.auth_penalty = auth_penalty
        self.users = dict(MailPeers.users)
        self._own_tmp = tmpdir is None
        # Dovecot's and Postfix's unprivileged processes must reach the temp dir.
        parent = os.path.dirname(os.path.abspath(tmpdir)) if tmpdir else \
            os.path.abspath(tempfile.gettempdir())
        while True:
            if not os.stat(parent).st_mode & 0o001:
                raise MailPeersError("%s is not searchable by other users (o+x), so Dovecot's "
                                     "and Postfix's unprivileged processes could not reach "
                                     "their sockets and mail there: set TMPDIR elsewhere"
                                     % parent)
            if parent == "/":
                break
            parent = os.path.dirname(parent)
        self.tmp = os.path.abspath(tmpdir or tempfile.mkdtemp(prefix="wb-mail-"))
        os.makedirs(self.tmp, exist_ok=True)
        os.chmod(self.tmp, 0o755)
        self.dovecot_log = os.path.join(self.tmp, "dovecot.log")
        self.postfix_log = os.path.join(self.tmp, "postfix.log")
        self._dovecot = None
        self._dovecot_sid = None
        self._postfix_sid = None
        self._stopped = False
        atexit.register(self.stop)
        self.mail_pw = ensure_mail_user()
        try:
            self._make_tls()
            self._make_password_files()
            last = None
            for _attempt in range(3):  # a port taken between free_ports() and bind()
                (self.imap_port, self.imaps_port, self.smtp_port, self.mx_port,
                 self.smtps_port) = free_ports(5)
                try:
                    self._start_dovecot(start_timeout)
                    self._start_postfix(start_timeout)
                    last = None
                    break
                except MailPeersError as e:
                    last = e
                    if "in use" not in str(e):
                        raise
                    self._stop_servers()
            if last:
                raise last
        except BaseException:
            self.stop()
            raise

    # ---------------------------------------------------------------- setup
    def _path(self, *p):
        return os.path.join(self.tmp, *p)

    def _make_tls(self):
        d = self._path("tls")
        os.makedirs(d, mode=0o755)
        self.ca_file = os.path.join(d, "ca.pem")
        self.untrusted_ca_file = os.path.join(d, "untrusted-ca.pem")
        self.cert_file = os.path.join(d, "server.pem")
        self.key_file = os.path.join(d, "server.key")
        ext = os.path.join(d, "ext.cnf")
        with open(ext, "w") as f:
            f.write("""[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
""")
        env = dict(os.environ, OPENSSL_CONF="/dev/null")  # not the machine's openssl.cnf
        for name, cn in (("ca", "warbler test CA"), ("untrusted-ca", "warbler untrusted CA")):
            _run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-days", "3",
                  "-subj", "/O=warbler tests/CN=" + cn,
                  "-keyout", os.path.join(d, name + ".key"), "-out", os.path.join(d, name + ".pem"),
                  "-config", ext, "-extensions", "ca"], "openssl CA", env=env)
        csr = os.path.join(d, "server.csr")
        _run([OPENSSL, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj",
              "/O=warbler tests/CN=localhost", "-keyout", self.key_file, "-out", csr,
              "-config", ext], "openssl server key", env=env)
        _run([OPENSSL, "x509", "-req", "-in", csr, "-CA", self.ca_file,
              "-CAkey", os.path.join(d, "ca.key"), "-CAcreateserial", "-days", "3",
              "-sha256", "-extfile", ext, "-extensions", "server", "-out", self.cert_file],
             "openssl server cert", env=env)
        for k in ("ca.key", "untrusted-ca.key", "server.key"):
            os.chmod(os.path.join(d, k), 0o600)

    def _make_password_files(self):
        d = self._path("secrets")
        os.makedirs(d, mode=0o700)
        self._pwfiles = {}
        for user, pw in self.users.items():
            p = os.path.join(d, user.split("@")[0] + ".password")
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, pw.encode() + b"\n")
            os.close(fd)
            self._pwfiles[user] = p

    def password_file(self, user):
        """Path of a 0600 file holding `user`'s password (one line, newline-terminated)."""
        return self._pwfiles[user]

    def maildir(self, user):
        """The user's Maildir root (INBOX is cur/new/tmp here, other folders are .NAME)."""
        local, dom = user.split("@")
        return self._path("mail", dom, local, "Maildir")

    def _start_dovecot(self, timeout):
        d = self._path("dovecot")
        run = os.path.join(d, "run")
        if not os.path.exists(d):
            os.makedirs(os.path.join(d, "state"), mode=0o755)
            mail = self._path("mail")
            os.makedirs(mail, mode=0o755)
            os.chown(mail, self.mail_pw.pw_uid, self.mail_pw.pw_gid)
            dom = os.path.join(mail, DOMAIN)
            os.makedirs(dom, mode=0o700)
            os.chown(dom, self.mail_pw.pw_uid, self.mail_pw.pw_gid)
            with open(os.path.join(d, "users"), "w") as f:
                for user, pw in self.users.items():
                    f.write("%s:{PLAIN}%s::::::\n" % (user, pw))
            os.chmod(os.path.join(d, "users"), 0o644)
        self.lmtp_socket = os.path.join(run, "lmtp-postfix")
        self.auth_socket = os.path.join(run, "auth-postfix")
        self.dovecot_conf = os.path.join(d, "dovecot.conf")
        dh = "ssl_dh = </usr/share/dovecot/dh.pem" if os.path.exists("/usr/share/dovecot/dh.pem") \
            else ""
        with open(self.dovecot_conf, "w") as f:
            f.write(f"""# Generated by tests/integration/mailpeers.py
instance_name = wbtest-{os.path.basename(self.tmp)}
base_dir = {run}
state_dir = {d}/state
log_path = {self.dovecot_log}
info_log_path = {self.dovecot_log}
protocols = imap lmtp
listen = 127.0.0.1
shutdown_clients = yes
default_internal_user = dovecot
default_login_user = dovenull

ssl = yes
ssl_cert = <{self.cert_file}
ssl_key = <{self.key_file}
{dh}
# Plain-text LOGIN is refused on non-TLS connections except from loopback,
# which Dovecot counts as secure: our tests connect from 127.0.0.1.
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_verbose = yes
# Fast failures for tests: no 2 s sleep per failed login (and see the
# anvil-auth-penalty comment in mailpeers.py).
auth_failure_delay = 0

mail_location = maildir:~/Maildir
mail_uid = {MAIL_USER}
mail_gid = {self.mail_pw.pw_gid}
first_valid_uid = 1
mail_privileged_group =

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid={self.mail_pw.pw_uid} gid={self.mail_pw.pw_gid} home={self.tmp}/mail/%d/%n
}}

namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    auto = subscribe
    special_use = \\Sent
  }}
  mailbox Trash {{
    special_use = \\Trash
  }}
}}

service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service lmtp {{
  unix_listener lmtp-postfix {{
    mode = 0666
  }}
}}
service auth {{
  unix_listener auth-postfix {{
    mode = 0666
  }}
}}
protocol lmtp {{
  postmaster_address = postmaster@{DOMAIN}
}}
""")
        # -F: stay in the foreground as our child; own session so stop() finds every
        # process it forked.
        self._dovecot_out = open(self._path("dovecot.stdout"), "ab")
        self._dovecot = subprocess.Popen([DOVECOT, "-F", "-c", self.dovecot_conf],
                                         stdout=self._dovecot_out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        self._dovecot_sid = self._dovecot.pid
        deadline = time.time() + timeout
        penalty = os.path.join(run, "anvil-auth-penalty")
        penalty_off = self.auth_penalty
        while True:
            if self._dovecot.poll() is not None:
                raise MailPeersError(self._dovecot_failure(
                    "dovecot exited with %d" % self._dovecot.returncode))
            if not penalty_off:
                # Dovecot delays every login from an IP for 2-15 s after a failed one
                # from it (the "auth penalty", kept by anvil), and there is no setting
                # to turn it off.  Postfix's SASL checks and our IMAP clients all come
                # from 127.0.0.1, so a single wrong-password test would slow every
                # later login.  The auth process (started on the first login, never
                # before our probes below) disables the penalty silently when this
                # socket is missing, so remove it before anything connects.
                if os.path.exists(penalty):
                    os.unlink(penalty)
                    penalty_off = True
            ok = (penalty_off and os.path.exists(self.lmtp_socket)
                  and os.path.exists(self.auth_socket)
                  and self._banner(self.imap_port, b"* OK")
                  and self._banner(self.imaps_port, b"* OK", tls=True))
            if ok:
                return
            if time.time() > deadline:
                raise MailPeersError(self._dovecot_failure("dovecot did not come up in %gs"
                                                           % timeout))
            time.sleep(0.05)

    def _dovecot_failure(self, what):
        msg = "%s\n--- %s ---\n%s\n--- %s ---\n%s" % (
            what, self.dovecot_log, _tail(self.dovecot_log), self._path("dovecot.stdout"),
            _tail(self._path("dovecot.stdout")))
        if "Address already in use" in msg:
            msg += "\n(port in use)"
        return msg

    def _start_postfix(self, timeout):
        pf = pwd.getpwnam(POSTFIX_USER)
        pd = grp.getgrnam(POSTFIX_GROUP)
        conf = self._path("postfix", "etc")
        queue = self._path("postfix", "spool")
        data = self._path("postfix", "lib")
        if not os.path.exists(conf):
            os.makedirs(conf, mode=0o755)
            os.makedirs(queue, mode=0o755)   # root-owned like /var/spool/postfix
            os.makedirs(data, mode=0o700)
            os.chown(data, pf.pw_uid, pf.pw_gid)
        self.postfix_conf_dir = conf
        self._postfix_queue = queue
        local_users = ", ".join("%s=ok" % u for u in self.users)
        with open(os.path.join(conf, "main.cf"), "w") as f:
            f.write(f"""# Generated by tests/integration/mailpeers.py
compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
mail_owner = {POSTFIX_USER}
setgid_group = {POSTFIX_GROUP}
maillog_file = {self.postfix_log}
maillog_file_prefixes = {self.tmp}
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = mail.{DOMAIN}
mydomain = {DOMAIN}
myorigin = $mydomain
mydestination =
mynetworks = 127.0.0.0/8
relayhost =
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = yes
message_size_limit = 52428800
# example.test goes to Dovecot over LMTP; nothing else is ever delivered.
virtual_mailbox_domains = {DOMAIN}
virtual_mailbox_maps = inline:{{ {local_users} }}
virtual_transport = lmtp:unix:{self.lmtp_socket}
default_transport = error:5.7.1 the warbler test harness delivers nowhere else
relay_transport = $default_transport
lmtp_destination_recipient_limit = 1
# Fast retries, so a test never waits minutes for a deferred message.
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
delay_warning_time = 0
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_tls_cert_file = {self.cert_file}
smtpd_tls_key_file = {self.key_file}
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_sasl_type = dovecot
smtpd_sasl_path = {self.auth_socket}
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
smtpd_tls_auth_only = yes
smtpd_error_sleep_time = 0
smtp_tls_security_level = none
lmtp_tls_security_level = none
""")
        h = self.host
        with open(os.path.join(conf, "master.cf"), "w") as f:
            f.write(f"""# Generated by mailpeers.py: no chroot, only what tests use.
{h}:{self.mx_port} inet n - n - - smtpd
  -o syslog_name=postfix/mx
{h}:{self.smtp_port} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
{h}:{self.smtps_port} inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
tlsmgr    unix - - n 1000? 1 tlsmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
lmtp      unix - - n - - lmtp
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
""")
        env = dict(os.environ, MAIL_CONFIG=conf)
        out = subprocess.run([POSTFIX, "-c", conf, "start"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, env=env, timeout=timeout)
        text = out.stdout.decode("utf-8", "replace")
        self._postfix_sid = self._postfix_master_pid()
        if out.returncode != 0:
            raise MailPeersError(self._postfix_failure("postfix start failed (exit %d):\n%s"
                                                       % (out.returncode, text)))
        deadline = time.time() + timeout
        while True:
            if self._postfix_sid is None:
                self._postfix_sid = self._postfix_master_pid()
            if (self._banner(self.mx_port, b"220") and self._banner(self.smtp_port, b"220")
                    and self._banner(self.smtps_port, b"220", tls=True)):
                return
            if time.time() > deadline:
                raise MailPeersError(self._postfix_failure("postfix did not answer in %gs"
                                                           % timeout))
            time.sleep(0.05)

    def _postfix_master_pid(self):
        try:
            with open(os.path.join(self._postfix_queue, "pid", "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def _postfix_failure(self, what):
        msg = "%s\n--- %s ---\n%s" % (what, self.postfix_log, _tail(self.postfix_log))
        if "Address already in use" in msg:
            msg += "\n(port in use)"
        return msg

    def _banner(self, port, expect, tls=False):
        try:
            with socket.create_connection((self.host, port), timeout=2) as s:
                if tls:
                    ctx = self.ssl_context()
                    with ctx.wrap_socket(s, server_hostname=self.host) as t:
                        return t.recv(64).startswith(expect)
                return s.recv(64).startswith(expect)
        except (OSError, ssl.SSLError):
            return False

    # ---------------------------------------------------------------- helpers
    def ssl_context(self, ca_file=None):
        """A client SSLContext that trusts only `ca_file` (default: the test CA)."""
        ctx = ssl.create_default_context(cafile=ca_file or self.ca_file)
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    def imap(self, user, tls="implicit"):
        """A logged-in imaplib client: tls = "implicit" (imaps_port), "starttls" or
        "none" (plain LOGIN on imap_port, allowed on loopback)."""
        if tls == "implicit":
            c = imaplib.IMAP4_SSL(self.host, self.imaps_port, ssl_context=self.ssl_context(),
                                  timeout=30)
        else:
            c = imaplib.IMAP4(self.host, self.imap_port, timeout=30)
            if tls == "starttls":
                c.starttls(self.ssl_context())
        c.login(user, self.users[user])
        return c

    def deliver(self, raw_bytes, mail_from, rcpt_to):
        """Hand a message to the MX port the way the internet would (no auth, no TLS).
        rcpt_to is an address or a list of them."""
        if isinstance(rcpt_to, str):
            rcpt_to = [rcpt_to]
        with smtplib.SMTP(self.host, self.mx_port, timeout=30) as s:
            refused = s.sendmail(mail_from, rcpt_to, raw_bytes)
        if refused:
            raise MailPeersError("recipients refused: %r" % refused)

    def submit(self, raw_bytes, user, mail_from=None, rcpt_to=None, implicit=False):
        """Send like a mail client: submission port with STARTTLS (or, with
        implicit=True, smtps_port with TLS from the first byte), verified with
        ca_file, AUTH as `user`."""
        if isinstance(rcpt_to, str):
            rcpt_to = [rcpt_to]
        if implicit:
            s = smtplib.SMTP_SSL(self.host, self.smtps_port, timeout=30,
                                 context=self.ssl_context())
        else:
            s = smtplib.SMTP(self.host, self.smtp_port, timeout=30)
        with s:
            if not implicit:
                s.starttls(context=self.ssl_context())
            s.login(user, self.users[user])
            s.sendmail(mail_from or user, rcpt_to, raw_bytes)

    @staticmethod
    def _quote(folder):
        return '"%s"' % folder.replace("\\", "\\\\").replace('"', '\\"')

    def fetch(self, user, folder="INBOX"):
        """Every message of `folder` as raw bytes, in UID order (IMAPS, verified)."""
        c = self.imap(user)
        try:
            typ, data = c.select(self._quote(folder), readonly=True)
            if typ != "OK":
                raise MailPeersError("SELECT %s failed: %r" % (folder, data))
            if int(data[0] or 0) == 0:
                return []
            typ, data = c.uid("FETCH", "1:*", "(BODY.PEEK[])")
            if typ != "OK":
                raise MailPeersError("FETCH failed: %r" % (data,))
            return [item[1] for item in data if isinstance(item, tuple)]
        finally:
            try:
                c.logout()
            except (OSError, imaplib.IMAP4.error):
                pass

    def wait_for(self, user, n, folder="INBOX", timeout=30):
        """Wait until `folder` holds at least n messages; return them all. On timeout
        raise with the Postfix and Dovecot log tails."""
        deadline = time.time() + timeout
        while True:
            msgs = self.fetch(user, folder)
            if len(msgs) >= n:
                return msgs
            if time.time() > deadline:
                raise MailPeersError(
                    "%s/%s has %d messages after %gs, want %d\n--- postfix ---\n%s\n"
                    "--- dovecot ---\n%s" % (user, folder, len(msgs), timeout, n,
                                             _tail(self.postfix_log), _tail(self.dovecot_log)))
            time.sleep(0.1)

    def append(self, user, raw_bytes, folder="INBOX", flags=None):
        """IMAP APPEND (for seeding); creates the folder when missing."""
        c = self.imap(user)
        try:
            c.create(self._quote(folder))  # NO when it exists: fine
            typ, data = c.append(self._quote(folder), flags, None, raw_bytes)
            if typ != "OK":
                raise MailPeersError("APPEND failed: %r" % (data,))
        finally:
            c.logout()

    def uidvalidity(self, user, folder="INBOX"):
        c = self.imap(user)
        try:
            typ, data = c.status(self._quote(folder), "(UIDVALIDITY)")
            if typ != "OK":
                raise MailPeersError("STATUS failed: %r" % (data,))
            return int(data[0].split(b"UIDVALIDITY")[1].strip(b" )"))
        finally:
            c.logout()

    def doveadm(self, *args):
        """Run `doveadm -c OUR_CONF ARGS...` and return its output."""
        return _run([DOVEADM, "-c", self.dovecot_conf] + list(args), "doveadm")

    def uidvalidity_bump(self, user, folder="INBOX"):
        """Make `folder`'s UIDVALIDITY change the way a server-side mailbox rebuild does:
        every message keeps its content and flags but gets a new UID, and UIDVALIDITY
        becomes strictly greater.  Done with doveadm while Dovecot runs:
        move all messages to a scratch folder, `doveadm mailbox update --uid-validity`,
        move them back (new UIDs), delete the scratch folder.
        A client with the folder selected gets "* BYE IMAP session state is
        inconsistent, please relogin." on its next command (real Dovecot behaviour).
        Returns (old, new) UIDVALIDITY."""
        old = self.uidvalidity(user, folder)
        scratch = "wbtest-uidvalidity-scratch"
        self.doveadm("mailbox", "create", "-u", user, scratch)
        self.doveadm("move", "-u", user, scratch, "mailbox", folder, "all")
        new = max(old + 1, int(time.time()))
        self.doveadm("mailbox", "update", "-u", user, "--uid-validity", str(new), folder)
        self.doveadm("move", "-u", user, folder, "mailbox", scratch, "all")
        self.doveadm("mailbox", "delete", "-u", user, scratch)
        got = self.uidvalidity(user, folder)
        if got == old:
            raise MailPeersError("UIDVALIDITY of %s/%s did not change (%d)" % (user, folder, old))
        return old, got

    def pids(self):
        """pids of every live Dovecot and Postfix process of this instance."""
        out = []
        for sid in (self._dovecot_sid, self._postfix_sid):
            if sid:
                out += _session_pids(sid)
        return out

    def sessions(self):
        """Session ids of the two servers (for `pgrep -s`)."""
        return [s for s in (self._dovecot_sid, self._postfix_sid) if s]

    # ---------------------------------------------------------------- stop
    def _stop_servers(self):
        # Postfix: orderly stop, then wait for its whole session to go.
        if self._postfix_sid is None and hasattr(self, "_postfix_queue"):
            self._postfix_sid = self._postfix_master_pid()
        if hasattr(self, "postfix_conf_dir") and self._postfix_sid:
            subprocess.run([POSTFIX, "-c", self.postfix_conf_dir, "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env=dict(os.environ, MAIL_CONFIG=self.postfix_conf_dir), timeout=30)
            self._reap(self._postfix_sid)
        self._postfix_sid = None
        if self._dovecot is not None:
            if self._dovecot.poll() is None:
                self._dovecot.send_signal(signal.SIGTERM)
                try:
                    self._dovecot.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self._dovecot.kill()
                    self._dovecot.wait(timeout=15)
            self._reap(self._dovecot_sid)
            self._dovecot_out.close()
            self._dovecot = None
        self._dovecot_sid = None

    @staticmethod
    def _reap(sid, timeout=15.0):
        deadline = time.time() + timeout
        while _session_pids(sid):
            if time.time() > deadline:
                for p in _session_pids(sid):
                    try:
                        os.kill(p, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.2)
                break
            time.sleep(0.05)
        # Children whose parent exited first are reaped by init: give it a moment so
        # that `pgrep -s SID` (which lists zombies too) comes back empty.
        deadline = time.time() + 5
        while _session_pids(sid, zombies=True) and time.time() < deadline:
            time.sleep(0.05)

    def stop(self):
        """End every process of both servers and remove the temp dir (if ours).
        Idempotent; also registered with atexit."""
        if self._stopped:
            return
        self._stopped = True
        try:
            self._stop_servers()
        finally:
            atexit.unregister(self.stop)
            if self._own_tmp and not os.environ.get("WB_KEEP_MAILPEERS"):
                shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def make_message(mail_from, to, subject, body, message_id=None, date=None, extra_headers=()):
    """A small RFC 5322 text/plain message as bytes (CRLF line ends)."""
    from email.message import EmailMessage
    import email.policy
    m = EmailMessage(policy=email.policy.SMTP)
    m["From"] = mail_from
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = date or email.utils.formatdate(localtime=True)
    m["Message-ID"] = message_id or email.utils.make_msgid(domain=DOMAIN)
    for k, v in extra_headers:
        m[k] = v
    m.set_content(body)
    return m.as_bytes()


def warbler_channel_conf(peers, ch_id="mail", ca_file=None, extra="", smtps=False):
    """The text of an email channel on support@ for warblerd's `channels` list
    (with a leading comma, to follow another entry): tests and benchmarks."""
    smtp = (f'smtp_port = {peers.smtps_port}; smtp_tls = "implicit";' if smtps else
            f'smtp_port = {peers.smtp_port}; smtp_tls = "starttls";')
    return f""",
  {{ id = "{ch_id}"; type = "email"; address = "support@example.test"; display_name = "Example Support";
     imap_host = "{peers.host}"; imap_port = {peers.imaps_port}; imap_tls = "implicit";
     imap_user = "support@example.test"; imap_password_file = "{peers.password_file("support@example.test")}";
     smtp_host = "{peers.host}"; {smtp}
     smtp_user = "support@example.test"; smtp_password_file = "{peers.password_file("support@example.test")}";
     ca_file = "{ca_file or peers.ca_file}"; poll_interval = "1s"; timeout = "10s"; {extra} }}"""


if __name__ == "__main__":
    # Manual use: start the pair, print how to reach it, stop on Enter / Ctrl-C.
    t0 = time.time()
    p = MailPeers()
    print("up in %.2fs: imap %d imaps %d submission %d smtps %d mx %d\nca %s\ntmp %s" % (
        time.time() - t0, p.imap_port, p.imaps_port, p.smtp_port, p.smtps_port, p.mx_port,
        p.ca_file, p.tmp))
    try:
        input("Enter to stop> ")
    except (KeyboardInterrupt, EOFError):
        pass
    p.stop()
