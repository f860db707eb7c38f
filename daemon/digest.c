/*
 * digest.c: the model a digest template sees, and rendering it in each
 * output format with that format's escaping and platform limits.
 *
 * Every format is a row of one table: its escaping, whether the output is
 * a JSON payload, how a hit term is emphasised, how long the shortened
 * fields are, and the check of the platform's limits.  A digest that does
 * not fit one message is split between papers (never inside a paper, a
 * character or a link) into parts that each say "(k/n)"; a paper that
 * does not fit alone is rendered again with shorter fields.
 */
#include "digest.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "render.h"

#define TEMPLATE_MAX	(1u << 20)	/* bytes of one template file */
#define URL_MAX		2048
#define SUBJECT_MAX	200
#define WRAP_COLUMNS	78
#define AUTHORS_ALL	5	/* list every author up to this many */
#define AUTHORS_FEW	3	/* else the first three, "et al." */
#define LEVELS		4	/* compaction levels for a paper too big */
#define HL_MAX		4096	/* longer titles are not highlighted */

#define DISCORD_CONTENT		2000
#define DISCORD_EMBEDS		10
#define DISCORD_EMBED_TOTAL	6000
#define DISCORD_TITLE		256
#define DISCORD_DESCRIPTION	4096
#define DISCORD_FOOTER		2048
#define DISCORD_FIELDS		25
#define DISCORD_FIELD_NAME	256
#define DISCORD_FIELD_VALUE	1024
#define SLACK_BLOCKS		50
#define SLACK_SECTION_TEXT	3000
#define SLACK_HEADER_TEXT	150
#define SLACK_CONTEXT_ELEMENTS	10
#define SLACK_FIELDS		10
#define SLACK_FIELD_TEXT	2000
#define SLACK_TEXT		40000
#define MATTERMOST_TEXT		16000	/* server limit 16,383 runes */
#define TEAMS_BYTES		28000	/* "about 28 KB" a card */
#define MATRIX_BYTES		60000	/* events are at most 65,536 bytes */
#define NTFY_BYTES		4096

/*
 * A platform's limits: 0 if the payload j (len bytes) fits; else -1, why
 * filled and *fill set to how far over (2.0: twice the limit).
 */
struct over {
	char	why[160];
	double	fill;
};
typedef int (*limit_fn)(const json_t *j, size_t len, struct over *ov);

struct fmt {
	const char		*name;
	enum render_escape	 esc;
	bool			 json;
	const char		*hl_open;	/* NULL: no emphasis */
	const char		*hl_close;
	size_t			 title_max;	/* characters */
	size_t			 summary_max;
	size_t			 authors_max;
	size_t			 max_bytes;	/* 0: no limit */
	limit_fn		 limit;		/* NULL: no other limit */
	bool			 wrap;		/* 78-column text */
};

/*
 * Shortening at each compaction level: title, summary, authors; at the
 * last level, links longer than LINK_SHORT_MAX bytes are left out too.
 */
#define LINK_SHORT_MAX	300
static const size_t level_max[LEVELS][3] = {
	{ 0, 0, 0 },		/* the format's own */
	{ 160, 160, 120 },
	{ 100, 0, 60 },
	{ 60, 0, 40 },
};

static int limit_discord(const json_t *, size_t, struct over *);
static int limit_slack(const json_t *, size_t, struct over *);
static int limit_mattermost(const json_t *, size_t, struct over *);

static const struct fmt formats[] = {
	{ "text", RENDER_ESC_NONE, false, NULL, NULL, 300, 500, 200,
	    0, NULL, true },
	{ "html", RENDER_ESC_HTML, false, "<strong>", "</strong>", 300, 600,
	    200, 0, NULL, false },
	{ "markdown", RENDER_ESC_MARKDOWN, false, "**", "**", 300, 600, 200,
	    0, NULL, false },
	{ "slack", RENDER_ESC_MRKDWN, true, "*", "*", 250, 300, 150,
	    0, limit_slack, false },
	{ "discord", RENDER_ESC_DISCORD, true, "**", "**", 200, 300, 150,
	    0, limit_discord, false },
	{ "mattermost", RENDER_ESC_DISCORD, true, "**", "**", 250, 300, 150,
	    0, limit_mattermost, false },
	{ "teams", RENDER_ESC_NONE, true, "**", "**", 250, 300, 150,
	    TEAMS_BYTES, NULL, false },
	{ "matrix", RENDER_ESC_HTML, true, "<strong>", "</strong>", 300, 400,
	    150, MATRIX_BYTES, NULL, false },
	{ "ntfy", RENDER_ESC_NONE, true, NULL, NULL, 150, 200, 100,
	    NTFY_BYTES, NULL, false },
	{ "json", RENDER_ESC_JSON, true, NULL, NULL, 300, 300, 200, 0, NULL,
	    false },
};

const char *const digest_formats[] = {
	"text", "html", "markdown", "slack", "discord", "mattermost", "teams",
	"matrix", "ntfy", "json", NULL,
};

static const struct fmt *
fmt_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	if (strcmp(name, "md") == 0)
		name = "markdown";
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	return NULL;
}

bool
digest_format_known(const char *format)
{
	return fmt_find(format) != NULL;
}

/* ------------------------------------------------------------------ */
/* Text helpers */

/*
 * Bytes of w with the high bit set in hb (0x80 or 0 in each byte): one
 * multiply, where __builtin_popcountll is a libgcc call without -mpopcnt.
 */
static size_t
high_bits(uint64_t hb)
{
	return (size_t)(((hb >> 7) * SWAR_REP(0x01)) >> 56);
}

/* Code points in s[0..n): the bytes that are not continuation bytes. */
static size_t
u8_len(const char *s, size_t n)
{
	size_t i = 0, c = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w, cont;

		memcpy(&w, s + i, 8);
		cont = w & ~(w << 1) & SWAR_REP(0x80);	/* 10xxxxxx */
		c += 8 - high_bits(cont);
	}
	for (; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

/* u8_len(s, n) > max, counting no further than needed. */
static bool
u8_over(const char *s, size_t n, size_t max)
{
	size_t i = 0, c = 0;

	if (n <= max)			/* never more code points than bytes */
		return false;
	for (; i + 8 <= n && c <= max; i += 8) {
		uint64_t w, cont;

		memcpy(&w, s + i, 8);
		cont = w & ~(w << 1) & SWAR_REP(0x80);
		c += 8 - high_bits(cont);
	}
	return c > max || c + u8_len(s + i, n - i) > max;
}

/* UTF-16 code units of s (what chat platforms count, at worst). */
static size_t
u16_len(const char *s)
{
	size_t c = 0;

	for (; *s; s++) {
		unsigned char b = (unsigned char)*s;

		if ((b & 0xc0) != 0x80)
			c += b >= 0xf0 ? 2 : 1;
	}
	return c;
}

/*
 * Append s shortened to at most max code points: cut at the last blank
 * before the limit (or, for one very long word, at a character boundary),
 * drop trailing blanks and separators, and end with an ellipsis.
 */
static void
shorten(struct buf *out, const char *s, size_t max)
{
	size_t n = strlen(s), i, chars = 0, cut = 0, blank = 0;

	if (max == 0 || !u8_over(s, n, max)) {
		buf_add(out, s, n);
		return;
	}
	for (i = 0; i < n; i++) {
		uint64_t w, bl;

		/* eight ASCII bytes that cannot reach the limit: at once */
		if (i + 8 <= n && chars + 8 <= max - 1) {
			memcpy(&w, s + i, 8);
			if ((w & SWAR_REP(0x80)) == 0) {
				bl = swar_zero_bytes(w ^ SWAR_REP(' ')) |
				    swar_zero_bytes(w ^ SWAR_REP('\n')) |
				    swar_zero_bytes(w ^ SWAR_REP('\t'));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
				bl = __builtin_bswap64(bl);	/* s[i] low */
#endif
				if (bl != 0)	/* the last blank of the eight */
					blank = i + (size_t)(63 -
					    __builtin_clzll(bl)) / 8;
				chars += 8;
				i += 7;
				continue;
			}
		}
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (chars == max - 1)
			break;
		chars++;
		if (s[i] == ' ' || s[i] == '\n' || s[i] == '\t')
			blank = i;
	}
	cut = i;
	if (cut < n && (s[cut] == ' ' || s[cut] == '\n' || s[cut] == '\t'))
		blank = cut;		/* the limit falls between two words */
	if (blank > 0 && blank >= cut / 3)
		cut = blank;
	while (cut > 0 && strchr(" \t\n,;:-", s[cut - 1]) != NULL)
		cut--;
	buf_add(out, s, cut);
	buf_adds(out, "\xe2\x80\xa6");	/* … */
}

/*
 * Feed text as a template sees it: valid UTF-8, no control characters,
 * white space collapsed to single blanks (so a title can never break a
 * line, a table row or an indentation).  Most text already is: then it is
 * used in place, without a copy.
 */
struct text {
	const char	*s;
	size_t		 len;
	char		*own;		/* the cleaned copy, if one was made */
};

/* true if the 8 bytes of w are printable ASCII without two blanks. */
static bool
word_clean(uint64_t w)
{
	uint64_t sp;

	if (((w | (w + SWAR_REP(0x01)) | ((w - SWAR_REP(0x20)) & ~w)) &
	    SWAR_REP(0x80)) != 0)
		return false;		/* a control, DEL or non-ASCII byte */
	sp = swar_zero_bytes(w ^ SWAR_REP(' '));
	return (sp & (sp >> 8)) == 0;
}

static bool
is_clean(const char *s, size_t n)
{
	bool high = false;
	size_t i = 0;

	if (n > 0 && (s[0] == ' ' || s[n - 1] == ' '))
		return false;
	while (i < n) {
		size_t end = i + 8 <= n ? i + 8 : n;

		if (i + 8 <= n) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			/* s[n] is the terminating NUL */
			if (word_clean(w) && !(s[i + 7] == ' ' &&
			    s[i + 8] == ' ')) {
				i += 8;
				continue;
			}
		}
		for (; i < end; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c < 0x20 || c == 0x7f ||
			    (c == ' ' && s[i + 1] == ' '))
				return false;
			if (c == 0xc2 && (unsigned char)s[i + 1] >= 0x80 &&
			    (unsigned char)s[i + 1] <= 0x9f)
				return false;	/* C1 control */
			high = high || c >= 0x80;
		}
	}
	return !high || utf8_valid(s, n);
}

