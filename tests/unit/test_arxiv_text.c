/*
 * test_arxiv_text.c: the helpers shared by the arXiv parsers
 * (feeds/arxiv_text.c): field cleaning, dc:creator author lists, link
 * kinds by URL path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "feeds/arxiv_text.h"
#include "feeds/paper.h"
#include "feeds/util.h"

static void
check_clean(const char *in, bool latex, const char *want)
{
	char *got = arxiv_text_clean(in, strlen(in), latex);

	if (strcmp(got, want) != 0)
		fail_msg("'%s': got '%s', want '%s'", in, got, want);
	free(got);
}

static void
test_clean_white_space(void **state)
{
	(void)state;
	check_clean("", false, "");
	check_clean("0", false, "0");
	check_clean("   \n\t ", false, "");
	check_clean("  Quantum Criticality for Extended Nodes on a Bethe "
	    "Lattice in the Large\n  Connectivity Limit", false,
	    "Quantum Criticality for Extended Nodes on a Bethe Lattice in the "
	    "Large Connectivity Limit");
	check_clean("a\r\nb\t\tc  d ", false, "a b c d");
	check_clean("arXiv:2411.17700v1 Announce Type: new \nAbstract: x",
	    false, "arXiv:2411.17700v1 Announce Type: new Abstract: x");
}

static void
test_clean_utf8_and_controls(void **state)
{
	(void)state;
	check_clean("Dirk W\xc3\xbc" "bben", false, "Dirk Wübben");
	check_clean("bad \xc3\x28 byte", false, "bad \xef\xbf\xbd( byte");
	check_clean("lone \x80 cont", false, "lone \xef\xbf\xbd cont");
	check_clean("over \xc0\xaf long", false, "over \xef\xbf\xbd long");
	check_clean("ctl \x01\x02 x", false, "ctl x");
	check_clean("c1 \xc2\x85 x", false, "c1 x");
	/* the same inside long runs (the 8-byte paths) */
	check_clean("abcdefghijklmnop\x7fqrstuvwxyz0123456789", false,
	    "abcdefghijklmnopqrstuvwxyz0123456789");
	check_clean("abcdefghijklmnop\x01qrstuvwxyz0123456789", false,
	    "abcdefghijklmnopqrstuvwxyz0123456789");
	check_clean("Dirk W\xc3\xbc" "bben and then some plain text \xc2\x9f end",
	    false, "Dirk Wübben and then some plain text end");
	check_clean("abcdefgh  ijklmnop        qrstuvwx\n\n  yz", false,
	    "abcdefgh ijklmnop qrstuvwx yz");
	check_clean("abcdefg        hijklmno ", false, "abcdefg hijklmno");
}

/*
 * The fast paths (8-byte words, skipped utf8_clean) against the plain
 * definition, utf8_clean then str_collapse_ws, on random byte strings
 * drawn from an alphabet of the awkward cases.
 */
static void
test_clean_matches_reference(void **state)
{
	static const char alphabet[] = { ' ', ' ', '\n', '\t', 'a', 'b', 'c',
	    'd', '\\', 0x7f, 0x01, (char)0xc3, (char)0xa9, (char)0x85,
	    (char)0xc2, (char)0xe2, (char)0x82, (char)0xac };
	unsigned seed = 12345;
	char in[64];

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t n;
		struct buf ref;
		char *got;

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % sizeof(in);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			/* odd rounds: mostly letters, so whole words pass */
			if (round % 2 && (seed >> 8) % 10 < 8)
				in[i] = (char)('a' + (seed >> 20) % 3);
			else
				in[i] = alphabet[(seed >> 16) %
				    sizeof(alphabet)];
		}
		buf_init(&ref);
		utf8_clean(&ref, in, n);
		buf_addc(&ref, '\0');
		str_collapse_ws(ref.data);
		got = arxiv_text_clean(in, n, false);
		assert_string_equal(got, ref.data);
		assert_true(utf8_valid(got, strlen(got)));
		free(got);
		buf_release(&ref);
	}
}

static void
test_clean_latex(void **state)
{
	(void)state;
	check_clean("Benjamin R\\'emy", true, "Benjamin Rémy");
	check_clean("Benjamin R\\'emy", false, "Benjamin R\\'emy");
	check_clean("Schr\\\"odinger with $\\kappa$\n  and $1\\times1$", true,
	    "Schrödinger with $\\kappa$ and $1\\times1$");
	check_clean("  Sj{\\o}rup  ", true, "Sjørup");
}

struct want_author {
	const char	*name;
	const char	*affil;
};

static void
check_authors(const char *in, const struct want_author *w, size_t n)
{
	struct paper *p = paper_new();
	size_t got = arxiv_text_authors(p, in);

	assert_int_equal(got, n);
	assert_int_equal(p->n_authors, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(p->authors[i].name, w[i].name);
		if (w[i].affil == NULL)
			assert_null(p->authors[i].affiliation);
		else
			assert_string_equal(p->authors[i].affiliation,
			    w[i].affil);
	}
	paper_free(p);
}

