/*
 * test_latex.c: LaTeX accent macros to Unicode (feeds/latex.c), with the
 * names of issue 3 and of fixtures/arxiv-rss, and LaTeX that must stay.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "feeds/latex.h"
#include "feeds/util.h"

struct tcase {
	const char	*in;
	const char	*want;
};

static void
check_cases(const struct tcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *got = latex_accents_str(c[i].in);

		if (strcmp(got, c[i].want) != 0)
			fail_msg("'%s': got '%s', want '%s'", c[i].in, got,
			    c[i].want);
		assert_true(utf8_valid(got, strlen(got)));
		free(got);
	}
}

/* The examples of issue 3, as arXiv writes them in dc:creator. */
static void
test_latex_issue_names(void **state)
{
	static const struct tcase c[] = {
		{ "Przemys{\\l}aw", "Przemysław" },
		{ "R\\'emy", "Rémy" },
		{ "Mu\\~noz", "Muñoz" },
		{ "\\.Zygierewicz", "Żygierewicz" },
		{ "Zi\\k{e}ba", "Zięba" },
		{ "Sj{\\o}rup", "Sjørup" },
	};

	(void)state;
	check_cases(c, sizeof(c) / sizeof(c[0]));
}

/* Names found in fixtures/arxiv-rss (excerpt A). */
static void
test_latex_fixture_names(void **state)
{
	static const struct tcase c[] = {
		{ "Jaros{\\l}aw \\.Zygierewicz", "Jarosław Żygierewicz" },
		{ "Serdar Kad{\\i}o\\u{g}lu", "Serdar Kadıoğlu" },
		{ "Sofie Castro Holb{\\ae}k", "Sofie Castro Holbæk" },
		{ "Rasmus Mar{\\aa}k", "Rasmus Maråk" },
		{ "V\\'aclav Vavry\\v{c}uk", "Václav Vavryčuk" },
		{ "S. \\v{S}timac", "S. Štimac" },
		{ "Marc Aragon\\`es Fontbot\\'e", "Marc Aragonès Fontboté" },
		{ "Lo\\\"ic Herviou", "Loïc Herviou" },
		{ "J\\\"org F. Unger", "Jörg F. Unger" },
		{ "Alejandro C\\'ardenas-Avenda\\~no",
		    "Alejandro Cárdenas-Avendaño" },
		{ "J. C Mart\\'inez", "J. C Martínez" },
		{ "B\\'ereng\\`ere Nihoul", "Bérengère Nihoul" },
	};

	(void)state;
	check_cases(c, sizeof(c) / sizeof(c[0]));
}

/* Every accent form: braced, unbraced, grouped, with \i, spaced. */
static void
test_latex_accent_forms(void **state)
{
	static const struct tcase c[] = {
		{ "{\\\"u}", "ü" }, { "\\\"{u}", "ü" }, { "\\\"u", "ü" },
		{ "\\c{c}", "ç" }, { "\\c c", "ç" }, { "Fran\\c cois", "François" },
		{ "\\v{s}", "š" }, { "\\v s", "š" }, { "\\H{o}", "ő" },
		{ "\\r{u}", "ů" }, { "\\d{s}", "ṣ" }, { "\\={a}", "ā" },
		{ "\\^{e}", "ê" }, { "\\`a", "à" }, { "\\u{a}", "ă" },
		{ "\\.{I}", "İ" }, { "{\\'E}cole", "École" },
		{ "\\'\\i", "í" }, { "\\'{\\i}", "í" }, { "{\\\"\\i}", "ï" },
		/* no precomposed form: letter + combining mark */
		{ "\\~{x}", "x\xcc\x83" },
	};

	(void)state;
	check_cases(c, sizeof(c) / sizeof(c[0]));
}

static void
test_latex_letters(void **state)
{
	static const struct tcase c[] = {
		{ "\\ss", "ß" }, { "Stra\\ss e", "Straße" }, { "\\ss{}x", "ßx" },
		{ "\\aa", "å" }, { "\\AA ngstr\\\"om", "Ångström" },
		{ "\\ae", "æ" }, { "\\AE", "Æ" }, { "\\oe uvre", "œuvre" },
		{ "\\o", "ø" }, { "\\O", "Ø" }, { "\\l", "ł" }, { "\\L ukasz",
		    "Łukasz" }, { "\\i", "ı" }, { "{\\o}", "ø" },
	};

	(void)state;
	check_cases(c, sizeof(c) / sizeof(c[0]));
}

/* LaTeX that is not an accent stays exactly as written. */
static void
test_latex_kept(void **state)
{
	static const struct tcase c[] = {
		{ "$1\\times1$ convolutions", "$1\\times1$ convolutions" },
		{ "see \\href{https://x.org/a_b}{here}",
		    "see \\href{https://x.org/a_b}{here}" },
		{ "$\\kappa$-deformed", "$\\kappa$-deformed" },
		{ "$\\omega$, $\\lambda$, \\cdot, \\beta, \\delta, \\underline",
		    "$\\omega$, $\\lambda$, \\cdot, \\beta, \\delta, \\underline" },
		{ "{B}ayesian {\\em emphasis}", "{B}ayesian {\\em emphasis}" },
		{ "line\\\\break", "line\\\\break" },
		{ "regex \\d+ and \\b and \\u00e9", "regex \\d+ and \\b and \\u00e9" },
		{ "\\v{}", "\\v{}" }, { "\\'{}", "\\'{}" },
		/* \d \b \r take braces only; symbol accents no space */
		{ "\\d s", "\\d s" }, { "\\r n", "\\r n" },
		{ "say \\\" a", "say \\\" a" },
		{ "", "" }, { "plain", "plain" }, { "Müller", "Müller" },
	};

	(void)state;
	check_cases(c, sizeof(c) / sizeof(c[0]));
}

/* Macros cut at the end of the text: copied, never read past the end. */
static void
test_latex_truncated(void **state)
{
	static const char *const in[] = {
		"\\", "x\\", "\\'", "\\v", "\\v{", "\\v{s", "{\\", "{\\'e",
		"{\\o", "\\\"{\\i", "\\c ",
	};
	struct buf b;

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		size_t n = strlen(in[i]);
		char *copy = malloc(n);	/* no terminator: ASan sees overreads */

		assert_non_null(copy);
		memcpy(copy, in[i], n);
		buf_init(&b);
		latex_accents(&b, copy, n);
		assert_true(utf8_valid(buf_str(&b), b.len));
		assert_false(latex_has_macro(copy, n) &&
		    strcmp(buf_str(&b), in[i]) == 0);
		buf_release(&b);
		free(copy);
	}
}

static void
test_latex_has_macro(void **state)
{
	(void)state;
	assert_true(latex_has_macro("R\\'emy", 7));
	assert_true(latex_has_macro("Sj{\\o}rup", 9));
	assert_true(latex_has_macro("a \\ss b", 7));
	assert_false(latex_has_macro("$\\kappa$ and $\\omega$", 21));
	assert_false(latex_has_macro("line\\\\'x", 8));
	assert_false(latex_has_macro("no macro", 8));
	assert_false(latex_has_macro("\\v{}", 4));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_latex_issue_names),
		cmocka_unit_test(test_latex_fixture_names),
		cmocka_unit_test(test_latex_accent_forms),
		cmocka_unit_test(test_latex_letters),
		cmocka_unit_test(test_latex_kept),
		cmocka_unit_test(test_latex_truncated),
		cmocka_unit_test(test_latex_has_macro),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
