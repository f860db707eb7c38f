#!/usr/bin/python3
"""A scheduled digest that cannot be made (here a template that produces
invalid JSON) is retried every few minutes, not at once: `run` used to
wake its worker again every second and log the same error each time."""
import os
import sqlite3
import subprocess
import threading
import time

import pwtest

t = pwtest.Tap()
work = pwtest.tmpdir()
HF = os.path.join(pwtest.FIXTURES, "hf-daily/daily_papers_2026-06-12.json")
try:
    tpl = os.path.join(work, "tpl")
    os.makedirs(tpl)
    with open(os.path.join(tpl, "json.mustache"), "w") as f:
        f.write('{"broken": {{#papers}}{{title}}{{/papers}}\n')
    conf = os.path.join(work, "pw.conf")
    with open(conf, "w") as f:
        f.write("""
state = "%(work)s/state.db";
user_agent = "paperwatch-test/1 (mailto:test@example.org)";
template_dir = "%(tpl)s";
sources = ( { name = "hf"; type = "hf-daily"; url = "file://%(hf)s";
              interval = "7d"; } );
subscriptions = ( { name = "chat"; query = "title:LLM";
                    schedule = "daily 00:01";
                    webhook = { format = "json";
                                url = "http://127.0.0.1:9/x"; }; } );
""" % {"work": work, "tpl": tpl, "hf": HF})
    r = pwtest.run(["once", "-c", conf])
    t.ok("produced invalid JSON" in r.stderr, "the digest fails", r.stderr)
    db = sqlite3.connect(os.path.join(work, "state.db"))
    db.execute("UPDATE subs SET last_digest = strftime('%s','now') - "
               "2 * 86400")
    db.commit()
    db.close()
    env = dict(os.environ)
    env.setdefault("PAPERWATCH_DATADIR", pwtest.ROOT)
    p = subprocess.Popen(pwtest.cmd(["run", "-c", conf, "--one-process"]),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(p.stderr),
                              daemon=True)
    reader.start()
    # the first round (slow under valgrind), then 4 s more
    deadline = time.time() + 120
    while time.time() < deadline and \
            not any("produced invalid JSON" in x for x in lines):
        time.sleep(0.1)
    time.sleep(4)
    p.terminate()
    p.wait(timeout=60)
    reader.join(timeout=10)
    err = "".join(lines)
    n = err.count("produced invalid JSON")
    t.ok(n == 1, "run tried the failing digest once in 4 s, not each "
         "second", "%d times\n%s" % (n, err))
finally:
    pwtest.cleanup(work)
t.done()
