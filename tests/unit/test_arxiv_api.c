/*
 * test_arxiv_api.c: the arXiv API parser (feeds/arxiv_api.c) against every
 * file in fixtures/arxiv-api, with the values fixtures/README.md lists,
 * plus variants of those files (prefixes renamed, links stripped of rel
 * and title, odd chunk sizes) that must parse the same.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "arxiv_helpers.h"

#define API_DIR		"arxiv-api/"
#define F_SEARCH	API_DIR "api2026_search_testing_100_entries.xml"
#define F_EMPTY		API_DIR "api2026_empty_id_0000.0000.xml"
#define F_ERROR		API_DIR "api2026_error_http400_incorrect_id_format.xml"
#define F_ASTRO		API_DIR "api2026_id_astro-ph_0601001_affiliations.xml"
#define F_ZERO		API_DIR "api2026_id_2104.12255v1_title_is_zero.xml"
#define F_TWO		API_DIR "api2026_two_ids_one_missing_nonascii.xml"
#define F_LEG_ID	API_DIR "legacy2016_id_list_1111.2011v2.xml"
#define F_LEG_SEARCH	API_DIR "legacy2016_search_au_del_maestro.xml"
#define F_LEG_QC	API_DIR \
	"legacy2016_search_au_del_maestro_quantum_criticality.xml"

static const struct source_type *const api = &source_arxiv_api;

static bool
is_ascii(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static bool
paper_has_non_ascii(const struct paper *p)
{
	if (!is_ascii(p->title) || !is_ascii(p->summary) ||
	    !is_ascii(p->comment) || !is_ascii(p->journal_ref))
		return true;
	for (size_t i = 0; i < p->n_authors; i++)
		if (!is_ascii(p->authors[i].name) ||
		    !is_ascii(p->authors[i].affiliation))
			return true;
	return false;
}

/* Collapsed text: no line breaks, tabs, double or edge spaces. */
static void
assert_collapsed(const char *s)
{
	size_t n;

	if (s == NULL)
		return;
	n = strlen(s);
	assert_null(strchr(s, '\n'));
	assert_null(strchr(s, '\t'));
	assert_null(strstr(s, "  "));
	if (n > 0) {
		assert_true(s[0] != ' ');
		assert_true(s[n - 1] != ' ');
	}
	assert_true(utf8_valid(s, n));
}

