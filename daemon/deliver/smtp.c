/*
 * smtp.c: the "smtp" channel: one libESMTP session carries every message
 * of a batch, each message to its one envelope recipient.
 *
 * What libESMTP does not do for us (DEPENDENCIES.md section 2):
 * - Trust: paperwatch's own SSL_CTX verifies the peer inside the
 *   handshake (system CAs or ca_file/ca_dir, host name or IP address
 *   checked by OpenSSL, SNI sent); libESMTP's own, weaker name check is
 *   then overruled.
 * - The TLS 1.3 stall: a server sends its session tickets just after the
 *   handshake; when they arrive before libESMTP has flushed its EHLO,
 *   libESMTP sees the socket readable, waits for the EHLO reply before
 *   sending EHLO and stalls until its timeout.  On TLS 1.3 we therefore
 *   send one NOOP ourselves on the fresh TLS connection and read its
 *   reply: the tickets, sent before that reply, are consumed with it, and
 *   libESMTP starts on an empty socket (one round trip; TLS 1.3 kept).
 * - Success: smtp_start_session()'s return value says nothing; each
 *   message is judged from its MAIL, RCPT and DATA replies only.
 * - connect() has no timeout in libESMTP: a bounded TCP connect is tried
 *   first, so an unreachable server fails in `timeout` seconds.
 * No logging here except the protocol trace at debug level (AUTH
 * exchanges redacted); errors go to each message's err.
 */
#include "channel.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <auth-client.h>
#include <libesmtp.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../feeds/util.h"
#include "../conf.h"
#include "../log.h"
#include "../mail.h"

#define SMTP_REPLY_MAX	1024	/* one reply line we keep */
#define SMTP_FDS_MAX	4	/* sockets found connected to the server */
#define SMTP_CHUNK_MAX	(1 << 30)	/* bytes handed to libESMTP at once */

/* What one session learned besides the status codes. */
struct smtp_run {
	char	 tls_err[200];		/* why TLS failed */
	char	 auth_err[200];		/* the server's AUTH refusal */
	bool	 auth_tried;
	bool	 in_auth;		/* client lines are secrets now */
	bool	 no_starttls;		/* STARTTLS required, not offered */
	bool	 chunking;		/* the server offers BDAT */
	bool	 corked;		/* TCP_CORK set (see cork) */
	int	 fds[SMTP_FDS_MAX];	/* libESMTP's socket */
	size_t	 n_fds;
	struct buf line;		/* partial server line (monitor) */
};

struct smtp_chan {
	char		*host;
	int		 port;
	char		*server;	/* "host:port" */
	bool		 tls;
	bool		 verify;
	bool		 host_is_ip;
	char		*user;
	char		*password;	/* a secret: wiped on close */
	char		*from;		/* bare envelope sender */
	char		*helo;
	long		 timeout_ms;
	SSL_CTX		*ctx;
	struct smtp_run	 run;
	/*
	 * send_more: the session in flight goes on with what more() hands
	 * out (see pull); items are the messages it was handed last.
	 */
	size_t		(*more)(void *, const char *,
			    struct outbox_msg *const **);
	void		*more_arg;
	bool		 more_done;	/* more() had nothing left */
	smtp_session_t	 session;
	struct smtp_item *items;
	size_t		 n_items;
	struct smtp_item *last;		/* the last one queued */
	size_t		 queued;	/* messages in the session so far */
};

/* One message of the batch in the session (libESMTP's application data). */
struct smtp_item {
	struct smtp_chan	*c;
	struct outbox_msg	*m;
	smtp_message_t		 msg;	/* NULL: not queued (judged already) */
	char			*body;	/* a CRLF copy, if the body needed it */
	const char		*data;	/* what is sent: body or m->body */
	size_t			 len;
	size_t			 off;	/* handed to libESMTP so far */
	bool			 started;	/* libESMTP asked for its body */
	bool			 judged;
};

static int auth_users;		/* auth_client_init() reference count */

