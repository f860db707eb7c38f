#!/usr/bin/python3
"""A poll keeps only the matches that can still make a digest.

A subscription with max_papers = K sends the K best of its pending
matches and drops the rest, so the ingest of a source stores only its K
best matches for it. Each keyword below has three subscriptions: "a" with
max_papers, "b" without (it keeps every match), and "r" with max_papers
and replacements (it keeps every match too: its rows group several versions
of a paper). With one source, "a" keeps exactly the K best of "b"'s matches
(score, then paper id) and its digest sends them. With two sources, each
ingest keeps its own K best, and the digest holds the K best of both. The
feeds are a captured arXiv RSS file and API response (file://); delivery
goes to mbox files.
"""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pwtest  # noqa: E402

RSS = ("rss", "arxiv-rss",
       "arxiv-rss/rss2024_all_archives_2024-11-28_excerpt_A.xml")
API = ("api", "arxiv-api", "arxiv-api/api2026_search_testing_100_entries.xml")
WORDS = ["learning", "model", "data", "network", "quantum", "graph"]


def k_of(i):
    return 2 + i % 3


def write_conf(path, work, feeds):
    subs = []
    for i, w in enumerate(WORDS):
        for kind, extra in (("a", "max_papers = %d;" % k_of(i)), ("b", ""),
                            ("r", "max_papers = %d; replacements = true;"
                             % k_of(i))):
            subs.append('  { name = "%s%d"; keywords = ["%s"]; %s '
                        'mbox = "%s/%s%d.mbox"; }'
                        % (kind, i, w, extra, work, kind, i))
    srcs = ['  { name = "%s"; type = "%s"; url = "file://%s"; }'
            % (f[0], f[1], os.path.join(pwtest.FIXTURES, f[2]))
            for f in feeds]
    with open(path, "w") as f:
        f.write("""
state = "%s/state.db";
user_agent = "paperwatch-test/1 (mailto:test@example.org)";
sources = (
%s
);
subscriptions = (
%s
);
""" % (work, ",\n".join(srcs), ",\n".join(subs)))


def rows(db, sub):
    """(paper, score, digest) of sub's matches."""
    return db.execute("SELECT paper, score, digest FROM matches WHERE sub=?",
                      (sub,)).fetchall()


def best(rs, k):
    """The ids of the k best rows: score, then paper id."""
    return sorted(r[0] for r in sorted(rs, key=lambda r: (-r[1], r[0]))[:k])


def sent(rs):
    return sorted(r[0] for r in rs if r[2] is not None and r[2] > 0)


def once(work, feeds):
    conf = os.path.join(work, "pw.conf")
    write_conf(conf, work, feeds)
    r = pwtest.run(["once", "-c", conf])
    t.ok(r.returncode == 0, "a cycle with %s" % " and ".join(
        f[0] for f in feeds), r.stderr)
    return sqlite3.connect(os.path.join(work, "state.db"))


t = pwtest.Tap()
one, two = pwtest.tmpdir(), pwtest.tmpdir()
try:
    db = once(one, [RSS])
    for i in range(len(WORDS)):
        k = k_of(i)
        a, b, r = rows(db, "a%d" % i), rows(db, "b%d" % i), \
            rows(db, "r%d" % i)
        t.ok(len(b) > k and sent(b) == sorted(x[0] for x in b),
             "'b%d' keeps and sends all its %d matches" % (i, len(b)))
        t.ok(sorted(x[0] for x in a) == best(b, k),
             "'a%d' keeps only its %d best" % (i, k), (a, best(b, k)))
        t.ok(sent(a) == best(b, k), "and sends them", a)
        t.ok(len(r) == len(b) and sent(r) == best(b, k),
             "'r%d' (replacements) keeps them all, sends the same" % i,
             (len(r), len(b), sent(r)))
        with open(os.path.join(one, "a%d.mbox" % i), "rb") as f:
            t.ok(f.read().startswith(b"From "), "'a%d' got its "
                 "digest" % i)
    db.close()

    db = once(two, [RSS, API])
    more = 0
    for i in range(len(WORDS)):
        k = k_of(i)
        a, b = rows(db, "a%d" % i), rows(db, "b%d" % i)
        more += len(a) > k
        t.ok(len(a) <= 2 * k and set(x[0] for x in a) <=
             set(x[0] for x in b),
             "'a%d' keeps at most %d best of each source" % (i, k), a)
        t.ok(sent(a) == best(b, k), "'a%d' sends the %d best of both "
             "sources" % (i, k), (sent(a), best(b, k)))
    t.ok(more > 0, "some subscription kept more than K rows in all")
    db.close()
finally:
    if not os.environ.get("KEEP"):
        pwtest.cleanup(one)
        pwtest.cleanup(two)
t.done()
