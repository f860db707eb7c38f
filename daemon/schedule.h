/*
 * schedule.h: when a subscription's digest is due.  Schedules:
 * "daily HH:MM", "weekly DAY HH:MM" (mon..sun), "every N{m,h,d}",
 * "immediate", in an IANA time zone (NULL: the system's).  DST changes
 * neither skip nor double a digest: a local time that does not exist
 * (spring forward) fires at the first instant after the gap; a local time
 * that occurs twice (fall back) fires once, at its first occurrence.
 */
#ifndef PW_DAEMON_SCHEDULE_H
#define PW_DAEMON_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>

enum schedule_kind {
	SCHEDULE_IMMEDIATE = 0,
	SCHEDULE_DAILY,
	SCHEDULE_WEEKLY,
	SCHEDULE_EVERY,
};

struct schedule {
	enum schedule_kind kind;
	int		 hour;		/* daily, weekly */
	int		 minute;
	int		 wday;		/* weekly: 0 = Sunday .. 6 */
	long long	 every;		/* every: seconds */
	char		*tz;		/* owned; NULL: system zone */
};

/* Parse text; 0, or -1 with err ("expected 'daily HH:MM', ..."). */
int	schedule_parse(const char *text, const char *tz, struct schedule *out,
	    char *err, size_t errlen);
void	schedule_release(struct schedule *s);
/* true if tz names a zone known to the system (tzdata). */
bool	schedule_tz_valid(const char *tz);

/*
 * The first due time strictly after `after` (Unix time).  For "every",
 * the slots are after + every aligned to the last due time `last` (-1 if
 * never sent).  For "immediate", after + 0 (now).
 */
long long schedule_next(const struct schedule *s, long long after,
	    long long last);

/* The local calendar date (YYYY-MM-DD) of t in the schedule's zone. */
void	schedule_local_date(const struct schedule *s, long long t, char *out,
	    size_t outlen);

#endif
