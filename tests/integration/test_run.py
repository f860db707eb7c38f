#!/usr/bin/python3
"""paperwatch run under a test harness: it reports READY over
NOTIFY_SOCKET, polls a local HTTP server, sends each due digest once,
keeps its config on an invalid SIGHUP reload and takes a valid one, and
stops on SIGTERM with nothing lost.  Between cycles only the supervisor
(libc alone) is left; a worker that dies is replaced."""
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pwtest

t = pwtest.Tap()
work = pwtest.tmpdir()
mail = os.path.join(work, "mail")
API = "arxiv-api/api2026_search_testing_100_entries.xml"
HF = "hf-daily/daily_papers_2026-06-12.json"


def conf_text(http_port, smtp_port, extra_sub=""):
    return """
state = "%(work)s/state.db";
user_agent = "paperwatch-test/1 (mailto:test@example.org)";
metrics_file = "%(work)s/paperwatch.prom";
smtp = { host = "127.0.0.1"; port = %(smtp)d; tls = "none";
         from = "Paper digests <digest@example.org>"; };
sources = (
  { name = "arxiv-testing"; type = "arxiv-api"; interval = 2;
    url = "http://127.0.0.1:%(http)d/f/%(api)s"; },
  { name = "hf"; type = "hf-daily"; interval = 2;
    url = "http://127.0.0.1:%(http)d/f/%(hf)s"; }
);
subscriptions = (
  { name = "mutation"; keywords = ["mutation testing"];
    email = ["alice@example.org"]; }%(extra)s
);
""" % {"work": work, "smtp": smtp_port, "http": http_port, "api": API,
       "hf": HF, "extra": extra_sub}


