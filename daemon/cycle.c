/*
 * cycle.c: poll -> parse -> store/merge -> match -> digest -> outbox ->
 * deliver.  This is the one place that connects the stages.
 */
#include "cycle.h"

#include <ctype.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../feeds/fetch.h"
#include "../feeds/source.h"
#include "deliver/channel.h"
#include "digest.h"
#include "log.h"
#include "mail.h"
#include "match.h"
#include "schedule.h"

#define CYCLE_MAX_PAGES		50	/* per source and poll */
#define CYCLE_ARXIV_API_PAGE	200	/* entries per API request */
#define CYCLE_ARXIV_INTERVAL	3.0	/* seconds between API requests */
#define CYCLE_DEFAULT_INTERVAL	3600	/* seconds between polls */
#define CYCLE_RETRY_BASE	60	/* first retry after a failed send */
#define CYCLE_RETRY_MAX		(6 * 3600)
#define CYCLE_DIGEST_RETRY	300	/* a digest that failed: again after */
#define CYCLE_OUTBOX_BATCH	200	/* messages read from the outbox at once */
#define CYCLE_OUTBOX_IDS	(25 * CYCLE_OUTBOX_BATCH)	/* ids at once */
#define CYCLE_BG_BATCH		16	/* the same, while digests are made */
#define CYCLE_DIGEST_GROUP	32	/* digests made in one transaction */

struct paper_cache;
struct bg_deliver;

struct cycle {
	/*
	 * Wakes the digest maker: a digest prepared by the digest thread, or
	 * the delivery thread asking for the write turn. Lock order: wake_m,
	 * then bg->m.
	 */
	pthread_mutex_t		 wake_m;
	pthread_cond_t		 wake_cv;
	struct paper_cache	*pcache;	/* cycle_digests: its preparer's */
	struct bg_deliver	*bg;		/* from cycle_digests on */
	bool			 bg_tried;	/* bg_start ran this cycle */
	const struct conf	*conf;
	struct store		*st;
	struct matcher		*matcher;	/* see cycle_matcher */
	pthread_t		 matcher_thread;
	bool			 matcher_building;
	char			 matcher_err[256];
	struct digest_renderer	*renderer;
	struct schedule		*schedules;	/* one per subscription */
	unsigned		 seed;
	const volatile sig_atomic_t *stop;	/* set by a signal handler */
	void			(*tick)(void *arg);	/* watchdog ping */
	void			*tick_arg;
	char			 host[256];	/* Message-ID domain */
};

/* setup */

static char *
templates_dir(const struct conf *c)
{
	const char *env = getenv("PAPERWATCH_DATADIR");
	char exe[4096];
	ssize_t n;

	if (c->data_dir != NULL)
		return xstrdup(c->data_dir);
	if (env != NULL)
		return xasprintf("%s/templates", env);
	if (access(PW_DATADIR "/templates/text.mustache", R_OK) == 0)
		return xstrdup(PW_DATADIR "/templates");
	/*
	 * Beside the binary: installed under another PREFIX than it was
	 * built for (PREFIX/bin -> PREFIX/share/paperwatch/templates), or run
	 * from the build tree (BUILD/paperwatch -> ./templates).
	 */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		static const char *const rel[] = {
			"../share/paperwatch/templates", "../templates" };
		char *slash;

		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			char *d = xasprintf("%s/%s", exe, rel[i]);
			char *f = xasprintf("%s/text.mustache", d);
			bool ok = access(f, R_OK) == 0;

			free(f);
			if (ok)
				return d;
			free(d);
		}
	}
	return xstrdup(PW_DATADIR "/templates");
}

static struct matcher *
build_matcher(const struct conf *c, char *err, size_t errlen)
{
	struct match_spec *specs = xcalloc(c->n_subs + 1, sizeof(*specs));
	struct matcher *m;

	for (size_t i = 0; i < c->n_subs; i++) {
		const struct conf_sub *s = &c->subs[i];

		specs[i].name = s->name;
		specs[i].query = s->query;
		specs[i].keywords = (const char *const *)s->keywords.v;
		specs[i].n_keywords = s->keywords.n;
		specs[i].exclude = (const char *const *)s->exclude.v;
		specs[i].n_exclude = s->exclude.n;
	}
	m = match_new(specs, c->n_subs, err, errlen, NULL);
	free(specs);
	return m;
}

static int spawn(pthread_t *, void *(*)(void *), void *);

static void *
matcher_build_main(void *arg)
{
	struct cycle *cy = arg;

	cy->matcher = build_matcher(cy->conf, cy->matcher_err,
	    sizeof(cy->matcher_err));
	return NULL;
}

/*
 * The matcher. cycle_new builds it in a thread (for 1,000 subscriptions,
 * about 60 ms), so that it overlaps the first fetch: this waits for it.
 * NULL, with why in err, if it could not be built (the config's checks
 * make that unexpected).
 */
static struct matcher *
cycle_matcher(struct cycle *cy, char *err, size_t errlen)
{
	if (cy->matcher_building) {
		pthread_join(cy->matcher_thread, NULL);
		cy->matcher_building = false;
	}
	if (cy->matcher == NULL)
		snprintf(err, errlen, "%s", cy->matcher_err[0] ?
		    cy->matcher_err : "no matcher");
	return cy->matcher;
}

static void
mail_domain(const struct conf *c, char *out, size_t outlen)
{
	const char *at = c->smtp.from ? strrchr(c->smtp.from, '@') : NULL;
	size_t n = 0;

	if (at != NULL) {
		at++;
		while (at[n] && at[n] != '>' && !isspace((unsigned char)at[n]))
			n++;
	}
	if (n > 0 && n < outlen) {
		memcpy(out, at, n);
		out[n] = '\0';
		return;
	}
	if (gethostname(out, outlen) != 0 || out[0] == '\0')
		str_copy(out, outlen, "localhost");
	out[outlen - 1] = '\0';
}

struct cycle *
cycle_new(const struct conf *c, struct store *st, char *err, size_t errlen)
{
	struct cycle *cy = xcalloc(1, sizeof(*cy));
	char *dir;

	cy->conf = c;
	cy->st = st;
	/*
	 * The WAL is copied back into the database when the main thread
	 * would otherwise wait (for the digest thread, or for the delivery
	 * thread at the end), not inside the commit of the ingest or of a
	 * digest group, which the digest and delivery threads wait for.
	 */
	if (st != NULL)
		store_defer_checkpoints(st);
	pthread_mutex_init(&cy->wake_m, NULL);
	pthread_cond_init(&cy->wake_cv, NULL);
	cy->seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	mail_domain(c, cy->host, sizeof(cy->host));
	if (spawn(&cy->matcher_thread, matcher_build_main, cy) == 0)
		cy->matcher_building = true;
	else if ((cy->matcher = build_matcher(c, err, errlen)) == NULL)
		goto fail;
	dir = templates_dir(c);
	cy->renderer = digest_renderer_new(c->template_dir, dir);
	free(dir);
	cy->schedules = xcalloc(c->n_subs + 1, sizeof(*cy->schedules));
	for (size_t i = 0; i < c->n_subs; i++) {
		char e[256];

		if (schedule_parse(c->subs[i].schedule, c->subs[i].timezone,
		    &cy->schedules[i], e, sizeof(e)) == -1) {
			snprintf(err, errlen, "subscription '%s': %s",
			    c->subs[i].name, e);
			goto fail;
		}
	}
	return cy;
fail:
	cycle_free(cy);
	return NULL;
}

static void	bg_finish(struct cycle *, struct cycle_stats *, size_t *,
		    bool *);

void
cycle_free(struct cycle *cy)
{
	size_t unsent = 0;
	bool failed;

	if (cy == NULL)
		return;
	bg_finish(cy, NULL, &unsent, &failed);
	if (cy->matcher_building)
		pthread_join(cy->matcher_thread, NULL);
	match_free(cy->matcher);
	digest_renderer_free(cy->renderer);
	if (cy->schedules != NULL)
		for (size_t i = 0; i < cy->conf->n_subs; i++)
			schedule_release(&cy->schedules[i]);
	free(cy->schedules);
	if (cy->st != NULL)
		store_checkpoint(cy->st, 1);
	pthread_mutex_destroy(&cy->wake_m);
	pthread_cond_destroy(&cy->wake_cv);
	free(cy);
}

void
cycle_set_hooks(struct cycle *cy, const volatile sig_atomic_t *stop,
    void (*tick)(void *arg), void *tick_arg)
{
	cy->stop = stop;
	cy->tick = tick;
	cy->tick_arg = tick_arg;
}

static bool
stopping(const struct cycle *cy)
{
	return cy->stop != NULL && *cy->stop;
}

/* URLs */

static void
url_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-._~:", c) != NULL) {
			buf_addc(b, (char)c);
		} else {
			buf_addc(b, '%');
			buf_addc(b, hex[c >> 4]);
			buf_addc(b, hex[c & 15]);
		}
	}
}

static int
api_page_size(const struct conf_source *s)
{
	return s->max_results < CYCLE_ARXIV_API_PAGE ? s->max_results :
	    CYCLE_ARXIV_API_PAGE;
}

char *
cycle_source_url(const struct conf_source *s, int page)
{
	struct buf b;

	if (s->url != NULL)
		return page == 0 ? xstrdup(s->url) : NULL;
	buf_init(&b);
	if (strcmp(s->type, "arxiv-api") == 0) {
		struct buf q;

		buf_init(&q);
		if (s->query != NULL)
			buf_adds(&q, s->query);
		for (size_t i = 0; s->query == NULL && i < s->categories.n; i++)
			buf_printf(&q, "%scat:%s", i ? " OR " : "",
			    s->categories.v[i]);
		buf_adds(&b, "https://export.arxiv.org/api/query?search_query=");
		url_escape(&b, buf_str(&q));
		buf_printf(&b, "&sortBy=submittedDate&sortOrder=descending"
		    "&start=%d&max_results=%d", page * api_page_size(s),
		    api_page_size(s));
		buf_release(&q);
	} else if (strcmp(s->type, "arxiv-rss") == 0) {
		if (page > 0)
			return NULL;
		buf_adds(&b, "https://rss.arxiv.org/rss/");
		for (size_t i = 0; i < s->categories.n; i++) {
			if (i)
				buf_addc(&b, '+');
			url_escape(&b, s->categories.v[i]);
		}
	} else if (strcmp(s->type, "hf-daily") == 0) {
		buf_adds(&b, "https://huggingface.co/api/daily_papers");
		buf_printf(&b, "?limit=%d&p=%d", s->limit > 0 ? s->limit : 100,
		    page);
		if (s->date != NULL) {
			buf_adds(&b, "&date=");
			url_escape(&b, s->date);
		}
	} else {
		return NULL;
	}
	return buf_detach(&b);
}

/* Whether source s needs another page after page (which gave info). */
static bool
wants_next_page(const struct conf_source *s, int page,
    const struct source_info *info, size_t got_total, size_t got_page)
{
	if (s->url != NULL || page + 1 >= CYCLE_MAX_PAGES || got_page == 0)
		return false;
	if (strcmp(s->type, "arxiv-api") == 0)
		return got_total < (size_t)s->max_results &&
		    info->total_results > (long long)got_total;
	if (strcmp(s->type, "hf-daily") == 0)
		return got_page >= (size_t)(s->limit > 0 ? s->limit : 100);
	return false;
}

/* polling */

/*
 * A poll fetches and parses its sources in a thread of its own (the fetch
 * thread) while the main thread stores and matches each source's papers
 * as they are parsed: on a large feed, parsing took a third of the ingest
 * before anything was stored. The papers of a source wait in its list
 * (the lock below) until the main thread takes them, in the order of the
 * sources; a source is ingested in one transaction, rolled back if its
 * fetch fails in the end, so a failed or partial fetch still marks
 * nothing as seen.
 */
struct poll {
	pthread_mutex_t			 m;
	pthread_cond_t			 cv;
	bool				 threaded;	/* else: fetched
							   before ingested */
	struct poll_src			*awaited;	/* whose papers the
							   ingest waits for */
};

/*
 * The ingest is woken when this many papers wait, or at the end of a
 * page, rather than for each paper (a futex call, often a context switch:
 * 10,000 of them for a 10,000-entry feed).
 */
#define POLL_WAKE	32

struct poll_src {
	struct poll			*poll;
	const struct conf_source	*cs;
	const struct source_type	*type;
	struct fetch_job		 job;
	char				*url;
	struct source_stream		*stream;
	struct source_info		 info;
	struct paper_list		 papers;	/* every page; NULL
							   once taken */
	size_t				 taken;		/* by the ingest */
	size_t				 n_parsed;
	size_t				 page_items;
	int				 page;
	bool				 active;	/* fetched this round */
	bool				 failed;
	bool				 not_modified;
	bool				 done;		/* no more papers: the
							   fields above are
							   final */
	char				 err[256];
	struct store_feed		 feed;
};

static void
poll_lock(struct poll *pl)
{
	if (pl->threaded)
		pthread_mutex_lock(&pl->m);
}

static void
poll_unlock(struct poll *pl)
{
	if (pl->threaded)
		pthread_mutex_unlock(&pl->m);
}

static int
on_paper(struct paper *p, void *arg)
{
	struct poll_src *ps = arg;

	if (p->id == NULL) {		/* an item without any identity */
		paper_free(p);
		return 0;
	}
	poll_lock(ps->poll);
	paper_list_push_take(&ps->papers, p);
	ps->n_parsed++;
	if (ps->poll->awaited == ps && ps->papers.n - ps->taken >= POLL_WAKE)
		pthread_cond_broadcast(&ps->poll->cv);
	poll_unlock(ps->poll);
	ps->page_items++;
	return 0;
}

/* The fetch thread is done with ps: what it set is final. */
static void
poll_src_done(struct poll_src *ps)
{
	poll_lock(ps->poll);
	ps->done = true;
	if (ps->poll->threaded)
		pthread_cond_broadcast(&ps->poll->cv);
	poll_unlock(ps->poll);
}

/* The ingest's next paper of ps (the caller owns it), NULL once done. */
static struct paper *
poll_next(void *arg)
{
	struct poll_src *ps = arg;
	struct poll *pl = ps->poll;
	struct paper *p = NULL;

	poll_lock(pl);
	while (pl->threaded && ps->taken == ps->papers.n && !ps->done) {
		pl->awaited = ps;
		pthread_cond_wait(&pl->cv, &pl->m);
		pl->awaited = NULL;
	}
	if (ps->taken < ps->papers.n) {
		p = ps->papers.v[ps->taken];
		ps->papers.v[ps->taken++] = NULL;
	}
	poll_unlock(pl);
	return p;
}

static int
on_data(struct fetch_job *job, const char *buf, size_t len)
{
	struct poll_src *ps = job->arg;

	if (source_stream_push(ps->stream, buf, len, job->err,
	    sizeof(job->err)) == -1)
		return -1;
	return 0;
}

static bool
host_is_arxiv_api(const char *url)
{
	return strstr(url, "export.arxiv.org/api") != NULL ||
	    strstr(url, "arxiv.org/api/query") != NULL;
}

static void
start_page(struct poll_src *ps)
{
	char *url = cycle_source_url(ps->cs, ps->page);

	free(ps->url);
	ps->url = url;
	source_info_release(&ps->info);
	source_info_init(&ps->info);
	source_stream_free(ps->stream);
	ps->stream = source_stream_new(ps->type, on_paper, ps, &ps->info);
	source_stream_set_base(ps->stream, ps->url);
	ps->page_items = 0;
	fetch_job_release(&ps->job);
	memset(&ps->job, 0, sizeof(ps->job));
	ps->job.url = ps->url;
	ps->job.etag = ps->page == 0 ? ps->feed.etag : NULL;
	ps->job.last_modified = ps->page == 0 ? ps->feed.last_modified : -1;
	ps->job.min_interval = host_is_arxiv_api(url) ? CYCLE_ARXIV_INTERVAL :
	    0;
	ps->job.on_data = on_data;
	ps->job.arg = ps;
	ps->active = true;
}

