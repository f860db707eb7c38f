/*
 * feed.c: the generic feed source: RSS 0.9x/2.0, RSS 1.0 (RDF), Atom 1.0
 * (and 0.3) and JSON Feed 1.0/1.1, told apart by the document itself.
 *
 * XML is streamed through xmlsax (libxml2's push parser, with recovery for
 * ill-formed feeds: what libxml2 repaired is reported as a warning); each
 * item is handed to the callback as soon as its end tag is read.  Elements
 * are recognised by namespace URI and local name, and by their parent
 * (a channel's <title> is not an image's <title>).  JSON Feed is buffered
 * under FEED_MAX_JSON and parsed with jansson at end().
 *
 * Links are resolved against xml:base and, failing that, the channel link;
 * only absolute http(s) links are kept as an item's url.  HTML (RSS
 * descriptions, Atom type="html", JSON content_html) is reduced to text.
 * An item whose guid or link is an arXiv abs/pdf URL or OAI id gets the
 * arXiv id; other items keep their guid (when it is a URI) or link.
 */
#include "feed.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "paper.h"
#include "source.h"
#include "xmlsax.h"

#define FEED_MAX_JSON		(32u * 1024 * 1024)	/* JSON Feed bytes */
#define FEED_MAX_HEAD		(1024u * 1024)	/* leading white space */
#define FEED_MAX_BASE		4096		/* bytes of an xml:base */
#define FEED_DEFAULT_FIELD	(1024u * 1024)
#define FEED_DEFAULT_ITEMS	200000u
#define FEED_DEFAULT_DEPTH	256u

/* URI references (RFC 3986) */

struct uri_part {
	const char	*p;
	size_t		 n;
	bool		 on;		/* present (possibly empty) */
};

struct uri {
	struct uri_part	 scheme, auth, path, query, frag;
};

static void
uri_split(const char *s, struct uri *u)
{
	const char *p = s, *q;

	memset(u, 0, sizeof(*u));
	if (isalpha((unsigned char)*p)) {
		for (q = p + 1; isalnum((unsigned char)*q) || *q == '+' ||
		    *q == '-' || *q == '.'; q++)
			;
		if (*q == ':') {
			u->scheme = (struct uri_part){ p, (size_t)(q - p), true };
			p = q + 1;
		}
	}
	if (p[0] == '/' && p[1] == '/') {
		p += 2;
		q = p + strcspn(p, "/?#");
		u->auth = (struct uri_part){ p, (size_t)(q - p), true };
		p = q;
	}
	q = p + strcspn(p, "?#");
	u->path = (struct uri_part){ p, (size_t)(q - p), true };
	p = q;
	if (*p == '?') {
		p++;
		q = p + strcspn(p, "#");
		u->query = (struct uri_part){ p, (size_t)(q - p), true };
		p = q;
	}
	if (*p == '#') {
		p++;
		u->frag = (struct uri_part){ p, strlen(p), true };
	}
}

/* Drop the last segment of out and its "/" (RFC 3986 5.2.4 C). */
static void
uri_pop_segment(struct buf *out)
{
	size_t n = out->len;

	while (n > 0 && out->data[n - 1] != '/')
		n--;
	if (n > 0)
		n--;
	out->len = n;
	if (out->data != NULL)
		out->data[n] = '\0';
}

/* Append path[0..n) to out with "." and ".." segments removed. */
static void
uri_remove_dots(struct buf *out, const char *path, size_t n)
{
	char *in = xstrndup(path, n);
	size_t i = 0, k;

	while (i < n) {
		char *s = in + i;
		size_t rest = n - i;

		if (rest >= 3 && memcmp(s, "../", 3) == 0) {
			i += 3;
		} else if (rest >= 2 && memcmp(s, "./", 2) == 0) {
			i += 2;
		} else if (rest >= 3 && memcmp(s, "/./", 3) == 0) {
			i += 2;
		} else if (rest == 2 && memcmp(s, "/.", 2) == 0) {
			s[1] = '/';
			i += 1;
		} else if (rest >= 4 && memcmp(s, "/../", 4) == 0) {
			i += 3;
			uri_pop_segment(out);
		} else if (rest == 3 && memcmp(s, "/..", 3) == 0) {
			s[2] = '/';
			i += 2;
			uri_pop_segment(out);
		} else if ((rest == 1 && s[0] == '.') ||
		    (rest == 2 && memcmp(s, "..", 2) == 0)) {
			i = n;
		} else {
			for (k = s[0] == '/' ? 1 : 0; k < rest && s[k] != '/';
			    k++)
				;
			buf_add(out, s, k);
			i += k;
		}
	}
	free(in);
}

/* The target path of a relative-path reference (RFC 3986 5.2.2-5.2.3). */
static void
uri_merge_path(struct buf *out, const struct uri *b, const struct uri *r)
{
	struct buf m;
	size_t n;

	buf_init(&m);
	if (b->auth.on && b->path.n == 0) {
		buf_addc(&m, '/');
	} else {
		for (n = b->path.n; n > 0 && b->path.p[n - 1] != '/'; n--)
			;
		buf_add(&m, b->path.p, n);
	}
	buf_add(&m, r->path.p, r->path.n);
	uri_remove_dots(out, buf_str(&m), m.len);
	buf_release(&m);
}

static void
uri_add_part(struct buf *out, const char *pre, const struct uri_part *u)
{
	if (!u->on)
		return;
	buf_adds(out, pre);
	buf_add(out, u->p, u->n);
}

char *
feed_uri_resolve(const char *base, const char *ref)
{
	struct uri b, r;
	struct buf out, path;
	const struct uri_part *auth, *query;

	if (ref == NULL)
		return NULL;
	uri_split(ref, &r);
	if (base == NULL || r.scheme.on)
		base = ref;
	uri_split(base, &b);
	if (!b.scheme.on)
		return xstrdup(ref);
	buf_init(&path);
	auth = r.auth.on || r.scheme.on ? &r.auth : &b.auth;
	query = &r.query;
	if (r.scheme.on || r.auth.on || (r.path.n > 0 && r.path.p[0] == '/'))
		uri_remove_dots(&path, r.path.p, r.path.n);
	else if (r.path.n > 0)
		uri_merge_path(&path, &b, &r);
	else {
		buf_add(&path, b.path.p, b.path.n);
		if (!r.query.on)
			query = &b.query;
	}
	buf_init(&out);
	buf_add(&out, b.scheme.p, b.scheme.n);
	buf_addc(&out, ':');
	uri_add_part(&out, "//", auth);
	buf_add(&out, path.data ? path.data : "", path.len);
	uri_add_part(&out, "?", query);
	uri_add_part(&out, "#", &r.frag);
	buf_release(&path);
	return buf_detach(&out);
}

/* HTML to text */

struct html_entity {
	const char	*name;
	uint32_t	 cp;		/* 0: dropped (soft hyphen, marks) */
};

