#!/usr/bin/python3
"""A small SMTP test server (aiosmtpd) for paperwatch's tests.

Run it with /usr/bin/python3 (the Debian interpreter that sees
python3-aiosmtpd), on 127.0.0.1 only:

  smtpd.py --port P --outdir DIR [--tls CERT KEY] [--require-tls]
           [--auth USER:PASS] [--reject-pattern S] [--tempfail-pattern S]
           [--data-reject-pattern S] [--data-tempfail-pattern S]
           [--drop-pattern S] [--hang-pattern S] [--env-extra]
           [--portfile FILE] [--timeout SECONDS] [--delay SECONDS]

  --port 0            pick a free port; the chosen port is printed as
                      "listening PORT" on stdout and, with --portfile,
                      written to FILE (atomically: FILE appears complete).
  --outdir DIR        each accepted message is written to DIR/NNNNN.eml
                      (00001.eml, ...; numbering continues after the
                      highest file already there, so a restarted server
                      never overwrites).  The file starts with
                        X-Env-From: <reverse path>
                        X-Env-To: <rcpt>[, <rcpt>...]
                      then the raw message bytes as received (CRLF), so
                      email.message_from_bytes() sees the envelope as two
                      extra headers.  Files appear atomically (rename).
  --tls CERT KEY      offer STARTTLS with this certificate (TLS 1.3 with
                      session tickets, Python's defaults: on purpose, see
                      DEPENDENCIES.md section 2).
  --require-tls       refuse MAIL before STARTTLS (530).
  --auth USER:PASS    require AUTH (PLAIN, LOGIN) with these credentials;
                      with --tls, AUTH is offered only after STARTTLS.
  --reject-pattern S  RCPT TO whose address contains S: 550 5.1.1.
  --tempfail-pattern S  RCPT TO whose address contains S: 450 4.2.0.
  --data-reject-pattern S   message containing S: 554 5.6.0 at DATA end.
  --data-tempfail-pattern S message containing S: 451 4.3.0 at DATA end.
  --drop-pattern S    message containing S: the connection is closed
                      without a reply after the DATA dot.
  --hang-pattern S    message containing S: no reply for an hour (to test
                      client timeouts).
  --env-extra         also write, after X-Env-To, "X-Env-TLS: <TLS version
                      or none>", "X-Env-Auth: <user or none>",
                      "X-Env-SNI: <server name the client sent, or none>"
                      and "X-Env-Session: <N>" (connections are numbered
                      from 1, so messages of one session share N).
  --timeout SECONDS   idle timeout of a session (default 300).
  --delay SECONDS     wait this long before answering each DATA (a slow
                      server, so that crash tests can kill the client in
                      the middle of a batch).

SIGTERM or SIGINT stop it cleanly (exit status 0).
"""

import argparse
import asyncio
import logging
import os
import re
import signal
import socket
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def parse_args(argv):
    ap = argparse.ArgumentParser(description="paperwatch SMTP test server")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--require-tls", action="store_true")
    ap.add_argument("--auth", metavar="USER:PASS")
    ap.add_argument("--reject-pattern")
    ap.add_argument("--tempfail-pattern")
    ap.add_argument("--data-reject-pattern")
    ap.add_argument("--data-tempfail-pattern")
    ap.add_argument("--drop-pattern")
    ap.add_argument("--hang-pattern")
    ap.add_argument("--env-extra", action="store_true")
    ap.add_argument("--portfile")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--delay", type=float, default=0.0)
    a = ap.parse_args(argv)
    if a.require_tls and not a.tls:
        ap.error("--require-tls needs --tls")
    if a.auth and ":" not in a.auth:
        ap.error("--auth takes USER:PASS")
    return a


class Spool:
    """Numbered, atomically written message files."""

    def __init__(self, outdir):
        self.outdir = outdir
        os.makedirs(outdir, exist_ok=True)
        last = 0
        for name in os.listdir(outdir):
            m = re.fullmatch(r"(\d+)\.eml", name)
            if m:
                last = max(last, int(m.group(1)))
        self.next = last + 1

    def write(self, data):
        n = self.next
        self.next += 1
        final = os.path.join(self.outdir, "%05d.eml" % n)
        tmp = os.path.join(self.outdir, ".%05d.tmp" % n)
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, final)
        return final


