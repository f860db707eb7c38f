/*
 * fuzz_targets.c: what each fuzz target does with one input, shared by
 * the libFuzzer entry points (tests/fuzz/fuzz_*.c) and the regression
 * replay (tests/unit/test_fuzz_regressions.c).  Besides "no crash, no
 * leak", each target checks the contract its header promises and aborts
 * when it is broken.
 */
#include "fuzz_targets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/conf.h"
#include "feeds/paper.h"
#include "feeds/source.h"
#include "feeds/util.h"

#define FUZZ_ERRLEN		512

static void fuzz_fail(const char *target, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void
fuzz_fail(const char *target, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz: %s: ", target);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static unsigned	soft_count;

unsigned
fuzz_soft_findings(void)
{
	return soft_count;
}

/* A defect that should not stop the fuzzer: counted, printed once. */
static void
fuzz_soft(const char *target, const char *what, const char *text)
{
	static char seen[16][96];
	static size_t n_seen;
	char key[96];

	soft_count++;
	snprintf(key, sizeof(key), "%s: %s", target, what);
	for (size_t i = 0; i < n_seen; i++)
		if (strcmp(seen[i], key) == 0)
			return;
	if (n_seen < 16)
		str_copy(seen[n_seen++], sizeof(seen[0]), key);
	fprintf(stderr, "fuzz: note: %s (%zu bytes), reported once\n", key,
	    strlen(text));
}

/* Valid UTF-8 without C0/C1 controls other than tab, LF and CR. */
static const char *
text_problem(const char *s)
{
	size_t len = strlen(s), i = 0;
	uint32_t cp;

	if (!utf8_valid(s, len))
		return "invalid UTF-8";
	while (i < len) {
		size_t n = utf8_decode(s + i, len - i, &cp);

		if (n == 0)
			return "invalid UTF-8";
		if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
		    (cp >= 0x80 && cp < 0xa0))
			return "a control character";
		i += n;
	}
	return NULL;
}

/* ---- feeds ---------------------------------------------------------- */

struct feed_run {
	const char	*target;
	size_t		 n;		/* papers seen by the callback */
	struct buf	 sig;		/* what they held, for the comparison */
};

static void
check_field(const struct feed_run *r, const char *field, const char *s)
{
	const char *why;

	if (s != NULL && (why = text_problem(s)) != NULL)
		fuzz_fail(r->target, "paper %zu: %s in %s", r->n, why, field);
}

static void
check_strvec(const struct feed_run *r, const char *field,
    const struct strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++) {
		if (sv->v[i] == NULL)
			fuzz_fail(r->target, "paper %zu: NULL in %s", r->n,
			    field);
		check_field(r, field, sv->v[i]);
	}
}

static void
check_paper(const struct feed_run *r, const struct paper *p)
{
	check_field(r, "id", p->id);
	check_field(r, "title", p->title);
	check_field(r, "summary", p->summary);
	check_field(r, "ai_summary", p->ai_summary);
	check_field(r, "primary_category", p->primary_category);
	check_field(r, "url", p->url);
	check_field(r, "url_abs", p->url_abs);
	check_field(r, "url_pdf", p->url_pdf);
	check_field(r, "url_hf", p->url_hf);
	check_field(r, "comment", p->comment);
	check_field(r, "doi", p->doi);
	check_field(r, "journal_ref", p->journal_ref);
	for (size_t i = 0; i < p->n_authors; i++) {
		if (p->authors[i].name == NULL)
			fuzz_fail(r->target, "paper %zu: author %zu has no name",
			    r->n, i);
		check_field(r, "author name", p->authors[i].name);
		check_field(r, "author affiliation",
		    p->authors[i].affiliation);
	}
	check_strvec(r, "categories", &p->categories);
	check_strvec(r, "ai_keywords", &p->ai_keywords);
	check_strvec(r, "sources", &p->sources);
}

static int
feed_cb(struct paper *p, void *arg)
{
	struct feed_run *r = arg;

	check_paper(r, p);
	buf_printf(&r->sig, "%zu|%s|%d|%s|%zu|%zu\n", r->n,
	    p->id ? p->id : "-", p->version, p->title ? p->title : "-",
	    p->summary ? strlen(p->summary) : 0, p->n_authors);
	r->n++;
	paper_free(p);
	return 0;
}

static void
check_info(struct feed_run *r, const struct source_info *info, int rc,
    const char *err)
{
	const char *why;

	if (info->n_items != r->n)
		fuzz_fail(r->target, "info says %zu items, callback saw %zu",
		    info->n_items, r->n);
	if (info->title != NULL && (why = text_problem(info->title)))
		fuzz_fail(r->target, "%s in the feed title", why);
	if (info->link != NULL && (why = text_problem(info->link)))
		fuzz_fail(r->target, "%s in the feed link", why);
	if (memchr(info->warning, '\0', sizeof(info->warning)) == NULL)
		fuzz_fail(r->target, "warning not terminated");
	if (!utf8_valid(info->warning, strlen(info->warning)))
		fuzz_soft(r->target, "warning is not valid UTF-8",
		    info->warning);
	if (rc == -1 && err[0] == '\0')
		fuzz_fail(r->target, "failed without a reason");
	if (rc == -1 && !utf8_valid(err, strlen(err)))
		fuzz_soft(r->target, "error text is not valid UTF-8", err);
}

/* A cheap deterministic generator for the chunk sizes of the re-parse. */
static size_t
next_chunk(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return 1 + (*state >> 16) % 97;
}

