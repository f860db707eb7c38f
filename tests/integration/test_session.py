#!/usr/bin/python3
"""One SMTP session carries the mail of a cycle.

`once` with 40 subscriptions, each with an email address and a JSON
webhook: the digests are written in several transactions while the
delivery thread sends, and webhook posts come between the emails in the
outbox. Every email must arrive in one SMTP session (aiosmtpd numbers its
connections: X-Env-Session), every webhook post once, and a refused
recipient in the middle fails that message alone without ending the
session. The same with digests and delivery in the main thread. A second
run sends nothing and opens no session.
"""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pwtest  # noqa: E402

RSS = "arxiv-rss/rss2024_all_archives_2024-11-28_excerpt_A.xml"
N = 40
REFUSED = 17        # this subscription's address is refused (550)


def write_conf(path, work, smtp_port, hook_port):
    subs = []
    for i in range(N):
        addr = "nobody%02d@example.org" % i if i == REFUSED else \
            "user%02d@example.org" % i
        subs.append('  { name = "s%02d"; keywords = ["learning"]; '
                    'max_papers = 3; email = ["%s"]; webhook = { format = '
                    '"json"; url = "http://127.0.0.1:%d/s%02d"; }; }'
                    % (i, addr, hook_port, i))
    with open(path, "w") as f:
        f.write("""
state = "%s/state.db";
user_agent = "paperwatch-test/1 (mailto:test@example.org)";
smtp = { host = "127.0.0.1"; port = %d; tls = "none"; timeout = 10;
         from = "Paper digests <digest@example.org>"; };
sources = ( { name = "rss"; type = "arxiv-rss"; url = "file://%s"; } );
subscriptions = (
%s
);
""" % (work, smtp_port, os.path.join(pwtest.FIXTURES, RSS), ",\n".join(subs)))


def posts(d):
    return sorted(n for n in os.listdir(d) if n.endswith(".json")) \
        if os.path.isdir(d) else []


def outbox(work):
    db = sqlite3.connect(os.path.join(work, "state.db"))
    rows = db.execute("SELECT channel, dest, state, last_error FROM outbox "
                      "ORDER BY id").fetchall()
    db.close()
    return rows


t = pwtest.Tap()
top = pwtest.tmpdir()
servers = []
try:
    for label, env in (("threads", {}),
                       ("main thread", {"PAPERWATCH_SERIAL_DIGESTS": "1",
                                        "PAPERWATCH_SERIAL_DELIVERY": "1"})):
        work = os.path.join(top, label.replace(" ", "-"))
        mail = os.path.join(work, "mail")
        hooks = os.path.join(work, "hooks")
        os.makedirs(work)
        smtp = pwtest.smtpd(work, mail, "--env-extra", "--reject-pattern",
                            "nobody")
        servers.append(smtp)
        hook = pwtest.Server([pwtest.PY, os.path.join(
            pwtest.SERVERS, "webhookd.py"), "--port", "0", "--outdir",
            hooks], work, "hooks")
        servers.append(hook)
        conf = os.path.join(work, "pw.conf")
        write_conf(conf, work, smtp.port, hook.port)

        r = pwtest.run(["once", "-c", conf], env=env)
        got = pwtest.messages(mail)
        sessions = {m["X-Env-Session"] for m in got}
        to = sorted(m["X-Env-To"] for m in got)
        want = sorted("user%02d@example.org" % i for i in range(N)
                      if i != REFUSED)
        t.ok(to == want, "%s: every email arrives once, the refused one "
             "not" % label, "%d messages, r=%d %s" % (len(got),
                                                      r.returncode, r.stderr[-2000:]))
        t.ok(len(sessions) == 1, "%s: all %d in one SMTP session"
             % (label, len(got)), "sessions %s" % sorted(sessions))
        t.ok(len(posts(hooks)) == N, "%s: every webhook posted once"
             % label, "%d posts" % len(posts(hooks)))
        rows = outbox(work)
        dead = [x for x in rows if x[2] == "dead"]
        t.ok(len(rows) == 2 * N and len(dead) == 1 and
             dead[0][1] == "nobody%02d@example.org" % REFUSED and
             "recipient refused" in (dead[0][3] or "") and
             all(x[2] == "sent" for x in rows if x not in dead),
             "%s: the refused recipient alone failed for good" % label,
             repr(dead or rows[:4]))

        r = pwtest.run(["once", "-c", conf], env=env)
        got = pwtest.messages(mail)
        t.ok(r.returncode == 0 and len(got) == N - 1 and
             len(posts(hooks)) == N and
             {m["X-Env-Session"] for m in got} == sessions,
             "%s: a second run sends nothing" % label, r.stderr[-2000:])
        for s in (smtp, hook):
            s.stop()
            servers.remove(s)
finally:
    for s in servers:
        s.stop()
t.done()
pwtest.cleanup(top)
