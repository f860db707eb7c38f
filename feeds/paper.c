/*
 * paper.c: the paper struct, arXiv identifier rules, merging, JSON form.
 */
#include "paper.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

struct paper *
paper_new(void)
{
	struct paper *p = xcalloc(1, sizeof(*p));

	p->published = -1;
	p->updated = -1;
	p->hf_date = -1;
	p->upvotes = -1;
	p->n_comments = -1;
	return p;
}

void
paper_free(struct paper *p)
{
	if (p == NULL)
		return;
	free(p->id);
	free(p->title);
	free(p->summary);
	free(p->ai_summary);
	for (size_t i = 0; i < p->n_authors; i++) {
		free(p->authors[i].name);
		free(p->authors[i].affiliation);
	}
	free(p->authors);
	free(p->primary_category);
	strvec_release(&p->categories);
	strvec_release(&p->ai_keywords);
	free(p->url);
	free(p->url_abs);
	free(p->url_pdf);
	free(p->url_hf);
	free(p->comment);
	free(p->doi);
	free(p->journal_ref);
	strvec_release(&p->sources);
	free(p);
}

void
paper_set(char **field, const char *s)
{
	char *old = *field;

	*field = xstrdup(s);
	free(old);
}

void
paper_add_author(struct paper *p, const char *name, const char *affiliation)
{
	p->authors = xreallocarray(p->authors, p->n_authors + 1,
	    sizeof(*p->authors));
	p->authors[p->n_authors].name = xstrdup(name);
	p->authors[p->n_authors].affiliation = xstrdup(affiliation);
	p->n_authors++;
}

struct paper *
paper_dup(const struct paper *p)
{
	struct paper *d = paper_new();

	d->id = xstrdup(p->id);
	d->version = p->version;
	d->is_arxiv = p->is_arxiv;
	d->title = xstrdup(p->title);
	d->summary = xstrdup(p->summary);
	d->ai_summary = xstrdup(p->ai_summary);
	if (p->n_authors > 0) {		/* one array, not one realloc each */
		d->authors = xreallocarray(NULL, p->n_authors,
		    sizeof(*d->authors));
		for (size_t i = 0; i < p->n_authors; i++) {
			d->authors[i].name = xstrdup(p->authors[i].name);
			d->authors[i].affiliation =
			    xstrdup(p->authors[i].affiliation);
		}
		d->n_authors = p->n_authors;
	}
	d->primary_category = xstrdup(p->primary_category);
	strvec_copy(&d->categories, &p->categories);
	strvec_copy(&d->ai_keywords, &p->ai_keywords);
	d->url = xstrdup(p->url);
	d->url_abs = xstrdup(p->url_abs);
	d->url_pdf = xstrdup(p->url_pdf);
	d->url_hf = xstrdup(p->url_hf);
	d->published = p->published;
	d->updated = p->updated;
	d->hf_date = p->hf_date;
	d->comment = xstrdup(p->comment);
	d->doi = xstrdup(p->doi);
	d->journal_ref = xstrdup(p->journal_ref);
	d->announce = p->announce;
	d->upvotes = p->upvotes;
	d->n_comments = p->n_comments;
	strvec_copy(&d->sources, &p->sources);
	return d;
}

/* arXiv identifiers */

/* New style: YYMM.NNNN or YYMM.NNNNN.  Returns its length or 0. */
static size_t
new_style_len(const char *s)
{
	size_t i, n;

	for (i = 0; i < 4; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	if (s[4] != '.')
		return 0;
	for (n = 0; isdigit((unsigned char)s[5 + n]); n++)
		;
	if (n != 4 && n != 5)
		return 0;
	return 5 + n;
}

/* Old style: archive(.SUB)?/YYMMNNN, e.g. hep-th/9901001, math.AG/0101001. */
static size_t
old_style_len(const char *s)
{
	size_t i = 0, n;

	if (!islower((unsigned char)s[0]))
		return 0;
	while (islower((unsigned char)s[i]) || s[i] == '-')
		i++;
	if (s[i] == '.') {
		i++;
		if (!isupper((unsigned char)s[i]))
			return 0;
		while (isupper((unsigned char)s[i]))
			i++;
	}
	if (s[i] != '/')
		return 0;
	i++;
	for (n = 0; isdigit((unsigned char)s[i + n]); n++)
		;
	if (n != 7)
		return 0;
	return i + n;
}

/* Strip the known prefixes of abs/pdf URLs and OAI guids. */
static const char *
skip_id_prefix(const char *s)
{
	static const char *const hosts[] = { "arxiv.org/", "www.arxiv.org/",
	    "export.arxiv.org/" };
	static const char *const paths[] = { "abs/", "pdf/", "html/" };
	const char *p = s;

	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (str_istarts(p, "oai:arxiv.org:"))
		return p + strlen("oai:arxiv.org:");
	if (str_istarts(p, "arxiv:"))
		return p + strlen("arxiv:");
	if (str_istarts(p, "https://"))
		p += 8;
	else if (str_istarts(p, "http://"))
		p += 7;
	else
		return p;
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		if (!str_istarts(p, hosts[i]))
			continue;
		p += strlen(hosts[i]);
		for (size_t j = 0; j < sizeof(paths) / sizeof(paths[0]); j++)
			if (str_starts(p, paths[j]))
				return p + strlen(paths[j]);
		return NULL;
	}
	return NULL;
}

