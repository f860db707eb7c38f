#!/usr/bin/python3
"""paperwatch once, end to end: a local HTTP server serves captured arXiv
and Hugging Face responses, a real aiosmtpd server receives the digests,
Python's email package parses them.  A second `once` delivers nothing."""
import email
import email.policy
import json
import os
import re
import xml.etree.ElementTree as ET

import pwtest

t = pwtest.Tap()
work = pwtest.tmpdir()
mail = os.path.join(work, "mail")
ATOM = "{http://www.w3.org/2005/Atom}"
API = "arxiv-api/api2026_search_testing_100_entries.xml"
HF = "hf-daily/daily_papers_2026-06-12.json"


def norm(s):
    return " ".join(s.split())


def expected_api_titles(phrase):
    """Reference: titles of entries whose title or abstract holds phrase
    as whole words (case-insensitive, hyphen = space)."""
    words = phrase.split()
    rx = re.compile(r"\b" + r"[\s-]+".join(map(re.escape, words)) + r"\b",
                    re.I)
    root = ET.parse(os.path.join(pwtest.FIXTURES, API)).getroot()
    out = []
    for e in root.iter(ATOM + "entry"):
        title = norm(e.find(ATOM + "title").text)
        summ = norm(e.find(ATOM + "summary").text)
        if rx.search(title) or rx.search(summ):
            out.append(title)
    return out


def write_conf(path, http_port, smtp_port):
    with open(path, "w") as f:
        f.write("""
state = "%(work)s/state.db";
user_agent = "paperwatch-test/1 (mailto:test@example.org)";
smtp = { host = "127.0.0.1"; port = %(smtp)d; tls = "none";
         from = "Paper digests <digest@example.org>"; };
sources = (
  { name = "arxiv-testing"; type = "arxiv-api";
    url = "http://127.0.0.1:%(http)d/f/%(api)s"; },
  { name = "hf"; type = "hf-daily"; url = "http://127.0.0.1:%(http)d/f/%(hf)s"; }
);
subscriptions = (
  { name = "mutation"; keywords = ["mutation testing"];
    sources = ["arxiv-testing"];
    email = ["alice@example.org", "Bob Example <bob@example.org>"]; },
  { name = "llm"; query = "title:LLM"; sources = ["hf"];
    mbox = "%(work)s/llm.mbox"; }
);
""" % {"work": work, "smtp": smtp_port, "http": http_port, "api": API,
            "hf": HF})