/* Copy hostile server text into out: printable ASCII, cut. */
static void
copy_reply(char *out, size_t outlen, const char *s)
{
	size_t j = 0;

	if (outlen == 0)
		return;
	for (; s != NULL && *s != '\0' && j + 1 < outlen; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\r' || c == '\n')
			break;
		out[j++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[j] = '\0';
}

static void
wipe_free(char *s)
{
	if (s == NULL)
		return;
	for (volatile char *p = s; *p != '\0'; p++)
		*p = '\0';
	free(s);
}

/* ---- TLS ---------------------------------------------------------- */

static struct smtp_chan *
chan_of_ssl(const SSL *ssl)
{
	return SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
}

/* Record the first verification failure with its reason. */
static int
verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	struct smtp_chan *c = ssl != NULL ? chan_of_ssl(ssl) : NULL;
	int e = X509_STORE_CTX_get_error(x);

	if (ok || c == NULL || c->run.tls_err[0] != '\0')
		return ok;
	if (e == X509_V_ERR_HOSTNAME_MISMATCH || e == X509_V_ERR_IP_ADDRESS_MISMATCH)
		snprintf(c->run.tls_err, sizeof(c->run.tls_err),
		    "TLS certificate rejected: %s (it is not valid for '%s')",
		    X509_verify_cert_error_string(e), c->host);
	else
		snprintf(c->run.tls_err, sizeof(c->run.tls_err),
		    "TLS certificate rejected: %s (check ca_file/ca_dir)",
		    X509_verify_cert_error_string(e));
	return ok;
}

/* Send SNI (libESMTP does not): set just before the ClientHello. */
static void
info_cb(const SSL *ssl, int where, int ret)
{
	struct smtp_chan *c = chan_of_ssl(ssl);

	(void)ret;
	if ((where & SSL_CB_HANDSHAKE_START) && c != NULL && !c->host_is_ip &&
	    SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) == NULL)
		SSL_set_tlsext_host_name((SSL *)ssl, c->host);
}

static SSL_CTX *
make_ctx(struct smtp_chan *c, const struct conf_smtp *cs, char *err,
    size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509_VERIFY_PARAM *param;

	if (ctx == NULL) {
		snprintf(err, errlen, "smtp: cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_app_data(ctx, c);
	SSL_CTX_set_info_callback(ctx, info_cb);
	if (!c->verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	if (cs->ca_file != NULL || cs->ca_dir != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, cs->ca_file,
		    cs->ca_dir) != 1) {
			snprintf(err, errlen, "smtp: cannot load CA %s '%s'",
			    cs->ca_file != NULL ? "file" : "directory",
			    cs->ca_file != NULL ? cs->ca_file : cs->ca_dir);
			SSL_CTX_free(ctx);
			return NULL;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		snprintf(err, errlen, "smtp: cannot load the system CAs");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	param = SSL_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_hostflags(param,
	    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (c->host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, c->host) != 1
	    : X509_VERIFY_PARAM_set1_host(param, c->host, 0) != 1) {
		snprintf(err, errlen, "smtp: cannot check certificates for "
		    "host '%s'", c->host);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static long
ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

/* Wait for the SSL's socket as SSL_get_error asks; false on timeout. */
static bool
ssl_wait(SSL *ssl, int rc, const struct timespec *deadline)
{
	int e = SSL_get_error(ssl, rc);
	struct pollfd p = { SSL_get_fd(ssl), 0, 0 };

	if (e == SSL_ERROR_WANT_READ)
		p.events = POLLIN;
	else if (e == SSL_ERROR_WANT_WRITE)
		p.events = POLLOUT;
	else
		return false;
	return poll(&p, 1, (int)ms_left(deadline)) == 1;
}

/* true once buf holds a complete last reply line ("250 ...\r\n"). */
static bool
reply_complete(const char *buf)
{
	const char *line = buf, *eol;

	while ((eol = strstr(line, "\r\n")) != NULL) {
		if (eol - line >= 4 && line[3] == ' ')
			return true;
		line = eol + 2;
	}
	return false;
}

/*
 * The TLS 1.3 ticket drain (see the top of the file): NOOP, then read
 * until its reply is complete.  0, or -1 if the server did not answer.
 */
static int
tls13_settle(struct smtp_chan *c, SSL *ssl)
{
	char buf[SMTP_REPLY_MAX];
	size_t got = 0;
	struct timespec deadline;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += c->timeout_ms / 1000;
	while ((n = SSL_write(ssl, "NOOP\r\n", 6)) <= 0)
		if (!ssl_wait(ssl, n, &deadline))
			return -1;
	for (;;) {
		if (got == sizeof(buf) - 1)	/* keep the tail only */
			got = 0;
		n = SSL_read(ssl, buf + got, (int)(sizeof(buf) - 1 - got));
		if (n > 0) {
			got += (size_t)n;
			buf[got] = '\0';
			if (reply_complete(buf))
				break;
		} else if (!ssl_wait(ssl, n, &deadline)) {
			return -1;
		}
	}
	if (log_get_level() >= LOG_LVL_DEBUG) {
		char line[120];

		copy_reply(line, sizeof(line), buf);
		log_debug("smtp: '%s': TLS 1.3: NOOP -> %s", c->server, line);
	}
	return 0;
}

static void
on_starttls_ok(struct smtp_chan *c, SSL *ssl)
{
	if (SSL_version(ssl) != TLS1_3_VERSION || tls13_settle(c, ssl) == 0)
		return;
	snprintf(c->run.tls_err, sizeof(c->run.tls_err),
	    "no reply to NOOP after STARTTLS");
	shutdown(SSL_get_fd(ssl), SHUT_RDWR);	/* make libESMTP stop now */
}

/* ---- the socket ----------------------------------------------------- */

/* true if fd is a TCP socket connected to port */
static bool
is_conn_to(int fd, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int type = 0;
	socklen_t tlen = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 ||
	    type != SOCK_STREAM ||
	    getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return false;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port) == port;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) == port;
	return false;
}

/*
 * libESMTP writes a message in 2 KB pieces, and with Nagle's algorithm
 * the last piece of each message waits for the server's delayed ACK
 * (40 ms): on loopback, or any link whose MSS exceeds 2 KB, that is 25
 * messages a second.  libESMTP does not expose its socket, so at the
 * CONNECT event we find it (the stream socket connected to the server's
 * port) and set TCP_NODELAY.
 */
static void
set_nodelay(struct smtp_chan *c)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int one = 1;

	c->run.n_fds = 0;
	c->run.corked = false;
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);

		if (*end != '\0' || fd < 3 || fd == dirfd(d) ||
		    !is_conn_to((int)fd, c->port))
			continue;
		setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if (c->run.n_fds < SMTP_FDS_MAX)
			c->run.fds[c->run.n_fds++] = (int)fd;
	}
	closedir(d);
}