static void
test_api_search_100(void **state)
{
	struct result r = { 0 };
	const struct paper *p;
	size_t non_ascii = 0, max_authors = 0;

	(void)state;
	parse_fixture(api, F_SEARCH, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 100);
	assert_int_equal(r.info.n_items, 100);
	assert_int_equal(r.info.total_results, 214881);
	assert_int_equal(r.info.start_index, 0);
	assert_int_equal(r.info.items_per_page, 100);
	assert_int_equal(r.info.updated, 1776033906);	/* 2026-04-12T22:45:06Z */
	assert_string_equal(r.info.title, "arXiv Query: search_query=all:testing"
	    "&id_list=&start=0&max_results=100");

	p = r.papers.v[0];
	assert_string_equal(p->id, "2202.12139");
	assert_int_equal(p->version, 1);
	assert_true(p->is_arxiv);
	assert_string_equal(p->title, "Testing Deep Learning Models: A First "
	    "Comparative Study of Multiple Testing Techniques");
	assert_int_equal(p->n_authors, 3);
	assert_string_equal(p->authors[0].name, "Mohit Kumar Ahuja");
	assert_null(p->authors[0].affiliation);
	assert_string_equal(p->authors[2].name, "Helge Spieker");
	assert_string_equal(p->primary_category, "cs.SE");
	assert_int_equal(p->categories.n, 2);
	assert_string_equal(p->categories.v[0], "cs.SE");
	assert_string_equal(p->categories.v[1], "cs.LG");
	assert_string_equal(p->url, "https://arxiv.org/abs/2202.12139v1");
	assert_string_equal(p->url_pdf, "https://arxiv.org/pdf/2202.12139v1");
	assert_string_equal(p->url_abs, "https://arxiv.org/abs/2202.12139");
	assert_string_equal(p->doi, "10.1109/ICSTW55395.2022.00035");
	assert_string_equal(p->comment, "Artificial Intelligence in Software "
	    "Testing 2022 workshop @ ICST 2022");
	assert_non_null(strstr(p->journal_ref, "(ICSTW)"));
	assert_int_equal(p->published, 1645715119);
	assert_int_equal(p->updated, 1645715119);
	assert_int_equal(p->announce, PAPER_ANNOUNCE_NONE);
	assert_true(str_starts(p->summary, "Deep Learning (DL) has "
	    "revolutionized"));

	p = find_paper(&r, "2405.13786");
	assert_non_null(p);
	assert_true(has_author(p, "Aurora Ramírez"));
	assert_true(has_author(p, "José Raúl Romero"));
	p = find_paper(&r, "2306.03845");
	assert_non_null(p);
	assert_string_equal(p->title, "$ω$Test: WebView-Oriented Testing for "
	    "Android Applications");
	p = find_paper(&r, "2302.03287");
	assert_non_null(p);
	assert_int_equal(p->version, 3);
	/* 1915 characters, counted as code points */
	{
		size_t cps = 0;

		for (const char *s = p->summary; *s != '\0'; s++)
			cps += ((unsigned char)*s & 0xc0) != 0x80;
		assert_int_equal(cps, 1915);
	}
	p = r.papers.v[99];
	assert_string_equal(p->id, "gr-qc/0103067");
	assert_string_equal(p->title, "Principles of Equivalence: Their Role "
	    "in Gravitation Physics and Experiments that Test Them");

	for (size_t i = 0; i < r.papers.n; i++) {
		p = r.papers.v[i];
		non_ascii += paper_has_non_ascii(p);
		if (p->n_authors > max_authors)
			max_authors = p->n_authors;
		assert_collapsed(p->title);
		assert_collapsed(p->summary);
		assert_non_null(p->url_pdf);
		assert_non_null(strstr(p->url_pdf, "/pdf/"));
		assert_non_null(p->primary_category);
		assert_true(p->published > 0);
	}
	assert_int_equal(non_ascii, 18);
	assert_int_equal(max_authors, 9);
	result_release(&r);
}

static void
test_api_empty(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_fixture(api, F_EMPTY, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 0);
	assert_int_equal(r.info.total_results, 0);
	assert_int_equal(r.info.items_per_page, 100);
	assert_string_equal(r.info.link, "https://arxiv.org/api/query?"
	    "search_query=&start=0&max_results=100&id_list=0000.0000");
	result_release(&r);
}

/* The API's error feed is an error with its message, never a paper. */
static void
test_api_error_feed(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_fixture(api, F_ERROR, &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.papers.n, 0);
	assert_non_null(strstr(r.err, "incorrect id format for abc"));
	assert_string_equal(r.err, "arXiv API error: incorrect id format for "
	    "abc");
	result_release(&r);
}

static void
test_api_old_id_affiliations(void **state)
{
	struct result r = { 0 };
	const struct paper *p;
	static const char *const names[] = { "Andrew Gould", "Susan Dorsher",
	    "B. Scott Gaudi", "Andrzej Udalski" };
	static const char *const affs[] = { "Ohio State", "Ohio State", "CfA",
	    "Warsaw University Observatory" };

	(void)state;
	parse_fixture(api, F_ASTRO, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 1);
	p = r.papers.v[0];
	assert_string_equal(p->id, "astro-ph/0601001");
	assert_int_equal(p->version, 1);
	assert_int_equal(p->n_authors, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(p->authors[i].name, names[i]);
		assert_string_equal(p->authors[i].affiliation, affs[i]);
	}
	assert_string_equal(p->journal_ref, "ActaAstron.56:1-50,2006");
	assert_string_equal(p->primary_category, "astro-ph");
	assert_non_null(strstr(p->summary, "following Gould & Morgan (2003)"));
	assert_non_null(strstr(p->summary, "limit of V_max<17.5."));
	assert_string_equal(p->url_pdf, "https://arxiv.org/pdf/astro-ph/"
	    "0601001v1");
	assert_int_equal(p->published, 1136213878);
	result_release(&r);
}

