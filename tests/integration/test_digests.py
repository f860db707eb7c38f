#!/usr/bin/python3
"""The digest thread makes the same digests as one thread does.

`once` prepares digests (reads, renders, builds the messages) in a thread
of its own while the main thread writes them; PAPERWATCH_SERIAL_DIGESTS=1
prepares each one in the main thread. Both runs of the same feed and
subscriptions must leave the same digests (ids included), the same
matches assigned to them, and the same messages (times masked); one
subscription whose subject fails to render leaves its matches pending and
the others alone. A paper cache of a few slots (PAPERWATCH_PAPER_CACHE), so
that papers shared by digests are evicted and loaded again, changes
nothing either. The feed is the captured arXiv RSS file (file://), and
delivery goes to mbox files: no server is needed.
"""
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pwtest  # noqa: E402

RSS = "arxiv-rss/rss2024_all_archives_2024-11-28_excerpt_A.xml"
WORDS = ["learning", "model", "data", "network", "quantum", "graph",
         "language", "image", "optimization", "robot", "neural", "physics",
         "energy", "transformer", "diffusion", "theory", "algorithm",
         "field", "detection", "dynamics", "galaxy", "privacy", "time",
         "spectral"]
BROKEN = 7          # this subscription's webhook template makes bad JSON


def write_conf(path, work):
    with open(os.path.join(work, "bad.mustache"), "w") as f:
        f.write("not JSON: {{date}}\n")
    subs = []
    for i, w in enumerate(WORDS):
        extra = (' webhook = { format = "json"; url = "http://127.0.0.1:9/";'
                 ' template = "%s/bad.mustache"; };' % work
                 if i == BROKEN else "")
        subs.append('  { name = "s%02d"; keywords = ["%s"]; max_papers = %d;'
                    ' mbox = "%s/s%02d.mbox";%s }'
                    % (i, w, 5 + i % 4, work, i, extra))
    with open(path, "w") as f:
        f.write("""
state = "%s/state.db";
user_agent = "paperwatch-test/1 (mailto:test@example.org)";
sources = ( { name = "rss"; type = "arxiv-rss"; url = "file://%s"; } );
subscriptions = (
%s
);
""" % (work, os.path.join(pwtest.FIXTURES, RSS), ",\n".join(subs)))


def mask(b):
    b = re.sub(rb"Date: [^\r\n]*", b"Date: X", b)
    b = re.sub(rb"paperwatch\.(\d+)\.\d+\.", rb"paperwatch.\1.T.", b)
    b = re.sub(rb"=_[A-Za-z0-9._=-]+", b"=_B", b)
    return re.sub(rb"^From [^\n]*", b"From X", b, flags=re.M)


def state_of(work):
    db = sqlite3.connect(os.path.join(work, "state.db"))
    out = {
        "digests": db.execute("SELECT id, sub, date, n_papers FROM digests "
                              "ORDER BY id").fetchall(),
        "matches": db.execute("SELECT sub, paper, digest FROM matches "
                              "ORDER BY sub, paper").fetchall(),
        "outbox": db.execute("SELECT id, digest, sub, channel, dest, "
                             "subject, state FROM outbox ORDER BY id")
        .fetchall(),
    }
    db.close()
    mboxes = {}
    for name in sorted(os.listdir(work)):
        if name.endswith(".mbox"):
            with open(os.path.join(work, name), "rb") as f:
                mboxes[name] = mask(f.read())
    out["mboxes"] = mboxes
    return out


def run_once(work, env):
    conf = os.path.join(work, "pw.conf")
    write_conf(conf, work)
    r = pwtest.run(["-v", "once", "-c", conf], env=env)
    return r


def fresh(work):
    """Back to no state and no mbox (the paths stay: they are in the
    messages)."""
    for name in os.listdir(work):
        if name.startswith("state.db") or name.endswith(".mbox"):
            os.unlink(os.path.join(work, name))


t = pwtest.Tap()
threaded = pwtest.tmpdir()
try:
    one = run_once(threaded, {"PAPERWATCH_SERIAL_DIGESTS": "1",
                              "PAPERWATCH_SERIAL_DELIVERY": "1"})
    a = state_of(threaded)
    fresh(threaded)
    two = run_once(threaded, {})
    b = state_of(threaded)
    n = len(WORDS) - 1
    t.ok(len(b["digests"]) == n, "%d digests, one per subscription but the "
         "broken one" % n, b["digests"])
    t.ok([d[0] for d in b["digests"]] == list(range(1, n + 1)),
         "digest ids follow each other from 1", b["digests"])
    t.ok(a["digests"] == b["digests"],
         "the same digests with and without the digest thread",
         "%s\n%s" % (a["digests"], b["digests"]))
    t.ok(a["matches"] == b["matches"],
         "the same matches, assigned to the same digests")
    t.ok(a["outbox"] == b["outbox"] and len(b["outbox"]) == n and
         all(r[6] == "sent" for r in b["outbox"]),
         "the same outbox rows, every message sent", b["outbox"])
    t.ok(a["mboxes"] == b["mboxes"] and len(b["mboxes"]) == n,
         "the same messages (times and boundaries masked)",
         sorted(b["mboxes"]))
    broken = "s%02d" % BROKEN
    pending = [m for m in b["matches"] if m[0] == broken]
    t.ok(pending and all(m[2] is None for m in pending),
         "the subscription whose digest fails keeps its matches pending",
         pending[:3])
    t.ok(two.returncode != 0 and
         re.search(r"digest: subscription '%s': template '.*bad.mustache' "
                   r"produced invalid JSON" % broken, two.stderr),
         "its error is reported and the run exits non-zero", two.stderr)
    t.ok(one.stderr.count("digest: subscription") ==
         two.stderr.count("digest: subscription"),
         "both runs log the same digests")
    # the next run makes nothing new and repeats no message
    again = run_once(threaded, {})
    c = state_of(threaded)
    t.ok(c["digests"] == b["digests"] and c["mboxes"] == b["mboxes"],
         "a second run makes no digest and sends nothing again",
         again.stderr)
    # a paper cache of 1 or 3 slots (the digests share papers, so they
    # are evicted and loaded again) makes the same, threaded or not
    for slots in ("3", "1"):
        for serial in (False, True):
            fresh(threaded)
            env = {"PAPERWATCH_PAPER_CACHE": slots}
            if serial:
                env["PAPERWATCH_SERIAL_DIGESTS"] = "1"
            run_once(threaded, env)
            d = state_of(threaded)
            t.ok(d == b, "a cache of %s slot(s)%s makes the same digests, "
                 "assignments and messages" % (slots, ", serial" if serial
                                                else ""))
finally:
    pwtest.cleanup(threaded)
t.done()