int
paper_arxiv_id(const char *s, char *id, size_t idlen, int *version)
{
	const char *p;
	size_t n;
	long v = 0;

	if (s == NULL || (p = skip_id_prefix(s)) == NULL)
		return -1;
	if ((n = new_style_len(p)) == 0 && (n = old_style_len(p)) == 0)
		return -1;
	if (n >= idlen)
		return -1;
	if (p[n] == 'v' && isdigit((unsigned char)p[n + 1])) {
		char *end;

		v = strtol(p + n + 1, &end, 10);
		if (v < 1 || v > 1000)
			return -1;
	} else if (isalnum((unsigned char)p[n])) {
		return -1;
	}
	memcpy(id, p, n);
	id[n] = '\0';
	*version = (int)v;
	return 0;
}

/* prefix (a literal) followed by id, in a new string: no printf per link. */
#define URL_OF(prefix, id)	url_of((prefix), sizeof(prefix) - 1, (id))

static char *
url_of(const char *prefix, size_t plen, const char *id)
{
	size_t n = strlen(id);
	char *u = xmalloc(plen + n + 1);

	memcpy(u, prefix, plen);
	memcpy(u + plen, id, n + 1);
	return u;
}

void
paper_set_arxiv_id(struct paper *p, const char *id, int version)
{
	paper_set(&p->id, id);
	p->version = version;
	p->is_arxiv = true;
	free(p->url_abs);
	p->url_abs = URL_OF("https://arxiv.org/abs/", id);
	if (p->url_pdf == NULL)
		p->url_pdf = URL_OF("https://arxiv.org/pdf/", id);
	free(p->url_hf);
	p->url_hf = URL_OF("https://huggingface.co/papers/", id);
}

/* merge */

static bool
fill(char **dst, const char *src)
{
	if (*dst != NULL || src == NULL)
		return false;
	*dst = xstrdup(src);
	return true;
}

static bool
take_newer(char **dst, const char *src)
{
	if (src == NULL || (*dst != NULL && strcmp(*dst, src) == 0))
		return false;
	paper_set(dst, src);
	return true;
}

static bool
union_into(struct strvec *dst, const struct strvec *src)
{
	bool changed = false;

	for (size_t i = 0; i < src->n; i++) {
		if (!strvec_contains(dst, src->v[i])) {
			strvec_push(dst, src->v[i]);
			changed = true;
		}
	}
	return changed;
}

static bool
merge_text(struct paper *dst, const struct paper *src, bool newer)
{
	bool ch = false;

	if (newer) {
		ch |= take_newer(&dst->title, src->title);
		ch |= take_newer(&dst->summary, src->summary);
		ch |= take_newer(&dst->comment, src->comment);
		ch |= take_newer(&dst->doi, src->doi);
		ch |= take_newer(&dst->journal_ref, src->journal_ref);
	} else {
		ch |= fill(&dst->title, src->title);
		ch |= fill(&dst->summary, src->summary);
		ch |= fill(&dst->comment, src->comment);
		ch |= fill(&dst->doi, src->doi);
		ch |= fill(&dst->journal_ref, src->journal_ref);
	}
	if ((newer || dst->n_authors == 0) && src->n_authors > 0) {
		bool same = dst->n_authors == src->n_authors;

		for (size_t i = 0; same && i < src->n_authors; i++)
			same = strcmp(dst->authors[i].name,
			    src->authors[i].name) == 0;
		if (!same) {
			for (size_t i = 0; i < dst->n_authors; i++) {
				free(dst->authors[i].name);
				free(dst->authors[i].affiliation);
			}
			dst->n_authors = 0;
			for (size_t i = 0; i < src->n_authors; i++)
				paper_add_author(dst, src->authors[i].name,
				    src->authors[i].affiliation);
			ch = true;
		}
	}
	return ch;
}

