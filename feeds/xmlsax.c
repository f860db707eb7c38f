/*
 * xmlsax.c: libxml2's push SAX2 parser behind a small, safe interface.
 * See xmlsax.h for the contract.
 */
#include "xmlsax.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "util.h"

#define XMLSAX_CHUNK	(64 * 1024)	/* bytes per xmlParseChunk call */
#define XMLSAX_MIN	512	/* fewer bytes are held (see xmlsax_push) */
#define XMLSAX_NSCACHE	16		/* interned URI -> index pairs */
#define XMLSAX_ERRLEN	256
#define XMLSAX_XML_NS	"http://www.w3.org/XML/1998/namespace"

struct nscache {
	const void	*uri;		/* libxml2's interned pointer */
	int		 ns;
};

struct xmlsax {
	xmlParserCtxtPtr	 ctxt;
	const struct xmlsax_handler *h;
	void			*arg;
	const char *const	*ns;
	size_t			 n_ns;
	struct nscache		 cache[XMLSAX_NSCACHE];
	size_t			 n_cache;
	size_t			 cache_next;

	size_t			 depth;
	size_t			 max_depth;
	bool			 seen_root;

	size_t			 cap_depth;	/* 0: not capturing */
	enum xmlsax_capture	 cap_mode;
	struct buf		 text;
	size_t			 max_text;
	bool			 truncated;

	struct xmlsax_attr	*attrs;
	size_t			 attrs_cap;
	struct buf		 attrbuf;

	struct buf		 pend;		/* held input: fewer than
						   XMLSAX_MIN bytes */

	bool			 recover;
	bool			 failed;	/* fatal: every call fails */
	bool			 libxml_failed;	/* ... by a libxml2 error */
	char			 err[XMLSAX_ERRLEN];
	size_t			 n_errors;
	char			 first_error[XMLSAX_ERRLEN];
};

