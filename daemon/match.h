/*
 * match.h: every term of every subscription in one Aho-Corasick automaton
 * over normalised text (case and accents folded, hyphens = spaces, word
 * boundaries respected).  A paper's fields are scanned once; each
 * subscription's boolean expression is then evaluated on the set of terms
 * found, and a match gets a score and the list of terms that hit.
 *
 * Matching rules (tests/unit/test_match.c checks each):
 *   - Text is compared after match_normalize: "Schrödinger" = "schrodinger",
 *     "Wübben" = "wubben", "Łukasz" = "lukasz", "Weiß" = "weiss";
 *     "state-space model" = "state space model" = "State  Space, Model".
 *   - A term matches whole words only: "RoPE" does not match "Europe",
 *     "RAG" not "average"; a phrase matches its words in a row.  Words of
 *     scripts without spaces (CJK) therefore match only as whole runs.
 *   - Plural rule: the last word of a text term also matches its plural
 *     formed by adding "s" or "es", or "y" -> "ies" after a consonant:
 *     "LLM" matches "LLMs", "diffusion model" matches "diffusion models",
 *     "policy" matches "policies".  It applies to words and phrases, quoted
 *     or not, but not to prefix terms; a plural in the query ("LLMs") does
 *     not match the singular: write the singular.
 *   - A trailing '*' (diffus*) matches words beginning with the term.
 *   - No field: title, abstract, Hugging Face ai_summary or ai_keywords;
 *     title: the title only; abstract: the abstract only.
 *   - author: "Last", "First Last" and "F. Last": the term's last word must
 *     be the author's last name word (a trailing "Jr.", "Sr.", "II", "III"
 *     or "IV" is ignored) and the term's other words must appear in order
 *     among the author's first names, where an initial matches any name
 *     with that first letter (both ways: "J. Smith" matches "John Smith"
 *     and "John Smith" matches an author listed as "J. Smith").  Middle
 *     names may be skipped: "Kees Immink" matches "Kees A. Schouhamer
 *     Immink".  "author:Smi*" is a prefix of the last name.
 *   - cat: an arXiv category ignoring case, exact (cat:cs.CV) or a prefix
 *     (cat:cs.*), against the paper's categories and primary category.
 *   - source: the source name passed to match_paper (ignoring case); when
 *     that is NULL, any name in the paper's sources list.
 *   - keywords: any of them (each a word or phrase, '*' allowed at the end,
 *     no operators); exclude: none of them (text fields).  The expression
 *     of a subscription is (query OR keyword...) AND NOT (exclude OR ...);
 *     with neither query nor keywords every paper matches (minus exclude).
 *
 * Score of a match (a sum over the distinct terms that hit, see hits):
 *     text term:   w * ((in title ? 3 : 0) + (in abstract, ai_summary
 *                  or ai_keywords ? 1 : 0)), w = 2 for a phrase (two
 *                  words or more once normalised), 1 for a word
 *     author term: 3;  cat term: 0.5;  source term: 0
 *   + log2(1 + upvotes) when the paper has Hugging Face upvotes > 0.
 * A term counts once however often it occurs.  Example: "video generation"
 * in title and abstract, "diffusion" in the abstract, 15 upvotes:
 * 2*(3+1) + 1*1 + log2(16) = 13.
 *
 * Hits: the terms that hit and count for the match (terms under a NOT never
 * do), as written by the user without field and quotes, with the '*' of a
 * prefix ("video generation", "diffus*", "Wübben", "cs.*"); distinct, in the
 * order of the query, then keywords.
 */
#ifndef PW_DAEMON_MATCH_H
#define PW_DAEMON_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "../feeds/paper.h"

/* Author names longer than this (bytes) are not names: never matched. */
#define MATCH_MAX_AUTHOR	1024

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
 * *bad (when not NULL).  A bad keywords or exclude entry gives
 * "subscription 'NAME': keywords[I]: REASON".  The specs' strings are not
 * kept.
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
 *
 * Appends to out; no space at either end.  Letters and digits of any
 * script are word characters; Latin letters (U+00C0-U+024F, U+1E00-U+1EFF)
 * fold to ASCII (ß -> ss, æ -> ae, ø -> o, ł -> l, þ -> th), Greek and
 * Cyrillic capitals to small letters, fullwidth ASCII to ASCII; combining
 * marks, soft hyphens and zero-width characters are dropped (so "e" +
 * U+0301 = "e"); punctuation, symbols, spaces and invalid UTF-8 separate
 * words.
 */
void		 match_normalize(const char *s, size_t len, struct buf *out);

/* Sizes of a compiled matcher, for benchmarks and logs. */
struct match_stats {
	size_t	 n_subs;
	size_t	 n_terms;	/* distinct terms of every kind */
	size_t	 n_patterns;	/* strings in the automaton (with plurals) */
	size_t	 n_states;	/* automaton states */
	size_t	 n_always;	/* subscriptions evaluated for every paper */
	size_t	 bytes;		/* memory held by the matcher, about */
};
void		 match_stats(const struct matcher *m, struct match_stats *st);

#endif
