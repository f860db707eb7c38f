/*
 * fetch.c: polling over libcurl multi (see fetch.h for the contract).
 *
 * One run groups its jobs by host.  A host runs one transfer at a time and
 * starts the next one no earlier than min_interval after the START of the
 * previous one; hosts run side by side (at most FETCH_MAX_PARALLEL
 * transfers).  Everything a transfer decides (size cap, aborts, refused
 * redirects) is kept in its struct xfer and turned into one status and one
 * err line when libcurl reports it done.
 */
#include "feeds/fetch.h"

#include <curl/curl.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "feeds/util.h"

#define FETCH_DEFAULT_MAX	(50LL * 1024 * 1024)
#define FETCH_DEFAULT_TIMEOUT	60
#define FETCH_DEFAULT_CONNECT	15
#define FETCH_MAX_REDIRS	5
#define FETCH_MAX_PARALLEL	16
#define FETCH_ETAG_MAX		512
#define FETCH_POLL_MS		250
#define FETCH_HOSTKEY_MAX	256
#define FETCH_REMEMBER		64

struct host {
	char		 key[FETCH_HOSTKEY_MAX];
	double		 interval;	/* largest min_interval of its jobs */
	double		 next_ok;	/* monotonic: earliest next start */
	size_t		 next;		/* where to look for its next job */
	bool		 busy;
	bool		 skip;		/* do not try its remaining jobs */
	long long	 skip_after;	/* their retry_after */
	char		 skip_err[256];	/* as big as fetch_job.err */
};

struct xfer {
	CURL		*h;
	struct fetch_job *job;
	struct host	*host;
	struct curl_slist *hdrs;
	char		*hop_url;	/* the URL of the latest request */
	long long	 cap;
	long long	 seen;		/* body bytes read, any status */
	bool		 too_big;
	bool		 aborted;	/* on_data returned -1 */
	bool		 redirect_refused;
	char		 errbuf[CURL_ERROR_SIZE];
};

struct run {
	const struct fetch_opts *opts;
	struct fetch_job *const *jobs;
	size_t		 n;
	CURLM		*multi;
	struct host	*hosts;
	size_t		 nhosts;
	size_t		*hostof;	/* job index -> host index, or SIZE_MAX */
	size_t		 left;		/* jobs without a final status */
	struct xfer	*active[FETCH_MAX_PARALLEL];
	size_t		 running;	/* transfers in active[] */
	size_t		 ok;
	long long	 cap;
	long		 timeout;	/* seconds */
	long		 connect_timeout;
};

/* Start times of the latest request per host, kept across runs. */
static struct {
	char	key[FETCH_HOSTKEY_MAX];
	double	last;
} remembered[FETCH_REMEMBER];
static size_t nremembered;
static double spacing_floor = -1;	/* fetch_assume_requests_at */

static const struct {
	CURLoption	opt;
	long		val;
} long_opts[] = {
	{ CURLOPT_NOSIGNAL,		1L },
	{ CURLOPT_FOLLOWLOCATION,	1L },
	{ CURLOPT_MAXREDIRS,		FETCH_MAX_REDIRS },
	{ CURLOPT_FILETIME,		1L },
	{ CURLOPT_TCP_KEEPALIVE,	1L },
	{ CURLOPT_HTTPGET,		1L },
};

int
fetch_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
fetch_global_cleanup(void)
{
	curl_global_cleanup();
}

void
fetch_job_release(struct fetch_job *job)
{
	if (job == NULL)
		return;
	free(job->new_etag);
	job->new_etag = NULL;
}

const char *
fetch_status_str(enum fetch_status st)
{
	switch (st) {
	case FETCH_OK:			return "ok";
	case FETCH_NOT_MODIFIED:	return "not modified";
	case FETCH_RETRY_LATER:		return "retry later";
	case FETCH_FAILED:		return "failed";
	}
	return "unknown";
}