/* Sorted by strcmp for bsearch; white space entities become a space. */
static const struct html_entity html_entities[] = {
	{ "AElig", 0xc6 }, { "Aacute", 0xc1 }, { "Acirc", 0xc2 },
	{ "Agrave", 0xc0 }, { "Aring", 0xc5 }, { "Atilde", 0xc3 },
	{ "Auml", 0xc4 }, { "Ccedil", 0xc7 }, { "Delta", 0x394 },
	{ "Eacute", 0xc9 }, { "Ecirc", 0xca }, { "Egrave", 0xc8 },
	{ "Euml", 0xcb }, { "Iacute", 0xcd }, { "Icirc", 0xce },
	{ "Igrave", 0xcc }, { "Iuml", 0xcf }, { "Ntilde", 0xd1 },
	{ "OElig", 0x152 }, { "Oacute", 0xd3 }, { "Ocirc", 0xd4 },
	{ "Ograve", 0xd2 }, { "Omega", 0x3a9 }, { "Oslash", 0xd8 },
	{ "Otilde", 0xd5 }, { "Ouml", 0xd6 }, { "Scaron", 0x160 },
	{ "Uacute", 0xda }, { "Ucirc", 0xdb }, { "Ugrave", 0xd9 },
	{ "Uuml", 0xdc }, { "Yacute", 0xdd }, { "aacute", 0xe1 },
	{ "acirc", 0xe2 }, { "acute", 0xb4 }, { "aelig", 0xe6 },
	{ "agrave", 0xe0 }, { "alpha", 0x3b1 }, { "amp", 0x26 },
	{ "apos", 0x27 }, { "aring", 0xe5 }, { "asymp", 0x2248 },
	{ "atilde", 0xe3 }, { "auml", 0xe4 }, { "bdquo", 0x201e },
	{ "beta", 0x3b2 }, { "brvbar", 0xa6 }, { "bull", 0x2022 },
	{ "ccedil", 0xe7 }, { "cedil", 0xb8 }, { "cent", 0xa2 },
	{ "chi", 0x3c7 }, { "circ", 0x2c6 }, { "copy", 0xa9 },
	{ "curren", 0xa4 }, { "dagger", 0x2020 }, { "darr", 0x2193 },
	{ "deg", 0xb0 }, { "delta", 0x3b4 }, { "divide", 0xf7 },
	{ "eacute", 0xe9 }, { "ecirc", 0xea }, { "egrave", 0xe8 },
	{ "emsp", 0x20 }, { "ensp", 0x20 }, { "epsilon", 0x3b5 },
	{ "eta", 0x3b7 }, { "eth", 0xf0 }, { "euml", 0xeb },
	{ "euro", 0x20ac }, { "frac12", 0xbd }, { "frac14", 0xbc },
	{ "frac34", 0xbe }, { "gamma", 0x3b3 }, { "ge", 0x2265 },
	{ "gt", 0x3e }, { "harr", 0x2194 }, { "hellip", 0x2026 },
	{ "iacute", 0xed }, { "icirc", 0xee }, { "iexcl", 0xa1 },
	{ "igrave", 0xec }, { "infin", 0x221e }, { "iota", 0x3b9 },
	{ "iquest", 0xbf }, { "iuml", 0xef }, { "kappa", 0x3ba },
	{ "lambda", 0x3bb }, { "laquo", 0xab }, { "larr", 0x2190 },
	{ "ldquo", 0x201c }, { "le", 0x2264 }, { "lrm", 0x0 },
	{ "lsaquo", 0x2039 }, { "lsquo", 0x2018 }, { "lt", 0x3c },
	{ "macr", 0xaf }, { "mdash", 0x2014 }, { "micro", 0xb5 },
	{ "middot", 0xb7 }, { "minus", 0x2212 }, { "mu", 0x3bc },
	{ "nbsp", 0x20 }, { "ndash", 0x2013 }, { "ne", 0x2260 },
	{ "not", 0xac }, { "ntilde", 0xf1 }, { "nu", 0x3bd },
	{ "oacute", 0xf3 }, { "ocirc", 0xf4 }, { "oelig", 0x153 },
	{ "ograve", 0xf2 }, { "omega", 0x3c9 }, { "omicron", 0x3bf },
	{ "ordf", 0xaa }, { "ordm", 0xba }, { "oslash", 0xf8 },
	{ "otilde", 0xf5 }, { "ouml", 0xf6 }, { "para", 0xb6 },
	{ "permil", 0x2030 }, { "phi", 0x3c6 }, { "pi", 0x3c0 },
	{ "plusmn", 0xb1 }, { "pound", 0xa3 }, { "prime", 0x2032 },
	{ "psi", 0x3c8 }, { "quot", 0x22 }, { "raquo", 0xbb },
	{ "rarr", 0x2192 }, { "rdquo", 0x201d }, { "reg", 0xae },
	{ "rho", 0x3c1 }, { "rlm", 0x0 }, { "rsaquo", 0x203a },
	{ "rsquo", 0x2019 }, { "sbquo", 0x201a }, { "scaron", 0x161 },
	{ "sect", 0xa7 }, { "shy", 0x0 }, { "sigma", 0x3c3 },
	{ "sum", 0x2211 }, { "sup1", 0xb9 }, { "sup2", 0xb2 },
	{ "sup3", 0xb3 }, { "szlig", 0xdf }, { "tau", 0x3c4 },
	{ "theta", 0x3b8 }, { "thinsp", 0x20 }, { "thorn", 0xfe },
	{ "tilde", 0x2dc }, { "times", 0xd7 }, { "trade", 0x2122 },
	{ "uacute", 0xfa }, { "uarr", 0x2191 }, { "ucirc", 0xfb },
	{ "ugrave", 0xf9 }, { "uml", 0xa8 }, { "upsilon", 0x3c5 },
	{ "uuml", 0xfc }, { "xi", 0x3be }, { "yacute", 0xfd },
	{ "yen", 0xa5 }, { "yuml", 0xff }, { "zeta", 0x3b6 }, { "zwj", 0x0 },
	{ "zwnj", 0x0 },
};

static int
html_entity_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct html_entity *)elem)->name);
}

/*
 * Decode the character reference at s[0] == '&' (len bytes left) into
 * out.  Returns the bytes consumed, or 0 when it is not one (the '&' is
 * then literal text).
 */
static size_t
html_entity(struct buf *out, const char *s, size_t len)
{
	char name[16], u8[4], *end;
	const struct html_entity *e;
	const char *d;
	unsigned long v;
	uint32_t cp;
	size_t n;

	for (n = 1; n < len && n < sizeof(name) && s[n] != ';'; n++)
		;
	if (n >= len || s[n] != ';' || n == 1)
		return 0;
	memcpy(name, s + 1, n - 1);
	name[n - 1] = '\0';
	if (name[0] == '#') {
		bool hex = name[1] == 'x' || name[1] == 'X';

		d = name + (hex ? 2 : 1);
		if (!(hex ? isxdigit((unsigned char)*d) :
		    isdigit((unsigned char)*d)))
			return 0;
		v = strtoul(d, &end, hex ? 16 : 10);
		if (*end != '\0')
			return 0;
		cp = v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) ?
		    0xfffd : (uint32_t)v;
		if (cp == 0xa0)
			cp = ' ';
	} else {
		e = bsearch(name, html_entities, sizeof(html_entities) /
		    sizeof(html_entities[0]), sizeof(html_entities[0]),
		    html_entity_cmp);
		if (e == NULL)
			return 0;
		cp = e->cp;
	}
	if (cp != 0)
		buf_add(out, u8, utf8_encode(cp, u8));
	return n + 1;
}

/* Tags that separate words (a space is written for them). */
static bool
html_is_block(const char *name, size_t n)
{
	static const char *const block[] = { "address", "article", "aside",
	    "blockquote", "br", "caption", "dd", "div", "dl", "dt",
	    "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5",
	    "h6", "header", "hr", "li", "ol", "p", "pre", "section", "table",
	    "td", "th", "tr", "ul" };

	for (size_t i = 0; i < sizeof(block) / sizeof(block[0]); i++)
		if (strlen(block[i]) == n && strncasecmp(name, block[i], n) == 0)
			return true;
	return false;
}

/* Case-insensitive search of needle in s[0..len); offset or len. */
static size_t
html_find(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (strncasecmp(s + i, needle, n) == 0)
			return i;
	return len;
}

/* The end of the tag opened at s[0] == '<' (index after '>'), or 0. */
static size_t
html_tag_end(const char *s, size_t len)
{
	char quote = 0;

	for (size_t i = 1; i < len; i++) {
		if (quote != 0) {
			if (s[i] == quote)
				quote = 0;
		} else if (s[i] == '"' || s[i] == '\'') {
			quote = s[i];
		} else if (s[i] == '>') {
			return i + 1;
		}
	}
	return 0;
}

