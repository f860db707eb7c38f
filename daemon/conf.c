/*
 * conf.c: libconfig -> one validated struct conf.  The schema is a table
 * per group (key, type, offset, required); every problem is collected as a
 * "FILE:LINE: message" line, so check-config reports all of them.
 */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "../feeds/source.h"
#include "deliver/channel.h"
#include "log.h"
#include "mail.h"
#include "query.h"
#include "render.h"
#include "schedule.h"

#define CONF_SECRET_MAX	4096

enum key_type {
	K_STR,		/* char * */
	K_PATH,		/* char *, relative to the config file's directory */
	K_INT,		/* int */
	K_INT64,	/* long long */
	K_BOOL,		/* bool */
	K_NUM,		/* double (int or float in the file) */
	K_DUR,		/* int seconds: 3600 or "1h" */
	K_STRS,		/* struct strvec: ["a", "b"] or "a" */
	K_SPECIAL,	/* handled by the caller */
};

struct key {
	const char	*name;
	enum key_type	 type;
	size_t		 off;
	bool		 required;
};

struct conf_err {
	int		 line;
	size_t		 seq;
	char		*text;		/* "FILE:LINE: message\n" */
};

struct ctx {
	const char	*path;
	char		*dir;		/* the config file's directory */
	struct conf_err	*errs;		/* sorted by line at the end */
	size_t		 n_errs;
	/*
	 * The first schedule parsed, kept to the end of the load: its zone
	 * stays shared, so each next schedule finds it with a stat() instead
	 * of reading the zone file again.
	 */
	struct schedule	 zone_keeper;
	bool		 keeping;
};

static void conf_error(struct ctx *cx, const config_setting_t *s,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
conf_error(struct ctx *cx, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = s ? config_setting_source_file(s) : NULL;
	int line = s ? (int)config_setting_source_line(s) : 0;
	struct buf b;
	va_list ap;

	buf_init(&b);
	buf_printf(&b, "%s:%d: ", file ? file : cx->path, line);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	cx->errs = xreallocarray(cx->errs, cx->n_errs + 1, sizeof(*cx->errs));
	cx->errs[cx->n_errs].line = line;
	cx->errs[cx->n_errs].seq = cx->n_errs;
	{	/* values quoted from the file may hold any bytes */
		struct buf clean;

		buf_init(&clean);
		utf8_clean(&clean, buf_str(&b), b.len);
		for (size_t i = 0; i < clean.len; i++)
			if (clean.data[i] == '\n' || clean.data[i] == '\r' ||
			    clean.data[i] == '\t')
				clean.data[i] = ' ';
		buf_addc(&clean, '\n');
		cx->errs[cx->n_errs].text = buf_detach(&clean);
	}
	buf_release(&b);
	cx->n_errs++;
}

static int
err_cmp(const void *a, const void *b)
{
	const struct conf_err *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hand the errors to the caller in line order. */
static void
flush_errors(struct ctx *cx, struct buf *out)
{
	if (cx->n_errs > 0)
		qsort(cx->errs, cx->n_errs, sizeof(*cx->errs), err_cmp);
	for (size_t i = 0; i < cx->n_errs; i++) {
		buf_adds(out, cx->errs[i].text);
		free(cx->errs[i].text);
	}
	free(cx->errs);
}

long long
conf_parse_duration(const char *s)
{
	char *end;
	long long v;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v < 0 || v > 100LL * 365 * 86400)
		return -1;
	while (*end == ' ')
		end++;
	if (*end == '\0' || strcmp(end, "s") == 0)
		return v;
	if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		return v * 60;
	if (strcmp(end, "h") == 0)
		return v * 3600;
	if (strcmp(end, "d") == 0)
		return v * 86400;
	return -1;
}

static const char *
type_name(enum key_type t)
{
	switch (t) {
	case K_STR: case K_PATH: return "a string";
	case K_INT: case K_INT64: return "an integer";
	case K_BOOL: return "true or false";
	case K_NUM: return "a number";
	case K_DUR: return "a duration (\"90s\", \"15m\", \"1h\", \"2d\")";
	case K_STRS: return "a string or an array of strings";
	default: return "a group";
	}
}

static char *
resolve_path(struct ctx *cx, const char *p)
{
	if (p[0] == '/' || cx->dir == NULL)
		return xstrdup(p);
	return xasprintf("%s/%s", cx->dir, p);
}

static bool
read_strs(struct ctx *cx, const config_setting_t *s, struct strvec *sv)
{
	int n;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		strvec_push(sv, config_setting_get_string(s));
		return true;
	}
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST)
		return false;
	n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s,
		    (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return false;
		strvec_push(sv, config_setting_get_string(e));
	}
	(void)cx;
	return true;
}