static void
text_get(struct text *t, const char *s)
{
	struct buf b;
	size_t i, n = strlen(s);

	t->own = NULL;
	t->s = s;
	t->len = n;
	if (is_clean(s, n))
		return;
	buf_init(&b);
	utf8_clean(&b, s, n);
	buf_addc(&b, '\0');
	for (i = 0; i < b.len; i++)
		if ((unsigned char)b.data[i] < 0x20 || b.data[i] == 0x7f)
			b.data[i] = ' ';
	str_collapse_ws(b.data);
	t->own = buf_detach(&b);
	t->s = t->own;
	t->len = strlen(t->own);
}

static void
text_release(struct text *t)
{
	free(t->own);
	t->own = NULL;
}

/* A JSON string of clean text (valid UTF-8: no second check). */
static json_t *
jtext(const char *s, size_t len)
{
	json_t *j = json_stringn_nocheck(s, len);

	return j ? j : json_string("");
}

/* A string value (cleaned), or null. */
static json_t *
jstr(const char *s)
{
	struct text t;
	json_t *j;

	if (s == NULL)
		return json_null();
	text_get(&t, s);
	j = jtext(t.s, t.len);
	text_release(&t);
	return j;
}

/* Clean text t shortened to max characters (0: whole). */
static json_t *
jshort_text(const struct text *t, size_t max)
{
	struct buf b;
	json_t *j;

	if (max == 0 || !u8_over(t->s, t->len, max))
		return jtext(t->s, t->len);
	buf_init(&b);
	shorten(&b, t->s, max);
	j = jtext(buf_str(&b), b.len);
	buf_release(&b);
	return j;
}

static json_t *
jdate(long long t)
{
	char d[32];
	struct tm tm;
	time_t tt = (time_t)t;

	if (t < 0 || gmtime_r(&tt, &tm) == NULL)
		return json_null();
	strftime(d, sizeof(d), "%Y-%m-%d", &tm);
	return json_string(d);
}

/* The ASCII bytes safe_url encodes besides blanks and controls. */
static bool
url_special(unsigned char c)
{
	switch (c) {
	case '"': case '\'': case '<': case '>': case '\\': case '^':
	case '`': case '{': case '|': case '}': case '(': case ')':
	case '[': case ']': case '*':
		return true;
	default:
		return false;
	}
}

/*
 * A link safe to put anywhere (an HTML attribute, a Markdown or mrkdwn
 * link, JSON): http or https only; blanks, quotes, brackets, pipes,
 * parentheses, control and non-ASCII bytes percent-encoded.  NULL when
 * the link is not one.
 */
static char *
safe_url(const char *u)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b;
	size_t i;

	if (u == NULL || (!str_istarts(u, "https://") &&
	    !str_istarts(u, "http://")) || strlen(u) > URL_MAX)
		return NULL;
	for (i = 0; u[i] > 0x20 && u[i] < 0x7f &&
	    !url_special((unsigned char)u[i]); i++)
		;
	if (u[i] == '\0')
		return xstrdup(u);		/* nothing to encode */
	buf_init(&b);
	for (i = 0; u[i]; i++) {
		unsigned char c = (unsigned char)u[i];

		if (c <= 0x20 || c >= 0x7f || url_special(c)) {
			buf_addc(&b, '%');
			buf_addc(&b, hex[c >> 4]);
			buf_addc(&b, hex[c & 15]);
		} else
			buf_addc(&b, (char)c);
	}
	return buf_detach(&b);
}

/* ------------------------------------------------------------------ */
/* Highlighting */

static bool
word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80;
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* The searchable part of a hit: no field prefix, quotes or '*'. */
static void
hit_term(const char *hit, const char **t, size_t *n, bool *prefix)
{
	static const char *const fields[] = { "title:", "abstract:",
	    "author:", "cat:", "source:", "ti:", "abs:", "au:" };
	size_t i;

	*t = hit;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (str_istarts(hit, fields[i]))
			*t = hit + strlen(fields[i]);
	*n = strlen(*t);
	while (*n > 0 && ((*t)[0] == '"' || (*t)[0] == ' ')) {
		(*t)++;
		(*n)--;
	}
	while (*n > 0 && ((*t)[*n - 1] == '"' || (*t)[*n - 1] == ' '))
		(*n)--;
	*prefix = *n > 0 && (*t)[*n - 1] == '*';
	if (*prefix)
		(*n)--;
}

/* Mark in on[] every whole-word, case-insensitive occurrence of hit. */
static void
mark_hit(const char *s, size_t len, const char *hit, bool *on)
{
	const char *t;
	size_t n, i, j, end;
	bool prefix;

	hit_term(hit, &t, &n, &prefix);
	if (n == 0 || n > len)
		return;
	for (i = 0; i + n <= len; i++) {
		if (i > 0 && word_byte((unsigned char)s[i - 1]) &&
		    word_byte((unsigned char)t[0]))
			continue;
		for (j = 0; j < n && lower((unsigned char)s[i + j]) ==
		    lower((unsigned char)t[j]); j++)
			;
		if (j < n)
			continue;
		end = i + n;
		if (prefix)
			while (end < len && word_byte((unsigned char)s[end]))
				end++;
		else if (end < len && word_byte((unsigned char)s[end]) &&
		    word_byte((unsigned char)t[n - 1]))
			continue;
		memset(on + i, 1, end - i);
	}
}

/*
 * The title with every hit emphasised in the format's syntax; each piece
 * of text escaped on its own, so the markup is ours and the text is inert.
 */
static json_t *
highlight(const struct fmt *f, const char *title, size_t len,
    const struct digest_item *it)
{
	enum render_escape esc = f->esc == RENDER_ESC_JSON ? RENDER_ESC_NONE :
	    f->esc;
	size_t i, run;
	struct buf b;
	bool *on;
	json_t *j;

	on = xcalloc(len + 1, sizeof(*on));
	for (i = 0; f->hl_open != NULL && len <= HL_MAX && it->hits != NULL &&
	    i < it->n_hits; i++)
		if (it->hits[i] != NULL)
			mark_hit(title, len, it->hits[i], on);
	buf_init(&b);
	for (i = 0; i < len; i = run) {
		for (run = i; run < len && on[run] == on[i]; run++)
			;
		if (on[i])
			buf_adds(&b, f->hl_open);
		render_escape_append(&b, title + i, run - i, esc);
		if (on[i])
			buf_adds(&b, f->hl_close);
	}
	free(on);
	j = jtext(buf_str(&b), b.len);
	buf_release(&b);
	return j;
}

/* ------------------------------------------------------------------ */
/* The model */

/*
 * The keys of a paper's model.  A template sees only the keys it names
 * (in itself or its partials), so only those are built: the model of a
 * paper costs a few hundred allocations when every key is built.
 */
enum mk {
	MK_RANK, MK_ID, MK_VERSION, MK_IS_ARXIV, MK_TITLE, MK_TITLE_SHORT,
	MK_TITLE_HL, MK_SUMMARY, MK_SUMMARY_SHORT, MK_AI_SUMMARY,
	MK_AI_SUMMARY_SHORT, MK_BLURB, MK_BLURB_SHORT, MK_AUTHORS,
	MK_N_AUTHORS, MK_AUTHORS_LINE, MK_AUTHORS_SHORT, MK_PRIMARY_CATEGORY,
	MK_CATEGORIES, MK_CATEGORIES_LINE, MK_AI_KEYWORDS, MK_HITS,
	MK_HITS_LINE, MK_SOURCES, MK_SOURCES_LINE, MK_URL, MK_URL_ABS,
	MK_URL_PDF, MK_URL_HF, MK_URL_MAIN, MK_LINKS, MK_LINKS_LIST,
	MK_HAS_LINKS, MK_HAS_UPVOTES, MK_UPVOTES, MK_HAS_COMMENTS,
	MK_N_COMMENTS, MK_SCORE, MK_PUBLISHED, MK_UPDATED, MK_ANNOUNCE,
	MK_COMMENT, MK_DOI, MK_JOURNAL_REF, MK_FIRST, MK_LAST,
	MK_COUNT_
};