/*
 * With TCP_NODELAY, each of libESMTP's 2 KB writes of a message body is a
 * TCP segment of its own, and each crosses the network stack and wakes
 * the server on its own.  So the socket is corked (TCP_CORK) while the
 * body is handed over, and uncorked as soon as libESMTP has read the
 * last of it from us (the message callback's end of data): what remains
 * is the last piece and the final dot, which libESMTP flushes right
 * before it waits for the reply, so nothing ever waits on the cork's
 * 200 ms timer.  DATA only: with BDAT (CHUNKING) libESMTP may wait for a
 * reply between chunks, so the socket is left alone there.
 */
static void
cork(struct smtp_chan *c, bool on)
{
	int v = on;

	if (on == c->run.corked || (on && c->run.chunking))
		return;
	for (size_t i = 0; i < c->run.n_fds; i++)
		setsockopt(c->run.fds[i], IPPROTO_TCP, TCP_CORK, &v,
		    sizeof(v));
	c->run.corked = on;
}

/* Shut the session's socket down: libESMTP sees it dropped. */
static void
drop_connection(struct smtp_chan *c)
{
	if (c->run.n_fds == 0)	/* not found in /proc/self/fd */
		log_warn("smtp: the connection cannot be dropped: a message "
		    "may be accepted while the result before it is not "
		    "recorded");
	for (size_t i = 0; i < c->run.n_fds; i++)
		shutdown(c->run.fds[i], SHUT_RDWR);
}

/* ---- libESMTP callbacks ------------------------------------------- */

static void judge(struct smtp_chan *c, smtp_message_t msg,
    struct outbox_msg *m, const char *session_err);
static void pull(struct smtp_chan *c);

/*
 * A message's replies are all in (MAIL refused, or the reply to DATA or
 * to its final dot): judge and report it now, before the next message
 * goes out, so the outbox can mark it at once. After the last message
 * queued, when libESMTP is about to look for the next one (mail_refused,
 * or after its data), the session can be handed more (pull).
 */
static void
on_message_done(struct smtp_chan *c, smtp_message_t msg, bool mail_refused)
{
	struct smtp_item *it = smtp_message_get_application_data(msg);

	if (it == NULL || it->judged)
		return;
	judge(c, msg, it->m, "");
	it->judged = true;
	chan_report(it->m);
	if (it == c->last && (mail_refused || it->started))
		pull(c);
}

static void
on_event(smtp_session_t session, int event, void *arg, ...)
{
	struct smtp_chan *c = arg;
	const char *why = NULL;
	va_list ap;
	int *ok;

	(void)session;
	va_start(ap, arg);
	switch (event) {
	case SMTP_EV_CONNECT:
		set_nodelay(c);
		break;
	case SMTP_EV_STARTTLS_OK:
		on_starttls_ok(c, va_arg(ap, SSL *));
		break;
	case SMTP_EV_MAILSTATUS: {
		smtp_message_t msg;

		(void)va_arg(ap, const char *);
		msg = va_arg(ap, smtp_message_t);
		if (smtp_reverse_path_status(msg)->code / 100 != 2)
			on_message_done(c, msg, true);
		break;
	}
	case SMTP_EV_MESSAGESENT:
		cork(c, false);		/* normally done already */
		on_message_done(c, va_arg(ap, smtp_message_t), false);
		break;
	case SMTP_EV_DISCONNECT:
		c->run.corked = false;
		c->run.n_fds = 0;
		break;
	case SMTP_EV_INVALID_PEER_CERTIFICATE:
		(void)va_arg(ap, long);
		ok = va_arg(ap, int *);
		*ok = !c->verify;
		why = "TLS certificate rejected: not valid";
		break;
	case SMTP_EV_NO_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		*ok = !c->verify;
		why = "TLS: the server sent no certificate";
		break;
	case SMTP_EV_WRONG_PEER_CERTIFICATE:
		/* OpenSSL already checked the configured name (DNS or IP);
		   libESMTP compares the canonical DNS name only */
		ok = va_arg(ap, int *);
		*ok = 1;
		break;
	case SMTP_EV_WEAK_CIPHER:
		(void)va_arg(ap, int);
		ok = va_arg(ap, int *);
		*ok = 0;
		why = "TLS: weak cipher refused";
		break;
	case SMTP_EV_EXTNA_STARTTLS:
		c->run.no_starttls = true;
		break;
	default:
		break;
	}
	va_end(ap);
	if (why != NULL && c->verify && c->run.tls_err[0] == '\0')
		snprintf(c->run.tls_err, sizeof(c->run.tls_err), "%s", why);
}