/* The example: affiliations with commas are not authors. */
static void
test_authors_affiliations(void **state)
{
	static const struct want_author w1[] = {
		{ "Stefano Noventa", "Methods Center, University of Tuebingen" },
		{ "Roberto Faleh", "Methods Center, University of Tuebingen" },
		{ "Jun Cui", NULL },
	};
	static const struct want_author w2[] = {
		{ "Jiahuei Lin", "Justina" }, { "Dayi Lin", NULL },
	};
	static const struct want_author w3[] = {
		{ "Aaron B. Pearlman", "for The CHIME/FRB Collaboration" },
	};
	static const struct want_author w4[] = {
		{ "A. Person", "Dept. X (Y); Univ Z" },
	};

	(void)state;
	check_authors("Stefano Noventa (Methods Center, University of "
	    "Tuebingen), Roberto Faleh (Methods Center, University of "
	    "Tuebingen), Jun Cui", w1, 3);
	check_authors("Jiahuei Lin (Justina), Dayi Lin", w2, 2);
	check_authors("Aaron B. Pearlman (for The CHIME/FRB Collaboration)",
	    w3, 1);
	/* nested parentheses stay inside; two groups are joined */
	check_authors("A. Person (Dept. X (Y)) (Univ Z)", w4, 1);
}

static void
test_authors_edge_cases(void **state)
{
	static const struct want_author w1[] = {
		{ "A", NULL }, { "B", NULL }, { "C", NULL },
	};
	static const struct want_author w2[] = {
		{ "The ATLAS and CMS Collaborations", NULL },
	};
	static const struct want_author w3[] = {
		{ "A (broken", NULL }, { "B", NULL },
	};

	(void)state;
	check_authors("A, B, and C", w1, 3);
	check_authors(" , A,, B ,C, ", w1, 3);
	check_authors("The ATLAS and CMS Collaborations", w2, 1);
	/* unbalanced parentheses: plain text, commas split */
	check_authors("A (broken, B", w3, 2);
	check_authors("", NULL, 0);
}

static void
test_link_kinds(void **state)
{
	(void)state;
	assert_int_equal(arxiv_text_link_kind("https://arxiv.org/pdf/"
	    "2202.12139v1"), ARXIV_LINK_PDF);
	assert_int_equal(arxiv_text_link_kind("http://arxiv.org/pdf/"
	    "cond-mat/0412498v1"), ARXIV_LINK_PDF);
	assert_int_equal(arxiv_text_link_kind("https://arxiv.org/abs/"
	    "astro-ph/0601001v1"), ARXIV_LINK_ABS);
	assert_int_equal(arxiv_text_link_kind("https://doi.org/10.1109/"
	    "ICSTW55395.2022.00035"), ARXIV_LINK_DOI);
	assert_int_equal(arxiv_text_link_kind("http://dx.doi.org/10.1103/"
	    "PhysRevB.85.115117"), ARXIV_LINK_DOI);
	assert_int_equal(arxiv_text_link_kind("https://arxiv.org/api/query?"
	    "x=/pdf/"), ARXIV_LINK_OTHER);
	assert_int_equal(arxiv_text_link_kind("/pdf/relative"),
	    ARXIV_LINK_OTHER);
	assert_int_equal(arxiv_text_link_kind(NULL), ARXIV_LINK_OTHER);
	assert_string_equal(arxiv_text_doi_from_url("http://dx.doi.org/"
	    "10.1103/PhysRevB.85.115117"), "10.1103/PhysRevB.85.115117");
	assert_null(arxiv_text_doi_from_url("https://arxiv.org/abs/1"));
}

static void
test_count_and_has(void **state)
{
	(void)state;
	assert_int_equal(arxiv_text_count(" 214881 "), 214881);
	assert_int_equal(arxiv_text_count("0"), 0);
	assert_int_equal(arxiv_text_count("-1"), -1);
	assert_int_equal(arxiv_text_count("12x"), -1);
	assert_int_equal(arxiv_text_count(""), -1);
	assert_int_equal(arxiv_text_count("99999999999999999999999"), -1);
	assert_true(arxiv_text_has("abc rss.arxiv.org", 17, "rss.arxiv.org"));
	/* bounded: the match lies past len */
	assert_false(arxiv_text_has("abc rss.arxiv.org", 16, "rss.arxiv.org"));
	assert_false(arxiv_text_has("", 0, "x"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_white_space),
		cmocka_unit_test(test_clean_utf8_and_controls),
		cmocka_unit_test(test_clean_matches_reference),
		cmocka_unit_test(test_clean_latex),
		cmocka_unit_test(test_authors_affiliations),
		cmocka_unit_test(test_authors_edge_cases),
		cmocka_unit_test(test_link_kinds),
		cmocka_unit_test(test_count_and_has),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