/* After a round: finish the parse of each active source. */
static void
finish_page(struct poll_src *ps)
{
	struct fetch_job *j = &ps->job;
	char err[256];

	ps->active = false;
	switch (j->status) {
	case FETCH_OK:
		if (source_stream_end(ps->stream, err, sizeof(err)) == -1) {
			ps->failed = true;
			snprintf(ps->err, sizeof(ps->err), "%s", err);
		}
		poll_lock(ps->poll);	/* the page's last papers */
		if (ps->poll->awaited == ps)
			pthread_cond_broadcast(&ps->poll->cv);
		poll_unlock(ps->poll);
		return;
	case FETCH_NOT_MODIFIED:
		ps->not_modified = true;
		return;
	case FETCH_RETRY_LATER:
	case FETCH_FAILED:
		ps->failed = true;
		snprintf(ps->err, sizeof(ps->err), "%s", j->err[0] ? j->err :
		    "fetch failed");
		return;
	}
}

static void
run_rounds(struct cycle *cy, struct poll_src *ps, size_t n)
{
	struct fetch_opts o = {
		.user_agent = cy->conf->user_agent,
		.max_size = cy->conf->max_response_size,
		.timeout = cy->conf->fetch_timeout,
		.stop = cy->stop,
		.tick = cy->tick,
		.tick_arg = cy->tick_arg,
	};
	struct fetch_job **jobs = xcalloc(n + 1, sizeof(*jobs));

	for (int round = 0; round < CYCLE_MAX_PAGES; round++) {
		size_t k = 0;

		for (size_t i = 0; i < n; i++)
			if (ps[i].active)
				jobs[k++] = &ps[i].job;
		if (k == 0 || (round > 0 && stopping(cy)))
			break;
		/* fetch keeps the per-host spacing across runs (pages) */
		fetch_run(&o, jobs, k);
		for (size_t i = 0; i < n; i++) {
			if (!ps[i].active)
				continue;
			finish_page(&ps[i]);
			if (ps[i].failed || ps[i].not_modified)
				continue;
			if (wants_next_page(ps[i].cs, ps[i].page, &ps[i].info,
			    ps[i].n_parsed, ps[i].page_items)) {
				ps[i].page++;
				start_page(&ps[i]);
			}
		}
		for (size_t i = 0; i < n; i++)	/* no next page */
			if (!ps[i].active && !ps[i].done)
				poll_src_done(&ps[i]);
	}
	for (size_t i = 0; i < n; i++)		/* stopped, or out of pages */
		if (!ps[i].done)
			poll_src_done(&ps[i]);
	free(jobs);
}

struct fetch_thread {
	struct cycle		*cy;
	struct poll_src		*ps;
	size_t			 n;
};

static void *
fetch_main(void *arg)
{
	struct fetch_thread *ft = arg;

	run_rounds(ft->cy, ft->ps, ft->n);
	return NULL;
}

static bool
announce_wanted(const struct conf_source *cs, const struct paper *p)
{
	const char *a = paper_announce_name(p->announce);

	if (a == NULL || strcmp(cs->type, "arxiv-rss") != 0)
		return true;
	return strvec_contains(&cs->announce, a);
}

/*
 * The matches of several papers, gathered while they are matched and added
 * together, grouped by subscription, before the transaction ends. Each
 * subscription's rows are a range of the matches table (its key starts
 * with sub), so rows added paper by paper would touch a leaf page of every
 * subscription again for each paper; grouped, each page is visited once a
 * batch. Every batch but the last also costs a pass over the table's pages
 * that the papers stored since pushed out of the page cache (spilled to the
 * WAL, read back, spilled again), so a batch holds the matches of a whole
 * feed up to MATCH_BATCH_ROWS. The rows of a subscription stay in the order
 * of arrival, so INSERT OR IGNORE keeps the same row as when each was added
 * at once; subscriptions go in name order, the table's.
 *
 * A row is 16 bytes, in a list of chunks per subscription: its paper is an
 * index into the papers being ingested (their ids are copied together),
 * its hits an index into the distinct hit lists of the batch (few: the
 * same terms hit many papers), each written out as JSON once. So 262,144
 * rows take about 4.5 MB.
 *
 * A subscription with max_papers = K (and without replacements, whose
 * rows group versions of one paper) keeps only its K best rows of a batch:
 * a digest takes the K best of all its pending matches and drops the rest,
 * and a row that K other papers of its own batch outrank can never be
 * among those. So the rows are kept in a heap of K whose root ranks last
 * (as store_pending ranks: score, then paper id); the others are never
 * written. On the bench's 10,000-paper feed with 1,000 subscriptions of
 * 25 that is 16,616 rows (at most 25,000) instead of 180,494.
 */
#define MATCH_BATCH_ROWS 262144	/* rows held before they are added */
#define MATCH_CHUNK_ROWS 15	/* rows of a chunk: 248 bytes */
#define MATCH_ADD_ROWS	256	/* rows handed to store_add_matches at once */

struct match_row {
	uint32_t		 paper;		/* index in the papers list */
	uint32_t		 hits;		/* index in sets */
	double			 score;
};

struct match_chunk {
	uint32_t		 next;		/* index in chunks; 0: none */
	uint32_t		 n;
	struct match_row	 rows[MATCH_CHUNK_ROWS];
};

/* A distinct list of hits: the matcher's borrowed strings, and its JSON. */
struct hit_set {
	uint64_t		 hash;
	uint32_t		 ptr;		/* first string in hit_ptrs */
	uint32_t		 n;
	uint32_t		 json;		/* offset in json */
};

struct match_batch {
	size_t			 cap_papers;	/* of version and id */
	int			*version;	/* by paper: the merged one's */
	uint32_t		*id;		/* by paper: offset in ids, or
						   UINT32_MAX */
	struct buf		 ids;		/* ids of the papers with rows,
						   NUL after each: read in
						   order when added, where
						   the papers' own are spread
						   over the heap */
	size_t			 n;		/* rows */
	size_t			 n_subs;
	uint32_t		*head;		/* by sub: first, last chunk */
	uint32_t		*tail;		/* (0: none) */
	uint32_t		*by_name;	/* subs in name order */
	uint32_t		*top_k;		/* by sub: K, or 0: every row */
	struct match_row	**top;		/* by sub: heap of up to K */
	uint32_t		*top_n;		/* by sub: rows in it */
	struct match_chunk	*chunks;	/* [0] unused */
	size_t			 n_chunks;
	size_t			 cap_chunks;
	struct hit_set		*sets;
	size_t			 n_sets;
	size_t			 cap_sets;
	uint32_t		*slot;		/* hash table: 1 + set index */
	size_t			 cap_slot;	/* 0 or a power of two */
	const char		**hit_ptrs;
	size_t			 n_ptrs;
	size_t			 cap_ptrs;
	struct buf		 json;		/* hit lists, NUL after each */
};

struct match_ctx {
	struct cycle		*cy;
	const char		*source;
	const struct paper	*paper;
	uint32_t		 paper_i;	/* its index in the papers */
	bool			 fresh;
	bool			 newer;
	long long		 now;
	size_t			 added;
	int			 failed;
	struct match_batch	*batch;		/* NULL: add each at once */
	char			 err[256];
};

static uint64_t
hit_hash(const char *const *hits, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;

	for (size_t i = 0; i < n; i++) {
		h ^= (uint64_t)(uintptr_t)hits[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	return h;
}

static void
hit_slots_grow(struct match_batch *mb)
{
	size_t cap = mb->cap_slot ? mb->cap_slot * 2 : 256;

	free(mb->slot);
	mb->slot = xcalloc(cap, sizeof(*mb->slot));
	mb->cap_slot = cap;
	for (size_t i = 0; i < mb->n_sets; i++) {
		size_t j = mb->sets[i].hash & (cap - 1);

		while (mb->slot[j] != 0)
			j = (j + 1) & (cap - 1);
		mb->slot[j] = (uint32_t)i + 1;
	}
}

/*
 * The index of the hit list (hits, n) in the batch, added when new. The
 * strings are the matcher's, which outlives the batch and interns them, so
 * equal lists have equal pointers.
 */
static uint32_t
hit_set_of(struct match_batch *mb, const char *const *hits, size_t n)
{
	uint64_t h = hit_hash(hits, n);
	struct hit_set *s;
	size_t j;

	if ((mb->n_sets + 1) * 2 > mb->cap_slot)
		hit_slots_grow(mb);
	for (j = h & (mb->cap_slot - 1); mb->slot[j] != 0;
	    j = (j + 1) & (mb->cap_slot - 1)) {
		s = &mb->sets[mb->slot[j] - 1];
		if (s->hash == h && s->n == n && memcmp(mb->hit_ptrs + s->ptr,
		    hits, n * sizeof(*hits)) == 0)
			return mb->slot[j] - 1;
	}
	if (mb->n_sets == mb->cap_sets) {
		mb->cap_sets = mb->cap_sets ? mb->cap_sets * 2 : 64;
		mb->sets = xreallocarray(mb->sets, mb->cap_sets,
		    sizeof(*mb->sets));
	}
	while (mb->n_ptrs + n > mb->cap_ptrs) {
		mb->cap_ptrs = mb->cap_ptrs ? mb->cap_ptrs * 2 : 256;
		mb->hit_ptrs = xreallocarray(mb->hit_ptrs, mb->cap_ptrs,
		    sizeof(*mb->hit_ptrs));
	}
	s = &mb->sets[mb->n_sets];
	s->hash = h;
	s->ptr = (uint32_t)mb->n_ptrs;
	s->n = (uint32_t)n;
	s->json = (uint32_t)mb->json.len;
	if (n > 0)
		memcpy(mb->hit_ptrs + mb->n_ptrs, hits, n * sizeof(*hits));
	mb->n_ptrs += n;
	store_hits_json(hits, n, &mb->json);
	buf_addc(&mb->json, '\0');
	mb->slot[j] = (uint32_t)++mb->n_sets;
	return (uint32_t)(mb->n_sets - 1);
}

/* Append a row to subscription sub's chunks. */
static void
batch_add(struct match_batch *mb, size_t sub, const struct match_row *row)
{
	struct match_chunk *c;
	uint32_t t = mb->tail[sub];

	if (t == 0 || mb->chunks[t].n == MATCH_CHUNK_ROWS) {
		if (mb->n_chunks >= mb->cap_chunks) {
			mb->cap_chunks = mb->cap_chunks ? mb->cap_chunks * 2 :
			    256;
			mb->chunks = xreallocarray(mb->chunks, mb->cap_chunks,
			    sizeof(*mb->chunks));
		}
		c = &mb->chunks[mb->n_chunks];
		c->next = 0;
		c->n = 0;
		if (t == 0)
			mb->head[sub] = (uint32_t)mb->n_chunks;
		else
			mb->chunks[t].next = (uint32_t)mb->n_chunks;
		t = mb->tail[sub] = (uint32_t)mb->n_chunks++;
	}
	c = &mb->chunks[t];
	c->rows[c->n++] = *row;
	mb->n++;
}

/* a before b in a digest: a better score, then a smaller paper id. */
static bool
row_before(const struct match_batch *mb, const struct match_row *a,
    const struct match_row *b)
{
	if (a->score != b->score)
		return a->score > b->score;
	return strcmp(mb->ids.data + mb->id[a->paper],
	    mb->ids.data + mb->id[b->paper]) < 0;
}

static void
row_swap(struct match_row *a, struct match_row *b)
{
	struct match_row t = *a;

	*a = *b;
	*b = t;
}

/* Would sub's heap keep w? */
static bool
top_wants(const struct match_batch *mb, size_t sub, const struct match_row *w)
{
	return mb->top_n[sub] < mb->top_k[sub] ||
	    row_before(mb, w, &mb->top[sub][0]);
}

/* Keep w in sub's heap of its K best rows (top_wants said it would). */
static void
top_add(struct match_batch *mb, size_t sub, const struct match_row *w)
{
	struct match_row *v;
	size_t n = mb->top_n[sub], i = 0;

	if (mb->top[sub] == NULL)
		mb->top[sub] = xcalloc(mb->top_k[sub], sizeof(*v));
	v = mb->top[sub];
	if (n < mb->top_k[sub]) {	/* room: sift up */
		v[i = n] = *w;
		mb->top_n[sub]++;
		mb->n++;
		while (i > 0 && row_before(mb, &v[(i - 1) / 2], &v[i])) {
			row_swap(&v[i], &v[(i - 1) / 2]);
			i = (i - 1) / 2;
		}
		return;
	}
	v[0] = *w;			/* replace the last: sift down */
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < n && row_before(mb, &v[m], &v[l]))
			m = l;
		if (r < n && row_before(mb, &v[m], &v[r]))
			m = r;
		if (m == i)
			return;
		row_swap(&v[i], &v[m]);
		i = m;
	}
}

static void
on_match(const struct match_result *r, void *arg)
{
	struct match_ctx *mc = arg;
	const struct conf_sub *sub = &mc->cy->conf->subs[r->sub];
	struct match_batch *mb = mc->batch;
	int rc;

	if (!conf_sub_reads(sub, mc->source))
		return;
	if (!mc->fresh && !(mc->newer && sub->replacements))
		return;
	if (mb != NULL) {	/* ingest: rows only (the matcher thread) */
		struct match_row w = {
			.paper = mc->paper_i,
			.score = r->score,
		};
		bool top = mb->top_k[r->sub] > 0;

		if (mb->id[mc->paper_i] == UINT32_MAX) {
			mb->id[mc->paper_i] = (uint32_t)mb->ids.len;
			buf_add(&mb->ids, mc->paper->id,
			    strlen(mc->paper->id) + 1);
		}
		if (top && !top_wants(mb, r->sub, &w))
			return;		/* never in a digest */
		w.hits = hit_set_of(mb, (const char *const *)r->hits,
		    r->n_hits);
		if (top)
			top_add(mb, r->sub, &w);
		else
			batch_add(mb, r->sub, &w);
		return;
	}
	/* backfill (the main thread): each added at once */
	rc = store_add_match(mc->cy->st, sub->name, mc->paper->id,
	    sub->replacements ? mc->paper->version : 0, r->score, r->hits,
	    r->n_hits, mc->now, mc->err, sizeof(mc->err));
	if (rc == -1)
		mc->failed = 1;
	else
		mc->added += (size_t)rc;
}

struct sub_ref {
	const char		*name;
	uint32_t		 i;
};

static int
by_sub_name(const void *a, const void *b)
{
	return strcmp(((const struct sub_ref *)a)->name,
	    ((const struct sub_ref *)b)->name);
}

/* Room for paper i in version and id (papers come as they are parsed). */
static void
batch_reserve(struct match_batch *mb, size_t i)
{
	size_t cap = mb->cap_papers;

	if (i < cap)
		return;
	while (cap <= i)
		cap = cap ? cap * 2 : 1024;
	mb->version = xreallocarray(mb->version, cap, sizeof(*mb->version));
	mb->id = xreallocarray(mb->id, cap, sizeof(*mb->id));
	memset(mb->version + mb->cap_papers, 0,
	    (cap - mb->cap_papers) * sizeof(*mb->version));
	memset(mb->id + mb->cap_papers, 0xff,
	    (cap - mb->cap_papers) * sizeof(*mb->id));
	mb->cap_papers = cap;
}

static void
batch_init(struct match_batch *mb, const struct conf *c, size_t n_papers)
{
	struct sub_ref *refs;

	memset(mb, 0, sizeof(*mb));
	batch_reserve(mb, n_papers);
	buf_init(&mb->ids);
	mb->n_subs = c->n_subs;
	mb->head = xcalloc(c->n_subs + 1, sizeof(*mb->head));
	mb->tail = xcalloc(c->n_subs + 1, sizeof(*mb->tail));
	mb->by_name = xcalloc(c->n_subs + 1, sizeof(*mb->by_name));
	refs = xcalloc(c->n_subs + 1, sizeof(*refs));
	for (size_t i = 0; i < c->n_subs; i++) {
		refs[i].name = c->subs[i].name;
		refs[i].i = (uint32_t)i;
	}
	qsort(refs, c->n_subs, sizeof(*refs), by_sub_name);
	for (size_t i = 0; i < c->n_subs; i++)
		mb->by_name[i] = refs[i].i;
	free(refs);
	mb->top_k = xcalloc(c->n_subs + 1, sizeof(*mb->top_k));
	mb->top = xcalloc(c->n_subs + 1, sizeof(*mb->top));
	mb->top_n = xcalloc(c->n_subs + 1, sizeof(*mb->top_n));
	for (size_t i = 0; i < c->n_subs; i++)
		if (c->subs[i].max_papers > 0 && !c->subs[i].replacements)
			mb->top_k[i] = (uint32_t)c->subs[i].max_papers;
	mb->n_chunks = 1;		/* chunk 0 stands for none */
	buf_init(&mb->json);
}