static bool
is_command(const char *line, size_t n, const char *cmd)
{
	size_t k = strlen(cmd);

	return n >= k && strncasecmp(line, cmd, k) == 0 &&
	    (n == k || line[k] == ' ' || line[k] == ':');
}

/* A client line for the debug trace, or NULL to leave it out. */
static const char *
trace_client(struct smtp_chan *c, const char *line, size_t n)
{
	static const char *const cmds[] = { "EHLO", "HELO", "MAIL FROM",
		"RCPT TO", "DATA", "RSET", "QUIT", "STARTTLS", "NOOP" };

	if (is_command(line, n, "AUTH")) {
		c->run.in_auth = true;
		c->run.auth_tried = true;
		return "AUTH [redacted]";
	}
	if (c->run.in_auth)
		return NULL;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (is_command(line, n, cmds[i]))
			return "";
	return NULL;
}

/* One complete server line: watch the AUTH outcome, trace. */
static void
server_line(struct smtp_chan *c, const char *line)
{
	long code = strtol(line, NULL, 10);

	if (code == 250 && (line[3] == '-' || line[3] == ' ') &&
	    strncasecmp(line + 4, "CHUNKING", 8) == 0 &&
	    (line[12] == '\0' || line[12] == ' '))
		c->run.chunking = true;

	if (c->run.in_auth && code != 334) {
		c->run.in_auth = false;
		if (code >= 400 && code < 600 && c->run.auth_err[0] == '\0')
			copy_reply(c->run.auth_err, sizeof(c->run.auth_err),
			    line);
		else if (code >= 200 && code < 300)
			c->run.auth_err[0] = '\0';
	}
	if (log_get_level() >= LOG_LVL_DEBUG) {
		char out[160];

		copy_reply(out, sizeof(out), line);
		log_debug("smtp: '%s': < %s", c->server, out);
	}
}

static void
client_chunk(struct smtp_chan *c, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((eol != NULL ? eol : end) - p);
		const char *t;
		char out[160];

		if (n > 0 && p[n - 1] == '\r')
			n--;
		t = trace_client(c, p, n);
		if (t != NULL && log_get_level() >= LOG_LVL_DEBUG) {
			if (*t == '\0') {
				size_t k = n < sizeof(out) - 1 ? n :
				    sizeof(out) - 1;

				memcpy(out, p, k);
				out[k] = '\0';
				copy_reply(out, sizeof(out), out);
				t = out;
			}
			log_debug("smtp: '%s': > %s", c->server, t);
		}
		p = eol != NULL ? eol + 1 : end;
	}
}

static void
on_monitor(const char *buf, int buflen, int writing, void *arg)
{
	struct smtp_chan *c = arg;
	struct buf *l = &c->run.line;
	char *eol;

	if (buflen <= 0 || writing == 2)	/* 2: message headers */
		return;
	if (writing == 1) {
		client_chunk(c, buf, (size_t)buflen);
		return;
	}
	if (l->len + (size_t)buflen > 8 * SMTP_REPLY_MAX)
		buf_reset(l);			/* no line is that long */
	buf_add(l, buf, (size_t)buflen);
	while ((eol = strstr(l->data, "\r\n")) != NULL) {
		size_t n = (size_t)(eol - l->data) + 2;

		*eol = '\0';
		server_line(c, l->data);
		memmove(l->data, l->data + n, l->len - n + 1);
		l->len -= n;
	}
}

static int
on_interact(auth_client_request_t req, char **result, int fields,
    void *arg)
{
	static char empty[1];
	struct smtp_chan *c = arg;

	for (int i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = c->user;
		else if (req[i].flags & AUTH_PASS)
			result[i] = c->password;
		else
			result[i] = empty;
	}
	return 1;
}

/* ---- connecting ---------------------------------------------------- */