/* Store setting s into obj according to k; false on a type mismatch. */
static bool
read_key(struct ctx *cx, const config_setting_t *s, const struct key *k,
    void *obj)
{
	char *base = obj;
	int t = config_setting_type(s);
	long long d;

	switch (k->type) {
	case K_STR:
	case K_PATH:
		if (t != CONFIG_TYPE_STRING)
			return false;
		free(*(char **)(base + k->off));
		*(char **)(base + k->off) = k->type == K_PATH ?
		    resolve_path(cx, config_setting_get_string(s)) :
		    xstrdup(config_setting_get_string(s));
		return true;
	case K_INT:
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
			return false;
		d = config_setting_get_int64(s);
		if (t == CONFIG_TYPE_INT)
			d = config_setting_get_int(s);
		if (d < 0 || d > 1000000000) {
			conf_error(cx, s, "'%s' out of range (0..1000000000)",
			    k->name);
			return true;
		}
		*(int *)(base + k->off) = (int)d;
		return true;
	case K_INT64:
		if (t == CONFIG_TYPE_INT)
			d = config_setting_get_int(s);
		else if (t == CONFIG_TYPE_INT64)
			d = config_setting_get_int64(s);
		else
			return false;
		if (d < 0) {
			conf_error(cx, s, "'%s' must not be negative", k->name);
			return true;
		}
		*(long long *)(base + k->off) = d;
		return true;
	case K_BOOL:
		if (t != CONFIG_TYPE_BOOL)
			return false;
		*(bool *)(base + k->off) = config_setting_get_bool(s);
		return true;
	case K_NUM:
		if (t == CONFIG_TYPE_FLOAT)
			*(double *)(base + k->off) = config_setting_get_float(s);
		else if (t == CONFIG_TYPE_INT)
			*(double *)(base + k->off) = config_setting_get_int(s);
		else
			return false;
		return true;
	case K_DUR:
		if (t == CONFIG_TYPE_INT)
			d = config_setting_get_int(s);
		else if (t == CONFIG_TYPE_STRING)
			d = conf_parse_duration(config_setting_get_string(s));
		else
			return false;
		if (d < 0 || d > 100LL * 365 * 86400) {
			conf_error(cx, s, "'%s': invalid duration (expected "
			    "e.g. 90, \"90s\", \"15m\", \"1h\", \"2d\")",
			    k->name);
			return true;
		}
		*(int *)(base + k->off) = (int)d;
		return true;
	case K_STRS:
		return read_strs(cx, s, (struct strvec *)(base + k->off));
	case K_SPECIAL:
		return true;
	}
	return false;
}

/*
 * Read every member of group g into obj by the table keys; report unknown
 * keys, wrong types and missing required keys.  K_SPECIAL keys are left
 * to the caller.
 */
static void
read_group(struct ctx *cx, const config_setting_t *g, const struct key *keys,
    void *obj, const char *what)
{
	int n = config_setting_length(g);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g,
		    (unsigned)i);
		const char *name = config_setting_name(s);
		const struct key *k = keys;

		while (k->name && strcmp(k->name, name) != 0)
			k++;
		if (k->name == NULL) {
			conf_error(cx, s, "unknown setting '%s' in %s", name,
			    what);
			continue;
		}
		if (!read_key(cx, s, k, obj))
			conf_error(cx, s, "'%s' in %s must be %s", name, what,
			    type_name(k->type));
	}
	for (const struct key *k = keys; k->name; k++)
		if (k->required && config_setting_get_member(g, k->name) == NULL)
			conf_error(cx, g, "%s: missing required setting '%s'",
			    what, k->name);
}

/* Read a secret file (trailing white space trimmed); NULL and an error. */
static char *
read_secret(struct ctx *cx, const config_setting_t *s, const char *path)
{
	char err[512];
	struct buf b;
	const char *credir = getenv("CREDENTIALS_DIRECTORY");
	char *full = NULL;

	buf_init(&b);
	if (str_starts(path, "credential:")) {
		if (credir == NULL) {
			conf_error(cx, s, "'%s': $CREDENTIALS_DIRECTORY is not "
			    "set (use LoadCredential= in the unit)", path);
			return NULL;
		}
		full = xasprintf("%s/%s", credir,
		    path + strlen("credential:"));
		path = full;
	}
	if (file_read_all(path, CONF_SECRET_MAX, &b, err, sizeof(err)) == -1) {
		conf_error(cx, s, "%s", err);
		free(full);
		buf_release(&b);
		return NULL;
	}
	free(full);
	while (b.len > 0 && isspace((unsigned char)b.data[b.len - 1]))
		b.data[--b.len] = '\0';
	return buf_detach(&b);
}

/* The setting called name in g, for error lines (g itself if absent). */
static const config_setting_t *
at(const config_setting_t *g, const char *name)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	return s ? s : g;
}

/* smtp */