struct flush {
	struct match_ctx	*mc;
	struct store_new_match	 v[MATCH_ADD_ROWS];
	size_t			 k;
	size_t			 left;		/* rows not yet in v */
};

/* Queue sub's row w, adding the queue when full or at the last row. */
static void
flush_row(struct flush *f, const struct conf_sub *sub,
    const struct match_row *w)
{
	struct match_batch *mb = f->mc->batch;
	struct store_new_match *m = &f->v[f->k];
	long long rc;

	m->sub = sub->name;
	m->paper = mb->ids.data + mb->id[w->paper];
	m->version = sub->replacements ? mb->version[w->paper] : 0;
	m->score = w->score;
	m->hits_json = mb->json.data + mb->sets[w->hits].json;
	f->left--;
	if (++f->k < MATCH_ADD_ROWS && f->left > 0)
		return;
	rc = store_add_matches(f->mc->cy->st, f->v, f->k, f->mc->now,
	    f->mc->err, sizeof(f->mc->err));
	if (rc == -1)
		f->mc->failed = 1;
	else
		f->mc->added += (size_t)rc;
	f->k = 0;
}

static int
by_paper(const void *a, const void *b)
{
	uint32_t x = ((const struct match_row *)a)->paper;
	uint32_t y = ((const struct match_row *)b)->paper;

	return x < y ? -1 : x > y;
}

/* Add the batch's matches, subscription by subscription. */
static void
batch_flush(struct match_ctx *mc)
{
	struct match_batch *mb = mc->batch;
	const struct conf_sub *subs = mc->cy->conf->subs;
	struct flush fl = { .mc = mc, .left = mb->n }, *f = &fl;

	for (size_t i = 0; i < mb->n_subs && f->left > 0 && !mc->failed;
	    i++) {
		size_t si = mb->by_name[i];
		const struct conf_sub *sub = &subs[si];
		struct match_row *top = mb->top[si];

		/* a heap's rows in the order they came, as the others */
		if (mb->top_n[si] > 0)
			qsort(top, mb->top_n[si], sizeof(*top), by_paper);
		for (uint32_t j = 0; j < mb->top_n[si] && !mc->failed; j++)
			flush_row(f, sub, &top[j]);
		mb->top_n[si] = 0;
		for (uint32_t c = mb->head[si]; c != 0 && !mc->failed;
		    c = mb->chunks[c].next)
			for (uint32_t j = 0; j < mb->chunks[c].n &&
			    !mc->failed; j++)
				flush_row(f, sub, &mb->chunks[c].rows[j]);
	}
	memset(mb->top_n, 0, mb->n_subs * sizeof(*mb->top_n));
	mb->n = 0;
	mb->n_chunks = 1;
	memset(mb->head, 0, mb->n_subs * sizeof(*mb->head));
	memset(mb->tail, 0, mb->n_subs * sizeof(*mb->tail));
	mb->n_sets = 0;
	mb->n_ptrs = 0;
	if (mb->cap_slot > 0)
		memset(mb->slot, 0, mb->cap_slot * sizeof(*mb->slot));
	buf_reset(&mb->json);
}

static void
batch_release(struct match_batch *mb)
{
	free(mb->version);
	free(mb->id);
	buf_release(&mb->ids);
	free(mb->head);
	free(mb->tail);
	free(mb->by_name);
	for (size_t i = 0; i < mb->n_subs; i++)
		free(mb->top[i]);
	free(mb->top);
	free(mb->top_k);
	free(mb->top_n);
	free(mb->chunks);
	free(mb->sets);
	free(mb->slot);
	free(mb->hit_ptrs);
	buf_release(&mb->json);
}

/*
 * Matching runs in a second thread while the main one stores the papers
 * and adds the matches: on a large feed, storing (SQLite) and matching
 * (the automaton) each take about a third of the CPU, and neither needs
 * the other's result until the matches are added. The main thread stores
 * a paper and hands the merged paper to the matcher through a small ring;
 * the matcher fills match batches exactly as when one thread did both
 * (same rows, same batch boundaries) and hands each full one back; the
 * main thread adds them in order, inside the same transaction. Without a
 * thread (pthread_create failed), the main thread matches each paper the
 * moment it hands it over.
 */
#define INGEST_RING	64	/* merged papers waiting for the matcher */
/* Wake the waiting matcher when this many wait, the main thread when it
   waits for room and half the ring is free: not once per paper. */
#define INGEST_WAKE	16

/*
 * Start a helper thread with every signal blocked, so that they stay with
 * the main thread, whose handler sets *stop. 0, or pthread_create's error.
 */
