/*
 * cycle.h: the pipeline that connects the stages: poll the sources, store
 * and match what is new, turn due subscriptions' matches into digests in
 * the outbox, deliver the outbox.  `once` runs each step once; `run`
 * calls them when they are due.
 */
#ifndef PW_DAEMON_CYCLE_H
#define PW_DAEMON_CYCLE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "../feeds/paper.h"
#include "conf.h"
#include "store.h"

struct cycle;

struct cycle_stats {
	size_t	sources_ok;
	size_t	sources_failed;
	size_t	papers_fetched;
	size_t	papers_new;
	size_t	matches;
	size_t	digests;
	size_t	messages;		/* written to the outbox */
	size_t	sent;
	size_t	retrying;
	size_t	dead;
};

/*
 * A pipeline over c and st (both borrowed, must outlive it): compiles
 * the matcher and the template renderer.  NULL and err on failure.
 */
struct cycle	*cycle_new(const struct conf *c, struct store *st,
		    char *err, size_t errlen);
void		 cycle_free(struct cycle *cy);		/* accepts NULL */

/*
 * Record subscriptions seen for the first time (and backfill them when
 * backfill_days is set).  cycle_poll calls it; idempotent.
 */
void		 cycle_register(struct cycle *cy, long long now,
		    struct cycle_stats *stats);

/*
 * Poll sources: all of them when force, else those whose next poll time
 * has come.  A failing source is logged and never stops the others; a
 * failed or partial fetch marks nothing as seen.  Returns the number of
 * sources that failed.
 */
size_t		 cycle_poll(struct cycle *cy, bool force, long long now,
		    struct cycle_stats *stats);

/*
 * Ingest papers parsed from a file or any other origin as if source
 * `source` had produced them (used by `once --source-file` and tests).
 * The papers are taken out of the list (their entries set to NULL, and
 * freed unless kept); papers->n stays, and paper_list_release still works.
 */
int		 cycle_ingest(struct cycle *cy, const char *source,
		    struct paper_list *papers, long long now,
		    struct cycle_stats *stats, char *err, size_t errlen);

/*
 * Turn pending matches into digests and outbox messages: every
 * subscription when force, else those whose schedule is due.  Returns the
 * number of subscriptions whose digest could not be made.  Once messages
 * are committed, a background thread (its own store connection) starts
 * sending what is due; cycle_deliver (or cycle_free) waits for it.
 */
size_t		 cycle_digests(struct cycle *cy, bool force, long long now,
		    struct cycle_stats *stats);

/*
 * Send every outbox message that is due, after waiting for the background
 * delivery started by cycle_digests.  Returns messages not sent.
 */
size_t		 cycle_deliver(struct cycle *cy, long long now,
		    struct cycle_stats *stats);

/* The next time something is due (poll, digest, retry), > now. */
long long	 cycle_next_due(struct cycle *cy, long long now);

/*
 * Hooks from the daemon loop: when *stop becomes non-zero (SIGTERM),
 * fetches end early and delivery stops after the batch in flight; tick is
 * called about once a second during long fetches (the watchdog).
 */
void		 cycle_set_hooks(struct cycle *cy,
		    const volatile sig_atomic_t *stop, void (*tick)(void *arg),
		    void *tick_arg);

/*
 * Render subscription sub's digest of its pending matches (or, when
 * papers is not NULL, of those papers matched now) in format, without
 * recording anything.  Parts are appended to out.
 */
int		 cycle_preview(struct cycle *cy, const char *sub,
		    const char *format, struct paper_list *papers,
		    long long now, struct strvec *out, char *err,
		    size_t errlen);

/* Match papers against every subscription, calling cb per match. */
typedef void	(*cycle_match_cb)(const char *sub, const struct paper *p,
		    double score, const char *const *hits, size_t n_hits,
		    void *arg);
void		 cycle_match(struct cycle *cy, const struct paper_list *papers,
		    const char *source, cycle_match_cb cb, void *arg);

/* The URL of page `page` of source s (0 = first); caller frees. */
char		*cycle_source_url(const struct conf_source *s, int page);

#endif
