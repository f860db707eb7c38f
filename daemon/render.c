/*
 * render.c: a Mustache renderer (core spec: interpolation, sections,
 * inverted sections, comments, partials, set delimiters, standalone
 * lines, dotted names, implicit iterator) over jansson values, with the
 * escaping chosen by the output.
 *
 * A template is parsed once into a tree of nodes that point into the
 * template's own copy of its text; rendering walks the tree with a stack
 * of contexts.  Hostile templates are bounded: nesting depth, visited
 * tags and output size are capped, and every error names the file, the
 * line and the tag.
 */
#include "render.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG_MAX_DELIM	16	/* a delimiter is at most 15 bytes */
#define TAG_SHOW	48	/* bytes of a tag quoted in an error */
#define NAME_MAX_LEN	256	/* one dotted-name segment */

enum node_kind {
	N_ROOT,
	N_TEXT,
	N_VAR,		/* {{name}}: escaped */
	N_RAW,		/* {{{name}}} and {{&name}} */
	N_SECTION,	/* {{#name}} */
	N_INVERTED,	/* {{^name}} */
	N_PARTIAL,	/* {{>name}} */
};

struct node {
	enum node_kind	 kind;
	const char	*text;		/* N_TEXT: the text; else the name */
	size_t		 len;
	const char	*tag;		/* the tag as written, for errors */
	size_t		 taglen;
	int		 line;
	char		*indent;	/* N_PARTIAL standalone: owned */
	struct node	*kids;		/* N_ROOT, N_SECTION, N_INVERTED */
	size_t		 nkids;
	size_t		 capkids;
};

struct render_tpl {
	char		*name;
	char		*src;
	size_t		 len;
	struct node	 root;
};

/* ------------------------------------------------------------------ */
/* Escaping */

static const char *const esc_names[] = {
	[RENDER_ESC_HTML] = "html",
	[RENDER_ESC_MARKDOWN] = "markdown",
	[RENDER_ESC_MRKDWN] = "mrkdwn",
	[RENDER_ESC_DISCORD] = "discord",
	[RENDER_ESC_JSON] = "json",
	[RENDER_ESC_NONE] = "none",
};

int
render_escape_parse(const char *s)
{
	static const struct {
		const char		*name;
		enum render_escape	 esc;
	} alias[] = {
		{ "md", RENDER_ESC_MARKDOWN },
		{ "slack", RENDER_ESC_MRKDWN },
		{ "text", RENDER_ESC_NONE },
		{ "raw", RENDER_ESC_NONE },
	};
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(esc_names) / sizeof(esc_names[0]); i++)
		if (strcmp(s, esc_names[i]) == 0)
			return (int)i;
	for (i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (strcmp(s, alias[i].name) == 0)
			return (int)alias[i].esc;
	return -1;
}

const char *
render_escape_name(enum render_escape esc)
{
	if ((size_t)esc >= sizeof(esc_names) / sizeof(esc_names[0]))
		return "?";
	return esc_names[esc];
}

/* Control characters the markup escapers drop (tab and newline stay). */
static bool
is_dropped_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f;
}

/*
 * Entity escaping: & < > always, and " ' too for HTML (quotes == true);
 * Slack mrkdwn treats only & < > as special.
 */
static void
esc_entities(struct buf *o, const char *s, size_t n, bool quotes)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *rep = NULL;

		if (c > '>' && c != 0x7f)	/* letters, UTF-8: most bytes */
			continue;
		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = quotes ? "&quot;" : NULL; break;
		case '\'': rep = quotes ? "&#39;" : NULL; break;
		default:
			rep = is_dropped_ctl(c) ? "" : NULL;
		}
		if (rep == NULL)
			continue;
		buf_add(o, s + run, i - run);
		buf_adds(o, rep);
		run = i + 1;
	}
	buf_add(o, s + run, n - run);
}

