#!/usr/bin/python3
"""A small HTTP receiver for paperwatch's webhook tests (stdlib only).

  webhookd.py --port P --outdir DIR [--portfile FILE]
              [--respond SPEC]... [--default SPEC] [--hmac-secret SECRET]

  --port 0         pick a free port on 127.0.0.1; printed as "listening PORT"
                   and, with --portfile, written atomically to FILE.
  --outdir DIR     every request is recorded as DIR/NNNNN.json (atomic):
                     {"method", "path" (with query), "query" (parsed: name
                      -> list), "headers" ([[name, value], ...] in order),
                      "body" (text, UTF-8 with U+FFFD for bad bytes),
                      "body_sha256", "status" (the answer given),
                      "signature_ok" (with --hmac-secret: true/false/null),
                      "time" (Unix time, float)}
  --respond SPEC   the answer to the next request (in order, one SPEC per
                   request; repeat the option).  SPEC is a status code
                   ("500"), a code and a Retry-After ("429:2"), or a JSON
                   object {"status": 429, "headers": {"Retry-After": "2"},
                   "body": "...", "delay": 1.5}.
  --default SPEC   the answer once the --respond list is used up
                   (default 200 with body {"ok":true}).
  --hmac-secret S  check "X-Paperwatch-Signature: sha256=<hex HMAC-SHA256 of
                   the body>"; a missing or wrong signature is answered 401
                   (before the --respond list is consulted).

SIGTERM or SIGINT stop it cleanly (exit status 0).
"""

import argparse
import hashlib
import hmac
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 10 * 1024 * 1024


def parse_spec(text):
    text = text.strip()
    if text.startswith("{"):
        spec = json.loads(text)
        spec.setdefault("headers", {})
        spec["status"] = int(spec["status"])
        return spec
    if ":" in text:
        code, after = text.split(":", 1)
        return {"status": int(code), "headers": {"Retry-After": after}}
    return {"status": int(text), "headers": {}}


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.outdir = args.outdir
        os.makedirs(self.outdir, exist_ok=True)
        self.queue = [parse_spec(s) for s in (args.respond or [])]
        self.default = parse_spec(args.default) if args.default else \
            {"status": 200, "headers": {}, "body": '{"ok":true}'}
        self.secret = args.hmac_secret.encode() if args.hmac_secret else None
        last = 0
        for name in os.listdir(self.outdir):
            m = re.fullmatch(r"(\d+)\.json", name)
            if m:
                last = max(last, int(m.group(1)))
        self.next = last + 1

    def next_answer(self):
        with self.lock:
            if self.queue:
                return self.queue.pop(0)
            return self.default

    def record(self, rec):
        with self.lock:
            n = self.next
            self.next += 1
        final = os.path.join(self.outdir, "%05d.json" % n)
        tmp = os.path.join(self.outdir, ".%05d.tmp" % n)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(rec, f, ensure_ascii=False, indent=1)
        os.rename(tmp, final)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "paperwatch-test-webhookd"

    def log_message(self, fmt, *args):   # quiet: tests read the records
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                if len(out) + size > MAX_BODY:
                    raise ValueError("body too large")
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0"))
        if n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n) if n > 0 else b""

    def check_signature(self, body):
        st = self.server.state
        if st.secret is None:
            return None
        want = "sha256=" + hmac.new(st.secret, body, hashlib.sha256).hexdigest()
        got = self.headers.get("X-Paperwatch-Signature", "")
        return hmac.compare_digest(want, got)

    def handle_any(self):
        st = self.server.state
        try:
            body = self.read_body()
        except ValueError:
            self.send_error(413)
            return
        sig_ok = self.check_signature(body)
        if sig_ok is False:
            answer = {"status": 401, "headers": {},
                      "body": '{"error":"bad signature"}'}
        else:
            answer = st.next_answer()
        st.record({
            "method": self.command,
            "path": self.path,
            "query": urllib.parse.parse_qs(
                urllib.parse.urlsplit(self.path).query),
            "headers": [[k, v] for k, v in self.headers.items()],
            "body": body.decode("utf-8", "replace"),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "status": answer["status"],
            "signature_ok": sig_ok,
            "time": time.time(),
        })
        if answer.get("delay"):
            time.sleep(float(answer["delay"]))
        out = answer.get("body")
        if out is None:
            out = '{"ok":true}' if answer["status"] < 300 else \
                '{"error":"scripted %d"}' % answer["status"]
        out = out.encode("utf-8")
        self.send_response(answer["status"])
        for k, v in answer["headers"].items():
            self.send_header(k, str(v))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_POST = handle_any
    do_PUT = handle_any
    do_GET = handle_any


def parse_args(argv):
    ap = argparse.ArgumentParser(description="paperwatch webhook receiver")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--portfile")
    ap.add_argument("--respond", action="append")
    ap.add_argument("--default")
    ap.add_argument("--hmac-secret")
    return ap.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)

    def stop(signo, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    port = server.server_address[1]
    if args.portfile:
        tmp = args.portfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.portfile)
    print("listening %d" % port, flush=True)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