/* One TCP connect to ai within ms; 0, or -1 with errno set. */
static int
try_connect(const struct addrinfo *ai, long ms)
{
	int fd, e = 0, flags;
	socklen_t elen = sizeof(e);
	struct pollfd p;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd < 0)
		return -1;
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto ok;
	if (errno != EINPROGRESS)
		goto fail;
	p.fd = fd;
	p.events = POLLOUT;
	p.revents = 0;
	if (poll(&p, 1, (int)ms) != 1) {
		errno = ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0 || e != 0) {
		errno = e != 0 ? e : errno;
		goto fail;
	}
ok:
	close(fd);
	return 0;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/*
 * libESMTP's connect() is blocking with the kernel's timeout (minutes):
 * check first, within the configured timeout, that the server answers.
 */
static int
probe_server(struct smtp_chan *c, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	char portstr[16];
	int rc, saved = ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%d", c->port);
	rc = getaddrinfo(c->host, portstr, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "smtp '%s': cannot resolve host: %s",
		    c->server, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (try_connect(ai, c->timeout_ms) == 0) {
			freeaddrinfo(res);
			return 0;
		}
		saved = errno;
	}
	freeaddrinfo(res);
	snprintf(err, errlen, "smtp '%s': cannot connect: %s", c->server,
	    strerror(saved));
	return -1;
}

/* ---- open / close --------------------------------------------------- */

static void
smtp_chan_close(void *state)
{
	struct smtp_chan *c = state;

	if (c == NULL)
		return;
	SSL_CTX_free(c->ctx);
	free(c->host);
	free(c->server);
	free(c->user);
	wipe_free(c->password);
	free(c->from);
	free(c->helo);
	buf_release(&c->run.line);
	if (auth_users > 0 && --auth_users == 0)
		auth_client_exit();
	free(c);
}

static void *
smtp_chan_open(const struct conf *cfg, char *err, size_t errlen)
{
	const struct conf_smtp *cs = &cfg->smtp;
	struct smtp_chan *c;
	unsigned char ip[16];

	if (cs->host == NULL || cs->from == NULL) {
		snprintf(err, errlen, "smtp: no %s configured",
		    cs->host == NULL ? "host" : "'from' address");
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->port = cs->port > 0 ? cs->port : cs->tls == CONF_TLS_NONE ? 25 :
	    587;
	buf_init(&c->run.line);
	auth_client_init();
	auth_users++;
	c->host = xstrdup(cs->host);
	c->tls = cs->tls != CONF_TLS_NONE;
	c->verify = cs->tls_verify;
	c->host_is_ip = inet_pton(AF_INET, c->host, ip) == 1 ||
	    inet_pton(AF_INET6, c->host, ip) == 1;
	c->server = xasprintf("%s:%d", c->host, c->port);
	c->user = xstrdup(cs->user);
	c->password = xstrdup(cs->password);
	c->helo = xstrdup(cs->helo);
	c->timeout_ms = (cs->timeout > 0 ? cs->timeout : 60) * 1000L;
	c->from = mail_addr_spec(cs->from);
	if (c->from == NULL || strchr(c->from, '@') == NULL) {
		snprintf(err, errlen, "smtp: invalid 'from' address");
		goto fail;
	}
	if (c->user != NULL && c->password == NULL) {
		snprintf(err, errlen, "smtp: user set but no password "
		    "(password_file)");
		goto fail;
	}
	if (c->tls && (c->ctx = make_ctx(c, cs, err, errlen)) == NULL)
		goto fail;
	signal(SIGPIPE, SIG_IGN);
	return c;
fail:
	smtp_chan_close(c);
	return NULL;
}

/* ---- a batch ------------------------------------------------------- */

/*
 * true if every line of the body ends in CRLF and it holds no NUL: no
 * NUL before body_len, every LF after a CR, and as many CRs as LFs (so
 * each CR is one of those).  memchr and strlen, not a loop over each
 * byte: this runs on every message.
 */
static bool
body_is_crlf(const struct outbox_msg *m)
{
	const char *s = m->body, *end = s + m->body_len, *p;
	size_t lf = 0, cr = 0;

	if (strlen(s) != m->body_len)
		return false;
	for (p = s; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
		if (p == s || p[-1] != '\r')
			return false;
		lf++;
	}
	for (p = s; (p = memchr(p, '\r', (size_t)(end - p))) != NULL; p++)
		cr++;
	return cr == lf;
}

/*
 * The body with every line ending in CRLF (libESMTP needs it), NUL bytes
 * dropped; caller frees.  mail_build's output never needs this.
 */
static char *
crlf_body(const struct outbox_msg *m)
{
	struct buf b;
	const char *s = m->body;
	size_t n = m->body_len;

	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\0')
			continue;
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			buf_addc(&b, '\r');
		buf_addc(&b, s[i]);
		if (s[i] == '\r' && (i + 1 == n || s[i + 1] != '\n'))
			buf_addc(&b, '\n');
	}
	return b.data != NULL ? buf_detach(&b) : xstrdup("");
}