static const struct key smtp_keys[] = {
	{ "host", K_STR, offsetof(struct conf_smtp, host), true },
	{ "port", K_INT, offsetof(struct conf_smtp, port), false },
	{ "tls", K_SPECIAL, 0, false },
	{ "user", K_STR, offsetof(struct conf_smtp, user), false },
	{ "password", K_STR, offsetof(struct conf_smtp, password), false },
	{ "password_file", K_STR, offsetof(struct conf_smtp, password_file),
	    false },
	{ "ca_file", K_PATH, offsetof(struct conf_smtp, ca_file), false },
	{ "ca_dir", K_PATH, offsetof(struct conf_smtp, ca_dir), false },
	{ "tls_verify", K_BOOL, offsetof(struct conf_smtp, tls_verify), false },
	{ "from", K_STR, offsetof(struct conf_smtp, from), true },
	{ "reply_to", K_STR, offsetof(struct conf_smtp, reply_to), false },
	{ "list_unsubscribe", K_STR,
	    offsetof(struct conf_smtp, list_unsubscribe), false },
	{ "helo", K_STR, offsetof(struct conf_smtp, helo), false },
	{ "timeout", K_DUR, offsetof(struct conf_smtp, timeout), false },
	{ NULL, 0, 0, false },
};

/* localhost, or an address of 127.0.0.0/8: plain text never leaves. */
static bool
host_is_local(const char *h)
{
	unsigned a, b, c, d;
	char end;

	if (strcasecmp(h, "localhost") == 0 ||
	    strcasecmp(h, "localhost.") == 0)
		return true;
	return sscanf(h, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &end) == 4 &&
	    a == 127 && b < 256 && c < 256 && d < 256;
}

/* What check-config asks of 'from' and 'reply_to' (mail_address_valid). */
#define ADDRESS_FORM	"one address, \"addr@example.org\" or \"Name " \
			"<addr@example.org>\" (ASCII addr@domain)"

/*
 * list_unsubscribe: a mailto: or http(s): URI, or a bare address (made
 * mailto:ADDRESS): RFC 2369 wants a URI in the header.
 */
static void
read_unsubscribe(struct ctx *cx, const config_setting_t *s, char **v)
{
	char *u = *v;

	if (u == NULL)
		return;
	if (strchr(u, ':') == NULL && strchr(u, '<') == NULL &&
	    mail_address_valid(u)) {		/* no scheme: an address */
		*v = xasprintf("mailto:%s", u);
		free(u);
		u = *v;
	}
	if ((!str_istarts(u, "mailto:") && !str_istarts(u, "https://") &&
	    !str_istarts(u, "http://")) || !mail_uri_valid(u))
		conf_error(cx, s, "smtp: 'list_unsubscribe' must be an "
		    "address or a mailto:, https:// or http:// URI without "
		    "blanks");
}

static void
read_smtp(struct ctx *cx, const config_setting_t *g, struct conf_smtp *sm,
    bool *has_password)
{
	const config_setting_t *s;
	const char *credir;

	sm->line = (int)config_setting_source_line(g);
	read_group(cx, g, smtp_keys, sm, "smtp");
	if ((s = config_setting_get_member(g, "tls")) != NULL) {
		const char *v = config_setting_get_string(s);

		if (v != NULL && strcmp(v, "starttls") == 0)
			sm->tls = CONF_TLS_STARTTLS;
		else if (v != NULL && strcmp(v, "none") == 0)
			sm->tls = CONF_TLS_NONE;
		else
			conf_error(cx, s, "smtp: 'tls' must be \"starttls\" "
			    "or \"none\"");
	}
	if (sm->port == 0)
		sm->port = sm->tls == CONF_TLS_NONE ? 25 : 587;
	if (sm->port > 65535)
		conf_error(cx, at(g, "port"), "smtp: port %d out of range",
		    sm->port);
	*has_password = sm->password != NULL;
	if (sm->password != NULL && sm->password_file != NULL)
		conf_error(cx, at(g, "password"), "smtp: set 'password' or "
		    "'password_file', not both");
	if (sm->password == NULL && sm->password_file != NULL)
		sm->password = read_secret(cx, at(g, "password_file"),
		    sm->password_file);
	credir = getenv("CREDENTIALS_DIRECTORY");
	if (sm->password == NULL && sm->user != NULL && credir != NULL) {
		char *p = xasprintf("%s/smtp-password", credir);
		struct stat st;

		if (stat(p, &st) == 0)
			sm->password = read_secret(cx, g, p);
		free(p);
	}
	if (sm->user != NULL && sm->password == NULL)
		conf_error(cx, g, "smtp: 'user' is set but no password "
		    "(set 'password_file' or the credential 'smtp-password')");
	if (sm->password != NULL && sm->user == NULL)
		conf_error(cx, g, "smtp: a password is set but no 'user'");
	if (sm->from != NULL && !mail_address_valid(sm->from))
		conf_error(cx, at(g, "from"), "smtp: 'from' must be "
		    ADDRESS_FORM);
	if (sm->reply_to != NULL && !mail_address_valid(sm->reply_to))
		conf_error(cx, at(g, "reply_to"), "smtp: 'reply_to' must be "
		    ADDRESS_FORM);
	read_unsubscribe(cx, at(g, "list_unsubscribe"), &sm->list_unsubscribe);
	if (sm->host != NULL && strchr(sm->host, ':') != NULL)
		conf_error(cx, at(g, "host"), "smtp: host '%s': libESMTP "
		    "cannot connect to an IPv6 address literal; use a host "
		    "name that resolves to it", sm->host);
	else if (sm->host != NULL && sm->tls == CONF_TLS_NONE &&
	    !host_is_local(sm->host))
		conf_error(cx, at(g, "tls"), "smtp: tls = \"none\" is only "
		    "for a relay on this machine (localhost, 127.0.0.1), not "
		    "'%s': use \"starttls\" (ca_file for a private CA)",
		    sm->host);
}

