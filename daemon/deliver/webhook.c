/*
 * webhook.c: the "webhook" channel: posts a rendered JSON payload to the
 * webhook of a subscription with libcurl (one handle per batch, so
 * connections are reused).
 *
 * msg->dest is "SUBSCRIPTION#N": the N-th (0-based) entry of that
 * subscription's webhooks in the config.  The URL and token are secrets:
 * they stay in the config and never reach err (which names the
 * subscription, the index and the format instead).
 *
 * Per format:
 *   discord  POST url?wait=true, so a rejected message is an HTTP error;
 *            allowed_mentions {"parse": []} is added when the payload
 *            lacks it, so paper text can never ping anyone.
 *   matrix   url is ".../rooms/ROOM/send/m.room.message"; PUT to
 *            url/TXN with "Authorization: Bearer TOKEN", TXN derived from
 *            the digest id and the payload's SHA-256, so a retry of the
 *            same message is the same transaction and never posts twice.
 *   ntfy     url is the topic URL (https://ntfy.sh/TOPIC, as users copy
 *            it); the JSON is POSTed to the server root (the URL without
 *            its last path segment) with "topic" added, which is how ntfy
 *            takes JSON (title, tags, click, priority); a token, if set,
 *            is sent as a Bearer token.
 *   json     POST; with a secret, "X-Paperwatch-Signature:
 *            sha256=<hex HMAC-SHA256 of the body>".
 *   slack, mattermost, teams  POST as is.
 * 2xx: sent.  408, 429, 5xx and transport errors: retry, honouring
 * Retry-After (and Matrix's retry_after_ms).  Other statuses: failed.
 */
#include "channel.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/x509.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../feeds/util.h"
#include "../conf.h"

#define WH_REPLY_KEEP		4096	/* response bytes kept for err */
#define WH_RETRY_AFTER_MAX	86400	/* seconds */

struct wh_chan {
	const struct conf	*cfg;	/* borrowed: outlives the channel */
	CURL			*curl;
	long			 timeout_ms;
	char			*user_agent;
};

/* One request being prepared and its answer. */
struct wh_req {
	const struct conf_webhook *wh;
	char			 who[160];	/* "webhook 'sub#0' (discord)" */
	char			*url;		/* a secret */
	const char		*method;	/* "POST" or "PUT" */
	char			*body;		/* when rewritten, else NULL */
	struct curl_slist	*headers;
	struct buf		 reply;		/* first WH_REPLY_KEEP bytes */
	char			 errbuf[CURL_ERROR_SIZE];
};

static enum chan_result
set_result(struct outbox_msg *m, enum chan_result r, long long after,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum chan_result
set_result(struct outbox_msg *m, enum chan_result r, long long after,
    const char *fmt, ...)
{
	va_list ap;

	m->result = r;
	m->retry_after = after;
	m->err[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(m->err, sizeof(m->err), fmt, ap);
		va_end(ap);
	}
	return r;
}

static void	hex(const unsigned char *, size_t, char *);

/* A webhook's format: "json" when the config names none. */
static const char *
format_of(const char *format)
{
	return format != NULL ? format : "json";
}

char *
webhook_subject(const char *format, const char *url)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char h[2 * EVP_MAX_MD_SIZE + 1];
	struct buf b;

	format = format_of(format);
	buf_init(&b);
	buf_printf(&b, "paperwatch webhook\n%s\n%s", format, url ? url : "");
	EVP_Digest(b.data, b.len, md, &mdlen, EVP_sha256(), NULL);
	memset(b.data, 0, b.len);	/* the URL */
	buf_release(&b);
	hex(md, 8, h);
	return xasprintf("%s %s", format, h);
}

/* Is w the webhook a message with this subject was made for? */
static bool
same_webhook(const struct conf_webhook *w, const char *subject)
{
	char *s;
	bool same;

	if (subject == NULL)			/* an old row: by place */
		return true;
	if (strchr(subject, ' ') == NULL)	/* an old row: its format */
		return strcmp(subject, format_of(w->format)) == 0;
	s = webhook_subject(w->format, w->url);
	same = strcmp(s, subject) == 0;
	free(s);
	return same;
}

/*
 * The webhook that "SUB#N" names and the message's subject fingerprints:
 * the N-th, or the one that moved in the list, or NULL when the config no
 * longer has it (removed, or its URL or format changed).
 */