static const char *const mk_names[MK_COUNT_] = {
	"rank", "id", "version", "is_arxiv", "title", "title_short",
	"title_hl", "summary", "summary_short", "ai_summary",
	"ai_summary_short", "blurb", "blurb_short", "authors",
	"n_authors", "authors_line", "authors_short", "primary_category",
	"categories", "categories_line", "ai_keywords", "hits",
	"hits_line", "sources", "sources_line", "url", "url_abs",
	"url_pdf", "url_hf", "url_main", "links", "links_list",
	"has_links", "has_upvotes", "upvotes", "has_comments",
	"n_comments", "score", "published", "updated", "announce",
	"comment", "doi", "journal_ref", "first", "last",
};

typedef uint64_t mk_mask;
#define MK_ALL		(~(mk_mask)0)
#define MK_BIT(k)	((mk_mask)1 << (k))

/* Set key k of o to the value of expr, evaluated only if k is wanted. */
#define MK_PUT(o, want, k, expr) do {					\
	if ((want) & MK_BIT(k))						\
		json_object_set_new_nocheck((o), mk_names[k], (expr));	\
} while (0)

/* The same into v[k], an array of the values of a paper's model. */
#define MK_SET(v, want, k, expr) do {					\
	if ((want) & MK_BIT(k))						\
		(v)[k] = (expr);					\
} while (0)

/*
 * The order in which a paper's model gets its keys (what a JSON dump of
 * the model shows).
 */
static const unsigned char mk_order[] = {
	MK_RANK, MK_ID, MK_VERSION, MK_IS_ARXIV, MK_TITLE, MK_TITLE_SHORT,
	MK_SUMMARY, MK_SUMMARY_SHORT, MK_AI_SUMMARY, MK_AI_SUMMARY_SHORT,
	MK_BLURB, MK_BLURB_SHORT, MK_TITLE_HL, MK_AUTHORS, MK_N_AUTHORS,
	MK_AUTHORS_LINE, MK_AUTHORS_SHORT, MK_PRIMARY_CATEGORY, MK_CATEGORIES,
	MK_CATEGORIES_LINE, MK_AI_KEYWORDS, MK_HITS, MK_HITS_LINE, MK_SOURCES,
	MK_SOURCES_LINE, MK_URL_ABS, MK_URL_PDF, MK_URL_HF, MK_URL,
	MK_URL_MAIN, MK_LINKS, MK_HAS_LINKS, MK_LINKS_LIST, MK_HAS_UPVOTES,
	MK_UPVOTES, MK_HAS_COMMENTS, MK_N_COMMENTS, MK_SCORE, MK_PUBLISHED,
	MK_UPDATED, MK_ANNOUNCE, MK_COMMENT, MK_DOI, MK_JOURNAL_REF,
};

/* The keys whose value depends on the digest (its rank, hits, score). */
#define MK_OF_DIGEST	(MK_BIT(MK_RANK) | MK_BIT(MK_TITLE_HL) |	\
	MK_BIT(MK_HITS) | MK_BIT(MK_HITS_LINE) | MK_BIT(MK_SCORE) |	\
	MK_BIT(MK_FIRST) | MK_BIT(MK_LAST))

static mk_mask
mk_lookup(const char *name, size_t len)
{
	size_t i, n;

	for (i = 0; i < MK_COUNT_; i++) {
		n = strlen(mk_names[i]);
		if (n == len && memcmp(mk_names[i], name, len) == 0)
			return MK_BIT(i);
	}
	return 0;
}

/* An object {key: value, "first": i == 0, "last": i + 1 == n}. */
static json_t *
item(const char *key, json_t *value, size_t i, size_t n)
{
	json_t *o = json_object();

	json_object_set_new_nocheck(o, key, value);
	json_object_set_new_nocheck(o, "first", json_boolean(i == 0));
	json_object_set_new_nocheck(o, "last", json_boolean(i + 1 == n));
	return o;
}

/* [{name, first, last}, ...] of a string list. */
static json_t *
name_list(char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, item("name", jstr(v[i]), i, n));
	return a;
}

static void
join(struct buf *b, char *const *v, size_t n, const char *sep)
{
	struct text t;
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_adds(b, sep);
		text_get(&t, v[i] ? v[i] : "");
		buf_add(b, t.s, t.len);
		text_release(&t);
	}
}

/* A buffer of clean text. */
static json_t *
jbuf(const struct buf *b)
{
	return jtext(buf_str(b), b->len);
}

static json_t *
author_list(const struct paper *p)
{
	json_t *a = json_array();
	size_t i, n = p->n_authors;

	json_t *o;

	for (i = 0; i < n; i++) {
		o = item("name", jstr(p->authors[i].name ? p->authors[i].name :
		    ""), i, n);
		json_object_set_new_nocheck(o, "affiliation",
		    jstr(p->authors[i].affiliation));
		json_array_append_new(a, o);
	}
	return a;
}

/* authors, authors_line and "A, B, C et al." */
static void
add_authors(json_t **o, const struct paper *p, size_t max, mk_mask want)
{
	struct buf line, few;
	struct text name;
	size_t i, n = p->n_authors;

	MK_SET(o, want, MK_AUTHORS, author_list(p));
	MK_SET(o, want, MK_N_AUTHORS, json_integer((json_int_t)n));
	if (!(want & (MK_BIT(MK_AUTHORS_LINE) | MK_BIT(MK_AUTHORS_SHORT))))
		return;
	buf_init(&line);
	buf_init(&few);
	for (i = 0; i < n; i++) {
		text_get(&name, p->authors[i].name ? p->authors[i].name : "");
		if (i > 0)
			buf_adds(&line, ", ");
		buf_add(&line, name.s, name.len);
		if (n <= AUTHORS_ALL || i < AUTHORS_FEW) {
			if (i > 0)
				buf_adds(&few, ", ");
			buf_add(&few, name.s, name.len);
		}
		text_release(&name);
	}
	if (n > AUTHORS_ALL)
		buf_adds(&few, " et al.");
	MK_SET(o, want, MK_AUTHORS_LINE, jbuf(&line));
	name.s = buf_str(&few);
	name.len = few.len;
	MK_SET(o, want, MK_AUTHORS_SHORT, jshort_text(&name, max));
	buf_release(&line);
	buf_release(&few);
}

/* The four links: computed from an arXiv id, or the paper's own if safe. */
static void
paper_links(const struct paper *p, char *u[4])
{
	const char *given[4] = { p->url_abs, p->url_pdf, p->url_hf, p->url };
	size_t i;
	char *s;

	static const char *const base[3] = { "https://arxiv.org/abs/",
	    "https://arxiv.org/pdf/", "https://huggingface.co/papers/" };

	for (i = 0; i < 4; i++) {
		u[i] = safe_url(given[i]);
		if (u[i] == NULL && i < 3 && p->is_arxiv && p->id != NULL) {
			s = xasprintf("%s%s", base[i], p->id);
			u[i] = safe_url(s);
			free(s);
		}
	}
}

static json_t *
link_list(char *const u[4], size_t *n)
{
	static const char *const keys[] = { "abs", "pdf", "hf", "url" };
	static const char *const labels[] = { "arXiv", "PDF", "Hugging Face",
	    "Link" };
	json_t *list = json_array(), *o;
	size_t i, k;

	*n = 0;
	for (i = 0; i < 4; i++)		/* an arXiv paper's own link is abs */
		if (u[i] != NULL && !(i == 3 && u[0] != NULL))
			(*n)++;
	for (i = 0, k = 0; i < 4; i++) {
		if (u[i] == NULL || (i == 3 && u[0] != NULL))
			continue;
		o = item("name", json_string_nocheck(keys[i]), k++, *n);
		json_object_set_new_nocheck(o, "label",
		    json_string_nocheck(labels[i]));
		json_object_set_new_nocheck(o, "url",
		    json_string_nocheck(u[i]));
		json_array_append_new(list, o);
	}
	return list;
}

static void
add_links(json_t **o, const struct paper *p, int level, mk_mask want)
{
	char *u[4];
	json_t *list = NULL;
	size_t i, n = 0;

	paper_links(p, u);
	for (i = 0; i < 4 && level >= LEVELS - 1; i++)
		if (u[i] != NULL && strlen(u[i]) > LINK_SHORT_MAX) {
			free(u[i]);	/* a 2 KB link fits no chat message */
			u[i] = NULL;
		}
	MK_SET(o, want, MK_URL_ABS, jstr(u[0]));
	MK_SET(o, want, MK_URL_PDF, jstr(u[1]));
	MK_SET(o, want, MK_URL_HF, jstr(u[2]));
	MK_SET(o, want, MK_URL, jstr(u[3]));
	MK_SET(o, want, MK_URL_MAIN, jstr(u[0] ? u[0] : u[3] ? u[3] : u[2]));
	if (want & MK_BIT(MK_LINKS)) {
		json_t *l = json_object();

		json_object_set_new_nocheck(l, "abs", jstr(u[0]));
		json_object_set_new_nocheck(l, "pdf", jstr(u[1]));
		json_object_set_new_nocheck(l, "hf", jstr(u[2]));
		json_object_set_new_nocheck(l, "url", jstr(u[3]));
		o[MK_LINKS] = l;
	}
	if (want & (MK_BIT(MK_LINKS_LIST) | MK_BIT(MK_HAS_LINKS)))
		list = link_list(u, &n);
	MK_SET(o, want, MK_HAS_LINKS, json_boolean(n > 0));
	if (want & MK_BIT(MK_LINKS_LIST))
		o[MK_LINKS_LIST] = json_incref(list);
	json_decref(list);
	for (i = 0; i < 4; i++)
		free(u[i]);
}