/* The scheme of url, lower case, into out ("" when there is none). */
static void
url_scheme(const char *url, char *out, size_t outlen)
{
	size_t i;

	out[0] = '\0';
	for (i = 0; url[i] != '\0' && url[i] != ':'; i++)
		if (!isalnum((unsigned char)url[i]) && url[i] != '+' &&
		    url[i] != '-' && url[i] != '.')
			return;
	if (url[i] != ':' || i == 0 || i >= outlen)
		return;
	for (size_t j = 0; j < i; j++)
		out[j] = (char)tolower((unsigned char)url[j]);
	out[i] = '\0';
}

bool
fetch_redirect_allowed(const char *from_url, const char *to_url, char *err,
    size_t errlen)
{
	char from[16], to[16];

	url_scheme(from_url, from, sizeof from);
	url_scheme(to_url, to, sizeof to);
	if (strcmp(to, "http") != 0 && strcmp(to, "https") != 0) {
		snprintf(err, errlen, "redirect to scheme '%s' refused (only "
		    "http and https are followed)", to);
		return false;
	}
	if (strcmp(from, "https") == 0 && strcmp(to, "http") == 0) {
		snprintf(err, errlen, "redirect from https to http refused");
		return false;
	}
	return true;
}

/*
 * The politeness key of url ("host:port" in lower case; "file://" for
 * local files), after checking that it parses and has an allowed scheme.
 */
static int
url_host_key(const char *url, char *key, size_t keylen, char *err,
    size_t errlen)
{
	CURLU *u;
	CURLUcode uc;
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = -1;

	if ((u = curl_url()) == NULL) {
		snprintf(err, errlen, "cannot parse URL: out of memory");
		return -1;
	}
	uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (uc == CURLUE_OK)
		uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	if (uc != CURLUE_OK) {
		snprintf(err, errlen, "bad URL: %s", curl_url_strerror(uc));
		goto out;
	}
	if (strcmp(scheme, "file") == 0) {
		str_copy(key, keylen, "file://");
		rc = 0;
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		snprintf(err, errlen, "unsupported URL scheme '%.20s' (expected "
		    "http, https or file)", scheme);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		snprintf(err, errlen, "bad URL: no host name");
		goto out;
	}
	snprintf(key, keylen, "%s:%s", host, port);
	for (char *p = key; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	rc = 0;
out:
	curl_free(port);
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

/* When the latest request to key started (monotonic), or -1. */
static double
remembered_last(const char *key)
{
	for (size_t i = 0; i < nremembered; i++)
		if (strcmp(remembered[i].key, key) == 0)
			return remembered[i].last > spacing_floor ?
			    remembered[i].last : spacing_floor;
	return spacing_floor;
}

void
fetch_assume_requests_at(double mono)
{
	spacing_floor = mono;
}

/* Remember a start; when the table is full, forget the oldest start. */
static void
remember_start(const char *key, double t)
{
	size_t i, oldest = 0;

	for (i = 0; i < nremembered; i++)
		if (strcmp(remembered[i].key, key) == 0)
			break;
	if (i == nremembered) {
		if (nremembered < FETCH_REMEMBER) {
			nremembered++;
		} else {
			for (i = 1; i < nremembered; i++)
				if (remembered[i].last < remembered[oldest].last)
					oldest = i;
			i = oldest;
		}
		str_copy(remembered[i].key, sizeof remembered[i].key, key);
	}
	remembered[i].last = t;
}

/* Printable ASCII, no more than FETCH_ETAG_MAX bytes: safe in a header. */
static bool
etag_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; s[n] != '\0'; n++)
		if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e ||
		    n >= FETCH_ETAG_MAX)
			return false;
	return true;
}

/* Give job its final status; the run counts it. */
static void
job_done(struct run *r, struct fetch_job *job, enum fetch_status st)
{
	job->status = st;
	if (st == FETCH_OK || st == FETCH_NOT_MODIFIED)
		r->ok++;
	r->left--;
}

