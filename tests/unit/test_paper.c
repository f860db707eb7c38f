/*
 * test_paper.c: arXiv identifier rules, merging, the JSON Lines form, and
 * the util layer under them (UTF-8 hygiene, dates).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "feeds/paper.h"
#include "feeds/util.h"

struct id_case {
	const char	*in;
	const char	*id;		/* NULL: not an arXiv id */
	int		 version;
};

static const struct id_case id_cases[] = {
	{ "2502.05173", "2502.05173", 0 },
	{ "2502.05173v2", "2502.05173", 2 },
	{ "0704.0001", "0704.0001", 0 },		/* 4-digit number */
	{ "1501.00001v12", "1501.00001", 12 },
	{ "http://arxiv.org/abs/2202.12139v1", "2202.12139", 1 },
	{ "https://arxiv.org/abs/2411.17700", "2411.17700", 0 },
	{ "https://arxiv.org/pdf/2104.12255v1", "2104.12255", 1 },
	{ "http://export.arxiv.org/abs/1707.08567v1", "1707.08567", 1 },
	{ "https://www.arxiv.org/abs/2502.05173v3", "2502.05173", 3 },
	{ "oai:arXiv.org:2411.17700v1", "2411.17700", 1 },
	{ "oai:arXiv.org:2411.17701v2", "2411.17701", 2 },
	{ "http://arxiv.org/abs/astro-ph/0601001v1", "astro-ph/0601001", 1 },
	{ "hep-th/9901001", "hep-th/9901001", 0 },
	{ "cond-mat/0412498v1", "cond-mat/0412498", 1 },
	{ "math.AG/0101001", "math.AG/0101001", 0 },
	{ "arXiv:2502.05173v1", "2502.05173", 1 },
	{ "  2502.05173\n", "2502.05173", 0 },
	/* not arXiv ids */
	{ "https://arxiv.org/api/errors#incorrect_id_format_for_abc", NULL, 0 },
	{ "https://example.org/abs/2502.05173", NULL, 0 },
	{ "2502.051", NULL, 0 },
	{ "2502.051733", NULL, 0 },
	{ "25020.5173", NULL, 0 },
	{ "hep-th/990100", NULL, 0 },
	{ "abc", NULL, 0 },
	{ "", NULL, 0 },
	{ "2502.05173v", NULL, 0 },		/* a dangling v */
	{ "2502.05173x", NULL, 0 },
};

static void
test_arxiv_id_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(id_cases) / sizeof(id_cases[0]); i++) {
		const struct id_case *c = &id_cases[i];
		char id[64];
		int v = -1, rc = paper_arxiv_id(c->in, id, sizeof(id), &v);

		if (c->id == NULL) {
			if (rc != -1)
				fail_msg("'%s' taken as id '%s'", c->in, id);
			continue;
		}
		if (rc != 0)
			fail_msg("'%s' not recognised", c->in);
		assert_string_equal(id, c->id);
		assert_int_equal(v, c->version);
	}
}

static void
test_arxiv_id_short_buffer(void **state)
{
	char id[8];
	int v;

	(void)state;
	assert_int_equal(paper_arxiv_id("2502.05173", id, sizeof(id), &v), -1);
	assert_int_equal(paper_arxiv_id(NULL, id, sizeof(id), &v), -1);
}

static void
test_set_arxiv_id_links(void **state)
{
	struct paper *p = paper_new();

	(void)state;
	paper_set_arxiv_id(p, "2502.05173", 2);
	assert_string_equal(p->id, "2502.05173");
	assert_int_equal(p->version, 2);
	assert_true(p->is_arxiv);
	assert_string_equal(p->url_abs, "https://arxiv.org/abs/2502.05173");
	assert_string_equal(p->url_pdf, "https://arxiv.org/pdf/2502.05173");
	assert_string_equal(p->url_hf,
	    "https://huggingface.co/papers/2502.05173");
	paper_free(p);
}

static struct paper *
sample(const char *src, int version)
{
	struct paper *p = paper_new();

	paper_set_arxiv_id(p, "2502.05173", version);
	paper_set(&p->title, version > 1 ? "VideoRoPE v2" : "VideoRoPE");
	paper_add_author(p, "Pan Zhang", NULL);
	strvec_push(&p->categories, "cs.CV");
	strvec_push(&p->sources, src);
	return p;
}

