/*
 * test_schedule.c: schedule parsing, due times, DST transitions (Europe/
 * Berlin and America/New_York, spring and autumn 2026), whole years of
 * daily digests, the TZif reader against glibc's localtime_r/mktime,
 * hostile zone files, the arXiv poll helper and jitter.
 *
 * Needs tzdata (/usr/share/zoneinfo); the zone tests skip without it.
 * glibc is the reference: this test process may set TZ freely.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/schedule.h"

#define BERLIN_FILE	"/usr/share/zoneinfo/Europe/Berlin"
#define H		3600LL
#define D		86400LL

#define NEED_TZDATA() do {						\
	if (access(BERLIN_FILE, R_OK) != 0) {				\
		print_message("tzdata missing (" BERLIN_FILE "): "	\
		    "apt-get install tzdata\n");			\
		skip();							\
	}								\
} while (0)

/* UTC instant of a calendar time (the reference: glibc's timegm). */
static long long
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (long long)timegm(&tm);
}

static void
parse_ok(const char *text, const char *tz, struct schedule *s)
{
	char err[256] = "";

	if (schedule_parse(text, tz, s, err, sizeof(err)) != 0)
		fail_msg("schedule_parse('%s', %s): %s", text,
		    tz != NULL ? tz : "NULL", err);
}

static void
set_tz(const char *tz)
{
	if (tz == NULL)
		unsetenv("TZ");
	else
		setenv("TZ", tz, 1);
	tzset();
}

/* ---- parsing ---- */

static void
test_parse_good(void **state)
{
	static const struct {
		const char *text;
		enum schedule_kind kind;
		int hour, minute, wday;
		long long every;
	} cases[] = {
		{ "daily 08:00", SCHEDULE_DAILY, 8, 0, 0, 0 },
		{ "  DAILY\t8:05 ", SCHEDULE_DAILY, 8, 5, 0, 0 },
		{ "daily 00:00", SCHEDULE_DAILY, 0, 0, 0, 0 },
		{ "daily 23:59", SCHEDULE_DAILY, 23, 59, 0, 0 },
		{ "weekly mon 08:00", SCHEDULE_WEEKLY, 8, 0, 1, 0 },
		{ "weekly Monday 08:00", SCHEDULE_WEEKLY, 8, 0, 1, 0 },
		{ "weekly sun 23:59", SCHEDULE_WEEKLY, 23, 59, 0, 0 },
		{ "weekly SATURDAY 7:30", SCHEDULE_WEEKLY, 7, 30, 6, 0 },
		{ "weekly thu 12:00", SCHEDULE_WEEKLY, 12, 0, 4, 0 },
		{ "every 6h", SCHEDULE_EVERY, 0, 0, 0, 6 * H },
		{ "every 30m", SCHEDULE_EVERY, 0, 0, 0, 1800 },
		{ "every 1m", SCHEDULE_EVERY, 0, 0, 0, 60 },
		{ "every 2d", SCHEDULE_EVERY, 0, 0, 0, 2 * D },
		{ "every 365d", SCHEDULE_EVERY, 0, 0, 0, 365 * D },
		{ "every 6 h", SCHEDULE_EVERY, 0, 0, 0, 6 * H },
		{ "every 90 minutes", SCHEDULE_EVERY, 0, 0, 0, 5400 },
		{ "Every 12 Hours", SCHEDULE_EVERY, 0, 0, 0, 12 * H },
		{ "every 1 day", SCHEDULE_EVERY, 0, 0, 0, D },
		{ "immediate", SCHEDULE_IMMEDIATE, 0, 0, 0, 0 },
		{ " Immediate\n", SCHEDULE_IMMEDIATE, 0, 0, 0, 0 },
	};
	struct schedule s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse_ok(cases[i].text, "UTC", &s);
		assert_int_equal(s.kind, cases[i].kind);
		assert_string_equal(s.tz, "UTC");
		if (s.kind == SCHEDULE_DAILY || s.kind == SCHEDULE_WEEKLY) {
			assert_int_equal(s.hour, cases[i].hour);
			assert_int_equal(s.minute, cases[i].minute);
		}
		if (s.kind == SCHEDULE_WEEKLY)
			assert_int_equal(s.wday, cases[i].wday);
		if (s.kind == SCHEDULE_EVERY)
			assert_int_equal(s.every, cases[i].every);
		schedule_release(&s);
		assert_null(s.tz);
		assert_null(s.zone);
	}
	/* NULL zone: the system's; tz stays NULL. */
	parse_ok("daily 08:00", NULL, &s);
	assert_null(s.tz);
	assert_non_null(s.zone);
	schedule_release(&s);
	schedule_release(&s);	/* idempotent */
}

#define EXPECTED "expected 'daily HH:MM', 'weekly DAY HH:MM', " \
	"'every N{m,h,d}' or 'immediate'"
#define BADTIME(t) "bad time '" t "' (expected HH:MM, 00:00 to 23:59)"
#define BADEVERY(t) "bad interval '" t "' (expected a number and m, h or " \
	"d, as in 'every 6h')"

