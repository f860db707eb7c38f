#!/usr/bin/python3
"""Write the paperwatch configs that bench/run.sh times.

Usage:
  mkconf.py e2e SUBS.tsv --state DB --url URL --smtp-port P [-o FILE]
      one arxiv-rss source (every announce type, so all entries count, as
      rss2email mails them all) and one subscription per subscriber of
      SUBS.tsv (bench/gen/gen_subscriptions.py rows
      subscriber<TAB>any|author<TAB>term): its "any" rows become
      `keywords`, its "author" rows `query = author:"A" OR author:"B"`
      (paperwatch ORs query and keywords), delivered by email to the
      subscriber over SMTP (tls = "none") on 127.0.0.1:P.
  mkconf.py send --state DB --smtp-port P [-o FILE]
      only state + smtp, for bench/send_bench.
  mkconf.py idle --state DB --url URL [-o FILE]
      one source with a long interval and one subscription delivering to
      an mbox beside DB, for the idle-memory measurement of `run`.

Python 3 standard library only.
"""

import argparse
import os
import sys

HEAD = '''state = "%(state)s";
user_agent = "paperwatch-bench/1 (mailto:bench@example.org)";
log_level = "%(log)s";
'''
SMTP = '''smtp = { host = "127.0.0.1"; port = %(port)d; tls = "none";
         from = "Paper digests <digest@example.org>"; };
'''


def q(s):
    """A libconfig string literal."""
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def read_subs(path):
    subs = {}
    order = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            who, field, term = line.split("\t")
            if who not in subs:
                subs[who] = ([], [])
                order.append(who)
            subs[who][0 if field == "any" else 1].append(term)
    return [(w, subs[w][0], subs[w][1]) for w in order]


def e2e(a):
    out = [HEAD % {"state": a.state, "log": a.log_level},
           SMTP % {"port": a.smtp_port},
           'sources = (\n  { name = "arxiv"; type = "arxiv-rss"; url = %s;\n'
           '    announce = ["new", "cross", "replace", "replace-cross"]; }\n'
           ');\n' % q(a.url),
           "subscriptions = (\n"]
    rows = []
    for i, (who, anys, authors) in enumerate(read_subs(a.subs)):
        r = ["  { name = %s;" % q("s%05d" % i)]
        if anys:
            r.append("    keywords = [%s];" % ", ".join(q(t) for t in anys))
        if authors:
            expr = " OR ".join('author:"%s"' % t for t in authors)
            r.append("    query = %s;" % q(expr))
        if a.max_papers:
            r.append("    max_papers = %d;" % a.max_papers)
        r.append("    email = [%s]; }" % q(who))
        rows.append("\n".join(r))
    out.append(",\n".join(rows))
    out.append("\n);\n")
    return "".join(out)


def send(a):
    return (HEAD % {"state": a.state, "log": a.log_level} +
            SMTP % {"port": a.smtp_port} +
            "sources = ();\nsubscriptions = ();\n")


def idle(a):
    mbox = os.path.join(os.path.dirname(os.path.abspath(a.state)),
                        "idle.mbox")
    return (HEAD % {"state": a.state, "log": a.log_level} +
            'sources = (\n  { name = "feed"; type = "arxiv-rss"; url = %s;'
            ' interval = "7d"; }\n);\n' % q(a.url) +
            'subscriptions = (\n  { name = "llm"; keywords = ["language '
            'model", "LLM"]; mbox = %s; }\n);\n' % q(mbox))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["e2e", "send", "idle"])
    ap.add_argument("subs", nargs="?")
    ap.add_argument("--state", required=True)
    ap.add_argument("--url")
    ap.add_argument("--smtp-port", type=int)
    ap.add_argument("--max-papers", type=int, default=0)
    ap.add_argument("--log-level", default="notice")
    ap.add_argument("-o", "--output")
    a = ap.parse_args()
    if a.kind == "e2e" and not (a.subs and a.url and a.smtp_port):
        ap.error("e2e needs SUBS.tsv, --url and --smtp-port")
    if a.kind == "send" and not a.smtp_port:
        ap.error("send needs --smtp-port")
    if a.kind == "idle" and not a.url:
        ap.error("idle needs --url")
    text = {"e2e": e2e, "send": send, "idle": idle}[a.kind](a)
    if a.output:
        with open(a.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
