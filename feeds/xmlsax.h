/*
 * xmlsax.h: a small streaming XML layer over libxml2's push SAX2 parser,
 * shared by the XML feed parsers (arxiv_api.c, arxiv_rss.c, feed.c).
 *
 * Bytes go in by chunks of any size (xmlsax_push), the document ends with
 * xmlsax_finish.  The caller's handler sees, for every element:
 *   start(e): namespace (index in the caller's table), local name, depth
 *             and the attributes (values NUL-terminated, entities decoded);
 *             its return value says whether to capture the text inside;
 *   end(e):   the same name, plus the captured text when asked for.
 * Nothing is built in memory: a document of any size costs the parser's
 * own small buffers plus the text of the one element being captured.
 * Names are interned: for the life of one parser, the same local name or
 * namespace URI always comes as the same pointer, so a caller may cache
 * what it decided about a name by pointer.
 *
 * Namespaces are matched by URI, never by prefix.  The caller lists the
 * URIs it knows once (xmlsax_new's ns table); every element and attribute
 * then carries the index of its URI in that table, XMLSAX_NS_NONE (no
 * namespace) or XMLSAX_NS_OTHER (a URI not in the table).  The compare is
 * by libxml2's interned pointer, with a string compare only the first time
 * a URI pointer is seen.  The xml: attributes (xml:base, xml:lang) carry
 * XMLSAX_NS_XML.
 *
 * Safety (see DEPENDENCIES.md section 4): any DOCTYPE stops the parse with
 * an error (so no entity is ever declared: no XXE, no billion laughs);
 * options are XML_PARSE_NONET and never NOENT, DTDLOAD, DTDATTR or HUGE;
 * element depth and captured text are capped; libxml2's messages are
 * captured into err, never printed.  Encodings other than UTF-8 (declared
 * or with a BOM) are converted by libxml2: text handed out is UTF-8 as far
 * as libxml2 guarantees it; callers still run utf8_clean on what they keep.
 *
 * Errors: without recovery, the first fatal libxml2 error (not well-formed,
 * truncated, bad encoding) makes xmlsax_push/xmlsax_finish return -1 with
 * "line N: <libxml2 message>".  With recovery (ill-formed generic feeds),
 * libxml2 goes on where it can; errors are counted (xmlsax_n_errors) and
 * the first is kept (xmlsax_first_error) for a warning; only a stop
 * (DOCTYPE, depth, handler failure) is then fatal.  Non-fatal namespace
 * errors and warnings never fail a parse; they are counted likewise.
 */
#ifndef PW_FEEDS_XMLSAX_H
#define PW_FEEDS_XMLSAX_H

#include <stdbool.h>
#include <stddef.h>

#define XMLSAX_NS_NONE	(-1)	/* element/attribute without namespace */
#define XMLSAX_NS_OTHER	(-2)	/* a namespace URI not in the table */
#define XMLSAX_NS_XML	(-3)	/* http://www.w3.org/XML/1998/namespace */

#define XMLSAX_DEFAULT_MAX_TEXT		(1024 * 1024)
#define XMLSAX_DEFAULT_MAX_DEPTH	256

/* What start() asks for the element it is called for. */
enum xmlsax_capture {
	XMLSAX_SKIP = 0,	/* no text wanted (children still seen) */
	XMLSAX_TEXT,		/* all character data inside, descendants'
				   text included, markup dropped */
	XMLSAX_MARKUP,		/* the inner content re-serialised as
				   markup: descendants as <local a="v">,
				   text and values escaped (&amp; &lt; &gt;
				   &quot;); prefixes dropped (xhtml content) */
};

struct xmlsax_attr {
	int		 ns;		/* table index or XMLSAX_NS_* */
	const char	*uri;		/* NULL when no namespace */
	const char	*local;
	const char	*value;		/* NUL-terminated, entities decoded */
	size_t		 len;		/* strlen(value) */
};

/*
 * One element, as handed to start() and end().  Everything is borrowed
 * and valid only during the call.
 */