static void
test_merge_arxiv_and_hf(void **state)
{
	struct paper *a = sample("arxiv", 1), *h = sample("hf", 1);

	(void)state;
	h->upvotes = 42;
	paper_set(&h->ai_summary, "An AI summary.");
	strvec_push(&h->ai_keywords, "rotary position embedding");
	strvec_release(&h->categories);
	strvec_push(&h->categories, "cs.LG");
	assert_true(paper_merge(a, h));
	assert_int_equal(a->upvotes, 42);
	assert_string_equal(a->ai_summary, "An AI summary.");
	assert_int_equal(a->categories.n, 2);
	assert_int_equal(a->sources.n, 2);
	assert_string_equal(a->sources.v[1], "hf");
	assert_string_equal(a->title, "VideoRoPE");
	/* merging the same sighting again changes nothing */
	assert_false(paper_merge(a, h));
	paper_free(a);
	paper_free(h);
}

static void
test_merge_newer_version(void **state)
{
	struct paper *a = sample("arxiv", 1), *b = sample("arxiv", 2);

	(void)state;
	assert_true(paper_merge(a, b));
	assert_int_equal(a->version, 2);
	assert_string_equal(a->title, "VideoRoPE v2");
	/* an older sighting does not overwrite the newer text */
	paper_free(b);
	b = sample("arxiv", 1);
	paper_merge(a, b);
	assert_string_equal(a->title, "VideoRoPE v2");
	assert_int_equal(a->version, 2);
	paper_free(a);
	paper_free(b);
}

static void
test_json_round_trip(void **state)
{
	struct paper *p = sample("arxiv", 3), *q;
	struct buf b;
	json_t *j;

	(void)state;
	paper_set(&p->summary, "Quotes \" and \\ and\nnewlines, ü, 🎉");
	paper_add_author(p, "Dirk Wübben", "Universität Bremen");
	p->published = 1739145600;	/* 2025-02-10T00:00:00Z */
	p->announce = PAPER_ANNOUNCE_CROSS;
	buf_init(&b);
	paper_to_json(p, &b);
	j = json_loads(b.data, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "id")),
	    "2502.05173");
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 3);
	assert_string_equal(json_string_value(json_object_get(j, "published")),
	    "2025-02-10T00:00:00Z");
	assert_true(json_is_null(json_object_get(j, "updated")));
	assert_string_equal(json_string_value(json_object_get(j,
	    "announce_type")), "cross");
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(j, "authors"), 1)), "Dirk Wübben");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(j, "links"), "hf")),
	    "https://huggingface.co/papers/2502.05173");
	json_decref(j);
	q = paper_from_json(b.data, b.len);
	assert_non_null(q);
	assert_string_equal(q->summary, p->summary);
	assert_string_equal(q->authors[1].affiliation, "Universität Bremen");
	assert_null(q->authors[0].affiliation);
	assert_int_equal(q->published, p->published);
	assert_int_equal(q->announce, PAPER_ANNOUNCE_CROSS);
	assert_true(q->is_arxiv);
	assert_null(paper_from_json("[1]", 3));
	paper_free(q);
	paper_free(p);
	buf_release(&b);
}

/*
 * paper_from_json reads the stored JSON with a one-pass reader and leaves
 * anything it does not expect to jansson: both must give the same paper.
 */
