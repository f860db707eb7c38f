/*
 * test_fetch.c: feeds/fetch.c against tests/servers/httpd.py, started here
 * on 127.0.0.1 (a plain and, when openssl is there, a TLS listener with a
 * self-signed certificate for "localhost").  Timing assertions read the
 * server's own arrival times from /count, never this process's clock.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "feeds/fetch.h"
#include "feeds/util.h"

#define PYTHON		"/usr/bin/python3"
#define FEED_MTIME	1700000000LL	/* 0x6553f100 */
#define FEED_LINES	4000
#define MAX_ROWS	16

static struct {
	pid_t	pid;
	int	port;
	int	tlsport;
	bool	up;
	char	skip_why[256];
	char	dir[64];		/* /tmp/pw-fetch-XXXXXX */
	char	root[128];
	char	feed[160];		/* root/feed.xml */
	char	cert[160];
	struct buf feed_body;		/* what feed.xml holds */
} srv;

/* The body a job received, through on_data. */
struct sink {
	struct buf	 body;
	int		 calls;
	bool		 abort;
};

static int
sink_data(struct fetch_job *job, const char *buf, size_t len)
{
	struct sink *s = job->arg;

	s->calls++;
	if (s->abort) {
		snprintf(job->err, sizeof job->err, "parser: stop requested");
		return -1;
	}
	buf_add(&s->body, buf, len);
	return 0;
}

static struct fetch_opts
opts_default(void)
{
	struct fetch_opts o = {
		.user_agent = "paperwatch-test/1.0 (mailto:test@example.org)",
		.timeout = 10,
		.connect_timeout = 5,
	};
	return o;
}

static void
job_setup(struct fetch_job *job, struct sink *s, const char *url)
{
	memset(job, 0, sizeof *job);
	memset(s, 0, sizeof *s);
	buf_init(&s->body);
	job->url = url;
	job->last_modified = -1;
	job->on_data = sink_data;
	job->arg = s;
}

static void
job_cleanup(struct fetch_job *job, struct sink *s)
{
	fetch_job_release(job);
	buf_release(&s->body);
}

/* Run one job; returns its status. */
static enum fetch_status
run_one(const struct fetch_opts *o, struct fetch_job *job)
{
	struct fetch_job *jobs[1] = { job };

	fetch_run(o, jobs, 1);
	return job->status;
}

/* "http://127.0.0.1:PORT" + path, into out. */
static void
url_local(char *out, size_t outlen, const char *host, const char *path)
{
	snprintf(out, outlen, "http://%s:%d%s", host, srv.port, path);
}