/* The end of a <script>/<style> whose start tag ends at s[from]. */
static size_t
html_skip_raw(const char *s, size_t len, size_t from, const char *close)
{
	size_t c = from + html_find(s + from, len - from, close), t;

	if (c >= len)
		return len;
	t = html_tag_end(s + c, len - c);
	return t == 0 ? len : c + t;
}

/*
 * Skip the markup at s[0] == '<': a comment, a declaration, or a tag
 * (with the content of <script> and <style>).  Returns the bytes taken,
 * 0 when '<' is literal text, len when the rest is unterminated markup.
 */
static size_t
html_markup(struct buf *out, const char *s, size_t len)
{
	size_t name, n, end;
	bool closing;

	if (len >= 4 && memcmp(s, "<!--", 4) == 0) {
		end = html_find(s + 4, len - 4, "-->");
		return end == len - 4 ? len : end + 7;
	}
	closing = len > 1 && s[1] == '/';
	name = closing ? 2 : 1;
	if (name >= len || !(isalpha((unsigned char)s[name]) ||
	    (!closing && (s[1] == '!' || s[1] == '?'))))
		return 0;
	for (n = 0; name + n < len && isalnum((unsigned char)s[name + n]); n++)
		;
	if ((end = html_tag_end(s, len)) == 0)
		return len;
	if (html_is_block(s + name, n))
		buf_addc(out, ' ');
	if (!closing && ((n == 6 && strncasecmp(s + name, "script", 6) == 0) ||
	    (n == 5 && strncasecmp(s + name, "style", 5) == 0))) {
		end = html_skip_raw(s, len, end, n == 6 ? "</script" :
		    "</style");
		buf_addc(out, ' ');
	}
	return end;
}

void
feed_html_text(struct buf *out, const char *s, size_t len)
{
	size_t i = 0, run = 0, n;

	while (i < len) {
		if (s[i] != '<' && s[i] != '&') {
			i++;
			run++;
			continue;
		}
		buf_add(out, s + i - run, run);
		run = 0;
		n = s[i] == '<' ? html_markup(out, s + i, len - i) :
		    html_entity(out, s + i, len - i);
		if (n == 0) {
			buf_addc(out, s[i]);
			n = 1;
		}
		i += n;
	}
	buf_add(out, s + len - run, run);
}

/* Parser state */

enum feed_mode { MODE_UNKNOWN, MODE_XML, MODE_JSON };
enum feed_dialect { D_NONE, D_RSS, D_RDF, D_ATOM };
/* What an open element is, for its children. */
enum feed_kind { K_OTHER, K_ROOT, K_CHANNEL, K_ITEM, K_AUTHOR };

enum feed_field {
	F_NONE, F_TITLE, F_LINK, F_GUID, F_ID, F_DESC, F_CONTENT, F_AUTHOR,
	F_CREATOR, F_NAME, F_PUBLISHED, F_UPDATED, F_CATEGORY, F_DCTITLE,
	F_IDENT, F_DOI, F_C_TITLE, F_C_LINK, F_C_UPDATED, F_C_PUBLISHED,
};

/* The namespaces the parser knows; indexes as xmlsax hands them out. */
enum feed_ns {
	NS_ATOM, NS_ATOM03, NS_RSS10, NS_RSS090, NS_USERLAND, NS_USERLAND2,
	NS_RDF, NS_DC, NS_DCTERMS, NS_CONTENT, NS_PRISM, NS_PRISM_RSS,
	NS_COUNT,
};
static const char *const feed_ns_uris[NS_COUNT] = {
	[NS_ATOM] = "http://www.w3.org/2005/Atom",
	[NS_ATOM03] = "http://purl.org/atom/ns#",
	[NS_RSS10] = "http://purl.org/rss/1.0/",
	[NS_RSS090] = "http://my.netscape.com/rdf/simple/0.9/",
	[NS_USERLAND] = "http://backend.userland.com/rss",
	[NS_USERLAND2] = "http://backend.userland.com/rss2",
	[NS_RDF] = "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
	[NS_DC] = "http://purl.org/dc/elements/1.1/",
	[NS_DCTERMS] = "http://purl.org/dc/terms/",
	[NS_CONTENT] = "http://purl.org/rss/1.0/modules/content/",
	[NS_PRISM] = "http://prismstandard.org/namespaces/basic/2.0/",
	[NS_PRISM_RSS] = "http://purl.org/rss/1.0/modules/prism/",
};

/* The item being read: candidates for fields chosen at its end. */
struct feed_item {
	struct paper	*p;		/* authors, categories, dates, doi */
	char		*title, *dc_title, *link, *alt_link, *guid, *atom_id;
	char		*about, *desc, *content;
	bool		 guid_permalink;
};

struct base_entry {
	size_t	 depth;
	char	*uri;
};

struct feed_state {
	source_paper_cb		 cb;
	void			*arg;
	struct source_info	*info;
	struct source_info	 own_info;	/* when the caller gave none */
	size_t			 max_field, max_items, max_depth;
	enum feed_mode		 mode;
	size_t			 n_lead;	/* BOM/space bytes skipped */
	size_t			 n_bom;		/* of them, UTF-8 BOM bytes */
	struct buf		 json;
	struct xmlsax		*x;
	enum feed_dialect	 dialect;
	unsigned char		*kinds;		/* enum feed_kind by depth */
	struct base_entry	*bases;		/* xml:base in scope */
	char			*doc_url;	/* where the document came from */
	size_t			 n_bases, cap_bases;
	enum feed_field		 field;		/* being captured */
	size_t			 field_depth;
	bool			 field_html;
	bool			 author_in_item;
	struct feed_item	 item;
	bool			 in_item;
	size_t			 n_seen;	/* items read, emitted or not */
	struct strvec		 feed_authors;
	long long		 chan_updated, chan_published, last_item;
	bool			 limit_warned;
};

static void feed_warn(struct feed_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Count a recoverable problem; keep the text of the first one. */
static void
feed_warn(struct feed_state *st, const char *fmt, ...)
{
	va_list ap;

	if (st->info->n_warnings++ == 0) {
		va_start(ap, fmt);
		vsnprintf(st->info->warning, sizeof(st->info->warning), fmt,
		    ap);
		va_end(ap);
	}
}

/* Whether s[0..len) is printable ASCII and white space only (the common
   case, which utf8_clean would copy unchanged). */
static bool
feed_plain_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c >= 0x7f)
			return false;
	}
	return true;
}

/*
 * A copy of s fit for a paper: HTML reduced to text when html, invalid
 * UTF-8 and control characters replaced or dropped, white space
 * collapsed, cut at max_field bytes on a character boundary.  NULL when
 * nothing is left.
 */
