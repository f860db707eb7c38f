/*
 * conf.h: the config file (libconfig syntax) read into one validated
 * struct conf.  Unknown keys, wrong types and missing required settings are
 * errors; every error is reported as "FILE:LINE: message", all of them,
 * not only the first.
 */
#ifndef PW_DAEMON_CONF_H
#define PW_DAEMON_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "../feeds/util.h"

enum conf_tls {
	CONF_TLS_STARTTLS = 0,		/* required (default) */
	CONF_TLS_NONE,			/* plain text: a relay on localhost */
};

struct conf_smtp {
	char		*host;		/* NULL: no SMTP configured */
	int		 port;		/* default 587 (25 when tls = none) */
	enum conf_tls	 tls;
	char		*user;
	char		*password;	/* read from password_file/credentials;
					   a secret: never log it */
	char		*password_file;
	char		*ca_file;
	char		*ca_dir;
	bool		 tls_verify;	/* default true */
	char		*from;		/* "Name <addr>" or "addr" */
	char		*reply_to;
	char		*list_unsubscribe; /* mailto: or https: */
	char		*helo;		/* EHLO name, default the host name */
	int		 timeout;	/* seconds, default 60 */
	int		 line;
};

struct conf_source {
	char		*name;
	char		*type;		/* a source_types[] name */
	char		*url;		/* http(s):// or file:// */
	char		*query;		/* arxiv-api search_query */
	struct strvec	 categories;	/* arxiv-api/arxiv-rss categories */
	struct strvec	 announce;	/* arxiv-rss: default new, cross */
	int		 max_results;	/* arxiv-api, default 100 */
	int		 interval;	/* seconds between polls, 0: default */
	char		*date;		/* hf-daily: "YYYY-MM-DD" or NULL */
	int		 limit;		/* hf-daily page size */
	int		 line;
};

struct conf_webhook {
	char		*format;	/* slack, discord, mattermost, teams,
					   matrix, ntfy, json */
	char		*url;		/* a secret: never log it */
	char		*url_file;
	char		*token;		/* matrix access token; secret */
	char		*token_file;
	char		*secret;	/* json: HMAC-SHA256 key; secret */
	char		*secret_file;
	char		*template;	/* override the default template */
	int		 line;
};

struct conf_sub {
	char		*name;
	char		*query;		/* NULL when only keywords */
	struct strvec	 keywords;	/* any of these */
	struct strvec	 exclude;	/* none of these */
	struct strvec	 sources;	/* empty: every source */
	char		*schedule;	/* "daily 08:00", ..., "immediate" */
	char		*timezone;	/* IANA name or NULL: the system's */
	int		 max_papers;	/* 0: no limit */
	double		 min_score;
	bool		 send_empty;
	bool		 replacements;	/* also match replaced papers */
	int		 backfill_days;
	struct strvec	 email;
	char		*mbox;
	struct conf_webhook *webhooks;
	size_t		 n_webhooks;
	char		*subject;	/* subject template, or NULL */
	int		 line;
	int		 query_line;	/* line of the query setting */
};

struct conf {
	char		*path;
	char		*state;		/* SQLite file */
	char		*user_agent;
	char		*template_dir;	/* overrides per template name */
	char		*data_dir;	/* installed templates */
	char		*metrics_file;
	int		 log_level;	/* enum log_level */
	long long	 max_response_size;	/* bytes, default 50 MB */
	int		 fetch_timeout;	/* seconds, default 60 */
	int		 stale_after;	/* seconds, default 2 days */
	int		 max_attempts;	/* outbox tries before dead, 10 */
	bool		 password_warning; /* holds a password, world-readable */
	struct conf_smtp smtp;
	struct conf_source *sources;
	size_t		 n_sources;
	struct conf_sub	*subs;
	size_t		 n_subs;
};

/*
 * Load and validate path.  On success returns the config.  On failure
 * returns NULL and appends one "FILE:LINE: message\n" line per error to
 * errs (which the caller owns and prints).
 */
struct conf	*conf_load(const char *path, struct buf *errs);
/*
 * The same, reading the text from fd (from offset 0; fd stays open):
 * the snapshot of path that `run` validated.  Errors and relative paths
 * (@include, *_file) are still named and resolved from path.
 */
struct conf	*conf_load_fd(const char *path, int fd, struct buf *errs);
void		 conf_free(struct conf *c);		/* accepts NULL */

const struct conf_source *conf_find_source(const struct conf *c,
		    const char *name);
/* true if sub reads source (its sources list is empty or names it). */
bool		 conf_sub_reads(const struct conf_sub *sub, const char *source);

/* Parse "90", "90s", "15m", "1h", "2d" into seconds; -1 if invalid. */
long long	 conf_parse_duration(const char *s);

#endif
