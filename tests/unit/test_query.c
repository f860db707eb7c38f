/*
 * test_query.c: the query language: precedence, fields, prefixes, the
 * canonical form, every error message with its column, and the limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/query.h"
#include "feeds/util.h"

/* Parse q and return its canonical form (or "ERROR: reason"); frees. */
static char *
canon(const char *q)
{
	char err[256];
	int col = 0;
	struct query_node *n = query_parse(q, err, sizeof(err), &col);
	char *s;

	if (n == NULL)
		return xasprintf("ERROR: %s", err);
	s = query_to_string(n);
	query_free(n);
	return s;
}

static void
test_query_parse_canonical(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		/* precedence NOT > AND > OR; juxtaposition is AND */
		{ "a b OR c", "((a AND b) OR c)" },
		{ "a OR b c", "(a OR (b AND c))" },
		{ "a OR b OR c", "((a OR b) OR c)" },
		{ "NOT a b", "(NOT a AND b)" },
		{ "a AND NOT b OR c", "((a AND NOT b) OR c)" },
		{ "a -b", "(a AND NOT b)" },
		{ "-(a OR b) c", "(NOT (a OR b) AND c)" },
		{ "a ANDNOT b", "(a AND NOT b)" },
		{ "a AND (b OR c)", "(a AND (b OR c))" },
		{ "((((a))))", "a" },
		{ "NOT NOT x", "NOT NOT x" },
		{ "--x", "NOT NOT x" },
		{ "a\tOR\nb", "(a OR b)" },
		/* lower-case operators are words */
		{ "and or not", "((and AND or) AND not)" },
		/* the example of the architecture */
		{ "\"video generation\" OR (diffusion AND cat:cs.CV) NOT survey",
		  "(\"video generation\" OR ((diffusion AND cat:cs.CV) AND "
		  "NOT survey))" },
		/* fields and aliases */
		{ "ti:x abs:y au:z", "((title:x AND abstract:y) AND author:z)" },
		{ "TITLE:x Abstract:y", "(title:x AND abstract:y)" },
		{ "all:x", "x" },
		{ "source:hf", "source:hf" },
		{ "au:\"F. Last\"", "author:\"F. Last\"" },
		{ "-title:survey", "NOT title:survey" },
		{ "title:(a OR b)", "(title:a OR title:b)" },
		{ "title:(a OR author:b) -c", "((title:a OR author:b) AND NOT c)" },
		{ "title:AND", "title:\"AND\"" },
		/* prefixes */
		{ "diffus*", "diffus*" },
		{ "cat:cs.*", "cat:cs.*" },
		{ "\"large language mod*\"", "\"large language mod\"*" },
		{ "\"x y\"*", "\"x y\"*" },
		/* hyphenated words are phrases; UTF-8 kept as written */
		{ "state-space", "\"state-space\"" },
		{ "Schrödinger", "Schrödinger" },
		{ "10:1", "\"10:1\"" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = canon(cases[i].in);

		if (strcmp(s, cases[i].out) != 0)
			fail_msg("'%s' -> '%s', want '%s'", cases[i].in, s,
			    cases[i].out);
		free(s);
	}
}

static void
test_query_parse_term_fields(void **state)
{
	char err[256];
	int col = 0;
	struct query_node *q;

	(void)state;
	q = query_parse("  title:\"video generation\"", err, sizeof(err), &col);
	assert_non_null(q);
	assert_int_equal(q->op, QUERY_TERM);
	assert_int_equal(q->field, QUERY_FIELD_TITLE);
	assert_string_equal(q->text, "video generation");
	assert_true(q->phrase);
	assert_false(q->prefix);
	assert_int_equal(q->column, 3);
	query_free(q);

	q = query_parse("diffus*", err, sizeof(err), &col);
	assert_non_null(q);
	assert_int_equal(q->field, QUERY_FIELD_TEXT);
	assert_string_equal(q->text, "diffus");
	assert_true(q->prefix);
	assert_false(q->phrase);
	query_free(q);

	q = query_parse("cat:cs.*", err, sizeof(err), &col);
	assert_non_null(q);
	assert_int_equal(q->field, QUERY_FIELD_CAT);
	assert_string_equal(q->text, "cs.");
	assert_true(q->prefix);
	query_free(q);

	/* an unquoted hyphenated word is a phrase; one word is not */
	q = query_parse("state-space LLM", err, sizeof(err), &col);
	assert_non_null(q);
	assert_int_equal(q->op, QUERY_AND);
	assert_string_equal(q->a->text, "state-space");
	assert_true(q->a->phrase);
	assert_string_equal(q->b->text, "LLM");
	assert_false(q->b->phrase);
	assert_int_equal(q->b->column, 13);
	query_free(q);

	/* "Schrödinger" is 11 characters but 12 bytes: columns count
	 * characters */
	q = query_parse("Schrödinger OR x", err, sizeof(err), &col);
	assert_non_null(q);
	assert_int_equal(q->column, 13);
	assert_int_equal(q->b->column, 16);
	query_free(q);
}

