/*
 * test_arxiv_rss.c: the announcement-feed parser (feeds/arxiv_rss.c)
 * against every file in fixtures/arxiv-rss, with the values listed in
 * fixtures/README.md, plus variants of the capture (no
 * arxiv:announce_type, odd chunk sizes) that must parse the same.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "arxiv_helpers.h"

#define RSS_DIR		"arxiv-rss/"
#define F_EXCERPT	RSS_DIR "rss2024_all_archives_2024-11-28_excerpt_A.xml"
#define F_EMPTY		RSS_DIR "rss2024_empty_channel_test_archive_2024-11-28.xml"
#define F_ERROR		RSS_DIR "rss2024_error_bad_archive_astroph.xml"
#define F_ATOM		RSS_DIR "HANDMADE_atom2024_cs_3_entries.xml"

#define NOV28_EST	1732770000LL	/* Thu, 28 Nov 2024 00:00:00 -0500 */

static const struct source_type *const rss = &source_arxiv_rss;

static void
count_announce(const struct result *r, size_t count[5])
{
	memset(count, 0, 5 * sizeof(count[0]));
	for (size_t i = 0; i < r->papers.n; i++)
		count[r->papers.v[i]->announce]++;
}

static void
test_rss_excerpt_counts(void **state)
{
	struct result r = { 0 };
	size_t count[5];

	(void)state;
	parse_fixture(rss, F_EXCERPT, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 405);
	assert_int_equal(r.info.n_items, 405);
	assert_int_equal(r.info.n_warnings, 0);
	count_announce(&r, count);
	assert_int_equal(count[PAPER_ANNOUNCE_NEW], 300);
	assert_int_equal(count[PAPER_ANNOUNCE_CROSS], 5);
	assert_int_equal(count[PAPER_ANNOUNCE_REPLACE], 100);
	assert_int_equal(count[PAPER_ANNOUNCE_NONE], 0);
	assert_true(str_starts(r.info.title, "astro-ph, cond-mat, physics, "
	    "quant-ph, math, cs,"));
	assert_true(str_starts(r.info.link, "http://rss.arxiv.org/rss/"
	    "astro-ph+cond-mat+"));
	assert_int_equal(r.info.updated, 1732805240);	/* lastBuildDate */
	for (size_t i = 0; i < r.papers.n; i++) {
		const struct paper *p = r.papers.v[i];

		assert_true(p->is_arxiv);
		assert_true(p->version >= 1);
		assert_true(p->n_authors >= 1);
		assert_true(p->categories.n >= 1);
		assert_int_equal(p->published, NOV28_EST);
		assert_null(strstr(p->summary, "Abstract:"));
		assert_null(strstr(p->summary, "Announce Type"));
		assert_true(utf8_valid(p->summary, strlen(p->summary)));
	}
	result_release(&r);
}

static void
test_rss_excerpt_first_last(void **state)
{
	struct result r = { 0 };
	const struct paper *p;

	(void)state;
	parse_fixture(rss, F_EXCERPT, &r);
	assert_int_equal(r.rc, 0);
	p = r.papers.v[0];
	assert_string_equal(p->id, "2411.17700");
	assert_int_equal(p->version, 1);
	assert_string_equal(p->url, "https://arxiv.org/abs/2411.17700");
	assert_string_equal(p->url_pdf, "https://arxiv.org/pdf/2411.17700");
	assert_string_equal(p->title, "Exploring the Impact of Generative AI "
	    "on Cross-Border E-Commerce Brand Building in Chinese Tianjin's "
	    "Manufacturing Sector");
	assert_int_equal(p->n_authors, 1);
	assert_string_equal(p->authors[0].name, "Jun Cui");
	assert_int_equal(p->categories.n, 1);
	assert_string_equal(p->categories.v[0], "cs.CY");
	assert_int_equal(p->announce, PAPER_ANNOUNCE_NEW);
	assert_true(str_starts(p->summary, "This study investigates the "
	    "influence of generative artificial intelligence"));
	assert_true(str_ends(p->summary, "structural equations (PLS-SEM)."));

	p = r.papers.v[r.papers.n - 1];
	assert_string_equal(p->title, "Essential loops in completions of "
	    "Hamiltonian groups");
	assert_string_equal(p->url, "https://arxiv.org/abs/2311.12164");
	assert_string_equal(p->id, "2311.12164");
	assert_int_equal(p->announce, PAPER_ANNOUNCE_REPLACE);
	result_release(&r);
}

