/*
 * match.h: every term of every subscription in one Aho-Corasick automaton
 * over normalised text (case and accents folded, hyphens = spaces, word
 * boundaries respected).  A paper's fields are scanned once; each
 * subscription's boolean expression is then evaluated on the set of terms
 * found, and a match gets a score and the list of terms that hit.
 */
#ifndef PW_DAEMON_MATCH_H
#define PW_DAEMON_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "../feeds/paper.h"

/* One subscription as the matcher sees it (strings are borrowed). */
struct match_spec {
	const char		*name;
	const char		*query;		/* may be NULL */
	const char *const	*keywords;	/* any of; may be NULL */
	size_t			 n_keywords;
	const char *const	*exclude;	/* none of; may be NULL */
	size_t			 n_exclude;
};

/* The result for one (subscription, paper) pair. */
struct match_result {
	size_t		 sub;		/* index into the specs */
	double		 score;
	const char	**hits;		/* terms that hit, as written in the
					   query; borrowed from the matcher */
	size_t		 n_hits;
};

struct matcher;

/*
 * Compile specs.  On error returns NULL, writes "subscription 'NAME':
 * query: REASON at column N" into err and the index of the bad spec into
 * *bad (when not NULL).
 */
struct matcher	*match_new(const struct match_spec *specs, size_t n,
		    char *err, size_t errlen, size_t *bad);
void		 match_free(struct matcher *m);		/* accepts NULL */

/*
 * Match one paper against every subscription; cb is called once per
 * matching subscription (in index order).  The result is valid during the
 * call only.  Not thread-safe for one matcher.
 */
typedef void	(*match_cb)(const struct match_result *r, void *arg);
void		 match_paper(struct matcher *m, const struct paper *p,
		    const char *source, match_cb cb, void *arg);

/*
 * Normalise text for matching into out: case folded, accents stripped
 * (Latin-1/Latin Extended), every run of non-word characters one space.
 */
void		 match_normalize(const char *s, size_t len, struct buf *out);

#endif
