#!/usr/bin/python3
"""Crash safety: `paperwatch once` delivering a digest to 200 subscribers
is killed with SIGKILL at random moments, again and again (30 times),
then a cycle is let finish.  Every subscriber must have the digest, and
the number of duplicates must be at most the number of kills (a crash can
resend at most the message in flight)."""
import os
import random
import signal
import subprocess
import time

import pwtest

t = pwtest.Tap()
work = pwtest.tmpdir()
mail = os.path.join(work, "mail")
HF = os.path.join(pwtest.FIXTURES, "hf-daily", "daily_papers_2026-06-12.json")
N = 200
KILLS = 30
rcpts = ["reader%03d@example.org" % i for i in range(N)]

def write_conf(conf, state_dir, port):
    with open(conf, "w") as f:
        f.write("""
state = "%s/state.db";
user_agent = "paperwatch-test/1 (mailto:test@example.org)";
smtp = { host = "127.0.0.1"; port = %d; tls = "none";
         from = "Paper digests <digest@example.org>"; };
sources = ( { name = "hf"; type = "hf-daily"; url = "file://%s"; } );
subscriptions = ( { name = "llm"; query = "title:LLM";
                    email = [%s]; } );
""" % (state_dir, port, HF, ", ".join('"%s"' % r for r in rcpts)))


srv = None
try:
    env = dict(os.environ, PAPERWATCH_DATADIR=pwtest.ROOT)
    # a slow server (30 ms a message): the 200 messages take about 6 s, so
    # 30 kills at most 0.25 s apart all fall in the middle of the batch
    srv = pwtest.smtpd(work, mail, "--delay", "0.03")
    conf = os.path.join(work, "pw.conf")
    write_conf(conf, work, srv.port)
    rng = random.Random(20261127)
    kills = runs = 0
    while kills < KILLS and runs < 10 * KILLS:
        runs += 1
        p = subprocess.Popen(pwtest.cmd(["-q", "once", "-c", conf]), env=env,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.02, 0.25))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
        if p.returncode == 0:       # it finished: everything was sent
            break
    r = pwtest.run(["once", "-c", conf])
    t.ok(r.returncode == 0, "the last cycle finishes and delivers all",
         r.stderr[-3000:])
    counts = {}
    for m in pwtest.messages(mail):
        counts[m["X-Env-To"]] = counts.get(m["X-Env-To"], 0) + 1
    missing = [x for x in rcpts if x not in counts]
    dups = sum(c - 1 for c in counts.values())
    t.ok(not missing, "every subscriber received the digest",
         "%d missing, e.g. %s" % (len(missing), missing[:5]))
    t.ok(dups <= kills, "duplicates (%d) at most the kills (%d)"
         % (dups, kills))
    t.ok(kills == KILLS, "%d runs killed in flight (%d runs)" % (kills, runs))
    r = pwtest.run(["status", "-c", conf])
    t.ok("0 pending" in r.stdout and "0 dead" in r.stdout,
         "the outbox is empty afterwards", r.stdout[:2000])
    print("# %d kills, %d messages, %d duplicates" %
          (kills, sum(counts.values()), dups))
finally:
    if srv is not None:
        srv.stop()
    if t.failed == 0:
        pwtest.cleanup(work)
    else:
        print("# work dir kept: " + work)
t.done()
