/*
 * filter_bench.c: keyword filtering speed, the automaton (match_paper)
 * against a naive per-keyword substring scan in C.
 *
 * Usage: filter_bench ATOM.xml SUBS.tsv [--repeat R] [--naive-pairs P]
 *
 * ATOM.xml comes from bench/gen/gen_arxiv_atom.py and is read with the
 * project's own parser (a source_stream, type sniffed: arxiv-api, fed 1 MiB
 * at a time, so the file is never whole in memory); SUBS.tsv from
 * bench/gen/gen_subscriptions.py, rows "subscriber<TAB>any|author<TAB>term"
 * with consecutive rows of one subscriber.  Each subscriber becomes one
 * match_spec: its "any" rows its keywords, its "author" rows the query
 * author:"A" OR author:"B" ...
 *
 * Timed in CPU seconds (CLOCK_PROCESS_CPUTIME_ID, parse excluded; the
 * wall clock of the matcher runs is printed too): match_new once;
 * match_paper over every paper, R times (median); the naive scan:
 * lower-case title + " " + abstract and the joined author list per paper,
 * then strstr() of every lower-cased row, a subscriber matching when any
 * of its rows does.  The
 * naive scan runs over the first papers only, so that papers x rows stays
 * under P (default 2e7), and its time is scaled to all papers (printed
 * as such).  Output: one line of key=value pairs (bench/filter.sh reads it).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "daemon/match.h"
#include "feeds/paper.h"
#include "feeds/source.h"
#include "feeds/util.h"

struct row {
	char	*term;		/* lower-cased, for the naive scan */
	bool	 author;
	size_t	 sub;
};

/* A subscriber while the file is read: indexes into the vectors. */
struct subdef {
	size_t	 name;
	size_t	 kw_first;
	size_t	 n_kw;
	size_t	 query;		/* index + 1; 0 for none */
};

struct subs {
	struct row		*rows;
	size_t			 n_rows;
	struct subdef		*defs;
	struct match_spec	*specs;
	size_t			 n_specs;
	struct strvec		 names, queries, kw;	/* owned strings */
	const char		**kwv;			/* pointers into kw */
};

/*
 * CPU time of this (single-threaded) process: on a shared machine the wall
 * clock also counts the time other processes held the core.
 */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long
rss_kib(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return v;
}

static int
add_paper(struct paper *p, void *arg)
{
	paper_list_push_take(arg, p);
	return 0;
}

/* Stream the file through the parser in 1 MiB chunks. */
static void
load_papers(const char *path, struct paper_list *l)
{
	static char chunk[1 << 20];
	char err[256] = "";
	struct source_info info;
	struct source_stream *st;
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc = 0;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	source_info_init(&info);
	st = source_stream_new(NULL, add_paper, l, &info);
	while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = source_stream_push(st, chunk, n, err, sizeof(err));
	if (rc == 0)
		rc = source_stream_end(st, err, sizeof(err));
	if (rc != 0 || ferror(f)) {
		fprintf(stderr, "filter_bench: %s: %s\n", path,
		    err[0] ? err : "read error");
		exit(1);
	}
	source_stream_free(st);
	source_info_release(&info);
	fclose(f);
}

