#!/usr/bin/python3
"""Shared harness for paperwatch's integration tests.

Runs with /usr/bin/python3 (Debian's interpreter, which sees
python3-aiosmtpd).  Tests print TAP lines ("ok N - name", "not ok N -
name"); tests/run-tests.sh counts them.  Servers run on 127.0.0.1 only,
on ports picked at run time (port 0 + a port file).
"""
import email
import email.policy
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SERVERS = os.path.join(ROOT, "tests", "servers")
FIXTURES = os.environ.get("FIXTURES", os.path.join(ROOT, "tests", "fixtures"))
BIN = os.environ.get("PW_BIN", os.path.join(ROOT, "build", "paperwatch"))
PY = "/usr/bin/python3"


class Tap:
    """TAP output; a failed check is reported, the test goes on."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, detail=""):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, name), flush=True)
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name), flush=True)
            for line in str(detail).splitlines()[:40]:
                print("#   " + line, flush=True)
        return cond

    def skip(self, name, why):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, why), flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed else 0)


def tmpdir(prefix="pw-it-"):
    d = tempfile.mkdtemp(prefix=prefix)
    return d


class Server:
    """A test server process that writes its port to a port file."""
    serial = 0

    def __init__(self, args, workdir, name):
        Server.serial += 1
        name = "%s-%d" % (name, Server.serial)
        self.portfile = os.path.join(workdir, name + ".port")
        self.log = open(os.path.join(workdir, name + ".log"), "wb")
        self.proc = subprocess.Popen(args + ["--portfile", self.portfile],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            if os.path.exists(self.portfile):
                with open(self.portfile) as f:
                    txt = f.read().strip()
                if txt:
                    self.port = int(txt.split()[0])
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("server %s did not start: %s" % (name, args))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def smtpd(workdir, outdir, *extra):
    os.makedirs(outdir, exist_ok=True)
    return Server([PY, os.path.join(SERVERS, "smtpd.py"), "--port", "0",
                   "--outdir", outdir] + list(extra), workdir, "smtpd")


def httpd(workdir, root, *extra):
    return Server([PY, os.path.join(SERVERS, "httpd.py"), "--port", "0",
                   "--root", root] + list(extra), workdir, "httpd")


# PW_WRAP: a command to run paperwatch under, e.g. valgrind (make
# check-valgrind); its error exit status makes the checks fail.
WRAP = os.environ.get("PW_WRAP", "").split()


def cmd(args):
    """The command line that runs paperwatch with args."""
    return WRAP + [BIN] + list(args)


def run(args, timeout=600, env=None, input=None):
    """Run paperwatch with args; returns CompletedProcess (text)."""
    e = dict(os.environ)
    e.setdefault("PAPERWATCH_DATADIR", ROOT)     # ROOT/templates
    if env:
        e.update(env)
    return subprocess.run(cmd(args), capture_output=True, text=True,
                          timeout=timeout, env=e, input=input)


def messages(outdir):
    """The received messages, parsed with Python's email package."""
    out = []
    if not os.path.isdir(outdir):
        return out
    for name in sorted(os.listdir(outdir)):
        if name.endswith(".eml"):
            with open(os.path.join(outdir, name), "rb") as f:
                out.append(email.message_from_bytes(
                    f.read(), policy=email.policy.default))
    return out


def text_of(msg):
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def html_of(msg):
    part = msg.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else ""


def cleanup(path):
    shutil.rmtree(path, ignore_errors=True)