static smtp_session_t
new_session(struct smtp_chan *c, auth_context_t *auth)
{
	smtp_session_t s = smtp_create_session();
	static const int which[] = { Timeout_GREETING, Timeout_ENVELOPE,
		Timeout_DATA, Timeout_TRANSFER, Timeout_DATA2 };

	if (s == NULL)
		return NULL;
	smtp_set_server(s, c->server);
	if (c->helo != NULL)
		smtp_set_hostname(s, c->helo);
	smtp_set_eventcb(s, on_event, c);
	smtp_set_monitorcb(s, on_monitor, c, 0);
	for (size_t i = 0; i < sizeof(which) / sizeof(which[0]); i++)
		smtp_set_timeout(s, which[i] | Timeout_OVERRIDE_RFC2822_MINIMUM,
		    c->timeout_ms);
	if (c->tls) {
		smtp_starttls_enable(s, Starttls_REQUIRED);
		smtp_starttls_set_ctx(s, c->ctx);
	} else {
		smtp_starttls_enable(s, Starttls_DISABLED);
	}
	*auth = NULL;
	if (c->user != NULL) {
		*auth = auth_create_context();
		auth_set_mechanism_flags(*auth, AUTH_PLUGIN_PLAIN, 0);
		auth_set_interact_cb(*auth, on_interact, c);
		smtp_auth_set_context(s, *auth);
	}
	return s;
}

/* Why the session ended early, for messages without status codes. */
static void
session_error(struct smtp_chan *c, int rc, int e, char *out, size_t outlen)
{
	char why[160];

	if (c->run.tls_err[0] != '\0') {
		snprintf(out, outlen, "smtp '%s': %s", c->server,
		    c->run.tls_err);
	} else if (c->run.no_starttls) {
		snprintf(out, outlen, "smtp '%s': the server does not offer "
		    "STARTTLS (tls = \"none\" only for a relay on localhost)",
		    c->server);
	} else if (e == SMTP_ERR_CLIENT_ERROR && ERR_peek_last_error() != 0) {
		ERR_error_string_n(ERR_peek_last_error(), why, sizeof(why));
		snprintf(out, outlen, "smtp '%s': TLS handshake failed: %s",
		    c->server, why);
	} else if (e != 0) {
		smtp_strerror(e, why, sizeof(why));
		snprintf(out, outlen, "smtp '%s': %s%s", c->server, why,
		    rc == 0 ? "" : " (session ended early)");
	} else {
		snprintf(out, outlen, "smtp '%s': session ended before this "
		    "message was sent", c->server);
	}
}

struct rcpt_status {
	int	 code;
	char	 text[120];
};

static void
rcpt_cb(smtp_recipient_t r, const char *mailbox, void *arg)
{
	struct rcpt_status *rs = arg;
	const smtp_status_t *st = smtp_recipient_status(r);

	(void)mailbox;
	if (st != NULL) {
		rs->code = st->code;
		copy_reply(rs->text, sizeof(rs->text), st->text);
	}
}

