/*
 * test_hf_daily.c: the Hugging Face Daily Papers parser against the real
 * capture in fixtures/hf-daily and against hostile JSON.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/paper.h"
#include "feeds/source.h"
#include "feeds/util.h"

#define FIXTURE		"hf-daily/daily_papers_2026-06-12.json"
#define DAY_2026_06_12	1781222400LL	/* 2026-06-12T00:00:00Z */
#define DAY_2026_05_30	1780099200LL	/* 2026-05-30T00:00:00Z */

struct result {
	struct paper_list	papers;
	struct source_info	info;
	int			rc;
	char			err[256];
	size_t			stop_after;	/* callback fails after n; 0 never */
};

static int
collect(struct paper *p, void *arg)
{
	struct result *r = arg;

	paper_list_push_take(&r->papers, p);
	if (r->stop_after != 0 && r->papers.n >= r->stop_after)
		return -1;
	return 0;
}

static void
read_fixture(const char *name, struct buf *b)
{
	const char *dir = getenv("FIXTURES");
	char path[1024], err[256];

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/fixtures",
	    name);
	buf_init(b);
	if (file_read_all(path, 8u << 20, b, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

/* Parse buf with hf-daily in chunks of chunk bytes, with limits lim. */
static void
parse_with(struct result *r, const char *buf, size_t len, size_t chunk,
    const struct source_limits *lim)
{
	const struct source_type *t = &source_hf_daily;
	void *st;
	size_t off = 0;

	paper_list_init(&r->papers);
	source_info_init(&r->info);
	r->err[0] = '\0';
	st = t->begin(collect, r, &r->info, lim);
	assert_non_null(st);
	r->rc = 0;
	while (off < len && r->rc == 0) {
		size_t n = len - off < chunk ? len - off : chunk;

		r->rc = t->chunk(st, buf + off, n, r->err, sizeof(r->err));
		off += n;
	}
	if (r->rc == 0)
		r->rc = t->end(st, r->err, sizeof(r->err));
	t->free(st);
}

static void
parse_str(struct result *r, const char *s)
{
	parse_with(r, s, strlen(s), 7, NULL);
}

static void
result_release(struct result *r)
{
	paper_list_release(&r->papers);
	source_info_release(&r->info);
}

static const struct paper *
find(const struct result *r, const char *id)
{
	for (size_t i = 0; i < r->papers.n; i++)
		if (strcmp(r->papers.v[i]->id, id) == 0)
			return r->papers.v[i];
	return NULL;
}

static void
test_fixture_values(void **state)
{
	struct result r = { 0 };
	struct buf b;
	const struct paper *p;

	(void)state;
	read_fixture(FIXTURE, &b);
	parse_with(&r, b.data, b.len, 4096, NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 30);
	assert_int_equal(r.info.n_items, 30);
	assert_int_equal(r.info.n_warnings, 0);
	assert_int_equal(r.info.updated, DAY_2026_06_12);

	p = r.papers.v[0];
	assert_string_equal(p->id, "2606.00467");
	assert_true(p->is_arxiv);
	assert_string_equal(p->title, "On the Limits of LLM Adaptability: "
	    "Impact of Model-Internalized Priors on Annotation Task "
	    "Performance");
	assert_int_equal(p->n_authors, 3);
	assert_string_equal(p->authors[0].name, "Etienne Casanova");
	assert_string_equal(p->authors[1].name, "Rafal Kocielnik");
	assert_string_equal(p->authors[2].name, "R. Michael Alvarez");
	assert_null(p->authors[0].affiliation);
	assert_int_equal(p->upvotes, 0);
	assert_int_equal(p->n_comments, 2);
	assert_string_equal(p->url_hf,
	    "https://huggingface.co/papers/2606.00467");
	assert_string_equal(p->url_abs, "https://arxiv.org/abs/2606.00467");
	assert_string_equal(p->url, p->url_hf);
	assert_int_equal(p->published, DAY_2026_05_30);
	assert_int_equal(p->hf_date, DAY_2026_06_12);
	assert_non_null(p->summary);
	assert_true(str_starts(p->summary, "Large Language Models (LLMs) are "
	    "increasingly used for zero-shot annotation"));
	assert_null(strchr(p->summary, '\n'));	/* white space collapsed */
	assert_string_equal(p->ai_summary, "Large language models exhibit "
	    "limited ability to correct zero-shot errors through prompting, "
	    "with model performance more strongly linked to "
	    "definition-specific familiarity than text-level memorization "
	    "metrics.");
	assert_int_equal(p->ai_keywords.n, 14);
	assert_string_equal(p->ai_keywords.v[0], "zero-shot annotation");
	assert_string_equal(p->ai_keywords.v[13],
	    "embedding cosine similarity");

	p = r.papers.v[29];
	assert_string_equal(p->id, "2606.13106");
	assert_int_equal(p->upvotes, 18);

	for (size_t i = 0; i < r.papers.n; i++) {
		assert_int_equal(r.papers.v[i]->hf_date, DAY_2026_06_12);
		assert_true(r.papers.v[i]->published <= DAY_2026_06_12);
		assert_true(r.papers.v[i]->n_authors >= 1);
		assert_non_null(r.papers.v[i]->ai_summary);
	}
	assert_non_null(p = find(&r, "2606.12488"));
	assert_int_equal(p->n_authors, 4);
	{
		bool seen = false;

		for (size_t i = 0; i < p->n_authors; i++)
			seen |= strcmp(p->authors[i].name,
			    "Niccol\xc3\xb2 Biondi") == 0;
		assert_true(seen);
	}
	assert_non_null(p = find(&r, "2606.13681"));
	assert_int_equal(p->upvotes, 118);
	assert_int_equal(p->n_authors, 14);
	assert_non_null(p = find(&r, "2606.13392"));
	assert_int_equal(p->n_comments, 4);
	result_release(&r);
	buf_release(&b);
}

/* One big chunk gives the same papers as small ones. */
static void
test_fixture_one_chunk(void **state)
{
	struct result r = { 0 };
	struct buf b;

	(void)state;
	read_fixture(FIXTURE, &b);
	parse_with(&r, b.data, b.len, b.len, NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 30);
	assert_string_equal(r.papers.v[29]->id, "2606.13106");
	result_release(&r);
	buf_release(&b);
}

/* ai_summary / ai_keywords at the item's top level are read too. */
static void
test_top_level_ai_fields(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_str(&r, "[{\"paper\":{\"id\":\"2502.05173\",\"title\":\"T\","
	    "\"upvotes\":7},\"ai_summary\":\"top  summary\","
	    "\"ai_keywords\":[\"a\",\"b\",\"a\",5],\"numComments\":3},"
	    "{\"paper\":{\"id\":\"2502.00001v2\",\"ai_summary\":\"inner\","
	    "\"ai_keywords\":[\"x\"]},\"ai_summary\":\"outer\","
	    "\"title\":\"Top title\"}]");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 2);
	assert_string_equal(r.papers.v[0]->ai_summary, "top summary");
	assert_int_equal(r.papers.v[0]->ai_keywords.n, 2);
	assert_string_equal(r.papers.v[0]->ai_keywords.v[1], "b");
	assert_int_equal(r.papers.v[0]->upvotes, 7);
	assert_int_equal(r.papers.v[0]->n_comments, 3);
	assert_int_equal(r.papers.v[0]->published, -1);
	/* inside "paper" wins; the id's version is kept apart */
	assert_string_equal(r.papers.v[1]->id, "2502.00001");
	assert_int_equal(r.papers.v[1]->version, 2);
	assert_string_equal(r.papers.v[1]->ai_summary, "inner");
	assert_string_equal(r.papers.v[1]->title, "Top title");
	assert_int_equal(r.papers.v[1]->upvotes, -1);
	result_release(&r);
}

/* Documents that are not a list of papers: a clear error each. */
static void
test_hostile_errors(void **state)
{
	static const struct {
		const char *doc;
		const char *err;	/* a part of the message */
	} cases[] = {
		{ "{\"paper\":{\"id\":\"2502.05173\"}}", "expected a JSON array" },
		{ "42", "expected a JSON array" },
		{ "", "invalid JSON" },
		{ "[{\"paper\":{\"id\":\"2502.05173\"", "invalid JSON" },
		{ "[{\"paper\":{\"id\":\"2502.05173\",\"upvotes\":1e999}}]",
		    "invalid JSON" },
		{ "[{\"paper\":{\"id\":\"2502.05173\",\"upvotes\":"
		    "123456789012345678901234567890}}]", "invalid JSON" },
		{ "[{\"paper\":{\"id\":\"2502.05173\",\"title\":\"a\xc3\x28\"}}]",
		    "invalid JSON" },
		{ "[{\"paper\":{\"id\":\"2502.05173\",\"title\":\"\xc0\xaf\"}}]",
		    "invalid JSON" },
		{ "[{\"paper\":{\"id\":\"2502.05173\",\"title\":\"a\\u0000b\"}}]",
		    "invalid JSON" },
		{ "[{\"paper\":{\"id\":\"2502.05173\",\"title\":\"\\ud800\"}}]",
		    "invalid JSON" },
	};
	struct result r = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse_str(&r, cases[i].doc);
		assert_int_equal(r.rc, -1);
		if (strstr(r.err, cases[i].err) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, r.err,
			    cases[i].err);
		assert_true(str_starts(r.err, "hf-daily: "));
		assert_int_equal(r.papers.n, 0);
		result_release(&r);
	}
}