/* sources */

static const struct key source_keys[] = {
	{ "name", K_STR, offsetof(struct conf_source, name), true },
	{ "type", K_STR, offsetof(struct conf_source, type), true },
	{ "url", K_STR, offsetof(struct conf_source, url), false },
	{ "query", K_STR, offsetof(struct conf_source, query), false },
	{ "categories", K_STRS, offsetof(struct conf_source, categories),
	    false },
	{ "announce", K_STRS, offsetof(struct conf_source, announce), false },
	{ "max_results", K_INT, offsetof(struct conf_source, max_results),
	    false },
	{ "interval", K_DUR, offsetof(struct conf_source, interval), false },
	{ "date", K_STR, offsetof(struct conf_source, date), false },
	{ "limit", K_INT, offsetof(struct conf_source, limit), false },
	{ NULL, 0, 0, false },
};

static bool
url_ok(const char *u)
{
	return str_istarts(u, "http://") || str_istarts(u, "https://") ||
	    str_istarts(u, "file://");
}

static void
check_source(struct ctx *cx, const config_setting_t *g,
    struct conf_source *src)
{
	const char *t = src->type;

	/* "file://relative/path" is relative to the config's directory */
	if (src->url != NULL && str_istarts(src->url, "file://") &&
	    src->url[7] != '/' && src->url[7] != '\0') {
		char cwd[4096] = "";
		char *u;

		if (cx->dir[0] != '/' && getcwd(cwd, sizeof(cwd)) == NULL)
			str_copy(cwd, sizeof(cwd), "");
		u = xasprintf("file://%s%s%s/%s", cwd, cwd[0] ? "/" : "",
		    cx->dir, src->url + 7);
		free(src->url);
		src->url = u;
	}
	if (t != NULL && source_find(t) == NULL)
		conf_error(cx, at(g, "type"), "source '%s': unknown type '%s' "
		    "(expected arxiv-api, arxiv-rss, hf-daily, feed)",
		    src->name ? src->name : "?", t);
	if (src->url != NULL && !url_ok(src->url))
		conf_error(cx, at(g, "url"), "source '%s': url must start with "
		    "http://, https:// or file://", src->name ? src->name : "?");
	if (t == NULL || src->url != NULL)
		goto announce;
	if (strcmp(t, "arxiv-api") == 0 && src->query == NULL &&
	    src->categories.n == 0)
		conf_error(cx, g, "source '%s': arxiv-api needs 'url', "
		    "'query' or 'categories'", src->name ? src->name : "?");
	else if (strcmp(t, "arxiv-rss") == 0 && src->categories.n == 0)
		conf_error(cx, g, "source '%s': arxiv-rss needs 'url' or "
		    "'categories'", src->name ? src->name : "?");
	else if (strcmp(t, "feed") == 0)
		conf_error(cx, g, "source '%s': feed needs 'url'",
		    src->name ? src->name : "?");
announce:
	for (size_t i = 0; i < src->announce.n; i++)
		if (paper_announce_parse(src->announce.v[i]) ==
		    PAPER_ANNOUNCE_NONE)
			conf_error(cx, at(g, "announce"), "source '%s': unknown "
			    "announce type '%s' (expected new, cross, replace, "
			    "replace-cross)", src->name ? src->name : "?",
			    src->announce.v[i]);
	if (src->announce.n == 0) {
		strvec_push(&src->announce, "new");
		strvec_push(&src->announce, "cross");
	}
	if (src->max_results == 0)
		src->max_results = 100;
}

