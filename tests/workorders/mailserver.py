"""A real IMAP server for the mail intake tests: Debian's dovecot, started as a child process
with a configuration of its own in a temporary folder.

One server per test process (each pytest-xdist worker starts its own, on its own ports and
folders); it listens on 127.0.0.1 only, with plain IMAP and IMAP over TLS (a self-signed
certificate made for the run). One user; tests put mails in with IMAP APPEND.
"""

import atexit
import contextlib
import ctypes
import getpass
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"
USER = "service"
PASSWORD = "mail-test-password"
START_TIMEOUT = 10
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class MailServerMissingError(Exception):
    """dovecot (or openssl, for the certificate) is not installed."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _greets(port: int) -> bool:
    """Whether the plain IMAP port answers with its greeting: then the whole server is up."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
            conn.settimeout(2)
            return conn.recv(64).startswith(b"* OK")
    except OSError:
        return False


def _listens(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _die_with_parent() -> None:
    # If the test process is killed outright (no fixture teardown, no atexit), the kernel
    # stops the server too instead of leaving it listening.
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Dovecot:
    def __init__(self):
        if not os.access(DOVECOT, os.X_OK):
            raise MailServerMissingError(f"{DOVECOT} not found: install the Debian package dovecot-imapd")
        if shutil.which("openssl") is None:
            raise MailServerMissingError("openssl not found: it makes the server's test certificate")
        self.base = Path(tempfile.mkdtemp(prefix="fsm-dovecot-"))
        self.process: subprocess.Popen | None = None
        self.port = self.tls_port = 0
        self.user, self.password = USER, PASSWORD
        self.cert = self.base / "cert.pem"

    # set-up

    def _certificate(self) -> None:
        # An EC key: made in milliseconds, where RSA takes a noticeable part of a second.
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout",
                str(self.base / "key.pem"),
                "-out",
                str(self.cert),
            ],
            check=True,
            capture_output=True,
        )

    def _accounts(self) -> tuple[str, str, str, int, int]:
        """(internal user and group, login user, mail uid and gid) for dovecot's processes."""
        if os.geteuid() == 0:
            # As root dovecot drops privileges to the users its package made; mail is never
            # accessed as root, so the test mailbox belongs to nobody.
            nobody = pwd.getpwnam("nobody")
            return "dovecot", "dovecot", "dovenull", nobody.pw_uid, nobody.pw_gid
        # Not root: everything runs as us.
        me, group = getpass.getuser(), grp.getgrgid(os.getgid()).gr_name
        return me, group, me, os.getuid(), os.getgid()

    def _configure(self) -> Path:
        internal_user, internal_group, login_user, uid, gid = self._accounts()
        mail = self.base / "mail"
        mail.mkdir()
        (self.base / "run").mkdir()
        (self.base / "state").mkdir()
        # The mail processes run as `uid`: they must reach and own the mail folder.
        self.base.chmod(0o755)
        if os.geteuid() == 0:
            os.chown(mail, uid, gid)
        passwd = self.base / "passwd"
        passwd.write_text(f"{self.user}:{{PLAIN}}{self.password}:{uid}:{gid}::{mail / self.user}::\n")
        passwd.chmod(0o644)
        dh = Path("/usr/share/dovecot/dh.pem")
        config = self.base / "dovecot.conf"
        config.write_text(
            f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.base / "run"}
state_dir = {self.base / "state"}
log_path = {self.base / "dovecot.log"}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = {min(uid, 500)}
mail_location = maildir:{mail}/%u
auth_mechanisms = plain
auth_failure_delay = 0
disable_plaintext_auth = no
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{self.base / "key.pem"}
{f"ssl_dh = <{dh}" if dh.exists() else ""}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {passwd}
}}
userdb {{
  driver = passwd-file
  args = {passwd}
}}
service imap-login {{
  {"" if os.geteuid() == 0 else "chroot ="}
  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = {self.tls_port}
    ssl = yes
  }}
}}
"""
        )
        config.chmod(0o644)
        return config

    def start(self) -> "Dovecot":
        self._certificate()
        for _attempt in range(3):
            # Another worker may take a probed port before dovecot binds it: try fresh ones.
            self.port, self.tls_port = _free_port(), _free_port()
            for leftover in ("mail", "run", "state"):
                shutil.rmtree(self.base / leftover, ignore_errors=True)
            config = self._configure()
            self.process = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
            atexit.register(self.stop)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and self.process.poll() is None:
                if _listens(self.tls_port) and _greets(self.port):
                    return self
                time.sleep(0.02)
            errors = self.stop(remove=False)
        log = self.log()
        self.stop()
        raise RuntimeError(f"dovecot did not start:\n{errors}\n{log}")

    def log(self) -> str:
        path = self.base / "dovecot.log"
        return (path.read_text(errors="replace") if path.exists() else "")[-4000:]

    def stop(self, remove: bool = True) -> str:
        """Stop the server; its error output, if it wrote any."""
        process, self.process = self.process, None
        errors = ""
        if process is not None:
            if process.poll() is None:
                process.terminate()  # the master stops its children before it exits
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=3)
            # Children still serving a client outlive the master: end the rest of the group
            # (the session we started it in, no other process).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            errors = process.communicate(timeout=5)[1].decode(errors="replace")
        if remove:
            shutil.rmtree(self.base, ignore_errors=True)
        return errors

    # use

    def client_context(self) -> ssl.SSLContext:
        """A TLS context that trusts this server's certificate, and only that."""
        return ssl.create_default_context(cafile=str(self.cert))

    @contextlib.contextmanager
    def connect(self):
        connection = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        try:
            connection.login(self.user, self.password)
            yield connection
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                connection.logout()

    def create_folder(self, name: str) -> None:
        with self.connect() as imap:
            status, data = imap.create(name)
            assert status == "OK", data

    def deliver(self, folder: str, raw: bytes, flags: str = "") -> None:
        with self.connect() as imap:
            status, data = imap.append(folder, f"({flags})" if flags else None, None, raw)
            assert status == "OK", data

    def flags(self, folder: str) -> list[set[str]]:
        """The flags of each mail in the folder, in order."""
        with self.connect() as imap:
            imap.select(folder, readonly=True)
            status, data = imap.fetch("1:*", "(FLAGS)")
            assert status == "OK", data
            result = []
            for line in data:
                if not line:
                    continue
                inner = line.decode().split("FLAGS (", 1)[1].split(")", 1)[0]
                result.append(set(inner.split()))
            return result