/* "&name;" or "&#123;" starts at s (n bytes): an entity Markdown decodes. */
static bool
looks_like_entity(const char *s, size_t n)
{
	size_t i = 1;

	if (i < n && s[i] == '#')
		i++;
	while (i < n && i < 40 && ((s[i] >= 'a' && s[i] <= 'z') ||
	    (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
		i++;
	return i > 1 && i < n && s[i] == ';';
}

/*
 * CommonMark/GFM: backslash before the characters that start emphasis,
 * code, links, HTML and table cells; newlines become <br> so a value
 * stays inside its table cell.
 */
static void
esc_markdown(struct buf *o, const char *s, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (strchr("\\`*_[]<>|~", c) != NULL && c != 0) {
			buf_add(o, s + run, i - run);
			buf_addc(o, '\\');
			run = i;
		} else if (c == '&' && looks_like_entity(s + i, n - i)) {
			buf_add(o, s + run, i - run);
			buf_addc(o, '\\');
			run = i;
		} else if (c == '\n') {
			buf_add(o, s + run, i - run);
			buf_adds(o, "<br>");
			run = i + 1;
		} else if (c == '\t') {
			buf_add(o, s + run, i - run);
			buf_addc(o, ' ');
			run = i + 1;
		} else if (is_dropped_ctl(c)) {
			buf_add(o, s + run, i - run);
			run = i + 1;
		}
	}
	buf_add(o, s + run, n - run);
}

/* A mass mention ("@everyone", ...) starts at s: defuse it. */
static bool
is_mass_mention(const char *s, size_t n)
{
	static const char *const words[] = { "everyone", "here", "channel",
	    "all" };
	size_t i, l;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		l = strlen(words[i]);
		if (n > l && strncmp(s + 1, words[i], l) == 0)
			return true;
	}
	return false;
}

/*
 * Discord (and Mattermost) Markdown: backslash before the characters that
 * format, quote, mask links or spoil; a zero-width space after the @ of
 * @everyone, @here, @channel and @all so they never notify.
 */
static void
esc_discord(struct buf *o, const char *s, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c != 0 && strchr("\\`*_~|<>[]#", c) != NULL) {
			buf_add(o, s + run, i - run);
			buf_addc(o, '\\');
			run = i;
		} else if (c == '@' && is_mass_mention(s + i, n - i)) {
			buf_add(o, s + run, i + 1 - run);
			buf_adds(o, "\xe2\x80\x8b");	/* U+200B */
			run = i + 1;
		} else if (is_dropped_ctl(c)) {
			buf_add(o, s + run, i - run);
			run = i + 1;
		}
	}
	buf_add(o, s + run, n - run);
}

/*
 * The inside of a JSON string literal: quotes, backslashes, every control
 * character, and U+2028/U+2029 (which break JavaScript consumers).
 */
static void
esc_json(struct buf *o, const char *s, size_t n)
{
	size_t i, run = 0;
	char u[8];

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *rep = NULL;

		if (c == '"')
			rep = "\\\"";
		else if (c == '\\')
			rep = "\\\\";
		else if (c == '\n')
			rep = "\\n";
		else if (c == '\r')
			rep = "\\r";
		else if (c == '\t')
			rep = "\\t";
		else if (c < 0x20 || c == 0x7f) {
			snprintf(u, sizeof(u), "\\u%04x", c);
			rep = u;
		} else if (c == 0xe2 && i + 2 < n &&
		    (unsigned char)s[i + 1] == 0x80 &&
		    ((unsigned char)s[i + 2] == 0xa8 ||
		    (unsigned char)s[i + 2] == 0xa9)) {
			buf_add(o, s + run, i - run);
			buf_adds(o, (unsigned char)s[i + 2] == 0xa8 ?
			    "\\u2028" : "\\u2029");
			i += 2;
			run = i + 1;
			continue;
		} else
			continue;
		buf_add(o, s + run, i - run);
		buf_adds(o, rep);
		run = i + 1;
	}
	buf_add(o, s + run, n - run);
}

static void
esc_none(struct buf *o, const char *s, size_t n)
{
	const char *e = s + n, *z;

	while ((z = memchr(s, '\0', (size_t)(e - s))) != NULL) {
		buf_add(o, s, (size_t)(z - s));
		s = z + 1;
	}
	buf_add(o, s, (size_t)(e - s));
}

