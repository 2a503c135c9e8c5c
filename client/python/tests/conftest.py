"""conftest.py - pytest fixtures of the hitlq Python package's tests: a real
hitlqd on an ephemeral loopback port with a private data directory, as
tests/lib/harness.c starts it for the C tests.

The server binary is $HITLQ_SERVER_BIN, else build/test/hitlqd (the
sanitizer build of `make test-build`), else build/hitlqd.  Stopping a
server checks that it exits with status 0 and that its log holds no
sanitizer report.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "client", "python"))

import hitlq  # noqa: E402

POLICY = os.path.join(ROOT, "server", "score", "defaults", "scorecard_policy.json")
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error", "ERROR: LeakSanitizer",
                   "ERROR: UndefinedBehavior")


def server_bin():
    """The hitlqd to test."""
    env = os.environ.get("HITLQ_SERVER_BIN")
    if env:
        return env
    for rel in ("build/test/hitlqd", "build/hitlqd"):
        path = os.path.join(ROOT, rel)
        if os.access(path, os.X_OK):
            return path
    pytest.skip("no hitlqd built (make test-build or make all)")


class Server:
    """One hitlqd child: start(), restart() on the same port, kill(),
    stop() (clean exit required)."""

    def __init__(self, config=""):
        self.dir = tempfile.mkdtemp(prefix="hitlq-py-")
        self.data = os.path.join(self.dir, "data")
        os.mkdir(self.data)
        self.portfile = os.path.join(self.dir, "port")
        self.logfile = os.path.join(self.dir, "hitlqd.log")
        self.cfgfile = os.path.join(self.dir, "hitlqd.conf")
        with open(self.cfgfile, "w") as f:
            # the HTTP listener on any free port, not the fixed default
            f.write('policy = "%s"\nhttp_listen = "127.0.0.1:0"\n%s' % (POLICY, config))
        self.bin = server_bin()
        self.proc = None
        self.port = 0

    def _spawn(self, listen):
        if os.path.exists(self.portfile):
            os.unlink(self.portfile)
        log = open(self.logfile, "ab")
        self.proc = subprocess.Popen(
            [self.bin, "-d", self.data, "-l", listen, "-P", self.portfile, "-c", self.cfgfile],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=ROOT)
        log.close()
        end = time.monotonic() + 20
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("hitlqd exited during start-up:\n" + self.log_tail())
            try:
                with open(self.portfile) as f:
                    port = int(f.read().strip() or 0)
                if port:
                    self.port = port
                    return port
            except (OSError, ValueError):
                pass
            time.sleep(0.01)
        self.proc.kill()
        raise RuntimeError("no port file after 20 s:\n" + self.log_tail())

    def start(self):
        """Starts on an ephemeral port; returns the port."""
        return self._spawn("127.0.0.1:0")

    def restart(self):
        """Starts again on the same data directory and port."""
        return self._spawn("127.0.0.1:%d" % self.port)

    def kill(self, sig=signal.SIGKILL):
        """Sends sig and reaps the child."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=20)

    def log_tail(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        """SIGTERM; True when it exited 0 and the log has no sanitizer report."""
        ok = True
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                ok = self.proc.wait(timeout=20) == 0
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                ok = False
        log = self.log_tail() if not ok else open(self.logfile, errors="replace").read()
        if any(m in log for m in SANITIZER_MARKS):
            ok = False
        return ok

    def cleanup(self):
        self.kill()
        if not os.environ.get("HITLQ_KEEP_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def read(self, name):
        """A file of the data directory, as text."""
        with open(os.path.join(self.data, name)) as f:
            return f.read()

    def admin_key(self):
        """The first admin API key (auth = 1)."""
        return self.read("admin.key").strip()

    def vkey(self):
        """The audit log's verifier key, derived from its key file."""
        return hitlq.audit.vkey_from_private_key(self.read("audit.key").splitlines()[0])

    def client(self, **kw):
        """A Client of this server (name "tester" unless given)."""
        kw.setdefault("name", "tester")
        kw.setdefault("timeout", 20)
        return hitlq.Client("127.0.0.1", self.port, **kw)


def run_server(config=""):
    """A generator fixture body: a started server, stopped cleanly after."""
    s = Server(config)
    s.start()
    try:
        yield s
        assert s.stop(), "hitlqd did not stop cleanly:\n" + s.log_tail()
    finally:
        s.cleanup()


@pytest.fixture
def server():
    """A fresh server with authentication off (role local)."""
    yield from run_server()


@pytest.fixture(scope="module")
def auth_server():
    """One server per module with auth = 1; .admin_key() is its admin key."""
    yield from run_server("auth = 1\n")


@pytest.fixture(scope="session")
def certs():
    """Throw-away TLS certificates (scripts/make-certs.sh): a directory
    with ca.pem, server.pem/.key, client.pem/.key (CN alice)."""
    d = tempfile.mkdtemp(prefix="hitlq-py-certs-")
    subprocess.run(["sh", os.path.join(ROOT, "scripts", "make-certs.sh"), d, "alice"],
                   check=True, stdout=subprocess.DEVNULL)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def auto_fields():
    """Fields of a credit_application the example scorecard auto-approves:
    every input present, each categorical at its largest weight."""
    with open(os.path.join(ROOT, "server", "score", "defaults", "credit_scorecard.json")) as f:
        model = json.load(f)
    fields = {"duration_months": 6, "amount": 500, "installment_rate": 1,
              "residence_years": 1, "age": 60, "existing_credits": 1, "dependents": 1,
              "telephone": True, "foreign_worker": False}
    for ft in model["features"]:
        if ft["kind"] == "categorical":
            fields[ft["field"]] = max(ft["weights"], key=ft["weights"].get)
    return fields


QUEUED_FIELDS = {"amount": 1000}   # inputs missing: never auto-resolved
TYPE = "credit_application"
REVIEW = "credit_review"