/* Percent-encode s for a query value. */
static void
url_escape(char *out, size_t outlen, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s != '\0' && o + 4 < outlen; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~/", c) != NULL) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

struct count {
	int	n;
	double	t[MAX_ROWS];
	int	status[MAX_ROWS];
	char	enc[MAX_ROWS][8];
};

/*
 * Ask the server what it saw for path (with its query), over a raw socket
 * so that the fetcher's own politeness memory is not involved.
 */
static void
server_count(const char *path, struct count *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char esc[512], req[700], resp[4096], *p;
	size_t got = 0;
	ssize_t r;
	int fd;

	memset(c, 0, sizeof *c);
	url_escape(esc, sizeof esc, path);
	snprintf(req, sizeof req, "GET /count?path=%s HTTP/1.0\r\n"
	    "Host: 127.0.0.1\r\n\r\n", esc);
	sa.sin_port = htons((uint16_t)srv.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (got < sizeof resp - 1 &&
	    (r = read(fd, resp + got, sizeof resp - 1 - got)) > 0)
		got += (size_t)r;
	close(fd);
	resp[got] = '\0';
	p = strstr(resp, "\r\n\r\n");
	assert_non_null(p);
	p += 4;
	c->n = (int)strtol(p, &p, 10);
	for (int i = 0; i < c->n && i < MAX_ROWS; i++) {
		c->t[i] = strtod(p, &p);
		c->status[i] = (int)strtol(p, &p, 10);
		while (*p == ' ')
			p++;
		for (size_t k = 0; k < sizeof c->enc[i] - 1 && *p > ' '; k++)
			c->enc[i][k] = *p++;
	}
}

/* ---- server start and stop ---- */

static int
write_feed(void)
{
	struct timespec ts[2] = { { FEED_MTIME, 0 }, { FEED_MTIME, 0 } };
	FILE *f;

	buf_init(&srv.feed_body);
	buf_adds(&srv.feed_body, "<?xml version=\"1.0\"?>\n<rss><channel>\n");
	for (int i = 0; i < FEED_LINES; i++)
		buf_printf(&srv.feed_body, "<item><title>paper %05d</title>"
		    "</item>\n", i);
	buf_adds(&srv.feed_body, "</channel></rss>\n");
	if ((f = fopen(srv.feed, "wb")) == NULL)
		return -1;
	fwrite(srv.feed_body.data, 1, srv.feed_body.len, f);
	if (fclose(f) != 0)
		return -1;
	return utimensat(AT_FDCWD, srv.feed, ts, 0);
}

static const char *
httpd_script(char *out, size_t outlen)
{
	const char *fx = getenv("FIXTURES");

	snprintf(out, outlen, "%s/../servers/httpd.py",
	    fx != NULL ? fx : "tests/fixtures");
	if (access(out, R_OK) != 0)
		snprintf(out, outlen, "tests/servers/httpd.py");
	return out;
}

static void
spawn_server(const char *portfile, const char *tlsdir)
{
	char script[PATH_MAX];

	httpd_script(script, sizeof script);
	srv.pid = fork();
	if (srv.pid == 0) {
		execl(PYTHON, PYTHON, script, "--portfile", portfile, "--root",
		    srv.root, "--tls-dir", tlsdir, (char *)NULL);
		_exit(127);
	}
}

/* Wait (at most 15 s) until the server wrote its ports. */
static bool
wait_ready(const char *portfile)
{
	for (int i = 0; i < 300; i++) {
		FILE *f = fopen(portfile, "r");
		int st;

		if (f != NULL) {
			int k = fscanf(f, "%d %d", &srv.port, &srv.tlsport);

			fclose(f);
			if (k == 2)
				return true;
		}
		if (waitpid(srv.pid, &st, WNOHANG) == srv.pid) {
			srv.pid = 0;
			return false;
		}
		usleep(50000);
	}
	return false;
}

static int
group_setup(void **state)
{
	char portfile[128], tlsdir[128];

	(void)state;
	if (access(PYTHON, X_OK) != 0) {
		snprintf(srv.skip_why, sizeof srv.skip_why, "%s missing: "
		    "server tests skipped", PYTHON);
		return 0;
	}
	str_copy(srv.dir, sizeof srv.dir, "/tmp/pw-fetch-XXXXXX");
	if (mkdtemp(srv.dir) == NULL)
		return -1;
	snprintf(srv.root, sizeof srv.root, "%s/root", srv.dir);
	snprintf(srv.feed, sizeof srv.feed, "%s/feed.xml", srv.root);
	snprintf(tlsdir, sizeof tlsdir, "%s/tls", srv.dir);
	snprintf(srv.cert, sizeof srv.cert, "%s/cert.pem", tlsdir);
	snprintf(portfile, sizeof portfile, "%s/port", srv.dir);
	if (mkdir(srv.root, 0700) != 0 || write_feed() != 0)
		return -1;
	spawn_server(portfile, tlsdir);
	if (srv.pid < 0 || !wait_ready(portfile)) {
		fprintf(stderr, "test_fetch: %s tests/servers/httpd.py did not "
		    "start\n", PYTHON);
		return -1;
	}
	srv.up = true;
	return fetch_global_init();
}

static int
group_teardown(void **state)
{
	static const char *files[] = { "root/feed.xml", "tls/cert.pem",
	    "tls/key.pem", "port" };
	static const char *dirs[] = { "root", "tls" };
	char path[200];

	(void)state;
	if (srv.pid > 0) {
		kill(srv.pid, SIGTERM);
		waitpid(srv.pid, NULL, 0);
	}
	if (srv.up)
		fetch_global_cleanup();
	if (srv.dir[0] != '\0') {
		for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
			snprintf(path, sizeof path, "%s/%s", srv.dir, files[i]);
			unlink(path);
		}
		for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
			snprintf(path, sizeof path, "%s/%s", srv.dir, dirs[i]);
			rmdir(path);
		}
		rmdir(srv.dir);
	}
	buf_release(&srv.feed_body);
	return 0;
}

#define NEED_SERVER() do {						\
	if (!srv.up) {							\
		print_message("%s\n", srv.skip_why);			\
		skip();							\
	}								\
} while (0)

#define NEED_TLS() do {							\
	NEED_SERVER();							\
	if (srv.tlsport == 0) {						\
		print_message("no TLS listener (openssl?): skipped\n");	\
		skip();							\
	}								\
} while (0)

static void
assert_feed_body(const struct sink *s)
{
	assert_int_equal(s->body.len, srv.feed_body.len);
	assert_memory_equal(s->body.data, srv.feed_body.data,
	    srv.feed_body.len);
}

/* ---- the tests ---- */