/* The title "0" is a title. */
static void
test_api_title_zero(void **state)
{
	struct result r = { 0 };
	const struct paper *p;

	(void)state;
	parse_fixture(api, F_ZERO, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 1);
	p = r.papers.v[0];
	assert_string_equal(p->id, "2104.12255");
	assert_string_equal(p->title, "0");
	assert_int_equal(p->n_authors, 1);
	assert_string_equal(p->authors[0].name, "Quan Thoi Minh Nguyen");
	assert_non_null(strstr(p->summary, "$35,000"));
	result_release(&r);
}

static void
test_api_34_authors(void **state)
{
	struct result r = { 0 };
	const struct paper *p;

	(void)state;
	parse_fixture(api, F_TWO, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 1);
	p = r.papers.v[0];
	assert_string_equal(p->id, "1707.08567");
	assert_int_equal(p->version, 1);
	assert_string_equal(p->title, "Proceedings of Workshop AEW10: "
	    "Concepts in Information Theory and Communications");
	assert_int_equal(p->n_authors, 34);
	assert_string_equal(p->authors[0].name, "Kees A. Schouhamer Immink");
	assert_true(has_author(p, "Dirk Wübben"));
	result_release(&r);
}

static void
test_api_legacy_id_list(void **state)
{
	struct result r = { 0 };
	const struct paper *p;

	(void)state;
	parse_fixture(api, F_LEG_ID, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 1);
	assert_int_equal(r.info.total_results, 1);
	assert_int_equal(r.info.items_per_page, 10);
	assert_int_equal(r.info.updated, 1475985600);	/* -04:00 offset */
	assert_string_equal(r.info.title, "ArXiv Query: search_query=&id_list="
	    "1111.2011v2&start=0&max_results=10");
	p = r.papers.v[0];
	assert_string_equal(p->id, "1111.2011");
	assert_int_equal(p->version, 2);
	assert_string_equal(p->title, "Quantum Criticality for Extended Nodes "
	    "on a Bethe Lattice in the Large Connectivity Limit");
	assert_int_equal(p->n_authors, 3);
	assert_string_equal(p->authors[0].name, "James M. Murray");
	assert_string_equal(p->authors[1].name, "Adrian Del Maestro");
	assert_string_equal(p->authors[2].name, "Zlatko Tesanovic");
	assert_string_equal(p->doi, "10.1103/PhysRevB.85.115117");
	assert_string_equal(p->journal_ref, "Phys. Rev. B 85, 115117 (2012)");
	assert_string_equal(p->comment, "8 pages, 3 figures. Published version");
	assert_string_equal(p->primary_category, "cond-mat.str-el");
	assert_int_equal(p->categories.n, 2);
	assert_string_equal(p->categories.v[1], "cond-mat.stat-mech");
	assert_string_equal(p->url, "http://arxiv.org/abs/1111.2011v2");
	assert_string_equal(p->url_pdf, "http://arxiv.org/pdf/1111.2011v2");
	assert_int_equal(p->published, 1320778116);
	assert_int_equal(p->updated, 1333370334);
	assert_true(str_starts(p->summary, "Theoretical description of "
	    "anisotropic systems, such as layered superconductors"));
	assert_collapsed(p->summary);
	result_release(&r);
}