static enum chan_result
set_result(struct outbox_msg *m, enum chan_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum chan_result
set_result(struct outbox_msg *m, enum chan_result r, const char *fmt, ...)
{
	va_list ap;

	m->result = r;
	m->retry_after = 0;
	m->err[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(m->err, sizeof(m->err), fmt, ap);
		va_end(ap);
	}
	return r;
}

/*
 * Judge one message from its own replies: MAIL (530/535: auth), RCPT
 * (5xx: this recipient is refused for good, 4xx: later), DATA (2xx sent,
 * 4xx later, 5xx refused); no reply at all: the session's error.
 */
static void
judge(struct smtp_chan *c, smtp_message_t msg, struct outbox_msg *m,
    const char *session_err)
{
	const smtp_status_t *mail = smtp_reverse_path_status(msg);
	const smtp_status_t *data = smtp_message_transfer_status(msg);
	struct rcpt_status rs = { 0, "" };
	char text[120];

	smtp_enumerate_recipients(msg, rcpt_cb, &rs);
	if (data->code / 100 == 2 && rs.code / 100 == 2) {
		set_result(m, CHAN_SENT, NULL);
		return;
	}
	if (mail->code == 530 || mail->code == 535 || mail->code == 534 ||
	    c->run.auth_err[0] != '\0') {
		copy_reply(text, sizeof(text), mail->text);
		if (c->run.auth_err[0] != '\0')
			set_result(m, CHAN_RETRY, "smtp '%s': authentication "
			    "failed: %s", c->server, c->run.auth_err);
		else
			set_result(m, CHAN_RETRY, "smtp '%s': authentication "
			    "%s: %d %s", c->server, c->run.auth_tried ?
			    "failed" : c->user != NULL ? "required, and the "
			    "server offered no AUTH mechanism paperwatch has "
			    "(PLAIN, LOGIN)" : "required (set user and "
			    "password_file)", mail->code, text);
		return;
	}
	if (mail->code != 0 && mail->code / 100 != 2) {
		copy_reply(text, sizeof(text), mail->text);
		set_result(m, CHAN_RETRY, "smtp '%s': sender <%s> refused: "
		    "%d %s", c->server, c->from, mail->code, text);
		return;
	}
	if (rs.code / 100 == 5) {
		set_result(m, CHAN_FAILED, "smtp '%s': recipient refused: %d %s",
		    c->server, rs.code, rs.text);
		return;
	}
	if (rs.code / 100 == 4) {
		set_result(m, CHAN_RETRY, "smtp '%s': recipient deferred: %d %s",
		    c->server, rs.code, rs.text);
		return;
	}
	copy_reply(text, sizeof(text), data->text);
	if (data->code / 100 == 5 && rs.code / 100 == 2)
		set_result(m, CHAN_FAILED, "smtp '%s': message refused: %d %s",
		    c->server, data->code, text);
	else if (data->code / 100 == 4 || data->code / 100 == 5)
		set_result(m, CHAN_RETRY, "smtp '%s': message deferred: %d %s",
		    c->server, data->code, text);
	else if (rs.code / 100 == 2)
		set_result(m, CHAN_RETRY, "%s (during DATA: may have been "
		    "delivered)", session_err);
	else
		set_result(m, CHAN_RETRY, "%s", session_err);
}

/*
 * libESMTP's message callback: the whole body at once (libESMTP splits
 * it into lines itself).  The rewind starts a message's transfer and the
 * end of data ends it: the socket is corked in between (see cork).
 */
static const char *
body_cb(void **ctx, int *len, void *arg)
{
	struct smtp_item *it = arg;
	const char *p;
	size_t n;

	(void)ctx;
	if (len == NULL) {
		it->off = 0;
		it->started = true;
		cork(it->c, true);
		return NULL;
	}
	if (it->off >= it->len) {
		/*
		 * The final dot commits the message: the results before it
		 * must be recorded first. If they cannot be, the server
		 * must not get the dot: the connection is dropped.
		 */
		if (it->m->gate != NULL && !it->m->gate(it->m->done_arg))
			drop_connection(it->c);
		cork(it->c, false);
		*len = 0;
		return NULL;
	}
	n = it->len - it->off < SMTP_CHUNK_MAX ? it->len - it->off :
	    SMTP_CHUNK_MAX;
	p = it->data + it->off;
	it->off += n;
	*len = (int)n;
	return p;
}

/* Queue it->m in the session, or judge it now when it cannot be sent. */
static void
add_message(struct smtp_chan *c, smtp_session_t s, struct smtp_item *it)
{
	struct outbox_msg *m = it->m;
	char *rcpt = m->dest != NULL ? mail_addr_spec(m->dest) : NULL;

	if (rcpt == NULL || strchr(rcpt, '@') == NULL || m->body == NULL) {
		set_result(m, CHAN_FAILED, "smtp: %s", m->body == NULL ?
		    "empty message" : "invalid recipient address");
		goto judged;
	}
	if (m->body_len == 0)
		m->body_len = strlen(m->body);
	if (!body_is_crlf(m))
		it->body = crlf_body(m);
	it->c = c;
	it->data = it->body != NULL ? it->body : m->body;
	it->len = it->body != NULL ? strlen(it->body) : m->body_len;
	it->msg = smtp_add_message(s);
	if (it->msg == NULL || smtp_set_reverse_path(it->msg, c->from) == 0 ||
	    smtp_add_recipient(it->msg, rcpt) == NULL ||
	    smtp_set_messagecb(it->msg, body_cb, it) == 0) {
		set_result(m, CHAN_RETRY, "smtp: cannot queue the message");
		goto judged;
	}
	smtp_message_set_application_data_release(it->msg, it, NULL);
	free(rcpt);
	return;
judged:
	free(rcpt);
	it->judged = true;
	chan_report(m);
}

static void
fail_all(struct outbox_msg *const *msgs, size_t n, const char *why)
{
	for (size_t i = 0; i < n; i++) {
		set_result(msgs[i], CHAN_RETRY, "%s", why);
		chan_report(msgs[i]);
	}
}

static void
run_reset(struct smtp_chan *c)
{
	c->run.tls_err[0] = '\0';
	c->run.auth_err[0] = '\0';
	c->run.auth_tried = c->run.in_auth = c->run.no_starttls = false;
	c->run.chunking = c->run.corked = false;
	c->run.n_fds = 0;
	buf_reset(&c->run.line);
}

/* Queue msgs[0..n) in the session in flight, as its current items. */
static void
queue_items(struct smtp_chan *c, struct outbox_msg *const *msgs, size_t n)
{
	c->items = xcalloc(n, sizeof(*c->items));
	c->n_items = n;
	for (size_t i = 0; i < n; i++) {
		c->items[i].m = msgs[i];
		add_message(c, c->session, &c->items[i]);
		if (c->items[i].msg != NULL) {
			c->last = &c->items[i];
			c->queued++;
		}
	}
}

static void
free_items(struct smtp_chan *c)
{
	for (size_t i = 0; i < c->n_items; i++) {
		/* the session keeps its message: no event finds the item */
		if (c->items[i].msg != NULL)
			smtp_message_set_application_data_release(
			    c->items[i].msg, NULL, NULL);
		free(c->items[i].body);
	}
	free(c->items);
	c->items = NULL;
	c->n_items = 0;
}

/*
 * send_more, called when the last message queued is done and libESMTP
 * is about to look for the next: hand the session more messages (their
 * MAIL FROM goes out next, on the same connection), unless it has
 * SMTP_SESSION_MAX already (libESMTP keeps about 4 KB per message until
 * its session ends). The items before are all judged and reported; the
 * feed may free their messages.
 */
static void
pull(struct smtp_chan *c)
{
	struct outbox_msg *const *msgs;
	size_t n;

	if (c->more == NULL || c->more_done || c->queued >= SMTP_SESSION_MAX)
		return;
	for (size_t i = 0; i < c->n_items; i++)
		if (!c->items[i].judged)
			return;		/* not expected: the session ends */
	c->last = NULL;
	while (c->last == NULL && c->queued < SMTP_SESSION_MAX) {
		free_items(c);
		if ((n = c->more(c->more_arg, "smtp", &msgs)) == 0) {
			c->more_done = true;
			return;
		}
		queue_items(c, msgs, n);	/* none queued: ask again */
	}
}

/*
 * One SMTP session: queue msgs[0..n), run it (messages are judged and
 * reported as their replies come in, and more may be pulled in), then
 * judge the ones the session never reached with the session's error.
 * True if the session ended with every message judged by its replies.
 */
static bool
send_session(struct smtp_chan *c, struct outbox_msg *const *msgs, size_t n)
{
	auth_context_t auth;
	bool clean = true;
	char why[256];
	int rc;

	run_reset(c);
	c->queued = 0;
	c->last = NULL;
	if (probe_server(c, why, sizeof(why)) < 0) {
		fail_all(msgs, n, why);
		return false;
	}
	if ((c->session = new_session(c, &auth)) == NULL) {
		fail_all(msgs, n, "smtp: cannot create a libESMTP session");
		return false;
	}
	queue_items(c, msgs, n);
	if (c->last == NULL)			/* none could be queued */
		pull(c);
	if (c->last != NULL) {
		ERR_clear_error();
		rc = smtp_start_session(c->session);
		session_error(c, rc, smtp_errno(), why, sizeof(why));
		for (size_t i = 0; i < c->n_items; i++) {
			struct smtp_item *it = &c->items[i];

			if (it->judged)
				continue;
			judge(c, it->msg, it->m, why);
			chan_report(it->m);
			clean = false;
		}
		ERR_clear_error();
	}
	free_items(c);
	smtp_destroy_session(c->session);
	c->session = NULL;
	if (auth != NULL)
		auth_destroy_context(auth);
	return clean;
}

/*
 * At most SMTP_SESSION_MAX messages to a session: memory flat in the batch
 * size.
 */
static void
smtp_chan_send(void *state, struct outbox_msg *const *msgs, size_t n)
{
	for (size_t i = 0; i < n; i += SMTP_SESSION_MAX)
		send_session(state, msgs + i, n - i < SMTP_SESSION_MAX ?
		    n - i : SMTP_SESSION_MAX);
}

/*
 * One session for msgs and whatever more() hands out after them: a new
 * one only after SMTP_SESSION_MAX messages, or after a session that ended
 * cleanly without asking (the server refused a DATA command: libESMTP then
 * ends the session). After a failed session, the caller decides.
 */
static void
smtp_chan_send_more(void *state, struct outbox_msg *const *msgs, size_t n,
    size_t (*more)(void *, const char *, struct outbox_msg *const **),
    void *arg)
{
	struct smtp_chan *c = state;

	if (n > SMTP_SESSION_MAX) {
		smtp_chan_send(state, msgs, n);
		if ((n = more(arg, "smtp", &msgs)) == 0)
			return;
	}
	c->more = more;
	c->more_arg = arg;
	c->more_done = false;
	while (send_session(c, msgs, n) && !c->more_done &&
	    (n = more(arg, "smtp", &msgs)) > 0)
		;
	c->more = NULL;
	c->more_arg = NULL;
}

const struct chan_type chan_smtp = {
	.name = "smtp",
	.open = smtp_chan_open,
	.send = smtp_chan_send,
	.send_more = smtp_chan_send_more,
	.gates = true,
	.close = smtp_chan_close,
};
