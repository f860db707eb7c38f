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

#include <stdbool.h>
#include <stddef.h>

struct fetch_opts {
	const char	*user_agent;		/* required */
	long long	 max_size;		/* bytes; 0: 50 MB */
	int		 timeout;		/* seconds for a whole transfer; 0: 60 */
	int		 connect_timeout;	/* seconds; 0: 15 */
	const char	*ca_file;		/* NULL: system store */
	bool		 insecure;		/* skip TLS verification (logged) */
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
void	fetch_global_cleanup(void);

/*
 * Run every job to completion (concurrently across hosts, serialised and
 * spaced per host, in the order given within a host).  Jobs are filled in
 * place.  Returns the number of jobs that ended FETCH_OK or
 * FETCH_NOT_MODIFIED.
 */
size_t	fetch_run(const struct fetch_opts *opts, struct fetch_job *const *jobs,
	    size_t n);

/* Free what fetch_run put into job (new_etag). */
void	fetch_job_release(struct fetch_job *job);

#endif
