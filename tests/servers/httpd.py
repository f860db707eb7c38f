#!/usr/bin/python3
"""Test HTTP server for paperwatch's fetcher (127.0.0.1 only).

usage: httpd.py [--port N] [--portfile FILE] [--root DIR] [--tls-dir DIR]

Binds 127.0.0.1 (port 0 = any free port) and writes "PORT TLSPORT\\n" to
--portfile once it accepts connections (TLSPORT is 0 without --tls-dir, or
when openssl is missing).  With --tls-dir a second, TLS, listener serves the
same routes; its self-signed certificate DIR/cert.pem (CN and SAN localhost,
IP 127.0.0.1) is created with openssl when absent.  Runs until SIGTERM.

Routes (GET only):
  /f/<path>        file from --root (subdirectories allowed, no '..') with ETag and Last-Modified; 304 when
                   If-None-Match matches, or (without If-None-Match) when
                   If-Modified-Since is not older than the file
  /gzip/<file>     the same file gzip-encoded (when the client accepts gzip)
  /cut/<path>?n=N  the file's first N bytes, then the connection is closed
                   (its whole length announced): a fetch that fails after
                   part of the feed arrived
  /slow?s=SECS     sleeps SECS (default 5), then 200 "slow\\n"
  /big             5 MB with Content-Length
  /bigchunked      5 MB with Transfer-Encoding: chunked (no Content-Length)
  /redir/<n>       302 to /redir/<n-1>; /redir/0 is 200 "done\\n"
  /redirect?to=URL 302 to URL (any scheme: tests of the https->http rule)
  /429             429 with Retry-After: 120
  /503date         503 with Retry-After as an HTTP-date 300 s from now
  /status/<code>   that status with a short body
  /count?path=P    text: one line per request whose path (with query) was P:
                   "<unix time> <status> <gzip|plain>", first line the count
Every request except /count is recorded by its path including the query, so
tests use distinct query strings to keep their counts apart.
"""
import argparse
import email.utils
import gzip
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BIG = 5 * 1024 * 1024
LOCK = threading.Lock()
LOG = {}            # path -> [(time, status, encoding)]