static char *
feed_text(struct feed_state *st, const char *s, size_t len, bool html)
{
	struct buf h, b;
	size_t n;

	buf_init(&h);
	buf_init(&b);
	if (html) {
		feed_html_text(&h, s, len);
		s = buf_str(&h);
		len = h.len;
	}
	if (feed_plain_ascii(s, len))
		buf_add(&b, s, len);
	else
		utf8_clean(&b, s, len);
	buf_release(&h);
	if (b.data == NULL)
		return NULL;
	str_collapse_ws(b.data);
	if ((n = strlen(b.data)) > st->max_field) {
		n = st->max_field;
		while (n > 0 && ((unsigned char)b.data[n] & 0xc0) == 0x80)
			n--;
		b.data[n] = '\0';
		feed_warn(st, "item %zu: text cut to %zu bytes", st->n_seen,
		    n);
	}
	if (n == 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static bool
feed_is_web(const char *s)
{
	return s != NULL && (str_istarts(s, "http://") ||
	    str_istarts(s, "https://"));
}

/*
 * The base URI in scope: the innermost xml:base, else the feed's link,
 * else the URL the document was fetched from.
 */
static const char *
feed_base(const struct feed_state *st)
{
	if (st->n_bases > 0)
		return st->bases[st->n_bases - 1].uri;
	return st->info->link ? st->info->link : st->doc_url;
}

/* Set *field (when empty) to s taken over; frees s otherwise. */
static void
feed_take(char **field, char *s)
{
	if (*field == NULL)
		*field = s;
	else
		free(s);
}

/* An RSS author: "jo@example.org (Jo Doe)" and "Jo Doe <jo@...>" give
   the name; anything else is kept whole. */
static void
feed_add_rss_author(struct paper *p, char *s)
{
	size_t n = strlen(s);
	char *open;

	if (n > 2 && s[n - 1] == ')' && (open = strrchr(s, '(')) != NULL &&
	    open > s && memchr(s, '@', (size_t)(open - s)) != NULL) {
		s[n - 1] = '\0';
		str_collapse_ws(open + 1);
		if (open[1] != '\0') {
			paper_add_author(p, open + 1, NULL);
			return;
		}
		s[n - 1] = ')';
	}
	if ((open = strchr(s, '<')) != NULL && open > s &&
	    strchr(open, '@') != NULL) {
		*open = '\0';
		str_collapse_ws(s);
	}
	if (*s != '\0')
		paper_add_author(p, s, NULL);
}

static void
feed_add_category(struct paper *p, char *s)
{
	if (!strvec_contains(&p->categories, s))
		strvec_push_take(&p->categories, s);
	else
		free(s);
}

static void
feed_item_release(struct feed_item *it)
{
	paper_free(it->p);
	free(it->title);
	free(it->dc_title);
	free(it->link);
	free(it->alt_link);
	free(it->guid);
	free(it->atom_id);
	free(it->about);
	free(it->desc);
	free(it->content);
	memset(it, 0, sizeof(*it));
}

static void
feed_item_begin(struct feed_state *st)
{
	feed_item_release(&st->item);
	st->item.p = paper_new();
	st->item.guid_permalink = true;
	st->in_item = true;
	st->n_seen++;
}

/* If s is an arXiv abs/pdf URL, OAI id or "arXiv:" id, make p that paper. */
static bool
feed_try_arxiv(struct paper *p, const char *s)
{
	char id[64];
	int version;

	if (s == NULL || !(feed_is_web(s) || str_istarts(s, "oai:") ||
	    str_istarts(s, "arxiv:")))
		return false;
	if (paper_arxiv_id(s, id, sizeof(id), &version) != 0)
		return false;
	paper_set_arxiv_id(p, id, version);
	return true;
}

/* Whether s starts with a URI scheme ("tag:", "urn:", "https:"). */
static bool
feed_has_scheme(const char *s)
{
	struct uri u;

	uri_split(s, &u);
	return u.scheme.on;
}

/* A stable id for an item with neither guid nor link (FNV-1a 64). */
static char *
feed_hash_id(const struct feed_state *st, const struct feed_item *it,
    const char *title, const char *summary)
{
	const char *parts[4] = { st->info->link, title, summary, it->guid };
	uint64_t h = 0xcbf29ce484222325ULL;
	char date[24];

	snprintf(date, sizeof(date), "%lld", it->p->published);
	for (size_t i = 0; i < 5; i++) {
		const char *s = i < 4 ? parts[i] : date;

		for (; s != NULL && *s != '\0'; s++)
			h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
		h = (h ^ 0xff) * 0x100000001b3ULL;
	}
	return xasprintf("urn:paperwatch:item:%016llx", (unsigned long long)h);
}

/*
 * The id of a non-arXiv item: its guid when that is a URI (guids like
 * "2" are only unique in their feed), else its link, else the guid scoped
 * by the feed's link, else a hash of what the item says.
 */
static void
feed_plain_id(struct feed_state *st, struct feed_item *it, const char *link,
    const char *title, const char *summary)
{
	const char *guid = it->guid != NULL ? it->guid : it->atom_id;
	char *id;

	if (guid != NULL && feed_has_scheme(guid))
		id = xstrdup(guid);
	else if (link != NULL)
		id = xstrdup(link);
	else if (it->about != NULL)
		id = xstrdup(it->about);
	else if (guid != NULL)
		id = xasprintf("%s#%s", st->info->link ? st->info->link :
		    "feed", guid);
	else
		id = feed_hash_id(st, it, title, summary);
	free(it->p->id);
	it->p->id = id;
	it->p->is_arxiv = false;
}

/* The item's link: RSS <link>, Atom alternate link, permalink guid. */
static char *
feed_item_link(struct feed_state *st, struct feed_item *it)
{
	const char *cand[] = { it->link, it->alt_link,
	    it->guid_permalink ? it->guid : NULL, it->about };
	char *u;

	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		if (cand[i] == NULL)
			continue;
		if (i >= 2 && !feed_is_web(cand[i]))
			continue;
		u = feed_uri_resolve(feed_base(st), cand[i]);
		if (feed_is_web(u))
			return u;
		feed_warn(st, "item %zu: link '%.80s' dropped (not an "
		    "absolute http(s) URL)", st->n_seen, u);
		free(u);
	}
	return NULL;
}

/* Hand the item's paper to the callback (unless over the item limit). */
static int
feed_hand_over(struct feed_state *st)
{
	struct paper *p = st->item.p;
	long long t;

	if (st->info->n_items >= st->max_items) {
		if (!st->limit_warned)
			feed_warn(st, "more than %zu items: the rest ignored",
			    st->max_items);
		st->limit_warned = true;
		return 0;
	}
	st->item.p = NULL;
	t = p->published > p->updated ? p->published : p->updated;
	if (t > st->last_item)
		st->last_item = t;
	st->info->n_items++;
	return st->cb(p, st->arg) == 0 ? 0 : -1;
}

/*
 * Complete the item into its paper and hand it over.  Returns 0, or -1
 * when the callback said stop.
 */
static int
feed_item_emit(struct feed_state *st)
{
	struct feed_item *it = &st->item;
	struct paper *p = it->p;
	char *link = feed_item_link(st, it);
	const char *title = it->title ? it->title : it->dc_title;
	const char *summary = it->desc ? it->desc : it->content;

	st->in_item = false;
	if (title == NULL && summary == NULL && link == NULL &&
	    it->guid == NULL && it->atom_id == NULL && it->about == NULL &&
	    p->published == -1 && p->updated == -1) {
		feed_warn(st, "item %zu is empty: skipped", st->n_seen);
		free(link);
		return 0;
	}
	if (!feed_try_arxiv(p, it->guid) && !feed_try_arxiv(p, it->atom_id) &&
	    !feed_try_arxiv(p, link) && !feed_try_arxiv(p, it->about))
		feed_plain_id(st, it, link, title, summary);
	paper_set(&p->title, title);
	paper_set(&p->summary, summary);
	free(p->url);
	p->url = link;
	if (p->n_authors == 0) {
		for (size_t i = 0; i < st->feed_authors.n; i++)
			paper_add_author(p, st->feed_authors.v[i], NULL);
	}
	return feed_hand_over(st);
}

/* XML feeds */

#define NS_RSS_FAMILY	(-10)	/* rule matches RSS 0.9x/1.0/2.0 names */
#define NS_ATOM_FAMILY	(-11)	/* rule matches Atom 1.0 and 0.3 */
#define FEED_MAX_LIST	1000	/* authors, categories of one item */

struct feed_rule {
	enum feed_kind	 parent;
	int		 ns;
	const char	*local;
	enum feed_field	 field;
	bool		 html;		/* text is HTML (Atom: per type=) */
};

static const struct feed_rule feed_rules[] = {
	{ K_ITEM, NS_RSS_FAMILY, "title", F_TITLE, false },
	{ K_ITEM, NS_RSS_FAMILY, "link", F_LINK, false },
	{ K_ITEM, NS_RSS_FAMILY, "guid", F_GUID, false },
	{ K_ITEM, NS_RSS_FAMILY, "description", F_DESC, true },
	{ K_ITEM, NS_RSS_FAMILY, "author", F_AUTHOR, false },
	{ K_ITEM, NS_RSS_FAMILY, "pubDate", F_PUBLISHED, false },
	{ K_ITEM, NS_RSS_FAMILY, "category", F_CATEGORY, false },
	{ K_ITEM, NS_ATOM_FAMILY, "title", F_TITLE, false },
	{ K_ITEM, NS_ATOM_FAMILY, "id", F_ID, false },
	{ K_ITEM, NS_ATOM_FAMILY, "summary", F_DESC, false },
	{ K_ITEM, NS_ATOM_FAMILY, "content", F_CONTENT, false },
	{ K_ITEM, NS_ATOM_FAMILY, "published", F_PUBLISHED, false },
	{ K_ITEM, NS_ATOM_FAMILY, "issued", F_PUBLISHED, false },
	{ K_ITEM, NS_ATOM_FAMILY, "updated", F_UPDATED, false },
	{ K_ITEM, NS_ATOM_FAMILY, "modified", F_UPDATED, false },
	{ K_ITEM, NS_DC, "creator", F_CREATOR, false },
	{ K_ITEM, NS_DC, "date", F_PUBLISHED, false },
	{ K_ITEM, NS_DC, "title", F_DCTITLE, false },
	{ K_ITEM, NS_DC, "subject", F_CATEGORY, false },
	{ K_ITEM, NS_DC, "identifier", F_IDENT, false },
	{ K_ITEM, NS_DCTERMS, "issued", F_PUBLISHED, false },
	{ K_ITEM, NS_DCTERMS, "created", F_PUBLISHED, false },
	{ K_ITEM, NS_DCTERMS, "modified", F_UPDATED, false },
	{ K_ITEM, NS_CONTENT, "encoded", F_CONTENT, true },
	{ K_ITEM, NS_PRISM, "doi", F_DOI, false },
	{ K_ITEM, NS_PRISM_RSS, "doi", F_DOI, false },
	{ K_AUTHOR, NS_ATOM_FAMILY, "name", F_NAME, false },
	{ K_CHANNEL, NS_RSS_FAMILY, "title", F_C_TITLE, false },
	{ K_CHANNEL, NS_RSS_FAMILY, "link", F_C_LINK, false },
	{ K_CHANNEL, NS_RSS_FAMILY, "lastBuildDate", F_C_UPDATED, false },
	{ K_CHANNEL, NS_RSS_FAMILY, "pubDate", F_C_PUBLISHED, false },
	{ K_CHANNEL, NS_ATOM_FAMILY, "title", F_C_TITLE, false },
	{ K_CHANNEL, NS_ATOM_FAMILY, "updated", F_C_UPDATED, false },
	{ K_CHANNEL, NS_ATOM_FAMILY, "modified", F_C_UPDATED, false },
	{ K_CHANNEL, NS_DC, "date", F_C_PUBLISHED, false },
};

static bool
ns_rss(int ns)
{
	return ns == XMLSAX_NS_NONE || ns == NS_RSS10 || ns == NS_RSS090 ||
	    ns == NS_USERLAND || ns == NS_USERLAND2;
}

static bool
ns_atom(int ns)
{
	return ns == NS_ATOM || ns == NS_ATOM03;
}

static bool
ns_match(int rule_ns, int ns)
{
	if (rule_ns == NS_RSS_FAMILY)
		return ns_rss(ns);
	if (rule_ns == NS_ATOM_FAMILY)
		return ns_atom(ns);
	return rule_ns == ns;
}

static enum feed_kind
feed_kind_at(const struct feed_state *st, size_t depth)
{
	return depth <= st->max_depth + 1 ? (enum feed_kind)st->kinds[depth] :
	    K_OTHER;
}

static void
feed_set_kind(struct feed_state *st, size_t depth, enum feed_kind k)
{
	if (depth <= st->max_depth + 1)
		st->kinds[depth] = (unsigned char)k;
}

/* An xml:base on e opens a new base for e and its content. */
static void
feed_push_base(struct feed_state *st, const struct xmlsax_elem *e)
{
	const struct xmlsax_attr *a = NULL;
	char *s;

	for (size_t i = 0; i < e->n_attrs && a == NULL; i++)
		if (e->attrs[i].ns == XMLSAX_NS_XML &&
		    strcmp(e->attrs[i].local, "base") == 0)
			a = &e->attrs[i];
	if (a == NULL)
		return;
	if (a->len > FEED_MAX_BASE) {
		feed_warn(st, "xml:base longer than %d bytes ignored",
		    FEED_MAX_BASE);
		return;
	}
	if ((s = feed_text(st, a->value, a->len, false)) == NULL)
		return;
	if (st->n_bases == st->cap_bases) {
		st->cap_bases = st->cap_bases ? 2 * st->cap_bases : 8;
		st->bases = xreallocarray(st->bases, st->cap_bases,
		    sizeof(*st->bases));
	}
	st->bases[st->n_bases].depth = e->depth;
	st->bases[st->n_bases++].uri = feed_uri_resolve(feed_base(st), s);
	free(s);
}

static void
feed_pop_base(struct feed_state *st, size_t depth)
{
	while (st->n_bases > 0 && st->bases[st->n_bases - 1].depth >= depth)
		free(st->bases[--st->n_bases].uri);
}

/* s (taken over) resolved against the base in scope. */
static char *
feed_resolve_take(struct feed_state *st, char *s)
{
	char *u = feed_uri_resolve(feed_base(st), s);

	free(s);
	return u;
}

/* The root element says which dialect this is; anything else is not a
   feed. */
static int
feed_root(struct feed_state *st, struct xmlsax *x, const struct xmlsax_elem *e)
{
	enum feed_kind kind = K_ROOT;

	if (strcmp(e->local, "rss") == 0 && ns_rss(e->ns)) {
		st->dialect = D_RSS;
	} else if (strcmp(e->local, "RDF") == 0 && e->ns == NS_RDF) {
		st->dialect = D_RDF;
	} else if (strcmp(e->local, "feed") == 0 && ns_atom(e->ns)) {
		st->dialect = D_ATOM;
		kind = K_CHANNEL;
	} else {
		xmlsax_fail(x, "not a feed: the root element is <%.40s>%s",
		    e->local, e->ns == XMLSAX_NS_NONE ? "" :
		    " in an unknown namespace");
		return -1;
	}
	feed_set_kind(st, e->depth, kind);
	return XMLSAX_SKIP;
}

static enum feed_kind
feed_classify(const struct feed_state *st, enum feed_kind parent,
    const struct xmlsax_elem *e)
{
	if (ns_atom(e->ns) && strcmp(e->local, "author") == 0 &&
	    (parent == K_ITEM || parent == K_CHANNEL))
		return K_AUTHOR;
	if (st->dialect == D_ATOM)
		return parent == K_CHANNEL && ns_atom(e->ns) &&
		    strcmp(e->local, "entry") == 0 ? K_ITEM : K_OTHER;
	if (!ns_rss(e->ns))
		return K_OTHER;
	if (parent == K_ROOT && strcmp(e->local, "channel") == 0)
		return K_CHANNEL;
	if ((parent == K_ROOT || parent == K_CHANNEL) &&
	    strcmp(e->local, "item") == 0)
		return K_ITEM;
	return K_OTHER;
}

/* <atom:link rel="alternate" href="..."/> in an item or the channel. */
static void
feed_atom_link(struct feed_state *st, enum feed_kind parent,
    const struct xmlsax_elem *e)
{
	const char *rel = xmlsax_attr_value(e, XMLSAX_NS_NONE, "rel");
	const char *href = xmlsax_attr_value(e, XMLSAX_NS_NONE, "href");
	char *s;

	if (href == NULL || (rel != NULL && strcmp(rel, "alternate") != 0))
		return;
	if ((s = feed_text(st, href, strlen(href), false)) == NULL)
		return;
	s = feed_resolve_take(st, s);
	if (parent == K_ITEM)
		feed_take(&st->item.alt_link, s);
	else if (parent == K_CHANNEL && feed_is_web(s))
		feed_take(&st->info->link, s);
	else
		free(s);
}

static void
feed_atom_category(struct feed_state *st, const struct xmlsax_elem *e)
{
	const char *term = xmlsax_attr_value(e, XMLSAX_NS_NONE, "term");
	char *s;

	if (term == NULL || st->item.p->categories.n >= FEED_MAX_LIST)
		return;
	if ((s = feed_text(st, term, strlen(term), false)) != NULL)
		feed_add_category(st->item.p, s);
}

/* A field element starts: say whether (and how) to capture its text. */
static int
feed_field_start(struct feed_state *st, enum feed_kind parent,
    const struct xmlsax_elem *e)
{
	const struct feed_rule *r = NULL;
	const char *type, *pl;

	if (ns_atom(e->ns) && strcmp(e->local, "link") == 0) {
		feed_atom_link(st, parent, e);
		return XMLSAX_SKIP;
	}
	if (ns_atom(e->ns) && strcmp(e->local, "category") == 0 &&
	    parent == K_ITEM) {
		feed_atom_category(st, e);
		return XMLSAX_SKIP;
	}
	for (size_t i = 0; r == NULL && i < sizeof(feed_rules) /
	    sizeof(feed_rules[0]); i++)
		if (feed_rules[i].parent == parent &&
		    ns_match(feed_rules[i].ns, e->ns) &&
		    strcmp(feed_rules[i].local, e->local) == 0)
			r = &feed_rules[i];
	if (r == NULL || (r->field == F_CONTENT &&
	    xmlsax_attr_value(e, XMLSAX_NS_NONE, "src") != NULL))
		return XMLSAX_SKIP;
	st->field = r->field;
	st->field_depth = e->depth;
	st->field_html = r->html;
	if (ns_atom(e->ns)) {
		type = xmlsax_attr_value(e, XMLSAX_NS_NONE, "type");
		st->field_html = type != NULL && (strcmp(type, "html") == 0 ||
		    strcmp(type, "text/html") == 0);
	}
	if (r->field == F_GUID) {
		pl = xmlsax_attr_value(e, XMLSAX_NS_NONE, "isPermaLink");
		st->item.guid_permalink = pl == NULL ||
		    strcmp(pl, "false") != 0;
	}
	return XMLSAX_TEXT;
}

static int
feed_xml_start(struct xmlsax *x, const struct xmlsax_elem *e, void *arg)
{
	struct feed_state *st = arg;
	enum feed_kind parent, kind;
	const char *about;

	feed_push_base(st, e);
	if (e->depth == 1)
		return feed_root(st, x, e);
	if (st->field != F_NONE) {
		feed_set_kind(st, e->depth, K_OTHER);
		return XMLSAX_SKIP;
	}
	parent = feed_kind_at(st, e->depth - 1);
	kind = feed_classify(st, parent, e);
	feed_set_kind(st, e->depth, kind);
	if (kind == K_ITEM) {
		feed_item_begin(st);
		about = xmlsax_attr_value(e, NS_RDF, "about");
		if (about != NULL)
			st->item.about = feed_text(st, about, strlen(about),
			    false);
	} else if (kind == K_AUTHOR) {
		st->author_in_item = parent == K_ITEM;
	}
	if (kind != K_OTHER || (parent != K_ITEM && parent != K_CHANNEL &&
	    parent != K_AUTHOR))
		return XMLSAX_SKIP;
	return feed_field_start(st, parent, e);
}

/* Parse date s (taken over) into *dst unless it is set already. */
static void
feed_date(struct feed_state *st, long long *dst, char *s)
{
	long long t = time_parse_any(s);

	if (t == -1)
		feed_warn(st, "item %zu: unreadable date '%.40s'", st->n_seen,
		    s);
	else if (*dst == -1)
		*dst = t;
	free(s);
}

/* dc:identifier "doi:10.1101/..." or prism:doi (s taken over). */
static void
feed_doi(struct paper *p, char *s, bool is_doi)
{
	static const char *const prefixes[] = { "doi:", "https://doi.org/",
	    "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/" };
	const char *v = NULL;

	for (size_t i = 0; v == NULL && i < sizeof(prefixes) /
	    sizeof(prefixes[0]); i++)
		if (str_istarts(s, prefixes[i]))
			v = s + strlen(prefixes[i]);
	if (v == NULL && is_doi)
		v = s;
	if (v != NULL && *v != '\0' && p->doi == NULL)
		paper_set(&p->doi, v);
	free(s);
}

/* A channel-level field (s taken over). */
static void
feed_channel_field(struct feed_state *st, enum feed_field f, char *s)
{
	switch (f) {
	case F_C_TITLE:
		feed_take(&st->info->title, s);
		break;
	case F_C_LINK:
		s = feed_resolve_take(st, s);
		if (feed_is_web(s))
			feed_take(&st->info->link, s);
		else
			free(s);
		break;
	case F_C_UPDATED:
	case F_C_PUBLISHED:
		feed_date(st, f == F_C_UPDATED ? &st->chan_updated :
		    &st->chan_published, s);
		st->info->updated = st->chan_updated != -1 ?
		    st->chan_updated : st->chan_published;
		break;
	case F_NAME:
		if (st->feed_authors.n < FEED_MAX_LIST)
			strvec_push_take(&st->feed_authors, s);
		else
			free(s);
		break;
	default:
		free(s);
		break;
	}
}

/* An item-level field (s taken over). */
static void
feed_item_field(struct feed_state *st, enum feed_field f, char *s)
{
	struct feed_item *it = &st->item;
	bool room = it->p->n_authors < FEED_MAX_LIST;

	switch (f) {
	case F_TITLE: feed_take(&it->title, s); break;
	case F_DCTITLE: feed_take(&it->dc_title, s); break;
	case F_LINK: feed_take(&it->link, feed_resolve_take(st, s)); break;
	case F_GUID: feed_take(&it->guid, s); break;
	case F_ID: feed_take(&it->atom_id, s); break;
	case F_DESC: feed_take(&it->desc, s); break;
	case F_CONTENT: feed_take(&it->content, s); break;
	case F_PUBLISHED: feed_date(st, &it->p->published, s); break;
	case F_UPDATED: feed_date(st, &it->p->updated, s); break;
	case F_IDENT:
	case F_DOI: feed_doi(it->p, s, f == F_DOI); break;
	case F_CATEGORY:
		if (it->p->categories.n < FEED_MAX_LIST)
			feed_add_category(it->p, s);
		else
			free(s);
		break;
	case F_AUTHOR:
		if (room)
			feed_add_rss_author(it->p, s);
		free(s);
		break;
	case F_CREATOR:
	case F_NAME:
		if (room)
			paper_add_author(it->p, s, NULL);
		free(s);
		break;
	default:
		free(s);
		break;
	}
}

/* The captured text of a field element. */
static void
feed_field_end(struct feed_state *st, const struct xmlsax_elem *e)
{
	enum feed_field f = st->field;
	char *s;

	if (e->truncated)
		feed_warn(st, "item %zu: <%.40s> longer than %zu bytes, cut",
		    st->n_seen, e->local, st->max_field);
	if ((s = feed_text(st, e->text, e->text_len, st->field_html)) == NULL)
		return;
	if (f >= F_C_TITLE || (f == F_NAME && !st->author_in_item))
		feed_channel_field(st, f, s);
	else if (st->in_item)
		feed_item_field(st, f, s);
	else
		free(s);
}

static int
feed_xml_end(struct xmlsax *x, const struct xmlsax_elem *e, void *arg)
{
	struct feed_state *st = arg;
	int rc = 0;

	if (st->field != F_NONE && e->depth == st->field_depth) {
		if (e->text != NULL)
			feed_field_end(st, e);
		st->field = F_NONE;
	} else if (feed_kind_at(st, e->depth) == K_ITEM && st->in_item) {
		if (feed_item_emit(st) != 0) {
			xmlsax_fail(x, "parse stopped by the consumer after "
			    "%zu items", st->info->n_items);
			rc = -1;
		}
	}
	feed_set_kind(st, e->depth, K_OTHER);
	feed_pop_base(st, e->depth);
	return rc;
}

/* JSON Feed (https://jsonfeed.org/version/1.1) */

/* A JSON string member as paper text; other types: warning, NULL. */
static char *
feed_jtext(struct feed_state *st, json_t *v, const char *what, bool html)
{
	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		feed_warn(st, "item %zu: '%s' is not a string", st->n_seen,
		    what);
		return NULL;
	}
	return feed_text(st, json_string_value(v), json_string_length(v),
	    html);
}

