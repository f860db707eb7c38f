/*
 * schedule.h: when a subscription's digest is due.  Schedules:
 * "daily HH:MM", "weekly DAY HH:MM" (mon..sun), "every N{m,h,d}",
 * "immediate", in an IANA time zone (NULL: the system's).  DST changes
 * neither skip nor double a digest: a local time that does not exist
 * (spring forward) fires at the first instant after the gap; a local time
 * that occurs twice (fall back) fires once, at its first occurrence.
 *
 * Time zones are read from tzdata's TZif files (RFC 8536, under
 * /usr/share/zoneinfo, or $TZDIR) by this module; it never touches the
 * TZ variable of the process, so nothing else (log, SQLite, localtime())
 * is affected.  A zone is read once and shared by every schedule naming it
 * (reference counted; the shared table is guarded by a mutex), so every
 * function here may be called from any thread.
 */
#ifndef PW_DAEMON_SCHEDULE_H
#define PW_DAEMON_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum schedule_kind {
	SCHEDULE_IMMEDIATE = 0,
	SCHEDULE_DAILY,
	SCHEDULE_WEEKLY,
	SCHEDULE_EVERY,
};

/* Bounds of "every N{m,h,d}", in seconds. */
#define SCHEDULE_EVERY_MIN	60LL
#define SCHEDULE_EVERY_MAX	(365LL * 86400)

struct schedule_zone;	/* opaque: a loaded time zone, defined in schedule.c */

struct schedule {
	enum schedule_kind kind;
	int		 hour;		/* daily, weekly */
	int		 minute;
	int		 wday;		/* weekly: 0 = Sunday .. 6 */
	long long	 every;		/* every: seconds */
	char		*tz;		/* owned; NULL: system zone */
	struct schedule_zone *zone;	/* owned reference, set by
					   schedule_parse; NULL: looked up
					   from tz on each call (slower) */
};

/*
 * Parse text (case-insensitive, e.g. "weekly Monday 08:00", "every 6h",
 * "every 90 min") in zone tz (an IANA name; NULL: the system's, from $TZ
 * or /etc/localtime, UTC if neither works).  0, or -1 with err
 * ("schedule 'daily 25:00': bad time '25:00' (expected HH:MM, 00:00 to
 * 23:59)", "unknown time zone 'Europe/Berln' ...") and *out left empty
 * (safe to release).  The result holds a zone reference: free it with
 * schedule_release, duplicate it with schedule_copy, never with memcpy.
 */
int	schedule_parse(const char *text, const char *tz, struct schedule *out,
	    char *err, size_t errlen);
void	schedule_release(struct schedule *s);	/* back to empty; idempotent */
/* Make dst (uninitialised) an independent copy of src. */
void	schedule_copy(struct schedule *dst, const struct schedule *src);
/*
 * true if tz names a zone known to the system (tzdata): a relative name of
 * letters, digits, '_', '+', '-' and '/' whose TZif file reads correctly.
 * Paths, "..", POSIX TZ strings and leap-second ("right/") zones are not.
 */
bool	schedule_tz_valid(const char *tz);

/*
 * The first due time strictly after `after` (Unix time).  For "every",
 * the slots are after + every aligned to the last due time `last` (-1 if
 * never sent).  For "immediate", after + 0 (now).
 *
 * Precisely: daily/weekly: the earliest local HH:MM (on the given weekday)
 * whose instant is > after, gaps and overlaps resolved as above; every:
 * last + k * every for the smallest integer k giving a time > after, or
 * after + every when last < 0; every is absolute time, so "every 1d"
 * keeps its UTC hour across DST.  Times are clamped to +-2^40 s.
 */
long long schedule_next(const struct schedule *s, long long after,
	    long long last);

/* The local calendar date (YYYY-MM-DD) of t in the schedule's zone. */
void	schedule_local_date(const struct schedule *s, long long t, char *out,
	    size_t outlen);

/*
 * Broken-down local time of t in the schedule's zone, like localtime_r
 * (tm_isdst, tm_gmtoff set; tm_zone is borrowed from the schedule's zone
 * and valid while s is; "" for a schedule without a zone reference).
 * Returns the UTC offset in seconds; tm may be NULL for the offset only.
 */
long	schedule_localtime(const struct schedule *s, long long t,
	    struct tm *tm);

/*
 * The instant of the local wall time year-month-day hour:minute in the
 * schedule's zone (month 1..12; day, hour, minute may overflow and are
 * carried, as in mktime).  A time in a gap gives the first instant after
 * the gap; a time that occurs twice gives its first occurrence.
 */
long long schedule_resolve_local(const struct schedule *s, int year,
	    int month, int day, int hour, int minute);

/*
 * A jittered interval: interval +- 10 %, uniform, for spreading polls and
 * retries.  *seed is the generator state (any value; updated).  Returns
 * interval unchanged when interval < 10 or seed is NULL; never < 1 when
 * interval >= 1.
 */
long long schedule_jitter(long long interval, unsigned *seed);

/*
 * arXiv announces new papers once per weekday evening, around 20:00
 * America/New_York, on Sunday to Thursday evenings (none on Friday and
 * Saturday nights; holidays are not known here).  Returns the next time
 * worth polling an arXiv announcement feed strictly after now:
 * SCHEDULE_ARXIV_POLL (20:30 New York time) on the next announcement
 * evening, plus jitter seconds (clamped to 0..SCHEDULE_ARXIV_JITTER_MAX),
 * e.g. schedule_arxiv_next_poll(now, schedule_jitter(600, &seed)).
 * Falls back to the US rules (EST5EDT) if tzdata is missing.
 */
#define SCHEDULE_ARXIV_POLL_HOUR	20
#define SCHEDULE_ARXIV_POLL_MINUTE	30
#define SCHEDULE_ARXIV_JITTER_MAX	3600LL
long long schedule_arxiv_next_poll(long long now, long long jitter);

#endif