void
render_escape_append(struct buf *out, const char *s, size_t len,
    enum render_escape esc)
{
	if (len == 0)		/* s may be NULL then (an empty buffer) */
		return;
	switch (esc) {
	case RENDER_ESC_HTML:		esc_entities(out, s, len, true); break;
	case RENDER_ESC_MARKDOWN:	esc_markdown(out, s, len); break;
	case RENDER_ESC_MRKDWN:	esc_entities(out, s, len, false); break;
	case RENDER_ESC_DISCORD:	esc_discord(out, s, len); break;
	case RENDER_ESC_JSON:		esc_json(out, s, len); break;
	case RENDER_ESC_NONE:
	default:			esc_none(out, s, len); break;
	}
}

/* ------------------------------------------------------------------ */
/* Errors */

/* "NAME:LINE: REASON at tag '{{...}}'" with the tag shortened and cleaned. */
static void
tag_error(char *err, size_t errlen, const char *name, int line,
    const char *tag, size_t taglen, const char *reason)
{
	char shown[TAG_SHOW * 2 + 8];
	size_t i, j = 0, n = taglen > TAG_SHOW ? TAG_SHOW : taglen;

	if (err == NULL || errlen == 0)
		return;
	/* never cut inside a UTF-8 character */
	while (n > 0 && n < taglen && ((unsigned char)tag[n] & 0xc0) == 0x80)
		n--;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)tag[i];

		if (c == '\n') {
			shown[j++] = '\\';
			shown[j++] = 'n';
		} else if (c < 0x20 || c == 0x7f)
			shown[j++] = '?';
		else
			shown[j++] = (char)c;
	}
	shown[j] = '\0';
	if (tag == NULL)
		snprintf(err, errlen, "%s:%d: %s", name, line, reason);
	else
		snprintf(err, errlen, "%s:%d: %s at tag '%s%s'", name, line,
		    reason, shown, n < taglen ? "..." : "");
}

/* ------------------------------------------------------------------ */
/* Parsing */

struct parser {
	struct render_tpl *t;
	const char	*s;
	size_t		 len;
	char		 otag[TAG_MAX_DELIM];
	char		 ctag[TAG_MAX_DELIM];
	size_t		 olen;
	size_t		 clen;
	size_t		 line_pos;	/* line counted up to here */
	int		 line;
	struct node	*open[RENDER_MAX_DEPTH];	/* open sections */
	size_t		 depth;
	char		*err;
	size_t		 errlen;
};

static struct node *
node_add(struct node *parent, enum node_kind kind)
{
	struct node *n;

	if (parent->nkids == parent->capkids) {
		parent->capkids = parent->capkids ? parent->capkids * 2 : 8;
		parent->kids = xreallocarray(parent->kids, parent->capkids,
		    sizeof(*parent->kids));
	}
	n = &parent->kids[parent->nkids++];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	return n;
}

static void
node_release(struct node *n)
{
	size_t i;

	for (i = 0; i < n->nkids; i++)
		node_release(&n->kids[i]);
	free(n->kids);
	free(n->indent);
}

/* The line number of position pos (pos never goes backwards). */
static int
line_at(struct parser *p, size_t pos)
{
	for (; p->line_pos < pos; p->line_pos++)
		if (p->s[p->line_pos] == '\n')
			p->line++;
	return p->line;
}

static struct node *
cur_parent(struct parser *p)
{
	return p->depth ? p->open[p->depth - 1] : &p->t->root;
}

static void
add_text(struct parser *p, size_t from, size_t to)
{
	struct node *n;

	if (to <= from)
		return;
	n = node_add(cur_parent(p), N_TEXT);
	n->text = p->s + from;
	n->len = to - from;
	n->line = line_at(p, from);
}

static const char *
find_str(const char *s, size_t len, size_t from, const char *needle,
    size_t nlen)
{
	size_t i;

	if (nlen == 0 || len < nlen)
		return NULL;
	for (i = from; i + nlen <= len; i++)
		if (s[i] == needle[0] && memcmp(s + i, needle, nlen) == 0)
			return s + i;
	return NULL;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\v' || c == '\f';
}

/* Trim [*b, *e) of white space. */
static void
trim(const char **b, const char **e)
{
	while (*b < *e && is_space(**b))
		(*b)++;
	while (*e > *b && is_space((*e)[-1]))
		(*e)--;
}

/* One parsed tag: where it is, what it is, what it names. */
struct tag {
	size_t		 start;		/* of the open delimiter */
	size_t		 end;		/* after the close delimiter */
	char		 sigil;		/* 0 for a variable */
	const char	*name;
	size_t		 nlen;
};