/* dc:creator: LaTeX accents decoded, affiliations split off the name. */
static void
test_rss_excerpt_authors(void **state)
{
	struct result r = { 0 };
	const struct paper *p = NULL;
	size_t i, max_authors = 0, total = 0;

	(void)state;
	parse_fixture(rss, F_EXCERPT, &r);
	assert_int_equal(r.rc, 0);
	for (i = 0; i < r.papers.n; i++) {
		const struct paper *q = r.papers.v[i];

		total += q->n_authors;
		if (q->n_authors > max_authors)
			max_authors = q->n_authors;
		for (size_t j = 0; j < q->n_authors; j++) {
			assert_null(strchr(q->authors[j].name, '\\'));
			assert_null(strchr(q->authors[j].name, '('));
			assert_null(strchr(q->authors[j].name, ','));
		}
		if (has_author(q, "Przemysław Olbratowski"))
			p = q;
	}
	assert_non_null(p);
	assert_int_equal(p->n_authors, 8);
	assert_true(has_author(p, "Paweł Niedbalski"));
	assert_string_equal(p->authors[7].name, "Jarosław Żygierewicz");

	/* "Benjamin R\'emy (LEMTA)" */
	for (i = 0; i < r.papers.n && !has_author(r.papers.v[i],
	    "Benjamin Rémy"); i++)
		;
	assert_true(i < r.papers.n);
	p = r.papers.v[i];
	assert_int_equal(p->n_authors, 6);
	assert_string_equal(p->authors[0].name, "Mohammed Riadh Berramdane");
	assert_string_equal(p->authors[0].affiliation, "IFPEN");
	assert_string_equal(p->authors[4].name, "Benjamin Rémy");
	assert_string_equal(p->authors[4].affiliation, "LEMTA");

	/* affiliations holding commas stay whole */
	for (i = 0; i < r.papers.n && !has_author(r.papers.v[i],
	    "Tianliang Yan"); i++)
		;
	assert_true(i < r.papers.n);
	p = r.papers.v[i];
	assert_int_equal(p->n_authors, 8);
	assert_string_equal(p->authors[0].affiliation, "University of "
	    "Birmingham, School of Physics and Astronomy, Birmingham, United "
	    "Kingdom");
	assert_string_equal(p->authors[1].name, "Yubao Liu");

	for (i = 0; i < r.papers.n && !has_author(r.papers.v[i],
	    "Serdar Kadıoğlu"); i++)
		;
	assert_true(i < r.papers.n);
	for (i = 0; i < r.papers.n && !has_author(r.papers.v[i],
	    "Sofie Castro Holbæk"); i++)
		;
	assert_true(i < r.papers.n);
	assert_int_equal(total, 1679);
	result_release(&r);
}

/* LaTeX other than accents is kept in abstracts; accents decoded. */
static void
test_rss_excerpt_latex_text(void **state)
{
	struct result r = { 0 };
	bool times = false, href = false, kappa = false, schr = false;

	(void)state;
	parse_fixture(rss, F_EXCERPT, &r);
	for (size_t i = 0; i < r.papers.n; i++) {
		const char *s = r.papers.v[i]->summary;

		times |= strstr(s, "$1\\times1$") != NULL;
		href |= strstr(s, "\\href{") != NULL;
		kappa |= strstr(s, "\\kappa") != NULL;
		schr |= strstr(s, "Schrödinger") != NULL;
		assert_null(strstr(s, "Schr\\\"odinger"));
	}
	assert_true(times);
	assert_true(href);
	assert_true(kappa);
	assert_true(schr);
	result_release(&r);
}

/* Without arxiv:announce_type the description's "Announce Type:" rules. */
static void
test_rss_announce_from_description(void **state)
{
	struct buf b;
	struct result r = { 0 };
	size_t count[5];

	(void)state;
	read_fixture(F_EXCERPT, &b);
	buf_replace_all(&b, "<arxiv:announce_type>new</arxiv:announce_type>",
	    "");
	buf_replace_all(&b, "<arxiv:announce_type>cross</arxiv:announce_type>",
	    "");
	buf_replace_all(&b,
	    "<arxiv:announce_type>replace</arxiv:announce_type>", "");
	assert_null(strstr(b.data, "announce_type>"));
	parse_with(rss, &r, b.data, b.len, 65536, NULL);
	assert_int_equal(r.rc, 0);
	count_announce(&r, count);
	assert_int_equal(count[PAPER_ANNOUNCE_NEW], 300);
	assert_int_equal(count[PAPER_ANNOUNCE_CROSS], 5);
	assert_int_equal(count[PAPER_ANNOUNCE_REPLACE], 100);
	result_release(&r);
	buf_release(&b);
}

/* A quiet day: zero papers, not an error. */
static void
test_rss_empty_channel(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_fixture(rss, F_EMPTY, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 0);
	assert_string_equal(r.info.title, "test updates on arXiv.org");
	assert_string_equal(r.info.link, "http://rss.arxiv.org/rss/test");
	assert_int_equal(r.info.updated, 1732814588);
	result_release(&r);
}

/* The "Feed error" channel is an error naming the category. */
static void
test_rss_error_channel(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_fixture(rss, F_ERROR, &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.papers.n, 0);
	assert_true(str_starts(r.err, "arXiv feed error for 'astroph': "
	    "Bad archive 'astroph'."));
	result_release(&r);
}

