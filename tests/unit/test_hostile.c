/*
 * test_hostile.c: every file in fixtures/hostile (and any file added
 * there later) through both arXiv parsers and through the sniffing path
 * (source_parse with no type).  Each parse must end in a clean error or a
 * safe partial result: bounded time and memory, no external resource
 * opened (a libxml2 input hook records every attempt), nothing of
 * /etc/passwd in any field, valid UTF-8 everywhere, fields within the cap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/resource.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/xmlIO.h>

#include "arxiv_helpers.h"

#define HOSTILE		"hostile/"
#define MAX_SECONDS	10.0
#define MAX_RSS_KB	(256 * 1024)
#define FIELD_CAP	(1024 * 1024)

static int	 n_loads;		/* external loads libxml2 attempted */
static char	 passwd_line[128];	/* first line of /etc/passwd */

/* libxml2 input hook: claim every URI, record it, open nothing. */
static int
hook_match(const char *uri)
{
	(void)uri;
	n_loads++;
	return 1;
}

static void *
hook_open(const char *uri)
{
	(void)uri;
	return NULL;
}

static int
hook_read(void *ctx, char *buf, int len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return -1;
}

static int
hook_close(void *ctx)
{
	(void)ctx;
	return 0;
}

static int
setup(void **state)
{
	FILE *f = fopen("/etc/passwd", "r");

	(void)state;
	if (f != NULL) {
		if (fgets(passwd_line, sizeof(passwd_line), f) == NULL)
			passwd_line[0] = '\0';
		passwd_line[strcspn(passwd_line, "\n")] = '\0';
		fclose(f);
	}
	xmlRegisterInputCallbacks(hook_match, hook_open, hook_read,
	    hook_close);
	return 0;
}

static void
quiet(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
check_string(const char *what, const char *s)
{
	size_t n;

	if (s == NULL)
		return;
	n = strlen(s);
	if (!utf8_valid(s, n))
		fail_msg("%s: invalid UTF-8", what);
	if (n > FIELD_CAP)
		fail_msg("%s: %zu bytes, over the cap", what, n);
	if (passwd_line[0] != '\0' && strstr(s, passwd_line) != NULL)
		fail_msg("%s: holds /etc/passwd", what);
	if (strstr(s, "root:x:0:0") != NULL)
		fail_msg("%s: holds /etc/passwd", what);
}

static void
check_paper(const struct paper *p)
{
	check_string("id", p->id);
	check_string("title", p->title);
	check_string("summary", p->summary);
	check_string("url", p->url);
	check_string("comment", p->comment);
	for (size_t i = 0; i < p->n_authors; i++) {
		check_string("author", p->authors[i].name);
		check_string("affiliation", p->authors[i].affiliation);
	}
	for (size_t i = 0; i < p->categories.n; i++)
		check_string("category", p->categories.v[i]);
}

/* The checks every hostile parse must pass, whatever the parser. */
static void
check_result(const char *label, const struct result *r, double secs)
{
	if (r->rc != 0 && r->rc != -1)
		fail_msg("%s: rc %d", label, r->rc);
	if (r->rc == -1 && r->err[0] == '\0')
		fail_msg("%s: failed without a reason", label);
	check_string("err", r->err);
	check_string("info title", r->info.title);
	check_string("info warning", r->info.warning);
	for (size_t i = 0; i < r->papers.n; i++)
		check_paper(r->papers.v[i]);
	if (secs > MAX_SECONDS)
		fail_msg("%s: took %.1f s", label, secs);
	if (n_loads != 0)
		fail_msg("%s: libxml2 tried to load %d external resources",
		    label, n_loads);
}

static void
run_type(const struct source_type *t, const char *label, const char *buf,
    size_t len, size_t chunk, struct result *r)
{
	double t0 = now();

	n_loads = 0;
	parse_with(t, r, buf, len, chunk, NULL);
	check_result(label, r, now() - t0);
}

static void
run_sniffed(const char *label, const char *buf, size_t len,
    struct result *r)
{
	double t0 = now();

	n_loads = 0;
	paper_list_init(&r->papers);
	source_info_init(&r->info);
	r->err[0] = '\0';
	r->rc = source_parse(NULL, buf, len, collect, r, &r->info, r->err,
	    sizeof(r->err));
	check_result(label, r, now() - t0);
}

/* Every file of the directory, through every path, two chunk sizes. */
static void
test_hostile_every_file(void **state)
{
	char dir[1024], label[1400];
	DIR *d;
	struct dirent *de;
	size_t files = 0;
	struct rusage ru;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/%s", fixture_dir(), HOSTILE);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		struct buf b;
		struct result r = { 0 };
		char name[512];

		if (de->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "%s%s", HOSTILE, de->d_name);
		read_fixture(name, &b);
		for (size_t c = 4096; c <= 65536; c *= 16) {
			snprintf(label, sizeof(label), "%s arxiv-api/%zu", name,
			    c);
			run_type(&source_arxiv_api, label, b.data, b.len, c,
			    &r);
			result_release(&r);
			snprintf(label, sizeof(label), "%s arxiv-rss/%zu", name,
			    c);
			run_type(&source_arxiv_rss, label, b.data, b.len, c,
			    &r);
			result_release(&r);
		}
		snprintf(label, sizeof(label), "%s sniffed", name);
		run_sniffed(label, b.data, b.len, &r);
		result_release(&r);
		buf_release(&b);
		files++;
	}
	closedir(d);
	assert_true(files >= 6);
	getrusage(RUSAGE_SELF, &ru);
	assert_true(ru.ru_maxrss < MAX_RSS_KB);
}