static const struct conf_webhook *
find_webhook(const struct conf *cfg, const char *dest, const char *subject)
{
	const char *hash = dest != NULL ? strrchr(dest, '#') : NULL;
	/* a fingerprint also finds the webhook if it moved in the list */
	bool fp = subject != NULL && strchr(subject, ' ') != NULL;
	char *end;
	long n;

	if (hash == NULL || hash[1] < '0' || hash[1] > '9')
		return NULL;
	n = strtol(hash + 1, &end, 10);
	if (*end != '\0' || n < 0)
		return NULL;
	for (size_t i = 0; i < cfg->n_subs; i++) {
		const struct conf_sub *s = &cfg->subs[i];

		if (strlen(s->name) != (size_t)(hash - dest) ||
		    strncmp(s->name, dest, (size_t)(hash - dest)) != 0)
			continue;
		if ((size_t)n < s->n_webhooks &&
		    same_webhook(&s->webhooks[n], subject))
			return &s->webhooks[n];
		for (size_t k = 0; fp && k < s->n_webhooks; k++)
			if (k != (size_t)n &&
			    same_webhook(&s->webhooks[k], subject))
				return &s->webhooks[k];
		return NULL;
	}
	return NULL;
}

static void
hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Re-serialise body with key set to value when key is missing. */
static char *
json_with(const char *body, const char *key, json_t *value, bool replace)
{
	json_error_t je;
	json_t *j = json_loads(body, 0, &je);
	char *out = NULL;

	if (j != NULL && json_is_object(j)) {
		if (replace || json_object_get(j, key) == NULL)
			json_object_set(j, key, value);
		out = json_dumps(j, JSON_COMPACT);
	}
	json_decref(j);
	json_decref(value);
	return out;
}

static int
prep_discord(struct wh_req *q, const struct outbox_msg *m)
{
	const char *u = q->wh->url;
	const char *qm = strchr(u, '?');

	if (qm != NULL && (strstr(qm, "?wait=") != NULL ||
	    strstr(qm, "&wait=") != NULL))
		q->url = xstrdup(u);
	else
		q->url = xasprintf("%s%swait=true", u, qm != NULL ? "&" : "?");
	q->body = json_with(m->body, "allowed_mentions",
	    json_pack("{s:[]}", "parse"), false);
	return q->body != NULL ? 0 : -1;
}

/* "pw.<digest id, URL-safe>.<16 hex of SHA-256(body)>" */
static char *
matrix_txn(const struct outbox_msg *m)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char h[2 * EVP_MAX_MD_SIZE + 1];
	struct buf b;

	EVP_Digest(m->body, m->body_len, md, &mdlen, EVP_sha256(), NULL);
	hex(md, 8, h);
	buf_init(&b);
	buf_adds(&b, "pw.");
	for (const char *p = m->digest_id != NULL ? m->digest_id : ""; *p &&
	    b.len < 80; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_';

		buf_addc(&b, ok ? c : '_');
	}
	buf_printf(&b, ".%s", h);
	return buf_detach(&b);
}

/* Append "Authorization: Bearer TOKEN" (our copy wiped). */
static void
add_bearer(struct wh_req *q, const char *token)
{
	char *h = xasprintf("Authorization: Bearer %s", token);

	q->headers = curl_slist_append(q->headers, h);
	memset(h, 0, strlen(h));
	free(h);
}

/*
 * Matrix: "https://host/_matrix/client/v3/rooms/ROOM/send/m.room.message
 * [?query]" (an appservice adds ?user_id=...): *base is the length before
 * the query and any trailing '/', *q where the query starts.
 */
static int
matrix_split(const char *u, size_t *base, size_t *q, char *err,
    size_t errlen)
{
	static const char suffix[] = "/send/m.room.message";
	size_t n = strcspn(u, "?#"), k = sizeof(suffix) - 1;

	*q = n;
	while (n > 0 && u[n - 1] == '/')
		n--;
	if (n < k || strncmp(u + n - k, suffix, k) != 0) {
		snprintf(err, errlen, "url must end in "
		    "/rooms/ROOM/send/m.room.message");
		return -1;
	}
	*base = n;
	return 0;
}

/*
 * ntfy: "https://host[/prefix]/TOPIC[/][?query]": the topic is
 * u[*t0, *t1), the query starts at *q.
 */
