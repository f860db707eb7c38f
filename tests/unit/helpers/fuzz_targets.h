/*
 * fuzz_targets.h: the "one input" function of every fuzz target.  The
 * libFuzzer entry points in tests/fuzz/fuzz_*.c are one-line wrappers
 * around these, and tests/unit/test_fuzz_regressions.c replays saved
 * inputs through the very same functions (built with gcc, no libFuzzer),
 * so a crash found once stays fixed.
 *
 * Each function takes any bytes (not NUL-terminated), never fails
 * softly on a broken invariant: it prints "fuzz: TARGET: what" to stderr
 * and calls abort(), which libFuzzer and cmocka both report.  Returns 0.
 */
#ifndef PW_TESTS_UNIT_HELPERS_FUZZ_TARGETS_H
#define PW_TESTS_UNIT_HELPERS_FUZZ_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* source_parse with the type forced, plus a chunked re-parse. */
int	fuzz_one_arxiv_api(const uint8_t *data, size_t size);
int	fuzz_one_arxiv_rss(const uint8_t *data, size_t size);
int	fuzz_one_hf_daily(const uint8_t *data, size_t size);
int	fuzz_one_feed(const uint8_t *data, size_t size);
/* source_parse with the type sniffed. */
int	fuzz_one_sniff(const uint8_t *data, size_t size);
/* conf_load of the input written to a per-process file under /tmp. */
int	fuzz_one_config(const uint8_t *data, size_t size);
/*
 * The targets other modules' owners write (tests/fuzz/fuzz_query.c,
 * fuzz_render.c, fuzz_mail_header.c, fuzz_digest.c): their LLVMFuzzerTestOneInput,
 * compiled under these names by tests/unit/helpers/fuzz_ext_*.c while the
 * file exists (fuzz_present_NAME says so); a no-op otherwise.
 */
int	fuzz_one_query(const uint8_t *data, size_t size);
int	fuzz_one_render(const uint8_t *data, size_t size);
int	fuzz_one_mail_header(const uint8_t *data, size_t size);
int	fuzz_one_digest(const uint8_t *data, size_t size);
extern const bool fuzz_present_query;
extern const bool fuzz_present_render;
extern const bool fuzz_present_mail_header;
extern const bool fuzz_present_digest;

struct fuzz_target {
	const char	*name;		/* "arxiv_api": tests/fuzz/fuzz_NAME.c */
	int		(*one)(const uint8_t *data, size_t size);
	const bool	*present;	/* false: its file is not written yet */
};

/* Every target, NULL-terminated (name NULL). */
extern const struct fuzz_target fuzz_targets[];

/* The target called name, or NULL. */
const struct fuzz_target *fuzz_target_find(const char *name);

/*
 * Count of "soft" findings so far: defects worth a report that do not
 * stop the fuzzer (an error or warning text that is not valid UTF-8).
 * Each distinct kind is printed once to stderr.
 */
unsigned	fuzz_soft_findings(void);

#endif
