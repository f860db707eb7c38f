#!/usr/bin/python3
"""Two paperwatch processes on one state database: two `once` runs started
together (a cron run overrunning into the next, or `once` by hand while
`run` works) must not both send the messages due.  The second waits for
the first (STATE.lock), then finds nothing left to send.  The SMTP server
is slowed down so that the runs overlap."""
import collections
import os
import subprocess
import time

import pwtest

t = pwtest.Tap()
work = pwtest.tmpdir()
mail = os.path.join(work, "mail")
API = "arxiv-api/api2026_search_testing_100_entries.xml"
N = 24

smtp = http = None
try:
    http = pwtest.httpd(work, pwtest.FIXTURES)
    smtp = pwtest.smtpd(work, mail, "--delay", "0.1")
    conf = os.path.join(work, "pw.conf")
    emails = ", ".join('"r%02d@example.org"' % i for i in range(N))
    with open(conf, "w") as f:
        f.write("""
state = "%(work)s/state.db";
user_agent = "paperwatch-test/1 (mailto:test@example.org)";
smtp = { host = "127.0.0.1"; port = %(smtp)d; tls = "none";
         from = "Paper digests <digest@example.org>"; };
sources = ( { name = "arxiv"; type = "arxiv-api";
              url = "http://127.0.0.1:%(http)d/f/%(api)s"; } );
subscriptions = ( { name = "testing"; keywords = ["testing"];
                    email = [%(emails)s]; } );
""" % {"work": work, "smtp": smtp.port, "http": http.port, "api": API,
            "emails": emails})

    env = dict(os.environ)
    env.setdefault("PAPERWATCH_DATADIR", pwtest.ROOT)
    procs = []
    for i in range(2):
        procs.append(subprocess.Popen(pwtest.cmd(["once", "-c", conf]),
                                      stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True,
                                      env=env))
        time.sleep(0.3)
    outs = [p.communicate(timeout=300) for p in procs]
    t.ok(all(p.returncode == 0 for p in procs), "both runs exit 0",
         "\n".join(o[1] for o in outs))
    t.ok(any("waiting for it to finish" in o[1] for o in outs),
         "one run waited for the other", "\n".join(o[1] for o in outs))
    msgs = pwtest.messages(mail)
    per = collections.Counter(str(m["X-Env-To"]) for m in msgs)
    t.ok(len(per) == N, "every recipient got the digest",
         "%d of %d" % (len(per), N))
    twice = sorted(k for k, v in per.items() if v > 1)
    t.ok(not twice, "no recipient got it twice", "twice: %s" % twice)
    t.ok(os.path.exists(os.path.join(work, "state.db.lock")),
         "the lock file sits next to the state database")
finally:
    for s in (smtp, http):
        if s:
            s.stop()
    pwtest.cleanup(work)
t.done()
