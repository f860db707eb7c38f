#!/usr/bin/python3
"""Soak test: `paperwatch run` for SOAK_SECONDS (default 600) against a
local HTTP server whose arXiv feed gains a paper every few seconds and an
SMTP server that goes down and comes back every minute.  It samples the
daemon's resident memory and open file descriptors every 5 s and checks,
at the end, that every paper reached the reader exactly once.

usage: soak.py [SECONDS] [--one-process]   (make soak; PW_BIN = the binary)
By default `run` idles in its supervisor and forks a worker for each
poll: the samples are the supervisor's.  --one-process soaks the daemon
that does everything in one long-lived process, where a leak would show.
Prints TAP lines and a summary with the figures; exit 0 when all hold.
"""
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import pwtest  # noqa: E402

ARGS = [a for a in sys.argv[1:] if a.startswith("--")]
POS = [a for a in sys.argv[1:] if not a.startswith("--")]
SECONDS = int(POS[0]) if POS else \
    int(os.environ.get("SOAK_SECONDS", "600"))
NEW_EVERY = 3.0          # a new paper every 3 s
SMTP_CYCLE = 60.0        # the SMTP server is down 20 s of every minute
SMTP_DOWN = 20.0
t = pwtest.Tap()
work = pwtest.tmpdir("pw-soak-")
mail = os.path.join(work, "mail")
START = time.time()


def n_papers():
    return 1 + int((time.time() - START) / NEW_EVERY)


def feed(n):
    entries = []
    for i in range(n):
        entries.append("""<entry><id>http://arxiv.org/abs/2611.%05dv1</id>
<updated>2026-11-27T00:00:00Z</updated><published>2026-11-27T00:00:00Z</published>
<title>Soak paper %d: steady state under load</title>
<summary>A soak test abstract about streaming parsers, number %d.</summary>
<author><name>Ada Lovelace</name></author>
<arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.DC"/>
<category term="cs.DC"/></entry>""" % (i + 1, i + 1, i + 1))
    return ("""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"
 xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">
<title>soak</title><id>http://arxiv.org/api/soak</id>
<updated>2026-11-27T00:00:00Z</updated>
<opensearch:totalResults>%d</opensearch:totalResults>
<opensearch:startIndex>0</opensearch:startIndex>
%s</feed>""" % (n, "\n".join(entries))).encode()


class Feed(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        n = n_papers()
        etag = '"soak-%d"' % n
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = feed(n)
        self.send_response(200)
        self.send_header("Content-Type", "application/atom+xml")
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def sample(pid):
    rss = fds = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    fds = len(os.listdir("/proc/%d/fd" % pid))
    return rss, fds


http = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
http.daemon_threads = True
threading.Thread(target=http.serve_forever, daemon=True).start()
smtp = pwtest.smtpd(work, mail)
smtp_port = smtp.port
conf = os.path.join(work, "pw.conf")
with open(conf, "w") as f:
    f.write("""
state = "%s/state.db";
user_agent = "paperwatch-soak/1 (mailto:test@example.org)";
smtp = { host = "127.0.0.1"; port = %d; tls = "none"; timeout = 5;
         from = "Soak <soak@example.org>"; };
sources = ( { name = "soak"; type = "arxiv-api"; interval = 2;
              url = "http://127.0.0.1:%d/feed"; } );
subscriptions = ( { name = "soak"; keywords = ["soak paper"];
                    email = ["reader@example.org"]; } );
""" % (work, smtp_port, http.server_address[1]))
env = dict(os.environ, PAPERWATCH_DATADIR=pwtest.ROOT)
log = open(os.path.join(work, "run.log"), "w")
proc = subprocess.Popen(pwtest.cmd(["run"] + ARGS + ["-c", conf]), env=env,
                        stdout=log, stderr=subprocess.STDOUT)
samples = []
smtp_up = True
outages = 0
try:
    while time.time() - START < SECONDS:
        time.sleep(5)
        el = time.time() - START
        phase = el % SMTP_CYCLE
        if smtp_up and phase > SMTP_CYCLE - SMTP_DOWN:
            smtp.stop()
            smtp_up = False
            outages += 1
        elif not smtp_up and phase < SMTP_CYCLE - SMTP_DOWN:
            smtp = pwtest.Server([pwtest.PY, os.path.join(
                pwtest.SERVERS, "smtpd.py"), "--port", str(smtp_port),
                "--outdir", mail], work, "smtpd-up")
            smtp_up = True
        if proc.poll() is not None:
            break
        samples.append((el,) + sample(proc.pid))
    papers = n_papers()
    # the feed stops growing; let the SMTP server up until all is sent
    if not smtp_up:
        smtp = pwtest.Server([pwtest.PY, os.path.join(
            pwtest.SERVERS, "smtpd.py"), "--port", str(smtp_port),
            "--outdir", mail], work, "smtpd-up")
        smtp_up = True
    running = proc.poll() is None
    pwtest.run(["outbox", "-c", conf, "retry", "all"])
    time.sleep(1)
    proc.send_signal(signal.SIGHUP)     # wakes the loop: retries are due
    deadline = time.time() + 60
    seen = {}
    while time.time() < deadline:
        seen = {}
        for m in pwtest.messages(mail):
            for num in re.findall(r"Soak paper (\d+):", pwtest.text_of(m)):
                seen[int(num)] = seen.get(int(num), 0) + 1
        if len(seen) >= papers - 2:
            break
        time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(30)
finally:
    if proc.poll() is None:
        proc.kill()
    if smtp_up:
        smtp.stop()
    http.shutdown()

warm = [s for s in samples if s[0] >= 60] or samples
rss = [s[1] for s in warm]
fds = [s[2] for s in warm]
dups = sum(c - 1 for c in seen.values())
missing = [i for i in range(1, papers - 2) if i not in seen]
t.ok(running and rc == 0, "the daemon ran %d s and stopped cleanly (rc %s)"
     % (SECONDS, rc))
t.ok(not missing, "every paper reached the reader (%d papers, %d SMTP "
     "outages)" % (papers, outages), "missing: %s" % missing[:20])
t.ok(dups == 0, "no paper twice (%d duplicates)" % dups)
t.ok(rss and max(rss) - min(rss) <= 1024,
     "resident memory flat after warm-up: %d..%d KiB" % (min(rss), max(rss))
     if rss else "no samples")
t.ok(fds and max(fds) - min(fds) <= 2,
     "open descriptors flat after warm-up: %d..%d" % (min(fds), max(fds))
     if fds else "no samples")
print("# soak: %d s, %d papers, %d messages, %d SMTP outages; VmRSS %d..%d "
      "KiB, fds %d..%d after 60 s (%d samples)" % (
          SECONDS, papers, len(pwtest.messages(mail)), outages,
          min(rss or [0]), max(rss or [0]), min(fds or [0]), max(fds or [0]),
          len(warm)))
if t.failed == 0:
    pwtest.cleanup(work)
else:
    print("# work dir kept: " + work)
t.done()