static void
test_from_json_variants(void **state)
{
	static const char esc[] = "{\"id\":\"2502.00001\",\"version\":3,"
	    "\"title\":\"Caf\\u00e9 \\ud83d\\ude00 \\\"q\\\"\\n\\/x\","
	    "\"authors\":[\"A One\",\"B Two\",\"C Three\"],"
	    "\"affiliations\":[null,\"Uni\",null],"
	    "\"summary\":\"tab\\there\",\"categories\":[\"cs.LG\",\"cs.AI\"],"
	    "\"published\":\"2025-02-10T00:00:00Z\",\"upvotes\":-2,"
	    "\"announce_type\":\"replace\",\"sources\":[\"arxiv\"],"
	    "\"links\":{\"abs\":\"https://arxiv.org/abs/2502.00001\","
	    "\"pdf\":null}}";
	struct paper *p;
	const char *bad[] = {
		"{\"id\":\"x\\u0000y\"}",		/* NUL: jansson refuses */
		"{\"id\":\"a\xed\xa0\x80\"}",		/* surrogate in UTF-8 */
		"{\"id\":\"a\",}",
		"{\"id\":\"a\"} x",
		"{\"id\":null,\"title\":\"t\"}",
		"{\"title\":\"no id\"}",
		"{\"id\":\"a\",\"version\":01}",
	};

	(void)state;
	p = paper_from_json(esc, sizeof(esc) - 1);
	assert_non_null(p);
	assert_string_equal(p->title, "Caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\"\n/x");
	assert_int_equal(p->version, 3);
	assert_int_equal(p->n_authors, 3);
	assert_null(p->authors[0].affiliation);
	assert_string_equal(p->authors[1].affiliation, "Uni");
	assert_string_equal(p->summary, "tab\there");
	assert_int_equal(p->categories.n, 2);
	assert_string_equal(p->categories.v[1], "cs.AI");
	assert_int_equal(p->published, 1739145600);
	assert_int_equal(p->updated, -1);
	assert_int_equal(p->upvotes, -2);
	assert_int_equal(p->n_comments, -1);
	assert_int_equal(p->announce, PAPER_ANNOUNCE_REPLACE);
	assert_string_equal(p->url_abs, "https://arxiv.org/abs/2502.00001");
	assert_null(p->url_pdf);
	assert_true(p->is_arxiv);
	paper_free(p);

	/* what the fast reader leaves to jansson reads as before */
	p = paper_from_json("{\"extra\":{\"k\":[1,2]},\"id\":\"hep-th/9901001\","
	    "\"version\":2.0,\"upvotes\":\"7\",\"title\":\"T\",\"title\":\"U\"}",
	    95);
	assert_non_null(p);
	assert_string_equal(p->id, "hep-th/9901001");
	assert_int_equal(p->version, 0);		/* a real, not an integer */
	assert_int_equal(p->upvotes, -1);
	assert_string_equal(p->title, "U");		/* the last one */
	assert_true(p->is_arxiv);
	paper_free(p);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(paper_from_json(bad[i], strlen(bad[i])));
}

static void
test_utf8_clean(void **state)
{
	static const struct { const char *in; size_t len; const char *out; } c[] = {
		{ "plain", 5, "plain" },
		{ "Wübben", 7, "Wübben" },
		{ "a\xc3\x28z", 4, "a\xef\xbf\xbd(z" },	/* bad continuation */
		{ "\x80x", 2, "\xef\xbf\xbdx" },		/* lone continuation */
		{ "e\xe2\x82", 3, "e\xef\xbf\xbd" },		/* truncated */
		{ "\xc0\xaf", 2, "\xef\xbf\xbd" },		/* overlong '/' */
		{ "\xed\xa0\x80", 3, "\xef\xbf\xbd" },		/* surrogate */
		{ "a\x01" "b\tc\n", 6, "ab\tc\n" },		/* control */
		{ "\xc2\x85x", 3, "x" },			/* C1 NEL */
		{ "a long line of plain ASCII text, tab\tand LF\n", 44,
		  "a long line of plain ASCII text, tab\tand LF\n" },
		{ "eight by\x01" "tes", 12, "eight bytes" },	/* control */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct buf b;

		buf_init(&b);
		utf8_clean(&b, c[i].in, c[i].len);
		assert_string_equal(buf_str(&b), c[i].out);
		/* the span is the whole input exactly when nothing changes */
		assert_int_equal(utf8_clean_span(c[i].in, c[i].len) == c[i].len,
		    strcmp(c[i].in, c[i].out) == 0);
		assert_true(utf8_valid(b.data ? b.data : "", b.len));
		buf_release(&b);
	}
	assert_false(utf8_valid("\xc3\x28", 2));
	assert_true(utf8_valid("\xf0\x9f\x8e\x89", 4));
}

static void
test_collapse_ws(void **state)
{
	char s[] = "  Testing Deep\n  Learning\t Models  ";

	(void)state;
	assert_string_equal(str_collapse_ws(s), "Testing Deep Learning Models");
}

