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

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

typedef int (*limit_fn)(const json_t *j, size_t len, char *why,
    size_t whylen);

struct fmt {
	const char		*name;
	enum render_escape	 esc;
	bool			 json;
	const char		*hl_open;	/* NULL: no emphasis */
	const char		*hl_close;
	size_t			 title_max;	/* characters */
	size_t			 summary_max;
	size_t			 authors_max;
	limit_fn		 limit;		/* NULL: no limit */
	bool			 wrap;		/* 78-column text */
};

/* Shortening at each compaction level: title, summary, authors. */
static const size_t level_max[LEVELS][3] = {
	{ 0, 0, 0 },		/* the format's own */
	{ 160, 160, 120 },
	{ 100, 0, 60 },
	{ 60, 0, 40 },
};

static int limit_discord(const json_t *, size_t, char *, size_t);
static int limit_slack(const json_t *, size_t, char *, size_t);
static int limit_mattermost(const json_t *, size_t, char *, size_t);
static int limit_teams(const json_t *, size_t, char *, size_t);
static int limit_matrix(const json_t *, size_t, char *, size_t);
static int limit_ntfy(const json_t *, size_t, char *, size_t);

static const struct fmt formats[] = {
	{ "text", RENDER_ESC_NONE, false, NULL, NULL, 300, 500, 200,
	    NULL, true },
	{ "html", RENDER_ESC_HTML, false, "<strong>", "</strong>", 300, 600,
	    200, NULL, false },
	{ "markdown", RENDER_ESC_MARKDOWN, false, "**", "**", 300, 600, 200,
	    NULL, false },
	{ "slack", RENDER_ESC_MRKDWN, true, "*", "*", 250, 300, 150,
	    limit_slack, false },
	{ "discord", RENDER_ESC_DISCORD, true, "**", "**", 200, 300, 150,
	    limit_discord, false },
	{ "mattermost", RENDER_ESC_DISCORD, true, "**", "**", 250, 300, 150,
	    limit_mattermost, false },
	{ "teams", RENDER_ESC_NONE, true, "**", "**", 250, 300, 150,
	    limit_teams, false },
	{ "matrix", RENDER_ESC_HTML, true, "<strong>", "</strong>", 300, 400,
	    150, limit_matrix, false },
	{ "ntfy", RENDER_ESC_NONE, true, NULL, NULL, 150, 200, 100,
	    limit_ntfy, false },
	{ "json", RENDER_ESC_JSON, true, NULL, NULL, 300, 300, 200, NULL,
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

/* Code points in s[0..n). */
static size_t
u8_len(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
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

	if (max == 0 || u8_len(s, n) <= max) {
		buf_add(out, s, n);
		return;
	}
	for (i = 0; i < n; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (chars == max - 1)
			break;
		chars++;
		if (s[i] == ' ' || s[i] == '\n' || s[i] == '\t')
			blank = i;
	}
	cut = i;
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
 * line, a table row or an indentation).  Caller frees.
 */
static char *
clean(const char *s)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	utf8_clean(&b, s, strlen(s));
	if (b.data == NULL)
		return xstrdup("");
	for (i = 0; i < b.len; i++)
		if ((unsigned char)b.data[i] < 0x20 || b.data[i] == 0x7f)
			b.data[i] = ' ';
	str_collapse_ws(b.data);
	return buf_detach(&b);
}

/* A string value (cleaned), or null. */
static json_t *
jstr(const char *s)
{
	json_t *j;
	char *c;

	if (s == NULL)
		return json_null();
	c = clean(s);
	j = json_string(c);
	free(c);
	return j ? j : json_string("");
}

static json_t *
jshort(const char *s, size_t max)
{
	struct buf b;
	json_t *j;

	char *c;

	if (s == NULL)
		return json_null();
	c = clean(s);
	buf_init(&b);
	shorten(&b, c, max);
	free(c);
	j = json_stringn(buf_str(&b), b.len);
	buf_release(&b);
	return j ? j : json_string("");
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
	buf_init(&b);
	for (i = 0; u[i]; i++) {
		unsigned char c = (unsigned char)u[i];

		if (c <= 0x20 || c >= 0x7f || strchr("\"'<>\\^`{|}()[]*", c)) {
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
highlight(const struct fmt *f, const char *title,
    const struct digest_item *it)
{
	enum render_escape esc = f->esc == RENDER_ESC_JSON ? RENDER_ESC_NONE :
	    f->esc;
	size_t len, i, run;
	struct buf b;
	char *t;
	bool *on;
	json_t *j;

	if (title == NULL)
		return json_null();
	title = t = clean(title);
	len = strlen(title);
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
	free(t);
	j = json_stringn(buf_str(&b), b.len);
	buf_release(&b);
	return j ? j : json_string("");
}

/* ------------------------------------------------------------------ */
/* The model */

/* [{name, first, last}, ...] of a string list. */
static json_t *
name_list(char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:o,s:b,s:b}", "name",
		    jstr(v[i]), "first", i == 0, "last", i + 1 == n));
	return a;
}

static void
join(struct buf *b, char *const *v, size_t n, const char *sep)
{
	size_t i;
	char *c;

	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_adds(b, sep);
		c = clean(v[i] ? v[i] : "");
		buf_adds(b, c);
		free(c);
	}
}