static int
perr(struct parser *p, const struct tag *tg, size_t taglen, const char *why)
{
	int line = line_at(p, tg->start);

	tag_error(p->err, p->errlen, p->t->name, line, p->s + tg->start,
	    taglen, why);
	return -1;
}

/* Read the tag whose open delimiter starts at start into tg. */
static int
read_tag(struct parser *p, size_t start, struct tag *tg)
{
	const char *b = p->s + start + p->olen, *e, *close;
	char closer[TAG_MAX_DELIM + 1];
	size_t clen = p->clen;

	tg->start = start;
	while (b < p->s + p->len && (*b == ' ' || *b == '\t'))
		b++;
	tg->sigil = b < p->s + p->len && strchr("#^/!>&{=", *b) && *b ?
	    *b : 0;
	if (tg->sigil)
		b++;
	memcpy(closer + 1, p->ctag, p->clen);
	if (tg->sigil == '{' || tg->sigil == '=') {
		closer[0] = tg->sigil == '{' ? '}' : '=';
		clen++;
		close = find_str(p->s, p->len, (size_t)(b - p->s), closer,
		    clen);
	} else
		close = find_str(p->s, p->len, (size_t)(b - p->s), p->ctag,
		    p->clen);
	if (close == NULL) {
		size_t rest = p->len - start;

		return perr(p, tg, rest, "unclosed tag (no closing delimiter)");
	}
	tg->end = (size_t)(close - p->s) + clen;
	e = close;
	trim(&b, &e);
	tg->name = b;
	tg->nlen = (size_t)(e - b);
	return 0;
}

/*
 * A tag that may stand alone on its line: if only spaces and tabs surround
 * it up to the line ends, return true with *ls (start of the line) and
 * *next (after its line end).  text_start is where the current text run
 * began: a tag earlier on the line makes this one not standalone.
 */
static bool
standalone(const struct parser *p, size_t text_start, const struct tag *tg,
    size_t *ls, size_t *next)
{
	size_t i = tg->start, j = tg->end;

	while (i > text_start && (p->s[i - 1] == ' ' || p->s[i - 1] == '\t'))
		i--;
	if (i > 0 && p->s[i - 1] != '\n')
		return false;
	if (i < text_start)
		return false;
	while (j < p->len && (p->s[j] == ' ' || p->s[j] == '\t'))
		j++;
	if (j < p->len && p->s[j] == '\r' && j + 1 < p->len &&
	    p->s[j + 1] == '\n')
		j += 2;
	else if (j < p->len && p->s[j] == '\n')
		j++;
	else if (j < p->len)
		return false;
	*ls = i;
	*next = j;
	return true;
}

static bool
name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 4 * NAME_MAX_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (is_space(s[i]) || s[i] == '\0')
			return false;
	return true;
}

/* {{=<% %>=}}: two non-blank delimiters without '='. */
static int
set_delims(struct parser *p, const struct tag *tg)
{
	const char *b = tg->name, *e = tg->name + tg->nlen, *m;
	size_t ol, cl;

	for (m = b; m < e && !is_space(*m); m++)
		;
	ol = (size_t)(m - b);
	while (m < e && is_space(*m))
		m++;
	cl = (size_t)(e - m);
	if (ol == 0 || cl == 0 || ol >= TAG_MAX_DELIM || cl >= TAG_MAX_DELIM ||
	    memchr(b, '=', ol) || memchr(m, '=', cl) ||
	    !name_ok(m, cl))
		return perr(p, tg, tg->end - tg->start,
		    "bad set-delimiter tag (expected two delimiters without "
		    "'=' or blanks, at most 15 bytes each)");
	memcpy(p->otag, b, ol);
	p->olen = ol;
	memcpy(p->ctag, m, cl);
	p->clen = cl;
	return 0;
}

static int
close_section(struct parser *p, const struct tag *tg)
{
	struct node *open;
	char why[160];

	if (p->depth == 0)
		return perr(p, tg, tg->end - tg->start,
		    "closing tag without an open section");
	open = p->open[p->depth - 1];
	if (open->len != tg->nlen || memcmp(open->text, tg->name, tg->nlen)) {
		snprintf(why, sizeof(why), "closing tag does not match the "
		    "section opened at line %d", open->line);
		return perr(p, tg, tg->end - tg->start, why);
	}
	p->depth--;
	return 0;
}

