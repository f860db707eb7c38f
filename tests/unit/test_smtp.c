/*
 * test_smtp.c: the smtp channel against a real aiosmtpd server
 * (tests/servers/smtpd.py) on 127.0.0.1, with certificates made at test
 * time.  Messages are built with mail_build and what arrives is parsed
 * back with Python's email package (tests/servers/emlparse.py).
 * Skipped, with a message, when /usr/bin/python3, aiosmtpd or openssl are
 * missing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/conf.h"
#include "daemon/deliver/channel.h"
#include "daemon/log.h"
#include "daemon/mail.h"
#include "feeds/util.h"
#include "testsrv.h"

#define FROM		"Paper digests <digest@example.org>"
#define SUBJECT		"Neue Papiere für dich 🎉 (3)"
#define TEXT		"Hallo Jürgen,\n\n1. Grüße from the lab\n.\n"
#define HTML		"<p>Grüße &amp; 🎉</p>\n"
#define PASSWORD	"s3cret-Pa55"

struct env {
	char	*dir;		/* temporary directory, removed at the end */
	char	 cert[PATH_MAX];	/* CN=localhost, DNS:localhost, IP:127.0.0.1 */
	char	 key[PATH_MAX];
	char	 other[PATH_MAX];	/* CN=other.example */
	char	 other_key[PATH_MAX];
	char	*skip;		/* why everything is skipped, or NULL */
	int	 n;		/* servers started (unique names) */
};

static struct env E;

static int
make_cert(const char *cert, const char *key, const char *cn,
    const char *san)
{
	char cmd[PATH_MAX * 3];

	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey rsa:2048 -nodes "
	    "-keyout '%s' -out '%s' -days 2 -subj /CN=%s "
	    "-addext subjectAltName=%s >/dev/null 2>&1", key, cert, cn, san);
	return system(cmd) == 0 ? 0 : -1;
}

static int
group_setup(void **state)
{
	(void)state;
	memset(&E, 0, sizeof(E));
	if (!testsrv_python_has("aiosmtpd")) {
		E.skip = "needs /usr/bin/python3 with aiosmtpd "
		    "(apt-get install python3-aiosmtpd)";
		return 0;
	}
	if ((E.dir = testsrv_tmpdir("smtp")) == NULL)
		return -1;
	snprintf(E.cert, sizeof(E.cert), "%s/cert.pem", E.dir);
	snprintf(E.key, sizeof(E.key), "%s/key.pem", E.dir);
	snprintf(E.other, sizeof(E.other), "%s/other.pem", E.dir);
	snprintf(E.other_key, sizeof(E.other_key), "%s/other-key.pem", E.dir);
	if (make_cert(E.cert, E.key, "localhost",
	    "DNS:localhost,IP:127.0.0.1") < 0 ||
	    make_cert(E.other, E.other_key, "other.example",
	    "DNS:other.example") < 0)
		E.skip = "needs the openssl command to make test certificates";
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	testsrv_stop_all();
	testsrv_rmrf(E.dir);
	free(E.dir);
	return 0;
}

static void
skip_if_needed(void)
{
	if (E.skip == NULL)
		return;
	print_message("skipped: %s\n", E.skip);
	skip();
}

static void
start_smtpd(struct testsrv *sv, const char *const *args)
{
	char name[32];

	skip_if_needed();
	snprintf(name, sizeof(name), "smtpd%d", ++E.n);
	if (testsrv_start(sv, E.dir, name, "smtpd.py", args) < 0)
		fail_msg("smtpd.py did not start, see %s", sv->log);
}

/* A config for the server: plain, or STARTTLS trusting cert. */
static void
conf_for(struct conf *cfg, const struct testsrv *sv, bool tls)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->smtp.host = "localhost";
	cfg->smtp.port = sv != NULL ? sv->port : testsrv_free_port();
	cfg->smtp.tls = tls ? CONF_TLS_STARTTLS : CONF_TLS_NONE;
	cfg->smtp.tls_verify = true;
	cfg->smtp.ca_file = tls ? E.cert : NULL;
	cfg->smtp.from = FROM;
	cfg->smtp.helo = "paperwatch.test";
	cfg->smtp.timeout = 10;
}

static struct outbox_msg *
make_msg(long long id, const char *to)
{
	struct outbox_msg *m = xcalloc(1, sizeof(*m));
	char *mid = xasprintf("d%lld.test@paperwatch.test", id), err[256];
	struct mail_spec ms = {
		.from = FROM, .to = to, .subject = SUBJECT, .text = TEXT,
		.html = HTML, .message_id = mid, .date = 1732752000,
		.list_id = "test.paperwatch.test",
	};
	struct buf b;

	buf_init(&b);
	if (mail_build(&ms, &b, err, sizeof(err)) != 0)
		fail_msg("mail_build: %s", err);
	m->id = id;
	m->channel = xstrdup("smtp");
	m->dest = mail_addr_spec(to);
	m->digest_id = xasprintf("d%lld", id);
	m->body_len = b.len;
	m->body = buf_detach(&b);
	m->result = CHAN_FAILED;
	free(mid);
	return m;
}

static void
free_msgs(struct outbox_msg **m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (m[i] == NULL)
			continue;
		free(m[i]->channel);
		free(m[i]->dest);
		free(m[i]->digest_id);
		free(m[i]->body);
		free(m[i]);
	}
}

/* open, send the batch, close; fails the test if open fails */
static void
send_batch(const struct conf *cfg, struct outbox_msg **m, size_t n)
{
	char err[256] = "";
	void *st = chan_smtp.open(cfg, err, sizeof(err));

	if (st == NULL)
		fail_msg("open: %s", err);
	chan_smtp.send(st, m, n);
	chan_smtp.close(st);
}