static void
read_sources(struct ctx *cx, const config_setting_t *list, struct conf *c)
{
	int n;

	if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
		conf_error(cx, list, "'sources' must be a list: ( { ... }, ... )");
		return;
	}
	n = config_setting_length(list);
	c->sources = xcalloc((size_t)n + 1, sizeof(*c->sources));
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list,
		    (unsigned)i);
		struct conf_source *src = &c->sources[c->n_sources++];

		src->line = (int)config_setting_source_line(g);
		if (!config_setting_is_group(g)) {
			conf_error(cx, g, "sources: each source must be a "
			    "group { name = ...; type = ...; }");
			continue;
		}
		read_group(cx, g, source_keys, src, "source");
		for (size_t j = 0; src->name && j + 1 < c->n_sources; j++)
			if (c->sources[j].name &&
			    strcmp(c->sources[j].name, src->name) == 0)
				conf_error(cx, g, "source '%s' defined twice "
				    "(first at line %d)", src->name,
				    c->sources[j].line);
		check_source(cx, g, src);
	}
}

/* subscriptions */

static const struct key webhook_keys[] = {
	{ "format", K_STR, offsetof(struct conf_webhook, format), true },
	{ "url", K_STR, offsetof(struct conf_webhook, url), false },
	{ "url_file", K_STR, offsetof(struct conf_webhook, url_file), false },
	{ "token", K_STR, offsetof(struct conf_webhook, token), false },
	{ "token_file", K_STR, offsetof(struct conf_webhook, token_file),
	    false },
	{ "secret", K_STR, offsetof(struct conf_webhook, secret), false },
	{ "secret_file", K_STR, offsetof(struct conf_webhook, secret_file),
	    false },
	{ "template", K_STR, offsetof(struct conf_webhook, template), false },
	{ NULL, 0, 0, false },
};

static const char *const webhook_formats[] = { "slack", "discord",
    "mattermost", "teams", "matrix", "ntfy", "json", NULL };

/* Fill *value from *file when only the file is given. */
static void
secret_pair(struct ctx *cx, const config_setting_t *g, char **value,
    const char *file, const char *vname, const char *fname)
{
	if (*value != NULL && file != NULL) {
		conf_error(cx, at(g, vname), "webhook: set '%s' or '%s', not "
		    "both", vname, fname);
		return;
	}
	if (file != NULL)
		*value = read_secret(cx, at(g, fname), file);
}

static void
read_webhook(struct ctx *cx, const config_setting_t *g, struct conf_sub *sub)
{
	struct conf_webhook *w;
	char why[160];
	bool known = false;

	sub->webhooks = xreallocarray(sub->webhooks, sub->n_webhooks + 1,
	    sizeof(*sub->webhooks));
	w = &sub->webhooks[sub->n_webhooks++];
	memset(w, 0, sizeof(*w));
	w->line = (int)config_setting_source_line(g);
	if (!config_setting_is_group(g)) {
		conf_error(cx, g, "subscription '%s': webhook must be a group "
		    "{ url = ...; format = ...; }", sub->name);
		return;
	}
	read_group(cx, g, webhook_keys, w, "webhook");
	for (size_t i = 0; w->format && webhook_formats[i]; i++)
		known |= strcmp(w->format, webhook_formats[i]) == 0;
	if (w->format != NULL && !known)
		conf_error(cx, at(g, "format"), "subscription '%s': unknown "
		    "webhook format '%s' (expected slack, discord, "
		    "mattermost, teams, matrix, ntfy, json)", sub->name,
		    w->format);
	secret_pair(cx, g, &w->url, w->url_file, "url", "url_file");
	secret_pair(cx, g, &w->token, w->token_file, "token", "token_file");
	secret_pair(cx, g, &w->secret, w->secret_file, "secret",
	    "secret_file");
	if (w->url == NULL && w->url_file == NULL)
		conf_error(cx, g, "subscription '%s': webhook needs 'url' or "
		    "'url_file'", sub->name);
	else if (w->url != NULL && !str_istarts(w->url, "http://") &&
	    !str_istarts(w->url, "https://"))
		conf_error(cx, g, "subscription '%s': webhook url must be "
		    "http:// or https://", sub->name);
	else if (w->url != NULL && webhook_url_check(w->format, w->url, why,
	    sizeof(why)) == -1)
		conf_error(cx, g, "subscription '%s': %s webhook: %s",
		    sub->name, w->format, why);
	if (w->format != NULL && strcmp(w->format, "matrix") == 0 &&
	    w->token == NULL && w->token_file == NULL)
		conf_error(cx, g, "subscription '%s': a matrix webhook needs "
		    "'token' or 'token_file' (the access token)", sub->name);
}