class Handler:
    def __init__(self, args, spool):
        self.a = args
        self.spool = spool

    async def handle_RCPT(self, server, session, envelope, address, opts):
        a = self.a
        if a.reject_pattern and a.reject_pattern in address:
            return "550 5.1.1 <%s>: Recipient address rejected" % address
        if a.tempfail_pattern and a.tempfail_pattern in address:
            return "450 4.2.0 <%s>: Mailbox temporarily unavailable" % address
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(opts)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        a = self.a
        if a.delay > 0:
            await asyncio.sleep(a.delay)
        raw = envelope.original_content
        if raw is None:
            raw = envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if a.drop_pattern and a.drop_pattern.encode() in raw:
            server.transport.abort()
            return "421 4.3.0 dropped"
        if a.hang_pattern and a.hang_pattern.encode() in raw:
            await asyncio.sleep(3600)
        if a.data_reject_pattern and a.data_reject_pattern.encode() in raw:
            return "554 5.6.0 Message content rejected"
        if a.data_tempfail_pattern and \
                a.data_tempfail_pattern.encode() in raw:
            return "451 4.3.0 Temporary failure, try again later"
        head = "X-Env-From: %s\r\nX-Env-To: %s\r\n" % (
            envelope.mail_from, ", ".join(envelope.rcpt_tos))
        if a.env_extra:
            tls = sni = "none"
            obj = server.transport.get_extra_info("ssl_object")
            if obj is not None:
                tls = obj.version()
                sni = SNI.get(id(obj)) or "none"
            user = "none"
            if session.authenticated:
                user = str(session.auth_data) if session.auth_data \
                    else "yes"
            head += "X-Env-TLS: %s\r\nX-Env-Auth: %s\r\n" % (tls, user)
            head += "X-Env-SNI: %s\r\nX-Env-Session: %d\r\n" % (
                sni, getattr(server, "pw_session", 0))
        self.spool.write(head.encode("utf-8", "surrogateescape") + raw)
        return "250 2.0.0 Message accepted for delivery"


def make_authenticator(user, password):
    want = (user.encode(), password.encode())

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and \
            (auth_data.login, auth_data.password) == want
        # auth_data becomes session.auth_data: keep only the user name
        return AuthResult(success=ok, handled=False,
                          auth_data=user if ok else None)
    return authenticator


SNI = {}          # id(SSLObject) -> server name sent by the client


def remember_sni(sslobj, name, ctx):
    SNI[id(sslobj)] = name
    return None


def smtp_factory(args, handler):
    kw = dict(hostname="localhost", timeout=args.timeout,
              ident="paperwatch-test-smtpd")
    if args.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        ctx.sni_callback = remember_sni
        kw.update(tls_context=ctx, require_starttls=args.require_tls)
    if args.auth:
        user, password = args.auth.split(":", 1)
        kw.update(authenticator=make_authenticator(user, password),
                  auth_required=True,
                  auth_require_tls=bool(args.tls))

    count = [0]

    def factory():
        count[0] += 1
        smtp = SMTP(handler, **kw)
        smtp.pw_session = count[0]
        return smtp
    return factory


def write_portfile(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, path)


async def serve(args):
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    port = sock.getsockname()[1]
    handler = Handler(args, Spool(args.outdir))
    server = await loop.create_server(smtp_factory(args, handler), sock=sock)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.portfile:
        write_portfile(args.portfile, port)
    print("listening %d" % port, flush=True)
    await stop.wait()
    server.close()
    try:
        await asyncio.wait_for(server.wait_closed(), 2)
    except asyncio.TimeoutError:
        pass


def main(argv):
    args = parse_args(argv)
    # aiosmtpd itself warns about its own deprecated login_data on AUTH
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