/* Keep printable ASCII only: messages may quote document bytes. */
static void
copy_message(char *dst, size_t dstlen, const char *src)
{
	size_t	 i, n = 0;

	for (i = 0; src != NULL && src[i] != '\0' && n + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '\n' && src[i + 1] == '\0')
			break;
		dst[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[n] = '\0';
}

void
xmlsax_fail(struct xmlsax *x, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[XMLSAX_ERRLEN];

	if (x->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	copy_message(x->err, sizeof(x->err), msg);
	x->failed = true;
}

/* Stop libxml2 for good; the reason is already in x->err. */
static void
stop(struct xmlsax *x)
{
	if (!x->failed)
		xmlsax_fail(x, "parse stopped by handler");
	if (x->ctxt != NULL)
		xmlStopParser(x->ctxt);
}

static void
note_error(struct xmlsax *x, int line, const char *msg)
{
	char	 clean[XMLSAX_ERRLEN - 32];

	copy_message(clean, sizeof(clean), msg);
	if (x->n_errors++ == 0) {
		if (line > 0)
			snprintf(x->first_error, sizeof(x->first_error),
			    "line %d: %s", line, clean);
		else
			snprintf(x->first_error, sizeof(x->first_error),
			    "%s", clean);
	}
}

/* libxml2's structured errors: fatal ones fail the parse (no recovery). */
static void
on_error(void *user, xmlErrorPtr e)
{
	struct xmlsax	*x = user;

	if (e == NULL || x == NULL)
		return;
	if (e->code == XML_ERR_USER_STOP)
		return;
	if (e->level == XML_ERR_FATAL && !x->recover && !x->failed) {
		char	 clean[XMLSAX_ERRLEN - 32];

		copy_message(clean, sizeof(clean), e->message);
		xmlsax_fail(x, "line %d: %s", e->line, clean);
		x->libxml_failed = true;
		return;
	}
	note_error(x, e->line, e->message);
}

/* Errors raised without a parser context (encoding conversion). */
static void on_generic_error(void *user, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
on_generic_error(void *user, const char *fmt, ...)
{
	struct xmlsax	*x = user;
	va_list		 ap;
	char		 msg[XMLSAX_ERRLEN];

	if (x == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	note_error(x, 0, msg);
}

static void
on_doctype(void *user, const xmlChar *name, const xmlChar *ext,
    const xmlChar *sys)
{
	struct xmlsax	*x = user;

	(void)name;
	(void)ext;
	(void)sys;
	xmlsax_fail(x, "line %ld: document type declaration (DOCTYPE) "
	    "refused: a feed never needs one", xmlsax_line(x));
	stop(x);
}

/* The table index of an interned namespace URI. */
static int
ns_index(struct xmlsax *x, const xmlChar *uri)
{
	size_t	 i;
	int	 ns = XMLSAX_NS_OTHER;

	if (uri == NULL)
		return XMLSAX_NS_NONE;
	for (i = 0; i < x->n_cache; i++)
		if (x->cache[i].uri == uri)
			return x->cache[i].ns;
	for (i = 0; i < x->n_ns; i++)
		if (strcmp((const char *)uri, x->ns[i]) == 0) {
			ns = (int)i;
			break;
		}
	if (ns == XMLSAX_NS_OTHER && strcmp((const char *)uri,
	    XMLSAX_XML_NS) == 0)
		ns = XMLSAX_NS_XML;
	i = x->n_cache < XMLSAX_NSCACHE ? x->n_cache++ :
	    x->cache_next++ % XMLSAX_NSCACHE;
	x->cache[i].uri = uri;
	x->cache[i].ns = ns;
	return ns;
}

/*
 * Append n bytes to the capture, cutting at the cap on a UTF-8 boundary.
 */
static void
text_add(struct xmlsax *x, const char *p, size_t n)
{
	size_t	 room;

	if (x->truncated)
		return;
	room = x->max_text - x->text.len;
	if (n > room) {
		while (room > 0 && ((unsigned char)p[room] & 0xc0) == 0x80)
			room--;
		n = room;
		x->truncated = true;
	}
	if (n > 0)
		buf_add(&x->text, p, n);
}

/* Append text escaped for markup (MARKUP captures). */
static void
text_add_escaped(struct xmlsax *x, const char *p, size_t n, bool attr)
{
	size_t	 i, run = 0;

	for (i = 0; i < n && !x->truncated; i++) {
		const char *rep = NULL;

		switch (p[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = attr ? "&quot;" : NULL; break;
		default: break;
		}
		if (rep == NULL)
			continue;
		text_add(x, p + run, i - run);
		text_add(x, rep, strlen(rep));
		run = i + 1;
	}
	if (!x->truncated)
		text_add(x, p + run, n - run);
}

static void
on_characters(void *user, const xmlChar *ch, int len)
{
	struct xmlsax	*x = user;

	if (x->cap_depth == 0 || len <= 0)
		return;
	if (x->cap_mode == XMLSAX_MARKUP)
		text_add_escaped(x, (const char *)ch, (size_t)len, false);
	else
		text_add(x, (const char *)ch, (size_t)len);
}

/*
 * Append an attribute value and its NUL to b; returns its length.  Without
 * XML_PARSE_NOENT, libxml2's SAX2 hands every '&' of a value (written
 * "&amp;" or "&#38;") over as the five bytes "&#38;", for a tree builder
 * to re-parse; a raw '&' cannot occur, so turning each "&#38;" back into
 * '&' is exact.
 */
static size_t
add_value(struct buf *b, const char *v, size_t len)
{
	const char	*amp;
	size_t		 start = b->len;

	while ((amp = memchr(v, '&', len)) != NULL) {
		size_t	 n = (size_t)(amp - v);

		buf_add(b, v, n + 1);
		v += n + 1;
		len -= n + 1;
		if (len >= 4 && memcmp(v, "#38;", 4) == 0) {
			v += 4;
			len -= 4;
		}
	}
	buf_add(b, v, len);
	buf_addc(b, '\0');
	return b->len - 1 - start;
}

/*
 * Copy libxml2's attributes (5 pointers each: local, prefix, URI, value,
 * end of value) into x->attrs with NUL-terminated values.
 */
static void
collect_attrs(struct xmlsax *x, int n, const xmlChar **a)
{
	size_t	 i, off = 0;

	if ((size_t)n > x->attrs_cap) {
		x->attrs = xreallocarray(x->attrs, (size_t)n,
		    sizeof(*x->attrs));
		x->attrs_cap = (size_t)n;
	}
	buf_reset(&x->attrbuf);
	for (i = 0; i < (size_t)n; i++) {
		const xmlChar	**at = a + 5 * i;
		size_t		  len = (size_t)(at[4] - at[3]);

		x->attrs[i].ns = ns_index(x, at[2]);
		x->attrs[i].uri = (const char *)at[2];
		x->attrs[i].local = (const char *)at[0];
		len = add_value(&x->attrbuf, (const char *)at[3], len);
		x->attrs[i].len = len;
	}
	/* values point into attrbuf only once it has stopped moving */
	for (i = 0; i < (size_t)n; i++) {
		x->attrs[i].value = x->attrbuf.data + off;
		off += x->attrs[i].len + 1;
	}
}

/* Re-serialise a start tag inside a MARKUP capture. */
static void
markup_start(struct xmlsax *x, const struct xmlsax_elem *e)
{
	size_t	 i;

	text_add(x, "<", 1);
	text_add(x, e->local, strlen(e->local));
	for (i = 0; i < e->n_attrs; i++) {
		const struct xmlsax_attr *at = &e->attrs[i];

		text_add(x, " ", 1);
		text_add(x, at->local, strlen(at->local));
		text_add(x, "=\"", 2);
		text_add_escaped(x, at->value, at->len, true);
		text_add(x, "\"", 1);
	}
	text_add(x, ">", 1);
}

static void
on_start(void *user, const xmlChar *local, const xmlChar *prefix,
    const xmlChar *uri, int n_ns, const xmlChar **nsdecl, int n_attrs,
    int n_defaulted, const xmlChar **attrs)
{
	struct xmlsax		*x = user;
	struct xmlsax_elem	 e;
	int			 r = XMLSAX_SKIP;

	(void)prefix;
	(void)n_ns;
	(void)nsdecl;
	(void)n_defaulted;
	if (x->failed)
		return;
	if (++x->depth > x->max_depth) {
		xmlsax_fail(x, "line %ld: elements nested deeper than %zu",
		    xmlsax_line(x), x->max_depth);
		stop(x);
		return;
	}
	x->seen_root = true;
	memset(&e, 0, sizeof(e));
	e.ns = ns_index(x, uri);
	e.uri = (const char *)uri;
	e.local = (const char *)local;
	e.depth = x->depth;
	if (n_attrs > 0)
		collect_attrs(x, n_attrs, attrs);
	e.attrs = x->attrs;
	e.n_attrs = n_attrs > 0 ? (size_t)n_attrs : 0;
	if (x->h->start != NULL)
		r = x->h->start(x, &e, x->arg);
	if (r < 0) {
		stop(x);
		return;
	}
	if (x->cap_depth != 0) {
		if (x->cap_mode == XMLSAX_MARKUP)
			markup_start(x, &e);
	} else if (r == XMLSAX_TEXT || r == XMLSAX_MARKUP) {
		x->cap_depth = x->depth;
		x->cap_mode = (enum xmlsax_capture)r;
		x->truncated = false;
		buf_reset(&x->text);
	}
}

static void
on_end(void *user, const xmlChar *local, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct xmlsax		*x = user;
	struct xmlsax_elem	 e;
	int			 r = 0;

	(void)prefix;
	if (x->failed || x->depth == 0)
		return;
	memset(&e, 0, sizeof(e));
	e.ns = ns_index(x, uri);
	e.uri = (const char *)uri;
	e.local = (const char *)local;
	e.depth = x->depth;
	if (x->cap_depth == x->depth) {
		e.text = buf_str(&x->text);
		e.text_len = x->text.len;
		e.truncated = x->truncated;
		x->cap_depth = 0;
	} else if (x->cap_depth != 0 && x->cap_mode == XMLSAX_MARKUP) {
		text_add(x, "</", 2);
		text_add(x, e.local, strlen(e.local));
		text_add(x, ">", 1);
	}
	x->depth--;
	if (x->h->end != NULL)
		r = x->h->end(x, &e, x->arg);
	if (r < 0)
		stop(x);
}

static void
sax_init(xmlSAXHandler *sax)
{
	memset(sax, 0, sizeof(*sax));
	sax->initialized = XML_SAX2_MAGIC;
	sax->startElementNs = on_start;
	sax->endElementNs = on_end;
	sax->characters = on_characters;
	sax->cdataBlock = on_characters;
	sax->ignorableWhitespace = on_characters;
	sax->internalSubset = on_doctype;
	sax->serror = on_error;
}

struct xmlsax *
xmlsax_new(const struct xmlsax_handler *h, void *arg,
    const char *const *ns, size_t n_ns, const struct xmlsax_opts *opts)
{
	struct xmlsax	*x;
	xmlSAXHandler	 sax;
	int		 options = XML_PARSE_NONET;

	x = xcalloc(1, sizeof(*x));
	x->h = h;
	x->arg = arg;
	x->ns = ns;
	x->n_ns = n_ns;
	x->max_text = XMLSAX_DEFAULT_MAX_TEXT;
	x->max_depth = XMLSAX_DEFAULT_MAX_DEPTH;
	if (opts != NULL) {
		if (opts->max_text > 0)
			x->max_text = opts->max_text;
		if (opts->max_depth > 0)
			x->max_depth = opts->max_depth;
		x->recover = opts->recover;
	}
	buf_init(&x->text);
	buf_init(&x->attrbuf);
	buf_init(&x->pend);
	sax_init(&sax);
	x->ctxt = xmlCreatePushParserCtxt(&sax, x, NULL, 0, NULL);
	if (x->ctxt == NULL) {
		buf_release(&x->text);
		buf_release(&x->attrbuf);
		free(x);
		return NULL;
	}
	if (x->recover)
		options |= XML_PARSE_RECOVER;
	xmlCtxtUseOptions(x->ctxt, options);
	return x;
}

/*
 * One xmlParseChunk call with libxml2's global error channels pointed at
 * x, so that nothing reaches stderr.
 */
static void
parse_chunk(struct xmlsax *x, const char *buf, int len, int terminate)
{
	xmlGenericErrorFunc	 old_generic = xmlGenericError;
	void			*old_generic_ctx = xmlGenericErrorContext;
	xmlStructuredErrorFunc	 old_serror = xmlStructuredError;
	void			*old_serror_ctx = xmlStructuredErrorContext;

	xmlSetGenericErrorFunc(x, on_generic_error);
	xmlSetStructuredErrorFunc(x, on_error);
	(void)xmlParseChunk(x->ctxt, buf, len, terminate);
	xmlSetStructuredErrorFunc(old_serror_ctx, old_serror);
	xmlSetGenericErrorFunc(old_generic_ctx, old_generic);
}

static int
failed(struct xmlsax *x, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", x->err);
	return -1;
}

static void
push(struct xmlsax *x, const char *buf, size_t len)
{
	while (len > 0 && !x->failed) {
		size_t	 n = len < XMLSAX_CHUNK ? len : XMLSAX_CHUNK;

		parse_chunk(x, buf, (int)n, 0);
		buf += n;
		len -= n;
	}
}

/*
 * Pieces of fewer than XMLSAX_MIN bytes are held and handed to libxml2
 * together. Fed a byte at a time, libxml2's push parser failed ("input
 * conversion failed") at a multibyte character of a document whose
 * declared encoding it reads through iconv (encoding='UTF-8.'), though it
 * parsed the same bytes whole or in larger pieces: the outcome of a fetch
 * depended on how the network split the response (found by the fuzz
 * targets' chunked re-parse; libxml2 2.9.14).
 */
int
xmlsax_push(struct xmlsax *x, const char *buf, size_t len, char *err,
    size_t errlen)
{
	if (x->failed)
		return failed(x, err, errlen);
	if (x->pend.len == 0 && len >= XMLSAX_MIN) {
		push(x, buf, len);
	} else {
		buf_add(&x->pend, buf, len);
		if (x->pend.len >= XMLSAX_MIN) {
			push(x, x->pend.data, x->pend.len);
			buf_reset(&x->pend);
		}
	}
	return x->failed ? failed(x, err, errlen) : 0;
}

/*
 * The input ended inside an element: say so plainly (libxml2's own words
 * for it vary: "Premature end of data", "Extra content", ...).
 */
static void
truncated(struct xmlsax *x)
{
	char		 name[64];
	const xmlChar	*cur = x->ctxt->name;

	copy_message(name, sizeof(name), cur != NULL ? (const char *)cur :
	    "?");
	if (x->recover && !x->failed) {
		char	 msg[128];

		snprintf(msg, sizeof(msg), "document truncated inside <%s>",
		    name);
		note_error(x, (int)xmlsax_line(x), msg);
		return;
	}
	snprintf(x->err, sizeof(x->err), "line %ld: document truncated "
	    "inside <%s>", xmlsax_line(x), name);
	x->failed = true;
}

/* The input held no element at all: say so, with libxml2's reason. */
static void
no_document(struct xmlsax *x)
{
	char	 why[XMLSAX_ERRLEN - 32];

	if (x->failed)
		str_copy(why, sizeof(why), x->err);
	else if (x->n_errors > 0)
		str_copy(why, sizeof(why), x->first_error);
	else
		str_copy(why, sizeof(why), "no root element");
	snprintf(x->err, sizeof(x->err), "not an XML document (%s)", why);
	x->failed = true;
}

int
xmlsax_finish(struct xmlsax *x, char *err, size_t errlen)
{
	bool	 was_failed;

	push(x, x->pend.data, x->pend.len);	/* what is held */
	buf_reset(&x->pend);
	was_failed = x->failed;
	if (!was_failed)
		parse_chunk(x, NULL, 0, 1);
	if (!was_failed && x->depth > 0)
		truncated(x);
	if (!was_failed && !x->seen_root && (!x->failed || x->libxml_failed))
		no_document(x);
	return x->failed ? failed(x, err, errlen) : 0;
}

void
xmlsax_free(struct xmlsax *x)
{
	if (x == NULL)
		return;
	if (x->ctxt != NULL)
		xmlFreeParserCtxt(x->ctxt);
	buf_release(&x->text);
	buf_release(&x->attrbuf);
	buf_release(&x->pend);
	free(x->attrs);
	free(x);
}

size_t
xmlsax_n_errors(const struct xmlsax *x)
{
	return x->n_errors;
}

const char *
xmlsax_first_error(const struct xmlsax *x)
{
	return x->first_error;
}

long
xmlsax_line(const struct xmlsax *x)
{
	if (x->ctxt == NULL || x->ctxt->input == NULL)
		return 0;
	return (long)x->ctxt->input->line;
}

const char *
xmlsax_attr_value(const struct xmlsax_elem *e, int ns, const char *local)
{
	for (size_t i = 0; i < e->n_attrs; i++)
		if (e->attrs[i].ns == ns && strcmp(e->attrs[i].local, local) == 0)
			return e->attrs[i].value;
	return NULL;
}

unsigned char
xmlsax_name_find(const struct xmlsax_name *tbl, size_t n,
    struct xmlsax_name_cache *cache, const struct xmlsax_elem *e)
{
	struct xmlsax_name_cache *c =
	    &cache[((uintptr_t)e->local >> 3) % XMLSAX_NAME_CACHE];

	if (c->local != e->local || c->ns != e->ns) {
		c->local = e->local;
		c->ns = e->ns;
		c->id = 0;
		for (size_t i = 0; i < n; i++)
			if (tbl[i].ns == e->ns &&
			    strcmp(tbl[i].local, e->local) == 0) {
				c->id = tbl[i].id;
				break;
			}
	}
	return c->id;
}