static json_t *
jbuf(const struct buf *b)
{
	json_t *j = json_stringn(buf_str(b), b->len);

	return j ? j : json_string("");
}

static void
add_authors(json_t *o, const struct paper *p, size_t max)
{
	json_t *a = json_array();
	struct buf line, few;
	size_t i, n = p->n_authors;

	buf_init(&line);
	buf_init(&few);
	for (i = 0; i < n; i++) {
		char *name = clean(p->authors[i].name ? p->authors[i].name :
		    "");

		json_array_append_new(a, json_pack("{s:o,s:o,s:b,s:b}", "name",
		    jstr(name), "affiliation", jstr(p->authors[i].affiliation),
		    "first", i == 0, "last", i + 1 == n));
		if (i > 0)
			buf_adds(&line, ", ");
		buf_adds(&line, name);
		if (n <= AUTHORS_ALL || i < AUTHORS_FEW) {
			if (i > 0)
				buf_adds(&few, ", ");
			buf_adds(&few, name);
		}
		free(name);
	}
	if (n > AUTHORS_ALL)
		buf_adds(&few, " et al.");
	json_object_set_new(o, "authors", a);
	json_object_set_new(o, "n_authors", json_integer((json_int_t)n));
	json_object_set_new(o, "authors_line", jstr(buf_str(&line)));
	json_object_set_new(o, "authors_short", jshort(buf_str(&few), max));
	buf_release(&line);
	buf_release(&few);
}

static void
add_links(json_t *o, const struct paper *p)
{
	static const char *const keys[] = { "abs", "pdf", "hf", "url" };
	static const char *const labels[] = { "arXiv", "PDF", "Hugging Face",
	    "Link" };
	char *u[4] = { NULL, NULL, NULL, NULL };
	json_t *links = json_object(), *list = json_array();
	size_t i, n = 0, k;

	if (p->is_arxiv && p->id != NULL) {
		u[0] = xasprintf("https://arxiv.org/abs/%s", p->id);
		u[1] = xasprintf("https://arxiv.org/pdf/%s", p->id);
		u[2] = xasprintf("https://huggingface.co/papers/%s", p->id);
	}
	for (i = 0; i < 4; i++) {
		const char *given[] = { p->url_abs, p->url_pdf, p->url_hf,
		    p->url };
		char *s = safe_url(given[i]);

		if (s != NULL) {
			free(u[i]);
			u[i] = s;
		}
		if (u[i] != NULL && i == 3 && u[0] != NULL)
			continue;	/* an arXiv paper's own link is abs */
		if (u[i] != NULL)
			n++;
	}
	for (i = 0, k = 0; i < 4; i++) {
		json_object_set_new(links, keys[i], jstr(u[i]));
		json_object_set_new(o, i == 3 ? "url" : i == 0 ? "url_abs" :
		    i == 1 ? "url_pdf" : "url_hf", jstr(u[i]));
		if (u[i] == NULL || (i == 3 && u[0] != NULL))
			continue;
		json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:b,s:b}",
		    "name", keys[i], "label", labels[i], "url", u[i],
		    "first", k == 0, "last", k + 1 == n));
		k++;
	}
	json_object_set_new(o, "url_main", jstr(u[0] ? u[0] : u[3] ? u[3] :
	    u[2]));
	json_object_set_new(o, "links", links);
	json_object_set_new(o, "links_list", list);
	json_object_set_new(o, "has_links", json_boolean(n > 0));
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
 * Titles and summaries, whole and shortened; from compaction level 2 on
 * the shortened summaries are left out.
 */