static int
add_tag(struct parser *p, const struct tag *tg, const char *indent,
    size_t ilen)
{
	static const struct {
		char		sigil;
		enum node_kind	kind;
	} kinds[] = {
		{ 0, N_VAR }, { '&', N_RAW }, { '{', N_RAW },
		{ '#', N_SECTION }, { '^', N_INVERTED }, { '>', N_PARTIAL },
	};
	struct node *n;
	size_t i;

	if (tg->sigil == '!')
		return 0;
	if (tg->sigil == '=')
		return set_delims(p, tg);
	if (!name_ok(tg->name, tg->nlen))
		return perr(p, tg, tg->end - tg->start, tg->nlen == 0 ?
		    "empty tag name" : "bad tag name (blanks or too long)");
	if (tg->sigil == '/')
		return close_section(p, tg);
	for (i = 0; kinds[i].sigil != tg->sigil; i++)
		;
	n = node_add(cur_parent(p), kinds[i].kind);
	n->text = tg->name;
	n->len = tg->nlen;
	n->tag = p->s + tg->start;
	n->taglen = tg->end - tg->start;
	n->line = line_at(p, tg->start);
	if (n->kind == N_PARTIAL && ilen > 0)
		n->indent = xstrndup(indent, ilen);
	if (n->kind == N_SECTION || n->kind == N_INVERTED) {
		if (p->depth == RENDER_MAX_DEPTH)
			return perr(p, tg, tg->end - tg->start,
			    "sections nested too deeply");
		p->open[p->depth++] = n;
	}
	return 0;
}

static int
parse(struct parser *p)
{
	size_t pos = 0, text_start = 0, ls, next;
	const char *at;
	struct tag tg;

	while ((at = find_str(p->s, p->len, pos, p->otag, p->olen)) != NULL) {
		if (read_tag(p, (size_t)(at - p->s), &tg) < 0)
			return -1;
		if (tg.sigil && strchr("#^/!>=", tg.sigil) &&
		    standalone(p, text_start, &tg, &ls, &next)) {
			add_text(p, text_start, ls);
			if (add_tag(p, &tg, p->s + ls, tg.start - ls) < 0)
				return -1;
			pos = text_start = next;
		} else {
			add_text(p, text_start, tg.start);
			if (add_tag(p, &tg, NULL, 0) < 0)
				return -1;
			pos = text_start = tg.end;
		}
	}
	add_text(p, text_start, p->len);
	if (p->depth > 0) {
		struct node *open = p->open[p->depth - 1];

		tag_error(p->err, p->errlen, p->t->name, open->line, open->tag,
		    open->taglen, "unclosed section");
		return -1;
	}
	return 0;
}

struct render_tpl *
render_compile(const char *tpl, size_t len, const char *name, char *err,
    size_t errlen)
{
	struct render_tpl *t = xcalloc(1, sizeof(*t));
	struct parser p;

	t->name = xstrdup(name ? name : "template");
	t->src = xmalloc(len + 1);
	memcpy(t->src, tpl, len);
	t->src[len] = '\0';
	t->len = len;
	t->root.kind = N_ROOT;
	memset(&p, 0, sizeof(p));
	p.t = t;
	p.s = t->src;
	p.len = len;
	memcpy(p.otag, "{{", 2);
	memcpy(p.ctag, "}}", 2);
	p.olen = p.clen = 2;
	p.line = 1;
	p.err = err;
	p.errlen = errlen;
	if (parse(&p) < 0) {
		render_tpl_free(t);
		return NULL;
	}
	return t;
}

void
render_tpl_free(struct render_tpl *t)
{
	if (t == NULL)
		return;
	node_release(&t->root);
	free(t->src);
	free(t->name);
	free(t);
}

const char *
render_tpl_name(const struct render_tpl *t)
{
	return t->name;
}

static void
names_of(const struct node *n, void (*fn)(const char *, size_t, bool, void *),
    void *arg)
{
	size_t i;

	for (i = 0; i < n->nkids; i++) {
		const struct node *k = &n->kids[i];

		if (k->kind != N_TEXT)
			fn(k->text, k->len, k->kind == N_PARTIAL, arg);
		names_of(k, fn, arg);
	}
}