static int
spawn(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
#define INGEST_POOL	3	/* match batches: filling, queued, being added */

struct ingest_item {
	struct paper		*merged;
	uint32_t		 i;		/* its index in the papers list */
	bool			 fresh;
	bool			 newer;
	bool			 skip;		/* after an error: free it only */
};

struct ingest_pipe {
	struct match_ctx	 mc;		/* the matcher's */
	bool			 threaded;
	pthread_t		 thread;
	pthread_mutex_t		 m;
	pthread_cond_t		 cv;
	struct ingest_item	 ring[INGEST_RING];
	size_t			 head;		/* ring: next out */
	size_t			 n;		/* ring: count */
	bool			 end;		/* no more papers will come */
	bool			 abort;		/* an error: match no more */
	bool			 matcher_done;	/* every batch was handed back */
	bool			 matcher_waits;	/* for papers */
	bool			 pusher_waits;	/* for room in the ring */
	struct match_batch	 pool[INGEST_POOL];
	struct match_batch	*full[INGEST_POOL];	/* FIFO of filled ones */
	size_t			 full_head;
	size_t			 full_n;
	struct match_batch	*spare[INGEST_POOL];	/* empty ones */
	size_t			 spare_n;
};

/* Matcher: match the item's paper and free it; true if the batch is full. */
static bool
matcher_step(struct ingest_pipe *ip, struct ingest_item *it)
{
	struct match_ctx *mc = &ip->mc;

	if (!it->skip) {
		mc->paper = it->merged;
		mc->paper_i = it->i;
		batch_reserve(mc->batch, it->i);
		mc->batch->version[it->i] = it->merged->version;
		mc->fresh = it->fresh;
		mc->newer = it->newer;
		match_paper(mc->cy->matcher, it->merged, mc->source, on_match,
		    mc);
	}
	paper_free(it->merged);
	return mc->batch->n >= MATCH_BATCH_ROWS;
}

static void
queue_full(struct ingest_pipe *ip, struct match_batch *b)
{
	ip->full[(ip->full_head + ip->full_n++) % INGEST_POOL] = b;
}

static void *
matcher_main(void *arg)
{
	struct ingest_pipe *ip = arg;

	pthread_mutex_lock(&ip->m);
	for (;;) {
		struct ingest_item it;
		bool full;

		while (ip->n == 0 && !ip->end) {
			ip->matcher_waits = true;
			pthread_cond_wait(&ip->cv, &ip->m);
			ip->matcher_waits = false;
		}
		if (ip->n == 0)
			break;
		it = ip->ring[ip->head];
		it.skip = ip->abort;
		ip->head = (ip->head + 1) % INGEST_RING;
		ip->n--;
		if (ip->pusher_waits && ip->n <= INGEST_RING / 2)
			pthread_cond_broadcast(&ip->cv);
		pthread_mutex_unlock(&ip->m);
		full = matcher_step(ip, &it);
		pthread_mutex_lock(&ip->m);
		if (full) {
			queue_full(ip, ip->mc.batch);
			pthread_cond_broadcast(&ip->cv);
			while (ip->spare_n == 0)
				pthread_cond_wait(&ip->cv, &ip->m);
			ip->mc.batch = ip->spare[--ip->spare_n];
		}
	}
	if (ip->mc.batch->n > 0)
		queue_full(ip, ip->mc.batch);
	else
		ip->spare[ip->spare_n++] = ip->mc.batch;
	ip->mc.batch = NULL;
	ip->matcher_done = true;
	pthread_cond_broadcast(&ip->cv);
	pthread_mutex_unlock(&ip->m);
	return NULL;
}

/*
 * Main thread: add (or, after an error, drop) the full batches handed
 * back. Called with ip->m held when threaded; drops it while adding.
 */
static void
add_full(struct ingest_pipe *ip, struct match_ctx *mc, bool discard)
{
	while (ip->full_n > 0) {
		struct match_batch *b = ip->full[ip->full_head];

		ip->full_head = (ip->full_head + 1) % INGEST_POOL;
		ip->full_n--;
		if (ip->threaded)
			pthread_mutex_unlock(&ip->m);
		if (discard || mc->failed) {
			/* batch_flush of a failed context only empties it */
			struct match_ctx drop = *mc;

			drop.failed = 1;
			drop.batch = b;
			batch_flush(&drop);
		} else {
			mc->batch = b;
			batch_flush(mc);
			mc->batch = NULL;
		}
		if (ip->threaded)
			pthread_mutex_lock(&ip->m);
		ip->spare[ip->spare_n++] = b;
		if (ip->threaded)
			pthread_cond_broadcast(&ip->cv);
	}
}

static void
pipe_init(struct ingest_pipe *ip, struct cycle *cy, const char *source,
    size_t n_papers, long long now)
{
	memset(ip, 0, sizeof(*ip));
	ip->mc.cy = cy;
	ip->mc.source = source;
	ip->mc.now = now;
	for (size_t i = 0; i < INGEST_POOL; i++) {
		batch_init(&ip->pool[i], cy->conf, n_papers);
		ip->spare[ip->spare_n++] = &ip->pool[i];
	}
	ip->mc.batch = ip->spare[--ip->spare_n];
	pthread_mutex_init(&ip->m, NULL);
	pthread_cond_init(&ip->cv, NULL);
	ip->threaded = spawn(&ip->thread, matcher_main, ip) == 0;
}

/* Hand a stored paper to the matcher (it frees the paper). */
static void
pipe_push(struct ingest_pipe *ip, struct match_ctx *mc, struct paper *merged,
    uint32_t i, bool fresh, bool newer)
{
	struct ingest_item it = { .merged = merged, .i = i, .fresh = fresh,
	    .newer = newer };

	if (!ip->threaded) {
		if (matcher_step(ip, &it)) {
			queue_full(ip, ip->mc.batch);
			add_full(ip, mc, false);
			ip->mc.batch = ip->spare[--ip->spare_n];
		}
		return;
	}
	pthread_mutex_lock(&ip->m);
	while (ip->n == INGEST_RING) {
		if (ip->full_n > 0)
			add_full(ip, mc, false);
		else {
			ip->pusher_waits = true;
			pthread_cond_wait(&ip->cv, &ip->m);
			ip->pusher_waits = false;
		}
	}
	ip->ring[(ip->head + ip->n++) % INGEST_RING] = it;
	if (ip->matcher_waits && ip->n >= INGEST_WAKE)
		pthread_cond_broadcast(&ip->cv);
	add_full(ip, mc, false);	/* what is ready, while we are here */
	pthread_mutex_unlock(&ip->m);
}

/*
 * No more papers: wait for the matcher, adding its batches (dropping them
 * and what it has not matched yet after an error), and free the pipe.
 */
static void
pipe_finish(struct ingest_pipe *ip, struct match_ctx *mc, bool discard)
{
	if (ip->threaded) {
		pthread_mutex_lock(&ip->m);
		ip->end = true;
		ip->abort = discard;
		pthread_cond_broadcast(&ip->cv);
		while (!ip->matcher_done || ip->full_n > 0) {
			if (ip->full_n > 0)
				add_full(ip, mc, discard);
			else
				pthread_cond_wait(&ip->cv, &ip->m);
		}
		pthread_mutex_unlock(&ip->m);
		pthread_join(ip->thread, NULL);
	} else {
		queue_full(ip, ip->mc.batch);
		ip->mc.batch = NULL;
		add_full(ip, mc, discard);
	}
	pthread_mutex_destroy(&ip->m);
	pthread_cond_destroy(&ip->cv);
	for (size_t i = 0; i < INGEST_POOL; i++)
		batch_release(&ip->pool[i]);
}

/*
 * Store the papers that next() returns (the caller's to free, until NULL)
 * as seen by source, and match what is new; in a transaction. The papers
 * after an error are only freed, so that a fetch thread always runs out.
 * Counts go to stats only when it returns 0.
 */
static int
ingest_locked(struct cycle *cy, const char *source,
    const struct conf_source *cs, struct paper *(*next)(void *), void *arg,
    size_t n_hint, long long now, struct cycle_stats *stats, char *err,
    size_t errlen)
{
	struct ingest_pipe *ip = NULL;
	struct match_ctx mc = { .cy = cy, .source = source, .now = now };
	size_t papers_new = 0;
	struct paper *p;
	int rc = 0;

	if (cycle_matcher(cy, err, errlen) == NULL)
		rc = -1;
	else {
		ip = xmalloc(sizeof(*ip));
		pipe_init(ip, cy, source, n_hint, now);
	}
	for (uint32_t i = 0; (p = next(arg)) != NULL; i++) {
		struct paper *merged = NULL;
		bool fresh, newer;

		if (rc == -1 || mc.failed ||
		    (cs != NULL && !announce_wanted(cs, p))) {
			paper_free(p);
			continue;
		}
		if (store_put_paper_take(cy->st, &p, source, now, &merged,
		    &fresh, &newer, err, errlen) == -1)
			rc = -1;
		paper_free(p);			/* NULL if stored as it is */
		if (rc == -1)
			continue;
		if (fresh || newer) {
			papers_new += fresh;
			pipe_push(ip, &mc, merged, i, fresh, newer);
		} else {
			paper_free(merged);
		}
	}
	if (ip != NULL) {
		pipe_finish(ip, &mc, rc == -1 || mc.failed);
		free(ip);
	}
	if (rc == 0 && mc.failed) {
		snprintf(err, errlen, "%s", mc.err);
		rc = -1;
	}
	if (rc == 0) {
		stats->papers_new += papers_new;
		stats->matches += mc.added;
	}
	return rc;
}

struct list_iter {
	struct paper_list	*l;
	size_t			 k;
};

static struct paper *
list_next(void *arg)
{
	struct list_iter *it = arg;
	struct paper *p = NULL;

	while (p == NULL && it->k < it->l->n) {
		p = it->l->v[it->k];
		it->l->v[it->k++] = NULL;
	}
	return p;
}

int
cycle_ingest(struct cycle *cy, const char *source, struct paper_list *papers,
    long long now, struct cycle_stats *stats, char *err, size_t errlen)
{
	const struct conf_source *cs = conf_find_source(cy->conf, source);
	struct list_iter it = { papers, 0 };

	if (store_begin(cy->st, err, errlen) == -1)
		return -1;
	if (ingest_locked(cy, source, cs, list_next, &it, papers->n, now,
	    stats, err, errlen) == -1 || store_commit(cy->st, err,
	    errlen) == -1) {
		store_rollback(cy->st);
		return -1;
	}
	return 0;
}

/*
 * Ingest ps's papers as the fetch thread parses them, in one transaction,
 * committed only if the fetch succeeds in the end: -1 with err if storing
 * failed; 0 otherwise (nothing stored unless ps succeeded). Returns once
 * ps is done.
 */
static int
ingest_source(struct cycle *cy, struct poll_src *ps, long long now,
    struct cycle_stats *stats, char *err, size_t errlen)
{
	struct cycle_stats got;
	struct paper *p;
	bool ok;
	int rc;

	memset(&got, 0, sizeof(got));
	err[0] = '\0';
	if (store_begin(cy->st, err, errlen) == -1) {
		while ((p = poll_next(ps)) != NULL)
			paper_free(p);
		return -1;
	}
	rc = ingest_locked(cy, ps->cs->name, ps->cs, poll_next, ps, 0, now,
	    &got, err, errlen);
	poll_lock(ps->poll);		/* poll_next returned NULL: done */
	ok = !ps->failed && !ps->not_modified;
	poll_unlock(ps->poll);
	if (rc == 0 && ok && store_commit(cy->st, err, errlen) == 0) {
		stats->papers_new += got.papers_new;
		stats->matches += got.matches;
		return 0;
	}
	store_rollback(cy->st);
	return ok ? -1 : 0;
}

static long long
next_poll_time(struct cycle *cy, const struct conf_source *cs, long long now)
{
	long long iv = cs->interval > 0 ? cs->interval :
	    CYCLE_DEFAULT_INTERVAL;

	if (cs->interval == 0 && strcmp(cs->type, "arxiv-rss") == 0)
		return schedule_arxiv_next_poll(now,
		    schedule_jitter(600, &cy->seed));
	return now + schedule_jitter(iv, &cy->seed);
}

/*
 * After a failure: what the server asked (Retry-After), else 5 min
 * doubling with each failure in a row, never later than the interval.
 */
static long long
failed_poll_time(const struct poll_src *ps, const struct store_feed *f,
    long long now)
{
	long long d = 300, regular = f->next_poll;

	if (ps->job.status == FETCH_RETRY_LATER && ps->job.retry_after > 0)
		return now + ps->job.retry_after;
	for (int i = 1; i < f->fails && d < 86400; i++)
		d *= 2;
	return now + d < regular ? now + d : regular;
}

/* A quiet day and a broken feed differ: warn when a source is stale. */
static void
check_stale(const struct cycle *cy, const char *name,
    const struct store_feed *f, long long now)
{
	long long since = f->last_new >= 0 ? f->last_new : f->last_ok;

	if (since < 0 || now - since <= cy->conf->stale_after)
		return;
	log_warn("fetch: source '%s' is stale: nothing new for %lld hours%s",
	    name, (now - since) / 3600, f->fails ? " and it is failing" : "");
}

/*
 * arXiv announces Sunday to Thursday at 20:00 New York time; the feed of
 * that evening is dated the next day.  Warn when an arXiv announcement
 * feed still serves an older day than the last announcement's.
 */
static void
check_arxiv_day(const char *name, long long feed_date, long long now)
{
	struct schedule ny;
	struct tm tm;
	long long t, last = -1;
	char err[128], want[16], got[16];

	if (feed_date < 0 || schedule_parse("daily 20:00", "America/New_York",
	    &ny, err, sizeof(err)) == -1)
		return;
	for (t = schedule_next(&ny, now - 8 * 86400, -1); t <= now;
	    t = schedule_next(&ny, t, -1)) {
		schedule_localtime(&ny, t, &tm);
		if (tm.tm_wday <= 4)		/* Sunday .. Thursday */
			last = t;
	}
	if (last >= 0 && now - last > 2 * 3600) {	/* give it two hours */
		schedule_local_date(&ny, last + 6 * 3600, want, sizeof(want));
		schedule_local_date(&ny, feed_date, got, sizeof(got));
		if (strcmp(got, want) < 0)
			log_warn("fetch: source '%s' still serves the "
			    "announcements of %s (expected %s): stale?", name,
			    got, want);
	}
	schedule_release(&ny);
}

/*
 * Record the poll of ps (done) in the feeds table: ingest_rc and n_new
 * are ingest_source's result (ingest_err its error) and count of new
 * papers.
 */
static void
record_poll(struct cycle *cy, struct poll_src *ps, long long now,
    struct cycle_stats *stats, int ingest_rc, size_t n_new,
    const char *ingest_err)
{
	const char *name = ps->cs->name;
	char err[512], safe[300], url[300];
	struct store_feed *f = &ps->feed;

	f->last_poll = now;
	f->next_poll = next_poll_time(cy, ps->cs, now);
	if (ps->failed) {
		f->fails++;
		free(f->last_error);
		f->last_error = xstrdup(ps->err);
		stats->sources_failed++;
		log_warn("fetch: source '%s' (%s): %s", name,
		    log_safe(ps->url ? ps->url : "", url, sizeof(url)),
		    log_safe(ps->err, safe, sizeof(safe)));
		/* a failed or partial fetch never marks anything as seen */
		f->next_poll = failed_poll_time(ps, f, now);
		goto save;
	}
	if (ps->not_modified) {
		log_info("fetch: source '%s': not modified", name);
		goto ok;
	}
	free(f->etag);
	f->etag = xstrdup(ps->job.new_etag);
	f->last_modified = ps->job.new_last_modified;
	f->feed_date = ps->info.updated;
	if (strcmp(ps->cs->type, "arxiv-rss") == 0 && ps->url != NULL &&
	    !str_istarts(ps->url, "file:"))	/* not a captured file */
		check_arxiv_day(name, f->feed_date, now);
	f->n_fetched = (long long)ps->n_parsed;
	f->n_total += (long long)ps->n_parsed;
	stats->papers_fetched += ps->n_parsed;
	if (ingest_rc == 0 && n_new > 0)
		f->last_new = now;
	log_info("fetch: source '%s': %zu papers, %zu new", name, ps->n_parsed,
	    n_new);
	if (ingest_rc == -1) {
		/* keep the old feed state (ETag too): refetch next time */
		log_err("store: source '%s': %s", name, ingest_err);
		stats->sources_failed++;
		ps->failed = true;
		return;
	}
ok:
	stats->sources_ok++;
	f->fails = 0;
	free(f->last_error);
	f->last_error = NULL;
	f->last_ok = now;
save:
	check_stale(cy, name, f, now);
	if (store_feed_put(cy->st, name, f, err, sizeof(err)) == -1)
		log_err("store: source '%s': %s", name, err);
}

/* Match papers stored in the last backfill_days for a new subscription. */
static void
backfill(struct cycle *cy, size_t si, long long now, struct cycle_stats *stats)
{
	const struct conf_sub *sub = &cy->conf->subs[si];
	struct paper_list pl;
	char err[256];

	if (cycle_matcher(cy, err, sizeof(err)) == NULL) {
		log_err("match: %s", err);
		return;
	}
	paper_list_init(&pl);
	if (store_papers_since(cy->st, now - sub->backfill_days * 86400LL, &pl,
	    err, sizeof(err)) == -1) {
		log_err("store: %s", err);
		return;
	}
	for (size_t i = 0; i < pl.n; i++) {
		struct match_ctx mc = { .cy = cy, .paper = pl.v[i],
		    .fresh = true, .now = now };

		for (size_t k = 0; k < pl.v[i]->sources.n && !mc.added; k++) {
			mc.source = pl.v[i]->sources.v[k];
			match_paper(cy->matcher, pl.v[i], mc.source, on_match,
			    &mc);
		}
		stats->matches += mc.added;
	}
	log_info("match: subscription '%s': backfilled %zu papers of the last "
	    "%d days", sub->name, pl.n, sub->backfill_days);
	paper_list_release(&pl);
}

/*
 * Record new subscriptions: they start with the papers seen from their
 * first cycle on (or backfill_days back), never the whole backlog.
 */
void
cycle_register(struct cycle *cy, long long now, struct cycle_stats *stats)
{
	char e[256];
	long long jump = store_clock_check(cy->st, now, e, sizeof(e));
	/* one transaction, not one commit per subscription */
	bool tx;

	if (jump == -1)
		log_err("store: %s", e);
	else if (jump > 0)
		log_warn("cycle: the clock went back %lld s since the last "
		    "round: digest slots, retries and polls set while it was "
		    "ahead moved back as much", jump);
	tx = store_begin(cy->st, e, sizeof(e)) == 0;

	for (size_t i = 0; i < cy->conf->n_subs; i++) {
		long long first;
		bool is_new;
		char err[256];

		if (store_sub_first(cy->st, cy->conf->subs[i].name, now,
		    &first, &is_new, err, sizeof(err)) == -1) {
			log_err("store: %s", err);
			continue;
		}
		if (is_new && cy->conf->subs[i].backfill_days > 0)
			backfill(cy, i, now, stats);
	}
	if (tx && store_in_transaction(cy->st) &&
	    store_commit(cy->st, e, sizeof(e)) == -1) {
		log_err("store: registering subscriptions: %s", e);
		store_rollback(cy->st);
	}
}

size_t
cycle_poll(struct cycle *cy, bool force, long long now,
    struct cycle_stats *stats)
{
	const struct conf *c = cy->conf;
	struct poll_src *ps = xcalloc(c->n_sources + 1, sizeof(*ps));
	struct fetch_thread ft;
	struct poll pl;
	size_t n = 0, failed = 0;
	pthread_t thread;

	cycle_register(cy, now, stats);
	memset(&pl, 0, sizeof(pl));
	pthread_mutex_init(&pl.m, NULL);
	pthread_cond_init(&pl.cv, NULL);
	for (size_t i = 0; i < c->n_sources; i++) {
		struct poll_src *p = &ps[n];
		char err[256];

		store_feed_init(&p->feed);
		if (store_feed_get(cy->st, c->sources[i].name, &p->feed, err,
		    sizeof(err)) == -1) {
			log_err("store: %s", err);
			store_feed_release(&p->feed);
			continue;
		}
		if (!force && p->feed.next_poll > now) {
			store_feed_release(&p->feed);
			continue;
		}
		p->poll = &pl;
		p->cs = &c->sources[i];
		p->type = source_find(p->cs->type);
		source_info_init(&p->info);
		paper_list_init(&p->papers);
		start_page(p);
		n++;
	}
	ft.cy = cy;
	ft.ps = ps;
	ft.n = n;
	pl.threaded = true;
	if (n > 0 && spawn(&thread, fetch_main, &ft) != 0) {
		pl.threaded = false;		/* fetch all, then ingest */
		run_rounds(cy, ps, n);
	}
	for (size_t i = 0; i < n; i++) {
		size_t before = stats->papers_new;
		char err[512];
		int rc = ingest_source(cy, &ps[i], now, stats, err,
		    sizeof(err));

		record_poll(cy, &ps[i], now, stats, rc,
		    stats->papers_new - before, err);
	}
	if (n > 0 && pl.threaded)
		pthread_join(thread, NULL);
	for (size_t i = 0; i < n; i++) {
		failed += ps[i].failed;
		fetch_job_release(&ps[i].job);
		source_stream_free(ps[i].stream);
		source_info_release(&ps[i].info);
		paper_list_release(&ps[i].papers);
		store_feed_release(&ps[i].feed);
		free(ps[i].url);
	}
	free(ps);
	pthread_mutex_destroy(&pl.m);
	pthread_cond_destroy(&pl.cv);
	return failed;
}

/* digests */

static void	bg_start(struct cycle *, long long);
static void	bg_hold(struct cycle *);
static void	bg_release(struct cycle *);
static void	bg_committed(struct cycle *, bool);
static bool	turn_wanted(struct bg_deliver *);

static bool
sub_due(struct cycle *cy, size_t i, long long now)
{
	long long last = store_sub_last_digest(cy->st, cy->conf->subs[i].name);
	const struct schedule *s = &cy->schedules[i];

	if (s->kind == SCHEDULE_IMMEDIATE)
		return true;
	if (last < 0) {		/* never sent: due at the first slot */
		long long first;
		bool is_new;
		char err[64];

		if (store_sub_first(cy->st, cy->conf->subs[i].name, now, &first,
		    &is_new, err, sizeof(err)) == -1)
			return false;
		return schedule_next(s, first, -1) <= now;
	}
	return schedule_next(s, last, last) <= now;
}

/* FNV-1a, for stable per-recipient Message-IDs. */
static unsigned long long
fnv1a(const char *s)
{
	unsigned long long h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/*
 * The papers of the digests of one cycle_digests, kept parsed: subscribers
 * share papers (the 696 digests of the 10k-entry bench list 7,900
 * different papers 16,600 times), and nothing changes them meanwhile.
 *
 * The cache is bounded, and knows the future: before the first digest, a
 * plan lists every paper the due digests will ask for, in order (each
 * subscription's pending matches, as build_items reads them). So a paper
 * that no later digest lists is not kept, and when the cache is full the
 * paper whose next use is farthest goes (Belady's rule), if that is
 * farther than the new one's. On the bench that is 6,800 hits of the 8,700
 * possible, against 3,100 for a direct-mapped cache of as many slots. A
 * slot holds a parsed paper and its model values, about 5 KB; 2,048 keep
 * the digest phase of the 10k-entry bench under the peak of its ingest.
 * A paper asked for out of plan (the pending matches changed) is loaded
 * and freed with its digest.
 */
#define CYCLE_PAPER_CACHE	2048	/* slots */
#define PLAN_NONE		UINT32_MAX

struct paper_plan {
	size_t			*start;		/* by subscription: its first */
	size_t			*len;		/* position, and how many */
	uint32_t		*seq;		/* by position: the paper */
	uint32_t		*next;		/* its next position, or NONE */
	size_t			 n;
	size_t			 cap;
	struct buf		 ids;		/* by paper: id, NUL after */
	uint32_t		*id_off;	/* by paper: offset in ids */
	size_t			 n_papers;
	size_t			 cap_papers;
	uint32_t		*slot;		/* intern table: 1 + paper */
	size_t			 cap_slot;	/* a power of two */
};

struct paper_slot {
	struct paper		*p;
	struct digest_pcache	*mc;	/* what p's models share */
	uint32_t		 paper;	/* in the plan */
	uint32_t		 next;	/* its next use (position) */
	unsigned		 gen;	/* the digest that last used it */
};

struct paper_cache {
	struct paper_slot	 slot[CYCLE_PAPER_CACHE];
	size_t			 n_slots;	/* used */
	size_t			 cap;		/* of slot */
	uint32_t		*where;		/* by plan paper: 1 + slot */
	uint64_t		*heap;		/* max-heap of next << 32 |
						   slot; stale entries too */
	size_t			 n_heap;
	size_t			 cap_heap;
	unsigned		 gen;
	struct paper_plan	 plan;
};

static uint32_t
plan_intern(struct paper_plan *pl, const char *id)
{
	size_t j;

	if ((pl->n_papers + 1) * 2 > pl->cap_slot) {
		size_t cap = pl->cap_slot ? pl->cap_slot * 2 : 1024;

		free(pl->slot);
		pl->slot = xcalloc(cap, sizeof(*pl->slot));
		pl->cap_slot = cap;
		for (size_t i = 0; i < pl->n_papers; i++) {
			j = fnv1a(pl->ids.data + pl->id_off[i]) & (cap - 1);
			while (pl->slot[j] != 0)
				j = (j + 1) & (cap - 1);
			pl->slot[j] = (uint32_t)i + 1;
		}
	}
	for (j = fnv1a(id) & (pl->cap_slot - 1); pl->slot[j] != 0;
	    j = (j + 1) & (pl->cap_slot - 1))
		if (strcmp(pl->ids.data + pl->id_off[pl->slot[j] - 1],
		    id) == 0)
			return pl->slot[j] - 1;
	if (pl->n_papers == pl->cap_papers) {
		pl->cap_papers = pl->cap_papers ? pl->cap_papers * 2 : 1024;
		pl->id_off = xreallocarray(pl->id_off, pl->cap_papers,
		    sizeof(*pl->id_off));
	}
	pl->id_off[pl->n_papers] = (uint32_t)pl->ids.len;
	buf_add(&pl->ids, id, strlen(id) + 1);
	pl->slot[j] = (uint32_t)++pl->n_papers;
	return (uint32_t)(pl->n_papers - 1);
}

/*
 * Plan the papers of the due digests (subscriptions due[0..n_due), in
 * that order), reading their pending matches from st as build_items will.
 * A subscription whose matches cannot be read has no plan (its papers are
 * then loaded for its digest alone).
 */
static void
paper_plan(struct cycle *cy, struct paper_cache *pc, struct store *st,
    const size_t *due, size_t n_due)
{
	struct paper_plan *pl = &pc->plan;
	uint32_t *last;

	pl->start = xcalloc(cy->conf->n_subs + 1, sizeof(*pl->start));
	pl->len = xcalloc(cy->conf->n_subs + 1, sizeof(*pl->len));
	buf_init(&pl->ids);
	for (size_t k = 0; k < n_due; k++) {
		const struct conf_sub *sub = &cy->conf->subs[due[k]];
		struct store_match *m;
		size_t n;
		char err[256];

		if (store_pending(st, sub->name, sub->min_score,
		    sub->max_papers > 0 ? (size_t)sub->max_papers : 0, &m, &n,
		    err, sizeof(err)) == -1)
			continue;
		if (n < PLAN_NONE - pl->n) {
			if (pl->n + n > pl->cap) {
				while (pl->n + n > pl->cap)
					pl->cap = pl->cap ? pl->cap * 2 : 4096;
				pl->seq = xreallocarray(pl->seq, pl->cap,
				    sizeof(*pl->seq));
			}
			pl->start[due[k]] = pl->n;
			pl->len[due[k]] = n;
			for (size_t i = 0; i < n; i++)
				pl->seq[pl->n++] = plan_intern(pl, m[i].paper);
		}
		store_matches_free(m, n);
	}
	pl->next = xcalloc(pl->n + 1, sizeof(*pl->next));
	last = xcalloc(pl->n_papers + 1, sizeof(*last));
	for (size_t i = 0; i < pl->n_papers; i++)
		last[i] = PLAN_NONE;
	for (size_t t = pl->n; t-- > 0; ) {
		pl->next[t] = last[pl->seq[t]];
		last[pl->seq[t]] = (uint32_t)t;
	}
	free(last);
	pc->where = xcalloc(pl->n_papers + 1, sizeof(*pc->where));
}

/* Paper id's number in the plan, or PLAN_NONE. */
static uint32_t
plan_paper(const struct paper_cache *pc, const char *id)
{
	const struct paper_plan *pl = &pc->plan;

	if (pl->cap_slot == 0)
		return PLAN_NONE;
	for (size_t j = fnv1a(id) & (pl->cap_slot - 1); pl->slot[j] != 0;
	    j = (j + 1) & (pl->cap_slot - 1))
		if (strcmp(pl->ids.data + pl->id_off[pl->slot[j] - 1],
		    id) == 0)
			return pl->slot[j] - 1;
	return PLAN_NONE;
}

/* The plan's position of sub si's i-th pending match id, or PLAN_NONE. */
static uint32_t
plan_pos(const struct paper_cache *pc, size_t si, size_t i, const char *id)
{
	const struct paper_plan *pl = &pc->plan;
	size_t t;

	if (pl->len == NULL || i >= pl->len[si])
		return PLAN_NONE;
	t = pl->start[si] + i;
	return strcmp(pl->ids.data + pl->id_off[pl->seq[t]], id) == 0 ?
	    (uint32_t)t : PLAN_NONE;
}

static void
heap_push(struct paper_cache *pc, uint32_t next, size_t slot)
{
	uint64_t v = (uint64_t)next << 32 | slot;
	size_t i;

	if (pc->n_heap == pc->cap_heap) {
		pc->cap_heap = pc->cap_heap ? pc->cap_heap * 2 : 4096;
		pc->heap = xreallocarray(pc->heap, pc->cap_heap,
		    sizeof(*pc->heap));
	}
	for (i = pc->n_heap++; i > 0 && pc->heap[(i - 1) / 2] < v;
	    i = (i - 1) / 2)
		pc->heap[i] = pc->heap[(i - 1) / 2];
	pc->heap[i] = v;
}

static void
heap_pop(struct paper_cache *pc)
{
	uint64_t v = pc->heap[--pc->n_heap];
	size_t i = 0, n = pc->n_heap;

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = l;

		if (l >= n)
			break;
		if (r < n && pc->heap[r] > pc->heap[l])
			m = r;
		if (pc->heap[m] <= v)
			break;
		pc->heap[i] = pc->heap[m];
		i = m;
	}
	if (n > 0)
		pc->heap[i] = v;
}

/* The cached slot used farthest ahead (stale heap entries dropped), or
   NULL. */
static struct paper_slot *
farthest(struct paper_cache *pc)
{
	while (pc->n_heap > 0) {
		uint64_t v = pc->heap[0];
		struct paper_slot *sl = &pc->slot[v & 0xffffffffu];

		if (sl->p != NULL && sl->next == (uint32_t)(v >> 32))
			return sl;
		heap_pop(pc);
	}
	return NULL;
}

/*
 * A cache of CYCLE_PAPER_CACHE slots, or of PAPERWATCH_PAPER_CACHE (a
 * test's setting: fewer slots, so that papers are evicted).
 */
static struct paper_cache *
paper_cache_new(void)
{
	struct paper_cache *pc = xcalloc(1, sizeof(*pc));
	const char *e = getenv("PAPERWATCH_PAPER_CACHE");
	long n = e != NULL ? strtol(e, NULL, 10) : 0;

	pc->cap = n > 0 && n < CYCLE_PAPER_CACHE ? (size_t)n :
	    CYCLE_PAPER_CACHE;
	return pc;
}

static void
paper_cache_free(struct paper_cache *pc)
{
	if (pc == NULL)
		return;
	for (size_t i = 0; i < pc->n_slots; i++) {
		paper_free(pc->slot[i].p);
		digest_pcache_free(pc->slot[i].mc);
	}
	free(pc->plan.start);
	free(pc->plan.len);
	free(pc->plan.seq);
	free(pc->plan.next);
	buf_release(&pc->plan.ids);
	free(pc->plan.id_off);
	free(pc->plan.slot);
	free(pc->where);
	free(pc->heap);
	free(pc);
}

/*
 * Paper id, at plan position pos (or PLAN_NONE), for the digest being
 * built; *owned if the caller frees it.
 */
static struct paper *
paper_cached(struct cycle *cy, struct store *st, const char *id, uint32_t pos,
    bool *owned)
{
	struct paper_cache *pc = cy->pcache;
	struct paper_slot *sl;
	struct paper *p;
	uint32_t paper, next;

	*owned = true;
	if (pc == NULL || pos == PLAN_NONE)
		return store_get_paper(st, id);
	paper = pc->plan.seq[pos];
	next = pc->plan.next[pos];
	if (pc->where[paper] != 0) {
		sl = &pc->slot[pc->where[paper] - 1];
		sl->gen = pc->gen;
		sl->next = next;
		heap_push(pc, next, (size_t)(sl - pc->slot));
		*owned = false;
		return sl->p;
	}
	if ((p = store_get_paper(st, id)) == NULL ||
	    strcmp(p->id, id) != 0 || next == PLAN_NONE)
		return p;	/* not asked for again: the digest's */
	if (pc->n_slots < pc->cap)
		sl = &pc->slot[pc->n_slots++];
	else {
		if ((sl = farthest(pc)) == NULL || sl->next <= next ||
		    sl->gen == pc->gen)
			return p;	/* the cached are needed sooner */
		heap_pop(pc);
		pc->where[sl->paper] = 0;
		paper_free(sl->p);
		digest_pcache_free(sl->mc);
	}
	sl->p = p;
	sl->mc = digest_pcache_new();
	sl->paper = paper;
	sl->next = next;
	sl->gen = pc->gen;
	pc->where[paper] = (uint32_t)(sl - pc->slot) + 1;
	heap_push(pc, next, (size_t)(sl - pc->slot));
	*owned = false;
	return p;
}

struct built {
	struct digest_item	*items;
	size_t			 n;
	struct paper		**papers;
	bool			*owned;		/* papers[i] is ours to free */
	const char		**ids;
	struct digest_pcache	**caches;	/* of items[i]'s paper */
	struct store_match	*m;
	size_t			 n_m;
};

static void
built_release(struct built *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->owned[i])
			paper_free(b->papers[i]);
	free(b->items);
	free(b->papers);
	free(b->owned);
	free(b->ids);
	free(b->caches);
	store_matches_free(b->m, b->n_m);
	memset(b, 0, sizeof(*b));
}