static void
test_dates(void **state)
{
	(void)state;
	assert_int_equal(time_parse_rfc3339("2026-04-12T22:09:25Z"), 1776031765);
	assert_int_equal(time_parse_rfc3339("2026-06-12T00:00:00.000Z"),
	    1781222400);
	assert_int_equal(time_parse_rfc3339("2026-04-12T23:09:25+01:00"),
	    1776031765);
	assert_int_equal(time_parse_rfc3339("2026-04-12"), 1775952000);
	assert_int_equal(time_parse_rfc3339("2026-13-12T00:00:00Z"), -1);
	assert_int_equal(time_parse_rfc3339("yesterday"), -1);
	assert_int_equal(time_parse_rfc3339("2025-02-10 00:00:00 +0100"),
	    1739142000);
	assert_int_equal(time_parse_rfc3339("2025-02-10T00:00:00+01"),
	    1739142000);
	assert_int_equal(time_parse_rfc3339("2025-02-30T00:00:00Z"), -1);
	assert_int_equal(time_parse_rfc3339("2024-02-29T00:00:00Z"), 1709164800);
	assert_int_equal(time_parse_rfc3339("2025-02-10T00:00:00+25:00"), -1);
	/* RFC 822 and its lax variants */
	assert_int_equal(time_parse_rfc822("Thu, 28 Nov 2024 00:00:00 -0500"),
	    1732770000);
	assert_int_equal(time_parse_rfc822("Thu, 28 Nov 2024 05:00:00 GMT"),
	    1732770000);
	assert_int_equal(time_parse_rfc822("28 Nov 2024 00:00 EST"),
	    1732770000);
	assert_int_equal(time_parse_rfc822("Thu, 28 Nov 24 05:00:00 +0000"),
	    1732770000);
	assert_int_equal(time_parse_rfc822("Thu, 32 Nov 2024 05:00:00 +0000"),
	    -1);
	assert_int_equal(time_parse_any("Thu, 28 Nov 2024 05:00:00 Z"),
	    1732770000);
	{
		char out[32];

		time_format_rfc3339(1732770000, out, sizeof(out));
		assert_string_equal(out, "2024-11-28T05:00:00Z");
		time_format_rfc3339(0, out, sizeof(out));
		assert_string_equal(out, "1970-01-01T00:00:00Z");
		time_format_rfc3339(-1, out, sizeof(out));
		assert_string_equal(out, "1969-12-31T23:59:59Z");
		time_format_rfc3339(951782400, out, sizeof(out));
		assert_string_equal(out, "2000-02-29T00:00:00Z");
		time_format_rfc3339(4102444799LL, out, sizeof(out));
		assert_string_equal(out, "2099-12-31T23:59:59Z");
		/* every day of 1999..2101 against gmtime_r */
		for (long long t = 915148800LL; t < 4133980800LL;
		    t += 86400 + 3671) {
			time_t tt = (time_t)t;
			struct tm tm;
			char want[32];

			gmtime_r(&tt, &tm);
			strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
			time_format_rfc3339(t, out, sizeof(out));
			assert_string_equal(out, want);
		}
	}
}

static void
test_buf_and_strvec(void **state)
{
	struct buf b;
	struct strvec sv;
	char *s;

	(void)state;
	buf_init(&b);
	assert_string_equal(buf_str(&b), "");
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%d,", i);
	assert_true(str_starts(b.data, "0,1,2,"));
	assert_true(str_ends(b.data, "998,999,"));
	s = buf_detach(&b);
	assert_null(b.data);
	free(s);
	strvec_init(&sv);
	strvec_push(&sv, "a");
	strvec_push(&sv, "b");
	assert_true(strvec_contains(&sv, "b"));
	assert_false(strvec_contains(&sv, "c"));
	strvec_release(&sv);
	assert_int_equal(sv.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arxiv_id_table),
		cmocka_unit_test(test_arxiv_id_short_buffer),
		cmocka_unit_test(test_set_arxiv_id_links),
		cmocka_unit_test(test_merge_arxiv_and_hf),
		cmocka_unit_test(test_merge_newer_version),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_from_json_variants),
		cmocka_unit_test(test_utf8_clean),
		cmocka_unit_test(test_collapse_ws),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_buf_and_strvec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