static void
add_texts(json_t *o, const struct paper *p, const size_t lim[3], int level)
{
	const char *blurb = p->ai_summary && *p->ai_summary ? p->ai_summary :
	    p->summary;
	bool drop = level >= 2;

	json_object_set_new(o, "title", jstr(p->title ? p->title : ""));
	json_object_set_new(o, "title_short", jshort(p->title ? p->title : "",
	    lim[0]));
	json_object_set_new(o, "summary", jstr(p->summary));
	json_object_set_new(o, "summary_short", drop ? json_null() :
	    jshort(p->summary, lim[1]));
	json_object_set_new(o, "ai_summary", jstr(p->ai_summary));
	json_object_set_new(o, "ai_summary_short", drop ? json_null() :
	    jshort(p->ai_summary, lim[1]));
	json_object_set_new(o, "blurb", jstr(blurb));
	json_object_set_new(o, "blurb_short", drop ? json_null() :
	    jshort(blurb, lim[1]));
}

static void
add_lists(json_t *o, const struct paper *p, const struct digest_item *it)
{
	struct buf b;

	buf_init(&b);
	json_object_set_new(o, "primary_category", jstr(p->primary_category));
	json_object_set_new(o, "categories", name_list(p->categories.v,
	    p->categories.n));
	join(&b, p->categories.v, p->categories.n, ", ");
	json_object_set_new(o, "categories_line", jbuf(&b));
	json_object_set_new(o, "ai_keywords", name_list(p->ai_keywords.v,
	    p->ai_keywords.n));
	buf_reset(&b);
	json_object_set_new(o, "hits", name_list((char *const *)it->hits,
	    it->hits ? it->n_hits : 0));
	if (it->hits)
		join(&b, (char *const *)it->hits, it->n_hits, ", ");
	json_object_set_new(o, "hits_line", jbuf(&b));
	buf_reset(&b);
	json_object_set_new(o, "sources", name_list(p->sources.v,
	    p->sources.n));
	join(&b, p->sources.v, p->sources.n, ", ");
	json_object_set_new(o, "sources_line", jbuf(&b));
	buf_release(&b);
}

/* The model of one paper, at compaction level (0: the format's sizes). */
static json_t *
paper_model(const struct fmt *f, const struct digest_item *it, size_t rank,
    int level)
{
	const struct paper *p = it->paper;
	size_t lim[3] = { f->title_max, f->summary_max, f->authors_max };
	json_t *o = json_object();
	int i;

	for (i = 0; i < 3 && level > 0; i++)
		if (level_max[level][i] < lim[i] && level_max[level][i] > 0)
			lim[i] = level_max[level][i];
	json_object_set_new(o, "rank", json_integer((json_int_t)rank));
	json_object_set_new(o, "id", jstr(p->id));
	json_object_set_new(o, "version", p->version > 0 ?
	    json_integer(p->version) : json_null());
	json_object_set_new(o, "is_arxiv", json_boolean(p->is_arxiv));
	add_texts(o, p, lim, level);
	json_object_set_new(o, "title_hl", highlight(f, level >= 2 ?
	    json_string_value(json_object_get(o, "title_short")) :
	    p->title ? p->title : "", it));
	add_authors(o, p, lim[2]);
	add_lists(o, p, it);
	add_links(o, p);
	json_object_set_new(o, "has_upvotes", json_boolean(p->upvotes >= 0));
	json_object_set_new(o, "upvotes", p->upvotes >= 0 ?
	    json_integer(p->upvotes) : json_null());
	json_object_set_new(o, "has_comments", json_boolean(p->n_comments >= 0));
	json_object_set_new(o, "n_comments", p->n_comments >= 0 ?
	    json_integer(p->n_comments) : json_null());
	json_object_set_new(o, "score", json_real(round2(it->score)));
	json_object_set_new(o, "published", jdate(p->published));
	json_object_set_new(o, "updated", jdate(p->updated));
	json_object_set_new(o, "announce",
	    jstr(paper_announce_name(p->announce)));
	json_object_set_new(o, "comment", jstr(p->comment));
	json_object_set_new(o, "doi", jstr(p->doi));
	json_object_set_new(o, "journal_ref", jstr(p->journal_ref));
	json_object_set_new(o, "first", json_false());
	json_object_set_new(o, "last", json_false());
	return o;
}