static void
test_parse_bad(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "", "schedule '': " EXPECTED },
		{ "   ", "schedule '   ': " EXPECTED },
		{ "dayly 08:00", "schedule 'dayly 08:00': " EXPECTED },
		{ "08:00", "schedule '08:00': " EXPECTED },
		{ "daily", "schedule 'daily': too few words (expected "
		    "'daily HH:MM')" },
		{ "daily 08:00 extra", "schedule 'daily 08:00 extra': too many "
		    "words (expected 'daily HH:MM')" },
		{ "daily 24:00", "schedule 'daily 24:00': " BADTIME("24:00") },
		{ "daily 8", "schedule 'daily 8': " BADTIME("8") },
		{ "daily 08:60", "schedule 'daily 08:60': " BADTIME("08:60") },
		{ "daily 08:5", "schedule 'daily 08:5': " BADTIME("08:5") },
		{ "daily -1:00", "schedule 'daily -1:00': " BADTIME("-1:00") },
		{ "daily 123:00", "schedule 'daily 123:00': "
		    BADTIME("123:00") },
		{ "daily 08:00am", "schedule 'daily 08:00am': "
		    BADTIME("08:00am") },
		{ "daily 8h", "schedule 'daily 8h': " BADTIME("8h") },
		{ "weekly funday 08:00", "schedule 'weekly funday 08:00': "
		    "unknown day 'funday' (expected mon, tue, wed, thu, fri, "
		    "sat or sun)" },
		{ "weekly mon", "schedule 'weekly mon': too few words "
		    "(expected 'weekly DAY HH:MM')" },
		{ "weekly 08:00 mon", "schedule 'weekly 08:00 mon': unknown "
		    "day '08:00' (expected mon, tue, wed, thu, fri, sat or "
		    "sun)" },
		{ "weekly mon 25:00", "schedule 'weekly mon 25:00': "
		    BADTIME("25:00") },
		{ "every 0h", "schedule 'every 0h': interval out of range "
		    "(1m to 365d)" },
		{ "every 366d", "schedule 'every 366d': interval out of range "
		    "(1m to 365d)" },
		{ "every 99999999999h", "schedule 'every 99999999999h': "
		    "interval out of range (1m to 365d)" },
		{ "every 30s", "schedule 'every 30s': " BADEVERY("30s") },
		{ "every h", "schedule 'every h': " BADEVERY("h") },
		{ "every 6", "schedule 'every 6': " BADEVERY("6") },
		{ "every -6h", "schedule 'every -6h': " BADEVERY("-6h") },
		{ "every 6 parsecs", "schedule 'every 6 parsecs': "
		    BADEVERY("6 parsecs") },
		{ "every 6h hours", "schedule 'every 6h hours': "
		    BADEVERY("6h hours") },
		{ "every", "schedule 'every': too few words (expected "
		    "'every N{m,h,d}')" },
		{ "immediate now", "schedule 'immediate now': too many words "
		    "(expected 'immediate')" },
		{ "daily\x01 08:00", "schedule 'daily? 08:00': " EXPECTED },
	};
	struct schedule s;
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&s, 0x5a, sizeof(s));
		err[0] = '\0';
		if (schedule_parse(cases[i].text, "UTC", &s, err,
		    sizeof(err)) != -1)
			fail_msg("'%s' was accepted", cases[i].text);
		assert_string_equal(err, cases[i].err);
		assert_null(s.tz);	/* left empty: safe to release */
		assert_null(s.zone);
		schedule_release(&s);
	}
	assert_int_equal(schedule_parse(NULL, NULL, &s, err, sizeof(err)), -1);
	assert_string_equal(err, "schedule '': " EXPECTED);
}

static void
test_parse_bad_long(void **state)
{
	char text[300], err[256];
	struct schedule s;

	(void)state;
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(schedule_parse(text, NULL, &s, err, sizeof(err)), -1);
	/* The text is cut to 68 bytes and "..." in the message. */
	assert_string_equal(err, "schedule 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...': too long (at most 128 "
	    "characters)");
	/* A short err buffer is cut, never overrun. */
	assert_int_equal(schedule_parse("daily 25:00", NULL, &s, err, 12), -1);
	assert_string_equal(err, "schedule 'd");
}