void
render_tpl_names(const struct render_tpl *t,
    void (*fn)(const char *name, size_t len, bool partial, void *arg),
    void *arg)
{
	names_of(&t->root, fn, arg);
}

/* ------------------------------------------------------------------ */
/* Rendering */

/* A parsed partial, per name and indent. */
struct pcache {
	struct pcache	*next;
	char		*name;
	char		*indent;	/* "" when none */
	struct render_tpl *tpl;		/* NULL: no such partial */
};

struct exec {
	const struct render_opts *o;
	struct buf	*out;
	size_t		 max_out;
	size_t		 steps;
	const json_t	*stack[RENDER_MAX_DEPTH + 2];
	size_t		 depth;
	size_t		 nest;		/* sections + partials being run */
	struct pcache	*cache;
	struct buf	 tmp;
	struct buf	 num;
	struct buf	 mid;
	char		*err;
	size_t		 errlen;
};

static int
xerr(struct exec *x, const struct render_tpl *t, const struct node *n,
    const char *why)
{
	tag_error(x->err, x->errlen, t->name, n->line, n->tag, n->taglen, why);
	return -1;
}

static int
too_large(struct exec *x, const struct render_tpl *t, const struct node *n)
{
	char why[96];

	snprintf(why, sizeof(why), "output larger than %zu bytes", x->max_out);
	return xerr(x, t, n, why);
}

static int
emit(struct exec *x, const struct render_tpl *t, const struct node *n,
    const char *s, size_t len)
{
	if (len > x->max_out || x->out->len > x->max_out - len)
		return too_large(x, t, n);
	buf_add(x->out, s, len);
	return 0;
}

/*
 * Find key (klen bytes, no NUL: name_ok) in object v; NULL when v is no
 * object or lacks it.
 */
static const json_t *
get_key(const json_t *v, const char *key, size_t klen)
{
	if (!json_is_object(v) || klen == 0 || klen > NAME_MAX_LEN)
		return NULL;
	return json_object_getn(v, key, klen);
}

/*
 * Resolve a (dotted) name: the first part through the context stack, top
 * first; the rest strictly inside what it found (a broken chain is a
 * miss, never resolved further down the stack).
 */
static const json_t *
lookup(const struct exec *x, const char *name, size_t len)
{
	const json_t *v = NULL;
	const char *dot, *end = name + len;
	size_t i, seg;

	if (len == 1 && name[0] == '.')
		return x->depth ? x->stack[x->depth - 1] : NULL;
	dot = memchr(name, '.', len);
	seg = dot ? (size_t)(dot - name) : len;
	for (i = x->depth; i > 0 && v == NULL; i--)
		v = get_key(x->stack[i - 1], name, seg);
	while (v != NULL && dot != NULL) {
		name = dot + 1;
		dot = memchr(name, '.', (size_t)(end - name));
		seg = dot ? (size_t)(dot - name) : (size_t)(end - name);
		v = get_key(v, name, seg);
	}
	return v;
}

static bool
falsy(const json_t *v)
{
	if (v == NULL || json_is_null(v) || json_is_false(v))
		return true;
	if (json_is_array(v))
		return json_array_size(v) == 0;
	if (json_is_string(v))
		return json_string_length(v) == 0;
	if (json_is_integer(v))
		return json_integer_value(v) == 0;
	if (json_is_real(v))
		return json_real_value(v) == 0.0;
	return false;
}

/* "%lld" of v, without printf. */
static void
add_integer(struct buf *b, long long v)
{
	char t[24], *p = t + sizeof(t);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	buf_add(b, p, (size_t)(t + sizeof(t) - p));
}

/* The text of a scalar: strings as is, numbers the shortest way. */
static void
scalar_text(const json_t *v, struct buf *b)
{
	double d;

	if (json_is_string(v))
		buf_add(b, json_string_value(v), json_string_length(v));
	else if (json_is_integer(v))
		add_integer(b, (long long)json_integer_value(v));
	else if (json_is_real(v)) {
		char t[40];
		int n;

		d = json_real_value(v);
		if (isfinite(d) && (n = snprintf(t, sizeof(t), "%.15g", d)) > 0 &&
		    (size_t)n < sizeof(t))
			buf_add(b, t, (size_t)n);
	} else if (json_is_true(v))
		buf_adds(b, "true");
	else if (json_is_false(v))
		buf_adds(b, "false");
}