struct part {
	json_t		**papers;	/* the paper models of this part */
	size_t		  n;
	size_t		  first_rank;	/* 1-based */
	size_t		  index;	/* 1-based; 0: not split */
	size_t		  total;
};

static json_t *
part_model(const struct digest *d, const struct fmt *f, const struct part *pt)
{
	json_t *o = json_object(), *a = json_array();
	char label[64];
	struct buf b;
	size_t i;

	for (i = 0; i < pt->n; i++) {
		json_object_set_new(pt->papers[i], "first",
		    json_boolean(i == 0));
		json_object_set_new(pt->papers[i], "last",
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
	if (pt->index > 0) {
		snprintf(label, sizeof(label), "(%zu/%zu)", pt->index,
		    pt->total);
		json_object_set_new(o, "part", json_pack("{s:I,s:I,s:s}",
		    "index", (json_int_t)pt->index, "total",
		    (json_int_t)pt->total, "label", label));
		json_object_set_new(o, "part_label", json_string(label));
	} else {
		json_object_set_new(o, "part", json_false());
		json_object_set_new(o, "part_label", json_string(""));
	}
	json_object_set_new(o, "papers", a);
	json_object_set_new(o, "sources", name_list((char *const *)d->sources,
	    d->sources ? d->n_sources : 0));
	buf_reset(&b);
	if (d->sources)
		join(&b, (char *const *)d->sources, d->n_sources, ", ");
	json_object_set_new(o, "sources_line", jbuf(&b));
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
over(char *why, size_t whylen, const char *what, size_t n, size_t max)
{
	snprintf(why, whylen, "%s: %zu > %zu", what, n, max);
	return -1;
}

static int
discord_embed(const json_t *e, size_t *total, char *why, size_t whylen)
{
	const json_t *fields = json_object_get(e, "fields"), *fl;
	size_t i, n;

	if ((n = tlen(e, "title")) > DISCORD_TITLE)
		return over(why, whylen, "embed title", n, DISCORD_TITLE);
	*total += n;
	if ((n = tlen(e, "description")) > DISCORD_DESCRIPTION)
		return over(why, whylen, "embed description", n,
		    DISCORD_DESCRIPTION);
	*total += n;
	if ((n = tlen(json_object_get(e, "footer"), "text")) > DISCORD_FOOTER)
		return over(why, whylen, "embed footer", n, DISCORD_FOOTER);
	*total += n + tlen(json_object_get(e, "author"), "name");
	if (json_array_size(fields) > DISCORD_FIELDS)
		return over(why, whylen, "embed fields",
		    json_array_size(fields), DISCORD_FIELDS);
	json_array_foreach(fields, i, fl) {
		if (tlen(fl, "name") > DISCORD_FIELD_NAME ||
		    tlen(fl, "value") > DISCORD_FIELD_VALUE)
			return over(why, whylen, "embed field",
			    tlen(fl, "value"), DISCORD_FIELD_VALUE);
		*total += tlen(fl, "name") + tlen(fl, "value");
	}
	return 0;
}

static int
limit_discord(const json_t *j, size_t len, char *why, size_t whylen)
{
	const json_t *embeds = json_object_get(j, "embeds"), *e;
	size_t i, n, total = 0;

	(void)len;
	if ((n = tlen(j, "content")) > DISCORD_CONTENT)
		return over(why, whylen, "content", n, DISCORD_CONTENT);
	if (json_array_size(embeds) > DISCORD_EMBEDS)
		return over(why, whylen, "embeds", json_array_size(embeds),
		    DISCORD_EMBEDS);
	json_array_foreach(embeds, i, e)
		if (discord_embed(e, &total, why, whylen) < 0)
			return -1;
	if (total > DISCORD_EMBED_TOTAL)
		return over(why, whylen, "embed text", total,
		    DISCORD_EMBED_TOTAL);
	return 0;
}

static int
slack_block(const json_t *b, char *why, size_t whylen)
{
	const char *type = json_string_value(json_object_get(b, "type"));
	const json_t *a, *e;
	size_t i, n;

	if (type == NULL)
		return 0;
	n = tlen(json_object_get(b, "text"), "text");
	if (strcmp(type, "header") == 0 && n > SLACK_HEADER_TEXT)
		return over(why, whylen, "header text", n, SLACK_HEADER_TEXT);
	if (n > SLACK_SECTION_TEXT)
		return over(why, whylen, "section text", n, SLACK_SECTION_TEXT);
	a = json_object_get(b, "fields");
	if (json_array_size(a) > SLACK_FIELDS)
		return over(why, whylen, "section fields", json_array_size(a),
		    SLACK_FIELDS);
	json_array_foreach(a, i, e)
		if ((n = tlen(e, "text")) > SLACK_FIELD_TEXT)
			return over(why, whylen, "field text", n,
			    SLACK_FIELD_TEXT);
	a = json_object_get(b, "elements");
	if (strcmp(type, "context") == 0 &&
	    json_array_size(a) > SLACK_CONTEXT_ELEMENTS)
		return over(why, whylen, "context elements",
		    json_array_size(a), SLACK_CONTEXT_ELEMENTS);
	json_array_foreach(a, i, e)
		if ((n = tlen(e, "text")) > SLACK_SECTION_TEXT)
			return over(why, whylen, "element text", n,
			    SLACK_SECTION_TEXT);
	return 0;
}

static int
limit_slack(const json_t *j, size_t len, char *why, size_t whylen)
{
	const json_t *blocks = json_object_get(j, "blocks"), *b;
	size_t i, n;

	(void)len;
	if ((n = tlen(j, "text")) > SLACK_TEXT)
		return over(why, whylen, "text", n, SLACK_TEXT);
	if (json_array_size(blocks) > SLACK_BLOCKS)
		return over(why, whylen, "blocks", json_array_size(blocks),
		    SLACK_BLOCKS);
	json_array_foreach(blocks, i, b)
		if (slack_block(b, why, whylen) < 0)
			return -1;
	return 0;
}

static int
limit_mattermost(const json_t *j, size_t len, char *why, size_t whylen)
{
	const json_t *att = json_object_get(j, "attachments"), *a;
	size_t i, n = tlen(j, "text");

	(void)len;
	json_array_foreach(att, i, a)
		n += tlen(a, "text") + tlen(a, "title") + tlen(a, "pretext");
	if (n > MATTERMOST_TEXT)
		return over(why, whylen, "text", n, MATTERMOST_TEXT);
	return 0;
}

static int
limit_bytes(size_t len, size_t max, char *why, size_t whylen)
{
	return len > max ? over(why, whylen, "bytes", len, max) : 0;
}

static int
limit_teams(const json_t *j, size_t len, char *why, size_t whylen)
{
	(void)j;
	return limit_bytes(len, TEAMS_BYTES, why, whylen);
}

static int
limit_matrix(const json_t *j, size_t len, char *why, size_t whylen)
{
	(void)j;
	return limit_bytes(len, MATRIX_BYTES, why, whylen);
}

static int
limit_ntfy(const json_t *j, size_t len, char *why, size_t whylen)
{
	(void)j;
	return limit_bytes(len, NTFY_BYTES, why, whylen);
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
	bool have = false;

	while (lead < len && line[lead] == ' ')
		lead++;
	if (ind >= sizeof(blanks) || ind > width / 2)
		ind = 0;
	buf_add(out, line, lead);
	col = u8_len(line, lead);
	for (i = lead; i < len; ) {
		for (start = i; i < len && line[i] != ' '; i++)
			;
		w = u8_len(line + start, i - start);
		if (w > 0 && have && col + 1 + w > width) {
			buf_addc(out, '\n');
			buf_add(out, blanks, ind);
			col = ind;
		} else if (w > 0 && have) {
			buf_addc(out, ' ');
			col++;
		}
		buf_add(out, line + start, i - start);
		col += w;
		have = have || w > 0;
		while (i < len && line[i] == ' ')
			i++;
	}
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
		if (u8_len(s, n) <= width)
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
	struct render_tpl *tpl;		/* main templates, parsed once */
};

struct digest_renderer {
	char		*dirs[3];	/* template_dir, data_dir, data_dir/templates */
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
		for (i = 0; i < 3 && r->dirs[i] != NULL && f->path == NULL; i++) {
			char *p = xasprintf("%s/%s.mustache", r->dirs[i], name);

			buf_reset(&b);
			if (file_read_all(p, TEMPLATE_MAX, &b, e, sizeof(e)) == 0)
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

static struct render_tpl *
main_template(struct digest_renderer *r, const char *name, char *err,
    size_t errlen)
{
	struct tfile *f = tfile_get(r, name, true);

	if (f->text == NULL) {
		if (strchr(name, '/') != NULL)
			snprintf(err, errlen, "cannot read template '%s'", name);
		else
			snprintf(err, errlen, "no template '%s.mustache' in "
			    "'%s'%s%s%s", name, r->dirs[0] ? r->dirs[0] : "",
			    r->dirs[1] ? " or '" : "",
			    r->dirs[1] ? r->dirs[1] : "", r->dirs[1] ? "'" : "");
		return NULL;
	}
	if (f->tpl == NULL)
		f->tpl = render_compile(f->text, strlen(f->text), f->path, err,
		    errlen);
	return f->tpl;
}

/* ------------------------------------------------------------------ */
/* Rendering a part, checking it, splitting */

struct job {
	struct digest_renderer	*r;
	const struct digest	*d;
	const struct fmt	*f;
	struct render_tpl	*tpl;
	json_t			**papers;	/* per item, current level */
	int			*level;
	struct buf		 out;
	char			 why[160];	/* why a part does not fit */
};

/*
 * Render one part into j->out: 0 if it fits, 1 if it is over the limit
 * (j->why says which), -1 on a template error (err).
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
	parsed = json_loadb(buf_str(&j->out), j->out.len, 0, &je);
	if (parsed == NULL) {
		snprintf(err, errlen, "template '%s' produced invalid JSON: "
		    "%s (output line %d, column %d)", render_tpl_name(j->tpl),
		    je.text, je.line, je.column);
		return -1;
	}
	rc = j->f->limit ? j->f->limit(parsed, j->out.len, j->why,
	    sizeof(j->why)) : 0;
	json_decref(parsed);
	return rc < 0 ? 1 : 0;
}

/* Does items [i, i+k) fit one message (with the widest part label)? */
static int
fits(struct job *j, size_t i, size_t k, char *err, size_t errlen)
{
	struct part pt = { j->papers + i, k, i + 1, 999, 999 };

	return render_part(j, &pt, err, errlen);
}

/* Make item i fit alone, shortening its fields level by level. */
static int
fit_alone(struct job *j, size_t i, char *err, size_t errlen)
{
	int rc;

	while ((rc = fits(j, i, 1, err, errlen)) == 1) {
		if (j->level[i] + 1 >= LEVELS) {
			snprintf(err, errlen, "template '%s': paper '%s' does "
			    "not fit one %s message even shortened (%s)",
			    render_tpl_name(j->tpl), j->d->items[i].paper->id ?
			    j->d->items[i].paper->id : "?", j->f->name, j->why);
			return -1;
		}
		j->level[i]++;
		json_decref(j->papers[i]);
		j->papers[i] = paper_model(j->f, &j->d->items[i], i + 1,
		    j->level[i]);
	}
	return rc;
}

/* The most items from i on that fit one message (at least 1). */
static int
pack(struct job *j, size_t i, size_t *k, char *err, size_t errlen)
{
	size_t n = j->d->n_items - i, lo = 1, hi, mid;
	int rc = 0;

	if (fit_alone(j, i, err, errlen) < 0)
		return -1;
	hi = 2;
	while (hi <= n && (rc = fits(j, i, hi, err, errlen)) == 0)
		lo = hi, hi *= 2;
	if (rc < 0)
		return -1;
	if (hi > n)
		hi = n + 1;
	while (hi - lo > 1) {		/* lo fits, hi does not */
		mid = lo + (hi - lo) / 2;
		if ((rc = fits(j, i, mid, err, errlen)) < 0)
			return -1;
		if (rc == 0)
			lo = mid;
		else
			hi = mid;
	}
	*k = lo;
	return 0;
}

static int
split(struct job *j, struct strvec *parts, char *err, size_t errlen)
{
	size_t *start = NULL, *count = NULL, n = 0, i = 0, k;
	int rc = 0;

	while (i < j->d->n_items && rc == 0) {
		if ((rc = pack(j, i, &k, err, errlen)) < 0)
			break;
		start = xreallocarray(start, n + 1, sizeof(*start));
		count = xreallocarray(count, n + 1, sizeof(*count));
		start[n] = i;
		count[n++] = k;
		i += k;
	}
	for (k = 0; k < n && rc == 0; k++) {
		struct part pt = { j->papers + start[k], count[k],
		    start[k] + 1, k + 1, n };

		rc = render_part(j, &pt, err, errlen);
		if (rc == 1) {
			snprintf(err, errlen, "%s part %zu/%zu over the limit "
			    "(%s)", j->f->name, k + 1, n, j->why);
			rc = -1;
		} else if (rc == 0)
			strvec_push(parts, buf_str(&j->out));
	}
	free(start);
	free(count);
	return rc;
}

static int
run_job(struct job *j, struct strvec *parts, char *err, size_t errlen)
{
	struct part all = { j->papers, j->d->n_items, 1, 0, 0 };
	int rc = render_part(j, &all, err, errlen);

	if (rc < 0)
		return -1;
	if (rc == 0) {
		strvec_push(parts, buf_str(&j->out));
		return 0;
	}
	if (j->d->n_items == 0) {
		snprintf(err, errlen, "template '%s' over the %s limit with no "
		    "paper (%s)", render_tpl_name(j->tpl), j->f->name, j->why);
		return -1;
	}
	return split(j, parts, err, errlen);
}

int
digest_render_template(struct digest_renderer *r, const struct digest *d,
    const char *format, const char *tpl, struct strvec *parts, char *err,
    size_t errlen)
{
	const struct fmt *f = fmt_find(format);
	size_t before = parts->n, i;
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
	if ((j.tpl = main_template(r, tpl ? tpl : f->name, err, errlen)) == NULL)
		return -1;
	j.papers = xcalloc(d->n_items + 1, sizeof(*j.papers));
	j.level = xcalloc(d->n_items + 1, sizeof(*j.level));
	for (i = 0; i < d->n_items; i++)
		j.papers[i] = paper_model(f, &d->items[i], i + 1, 0);
	buf_init(&j.out);
	rc = run_job(&j, parts, err, errlen);
	for (i = 0; i < d->n_items; i++)
		json_decref(j.papers[i]);
	free(j.papers);
	free(j.level);
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
	struct part pt = { NULL, 0, 1, 0, 0 };
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
		papers[i] = paper_model(f, &d->items[i], i + 1, 0);
	pt = (struct part){ papers, d->n_items, 1, 0, 0 };
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