static void
test_rss_atom_form(void **state)
{
	struct result r = { 0 };
	const struct paper *p;

	(void)state;
	parse_fixture(rss, F_ATOM, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 3);
	assert_string_equal(r.info.title, "cs updates on arXiv.org");
	assert_string_equal(r.info.link, "http://rss.arxiv.org/atom/cs");
	assert_int_equal(r.info.updated, 1732770000);
	p = r.papers.v[0];
	assert_string_equal(p->id, "2411.17701");
	assert_int_equal(p->version, 1);
	assert_string_equal(p->title, "Equivalent of Non-Trivial Riemann Zeros "
	    "Condition in Matrix Representation and Particle Anti-Particle "
	    "Symmetry Breaking");
	assert_int_equal(p->n_authors, 1);
	assert_string_equal(p->authors[0].name, "Chee Kian Yap");
	assert_int_equal(p->announce, PAPER_ANNOUNCE_NEW);
	assert_string_equal(p->url, "https://arxiv.org/abs/2411.17701");
	assert_true(str_starts(p->summary, "A Hermitian matrix can be formed"));
	assert_string_equal(p->categories.v[0], "physics.gen-ph");
	assert_int_equal(p->published, NOV28_EST);
	p = r.papers.v[1];
	assert_string_equal(p->id, "2202.06515");
	assert_int_equal(p->version, 3);
	assert_int_equal(p->announce, PAPER_ANNOUNCE_CROSS);
	assert_int_equal(p->categories.n, 3);
	assert_string_equal(p->categories.v[2], "physics.flu-dyn");
	p = r.papers.v[2];
	assert_string_equal(p->id, "1401.3665");
	assert_int_equal(p->announce, PAPER_ANNOUNCE_REPLACE);
	assert_string_equal(p->authors[0].name, "Peter Keevash");
	result_release(&r);
}

static void
test_rss_chunk_sizes(void **state)
{
	static const size_t sizes[] = { 1, 3, 17, 1000, 65536 };
	struct buf b;
	struct result whole, part;
	char *want, *got;

	(void)state;
	read_fixture(F_ATOM, &b);
	parse_with(rss, &whole, b.data, b.len, b.len, NULL);
	assert_int_equal(whole.rc, 0);
	want = papers_json(&whole);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		parse_with(rss, &part, b.data, b.len, sizes[i], NULL);
		assert_int_equal(part.rc, 0);
		got = papers_json(&part);
		assert_string_equal(got, want);
		free(got);
		result_release(&part);
	}
	free(want);
	result_release(&whole);
	buf_release(&b);
}

/* Items are handed over as they end. */
static void
test_rss_streams(void **state)
{
	struct buf b;
	struct result r = { 0 };
	const char *last;

	(void)state;
	read_fixture(F_EXCERPT, &b);
	last = strstr(b.data, "</channel>");
	assert_non_null(last);
	parse_with(rss, &r, b.data, (size_t)(last - b.data), 4096, NULL);
	assert_int_equal(r.seen_before_end, 405);
	assert_int_equal(r.rc, -1);
	result_release(&r);
	buf_release(&b);
}

static void
test_rss_sniff(void **state)
{
	static const char *const files[] = { F_EXCERPT, F_EMPTY, F_ERROR,
	    F_ATOM };
	struct buf b;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t n;

		read_fixture(files[i], &b);
		n = b.len < 4096 ? b.len : 4096;
		if (source_sniff(b.data, n) != rss)
			fail_msg("%s not sniffed as arxiv-rss", files[i]);
		assert_true(rss->sniff(b.data, n) >= 90);
		buf_release(&b);
	}
	read_fixture("arxiv-api/api2026_search_testing_100_entries.xml", &b);
	assert_int_equal(rss->sniff(b.data, 4096), 0);
	buf_release(&b);
	read_fixture("generic/feedrs_rss_2.0_bbc.xml", &b);
	assert_int_equal(rss->sniff(b.data, b.len), 0);
	buf_release(&b);
}

/* An API response given to arxiv-rss is refused, not misread. */
static void
test_rss_wrong_document(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_fixture(rss, "hf-daily/daily_papers_2026-06-12.json", &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.papers.n, 0);
	result_release(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rss_excerpt_counts),
		cmocka_unit_test(test_rss_excerpt_first_last),
		cmocka_unit_test(test_rss_excerpt_authors),
		cmocka_unit_test(test_rss_excerpt_latex_text),
		cmocka_unit_test(test_rss_announce_from_description),
		cmocka_unit_test(test_rss_empty_channel),
		cmocka_unit_test(test_rss_error_channel),
		cmocka_unit_test(test_rss_atom_form),
		cmocka_unit_test(test_rss_chunk_sizes),
		cmocka_unit_test(test_rss_streams),
		cmocka_unit_test(test_rss_sniff),
		cmocka_unit_test(test_rss_wrong_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