static void
test_query_parse_errors(void **state)
{
	static const struct {
		const char *in, *err;
		int col;
	} cases[] = {
		{ "", "empty query", 1 },
		{ " \t\n", "empty query", 1 },
		{ "\"video gen\" AND (a OR b", "unbalanced '(' at column 17", 17 },
		{ "(a (b)", "unbalanced '(' at column 1", 1 },
		{ "(a (b", "unbalanced '(' at column 4", 4 },
		{ "Schrödinger (a", "unbalanced '(' at column 13", 13 },
		{ "a )", "unexpected ')' at column 3", 3 },
		{ "(a))", "unexpected ')' at column 4", 4 },
		{ ")", "unexpected ')' at column 1", 1 },
		{ "a OR", "missing term after 'OR' at column 3", 3 },
		{ "a OR OR b", "missing term after 'OR' at column 3", 3 },
		{ "OR a", "missing term before 'OR' at column 1", 1 },
		{ "a AND AND b", "missing term after 'AND' at column 3", 3 },
		{ "a ANDNOT", "missing term after 'ANDNOT' at column 3", 3 },
		{ "(a AND)", "missing term after 'AND' at column 4", 4 },
		{ "NOT", "missing term after 'NOT' at column 1", 1 },
		{ "a -", "missing term after '-' at column 3", 3 },
		{ "a - b", "missing term after '-' at column 3", 3 },
		{ "x \"abc", "unterminated quote at column 3", 3 },
		{ "\"\"", "empty phrase at column 1", 1 },
		{ "a ()", "empty parentheses at column 3", 3 },
		{ "a*b", "'*' is only allowed at the end of a term at column 2", 2 },
		{ "ab**", "'*' is only allowed at the end of a term at column 3",
		  3 },
		{ "*", "missing term before '*' at column 1", 1 },
		{ "$$ a", "term '$$' has no letters or digits at column 1", 1 },
		{ "a title:\"--\"",
		  "term '--' has no letters or digits at column 3", 3 },
		{ "title:", "missing term after 'title:' at column 1", 1 },
		{ "x title: y", "missing term after 'title:' at column 3", 3 },
		{ "a\x01" "b", "control character at column 2", 2 },
		{ "é \xff", "invalid UTF-8 at column 3", 3 },
	};
	char err[256];
	int col;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct query_node *q;

		err[0] = '\0';
		col = -1;
		q = query_parse(cases[i].in, err, sizeof(err), &col);
		if (q != NULL)
			fail_msg("'%s' parsed", cases[i].in);
		if (strcmp(err, cases[i].err) != 0 || col != cases[i].col)
			fail_msg("'%s': '%s' (%d), want '%s' (%d)", cases[i].in,
			    err, col, cases[i].err, cases[i].col);
	}
}

static void
test_query_parse_unknown_field(void **state)
{
	char err[256];
	int col = 0;

	(void)state;
	assert_null(query_parse("video foo:bar", err, sizeof(err), &col));
	assert_int_equal(col, 7);
	assert_true(str_starts(err, "unknown field 'foo:' at column 7 ("));
	/* a quoted colon is text */
	{
		struct query_node *q = query_parse("\"foo:bar\"", err,
		    sizeof(err), &col);

		assert_non_null(q);
		assert_string_equal(q->text, "foo:bar");
		query_free(q);
	}
}