static void
test_fetch_ok_body_streamed(void **state)
{
	struct fetch_opts o = opts_default();
	struct fetch_job job;
	struct sink s;
	char url[200], etag[64];

	(void)state;
	NEED_SERVER();
	url_local(url, sizeof url, "127.0.0.1", "/f/feed.xml?t=ok");
	job_setup(&job, &s, url);
	assert_int_equal(run_one(&o, &job), FETCH_OK);
	assert_int_equal(job.http_code, 200);
	assert_int_equal(job.bytes, srv.feed_body.len);
	assert_feed_body(&s);
	assert_true(s.calls > 1);	/* streamed in pieces, not at once */
	snprintf(etag, sizeof etag, "\"%llx-%zx\"", FEED_MTIME,
	    srv.feed_body.len);
	assert_string_equal(job.new_etag, etag);
	assert_int_equal(job.new_last_modified, FEED_MTIME);
	assert_string_equal(job.err, "");
	job_cleanup(&job, &s);
}

static void
test_fetch_etag_not_modified(void **state)
{
	struct fetch_opts o = opts_default();
	struct fetch_job job;
	struct sink s;
	struct count c;
	char url[200], *etag;

	(void)state;
	NEED_SERVER();
	url_local(url, sizeof url, "127.0.0.1", "/f/feed.xml?t=etag");
	job_setup(&job, &s, url);
	assert_int_equal(run_one(&o, &job), FETCH_OK);
	etag = xstrdup(job.new_etag);
	job_cleanup(&job, &s);

	job_setup(&job, &s, url);
	job.etag = etag;
	assert_int_equal(run_one(&o, &job), FETCH_NOT_MODIFIED);
	assert_int_equal(job.http_code, 304);
	assert_int_equal(job.bytes, 0);
	assert_int_equal(s.calls, 0);
	assert_string_equal(job.new_etag, etag);
	assert_int_equal(job.new_last_modified, FEED_MTIME);
	job_cleanup(&job, &s);
	free(etag);

	server_count("/f/feed.xml?t=etag", &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.status[0], 200);
	assert_int_equal(c.status[1], 304);
}

static void
test_fetch_last_modified(void **state)
{
	struct fetch_opts o = opts_default();
	struct fetch_job job;
	struct sink s;
	struct count c;
	char url[200];

	(void)state;
	NEED_SERVER();
	url_local(url, sizeof url, "127.0.0.1", "/f/feed.xml?t=ims");
	job_setup(&job, &s, url);
	job.last_modified = FEED_MTIME;
	assert_int_equal(run_one(&o, &job), FETCH_NOT_MODIFIED);
	assert_int_equal(job.http_code, 304);
	assert_int_equal(job.new_last_modified, FEED_MTIME);
	job_cleanup(&job, &s);

	/* a copy one second older than the file is out of date */
	job_setup(&job, &s, url);
	job.last_modified = FEED_MTIME - 1;
	assert_int_equal(run_one(&o, &job), FETCH_OK);
	assert_feed_body(&s);
	job_cleanup(&job, &s);

	server_count("/f/feed.xml?t=ims", &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.status[0], 304);
	assert_int_equal(c.status[1], 200);
}

/* An ETag that would inject a header is not sent (and the GET is plain). */
static void
test_fetch_etag_injection_not_sent(void **state)
{
	struct fetch_opts o = opts_default();
	struct fetch_job job;
	struct sink s;
	char url[200];

	(void)state;
	NEED_SERVER();
	url_local(url, sizeof url, "127.0.0.1", "/f/feed.xml?t=inject");
	job_setup(&job, &s, url);
	job.etag = "\"x\"\r\nIf-Modified-Since: Thu, 01 Jan 2099 00:00:00 GMT";
	assert_int_equal(run_one(&o, &job), FETCH_OK);
	assert_int_equal(job.http_code, 200);
	assert_feed_body(&s);
	job_cleanup(&job, &s);
}

static void
test_fetch_size_cap(void **state)
{
	static const char *paths[] = { "/big", "/bigchunked" };
	struct fetch_opts o = opts_default();
	struct fetch_job job;
	struct sink s;
	char url[200];

	(void)state;
	NEED_SERVER();
	o.max_size = 1048576;
	for (size_t i = 0; i < 2; i++) {
		url_local(url, sizeof url, "127.0.0.1", paths[i]);
		job_setup(&job, &s, url);
		assert_int_equal(run_one(&o, &job), FETCH_FAILED);
		assert_string_equal(job.err,
		    "response larger than 1048576 bytes");
		assert_true(job.bytes <= 1048576);
		assert_int_equal(job.bytes, s.body.len);
		job_cleanup(&job, &s);
	}
}