bool
paper_merge(struct paper *dst, const struct paper *src)
{
	bool newer = src->version > dst->version;
	bool ch = false;

	ch |= merge_text(dst, src, newer);
	if (newer) {
		dst->version = src->version;
		ch = true;
	}
	ch |= fill(&dst->ai_summary, src->ai_summary);
	ch |= fill(&dst->primary_category, src->primary_category);
	ch |= union_into(&dst->categories, &src->categories);
	ch |= union_into(&dst->ai_keywords, &src->ai_keywords);
	ch |= fill(&dst->url, src->url);
	ch |= fill(&dst->url_abs, src->url_abs);
	ch |= fill(&dst->url_pdf, src->url_pdf);
	ch |= fill(&dst->url_hf, src->url_hf);
	if (dst->published == -1 && src->published != -1) {
		dst->published = src->published;
		ch = true;
	}
	if (src->updated > dst->updated) {
		dst->updated = src->updated;
		ch = true;
	}
	if (dst->hf_date == -1 && src->hf_date != -1) {
		dst->hf_date = src->hf_date;
		ch = true;
	}
	if (src->upvotes > dst->upvotes) {
		dst->upvotes = src->upvotes;
		ch = true;
	}
	if (src->n_comments > dst->n_comments) {
		dst->n_comments = src->n_comments;
		ch = true;
	}
	if (dst->announce == PAPER_ANNOUNCE_NONE && src->announce) {
		dst->announce = src->announce;
		ch = true;
	}
	ch |= union_into(&dst->sources, &src->sources);
	return ch;
}

/* announce types */

static const char *const announce_names[] = {
	[PAPER_ANNOUNCE_NONE] = NULL,
	[PAPER_ANNOUNCE_NEW] = "new",
	[PAPER_ANNOUNCE_CROSS] = "cross",
	[PAPER_ANNOUNCE_REPLACE] = "replace",
	[PAPER_ANNOUNCE_REPLACE_CROSS] = "replace-cross",
};

const char *
paper_announce_name(enum paper_announce a)
{
	if ((size_t)a >= sizeof(announce_names) / sizeof(announce_names[0]))
		return NULL;
	return announce_names[a];
}

enum paper_announce
paper_announce_parse(const char *s)
{
	for (size_t i = 1; i < sizeof(announce_names) / sizeof(announce_names[0]);
	    i++)
		if (s != NULL && strcasecmp(s, announce_names[i]) == 0)
			return (enum paper_announce)i;
	return PAPER_ANNOUNCE_NONE;
}

/*
 * JSON.  paper_to_json writes the object directly (no jansson objects: it
 * is on the hot path of `paperwatch papers`), with the keys and the
 * escaping jansson's JSON_COMPACT would give; strings are valid UTF-8
 * (the parsers clean them), control characters are escaped.
 */

/* JSON string: escapes '"', '\\' and controls; UTF-8 passes as is. */
static void
pj_str(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n, i = 0, run = 0;

	if (s == NULL) {
		buf_add(out, "null", 4);
		return;
	}
	n = strlen(s);
	buf_addc(out, '"');
	while (i < n) {
		unsigned char c;
		char esc[6] = { '\\', 0, 0, 0, 0, 0 };
		size_t k = 2;

		if (i + 8 <= n) {	/* 8 bytes with nothing to escape */
			uint64_t w;

			memcpy(&w, s + i, 8);
			if (((((w - SWAR_REP(0x20)) & ~w) |
			    swar_zero_bytes(w ^ SWAR_REP('"')) |
			    swar_zero_bytes(w ^ SWAR_REP('\\'))) &
			    SWAR_REP(0x80)) == 0) {
				i += 8;
				continue;
			}
		}
		c = (unsigned char)s[i++];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(out, s + run, i - 1 - run);
		run = i;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
			esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
			k = 6;
		}
		buf_add(out, esc, k);
	}
	buf_add(out, s + run, n - run);
	buf_addc(out, '"');
}

