"""Real mail servers for the tests and `msghub bench email`: Debian's Postfix and Dovecot on loopback.

Everything lives in one throw-away directory: a CA and a server certificate
(openssl), Postfix's config, queue and log, Dovecot's config, state and log,
and the maildirs Postfix's virtual agent writes and Dovecot's POP3 reads.
Postfix's master must start as root (it then runs its daemons as the
unprivileged `postfix` user); Dovecot's login and auth processes run as
`dovenull`/`dovecot`, and mail is stored as `nobody`. Every port is a free
loopback port; stop() stops both and removes the directory.

Addresses (domain example.test):
  hub@example.test, alice@example.test, bob@example.test  mailboxes (password PASSWORD)
  anything@gone.example.test   accepted, then bounced by Postfix (a DSN to the sender)
  unknown@example.test         refused at RCPT (550 user unknown)
  later@example.test           deferred at RCPT (450 try again later)
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from msghub.devtools.mailservers_conf import DOVECOT_CONF, MAIN_CF, MASTER_CF

DOMAIN = "example.test"
USERS = ("hub", "alice", "bob")
PASSWORD = "mail-s3cret"
MESSAGE_SIZE_LIMIT = 200_000
START_TIMEOUT_S = 30.0
SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")


class ServersMissing(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tool(name: str) -> str:
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), *SBIN]))
    if found is None:
        raise ServersMissing(f"{name} is not installed: run scripts/install-test-deps")
    return found


@dataclass
class Ports:
    smtp: int        # STARTTLS offered, AUTH accepted
    submission: int  # STARTTLS required before AUTH
    smtps: int       # implicit TLS
    pop3: int        # STLS offered
    pop3s: int       # implicit TLS
    auth: int        # Dovecot's auth service, for Postfix's SASL


def make_ca(directory: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a certificate for localhost/127.0.0.1 signed by it."""
    openssl = _tool("openssl")
    ca_key, ca_cert = directory / "ca.key", directory / "ca.pem"
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    ext = directory / "server.ext"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                   "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca_cert),
        "-days", "2", "-subj", "/CN=msghub test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=localhost")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key), "-CAcreateserial",
        "-out", str(cert), "-days", "2", "-extfile", str(ext))
    os.chmod(key, 0o644)  # read by Postfix's and Dovecot's unprivileged processes
    return ca_cert, cert, key