static void
job_fail(struct run *r, struct fetch_job *job, enum fetch_status st,
    const char *why)
{
	str_copy(job->err, sizeof job->err, why);
	job_done(r, job, st);
}

static void
job_init(struct fetch_job *job)
{
	job->status = FETCH_FAILED;
	job->http_code = 0;
	job->new_etag = NULL;
	job->new_last_modified = -1;
	job->retry_after = 0;
	job->bytes = 0;
	job->err[0] = '\0';
}

/* Group the jobs by host; jobs with a bad URL fail here. */
static void
plan(struct run *r)
{
	char key[FETCH_HOSTKEY_MAX], err[200];
	size_t i, h;

	for (i = 0; i < r->n; i++) {
		struct fetch_job *job = r->jobs[i];

		r->hostof[i] = SIZE_MAX;
		if (job->url == NULL) {
			job_fail(r, job, FETCH_FAILED, "no URL");
			continue;
		}
		if (url_host_key(job->url, key, sizeof key, err,
		    sizeof err) == -1) {
			job_fail(r, job, FETCH_FAILED, err);
			continue;
		}
		for (h = 0; h < r->nhosts; h++)
			if (strcmp(r->hosts[h].key, key) == 0)
				break;
		if (h == r->nhosts) {
			str_copy(r->hosts[h].key, sizeof r->hosts[h].key, key);
			r->hosts[h].next = i;
			r->nhosts++;
		}
		if (job->min_interval > r->hosts[h].interval)
			r->hosts[h].interval = job->min_interval;
		r->hostof[i] = h;
	}
	for (h = 0; h < r->nhosts; h++) {
		double last = remembered_last(r->hosts[h].key);

		r->hosts[h].next_ok = last < 0 ? 0 : last + r->hosts[h].interval;
	}
}

/* The index of host h's next job not yet started, or r->n. */
static size_t
host_next_job(struct run *r, size_t h)
{
	size_t i;

	for (i = r->hosts[h].next; i < r->n; i++)
		if (r->hostof[i] == h)
			break;
	r->hosts[h].next = i;
	return i;
}

/* Body bytes: only 2xx (or file://) bodies reach on_data, within the cap. */
static size_t
on_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	struct fetch_job *job = x->job;
	size_t n = size * nmemb;
	long code = 0;

	if ((long long)n > x->cap - x->seen) {
		x->too_big = true;
		return 0;
	}
	x->seen += (long long)n;
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
	if (code != 0 && (code < 200 || code > 299))
		return n;
	if (job->on_data != NULL && job->on_data(job, p, n) < 0) {
		x->aborted = true;
		return 0;
	}
	job->bytes += n;
	return n;
}

/*
 * Before every request, the first and each redirect hop: check the
 * redirect policy against the previous hop, so that http -> https -> http
 * is caught too (REDIR_PROTOCOLS_STR alone cannot see it).
 */
static int
on_prereq(void *arg, char *primary_ip, char *local_ip, int primary_port,
    int local_port)
{
	struct xfer *x = arg;
	char *url = NULL;

	(void)primary_ip;
	(void)local_ip;
	(void)primary_port;
	(void)local_port;
	if (curl_easy_getinfo(x->h, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK ||
	    url == NULL)
		return CURL_PREREQFUNC_OK;
	if (x->hop_url != NULL && strcmp(x->hop_url, url) != 0 &&
	    !fetch_redirect_allowed(x->hop_url, url, x->job->err,
	    sizeof x->job->err)) {
		x->redirect_refused = true;
		return CURL_PREREQFUNC_ABORT;
	}
	free(x->hop_url);
	x->hop_url = xstrdup(url);
	return CURL_PREREQFUNC_OK;
}

static void
xfer_free(struct xfer *x)
{
	if (x == NULL)
		return;
	curl_easy_cleanup(x->h);
	curl_slist_free_all(x->hdrs);
	free(x->hop_url);
	free(x);
}

/* Conditional GET: If-None-Match and If-Modified-Since. */
static int
xfer_conditional(struct xfer *x)
{
	const struct fetch_job *job = x->job;

	if (etag_ok(job->etag)) {
		char *line = xasprintf("If-None-Match: %s", job->etag);
		struct curl_slist *l = curl_slist_append(x->hdrs, line);

		free(line);
		if (l == NULL)
			return -1;
		x->hdrs = l;
		if (curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs) !=
		    CURLE_OK)
			return -1;
	}
	if (job->last_modified > 0) {
		if (curl_easy_setopt(x->h, CURLOPT_TIMECONDITION,
		    (long)CURL_TIMECOND_IFMODSINCE) != CURLE_OK ||
		    curl_easy_setopt(x->h, CURLOPT_TIMEVALUE_LARGE,
		    (curl_off_t)job->last_modified) != CURLE_OK)
			return -1;
	}
	return 0;
}

