/*
 * store.h: all the state, in one SQLite database (WAL): feed state for
 * conditional GET and staleness, papers merged by id, subscriptions'
 * first cycle, matches, digests and the outbox.  Nobody else includes
 * sqlite3.h.
 *
 * Guarantees: a match belongs to at most one digest; a digest's outbox
 * messages are written in the same transaction that assigns its matches
 * (store_digest_commit); a message is marked sent only by
 * store_outbox_sent.
 */
#ifndef PW_DAEMON_STORE_H
#define PW_DAEMON_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "../feeds/paper.h"
#include "deliver/channel.h"

struct store;

/* Open (create, migrate) the database at path, mode 0600. */
struct store	*store_open(const char *path, char *err, size_t errlen);
void		 store_close(struct store *st);		/* accepts NULL */

/* Give SQLite's page cache back (the daemon calls it when going idle). */
void		 store_release_memory(struct store *st);
/*
 * Deferred checkpoints: st's commits no longer copy the WAL back into the
 * database (SQLite's automatic checkpoint, in the committing thread).
 * The caller runs store_checkpoint(st, k) when it has nothing else to do:
 * it copies the WAL back if it holds k times the pages at which SQLite
 * would have, and says whether it was due.
 */
void		 store_defer_checkpoints(struct store *st);
bool		 store_checkpoint(struct store *st, int factor);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int		 store_begin(struct store *st, char *err, size_t errlen);
int		 store_commit(struct store *st, char *err, size_t errlen);
/* A transaction that only reads: one snapshot, one lock, for many reads
   (store_commit ends it). */
int		 store_begin_read(struct store *st, char *err, size_t errlen);
void		 store_rollback(struct store *st);
/*
 * Inside a transaction: SAVEPOINT, RELEASE it, or undo what was done
 * since it (ROLLBACK TO + RELEASE).  Not nested.
 */
int		 store_savepoint(struct store *st, char *err, size_t errlen);
int		 store_savepoint_release(struct store *st, char *err,
		    size_t errlen);
void		 store_savepoint_rollback(struct store *st);
/* true between store_begin and store_commit (unless SQLite rolled back) */
bool		 store_in_transaction(struct store *st);

/* Per-source state. */
struct store_feed {
	char		*etag;
	long long	 last_modified;	/* -1 */
	long long	 last_poll;	/* last attempt, -1 */
	long long	 last_ok;	/* last successful fetch+parse, -1 */
	long long	 last_new;	/* last time it produced a new paper */
	long long	 feed_date;	/* the feed's own date, -1 */
	long long	 next_poll;	/* -1: now */
	long long	 n_fetched;	/* papers in the last good fetch */
	long long	 n_total;	/* papers fetched, all time */
	int		 fails;		/* consecutive failures */
	char		*last_error;
};
void	store_feed_init(struct store_feed *f);
void	store_feed_release(struct store_feed *f);
/* Read the state of source (an empty state if unknown). */
int	store_feed_get(struct store *st, const char *source,
	    struct store_feed *f, char *err, size_t errlen);
int	store_feed_put(struct store *st, const char *source,
	    const struct store_feed *f, char *err, size_t errlen);
/* Names of every source with state, for `status`; caller releases sv. */
int	store_feed_names(struct store *st, struct strvec *sv,
	    char *err, size_t errlen);

/*
 * Record a sighting of p by source.  The stored paper (merged with what
 * was known) is returned in *merged (caller frees).  *fresh is true when
 * this source had not seen the paper before (so subscriptions that read
 * the source should be matched), *newer when it is a newer version of a
 * known paper.  Returns 0 or -1.
 */
int	store_put_paper(struct store *st, const struct paper *p,
	    const char *source, long long now, struct paper **merged,
	    bool *fresh, bool *newer, char *err, size_t errlen);
/*
 * store_put_paper of *pp, which a paper not known before becomes: *merged
 * is then *pp itself, and *pp NULL (the caller no longer owns it). Saves
 * copying every new paper of a feed.
 */
int	store_put_paper_take(struct store *st, struct paper **pp,
	    const char *source, long long now, struct paper **merged,
	    bool *fresh, bool *newer, char *err, size_t errlen);
/* The stored paper id, or NULL. */
struct paper *store_get_paper(struct store *st, const char *id);
/* Papers first seen at or after since (for backfill); caller releases. */
int	store_papers_since(struct store *st, long long since,
	    struct paper_list *out, char *err, size_t errlen);
long long store_count_papers(struct store *st);

/*
 * The time a subscription was first seen (recorded now when new): papers
 * first seen before it are not matched for it, unless backfill_days.
 */
int	store_sub_first(struct store *st, const char *sub, long long now,
	    long long *first, bool *is_new, char *err, size_t errlen);
/* When the subscription's last digest was made (-1 never). */
long long store_sub_last_digest(struct store *st, const char *sub);
/*
 * Record that sub's digest slot at `when` was handled, even when there was
 * nothing to send, so a schedule's next slot counts from it.
 */
/*
 * Call at the start of a round: if the clock went back since the last
 * one (by more than 5 minutes), the digest slots, retries and polls set
 * while it was ahead are moved back; returns the jump (0: none), -1.
 */