static void
pj_time(struct buf *out, long long t)
{
	char tb[32];

	if (t == -1) {
		buf_add(out, "null", 4);
		return;
	}
	time_format_rfc3339(t, tb, sizeof(tb));
	pj_str(out, tb);
}

static void
pj_int(struct buf *out, int v, bool present)
{
	char tmp[16];
	unsigned u;
	size_t i = sizeof(tmp);

	if (!present) {
		buf_add(out, "null", 4);
		return;
	}
	u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		tmp[--i] = '-';
	buf_add(out, tmp + i, sizeof(tmp) - i);
}

static void
pj_strvec(struct buf *out, const struct strvec *sv)
{
	buf_addc(out, '[');
	for (size_t i = 0; i < sv->n; i++) {
		if (i > 0)
			buf_addc(out, ',');
		pj_str(out, sv->v[i]);
	}
	buf_addc(out, ']');
}

/* ,"key": for a key that needs no escape, as pj_key writes it. */
#define PJ_KEY(out, lit)	buf_add((out), (lit), sizeof(lit) - 1)

void
paper_to_json(const struct paper *p, struct buf *out)
{
	bool any_aff = false;

	buf_adds(out, "{\"id\":");
	pj_str(out, p->id);
	PJ_KEY(out, ",\"version\":");
	pj_int(out, p->version, p->version != 0);
	PJ_KEY(out, ",\"title\":");
	pj_str(out, p->title);
	PJ_KEY(out, ",\"authors\":");
	buf_addc(out, '[');
	for (size_t i = 0; i < p->n_authors; i++) {
		if (i > 0)
			buf_addc(out, ',');
		pj_str(out, p->authors[i].name);
		any_aff |= p->authors[i].affiliation != NULL;
	}
	buf_addc(out, ']');
	if (any_aff) {
		PJ_KEY(out, ",\"affiliations\":");
		buf_addc(out, '[');
		for (size_t i = 0; i < p->n_authors; i++) {
			if (i > 0)
				buf_addc(out, ',');
			pj_str(out, p->authors[i].affiliation);
		}
		buf_addc(out, ']');
	}
	PJ_KEY(out, ",\"summary\":");
	pj_str(out, p->summary);
	PJ_KEY(out, ",\"categories\":");
	pj_strvec(out, &p->categories);
	PJ_KEY(out, ",\"primary_category\":");
	pj_str(out, p->primary_category);
	PJ_KEY(out, ",\"published\":");
	pj_time(out, p->published);
	PJ_KEY(out, ",\"updated\":");
	pj_time(out, p->updated);
	PJ_KEY(out, ",\"url\":");
	pj_str(out, p->url ? p->url : p->url_abs);
	PJ_KEY(out, ",\"comment\":");
	pj_str(out, p->comment);
	PJ_KEY(out, ",\"doi\":");
	pj_str(out, p->doi);
	PJ_KEY(out, ",\"journal_ref\":");
	pj_str(out, p->journal_ref);
	PJ_KEY(out, ",\"announce_type\":");
	pj_str(out, paper_announce_name(p->announce));
	PJ_KEY(out, ",\"ai_summary\":");
	pj_str(out, p->ai_summary);
	PJ_KEY(out, ",\"ai_keywords\":");
	pj_strvec(out, &p->ai_keywords);
	PJ_KEY(out, ",\"upvotes\":");
	pj_int(out, p->upvotes, p->upvotes >= 0);
	PJ_KEY(out, ",\"comments\":");
	pj_int(out, p->n_comments, p->n_comments >= 0);
	PJ_KEY(out, ",\"hf_date\":");
	pj_time(out, p->hf_date);
	PJ_KEY(out, ",\"sources\":");
	pj_strvec(out, &p->sources);
	buf_adds(out, ",\"links\":{\"abs\":");
	pj_str(out, p->url_abs);
	PJ_KEY(out, ",\"pdf\":");
	pj_str(out, p->url_pdf);
	PJ_KEY(out, ",\"hf\":");
	pj_str(out, p->url_hf);
	buf_adds(out, "}}");
}

static const char *
jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static long long
jtime(json_t *o, const char *k)
{
	const char *s = jstr(o, k);

	return s ? time_parse_rfc3339(s) : -1;
}

static void
jstrvec(json_t *o, const char *k, struct strvec *sv)
{
	json_t *a = json_object_get(o, k), *v;
	size_t i;

	json_array_foreach(a, i, v)
		if (json_is_string(v))
			strvec_push(sv, json_string_value(v));
}

