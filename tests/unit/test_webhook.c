/*
 * test_webhook.c: the webhook channel against a real HTTP receiver
 * (tests/servers/webhookd.py) on 127.0.0.1 that records every request and
 * answers as scripted.  Skipped, with a message, without /usr/bin/python3.
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
#include "feeds/util.h"
#include "testsrv.h"

#define PAYLOAD	"{\"title\":\"Papers für dich 🎉\",\"message\":\"1. A paper\"}"
#define SECRET_PATH	"hook-SECRETPATH-42"

static char *dir;		/* temporary directory */
static const char *skip_why;
static int nserv;

static int
group_setup(void **state)
{
	(void)state;
	if (!testsrv_python_has("http.server")) {
		skip_why = "needs /usr/bin/python3";
		return 0;
	}
	dir = testsrv_tmpdir("webhook");
	return dir != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	testsrv_stop_all();
	testsrv_rmrf(dir);
	free(dir);
	return 0;
}

static void
start(struct testsrv *sv, const char *const *args)
{
	char name[32];

	if (skip_why != NULL) {
		print_message("skipped: %s\n", skip_why);
		skip();
	}
	snprintf(name, sizeof(name), "webhookd%d", ++nserv);
	if (testsrv_start(sv, dir, name, "webhookd.py", args) < 0)
		fail_msg("webhookd.py did not start, see %s", sv->log);
}

/* One subscription "video-gen" with the given webhooks. */
struct fixture {
	struct conf		 cfg;
	struct conf_sub		 sub;
	struct conf_webhook	 wh[4];
	char			 url[4][512];
};

static void
fixture_init(struct fixture *f, size_t n)
{
	memset(f, 0, sizeof(*f));
	f->sub.name = "video-gen";
	f->sub.webhooks = f->wh;
	f->sub.n_webhooks = n;
	f->cfg.subs = &f->sub;
	f->cfg.n_subs = 1;
	f->cfg.fetch_timeout = 10;
	f->cfg.user_agent = "paperwatch-test/1.0";
	for (size_t i = 0; i < n; i++)
		f->wh[i].url = f->url[i];
}

static void
set_url(struct fixture *f, size_t i, const struct testsrv *sv,
    const char *path)
{
	snprintf(f->url[i], sizeof(f->url[i]), "http://127.0.0.1:%d%s",
	    sv != NULL ? sv->port : testsrv_free_port(), path);
}

static struct outbox_msg
make_msg(const char *dest, const char *body)
{
	struct outbox_msg m;

	memset(&m, 0, sizeof(m));
	m.id = 7;
	m.channel = "webhook";
	m.dest = (char *)dest;
	m.subscription = "video-gen";
	m.digest_id = "d7";
	m.body = (char *)body;
	m.body_len = strlen(body);
	m.result = CHAN_FAILED;
	return m;
}

static void
send_one(struct fixture *f, struct outbox_msg *m)
{
	char err[256] = "";
	struct outbox_msg *v[1] = { m };
	void *st = chan_webhook.open(&f->cfg, err, sizeof(err));

	if (st == NULL)
		fail_msg("open: %s", err);
	chan_webhook.send(st, v, 1);
	chan_webhook.close(st);
}

static void
assert_result(const struct outbox_msg *m, enum chan_result r,
    long long after, const char *err_part)
{
	if (m->result != r || m->retry_after != after)
		fail_msg("result %d retry_after %lld, want %d %lld (err '%s')",
		    m->result, m->retry_after, r, after, m->err);
	if (err_part == NULL)
		assert_string_equal(m->err, "");
	else if (strstr(m->err, err_part) == NULL)
		fail_msg("err '%s' lacks '%s'", m->err, err_part);
	/* secrets never reach err */
	assert_null(strstr(m->err, SECRET_PATH));
	assert_null(strstr(m->err, "127.0.0.1"));
	assert_null(strstr(m->err, "tok-secret"));
}

/* Request number n (1-based) the server recorded. */
static json_t *
record(const struct testsrv *sv, int n)
{
	char path[PATH_MAX + 32];
	json_error_t je;
	json_t *j;

	snprintf(path, sizeof(path), "%s/%05d.json", sv->out, n);
	j = json_load_file(path, 0, &je);
	if (j == NULL)
		fail_msg("%s: %s", path, je.text);
	return j;
}

static const char *
jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "(null)";
}