static int
ntfy_split(const char *u, size_t *t0, size_t *t1, size_t *q, char *err,
    size_t errlen)
{
	const char *scheme = strstr(u, "://"), *path;
	size_t qpos = strcspn(u, "?#"), end = qpos, slash;

	path = scheme != NULL ? strchr(scheme + 3, '/') : NULL;
	if (path == NULL || (size_t)(path - u) >= qpos) {
		snprintf(err, errlen, "url must be the topic URL "
		    "(https://ntfy.sh/TOPIC)");
		return -1;
	}
	while (end > (size_t)(path - u) && u[end - 1] == '/')
		end--;
	for (slash = end; slash > (size_t)(path - u) && u[slash - 1] != '/';
	    slash--)
		;
	if (slash == end) {
		snprintf(err, errlen, "url must end in the topic "
		    "(https://ntfy.sh/TOPIC)");
		return -1;
	}
	*t0 = slash;
	*t1 = end;
	*q = qpos;
	return 0;
}

int
webhook_url_check(const char *format, const char *url, char *err,
    size_t errlen)
{
	size_t a, b, c;

	if (format != NULL && strcmp(format, "matrix") == 0)
		return matrix_split(url, &a, &b, err, errlen);
	if (format != NULL && strcmp(format, "ntfy") == 0)
		return ntfy_split(url, &a, &b, &c, err, errlen);
	return 0;
}

static int
prep_matrix(struct wh_req *q, const struct outbox_msg *m, char *err,
    size_t errlen)
{
	const char *u = q->wh->url;
	size_t n, qpos;
	char *txn;

	if (q->wh->token == NULL) {
		snprintf(err, errlen, "needs an access token (token_file)");
		return -1;
	}
	if (matrix_split(u, &n, &qpos, err, errlen) == -1)
		return -1;
	txn = matrix_txn(m);
	q->url = xasprintf("%.*s/%s%s", (int)n, u, txn, u + qpos);
	free(txn);
	q->method = "PUT";
	add_bearer(q, q->wh->token);
	return 0;
}

/*
 * ntfy: "https://host[/prefix]/TOPIC[?query]" -> POST to
 * "https://host[/prefix]/[?query]" with "topic": "TOPIC" in the JSON.
 */
static int
prep_ntfy(struct wh_req *q, const struct outbox_msg *m, char *err,
    size_t errlen)
{
	const char *u = q->wh->url;
	size_t t0, t1, qpos;
	char *topic;

	if (ntfy_split(u, &t0, &t1, &qpos, err, errlen) == -1)
		return -1;
	topic = xstrndup(u + t0, t1 - t0);
	q->url = xasprintf("%.*s%s", (int)t0, u, u + qpos);
	q->body = json_with(m->body, "topic", json_string(topic), true);
	free(topic);
	if (q->body == NULL) {
		snprintf(err, errlen, "the payload is not a JSON object");
		return -1;
	}
	if (q->wh->token != NULL)
		add_bearer(q, q->wh->token);
	return 0;
}

/* json: the body as is, signed when a secret is set. */
static int
prep_json(struct wh_req *q, const struct outbox_msg *m)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char h[2 * EVP_MAX_MD_SIZE + 1], line[100 + 2 * EVP_MAX_MD_SIZE];
	const char *key = q->wh->secret;

	q->url = xstrdup(q->wh->url);
	if (key == NULL)
		return 0;
	if (HMAC(EVP_sha256(), key, (int)strlen(key),
	    (const unsigned char *)m->body, m->body_len, md, &mdlen) == NULL)
		return -1;
	hex(md, mdlen, h);
	snprintf(line, sizeof(line), "X-Paperwatch-Signature: sha256=%s", h);
	q->headers = curl_slist_append(q->headers, line);
	return 0;
}