/* Every .eml of dir parsed by Python's email package, in order. */
static json_t *
parse_received(const char *dir)
{
	char cmd[PATH_MAX * 2];
	struct buf out;
	char chunk[4096];
	size_t k;
	FILE *p;
	json_t *j;
	json_error_t je;

	if (testsrv_count(dir, ".eml") == 0)
		return json_array();
	snprintf(cmd, sizeof(cmd), TESTSRV_PYTHON " '%s/emlparse.py' '%s'/*.eml",
	    testsrv_dir(), dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	buf_init(&out);
	while ((k = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_add(&out, chunk, k);
	assert_int_equal(pclose(p), 0);
	j = json_loads(buf_str(&out), 0, &je);
	if (j == NULL)
		fail_msg("emlparse output: %s", je.text);
	buf_release(&out);
	return j;
}

static const char *
jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "(null)";
}

/* The parsed message checks every delivered message must pass. */
static void
check_message(json_t *msg, const char *to_addr, const char *to_name)
{
	json_t *to = json_object_get(msg, "to"), *parts;
	json_t *mid = json_object_get(msg, "message_id");

	assert_string_equal(jstr(msg, "env_to"), to_addr);
	assert_string_equal(jstr(msg, "env_from"), "digest@example.org");
	assert_int_equal(json_array_size(to), 1);
	assert_string_equal(jstr(json_array_get(to, 0), "addr"), to_addr);
	assert_string_equal(jstr(json_array_get(to, 0), "name"), to_name);
	assert_string_equal(jstr(json_array_get(json_object_get(msg, "from"),
	    0), "name"), "Paper digests");
	assert_string_equal(jstr(msg, "subject"), SUBJECT);
	assert_int_equal(json_array_size(json_object_get(msg, "bcc")), 0);
	assert_int_equal(json_array_size(json_object_get(msg, "cc")), 0);
	/* libESMTP added no second Message-ID or Date */
	assert_int_equal(json_array_size(mid), 1);
	assert_true(strstr(json_string_value(json_array_get(mid, 0)),
	    "@paperwatch.test>") != NULL);
	assert_int_equal(json_array_size(json_object_get(msg, "date")), 1);
	assert_string_equal(jstr(msg, "content_type"), "multipart/alternative");
	parts = json_object_get(msg, "parts");
	assert_int_equal(json_array_size(parts), 2);
	assert_string_equal(jstr(json_array_get(parts, 0), "type"),
	    "text/plain");
	assert_string_equal(jstr(json_array_get(parts, 0), "content"),
	    "Hallo Jürgen,\r\n\r\n1. Grüße from the lab\r\n.\r\n");
	assert_string_equal(jstr(json_array_get(parts, 1), "type"),
	    "text/html");
	assert_string_equal(jstr(json_array_get(parts, 1), "content"),
	    "<p>Grüße &amp; 🎉</p>\r\n");
	assert_int_equal(json_array_size(json_object_get(msg, "defects")), 0);
	assert_true(json_integer_value(json_object_get(msg, "max_line")) <= 78);
	assert_false(json_is_true(json_object_get(msg, "bare_lf")));
}

static void
assert_result(const struct outbox_msg *m, enum chan_result r,
    const char *err_part)
{
	if (m->result != r)
		fail_msg("message %lld: result %d, want %d (err '%s')", m->id,
		    m->result, r, m->err);
	if (err_part == NULL)
		assert_string_equal(m->err, "");
	else if (strstr(m->err, err_part) == NULL)
		fail_msg("message %lld: err '%s' lacks '%s'", m->id, m->err,
		    err_part);
	assert_null(strstr(m->err, PASSWORD));
}

/* Three messages, one session, plain SMTP: each arrives, decodes right. */
static void
test_plain_three_in_one_session(void **state)
{
	static const char *const args[] = { "--env-extra", NULL };
	struct testsrv sv;
	struct conf cfg;
	struct outbox_msg *m[3];
	json_t *got;

	(void)state;
	start_smtpd(&sv, args);
	conf_for(&cfg, &sv, false);
	m[0] = make_msg(1, "alice@example.org");
	m[1] = make_msg(2, "Jürgen Müller <jm@example.org>");
	m[2] = make_msg(3, "\"Doe, Carol\" <carol@example.org>");
	send_batch(&cfg, m, 3);
	for (int i = 0; i < 3; i++)
		assert_result(m[i], CHAN_SENT, NULL);
	got = parse_received(sv.out);
	testsrv_stop(&sv);
	assert_int_equal(json_array_size(got), 3);
	check_message(json_array_get(got, 0), "alice@example.org", "");
	check_message(json_array_get(got, 1), "jm@example.org",
	    "Jürgen Müller");
	check_message(json_array_get(got, 2), "carol@example.org",
	    "Doe, Carol");
	for (int i = 0; i < 3; i++) {
		json_t *msg = json_array_get(got, (size_t)i);

		/* one connection carried all three */
		assert_string_equal(jstr(msg, "env_session"),
		    jstr(json_array_get(got, 0), "env_session"));
		assert_string_equal(jstr(msg, "env_tls"), "none");
	}
	json_decref(got);
	free_msgs(m, 3);
}

/* STARTTLS (required by the server) with AUTH to localhost. */
static void
test_starttls_auth(void **state)
{
	const char *args[] = { "--tls", E.cert, E.key, "--require-tls",
		"--auth", "alice:" PASSWORD, "--env-extra", NULL };
	struct testsrv sv;
	struct conf cfg;
	struct outbox_msg *m[2];
	json_t *got;

	(void)state;
	start_smtpd(&sv, args);
	conf_for(&cfg, &sv, true);
	cfg.smtp.user = "alice";
	cfg.smtp.password = PASSWORD;
	m[0] = make_msg(10, "Jürgen Müller <jm@example.org>");
	m[1] = make_msg(11, "bob@example.org");
	send_batch(&cfg, m, 2);
	assert_result(m[0], CHAN_SENT, NULL);
	assert_result(m[1], CHAN_SENT, NULL);
	got = parse_received(sv.out);
	testsrv_stop(&sv);
	assert_int_equal(json_array_size(got), 2);
	check_message(json_array_get(got, 0), "jm@example.org",
	    "Jürgen Müller");
	check_message(json_array_get(got, 1), "bob@example.org", "");
	for (size_t i = 0; i < 2; i++) {
		json_t *msg = json_array_get(got, i);

		assert_string_equal(jstr(msg, "env_tls"), "TLSv1.3");
		assert_string_equal(jstr(msg, "env_auth"), "alice");
		assert_string_equal(jstr(msg, "env_sni"), "localhost");
		assert_string_equal(jstr(msg, "env_session"),
		    jstr(json_array_get(got, 0), "env_session"));
	}
	json_decref(got);
	free_msgs(m, 2);
}

/* A wrong password: every message retried, "authentication failed". */
static void
test_auth_failure(void **state)
{
	const char *args[] = { "--tls", E.cert, E.key, "--require-tls",
		"--auth", "alice:" PASSWORD, NULL };
	struct testsrv sv;
	struct conf cfg;
	struct outbox_msg *m[2];

	(void)state;
	start_smtpd(&sv, args);
	conf_for(&cfg, &sv, true);
	cfg.smtp.user = "alice";
	cfg.smtp.password = "wrong-" PASSWORD;
	m[0] = make_msg(20, "a@example.org");
	m[1] = make_msg(21, "b@example.org");
	send_batch(&cfg, m, 2);
	assert_result(m[0], CHAN_RETRY, "authentication failed");
	assert_result(m[1], CHAN_RETRY, "authentication failed");
	assert_null(strstr(m[0]->err, "wrong-"));
	assert_int_equal(testsrv_count(sv.out, ".eml"), 0);

	/* no user at all against a server that wants AUTH */
	cfg.smtp.user = NULL;
	cfg.smtp.password = NULL;
	send_batch(&cfg, m, 1);
	assert_result(m[0], CHAN_RETRY, "authentication required");
	testsrv_stop(&sv);
	free_msgs(m, 2);
}

/* One refused recipient fails alone; the others of the session arrive. */
static void
test_recipient_refused_alone(void **state)
{
	static const char *const args[] = { "--reject-pattern", "nobody",
		"--tempfail-pattern", "later", NULL };
	struct testsrv sv;
	struct conf cfg;
	struct outbox_msg *m[4];
	json_t *got;

	(void)state;
	start_smtpd(&sv, args);
	conf_for(&cfg, &sv, false);
	m[0] = make_msg(30, "first@example.org");
	m[1] = make_msg(31, "nobody@example.org");
	m[2] = make_msg(32, "later@example.org");
	m[3] = make_msg(33, "last@example.org");
	send_batch(&cfg, m, 4);
	assert_result(m[0], CHAN_SENT, NULL);
	assert_result(m[1], CHAN_FAILED, "recipient refused: 550");
	assert_result(m[2], CHAN_RETRY, "recipient deferred: 450");
	assert_result(m[3], CHAN_SENT, NULL);
	got = parse_received(sv.out);
	testsrv_stop(&sv);
	assert_int_equal(json_array_size(got), 2);
	assert_string_equal(jstr(json_array_get(got, 0), "env_to"),
	    "first@example.org");
	assert_string_equal(jstr(json_array_get(got, 1), "env_to"),
	    "last@example.org");
	json_decref(got);
	free_msgs(m, 4);
}

/* What each done() call saw: the message and the mails received so far. */
struct report_log {
	const char	*outdir;
	long long	 id[8];
	int		 result[8];
	int		 received[8];
	int		 n;
};

static void
on_done(struct outbox_msg *m, void *arg)
{
	struct report_log *rl = arg;

	if (rl->n < 8) {
		rl->id[rl->n] = m->id;
		rl->result[rl->n] = m->result;
		rl->received[rl->n] = testsrv_count(rl->outdir, ".eml");
		rl->n++;
	}
}

/*
 * Each result is reported (chan_report) as soon as the server answered
 * for that message, before the next message goes out, and only once.
 */
static void
test_reported_as_they_go(void **state)
{
	static const char *const args[] = { "--reject-pattern", "nobody",
		NULL };
	struct testsrv sv;
	struct conf cfg;
	struct outbox_msg *m[4];
	struct report_log rl;

	(void)state;
	start_smtpd(&sv, args);
	conf_for(&cfg, &sv, false);
	memset(&rl, 0, sizeof(rl));
	rl.outdir = sv.out;
	m[0] = make_msg(35, "first@example.org");
	m[1] = make_msg(36, "nobody@example.org");
	m[2] = make_msg(37, "x@example.org");
	free(m[2]->dest);
	m[2]->dest = xstrdup("not an address");	/* never queued */
	m[3] = make_msg(38, "last@example.org");
	for (int i = 0; i < 4; i++) {
		m[i]->done = on_done;
		m[i]->done_arg = &rl;
	}
	send_batch(&cfg, m, 4);
	testsrv_stop(&sv);
	assert_int_equal(rl.n, 4);
	/* refused before the session: reported first */
	assert_int_equal(rl.id[0], 37);
	assert_int_equal(rl.result[0], CHAN_FAILED);
	assert_int_equal(rl.received[0], 0);
	assert_int_equal(rl.id[1], 35);
	assert_int_equal(rl.result[1], CHAN_SENT);
	assert_int_equal(rl.received[1], 1);
	assert_int_equal(rl.id[2], 36);
	assert_int_equal(rl.result[2], CHAN_FAILED);
	assert_int_equal(rl.received[2], 1);
	assert_int_equal(rl.id[3], 38);
	assert_int_equal(rl.result[3], CHAN_SENT);
	assert_int_equal(rl.received[3], 2);
	for (int i = 0; i < 4; i++)
		assert_true(m[i]->reported);
	free_msgs(m, 4);
}

/* What each gate call saw, and when the gate says no. */
struct gate_log {
	struct report_log	 rl;		/* the done() calls */
	int			 calls;
	int			 received[8];	/* mails at each gate call */
	int			 reported[8];	/* done() calls by then */
	int			 refuse_at;	/* this call returns false */
	int			 arrived;	/* mails at the end */
	int			 result[3];	/* of the three messages */
};

static void
on_gate_done(struct outbox_msg *m, void *arg)
{
	on_done(m, &((struct gate_log *)arg)->rl);
}

static bool
on_gate(void *arg)
{
	struct gate_log *g = arg;

	if (g->calls < 8) {
		g->received[g->calls] = testsrv_count(g->rl.outdir, ".eml");
		g->reported[g->calls] = g->rl.n;
	}
	return ++g->calls != g->refuse_at;
}

static void
send_gated(struct gate_log *g, int refuse_at)
{
	struct testsrv sv;
	struct conf cfg;
	struct outbox_msg *m[3];

	start_smtpd(&sv, NULL);
	conf_for(&cfg, &sv, false);
	memset(g, 0, sizeof(*g));
	g->rl.outdir = sv.out;
	g->refuse_at = refuse_at;
	for (int i = 0; i < 3; i++) {
		m[i] = make_msg(61 + i, "a@example.org");
		m[i]->done = on_gate_done;
		m[i]->done_arg = g;
		m[i]->gate = on_gate;
	}
	send_batch(&cfg, m, 3);
	g->arrived = testsrv_count(sv.out, ".eml");
	testsrv_stop(&sv);
	for (int i = 0; i < 3; i++)
		g->result[i] = m[i]->result;
	free_msgs(m, 3);
}

/*
 * A message's gate is called once, right before its final dot: the
 * messages before it are received and reported, it is not received yet.
 * A gate that says no drops the connection: that message never arrives,
 * and it and the rest are to be retried.
 */
static void
test_gate(void **state)
{
	struct gate_log g;

	(void)state;
	send_gated(&g, 0);
	assert_int_equal(g.calls, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(g.received[i], i);
		assert_int_equal(g.reported[i], i);
		assert_int_equal(g.result[i], CHAN_SENT);
	}
	assert_int_equal(g.arrived, 3);

	send_gated(&g, 2);
	assert_int_equal(g.calls, 2);
	assert_int_equal(g.result[0], CHAN_SENT);
	assert_int_equal(g.result[1], CHAN_RETRY);
	assert_int_equal(g.result[2], CHAN_RETRY);
	assert_int_equal(g.arrived, 1);
}

/* Replies to the DATA dot: 451 retried, 554 failed, the rest sent. */
static void
test_data_replies(void **state)
{
	static const char *const args[] = { "--data-tempfail-pattern",
		"d41.test@", "--data-reject-pattern", "d42.test@", NULL };
	struct testsrv sv;
	struct conf cfg;
	struct outbox_msg *m[3];

	(void)state;
	start_smtpd(&sv, args);
	conf_for(&cfg, &sv, false);
	m[0] = make_msg(41, "a@example.org");
	m[1] = make_msg(42, "b@example.org");
	m[2] = make_msg(43, "c@example.org");
	send_batch(&cfg, m, 3);
	assert_result(m[0], CHAN_RETRY, "message deferred: 451");
	assert_result(m[1], CHAN_FAILED, "message refused: 554");
	assert_result(m[2], CHAN_SENT, NULL);
	assert_int_equal(testsrv_count(sv.out, ".eml"), 1);
	testsrv_stop(&sv);
	free_msgs(m, 3);
}

/* A dropped connection: sent ones stay sent, the rest retried. */
static void
test_connection_dropped(void **state)
{
	static const char *const args[] = { "--drop-pattern", "d52.test@",
		NULL };
	struct testsrv sv;
	struct conf cfg;
	struct outbox_msg *m[3];

	(void)state;
	start_smtpd(&sv, args);
	conf_for(&cfg, &sv, false);
	m[0] = make_msg(51, "a@example.org");
	m[1] = make_msg(52, "b@example.org");
	m[2] = make_msg(53, "c@example.org");
	send_batch(&cfg, m, 3);
	assert_result(m[0], CHAN_SENT, NULL);
	assert_result(m[1], CHAN_RETRY, "may have been delivered");
	assert_result(m[2], CHAN_RETRY, "smtp 'localhost:");
	assert_int_equal(testsrv_count(sv.out, ".eml"), 1);
	testsrv_stop(&sv);
	free_msgs(m, 3);
}

/* A server that never answers the DATA dot: retried after the timeout. */
static void
test_timeout(void **state)
{
	static const char *const args[] = { "--hang-pattern", "d61.test@",
		NULL };
	struct testsrv sv;
	struct conf cfg;
	struct outbox_msg *m[1];
	time_t t0;

	(void)state;
	start_smtpd(&sv, args);
	conf_for(&cfg, &sv, false);
	cfg.smtp.timeout = 2;
	m[0] = make_msg(61, "a@example.org");
	t0 = time(NULL);
	send_batch(&cfg, m, 1);
	assert_result(m[0], CHAN_RETRY, "smtp 'localhost:");
	assert_true(time(NULL) - t0 <= 8);
	testsrv_stop(&sv);
	free_msgs(m, 1);
}

/* Nothing listens: retried at once, the reason named. */
static void
test_server_down(void **state)
{
	struct conf cfg;
	struct outbox_msg *m[2];

	(void)state;
	skip_if_needed();
	conf_for(&cfg, NULL, false);
	m[0] = make_msg(70, "a@example.org");
	m[1] = make_msg(71, "b@example.org");
	send_batch(&cfg, m, 2);
	assert_result(m[0], CHAN_RETRY, "Connection refused");
	assert_result(m[1], CHAN_RETRY, "Connection refused");
	free_msgs(m, 2);
}

/* Untrusted certificate, wrong host name, no STARTTLS: retried. */
static void
test_certificate_errors(void **state)
{
	const char *good[] = { "--tls", E.cert, E.key, NULL };
	const char *other[] = { "--tls", E.other, E.other_key, NULL };
	static const char *const plain[] = { NULL };
	struct testsrv sv;
	struct conf cfg;
	struct outbox_msg *m[1];

	(void)state;
	m[0] = make_msg(80, "a@example.org");
	start_smtpd(&sv, good);			/* trusting the wrong CA */
	conf_for(&cfg, &sv, true);
	cfg.smtp.ca_file = E.other;
	send_batch(&cfg, m, 1);
	assert_result(m[0], CHAN_RETRY,
	    "TLS certificate rejected: self-signed certificate");
	assert_int_equal(testsrv_count(sv.out, ".eml"), 0);
	testsrv_stop(&sv);

	start_smtpd(&sv, other);		/* trusted, not for localhost */
	conf_for(&cfg, &sv, true);
	cfg.smtp.ca_file = E.other;
	send_batch(&cfg, m, 1);
	assert_result(m[0], CHAN_RETRY, "TLS certificate rejected: "
	    "hostname mismatch (it is not valid for 'localhost')");
	assert_int_equal(testsrv_count(sv.out, ".eml"), 0);
	/* tls_verify = false accepts it (and says so nowhere) */
	cfg.smtp.tls_verify = false;
	send_batch(&cfg, m, 1);
	assert_result(m[0], CHAN_SENT, NULL);
	testsrv_stop(&sv);

	start_smtpd(&sv, plain);		/* no STARTTLS offered */
	conf_for(&cfg, &sv, true);
	send_batch(&cfg, m, 1);
	assert_result(m[0], CHAN_RETRY, "does not offer STARTTLS");
	assert_int_equal(testsrv_count(sv.out, ".eml"), 0);
	testsrv_stop(&sv);
	free_msgs(m, 1);
}

/* An IP address as host: verified against the IP SAN (libESMTP can't). */
static void
test_ip_address_host(void **state)
{
	const char *args[] = { "--tls", E.cert, E.key, "--require-tls",
		"--env-extra", NULL };
	struct testsrv sv;
	struct conf cfg;
	struct outbox_msg *m[1];
	json_t *got;

	(void)state;
	start_smtpd(&sv, args);
	conf_for(&cfg, &sv, true);
	cfg.smtp.host = "127.0.0.1";
	m[0] = make_msg(90, "a@example.org");
	send_batch(&cfg, m, 1);
	assert_result(m[0], CHAN_SENT, NULL);
	got = parse_received(sv.out);
	assert_string_equal(jstr(json_array_get(got, 0), "env_sni"), "none");
	json_decref(got);
	testsrv_stop(&sv);
	free_msgs(m, 1);
}

/*
 * The libESMTP TLS 1.3 stall (DEPENDENCIES.md 2): 100 consecutive
 * STARTTLS sessions against a server sending TLS 1.3 tickets (aiosmtpd's
 * default) must all deliver, over TLS 1.3, each well under the timeout.
 */
static void
test_tls13_hundred_sessions(void **state)
{
	const char *args[] = { "--tls", E.cert, E.key, "--require-tls",
		"--env-extra", NULL };
	struct testsrv sv;
	struct conf cfg;
	struct outbox_msg *m[1];
	struct timespec t0, t1;
	double worst = 0, total;
	char err[256];
	void *st;
	json_t *got;

	(void)state;
	start_smtpd(&sv, args);
	conf_for(&cfg, &sv, true);
	cfg.smtp.timeout = 20;
	st = chan_smtp.open(&cfg, err, sizeof(err));
	assert_non_null(st);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 100; i++) {
		struct timespec a, b;
		double s;

		m[0] = make_msg(1000 + i, "a@example.org");
		clock_gettime(CLOCK_MONOTONIC, &a);
		chan_smtp.send(st, m, 1);
		clock_gettime(CLOCK_MONOTONIC, &b);
		s = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
		worst = s > worst ? s : worst;
		assert_result(m[0], CHAN_SENT, NULL);
		free_msgs(m, 1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	chan_smtp.close(st);
	total = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("100 STARTTLS sessions: %.2f s, slowest %.3f s\n", total,
	    worst);
	assert_true(worst < 5.0);
	got = parse_received(sv.out);
	testsrv_stop(&sv);
	assert_int_equal(json_array_size(got), 100);
	for (size_t i = 0; i < 100; i++) {
		json_t *msg = json_array_get(got, i);

		assert_string_equal(jstr(msg, "env_tls"), "TLSv1.3");
		if (i > 0)	/* a session of its own each */
			assert_string_not_equal(jstr(msg, "env_session"),
			    jstr(json_array_get(got, i - 1), "env_session"));
	}
	json_decref(got);
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* n small messages, one recipient each (u<i>@example.org), id i;
   free_msgs and free the array after. */
static struct outbox_msg **
plain_msgs(int n)
{
	struct outbox_msg **m = xcalloc((size_t)n, sizeof(*m));

	for (int i = 0; i < n; i++) {
		m[i] = xcalloc(1, sizeof(*m[i]));
		m[i]->id = i;
		m[i]->dest = xasprintf("u%d@example.org", i);
		m[i]->body = xasprintf("Subject: %d\r\nMessage-ID: <%d@t>\r\n"
		    "\r\nhi\r\n", i, i);
		m[i]->body_len = strlen(m[i]->body);
	}
	return m;
}

/* The messages of got came in sessions of per: a new one every per. */
static void
assert_sessions_of(json_t *got, int per)
{
	for (size_t i = 1; i < json_array_size(got); i++) {
		const char *a = jstr(json_array_get(got, i - 1), "env_session");
		const char *b = jstr(json_array_get(got, i), "env_session");

		if (i % (size_t)per == 0)
			assert_string_not_equal(a, b);
		else
			assert_string_equal(a, b);
	}
}

/*
 * A big batch: 1002 messages go out in sessions of SMTP_SESSION_MAX (so
 * libESMTP's per-message memory stays bounded), all delivered.  And 400
 * messages of about 8 KB take under 5.5 s (about 1 s here): without
 * TCP_NODELAY each one waited 40 ms for a delayed ACK on loopback, 6 s.
 */
static void
test_big_batches(void **state)
{
	static const char *const args[] = { "--env-extra", NULL };
	/* BIG messages over 2 KiB: with Nagle's 40 ms per message that is
	   16 s, without it about 2 s; 10 s tells them apart under load */
	enum { N = 1002, BIG = 400 };
	struct testsrv sv;
	struct conf cfg;
	struct outbox_msg **m;
	struct timespec t0;
	struct buf text;
	json_t *got;
	double s;

	(void)state;
	start_smtpd(&sv, args);
	conf_for(&cfg, &sv, false);
	m = plain_msgs(N);
	send_batch(&cfg, m, N);
	for (int i = 0; i < N; i++)
		assert_result(m[i], CHAN_SENT, NULL);
	got = parse_received(sv.out);
	assert_int_equal(json_array_size(got), N);
	assert_sessions_of(got, SMTP_SESSION_MAX);
	json_decref(got);

	buf_init(&text);
	for (int k = 0; k < 100; k++)
		buf_printf(&text, "%d. A title about video generation, Grüße "
		    "https://arxiv.org/abs/2502.%05d\n", k, k);
	for (int i = 0; i < BIG; i++) {
		free(m[i]->body);
		m[i]->body = xasprintf("Subject: %d\r\n\r\n%s", i, text.data);
		m[i]->body_len = strlen(m[i]->body);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	send_batch(&cfg, m, BIG);
	s = seconds_since(&t0);
	print_message("%d messages of %zu bytes: %.2f s\n", BIG,
	    m[0]->body_len, s);
	assert_true(m[0]->body_len > 7000);
	assert_true(s < 10.0);
	for (int i = 0; i < BIG; i++)
		assert_result(m[i], CHAN_SENT, NULL);
	testsrv_stop(&sv);
	buf_release(&text);
	free_msgs(m, N);
	free(m);
}

/*
 * send_more's feed: chunks of messages handed out one after the other;
 * each call checks that everything handed out before was reported.
 */
struct feed {
	struct outbox_msg	**m;
	size_t			 n;
	size_t			 chunk;
	size_t			 next;		/* first not handed out */
	int			 calls;
	bool			 unreported;	/* more() came too early */
};

static size_t
feed_more(void *arg, const char *name, struct outbox_msg *const **msgs)
{
	struct feed *f = arg;
	size_t k;

	assert_string_equal(name, "smtp");
	f->calls++;
	for (size_t i = 0; i < f->next; i++)
		if (!f->m[i]->reported)
			f->unreported = true;
	k = f->n - f->next < f->chunk ? f->n - f->next : f->chunk;
	*msgs = f->m + f->next;
	f->next += k;
	return k;
}

static void
feed_send(const struct conf *cfg, struct feed *f)
{
	char err[256] = "";
	void *st = chan_smtp.open(cfg, err, sizeof(err));
	size_t k = f->n < f->chunk ? f->n : f->chunk;

	if (st == NULL)
		fail_msg("open: %s", err);
	f->next = k;
	chan_smtp.send_more(st, f->m, k, feed_more, f);
	chan_smtp.close(st);
}

/*
 * send_more: one session carries the messages handed out chunk after
 * chunk, each reported before the next chunk is asked for; a refused
 * recipient, a refused message and a chunk that cannot be queued at all
 * do not end the session.
 */
static void
test_send_more_one_session(void **state)
{
	static const char *const args[] = { "--env-extra", "--reject-pattern",
		"nobody", "--data-reject-pattern", "d69.test@", NULL };
	enum { N = 13 };
	struct testsrv sv;
	struct conf cfg;
	struct outbox_msg *m[N];
	struct feed f = { .m = m, .n = N, .chunk = 3 };
	json_t *got;

	(void)state;
	start_smtpd(&sv, args);
	conf_for(&cfg, &sv, false);
	for (int i = 0; i < N; i++)
		m[i] = make_msg(60 + i, i == 4 ? "nobody@example.org" :
		    "u@example.org");
	/* the third chunk (6, 7, 8) cannot be queued at all */
	for (int i = 6; i < 9; i++) {
		free(m[i]->dest);
		m[i]->dest = xstrdup("not an address");
	}
	feed_send(&cfg, &f);
	/* chunks of 3 after the first: 3, 3, 3, 1, then nothing */
	assert_int_equal(f.calls, 5);
	assert_false(f.unreported);
	for (int i = 0; i < N; i++) {
		assert_true(m[i]->reported);
		if (i == 4)
			assert_result(m[i], CHAN_FAILED, "recipient refused");
		else if (i == 9)
			assert_result(m[i], CHAN_FAILED, "message refused: 554");
		else if (i >= 6 && i < 9)
			assert_result(m[i], CHAN_FAILED, "invalid recipient");
		else
			assert_result(m[i], CHAN_SENT, NULL);
	}
	got = parse_received(sv.out);
	testsrv_stop(&sv);
	assert_int_equal(json_array_size(got), N - 5);
	assert_sessions_of(got, N);		/* one */
	json_decref(got);
	free_msgs(m, N);
}

/*
 * A refused recipient as the last message of a chunk: libESMTP sends DATA
 * anyway, the server refuses the command, and libESMTP ends the session
 * before it would ask for more. send_more then opens a new session for
 * the next chunk: everything is judged once, the refused message failed,
 * the rest sent, in two sessions.
 */
static void
test_send_more_refused_last(void **state)
{
	static const char *const args[] = { "--env-extra", "--reject-pattern",
		"nobody", NULL };
	enum { N = 6 };
	struct testsrv sv;
	struct conf cfg;
	struct outbox_msg *m[N];
	struct feed f = { .m = m, .n = N, .chunk = 3 };
	json_t *got;

	(void)state;
	start_smtpd(&sv, args);
	conf_for(&cfg, &sv, false);
	for (int i = 0; i < N; i++)
		m[i] = make_msg(80 + i, i == 2 ? "nobody@example.org" :
		    "u@example.org");
	feed_send(&cfg, &f);
	assert_false(f.unreported);
	for (int i = 0; i < N; i++) {
		assert_true(m[i]->reported);
		if (i == 2)
			assert_result(m[i], CHAN_FAILED, "recipient refused");
		else
			assert_result(m[i], CHAN_SENT, NULL);
	}
	got = parse_received(sv.out);
	testsrv_stop(&sv);
	assert_int_equal(json_array_size(got), N - 1);
	assert_string_equal(jstr(json_array_get(got, 0), "env_session"),
	    jstr(json_array_get(got, 1), "env_session"));
	assert_string_not_equal(jstr(json_array_get(got, 1), "env_session"),
	    jstr(json_array_get(got, 2), "env_session"));
	assert_string_equal(jstr(json_array_get(got, 2), "env_session"),
	    jstr(json_array_get(got, 4), "env_session"));
	json_decref(got);
	free_msgs(m, N);
}

/*
 * send_more starts a new session only after SMTP_SESSION_MAX messages:
 * SMTP_SESSION_MAX + 5 handed out 50 at a time arrive in two.
 */
static void
test_send_more_session_max(void **state)
{
	static const char *const args[] = { "--env-extra", NULL };
	enum { N = SMTP_SESSION_MAX + 5 };
	struct testsrv sv;
	struct conf cfg;
	struct outbox_msg **m = plain_msgs(N);
	struct feed f = { .m = m, .n = N, .chunk = 50 };
	json_t *got;

	(void)state;
	start_smtpd(&sv, args);
	conf_for(&cfg, &sv, false);
	feed_send(&cfg, &f);
	assert_false(f.unreported);
	for (int i = 0; i < N; i++)
		assert_result(m[i], CHAN_SENT, NULL);
	got = parse_received(sv.out);
	testsrv_stop(&sv);
	assert_int_equal(json_array_size(got), N);
	assert_sessions_of(got, SMTP_SESSION_MAX);	/* N < 2 sessions' worth */
	json_decref(got);
	free_msgs(m, N);
	free(m);
}

/* The raw bytes after the header/body blank line of the N-th .eml. */
static char *
received_body(const char *dir, int n, size_t *len)
{
	char path[PATH_MAX + 16], *all, *p;
	struct buf b;
	char err[256];

	snprintf(path, sizeof(path), "%s/%05d.eml", dir, n);
	buf_init(&b);
	if (file_read_all(path, 1 << 22, &b, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	all = buf_detach(&b);
	if ((p = strstr(all, "\r\n\r\n")) == NULL)
		fail_msg("%s: no header/body separator", path);
	p += 4;
	*len = strlen(p);
	memmove(all, p, *len + 1);
	return all;
}

/*
 * The socket is corked while a body is handed to libESMTP and must be
 * uncorked before libESMTP waits for the reply: one left corked costs
 * the kernel's 200 ms cork timer per message.  Bodies of 40 KB (many of
 * libESMTP's 2 KB writes, lines that need dot-stuffing) arrive byte for
 * byte; 20 one-message sessions and a session of 20 messages, plain and
 * over STARTTLS (TLS 1.3 with tickets), stay far below 20 x 200 ms.
 */
static void
test_body_cork(void **state)
{
	const char *plain[] = { "--env-extra", NULL };
	const char *tls[] = { "--tls", E.cert, E.key, "--require-tls",
		"--env-extra", NULL };
	enum { K = 20 };
	struct outbox_msg *m[K];
	struct buf body;
	int got = 0;

	(void)state;
	buf_init(&body);
	buf_adds(&body, "From: a@example.org\r\nTo: b@example.org\r\n"
	    "Date: Thu, 28 Nov 2024 00:00:00 +0000\r\nMessage-ID: <c@t>\r\n"
	    "Subject: cork\r\n\r\n");
	for (int k = 0; body.len < 40000; k++)
		buf_printf(&body, "%s%d the quick brown fox jumps over the lazy "
		    "dog, Gr\xc3\xbc\xc3\x9f" "e\r\n", k % 7 == 0 ? "." : "", k);
	buf_adds(&body, ".\r\n..\r\nend\r\n");
	for (int pass = 0; pass < 2; pass++) {
		struct testsrv sv;
		struct conf cfg;
		struct timespec t0;
		double one, batch;

		start_smtpd(&sv, pass == 0 ? plain : tls);
		conf_for(&cfg, &sv, pass == 1);
		for (int i = 0; i < K; i++) {
			m[i] = xcalloc(1, sizeof(*m[i]));
			m[i]->id = i;
			m[i]->dest = xasprintf("u%d@example.org", i);
			m[i]->body = xstrdup(body.data);
			m[i]->body_len = body.len;
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < K; i++)
			send_batch(&cfg, &m[i], 1);
		one = seconds_since(&t0);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		send_batch(&cfg, m, K);
		batch = seconds_since(&t0);
		print_message("%s: %d one-message sessions %.2f s, one session "
		    "of %d %.2f s (%zu bytes each)\n", pass ? "STARTTLS" :
		    "plain", K, one, K, batch, body.len);
		for (int i = 0; i < K; i++)
			assert_result(m[i], CHAN_SENT, NULL);
		testsrv_stop(&sv);
		for (int i = 1; i <= 2 * K; i++) {
			size_t len;
			char *b = received_body(sv.out, i, &len);
			const char *want = strstr(body.data, "\r\n\r\n") + 4;

			assert_int_equal(len, strlen(want));
			assert_memory_equal(b, want, len);
			free(b);
			got++;
		}
		assert_int_equal(testsrv_count(sv.out, ".eml"), 2 * K);
		/* left corked to the timer: K x 0.2 s = 4 s more in each */
		if (pass == 0)
			assert_true(one < 3.5);
		assert_true(batch < 2.5);
		free_msgs(m, K);
	}
	assert_int_equal(got, 4 * K);
	buf_release(&body);
}

/* Read a whole small file into a NUL-terminated string. */
static char *
slurp(const char *path)
{
	struct buf b;
	char err[256];

	buf_init(&b);
	if (file_read_all(path, 1 << 20, &b, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return b.data != NULL ? buf_detach(&b) : xstrdup("");
}

/*
 * The debug trace shows the dialogue but never the credentials: the AUTH
 * exchange (user and password, base64) is redacted.  A body with bare LF
 * line ends still arrives intact (converted to CRLF).
 */
static void
test_debug_trace_redacts_auth(void **state)
{
	const char *args[] = { "--tls", E.cert, E.key, "--require-tls",
		"--auth", "alice:" PASSWORD, NULL };
	static const char *const secrets[] = { PASSWORD, "czNjcmV0LVBhNTU=",
		"AGFsaWNlAHMzY3JldC1QYTU1", "YWxpY2U=" };
	struct testsrv sv;
	struct conf cfg;
	struct outbox_msg *m[1];
	char path[PATH_MAX], *log, *p;
	json_t *got;
	int fd;

	(void)state;
	start_smtpd(&sv, args);
	conf_for(&cfg, &sv, true);
	cfg.smtp.user = "alice";
	cfg.smtp.password = PASSWORD;
	m[0] = make_msg(95, "Jürgen Müller <jm@example.org>");
	for (p = m[0]->body; (p = strstr(p, "\r\n")) != NULL;)
		memmove(p, p + 1, strlen(p));		/* CRLF -> LF */
	m[0]->body_len = strlen(m[0]->body);
	snprintf(path, sizeof(path), "%s/trace.log", E.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	log_set_fd(fd);
	log_set_level(LOG_LVL_DEBUG);
	send_batch(&cfg, m, 1);
	log_set_level(LOG_LVL_INFO);
	log_set_fd(2);
	close(fd);
	assert_result(m[0], CHAN_SENT, NULL);
	got = parse_received(sv.out);
	testsrv_stop(&sv);
	check_message(json_array_get(got, 0), "jm@example.org", "Jürgen Müller");
	json_decref(got);
	log = slurp(path);
	assert_non_null(strstr(log, "> EHLO paperwatch.test"));
	assert_non_null(strstr(log, "> STARTTLS"));
	assert_non_null(strstr(log, "TLS 1.3: NOOP -> 250"));
	assert_non_null(strstr(log, "> AUTH [redacted]"));
	assert_non_null(strstr(log, "< 235"));
	assert_non_null(strstr(log, "> MAIL FROM:<digest@example.org>"));
	assert_non_null(strstr(log, "> RCPT TO:<jm@example.org>"));
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (strstr(log, secrets[i]) != NULL)
			fail_msg("the trace shows '%s'", secrets[i]);
	assert_null(strstr(log, "Subject:"));	/* no message text */
	free(log);
	free_msgs(m, 1);
}

/* Bad input is refused before anything is sent. */
static void
test_open_errors(void **state)
{
	struct conf cfg;
	char err[256];

	(void)state;
	conf_for(&cfg, NULL, true);
	cfg.smtp.host = NULL;
	assert_null(chan_smtp.open(&cfg, err, sizeof(err)));
	assert_string_equal(err, "smtp: no host configured");
	conf_for(&cfg, NULL, true);
	cfg.smtp.from = "not an address";
	assert_null(chan_smtp.open(&cfg, err, sizeof(err)));
	assert_string_equal(err, "smtp: invalid 'from' address");
	conf_for(&cfg, NULL, true);
	cfg.smtp.ca_file = "/nonexistent/ca.pem";
	assert_null(chan_smtp.open(&cfg, err, sizeof(err)));
	assert_string_equal(err, "smtp: cannot load CA file "
	    "'/nonexistent/ca.pem'");
	conf_for(&cfg, NULL, false);
	cfg.smtp.user = "alice";
	assert_null(chan_smtp.open(&cfg, err, sizeof(err)));
	assert_string_equal(err, "smtp: user set but no password "
	    "(password_file)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_plain_three_in_one_session),
		cmocka_unit_test(test_starttls_auth),
		cmocka_unit_test(test_auth_failure),
		cmocka_unit_test(test_recipient_refused_alone),
		cmocka_unit_test(test_reported_as_they_go),
		cmocka_unit_test(test_data_replies),
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_connection_dropped),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_server_down),
		cmocka_unit_test(test_certificate_errors),
		cmocka_unit_test(test_ip_address_host),
		cmocka_unit_test(test_debug_trace_redacts_auth),
		cmocka_unit_test(test_big_batches),
		cmocka_unit_test(test_send_more_one_session),
		cmocka_unit_test(test_send_more_refused_last),
		cmocka_unit_test(test_send_more_session_max),
		cmocka_unit_test(test_body_cork),
		cmocka_unit_test(test_tls13_hundred_sessions),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