/* The text of any value: arrays of scalars as "a, b, c", objects empty. */
static void
value_text(const json_t *v, struct buf *b)
{
	size_t i;
	const json_t *e;

	if (!json_is_array(v)) {
		scalar_text(v, b);
		return;
	}
	json_array_foreach(v, i, e) {
		if (i > 0)
			buf_adds(b, ", ");
		scalar_text(e, b);
	}
}

static int
interpolate(struct exec *x, const struct render_tpl *t, const struct node *n)
{
	const json_t *v = lookup(x, n->text, n->len);
	enum render_escape esc = x->o->esc;
	bool json = x->o->json || esc == RENDER_ESC_JSON;
	const char *text;
	size_t len, before;

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v)) {	/* the common case: no copy */
		text = json_string_value(v);
		len = json_string_length(v);
	} else {
		buf_reset(&x->num);
		value_text(v, &x->num);
		text = x->num.data;
		len = x->num.len;
	}
	if (len == 0)		/* an object, an empty list or string */
		return 0;
	if (esc == RENDER_ESC_JSON || n->kind == N_RAW)
		esc = RENDER_ESC_NONE;
	if (!json) {
		/* escaped straight into the output, then the cap checked */
		before = x->out->len;
		render_escape_append(x->out, text, len, esc);
		if (x->out->len > x->max_out) {
			x->out->len = before;
			x->out->data[before] = '\0';
			return too_large(x, t, n);
		}
		return 0;
	}
	buf_reset(&x->tmp);
	if (json && esc != RENDER_ESC_NONE) {
		buf_reset(&x->mid);
		render_escape_append(&x->mid, text, len, esc);
		render_escape_append(&x->tmp, x->mid.data, x->mid.len,
		    RENDER_ESC_JSON);
	} else
		render_escape_append(&x->tmp, text, len, RENDER_ESC_JSON);
	return emit(x, t, n, x->tmp.data, x->tmp.len);
}

static int run_nodes(struct exec *x, const struct render_tpl *t,
    const struct node *kids, size_t nkids);

static int
push(struct exec *x, const struct render_tpl *t, const struct node *n,
    const json_t *v)
{
	if (x->depth >= RENDER_MAX_DEPTH + 1 || x->nest >= RENDER_MAX_DEPTH)
		return xerr(x, t, n, "sections or partials nested too deeply");
	x->stack[x->depth++] = v;
	return 0;
}