def record(path, status, enc):
    with LOCK:
        LOG.setdefault(path, []).append((time.time(), status, enc))


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'pw-test-httpd/1'
    root = '.'

    def log_message(self, fmt, *args):     # quiet: tests read /count
        pass

    def handle(self):
        # clients that give up (size caps, timeouts) are normal here
        try:
            super().handle()
        except (ConnectionError, ssl.SSLError, TimeoutError):
            self.close_connection = True

    def reply(self, status, body=b'', headers=(), enc='plain'):
        record(self.path, status, enc)
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        p = url.path
        try:
            self.route(p, q)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    def route(self, p, q):
        if p == '/count':
            self.count(q.get('path', [''])[0])
        elif p.startswith('/f/'):
            self.file(p[3:], gz=False)
        elif p.startswith('/gzip/'):
            self.file(p[6:], gz=True)
        elif p.startswith('/cut/'):
            self.cut(p[5:], int(q.get('n', ['0'])[0]))
        elif p == '/slow':
            secs = float(q.get('s', ['5'])[0])
            record(self.path, 200, 'plain')
            time.sleep(secs)
            body = b'slow\n'
            self.send_response(200)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif p == '/big':
            self.big(chunked=False)
        elif p == '/bigchunked':
            self.big(chunked=True)
        elif p.startswith('/redir/'):
            self.redir(p[7:])
        elif p == '/redirect':
            self.reply(302, b'moved\n', [('Location', q.get('to', ['/'])[0])])
        elif p == '/429':
            self.reply(429, b'slow down\n', [('Retry-After', '120')])
        elif p == '/503date':
            when = email.utils.formatdate(time.time() + 300, usegmt=True)
            self.reply(503, b'maintenance\n', [('Retry-After', when)])
        elif p.startswith('/status/') and p[8:].isdigit():
            self.reply(int(p[8:]), b'status body\n')
        else:
            self.reply(404, b'not found\n')

    def count(self, path):
        with LOCK:
            rows = list(LOG.get(path, []))
        lines = ['%d' % len(rows)]
        lines += ['%.6f %d %s' % r for r in rows]
        body = ('\n'.join(lines) + '\n').encode()
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def file(self, name, gz):
        path = os.path.join(self.root, name)
        parts = name.split('/')
        if any(x in ('', '.', '..') or x.startswith('.') for x in parts) \
                or not os.path.isfile(path):
            return self.reply(404, b'not found\n')
        st = os.stat(path)
        mtime = int(st.st_mtime)
        etag = '"%x-%x"' % (mtime, st.st_size)
        hdrs = [('ETag', etag),
                ('Last-Modified', email.utils.formatdate(mtime, usegmt=True))]
        if self.not_modified(etag, mtime):
            return self.reply(304, b'', hdrs)
        with open(path, 'rb') as fh:
            body = fh.read()
        accept = self.headers.get('Accept-Encoding', '')
        if gz and 'gzip' in accept:
            body = gzip.compress(body)
            hdrs.append(('Content-Encoding', 'gzip'))
            return self.reply(200, body, hdrs, 'gzip')
        self.reply(200, body, hdrs)

    def cut(self, name, n):
        path = os.path.join(self.root, name)
        if '..' in name.split('/') or not os.path.isfile(path):
            return self.reply(404, b'not found\n')
        with open(path, 'rb') as fh:
            body = fh.read()
        record(self.path, 200, 'plain')
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body[:n])
        self.wfile.flush()
        self.close_connection = True

    def not_modified(self, etag, mtime):
        inm = self.headers.get('If-None-Match')
        if inm is not None:
            tags = [t.strip() for t in inm.split(',')]
            return etag in tags or '*' in tags
        ims = self.headers.get('If-Modified-Since')
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
            return mtime <= since
        return False

    def big(self, chunked):
        record(self.path, 200, 'plain')
        block = b'x' * 65536
        self.send_response(200)
        if chunked:
            self.send_header('Transfer-Encoding', 'chunked')
        else:
            self.send_header('Content-Length', str(BIG))
        self.end_headers()
        for _ in range(BIG // len(block)):
            if chunked:
                self.wfile.write(b'%x\r\n%s\r\n' % (len(block), block))
            else:
                self.wfile.write(block)
        if chunked:
            self.wfile.write(b'0\r\n\r\n')

    def redir(self, n):
        if not n.isdigit():
            return self.reply(404, b'not found\n')
        if int(n) == 0:
            return self.reply(200, b'done\n')
        self.reply(302, b'moved\n', [('Location', '/redir/%d' % (int(n) - 1))])


def make_cert(d):
    cert, key = os.path.join(d, 'cert.pem'), os.path.join(d, 'key.pem')
    if os.path.exists(cert) and os.path.exists(key):
        return cert, key
    os.makedirs(d, exist_ok=True)
    try:
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048',
                        '-nodes', '-keyout', key, '-out', cert, '-days', '2',
                        '-subj', '/CN=localhost', '-addext',
                        'subjectAltName=DNS:localhost,IP:127.0.0.1'],
                       check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError) as e:
        print('httpd.py: no TLS listener: openssl failed: %s' % e,
              file=sys.stderr)
        return None
    return cert, key


def serve(srv):
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    return t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--portfile')
    ap.add_argument('--root', default='.')
    ap.add_argument('--tls-dir')
    a = ap.parse_args()
    Handler.root = a.root

    ThreadingHTTPServer.daemon_threads = True
    plain = ThreadingHTTPServer(('127.0.0.1', a.port), Handler)
    tls = None
    if a.tls_dir:
        ck = make_cert(a.tls_dir)
        if ck:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*ck)
            tls = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
            tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
    serve(plain)
    if tls:
        serve(tls)
    ports = '%d %d\n' % (plain.server_address[1],
                         tls.server_address[1] if tls else 0)
    if a.portfile:
        tmp = a.portfile + '.tmp'
        with open(tmp, 'w') as fh:
            fh.write(ports)
        os.rename(tmp, a.portfile)
    else:
        sys.stdout.write(ports)
        sys.stdout.flush()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(3600):
        pass
    plain.shutdown()
    if tls:
        tls.shutdown()


if __name__ == '__main__':
    main()
