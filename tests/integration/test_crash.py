#!/usr/bin/python3
"""Crash safety: `paperwatch once` delivering digests is killed with
SIGKILL at random moments, again and again, then a cycle is let finish.
Every subscriber must have the digest, and the number of duplicates must
be at most the number of kills (a crash can resend at most the message in
flight).  Two shapes: one digest to 200 subscribers (30 kills), and 120
subscriptions of one subscriber each (20 kills), whose messages are sent
by the background delivery while the next digests are still being made."""
import os
import random
import signal
import subprocess
import time

import pwtest

t = pwtest.Tap()
work = pwtest.tmpdir()
HF = os.path.join(pwtest.FIXTURES, "hf-daily", "daily_papers_2026-06-12.json")


def write_conf(conf, state_dir, port, subs):
    """subs: [(name, [recipients])]"""
    with open(conf, "w") as f:
        f.write("""
state = "%s/state.db";
user_agent = "paperwatch-test/1 (mailto:test@example.org)";
smtp = { host = "127.0.0.1"; port = %d; tls = "none";
         from = "Paper digests <digest@example.org>"; };
sources = ( { name = "hf"; type = "hf-daily"; url = "file://%s"; } );
subscriptions = ( %s );
""" % (state_dir, port, HF, ",\n".join(
            '{ name = "%s"; query = "title:LLM"; email = [%s]; }'
            % (n, ", ".join('"%s"' % r for r in rs)) for n, rs in subs)))


def scenario(label, subs, kills_wanted, seed):
    d = os.path.join(work, label.replace(" ", "-"))
    os.makedirs(d)
    mail = os.path.join(d, "mail")
    rcpts = [r for _, rs in subs for r in rs]
    srv = None
    try:
        env = dict(os.environ, PAPERWATCH_DATADIR=pwtest.ROOT)
        # a slow server (30 ms a message): the messages take several
        # seconds, so kills at most 0.25 s apart fall in the middle
        srv = pwtest.smtpd(d, mail, "--delay", "0.03")
        conf = os.path.join(d, "pw.conf")
        write_conf(conf, d, srv.port, subs)
        rng = random.Random(seed)
        kills = runs = 0
        while kills < kills_wanted and runs < 10 * kills_wanted:
            runs += 1
            p = subprocess.Popen(pwtest.cmd(["-q", "once", "-c", conf]),
                                 env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.02, 0.25))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
            p.wait()
            if p.returncode == 0:   # it finished: everything was sent
                break
        r = pwtest.run(["once", "-c", conf])
        t.ok(r.returncode == 0,
             "%s: the last cycle finishes and delivers all" % label,
             r.stderr[-3000:])
        counts = {}
        for m in pwtest.messages(mail):
            counts[m["X-Env-To"]] = counts.get(m["X-Env-To"], 0) + 1
        missing = [x for x in rcpts if x not in counts]
        dups = sum(c - 1 for c in counts.values())
        t.ok(not missing, "%s: every subscriber received the digest" % label,
             "%d missing, e.g. %s" % (len(missing), missing[:5]))
        t.ok(dups <= kills, "%s: duplicates (%d) at most the kills (%d)"
             % (label, dups, kills))
        t.ok(kills == kills_wanted, "%s: %d runs killed in flight (%d runs)"
             % (label, kills, runs))
        r = pwtest.run(["status", "-c", conf])
        t.ok("0 pending" in r.stdout and "0 dead" in r.stdout,
             "%s: the outbox is empty afterwards" % label, r.stdout[:2000])
        print("# %s: %d kills, %d messages, %d duplicates" %
              (label, kills, sum(counts.values()), dups))
    finally:
        if srv is not None:
            srv.stop()


try:
    scenario("one digest", [("llm", ["reader%03d@example.org" % i
                                     for i in range(200)])], 30, 20261127)
    scenario("many digests", [("s%03d" % i, ["sub%03d@example.org" % i])
                              for i in range(120)], 20, 20261128)
finally:
    if t.failed == 0:
        pwtest.cleanup(work)
    else:
        print("# work dir kept: " + work)
t.done()