/* b->caches[i]: the cache of b->items[i]'s paper (sorted), if it has one. */
static void
attach_caches(struct cycle *cy, struct built *b)
{
	struct paper_cache *pc = cy->pcache;

	for (size_t i = 0; i < b->n && pc != NULL; i++) {
		const struct paper *p = b->items[i].paper;
		uint32_t w;

		b->caches[i] = NULL;
		if (pc->where == NULL || (w = plan_paper(pc, p->id)) ==
		    PLAN_NONE || pc->where[w] == 0)
			continue;
		if (pc->slot[pc->where[w] - 1].p == p)
			b->caches[i] = pc->slot[pc->where[w] - 1].mc;
	}
}

/*
 * Load sub's pending matches, apply min_score and max_papers; what is left
 * out is marked handled when the digest is made (store_digest_new).
 */
static int
build_items(struct cycle *cy, struct store *st, const struct conf_sub *sub,
    struct built *b, char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	if (store_pending(st, sub->name, sub->min_score,
	    sub->max_papers > 0 ? (size_t)sub->max_papers : 0, &b->m, &b->n_m,
	    err, errlen) == -1)
		return -1;
	b->items = xcalloc(b->n_m + 1, sizeof(*b->items));
	b->papers = xcalloc(b->n_m + 1, sizeof(*b->papers));
	b->owned = xcalloc(b->n_m + 1, sizeof(*b->owned));
	b->ids = xcalloc(b->n_m + 1, sizeof(*b->ids));
	b->caches = xcalloc(b->n_m + 1, sizeof(*b->caches));
	if (cy->pcache != NULL)
		cy->pcache->gen++;
	for (size_t i = 0; i < b->n_m; i++) {
		struct store_match *m = &b->m[i];
		struct paper *p;

		if ((p = paper_cached(cy, st, m->paper, cy->pcache == NULL ?
		    PLAN_NONE : plan_pos(cy->pcache, (size_t)(sub -
		    cy->conf->subs), i, m->paper), &b->owned[b->n])) == NULL)
			continue;	/* dropped with the digest */
		b->papers[b->n] = p;
		b->ids[b->n] = m->paper;
		b->items[b->n].paper = p;
		b->items[b->n].score = m->score;
		b->items[b->n].hits = (const char *const *)m->hits.v;
		b->items[b->n].n_hits = m->hits.n;
		b->n++;
	}
	return 0;
}

/*
 * A digest made ready for the outbox: what cycle_digests writes in its
 * transaction, prepared (read, rendered, and built into messages: MIME,
 * quoted-printable, one per recipient) beforehand, by the digest thread
 * when there is one. The writer only writes.
 */
struct prep_msg {
	const char		*channel;	/* "smtp", "mbox", "webhook" */
	char			*dest;
	char			*subject;
	char			*body;
	size_t			 len;
};

struct prepared {
	size_t			 si;		/* the subscription */
	int			 rc;		/* 1: a digest, 0: nothing to
						   say, -1: err */
	char			 err[512];
	long long		 did;		/* its id, if a digest */
	char			 date[32];
	const char		**ids;		/* its papers (into m) */
	size_t			 n_papers;
	struct store_match	*m;
	size_t			 n_m;
	char			*text;		/* the email parts, rendered, */
	char			*html;		/* until prep_mail builds */
	char			*subject;	/* the messages */
	struct prep_msg		*msgs;		/* email, then webhook posts */
	size_t			 n_msgs;
	size_t			 cap_msgs;
	size_t			 bytes;		/* of all these */
	struct prepared		*next;		/* in the digest thread's queue */
};

static void
prepared_free(struct prepared *pr)
{
	if (pr == NULL)
		return;
	for (size_t i = 0; i < pr->n_msgs; i++) {
		free(pr->msgs[i].dest);
		free(pr->msgs[i].subject);
		free(pr->msgs[i].body);
	}
	free(pr->msgs);
	free(pr->text);
	free(pr->html);
	free(pr->subject);
	free(pr->ids);
	store_matches_free(pr->m, pr->n_m);
	free(pr);
}

/* Take the message (body: len bytes, NUL after them). */
static void
prep_add(struct prepared *pr, const char *channel, const char *dest,
    const char *subject, char *body, size_t len)
{
	struct prep_msg *pm;

	if (pr->n_msgs == pr->cap_msgs) {
		pr->cap_msgs = pr->cap_msgs ? pr->cap_msgs * 2 : 4;
		pr->msgs = xreallocarray(pr->msgs, pr->cap_msgs,
		    sizeof(*pr->msgs));
	}
	pm = &pr->msgs[pr->n_msgs++];
	pm->channel = channel;
	pm->dest = xstrdup(dest);
	pm->subject = subject ? xstrdup(subject) : NULL;
	pm->body = body;
	pm->len = len;
	pr->bytes += len;
}

/* Render sub's email parts and subject into pr. */
static int
render_mail(struct cycle *cy, const struct conf_sub *sub,
    const struct digest *d, struct digest_pcache *const *caches,
    struct prepared *pr, char *err, size_t errlen)
{
	struct strvec text, html;
	struct buf joined;
	char e[512];
	int rc = -1;

	strvec_init(&text);
	strvec_init(&html);
	buf_init(&joined);
	if (digest_render_cached(cy->renderer, d, "text", NULL, caches,
	    &text, e, sizeof(e)) == -1 ||
	    digest_render_cached(cy->renderer, d, "html", NULL, caches,
	    &html, e, sizeof(e)) == -1) {
		snprintf(err, errlen, "%s", e);
		goto out;
	}
	if ((pr->subject = digest_subject(d, sub->subject, err,
	    errlen)) == NULL)
		goto out;
	if (text.n == 1) {		/* one part: used as it is */
		pr->text = text.v[0];
		text.v[0] = NULL;
	} else {
		for (size_t i = 0; i < text.n; i++)
			buf_adds(&joined, text.v[i]);
		pr->text = buf_detach(&joined);
	}
	if (html.n > 0) {
		pr->html = html.v[0];
		html.v[0] = NULL;
	}
	pr->bytes += strlen(pr->text) + (pr->html ? strlen(pr->html) : 0);
	rc = 0;
out:
	strvec_release(&text);
	strvec_release(&html);
	buf_release(&joined);
	return rc;
}

/*
 * Build pr's email from its rendered parts, one message per recipient
 * (MIME, quoted-printable), into pr's messages; the parts are then freed.
 * In the digest thread: the writer holds the write turn the delivery
 * thread waits for while it writes a digest, so the less it does there,
 * the sooner each sent mark is recorded (and the next message sent).
 */
