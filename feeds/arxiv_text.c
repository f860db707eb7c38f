/*
 * arxiv_text.c: text helpers shared by the arXiv parsers (arxiv_text.h).
 */
#include "arxiv_text.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "latex.h"

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Byte classes for collapse_copy. */
#define C_WS	1	/* space, tab, CR, LF */
#define C_ODD	2	/* control or non-ASCII: needs utf8_clean */
#define C_BS	4	/* backslash: may hold a LaTeX accent */

#define W	C_WS
#define O	C_ODD
#define B	C_BS
static const unsigned char byte_class[256] = {
	O, O, O, O, O, O, O, O, O, W, W, O, O, W, O, O,
	O, O, O, O, O, O, O, O, O, O, O, O, O, O, O, O,
	W, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, B, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, O,
	O, O, O, O, O, O, O, O, O, O, O, O, O, O, O, O,
	O, O, O, O, O, O, O, O, O, O, O, O, O, O, O, O,
	O, O, O, O, O, O, O, O, O, O, O, O, O, O, O, O,
	O, O, O, O, O, O, O, O, O, O, O, O, O, O, O, O,
	O, O, O, O, O, O, O, O, O, O, O, O, O, O, O, O,
	O, O, O, O, O, O, O, O, O, O, O, O, O, O, O, O,
	O, O, O, O, O, O, O, O, O, O, O, O, O, O, O, O,
	O, O, O, O, O, O, O, O, O, O, O, O, O, O, O, O,
};
#undef W
#undef O
#undef B

/*
 * true when the 8 bytes at s can be copied as they are: no control
 * (DEL included), line break, tab, non-ASCII byte or backslash, no two spaces in a row,
 * and no space first when the byte before was white space.
 */
static bool
plain_word(const char *s, bool prev_ws)
{
	uint64_t w, odd, sp;

	memcpy(&w, s, 8);
	odd = (w & SWAR_REP(0x80)) | swar_zero_bytes(w ^ SWAR_REP('\\')) |
	    swar_zero_bytes(w ^ SWAR_REP(0x7f)) |
	    ((w - SWAR_REP(0x20)) & ~w & SWAR_REP(0x80));
	sp = swar_zero_bytes(w ^ SWAR_REP(' '));
	return odd == 0 && (sp & (sp << 8)) == 0 && (sp & (sp >> 8)) == 0 &&
	    !(prev_ws && s[0] == ' ');
}

/*
 * Copy s into out (len + 1 bytes) with white space collapsed and trimmed;
 * returns the length and ORs the classes seen into *seen.  This runs over
 * every abstract of a 50,000-entry response: words of 8 plain bytes are
 * copied whole, the rest byte by byte without branches.
 */
static size_t
collapse_copy(char *out, const char *s, size_t len, unsigned *seen)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t		 i = 0, n = 0;
	unsigned	 prev_ws = 1, all = 0;

	while (i < len) {
		size_t	 stop;

		if (i + 8 <= len && plain_word(s + i, prev_ws)) {
			memcpy(out + n, s + i, 8);
			n += 8;
			i += 8;
			prev_ws = s[i - 1] == ' ';
			continue;
		}
		for (stop = i + 8 < len ? i + 8 : len; i < stop; i++) {
			unsigned c = u[i], k = byte_class[c], ws = k & C_WS;

			out[n] = ws ? ' ' : (char)c;
			n += !(ws & prev_ws);
			prev_ws = ws;
			all |= k;
		}
	}
	if (n > 0 && out[n - 1] == ' ' && prev_ws)
		n--;
	out[n] = '\0';
	*seen = all;
	return n;
}

/*
 * true if s[0..n) is already what utf8_clean would leave: valid UTF-8
 * without control characters.  libxml2 hands over valid UTF-8, so this
 * usually saves a copy; only C1 controls (allowed in XML) or bytes from
 * elsewhere make it false.
 */
static bool
already_clean(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t		 i = 0, k;
	uint32_t	 cp;

	while (i < n) {
		if (i + 8 <= n) {	/* 8 printable ASCII bytes at once */
			uint64_t w;

			memcpy(&w, s + i, 8);
			if (((w & SWAR_REP(0x80)) |
			    swar_zero_bytes(w ^ SWAR_REP(0x7f)) |
			    ((w - SWAR_REP(0x20)) & ~w & SWAR_REP(0x80))) == 0) {
				i += 8;
				continue;
			}
		}
		if (u[i] < 0x80) {
			if (byte_class[u[i]] & C_ODD)
				return false;
			i++;
			continue;
		}
		k = utf8_decode(s + i, n - i, &cp);
		if (k == 0 || cp < 0xa0)
			return false;
		i += k;
	}
	return true;
}

char *
arxiv_text_clean(const char *s, size_t len, bool latex)
{
	char		*out = xmalloc(len + 1);
	size_t		 n;
	unsigned	 seen;
	struct buf	 b;
	bool		 dirty;

	n = collapse_copy(out, s, len, &seen);
	latex = latex && (seen & C_BS) && latex_has_macro(out, n);
	dirty = (seen & C_ODD) && !already_clean(out, n);
	if (!latex && !dirty)
		return out;
	/* rare path: bad bytes, controls or accent macros */
	buf_init(&b);
	if (dirty) {
		utf8_clean(&b, out, n);
		if (b.data != NULL) {
			/* controls went: spaces may now touch */
			str_collapse_ws(b.data);
			b.len = strlen(b.data);
		}
		free(out);
		n = b.len;
		out = buf_detach(&b);
	}
	if (latex) {
		latex_accents(&b, out, n);
		free(out);
		out = buf_detach(&b);
	}
	return out;
}