/* Items or fields of the wrong type are skipped, the rest is kept. */
static void
test_hostile_wrong_types(void **state)
{
	struct result r = { 0 };
	const struct paper *p;

	(void)state;
	parse_str(&r, "[1, \"x\", null, [], {\"paper\":\"2502.05173\"},"
	    "{\"paper\":{\"id\":2502.05173}},"
	    "{\"paper\":{\"id\":\"not-an-id\"}},"
	    "{\"paper\":{\"id\":\"2502.05173\",\"title\":17,"
	    "\"summary\":{\"a\":1},\"authors\":{\"name\":\"x\"},"
	    "\"upvotes\":\"many\",\"ai_keywords\":\"k\","
	    "\"publishedAt\":\"yesterday\",\"submittedOnDailyAt\":5},"
	    "\"numComments\":-4},"
	    "{\"paper\":{\"id\":\"2502.05174\",\"upvotes\":99999999999,"
	    "\"authors\":[1,{\"name\":null},{\"name\":\"  A\\tB \"},"
	    "\"Plain Name\",{\"name\":\"\\u0007\"}],"
	    "\"title\":\"bell\\u0007 and \\u00e9\"}}]");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 2);
	assert_true(r.info.n_warnings >= 7 + 7);
	assert_string_equal(r.info.warning, "item 0 has no 'paper' object");
	p = r.papers.v[0];
	assert_string_equal(p->id, "2502.05173");
	assert_null(p->title);
	assert_null(p->summary);
	assert_int_equal(p->n_authors, 0);
	assert_int_equal(p->upvotes, -1);
	assert_int_equal(p->n_comments, -1);
	assert_int_equal(p->ai_keywords.n, 0);
	assert_int_equal(p->published, -1);
	assert_int_equal(p->hf_date, -1);
	p = r.papers.v[1];
	assert_int_equal(p->upvotes, 2147483647);
	assert_int_equal(p->n_authors, 2);
	assert_string_equal(p->authors[0].name, "A B");
	assert_string_equal(p->authors[1].name, "Plain Name");
	assert_string_equal(p->title, "bell and \xc3\xa9");
	result_release(&r);
}

