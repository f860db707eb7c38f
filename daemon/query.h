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
 */
#ifndef PW_DAEMON_QUERY_H
#define PW_DAEMON_QUERY_H

#include <stdbool.h>
#include <stddef.h>

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
};

/*
 * Parse text.  On error returns NULL, writes the reason into err (e.g.
 * "unbalanced '(' at column 17") and the 1-based column into *column.
 */
struct query_node *query_parse(const char *text, char *err, size_t errlen,
		    int *column);
void		 query_free(struct query_node *q);	/* accepts NULL */
/* A canonical text form, for debugging and tests; caller frees. */
char		*query_to_string(const struct query_node *q);

#endif