static const struct key sub_keys[] = {
	{ "name", K_STR, offsetof(struct conf_sub, name), true },
	{ "query", K_STR, offsetof(struct conf_sub, query), false },
	{ "keywords", K_STRS, offsetof(struct conf_sub, keywords), false },
	{ "exclude", K_STRS, offsetof(struct conf_sub, exclude), false },
	{ "sources", K_STRS, offsetof(struct conf_sub, sources), false },
	{ "schedule", K_STR, offsetof(struct conf_sub, schedule), false },
	{ "timezone", K_STR, offsetof(struct conf_sub, timezone), false },
	{ "max_papers", K_INT, offsetof(struct conf_sub, max_papers), false },
	{ "min_score", K_NUM, offsetof(struct conf_sub, min_score), false },
	{ "send_empty", K_BOOL, offsetof(struct conf_sub, send_empty), false },
	{ "replacements", K_BOOL, offsetof(struct conf_sub, replacements),
	    false },
	{ "backfill_days", K_INT, offsetof(struct conf_sub, backfill_days),
	    false },
	{ "email", K_STRS, offsetof(struct conf_sub, email), false },
	{ "mbox", K_PATH, offsetof(struct conf_sub, mbox), false },
	{ "webhook", K_SPECIAL, 0, false },
	{ "subject", K_STR, offsetof(struct conf_sub, subject), false },
	{ NULL, 0, 0, false },
};

static void
check_query(struct ctx *cx, const config_setting_t *g, struct conf_sub *sub)
{
	const config_setting_t *s = config_setting_get_member(g, "query");
	struct query_node *q;
	char err[256];
	int col = 0;

	if (sub->query == NULL || s == NULL)
		return;
	sub->query_line = (int)config_setting_source_line(s);
	q = query_parse(sub->query, err, sizeof(err), &col);
	if (q == NULL)
		conf_error(cx, s, "subscription '%s': query: %s",
		    sub->name ? sub->name : "?", err);
	query_free(q);
}

/* Each keywords/exclude entry is a word or phrase the matcher can use. */
static void
check_terms(struct ctx *cx, const config_setting_t *s, const char *sub,
    const char *what, const struct strvec *terms)
{
	for (size_t i = 0; i < terms->n; i++) {
		char err[256];
		struct query_node *q = query_term_new(QUERY_FIELD_TEXT,
		    terms->v[i], err, sizeof(err));

		if (q == NULL)
			conf_error(cx, s, "subscription '%s': %s: '%s': %s", sub,
			    what, terms->v[i], err);
		query_free(q);
	}
}

static void
check_sub(struct ctx *cx, const config_setting_t *g, struct conf_sub *sub,
    const struct conf *c)
{
	const char *name = sub->name ? sub->name : "?";
	struct schedule sch;
	char err[256];

	if (sub->query == NULL && sub->keywords.n == 0)
		conf_error(cx, g, "subscription '%s': needs 'query' or "
		    "'keywords'", name);
	check_query(cx, g, sub);
	check_terms(cx, at(g, "keywords"), name, "keywords", &sub->keywords);
	check_terms(cx, at(g, "exclude"), name, "exclude", &sub->exclude);
	for (size_t i = 0; i < sub->sources.n; i++)
		if (conf_find_source(c, sub->sources.v[i]) == NULL)
			conf_error(cx, at(g, "sources"), "subscription '%s': "
			    "unknown source '%s'", name, sub->sources.v[i]);
	if (sub->timezone != NULL && !schedule_tz_valid(sub->timezone))
		conf_error(cx, at(g, "timezone"), "subscription '%s': unknown "
		    "time zone '%s' (an IANA name such as Europe/Berlin)",
		    name, sub->timezone);
	if (sub->subject != NULL) {
		struct render_tpl *t = render_compile(sub->subject,
		    strlen(sub->subject), "subject", err, sizeof(err));

		if (t == NULL)
			conf_error(cx, at(g, "subject"), "subscription '%s': "
			    "%s", name, err);
		render_tpl_free(t);
	}
	if (sub->schedule == NULL)
		sub->schedule = xstrdup("immediate");
	if (schedule_parse(sub->schedule, NULL, &sch, err, sizeof(err)) == -1)
		conf_error(cx, at(g, "schedule"), "subscription '%s': "
		    "schedule: %s", name, err);
	else if (!cx->keeping) {
		cx->zone_keeper = sch;
		cx->keeping = true;
	} else
		schedule_release(&sch);
	for (size_t i = 0; i < sub->email.n; i++)
		if (!mail_address_valid(sub->email.v[i]))
			conf_error(cx, at(g, "email"), "subscription '%s': "
			    "'%s' is not one email address (\"addr@example.org"
			    "\" or \"Name <addr@example.org>\", ASCII "
			    "addr@domain)", name, sub->email.v[i]);
	if (sub->email.n == 0 && sub->mbox == NULL && sub->n_webhooks == 0)
		conf_error(cx, g, "subscription '%s': nowhere to deliver (set "
		    "'email', 'mbox' or 'webhook')", name);
	if (sub->email.n > 0 && c->smtp.host == NULL)
		conf_error(cx, at(g, "email"), "subscription '%s': 'email' "
		    "needs an smtp = { host = ...; from = ...; } group", name);
}