/* The value of request header name (case-insensitive), or "(none)". */
static const char *
header(json_t *rec, const char *name)
{
	json_t *h = json_object_get(rec, "headers"), *pair;
	size_t i;

	json_array_foreach(h, i, pair) {
		if (strcasecmp(json_string_value(json_array_get(pair, 0)),
		    name) == 0)
			return json_string_value(json_array_get(pair, 1));
	}
	return "(none)";
}

/* 429 with Retry-After: 2, then 500, then 200: retry(2), retry, sent. */
static void
test_retry_then_sent(void **state)
{
	static const char *const args[] = { "--respond", "429:2",
		"--respond", "500", NULL };
	struct testsrv sv;
	struct fixture f;
	struct outbox_msg m = make_msg("video-gen#0", PAYLOAD);
	json_t *r;

	(void)state;
	start(&sv, args);
	fixture_init(&f, 1);
	f.wh[0].format = "json";
	set_url(&f, 0, &sv, "/" SECRET_PATH);
	send_one(&f, &m);
	assert_result(&m, CHAN_RETRY, 2, "webhook 'video-gen#0' (json): "
	    "HTTP 429");
	send_one(&f, &m);
	assert_result(&m, CHAN_RETRY, 0, "HTTP 500");
	send_one(&f, &m);
	assert_result(&m, CHAN_SENT, 0, NULL);
	testsrv_stop(&sv);
	assert_int_equal(testsrv_count(sv.out, ".json"), 3);
	for (int i = 1; i <= 3; i++) {
		r = record(&sv, i);
		assert_string_equal(jstr(r, "method"), "POST");
		assert_string_equal(jstr(r, "path"), "/" SECRET_PATH);
		assert_string_equal(jstr(r, "body"), PAYLOAD);	/* identical */
		assert_string_equal(header(r, "Content-Type"),
		    "application/json");
		assert_string_equal(header(r, "User-Agent"),
		    "paperwatch-test/1.0");
		json_decref(r);
	}
}

/* Discord: ?wait=true (also after a query), allowed_mentions added. */
static void
test_discord(void **state)
{
	static const char *const args[] = { "--respond",
		"{\"status\": 400, \"body\": \"{\\\"message\\\": \\\"Invalid "
		"Form Body\\\", \\\"code\\\": 50035}\"}", NULL };
	struct testsrv sv;
	struct fixture f;
	struct outbox_msg m = make_msg("video-gen#1",
	    "{\"content\":\"hi @everyone\"}");
	json_t *r, *body;

	(void)state;
	start(&sv, args);
	fixture_init(&f, 2);
	f.wh[1].format = "discord";
	set_url(&f, 1, &sv, "/api/webhooks/1/" SECRET_PATH);
	send_one(&f, &m);		/* a rejected message is an error */
	assert_result(&m, CHAN_FAILED, 0, "(discord): HTTP 400: "
	    "{\"message\": \"Invalid Form Body\", \"code\": 50035}");
	set_url(&f, 1, &sv, "/api/webhooks/1/" SECRET_PATH "?thread_id=5");
	m.body = "{\"content\":\"x\",\"allowed_mentions\":{\"parse\":[\"users\"]}}";
	m.body_len = strlen(m.body);
	send_one(&f, &m);
	assert_result(&m, CHAN_SENT, 0, NULL);
	testsrv_stop(&sv);

	r = record(&sv, 1);
	assert_string_equal(jstr(r, "path"), "/api/webhooks/1/" SECRET_PATH
	    "?wait=true");
	body = json_loads(jstr(r, "body"), 0, NULL);
	assert_non_null(body);
	assert_string_equal(jstr(body, "content"), "hi @everyone");
	assert_int_equal(json_array_size(json_object_get(json_object_get(body,
	    "allowed_mentions"), "parse")), 0);
	json_decref(body);
	json_decref(r);
	r = record(&sv, 2);
	assert_string_equal(jstr(r, "path"), "/api/webhooks/1/" SECRET_PATH
	    "?thread_id=5&wait=true");
	/* a payload that sets allowed_mentions itself is left alone */
	assert_string_equal(jstr(r, "body"),
	    "{\"content\":\"x\",\"allowed_mentions\":{\"parse\":[\"users\"]}}");
	json_decref(r);
}