static void
test_empty_day(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_str(&r, " [ ]\n");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 0);
	assert_int_equal(r.info.n_warnings, 0);
	result_release(&r);
}

/* 5,000 nested arrays: jansson's depth limit, not a stack overflow. */
static void
test_deep_nesting(void **state)
{
	struct result r = { 0 };
	size_t n = 5000;
	char *s = xmalloc(2 * n + 1);

	(void)state;
	memset(s, '[', n);
	memset(s + n, ']', n);
	s[2 * n] = '\0';
	parse_with(&r, s, 2 * n, 65536, NULL);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "invalid JSON"));
	result_release(&r);
	free(s);
}

/*
 * Documents whose jansson tree would be huge (200,000 empty objects, 2
 * million numbers: 46 and 80 MB) are refused before parsing.
 */
static void
test_too_many_values(void **state)
{
	struct result r = { 0 };
	struct buf b;

	(void)state;
	for (int round = 0; round < 2; round++) {
		buf_init(&b);
		buf_addc(&b, '[');
		for (size_t i = 0; i < (round ? 2000000u : 200000u); i++)
			buf_adds(&b, i ? (round ? ",0" : ",{}") : "{}");
		buf_addc(&b, ']');
		parse_with(&r, b.data, b.len, 65536, NULL);
		assert_int_equal(r.rc, -1);
		assert_string_equal(r.err, "hf-daily: document too large to "
		    "parse (more than 100000 objects or 1000000 values)");
		result_release(&r);
		buf_release(&b);
	}
	/* commas and brackets inside strings do not count */
	buf_init(&b);
	buf_adds(&b, "[{\"paper\":{\"id\":\"2502.05173\",\"title\":\"");
	for (size_t i = 0; i < 300000; i++)
		buf_adds(&b, "{[,\\\"");
	buf_adds(&b, "\"}}]");
	parse_with(&r, b.data, b.len, 65536, NULL);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 1);
	assert_true(str_starts(r.papers.v[0]->title, "{[,\"{[,\""));
	result_release(&r);
	buf_release(&b);
}

