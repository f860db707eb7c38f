/*
 * feed.h: helpers of the generic feed parser (feed.c) that are worth
 * testing alone.  The parser itself is source_feed (source.h): RSS
 * 0.9x/2.0, RSS 1.0 (RDF), Atom 1.0 (and 0.3) and JSON Feed 1.0/1.1.
 */
#ifndef PW_FEEDS_FEED_H
#define PW_FEEDS_FEED_H

#include <stddef.h>

#include "util.h"

/*
 * Resolve the URI reference ref against base (RFC 3986 section 5.2, dot
 * segments removed).  Returns a new string the caller frees; a copy of
 * ref when base is NULL or not an absolute URI.  ref NULL gives NULL.
 */
char	*feed_uri_resolve(const char *base, const char *ref);

/*
 * Append the text of the HTML fragment s[0..len) to out: tags dropped
 * (<script> and <style> with their content, comments too), block-level
 * tags turned into a space, character references and the common named
 * entities decoded (unknown ones kept as written).  Output is not
 * white-space collapsed and may hold what s held of invalid UTF-8.
 */
void	 feed_html_text(struct buf *out, const char *s, size_t len);

#endif