static void
parse_hostile(const struct source_type *t, const char *file,
    struct result *r)
{
	char name[512];

	snprintf(name, sizeof(name), "%s%s", HOSTILE, file);
	n_loads = 0;
	parse_fixture(t, name, r);
	check_result(file, r, 0);
}

/* Entity tricks are refused at the DOCTYPE, before any declaration. */
static void
test_hostile_doctype_refused(void **state)
{
	static const char *const files[] = { "billion_laughs.xml",
	    "xxe_file_etc_passwd.xml" };
	static const struct source_type *const types[] = { &source_arxiv_api,
	    &source_arxiv_rss };
	struct result r = { 0 };

	(void)state;
	for (size_t i = 0; i < 2; i++)
		for (size_t j = 0; j < 2; j++) {
			parse_hostile(types[j], files[i], &r);
			assert_int_equal(r.rc, -1);
			assert_int_equal(r.papers.n, 0);
			assert_non_null(strstr(r.err, "DOCTYPE"));
			result_release(&r);
		}
}

static void
test_hostile_deep_nesting(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_hostile(&source_arxiv_rss, "deep_nesting_100k.xml", &r);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "nested deeper than 256"));
	result_release(&r);
	parse_hostile(&source_arxiv_api, "deep_nesting_100k.xml", &r);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "not an arXiv API response"));
	result_release(&r);
}

/* Cut inside the 2nd entry: an error, the complete 1st entry at most. */
static void
test_hostile_truncated(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_hostile(&source_arxiv_api, "truncated_atom_mid_entry.xml", &r);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "truncated"));
	assert_int_equal(r.papers.n, 1);
	assert_string_equal(r.papers.v[0]->id, "2502.00001");
	assert_string_equal(r.papers.v[0]->title, "First entry is complete");
	result_release(&r);
}

static void
test_hostile_invalid_utf8(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_hostile(&source_arxiv_rss, "invalid_utf8_in_title.xml", &r);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "UTF-8"));
	result_release(&r);
}

/* 1.5 MB in one text node: cut at the field cap, in linear time. */
static void
test_hostile_huge_text(void **state)
{
	struct result r = { 0 };
	struct source_limits lim = { .max_field = 4096 };
	struct buf b;

	(void)state;
	parse_hostile(&source_arxiv_rss, "huge_text_node_1_5MB.xml", &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 0);	/* no arXiv id: skipped */
	assert_true(r.info.n_warnings >= 1);
	assert_non_null(strstr(r.info.warning, "cut at 1048576 bytes"));
	result_release(&r);

	/* the same with the item made an arXiv paper: summary capped */
	read_fixture(HOSTILE "huge_text_node_1_5MB.xml", &b);
	buf_replace_all(&b, "<title>huge description</title>",
	    "<title>huge description</title>"
	    "<link>https://arxiv.org/abs/2502.00001</link>");
	n_loads = 0;
	parse_with(&source_arxiv_rss, &r, b.data, b.len, 65536, &lim);
	check_result("huge arXiv item", &r, 0);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.papers.n, 1);
	assert_string_equal(r.papers.v[0]->id, "2502.00001");
	assert_true(strlen(r.papers.v[0]->summary) <= 4096);
	assert_true(strlen(r.papers.v[0]->summary) > 4000);
	assert_true(r.info.n_warnings >= 1);
	result_release(&r);
	buf_release(&b);
}

/*
 * The detector itself: libxml2 told to expand entities (what the parsers
 * never do) does try to load file:///etc/passwd, and the hook sees it.
 */
static void
test_hostile_detector_works(void **state)
{
	struct buf b;
	xmlDocPtr doc;

	(void)state;
	read_fixture(HOSTILE "xxe_file_etc_passwd.xml", &b);
	n_loads = 0;
	xmlSetGenericErrorFunc(NULL, quiet);
	doc = xmlReadMemory(b.data, (int)b.len, "xxe.xml", NULL,
	    XML_PARSE_NOENT | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlSetGenericErrorFunc(NULL, NULL);
	xmlFreeDoc(doc);
	assert_true(n_loads > 0);
	n_loads = 0;
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_every_file),
		cmocka_unit_test(test_hostile_doctype_refused),
		cmocka_unit_test(test_hostile_deep_nesting),
		cmocka_unit_test(test_hostile_truncated),
		cmocka_unit_test(test_hostile_invalid_utf8),
		cmocka_unit_test(test_hostile_huge_text),
		cmocka_unit_test(test_hostile_detector_works),
	};
	int rc;

	rc = cmocka_run_group_tests(tests, setup, NULL);
	xmlCleanupParser();
	return rc;
}