static int
prep_mail(struct cycle *cy, const struct conf_sub *sub, struct prepared *pr,
    long long now, char *err, size_t errlen)
{
	struct buf msg;
	int rc = -1;
	char e[512];

	buf_init(&msg);
	for (size_t i = 0; i <= sub->email.n; i++) {
		bool is_mbox = i == sub->email.n;
		const char *to = is_mbox ? (sub->email.n ? sub->email.v[0] :
		    "paperwatch@localhost") : sub->email.v[i];
		char mid[512], list_id[300];
		struct mail_spec ms = {
			.from = cy->conf->smtp.from ? cy->conf->smtp.from :
			    "paperwatch <paperwatch@localhost>",
			.to = to, .reply_to = cy->conf->smtp.reply_to,
			.subject = pr->subject, .text = pr->text,
			.html = pr->html,
			.message_id = mid, .date = now, .list_id = list_id,
			.list_unsubscribe = cy->conf->smtp.list_unsubscribe,
		};

		if (is_mbox && sub->mbox == NULL)
			break;
		snprintf(mid, sizeof(mid), "paperwatch.%lld.%lld.%016llx@%s",
		    pr->did, now, fnv1a(is_mbox ? sub->mbox : to), cy->host);
		snprintf(list_id, sizeof(list_id), "%s.paperwatch.%s",
		    sub->name, cy->host);
		for (char *p = list_id; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
				*p = '-';
		buf_reset(&msg);
		if (mail_build(&ms, &msg, e, sizeof(e)) == -1) {
			snprintf(err, errlen, "%s", e);
			goto out;
		}
		{
			size_t len = msg.len;

			prep_add(pr, is_mbox ? "mbox" : "smtp",
			    is_mbox ? sub->mbox : to, pr->subject,
			    buf_detach(&msg), len);
		}
	}
	rc = 0;
out:
	buf_release(&msg);
	pr->bytes -= strlen(pr->text) + (pr->html ? strlen(pr->html) : 0);
	free(pr->text);
	free(pr->html);
	pr->text = pr->html = NULL;
	return rc;
}

static int
queue_webhooks(struct cycle *cy, const struct conf_sub *sub,
    const struct digest *d, struct digest_pcache *const *caches,
    struct prepared *pr, char *err, size_t errlen)
{
	for (size_t i = 0; i < sub->n_webhooks; i++) {
		const struct conf_webhook *w = &sub->webhooks[i];
		struct strvec parts;
		char dest[512], e[512], *subj;

		strvec_init(&parts);
		if (digest_render_cached(cy->renderer, d, w->format,
		    w->template, caches, &parts, e, sizeof(e)) == -1) {
			snprintf(err, errlen, "%s", e);
			strvec_release(&parts);
			return -1;
		}
		snprintf(dest, sizeof(dest), "%s#%zu", sub->name, i);
		subj = webhook_subject(w->format, w->url);
		for (size_t k = 0; k < parts.n; k++) {
			prep_add(pr, "webhook", dest, subj, parts.v[k],
			    strlen(parts.v[k]));
			parts.v[k] = NULL;	/* taken */
		}
		free(subj);
		strvec_release(&parts);
	}
	return 0;
}

static void
digest_setup(struct cycle *cy, size_t si, struct built *b, long long now,
    struct digest *d, char *date, size_t datelen, char *id, size_t idlen)
{
	const struct conf_sub *sub = &cy->conf->subs[si];

	schedule_local_date(&cy->schedules[si], now, date, datelen);
	memset(d, 0, sizeof(*d));
	d->subscription = sub->name;
	d->date = date;
	d->items = b->items;
	d->n_items = b->n;
	d->digest_id = id;
	d->sources = (const char *const *)sub->sources.v;
	d->n_sources = sub->sources.n;
	snprintf(id, idlen, "pending");
}

/*
 * Prepare sub si's digest, to be digest did if it has anything to say:
 * read its pending matches and papers from st, render its email parts,
 * subject and webhook posts. Reads only, so that it runs beside the writer: the pending
 * matches of a subscription change only when its own digest is written.
 */
static struct prepared *
prepare_digest(struct cycle *cy, struct store *st, size_t si, long long did,
    long long now)
{
	const struct conf_sub *sub = &cy->conf->subs[si];
	struct prepared *pr = xcalloc(1, sizeof(*pr));
	struct built b;
	struct digest d;
	char id[64];

	pr->si = si;
	pr->rc = -1;
	if (build_items(cy, st, sub, &b, pr->err, sizeof(pr->err)) == -1)
		goto out;
	digest_setup(cy, si, &b, now, &d, pr->date, sizeof(pr->date), id,
	    sizeof(id));
	if (b.n == 0 && !sub->send_empty) {
		pr->rc = 0;	/* nothing to say: the slot is handled */
		goto out;
	}
	pr->did = did;
	snprintf(id, sizeof(id), "%lld", did);
	digest_sort(&d);
	attach_caches(cy, &b);
	if ((sub->email.n > 0 || sub->mbox != NULL) && (render_mail(cy, sub,
	    &d, b.caches, pr, pr->err, sizeof(pr->err)) == -1 ||
	    prep_mail(cy, sub, pr, now, pr->err, sizeof(pr->err)) == -1))
		goto out;
	if (queue_webhooks(cy, sub, &d, b.caches, pr, pr->err,
	    sizeof(pr->err)) == -1)
		goto out;
	/* the ids stay, with the matches they point into */
	pr->ids = b.ids;
	pr->n_papers = b.n;
	pr->m = b.m;
	pr->n_m = b.n_m;
	b.ids = NULL;
	b.m = NULL;
	b.n_m = 0;
	pr->rc = 1;
out:
	built_release(&b);
	return pr;
}

/*
 * Write a prepared digest into the outbox, inside the caller's transaction:
 * 1 if made, 0 if there was nothing to say, -1 on error (the caller rolls
 * back what was done).
 */
static int
write_digest(struct cycle *cy, const struct prepared *pr, long long now,
    struct cycle_stats *stats, char *err, size_t errlen)
{
	const struct conf_sub *sub = &cy->conf->subs[pr->si];
	long long did;

	if (pr->rc == -1) {
		snprintf(err, errlen, "%s", pr->err);
		return -1;
	}
	if (pr->rc == 0)
		return store_drop_pending(cy->st, sub->name, err,
		    errlen) == -1 || store_sub_set_last_digest(cy->st,
		    sub->name, now, err, errlen) == -1 ? -1 : 0;
	did = store_digest_new_id(cy->st, pr->did, sub->name, pr->date, now,
	    pr->ids, pr->n_papers, err, errlen);
	if (did == -1)
		return -1;
	for (size_t i = 0; i < pr->n_msgs; i++) {
		const struct prep_msg *pm = &pr->msgs[i];

		if (store_outbox_add(cy->st, did, sub->name, pm->channel,
		    pm->dest, pm->subject, pm->body, pm->len, now, err,
		    errlen) == -1)
			return -1;
	}
	stats->digests++;
	stats->messages += sub->email.n + (sub->mbox != NULL) + sub->n_webhooks;
	log_info("digest: subscription '%s': %zu papers", sub->name,
	    pr->n_papers);
	return 1;
}

/*
 * The digest thread: prepares the due digests in order, each with the next
 * digest id, while the main thread writes the ones before (SQLite, the
 * outbox). Reading and rendering are most of a digest's cost, and need no
 * write lock: on two cores, the writer and the delivery thread run beside
 * it. Its queue is bounded in digests and in bytes, so the memory does not
 * grow with the number of digests, nor with a subscription's recipients
 * beyond one digest's messages.
 */
#define DIGEST_QUEUE		8		/* digests prepared ahead */
#define DIGEST_QUEUE_BYTES	(1 << 20)	/* and their rendered parts */

struct digest_thread {
	struct cycle		*cy;
	struct store		*st;		/* its own connection */
	pthread_t		 thread;
	pthread_mutex_t		*m;		/* the cycle's wake_m */
	pthread_cond_t		*cv;		/* and wake_cv */
	const size_t		*due;		/* subscriptions, in order */
	size_t			 n_due;
	long long		 next_did;
	long long		 now;
	struct prepared		*head, *tail;	/* ready, in order */
	size_t			 queued;
	size_t			 bytes;
	bool			 quit;
};

static void *
digest_main(void *arg)
{
	struct digest_thread *dt = arg;
	char err[256];
	bool in_tx = store_begin_read(dt->st, err, sizeof(err)) == 0;

	/* what the digests will read, in one read transaction too */
	paper_plan(dt->cy, dt->cy->pcache, dt->st, dt->due, dt->n_due);
	if (in_tx && store_commit(dt->st, err, sizeof(err)) == -1)
		store_rollback(dt->st);
	for (size_t k = 0; k < dt->n_due; k++) {
		struct prepared *pr;

		pthread_mutex_lock(dt->m);
		while (!dt->quit && dt->queued > 0 &&
		    (dt->queued >= DIGEST_QUEUE ||
		    dt->bytes >= DIGEST_QUEUE_BYTES))
			pthread_cond_wait(dt->cv, dt->m);
		if (dt->quit) {
			pthread_mutex_unlock(dt->m);
			break;
		}
		pthread_mutex_unlock(dt->m);
		/* its reads in one transaction: one WAL lock, not one a read */
		in_tx = store_begin_read(dt->st, err, sizeof(err)) == 0;
		pr = prepare_digest(dt->cy, dt->st, dt->due[k], dt->next_did,
		    dt->now);
		if (in_tx && store_commit(dt->st, err, sizeof(err)) == -1)
			store_rollback(dt->st);
		if (pr->rc == 1)
			dt->next_did++;
		pthread_mutex_lock(dt->m);
		if (dt->tail != NULL)
			dt->tail->next = pr;
		else
			dt->head = pr;
		dt->tail = pr;
		dt->queued++;
		dt->bytes += pr->bytes;
		pthread_cond_broadcast(dt->cv);
		pthread_mutex_unlock(dt->m);
	}
	/* the cache is this thread's: freed here, while the last are written */
	paper_cache_free(dt->cy->pcache);
	dt->cy->pcache = NULL;
	return NULL;
}

/* The next prepared digest, in order, if ready; called with dt->m held. */
static struct prepared *
digest_thread_pop(struct digest_thread *dt)
{
	struct prepared *pr;

	if ((pr = dt->head) != NULL) {
		if ((dt->head = pr->next) == NULL)
			dt->tail = NULL;
		dt->queued--;
		dt->bytes -= pr->bytes;
		pthread_cond_broadcast(dt->cv);
	}
	return pr;
}

static void
digest_thread_stop(struct digest_thread *dt)
{
	struct prepared *pr;

	if (dt == NULL)
		return;
	pthread_mutex_lock(dt->m);
	dt->quit = true;
	pthread_cond_broadcast(dt->cv);
	pthread_mutex_unlock(dt->m);
	pthread_join(dt->thread, NULL);
	while ((pr = dt->head) != NULL) {
		dt->head = pr->next;
		prepared_free(pr);
	}
	store_close(dt->st);
	free(dt);
}

/* Start the digest thread; NULL: the main thread prepares each digest. */
static struct digest_thread *
digest_thread_start(struct cycle *cy, const size_t *due, size_t n_due,
    long long next_did, long long now)
{
	struct digest_thread *dt;
	char err[256];
	int rc;

	if (n_due < 2 || getenv("PAPERWATCH_SERIAL_DIGESTS") != NULL)
		return NULL;
	dt = xcalloc(1, sizeof(*dt));
	dt->cy = cy;
	dt->due = due;
	dt->n_due = n_due;
	dt->next_did = next_did;
	dt->now = now;
	if ((dt->st = store_open(cy->conf->state, err, sizeof(err))) == NULL) {
		log_debug("digest: no digest thread: %s", err);
		free(dt);
		return NULL;
	}
	dt->m = &cy->wake_m;
	dt->cv = &cy->wake_cv;
	if ((rc = spawn(&dt->thread, digest_main, dt)) != 0) {
		log_debug("digest: no digest thread: %s", strerror(rc));
		store_close(dt->st);
		free(dt);
		return NULL;
	}
	return dt;
}

/* The digests of one transaction: made so far, and their counts. */
struct digest_group {
	size_t			 n;		/* subscriptions handled */
	size_t			 ok;		/* of which without error */
	size_t			 first;		/* index of the first */
	struct cycle_stats	 stats;		/* digests, messages */
};

static void
group_lost(struct cycle *cy, struct digest_group *g, const char *why)
{
	if (g->ok > 0)
		log_err("digest: the digests of %zu subscriptions from '%s' "
		    "on were not saved (they will be made again)%s%s", g->ok,
		    cy->conf->subs[g->first].name, why ? ": " : "",
		    why ? why : "");
}

/* Commit the group; on failure, none of its digests was made. */
static size_t
group_commit(struct cycle *cy, struct digest_group *g,
    struct cycle_stats *stats)
{
	char err[512];
	size_t failed = 0;

	if (g->n == 0)
		return 0;
	if (store_commit(cy->st, err, sizeof(err)) == -1) {
		store_rollback(cy->st);
		group_lost(cy, g, err);
		failed = g->ok;
	} else {
		stats->digests += g->stats.digests;
		stats->messages += g->stats.messages;
	}
	memset(g, 0, sizeof(*g));
	return failed;
}

/*
 * Commit the group; once messages are committed, they are delivered in
 * the background while the next digests are made.
 */
static size_t
group_end(struct cycle *cy, struct digest_group *g, struct cycle_stats *stats,
    long long now)
{
	size_t before = stats->messages, failed;

	failed = group_commit(cy, g, stats);
	store_checkpoint(cy->st, 8);	/* never idle: bound the WAL */
	if (stats->messages > before && cy->bg == NULL) {
		bg_start(cy, now);
		bg_hold(cy);
	}
	bg_committed(cy, stats->messages > before);
	return failed;
}

/*
 * The next prepared digest. With the digest thread, while it is not ready,
 * the delivery thread is not kept waiting for the write turn: with no open
 * group, the turn is its for the wait; in a group, the group is committed
 * the moment the thread asks for the turn (its turn_take wakes us), not
 * before: a commit per digest would rewrite the pages digests share.
 */
static struct prepared *
next_prepared(struct cycle *cy, struct digest_thread *dt, size_t si,
    long long *next_did, struct digest_group *g, struct cycle_stats *stats,
    size_t *failed, long long now)
{
	struct prepared *pr;
	bool released = false, copied = false;

	if (dt == NULL) {
		pr = prepare_digest(cy, cy->st, si, *next_did, now);
		if (pr->rc == 1)
			++*next_did;
		return pr;
	}
	pthread_mutex_lock(dt->m);
	while ((pr = digest_thread_pop(dt)) == NULL) {
		if (cy->bg != NULL && g->n > 0 && turn_wanted(cy->bg)) {
			pthread_mutex_unlock(dt->m);
			*failed += group_end(cy, g, stats, now);
			pthread_mutex_lock(dt->m);
		} else if (cy->bg != NULL && g->n == 0 && !released) {
			pthread_mutex_unlock(dt->m);
			bg_release(cy);
			released = true;
			pthread_mutex_lock(dt->m);
		} else if (g->n == 0 && cy->bg_tried && !copied) {
			/*
			 * Idle: copy the WAL if due (once delivery has
			 * started), once a wait: what a reader still needs
			 * stays for the next.
			 */
			pthread_mutex_unlock(dt->m);
			store_checkpoint(cy->st, 1);
			copied = true;
			pthread_mutex_lock(dt->m);
		} else
			pthread_cond_wait(dt->cv, dt->m);
	}
	pthread_mutex_unlock(dt->m);
	if (released)
		bg_hold(cy);
	return pr;
}

/*
 * The digests go into the outbox CYCLE_DIGEST_GROUP to a transaction (a
 * commit, and its WAL frames, per digest cost more than the digest): each
 * one in a savepoint, so that one that fails leaves the others alone.  A
 * crash before the commit loses nothing: the matches stay pending and the
 * digests are made again from them.
 */
size_t
cycle_digests(struct cycle *cy, bool force, long long now,
    struct cycle_stats *stats)
{
	struct digest_thread *dt;
	struct digest_group g;
	struct cycle_stats ds;
	size_t failed = 0, *due, n_due = 0;
	long long next_did;
	char err[512];

	/*
	 * What ingest freed (the parsed feed) goes back to the system first:
	 * glibc kept it resident, and the digests' paper cache and the
	 * delivery thread's arena then grew on top of it.
	 */
	malloc_trim(0);
	due = xcalloc(cy->conf->n_subs + 1, sizeof(*due));
	for (size_t i = 0; i < cy->conf->n_subs; i++)
		if (force || sub_due(cy, i, now))
			due[n_due++] = i;
	if (n_due == 0) {
		free(due);
		store_checkpoint(cy->st, 1);
		return 0;
	}
	if ((next_did = store_digest_next_id(cy->st, err, sizeof(err))) < 0) {
		log_err("digest: %s", err);
		free(due);
		return n_due;
	}
	memset(&g, 0, sizeof(g));
	cy->pcache = paper_cache_new();
	cy->bg_tried = cy->bg != NULL;
	if ((dt = digest_thread_start(cy, due, n_due, next_did, now)) == NULL)
		paper_plan(cy, cy->pcache, cy->st, due, n_due);
	bg_hold(cy);
	for (size_t k = 0; k < n_due; k++) {
		size_t i = due[k];
		struct prepared *pr;
		int rc;

		pr = next_prepared(cy, dt, i, &next_did, &g, stats, &failed,
		    now);
		if (g.n == 0 && store_begin(cy->st, err, sizeof(err)) == -1) {
			log_err("digest: subscription '%s': %s",
			    cy->conf->subs[i].name, err);
			failed++;
			prepared_free(pr);
			continue;
		}
		if (g.n == 0)
			g.first = i;
		memset(&ds, 0, sizeof(ds));
		if ((rc = store_savepoint(cy->st, err, sizeof(err))) == 0 &&
		    (rc = write_digest(cy, pr, now, &ds, err, sizeof(err))) >= 0)
			rc = store_savepoint_release(cy->st, err, sizeof(err));
		prepared_free(pr);
		if (rc == -1) {
			store_savepoint_rollback(cy->st);
			log_err("digest: subscription '%s': %s",
			    cy->conf->subs[i].name, err);
			failed++;
			if (!store_in_transaction(cy->st)) {
				/* SQLite rolled it all back (disk full, I/O) */
				group_lost(cy, &g, NULL);
				failed += g.ok;
				memset(&g, 0, sizeof(g));
				continue;
			}
		} else {
			g.ok++;
			g.stats.digests += ds.digests;
			g.stats.messages += ds.messages;
		}
		/*
		 * A delivery waiting to record a result ends the group, and so
		 * does the first digest with messages: the delivery thread
		 * starts with its commit.
		 */
		if (++g.n >= CYCLE_DIGEST_GROUP ||
		    (cy->bg != NULL && turn_wanted(cy->bg)) ||
		    (!cy->bg_tried && g.stats.messages > 0))
			failed += group_end(cy, &g, stats, now);
	}
	failed += group_end(cy, &g, stats, now);
	bg_release(cy);
	store_checkpoint(cy->st, 1);	/* while the last are sent */
	digest_thread_stop(dt);
	paper_cache_free(cy->pcache);
	cy->pcache = NULL;
	free(due);
	/*
	 * The paper cache was the digest thread's arena: handed back, or the
	 * outbox batches that cycle_deliver reads next grow another one.
	 */
	if (dt != NULL)
		malloc_trim(0);
	return failed;
}

/* delivery */

/*
 * Who sends: the cycle, with the store connection its results go to, and
 * when it runs in the background thread (bg), the turn it takes to write.
 */
struct sender {
	struct cycle		*cy;
	struct store		*st;
	struct bg_deliver	*bg;		/* NULL: the cycle's own thread */
	bool			 held_off;	/* a channel took nothing */
	struct marker		*mk;		/* its sent marks, or NULL */
	bool			 mk_tried;
};

/*
 * Delivery in the background while cycle_digests makes digests: on two
 * cores, the server reads one message while the next digests are made.
 * The thread has its own store connection; it reads without waiting, and
 * writes (a result per message, the moment it is known) only in its write
 * turn. The digest maker holds the turn while it builds a group, and
 * commits and hands it over after a digest when the thread waits for it:
 * so the thread never waits for SQLite's lock (whose busy handler sleeps),
 * and no result waits for a whole group, which would hold back the next
 * message (a result is recorded before the next message is sent, so that
 * a crash sends at most one message twice).
 */
struct bg_deliver {
	struct cycle		*cy;
	struct store		*st;		/* the thread's connection */
	pthread_t		 thread;
	pthread_mutex_t		 m;
	pthread_cond_t		 cv;
	unsigned long		 next;		/* write turns, FIFO: taken */
	unsigned long		 serving;	/* and the one that may write */
	unsigned long		 commits;	/* groups committed so far */
	bool			 done;		/* no more digests will come */
	bool			 store_failed;	/* a result was not recorded */
	bool			 main_holds;	/* the digest maker has the turn */
	long long		 now;
	size_t			 unsent;
	struct cycle_stats	 stats;
};

/* Write turns; bg NULL (no background thread): nothing to wait for. */
static void
turn_take(struct bg_deliver *bg)
{
	unsigned long t;

	if (bg == NULL)
		return;
	pthread_mutex_lock(&bg->m);
	t = bg->next++;
	if (t != bg->serving) {
		/* the digest maker may be waiting for a digest: wake it */
		pthread_mutex_unlock(&bg->m);
		pthread_mutex_lock(&bg->cy->wake_m);
		pthread_cond_broadcast(&bg->cy->wake_cv);
		pthread_mutex_unlock(&bg->cy->wake_m);
		pthread_mutex_lock(&bg->m);
	}
	while (t != bg->serving)
		pthread_cond_wait(&bg->cv, &bg->m);
	pthread_mutex_unlock(&bg->m);
}

static void
turn_give(struct bg_deliver *bg)
{
	if (bg == NULL)
		return;
	pthread_mutex_lock(&bg->m);
	bg->serving++;
	pthread_cond_broadcast(&bg->cv);
	pthread_mutex_unlock(&bg->m);
}

/* Whether someone waits for the turn its holder has. */
static bool
turn_wanted(struct bg_deliver *bg)
{
	bool w;

	pthread_mutex_lock(&bg->m);
	w = bg->next - bg->serving > 1;
	pthread_mutex_unlock(&bg->m);
	return w;
}

static long long
backoff(struct cycle *cy, int attempts, long long retry_after)
{
	long long d = CYCLE_RETRY_BASE;

	for (int i = 0; i < attempts && d < CYCLE_RETRY_MAX; i++)
		d *= 2;
	if (d > CYCLE_RETRY_MAX)
		d = CYCLE_RETRY_MAX;
	d = schedule_jitter(d, &cy->seed);
	return retry_after > d ? retry_after : d;
}

/*
 * The marker: a thread of its own (with its own connection) records the
 * sent marks of the messages of a channel with gates (smtp), while the
 * next message goes out: its envelope, the round trips to the server, and
 * its data overlap the commit, and in the background delivery the write
 * turn the mark waits for (the digest maker finishing a digest). The next
 * message's gate, right before its final dot, waits for the marks: so a
 * crash still leaves at most one message accepted by the server and not
 * marked, and sends at most that one twice. The sender's other writes
 * (failed messages) wait for the marks too, so that one connection writes
 * at a time.
 */
#define MARK_QUEUE	64

struct marker {
	struct bg_deliver	*bg;		/* whose write turns it takes:
						   NULL, none */
	struct store		*st;		/* its own connection */
	long long		 now;
	pthread_t		 thread;
	pthread_mutex_t		 m;
	pthread_cond_t		 cv;
	long long		 id[MARK_QUEUE];	/* to mark, FIFO */
	size_t			 head;
	size_t			 n;
	bool			 busy;		/* writing a mark */
	bool			 failed;	/* a mark was not recorded */
	bool			 quit;
};

static void *
marker_main(void *arg)
{
	struct marker *mk = arg;

	pthread_mutex_lock(&mk->m);
	for (;;) {
		char err[256];
		long long id;
		int w;

		while (mk->n == 0 && !mk->quit)
			pthread_cond_wait(&mk->cv, &mk->m);
		if (mk->n == 0)
			break;
		id = mk->id[mk->head];
		mk->head = (mk->head + 1) % MARK_QUEUE;
		mk->n--;
		mk->busy = true;
		pthread_mutex_unlock(&mk->m);
		turn_take(mk->bg);
		w = store_outbox_sent(mk->st, id, mk->now, err, sizeof(err));
		turn_give(mk->bg);
		if (w == -1)
			log_err("outbox: message %lld: %s", id, err);
		pthread_mutex_lock(&mk->m);
		mk->busy = false;
		mk->failed |= w == -1;
		pthread_cond_broadcast(&mk->cv);
	}
	pthread_mutex_unlock(&mk->m);
	return NULL;
}

/*
 * A marker for sd (time now); NULL (marks recorded at once) if it cannot
 * be had. In the background its checkpoints are left to the digest maker,
 * as the thread's; else SQLite's own run in the marker.
 */
static struct marker *
marker_start(struct sender *sd, long long now)
{
	struct marker *mk = xcalloc(1, sizeof(*mk));
	char err[256];
	int rc;

	mk->bg = sd->bg;
	mk->now = now;
	if ((mk->st = store_open(sd->cy->conf->state, err,
	    sizeof(err))) == NULL) {
		log_debug("deliver: sent marks in the sending thread: %s", err);
		free(mk);
		return NULL;
	}
	if (sd->bg != NULL)
		store_defer_checkpoints(mk->st);
	pthread_mutex_init(&mk->m, NULL);
	pthread_cond_init(&mk->cv, NULL);
	if ((rc = spawn(&mk->thread, marker_main, mk)) != 0) {
		log_debug("deliver: sent marks in the sending thread: %s",
		    strerror(rc));
		pthread_mutex_destroy(&mk->m);
		pthread_cond_destroy(&mk->cv);
		store_close(mk->st);
		free(mk);
		return NULL;
	}
	return mk;
}

/* Queue message id's sent mark; false if a mark has failed already. */
static bool
marker_put(struct marker *mk, long long id)
{
	bool ok;

	pthread_mutex_lock(&mk->m);
	while (mk->n == MARK_QUEUE)
		pthread_cond_wait(&mk->cv, &mk->m);
	mk->id[(mk->head + mk->n++) % MARK_QUEUE] = id;
	ok = !mk->failed;
	pthread_cond_broadcast(&mk->cv);
	pthread_mutex_unlock(&mk->m);
	return ok;
}

/* Wait until every queued mark is recorded; false if one was not. */
static bool
marker_wait(struct marker *mk)
{
	bool ok;

	if (mk == NULL)
		return true;
	pthread_mutex_lock(&mk->m);
	while (mk->n > 0 || mk->busy)
		pthread_cond_wait(&mk->cv, &mk->m);
	ok = !mk->failed;
	pthread_mutex_unlock(&mk->m);
	return ok;
}

/* Record what is queued, then stop; false if a mark was not recorded. */
static bool
marker_stop(struct marker *mk)
{
	bool ok;

	if (mk == NULL)
		return true;
	pthread_mutex_lock(&mk->m);
	mk->quit = true;
	pthread_cond_broadcast(&mk->cv);
	pthread_mutex_unlock(&mk->m);
	pthread_join(mk->thread, NULL);
	ok = !mk->failed;
	pthread_mutex_destroy(&mk->m);
	pthread_cond_destroy(&mk->cv);
	store_close(mk->st);
	free(mk);
	return ok;
}

/* Record m's result in the outbox and the stats; -1 if the outbox
   could not be written (m stays due). */
static int
record_result(struct sender *sd, struct outbox_msg *m, long long now,
    struct cycle_stats *stats)
{
	struct cycle *cy = sd->cy;
	char err[256], safe[300];
	bool dead;
	int rc = 0, w;

	if (m->result == CHAN_SENT && m->gate != NULL) {
		/* the marker records it before the next one is committed */
		stats->sent++;
		log_info("deliver: %s message %lld for '%s' sent", m->channel,
		    m->id, m->subscription);
		return marker_put(sd->mk, m->id) ? 0 : -1;
	}
	if (m->unsent) {		/* held back: nothing to record */
		stats->retrying++;
		return 0;
	}
	if (!marker_wait(sd->mk))	/* one writer at a time */
		rc = -1;
	if (m->result == CHAN_SENT) {
		turn_take(sd->bg);
		w = store_outbox_sent(sd->st, m->id, now, err, sizeof(err));
		turn_give(sd->bg);
		if (w == -1) {
			log_err("outbox: message %lld: %s", m->id, err);
			rc = -1;
		}
		stats->sent++;
		log_info("deliver: %s message %lld for '%s' sent", m->channel,
		    m->id, m->subscription);
		return rc;
	}
	dead = m->result == CHAN_FAILED ||
	    m->attempts + 1 >= cy->conf->max_attempts;
	turn_take(sd->bg);
	w = store_outbox_failed(sd->st, m->id, dead, now + backoff(cy,
	    m->attempts, m->retry_after), m->err, err, sizeof(err));
	turn_give(sd->bg);
	if (w == -1) {
		log_err("outbox: message %lld: %s", m->id, err);
		rc = -1;
	}
	log_safe(m->err, safe, sizeof(safe));
	if (dead) {
		stats->dead++;
		log_err("deliver: %s message %lld for '%s' failed for good "
		    "after %d attempts: %s", m->channel, m->id,
		    m->subscription, m->attempts + 1, safe);
	} else {
		stats->retrying++;
		log_warn("deliver: %s message %lld for '%s' will be retried: "
		    "%s", m->channel, m->id, m->subscription, safe);
	}
	return rc;
}

/*
 * The messages due, handed out as runs of one channel. Ids are read
 * CYCLE_OUTBOX_IDS at a time (the query sorts every due row, so reading
 * them a batch at a time sorted the whole queue again for each batch), and
 * messages loaded a batch at a time, so memory stays bounded by the batch.
 * In the background, the feed waits for the digest maker's next commit
 * when nothing is due, until its last.
 *
 * A channel with send_more (smtp) asks the feed for the next run of its
 * own channel from inside its session; the runs of other channels met on
 * the way are sent right then. So one SMTP session carries the mail of a
 * whole cycle, background part included, whatever the webhooks between.
 */
struct feed {
	struct sender		*sd;
	long long		 now;
	struct cycle_stats	*stats;
	size_t			*unsent;
	bool			 store_failed;	/* a result was not recorded */
	int			 rc;		/* -1: stop (see feed_load) */
	bool			 end;		/* nothing more will come */
	long long		*ids;		/* due ids read, */
	size_t			 n_ids;
	size_t			 next_id;	/* the next to load */
	bool			 reread;	/* read again without waiting: the
						   last read hit its limit */
	bool			 last_read;	/* bg: read after the last commit */
	unsigned long		 seen;		/* bg: commits read after */
	struct outbox_msg	**msgs;		/* the batch loaded */
	size_t			 n;
	size_t			 pos;		/* where the next run starts */
	size_t			 out_start;	/* the run handed out, */
	size_t			 out_n;		/* to be accounted */
};

/* outbox_msg's gate: the marks queued so far are recorded. */
static bool
feed_gate(void *arg)
{
	struct feed *f = arg;

	return marker_wait(f->sd->mk);
}

/* outbox_msg's proceed: the results reported so far were recorded. */
static bool
feed_proceed(void *arg)
{
	struct feed *f = arg;

	return !f->store_failed;
}

/* chan_report callback: record a result the moment it is known. */
static void
on_reported(struct outbox_msg *m, void *arg)
{
	struct feed *f = arg;

	if (record_result(f->sd, m, f->now, f->stats) == -1)
		f->store_failed = true;
}

static bool
feed_stop(struct feed *f)
{
	return f->rc == -1 || f->store_failed || f->sd->held_off ||
	    stopping(f->sd->cy);
}

/*
 * The run handed out is over: report what the channel left unreported,
 * count what was not sent. In the background, a channel that took none
 * of a run's messages and failed them all for now (a server down, or
 * unreachable until a timeout) ends the background delivery: trying each
 * run would wait for the server again and again; cycle_deliver tries what
 * is left after the digests.
 */
static void
feed_account(struct feed *f)
{
	struct outbox_msg **m = f->msgs + f->out_start;
	size_t retry = 0;

	for (size_t i = 0; i < f->out_n; i++) {
		chan_report(m[i]);
		*f->unsent += m[i]->result != CHAN_SENT;
		retry += m[i]->result == CHAN_RETRY;
	}
	if (f->sd->bg != NULL && f->out_n > 0 && retry == f->out_n)
		f->sd->held_off = true;
	f->out_n = 0;
}

/*
 * Read the due ids (again); while a read hits its limit, failed ones not
 * being due now, the next is done without waiting.
 */
static void
feed_read_ids(struct feed *f)
{
	char err[256];

	free(f->ids);
	f->ids = NULL;
	f->n_ids = f->next_id = 0;
	f->reread = false;
	/* the messages sent so far are marked, or they would be due again */
	if (!marker_wait(f->sd->mk)) {
		f->store_failed = true;
		return;
	}
	if (store_outbox_due_ids(f->sd->st, f->now, CYCLE_OUTBOX_IDS, &f->ids,
	    &f->n_ids, err, sizeof(err)) == -1) {
		log_err("outbox: %s", err);
		(*f->unsent)++;
		f->rc = -1;
		return;
	}
	f->reread = f->n_ids == CYCLE_OUTBOX_IDS;
}

/*
 * In the background, with nothing due: wait for the digest maker's next
 * commit. False once the last one was read.
 */
static bool
feed_wait(struct feed *f)
{
	struct bg_deliver *bg = f->sd->bg;

	if (bg == NULL || f->last_read)
		return false;
	pthread_mutex_lock(&bg->m);
	while (!bg->done && bg->commits == f->seen)
		pthread_cond_wait(&bg->cv, &bg->m);
	f->last_read = bg->done;
	f->seen = bg->commits;
	pthread_mutex_unlock(&bg->m);
	return true;
}

/*
 * Make sure a loaded batch has a message left to send. False when nothing
 * more will come, or the delivery must stop: the outbox cannot be read,
 * or results cannot be written (sending on would send the same messages
 * again and again, as they stay due), until the next delivery.
 */
static bool
feed_load(struct feed *f)
{
	/* in the background, the digests being made hold memory too */
	size_t batch = f->sd->bg != NULL ? CYCLE_BG_BATCH : CYCLE_OUTBOX_BATCH;
	char err[256];

	if (feed_stop(f))
		return false;
	while (f->pos >= f->n) {
		if (f->msgs != NULL) {
			store_outbox_free(f->msgs, f->n);
			f->msgs = NULL;
			f->n = f->pos = 0;
			/*
			 * A commit per message, and checkpoints deferred: the
			 * WAL is copied back between batches (the background
			 * thread leaves it to the idle main thread up to 32 MB).
			 */
			store_checkpoint(f->sd->st, f->sd->bg != NULL ? 8 : 1);
		}
		if (f->end || feed_stop(f))
			return false;
		if (f->next_id >= f->n_ids) {
			/* then, in the background, after each commit until
			   the last */
			if (!f->reread && !feed_wait(f)) {
				f->end = true;
				continue;
			}
			feed_read_ids(f);
			continue;
		}
		{
			size_t k = f->n_ids - f->next_id < batch ?
			    f->n_ids - f->next_id : batch;

			if (store_outbox_load(f->sd->st, f->ids + f->next_id,
			    k, &f->msgs, &f->n, err, sizeof(err)) == -1) {
				log_err("outbox: %s", err);
				(*f->unsent)++;
				f->rc = -1;
				return false;
			}
			f->next_id += k;
		}
	}
	return true;
}

/* Hand out msgs[0..n), the next run: prepared for reporting. */
static size_t
feed_hand(struct feed *f, size_t n, struct outbox_msg *const **msgs)
{
	struct outbox_msg **m = f->msgs + f->pos;

	const struct chan_type *ct = chan_find(m[0]->channel);
	bool gated;

	if (ct != NULL && ct->gates && !f->sd->mk_tried) {
		f->sd->mk = marker_start(f->sd, f->now);
		f->sd->mk_tried = true;
	}
	gated = f->sd->mk != NULL && ct != NULL && ct->gates;

	for (size_t i = 0; i < n; i++) {
		m[i]->result = CHAN_RETRY;
		m[i]->retry_after = 0;
		m[i]->err[0] = '\0';
		m[i]->done = on_reported;
		m[i]->done_arg = f;
		m[i]->reported = false;
		m[i]->gate = gated ? feed_gate : NULL;
		m[i]->proceed = gated ? NULL : feed_proceed;
		m[i]->unsent = false;
	}
	f->out_start = f->pos;
	f->out_n = n;
	f->pos += n;
	*msgs = (struct outbox_msg *const *)m;
	return n;
}

static void	feed_send(struct feed *, const char *, struct outbox_msg *const *,
		    size_t, bool);

/*
 * The next run, of channel (NULL: any): its messages in *msgs, their
 * count returned, 0 when there is none. What the last call handed out is
 * accounted first: its messages were all reported. Runs of other channels
 * are sent on the way.
 */
static size_t
feed_next(struct feed *f, const char *channel,
    struct outbox_msg *const **msgs)
{
	feed_account(f);
	while (feed_load(f)) {
		size_t end = f->pos + 1;
		const char *ch = f->msgs[f->pos]->channel;

		while (end < f->n && strcmp(f->msgs[end]->channel, ch) == 0)
			end++;
		if (channel == NULL || strcmp(ch, channel) == 0)
			return feed_hand(f, end - f->pos, msgs);
		/* another channel's run: sent now, its session closed */
		{
			struct outbox_msg *const *m;
			size_t n = feed_hand(f, end - f->pos, &m);

			feed_send(f, ch, m, n, false);
			feed_account(f);
		}
	}
	return 0;
}

/* chan_type.send_more's callback: the next run of the same channel. */
static size_t
feed_more(void *arg, const char *channel, struct outbox_msg *const **msgs)
{
	return feed_next(arg, channel, msgs);
}

/* Send a run through its channel; with stream, the session goes on with
   the channel's next runs (send_more). */
static void
feed_send(struct feed *f, const char *channel, struct outbox_msg *const *msgs,
    size_t n, bool stream)
{
	const struct chan_type *ct = chan_find(channel);
	char err[256];
	void *state;

	if (ct == NULL) {
		for (size_t i = 0; i < n; i++)
			snprintf(msgs[i]->err, sizeof(msgs[i]->err),
			    "unknown channel '%s'", channel);
	} else if (!ct->gates && !marker_wait(f->sd->mk)) {
		/* its messages go out without a gate: the marks first */
		for (size_t i = 0; i < n; i++)
			snprintf(msgs[i]->err, sizeof(msgs[i]->err),
			    "results cannot be recorded");
		f->store_failed = true;
	} else if ((state = ct->open(f->sd->cy->conf, err,
	    sizeof(err))) == NULL) {
		for (size_t i = 0; i < n; i++)
			snprintf(msgs[i]->err, sizeof(msgs[i]->err), "%s", err);
	} else {
		if (stream && ct->send_more != NULL)
			ct->send_more(state, msgs, n, feed_more, f);
		else
			ct->send(state, msgs, n);
		ct->close(state);
	}
}

/*
 * Send what is due now (in the background: and what the digest maker
 * commits, until its last commit). -1 if the delivery had to stop (see
 * feed_load).
 */
static int
deliver_due(struct sender *sd, long long now, struct cycle_stats *stats,
    size_t *unsent)
{
	struct feed f = { .sd = sd, .now = now, .stats = stats,
	    .unsent = unsent, .reread = true };
	struct outbox_msg *const *msgs;
	size_t n;

	while ((n = feed_next(&f, NULL, &msgs)) > 0)
		feed_send(&f, msgs[0]->channel, msgs, n, true);
	feed_account(&f);
	if (!marker_stop(sd->mk))
		f.store_failed = true;
	sd->mk = NULL;
	sd->mk_tried = false;
	if (f.msgs != NULL) {
		if (!sd->held_off)	/* else cycle_deliver tries them */
			*unsent += f.n - f.pos;
		store_outbox_free(f.msgs, f.n);
	}
	free(f.ids);
	if (f.store_failed)
		log_err("outbox: results cannot be recorded: delivery stops "
		    "until the next cycle");
	return f.rc == -1 || f.store_failed ? -1 : 0;
}

/*
 * The background thread: delivers from the first commit with messages to
 * the last (the feed waits for each).
 */
static void *
bg_main(void *arg)
{
	struct bg_deliver *bg = arg;
	struct sender sd = { .cy = bg->cy, .st = bg->st, .bg = bg };

	if (deliver_due(&sd, bg->now, &bg->stats, &bg->unsent) == -1)
		bg->store_failed = true;
	return NULL;
}

static void
bg_free(struct bg_deliver *bg)
{
	pthread_mutex_destroy(&bg->m);
	pthread_cond_destroy(&bg->cv);
	store_close(bg->st);
	free(bg);
}

/*
 * Start delivering in the background (cycle_digests, after its first
 * commit).  Nothing happens if the thread or its connection cannot be
 * had: cycle_deliver then sends it all afterwards, as without a thread.
 */
static void
bg_start(struct cycle *cy, long long now)
{
	struct bg_deliver *bg;
	char err[256];
	int rc;

	if (cy->bg != NULL || cy->bg_tried)
		return;
	cy->bg_tried = true;
	if (getenv("PAPERWATCH_SERIAL_DELIVERY") != NULL)
		return;
	bg = xcalloc(1, sizeof(*bg));
	bg->cy = cy;
	bg->now = now;
	pthread_mutex_init(&bg->m, NULL);
	pthread_cond_init(&bg->cv, NULL);
	if ((bg->st = store_open(cy->conf->state, err, sizeof(err))) == NULL) {
		log_debug("deliver: no background delivery: %s", err);
		bg_free(bg);
		return;
	}
	/* its commits, in the write turn, leave the checkpoints to us */
	store_defer_checkpoints(bg->st);
	if ((rc = spawn(&bg->thread, bg_main, bg)) != 0) {
		log_debug("deliver: no background delivery: %s", strerror(rc));
		bg_free(bg);
		return;
	}
	cy->bg = bg;
}

/* The digest maker takes the write turn (no-op without a thread). */
static void
bg_hold(struct cycle *cy)
{
	if (cy->bg != NULL && !cy->bg->main_holds) {
		turn_take(cy->bg);
		cy->bg->main_holds = true;
	}
}

static void
bg_release(struct cycle *cy)
{
	if (cy->bg != NULL && cy->bg->main_holds) {
		cy->bg->main_holds = false;
		turn_give(cy->bg);
	}
}

/* After a commit: wake the thread if messages came, and let it write if
   it waits. */
static void
bg_committed(struct cycle *cy, bool messages)
{
	struct bg_deliver *bg = cy->bg;

	if (bg == NULL)
		return;
	if (messages) {
		pthread_mutex_lock(&bg->m);
		bg->commits++;
		pthread_cond_broadcast(&bg->cv);
		pthread_mutex_unlock(&bg->m);
	}
	if (bg->main_holds && turn_wanted(bg)) {
		bg_release(cy);
		bg_hold(cy);
	}
}

/* No more digests: let the thread deliver the rest, and wait for it. */
static void
bg_finish(struct cycle *cy, struct cycle_stats *stats, size_t *unsent,
    bool *store_failed)
{
	struct bg_deliver *bg = cy->bg;

	if (bg == NULL)
		return;
	bg_release(cy);
	pthread_mutex_lock(&bg->m);
	bg->done = true;
	pthread_cond_broadcast(&bg->cv);
	pthread_mutex_unlock(&bg->m);
	pthread_join(bg->thread, NULL);
	if (stats != NULL) {
		stats->sent += bg->stats.sent;
		stats->retrying += bg->stats.retrying;
		stats->dead += bg->stats.dead;
	}
	*unsent += bg->unsent;
	*store_failed = bg->store_failed;
	bg_free(bg);
	cy->bg = NULL;
}

size_t
cycle_deliver(struct cycle *cy, long long now, struct cycle_stats *stats)
{
	struct sender sd = { .cy = cy, .st = cy->st };
	size_t unsent = 0;
	bool failed = false;

	/* what the background thread could not send is still due */
	bg_finish(cy, stats, &unsent, &failed);
	if (!failed && !stopping(cy))
		deliver_due(&sd, now, stats, &unsent);
	store_outbox_compact(cy->st);
	store_checkpoint(cy->st, 1);
	return unsent;
}

long long
cycle_next_due(struct cycle *cy, long long now)
{
	long long next = now + 3600;

	for (size_t i = 0; i < cy->conf->n_sources; i++) {
		struct store_feed f;
		char err[64];

		if (store_feed_get(cy->st, cy->conf->sources[i].name, &f, err,
		    sizeof(err)) == 0 && f.next_poll < next)
			next = f.next_poll;
		store_feed_release(&f);
	}
	for (size_t i = 0; i < cy->conf->n_subs; i++) {
		long long last = store_sub_last_digest(cy->st,
		    cy->conf->subs[i].name);
		long long t = schedule_next(&cy->schedules[i],
		    last >= 0 ? last : now, last);

		/*
		 * Still due after the round that made the digests: making
		 * it failed (a template error, a full disk), and does
		 * again until fixed. Not every second: every few minutes.
		 */
		if (last >= 0 && t <= now)
			t = now + CYCLE_DIGEST_RETRY;
		if (cy->schedules[i].kind != SCHEDULE_IMMEDIATE && t < next)
			next = t;
	}
	{
		long long t = store_outbox_next_attempt(cy->st);

		if (t >= 0 && t < next)
			next = t;
	}
	return next > now ? next : now + 1;
}

/* match and preview */

struct cm_ctx {
	struct cycle		*cy;
	const struct paper	*paper;
	const char		*source;
	cycle_match_cb		 cb;
	void			*arg;
};

static void
on_cm(const struct match_result *r, void *arg)
{
	struct cm_ctx *c = arg;
	const struct conf_sub *sub = &c->cy->conf->subs[r->sub];

	if (c->source != NULL && !conf_sub_reads(sub, c->source))
		return;
	c->cb(sub->name, c->paper, r->score, r->hits, r->n_hits, c->arg);
}

void
cycle_match(struct cycle *cy, const struct paper_list *papers,
    const char *source, cycle_match_cb cb, void *arg)
{
	struct cm_ctx c = { .cy = cy, .source = source, .cb = cb, .arg = arg };
	char err[256];

	if (cycle_matcher(cy, err, sizeof(err)) == NULL) {
		log_err("match: %s", err);
		return;
	}
	for (size_t i = 0; i < papers->n; i++) {
		c.paper = papers->v[i];
		match_paper(cy->matcher, papers->v[i], source, on_cm, &c);
	}
}

struct pv_ctx {
	size_t			 sub;
	const struct paper	*paper;
	struct digest_item	*items;
	struct strvec		*hits;	/* one per item, owned */
	size_t			 n;
	size_t			 cap;
};

static void
on_pv(const struct match_result *r, void *arg)
{
	struct pv_ctx *c = arg;

	if (r->sub != c->sub)
		return;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->items = xreallocarray(c->items, c->cap, sizeof(*c->items));
		c->hits = xreallocarray(c->hits, c->cap, sizeof(*c->hits));
	}
	strvec_init(&c->hits[c->n]);
	for (size_t i = 0; i < r->n_hits; i++)
		strvec_push(&c->hits[c->n], r->hits[i]);
	c->items[c->n].paper = c->paper;
	c->items[c->n].score = r->score;
	c->n++;
}