/* A URL member resolved against base. */
static char *
feed_jurl(struct feed_state *st, json_t *v, const char *what,
    const char *base)
{
	char *s = feed_jtext(st, v, what, false), *u;

	if (s == NULL)
		return NULL;
	u = feed_uri_resolve(base, s);
	free(s);
	return u;
}

static void
feed_jdate(struct feed_state *st, long long *dst, json_t *v,
    const char *what)
{
	char *s = feed_jtext(st, v, what, false);

	if (s != NULL)
		feed_date(st, dst, s);
}

/* The names of "authors" (1.1), else of "author" (1.0), into out. */
static void
feed_jauthors(struct feed_state *st, json_t *o, struct strvec *out)
{
	json_t *list = json_object_get(o, "authors"), *a;
	size_t i;
	char *s;

	if (!json_is_array(list) || json_array_size(list) == 0)
		list = json_object_get(o, "author");
	if (json_is_object(list)) {
		if ((s = feed_jtext(st, json_object_get(list, "name"),
		    "author", false)) != NULL)
			strvec_push_take(out, s);
		return;
	}
	json_array_foreach(list, i, a) {
		if (i >= FEED_MAX_LIST)
			break;
		if (!json_is_object(a))
			continue;
		s = feed_jtext(st, json_object_get(a, "name"), "author",
		    false);
		if (s != NULL)
			strvec_push_take(out, s);
	}
}

