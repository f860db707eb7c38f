#!/usr/bin/python3
"""A result that cannot be recorded stops the run's sending.  Another
program holds the state database locked (a backup, sqlite3 by hand) while
paperwatch posts webhook messages: the first message's sent mark fails
after SQLite's busy timeout, and the messages after it must not be posted
(they would be posted again by the next run, the database not knowing
they went).  Once the lock is gone, the next run posts what is left: at
most the message in flight twice."""
import collections
import json
import os
import sqlite3
import subprocess
import time

import pwtest

t = pwtest.Tap()
work = pwtest.tmpdir()
HF = os.path.join(pwtest.FIXTURES, "hf-daily/daily_papers_2026-06-12.json")
N = 4

srv = None
try:
    hooks = os.path.join(work, "hooks")
    # each request takes 1 s: the lock below is taken while the first runs
    srv = pwtest.Server([pwtest.PY, os.path.join(pwtest.SERVERS,
                                                 "webhookd.py"),
                         "--port", "0", "--outdir", hooks,
                         "--default", '{"status": 200, "delay": 1}'],
                        work, "hooks")
    conf = os.path.join(work, "pw.conf")
    hooks_conf = ",\n".join(
        '{ format = "json"; url = "http://127.0.0.1:%d/h%d"; }' % (srv.port, i)
        for i in range(N))
    with open(conf, "w") as f:
        f.write("""
state = "%(work)s/state.db";
user_agent = "paperwatch-test/1 (mailto:test@example.org)";
sources = ( { name = "hf"; type = "hf-daily"; url = "file://%(hf)s"; } );
subscriptions = ( { name = "chat"; query = "title:LLM";
                    webhook = ( %(hooks)s ); } );
""" % {"work": work, "hf": HF, "hooks": hooks_conf})

    def posted():
        if not os.path.isdir(hooks):
            return []
        out = []
        for n in sorted(os.listdir(hooks)):
            if n.endswith(".json"):
                with open(os.path.join(hooks, n)) as fh:
                    out.append(json.load(fh)["path"])
        return out

    env = dict(os.environ)
    env.setdefault("PAPERWATCH_DATADIR", pwtest.ROOT)
    p = subprocess.Popen(pwtest.cmd(["once", "-c", conf]),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    # wait for the first request to arrive (the receiver records it after
    # answering; the handler's delay is before the answer): lock as soon
    # as the digest is in the outbox and the first post is on its way
    db = None
    deadline = time.time() + 60
    while time.time() < deadline and p.poll() is None:
        try:
            c = sqlite3.connect(os.path.join(work, "state.db"), timeout=0.05)
            n = c.execute("SELECT count(*) FROM outbox").fetchone()[0]
            if n >= N:
                c.execute("BEGIN IMMEDIATE")
                db = c
                break
            c.close()
        except sqlite3.Error:
            pass
        time.sleep(0.02)
    t.ok(db is not None, "the database was locked during delivery")
    time.sleep(9)            # past the 5 s busy timeout of the first mark
    if db is not None:
        db.rollback()
        db.close()
    out, err = p.communicate(timeout=120)
    first = posted()
    t.ok(len(first) <= 2, "the run stopped posting once a mark failed",
         "posted %d: %s\n%s" % (len(first), first, err))
    t.ok("could not be recorded" in err or "database is locked" in err,
         "the run says why", err)

    r = pwtest.run(["once", "-c", conf])
    both = posted()
    per = collections.Counter(both)
    t.ok(len(per) == N, "every webhook got the digest in the end",
         "%s\n%s" % (per, r.stderr))
    t.ok(sum(v - 1 for v in per.values()) <= 1,
         "at most the message in flight was posted twice", str(per))
finally:
    if srv:
        srv.stop()
    pwtest.cleanup(work)
t.done()