class Notify:
    """A NOTIFY_SOCKET listener, as systemd would have: a thread reads
    every datagram at once (a full socket queue would block the sender)."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.seen = []
        self.lock = threading.Lock()
        self.done = False
        self.thread = threading.Thread(target=self.reader, daemon=True)
        self.thread.start()

    def reader(self):
        while not self.done:
            try:
                msg = self.sock.recv(4096).decode()
            except socket.timeout:
                continue
            with self.lock:
                self.seen.append(msg)

    def count(self, what):
        with self.lock:
            return sum(what in m for m in self.seen)

    def wait(self, what, timeout):
        return wait_for(lambda: self.count(what) > 0, timeout)

    def close(self):
        self.done = True
        self.thread.join()
        self.sock.close()


def children(pid):
    out = []
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                out += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def maps(pid):
    try:
        with open("/proc/%d/maps" % pid) as f:
            return f.read()
    except OSError:
        return ""


def terminate(p):
    """SIGTERM; the exit status, or None if it did not stop within 10 s."""
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(10)
    except subprocess.TimeoutExpired:
        return None


def wait_for(pred, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return pred()


http = smtp = proc = notify = None
try:
    http = pwtest.httpd(work, pwtest.FIXTURES)
    smtp = pwtest.smtpd(work, mail)
    conf = os.path.join(work, "pw.conf")
    with open(conf, "w") as f:
        f.write(conf_text(http.port, smtp.port))
    notify = Notify(os.path.join(work, "notify.sock"))
    env = dict(os.environ, NOTIFY_SOCKET=notify.path,
               PAPERWATCH_DATADIR=pwtest.ROOT)
    log = open(os.path.join(work, "run.log"), "w")
    proc = subprocess.Popen(pwtest.cmd(["run", "-c", conf]), env=env,
                            stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    t.ok(notify.wait("READY=1", 10), "READY=1 sent after start-up")
    got = wait_for(lambda: len(pwtest.messages(mail)) >= 1, 20)
    t.ok(got, "the due digest is delivered")
    t.ok(notify.wait("STATUS=", 5), "STATUS= reports the last poll")
    time.sleep(5)       # at least two more polls (interval 2 s)
    t.ok(len(pwtest.messages(mail)) == 1, "and delivered once",
         "%d messages" % len(pwtest.messages(mail)))
    prom = os.path.join(work, "paperwatch.prom")
    text = open(prom).read() if os.path.exists(prom) else ""
    t.ok('paperwatch_source_papers_fetched_total{source="hf"} 30' in text
         and 'paperwatch_outbox_messages{state="sent"} 1' in text,
         "the metrics file holds the figures", text)

    # idle: the process systemd watches is the supervisor, without the
    # libraries of the worker (not checkable under a PW_WRAP wrapper)
    if not pwtest.WRAP:
        t.ok(wait_for(lambda: not children(proc.pid) and
                      "libcurl" not in maps(proc.pid), 10) and
             "libc.so" in maps(proc.pid),
             "between cycles the main process maps libc, not libcurl")
    else:
        t.skip("the supervisor's mappings", "run under " + pwtest.WRAP[0])

    # an invalid config on SIGHUP: the old one keeps running; and until
    # the SIGHUP the edit changes nothing (the workers read the snapshot)
    with open(conf, "w") as f:
        f.write("this is not a config ;;;\n")
    time.sleep(5)       # two more polls, on the validated snapshot
    logtext = open(os.path.join(work, "run.log")).read()
    t.ok("pw.conf:1:" not in logtext and "worker" not in logtext and
         proc.poll() is None, "an edit without SIGHUP is not read",
         logtext[-2000:])
    before = notify.count("READY=1")
    proc.send_signal(signal.SIGHUP)
    t.ok(notify.wait("RELOADING=1", 10), "RELOADING=1 on SIGHUP")
    t.ok(wait_for(lambda: notify.count("READY=1") > before, 10) and
         proc.poll() is None, "an invalid config is refused; still running")
    logtext = open(os.path.join(work, "run.log")).read()
    t.ok("keeping the old one" in logtext and "pw.conf:1:" in logtext,
         "the reload errors are logged with FILE:LINE", logtext[-2000:])

    # a valid new config with a new subscription (backfilled one day)
    with open(conf, "w") as f:
        f.write(conf_text(http.port, smtp.port, """,
  { name = "llm"; query = "title:LLM"; backfill_days = 1;
    email = ["carol@example.org"]; }"""))
    before = notify.count("READY=1")
    proc.send_signal(signal.SIGHUP)
    t.ok(wait_for(lambda: notify.count("READY=1") > before, 10),
         "a valid config is reloaded")
    got = wait_for(lambda: len(pwtest.messages(mail)) >= 2, 20)
    msgs = pwtest.messages(mail)
    t.ok(got and any("carol@example.org" in str(m["To"]) for m in msgs),
         "the new subscription's digest arrives after the reload")
    time.sleep(3)
    t.ok(len(pwtest.messages(mail)) == 2, "nothing is sent twice",
         [str(m["To"]) for m in pwtest.messages(mail)])

    # a worker killed in the middle of its work: logged, replaced
    victims = []

    def kill_worker():
        for c in children(proc.pid):
            try:
                os.kill(c, signal.SIGKILL)
                victims.append(c)
            except OSError:
                pass
        return victims

    def killed():       # a worker may be caught after its exit, a zombie
        kill_worker()
        return "killed by signal 9" in \
            open(os.path.join(work, "run.log")).read()

    t.ok(wait_for(killed, 30) and proc.poll() is None,
         "a worker killed while running: its death is logged; the daemon "
         "goes on", victims)
    before = notify.count("STATUS=")
    t.ok(wait_for(lambda: notify.count("STATUS=") > before, 30),
         "a new worker runs after the backoff")

    rc = terminate(proc)
    t.ok(rc == 0, "SIGTERM: exit 0", rc)
    t.ok(notify.wait("STOPPING=1", 2), "STOPPING=1 sent")
    r = pwtest.run(["status", "-c", conf])
    t.ok(r.returncode == 0 and "0 pending" in r.stdout and
         "0 dead" in r.stdout, "status: nothing pending or dead after the stop",
         r.stdout + r.stderr)
    t.ok("hf" in r.stdout and "arxiv-testing" in r.stdout,
         "status lists the sources", r.stdout)
    proc = None

    # run --one-process: the same daemon without the supervisor
    os.unlink(os.path.join(work, "state.db"))
    notify.seen.clear()
    log = open(os.path.join(work, "run1.log"), "w")
    proc = subprocess.Popen(pwtest.cmd(["run", "--one-process", "-c", conf]),
                            env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    t.ok(notify.wait("READY=1", 10), "--one-process: READY=1")
    got = wait_for(lambda: len(pwtest.messages(mail)) >= 4, 20)
    t.ok(got, "--one-process: the digests are delivered again (new state)")
    t.ok(not pwtest.WRAP and "libcurl" in maps(proc.pid) or
         pwtest.WRAP, "--one-process: one process does it all")
    before = notify.count("READY=1")
    proc.send_signal(signal.SIGHUP)
    t.ok(wait_for(lambda: notify.count("READY=1") > before, 10),
         "--one-process: SIGHUP reloads")
    rc = terminate(proc)
    t.ok(rc == 0 and notify.wait("STOPPING=1", 2),
         "--one-process: SIGTERM: exit 0, STOPPING=1", rc)
    proc = None

    # workers are separate processes: their sanitizer or valgrind reports
    # and exit statuses show only in the log (valgrind follows them with
    # --trace-children=yes in make check-valgrind)
    logs = "".join(open(os.path.join(work, n)).read()
                   for n in ("run.log", "run1.log"))
    bad = [l for l in logs.splitlines()
           if re.match(r"(<\d>)?==\d+==", l) or "exited with status" in l]
    t.ok(not bad, "no worker reported an error or failed", bad[:20])
finally:
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()
    for s in (http, smtp):
        if s is not None:
            s.stop()
    if notify is not None:
        notify.close()
    if t.failed == 0:
        pwtest.cleanup(work)
    else:
        print("# work dir kept: " + work)
t.done()