/* Generic JSON with a secret: the receiver verifies the HMAC. */
static void
test_json_hmac(void **state)
{
	static const char *const args[] = { "--hmac-secret", "k3y-secret",
		NULL };
	struct testsrv sv;
	struct fixture f;
	struct outbox_msg m = make_msg("video-gen#0", PAYLOAD);
	json_t *r;
	const char *sig;

	(void)state;
	start(&sv, args);
	fixture_init(&f, 1);
	f.wh[0].format = "json";
	f.wh[0].secret = "k3y-secret";
	set_url(&f, 0, &sv, "/hook");
	send_one(&f, &m);
	assert_result(&m, CHAN_SENT, 0, NULL);
	f.wh[0].secret = "wrong-secret";	/* the receiver says 401 */
	send_one(&f, &m);
	assert_result(&m, CHAN_FAILED, 0, "HTTP 401");
	assert_null(strstr(m.err, "wrong-secret"));
	testsrv_stop(&sv);
	r = record(&sv, 1);
	assert_true(json_is_true(json_object_get(r, "signature_ok")));
	sig = header(r, "X-Paperwatch-Signature");
	assert_int_equal(strlen(sig), 7 + 64);
	assert_true(strncmp(sig, "sha256=", 7) == 0);
	json_decref(r);
	r = record(&sv, 2);
	assert_true(json_is_false(json_object_get(r, "signature_ok")));
	json_decref(r);
}

/* Matrix: PUT with a Bearer token and a stable transaction id. */
static void
test_matrix(void **state)
{
	static const char *const args[] = { "--respond",
		"{\"status\": 429, \"body\": \"{\\\"errcode\\\": "
		"\\\"M_LIMIT_EXCEEDED\\\", \\\"retry_after_ms\\\": 1500}\"}",
		NULL };
	struct testsrv sv;
	struct fixture f;
	struct outbox_msg m = make_msg("video-gen#0",
	    "{\"msgtype\":\"m.text\",\"body\":\"part 1\"}");
	const char *base = "/_matrix/client/v3/rooms/!room:example.org/send/"
	    "m.room.message";
	char p1[256];
	json_t *r;

	(void)state;
	start(&sv, args);
	fixture_init(&f, 1);
	f.wh[0].format = "matrix";
	f.wh[0].token = "tok-secret";
	set_url(&f, 0, &sv, base);
	send_one(&f, &m);		/* 429 with retry_after_ms only */
	assert_result(&m, CHAN_RETRY, 2, "(matrix): HTTP 429");
	send_one(&f, &m);		/* the retry: same transaction */
	assert_result(&m, CHAN_SENT, 0, NULL);
	m.body = "{\"msgtype\":\"m.text\",\"body\":\"part 2\"}";
	m.body_len = strlen(m.body);
	send_one(&f, &m);		/* another part: another transaction */
	assert_result(&m, CHAN_SENT, 0, NULL);
	/* an appservice's ?user_id=: the transaction id goes before it */
	snprintf(p1, sizeof(p1), "%s/?user_id=@bot:example.org", base);
	set_url(&f, 0, &sv, p1);
	send_one(&f, &m);
	assert_result(&m, CHAN_SENT, 0, NULL);
	f.wh[0].token = NULL;
	send_one(&f, &m);
	assert_result(&m, CHAN_FAILED, 0, "needs an access token");
	testsrv_stop(&sv);
	assert_int_equal(testsrv_count(sv.out, ".json"), 4);

	r = record(&sv, 1);
	assert_string_equal(jstr(r, "method"), "PUT");
	assert_string_equal(header(r, "Authorization"), "Bearer tok-secret");
	snprintf(p1, sizeof(p1), "%s", jstr(r, "path"));
	json_decref(r);
	assert_true(strncmp(p1, base, strlen(base)) == 0);
	assert_true(strncmp(p1 + strlen(base), "/pw.d7.", 7) == 0);
	assert_int_equal(strlen(p1 + strlen(base)), 7 + 16);
	r = record(&sv, 2);
	assert_string_equal(jstr(r, "path"), p1);
	json_decref(r);
	r = record(&sv, 3);
	assert_string_not_equal(jstr(r, "path"), p1);
	snprintf(p1, sizeof(p1), "%s?user_id=@bot:example.org",
	    jstr(r, "path"));
	json_decref(r);
	r = record(&sv, 4);		/* the same message: the same txn */
	assert_string_equal(jstr(r, "method"), "PUT");
	assert_string_equal(jstr(r, "path"), p1);
	json_decref(r);
}