struct xmlsax_elem {
	int		 ns;		/* table index or XMLSAX_NS_* */
	const char	*uri;		/* NULL when no namespace */
	const char	*local;		/* local name, never NULL */
	size_t		 depth;		/* 1 for the root element */
	/* start() only (NULL/0 in end()): */
	const struct xmlsax_attr *attrs;
	size_t		 n_attrs;
	/*
	 * end() only: the captured text when start() returned TEXT/MARKUP
	 * for this element, else NULL.  NUL-terminated, not trimmed.
	 * truncated: text was cut at the cap (on a UTF-8 boundary).
	 */
	const char	*text;
	size_t		 text_len;
	bool		 truncated;
};

struct xmlsax;

/*
 * The handler.  start() returns an enum xmlsax_capture (only honoured
 * when no ancestor is capturing already: a capture holds the whole
 * subtree), or -1 to stop the parse.  end() returns 0, or -1 to stop.
 * A callback that stops should say why with xmlsax_fail first; else the
 * reason is "parse stopped by handler".  Either callback may be NULL.
 */
struct xmlsax_handler {
	int	(*start)(struct xmlsax *x, const struct xmlsax_elem *e,
		    void *arg);
	int	(*end)(struct xmlsax *x, const struct xmlsax_elem *e,
		    void *arg);
};

struct xmlsax_opts {
	size_t	max_text;	/* bytes of one capture (0: 1 MiB) */
	size_t	max_depth;	/* element nesting (0: 256) */
	bool	recover;	/* libxml2 recovery for ill-formed feeds */
};

/*
 * A new parser.  h and ns (an array of n_ns namespace URIs, e.g.
 * "http://www.w3.org/2005/Atom") are borrowed and must outlive the parser;
 * opts may be NULL (defaults).  Returns NULL only when out of memory.
 */
struct xmlsax	*xmlsax_new(const struct xmlsax_handler *h, void *arg,
		    const char *const *ns, size_t n_ns,
		    const struct xmlsax_opts *opts);
/*
 * Feed the next len bytes (any size: split internally into small chunks).
 * Returns 0, or -1 with err filled; after -1 every later call fails with
 * the same error.
 */
int		 xmlsax_push(struct xmlsax *x, const char *buf, size_t len,
		    char *err, size_t errlen);
/* End of input: 0, or -1 with err (truncated document, no root, ...). */
int		 xmlsax_finish(struct xmlsax *x, char *err, size_t errlen);
void		 xmlsax_free(struct xmlsax *x);		/* accepts NULL */

/*
 * Called from a callback: record why the parse must stop (printf-like).
 * The callback then returns -1.  The first reason wins.
 */
void		 xmlsax_fail(struct xmlsax *x, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

/* Recoverable problems seen so far (errors in recovery mode, warnings). */
size_t		 xmlsax_n_errors(const struct xmlsax *x);
/* The first of them ("line N: message"), "" when none. */
const char	*xmlsax_first_error(const struct xmlsax *x);
/*
 * Element names a parser knows: (namespace index or XMLSAX_NS_NONE, local
 * name) -> a small id, 0 meaning "not one of ours".  xmlsax_name_find
 * looks e up through a cache keyed by the interned name pointer (the same
 * name always comes as the same pointer), so a table scan happens once per
 * distinct name; cache is XMLSAX_NAME_CACHE entries, zeroed by the caller.
 */
struct xmlsax_name {
	int		 ns;
	const char	*local;
	unsigned char	 id;
};
struct xmlsax_name_cache {
	const char	*local;
	int		 ns;
	unsigned char	 id;
};
#define XMLSAX_NAME_CACHE	64
unsigned char	 xmlsax_name_find(const struct xmlsax_name *tbl, size_t n,
		    struct xmlsax_name_cache *cache,
		    const struct xmlsax_elem *e);

/* The value of e's attribute ns:local (XMLSAX_NS_NONE: no namespace). */
const char	*xmlsax_attr_value(const struct xmlsax_elem *e, int ns,
		    const char *local);
/* The line the parser is at (for messages); 0 before any input. */
long		 xmlsax_line(const struct xmlsax *x);

#endif