static void
read_subs(struct ctx *cx, const config_setting_t *list, struct conf *c)
{
	int n;

	if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
		conf_error(cx, list,
		    "'subscriptions' must be a list: ( { ... }, ... )");
		return;
	}
	n = config_setting_length(list);
	c->subs = xcalloc((size_t)n + 1, sizeof(*c->subs));
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list,
		    (unsigned)i), *w;
		struct conf_sub *sub = &c->subs[c->n_subs++];

		sub->line = (int)config_setting_source_line(g);
		if (!config_setting_is_group(g)) {
			conf_error(cx, g, "subscriptions: each subscription "
			    "must be a group { name = ...; ... }");
			continue;
		}
		read_group(cx, g, sub_keys, sub, "subscription");
		if (sub->name == NULL)
			sub->name = xasprintf("#%d", i + 1);
		for (size_t j = 0; j + 1 < c->n_subs; j++)
			if (strcmp(c->subs[j].name, sub->name) == 0)
				conf_error(cx, g, "subscription '%s' defined "
				    "twice (first at line %d)", sub->name,
				    c->subs[j].line);
		if ((w = config_setting_get_member(g, "webhook")) != NULL) {
			if (config_setting_is_list(w))
				for (int j = 0; j < config_setting_length(w); j++)
					read_webhook(cx,
					    config_setting_get_elem(w,
					    (unsigned)j), sub);
			else
				read_webhook(cx, w, sub);
		}
		check_sub(cx, g, sub, c);
	}
}

/* top level */

static const struct key top_keys[] = {
	{ "state", K_PATH, offsetof(struct conf, state), false },
	{ "user_agent", K_STR, offsetof(struct conf, user_agent), true },
	{ "template_dir", K_PATH, offsetof(struct conf, template_dir), false },
	{ "data_dir", K_PATH, offsetof(struct conf, data_dir), false },
	{ "metrics_file", K_PATH, offsetof(struct conf, metrics_file), false },
	{ "log_level", K_SPECIAL, 0, false },
	{ "max_response_size", K_INT64,
	    offsetof(struct conf, max_response_size), false },
	{ "fetch_timeout", K_DUR, offsetof(struct conf, fetch_timeout), false },
	{ "stale_after", K_DUR, offsetof(struct conf, stale_after), false },
	{ "max_attempts", K_INT, offsetof(struct conf, max_attempts), false },
	{ "smtp", K_SPECIAL, 0, false },
	{ "sources", K_SPECIAL, 0, false },
	{ "subscriptions", K_SPECIAL, 0, false },
	{ NULL, 0, 0, false },
};

static void
set_defaults(struct conf *c)
{
	const char *sd = getenv("STATE_DIRECTORY");

	if (c->state == NULL)
		c->state = sd ? xasprintf("%s/state.db", sd) :
		    xstrdup("/var/lib/paperwatch/state.db");
	if (c->max_response_size == 0)
		c->max_response_size = 50LL * 1000 * 1000;
	if (c->fetch_timeout == 0)
		c->fetch_timeout = 60;
	if (c->stale_after == 0)
		c->stale_after = 2 * 86400;
	if (c->max_attempts == 0)
		c->max_attempts = 10;
	if (c->smtp.timeout == 0)
		c->smtp.timeout = 60;
}

static void
read_top(struct ctx *cx, config_t *cfg, struct conf *c, bool *has_password)
{
	const config_setting_t *root = config_root_setting(cfg), *s;

	read_group(cx, root, top_keys, c, "the top level");
	if ((s = config_setting_get_member(root, "log_level")) != NULL) {
		const char *v = config_setting_get_string(s);
		int lvl = v ? log_level_parse(v) : -1;

		if (lvl < 0)
			conf_error(cx, s, "'log_level' must be \"error\", "
			    "\"warning\", \"notice\", \"info\" or \"debug\"");
		else
			c->log_level = lvl;
	}
	if (c->user_agent != NULL && strchr(c->user_agent, '@') == NULL &&
	    strstr(c->user_agent, "://") == NULL)
		conf_error(cx, at(root, "user_agent"), "'user_agent' must hold "
		    "a contact address, e.g. \"paperwatch/1.0 "
		    "(mailto:admin@example.org)\" (arXiv asks for one)");
	c->smtp.tls_verify = true;
	if ((s = config_setting_get_member(root, "smtp")) != NULL) {
		if (config_setting_is_group(s))
			read_smtp(cx, s, &c->smtp, has_password);
		else
			conf_error(cx, s, "'smtp' must be a group { ... }");
	}
	if ((s = config_setting_get_member(root, "sources")) != NULL)
		read_sources(cx, s, c);
	else
		conf_error(cx, root, "missing required setting 'sources'");
	if ((s = config_setting_get_member(root, "subscriptions")) != NULL)
		read_subs(cx, s, c);
	else
		conf_error(cx, root, "missing required setting 'subscriptions'");
}