static double
round2(double x)
{
	if (!isfinite(x))
		return 0.0;
	return floor(x * 100.0 + 0.5) / 100.0;
}

/*
 * Titles and summaries, whole and shortened, each cleaned once; the
 * highlighted title (of the shortened one from compaction level 2 on,
 * when the shortened summaries are left out too).
 */
static void
add_texts(json_t **o, const struct paper *p, const size_t lim[3], int level,
    mk_mask want)
{
	const mk_mask w_ti = MK_BIT(MK_TITLE) | MK_BIT(MK_TITLE_SHORT);
	const mk_mask w_bl = MK_BIT(MK_BLURB) | MK_BIT(MK_BLURB_SHORT);
	const mk_mask w_su = MK_BIT(MK_SUMMARY) | MK_BIT(MK_SUMMARY_SHORT) |
	    w_bl;
	const mk_mask w_ai = MK_BIT(MK_AI_SUMMARY) |
	    MK_BIT(MK_AI_SUMMARY_SHORT) | w_bl;
	struct text ti, su, ai;
	const struct text *blurb;
	bool drop = level >= 2;

	text_get(&ti, p->title && (want & w_ti) ? p->title : "");
	text_get(&ai, p->ai_summary && (want & w_ai) ? p->ai_summary : "");
	/* the abstract is only needed for a blurb when there is no ai one */
	text_get(&su, p->summary && ((want & (w_su & ~w_bl)) ||
	    ((want & w_bl) && ai.len == 0)) ? p->summary : "");
	blurb = ai.len > 0 ? &ai : &su;
	MK_SET(o, want, MK_TITLE, jtext(ti.s, ti.len));
	MK_SET(o, want, MK_TITLE_SHORT, jshort_text(&ti, lim[0]));
	MK_SET(o, want, MK_SUMMARY, p->summary ? jtext(su.s, su.len) :
	    json_null());
	MK_SET(o, want, MK_SUMMARY_SHORT, drop || !p->summary ? json_null() :
	    jshort_text(&su, lim[1]));
	MK_SET(o, want, MK_AI_SUMMARY, p->ai_summary ? jtext(ai.s, ai.len) :
	    json_null());
	MK_SET(o, want, MK_AI_SUMMARY_SHORT, drop || !p->ai_summary ?
	    json_null() : jshort_text(&ai, lim[1]));
	MK_SET(o, want, MK_BLURB, blurb->len ? jtext(blurb->s, blurb->len) :
	    json_null());
	MK_SET(o, want, MK_BLURB_SHORT, drop || !blurb->len ? json_null() :
	    jshort_text(blurb, lim[1]));
	text_release(&ti);
	text_release(&su);
	text_release(&ai);
}

static json_t *
jline(char *const *v, size_t n)
{
	struct buf b;
	json_t *j;

	buf_init(&b);
	join(&b, v, n, ", ");
	j = jbuf(&b);
	buf_release(&b);
	return j;
}

static void
add_lists(json_t **o, const struct paper *p, mk_mask want)
{
	MK_SET(o, want, MK_PRIMARY_CATEGORY, jstr(p->primary_category));
	MK_SET(o, want, MK_CATEGORIES, name_list(p->categories.v,
	    p->categories.n));
	MK_SET(o, want, MK_CATEGORIES_LINE, jline(p->categories.v,
	    p->categories.n));
	MK_SET(o, want, MK_AI_KEYWORDS, name_list(p->ai_keywords.v,
	    p->ai_keywords.n));
	MK_SET(o, want, MK_SOURCES, name_list(p->sources.v, p->sources.n));
	MK_SET(o, want, MK_SOURCES_LINE, jline(p->sources.v, p->sources.n));
}

/* The values of p's model that depend on p alone, for the keys in want. */
static void
paper_values(json_t **o, const struct paper *p, const size_t lim[3],
    int level, mk_mask want)
{
	MK_SET(o, want, MK_ID, jstr(p->id));
	MK_SET(o, want, MK_VERSION, p->version > 0 ?
	    json_integer(p->version) : json_null());
	MK_SET(o, want, MK_IS_ARXIV, json_boolean(p->is_arxiv));
	add_texts(o, p, lim, level, want);
	add_authors(o, p, lim[2], want);
	add_lists(o, p, want);
	add_links(o, p, level, want);
	MK_SET(o, want, MK_HAS_UPVOTES, json_boolean(p->upvotes >= 0));
	MK_SET(o, want, MK_UPVOTES, p->upvotes >= 0 ?
	    json_integer(p->upvotes) : json_null());
	MK_SET(o, want, MK_HAS_COMMENTS, json_boolean(p->n_comments >= 0));
	MK_SET(o, want, MK_N_COMMENTS, p->n_comments >= 0 ?
	    json_integer(p->n_comments) : json_null());
	MK_SET(o, want, MK_PUBLISHED, jdate(p->published));
	MK_SET(o, want, MK_UPDATED, jdate(p->updated));
	MK_SET(o, want, MK_ANNOUNCE, jstr(paper_announce_name(p->announce)));
	MK_SET(o, want, MK_COMMENT, jstr(p->comment));
	MK_SET(o, want, MK_DOI, jstr(p->doi));
	MK_SET(o, want, MK_JOURNAL_REF, jstr(p->journal_ref));
}

/*
 * What the models of one paper share between digests (the subscribers of
 * a cycle share most papers): the values that depend on the paper alone,
 * each with the limit it was shortened to, and the clean title that the
 * highlighting of each digest starts from.  Only for compaction level 0.
 */
struct pc_val {
	unsigned char	 key;
	size_t		 lim;		/* of the shortened keys; else 0 */
	json_t		*v;
};

struct digest_pcache {
	struct pc_val	*val;
	size_t		 n, cap;
	char		*title;		/* clean; NULL: not yet */
	size_t		 title_len;
};

struct digest_pcache *
digest_pcache_new(void)
{
	return xcalloc(1, sizeof(struct digest_pcache));
}

void
digest_pcache_free(struct digest_pcache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		json_decref(c->val[i].v);
	free(c->val);
	free(c->title);
	free(c);
}

/* The limit key k is shortened to (lim: title, summary, authors). */
static size_t
key_lim(unsigned k, const size_t lim[3])
{
	switch (k) {
	case MK_TITLE_SHORT:
		return lim[0];
	case MK_SUMMARY_SHORT:
	case MK_AI_SUMMARY_SHORT:
	case MK_BLURB_SHORT:
		return lim[1];
	case MK_AUTHORS_SHORT:
		return lim[2];
	default:
		return 0;
	}
}

/* Take what c has of want into o; returns the keys it lacks. */
static mk_mask
pcache_take(const struct digest_pcache *c, json_t **o, mk_mask want,
    const size_t lim[3])
{
	for (size_t i = 0; i < c->n && want != 0; i++) {
		const struct pc_val *pv = &c->val[i];

		if ((want & MK_BIT(pv->key)) && pv->lim ==
		    key_lim(pv->key, lim)) {
			o[pv->key] = json_incref(pv->v);
			want &= ~MK_BIT(pv->key);
		}
	}
	return want;
}

static void
pcache_put(struct digest_pcache *c, json_t **o, mk_mask keys,
    const size_t lim[3])
{
	for (unsigned k = 0; k < MK_COUNT_; k++) {
		struct pc_val *pv;

		if (!(keys & MK_BIT(k)) || o[k] == NULL)
			continue;
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 16;
			c->val = xreallocarray(c->val, c->cap,
			    sizeof(*c->val));
		}
		pv = &c->val[c->n++];
		pv->key = (unsigned char)k;
		pv->lim = key_lim(k, lim);
		pv->v = json_incref(o[k]);
	}
}

/* title_hl: the clean title (shortened from level 2 on), hits emphasised. */
static json_t *
title_hl(const struct fmt *f, const struct digest_item *it,
    struct digest_pcache *c, const size_t lim[3], int level)
{
	const struct paper *p = it->paper;
	struct text ti;
	struct buf b;
	json_t *j;

	if (c != NULL && c->title != NULL) {
		ti.s = c->title;
		ti.len = c->title_len;
		ti.own = NULL;
	} else {
		text_get(&ti, p->title ? p->title : "");
		if (c != NULL) {
			c->title = xstrndup(ti.s, ti.len);
			c->title_len = ti.len;
		}
	}
	buf_init(&b);
	if (level >= 2 && u8_over(ti.s, ti.len, lim[0])) {
		shorten(&b, ti.s, lim[0]);
		j = highlight(f, buf_str(&b), b.len, it);
	} else
		j = highlight(f, ti.s, ti.len, it);
	buf_release(&b);
	text_release(&ti);
	return j;
}

/*
 * The model of one paper at compaction level (0: the format's sizes),
 * with the keys in want; c (NULL: none; level 0 only) keeps the values
 * that depend on the paper alone for the next digest that lists it.
 */