/* Past 32 MiB the chunk is refused: memory stays bounded. */
static void
test_size_cap(void **state)
{
	const struct source_type *t = &source_hf_daily;
	struct source_info info;
	char err[256] = "";
	size_t mib = 1024 * 1024, fed = 0;
	char *chunk = xmalloc(mib);
	void *st;
	int rc = 0;

	(void)state;
	memset(chunk, ' ', mib);
	source_info_init(&info);
	st = t->begin(collect, NULL, &info, NULL);
	while (rc == 0 && fed < 40 * mib) {
		rc = t->chunk(st, chunk, mib, err, sizeof(err));
		fed += mib;
	}
	assert_int_equal(rc, -1);
	assert_int_equal(fed, 33 * mib);
	assert_non_null(strstr(err, "larger than"));
	assert_int_equal(t->end(st, err, sizeof(err)), -1);
	t->free(st);
	source_info_release(&info);
	free(chunk);
}

static void
test_limits(void **state)
{
	struct source_limits lim = { .max_field = 9, .max_items = 2 };
	struct result r = { 0 };
	const char *doc = "[{\"paper\":{\"id\":\"2502.00001\","
	    "\"title\":\"abcdefg\\u00e9\\u00e9\"}},"
	    "{\"paper\":{\"id\":\"2502.00002\"}},"
	    "{\"paper\":{\"id\":\"2502.00003\"}}]";

	(void)state;
	parse_with(&r, doc, strlen(doc), 5, &lim);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 2);
	/* 9 bytes would split the second e-acute: cut before it */
	assert_string_equal(r.papers.v[0]->title, "abcdefg\xc3\xa9");
	assert_int_equal(r.info.n_warnings, 2);
	assert_string_equal(r.info.warning, "title cut to 9 bytes");
	result_release(&r);
}

/* A callback that says stop ends the parse with an error. */
static void
test_callback_stop(void **state)
{
	struct result r = { .stop_after = 3 };
	struct buf b;

	(void)state;
	read_fixture(FIXTURE, &b);
	parse_with(&r, b.data, b.len, 65536, NULL);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.papers.n, 3);
	assert_non_null(strstr(r.err, "stopped"));
	result_release(&r);
	buf_release(&b);
}

static void
test_sniff(void **state)
{
	struct buf b;

	(void)state;
	read_fixture(FIXTURE, &b);
	assert_int_equal(source_hf_daily.sniff(b.data, 4096), 95);
	assert_int_equal(source_hf_daily.sniff("\xef\xbb\xbf [{\"paper\":{",
	    16), 80);
	assert_int_equal(source_hf_daily.sniff("[]", 2), 30);
	assert_int_equal(source_hf_daily.sniff("[{\"id\":1}]", 10), 0);
	assert_int_equal(source_hf_daily.sniff("{\"version\":\"https://"
	    "jsonfeed.org/version/1\"}", 42), 0);
	assert_int_equal(source_hf_daily.sniff("<?xml version=\"1.0\"?>",
	    21), 0);
	assert_int_equal(source_hf_daily.sniff("", 0), 0);
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_values),
		cmocka_unit_test(test_fixture_one_chunk),
		cmocka_unit_test(test_top_level_ai_fields),
		cmocka_unit_test(test_hostile_errors),
		cmocka_unit_test(test_hostile_wrong_types),
		cmocka_unit_test(test_empty_day),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_too_many_values),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_callback_stop),
		cmocka_unit_test(test_sniff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
