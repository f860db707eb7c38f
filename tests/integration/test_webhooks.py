#!/usr/bin/python3
"""Webhooks end to end: `paperwatch once` posts digests to a local
receiver as Slack, Discord, Matrix, ntfy and signed JSON payloads; a
receiver that answers 429 with Retry-After and then 500 gets the payload
once, after a retry; and with debug logging, neither a webhook URL, nor a
Matrix token, nor an HMAC secret appears in any log line."""
import json
import os
import re

import pwtest

t = pwtest.Tap()
work = pwtest.tmpdir()
HF = os.path.join(pwtest.FIXTURES, "hf-daily", "daily_papers_2026-06-12.json")
SECRET_PATH = "T0KEN-in-the-PATH-9f8e7d"
MATRIX_TOKEN = "syt_matrix_SECRET_token_1234"
HMAC_KEY = "hmac-KEY-never-logged-5678"


def requests(d):
    out = []
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        if name.endswith(".json"):
            with open(os.path.join(d, name)) as f:
                out.append(json.load(f))
    return out


def server(name, *extra):
    d = os.path.join(work, name)
    return d, pwtest.Server([pwtest.PY, os.path.join(
        pwtest.SERVERS, "webhookd.py"), "--port", "0", "--outdir", d] +
        list(extra), work, name)


srvs = []
try:
    hooks_dir, hooks = server("hooks")
    srvs.append(hooks)
    signed_dir, signed = server("signed", "--hmac-secret", HMAC_KEY)
    srvs.append(signed)
    flaky_dir, flaky = server("flaky", "--respond", "429:1", "--respond",
                              "500")
    srvs.append(flaky)
    base = "http://127.0.0.1:%d" % hooks.port
    tokfile = os.path.join(work, "matrix.token")
    with open(tokfile, "w") as f:
        f.write(MATRIX_TOKEN + "\n")
    conf = os.path.join(work, "pw.conf")
    with open(conf, "w") as f:
        f.write("""
state = "%(work)s/state.db";
user_agent = "paperwatch-test/1 (mailto:test@example.org)";
sources = ( { name = "hf"; type = "hf-daily"; url = "file://%(hf)s"; } );
subscriptions = (
  { name = "chat"; query = "title:LLM";
    webhook = (
      { format = "slack"; url = "%(base)s/slack/%(sp)s"; },
      { format = "discord"; url = "%(base)s/discord/%(sp)s"; },
      { format = "matrix"; token_file = "%(tok)s";
        url = "%(base)s/_matrix/client/v3/rooms/!r:x/send/m.room.message"; },
      { format = "ntfy"; url = "%(base)s/papers-topic"; },
      { format = "json"; secret = "%(key)s";
        url = "http://127.0.0.1:%(sport)d/json/%(sp)s"; }
    ); },
  { name = "flaky"; query = "title:LLM";
    webhook = { format = "json"; url = "http://127.0.0.1:%(fport)d/x/%(sp)s"; }; }
);
""" % {"work": work, "hf": HF, "base": base, "sp": SECRET_PATH,
            "tok": tokfile, "key": HMAC_KEY, "sport": signed.port,
            "fport": flaky.port})
    r = pwtest.run(["-v", "once", "-c", conf])
    logs = r.stdout + r.stderr
    reqs = requests(hooks_dir)
    by = {}
    for q in reqs:
        by.setdefault(q["path"].split("/")[1].split("?")[0], []).append(q)
    t.ok("slack" in by and all(json.loads(q["body"]).get("blocks")
                               for q in by["slack"]),
         "slack: Block Kit payloads arrive", sorted(by))
    d = by.get("discord", [])
    t.ok(d and all("wait=true" in q["path"] for q in d) and
         all(json.loads(q["body"]).get("allowed_mentions") == {"parse": []}
             for q in d), "discord: ?wait=true and no mentions allowed")
    m = by.get("_matrix", [])
    auth = [v for q in m for k, v in q["headers"] if k.lower() ==
            "authorization"]
    t.ok(m and all(q["method"] == "PUT" for q in m) and
         auth and all(a == "Bearer " + MATRIX_TOKEN for a in auth) and
         all(json.loads(q["body"]).get("msgtype") == "m.text" for q in m),
         "matrix: PUT m.text with the access token")
    n = [q for q in reqs if q["path"] == "/"]
    t.ok(n and all(json.loads(q["body"]).get("topic") == "papers-topic"
                   for q in n), "ntfy: posted to the root with its topic")
    s = requests(signed_dir)
    t.ok(s and all(q["signature_ok"] for q in s),
         "json: the body is signed with HMAC-SHA256")
    f = requests(flaky_dir)
    t.ok(len(f) == 1 and f[0]["status"] == 429 and r.returncode == 1 and
         "will be retried" in r.stderr, "429: kept for a retry, exit 1",
         r.stderr[-1500:])
    st = pwtest.run(["status", "-c", conf]).stdout
    t.ok(re.search(r"pending\s+flaky\s+webhook\s+flaky#0\s.*HTTP 429", st),
         "status shows the retry and its reason", st)
    for want in (500, 200):
        pwtest.run(["outbox", "-c", conf, "retry", "all"])
        r2 = pwtest.run(["-v", "once", "-c", conf])
        logs += r2.stdout + r2.stderr
    f = requests(flaky_dir)
    t.ok(r2.returncode == 0 and [q["status"] for q in f] == [429, 500, 200]
         and f[0]["body"] == f[2]["body"],
         "then 500, then 200: the same payload, delivered once",
         r2.stderr[-1500:])
    t.ok(len(requests(hooks_dir)) == len(reqs),
         "the second cycle posts nothing more to the others")
    for secret, what in ((SECRET_PATH, "webhook URL"),
                         (MATRIX_TOKEN, "Matrix token"),
                         (HMAC_KEY, "HMAC secret"),
                         ("127.0.0.1:%d" % hooks.port, "webhook host")):
        t.ok(secret not in logs, "no %s in the debug log" % what,
             [l for l in logs.splitlines() if secret in l][:3])
finally:
    for x in srvs:
        x.stop()
    if t.failed == 0:
        pwtest.cleanup(work)
    else:
        print("# work dir kept: " + work)
t.done()