static json_t *
paper_model(const struct fmt *f, const struct digest_item *it, size_t rank,
    int level, mk_mask want, struct digest_pcache *c)
{
	size_t lim[3] = { f->title_max, f->summary_max, f->authors_max };
	char *const *hits = (char *const *)it->hits;
	size_t nh = hits ? it->n_hits : 0;
	json_t *v[MK_COUNT_], *o;
	mk_mask need = want & ~MK_OF_DIGEST;
	int i;

	for (i = 0; i < 3 && level > 0; i++)
		if (level_max[level][i] < lim[i] && level_max[level][i] > 0)
			lim[i] = level_max[level][i];
	memset(v, 0, sizeof(v));
	if (level > 0)
		c = NULL;
	if (c != NULL)
		need = pcache_take(c, v, need, lim);
	if (need != 0) {
		paper_values(v, it->paper, lim, level, need);
		if (c != NULL)
			pcache_put(c, v, need, lim);
	}
	MK_SET(v, want, MK_RANK, json_integer((json_int_t)rank));
	MK_SET(v, want, MK_TITLE_HL, title_hl(f, it, c, lim, level));
	MK_SET(v, want, MK_HITS, name_list(hits, nh));
	MK_SET(v, want, MK_HITS_LINE, jline(hits, nh));
	MK_SET(v, want, MK_SCORE, json_real(round2(it->score)));
	o = json_object();
	for (i = 0; i < (int)sizeof(mk_order); i++)
		if (v[mk_order[i]] != NULL)
			json_object_set_new_nocheck(o, mk_names[mk_order[i]],
			    v[mk_order[i]]);
	return o;
}

struct part {
	json_t		**papers;	/* the paper models of this part */
	size_t		  n;
	size_t		  first_rank;	/* 1-based */
	size_t		  index;	/* 1-based; 0: not split */
	size_t		  total;
	mk_mask		  want;
};

static void
add_part_label(json_t *o, const struct part *pt)
{
	char label[64];

	if (pt->index == 0) {
		json_object_set_new(o, "part", json_false());
		json_object_set_new(o, "part_label", json_string(""));
		return;
	}
	snprintf(label, sizeof(label), "(%zu/%zu)", pt->index, pt->total);
	json_object_set_new(o, "part", json_pack("{s:I,s:I,s:s}", "index",
	    (json_int_t)pt->index, "total", (json_int_t)pt->total, "label",
	    label));
	json_object_set_new(o, "part_label", json_string(label));
}

/* The model of one part: the digest's values and the part's papers. */
static json_t *
part_model(const struct digest *d, const struct fmt *f, const struct part *pt)
{
	json_t *o = json_object(), *a = json_array();
	char *const *src = (char *const *)d->sources;
	size_t i, ns = src ? d->n_sources : 0;
	struct buf b;

	for (i = 0; i < pt->n; i++) {
		MK_PUT(pt->papers[i], pt->want, MK_FIRST, json_boolean(i == 0));
		MK_PUT(pt->papers[i], pt->want, MK_LAST,
		    json_boolean(i + 1 == pt->n));
		json_array_append(a, pt->papers[i]);
	}
	buf_init(&b);
	json_object_set_new(o, "format", json_string(f->name));
	json_object_set_new(o, "date", jstr(d->date));
	json_object_set_new(o, "subscription", jstr(d->subscription));
	json_object_set_new(o, "digest_id", jstr(d->digest_id));
	json_object_set_new(o, "count", json_integer((json_int_t)d->n_items));
	buf_printf(&b, "%zu paper%s", d->n_items, d->n_items == 1 ? "" : "s");
	json_object_set_new(o, "count_label", jbuf(&b));
	json_object_set_new(o, "has_papers", json_boolean(d->n_items > 0));
	json_object_set_new(o, "part_count", json_integer((json_int_t)pt->n));
	json_object_set_new(o, "first_rank",
	    json_integer((json_int_t)pt->first_rank));
	json_object_set_new(o, "last_rank",
	    json_integer((json_int_t)(pt->first_rank + pt->n - 1)));
	add_part_label(o, pt);
	json_object_set_new(o, "papers", a);
	json_object_set_new(o, "sources", name_list(src, ns));
	json_object_set_new(o, "sources_line", jline(src, ns));
	json_object_set_new(o, "generator", json_string("paperwatch"));
#ifdef PW_VERSION
	json_object_set_new(o, "version", json_string(PW_VERSION));
#endif
	buf_release(&b);
	return o;
}

/* ------------------------------------------------------------------ */
/* Platform limits: 0 if the payload fits, else -1 and why */

static size_t
tlen(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? u16_len(s) : 0;
}

static int
over(struct over *ov, const char *what, size_t n, size_t max)
{
	snprintf(ov->why, sizeof(ov->why), "%s: %zu > %zu", what, n, max);
	ov->fill = max ? (double)n / (double)max : 2.0;
	return -1;
}

static int
discord_embed(const json_t *e, size_t *total, struct over *ov)
{
	const json_t *fields = json_object_get(e, "fields"), *fl;
	size_t i, n;

	if ((n = tlen(e, "title")) > DISCORD_TITLE)
		return over(ov, "embed title", n, DISCORD_TITLE);
	*total += n;
	if ((n = tlen(e, "description")) > DISCORD_DESCRIPTION)
		return over(ov, "embed description", n,
		    DISCORD_DESCRIPTION);
	*total += n;
	if ((n = tlen(json_object_get(e, "footer"), "text")) > DISCORD_FOOTER)
		return over(ov, "embed footer", n, DISCORD_FOOTER);
	*total += n + tlen(json_object_get(e, "author"), "name");
	if (json_array_size(fields) > DISCORD_FIELDS)
		return over(ov, "embed fields",
		    json_array_size(fields), DISCORD_FIELDS);
	json_array_foreach(fields, i, fl) {
		if (tlen(fl, "name") > DISCORD_FIELD_NAME ||
		    tlen(fl, "value") > DISCORD_FIELD_VALUE)
			return over(ov, "embed field",
			    tlen(fl, "value"), DISCORD_FIELD_VALUE);
		*total += tlen(fl, "name") + tlen(fl, "value");
	}
	return 0;
}

static int
limit_discord(const json_t *j, size_t len, struct over *ov)
{
	const json_t *embeds = json_object_get(j, "embeds"), *e;
	size_t i, n, total = 0;

	(void)len;
	if ((n = tlen(j, "content")) > DISCORD_CONTENT)
		return over(ov, "content", n, DISCORD_CONTENT);
	if (json_array_size(embeds) > DISCORD_EMBEDS)
		return over(ov, "embeds", json_array_size(embeds),
		    DISCORD_EMBEDS);
	json_array_foreach(embeds, i, e)
		if (discord_embed(e, &total, ov) < 0)
			return -1;
	if (total > DISCORD_EMBED_TOTAL)
		return over(ov, "embed text", total,
		    DISCORD_EMBED_TOTAL);
	return 0;
}

static int
slack_block(const json_t *b, struct over *ov)
{
	const char *type = json_string_value(json_object_get(b, "type"));
	const json_t *a, *e;
	size_t i, n;

	if (type == NULL)
		return 0;
	n = tlen(json_object_get(b, "text"), "text");
	if (strcmp(type, "header") == 0 && n > SLACK_HEADER_TEXT)
		return over(ov, "header text", n, SLACK_HEADER_TEXT);
	if (n > SLACK_SECTION_TEXT)
		return over(ov, "section text", n, SLACK_SECTION_TEXT);
	a = json_object_get(b, "fields");
	if (json_array_size(a) > SLACK_FIELDS)
		return over(ov, "section fields", json_array_size(a),
		    SLACK_FIELDS);
	json_array_foreach(a, i, e)
		if ((n = tlen(e, "text")) > SLACK_FIELD_TEXT)
			return over(ov, "field text", n,
			    SLACK_FIELD_TEXT);
	a = json_object_get(b, "elements");
	if (strcmp(type, "context") == 0 &&
	    json_array_size(a) > SLACK_CONTEXT_ELEMENTS)
		return over(ov, "context elements",
		    json_array_size(a), SLACK_CONTEXT_ELEMENTS);
	json_array_foreach(a, i, e)
		if ((n = tlen(e, "text")) > SLACK_SECTION_TEXT)
			return over(ov, "element text", n,
			    SLACK_SECTION_TEXT);
	return 0;
}

static int
limit_slack(const json_t *j, size_t len, struct over *ov)
{
	const json_t *blocks = json_object_get(j, "blocks"), *b;
	size_t i, n;

	(void)len;
	if ((n = tlen(j, "text")) > SLACK_TEXT)
		return over(ov, "text", n, SLACK_TEXT);
	if (json_array_size(blocks) > SLACK_BLOCKS)
		return over(ov, "blocks", json_array_size(blocks),
		    SLACK_BLOCKS);
	json_array_foreach(blocks, i, b)
		if (slack_block(b, ov) < 0)
			return -1;
	return 0;
}

static int
limit_mattermost(const json_t *j, size_t len, struct over *ov)
{
	const json_t *att = json_object_get(j, "attachments"), *a;
	size_t i, n = tlen(j, "text");

	(void)len;
	json_array_foreach(att, i, a)
		n += tlen(a, "text") + tlen(a, "title") + tlen(a, "pretext");
	if (n > MATTERMOST_TEXT)
		return over(ov, "text", n, MATTERMOST_TEXT);
	return 0;
}