/* The same document pushed in small chunks (1..97 bytes). */
static int
parse_chunked(const struct source_type *t, const char *buf, size_t len,
    struct feed_run *r, struct source_info *info, char *err, size_t errlen)
{
	struct source_stream *s = source_stream_new(t, feed_cb, r, info);
	uint32_t seed = (uint32_t)len * 2654435761u;
	int rc = 0;

	while (len > 0 && rc == 0) {
		size_t n = next_chunk(&seed);

		if (n > len)
			n = len;
		rc = source_stream_push(s, buf, n, err, errlen);
		buf += n;
		len -= n;
	}
	if (rc == 0)
		rc = source_stream_end(s, err, errlen);
	source_stream_free(s);
	return rc;
}

static int
fuzz_feed_type(const char *target, const struct source_type *t,
    const uint8_t *data, size_t size)
{
	struct feed_run whole = { target, 0, { NULL, 0, 0 } };
	struct feed_run chunked = { target, 0, { NULL, 0, 0 } };
	struct source_info info;
	char err[FUZZ_ERRLEN] = "", err2[FUZZ_ERRLEN] = "";
	size_t warnings;
	int rc, rc2;

	source_info_init(&info);
	rc = source_parse(t, (const char *)data, size, feed_cb, &whole, &info,
	    err, sizeof(err));
	check_info(&whole, &info, rc, err);
	warnings = info.n_warnings;
	source_info_release(&info);

	source_info_init(&info);
	rc2 = parse_chunked(t, (const char *)data, size, &chunked, &info,
	    err2, sizeof(err2));
	check_info(&chunked, &info, rc2, err2);
	source_info_release(&info);

	/*
	 * Chunking must not change the result of a clean document: valid
	 * UTF-8 that parsed without a warning.  On invalid bytes or
	 * ill-formed XML (read with recovery) libxml2's push parser itself
	 * depends on where the chunks end (an ISO-8859-1 fallback in one
	 * case, a stop in another; text around a stray "]]>"), which is
	 * libxml2's behaviour, reported apart, not checked here.  When both
	 * parses fail, the papers streamed before the error may differ
	 * (a declared encoding such as UTF-7 fails to convert at a point
	 * that depends on the chunks), but the cycle drops every paper of a
	 * failed source, so the outcome is the same: only rc is compared.
	 */
	if (utf8_valid((const char *)data, size) && warnings == 0 &&
	    (rc != rc2 || (rc == 0 && (whole.n != chunked.n ||
	    strcmp(buf_str(&whole.sig), buf_str(&chunked.sig)) != 0))))
		fuzz_fail(target, "whole and chunked parses differ: rc %d/%d, "
		    "%zu/%zu papers, errors '%s' / '%s'", rc, rc2, whole.n,
		    chunked.n, err, err2);
	buf_release(&whole.sig);
	buf_release(&chunked.sig);
	return 0;
}

int
fuzz_one_arxiv_api(const uint8_t *data, size_t size)
{
	return fuzz_feed_type("arxiv_api", &source_arxiv_api, data, size);
}

int
fuzz_one_arxiv_rss(const uint8_t *data, size_t size)
{
	return fuzz_feed_type("arxiv_rss", &source_arxiv_rss, data, size);
}

int
fuzz_one_hf_daily(const uint8_t *data, size_t size)
{
	return fuzz_feed_type("hf_daily", &source_hf_daily, data, size);
}

int
fuzz_one_feed(const uint8_t *data, size_t size)
{
	return fuzz_feed_type("feed", &source_feed, data, size);
}

int
fuzz_one_sniff(const uint8_t *data, size_t size)
{
	return fuzz_feed_type("sniff", NULL, data, size);
}

/* ---- config --------------------------------------------------------- */

static char	conf_dir[64];
static char	conf_path[96];

static void
conf_cleanup(void)
{
	if (conf_path[0] != '\0')
		unlink(conf_path);
	if (conf_dir[0] != '\0')
		rmdir(conf_dir);
}

/* The per-process file: /tmp/pw-fuzz-conf-XXXXXX/paperwatch.conf. */
static const char *
conf_file(void)
{
	if (conf_path[0] != '\0')
		return conf_path;
	str_copy(conf_dir, sizeof(conf_dir), "/tmp/pw-fuzz-conf-XXXXXX");
	if (mkdtemp(conf_dir) == NULL)
		fuzz_fail("config", "mkdtemp: %s", strerror(errno));
	snprintf(conf_path, sizeof(conf_path), "%s/paperwatch.conf",
	    conf_dir);
	atexit(conf_cleanup);
	return conf_path;
}

static void
write_all(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd == -1)
		fuzz_fail("config", "open '%s': %s", path, strerror(errno));
	while (size > 0) {
		ssize_t n = write(fd, data, size);

		if (n <= 0)
			fuzz_fail("config", "write '%s': %s", path,
			    strerror(errno));
		data += n;
		size -= (size_t)n;
	}
	close(fd);
}

int
fuzz_one_config(const uint8_t *data, size_t size)
{
	const char *path = conf_file();
	struct buf errs;
	struct conf *c;

	write_all(path, data, size);
	buf_init(&errs);
	c = conf_load(path, &errs);
	if (c == NULL && errs.len == 0)
		fuzz_fail("config", "rejected without an error message");
	if (c != NULL && c->path == NULL)
		fuzz_fail("config", "loaded without its path");
	if (!utf8_valid(buf_str(&errs), errs.len))
		fuzz_soft("config", "error text is not valid UTF-8",
		    buf_str(&errs));
	conf_free(c);
	buf_release(&errs);
	return 0;
}