/* ntfy: the topic URL becomes the root URL plus "topic" in the JSON. */
static void
test_ntfy(void **state)
{
	struct testsrv sv;
	struct fixture f;
	struct outbox_msg m = make_msg("video-gen#0", PAYLOAD);
	json_t *r, *body;

	(void)state;
	start(&sv, NULL);
	fixture_init(&f, 1);
	f.wh[0].format = "ntfy";
	set_url(&f, 0, &sv, "/papers-42");
	send_one(&f, &m);
	assert_result(&m, CHAN_SENT, 0, NULL);
	set_url(&f, 0, &sv, "/ntfy/alerts?auth=x");
	f.wh[0].token = "tok-secret";
	send_one(&f, &m);
	assert_result(&m, CHAN_SENT, 0, NULL);
	set_url(&f, 0, &sv, "/ntfy/alerts/");	/* a trailing slash */
	send_one(&f, &m);
	assert_result(&m, CHAN_SENT, 0, NULL);
	set_url(&f, 0, &sv, "/");
	send_one(&f, &m);
	assert_result(&m, CHAN_FAILED, 0, "url must end in the topic");
	set_url(&f, 0, &sv, "/alerts");
	m.body = "[1, 2]";		/* the error says why, nothing else */
	m.body_len = strlen(m.body);
	send_one(&f, &m);
	assert_result(&m, CHAN_FAILED, 0, "webhook 'video-gen#0' (ntfy): the "
	    "payload is not a JSON object");
	testsrv_stop(&sv);

	r = record(&sv, 1);
	assert_string_equal(jstr(r, "path"), "/");
	body = json_loads(jstr(r, "body"), 0, NULL);
	assert_string_equal(jstr(body, "topic"), "papers-42");
	assert_string_equal(jstr(body, "title"), "Papers für dich 🎉");
	assert_string_equal(header(r, "Authorization"), "(none)");
	json_decref(body);
	json_decref(r);
	r = record(&sv, 2);
	assert_string_equal(jstr(r, "path"), "/ntfy/?auth=x");
	body = json_loads(jstr(r, "body"), 0, NULL);
	assert_string_equal(jstr(body, "topic"), "alerts");
	assert_string_equal(header(r, "Authorization"), "Bearer tok-secret");
	json_decref(body);
	json_decref(r);
	r = record(&sv, 3);
	assert_string_equal(jstr(r, "path"), "/ntfy/");
	body = json_loads(jstr(r, "body"), 0, NULL);
	assert_string_equal(jstr(body, "topic"), "alerts");
	json_decref(body);
	json_decref(r);
}

/* The URL shapes check-config holds matrix and ntfy webhooks to. */
static void
test_url_check(void **state)
{
	char err[160];

	(void)state;
	assert_int_equal(webhook_url_check("matrix", "https://m.org/_matrix/"
	    "client/v3/rooms/!r:m.org/send/m.room.message", err,
	    sizeof(err)), 0);
	assert_int_equal(webhook_url_check("matrix", "https://m.org/_matrix/"
	    "client/v3/rooms/!r:m.org/send/m.room.message/?user_id=@b:m.org",
	    err, sizeof(err)), 0);
	assert_int_equal(webhook_url_check("matrix", "https://m.org/_matrix/"
	    "client/v3/rooms/!r:m.org", err, sizeof(err)), -1);
	assert_string_equal(err, "url must end in "
	    "/rooms/ROOM/send/m.room.message");
	assert_int_equal(webhook_url_check("ntfy", "https://ntfy.sh/topic",
	    err, sizeof(err)), 0);
	assert_int_equal(webhook_url_check("ntfy", "https://ntfy.sh/p/topic/"
	    "?auth=x", err, sizeof(err)), 0);
	assert_int_equal(webhook_url_check("ntfy", "https://ntfy.sh/", err,
	    sizeof(err)), -1);
	assert_int_equal(webhook_url_check("ntfy", "https://ntfy.sh?x=1",
	    err, sizeof(err)), -1);
	assert_int_equal(webhook_url_check("slack", "https://hooks.slack.com/"
	    "services/T/B/X", err, sizeof(err)), 0);
	assert_int_equal(webhook_url_check(NULL, "https://x.org/", err,
	    sizeof(err)), 0);
}

/*
 * "SUB#N" names a webhook by its place; the subject's fingerprint makes
 * sure the message goes to the webhook it was made for when the list was
 * edited meanwhile, or to none.
 */
