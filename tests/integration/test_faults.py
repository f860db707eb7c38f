#!/usr/bin/python3
"""Faults around `paperwatch once`, on real servers on 127.0.0.1: an SMTP
server that is down and then up, one that rejects a recipient, one that
fails temporarily, one that drops the connection in the middle of DATA;
a corrupt state database and a full disk.  In every case: a retry or a
clear error, nothing lost, nothing marked sent that was not, nothing sent
twice.  And with debug logging on, no secret reaches a log line."""
import hashlib
import os
import re
import socket
import sqlite3
import subprocess
import threading
import time

import pwtest

t = pwtest.Tap()
work = pwtest.tmpdir()
HF = os.path.join(pwtest.FIXTURES, "hf-daily", "daily_papers_2026-06-12.json")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def conf(name, port, emails, sub="llm", extra_smtp="", state=None,
         mbox=None):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "pw.conf")
    with open(path, "w") as f:
        f.write("""
state = "%(state)s";
user_agent = "paperwatch-test/1 (mailto:test@example.org)";
smtp = { host = "127.0.0.1"; port = %(port)d; tls = "none"; timeout = 5;
         from = "Paper digests <digest@example.org>"; %(extra)s };
sources = ( { name = "hf"; type = "hf-daily"; url = "file://%(hf)s"; } );
subscriptions = ( { name = "%(sub)s"; query = "title:LLM";%(mbox)s
                    email = [%(emails)s]; } );
""" % {"state": state or os.path.join(d, "state.db"), "port": port,
            "hf": HF, "sub": sub, "extra": extra_smtp,
            "mbox": ' mbox = "%s";' % mbox if mbox else "",
            "emails": ", ".join('"%s"' % e for e in emails)})
    return path


def status(path):
    return pwtest.run(["status", "-c", path]).stdout


def per_rcpt(mail):
    counts = {}
    for m in pwtest.messages(mail):
        counts[m["X-Env-To"]] = counts.get(m["X-Env-To"], 0) + 1
    return counts


