/*
 * fetch.h: every libcurl call for polling.  Jobs on different hosts run
 * concurrently (curl multi); jobs on one host are serialised with a
 * minimum interval (arXiv's API: 3 s).  Conditional GET (ETag,
 * Last-Modified), compressed responses, timeouts, at most 5 redirects and
 * never from https to http, a response size cap enforced in the write
 * callback (Content-Length is not enough for chunked replies), Retry-After
 * on 429/503, a User-Agent with a contact address.  http, https and file
 * URLs only.
 */
#ifndef PW_FEEDS_FETCH_H
#define PW_FEEDS_FETCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* Retry-After values above this (seconds) are clamped to it. */
#define FETCH_RETRY_AFTER_MAX	86400

struct fetch_opts {
	const char	*user_agent;		/* required */
	long long	 max_size;		/* bytes; 0: 50 MB */
	int		 timeout;		/* seconds for a whole transfer; 0: 60 */
	int		 connect_timeout;	/* seconds; 0: 15 */
	const char	*ca_file;		/* NULL: system store */
	bool		 insecure;		/* skip TLS verification (logged) */
	/*
	 * Optional.  When *stop becomes non-zero (a signal handler sets it)
	 * the run ends within about 250 ms: transfers in flight and jobs not
	 * yet started end FETCH_RETRY_LATER with err "interrupted".
	 */
	const volatile sig_atomic_t *stop;
	/* Optional: called about once a second while a run lasts (for the
	   systemd watchdog). */
	void		(*tick)(void *tick_arg);
	void		*tick_arg;
};

enum fetch_status {
	FETCH_OK = 0,		/* 2xx, body delivered through on_data */
	FETCH_NOT_MODIFIED,	/* 304: nothing new */
	FETCH_RETRY_LATER,	/* 429/503 (retry_after set), 5xx, timeout,
				   connection refused: temporary */
	FETCH_FAILED,		/* 4xx, bad URL, too big, TLS failure, or
				   on_data asked to stop */
};

struct fetch_job {
	/* in */
	const char	*url;		/* a secret-free URL: it may be logged */
	const char	*etag;		/* from the last 200, or NULL */
	long long	 last_modified;	/* Unix time from the last 200, or -1 */
	double		 min_interval;	/* seconds between requests to this
					   job's host (max of all jobs') */
	/* Body bytes as they arrive; return -1 to abort (err already set by
	   the callee in job->err). */
	int		(*on_data)(struct fetch_job *job, const char *buf,
			    size_t len);
	void		*arg;		/* for the caller */
	/* out */
	enum fetch_status status;
	long		 http_code;	/* 0 for file:// */
	char		*new_etag;	/* owned by the job; fetch_job_release */
	long long	 new_last_modified;	/* -1 if none */
	long long	 retry_after;	/* seconds, 0 if not given */
	size_t		 bytes;		/* body bytes received */
	char		 err[256];	/* why, when not FETCH_OK/NOT_MODIFIED */
};

/* Global libcurl init/cleanup: once per process. */
int	fetch_global_init(void);
/*
 * Assume that every host was last asked at mono (CLOCK_MONOTONIC seconds,
 * the same clock in every process): a process that polls after another
 * one (the workers of `run`) keeps the per-host spacing.  -1 forgets it.
 */
void	fetch_assume_requests_at(double mono);
void	fetch_global_cleanup(void);

/*
 * Run every job to completion (concurrently across hosts, serialised and
 * spaced per host, in the order given within a host).  Jobs are filled in
 * place: the out fields are overwritten, so release a job before reusing
 * it.  Returns the number of jobs that ended FETCH_OK or
 * FETCH_NOT_MODIFIED.
 *
 * - A host is a host name and port (case-insensitive; "example.org" and
 *   "example.org:443" are one host for https); all file:// URLs are one
 *   host.  The start time of the last request to each host is
 *   remembered process-wide, so the spacing also holds across successive
 *   runs (arXiv API paging).  Not thread-safe.
 * - on_data is called only for 2xx bodies (and file:// contents), with the
 *   decoded bytes; other bodies are read and dropped.  bytes counts what
 *   on_data accepted.  The size cap counts decoded bytes, so a compressed
 *   bomb stops at max_size.
 * - On FETCH_OK new_etag/new_last_modified are the reply's validators
 *   (NULL/-1 if absent); on FETCH_NOT_MODIFIED they are the 304's, or the
 *   job's etag/last_modified when the 304 did not repeat them, so the
 *   caller can store them as they are.  An ETag with control characters or
 *   longer than 512 bytes is neither sent nor returned.
 * - When a host answers 429/503 with Retry-After, or cannot be reached
 *   (DNS failure, refused connection, connect timeout), its remaining jobs
 *   in this run are not tried: they end FETCH_RETRY_LATER with an err
 *   saying so (and the same retry_after).
 */
size_t	fetch_run(const struct fetch_opts *opts, struct fetch_job *const *jobs,
	    size_t n);

/* Free what fetch_run put into job (new_etag).  Accepts NULL. */
void	fetch_job_release(struct fetch_job *job);

/*
 * The redirect policy, checked at every hop: true if a request to from_url
 * may be followed by one to to_url (http or https only; never from https
 * to http).  Otherwise false and the reason in err.
 */
bool	fetch_redirect_allowed(const char *from_url, const char *to_url,
	    char *err, size_t errlen);

/* "ok", "not modified", "retry later", "failed". */
const char *fetch_status_str(enum fetch_status st);

#endif