/* Fill q for m: the webhook, URL, method, body, headers; -1 + err. */
static int
prepare(struct wh_req *q, const struct conf *cfg, const struct outbox_msg *m,
    char *err, size_t errlen)
{
	const char *f;
	int rc;

	q->method = "POST";
	q->wh = find_webhook(cfg, m->dest, m->subject);
	if (q->wh == NULL || q->wh->url == NULL) {
		snprintf(q->who, sizeof(q->who), "webhook '%.120s'",
		    m->dest != NULL ? m->dest : "");
		snprintf(err, errlen, q->wh == NULL ? "not in the config "
		    "(subscription or webhook removed, or its url or format "
		    "changed since the digest was made)" : "has no url");
		return -1;
	}
	f = format_of(q->wh->format);
	snprintf(q->who, sizeof(q->who), "webhook '%.120s' (%s)", m->dest, f);
	q->headers = curl_slist_append(NULL, "Content-Type: application/json");
	q->headers = curl_slist_append(q->headers, "Expect:");
	if (strcmp(f, "discord") == 0)
		rc = prep_discord(q, m);
	else if (strcmp(f, "matrix") == 0)
		return prep_matrix(q, m, err, errlen);
	else if (strcmp(f, "ntfy") == 0)
		return prep_ntfy(q, m, err, errlen);
	else if (strcmp(f, "json") == 0)
		rc = prep_json(q, m);
	else
		rc = (q->url = xstrdup(q->wh->url)) != NULL ? 0 : -1;
	if (rc < 0)
		snprintf(err, errlen, "the payload is not a JSON object");
	return rc;
}

static void
req_release(struct wh_req *q)
{
	for (struct curl_slist *h = q->headers; h != NULL; h = h->next)
		memset(h->data, 0, strlen(h->data));	/* tokens */
	curl_slist_free_all(q->headers);
	if (q->url != NULL)
		memset(q->url, 0, strlen(q->url));
	free(q->url);
	free(q->body);
	buf_release(&q->reply);
}

static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t len = size * n;

	if (b->len < WH_REPLY_KEEP)
		buf_add(b, p, len < WH_REPLY_KEEP - b->len ? len :
		    WH_REPLY_KEEP - b->len);
	return len;
}

static CURLcode
perform(struct wh_chan *c, struct wh_req *q, const struct outbox_msg *m)
{
	CURL *h = c->curl;
	const char *body = q->body != NULL ? q->body : m->body;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, q->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    c->timeout_ms < 15000 ? c->timeout_ms : 15000L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, q->headers);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)(q->body != NULL ? strlen(q->body) : m->body_len));
	if (strcmp(q->method, "POST") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &q->reply);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, q->errbuf);
	return curl_easy_perform(h);
}

/* Seconds the server asked to wait: Retry-After, or Matrix's JSON. */
static long long
retry_after(struct wh_req *q, CURL *h)
{
	curl_off_t after = 0;
	long long s;

	curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &after);
	s = (long long)after;
	if (s <= 0 && q->reply.len > 0) {
		json_t *j = json_loads(buf_str(&q->reply), 0, NULL);
		json_int_t ms = json_integer_value(json_object_get(j,
		    "retry_after_ms"));

		s = ms > 0 ? (long long)((ms + 999) / 1000) : 0;
		json_decref(j);
	}
	return s > WH_RETRY_AFTER_MAX ? WH_RETRY_AFTER_MAX : s;
}

/*
 * Does the reply r hold a piece of the URL's path or query that may be
 * secret: a segment between '/', '?', '&', '=', ';' or '#' of 16 bytes or
 * more, or of 8 or more with a digit?  The hook's id or key is one
 * (Slack's are 9-24 characters, Discord's 18-68, Mattermost's 26), and a
 * 404 may echo it alone; words like "services" or "webhooks" are not.
 */
#define WH_PIECE_MIN	8
#define WH_PIECE_WORD	16

/* Does s hold the n bytes at p (which hold no NUL)? */
static bool
holds(const char *s, const char *p, size_t n)
{
	for (s = strchr(s, p[0]); s != NULL; s = strchr(s + 1, p[0]))
		if (strncmp(s, p, n) == 0)
			return true;
	return false;
}

static bool
echoes_url(const char *r, const char *url)
{
	const char *p = strstr(url, "://");

	p = p != NULL ? strchr(p + 3, '/') : NULL;
	while (p != NULL && *p != '\0') {
		size_t n;

		p += strspn(p, "/?&=;#");
		n = strcspn(p, "/?&=;#");
		if ((n >= WH_PIECE_WORD || (n >= WH_PIECE_MIN &&
		    strcspn(p, "0123456789") < n)) &&
		    holds(r, p, n))
			return true;
		p += n;
	}
	return false;
}