servers = []
try:
    # 1. the server is down, then up: the digest arrives once
    port = free_port()
    c = conf("down", port, ["alice@example.org", "bob@example.org"])
    r = pwtest.run(["once", "-c", c])
    st = status(c)
    t.ok(r.returncode == 1, "server down: exit 1", r.stderr)
    t.ok("2 pending (2 retrying)" in st and "refused" in st.lower(),
         "server down: both messages wait for a retry, with the reason", st)
    mail = os.path.join(work, "down", "mail")
    srv = pwtest.Server([pwtest.PY, os.path.join(pwtest.SERVERS, "smtpd.py"),
                         "--port", str(port), "--outdir", mail], work,
                        "smtpd-down")
    servers.append(srv)
    r = pwtest.run(["once", "-c", c])
    t.ok(r.returncode == 1 and per_rcpt(mail) == {},
         "a retry is not due at once (backoff)", r.stderr)
    r = pwtest.run(["outbox", "-c", c, "retry", "all"])
    t.ok(r.returncode == 0, "outbox retry all", r.stderr)
    r = pwtest.run(["once", "-c", c])
    t.ok(r.returncode == 0 and per_rcpt(mail) ==
         {"alice@example.org": 1, "bob@example.org": 1},
         "server up: each recipient gets the digest once",
         "%s\n%s" % (per_rcpt(mail), r.stderr))
    r = pwtest.run(["once", "-c", c])
    t.ok(r.returncode == 0 and sum(per_rcpt(mail).values()) == 2,
         "and nothing more afterwards")

    # 2. one recipient rejected (550), one temporarily refused (450)
    mail = os.path.join(work, "rcpt", "mail")
    srv = pwtest.smtpd(work, mail, "--reject-pattern", "reject",
                       "--tempfail-pattern", "later")
    servers.append(srv)
    c = conf("rcpt", srv.port, ["alice@example.org", "reject-me@example.org",
                                "later@example.org"])
    r = pwtest.run(["once", "-c", c])
    st = status(c)
    t.ok(r.returncode == 1 and per_rcpt(mail) == {"alice@example.org": 1},
         "550 and 450 fail those recipients alone", per_rcpt(mail))
    t.ok(re.search(r"dead\s+llm\s+smtp\s+reject-me@example.org.*550", st),
         "the 550 recipient is a dead letter with the server's reply", st)
    t.ok(re.search(r"pending\s+llm\s+smtp\s+later@example.org.*45\d", st),
         "the 450 recipient is retried later", st)

    # 3. the connection drops in the middle of DATA
    mail = os.path.join(work, "drop", "mail")
    srv = pwtest.smtpd(work, mail, "--drop-pattern", "DROPME")
    servers.append(srv)
    c = conf("drop", srv.port, ["alice@example.org"], sub="DROPME")
    r = pwtest.run(["once", "-c", c])
    t.ok(r.returncode == 1 and per_rcpt(mail) == {},
         "dropped in DATA: not delivered, exit 1", r.stderr)
    t.ok("1 pending (1 retrying)" in status(c),
         "dropped in DATA: the message is kept for a retry", status(c))
    srv.stop()
    servers.remove(srv)
    # a well-behaved server (on another port: the config is rewritten,
    # the state and its outbox stay)
    srv = pwtest.smtpd(work, mail)
    servers.append(srv)
    c = conf("drop", srv.port, ["alice@example.org"], sub="DROPME")
    pwtest.run(["outbox", "-c", c, "retry", "all"])
    r = pwtest.run(["once", "-c", c])
    t.ok(r.returncode == 0 and per_rcpt(mail) == {"alice@example.org": 1},
         "dropped in DATA: delivered once by the retry", r.stderr)

    # 3b. a server that greets with 421, and one that never answers
    def raw_server(greeting):
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(8)
        conns = []

        def loop():
            while True:
                try:
                    c, _ = ls.accept()
                except OSError:
                    return
                conns.append(c)
                if greeting:
                    try:
                        c.sendall(greeting)
                        c.close()
                    except OSError:
                        pass
        threading.Thread(target=loop, daemon=True).start()
        return ls, conns

    for label, greeting in (("421 at the greeting",
                             b"421 4.3.2 Service not available\r\n"),
                            ("a server that never answers", None)):
        ls, conns = raw_server(greeting)
        name = "raw%d" % len(servers)
        servers.append(None)
        c = conf(name, ls.getsockname()[1], ["alice@example.org"])
        t0 = time.time()
        r = pwtest.run(["once", "-c", c])
        took = time.time() - t0
        st = status(c)
        t.ok(r.returncode == 1 and "1 pending (1 retrying)" in st,
             "%s: kept for a retry, exit 1" % label, r.stderr + st)
        t.ok(took < 60, "%s: the cycle ends (%.1f s)" % (label, took))
        ls.close()
        for x in conns:
            x.close()
    servers[:] = [x for x in servers if x is not None]

    # 4. a corrupt state database: a clear error, the file left alone
    mail = os.path.join(work, "corrupt", "mail")
    srv = pwtest.smtpd(work, mail)
    servers.append(srv)
    c = conf("corrupt", srv.port, ["alice@example.org"])
    db = os.path.join(work, "corrupt", "state.db")
    with open(db, "wb") as f:
        f.write(b"this is not an SQLite database\n" * 200)
    before = hashlib.sha256(open(db, "rb").read()).hexdigest()
    r = pwtest.run(["once", "-c", c])
    t.ok(r.returncode != 0 and "not a database" in r.stderr,
         "corrupt database: a clear error", r.stderr)
    t.ok(hashlib.sha256(open(db, "rb").read()).hexdigest() == before,
         "corrupt database: not reset or rewritten")
    t.ok(per_rcpt(mail) == {}, "corrupt database: nothing sent")

    # 5. the disk is full (max_page_count), then has room again
    c = conf("full", srv.port, ["full@example.org"])
    r = pwtest.run(["once", "-c", c], env={"PAPERWATCH_DB_MAX_PAGES": "16"})
    t.ok(r.returncode != 0 and "full" in r.stderr.lower(),
         "disk full: a clear error", r.stderr)
    t.ok(per_rcpt(mail).get("full@example.org") is None,
         "disk full: nothing sent")
    r = pwtest.run(["once", "-c", c])
    t.ok(r.returncode == 0 and per_rcpt(mail).get("full@example.org") == 1,
         "room again: the digest arrives once (nothing was marked seen)",
         r.stderr)

    # 6. a read-only state directory (a tmpfs remounted read-only; root)
    ro = os.path.join(work, "ro")
    os.makedirs(ro)
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", ro],
        capture_output=True).returncode == 0
    if not mounted:
        for name in ("read-only", "read-only: outbox kept",
                     "read-only gone: delivered once"):
            t.skip(name, "needs root and mount")
    else:
        try:
            port = free_port()
            c = conf("ro-conf", port, ["ro@example.org"],
                     state=os.path.join(ro, "state.db"))
            pwtest.run(["once", "-c", c])       # SMTP down: kept in the outbox
            subprocess.run(["mount", "-o", "remount,ro", ro], check=True)
            r = pwtest.run(["once", "-c", c])
            t.ok(r.returncode != 0 and "read-only" in r.stderr.lower(),
                 "read-only: a clear error", r.stderr)
            subprocess.run(["mount", "-o", "remount,rw", ro], check=True)
            t.ok("1 pending" in status(c), "read-only: outbox kept",
                 status(c))
            rmail = os.path.join(work, "ro-mail")
            srv = pwtest.Server([pwtest.PY, os.path.join(
                pwtest.SERVERS, "smtpd.py"), "--port", str(port),
                "--outdir", rmail], work, "smtpd-ro")
            servers.append(srv)
            pwtest.run(["outbox", "-c", c, "retry", "all"])
            r = pwtest.run(["once", "-c", c])
            t.ok(r.returncode == 0 and per_rcpt(rmail) == {"ro@example.org": 1},
                 "read-only gone: delivered once", r.stderr)
        finally:
            subprocess.run(["umount", "-l", ro], capture_output=True)

    # 7. secrets never reach a log line, even at debug level
    mail = os.path.join(work, "secret", "mail")
    srv = pwtest.smtpd(work, mail, "--auth", "alice:Sup3r-s3cret-PW")
    servers.append(srv)
    pwfile = os.path.join(work, "smtp.pass")
    with open(pwfile, "w") as f:
        f.write("Sup3r-s3cret-PW\n")
    os.chmod(pwfile, 0o600)
    c = conf("secret", srv.port, ["alice@example.org"],
             extra_smtp='user = "alice"; password_file = "%s";' % pwfile)
    r = pwtest.run(["-v", "once", "-c", c])
    t.ok(r.returncode == 0 and per_rcpt(mail) == {"alice@example.org": 1},
         "AUTH: delivered", r.stderr)
    t.ok("Sup3r-s3cret-PW" not in r.stderr + r.stdout and
         "U3VwM3Itc" not in r.stderr,     # base64 of the password's start
         "the SMTP password is in no log line, debug included")

    # 8. results that cannot be recorded stop the delivery: a trigger
    # makes every sent mark fail; the mbox message goes first (channels
    # in name order) and is sent, its mark fails, and the SMTP messages
    # behind it are not sent (each would stay due and be sent again)
    d = os.path.join(work, "nomark")
    mail = os.path.join(d, "mail")
    srv = pwtest.smtpd(work, mail)
    servers.append(srv)
    mbox = os.path.join(d, "digests.mbox")
    c = conf("nomark", srv.port, ["m1@example.org", "m2@example.org"],
             mbox=mbox)
    status(c)                           # creates the database
    db = sqlite3.connect(os.path.join(d, "state.db"))
    db.execute("CREATE TRIGGER nomark BEFORE UPDATE OF state ON outbox "
               "WHEN NEW.state = 'sent' BEGIN "
               "SELECT RAISE(FAIL, 'injected: no sent mark'); END")
    db.commit()
    db.close()

    def mbox_count():
        if not os.path.exists(mbox):
            return 0
        with open(mbox, "rb") as f:
            return sum(1 for line in f if line.startswith(b"From "))

    r = pwtest.run(["once", "-c", c])
    t.ok(r.returncode != 0 and "results cannot be recorded" in r.stderr,
         "marks failing: the delivery stops with a clear error", r.stderr)
    t.ok(mbox_count() == 1 and per_rcpt(mail) == {},
         "marks failing: the first message went out, nothing after it",
         "mbox %d, smtp %r" % (mbox_count(), per_rcpt(mail)))
    db = sqlite3.connect(os.path.join(d, "state.db"))
    db.execute("DROP TRIGGER nomark")
    db.commit()
    db.close()
    r = pwtest.run(["once", "-c", c])
    t.ok(r.returncode == 0 and per_rcpt(mail) ==
         {"m1@example.org": 1, "m2@example.org": 1} and mbox_count() == 2,
         "marks recorded again: everything delivered, only the unmarked "
         "message twice", r.stderr)
    st = status(c)
    t.ok("outbox: 0 pending (0 retrying), 0 dead, 3 sent" in st,
         "marks recorded again: all 3 marked sent, nothing pending", st)

    # 9. a fetch that fails after part of the feed arrived: the papers
    # parsed so far were being stored as they came (the fetch thread),
    # and are all rolled back; the next poll stores every paper once
    d = os.path.join(work, "cut")
    os.makedirs(d)
    http = pwtest.httpd(work, pwtest.FIXTURES)
    servers.append(http)
    rss = "arxiv-rss/rss2024_all_archives_2024-11-28_excerpt_A.xml"
    size = os.path.getsize(os.path.join(pwtest.FIXTURES, rss))
    cutconf = os.path.join(d, "pw.conf")

    def write_cut(url):
        with open(cutconf, "w") as f:
            f.write("""
state = "%(d)s/state.db";
user_agent = "paperwatch-test/1 (mailto:test@example.org)";
sources = ( { name = "rss"; type = "arxiv-rss"; url = "%(url)s"; } );
subscriptions = ( { name = "all"; keywords = ["learning"];
                    mbox = "%(d)s/all.mbox"; } );
""" % {"d": d, "url": url})

    def counts():
        db = sqlite3.connect(os.path.join(d, "state.db"))
        n = [db.execute("SELECT count(*) FROM %s" % x).fetchone()[0]
             for x in ("papers", "matches", "digests")]
        db.close()
        return n

    write_cut("http://127.0.0.1:%d/cut/%s?n=%d" % (http.port, rss,
                                                   size * 2 // 3))
    r = pwtest.run(["once", "-c", cutconf])
    t.ok(r.returncode != 0 and "fetch: source 'rss'" in r.stderr and
         counts() == [0, 0, 0] and
         not os.path.exists(os.path.join(d, "all.mbox")),
         "cut fetch: nothing stored, matched or sent",
         "%r %s" % (counts(), r.stderr))
    write_cut("http://127.0.0.1:%d/f/%s" % (http.port, rss))
    r = pwtest.run(["once", "-c", cutconf])
    n = counts()
    t.ok(r.returncode == 0 and n[0] > 300 and n[1] > 0 and n[2] == 1 and
         "papers, %d new" % n[0] in r.stderr,
         "cut fetch, then whole: every paper stored once, one digest",
         "%r %s" % (n, r.stderr))
finally:
    for s in servers:
        s.stop()
    if t.failed == 0:
        pwtest.cleanup(work)
    else:
        print("# work dir kept: " + work)
t.done()