static int
xfer_tls(struct xfer *x, const struct fetch_opts *o)
{
	if (o->ca_file != NULL &&
	    curl_easy_setopt(x->h, CURLOPT_CAINFO, o->ca_file) != CURLE_OK)
		return -1;
	if (o->insecure &&
	    (curl_easy_setopt(x->h, CURLOPT_SSL_VERIFYPEER, 0L) != CURLE_OK ||
	    curl_easy_setopt(x->h, CURLOPT_SSL_VERIFYHOST, 0L) != CURLE_OK))
		return -1;
	return 0;
}

/* Every option of one transfer; -1 if libcurl refused one. */
static int
xfer_setup(struct run *r, struct xfer *x)
{
	CURL *h = x->h;
	const char *redir = str_istarts(x->job->url, "https:") ?
	    "https" : "http,https";
	CURLcode rc = CURLE_OK;

	for (size_t i = 0; i < sizeof long_opts / sizeof long_opts[0]; i++)
		if (curl_easy_setopt(h, long_opts[i].opt, long_opts[i].val) !=
		    CURLE_OK)
			return -1;
	if ((rc = curl_easy_setopt(h, CURLOPT_URL, x->job->url)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_PRIVATE, x)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_WRITEDATA, x)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_PREREQDATA, x)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_USERAGENT,
	    r->opts->user_agent)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR,
	    "http,https,file")) ||
	    (rc = curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, redir)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "")) ||
	    (rc = curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)r->cap)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
	    r->timeout * 1000L)) ||
	    (rc = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    r->connect_timeout * 1000L)))
		return -1;
	if (xfer_tls(x, r->opts) == -1 || xfer_conditional(x) == -1)
		return -1;
	return 0;
}

/* Start job i of host h now. */
static void
start_job(struct run *r, size_t h, size_t i, double now)
{
	struct host *host = &r->hosts[h];
	struct xfer *x = xcalloc(1, sizeof *x);

	x->job = r->jobs[i];
	x->host = host;
	x->cap = r->cap;
	host->next = i + 1;
	if ((x->h = curl_easy_init()) == NULL || xfer_setup(r, x) == -1) {
		job_fail(r, x->job, FETCH_FAILED,
		    "cannot set up the transfer (libcurl refused an option)");
		xfer_free(x);
		return;
	}
	if (curl_multi_add_handle(r->multi, x->h) != CURLM_OK) {
		job_fail(r, x->job, FETCH_FAILED,
		    "cannot add the transfer to libcurl's multi handle");
		xfer_free(x);
		return;
	}
	host->busy = true;
	host->next_ok = now + host->interval;
	remember_start(host->key, now);
	r->active[r->running++] = x;
}