class MailServers:
    def __init__(self) -> None:
        if os.geteuid() != 0:
            raise ServersMissing("Postfix's master must start as root (its daemons then drop to user postfix)")
        self.postfix = _tool("postfix")
        self.dovecot = _tool("dovecot")
        self.dir = Path(tempfile.mkdtemp(prefix="msghub-mail-"))
        os.chmod(self.dir, 0o755)
        self.mail = self.dir / "mail"
        self.ports = Ports(*(free_port() for _ in range(6)))
        self.ca = self.dir / "ca.pem"
        self._dovecot: subprocess.Popen[bytes] | None = None
        self._postfix_started = False
        nobody = pwd.getpwnam("nobody")
        self.uid, self.gid = nobody.pw_uid, nobody.pw_gid

    def address(self, user: str) -> str:
        return f"{user}@{DOMAIN}"

    def start(self) -> None:
        try:
            self._configure()
            self._start_dovecot()
            self._start_postfix()
        except BaseException:
            self.stop()
            raise

    def _configure(self) -> None:
        tls = self.dir / "tls"
        tls.mkdir()
        os.chmod(tls, 0o755)
        self.ca, cert, key = make_ca(tls)
        values = {"dir": self.dir, "domain": DOMAIN, "mail": self.mail, "uid": self.uid, "gid": self.gid,
                  "cert": cert, "key": key, "size_limit": MESSAGE_SIZE_LIMIT,
                  **vars(self.ports)}
        self.mail.mkdir()
        for user in USERS:
            for sub in ("cur", "new", "tmp"):
                (self.mail / user / "Maildir" / sub).mkdir(parents=True)
        for path in [self.mail, *self.mail.rglob("*")]:
            os.chown(path, self.uid, self.gid)
        pf = self.dir / "postfix"
        (pf / "queue").mkdir(parents=True)
        (pf / "data").mkdir()
        os.chown(pf / "data", pwd.getpwnam("postfix").pw_uid, -1)
        (pf / "main.cf").write_text(MAIN_CF.format(**values))
        (pf / "master.cf").write_text(MASTER_CF.format(**values))
        (pf / "vmailbox").write_text("".join(f"{u}@{DOMAIN} {u}/Maildir/\n" for u in USERS))
        (pf / "transport").write_text(f"gone.{DOMAIN} gone:\n")
        (pf / "access").write_text(f"later@{DOMAIN} 450 4.2.0 mailbox busy, try again later\n")
        # a pipe that says "no such user" (EX_NOUSER): accepted first, bounced after
        (pf / "gone.sh").write_text("#!/bin/sh\necho 'mailbox gone for good'\nexit 67\n")
        os.chmod(pf / "gone.sh", 0o755)
        dv = self.dir / "dovecot"
        dv.mkdir()
        (dv / "dovecot.conf").write_text(DOVECOT_CONF.format(**values))
        (dv / "passwd").write_text("".join(f"{u}:{{PLAIN}}{PASSWORD}::::::\n" for u in USERS))
        os.chmod(dv / "passwd", 0o644)

    def _start_dovecot(self) -> None:
        log = open(self.dir / "dovecot" / "stderr.log", "wb")  # noqa: SIM115 - closed with the process
        self._dovecot = subprocess.Popen([self.dovecot, "-F", "-c", str(self.dir / "dovecot" / "dovecot.conf")],
                                         stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self._wait_ports([self.ports.pop3, self.ports.pop3s, self.ports.auth], "dovecot")

    def _start_postfix(self) -> None:
        config = str(self.dir / "postfix")
        done = subprocess.run([self.postfix, "-c", config, "start"], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"postfix start failed: {done.stdout}{done.stderr}{self.postfix_log()}")
        self._postfix_started = True
        self._wait_ports([self.ports.smtp, self.ports.submission, self.ports.smtps], "postfix")

    def _wait_ports(self, ports: list[int], what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        pending = list(ports)
        while pending:
            port = pending[0]
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    pending.pop(0)
            except OSError:
                if self._dovecot is not None and self._dovecot.poll() is not None and what == "dovecot":
                    raise RuntimeError(f"dovecot exited: {self.dovecot_log()}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{what} did not listen on {port}: "
                                       f"{self.dovecot_log() if what == 'dovecot' else self.postfix_log()}") from None
                time.sleep(0.1)

    def postfix_log(self) -> str:
        path = self.dir / "postfix" / "maillog"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def dovecot_log(self) -> str:
        text = ""
        for name in ("stderr.log", "dovecot.log"):
            path = self.dir / "dovecot" / name
            if path.exists():
                text += path.read_text(errors="replace")[-3000:]
        return text

    def maildir_count(self, user: str) -> int:
        base = self.mail / user / "Maildir"
        return sum(1 for sub in ("new", "cur") for _ in (base / sub).iterdir())

    def drop_mail(self, user: str, raw: bytes, name: str) -> None:
        """Puts a mail straight into a mailbox (the malformed corpus: Postfix
        would repair some of it on the way)."""
        base = self.mail / user / "Maildir"
        tmp = base / "tmp" / name
        tmp.write_bytes(raw)
        os.chown(tmp, self.uid, self.gid)
        os.rename(tmp, base / "new" / name)

    def queue_empty(self) -> bool:
        done = subprocess.run([shutil.which("postqueue", path=os.pathsep.join(SBIN)) or "postqueue",
                               "-c", str(self.dir / "postfix"), "-p"], capture_output=True, text=True)
        return "Mail queue is empty" in done.stdout

    def settle(self) -> None:
        """Until Postfix has delivered (or bounced) everything it accepted."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.queue_empty():
            if time.monotonic() > deadline:
                raise AssertionError(f"Postfix's queue did not empty: {self.postfix_log()[-2000:]}")
            time.sleep(0.1)

    def clear_mailbox(self, user: str) -> None:
        base = self.mail / user / "Maildir"
        for sub in ("new", "cur"):
            for path in (base / sub).iterdir():
                path.unlink()
        for name in ("dovecot-uidlist", "dovecot.index", "dovecot.index.cache", "dovecot.index.log"):
            (base / name).unlink(missing_ok=True)

    def stop(self) -> None:
        if self._postfix_started:
            subprocess.run([self.postfix, "-c", str(self.dir / "postfix"), "stop"], capture_output=True)
            self._postfix_started = False
        if self._dovecot is not None:
            self._dovecot.terminate()
            try:
                self._dovecot.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._dovecot.kill()
                self._dovecot.wait()
            self._dovecot = None
        shutil.rmtree(self.dir, ignore_errors=True)