static int
jint(json_t *o, const char *k, int dflt)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

/*
 * The general reader, through jansson: any JSON object, keys in any
 * order, unknown keys ignored.
 */
static struct paper *
from_json_jansson(const char *s, size_t len)
{
	json_t *o = json_loadb(s, len, 0, NULL), *a, *aff, *links, *v;
	struct paper *p;
	size_t i;

	if (!json_is_object(o) || jstr(o, "id") == NULL) {
		json_decref(o);
		return NULL;
	}
	p = paper_new();
	p->id = xstrdup(jstr(o, "id"));
	p->version = jint(o, "version", 0);
	p->title = xstrdup(jstr(o, "title"));
	p->summary = xstrdup(jstr(o, "summary"));
	p->ai_summary = xstrdup(jstr(o, "ai_summary"));
	a = json_object_get(o, "authors");
	aff = json_object_get(o, "affiliations");
	json_array_foreach(a, i, v)
		if (json_is_string(v))
			paper_add_author(p, json_string_value(v),
			    json_string_value(json_array_get(aff, i)));
	jstrvec(o, "categories", &p->categories);
	jstrvec(o, "ai_keywords", &p->ai_keywords);
	jstrvec(o, "sources", &p->sources);
	p->primary_category = xstrdup(jstr(o, "primary_category"));
	p->published = jtime(o, "published");
	p->updated = jtime(o, "updated");
	p->hf_date = jtime(o, "hf_date");
	p->comment = xstrdup(jstr(o, "comment"));
	p->doi = xstrdup(jstr(o, "doi"));
	p->journal_ref = xstrdup(jstr(o, "journal_ref"));
	p->announce = paper_announce_parse(jstr(o, "announce_type"));
	p->upvotes = jint(o, "upvotes", -1);
	p->n_comments = jint(o, "comments", -1);
	links = json_object_get(o, "links");
	p->url_abs = xstrdup(jstr(links, "abs"));
	p->url_pdf = xstrdup(jstr(links, "pdf"));
	p->url_hf = xstrdup(jstr(links, "hf"));
	p->url = xstrdup(jstr(o, "url"));
	{
		char id[64];
		int ver;

		p->is_arxiv = paper_arxiv_id(p->id, id, sizeof(id), &ver) == 0 &&
		    strcmp(id, p->id) == 0;
	}
	json_decref(o);
	return p;
}

/*
 * The fast reader, for what paper_to_json writes (the state database
 * reads every stored paper back, once per digest that lists it): one
 * pass, no jansson objects.  It knows the keys paper_to_json writes and
 * their types; anything else (an unknown or repeated key, a value of
 * another type, a number that is not a small integer, a \u0000 or an
 * invalid escape or UTF-8 sequence) makes it give up, and the jansson
 * reader decides, so both give the same paper for every input.
 */
struct pjr {
	const char	*p;
	const char	*end;
	struct buf	 tmp;		/* decoded strings with escapes */
};

enum pj_key {
	PK_ID, PK_VERSION, PK_TITLE, PK_AUTHORS, PK_AFFILIATIONS, PK_SUMMARY,
	PK_CATEGORIES, PK_PRIMARY, PK_PUBLISHED, PK_UPDATED, PK_URL,
	PK_COMMENT, PK_DOI, PK_JREF, PK_ANNOUNCE, PK_AI_SUMMARY,
	PK_AI_KEYWORDS, PK_UPVOTES, PK_COMMENTS, PK_HF_DATE, PK_SOURCES,
	PK_LINKS, PK_ABS, PK_PDF, PK_HF, PK_N
};

#define PK(s)	{ s, sizeof(s) - 1 }
static const struct {
	const char	*name;
	size_t		 len;
} pj_keys[PK_N] = {
	PK("id"), PK("version"), PK("title"), PK("authors"),
	PK("affiliations"), PK("summary"), PK("categories"),
	PK("primary_category"), PK("published"), PK("updated"), PK("url"),
	PK("comment"), PK("doi"), PK("journal_ref"), PK("announce_type"),
	PK("ai_summary"), PK("ai_keywords"), PK("upvotes"), PK("comments"),
	PK("hf_date"), PK("sources"), PK("links"), PK("abs"), PK("pdf"),
	PK("hf"),
};
#undef PK