static void
test_moved_webhook(void **state)
{
	struct testsrv sv;
	struct fixture f;
	struct outbox_msg m = make_msg("video-gen#0", PAYLOAD);
	char *subj;
	json_t *r;

	(void)state;
	start(&sv, NULL);
	fixture_init(&f, 2);
	f.wh[0].format = "json";
	set_url(&f, 0, &sv, "/json-hook");
	subj = webhook_subject("json", f.url[0]);
	assert_true(strncmp(subj, "json ", 5) == 0 && strlen(subj) == 5 + 16);
	assert_null(strstr(subj, "json-hook"));
	m.subject = subj;
	/* the json webhook was #0; now a slack one comes first */
	f.wh[1] = f.wh[0];
	snprintf(f.url[1], sizeof(f.url[1]), "%s", f.url[0]);
	f.wh[1].url = f.url[1];
	f.wh[0].format = "slack";
	set_url(&f, 0, &sv, "/slack-hook");
	send_one(&f, &m);
	assert_result(&m, CHAN_SENT, 0, NULL);
	/* its URL changed: no webhook is the one it was made for */
	set_url(&f, 1, &sv, "/json-hook-2");
	send_one(&f, &m);
	assert_result(&m, CHAN_FAILED, 0, "not in the config");
	/* an old row (format only, no fingerprint): by place and format */
	m.subject = "json";
	send_one(&f, &m);
	assert_result(&m, CHAN_FAILED, 0, "not in the config");
	m.subject = "slack";
	send_one(&f, &m);
	assert_result(&m, CHAN_SENT, 0, NULL);
	testsrv_stop(&sv);
	assert_int_equal(testsrv_count(sv.out, ".json"), 2);
	r = record(&sv, 1);
	assert_string_equal(jstr(r, "path"), "/json-hook");
	json_decref(r);
	r = record(&sv, 2);
	assert_string_equal(jstr(r, "path"), "/slack-hook");
	json_decref(r);
	free(subj);
}

/* Errors name the subscription and index, never the URL. */
static void
test_errors(void **state)
{
	static const char *const args[] = { "--respond",
		"{\"status\": 404, \"body\": \"no hook at /" SECRET_PATH "\"}",
		"--respond", "{\"status\": 404, \"body\": \"{\\\"message\\\": "
		"\\\"Unknown webhook k8hrsecrethookid9\\\"}\"}",
		"--respond", "{\"status\": 404, \"body\": \"no such webhooks "
		"service\"}",
		"--respond", "{\"status\": 200, \"delay\": 4}", NULL };
	struct testsrv sv;
	struct fixture f;
	struct outbox_msg m = make_msg("video-gen#0", PAYLOAD);
	time_t t0;

	(void)state;
	start(&sv, args);
	fixture_init(&f, 1);
	f.wh[0].format = "slack";
	set_url(&f, 0, &sv, "/" SECRET_PATH);
	send_one(&f, &m);		/* the excerpt would echo the path */
	assert_result(&m, CHAN_FAILED, 0, "webhook 'video-gen#0' (slack): "
	    "HTTP 404");
	assert_null(strstr(m.err, "SECRETPATH"));
	set_url(&f, 0, &sv, "/api/webhooks/k8hrsecrethookid9");
	send_one(&f, &m);		/* ... or only the hook's id */
	assert_result(&m, CHAN_FAILED, 0, "webhook 'video-gen#0' (slack): "
	    "HTTP 404");
	assert_null(strstr(m.err, "k8hr"));
	send_one(&f, &m);		/* words of the path are no secret */
	assert_result(&m, CHAN_FAILED, 0, "HTTP 404: no such webhooks "
	    "service");
	set_url(&f, 0, &sv, "/" SECRET_PATH);
	f.cfg.fetch_timeout = 1;
	t0 = time(NULL);
	send_one(&f, &m);
	assert_result(&m, CHAN_RETRY, 0, "Timeout was reached");
	assert_true(time(NULL) - t0 <= 3);
	testsrv_stop(&sv);

	set_url(&f, 0, NULL, "/" SECRET_PATH);	/* nothing listens */
	send_one(&f, &m);
	assert_result(&m, CHAN_RETRY, 0, "Couldn't connect to server");
	m.dest = "video-gen#3";
	send_one(&f, &m);
	assert_result(&m, CHAN_FAILED, 0, "webhook 'video-gen#3': not in the "
	    "config");
	m.dest = "other#0";
	send_one(&f, &m);
	assert_result(&m, CHAN_FAILED, 0, "not in the config");
	m.dest = "video-gen#0";
	f.wh[0].format = "discord";
	m.body = "[1, 2]";
	m.body_len = strlen(m.body);
	send_one(&f, &m);
	assert_result(&m, CHAN_FAILED, 0, "not a JSON object");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_then_sent),
		cmocka_unit_test(test_discord),
		cmocka_unit_test(test_json_hmac),
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_ntfy),
		cmocka_unit_test(test_url_check),
		cmocka_unit_test(test_moved_webhook),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