long long store_clock_check(struct store *st, long long now, char *err,
    size_t errlen);
int	store_sub_set_last_digest(struct store *st, const char *sub,
	    long long when, char *err, size_t errlen);

/* Add a match; 1 if new, 0 if the pair was already known, -1 error. */
int	store_add_match(struct store *st, const char *sub, const char *paper,
	    int version, double score, const char *const *hits, size_t n_hits,
	    long long now, char *err, size_t errlen);

/* A match for store_add_matches; hits_json as store_hits_json writes. */
struct store_new_match {
	const char	*sub;
	const char	*paper;
	int		 version;
	double		 score;
	const char	*hits_json;
};
/* The hits of a match as the JSON array of strings the table holds. */
void	store_hits_json(const char *const *hits, size_t n, struct buf *out);
/*
 * Add n matches, in order, as store_add_match would one by one (a pair
 * already known is left as it is), several to a statement.  Returns how
 * many were new, or -1.
 */
long long store_add_matches(struct store *st, const struct store_new_match *m,
	    size_t n, long long now, char *err, size_t errlen);

struct store_match {
	char		*paper;		/* id */
	double		 score;
	struct strvec	 hits;
	long long	 matched;
};
/*
 * Matches of sub not in any digest yet scoring at least min_score, best
 * score first, at most limit of them (0: all).
 */
int	store_pending(struct store *st, const char *sub, double min_score,
	    size_t limit, struct store_match **out, size_t *n, char *err,
	    size_t errlen);
void	store_matches_free(struct store_match *m, size_t n);
long long store_count_pending(struct store *st);
/* All matches and all digests ever recorded (for the metrics). */
long long store_count_matches(struct store *st);
long long store_count_digests(struct store *st);

/*
 * Create a digest for sub and assign the given papers to it; every other
 * pending match of sub (below min_score or past max_papers) is marked
 * handled without a digest.  Inside the caller's transaction.  Returns
 * the digest id or -1.
 */
long long store_digest_new(struct store *st, const char *sub,
	    const char *date, long long now, const char *const *papers,
	    size_t n, char *err, size_t errlen);
/*
 * The same with the digest's id given (0: the next one), and the id the
 * next digest would get now (-1 on error).
 */
long long store_digest_new_id(struct store *st, long long id,
	    const char *sub, const char *date, long long now,
	    const char *const *papers, size_t n, char *err, size_t errlen);
long long store_digest_next_id(struct store *st, char *err, size_t errlen);
/* Mark every pending match of sub handled without a digest. */
int	store_drop_pending(struct store *st, const char *sub,
	    char *err, size_t errlen);

/* Outbox. */
int	store_outbox_add(struct store *st, long long digest, const char *sub,
	    const char *channel, const char *dest, const char *subject,
	    const char *body, size_t len, long long now,
	    char *err, size_t errlen);
/* Messages due at now (pending, next_attempt <= now): by channel, then
   oldest first (so one session carries a channel's messages). */
int	store_outbox_due(struct store *st, long long now, size_t limit,
	    struct outbox_msg ***out, size_t *n, char *err, size_t errlen);
/*
 * store_outbox_due in two steps: the ids of up to limit due messages in
 * the same order (cheap: no body is read), then the messages of ids that
 * are still pending, in that order.  Caller frees *ids.
 */
int	store_outbox_due_ids(struct store *st, long long now, size_t limit,
	    long long **ids, size_t *n, char *err, size_t errlen);
int	store_outbox_load(struct store *st, const long long *ids,
	    size_t n_ids, struct outbox_msg ***out, size_t *n,
	    char *err, size_t errlen);
void	store_outbox_free(struct outbox_msg **m, size_t n);
int	store_outbox_sent(struct store *st, long long id, long long now,
	    char *err, size_t errlen);
/* A failed attempt: retry at next (state stays pending) or dead. */
int	store_outbox_failed(struct store *st, long long id, bool dead,
	    long long next, const char *why, char *err, size_t errlen);

struct store_outbox_row {
	long long	 id;
	char		*sub;
	char		*channel;
	char		*dest;		/* webhooks: "SUB#N", never a URL */
	char		*state;		/* pending, sent, dead */
	int		 attempts;
	long long	 next_attempt;
	long long	 created;
	char		*last_error;
};
/* Rows not sent (pending and dead), for `status`. */
int	store_outbox_list(struct store *st, struct store_outbox_row **out,
	    size_t *n, char *err, size_t errlen);
void	store_outbox_rows_free(struct store_outbox_row *r, size_t n);
/* Retry now (id, or all when id < 0): dead/pending -> pending, due now. */
int	store_outbox_retry(struct store *st, long long id, long long now,
	    char *err, size_t errlen);
int	store_outbox_drop(struct store *st, long long id,
	    char *err, size_t errlen);
/* Drop the bodies of sent messages (kept until then for a resend). */
void	store_outbox_compact(struct store *st);
/* The earliest next attempt of a pending message, or -1 if none. */
long long store_outbox_next_attempt(struct store *st);
/* Counts by state: pending (incl. retrying), retrying, dead, sent. */
void	store_outbox_counts(struct store *st, long long *pending,
	    long long *retrying, long long *dead, long long *sent);

#endif