static void
test_fetch_redirects(void **state)
{
	static const struct {
		const char	*path;
		enum fetch_status st;
		const char	*err;
	} cases[] = {
		{ "/redir/3", FETCH_OK, "" },
		{ "/redir/5", FETCH_OK, "" },
		{ "/redir/6", FETCH_FAILED, "too many redirects (5)" },
	};
	struct fetch_opts o = opts_default();
	struct fetch_job job;
	struct sink s;
	char url[200];

	(void)state;
	NEED_SERVER();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		url_local(url, sizeof url, "127.0.0.1", cases[i].path);
		job_setup(&job, &s, url);
		assert_int_equal(run_one(&o, &job), cases[i].st);
		assert_string_equal(job.err, cases[i].err);
		if (cases[i].st == FETCH_OK) {
			assert_int_equal(job.http_code, 200);
			assert_int_equal(s.body.len, 5);
			assert_memory_equal(s.body.data, "done\n", 5);
		} else {
			assert_int_equal(job.http_code, 302);
			assert_int_equal(s.body.len, 0);
		}
		job_cleanup(&job, &s);
	}
}

/* 429 with Retry-After: 120; the host's next job is not even tried. */
static void
test_fetch_429_retry_after(void **state)
{
	struct fetch_opts o = opts_default();
	struct fetch_job a, b, *jobs[2] = { &a, &b };
	struct sink sa, sb;
	struct count c;
	char ua[200], ub[200];

	(void)state;
	NEED_SERVER();
	url_local(ua, sizeof ua, "127.0.0.1", "/429");
	url_local(ub, sizeof ub, "127.0.0.1", "/f/feed.xml?t=after429");
	job_setup(&a, &sa, ua);
	job_setup(&b, &sb, ub);
	assert_int_equal(fetch_run(&o, jobs, 2), 0);
	assert_int_equal(a.status, FETCH_RETRY_LATER);
	assert_int_equal(a.http_code, 429);
	assert_int_equal(a.retry_after, 120);
	assert_string_equal(a.err, "HTTP 429");
	assert_int_equal(sa.body.len, 0);	/* error page not parsed */
	assert_int_equal(b.status, FETCH_RETRY_LATER);
	assert_int_equal(b.retry_after, 120);
	assert_non_null(strstr(b.err, "asked to retry later (HTTP 429)"));
	assert_true(str_starts(b.err, "not tried: '127.0.0.1:"));
	server_count("/f/feed.xml?t=after429", &c);
	assert_int_equal(c.n, 0);
	job_cleanup(&a, &sa);
	job_cleanup(&b, &sb);
}

static void
test_fetch_503_http_date(void **state)
{
	struct fetch_opts o = opts_default();
	struct fetch_job job;
	struct sink s;
	char url[200];

	(void)state;
	NEED_SERVER();
	url_local(url, sizeof url, "127.0.0.1", "/503date");
	job_setup(&job, &s, url);
	assert_int_equal(run_one(&o, &job), FETCH_RETRY_LATER);
	assert_int_equal(job.http_code, 503);
	assert_string_equal(job.err, "HTTP 503");
	/* the server said "now + 300 s" as an HTTP-date (1 s resolution) */
	assert_in_range(job.retry_after, 295, 301);
	job_cleanup(&job, &s);
}

static void
test_fetch_http_errors(void **state)
{
	static const struct {
		const char	*path;
		long		 code;
		enum fetch_status st;
	} cases[] = {
		{ "/status/404", 404, FETCH_FAILED },
		{ "/status/403", 403, FETCH_FAILED },
		{ "/status/410", 410, FETCH_FAILED },
		{ "/status/500", 500, FETCH_RETRY_LATER },
		{ "/status/502", 502, FETCH_RETRY_LATER },
		{ "/status/503", 503, FETCH_RETRY_LATER },
	};
	struct fetch_opts o = opts_default();
	struct fetch_job job;
	struct sink s;
	char url[200], err[32];

	(void)state;
	NEED_SERVER();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		url_local(url, sizeof url, "127.0.0.1", cases[i].path);
		job_setup(&job, &s, url);
		assert_int_equal(run_one(&o, &job), cases[i].st);
		assert_int_equal(job.http_code, cases[i].code);
		snprintf(err, sizeof err, "HTTP %ld", cases[i].code);
		assert_string_equal(job.err, err);
		assert_int_equal(job.retry_after, 0);
		assert_int_equal(s.body.len, 0);
		assert_null(job.new_etag);
		job_cleanup(&job, &s);
	}
}

static void
test_fetch_timeout(void **state)
{
	struct fetch_opts o = opts_default();
	struct fetch_job job;
	struct sink s;
	char url[200];

	(void)state;
	NEED_SERVER();
	o.timeout = 1;
	url_local(url, sizeof url, "127.0.0.1", "/slow?s=3&t=timeout");
	job_setup(&job, &s, url);
	assert_int_equal(run_one(&o, &job), FETCH_RETRY_LATER);
	assert_string_equal(job.err, "timed out after 1 s");
	job_cleanup(&job, &s);
}