/* Append s[0..n) trimmed to b, with sep first when b is not empty. */
static void
add_trimmed(struct buf *b, const char *s, size_t n, const char *sep)
{
	while (n > 0 && is_ws(*s)) {
		s++;
		n--;
	}
	while (n > 0 && is_ws(s[n - 1]))
		n--;
	if (n == 0)
		return;
	if (b->len > 0)
		buf_adds(b, sep);
	buf_add(b, s, n);
}

/* true if every '(' in s[0..n) is closed and no ')' comes first. */
static bool
balanced(const char *s, size_t n)
{
	size_t	 i;
	long	 depth = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && --depth < 0)
			return false;
	}
	return depth == 0;
}

/*
 * One author "Name (Affil) (Other)" of n bytes at s, built in name and
 * affil (scratch buffers the caller reuses for every author).
 */
static bool
add_author(struct paper *p, const char *s, size_t n, bool parens,
    struct buf *name, struct buf *affil)
{
	size_t		 i, start = 0, depth = 0;
	const char	*nm;

	buf_reset(name);
	buf_reset(affil);
	for (i = 0; parens && i < n; i++) {
		if (s[i] == '(' && depth++ == 0) {
			add_trimmed(name, s + start, i - start, " ");
			start = i + 1;
		} else if (s[i] == ')' && --depth == 0) {
			add_trimmed(affil, s + start, i - start, "; ");
			start = i + 1;
		}
	}
	add_trimmed(name, s + start, n - start, " ");
	if (name->len == 0)
		return false;
	nm = name->data;
	if ((nm[0] | 0x20) == 'a' && name->len > 4 &&
	    strncasecmp(nm, "and ", 4) == 0)
		nm += 4;
	paper_add_author(p, nm, affil->len > 0 ? affil->data : NULL);
	return true;
}

size_t
arxiv_text_authors(struct paper *p, const char *s)
{
	size_t		 len = strlen(s), i, start = 0, depth = 0, n = 0;
	bool		 parens = memchr(s, '(', len) != NULL && balanced(s, len);
	struct buf	 name, affil;

	buf_init(&name);
	buf_init(&affil);
	for (i = 0; i <= len && n < ARXIV_TEXT_MAX_AUTHORS; i++) {
		if (i < len && s[i] != ',' && s[i] != '(' && s[i] != ')')
			continue;
		if (parens && i < len && s[i] == '(')
			depth++;
		else if (parens && i < len && s[i] == ')')
			depth--;
		if (i < len && (s[i] != ',' || depth > 0))
			continue;
		if (add_author(p, s + start, i - start, parens, &name, &affil))
			n++;
		start = i + 1;
	}
	buf_release(&name);
	buf_release(&affil);
	return n;
}

/* The path of an absolute http(s) URL, or NULL; *host/hostlen set. */
static const char *
url_path(const char *href, const char **host, size_t *hostlen)
{
	const char	*p = href, *slash;

	if (href == NULL)
		return NULL;
	if (strncasecmp(p, "https://", 8) == 0)
		p += 8;
	else if (strncasecmp(p, "http://", 7) == 0)
		p += 7;
	else
		return NULL;
	slash = strchr(p, '/');
	*host = p;
	*hostlen = slash != NULL ? (size_t)(slash - p) : strlen(p);
	return slash != NULL ? slash : "";
}

static bool
host_is(const char *host, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(host, name, n) == 0;
}

enum arxiv_link
arxiv_text_link_kind(const char *href)
{
	const char	*host, *path;
	size_t		 hostlen;

	if ((path = url_path(href, &host, &hostlen)) == NULL)
		return ARXIV_LINK_OTHER;
	if (host_is(host, hostlen, "doi.org") ||
	    host_is(host, hostlen, "dx.doi.org"))
		return ARXIV_LINK_DOI;
	if (strncmp(path, "/pdf/", 5) == 0)
		return ARXIV_LINK_PDF;
	if (strncmp(path, "/abs/", 5) == 0)
		return ARXIV_LINK_ABS;
	return ARXIV_LINK_OTHER;
}

const char *
arxiv_text_doi_from_url(const char *href)
{
	const char	*host, *path;
	size_t		 hostlen;

	if (arxiv_text_link_kind(href) != ARXIV_LINK_DOI)
		return NULL;
	path = url_path(href, &host, &hostlen);
	if (path == NULL || strncmp(path, "/10.", 4) != 0)
		return NULL;
	return path + 1;
}

bool
arxiv_text_has(const char *buf, size_t len, const char *needle)
{
	size_t		 n = strlen(needle);
	const char	*p = buf, *end = buf + len;

	if (n == 0)
		return true;
	while (p != NULL && (size_t)(end - p) >= n) {
		if (memcmp(p, needle, n) == 0)
			return true;
		p = memchr(p + 1, needle[0], (size_t)(end - p) - 1);
	}
	return false;
}

long long
arxiv_text_count(const char *s)
{
	char		*end;
	long long	 v;

	if (s == NULL)
		return -1;
	while (is_ws(*s))
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	while (is_ws(*end))
		end++;
	return *end == '\0' ? v : -1;
}
