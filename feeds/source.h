/*
 * source.h: the interface every source type implements, and the table of
 * known types.  A parser is push-based: bytes arrive in chunks (straight
 * from the libcurl write callback or from a file) and every complete paper
 * is handed to the caller's callback at once, so memory does not grow with
 * the size of the document.
 */
#ifndef PW_FEEDS_SOURCE_H
#define PW_FEEDS_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "paper.h"

/*
 * Called once per paper.  The callback takes ownership of p (it must
 * paper_free it or keep it).  Return 0 to go on, -1 to stop the parse
 * (the parse then fails, saying it was stopped by the paper callback; the
 * callback keeps its own reason).
 */
typedef int (*source_paper_cb)(struct paper *p, void *arg);

/* What a document says about itself, filled as the parse goes. */
struct source_info {
	char		*title;		/* channel/feed title, owned */
	char		*link;		/* channel/feed link, owned */
	long long	 updated;	/* lastBuildDate / <updated>, -1 */
	long long	 total_results;	/* opensearch:totalResults, -1 */
	long long	 start_index;	/* opensearch:startIndex, -1 */
	long long	 items_per_page;/* opensearch:itemsPerPage, -1 */
	size_t		 n_items;	/* papers emitted so far */
	size_t		 n_warnings;	/* recoverable problems seen */
	char		 warning[256];	/* the first one */
};

/* Limits every parser enforces (0 = built-in default). */
struct source_limits {
	size_t	max_field;	/* bytes of one text field (default 1 MiB) */
	size_t	max_items;	/* papers in one document (default 200,000) */
	size_t	max_depth;	/* element nesting (default 256) */
	const char *base_url;	/* the document's own URL: the last base
				   for relative links (NULL: none) */
};

struct source_parser;

struct source_type {
	const char *name;		/* as in the config: "arxiv-api" */
	/*
	 * How sure the type is that a document starting with buf (the first
	 * few KiB) is its own: 0 (no) .. 100 (certain).
	 */
	int	(*sniff)(const char *buf, size_t len);
	/* A new push parser; NULL only when out of memory. */
	void	*(*begin)(source_paper_cb cb, void *arg,
		    struct source_info *info, const struct source_limits *lim);
	/* Feed the next chunk; -1 and err on a fatal error. */
	int	(*chunk)(void *state, const char *buf, size_t len,
		    char *err, size_t errlen);
	/*
	 * End of document: -1 and err when the document is an error (an
	 * arXiv API error entry, an RSS "Feed error" channel) or is broken
	 * beyond recovery.  Frees nothing: call end() then free().
	 */
	int	(*end)(void *state, char *err, size_t errlen);
	void	(*free)(void *state);		/* accepts NULL */
};

/* The table: NULL-terminated. */
extern const struct source_type *const source_types[];

extern const struct source_type source_arxiv_api;
extern const struct source_type source_arxiv_rss;
extern const struct source_type source_hf_daily;
extern const struct source_type source_feed;

/* The type called name, or NULL. */
const struct source_type *source_find(const char *name);
/* The most likely type of a document starting with buf; never NULL. */
const struct source_type *source_sniff(const char *buf, size_t len);

void	source_info_init(struct source_info *info);
void	source_info_release(struct source_info *info);

/*
 * Parse a whole buffer with type t (sniffed when NULL), in chunks.
 * Returns 0, or -1 with err (papers already handed to cb stay handed).
 */
int	source_parse(const struct source_type *t, const char *buf, size_t len,
	    source_paper_cb cb, void *arg, struct source_info *info,
	    char *err, size_t errlen);

/*
 * A streaming parse driven from outside (fetch): begin with the type
 * (NULL: sniffed from the first chunk), push chunks, end.  Used by
 * fetch and by `paperwatch papers` on files.
 */
struct source_stream;
struct source_stream *source_stream_new(const struct source_type *t,
	    source_paper_cb cb, void *arg, struct source_info *info);
int	source_stream_push(struct source_stream *s, const char *buf,
	    size_t len, char *err, size_t errlen);
int	source_stream_end(struct source_stream *s, char *err, size_t errlen);
/* The document's URL, for relative links (borrowed: must outlive s). */
void	source_stream_set_base(struct source_stream *s, const char *url);
/* The type in use (NULL before the first chunk when sniffing). */
const struct source_type *source_stream_type(const struct source_stream *s);
void	source_stream_free(struct source_stream *s);	/* accepts NULL */

#endif