/* A port nobody listens on: refused, temporary, and the host's other jobs
   are not tried. */
static void
test_fetch_refused(void **state)
{
	struct fetch_opts o = opts_default();
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	struct fetch_job a, b, *jobs[2] = { &a, &b };
	struct sink sa_, sb;
	char ua[200], ub[200], want[64];
	int fd, port;

	(void)state;
	NEED_SERVER();
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);		/* now nothing listens there */
	snprintf(ua, sizeof ua, "http://127.0.0.1:%d/a", port);
	snprintf(ub, sizeof ub, "http://127.0.0.1:%d/b", port);
	job_setup(&a, &sa_, ua);
	job_setup(&b, &sb, ub);
	assert_int_equal(fetch_run(&o, jobs, 2), 0);
	assert_int_equal(a.status, FETCH_RETRY_LATER);
	assert_int_equal(a.http_code, 0);
	snprintf(want, sizeof want, "port %d", port);
	assert_non_null(strstr(a.err, want));
	assert_non_null(strstr(a.err, "127.0.0.1"));
	assert_int_equal(b.status, FETCH_RETRY_LATER);
	snprintf(want, sizeof want, "not tried: '127.0.0.1:%d' unreachable",
	    port);
	assert_true(str_starts(b.err, want));
	job_cleanup(&a, &sa_);
	job_cleanup(&b, &sb);
}

static void
test_fetch_gzip(void **state)
{
	struct fetch_opts o = opts_default();
	struct fetch_job job;
	struct sink s;
	struct count c;
	char url[200];

	(void)state;
	NEED_SERVER();
	url_local(url, sizeof url, "127.0.0.1", "/gzip/feed.xml");
	job_setup(&job, &s, url);
	assert_int_equal(run_one(&o, &job), FETCH_OK);
	assert_feed_body(&s);			/* decoded */
	assert_int_equal(job.bytes, srv.feed_body.len);
	job_cleanup(&job, &s);
	server_count("/gzip/feed.xml", &c);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.enc[0], "gzip");	/* it was sent compressed */
}

/* Same host: the larger min_interval of the two spaces the starts. */
static void
test_fetch_same_host_spacing(void **state)
{
	struct fetch_opts o = opts_default();
	struct fetch_job a, b, *jobs[2] = { &a, &b };
	struct sink sa, sb;
	struct count c1, c2;
	char ua[200], ub[200];

	(void)state;
	NEED_SERVER();
	url_local(ua, sizeof ua, "127.0.0.1", "/f/feed.xml?t=space1");
	url_local(ub, sizeof ub, "127.0.0.1", "/f/feed.xml?t=space2");
	job_setup(&a, &sa, ua);
	job_setup(&b, &sb, ub);
	a.min_interval = 0;
	b.min_interval = 1.0;
	assert_int_equal(fetch_run(&o, jobs, 2), 2);
	assert_int_equal(a.status, FETCH_OK);
	assert_int_equal(b.status, FETCH_OK);
	server_count("/f/feed.xml?t=space1", &c1);
	server_count("/f/feed.xml?t=space2", &c2);
	assert_int_equal(c1.n, 1);
	assert_int_equal(c2.n, 1);
	/* in the given order, >= 1 s apart (server clock, 20 ms of jitter) */
	assert_true(c2.t[0] - c1.t[0] >= 0.98);
	assert_true(c2.t[0] - c1.t[0] < 2.5);
	job_cleanup(&a, &sa);
	job_cleanup(&b, &sb);
}

/* The spacing also holds across two runs (arXiv API paging). */
static void
test_fetch_spacing_across_runs(void **state)
{
	struct fetch_opts o = opts_default();
	struct fetch_job a, b;
	struct sink sa, sb;
	struct count c1, c2;
	char ua[200], ub[200];

	(void)state;
	NEED_SERVER();
	url_local(ua, sizeof ua, "127.0.0.1", "/f/feed.xml?t=runs1");
	url_local(ub, sizeof ub, "127.0.0.1", "/f/feed.xml?t=runs2");
	job_setup(&a, &sa, ua);
	job_setup(&b, &sb, ub);
	a.min_interval = b.min_interval = 1.0;
	assert_int_equal(run_one(&o, &a), FETCH_OK);
	assert_int_equal(run_one(&o, &b), FETCH_OK);
	server_count("/f/feed.xml?t=runs1", &c1);
	server_count("/f/feed.xml?t=runs2", &c2);
	assert_int_equal(c1.n, 1);
	assert_int_equal(c2.n, 1);
	assert_true(c2.t[0] - c1.t[0] >= 0.98);
	job_cleanup(&a, &sa);
	job_cleanup(&b, &sb);
}

