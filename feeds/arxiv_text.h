/*
 * arxiv_text.h: text helpers shared by the two arXiv parsers (arxiv_api.c,
 * arxiv_rss.c): field cleaning, the dc:creator author list, link kinds,
 * and a bounded substring search for sniffing.
 */
#ifndef PW_FEEDS_ARXIV_TEXT_H
#define PW_FEEDS_ARXIV_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "paper.h"

/* Authors kept from one dc:creator string (more are dropped). */
#define ARXIV_TEXT_MAX_AUTHORS	20000

/*
 * Text of an element as a new string (caller frees): invalid UTF-8
 * replaced by U+FFFD, control characters dropped, white space collapsed
 * and trimmed, and with latex true the LaTeX accents decoded (latex.h).
 * Plain ASCII text takes one pass and one allocation.
 */
char	*arxiv_text_clean(const char *s, size_t len, bool latex);

/*
 * Split an arXiv author string ("A (Affil, Dept), B, C") into authors
 * added to p: commas separate authors only outside parentheses (a
 * leading "and " of a piece is dropped; " and " inside a name is kept,
 * as in "The ATLAS and CMS Collaborations"); a parenthesised part becomes
 * the author's affiliation (several are joined with "; ").  Unbalanced
 * parentheses are taken as plain text.  s is already clean
 * (arxiv_text_clean).  Returns the number of authors added.
 */
size_t	 arxiv_text_authors(struct paper *p, const char *s);

enum arxiv_link {
	ARXIV_LINK_OTHER = 0,
	ARXIV_LINK_ABS,		/* path starts with /abs/ */
	ARXIV_LINK_PDF,		/* path starts with /pdf/ */
	ARXIV_LINK_DOI,		/* host doi.org or dx.doi.org */
};
/* What an href points at, by its URL path or host, not its attributes. */
enum arxiv_link arxiv_text_link_kind(const char *href);

/* The DOI in a doi.org URL ("10.1103/..."), or NULL; borrowed from href. */
const char *arxiv_text_doi_from_url(const char *href);

/* true if needle occurs in buf[0..len) (buf need not be terminated). */
bool	 arxiv_text_has(const char *buf, size_t len, const char *needle);

/* Parse a decimal count (surrounding space allowed); -1 if not one. */
long long arxiv_text_count(const char *s);

#endif