static void
test_query_parse_limits(void **state)
{
	char err[256], *big;
	int col = 0;
	struct buf b;
	struct query_node *q;

	(void)state;
	/* 64 nested groups parse, 65 do not */
	buf_init(&b);
	for (int i = 0; i < 64; i++)
		buf_addc(&b, '(');
	buf_addc(&b, 'a');
	for (int i = 0; i < 64; i++)
		buf_addc(&b, ')');
	q = query_parse(buf_str(&b), err, sizeof(err), &col);
	assert_non_null(q);
	assert_string_equal(q->text, "a");
	query_free(q);
	buf_reset(&b);
	for (int i = 0; i < 65; i++)
		buf_addc(&b, '(');
	buf_adds(&b, "a)");
	assert_null(query_parse(buf_str(&b), err, sizeof(err), &col));
	assert_string_equal(err,
	    "query nested too deeply (at most 64 levels) at column 65");
	/* NOT chains count too */
	buf_reset(&b);
	for (int i = 0; i < 100; i++)
		buf_adds(&b, "NOT ");
	buf_addc(&b, 'a');
	assert_null(query_parse(buf_str(&b), err, sizeof(err), &col));
	assert_int_equal(col, 257);
	/* 2048 terms in 4095 bytes parse (and free) fine */
	buf_reset(&b);
	for (int i = 0; i < 2048; i++)
		buf_adds(&b, i ? " a" : "a");
	assert_int_equal(b.len, 4095);
	q = query_parse(buf_str(&b), err, sizeof(err), &col);
	assert_non_null(q);
	assert_int_equal(q->op, QUERY_AND);
	query_free(q);
	/* over QUERY_MAX_LEN */
	big = xmalloc(QUERY_MAX_LEN + 2);
	memset(big, 'a', QUERY_MAX_LEN + 1);
	big[QUERY_MAX_LEN + 1] = '\0';
	assert_null(query_parse(big, err, sizeof(err), &col));
	assert_string_equal(err, "query longer than 4096 bytes at column 4097");
	free(big);
	/* a NUL inside the given length */
	assert_null(query_parse_len("a\0b", 3, err, sizeof(err), &col));
	assert_string_equal(err, "control character at column 2");
	buf_release(&b);
}

static void
test_query_term_new(void **state)
{
	char err[256];
	struct query_node *t;

	(void)state;
	t = query_term_new(QUERY_FIELD_TEXT, "graph neural network", err,
	    sizeof(err));
	assert_non_null(t);
	assert_string_equal(t->text, "graph neural network");
	assert_true(t->phrase);
	assert_false(t->prefix);
	query_free(t);

	/* keywords are not queries: OR and quotes are just text */
	t = query_term_new(QUERY_FIELD_TEXT, "a OR \"b\"", err, sizeof(err));
	assert_non_null(t);
	assert_int_equal(t->op, QUERY_TERM);
	assert_string_equal(t->text, "a OR \"b\"");
	query_free(t);

	t = query_term_new(QUERY_FIELD_TEXT, "LoRA*", err, sizeof(err));
	assert_non_null(t);
	assert_string_equal(t->text, "LoRA");
	assert_true(t->prefix);
	assert_false(t->phrase);
	query_free(t);

	assert_null(query_term_new(QUERY_FIELD_TEXT, "$$", err, sizeof(err)));
	assert_string_equal(err, "term '$$' has no letters or digits");
	assert_null(query_term_new(QUERY_FIELD_TEXT, "", err, sizeof(err)));
	assert_string_equal(err, "empty term");
}

static void
test_query_to_string_null(void **state)
{
	char *s = query_to_string(NULL);

	(void)state;
	assert_string_equal(s, "");
	free(s);
	query_free(NULL);
	assert_string_equal(query_field_name(QUERY_FIELD_AUTHOR), "author");
	assert_string_equal(query_field_name(QUERY_FIELD_TEXT), "");
}

/* The canonical form parses back to itself. */
static void
test_query_round_trip(void **state)
{
	static const char *const qs[] = {
		"\"video generation\" OR (diffusion AND cat:cs.CV) NOT survey",
		"title:(a OR author:\"J. Smith\") -c ANDNOT source:hf",
		"\"large language mod*\" OR diffus* OR \"x-y\" OR \"AND\"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		char *a = canon(qs[i]), *b = canon(a);

		assert_string_equal(a, b);
		free(a);
		free(b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_parse_canonical),
		cmocka_unit_test(test_query_parse_term_fields),
		cmocka_unit_test(test_query_parse_errors),
		cmocka_unit_test(test_query_parse_unknown_field),
		cmocka_unit_test(test_query_parse_limits),
		cmocka_unit_test(test_query_term_new),
		cmocka_unit_test(test_query_to_string_null),
		cmocka_unit_test(test_query_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