/* Start (or skip) whatever may go now, host by host. */
static void
start_ready(struct run *r, double now)
{
	for (size_t h = 0; h < r->nhosts; h++) {
		struct host *host = &r->hosts[h];
		size_t i;

		if (host->busy)
			continue;
		while (host->skip && (i = host_next_job(r, h)) < r->n) {
			r->jobs[i]->retry_after = host->skip_after;
			job_fail(r, r->jobs[i], FETCH_RETRY_LATER,
			    host->skip_err);
			host->next = i + 1;
		}
		if (r->running >= FETCH_MAX_PARALLEL || now < host->next_ok)
			continue;
		if ((i = host_next_job(r, h)) < r->n)
			start_job(r, h, i, now);
	}
}

/* Skip the rest of this host's jobs in this run: what happened, why. */
static void
host_give_up(struct host *host, long long after, const char *what,
    const char *why)
{
	host->skip = true;
	host->skip_after = after;
	snprintf(host->skip_err, sizeof host->skip_err,
	    "not tried: '%.64s' %s (%.150s)", host->key, what, why);
}

/* A transfer libcurl could not complete: why, and is it temporary? */
static enum fetch_status
classify_curl(struct run *r, struct xfer *x, CURLcode rc)
{
	struct fetch_job *job = x->job;
	const char *why = x->errbuf[0] != '\0' ? x->errbuf :
	    curl_easy_strerror(rc);
	char *eff = NULL;
	curl_off_t connect_us = 0;

	switch (rc) {
	case CURLE_TOO_MANY_REDIRECTS:
		snprintf(job->err, sizeof job->err, "too many redirects (%d)",
		    FETCH_MAX_REDIRS);
		return FETCH_FAILED;
	case CURLE_UNSUPPORTED_PROTOCOL:
		/* a hop REDIR_PROTOCOLS_STR refused: its URL is the
		   effective one */
		curl_easy_getinfo(x->h, CURLINFO_EFFECTIVE_URL, &eff);
		if (x->hop_url != NULL && eff != NULL &&
		    !fetch_redirect_allowed(x->hop_url, eff, job->err,
		    sizeof job->err))
			return FETCH_FAILED;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		curl_easy_getinfo(x->h, CURLINFO_CONNECT_TIME_T, &connect_us);
		if (connect_us == 0 && r->connect_timeout < r->timeout) {
			snprintf(job->err, sizeof job->err,
			    "connection timed out after %ld s",
			    r->connect_timeout);
			host_give_up(x->host, 0, "unreachable", job->err);
		} else {
			snprintf(job->err, sizeof job->err,
			    "timed out after %ld s", r->timeout);
		}
		return FETCH_RETRY_LATER;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		str_copy(job->err, sizeof job->err, why);
		host_give_up(x->host, 0, "unreachable", why);
		return FETCH_RETRY_LATER;
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		str_copy(job->err, sizeof job->err, why);
		return FETCH_RETRY_LATER;
	default:
		break;
	}
	str_copy(job->err, sizeof job->err, why);
	return FETCH_FAILED;
}

/* A completed exchange: what its status code means. */
static enum fetch_status
classify_http(struct xfer *x)
{
	struct fetch_job *job = x->job;
	long code = job->http_code, unmet = 0;
	curl_off_t after = 0;

	curl_easy_getinfo(x->h, CURLINFO_CONDITION_UNMET, &unmet);
	if (code == 304 || (unmet && (code == 0 || code / 100 == 2)))
		return FETCH_NOT_MODIFIED;
	if (code == 0 || code / 100 == 2)
		return FETCH_OK;
	snprintf(job->err, sizeof job->err, "HTTP %ld", code);
	if (code == 429 || code == 408 || code / 100 == 5) {
		curl_easy_getinfo(x->h, CURLINFO_RETRY_AFTER, &after);
		if (after < 0)
			after = 0;
		job->retry_after = after > FETCH_RETRY_AFTER_MAX ?
		    FETCH_RETRY_AFTER_MAX : (long long)after;
		if ((code == 429 || code == 503) && job->retry_after > 0)
			host_give_up(x->host, job->retry_after,
			    "asked to retry later", job->err);
		return FETCH_RETRY_LATER;
	}
	return FETCH_FAILED;
}