static size_t
find_sub(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_subs; i++)
		if (strcmp(c->subs[i].name, name) == 0)
			break;
	return i;
}

int
cycle_preview(struct cycle *cy, const char *subname, const char *format,
    struct paper_list *papers, long long now, struct strvec *out, char *err,
    size_t errlen)
{
	size_t si = find_sub(cy->conf, subname);
	struct pv_ctx pv = { .sub = si };
	struct built b;
	struct digest d;
	char date[32], id[64];
	int rc;

	if (si == cy->conf->n_subs) {
		snprintf(err, errlen, "no subscription '%s'", subname);
		return -1;
	}
	if (papers != NULL && cycle_matcher(cy, err, errlen) == NULL)
		return -1;
	memset(&b, 0, sizeof(b));
	if (papers == NULL &&
	    build_items(cy, cy->st, &cy->conf->subs[si], &b, err, errlen) == -1)
		return -1;
	for (size_t i = 0; papers != NULL && i < papers->n; i++) {
		pv.paper = papers->v[i];
		match_paper(cy->matcher, papers->v[i], NULL, on_pv, &pv);
	}
	for (size_t i = 0; i < pv.n; i++) {
		pv.items[i].hits = (const char *const *)pv.hits[i].v;
		pv.items[i].n_hits = pv.hits[i].n;
	}
	digest_setup(cy, si, &b, now, &d, date, sizeof(date), id, sizeof(id));
	if (papers != NULL) {
		d.items = pv.items;
		d.n_items = pv.n;
		digest_sort(&d);
		if (cy->conf->subs[si].max_papers > 0 &&
		    d.n_items > (size_t)cy->conf->subs[si].max_papers)
			d.n_items = (size_t)cy->conf->subs[si].max_papers;
	}
	digest_sort(&d);
	rc = digest_render(cy->renderer, &d, format, out, err, errlen);
	built_release(&b);
	for (size_t i = 0; i < pv.n; i++)
		strvec_release(&pv.hits[i]);
	free(pv.hits);
	free(pv.items);
	return rc;
}
