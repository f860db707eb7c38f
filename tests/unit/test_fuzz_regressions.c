/*
 * test_fuzz_regressions.c: replay, without libFuzzer, every input a fuzz
 * target ever failed on (tests/fuzz/regressions/TARGET/, written by
 * tests/fuzz/run.sh) and a curated set of seeds (every hostile fixture,
 * the small captures of each kind, the hand seeds in tests/fuzz/seeds/)
 * through the very function the target runs (tests/unit/helpers/
 * fuzz_targets.h), with its invariants.  A broken invariant aborts; under
 * make check-asan, ASan and UBSan report the rest.
 *
 * Paths: fixtures from $FIXTURES (default tests/fixtures); the rest
 * relative to $PW_SRCDIR (default ".", the repository root that make
 * check runs from).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "feeds/util.h"
#include "helpers/fuzz_targets.h"

/*
 * Under ASan (make check-asan): libconfig 1.5 leaks its scanner buffer on
 * some syntax errors (tests/fuzz/lsan.supp says which); that is its bug,
 * and a config regression input replays it on purpose.
 */
const char *__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

#define REPLAY_MAX_BYTES	(4u << 20)	/* larger inputs are not ours */

/* Where a target's curated inputs come from. */
struct seed_set {
	const char	*target;
	bool		 fixture;	/* under $FIXTURES, else $PW_SRCDIR */
	const char	*dir;
	const char	*suffix;	/* only files ending so; NULL: all */
};

static const struct seed_set seed_sets[] = {
	{ "arxiv_api",	true,	"arxiv-api",	".xml" },
	{ "arxiv_api",	true,	"hostile",	".xml" },
	{ "arxiv_rss",	true,	"arxiv-rss",	".xml" },
	{ "arxiv_rss",	true,	"hostile",	".xml" },
	{ "hf_daily",	true,	"hf-daily",	".json" },
	{ "hf_daily",	true,	"generic",	".json" },
	{ "hf_daily",	true,	"hostile",	".xml" },
	{ "feed",	true,	"generic",	".xml" },
	{ "feed",	true,	"generic",	".json" },
	{ "feed",	true,	"hostile",	".xml" },
	{ "sniff",	true,	"arxiv-api",	".xml" },
	{ "sniff",	true,	"arxiv-rss",	".xml" },
	{ "sniff",	true,	"hf-daily",	".json" },
	{ "sniff",	true,	"generic",	NULL },
	{ "sniff",	true,	"hostile",	".xml" },
	{ "config",	false,	"etc",		".conf" },
};

static const char *
fixtures_dir(void)
{
	const char *d = getenv("FIXTURES");

	return d != NULL && *d != '\0' ? d : "tests/fixtures";
}

static const char *
src_dir(void)
{
	const char *d = getenv("PW_SRCDIR");

	return d != NULL && *d != '\0' ? d : ".";
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of dir (ending in suffix), sorted; false if no dir. */
static bool
list_dir(const char *dir, const char *suffix, struct strvec *out)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return false;
	while ((e = readdir(d)) != NULL) {
		char *path;
		struct stat st;

		if (e->d_name[0] == '.' ||
		    (suffix != NULL && !str_ends(e->d_name, suffix)))
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			strvec_push_take(out, path);
		else
			free(path);
	}
	closedir(d);
	qsort(out->v, out->n, sizeof(*out->v), name_cmp);
	return true;
}

/*
 * Replay one file through t: in a buffer of exactly its size, so that
 * ASan sees a read past the end as the fuzzer would.
 */
static void
replay_file(const struct fuzz_target *t, const char *path)
{
	char err[256];
	struct buf b;
	uint8_t *data;

	buf_init(&b);
	if (file_read_all(path, REPLAY_MAX_BYTES, &b, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	data = malloc(b.len > 0 ? b.len : 1);
	assert_non_null(data);
	if (b.len > 0)
		memcpy(data, b.data, b.len);
	assert_int_equal(t->one(data, b.len), 0);
	free(data);
	buf_release(&b);
}

static size_t
replay_dir(const struct fuzz_target *t, const char *dir, const char *suffix,
    bool must_exist)
{
	struct strvec files;
	size_t n;

	strvec_init(&files);
	if (!list_dir(dir, suffix, &files) && must_exist)
		fail_msg("cannot read '%s' (run from the repository root, or "
		    "set FIXTURES and PW_SRCDIR)", dir);
	for (size_t i = 0; i < files.n; i++)
		replay_file(t, files.v[i]);
	n = files.n;
	strvec_release(&files);
	return n;
}

/* Every curated seed of the target, then its saved regressions. */
static void
test_replay(void **state)
{
	const struct fuzz_target *t = *state;
	size_t n_seeds = 0, n_reg;
	char *dir;

	if (!*t->present) {
		print_message("# %s: tests/fuzz/fuzz_%s.c not written yet\n",
		    t->name, t->name);
		skip();
	}
	for (size_t i = 0; i < sizeof(seed_sets) / sizeof(seed_sets[0]); i++) {
		const struct seed_set *s = &seed_sets[i];

		if (strcmp(s->target, t->name) != 0)
			continue;
		dir = xasprintf("%s/%s", s->fixture ? fixtures_dir() :
		    src_dir(), s->dir);
		n_seeds += replay_dir(t, dir, s->suffix, true);
		free(dir);
	}
	dir = xasprintf("%s/tests/fuzz/seeds/%s", src_dir(), t->name);
	n_seeds += replay_dir(t, dir, NULL, false);
	free(dir);
	dir = xasprintf("%s/tests/fuzz/regressions/%s", src_dir(), t->name);
	n_reg = replay_dir(t, dir, NULL, false);
	free(dir);
	print_message("# %s: %zu seeds, %zu regression inputs replayed\n",
	    t->name, n_seeds, n_reg);
	/* every target has curated seeds: none means a wrong directory */
	assert_true(n_seeds > 0);
}

int
main(void)
{
	struct CMUnitTest tests[32];
	size_t n = 0;
	int rc;

	memset(tests, 0, sizeof(tests));
	for (size_t i = 0; fuzz_targets[i].name != NULL && n < 32; i++) {
		tests[n] = (struct CMUnitTest){
			.name = xasprintf("test_replay_%s", fuzz_targets[i].name),
			.test_func = test_replay,
			.initial_state = (void *)&fuzz_targets[i],
		};
		n++;
	}
	rc = _cmocka_run_group_tests("fuzz_regressions", tests, n, NULL,
	    NULL);
	if (fuzz_soft_findings() > 0)
		fprintf(stderr, "# %u soft findings (see the notes above)\n",
		    fuzz_soft_findings());
	for (size_t i = 0; i < n; i++)
		free((char *)tests[i].name);
	return rc;
}