static void
feed_jitem_fields(struct feed_state *st, json_t *o, const char *base)
{
	struct feed_item *it = &st->item;
	struct strvec names;
	json_t *v;
	size_t i;

	v = json_object_get(o, "id");
	if (json_is_integer(v))
		it->guid = xasprintf("%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	else
		it->guid = feed_jtext(st, v, "id", false);
	it->guid_permalink = false;
	it->link = feed_jurl(st, json_object_get(o, "url"), "url", base);
	it->alt_link = feed_jurl(st, json_object_get(o, "external_url"),
	    "external_url", base);
	it->title = feed_jtext(st, json_object_get(o, "title"), "title", false);
	it->desc = feed_jtext(st, json_object_get(o, "summary"), "summary",
	    false);
	it->content = feed_jtext(st, json_object_get(o, "content_text"),
	    "content_text", false);
	if (it->content == NULL)
		it->content = feed_jtext(st, json_object_get(o,
		    "content_html"), "content_html", true);
	feed_jdate(st, &it->p->published, json_object_get(o,
	    "date_published"), "date_published");
	feed_jdate(st, &it->p->updated, json_object_get(o, "date_modified"),
	    "date_modified");
	strvec_init(&names);
	feed_jauthors(st, o, &names);
	for (i = 0; i < names.n; i++)
		paper_add_author(it->p, names.v[i], NULL);
	strvec_release(&names);
	json_array_foreach(json_object_get(o, "tags"), i, v) {
		if (i >= FEED_MAX_LIST)
			break;
		if (json_is_string(v))
			feed_item_field(st, F_CATEGORY, feed_text(st,
			    json_string_value(v), json_string_length(v),
			    false));
	}
}

static bool
feed_jversion_ok(json_t *v)
{
	const char *s = json_string_value(v);

	return s != NULL && (str_starts(s, "https://jsonfeed.org/version/") ||
	    str_starts(s, "http://jsonfeed.org/version/"));
}

/* The feed's own fields; its base for relative URLs goes to info. */
static void
feed_jfeed(struct feed_state *st, json_t *root)
{
	char *s;

	st->info->title = feed_jtext(st, json_object_get(root, "title"),
	    "title", false);
	s = feed_jurl(st, json_object_get(root, "home_page_url"),
	    "home_page_url", NULL);
	if (!feed_is_web(s)) {
		free(s);
		s = feed_jurl(st, json_object_get(root, "feed_url"),
		    "feed_url", NULL);
	}
	if (feed_is_web(s))
		st->info->link = s;
	else
		free(s);
	feed_jauthors(st, root, &st->feed_authors);
}

static int
feed_jitems(struct feed_state *st, json_t *items, char *err, size_t errlen)
{
	json_t *o;
	size_t i;

	json_array_foreach(items, i, o) {
		feed_item_begin(st);
		if (!json_is_object(o)) {
			feed_warn(st, "item %zu is not an object: skipped",
			    st->n_seen);
			st->in_item = false;
			continue;
		}
		feed_jitem_fields(st, o, st->info->link);
		if (feed_item_emit(st) != 0) {
			snprintf(err, errlen, "feed: parse stopped by the "
			    "consumer after %zu items", st->info->n_items);
			return -1;
		}
	}
	return 0;
}

static int
feed_json_end(struct feed_state *st, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root, *items;
	int rc = -1;

	if (!json_text_within(buf_str(&st->json), st->json.len)) {
		snprintf(err, errlen, "feed: JSON Feed too large to parse "
		    "(more than %u objects or %u values)",
		    UTIL_JSON_MAX_CONTAINERS, UTIL_JSON_MAX_VALUES);
		return -1;
	}
	root = json_loadb(buf_str(&st->json), st->json.len, 0, &je);
	buf_release(&st->json);
	if (root == NULL) {
		snprintf(err, errlen, "feed: invalid JSON at line %d column "
		    "%d: %s", je.line, je.column, je.text);
		return -1;
	}
	if (!json_is_object(root) ||
	    !feed_jversion_ok(json_object_get(root, "version"))) {
		snprintf(err, errlen, "feed: a JSON %s that is not a JSON "
		    "Feed (no https://jsonfeed.org/version/ version)",
		    json_is_object(root) ? "object" : "array");
		goto out;
	}
	feed_jfeed(st, root);
	items = json_object_get(root, "items");
	if (!json_is_array(items)) {
		snprintf(err, errlen, "feed: JSON Feed without an 'items' "
		    "array");
		goto out;
	}
	rc = feed_jitems(st, items, err, errlen);
out:
	json_decref(root);
	return rc;
}

/* The source type */

static void *
feed_begin(source_paper_cb cb, void *arg, struct source_info *info,
    const struct source_limits *lim)
{
	struct feed_state *st = xcalloc(1, sizeof(*st));

	st->cb = cb;
	st->arg = arg;
	source_info_init(&st->own_info);
	st->info = info != NULL ? info : &st->own_info;
	if (lim != NULL && feed_is_web(lim->base_url))
		st->doc_url = xstrdup(lim->base_url);
	st->max_field = lim && lim->max_field ? lim->max_field :
	    FEED_DEFAULT_FIELD;
	st->max_items = lim && lim->max_items ? lim->max_items :
	    FEED_DEFAULT_ITEMS;
	st->max_depth = lim && lim->max_depth ? lim->max_depth :
	    FEED_DEFAULT_DEPTH;
	buf_init(&st->json);
	strvec_init(&st->feed_authors);
	st->chan_updated = st->chan_published = st->last_item = -1;
	return st;
}

static int
feed_push(struct feed_state *st, const char *buf, size_t len, char *err,
    size_t errlen)
{
	char msg[256];

	if (st->mode == MODE_JSON) {
		if (len > FEED_MAX_JSON - st->json.len) {
			snprintf(err, errlen, "feed: JSON Feed larger than %u "
			    "MiB", FEED_MAX_JSON >> 20);
			return -1;
		}
		buf_add(&st->json, buf, len);
		return 0;
	}
	if (xmlsax_push(st->x, buf, len, msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "feed: %s", msg);
		return -1;
	}
	return 0;
}

static int
feed_start_xml(struct feed_state *st, char *err, size_t errlen)
{
	static const struct xmlsax_handler h = { feed_xml_start,
	    feed_xml_end };
	struct xmlsax_opts o = { .max_text = st->max_field,
	    .max_depth = st->max_depth, .recover = true };

	st->x = xmlsax_new(&h, st, feed_ns_uris, NS_COUNT, &o);
	if (st->x == NULL) {
		snprintf(err, errlen, "feed: cannot create the XML parser");
		return -1;
	}
	st->kinds = xcalloc(st->max_depth + 2, 1);
	st->mode = MODE_XML;
	return 0;
}

/*
 * Before the format is known: drop a UTF-8 BOM and white space (an XML
 * declaration after a blank line is a common fault), then '<' starts XML
 * (as do UTF-16 BOMs and NULs of UTF-16 text) and '{' a JSON Feed.
 */
static int
feed_lead(struct feed_state *st, const char *buf, size_t len, char *err,
    size_t errlen)
{
	static const unsigned char bom[3] = { 0xef, 0xbb, 0xbf };
	const unsigned char *s = (const unsigned char *)buf;
	size_t i;

	for (i = 0; i < len; i++, st->n_lead++) {
		if (st->n_lead < 3 && st->n_lead == st->n_bom &&
		    s[i] == bom[st->n_bom])
			st->n_bom++;
		else if ((st->n_bom == 0 || st->n_bom == 3) && (s[i] == ' ' ||
		    s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
			continue;
		else
			break;
	}
	if (i == len) {
		if (st->n_lead <= FEED_MAX_HEAD)
			return 0;
		snprintf(err, errlen, "feed: no document in the first %u "
		    "bytes", FEED_MAX_HEAD);
		return -1;
	}
	if ((st->n_bom == 0 || st->n_bom == 3) && (s[i] == '<' ||
	    (st->n_bom == 0 && (s[i] == 0 || s[i] == 0xfe || s[i] == 0xff)))) {
		if (feed_start_xml(st, err, errlen) != 0)
			return -1;
	} else if ((st->n_bom == 0 || st->n_bom == 3) && (s[i] == '{' ||
	    s[i] == '[')) {
		st->mode = MODE_JSON;
	} else {
		snprintf(err, errlen, "feed: neither XML nor JSON (byte 0x%02x "
		    "at offset %zu)", s[i], st->n_lead);
		return -1;
	}
	return feed_push(st, buf + i, len - i, err, errlen);
}

static int
feed_chunk(void *state, const char *buf, size_t len, char *err,
    size_t errlen)
{
	struct feed_state *st = state;

	if (st->mode == MODE_UNKNOWN)
		return feed_lead(st, buf, len, err, errlen);
	return feed_push(st, buf, len, err, errlen);
}

static int
feed_xml_finish(struct feed_state *st, char *err, size_t errlen)
{
	char msg[256];
	size_t n;

	if (xmlsax_finish(st->x, msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "feed: %s", msg);
		return -1;
	}
	if ((n = xmlsax_n_errors(st->x)) > 0) {
		feed_warn(st, "ill-formed XML read with recovery: %s",
		    xmlsax_first_error(st->x));
		st->info->n_warnings += n - 1;
	}
	return 0;
}

static int
feed_end(void *state, char *err, size_t errlen)
{
	struct feed_state *st = state;
	int rc;

	if (st->mode == MODE_UNKNOWN) {
		snprintf(err, errlen, "feed: empty document");
		return -1;
	}
	rc = st->mode == MODE_XML ? feed_xml_finish(st, err, errlen) :
	    feed_json_end(st, err, errlen);
	if (rc == 0 && st->info->updated == -1)
		st->info->updated = st->last_item;
	return rc;
}

static void
feed_free(void *state)
{
	struct feed_state *st = state;

	if (st == NULL)
		return;
	feed_item_release(&st->item);
	xmlsax_free(st->x);
	free(st->kinds);
	feed_pop_base(st, 0);
	free(st->bases);
	free(st->doc_url);
	buf_release(&st->json);
	strvec_release(&st->feed_authors);
	source_info_release(&st->own_info);
	free(st);
}

/* Sniffing */

/* Whether needle occurs in [p, end). */
static bool
feed_contains(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (; p + n <= end; p++)
		if (*p == needle[0] && memcmp(p, needle, n) == 0)
			return true;
	return false;
}

/* Past the end of [p, end) of the first needle, or NULL. */
static const char *
feed_after(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (; p + n <= end; p++)
		if (*p == needle[0] && memcmp(p, needle, n) == 0)
			return p + n;
	return NULL;
}

/* The local name of the root element of XML starting at p (prolog
   skipped), into name; false when not found in [p, end). */
static bool
feed_root_name(const char *p, const char *end, char *name, size_t namelen)
{
	const char *q;
	size_t n = 0;

	while (p != NULL && p < end) {
		if (*p != '<') {
			p++;
		} else if (end - p >= 2 && p[1] == '?') {
			p = feed_after(p, end, "?>");
		} else if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
			p = feed_after(p, end, "-->");
		} else if (end - p >= 2 && p[1] == '!') {
			p = feed_after(p, end, ">");
		} else {
			for (q = ++p; q < end && (isalnum((unsigned char)*q) ||
			    *q == ':' || *q == '_' || *q == '-' || *q == '.');
			    q++)
				if (*q == ':')
					p = q + 1;
			while (p < q && n + 1 < namelen)
				name[n++] = *p++;
			name[n] = '\0';
			return n > 0;
		}
	}
	return false;
}

/*
 * Any RSS, RDF, Atom or JSON Feed document, with low confidence: the
 * arXiv types claim arXiv documents with more.
 */
static int
feed_sniff(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	char name[16];

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
	    *p == '\n'))
		p++;
	if (p < end && *p == '{')
		return feed_contains(p, end, "jsonfeed.org/version") ? 60 : 0;
	if (p >= end || *p != '<' || !feed_root_name(p, end, name,
	    sizeof(name)))
		return 0;
	if (strcmp(name, "rss") == 0 || strcmp(name, "RDF") == 0 ||
	    strcmp(name, "feed") == 0)
		return 40;
	return 0;
}

const struct source_type source_feed = {
	.name = "feed",
	.sniff = feed_sniff,
	.begin = feed_begin,
	.chunk = feed_chunk,
	.end = feed_end,
	.free = feed_free,
};