static bool
pj_key_is(int i, const char *s, size_t n)
{
	return pj_keys[i].len == n && memcmp(pj_keys[i].name, s, n) == 0;
}

static void
pjr_ws(struct pjr *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
	    *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static bool
pjr_lit(struct pjr *r, const char *lit, size_t n)
{
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, lit, n) != 0)
		return false;
	r->p += n;
	return true;
}

static int
pjr_hex4(const char *s)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if none. */
static size_t
pjr_utf8(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t k;
	unsigned lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		k = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		k = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		k = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < k || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < k; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return k;
}

static void
pjr_put_utf8(struct buf *b, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_add(b, u, n);
}

/* One escape after the backslash at r->p[-1]; false if not accepted. */
static bool
pjr_escape(struct pjr *r)
{
	int v, w;

	if (r->p >= r->end)
		return false;
	switch (*r->p++) {
	case '"': buf_addc(&r->tmp, '"'); return true;
	case '\\': buf_addc(&r->tmp, '\\'); return true;
	case '/': buf_addc(&r->tmp, '/'); return true;
	case 'b': buf_addc(&r->tmp, '\b'); return true;
	case 'f': buf_addc(&r->tmp, '\f'); return true;
	case 'n': buf_addc(&r->tmp, '\n'); return true;
	case 'r': buf_addc(&r->tmp, '\r'); return true;
	case 't': buf_addc(&r->tmp, '\t'); return true;
	case 'u': break;
	default: return false;
	}
	if (r->end - r->p < 4 || (v = pjr_hex4(r->p)) <= 0)
		return false;			/* \u0000 too: jansson's call */
	r->p += 4;
	if (v >= 0xdc00 && v <= 0xdfff)
		return false;
	if (v >= 0xd800 && v <= 0xdbff) {
		if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' ||
		    (w = pjr_hex4(r->p + 2)) < 0xdc00 || w > 0xdfff)
			return false;
		r->p += 6;
		v = 0x10000 + ((v - 0xd800) << 10) + (w - 0xdc00);
	}
	pjr_put_utf8(&r->tmp, (unsigned)v);
	return true;
}

/*
 * A string at r->p (after its opening quote): *out a copy (caller frees).
 * false if it is not one the fast reader takes.
 */
static bool
pjr_string(struct pjr *r, char **out)
{
	const char *start = r->p;
	bool esc = false;

	buf_reset(&r->tmp);
	for (;;) {
		const char *run = r->p;
		unsigned char c;

		/* eight plain bytes at once: ASCII, no control, '"' or '\\' */
		while (r->end - r->p >= 8) {
			uint64_t w;

			memcpy(&w, r->p, 8);
			if ((w & SWAR_REP(0x80)) != 0 ||
			    ((w - SWAR_REP(0x20)) & ~w & SWAR_REP(0x80)) != 0 ||
			    swar_zero_bytes(w ^ SWAR_REP('"')) != 0 ||
			    swar_zero_bytes(w ^ SWAR_REP('\\')) != 0)
				break;
			r->p += 8;
		}
		while (r->p < r->end && (c = (unsigned char)*r->p) >= 0x20 &&
		    c < 0x80 && c != '"' && c != '\\')
			r->p++;
		if (esc)
			buf_add(&r->tmp, run, (size_t)(r->p - run));
		if (r->p >= r->end)
			return false;
		c = (unsigned char)*r->p;
		if (c == '"') {
			r->p++;
			break;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (!esc) {
				buf_add(&r->tmp, start, (size_t)(r->p - start));
				esc = true;
			}
			r->p++;
			if (!pjr_escape(r))
				return false;
			continue;
		}
		{
			size_t k = pjr_utf8((const unsigned char *)r->p,
			    (size_t)(r->end - r->p));

			if (k == 0)
				return false;
			if (esc)
				buf_add(&r->tmp, r->p, k);
			r->p += k;
		}
	}
	if (out == NULL)
		return true;
	*out = esc ? xstrndup(r->tmp.data ? r->tmp.data : "", r->tmp.len) :
	    xstrndup(start, (size_t)(r->p - 1 - start));
	return true;
}

/* A string or null: *out the copy or NULL. */
static bool
pjr_str_or_null(struct pjr *r, char **out)
{
	*out = NULL;
	if (pjr_lit(r, "null", 4))
		return true;
	if (r->p >= r->end || *r->p != '"')
		return false;
	r->p++;
	return pjr_string(r, out);
}