/* New validators, as fetch.h describes them. */
static void
read_validators(struct xfer *x, enum fetch_status st)
{
	struct fetch_job *job = x->job;
	struct curl_header *hd = NULL;
	curl_off_t ft = -1;

	if (curl_easy_header(x->h, "ETag", 0, CURLH_HEADER, -1, &hd) ==
	    CURLHE_OK && etag_ok(hd->value))
		job->new_etag = xstrdup(hd->value);
	else if (st == FETCH_NOT_MODIFIED && etag_ok(job->etag))
		job->new_etag = xstrdup(job->etag);
	/* FILETIME is the file's time for file://, but libcurl leaves it
	   unset on a 304: read that reply's Last-Modified then */
	if (curl_easy_getinfo(x->h, CURLINFO_FILETIME_T, &ft) != CURLE_OK ||
	    ft < 0) {
		hd = NULL;
		if (curl_easy_header(x->h, "Last-Modified", 0, CURLH_HEADER,
		    -1, &hd) == CURLHE_OK)
			ft = curl_getdate(hd->value, NULL);
	}
	if (ft >= 0)
		job->new_last_modified = (long long)ft;
	else if (st == FETCH_NOT_MODIFIED)
		job->new_last_modified = job->last_modified;
}

/* The effective scheme check: did an https request end on http? */
static bool
downgraded(const char *first_url, const char *last_url)
{
	char a[16], b[16];

	if (last_url == NULL)
		return false;
	url_scheme(first_url, a, sizeof a);
	url_scheme(last_url, b, sizeof b);
	return strcmp(a, "https") == 0 && strcmp(b, "https") != 0;
}

static void
active_remove(struct run *r, struct xfer *x)
{
	for (size_t i = 0; i < r->running; i++)
		if (r->active[i] == x) {
			r->active[i] = r->active[--r->running];
			return;
		}
}

/* libcurl is done with x: decide, record, free. */
static void
xfer_finish(struct run *r, struct xfer *x, CURLcode rc)
{
	struct fetch_job *job = x->job;
	enum fetch_status st;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &job->http_code);
	if (x->aborted) {
		st = FETCH_FAILED;
		if (job->err[0] == '\0')
			str_copy(job->err, sizeof job->err,
			    "stopped by the receiver");
	} else if (x->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		st = FETCH_FAILED;
		snprintf(job->err, sizeof job->err,
		    "response larger than %lld bytes", x->cap);
	} else if (x->redirect_refused) {
		st = FETCH_FAILED;	/* err written by on_prereq */
	} else if (rc != CURLE_OK) {
		st = classify_curl(r, x, rc);
	} else if (downgraded(job->url, x->hop_url)) {
		st = FETCH_FAILED;	/* on_prereq should have caught it */
		str_copy(job->err, sizeof job->err,
		    "redirect from https to http refused");
	} else {
		st = classify_http(x);
	}
	if (st == FETCH_OK || st == FETCH_NOT_MODIFIED)
		read_validators(x, st);
	x->host->busy = false;
	active_remove(r, x);
	curl_multi_remove_handle(r->multi, x->h);
	xfer_free(x);
	job_done(r, job, st);
}

/* Collect finished transfers. */
static void
drain(struct run *r)
{
	CURLMsg *msg;
	int queued;

	while ((msg = curl_multi_info_read(r->multi, &queued)) != NULL) {
		struct xfer *x = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &x);
		xfer_finish(r, x, msg->data.result);
	}
}

/* End every transfer in flight and every job not started with why. */
static void
cancel_all(struct run *r, enum fetch_status st, const char *why)
{
	for (size_t i = 0; i < r->running; i++) {
		struct xfer *x = r->active[i];

		job_fail(r, x->job, st, why);
		curl_multi_remove_handle(r->multi, x->h);
		xfer_free(x);
	}
	r->running = 0;
	for (size_t h = 0; h < r->nhosts; h++) {
		size_t i;

		while ((i = host_next_job(r, h)) < r->n) {
			job_fail(r, r->jobs[i], st, why);
			r->hosts[h].next = i + 1;
		}
	}
}