/* A short, printable excerpt of the reply, unless it echoes a secret. */
static void
reply_excerpt(const struct wh_req *q, char *out, size_t outlen)
{
	const char *r = buf_str(&q->reply);
	size_t j = 0;

	out[0] = '\0';
	if (echoes_url(r, q->wh->url) ||
	    (q->wh->token != NULL && strstr(r, q->wh->token) != NULL) ||
	    (q->wh->secret != NULL && strstr(r, q->wh->secret) != NULL))
		return;
	for (; *r != '\0' && j + 1 < outlen && j < 100; r++) {
		unsigned char ch = (unsigned char)*r;

		if (ch == '\r' || ch == '\n' || ch == '\t')
			ch = ' ';
		if (j == 0 && ch == ' ')
			continue;
		out[j++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	out[j] = '\0';
}

static void
judge(struct wh_chan *c, struct wh_req *q, struct outbox_msg *m,
    CURLcode rc)
{
	long status = 0, vr = 0;
	char excerpt[128];
	long long after;

	if (rc == CURLE_PEER_FAILED_VERIFICATION) {
		curl_easy_getinfo(c->curl, CURLINFO_SSL_VERIFYRESULT, &vr);
		set_result(m, CHAN_RETRY, 0, "%s: TLS certificate rejected: %s",
		    q->who, X509_verify_cert_error_string(vr));
		return;
	}
	if (rc != CURLE_OK) {
		/* curl's own text can name the host: the generic one can't */
		set_result(m, CHAN_RETRY, 0, "%s: %s", q->who,
		    curl_easy_strerror(rc));
		return;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300) {
		set_result(m, CHAN_SENT, 0, NULL);
		return;
	}
	reply_excerpt(q, excerpt, sizeof(excerpt));
	if (status == 408 || status == 429 || status >= 500 || status < 200) {
		after = retry_after(q, c->curl);
		set_result(m, CHAN_RETRY, after, "%s: HTTP %ld%s%s", q->who,
		    status, excerpt[0] != '\0' ? ": " : "", excerpt);
		return;
	}
	set_result(m, CHAN_FAILED, 0, "%s: HTTP %ld%s%s%s", q->who, status,
	    status < 400 ? " (redirects are not followed: check the url)" : "",
	    excerpt[0] != '\0' ? ": " : "", excerpt);
}

static void
wh_send_one(struct wh_chan *c, struct outbox_msg *m)
{
	struct wh_req q;
	char why[160];

	memset(&q, 0, sizeof(q));
	buf_init(&q.reply);
	snprintf(why, sizeof(why), "cannot prepare the request");
	/* before prepare: the signature and Matrix's txn id cover body_len */
	if (m->body != NULL && m->body_len == 0)
		m->body_len = strlen(m->body);
	if (m->body == NULL) {
		set_result(m, CHAN_FAILED, 0, "webhook: empty message");
	} else if (prepare(&q, c->cfg, m, why, sizeof(why)) < 0) {
		set_result(m, CHAN_FAILED, 0, "%s: %s", q.who, why);
	} else
		judge(c, &q, m, perform(c, &q, m));
	req_release(&q);
	chan_report(m);
}

static void
wh_send(void *state, struct outbox_msg *const *msgs, size_t n)
{
	struct wh_chan *c = state;

	for (size_t i = 0; i < n; i++)
		if (chan_may_send(msgs[i]))
			wh_send_one(c, msgs[i]);
}

static void
wh_close(void *state)
{
	struct wh_chan *c = state;

	if (c == NULL)
		return;
	curl_easy_cleanup(c->curl);
	free(c->user_agent);
	free(c);
}

/* cfg is borrowed: it must outlive the channel state. */
static void *
wh_open(const struct conf *cfg, char *err, size_t errlen)
{
	struct wh_chan *c = xcalloc(1, sizeof(*c));

	c->cfg = cfg;
	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		snprintf(err, errlen, "webhook: cannot create a libcurl handle");
		free(c);
		return NULL;
	}
	c->timeout_ms = (cfg->fetch_timeout > 0 ? cfg->fetch_timeout : 60) *
	    1000L;
	c->user_agent = cfg->user_agent != NULL ? xstrdup(cfg->user_agent) :
	    xstrdup("paperwatch/" PW_VERSION);
	return c;
}

const struct chan_type chan_webhook = {
	.name = "webhook",
	.open = wh_open,
	.send = wh_send,
	.close = wh_close,
};