/* Same host, no interval: still one at a time (the second request arrives
   after the first one's 0.5 s answer). */
static void
test_fetch_same_host_serialised(void **state)
{
	struct fetch_opts o = opts_default();
	struct fetch_job a, b, *jobs[2] = { &a, &b };
	struct sink sa, sb;
	struct count c1, c2;
	char ua[200], ub[200];

	(void)state;
	NEED_SERVER();
	url_local(ua, sizeof ua, "127.0.0.1", "/slow?s=0.5&t=ser1");
	url_local(ub, sizeof ub, "127.0.0.1", "/slow?s=0.5&t=ser2");
	job_setup(&a, &sa, ua);
	job_setup(&b, &sb, ub);
	assert_int_equal(fetch_run(&o, jobs, 2), 2);
	server_count("/slow?s=0.5&t=ser1", &c1);
	server_count("/slow?s=0.5&t=ser2", &c2);
	assert_int_equal(c1.n, 1);
	assert_int_equal(c2.n, 1);
	assert_true(c2.t[0] - c1.t[0] >= 0.49);
	job_cleanup(&a, &sa);
	job_cleanup(&b, &sb);
}

/* Two hosts (127.0.0.1 and localhost): both 1 s requests arrive together. */
static void
test_fetch_hosts_concurrent(void **state)
{
	struct fetch_opts o = opts_default();
	struct fetch_job a, b, *jobs[2] = { &a, &b };
	struct sink sa, sb;
	struct count c1, c2;
	char ua[200], ub[200];
	double gap;

	(void)state;
	NEED_SERVER();
	url_local(ua, sizeof ua, "127.0.0.1", "/slow?s=1&t=conc1");
	url_local(ub, sizeof ub, "localhost", "/slow?s=1&t=conc2");
	job_setup(&a, &sa, ua);
	job_setup(&b, &sb, ub);
	assert_int_equal(fetch_run(&o, jobs, 2), 2);
	assert_int_equal(sa.body.len, 5);
	assert_int_equal(sb.body.len, 5);
	server_count("/slow?s=1&t=conc1", &c1);
	server_count("/slow?s=1&t=conc2", &c2);
	assert_int_equal(c1.n, 1);
	assert_int_equal(c2.n, 1);
	gap = c2.t[0] - c1.t[0];
	assert_true(gap < 0.5 && gap > -0.5);	/* serialised would be >= 1 */
	job_cleanup(&a, &sa);
	job_cleanup(&b, &sb);
}

static void
test_fetch_file_url(void **state)
{
	struct fetch_opts o = opts_default();
	struct fetch_job job;
	struct sink s;
	char url[300];

	(void)state;
	NEED_SERVER();		/* for the feed file in the temporary dir */
	snprintf(url, sizeof url, "file://%s", srv.feed);
	job_setup(&job, &s, url);
	assert_int_equal(run_one(&o, &job), FETCH_OK);
	assert_int_equal(job.http_code, 0);
	assert_feed_body(&s);
	assert_int_equal(job.new_last_modified, FEED_MTIME);
	assert_null(job.new_etag);
	job_cleanup(&job, &s);

	/* libcurl applies If-Modified-Since to files too */
	job_setup(&job, &s, url);
	job.last_modified = FEED_MTIME;
	assert_int_equal(run_one(&o, &job), FETCH_NOT_MODIFIED);
	assert_int_equal(s.body.len, 0);
	job_cleanup(&job, &s);

	snprintf(url, sizeof url, "file://%s/missing.xml", srv.root);
	job_setup(&job, &s, url);
	assert_int_equal(run_one(&o, &job), FETCH_FAILED);
	assert_non_null(strstr(job.err, "missing.xml"));
	job_cleanup(&job, &s);
}

static void
test_fetch_on_data_abort(void **state)
{
	struct fetch_opts o = opts_default();
	struct fetch_job job;
	struct sink s;
	char url[200];

	(void)state;
	NEED_SERVER();
	url_local(url, sizeof url, "127.0.0.1", "/f/feed.xml?t=abort");
	job_setup(&job, &s, url);
	s.abort = true;
	assert_int_equal(run_one(&o, &job), FETCH_FAILED);
	assert_string_equal(job.err, "parser: stop requested");
	assert_int_equal(s.calls, 1);
	assert_int_equal(job.bytes, 0);
	assert_null(job.new_etag);
	job_cleanup(&job, &s);
}