/* ------------------------------------------------------------------ */
/* 78-column text */

/* Columns of hanging indent for continuation lines of line (len bytes). */
static size_t
hang(const char *line, size_t len)
{
	size_t i = 0, j;

	while (i < len && line[i] == ' ')
		i++;
	j = i;
	while (j < len && j - i < 4 && line[j] >= '0' && line[j] <= '9')
		j++;
	if (j > i && j < len && line[j] == '.' && j + 1 < len &&
	    line[j + 1] == ' ')
		return i + 3;	/* under the body of "1. ", as in the templates */
	if (i + 1 < len && strchr("-*", line[i]) && line[i + 1] == ' ')
		return i + 2;
	return i;
}

/*
 * Append line wrapped at width columns between words (blank runs become
 * one blank); continuation lines hang under the text after a list marker;
 * a word longer than a line (a link) stays whole on its own line.
 */
static void
wrap_line(struct buf *out, const char *line, size_t len, size_t width)
{
	static const char blanks[] = "                                      ";
	size_t ind = hang(line, len), lead = 0, col, i, start, w;
	size_t span, span_end;	/* line[span, span_end): to go out as it is */
	bool have = false;

	while (lead < len && line[lead] == ' ')
		lead++;
	if (ind >= sizeof(blanks) || ind > width / 2)
		ind = 0;
	col = lead;			/* blanks: one column each */
	span = 0;
	span_end = lead;
	for (i = lead; i < len; ) {
		bool sep = false;

		/* the word, and its columns (the bytes that are not UTF-8
		   continuation bytes, as u8_len counts) */
		for (start = i, w = 0; i < len && line[i] != ' '; i++)
			w += ((unsigned char)line[i] & 0xc0) != 0x80;
		if (w > 0 && have && col + 1 + w > width) {
			buf_add(out, line + span, span_end - span);
			buf_addc(out, '\n');
			buf_add(out, blanks, ind);
			col = ind;
			span = span_end = start;
		} else if (w > 0 && have) {
			sep = true;
			col++;
		}
		if (span_end != start - (sep ? 1 : 0)) {
			/* not what the line holds: blanks collapsed */
			buf_add(out, line + span, span_end - span);
			if (sep)
				buf_addc(out, ' ');
			span = start;
		}
		span_end = i;
		col += w;
		have = have || w > 0;
		while (i < len && line[i] == ' ')
			i++;
	}
	buf_add(out, line + span, span_end - span);
}

static void
wrap_text(struct buf *b, size_t width)
{
	struct buf out;
	const char *s = buf_str(b), *nl;
	size_t n;

	buf_init(&out);
	while (*s) {
		nl = strchr(s, '\n');
		n = nl ? (size_t)(nl - s) : strlen(s);
		if (!u8_over(s, n, width))
			buf_add(&out, s, n);
		else
			wrap_line(&out, s, n, width);
		if (nl == NULL)
			break;
		buf_addc(&out, '\n');
		s = nl + 1;
	}
	buf_release(b);
	*b = out;
}

/* ------------------------------------------------------------------ */
/* Templates: lookup, loading, cache */

struct tfile {
	struct tfile	*next;
	char		*name;		/* as asked: "slack", "paper" */
	char		*path;		/* NULL: not found */
	char		*text;
	struct render_tpl *tpl;		/* parsed once */
	mk_mask		 want;		/* model keys it and its partials name */
	bool		 have_want;
};

struct digest_renderer {
	char		*dirs[3];	/* template_dir, data_dir,
					   data_dir/templates */
	struct tfile	*files;
};

struct digest_renderer *
digest_renderer_new(const char *template_dir, const char *data_dir)
{
	struct digest_renderer *r = xcalloc(1, sizeof(*r));
	size_t n = 0;

	if (template_dir != NULL && *template_dir)
		r->dirs[n++] = xstrdup(template_dir);
	if (data_dir != NULL && *data_dir) {
		r->dirs[n++] = xstrdup(data_dir);
		r->dirs[n++] = xasprintf("%s/templates", data_dir);
	}
	return r;
}

void
digest_renderer_free(struct digest_renderer *r)
{
	struct tfile *f, *next;
	size_t i;

	if (r == NULL)
		return;
	for (f = r->files; f != NULL; f = next) {
		next = f->next;
		render_tpl_free(f->tpl);
		free(f->name);
		free(f->path);
		free(f->text);
		free(f);
	}
	for (i = 0; i < 3; i++)
		free(r->dirs[i]);
	free(r);
}

/* A template or partial name: no path tricks. */
static bool
name_safe(const char *name)
{
	size_t i;

	if (name[0] == '\0' || name[0] == '.' || strlen(name) > 200)
		return false;
	for (i = 0; name[i]; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c >= 0x80 || (!word_byte(c) && strchr("-_.", c) == NULL))
			return false;
	}
	return strstr(name, "..") == NULL;
}