static void
test_api_legacy_search(void **state)
{
	struct result r = { 0 };
	const struct paper *p;
	size_t old_style = 0;

	(void)state;
	parse_fixture(api, F_LEG_SEARCH, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 10);
	assert_int_equal(r.info.total_results, 31);
	p = r.papers.v[0];
	assert_string_equal(p->id, "1201.4869");
	assert_string_equal(p->title, "A Luttinger Liquid Core Inside "
	    "Helium-4 Filled Nanopores");
	assert_string_equal(p->authors[0].name, "Adrian Del Maestro");
	p = r.papers.v[1];
	assert_string_equal(p->id, "cond-mat/0412498");
	assert_int_equal(p->version, 1);
	assert_string_equal(p->url_abs, "https://arxiv.org/abs/cond-mat/"
	    "0412498");
	for (size_t i = 0; i < r.papers.n; i++)
		old_style += strchr(r.papers.v[i]->id, '/') != NULL;
	assert_int_equal(old_style, 4);
	result_release(&r);

	parse_fixture(api, F_LEG_QC, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 2);
	assert_int_equal(r.info.total_results, 2);
	assert_string_equal(r.papers.v[0]->id, "1111.2011");
	assert_int_equal(r.papers.v[0]->version, 2);
	result_release(&r);
}

/* Same papers whatever the chunk size (1 byte included). */
static void
test_api_chunk_sizes(void **state)
{
	static const size_t sizes[] = { 1, 2, 3, 7, 64, 4096 };
	struct buf b;
	struct result whole, part;
	char *want, *got;

	(void)state;
	read_fixture(F_TWO, &b);
	parse_with(api, &whole, b.data, b.len, b.len, NULL);
	assert_int_equal(whole.rc, 0);
	want = papers_json(&whole);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		parse_with(api, &part, b.data, b.len, sizes[i], NULL);
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

/*
 * Parsing is by namespace URI: other prefixes, Atom itself under a
 * prefix, links without rel/title/type and the PDF link first all give
 * the same papers.
 */
static void
test_api_namespaces_not_prefixes(void **state)
{
	struct buf b;
	struct result plain, renamed;
	char *want, *got;

	(void)state;
	read_fixture(F_LEG_ID, &b);
	parse_with(api, &plain, b.data, b.len, 4096, NULL);
	want = papers_json(&plain);

	buf_replace_all(&b, "arxiv:", "ax:");
	buf_replace_all(&b, "xmlns:arxiv=", "xmlns:ax=");
	buf_replace_all(&b, "opensearch:", "os:");
	buf_replace_all(&b, "xmlns:opensearch=", "xmlns:os=");
	/* Atom twice: under prefix a: and as the default namespace */
	buf_replace_all(&b, "<feed xmlns=", "<a:feed xmlns:a="
	    "\"http://www.w3.org/2005/Atom\" xmlns=");
	buf_replace_all(&b, "</feed>", "</a:feed>");
	buf_replace_all(&b, "<entry>", "<a:entry>");
	buf_replace_all(&b, "</entry>", "</a:entry>");
	buf_replace_all(&b, "<title", "<a:title");
	buf_replace_all(&b, "</title>", "</a:title>");
	buf_replace_all(&b, " rel=\"related\"", "");
	buf_replace_all(&b, " rel=\"alternate\"", "");
	buf_replace_all(&b, " title=\"pdf\"", "");
	buf_replace_all(&b, " type=\"application/pdf\"", "");
	buf_replace_all(&b, " type=\"text/html\"", "");
	assert_null(strstr(b.data, "arxiv:"));
	assert_non_null(strstr(b.data, "<a:title>Quantum"));
	parse_with(api, &renamed, b.data, b.len, 4096, NULL);
	assert_int_equal(renamed.rc, 0);
	got = papers_json(&renamed);
	assert_string_equal(got, want);
	assert_int_equal(renamed.info.total_results, 1);
	assert_string_equal(renamed.papers.v[0]->url_pdf,
	    "http://arxiv.org/pdf/1111.2011v2");
	free(got);
	free(want);
	result_release(&plain);
	result_release(&renamed);
	buf_release(&b);
}

/* Papers are handed over as their entries end, not at end(). */
static void
test_api_streams(void **state)
{
	struct buf b;
	struct result r = { 0 };

	(void)state;
	read_fixture(F_SEARCH, &b);
	/* push all but the closing tag: 100 entries already out */
	parse_with(api, &r, b.data, b.len - strlen("</feed>\n"), 4096, NULL);
	assert_int_equal(r.seen_before_end, 100);
	assert_int_equal(r.rc, -1);	/* the document is incomplete */
	assert_non_null(strstr(r.err, "truncated"));
	result_release(&r);
	buf_release(&b);
}

static void
test_api_callback_stop_and_limit(void **state)
{
	struct buf b;
	struct result r = { 0 };
	struct source_limits lim = { .max_items = 5 };

	(void)state;
	read_fixture(F_SEARCH, &b);
	memset(&r, 0, sizeof(r));
	r.stop_after = 3;
	parse_with(api, &r, b.data, b.len, 4096, NULL);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.papers.n, 3);
	assert_non_null(strstr(r.err, "callback"));
	result_release(&r);

	memset(&r, 0, sizeof(r));
	parse_with(api, &r, b.data, b.len, 4096, &lim);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.papers.n, 5);
	assert_non_null(strstr(r.err, "more than 5 entries"));
	result_release(&r);

	/* a field cap cuts long abstracts (on a UTF-8 boundary) */
	lim.max_items = 0;
	lim.max_field = 100;
	memset(&r, 0, sizeof(r));
	parse_with(api, &r, b.data, b.len, 4096, &lim);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 100);
	assert_true(r.info.n_warnings > 0);
	for (size_t i = 0; i < r.papers.n; i++) {
		assert_true(strlen(r.papers.v[i]->summary) <= 100);
		assert_true(utf8_valid(r.papers.v[i]->summary,
		    strlen(r.papers.v[i]->summary)));
	}
	result_release(&r);
	buf_release(&b);
}