/* Refused before any network: bad URLs, schemes, no User-Agent. */
static void
test_fetch_bad_input(void **state)
{
	static const struct {
		const char	*url;
		const char	*err;
	} cases[] = {
		{ NULL, "no URL" },
		{ "ftp://example.org/feed.xml", "unsupported URL scheme 'ftp' "
		    "(expected http, https or file)" },
		{ "gopher://example.org/", "unsupported URL scheme 'gopher' "
		    "(expected http, https or file)" },
		{ "no scheme at all", "bad URL: " },
		{ "http://", "bad URL: " },
	};
	struct fetch_opts o = opts_default();
	struct fetch_job job;
	struct sink s;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		job_setup(&job, &s, cases[i].url);
		assert_int_equal(run_one(&o, &job), FETCH_FAILED);
		assert_true(str_starts(job.err, cases[i].err));
		job_cleanup(&job, &s);
	}
	o.user_agent = NULL;
	job_setup(&job, &s, "http://127.0.0.1:9/x");
	assert_int_equal(run_one(&o, &job), FETCH_FAILED);
	assert_true(str_starts(job.err, "no User-Agent configured"));
	o.user_agent = "evil\r\nX-Injected: 1";
	assert_int_equal(run_one(&o, &job), FETCH_FAILED);
	assert_true(str_starts(job.err, "no User-Agent configured"));
	job_cleanup(&job, &s);
}

static void
test_fetch_redirect_policy(void **state)
{
	static const struct {
		const char	*from, *to;
		bool		 ok;
		const char	*err;
	} cases[] = {
		{ "http://a/x", "http://b/y", true, "" },
		{ "http://a/x", "https://b/y", true, "" },
		{ "https://a/x", "https://b/y", true, "" },
		{ "HTTPS://a/x", "HTTPS://b/y", true, "" },
		{ "https://a/x", "http://a/x", false,
		    "redirect from https to http refused" },
		{ "https://a/x", "HTTP://a/x", false,
		    "redirect from https to http refused" },
		{ "http://a/x", "file:///etc/passwd", false,
		    "redirect to scheme 'file' refused (only http and https "
		    "are followed)" },
		{ "https://a/x", "ftp://a/x", false,
		    "redirect to scheme 'ftp' refused (only http and https "
		    "are followed)" },
	};
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err[0] = '\0';
		assert_int_equal(fetch_redirect_allowed(cases[i].from,
		    cases[i].to, err, sizeof err), cases[i].ok);
		assert_string_equal(err, cases[i].err);
	}
}

/* A redirect to file:// is never followed (hostile servers). */
static void
test_fetch_redirect_to_file(void **state)
{
	struct fetch_opts o = opts_default();
	struct fetch_job job;
	struct sink s;
	char url[300], esc[64], path[100];

	(void)state;
	NEED_SERVER();
	url_escape(esc, sizeof esc, "file:///etc/passwd");
	snprintf(path, sizeof path, "/redirect?to=%s", esc);
	url_local(url, sizeof url, "127.0.0.1", path);
	job_setup(&job, &s, url);
	assert_int_equal(run_one(&o, &job), FETCH_FAILED);
	assert_string_equal(job.err, "redirect to scheme 'file' refused (only "
	    "http and https are followed)");
	assert_int_equal(s.body.len, 0);
	job_cleanup(&job, &s);
}

/* https, verified against the test CA; then without it; then insecure. */
static void
test_fetch_tls_verification(void **state)
{
	struct fetch_opts o = opts_default();
	struct fetch_job job;
	struct sink s;
	char url[200];

	(void)state;
	NEED_TLS();
	snprintf(url, sizeof url, "https://localhost:%d/f/feed.xml?t=tls",
	    srv.tlsport);
	o.ca_file = srv.cert;
	job_setup(&job, &s, url);
	assert_int_equal(run_one(&o, &job), FETCH_OK);
	assert_int_equal(job.http_code, 200);
	assert_feed_body(&s);
	job_cleanup(&job, &s);

	o.ca_file = NULL;
	job_setup(&job, &s, url);
	assert_int_equal(run_one(&o, &job), FETCH_FAILED);
	assert_non_null(strstr(job.err, "certificate"));
	job_cleanup(&job, &s);

	o.insecure = true;
	job_setup(&job, &s, url);
	assert_int_equal(run_one(&o, &job), FETCH_OK);
	assert_feed_body(&s);
	job_cleanup(&job, &s);
}

/*
 * https -> http refused, directly and as the third hop of http -> https ->
 * http; the server proves the http request was never sent.
 */