/* Load name (a name, or a path if it holds '/'), cached; NULL if none. */
static struct tfile *
tfile_get(struct digest_renderer *r, const char *name, bool path_ok)
{
	struct tfile *f;
	struct buf b;
	char e[256];
	size_t i;

	for (f = r->files; f != NULL; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	f = xcalloc(1, sizeof(*f));
	f->name = xstrdup(name);
	f->next = r->files;
	r->files = f;
	buf_init(&b);
	if (strchr(name, '/') != NULL) {
		if (path_ok && file_read_all(name, TEMPLATE_MAX, &b, e,
		    sizeof(e)) == 0)
			f->path = xstrdup(name);
	} else if (name_safe(name)) {
		for (i = 0; i < 3 && r->dirs[i] && f->path == NULL; i++) {
			char *p = xasprintf("%s/%s.mustache", r->dirs[i], name);

			buf_reset(&b);
			if (file_read_all(p, TEMPLATE_MAX, &b, e,
			    sizeof(e)) == 0)
				f->path = p;
			else
				free(p);
		}
	}
	if (f->path != NULL)
		f->text = b.data ? buf_detach(&b) : xstrdup("");
	buf_release(&b);
	return f;
}

static const char *
partial_text(const char *name, void *arg)
{
	struct tfile *f = tfile_get(arg, name, false);

	return f->text;
}

static const char *
partial_path(const char *name, void *arg)
{
	struct tfile *f = tfile_get(arg, name, false);

	return f->path;
}

struct names {
	struct digest_renderer	*r;
	mk_mask			 want;
	struct strvec		 seen;		/* partials walked */
};

static void collect(struct names *nm, const struct render_tpl *t);

static void
collect_name(const char *name, size_t len, bool partial, void *arg)
{
	struct names *nm = arg;
	const char *dot = memchr(name, '.', len);
	struct tfile *f;
	char *pname;

	if (!partial) {
		nm->want |= mk_lookup(name, dot ? (size_t)(dot - name) : len);
		return;
	}
	pname = xstrndup(name, len);
	if (strvec_contains(&nm->seen, pname)) {
		free(pname);
		return;
	}
	strvec_push_take(&nm->seen, pname);
	f = tfile_get(nm->r, pname, false);
	if (f->text != NULL && f->tpl == NULL)
		f->tpl = render_compile(f->text, strlen(f->text), f->path,
		    NULL, 0);
	if (f->tpl != NULL)
		collect(nm, f->tpl);
}

static void
collect(struct names *nm, const struct render_tpl *t)
{
	render_tpl_names(t, collect_name, nm);
}

static void
no_template(const struct digest_renderer *r, const char *name, char *err,
    size_t errlen)
{
	const char *d0 = r->dirs[0] ? r->dirs[0] : "", *d1 = r->dirs[1];

	if (strchr(name, '/') != NULL)
		snprintf(err, errlen, "cannot read template '%s'", name);
	else
		snprintf(err, errlen, "no template '%s.mustache' in '%s'%s%s%s",
		    name, d0, d1 ? " or '" : "", d1 ? d1 : "", d1 ? "'" : "");
}

/* The template called name, parsed, with the model keys it can see. */
static struct tfile *
main_template(struct digest_renderer *r, const char *name, char *err,
    size_t errlen)
{
	struct tfile *f = tfile_get(r, name, true);
	struct names nm;

	if (f->text == NULL) {
		no_template(r, name, err, errlen);
		return NULL;
	}
	if (f->tpl == NULL && (f->tpl = render_compile(f->text,
	    strlen(f->text), f->path, err, errlen)) == NULL)
		return NULL;
	if (!f->have_want) {
		memset(&nm, 0, sizeof(nm));
		nm.r = r;
		strvec_init(&nm.seen);
		strvec_push(&nm.seen, name);
		collect(&nm, f->tpl);
		strvec_release(&nm.seen);
		f->want = nm.want;
		f->have_want = true;
	}
	return f;
}

/* ------------------------------------------------------------------ */
/*
 * JSON syntax (RFC 8259) checked without building a tree: for payloads
 * that only need to be valid, jansson's full parse costs more than the
 * render.  Strings must be valid UTF-8; nesting is bounded.
 */

#define JSON_DEPTH	256

struct jscan {
	const char	*s;
	const char	*e;
	int		 depth;
};

static void
js_ws(struct jscan *j)
{
	while (j->s < j->e && (*j->s == ' ' || *j->s == '\t' ||
	    *j->s == '\n' || *j->s == '\r'))
		j->s++;
}

static bool
js_hex4(struct jscan *j)
{
	int i;

	for (i = 0; i < 4; i++, j->s++)
		if (j->s >= j->e || strchr("0123456789abcdefABCDEF",
		    *j->s) == NULL || *j->s == '\0')
			return false;
	return true;
}

static bool
js_string(struct jscan *j)
{
	uint32_t cp;
	size_t n;

	for (j->s++; j->s < j->e; ) {
		unsigned char c = (unsigned char)*j->s;

		if (c == '"') {
			j->s++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (++j->s >= j->e)
				return false;
			if (*j->s == 'u') {
				j->s++;
				if (!js_hex4(j))
					return false;
			} else if (*j->s == '\0' ||
			    strchr("\"\\/bfnrt", *j->s) == NULL)
				return false;
			else
				j->s++;
		} else if (c >= 0x80) {
			if ((n = utf8_decode(j->s, (size_t)(j->e - j->s),
			    &cp)) == 0)
				return false;
			j->s += n;
		} else
			j->s++;
	}
	return false;
}

static bool
js_digits(struct jscan *j)
{
	const char *start = j->s;

	while (j->s < j->e && *j->s >= '0' && *j->s <= '9')
		j->s++;
	return j->s > start;
}

static bool
js_number(struct jscan *j)
{
	if (*j->s == '-')
		j->s++;
	if (j->s < j->e && *j->s == '0')
		j->s++;
	else if (!js_digits(j))
		return false;
	if (j->s < j->e && *j->s == '.' && (j->s++, !js_digits(j)))
		return false;
	if (j->s < j->e && (*j->s == 'e' || *j->s == 'E')) {
		j->s++;
		if (j->s < j->e && (*j->s == '+' || *j->s == '-'))
			j->s++;
		if (!js_digits(j))
			return false;
	}
	return true;
}

static bool js_value(struct jscan *j);

/* An array or an object (at '[' or '{'). */
static bool
js_container(struct jscan *j)
{
	char close = *j->s == '[' ? ']' : '}';
	bool first = true;

	if (++j->depth > JSON_DEPTH)
		return false;
	for (j->s++;; first = false) {
		js_ws(j);
		if (j->s < j->e && *j->s == close && first)
			break;
		if (close == '}') {
			if (j->s >= j->e || *j->s != '"' || !js_string(j))
				return false;
			js_ws(j);
			if (j->s >= j->e || *j->s++ != ':')
				return false;
		}
		if (!js_value(j))
			return false;
		js_ws(j);
		if (j->s < j->e && *j->s == ',') {
			j->s++;
			continue;
		}
		if (j->s < j->e && *j->s == close)
			break;
		return false;
	}
	j->s++;
	j->depth--;
	return true;
}

static bool
js_value(struct jscan *j)
{
	static const char *const lit[] = { "true", "false", "null" };
	size_t i, n;

	js_ws(j);
	if (j->s >= j->e)
		return false;
	if (*j->s == '{' || *j->s == '[')
		return js_container(j);
	if (*j->s == '"')
		return js_string(j);
	if (*j->s == '-' || (*j->s >= '0' && *j->s <= '9'))
		return js_number(j);
	for (i = 0; i < 3; i++) {
		n = strlen(lit[i]);
		if ((size_t)(j->e - j->s) >= n &&
		    memcmp(j->s, lit[i], n) == 0) {
			j->s += n;
			return true;
		}
	}
	return false;
}

/* 0 if s[0..len) is one JSON object or array; else -1, *at the offset. */
static int
json_check(const char *s, size_t len, size_t *at)
{
	struct jscan j = { s, s + len, 0 };
	bool ok;

	js_ws(&j);
	ok = j.s < j.e && (*j.s == '{' || *j.s == '[') && js_value(&j);
	if (ok) {
		js_ws(&j);
		ok = j.s == j.e;
	}
	*at = (size_t)(j.s - s);
	return ok ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Rendering a part, checking it, splitting */

struct job {
	struct digest_renderer	*r;
	const struct digest	*d;
	const struct fmt	*f;
	struct render_tpl	*tpl;
	mk_mask			 want;
	json_t			**papers;	/* per item, current level */
	int			*level;
	size_t			*item;		/* its index in d->items */
	size_t			 n;		/* items: d's, less those
						   left out (split) */
	struct buf		 out;
	struct over		 ov;		/* why a part does not fit */
};

/* 0 if j->out is valid JSON, else -1 with where it breaks. */
static int
valid_json(struct job *j, char *err, size_t errlen)
{
	size_t at, i;
	int line = 1;

	if (json_check(buf_str(&j->out), j->out.len, &at) == 0)
		return 0;
	for (i = 0; i < at; i++)
		line += j->out.data[i] == '\n';
	snprintf(err, errlen, "template '%s' produced invalid JSON (output "
	    "line %d, byte %zu)", render_tpl_name(j->tpl), line, at);
	return -1;
}

/*
 * Render one part into j->out: 0 if it fits, 1 if it is over the limit
 * (j->ov says why and by how much), -1 on a template error (err).
 */
static int
render_part(struct job *j, const struct part *pt, char *err, size_t errlen)
{
	struct render_opts o;
	json_error_t je;
	json_t *model, *parsed;
	int rc;

	memset(&o, 0, sizeof(o));
	o.esc = j->f->esc;
	o.json = j->f->json;
	o.partials = partial_text;
	o.partial_file = partial_path;
	o.partials_arg = j->r;
	model = part_model(j->d, j->f, pt);
	buf_reset(&j->out);
	rc = render_exec(j->tpl, model, &o, &j->out, err, errlen);
	json_decref(model);
	if (rc < 0)
		return -1;
	if (j->f->wrap)
		wrap_text(&j->out, WRAP_COLUMNS);
	if (!j->f->json)
		return 0;
	if (j->f->max_bytes && j->out.len > j->f->max_bytes) {
		over(&j->ov, "bytes", j->out.len, j->f->max_bytes);
		return 1;		/* too long: no need to parse it */
	}
	if (j->f->limit == NULL)
		return valid_json(j, err, errlen);
	parsed = json_loadb(buf_str(&j->out), j->out.len, 0, &je);
	if (parsed == NULL) {
		snprintf(err, errlen, "template '%s' produced invalid JSON: "
		    "%s (output line %d, column %d)", render_tpl_name(j->tpl),
		    je.text, je.line, je.column);
		return -1;
	}
	rc = j->f->limit ? j->f->limit(parsed, j->out.len, &j->ov) : 0;
	json_decref(parsed);
	return rc < 0 ? 1 : 0;
}

/* Does items [i, i+k) fit one message (with the widest part label)? */
static int
fits(struct job *j, size_t i, size_t k, char *err, size_t errlen)
{
	struct part pt = { j->papers + i, k, j->item[i] + 1, 999, 999,
	    j->want };

	return render_part(j, &pt, err, errlen);
}

/*
 * Make item i fit alone, shortening its fields level by level: 0, or 2
 * when it does not fit even at the last level, or -1 and err.
 */
static int
fit_alone(struct job *j, size_t i, char *err, size_t errlen)
{
	int rc;

	while ((rc = fits(j, i, 1, err, errlen)) == 1) {
		if (j->level[i] + 1 >= LEVELS)
			return 2;
		j->level[i]++;
		json_decref(j->papers[i]);
		j->papers[i] = paper_model(j->f, &j->d->items[j->item[i]],
		    j->item[i] + 1, j->level[i], j->want, NULL);
	}
	return rc;
}

/* err: the template is over the format's limit with no paper at all. */
static void
over_without_papers(const struct job *j, char *err, size_t errlen)
{
	snprintf(err, errlen, "template '%s' over the %s limit with no paper "
	    "(%s)", render_tpl_name(j->tpl), j->f->name, j->ov.why);
}

/*
 * Shorten each item as far as it needs to fit one message alone, so that
 * a long one does not end a part by itself; leave out, with a warning,
 * an item that fits none even shortened (a template that shows a field
 * no level shortens): the others still go, where failing the digest
 * would hold the subscription's every channel back at every cycle.
 */
static int
fit_each(struct job *j, char *err, size_t errlen)
{
	struct part none = { j->papers, 0, 1, 999, 999, j->want };
	char id[128], sub[96];
	size_t i = 0;
	int rc;

	/* a template over the limit by itself: no paper is to blame */
	if ((rc = render_part(j, &none, err, errlen)) != 0) {
		if (rc == 1)
			over_without_papers(j, err, errlen);
		return -1;
	}
	while (i < j->n) {
		if ((rc = fit_alone(j, i, err, errlen)) < 0)
			return -1;
		if (rc == 0) {
			i++;
			continue;
		}
		log_warn("digest: subscription '%s': paper '%s' left out of "
		    "the %s messages: it does not fit one even shortened "
		    "(%s)", log_safe(j->d->subscription, sub, sizeof(sub)),
		    log_safe(j->d->items[j->item[i]].paper->id, id,
		    sizeof(id)), j->f->name, j->ov.why);
		json_decref(j->papers[i]);
		j->n--;
		memmove(j->papers + i, j->papers + i + 1,
		    (j->n - i) * sizeof(*j->papers));
		memmove(j->level + i, j->level + i + 1,
		    (j->n - i) * sizeof(*j->level));
		memmove(j->item + i, j->item + i + 1,
		    (j->n - i) * sizeof(*j->item));
	}
	return 0;
}

/*
 * The most items from i on that fit one message (at least 1), searched
 * from guess (the size of the part before, as parts tend to be alike):
 * lo always fits (fit_each made every item fit alone), hi never does
 * (n + 1: not known yet).
 */
static int
pack(struct job *j, size_t i, size_t guess, size_t *k, char *err,
    size_t errlen)
{
	size_t n = j->n - i, lo = 1, hi = n + 1, mid, step = 1;
	int rc;

	if (guess > 1 && guess <= n) {
		if ((rc = fits(j, i, guess, err, errlen)) < 0)
			return -1;
		*(rc == 0 ? &lo : &hi) = guess;
	}
	while (hi == n + 1 && lo < n) {		/* gallop up */
		mid = lo + step > n ? n : lo + step;
		if ((rc = fits(j, i, mid, err, errlen)) < 0)
			return -1;
		if (rc == 0) {
			lo = mid;
			step *= 2;
		} else
			hi = mid;
	}
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if ((rc = fits(j, i, mid, err, errlen)) < 0)
			return -1;
		*(rc == 0 ? &lo : &hi) = mid;
	}
	*k = lo;
	return 0;
}

/* The part just rendered into parts: its buffer is handed over. */
static void
push_out(struct job *j, struct strvec *parts)
{
	strvec_push_take(parts, buf_detach(&j->out));
}

static int
split(struct job *j, struct strvec *parts, char *err, size_t errlen)
{
	size_t *start = NULL, *count = NULL, n = 0, i = 0, k;
	int rc = 0;

	/* the first guess: what fits of the whole, by how far over it was */
	k = j->ov.fill > 1.0 ? (size_t)((double)j->n / j->ov.fill) : 0;
	if (fit_each(j, err, errlen) == -1)
		return -1;
	if (j->n == 0) {		/* every paper left out: the header */
		struct part pt = { j->papers, 0, 1, 0, 0, j->want };

		if ((rc = render_part(j, &pt, err, errlen)) == 0)
			push_out(j, parts);
		else if (rc == 1)
			over_without_papers(j, err, errlen);
		return rc == 0 ? 0 : -1;
	}
	while (i < j->n && rc == 0) {
		if ((rc = pack(j, i, n ? count[n - 1] : k, &k, err,
		    errlen)) < 0)
			break;
		start = xreallocarray(start, n + 1, sizeof(*start));
		count = xreallocarray(count, n + 1, sizeof(*count));
		start[n] = i;
		count[n++] = k;
		i += k;
	}
	for (k = 0; k < n && rc == 0; k++) {
		struct part pt = { j->papers + start[k], count[k],
		    j->item[start[k]] + 1, k + 1, n, j->want };

		rc = render_part(j, &pt, err, errlen);
		if (rc == 1) {
			snprintf(err, errlen, "%s part %zu/%zu over the limit "
			    "(%s)", j->f->name, k + 1, n, j->ov.why);
			rc = -1;
		} else if (rc == 0)
			push_out(j, parts);
	}
	free(start);
	free(count);
	return rc;
}

static int
run_job(struct job *j, struct strvec *parts, char *err, size_t errlen)
{
	struct part all = { j->papers, j->n, 1, 0, 0, j->want };
	int rc = render_part(j, &all, err, errlen);

	if (rc < 0)
		return -1;
	if (rc == 0) {
		push_out(j, parts);
		return 0;
	}
	if (j->d->n_items == 0) {
		over_without_papers(j, err, errlen);
		return -1;
	}
	return split(j, parts, err, errlen);
}

int
digest_render_template(struct digest_renderer *r, const struct digest *d,
    const char *format, const char *tpl, struct strvec *parts, char *err,
    size_t errlen)
{
	return digest_render_cached(r, d, format, tpl, NULL, parts, err,
	    errlen);
}

int
digest_render_cached(struct digest_renderer *r, const struct digest *d,
    const char *format, const char *tpl, struct digest_pcache *const *caches,
    struct strvec *parts, char *err, size_t errlen)
{
	const struct fmt *f = fmt_find(format);
	size_t before = parts->n, i;
	struct tfile *tf;
	struct job j;
	int rc;

	if (f == NULL) {
		snprintf(err, errlen, "unknown digest format '%s' (expected "
		    "text, html, markdown, slack, discord, mattermost, teams, "
		    "matrix, ntfy or json)", format ? format : "");
		return -1;
	}
	memset(&j, 0, sizeof(j));
	j.r = r;
	j.d = d;
	j.f = f;
	if ((tf = main_template(r, tpl ? tpl : f->name, err, errlen)) == NULL)
		return -1;
	j.tpl = tf->tpl;
	j.want = tf->want;
	j.papers = xcalloc(d->n_items + 1, sizeof(*j.papers));
	j.level = xcalloc(d->n_items + 1, sizeof(*j.level));
	j.item = xcalloc(d->n_items + 1, sizeof(*j.item));
	j.n = d->n_items;
	for (i = 0; i < d->n_items; i++) {
		j.item[i] = i;
		j.papers[i] = paper_model(f, &d->items[i], i + 1, 0, j.want,
		    caches ? caches[i] : NULL);
	}
	buf_init(&j.out);
	rc = run_job(&j, parts, err, errlen);
	for (i = 0; i < j.n; i++)
		json_decref(j.papers[i]);
	free(j.papers);
	free(j.level);
	free(j.item);
	buf_release(&j.out);
	while (rc < 0 && parts->n > before)
		free(parts->v[--parts->n]);
	return rc;
}

int
digest_render(struct digest_renderer *r, const struct digest *d,
    const char *format, struct strvec *parts, char *err, size_t errlen)
{
	return digest_render_template(r, d, format, NULL, parts, err, errlen);
}

/* ------------------------------------------------------------------ */
/* Subject, model as JSON, sorting */

char *
digest_subject(const struct digest *d, const char *tpl, char *err,
    size_t errlen)
{
	static const char def[] =
	    "Papers for {{date}}: {{subscription}} ({{count_label}})";
	struct part pt = { NULL, 0, 1, 0, 0, 0 };
	struct buf out, cut;
	json_t *model;
	char *s;
	int rc;

	if (tpl == NULL)
		tpl = def;
	model = part_model(d, fmt_find("text"), &pt);
	buf_init(&out);
	rc = render_string(tpl, strlen(tpl), "subject", model, RENDER_ESC_NONE,
	    NULL, NULL, &out, err, errlen);
	json_decref(model);
	if (rc < 0) {
		buf_release(&out);
		return NULL;
	}
	s = str_collapse_ws(out.data ? out.data : xstrdup(""));
	buf_init(&cut);
	shorten(&cut, s, SUBJECT_MAX);
	free(s);
	return cut.data ? buf_detach(&cut) : xstrdup("");
}

int
digest_model_json(const struct digest *d, const char *format,
    struct buf *out, char *err, size_t errlen)
{
	const struct fmt *f = fmt_find(format ? format : "json");
	json_t **papers, *model;
	struct part pt;
	char *s;
	size_t i;

	if (f == NULL) {
		snprintf(err, errlen, "unknown digest format '%s'", format);
		return -1;
	}
	papers = xcalloc(d->n_items + 1, sizeof(*papers));
	for (i = 0; i < d->n_items; i++)
		papers[i] = paper_model(f, &d->items[i], i + 1, 0, MK_ALL,
		    NULL);
	pt = (struct part){ papers, d->n_items, 1, 0, 0, MK_ALL };
	model = part_model(d, f, &pt);
	s = json_dumps(model, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s != NULL) {
		buf_adds(out, s);
		buf_addc(out, '\n');
		free(s);
	}
	json_decref(model);
	for (i = 0; i < d->n_items; i++)
		json_decref(papers[i]);
	free(papers);
	return 0;
}

struct sortable {
	struct digest_item	 item;
	size_t			 idx;
};

static int
cmp_items(const void *a, const void *b)
{
	const struct sortable *x = a, *y = b;
	double sx = isnan(x->item.score) ? -INFINITY : x->item.score;
	double sy = isnan(y->item.score) ? -INFINITY : y->item.score;
	const char *ix = x->item.paper && x->item.paper->id ?
	    x->item.paper->id : "";
	const char *iy = y->item.paper && y->item.paper->id ?
	    y->item.paper->id : "";
	int c;

	if (sx != sy)
		return sx > sy ? -1 : 1;
	if ((c = strcmp(ix, iy)) != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void
digest_sort(struct digest *d)
{
	struct sortable *v;
	size_t i;

	if (d->n_items < 2)
		return;
	v = xcalloc(d->n_items, sizeof(*v));
	for (i = 0; i < d->n_items; i++) {
		v[i].item = d->items[i];
		v[i].idx = i;
	}
	qsort(v, d->n_items, sizeof(*v), cmp_items);
	for (i = 0; i < d->n_items; i++)
		d->items[i] = v[i].item;
	free(v);
}