/* A small integer or null (dflt). */
static bool
pjr_int(struct pjr *r, int *out, int dflt)
{
	bool neg = false;
	int v = 0, nd = 0;

	*out = dflt;
	if (pjr_lit(r, "null", 4))
		return true;
	if (r->p < r->end && *r->p == '-') {
		neg = true;
		r->p++;
	}
	if (r->p < r->end && *r->p == '0') {
		r->p++;
		nd = 1;
	} else {
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9' &&
		    nd < 9) {
			v = v * 10 + (*r->p++ - '0');
			nd++;
		}
	}
	if (nd == 0 || (r->p < r->end && (*r->p == '.' || *r->p == 'e' ||
	    *r->p == 'E' || (*r->p >= '0' && *r->p <= '9'))))
		return false;
	*out = neg ? -v : v;
	return true;
}

/* An array of strings and nulls; nulls kept as NULL entries when keep. */
static bool
pjr_strings(struct pjr *r, char ***v, size_t *n)
{
	size_t cap = 0;

	*v = NULL;
	*n = 0;
	if (pjr_lit(r, "null", 4))
		return true;
	if (!pjr_lit(r, "[", 1))
		return false;
	pjr_ws(r);
	if (pjr_lit(r, "]", 1))
		return true;
	for (;;) {
		char *s;

		pjr_ws(r);
		if (!pjr_str_or_null(r, &s))
			return false;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*v = xreallocarray(*v, cap, sizeof(**v));
		}
		(*v)[(*n)++] = s;
		pjr_ws(r);
		if (pjr_lit(r, "]", 1))
			return true;
		if (!pjr_lit(r, ",", 1))
			return false;
	}
}

static void
pjr_free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * A key and its colon: which key of from..to-1, false if none.  The one
 * after prev (in paper_to_json's order) is tried first.
 */
static bool
pjr_key(struct pjr *r, enum pj_key *k, int from, int to, int prev)
{
	int next = prev + 1;
	const char *start;
	size_t n;

	pjr_ws(r);
	if (!pjr_lit(r, "\"", 1))
		return false;
	start = r->p;
	while (r->p < r->end && *r->p != '"' && *r->p != '\\' &&
	    (unsigned char)*r->p >= 0x20 && (unsigned char)*r->p < 0x80)
		r->p++;
	if (r->p >= r->end || *r->p != '"')
		return false;
	n = (size_t)(r->p - start);
	r->p++;
	*k = PK_N;
	if (next >= from && next < to && pj_key_is(next, start, n))
		*k = (enum pj_key)next;
	for (int i = from; i < to && *k == PK_N; i++)
		if (pj_key_is(i, start, n))
			*k = (enum pj_key)i;
	pjr_ws(r);
	return *k != PK_N && pjr_lit(r, ":", 1);
}

/* "links": {"abs": ..., "pdf": ..., "hf": ...} */
static bool
pjr_links(struct pjr *r, struct paper *p, unsigned *seen)
{
	enum pj_key k = PK_LINKS;	/* "abs" comes first */

	if (!pjr_lit(r, "{", 1))
		return false;
	pjr_ws(r);
	if (pjr_lit(r, "}", 1))
		return true;
	for (;;) {
		char **f;

		if (!pjr_key(r, &k, PK_ABS, PK_HF + 1, (int)k) ||
		    (*seen >> k & 1))
			return false;
		*seen |= 1u << k;
		f = k == PK_ABS ? &p->url_abs : k == PK_PDF ? &p->url_pdf :
		    &p->url_hf;
		pjr_ws(r);
		if (!pjr_str_or_null(r, f))
			return false;
		pjr_ws(r);
		if (pjr_lit(r, "}", 1))
			return true;
		if (!pjr_lit(r, ",", 1))
			return false;
	}
}

static bool
pjr_time(struct pjr *r, long long *t)
{
	char *s;

	if (!pjr_str_or_null(r, &s))
		return false;
	*t = s != NULL ? time_parse_rfc3339(s) : -1;
	free(s);
	return true;
}

static bool
pjr_strvec(struct pjr *r, struct strvec *sv)
{
	char **v;
	size_t n;

	if (!pjr_strings(r, &v, &n))
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] != NULL)
			strvec_push(sv, v[i]);
	pjr_free_strings(v, n);
	return true;
}

