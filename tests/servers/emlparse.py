#!/usr/bin/python3
"""Parse .eml files written by smtpd.py with Python's email package and
print one JSON object per file (a JSON list), so C tests can check how a
standard MIME parser decodes what paperwatch sent.

  emlparse.py FILE...

Each object: env_from, env_to, env_tls, env_auth, env_sni, env_session
(the X-Env-* lines, or null), from / to / reply_to ([{"name", "addr"}]),
subject (decoded), message_id / date / bcc / cc (lists of every value of
that header), headers (names in order), content_type, parts
([{"type", "charset", "cte", "content"}] for every non-multipart part,
decoded), max_line (longest line in octets, CRLF excluded), bare_lf (true
if an LF without CR occurs), defects (parser defects as strings).
"""

import email
import email.policy
import json
import sys


def addrs(msg, name):
    h = msg.get(name)
    if h is None:
        return None
    return [{"name": a.display_name, "addr": a.addr_spec}
            for a in h.addresses]


def one(path):
    raw = open(path, "rb").read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = []
    for p in msg.walk():
        if p.is_multipart():
            continue
        parts.append({"type": p.get_content_type(),
                      "charset": p.get_content_charset(),
                      "cte": p.get("Content-Transfer-Encoding"),
                      "content": p.get_content()})
    defects = [repr(d) for p in msg.walk() for d in p.defects]
    lines = raw.split(b"\r\n")
    return {
        "env_from": msg.get("X-Env-From"),
        "env_to": msg.get("X-Env-To"),
        "env_tls": msg.get("X-Env-TLS"),
        "env_auth": msg.get("X-Env-Auth"),
        "env_sni": msg.get("X-Env-SNI"),
        "env_session": msg.get("X-Env-Session"),
        "from": addrs(msg, "From"),
        "to": addrs(msg, "To"),
        "reply_to": addrs(msg, "Reply-To"),
        "subject": msg.get("Subject"),
        "message_id": [str(v) for v in msg.get_all("Message-ID", [])],
        "date": [str(v) for v in msg.get_all("Date", [])],
        "bcc": [str(v) for v in msg.get_all("Bcc", [])],
        "cc": [str(v) for v in msg.get_all("Cc", [])],
        "headers": list(msg.keys()),
        "content_type": msg.get_content_type(),
        "parts": parts,
        "max_line": max(len(l) for l in lines),
        "bare_lf": b"\n" in b"".join(lines),
        "defects": defects,
    }


def main(argv):
    json.dump([one(p) for p in argv], sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