static int
section(struct exec *x, const struct render_tpl *t, const struct node *n)
{
	const json_t *v = lookup(x, n->text, n->len), *e;
	size_t i;
	int rc = 0;

	if (n->kind == N_INVERTED)
		return falsy(v) ? run_nodes(x, t, n->kids, n->nkids) : 0;
	if (falsy(v))
		return 0;
	if (!json_is_array(v)) {
		if (push(x, t, n, v) < 0)
			return -1;
		x->nest++;
		rc = run_nodes(x, t, n->kids, n->nkids);
		x->nest--;
		x->depth--;
		return rc;
	}
	json_array_foreach(v, i, e) {
		if (push(x, t, n, e) < 0)
			return -1;
		x->nest++;
		rc = run_nodes(x, t, n->kids, n->nkids);
		x->nest--;
		x->depth--;
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* The partial's text with indent before every line (spec: standalone). */
static char *
indent_text(const char *s, const char *indent, size_t *outlen)
{
	struct buf b;
	size_t i, start = 0, n = strlen(s);

	buf_init(&b);
	for (i = 0; i < n; i++) {
		if (s[i] != '\n')
			continue;
		if (i + 1 > start) {
			buf_adds(&b, indent);
			buf_add(&b, s + start, i + 1 - start);
		}
		start = i + 1;
	}
	if (start < n) {
		buf_adds(&b, indent);
		buf_add(&b, s + start, n - start);
	}
	*outlen = b.len;
	if (b.data == NULL)
		return xstrdup("");
	return buf_detach(&b);
}

/* The parsed partial for n (cached per render); -1 on a parse error. */
static int
get_partial(struct exec *x, const struct node *n, struct render_tpl **out)
{
	char *name = xstrndup(n->text, n->len);
	const char *indent = n->indent ? n->indent : "", *src, *file = NULL;
	struct pcache *c;
	size_t len;
	char *text;

	for (c = x->cache; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0 &&
		    strcmp(c->indent, indent) == 0)
			break;
	if (c != NULL) {
		free(name);
		*out = c->tpl;
		return 0;
	}
	src = x->o->partials ? x->o->partials(name, x->o->partials_arg) : NULL;
	c = xcalloc(1, sizeof(*c));
	c->name = name;
	c->indent = xstrdup(indent);
	c->next = x->cache;
	x->cache = c;
	if (src != NULL) {
		if (x->o->partial_file)
			file = x->o->partial_file(name, x->o->partials_arg);
		text = indent_text(src, indent, &len);
		c->tpl = render_compile(text, len, file ? file : name, x->err,
		    x->errlen);
		free(text);
		if (c->tpl == NULL)
			return -1;
	}
	*out = c->tpl;
	return 0;
}

static int
partial(struct exec *x, const struct render_tpl *t, const struct node *n)
{
	struct render_tpl *pt;
	int rc;

	if (x->nest >= RENDER_MAX_DEPTH)
		return xerr(x, t, n, "partials nested too deeply (recursion?)");
	if (get_partial(x, n, &pt) < 0)
		return -1;
	if (pt == NULL)
		return 0;
	x->nest++;
	rc = run_nodes(x, pt, pt->root.kids, pt->root.nkids);
	x->nest--;
	return rc;
}

static int
run_nodes(struct exec *x, const struct render_tpl *t, const struct node *kids,
    size_t nkids)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < nkids && rc == 0; i++) {
		const struct node *n = &kids[i];

		if (++x->steps > RENDER_MAX_STEPS)
			return xerr(x, t, n, "template too expensive "
			    "(too many tags visited)");
		switch (n->kind) {
		case N_TEXT:
			rc = emit(x, t, n, n->text, n->len);
			break;
		case N_VAR:
		case N_RAW:
			rc = interpolate(x, t, n);
			break;
		case N_SECTION:
		case N_INVERTED:
			rc = section(x, t, n);
			break;
		case N_PARTIAL:
			rc = partial(x, t, n);
			break;
		case N_ROOT:
			break;
		}
	}
	return rc;
}

int
render_exec(const struct render_tpl *t, const struct json_t *data,
    const struct render_opts *o, struct buf *out, char *err, size_t errlen)
{
	struct exec x;
	struct pcache *c, *next;
	size_t start = out->len;
	int rc;

	memset(&x, 0, sizeof(x));
	x.o = o;
	x.out = out;
	x.max_out = o->max_output ? o->max_output : RENDER_MAX_OUTPUT;
	x.err = err;
	x.errlen = errlen;
	buf_init(&x.tmp);
	buf_init(&x.num);
	buf_init(&x.mid);
	x.stack[x.depth++] = data;
	rc = run_nodes(&x, t, t->root.kids, t->root.nkids);
	for (c = x.cache; c != NULL; c = next) {
		next = c->next;
		render_tpl_free(c->tpl);
		free(c->name);
		free(c->indent);
		free(c);
	}
	buf_release(&x.tmp);
	buf_release(&x.num);
	buf_release(&x.mid);
	if (rc < 0) {
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
	}
	return rc;
}

int
render_string(const char *tpl, size_t len, const char *name,
    const struct json_t *data, enum render_escape esc,
    render_partial_fn partials, void *partials_arg, struct buf *out,
    char *err, size_t errlen)
{
	struct render_tpl *t;
	struct render_opts o;
	int rc;

	t = render_compile(tpl, len, name, err, errlen);
	if (t == NULL)
		return -1;
	memset(&o, 0, sizeof(o));
	o.esc = esc;
	o.json = esc == RENDER_ESC_JSON;
	o.partials = partials;
	o.partials_arg = partials_arg;
	rc = render_exec(t, data, &o, out, err, errlen);
	render_tpl_free(t);
	return rc;
}