static char *
lower(const char *s)
{
	char *d = xstrdup(s);

	for (char *p = d; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/* Close the subscriber whose keywords are kw[kw_first..], query q. */
static void
end_subscriber(struct subs *s, const char *name, size_t kw_first,
    struct buf *q)
{
	struct subdef *d;

	s->defs = xreallocarray(s->defs, s->n_specs + 1, sizeof(*s->defs));
	d = &s->defs[s->n_specs++];
	strvec_push(&s->names, name);
	d->name = s->names.n - 1;
	d->kw_first = kw_first;
	d->n_kw = s->kw.n - kw_first;
	d->query = 0;
	if (q->len > 0) {
		strvec_push(&s->queries, buf_str(q));
		d->query = s->queries.n;
	}
	buf_reset(q);
}

/* The specs, once the vectors have stopped growing. */
static void
make_specs(struct subs *s)
{
	s->kwv = xcalloc(s->kw.n + 1, sizeof(*s->kwv));
	for (size_t i = 0; i < s->kw.n; i++)
		s->kwv[i] = s->kw.v[i];
	s->specs = xcalloc(s->n_specs + 1, sizeof(*s->specs));
	for (size_t i = 0; i < s->n_specs; i++) {
		const struct subdef *d = &s->defs[i];

		s->specs[i].name = s->names.v[d->name];
		s->specs[i].keywords = s->kwv + d->kw_first;
		s->specs[i].n_keywords = d->n_kw;
		if (d->query != 0)
			s->specs[i].query = s->queries.v[d->query - 1];
	}
}

static void
load_subs(const char *path, struct subs *s)
{
	FILE *f = fopen(path, "r");
	char line[4096], cur[256] = "", *field, *term, *nl;
	size_t kw_first = 0;
	struct buf q;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	memset(s, 0, sizeof(*s));
	strvec_init(&s->names);
	strvec_init(&s->queries);
	strvec_init(&s->kw);
	buf_init(&q);
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if ((field = strchr(line, '\t')) == NULL ||
		    (term = strchr(field + 1, '\t')) == NULL)
			continue;
		*field++ = '\0';
		*term++ = '\0';
		if (strcmp(line, cur) != 0) {
			if (cur[0] != '\0')
				end_subscriber(s, cur, kw_first, &q);
			str_copy(cur, sizeof(cur), line);
			kw_first = s->kw.n;
		}
		s->rows = xreallocarray(s->rows, s->n_rows + 1,
		    sizeof(*s->rows));
		s->rows[s->n_rows].term = lower(term);
		s->rows[s->n_rows].author = strcmp(field, "author") == 0;
		s->rows[s->n_rows++].sub = s->n_specs;
		if (strcmp(field, "author") == 0 && strchr(term, '"') == NULL)
			buf_printf(&q, "%sauthor:\"%s\"", q.len ? " OR " : "",
			    term);
		else if (strcmp(field, "author") != 0)
			strvec_push(&s->kw, term);
	}
	if (cur[0] != '\0')
		end_subscriber(s, cur, kw_first, &q);
	fclose(f);
	buf_release(&q);
	make_specs(s);
}

static void
count_cb(const struct match_result *r, void *arg)
{
	(void)r;
	(*(size_t *)arg)++;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The naive scan of papers [0, n): (paper, subscriber) matches. */
static size_t
naive(const struct paper_list *l, size_t n, const struct subs *s)
{
	size_t matches = 0, *seen = xcalloc(s->n_specs + 1, sizeof(*seen));
	struct buf text, au;

	buf_init(&text);
	buf_init(&au);
	for (size_t i = 0; i < n; i++) {
		const struct paper *p = l->v[i];

		buf_reset(&text);
		buf_reset(&au);
		buf_printf(&text, "%s %s", p->title ? p->title : "",
		    p->summary ? p->summary : "");
		for (size_t j = 0; j < p->n_authors; j++)
			buf_printf(&au, "%s%s", j ? ", " : "",
			    p->authors[j].name);
		buf_adds(&au, "");
		for (char *c = text.data; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		for (char *c = au.data; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		for (size_t r = 0; r < s->n_rows; r++) {
			const struct row *w = &s->rows[r];

			if (seen[w->sub] == i + 1)
				continue;
			if (strstr(w->author ? au.data : text.data,
			    w->term) != NULL) {
				seen[w->sub] = i + 1;
				matches++;
			}
		}
	}
	buf_release(&text);
	buf_release(&au);
	free(seen);
	return matches;
}

static double
time_matcher(struct matcher *m, const struct paper_list *l, size_t n,
    size_t *matches, double *wall_s)
{
	double t0 = now(), w0 = wall();

	*matches = 0;
	for (size_t i = 0; i < n; i++)
		match_paper(m, l->v[i], "arxiv", count_cb, matches);
	if (wall_s != NULL)
		*wall_s = wall() - w0;
	return now() - t0;
}

int
main(int argc, char **argv)
{
	struct paper_list papers;
	struct subs subs;
	struct matcher *m;
	struct match_stats st;
	struct rusage ru;
	double t0, build, med, naive_s, *runs, *walls;
	size_t repeat = 3, naive_pairs = 20000000, matches = 0, nn, nm,
	    sample_matches;
	long rss_papers, rss_built;
	char err[512];

	if (argc < 3) {
		fprintf(stderr, "usage: filter_bench ATOM.xml SUBS.tsv "
		    "[--repeat R] [--naive-pairs P]\n");
		return 2;
	}
	for (int i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--repeat") == 0)
			repeat = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--naive-pairs") == 0)
			naive_pairs = strtoul(argv[i + 1], NULL, 10);
	}
	if (repeat == 0)
		repeat = 1;
	paper_list_init(&papers);
	load_papers(argv[1], &papers);
	load_subs(argv[2], &subs);
	rss_papers = rss_kib("VmRSS:");

	t0 = now();
	m = match_new(subs.specs, subs.n_specs, err, sizeof(err), NULL);
	build = now() - t0;
	if (m == NULL) {
		fprintf(stderr, "filter_bench: %s\n", err);
		return 1;
	}
	rss_built = rss_kib("VmRSS:");
	match_stats(m, &st);
	runs = xcalloc(repeat, sizeof(*runs));
	walls = xcalloc(repeat, sizeof(*walls));
	for (size_t r = 0; r < repeat; r++)
		runs[r] = time_matcher(m, &papers, papers.n, &matches,
		    &walls[r]);
	qsort(runs, repeat, sizeof(*runs), cmp_double);
	qsort(walls, repeat, sizeof(*walls), cmp_double);
	med = runs[repeat / 2];

	/* --naive-pairs 0: no naive scan (a later round of filter.sh) */
	nn = naive_pairs / (subs.n_rows ? subs.n_rows : 1);
	nn = naive_pairs == 0 ? 0 : nn < 1 ? 1 : nn > papers.n ? papers.n : nn;
	sample_matches = nm = 0;
	naive_s = 0;
	if (nn > 0) {
		time_matcher(m, &papers, nn, &sample_matches, NULL);
		t0 = now();
		nm = naive(&papers, nn, &subs);
		naive_s = (now() - t0) * (double)papers.n / (double)nn;
	}

	getrusage(RUSAGE_SELF, &ru);
	printf("rows=%zu subscribers=%zu papers=%zu build_s=%.4f "
	    "match_s=%.4f match_wall_s=%.4f runs=%zu matches=%zu "
	    "naive_s=%.3f naive_papers=%zu "
	    "naive_matches=%zu automaton_matches_same=%zu ratio=%.0f "
	    "terms=%zu patterns=%zu states=%zu always=%zu matcher_mib=%.1f "
	    "rss_papers_mib=%.1f rss_matcher_mib=%.1f peak_rss_mib=%.1f\n",
	    subs.n_rows, subs.n_specs, papers.n, build, med,
	    walls[repeat / 2], repeat, matches,
	    naive_s, nn, nm, sample_matches, naive_s / med, st.n_terms,
	    st.n_patterns, st.n_states, st.n_always, st.bytes / 1048576.0,
	    rss_papers / 1024.0, (rss_built - rss_papers) / 1024.0,
	    ru.ru_maxrss / 1024.0);

	free(runs);
	free(walls);
	match_free(m);
	for (size_t i = 0; i < subs.n_rows; i++)
		free(subs.rows[i].term);
	free(subs.rows);
	free(subs.specs);
	free(subs.defs);
	free(subs.kwv);
	strvec_release(&subs.names);
	strvec_release(&subs.queries);
	strvec_release(&subs.kw);
	paper_list_release(&papers);
	return 0;
}
