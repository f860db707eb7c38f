/*
 * query.h: the subscription query language.
 *
 *   words and "quoted phrases"; AND (juxtaposition is AND), OR, NOT, -word,
 *   ANDNOT; parentheses; precedence NOT > AND > OR; fields title: abstract:
 *   author: cat: source: and arXiv's aliases ti: abs: au:; a trailing '*'
 *   is a prefix.  No field means title or abstract (or Hugging Face
 *   ai_summary / ai_keywords).
 *
 * A parsed query is an expression tree over terms; match.c compiles the
 * terms of every subscription into one automaton.
 *
 * The language in detail (tests/unit/test_query.c holds an example of each):
 *   - Operators are upper case only: AND, OR, NOT, ANDNOT ("a ANDNOT b" is
 *     "a AND NOT b", as on arXiv).  Lower-case "and"/"or"/"not" are plain
 *     words.  Two terms side by side mean AND.  Precedence NOT > AND (and
 *     ANDNOT) > OR; AND and OR group to the left.
 *   - '-' at the start of a term is NOT ("-survey", "-(a OR b)",
 *     "-title:survey"); a '-' inside a word is a hyphen ("state-space").
 *   - "..." is a phrase; there are no escapes inside quotes.  An unquoted
 *     word whose letters are split by hyphens, dots or apostrophes
 *     ("state-space", "O'Brien") is a phrase of its parts, too.
 *   - field:term, field:"a phrase", field:(a OR b) (the field applies to
 *     every term in the group that has none of its own).  Fields:
 *       title: ti:        the title
 *       abstract: abs:    the abstract (not the Hugging Face ai_summary)
 *       all:              same as no field (arXiv's all:)
 *       author: au:       an author: "Last", "First Last" or "F. Last"
 *       cat:              an arXiv category, exact ("cs.CV") or a prefix
 *                         with '*' ("cs.*")
 *       source:           the name of the source the paper came from
 *     Field names ignore case.  Any other "word:" before a term is an error
 *     (quote the term to search for a colon: "re:invent").
 *   - A trailing '*' makes the term (the last word of a phrase) a prefix:
 *     diffus*, "large language mod*", cat:cs.*.  '*' elsewhere is an error.
 *   - A query is at most QUERY_MAX_LEN bytes of UTF-8 without control
 *     characters and nests at most QUERY_MAX_DEPTH parentheses and NOTs.
 *   - Every text or author term must hold a letter or digit once
 *     normalised (see match_normalize): "$$" is an error.
 *
 * Errors are one line ending in "at column N" (N counts characters, not
 * bytes, from 1), e.g. "unbalanced '(' at column 17", "unexpected ')' at
 * column 5", "unknown field 'foo:' at column 1", "missing term after 'OR'
 * at column 3", "unterminated quote at column 9"; and "empty query"
 * (column 1) for a query that is blank.
 */
#ifndef PW_DAEMON_QUERY_H
#define PW_DAEMON_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#define QUERY_MAX_LEN	4096	/* bytes */
#define QUERY_MAX_DEPTH	64	/* nested parentheses and NOTs */

enum query_field {
	QUERY_FIELD_TEXT = 0,	/* title, abstract, ai_summary, ai_keywords */
	QUERY_FIELD_TITLE,
	QUERY_FIELD_ABSTRACT,
	QUERY_FIELD_AUTHOR,
	QUERY_FIELD_CAT,
	QUERY_FIELD_SOURCE,
};

enum query_op {
	QUERY_TERM,
	QUERY_AND,
	QUERY_OR,
	QUERY_NOT,
};

struct query_node {
	enum query_op	 op;
	/* QUERY_TERM */
	enum query_field field;
	char		*text;		/* as written (UTF-8, unquoted) */
	bool		 phrase;	/* was quoted or had several words */
	bool		 prefix;	/* trailing '*' */
	/* QUERY_AND / QUERY_OR: two children; QUERY_NOT: a only */
	struct query_node *a;
	struct query_node *b;
	/* extension: 1-based column (characters) of the term or operator */
	int		 column;
};

/*
 * Parse text.  On error returns NULL, writes the reason into err (e.g.
 * "unbalanced '(' at column 17") and the 1-based column into *column.
 * text (NUL-terminated) is not kept; the tree is the caller's
 * (query_free).  term->text never holds the quotes, the field or the '*'.
 */
struct query_node *query_parse(const char *text, char *err, size_t errlen,
		    int *column);
/* The same for len bytes at text (a NUL byte is an error). */
struct query_node *query_parse_len(const char *text, size_t len, char *err,
		    size_t errlen, int *column);
void		 query_free(struct query_node *q);	/* accepts NULL */
/*
 * A canonical text form, for debugging and tests; caller frees.  Binary
 * operators are fully parenthesised: `(title:"video generation" AND NOT
 * survey)`; phrases are quoted, fields other than the default are shown
 * by their long name, a prefix keeps its '*'.
 */
char		*query_to_string(const struct query_node *q);

/*
 * One term of a keywords or exclude list: text is a word or phrase as is
 * (no operators, no fields; quotes are ordinary characters; a trailing
 * '*' is a prefix), matched in field.  NULL and err on a term without
 * letters or digits or over QUERY_MAX_LEN bytes.  Caller frees.
 */
struct query_node *query_term_new(enum query_field field, const char *text,
		    char *err, size_t errlen);
/* New inner nodes, for building combined expressions; take a and b. */
struct query_node *query_node_new(enum query_op op, struct query_node *a,
		    struct query_node *b);

/* "title", "abstract", "author", "cat", "source"; "" for the default. */
const char	*query_field_name(enum query_field f);

#endif