http = smtp = None
try:
    http = pwtest.httpd(work, pwtest.FIXTURES)
    smtp = pwtest.smtpd(work, mail)
    conf = os.path.join(work, "pw.conf")
    write_conf(conf, http.port, smtp.port)

    r = pwtest.run(["check-config", "-c", conf])
    t.ok(r.returncode == 0, "check-config accepts the test config",
         r.stderr)

    r = pwtest.run(["once", "-c", conf])
    t.ok(r.returncode == 0, "first once exits 0", r.stderr)
    msgs = pwtest.messages(mail)
    t.ok(len(msgs) == 2, "two messages: one per recipient",
         "got %d\n%s" % (len(msgs), r.stderr))
    want = expected_api_titles("mutation testing")
    t.ok(len(want) >= 1, "the fixture has papers about mutation testing")
    tos = sorted(str(m["To"]) for m in msgs)
    t.ok(any("alice@example.org" in x for x in tos) and
         any("bob@example.org" in x for x in tos),
         "each recipient got a message", tos)
    for m in msgs:
        env_to = m["X-Env-To"]
        t.ok(str(m["To"]).count("@") == 1 and env_to in str(m["To"]),
             "To: holds only the envelope recipient %s" % env_to,
             str(m["To"]))
        t.ok(m["From"].addresses[0].addr_spec == "digest@example.org" and
             m["From"].addresses[0].display_name == "Paper digests",
             "From: is the configured sender", str(m["From"]))
        t.ok("mutation" in str(m["Subject"]) and
             re.search(r"\d{4}-\d\d-\d\d", str(m["Subject"])),
             "Subject names the subscription and the date",
             str(m["Subject"]))
        t.ok(m["Date"] is not None and m["Date"].datetime is not None,
             "Date: parses", str(m["Date"]))
        t.ok(re.match(r"^<[^<>@\s]+@[^<>@\s]+>$", str(m["Message-ID"])),
             "Message-ID: is well formed", str(m["Message-ID"]))
        text = norm(pwtest.text_of(m))
        missing = [x for x in want if norm(x) not in text]
        t.ok(not missing, "the text part lists every expected title",
             "missing: %s" % missing)
        t.ok(m.get_content_type() == "multipart/alternative" and
             pwtest.html_of(m) != "", "a text and an HTML part")
    t.ok(len({str(m["Message-ID"]) for m in msgs}) == 2,
         "each recipient's Message-ID differs")

    mbox = os.path.join(work, "llm.mbox")
    data = open(mbox, "rb").read() if os.path.exists(mbox) else b""
    t.ok(data.count(b"\nFrom ") + data.startswith(b"From ") == 1,
         "one digest appended to the mbox")
    st = os.stat(mbox) if os.path.exists(mbox) else None
    t.ok(st is not None and (st.st_mode & 0o777) == 0o600,
         "the mbox is created mode 0600")
    import mailbox
    box = list(mailbox.mbox(mbox)) if st else []
    body = ""
    if box:
        msg = email.message_from_bytes(box[0].as_bytes(),
                                       policy=email.policy.default)
        body = norm(pwtest.text_of(msg))
    hf = json.load(open(os.path.join(pwtest.FIXTURES, HF)))
    llm_titles = [norm(x["paper"]["title"]) for x in hf
                  if re.search(r"\bLLMs?\b", x["paper"]["title"])]
    t.ok(llm_titles and all(x in body for x in llm_titles),
         "the mbox digest lists the HF papers with LLM in the title",
         "want %s" % llm_titles)
    st = os.stat(os.path.join(work, "state.db"))
    t.ok((st.st_mode & 0o777) == 0o600, "the state database is mode 0600")

    r = pwtest.run(["once", "-c", conf])
    t.ok(r.returncode == 0, "second once exits 0", r.stderr)
    t.ok(len(pwtest.messages(mail)) == 2, "second once sends nothing more")
    t.ok(open(mbox, "rb").read() == data, "second once appends nothing")

    # the arXiv API's error feed is an error, not a paper
    r = pwtest.run(["papers", os.path.join(
        pwtest.FIXTURES, "arxiv-api",
        "api2026_error_http400_incorrect_id_format.xml")])
    t.ok(r.returncode != 0 and "incorrect id format for abc" in r.stderr
         and r.stdout == "", "papers: the API error feed is an error",
         r.stdout + r.stderr)
    r = pwtest.run(["papers", "http://127.0.0.1:%d/f/%s" % (http.port, API)])
    lines = r.stdout.splitlines()
    first = json.loads(lines[0]) if lines else {}
    t.ok(r.returncode == 0 and len(lines) == 100 and
         first.get("id") == "2202.12139" and first.get("version") == 1,
         "papers over HTTP: 100 JSON lines, first id 2202.12139",
         r.stderr)
    keys = {"id", "version", "title", "authors", "summary", "categories",
            "primary_category", "published", "updated", "url"}
    t.ok(keys <= set(first), "papers: every required key",
         sorted(keys - set(first)))

    # match: what each subscription matches, nothing recorded
    hf_file = os.path.join(pwtest.FIXTURES, HF)
    r = pwtest.run(["match", "-c", conf, "--json", hf_file])
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    t.ok(r.returncode == 0 and rows and
         all(set(x) == {"subscription", "id", "score", "hits"} for x in rows)
         and {x["subscription"] for x in rows} == {"llm"} and
         all(x["hits"] == ["LLM"] and x["score"] >= 3 for x in rows) and
         len(rows) == len(llm_titles),
         "match --json: one line per match with score and hits", r.stdout)
    # preview: the seed's Markdown form, nothing sent or recorded
    before = len(pwtest.messages(mail))
    r = pwtest.run(["preview", "-c", conf, "llm", "--format", "markdown",
                    "--source-file", hf_file])
    t.ok(r.returncode == 0 and re.search(r"^## Papers for \d{4}-\d\d-\d\d$",
                                         r.stdout, re.M) and
         "| Title | Authors | Summary |" in r.stdout and
         "(Read more on [arXiv](https://arxiv.org/abs/2606.00467) or "
         "[HuggingFace](https://huggingface.co/papers/2606.00467))" in r.stdout,
         "preview --format markdown: the seed digest form", r.stdout[:800])
    t.ok(len(pwtest.messages(mail)) == before, "preview sends nothing")
    # render: any template with any JSON data
    tpl = os.path.join(work, "t.mustache")
    data = os.path.join(work, "d.json")
    with open(tpl, "w") as f:
        f.write("{{#papers}}<b>{{title}}</b>{{/papers}}")
    with open(data, "w") as f:
        json.dump({"papers": [{"title": "<script>x</script> & co"}]}, f)
    r = pwtest.run(["render", "-t", tpl, "-d", data])
    t.ok(r.returncode == 0 and r.stdout ==
         "<b>&lt;script&gt;x&lt;/script&gt; &amp; co</b>",
         "render: HTML escaping by default", r.stdout + r.stderr)
    r = pwtest.run(["render", "-t", tpl, "-d", data, "--escape", "none"])
    t.ok(r.stdout == "<b><script>x</script> & co</b>",
         "render --escape none", r.stdout)

    bad = os.path.join(work, "bad.conf")
    with open(bad, "w") as f:
        f.write('user_agent = "x (mailto:a@b)";\nsources = (\n'
                '  { name = "a"; type = "arxv"; url = "file:///x"; }\n);\n'
                'subscriptions = ( { name = "s"; query = "(a OR b";\n'
                '  mbox = "/tmp/x"; colour = 1; } );\n')
    r = pwtest.run(["check-config", "-c", bad])
    t.ok(r.returncode == 78, "check-config: exit 78 on errors", r.stderr)
    t.ok(re.search(r"bad\.conf:3: .*unknown type 'arxv'", r.stderr) and
         re.search(r"bad\.conf:5: subscription .s.: query: unbalanced", r.stderr)
         and re.search(r"bad\.conf:6: unknown setting .colour.", r.stderr),
         "check-config: every error as FILE:LINE: message", r.stderr)
finally:
    for s in (http, smtp):
        if s is not None:
            s.stop()
    if t.failed == 0:
        pwtest.cleanup(work)
    else:
        print("# work dir kept: " + work)
t.done()
