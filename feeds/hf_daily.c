/*
 * hf_daily.c: the Hugging Face Daily Papers API
 * (https://huggingface.co/api/daily_papers[?date=YYYY-MM-DD]).
 *
 * The document is one JSON array; each item holds a "paper" object with the
 * arXiv id, title, abstract, authors, upvotes, the arXiv date (publishedAt)
 * and the day the paper entered Daily Papers (submittedOnDailyAt).  JSON is
 * not streamed: the chunks are buffered (under HF_MAX_DOC) and parsed with
 * jansson at end(), then every paper is handed to the callback in order.
 * Items that cannot be read (no arXiv id, not an object) are skipped with a
 * warning in source_info; a document that is not a JSON array is an error.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "source.h"

#define HF_MAX_DOC		(32u * 1024 * 1024)	/* bytes buffered */
#define HF_DEFAULT_FIELD	(1024u * 1024)
#define HF_DEFAULT_ITEMS	200000u
#define HF_PAPER_URL		"https://huggingface.co/papers/"

struct hf_state {
	source_paper_cb		 cb;
	void			*arg;
	struct source_info	*info;
	size_t			 max_field;
	size_t			 max_items;
	struct buf		 doc;
	bool			 too_big;
};

static void hf_warn(struct hf_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Count a recoverable problem; keep the text of the first one. */
static void
hf_warn(struct hf_state *st, const char *fmt, ...)
{
	va_list ap;

	if (st->info == NULL)
		return;
	if (st->info->n_warnings++ == 0) {
		va_start(ap, fmt);
		vsnprintf(st->info->warning, sizeof(st->info->warning), fmt,
		    ap);
		va_end(ap);
	}
}

/*
 * A copy of s made fit for a paper field: invalid UTF-8 and control
 * characters replaced or dropped, white space collapsed, cut at max bytes
 * on a character boundary.  NULL when nothing is left.
 */
static char *
hf_text(struct hf_state *st, const char *s, size_t len, const char *what)
{
	struct buf b;
	size_t n;

	buf_init(&b);
	utf8_clean(&b, s, len);
	if (b.data == NULL)
		return NULL;
	str_collapse_ws(b.data);
	n = strlen(b.data);
	if (n > st->max_field) {
		n = st->max_field;
		while (n > 0 && ((unsigned char)b.data[n] & 0xc0) == 0x80)
			n--;
		b.data[n] = '\0';
		hf_warn(st, "%s cut to %zu bytes", what, n);
	}
	if (n == 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* Member key of o1, else of o2 (JSON null counts as absent). */
static json_t *
hf_member(json_t *o1, json_t *o2, const char *key)
{
	json_t *v;

	if (json_is_object(o1) && (v = json_object_get(o1, key)) != NULL &&
	    !json_is_null(v))
		return v;
	if (json_is_object(o2) && (v = json_object_get(o2, key)) != NULL &&
	    !json_is_null(v))
		return v;
	return NULL;
}

/* Set *field from a JSON string (another type: warning, field unset). */
static void
hf_set_text(struct hf_state *st, char **field, json_t *v, const char *what)
{
	if (v == NULL)
		return;
	if (!json_is_string(v)) {
		hf_warn(st, "'%s' is not a string", what);
		return;
	}
	free(*field);
	*field = hf_text(st, json_string_value(v), json_string_length(v),
	    what);
}

/* A count: integers kept, clamped to INT_MAX; negatives and others -1. */
static int
hf_count(struct hf_state *st, json_t *v, const char *what)
{
	json_int_t i;
	double d;

	if (v == NULL)
		return -1;
	if (json_is_integer(v)) {
		i = json_integer_value(v);
		if (i >= 0)
			return i > INT_MAX ? INT_MAX : (int)i;
	} else if (json_is_real(v)) {
		d = json_real_value(v);
		if (isfinite(d) && d >= 0)
			return d >= (double)INT_MAX ? INT_MAX : (int)d;
	}
	hf_warn(st, "'%s' is not a count", what);
	return -1;
}

/* A date string (RFC 3339 as the API writes it); -1 when absent/bad. */
static long long
hf_date(struct hf_state *st, json_t *v, const char *what)
{
	long long t;

	if (v == NULL)
		return -1;
	if (json_is_string(v) &&
	    (t = time_parse_any(json_string_value(v))) != -1)
		return t;
	hf_warn(st, "'%s' is not a date", what);
	return -1;
}

static void
hf_authors(struct hf_state *st, struct paper *p, json_t *list)
{
	size_t i;
	json_t *a, *name;
	char *s;

	if (list == NULL)
		return;
	if (!json_is_array(list)) {
		hf_warn(st, "'authors' of %s is not an array", p->id);
		return;
	}
	json_array_foreach(list, i, a) {
		name = json_is_object(a) ? json_object_get(a, "name") : a;
		if (!json_is_string(name))
			continue;
		s = hf_text(st, json_string_value(name),
		    json_string_length(name), "author");
		if (s != NULL)
			paper_add_author(p, s, NULL);
		free(s);
	}
}

static void
hf_keywords(struct hf_state *st, struct paper *p, json_t *list)
{
	size_t i;
	json_t *k;
	char *s;

	if (list == NULL)
		return;
	if (!json_is_array(list)) {
		hf_warn(st, "'ai_keywords' of %s is not an array", p->id);
		return;
	}
	json_array_foreach(list, i, k) {
		if (!json_is_string(k))
			continue;
		s = hf_text(st, json_string_value(k), json_string_length(k),
		    "keyword");
		if (s != NULL && !strvec_contains(&p->ai_keywords, s))
			strvec_push_take(&p->ai_keywords, s);
		else
			free(s);
	}
}

/*
 * The paper of one array item, or NULL (with a warning) when the item has
 * no usable arXiv id.  Fields are read from item.paper first and from the
 * item itself second: the API has carried ai_summary/ai_keywords at both
 * levels over time.
 */
static struct paper *
hf_item(struct hf_state *st, json_t *item, size_t idx)
{
	json_t *pp, *v;
	char id[64];
	int version;
	struct paper *p;

	pp = json_is_object(item) ? json_object_get(item, "paper") : NULL;
	if (!json_is_object(pp)) {
		hf_warn(st, "item %zu has no 'paper' object", idx);
		return NULL;
	}
	v = json_object_get(pp, "id");
	if (!json_is_string(v) ||
	    paper_arxiv_id(json_string_value(v), id, sizeof(id), &version)) {
		hf_warn(st, "item %zu has no arXiv id", idx);
		return NULL;
	}
	p = paper_new();
	paper_set_arxiv_id(p, id, version);
	hf_set_text(st, &p->title, hf_member(pp, item, "title"), "title");
	hf_set_text(st, &p->summary, hf_member(pp, item, "summary"),
	    "summary");
	hf_set_text(st, &p->ai_summary, hf_member(pp, item, "ai_summary"),
	    "ai_summary");
	hf_keywords(st, p, hf_member(pp, item, "ai_keywords"));
	hf_authors(st, p, json_object_get(pp, "authors"));
	p->upvotes = hf_count(st, hf_member(pp, item, "upvotes"), "upvotes");
	p->n_comments = hf_count(st, hf_member(item, pp, "numComments"),
	    "numComments");
	p->published = hf_date(st, hf_member(pp, item, "publishedAt"),
	    "publishedAt");
	p->hf_date = hf_date(st, hf_member(pp, item, "submittedOnDailyAt"),
	    "submittedOnDailyAt");
	if (p->url_hf == NULL) {
		char *u = xasprintf(HF_PAPER_URL "%s", p->id);

		paper_set(&p->url_hf, u);
		free(u);
	}
	if (p->url == NULL)
		paper_set(&p->url, p->url_hf);
	return p;
}

static void *
hf_begin(source_paper_cb cb, void *arg, struct source_info *info,
    const struct source_limits *lim)
{
	struct hf_state *st = xcalloc(1, sizeof(*st));

	st->cb = cb;
	st->arg = arg;
	st->info = info;
	st->max_field = lim && lim->max_field ? lim->max_field :
	    HF_DEFAULT_FIELD;
	st->max_items = lim && lim->max_items ? lim->max_items :
	    HF_DEFAULT_ITEMS;
	buf_init(&st->doc);
	return st;
}

static int
hf_chunk(void *state, const char *buf, size_t len, char *err, size_t errlen)
{
	struct hf_state *st = state;

	if (st->too_big || len > HF_MAX_DOC - st->doc.len) {
		st->too_big = true;
		snprintf(err, errlen, "hf-daily: document larger than %u MiB",
		    HF_MAX_DOC >> 20);
		return -1;
	}
	buf_add(&st->doc, buf, len);
	return 0;
}

/* Hand every readable item of the array to the callback. */
static int
hf_emit(struct hf_state *st, json_t *root, char *err, size_t errlen)
{
	size_t i, n = 0;
	json_t *item;
	struct paper *p;

	json_array_foreach(root, i, item) {
		if (n >= st->max_items) {
			hf_warn(st, "more than %zu papers: the rest ignored",
			    st->max_items);
			break;
		}
		if ((p = hf_item(st, item, i)) == NULL)
			continue;
		if (st->info != NULL) {
			st->info->n_items++;
			if (p->hf_date > st->info->updated)
				st->info->updated = p->hf_date;
		}
		n++;
		if (st->cb(p, st->arg) != 0) {
			snprintf(err, errlen, "hf-daily: parse stopped by the "
			    "consumer after %zu papers", n);
			return -1;
		}
	}
	return 0;
}

static int
hf_end(void *state, char *err, size_t errlen)
{
	struct hf_state *st = state;
	json_error_t je;
	json_t *root;
	int rc;

	if (st->too_big) {
		snprintf(err, errlen, "hf-daily: document larger than %u MiB",
		    HF_MAX_DOC >> 20);
		return -1;
	}
	if (!json_text_within(buf_str(&st->doc), st->doc.len)) {
		snprintf(err, errlen, "hf-daily: document too large to parse "
		    "(more than %u objects or %u values)",
		    UTIL_JSON_MAX_CONTAINERS, UTIL_JSON_MAX_VALUES);
		return -1;
	}
	root = json_loadb(st->doc.data ? st->doc.data : "", st->doc.len,
	    JSON_DECODE_ANY, &je);
	buf_release(&st->doc);
	if (root == NULL) {
		snprintf(err, errlen, "hf-daily: invalid JSON at line %d "
		    "column %d: %s", je.line, je.column, je.text);
		return -1;
	}
	if (!json_is_array(root)) {
		snprintf(err, errlen, "hf-daily: expected a JSON array of "
		    "papers, got %s", json_is_object(root) ? "an object" :
		    "a scalar");
		json_decref(root);
		return -1;
	}
	rc = hf_emit(st, root, err, errlen);
	json_decref(root);
	return rc;
}

static void
hf_free(void *state)
{
	struct hf_state *st = state;

	if (st == NULL)
		return;
	buf_release(&st->doc);
	free(st);
}

/* Skip white space (and a UTF-8 BOM at the start). */
static const char *
hf_skip_ws(const char *p, const char *end)
{
	if (end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return p;
}

/* Whether needle occurs in buf[0..len). */
static bool
hf_contains(const char *buf, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (buf[i] == needle[0] && memcmp(buf + i, needle, n) == 0)
			return true;
	return false;
}

/*
 * A JSON array of objects that carry "paper" is ours; an empty array
 * (a day without papers) is probably ours too.
 */
static int
hf_sniff(const char *buf, size_t len)
{
	const char *p = hf_skip_ws(buf, buf + len), *end = buf + len;

	if (p >= end || *p != '[')
		return 0;
	p = hf_skip_ws(p + 1, end);
	if (p < end && *p == ']')
		return 30;
	if (p >= end || *p != '{')
		return 0;
	if (hf_contains(p, (size_t)(end - p), "\"paper\""))
		return hf_contains(p, (size_t)(end - p),
		    "\"submittedOnDailyAt\"") ? 95 : 80;
	return 0;
}

const struct source_type source_hf_daily = {
	.name = "hf-daily",
	.sniff = hf_sniff,
	.begin = hf_begin,
	.chunk = hf_chunk,
	.end = hf_end,
	.free = hf_free,
};