/* An RSS document given to arxiv-api is refused, not misread. */
static void
test_api_wrong_document(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_fixture(api, "arxiv-rss/rss2024_empty_channel_test_archive_"
	    "2024-11-28.xml", &r);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "not an arXiv API response"));
	result_release(&r);
}

static void
test_api_sniff(void **state)
{
	static const char *const files[] = { F_SEARCH, F_EMPTY, F_ERROR,
	    F_ASTRO, F_ZERO, F_TWO, F_LEG_ID, F_LEG_SEARCH, F_LEG_QC };
	struct buf b;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t n;

		read_fixture(files[i], &b);
		n = b.len < 4096 ? b.len : 4096;
		if (source_sniff(b.data, n) != api)
			fail_msg("%s not sniffed as arxiv-api", files[i]);
		assert_true(api->sniff(b.data, n) >= 90);
		buf_release(&b);
	}
	read_fixture("arxiv-rss/HANDMADE_atom2024_cs_3_entries.xml", &b);
	assert_int_equal(api->sniff(b.data, b.len), 0);
	buf_release(&b);
	read_fixture("hf-daily/daily_papers_2026-06-12.json", &b);
	assert_int_equal(api->sniff(b.data, 4096), 0);
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api_search_100),
		cmocka_unit_test(test_api_empty),
		cmocka_unit_test(test_api_error_feed),
		cmocka_unit_test(test_api_old_id_affiliations),
		cmocka_unit_test(test_api_title_zero),
		cmocka_unit_test(test_api_34_authors),
		cmocka_unit_test(test_api_legacy_id_list),
		cmocka_unit_test(test_api_legacy_search),
		cmocka_unit_test(test_api_chunk_sizes),
		cmocka_unit_test(test_api_namespaces_not_prefixes),
		cmocka_unit_test(test_api_streams),
		cmocka_unit_test(test_api_callback_stop_and_limit),
		cmocka_unit_test(test_api_wrong_document),
		cmocka_unit_test(test_api_sniff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