static void
test_tz_valid(void **state)
{
	static const char *const good[] = {
		"Europe/Berlin", "America/New_York", "UTC", "Etc/GMT+5",
		"Etc/GMT-14", "America/Argentina/Buenos_Aires", "Asia/Kolkata",
		"Australia/Lord_Howe", "EST5EDT",
	};
	static const char *const bad[] = {
		"", "Europe/Berln", "Mars/Olympus_Mons", "europe/berlin",
		"../../../etc/passwd", "/usr/share/zoneinfo/Europe/Berlin",
		"Europe/../Europe/Berlin", "./Europe/Berlin", "Europe//Berlin",
		"Europe/Berlin/", "Europe", "zone.tab", "iso3166.tab",
		"Europe/Berlin\n", "Europe/Berlin ", "CET-1CEST,M3.5.0,M10.5.0/3",
		":Europe/Berlin", "right/Europe/Berlin", "tzdata.zi",
	};
	char longname[400];
	size_t i;

	(void)state;
	NEED_TZDATA();
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!schedule_tz_valid(good[i]))
			fail_msg("'%s' rejected", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (schedule_tz_valid(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
	assert_false(schedule_tz_valid(NULL));
	memset(longname, 'A', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(schedule_tz_valid(longname));
}

static void
test_parse_bad_zone(void **state)
{
	struct schedule s;
	char err[512];

	(void)state;
	NEED_TZDATA();
	assert_int_equal(schedule_parse("daily 08:00", "Europe/Berln", &s, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "unknown time zone 'Europe/Berln': No such "
	    "file or directory (expected an IANA name such as "
	    "'Europe/Berlin'; is tzdata installed?)");
	assert_null(s.tz);
	assert_null(s.zone);
	assert_int_equal(schedule_parse("daily 08:00", "../etc/passwd", &s,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "unknown time zone '../etc/passwd': not an "
	    "IANA zone name (expected an IANA name such as 'Europe/Berlin'; "
	    "is tzdata installed?)");
	assert_int_equal(schedule_parse("daily 08:00", "", &s, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "unknown time zone '': not an IANA zone name "
	    "(expected an IANA name such as 'Europe/Berlin'; is tzdata "
	    "installed?)");
	assert_int_equal(schedule_parse("daily 08:00", "Europe", &s, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "unknown time zone 'Europe': not a zone file "
	    "(expected an IANA name such as 'Europe/Berlin'; is tzdata "
	    "installed?)");
	/* The schedule text is checked first. */
	assert_int_equal(schedule_parse("daily 25:00", "Europe/Berln", &s, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "schedule 'daily 25:00': " BADTIME("25:00"));
}

/* ---- due times ---- */

static void
test_daily_next(void **state)
{
	struct schedule s;
	char date[16];

	(void)state;
	NEED_TZDATA();
	parse_ok("daily 08:00", "Europe/Berlin", &s);
	/* Winter: 08:00 CET = 07:00Z; after it, the next day. */
	assert_int_equal(schedule_next(&s, utc(2026, 1, 15, 6, 0, 0), -1),
	    utc(2026, 1, 15, 7, 0, 0));
	assert_int_equal(schedule_next(&s, utc(2026, 1, 15, 10, 0, 0), -1),
	    utc(2026, 1, 16, 7, 0, 0));
	/* Strictly after: at the due time itself, the next day. */
	assert_int_equal(schedule_next(&s, utc(2026, 1, 15, 7, 0, 0), -1),
	    utc(2026, 1, 16, 7, 0, 0));
	assert_int_equal(schedule_next(&s, utc(2026, 1, 15, 6, 59, 59), -1),
	    utc(2026, 1, 15, 7, 0, 0));
	/* Summer: 08:00 CEST = 06:00Z. */
	assert_int_equal(schedule_next(&s, utc(2026, 7, 1, 5, 0, 0), -1),
	    utc(2026, 7, 1, 6, 0, 0));
	/* Year end, leap day. */
	assert_int_equal(schedule_next(&s, utc(2026, 12, 31, 8, 0, 0), -1),
	    utc(2027, 1, 1, 7, 0, 0));
	assert_int_equal(schedule_next(&s, utc(2028, 2, 28, 8, 0, 0), -1),
	    utc(2028, 2, 29, 7, 0, 0));
	/* Local date differs from the UTC date near midnight. */
	schedule_local_date(&s, utc(2026, 1, 15, 23, 30, 0), date,
	    sizeof(date));
	assert_string_equal(date, "2026-01-16");
	schedule_release(&s);

	parse_ok("daily 23:30", "America/New_York", &s);
	/* 23:30 EST = 04:30Z the next UTC day. */
	assert_int_equal(schedule_next(&s, utc(2026, 1, 15, 12, 0, 0), -1),
	    utc(2026, 1, 16, 4, 30, 0));
	schedule_local_date(&s, utc(2026, 1, 16, 4, 30, 0), date,
	    sizeof(date));
	assert_string_equal(date, "2026-01-15");
	schedule_release(&s);

	parse_ok("daily 00:15", "Asia/Kolkata", &s);	/* +05:30 */
	assert_int_equal(schedule_next(&s, utc(2026, 5, 1, 12, 0, 0), -1),
	    utc(2026, 5, 1, 18, 45, 0));
	schedule_release(&s);
}

static void
test_weekly_next(void **state)
{
	struct schedule s;
	struct tm tm;

	(void)state;
	NEED_TZDATA();
	parse_ok("weekly mon 08:00", "Europe/Berlin", &s);
	/* Wed 2026-01-14 -> Mon 2026-01-19 08:00 CET. */
	assert_int_equal(schedule_next(&s, utc(2026, 1, 14, 12, 0, 0), -1),
	    utc(2026, 1, 19, 7, 0, 0));
	/* Mon 2026-01-19 before and after 08:00. */
	assert_int_equal(schedule_next(&s, utc(2026, 1, 19, 6, 0, 0), -1),
	    utc(2026, 1, 19, 7, 0, 0));
	assert_int_equal(schedule_next(&s, utc(2026, 1, 19, 7, 0, 0), -1),
	    utc(2026, 1, 26, 7, 0, 0));
	schedule_localtime(&s, utc(2026, 1, 26, 7, 0, 0), &tm);
	assert_int_equal(tm.tm_wday, 1);
	assert_int_equal(tm.tm_hour, 8);
	schedule_release(&s);

	/* Sunday 23:00 in New York is Monday in UTC. */
	parse_ok("weekly sunday 23:00", "America/New_York", &s);
	assert_int_equal(schedule_next(&s, utc(2026, 7, 1, 0, 0, 0), -1),
	    utc(2026, 7, 6, 3, 0, 0));
	schedule_release(&s);

	/* Monday 00:30 in Tokyo is Sunday in UTC. */
	parse_ok("weekly mon 00:30", "Asia/Tokyo", &s);
	assert_int_equal(schedule_next(&s, utc(2026, 7, 1, 0, 0, 0), -1),
	    utc(2026, 7, 5, 15, 30, 0));
	schedule_release(&s);
}

static void
test_every_next(void **state)
{
	struct schedule s;
	long long t0 = utc(2026, 3, 28, 7, 0, 0);

	(void)state;
	parse_ok("every 6h", "UTC", &s);
	/* Never sent: after + every. */
	assert_int_equal(schedule_next(&s, t0, -1), t0 + 6 * H);
	/* Aligned on the last due time, strictly after `after`. */
	assert_int_equal(schedule_next(&s, t0 + 1, t0), t0 + 6 * H);
	assert_int_equal(schedule_next(&s, t0 + 6 * H, t0), t0 + 12 * H);
	assert_int_equal(schedule_next(&s, t0 + 6 * H - 1, t0), t0 + 6 * H);
	/* Down for 3 days: the next slot, no burst of missed ones. */
	assert_int_equal(schedule_next(&s, t0 + 3 * D + 7, t0),
	    t0 + 3 * D + 6 * H);
	/* The clock went back before the last due time. */
	assert_int_equal(schedule_next(&s, t0 - 7 * H, t0), t0 - 6 * H);
	schedule_release(&s);

	/* "every 1d" is absolute: across the Berlin spring change it keeps
	 * its UTC hour (08:00 CET, then 09:00 CEST). */
	parse_ok("every 1d", "Europe/Berlin", &s);
	assert_int_equal(schedule_next(&s, t0, t0), t0 + D);
	schedule_release(&s);
}

static void
test_immediate_next(void **state)
{
	struct schedule s;

	(void)state;
	parse_ok("immediate", NULL, &s);
	assert_int_equal(schedule_next(&s, 1780000000LL, -1), 1780000000LL);
	assert_int_equal(schedule_next(&s, 1780000000LL, 1779990000LL),
	    1780000000LL);
	schedule_release(&s);
}

/* ---- DST ---- */

struct dst_case {
	const char	*zone, *text, *date;	/* date: YYYY-MM-DD */
	long long	 expect;		/* the firing, UTC */
	const char	*local;			/* its wall time HH:MM */
};

/* Fire times of s in [from, to). */
static size_t
firings(const struct schedule *s, long long from, long long to,
    long long *out, size_t max)
{
	long long t = from - 1;
	size_t n = 0;

	while ((t = schedule_next(s, t, -1)) < to && n < max)
		out[n++] = t;
	return n;
}

static void
check_dst_case(const struct dst_case *c)
{
	long long fired[16];
	struct schedule s;
	struct tm tm;
	char date[16], hm[8];
	size_t n, i, on_day = 0;
	int y, mo, d;

	assert_int_equal(sscanf(c->date, "%d-%d-%d", &y, &mo, &d), 3);
	parse_ok(c->text, c->zone, &s);
	n = firings(&s, schedule_resolve_local(&s, y, mo, d - 2, 0, 0),
	    schedule_resolve_local(&s, y, mo, d + 3, 0, 0), fired, 16);
	assert_int_equal(n, 5);		/* one a day, days -2 .. +2 */
	for (i = 0; i < n; i++) {
		schedule_local_date(&s, fired[i], date, sizeof(date));
		if (strcmp(date, c->date) != 0)
			continue;
		on_day++;
		if (fired[i] != c->expect)
			fail_msg("%s %s on %s: fired at %lld, expected %lld",
			    c->zone, c->text, c->date, fired[i], c->expect);
		schedule_localtime(&s, fired[i], &tm);
		snprintf(hm, sizeof(hm), "%02d:%02d", tm.tm_hour, tm.tm_min);
		assert_string_equal(hm, c->local);
	}
	if (on_day != 1)
		fail_msg("%s %s on %s: fired %zu times", c->zone, c->text,
		    c->date, on_day);
	/* Consecutive local dates, none skipped, none twice. */
	for (i = 1; i < n; i++)
		assert_true(fired[i] - fired[i - 1] >= 22 * H &&
		    fired[i] - fired[i - 1] <= 26 * H);
	schedule_release(&s);
}

static void
test_dst_transitions(void **state)
{
	static const struct dst_case cases[] = {
		/* Berlin spring: 02:00 CET -> 03:00 CEST at 01:00Z. 02:30
		 * does not exist: the first instant after the gap. */
		{ "Europe/Berlin", "daily 02:30", "2026-03-29",
		    1774746000LL /* 2026-03-29T01:00:00Z */, "03:00" },
		{ "Europe/Berlin", "daily 02:00", "2026-03-29",
		    1774746000LL, "03:00" },
		{ "Europe/Berlin", "daily 03:00", "2026-03-29",
		    1774746000LL, "03:00" },
		{ "Europe/Berlin", "daily 01:59", "2026-03-29",
		    1774745940LL /* 00:59Z */, "01:59" },
		/* Berlin autumn: 03:00 CEST -> 02:00 CET at 01:00Z. 02:30
		 * occurs twice: once, at 02:30 CEST = 00:30Z. */
		{ "Europe/Berlin", "daily 02:30", "2026-10-25",
		    1792888200LL /* 2026-10-25T00:30:00Z */, "02:30" },
		{ "Europe/Berlin", "daily 02:00", "2026-10-25",
		    1792886400LL /* 00:00Z */, "02:00" },
		{ "Europe/Berlin", "daily 03:00", "2026-10-25",
		    1792893600LL /* 02:00Z */, "03:00" },
		/* New York spring: 02:00 EST -> 03:00 EDT at 07:00Z. */
		{ "America/New_York", "daily 02:30", "2026-03-08",
		    1772953200LL /* 2026-03-08T07:00:00Z */, "03:00" },
		/* New York autumn: 02:00 EDT -> 01:00 EST at 06:00Z; 02:30
		 * exists once (EST), 01:30 twice (first: EDT, 05:30Z). */
		{ "America/New_York", "daily 02:30", "2026-11-01",
		    1793518200LL /* 2026-11-01T07:30:00Z */, "02:30" },
		{ "America/New_York", "daily 01:30", "2026-11-01",
		    1793511000LL /* 2026-11-01T05:30:00Z */, "01:30" },
		/* Weekly on those Sundays. */
		{ "Europe/Berlin", "weekly sun 02:30", "2026-03-29",
		    1774746000LL, "03:00" },
		{ "Europe/Berlin", "weekly sun 02:30", "2026-10-25",
		    1792888200LL, "02:30" },
		{ "America/New_York", "weekly sun 01:30", "2026-11-01",
		    1793511000LL, "01:30" },
		/* Santiago: midnight does not exist on 2026-09-06. */
		{ "America/Santiago", "daily 00:00", "2026-09-06",
		    1788667200LL /* 2026-09-06T04:00:00Z */, "01:00" },
		/* Lord Howe: a 30-minute change, 02:00 -> 02:30. */
		{ "Australia/Lord_Howe", "daily 02:15", "2026-10-04",
		    1791041400LL /* 2026-10-03T15:30:00Z */, "02:30" },
	};
	size_t i;

	(void)state;
	NEED_TZDATA();
	assert_int_equal(utc(2026, 3, 29, 1, 0, 0), 1774746000LL);
	assert_int_equal(utc(2026, 10, 25, 0, 30, 0), 1792888200LL);
	assert_int_equal(utc(2026, 3, 8, 7, 0, 0), 1772953200LL);
	assert_int_equal(utc(2026, 11, 1, 7, 30, 0), 1793518200LL);
	assert_int_equal(utc(2026, 11, 1, 5, 30, 0), 1793511000LL);
	assert_int_equal(utc(2026, 9, 6, 4, 0, 0), 1788667200LL);
	assert_int_equal(utc(2026, 10, 3, 15, 30, 0), 1791041400LL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strncmp(cases[i].text, "weekly", 6) == 0)
			continue;	/* one a week: checked below */
		check_dst_case(&cases[i]);
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct schedule s;
		long long day0 = cases[i].expect - 3 * D;

		if (strncmp(cases[i].text, "weekly", 6) != 0)
			continue;
		parse_ok(cases[i].text, cases[i].zone, &s);
		assert_int_equal(schedule_next(&s, day0, -1), cases[i].expect);
		assert_true(schedule_next(&s, cases[i].expect, -1) >=
		    cases[i].expect + 7 * D - 2 * H);
		schedule_release(&s);
	}
}

/*
 * Daily digests of a whole local year: one per local date, each the
 * resolved wall time of its day, on that day, except when the wall time
 * falls in a gap over midnight (America/Nuuk's 23:59 on the spring
 * Saturday fires at the end of the gap, Sunday 00:00).
 */
static void
check_year(const char *zone, const char *text, int year, size_t expect)
{
	long long fired[400], start, end;
	struct schedule s;
	char date[16];
	struct tm tm;
	size_t n, i;
	bool gap;

	parse_ok(text, zone, &s);
	start = schedule_resolve_local(&s, year, 1, 1, 0, 0);
	end = schedule_resolve_local(&s, year + 1, 1, 1, 0, 0);
	n = firings(&s, start, end, fired, 400);
	if (n != expect)
		fail_msg("%s %s %d: %zu firings, expected %zu", zone, text,
		    year, n, expect);
	for (i = 0; i < n; i++) {
		schedule_local_date(&s, fired[i], date, sizeof(date));
		schedule_localtime(&s, fired[i], &tm);
		if (fired[i] != schedule_resolve_local(&s, year, 1, 1 + (int)i,
		    s.hour, s.minute))
			fail_msg("%s %s: firing %zu at %lld (%s) is not day %zu",
			    zone, text, i, fired[i], date, i);
		gap = tm.tm_hour != s.hour || tm.tm_min != s.minute;
		if (tm.tm_year + 1900 != year || (tm.tm_yday != (int)i &&
		    !(gap && tm.tm_yday == (int)i + 1)))
			fail_msg("%s %s: firing %zu at %lld is on %s (yday %d)",
			    zone, text, i, fired[i], date, tm.tm_yday);
	}
	schedule_release(&s);
}

static void
test_dst_whole_year(void **state)
{
	static const char *const zones[] = {
		"Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
		"America/Santiago", "Europe/Dublin", "America/Havana",
		"Pacific/Chatham", "America/Nuuk", "Antarctica/Troll", "UTC",
	};
	static const char *const times[] = {
		"daily 00:00", "daily 01:30", "daily 02:00", "daily 02:30",
		"daily 03:00", "daily 23:59",
	};
	size_t z, t;

	(void)state;
	NEED_TZDATA();
	for (z = 0; z < sizeof(zones) / sizeof(zones[0]); z++)
		for (t = 0; t < sizeof(times) / sizeof(times[0]); t++) {
			check_year(zones[z], times[t], 2026, 365);
			check_year(zones[z], times[t], 2028, 366);
		}
	/* Past the end of the transition table: the POSIX TZ footer. */
	check_year("Europe/Berlin", "daily 02:30", 2099, 365);
	check_year("America/New_York", "daily 02:30", 2100, 365);
}

/* ---- the TZif reader against glibc ---- */

static void
compare_glibc(const struct schedule *s, const char *zone, long long t)
{
	struct tm ref, got;
	time_t tt = (time_t)t;
	long off;

	localtime_r(&tt, &ref);
	off = schedule_localtime(s, t, &got);
	if (ref.tm_year != got.tm_year || ref.tm_yday != got.tm_yday ||
	    ref.tm_mon != got.tm_mon || ref.tm_mday != got.tm_mday ||
	    ref.tm_hour != got.tm_hour || ref.tm_min != got.tm_min ||
	    ref.tm_sec != got.tm_sec || ref.tm_wday != got.tm_wday ||
	    ref.tm_gmtoff != off || ref.tm_gmtoff != got.tm_gmtoff ||
	    (ref.tm_isdst > 0) != (got.tm_isdst > 0) ||
	    strcmp(ref.tm_zone, got.tm_zone) != 0)
		fail_msg("%s at %lld: glibc %04d-%02d-%02d %02d:%02d:%02d %s "
		    "%ld dst %d, ours %04d-%02d-%02d %02d:%02d:%02d %s %ld "
		    "dst %d", zone, t, ref.tm_year + 1900, ref.tm_mon + 1,
		    ref.tm_mday, ref.tm_hour, ref.tm_min, ref.tm_sec,
		    ref.tm_zone, ref.tm_gmtoff, ref.tm_isdst,
		    got.tm_year + 1900, got.tm_mon + 1, got.tm_mday,
		    got.tm_hour, got.tm_min, got.tm_sec, got.tm_zone,
		    got.tm_gmtoff, got.tm_isdst);
}

/* glibc's offset and DST flag at t, as one comparable number. */
static long
glibc_key(long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	return tm.tm_gmtoff * 2 + (tm.tm_isdst > 0);
}

/*
 * Compare with glibc over [from, to): samples every 3 days and 7 hours,
 * and wherever glibc's offset changes between two samples, its exact
 * transition instant (binary search) and the second before it.
 */
static void
compare_range(const struct schedule *s, const char *zone, int from, int to)
{
	const long long step = 3 * D + 7 * H + 1234;
	long long t, prev, lo, hi, mid;
	long key, key_prev;

	prev = utc(from, 1, 1, 0, 0, 0);
	key_prev = glibc_key(prev);
	compare_glibc(s, zone, prev);
	for (t = prev + step; t < utc(to, 1, 1, 0, 0, 0); t += step) {
		compare_glibc(s, zone, t);
		key = glibc_key(t);
		if (key != key_prev) {
			lo = prev;
			hi = t;
			while (hi - lo > 1) {
				mid = lo + (hi - lo) / 2;
				if (glibc_key(mid) == key_prev)
					lo = mid;
				else
					hi = mid;
			}
			compare_glibc(s, zone, lo);
			compare_glibc(s, zone, hi);
		}
		prev = t;
		key_prev = key;
	}
}

static const char *const glibc_zones[] = {
	"Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
	"Pacific/Chatham", "America/St_Johns", "Europe/Dublin",
	"Africa/Casablanca", "America/Santiago", "Asia/Kolkata",
	"Pacific/Apia", "Antarctica/Troll", "America/Nuuk", "Asia/Tehran",
	"Australia/Sydney", "America/Sao_Paulo", "UTC", "Europe/London",
};

/* 1850..2200: before the table, the table, the POSIX TZ footer. */
static void
test_localtime_vs_glibc(void **state)
{
	struct schedule s;
	size_t z;

	(void)state;
	NEED_TZDATA();
	for (z = 0; z < sizeof(glibc_zones) / sizeof(glibc_zones[0]); z++) {
		set_tz(glibc_zones[z]);
		parse_ok("daily 00:00", glibc_zones[z], &s);
		compare_range(&s, glibc_zones[z], 1850, 2200);
		schedule_release(&s);
	}
	set_tz(NULL);
}

/* Wall time to instant, where it is unambiguous, against mktime. */
static void
test_resolve_vs_mktime(void **state)
{
	struct schedule s;
	struct tm tm;
	long long day, ours, ref;
	size_t z;
	long long y;
	int m, d;

	(void)state;
	NEED_TZDATA();
	for (z = 0; z < sizeof(glibc_zones) / sizeof(glibc_zones[0]); z++) {
		set_tz(glibc_zones[z]);
		parse_ok("daily 12:00", glibc_zones[z], &s);
		for (day = utc(1990, 1, 1, 0, 0, 0) / D;
		    day < utc(2045, 1, 1, 0, 0, 0) / D; day += 3) {
			time_t tt = (time_t)(day * D);

			gmtime_r(&tt, &tm);
			y = tm.tm_year + 1900;
			m = tm.tm_mon + 1;
			d = tm.tm_mday;
			tm.tm_hour = 12;
			tm.tm_isdst = -1;
			ref = (long long)mktime(&tm);
			ours = schedule_resolve_local(&s, (int)y, m, d, 12, 0);
			if (ours != ref)
				fail_msg("%s %04lld-%02d-%02d 12:00: ours %lld, "
				    "mktime %lld", glibc_zones[z], y, m, d,
				    ours, ref);
		}
		schedule_release(&s);
	}
	set_tz(NULL);
}

/* The system zone ($TZ in its forms, /etc/localtime) against glibc. */
static void
test_system_zone(void **state)
{
	static const struct {
		const char *tz;
		int from, to;		/* years compared */
	} cases[] = {
		{ "Europe/Berlin", 1900, 2100 },
		{ ":America/New_York", 1900, 2100 },
		{ "/usr/share/zoneinfo/Asia/Tokyo", 1900, 2100 },
		{ "CET-1CEST,M3.5.0,M10.5.0/3", 1980, 2100 },
		{ "<+0330>-3:30", 1900, 2100 },
		{ "AEST-10AEDT,M10.1.0,M4.1.0/3", 1980, 2100 },
		{ "XST3XDT,J60/2,J300/2", 1980, 2100 },
		{ "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", 1980, 2100 },
		{ "IST-1GMT0,M10.5.0,M3.5.0/1", 1980, 2100 },
		{ "", 1900, 2100 },			/* UTC */
		{ NULL, 1900, 2100 },			/* /etc/localtime */
	};
	struct schedule s;
	long long t;
	size_t i;

	(void)state;
	NEED_TZDATA();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_tz(cases[i].tz);
		parse_ok("daily 08:00", NULL, &s);
		compare_range(&s, cases[i].tz != NULL ? cases[i].tz :
		    "(unset)", cases[i].from, cases[i].to);
		schedule_release(&s);
	}
	/*
	 * DST all year (RFC 8536 section 3.3.1's example): glibc computes
	 * the rule of the UTC year only and so shows standard time in the
	 * last hours of each local year; we follow the RFC.
	 */
	set_tz("EST5EDT4,0/0,J365/25");
	parse_ok("daily 08:00", NULL, &s);
	for (t = utc(1990, 1, 1, 0, 0, 0); t < utc(2100, 1, 1, 0, 0, 0);
	    t += 5 * H + 17) {
		struct tm tm;

		assert_int_equal(schedule_localtime(&s, t, &tm), -4 * H);
		assert_int_equal(tm.tm_isdst, 1);
		assert_string_equal(tm.tm_zone, "EDT");
	}
	schedule_release(&s);
	set_tz("WART4WARST,J1/0,J365/25");
	parse_ok("daily 08:00", NULL, &s);
	for (t = utc(1990, 1, 1, 0, 0, 0); t < utc(2100, 1, 1, 0, 0, 0);
	    t += 5 * H + 17)
		assert_int_equal(schedule_localtime(&s, t, NULL), -3 * H);
	schedule_release(&s);
	/* Nothing usable: UTC, as glibc. */
	set_tz("Not/A_Zone");
	parse_ok("daily 08:00", NULL, &s);
	assert_int_equal(schedule_next(&s, utc(2026, 7, 1, 0, 0, 0), -1),
	    utc(2026, 7, 1, 8, 0, 0));
	schedule_release(&s);
	/* A schedule keeps the zone it was parsed with. */
	set_tz("Europe/Berlin");
	parse_ok("daily 08:00", NULL, &s);
	set_tz("America/New_York");
	assert_int_equal(schedule_next(&s, utc(2026, 7, 1, 0, 0, 0), -1),
	    utc(2026, 7, 1, 6, 0, 0));
	schedule_release(&s);
	set_tz(NULL);
}

/* ---- ownership ---- */

static void
test_copy_and_hand_built(void **state)
{
	struct schedule a, b, many[200];
	struct schedule hand = { .kind = SCHEDULE_DAILY, .hour = 8,
	    .tz = (char *)"Europe/Berlin" };
	struct tm tm;
	size_t i;

	(void)state;
	NEED_TZDATA();
	parse_ok("weekly fri 17:45", "America/New_York", &a);
	schedule_copy(&b, &a);
	schedule_release(&a);
	assert_string_equal(b.tz, "America/New_York");
	assert_int_equal(schedule_next(&b, utc(2026, 7, 1, 0, 0, 0), -1),
	    utc(2026, 7, 3, 21, 45, 0));
	schedule_localtime(&b, utc(2026, 7, 3, 21, 45, 0), &tm);
	assert_string_equal(tm.tm_zone, "EDT");
	schedule_release(&b);

	/* Many schedules share one zone; releasing in any order is fine. */
	for (i = 0; i < 200; i++)
		parse_ok("daily 08:00", i % 2 ? "Europe/Berlin" : "Asia/Tokyo",
		    &many[i]);
	for (i = 0; i < 200; i += 2)
		schedule_release(&many[i]);
	assert_int_equal(schedule_next(&many[1], utc(2026, 1, 1, 0, 0, 0), -1),
	    utc(2026, 1, 1, 7, 0, 0));
	for (i = 1; i < 200; i += 2)
		schedule_release(&many[i]);

	/* Built by hand (no zone reference): looked up on each call. */
	assert_int_equal(schedule_next(&hand, utc(2026, 7, 1, 0, 0, 0), -1),
	    utc(2026, 7, 1, 6, 0, 0));
	assert_int_equal(schedule_localtime(&hand, utc(2026, 7, 1, 0, 0, 0),
	    &tm), 7200);
	assert_int_equal(tm.tm_isdst, 1);
	assert_string_equal(tm.tm_zone, "");	/* nothing to borrow from */
}

static void
test_localtime_fields(void **state)
{
	struct schedule s;
	struct tm tm;
	char date[16];

	(void)state;
	NEED_TZDATA();
	parse_ok("daily 08:00", "Europe/Berlin", &s);
	assert_int_equal(schedule_localtime(&s, utc(2026, 7, 1, 12, 0, 0), &tm),
	    7200);
	assert_int_equal(tm.tm_hour, 14);
	assert_int_equal(tm.tm_isdst, 1);
	assert_string_equal(tm.tm_zone, "CEST");
	assert_int_equal(schedule_localtime(&s, utc(2026, 1, 1, 12, 0, 0), &tm),
	    3600);
	assert_string_equal(tm.tm_zone, "CET");
	assert_int_equal(tm.tm_isdst, 0);
	/* Extreme inputs are clamped, not undefined. */
	schedule_localtime(&s, LLONG_MAX, &tm);
	schedule_local_date(&s, LLONG_MIN, date, sizeof(date));
	assert_true(schedule_next(&s, LLONG_MAX, -1) > (1LL << 40));
	assert_true(schedule_next(&s, LLONG_MIN, LLONG_MIN) > -(1LL << 40));
	schedule_local_date(&s, 0, date, 5);
	assert_string_equal(date, "1970");
	schedule_release(&s);
}

/* ---- hostile and odd zone files ($TZDIR) ---- */

static char tzdir[64];

static void
remove_tzdir(void)
{
	static const char *const names[] = {
		"Good", "Empty", "Text", "Truncated", "Leap", "HugeCounts",
		"BadFooter", "NoFooter", "BadTypeIndex", "BadOffset",
		"Unordered", "V1only",
	};
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tzdir, names[i]);
		unlink(path);
	}
	rmdir(tzdir);
}

/* Undo the hostile test's $TZDIR even when an assertion failed in it. */
static int
teardown_tzdir(void **state)
{
	(void)state;
	unsetenv("TZDIR");
	if (tzdir[0] != '\0')
		remove_tzdir();
	return 0;
}

static void
write_file(const char *name, const void *data, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tzdir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static unsigned char *
read_berlin(size_t *len)
{
	static unsigned char buf[65536];
	FILE *f = fopen(BERLIN_FILE, "rb");

	assert_non_null(f);
	*len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_true(*len > 44);
	return buf;
}

static void
put32(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static unsigned
get32(const unsigned char *p)
{
	return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 |
	    (unsigned)p[2] << 8 | p[3];
}

/* Length of the data block after the TZif header at h (tsize 4 or 8). */
static size_t
tzif_block(const unsigned char *h, size_t tsize)
{
	return get32(h + 32) * (tsize + 1) + get32(h + 36) * 6 +
	    get32(h + 40) + get32(h + 28) * (tsize + 4) + get32(h + 24) +
	    get32(h + 20);
}

static void
test_hostile_zone_files(void **state)
{
	static const char *const bad[] = {
		"Empty", "Text", "Truncated", "Leap", "HugeCounts",
		"BadFooter", "NoFooter", "BadTypeIndex", "BadOffset",
		"Unordered",
	};
	unsigned char copy[65536], *berlin, *h2, *data2;
	struct schedule s;
	char err[512];
	size_t len, i, v1len, ntimes;

	(void)state;
	NEED_TZDATA();
	berlin = read_berlin(&len);
	v1len = 44 + tzif_block(berlin, 4);
	h2 = copy + v1len;		/* the v2 header, in copy */
	data2 = h2 + 44;
	ntimes = get32(berlin + v1len + 32);
	assert_true(berlin[4] >= '2' && ntimes > 2);
	snprintf(tzdir, sizeof(tzdir), "/tmp/pw-tzdir-XXXXXX");
	assert_non_null(mkdtemp(tzdir));
	setenv("TZDIR", tzdir, 1);

	write_file("Good", berlin, len);
	write_file("Empty", "", 0);
	write_file("Text", "Europe/Berlin\n", 14);
	write_file("Truncated", berlin, 100);
	memcpy(copy, berlin, len);
	put32(h2 + 28, 1);			/* v2 leapcnt */
	write_file("Leap", copy, len);
	memcpy(copy, berlin, len);
	put32(copy + 32, 60000);		/* v1 timecnt: too short */
	write_file("HugeCounts", copy, len);
	memcpy(copy, berlin, len);
	memcpy(copy + len - 8, "???????\n", 8);	/* footer garbage */
	write_file("BadFooter", copy, len);
	write_file("NoFooter", berlin, len - 1);	/* no final newline */
	memcpy(copy, berlin, len);
	data2[ntimes * 8] = 200;		/* first type index */
	write_file("BadTypeIndex", copy, len);
	memcpy(copy, berlin, len);
	put32(data2 + ntimes * 9, 30 * 3600);	/* first type: +30 h */
	write_file("BadOffset", copy, len);
	memcpy(copy, berlin, len);
	memcpy(data2 + 8, data2, 8);		/* two equal times */
	write_file("Unordered", copy, len);
	/* A version 1 file: the first block alone, version byte 0. */
	memcpy(copy, berlin, len);
	copy[4] = 0;
	write_file("V1only", copy, v1len);

	assert_true(schedule_tz_valid("Good"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (schedule_tz_valid(bad[i]))
			fail_msg("zone file '%s' accepted", bad[i]);
		assert_int_equal(schedule_parse("daily 08:00", bad[i], &s, err,
		    sizeof(err)), -1);
		if (strstr(err, "bad TZif data: ") == NULL)
			fail_msg("%s: %s", bad[i], err);
	}
	assert_int_equal(schedule_parse("daily 08:00", "Leap", &s, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "unknown time zone 'Leap': bad TZif data: "
	    "the zone counts leap seconds (a 'right/' zone?) (expected an "
	    "IANA name such as 'Europe/Berlin'; is tzdata installed?)");

	/* The v1-only file gives Berlin's times up to 2037 (no footer). */
	parse_ok("daily 02:30", "V1only", &s);
	assert_int_equal(schedule_next(&s, utc(2026, 10, 24, 12, 0, 0), -1),
	    1792888200LL);
	assert_int_equal(schedule_next(&s, utc(2026, 3, 28, 12, 0, 0), -1),
	    1774746000LL);
	schedule_release(&s);

	unsetenv("TZDIR");
	remove_tzdir();
}

/* ---- arXiv and jitter ---- */

static void
test_arxiv_next_poll(void **state)
{
	static const struct {
		long long now, jitter, expect;
	} cases[] = {
		/* Mon 2026-01-12 12:00 EST -> Mon 20:30 EST. */
		{ 1768237200LL, 0, 1768267800LL },
		/* At Mon 20:30 itself -> Tue 20:30. */
		{ 1768267800LL, 0, 1768354200LL },
		/* Thu 2026-01-15 21:00 EST -> Sun 2026-01-18 20:30 EST. */
		{ 1768528800LL, 0, 1768786200LL },
		/* Fri 12:00, Sat 12:00 -> Sun 20:30. */
		{ 1768582800LL, 0, 1768786200LL },
		{ 1768669200LL, 0, 1768786200LL },
		/* Sat 2026-03-07 12:00 EST -> Sun 2026-03-08 20:30 EDT. */
		{ 1772902800LL, 0, 1773016200LL },
		/* Wed 2026-07-15 21:00 EDT -> Thu 20:30 EDT. */
		{ 1784163600LL, 0, 1784248200LL },
		/* Jitter added, and clamped to 0 .. 3600. */
		{ 1768237200LL, 300, 1768268100LL },
		{ 1768237200LL, -5, 1768267800LL },
		{ 1768237200LL, 99999, 1768271400LL },
	};
	long long t, start;
	struct schedule ny;
	struct tm tm;
	size_t i;
	int n = 0;

	(void)state;
	NEED_TZDATA();
	assert_int_equal(utc(2026, 1, 12, 17, 0, 0), 1768237200LL);
	assert_int_equal(utc(2026, 1, 13, 1, 30, 0), 1768267800LL);
	assert_int_equal(utc(2026, 1, 19, 1, 30, 0), 1768786200LL);
	assert_int_equal(utc(2026, 3, 9, 0, 30, 0), 1773016200LL);
	assert_int_equal(utc(2026, 7, 17, 0, 30, 0), 1784248200LL);
	assert_int_equal(utc(2026, 1, 16, 2, 0, 0), 1768528800LL);
	assert_int_equal(utc(2026, 7, 16, 1, 0, 0), 1784163600LL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (schedule_arxiv_next_poll(cases[i].now, cases[i].jitter) !=
		    cases[i].expect)
			fail_msg("case %zu: %lld, expected %lld", i,
			    schedule_arxiv_next_poll(cases[i].now,
			    cases[i].jitter), cases[i].expect);

	/* Four weeks across the spring change: 5 polls a week, Sunday to
	 * Thursday, always 20:30 New York time. */
	parse_ok("immediate", "America/New_York", &ny);
	start = utc(2026, 2, 20, 12, 0, 0);	/* a Friday */
	for (t = schedule_arxiv_next_poll(start, 0); t < start + 28 * D;
	    t = schedule_arxiv_next_poll(t, 0)) {
		schedule_localtime(&ny, t, &tm);
		assert_true(tm.tm_wday <= 4);
		assert_int_equal(tm.tm_hour, 20);
		assert_int_equal(tm.tm_min, 30);
		n++;
	}
	assert_int_equal(n, 20);
	schedule_release(&ny);
}

static void
test_jitter(void **state)
{
	unsigned seed = 42, seed2 = 42;
	long long v, min = LLONG_MAX, max = 0, sum = 0;
	int i;

	(void)state;
	for (i = 0; i < 10000; i++) {
		v = schedule_jitter(3600, &seed);
		assert_true(v >= 3240 && v <= 3960);
		min = v < min ? v : min;
		max = v > max ? v : max;
		sum += v;
	}
	assert_true(min < 3260 && max > 3940);	/* spread over the range */
	assert_true(sum / 10000 > 3580 && sum / 10000 < 3620);
	/* Same seed, same sequence. */
	seed = 7;
	seed2 = 7;
	for (i = 0; i < 10; i++)
		assert_int_equal(schedule_jitter(600, &seed),
		    schedule_jitter(600, &seed2));
	assert_int_equal(schedule_jitter(9, &seed), 9);
	assert_int_equal(schedule_jitter(0, &seed), 0);
	assert_int_equal(schedule_jitter(-5, &seed), -5);
	assert_int_equal(schedule_jitter(3600, NULL), 3600);
	v = schedule_jitter(LLONG_MAX, &seed);
	assert_true(v > 0);
	v = schedule_jitter(10, &seed);
	assert_true(v >= 9 && v <= 11);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_bad_long),
		cmocka_unit_test(test_tz_valid),
		cmocka_unit_test(test_parse_bad_zone),
		cmocka_unit_test(test_daily_next),
		cmocka_unit_test(test_weekly_next),
		cmocka_unit_test(test_every_next),
		cmocka_unit_test(test_immediate_next),
		cmocka_unit_test(test_dst_transitions),
		cmocka_unit_test(test_dst_whole_year),
		cmocka_unit_test(test_localtime_vs_glibc),
		cmocka_unit_test(test_resolve_vs_mktime),
		cmocka_unit_test(test_system_zone),
		cmocka_unit_test(test_copy_and_hand_built),
		cmocka_unit_test(test_localtime_fields),
		cmocka_unit_test_teardown(test_hostile_zone_files,
		    teardown_tzdir),
		cmocka_unit_test(test_arxiv_next_poll),
		cmocka_unit_test(test_jitter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