static bool
pjr_value(struct pjr *r, struct paper *p, enum pj_key k, unsigned *seen,
    char ***au, size_t *n_au, char ***af, size_t *n_af, char **announce)
{
	switch (k) {
	case PK_ID: return pjr_str_or_null(r, &p->id);
	case PK_VERSION: return pjr_int(r, &p->version, 0);
	case PK_TITLE: return pjr_str_or_null(r, &p->title);
	case PK_AUTHORS: return pjr_strings(r, au, n_au);
	case PK_AFFILIATIONS: return pjr_strings(r, af, n_af);
	case PK_SUMMARY: return pjr_str_or_null(r, &p->summary);
	case PK_CATEGORIES: return pjr_strvec(r, &p->categories);
	case PK_PRIMARY: return pjr_str_or_null(r, &p->primary_category);
	case PK_PUBLISHED: return pjr_time(r, &p->published);
	case PK_UPDATED: return pjr_time(r, &p->updated);
	case PK_URL: return pjr_str_or_null(r, &p->url);
	case PK_COMMENT: return pjr_str_or_null(r, &p->comment);
	case PK_DOI: return pjr_str_or_null(r, &p->doi);
	case PK_JREF: return pjr_str_or_null(r, &p->journal_ref);
	case PK_ANNOUNCE: return pjr_str_or_null(r, announce);
	case PK_AI_SUMMARY: return pjr_str_or_null(r, &p->ai_summary);
	case PK_AI_KEYWORDS: return pjr_strvec(r, &p->ai_keywords);
	case PK_UPVOTES: return pjr_int(r, &p->upvotes, -1);
	case PK_COMMENTS: return pjr_int(r, &p->n_comments, -1);
	case PK_HF_DATE: return pjr_time(r, &p->hf_date);
	case PK_SOURCES: return pjr_strvec(r, &p->sources);
	case PK_LINKS: return pjr_links(r, p, seen);
	default: return false;
	}
}

/* The paper, or NULL when the fast reader does not take s. */
static struct paper *
from_json_fast(const char *s, size_t len, bool *taken)
{
	struct pjr r = { s, s + len, { NULL, 0, 0 } };
	struct paper *p = paper_new();
	char **au = NULL, **af = NULL, *announce = NULL;
	size_t n_au = 0, n_af = 0;
	unsigned seen = 0;
	bool ok = false;

	buf_init(&r.tmp);
	pjr_ws(&r);
	if (!pjr_lit(&r, "{", 1))
		goto out;
	pjr_ws(&r);
	if (!pjr_lit(&r, "}", 1)) {
		int prev = -1;

		for (;;) {
			enum pj_key k;

			if (!pjr_key(&r, &k, 0, PK_LINKS + 1, prev) ||
			    (seen >> k & 1))
				goto out;
			prev = (int)k;
			seen |= 1u << k;
			pjr_ws(&r);
			if (!pjr_value(&r, p, k, &seen, &au, &n_au, &af, &n_af,
			    &announce))
				goto out;
			pjr_ws(&r);
			if (pjr_lit(&r, "}", 1))
				break;
			if (!pjr_lit(&r, ",", 1))
				goto out;
		}
	}
	pjr_ws(&r);
	ok = r.p == r.end && p->id != NULL;
out:
	*taken = ok;
	if (ok) {
		for (size_t i = 0; i < n_au; i++)
			if (au[i] != NULL)
				paper_add_author(p, au[i], i < n_af ? af[i] :
				    NULL);
		p->announce = paper_announce_parse(announce);
		{
			char id[64];
			int ver;

			p->is_arxiv = paper_arxiv_id(p->id, id, sizeof(id),
			    &ver) == 0 && strcmp(id, p->id) == 0;
		}
	} else {
		paper_free(p);
		p = NULL;
	}
	pjr_free_strings(au, n_au);
	pjr_free_strings(af, n_af);
	free(announce);
	buf_release(&r.tmp);
	return p;
}

struct paper *
paper_from_json(const char *s, size_t len)
{
	struct paper *p;
	bool taken;

	if (s == NULL)
		return NULL;
	p = from_json_fast(s, len, &taken);
	return taken ? p : from_json_jansson(s, len);
}

/* lists */

void
paper_list_init(struct paper_list *l)
{
	l->v = NULL;
	l->n = 0;
	l->cap = 0;
}

void
paper_list_release(struct paper_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		paper_free(l->v[i]);
	free(l->v);
	paper_list_init(l);
}

void
paper_list_push_take(struct paper_list *l, struct paper *p)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = p;
}