/* How long poll may sleep: until the next host may start, at most 250 ms. */
static int
wait_ms(struct run *r, double now)
{
	double w = FETCH_POLL_MS / 1000.0;

	for (size_t h = 0; h < r->nhosts; h++) {
		struct host *host = &r->hosts[h];

		if (host->busy || host_next_job(r, h) >= r->n)
			continue;
		if (host->skip)
			return 0;	/* its jobs end at once */
		if (r->running >= FETCH_MAX_PARALLEL)
			continue;
		if (host->next_ok - now < w)
			w = host->next_ok - now;
	}
	return w <= 0 ? 0 : (int)(w * 1000.0 + 0.999);
}

static bool
stopped(const struct fetch_opts *o)
{
	return o->stop != NULL && *o->stop != 0;
}

/* The event loop of one run. */
static void
loop(struct run *r)
{
	double last_tick = time_mono(), now;
	int still;
	CURLMcode mc;

	while (r->left > 0) {
		if (stopped(r->opts)) {
			cancel_all(r, FETCH_RETRY_LATER, "interrupted");
			return;
		}
		start_ready(r, time_mono());
		mc = curl_multi_perform(r->multi, &still);
		drain(r);
		if (r->left == 0)
			return;
		if (mc == CURLM_OK)
			mc = curl_multi_poll(r->multi, NULL, 0,
			    wait_ms(r, time_mono()), NULL);
		if (mc != CURLM_OK) {
			char why[128];

			snprintf(why, sizeof why, "libcurl multi error: %s",
			    curl_multi_strerror(mc));
			cancel_all(r, FETCH_FAILED, why);
			return;
		}
		now = time_mono();
		if (r->opts->tick != NULL && now - last_tick >= 1.0) {
			last_tick = now;
			r->opts->tick(r->opts->tick_arg);
		}
	}
}

static bool
user_agent_ok(const char *ua)
{
	if (ua == NULL || *ua == '\0')
		return false;
	for (; *ua != '\0'; ua++)
		if ((unsigned char)*ua < 0x20 || *ua == 0x7f)
			return false;
	return true;
}

static long
positive_or(int v, long dflt)
{
	return v > 0 ? v : dflt;
}

size_t
fetch_run(const struct fetch_opts *opts, struct fetch_job *const *jobs,
    size_t n)
{
	struct run r = { .opts = opts, .jobs = jobs, .n = n, .left = n };
	size_t i;

	for (i = 0; i < n; i++)
		job_init(jobs[i]);
	if (opts == NULL || !user_agent_ok(opts->user_agent)) {
		for (i = 0; i < n; i++)
			job_fail(&r, jobs[i], FETCH_FAILED, "no User-Agent "
			    "configured (or it holds control characters)");
		return 0;
	}
	if (n == 0)
		return 0;
	r.cap = opts->max_size > 0 ? opts->max_size : FETCH_DEFAULT_MAX;
	r.timeout = positive_or(opts->timeout, FETCH_DEFAULT_TIMEOUT);
	r.connect_timeout = positive_or(opts->connect_timeout,
	    FETCH_DEFAULT_CONNECT);
	if ((r.multi = curl_multi_init()) == NULL) {
		for (i = 0; i < n; i++)
			job_fail(&r, jobs[i], FETCH_FAILED,
			    "cannot create libcurl's multi handle");
		return 0;
	}
	r.hosts = xcalloc(n, sizeof *r.hosts);
	r.hostof = xcalloc(n, sizeof *r.hostof);
	plan(&r);
	loop(&r);
	curl_multi_cleanup(r.multi);
	free(r.hosts);
	free(r.hostof);
	return r.ok;
}