/* fp == NULL: read path; otherwise read fp (path names it in errors). */
static struct conf *
load(const char *path, FILE *fp, struct buf *errs)
{
	struct ctx cx = { .path = path };
	struct conf *c = xcalloc(1, sizeof(*c));
	bool has_password = false, failed = false;
	char *tmp = xstrdup(path);
	config_t cfg;
	int rc;

	cx.dir = xstrdup(dirname(tmp));
	free(tmp);
	c->path = xstrdup(path);
	c->log_level = -1;
	config_init(&cfg);
	config_set_include_dir(&cfg, cx.dir);
	rc = fp != NULL ? config_read(&cfg, fp) : config_read_file(&cfg, path);
	if (rc != CONFIG_TRUE) {
		const char *f = config_error_file(&cfg);

		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO) {
			int saved = fp != NULL ? EIO :
			    access(path, R_OK) == 0 ? EIO : errno;

			buf_printf(errs, "%s:0: cannot read the config file: "
			    "%s\n", path, strerror(saved));
		} else {
			buf_printf(errs, "%s:%d: %s\n", f ? f : path,
			    config_error_line(&cfg), config_error_text(&cfg));
		}
		failed = true;
	} else {
		read_top(&cx, &cfg, c, &has_password);
	}
	config_destroy(&cfg);
	set_defaults(c);
	failed |= cx.n_errs > 0;
	flush_errors(&cx, errs);
	if (!failed && has_password) {
		struct stat st;

		if (stat(path, &st) == 0 && (st.st_mode & 0004))
			c->password_warning = true;
	}
	free(cx.dir);
	if (cx.keeping)
		schedule_release(&cx.zone_keeper);
	if (failed) {
		conf_free(c);
		return NULL;
	}
	return c;
}

struct conf *
conf_load(const char *path, struct buf *errs)
{
	return load(path, NULL, errs);
}

struct conf *
conf_load_fd(const char *path, int fd, struct buf *errs)
{
	struct conf *c;
	FILE *fp;
	int dupfd;

	if (lseek(fd, 0, SEEK_SET) == -1 || (dupfd = dup(fd)) == -1) {
		buf_printf(errs, "%s:0: cannot read the config snapshot: %s\n",
		    path, strerror(errno));
		return NULL;
	}
	if ((fp = fdopen(dupfd, "r")) == NULL) {
		buf_printf(errs, "%s:0: cannot read the config snapshot: %s\n",
		    path, strerror(errno));
		close(dupfd);
		return NULL;
	}
	c = load(path, fp, errs);
	fclose(fp);
	return c;
}

static void
free_webhook(struct conf_webhook *w)
{
	free(w->format);
	free(w->url);
	free(w->url_file);
	free(w->token);
	free(w->token_file);
	free(w->secret);
	free(w->secret_file);
	free(w->template);
}

static void
free_sub(struct conf_sub *s)
{
	free(s->name);
	free(s->query);
	strvec_release(&s->keywords);
	strvec_release(&s->exclude);
	strvec_release(&s->sources);
	free(s->schedule);
	free(s->timezone);
	strvec_release(&s->email);
	free(s->mbox);
	for (size_t i = 0; i < s->n_webhooks; i++)
		free_webhook(&s->webhooks[i]);
	free(s->webhooks);
	free(s->subject);
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->state);
	free(c->user_agent);
	free(c->template_dir);
	free(c->data_dir);
	free(c->metrics_file);
	free(c->smtp.host);
	free(c->smtp.user);
	if (c->smtp.password != NULL) {
		memset(c->smtp.password, 0, strlen(c->smtp.password));
		free(c->smtp.password);
	}
	free(c->smtp.password_file);
	free(c->smtp.ca_file);
	free(c->smtp.ca_dir);
	free(c->smtp.from);
	free(c->smtp.reply_to);
	free(c->smtp.list_unsubscribe);
	free(c->smtp.helo);
	for (size_t i = 0; i < c->n_sources; i++) {
		struct conf_source *s = &c->sources[i];

		free(s->name);
		free(s->type);
		free(s->url);
		free(s->query);
		strvec_release(&s->categories);
		strvec_release(&s->announce);
		free(s->date);
	}
	free(c->sources);
	for (size_t i = 0; i < c->n_subs; i++)
		free_sub(&c->subs[i]);
	free(c->subs);
	free(c);
}

const struct conf_source *
conf_find_source(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->n_sources; i++)
		if (c->sources[i].name && strcmp(c->sources[i].name, name) == 0)
			return &c->sources[i];
	return NULL;
}

bool
conf_sub_reads(const struct conf_sub *sub, const char *source)
{
	return sub->sources.n == 0 || strvec_contains(&sub->sources, source);
}