static void
test_fetch_tls_no_downgrade(void **state)
{
	struct fetch_opts o = opts_default();
	struct fetch_job job;
	struct sink s;
	struct count c;
	char url[600], target[100], esc[500], inner[600];

	(void)state;
	NEED_TLS();
	o.ca_file = srv.cert;
	url_local(target, sizeof target, "127.0.0.1", "/f/down1.xml");
	url_escape(esc, sizeof esc, target);
	snprintf(url, sizeof url, "https://localhost:%d/redirect?to=%s",
	    srv.tlsport, esc);
	job_setup(&job, &s, url);
	assert_int_equal(run_one(&o, &job), FETCH_FAILED);
	assert_string_equal(job.err, "redirect from https to http refused");
	job_cleanup(&job, &s);
	server_count("/f/down1.xml", &c);
	assert_int_equal(c.n, 0);

	url_local(target, sizeof target, "127.0.0.1", "/f/down2.xml");
	url_escape(esc, sizeof esc, target);
	snprintf(inner, sizeof inner, "https://localhost:%d/redirect?to=%s",
	    srv.tlsport, esc);
	url_escape(esc, sizeof esc, inner);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/redirect?to=%s",
	    srv.port, esc);
	job_setup(&job, &s, url);
	assert_int_equal(run_one(&o, &job), FETCH_FAILED);
	assert_string_equal(job.err, "redirect from https to http refused");
	job_cleanup(&job, &s);
	server_count("/f/down2.xml", &c);
	assert_int_equal(c.n, 0);
}

/* tick runs while transfers are in flight; stop ends the run early. */
static volatile sig_atomic_t stop_flag;
static int ticks;

static void
on_tick(void *arg)
{
	(void)arg;
	ticks++;
	stop_flag = 1;
}

static void
test_fetch_stop_and_tick(void **state)
{
	struct fetch_opts o = opts_default();
	struct fetch_job a, b, *jobs[2] = { &a, &b };
	struct sink sa, sb;
	struct count c;
	char ua[200], ub[200];

	(void)state;
	NEED_SERVER();
	stop_flag = 0;
	ticks = 0;
	o.stop = &stop_flag;
	o.tick = on_tick;
	url_local(ua, sizeof ua, "127.0.0.1", "/slow?s=4&t=stop1");
	url_local(ub, sizeof ub, "127.0.0.1", "/f/feed.xml?t=stop2");
	job_setup(&a, &sa, ua);
	job_setup(&b, &sb, ub);
	assert_int_equal(fetch_run(&o, jobs, 2), 0);
	assert_int_equal(ticks, 1);
	assert_int_equal(a.status, FETCH_RETRY_LATER);
	assert_string_equal(a.err, "interrupted");
	assert_int_equal(b.status, FETCH_RETRY_LATER);
	assert_string_equal(b.err, "interrupted");
	server_count("/f/feed.xml?t=stop2", &c);
	assert_int_equal(c.n, 0);
	job_cleanup(&a, &sa);
	job_cleanup(&b, &sb);
}

static void
test_fetch_status_str(void **state)
{
	(void)state;
	assert_string_equal(fetch_status_str(FETCH_OK), "ok");
	assert_string_equal(fetch_status_str(FETCH_NOT_MODIFIED),
	    "not modified");
	assert_string_equal(fetch_status_str(FETCH_RETRY_LATER),
	    "retry later");
	assert_string_equal(fetch_status_str(FETCH_FAILED), "failed");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fetch_ok_body_streamed),
		cmocka_unit_test(test_fetch_etag_not_modified),
		cmocka_unit_test(test_fetch_last_modified),
		cmocka_unit_test(test_fetch_etag_injection_not_sent),
		cmocka_unit_test(test_fetch_size_cap),
		cmocka_unit_test(test_fetch_redirects),
		cmocka_unit_test(test_fetch_429_retry_after),
		cmocka_unit_test(test_fetch_503_http_date),
		cmocka_unit_test(test_fetch_http_errors),
		cmocka_unit_test(test_fetch_timeout),
		cmocka_unit_test(test_fetch_refused),
		cmocka_unit_test(test_fetch_gzip),
		cmocka_unit_test(test_fetch_same_host_spacing),
		cmocka_unit_test(test_fetch_spacing_across_runs),
		cmocka_unit_test(test_fetch_same_host_serialised),
		cmocka_unit_test(test_fetch_hosts_concurrent),
		cmocka_unit_test(test_fetch_file_url),
		cmocka_unit_test(test_fetch_on_data_abort),
		cmocka_unit_test(test_fetch_bad_input),
		cmocka_unit_test(test_fetch_redirect_policy),
		cmocka_unit_test(test_fetch_redirect_to_file),
		cmocka_unit_test(test_fetch_tls_verification),
		cmocka_unit_test(test_fetch_tls_no_downgrade),
		cmocka_unit_test(test_fetch_stop_and_tick),
		cmocka_unit_test(test_fetch_status_str),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
