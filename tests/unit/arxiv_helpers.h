/*
 * arxiv_helpers.h: fixture loading and chunked parsing shared by
 * test_arxiv_api.c, test_arxiv_rss.c and test_hostile.c.  Include after
 * cmocka.h.  Static functions: each test file gets its own copy.
 */
#ifndef PW_TESTS_ARXIV_HELPERS_H
#define PW_TESTS_ARXIV_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/paper.h"
#include "feeds/source.h"
#include "feeds/util.h"

/* Not every test file uses every helper. */
#define HELPER	static __attribute__((unused))

struct result {
	struct paper_list	papers;
	struct source_info	info;
	int			rc;
	char			err[512];
	size_t			stop_after;	/* callback fails after n; 0 never */
	size_t			seen_before_end; /* papers before end() */
};

HELPER int
collect(struct paper *p, void *arg)
{
	struct result *r = arg;

	paper_list_push_take(&r->papers, p);
	if (r->stop_after != 0 && r->papers.n >= r->stop_after)
		return -1;
	return 0;
}

HELPER const char *
fixture_dir(void)
{
	const char *dir = getenv("FIXTURES");

	return dir != NULL ? dir : "tests/fixtures";
}

HELPER void
read_fixture(const char *name, struct buf *b)
{
	char path[1024], err[256];

	snprintf(path, sizeof(path), "%s/%s", fixture_dir(), name);
	buf_init(b);
	if (file_read_all(path, 8u << 20, b, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

/*
 * Parse buf with t in chunks of chunk bytes (limits lim, may be NULL).
 * r must be zeroed by the caller (struct result r = { 0 }), apart from
 * stop_after when a test wants the callback to stop the parse.
 */
HELPER void
parse_with(const struct source_type *t, struct result *r, const char *buf,
    size_t len, size_t chunk, const struct source_limits *lim)
{
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
	r->seen_before_end = r->papers.n;
	if (r->rc == 0)
		r->rc = t->end(st, r->err, sizeof(r->err));
	t->free(st);
}

/* Parse fixture name with t in 64 KiB chunks. */
HELPER void
parse_fixture(const struct source_type *t, const char *name,
    struct result *r)
{
	struct buf b;

	read_fixture(name, &b);
	parse_with(t, r, b.data, b.len, 64 * 1024, NULL);
	buf_release(&b);
}

HELPER void
result_release(struct result *r)
{
	paper_list_release(&r->papers);
	source_info_release(&r->info);
}

/* The paper with id, or NULL. */
HELPER const struct paper *
find_paper(const struct result *r, const char *id)
{
	for (size_t i = 0; i < r->papers.n; i++)
		if (r->papers.v[i]->id != NULL &&
		    strcmp(r->papers.v[i]->id, id) == 0)
			return r->papers.v[i];
	return NULL;
}

HELPER bool
has_author(const struct paper *p, const char *name)
{
	for (size_t i = 0; i < p->n_authors; i++)
		if (strcmp(p->authors[i].name, name) == 0)
			return true;
	return false;
}

/* Every paper as JSON Lines, for comparing two parses. */
HELPER char *
papers_json(const struct result *r)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < r->papers.n; i++) {
		paper_to_json(r->papers.v[i], &b);
		buf_addc(&b, '\n');
	}
	return buf_detach(&b);
}

/* Replace every occurrence of from by to in b (fixture variants). */
HELPER void
buf_replace_all(struct buf *b, const char *from, const char *to)
{
	struct buf out;
	const char *p = buf_str(b), *hit;
	size_t fl = strlen(from);

	buf_init(&out);
	while ((hit = strstr(p, from)) != NULL) {
		buf_add(&out, p, (size_t)(hit - p));
		buf_adds(&out, to);
		p = hit + fl;
	}
	buf_adds(&out, p);
	buf_release(b);
	*b = out;
}

#endif
