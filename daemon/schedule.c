/*
 * schedule.c: due times of digests and polls, in IANA time zones.
 *
 * Zones are read from tzdata's TZif files (RFC 8536) here, not through
 * setenv("TZ") + tzset() + mktime(), because:
 *  - nothing global changes: log lines, SQLite or any localtime() caller
 *    never see another subscription's zone, and any thread may call us;
 *  - a zone is read once and shared (reference counted) by all schedules
 *    naming it: ten thousand subscriptions in Europe/Berlin cost one small
 *    table, and a due time costs a binary search, where glibc re-reads the
 *    zone file each time TZ changes between two zones;
 *  - gaps and overlaps are resolved exactly from the transition table,
 *    where mktime() with tm_isdst = -1 leaves them unspecified;
 *  - the POSIX TZ string at the end of the file gives the rules past the
 *    table's end (2037 in fat files, much earlier in slim ones); the same
 *    parser reads a POSIX TZ in $TZ for the system zone.
 * Zone files are trusted system data, but are still read with bounds
 * checks on every count, offset and index.
 */
#include "daemon/schedule.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feeds/util.h"

#define DAY		86400LL
#define T_LIMIT		(1LL << 40)	/* +-34,000 years: no overflow */
#define ZONE_FILE_MAX	(512 * 1024)
#define ZONE_NAME_MAX	255
#define ABBR_MAX	16
#define UTOFF_MIN	(-89999)	/* RFC 8536: -24:59:59 */
#define UTOFF_MAX	93599		/* +25:59:59 */
#define RESOLVE_BACK	(27 * 3600LL)	/* > any |UT offset| */
#define TZDIR_DEFAULT	"/usr/share/zoneinfo"
#define SCHEDULE_TEXT_MAX 128
#define SCHEDULE_EXPECTED "expected 'daily HH:MM', 'weekly DAY HH:MM', " \
	"'every N{m,h,d}' or 'immediate'"

/* A POSIX TZ rule date: Jn (1..365, no Feb 29), n (0..365), Mm.w.d. */
struct tz_date {
	char	 kind;		/* 'J', 'N', 'M' */
	int	 n, month, week, wday;
	long	 secs;		/* local time of day, -167h..167h */
};

struct tz_rule {
	long		 std_off;	/* UT offsets, east positive */
	long		 dst_off;
	bool		 has_dst;
	struct tz_date	 start, end;
	char		 std_abbr[ABBR_MAX];
	char		 dst_abbr[ABBR_MAX];
};

struct zone_type {
	long		 utoff;
	bool		 isdst;
	unsigned	 abbr;		/* index into chars */
};

struct schedule_zone {
	struct schedule_zone *next;	/* in the shared list */
	char		*key;		/* file path, or "posix:" + string */
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtime;
	unsigned	 refs;
	bool		 is_static;
	size_t		 ntimes;
	long long	*times;		/* ascending */
	unsigned char	*idx;		/* type of each interval */
	size_t		 ntypes;
	struct zone_type *types;
	char		*chars;		/* abbreviations, NUL-terminated */
	size_t		 nchars;
	bool		 has_rule;
	struct tz_rule	 rule;		/* after the last transition */
};

/* What a zone says about one instant. */
struct zinfo {
	long		 utoff;
	bool		 isdst;
	const char	*abbr;
};

static struct zone_type utc_type = { 0, false, 0 };
static char utc_chars[] = "UTC";
static struct schedule_zone zone_utc = {
	.key = (char *)"UTC", .refs = 1, .is_static = true, .ntypes = 1,
	.types = &utc_type, .chars = utc_chars, .nchars = sizeof(utc_chars),
};

static pthread_mutex_t zone_lock = PTHREAD_MUTEX_INITIALIZER;
static struct schedule_zone *zone_list;

/* ---- calendar arithmetic (proleptic Gregorian, days since 1970) ---- */

static long long
floordiv(long long a, long long b)
{
	long long q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static long long
clamp(long long v, long long lo, long long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static bool
is_leap(long long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d (m 1..12; d may overflow the month). */
static long long
days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy;

	y -= m <= 2;
	era = floordiv(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void
civil_from_days(long long z, long long *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = floordiv(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
weekday(long long days)		/* 0 = Sunday; 1970-01-01 was a Thursday */
{
	return (int)(((days % 7) + 11) % 7);
}

static int
month_days(long long y, int m)
{
	static const int len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	return len[m - 1] + (m == 2 && is_leap(y));
}

/* ---- POSIX TZ strings ("CET-1CEST,M3.5.0,M10.5.0/3") ---- */

static const char *
tz_parse_abbr(const char *p, char *out)
{
	size_t n = 0;

	if (*p == '<') {
		for (p++; *p != '>'; p++) {
			if (*p == '\0' || n + 1 >= ABBR_MAX ||
			    !(isalnum((unsigned char)*p) || *p == '+' ||
			    *p == '-'))
				return NULL;
			out[n++] = *p;
		}
		p++;
	} else {
		for (; isalpha((unsigned char)*p); p++) {
			if (n + 1 >= ABBR_MAX)
				return NULL;
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return n >= 3 ? p : NULL;
}

static const char *
tz_parse_num(const char *p, int max, int *out)
{
	int v = 0, digits = 0;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (++digits > 3)
			return NULL;
		v = v * 10 + (*p - '0');
	}
	if (digits == 0 || v > max)
		return NULL;
	*out = v;
	return p;
}

/* [+-]hh[:mm[:ss]] with hh <= maxh; the value in seconds. */
static const char *
tz_parse_hms(const char *p, int maxh, long *secs)
{
	int sign = 1, h, m = 0, s = 0;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if ((p = tz_parse_num(p, maxh, &h)) == NULL)
		return NULL;
	if (*p == ':' && (p = tz_parse_num(p + 1, 59, &m)) != NULL &&
	    *p == ':')
		p = tz_parse_num(p + 1, 59, &s);
	if (p == NULL)
		return NULL;
	*secs = sign * ((long)h * 3600 + m * 60 + s);
	return p;
}

static const char *
tz_parse_date(const char *p, struct tz_date *d)
{
	memset(d, 0, sizeof(*d));
	d->secs = 7200;
	if (*p == 'J') {
		d->kind = 'J';
		if ((p = tz_parse_num(p + 1, 365, &d->n)) == NULL || d->n < 1)
			return NULL;
	} else if (*p == 'M') {
		d->kind = 'M';
		if ((p = tz_parse_num(p + 1, 12, &d->month)) == NULL ||
		    d->month < 1 || *p != '.' ||
		    (p = tz_parse_num(p + 1, 5, &d->week)) == NULL ||
		    d->week < 1 || *p != '.' ||
		    (p = tz_parse_num(p + 1, 6, &d->wday)) == NULL)
			return NULL;
	} else {
		d->kind = 'N';
		if ((p = tz_parse_num(p, 365, &d->n)) == NULL)
			return NULL;
	}
	if (*p == '/')
		p = tz_parse_hms(p + 1, 167, &d->secs);
	return p;
}

/* Parse a whole POSIX TZ string into r; -1 if it is not one. */
static int
tz_parse_rule(const char *p, struct tz_rule *r)
{
	long off;

	memset(r, 0, sizeof(*r));
	if ((p = tz_parse_abbr(p, r->std_abbr)) == NULL ||
	    (p = tz_parse_hms(p, 24, &off)) == NULL)
		return -1;
	r->std_off = -off;
	if (*p == '\0')
		return 0;
	if ((p = tz_parse_abbr(p, r->dst_abbr)) == NULL)
		return -1;
	r->has_dst = true;
	r->dst_off = r->std_off + 3600;
	if (*p != ',' && *p != '\0') {
		if ((p = tz_parse_hms(p, 24, &off)) == NULL)
			return -1;
		r->dst_off = -off;
	}
	if (*p == '\0')		/* no rule: the US one, as glibc does */
		p = ",M3.2.0,M11.1.0";
	if (*p != ',' || (p = tz_parse_date(p + 1, &r->start)) == NULL ||
	    *p != ',' || (p = tz_parse_date(p + 1, &r->end)) == NULL)
		return -1;
	return *p == '\0' ? 0 : -1;
}

/* The day (since 1970) a rule date falls on in year y. */
static long long
rule_day(const struct tz_date *d, long long y)
{
	long long first;
	int mday;

	if (d->kind == 'J')
		return days_from_civil(y, 1, 1) + d->n - 1 +
		    (is_leap(y) && d->n >= 60);
	if (d->kind == 'N')
		return days_from_civil(y, 1, 1) + d->n;
	first = days_from_civil(y, d->month, 1);
	mday = 1 + (d->wday - weekday(first) + 7) % 7 + (d->week - 1) * 7;
	while (mday > month_days(y, d->month))
		mday -= 7;
	return first + mday - 1;
}

struct rule_event {
	long long	 at;
	bool		 start;		/* DST starts (else ends) */
};

/*
 * Offset of rule r at t, and (returned) the next change after t.  The
 * events of four years around t are enough: a rule has two per year.
 * Equal instants sort "end" first, so "0/0,J365/25" is DST all year.
 */
static long long
rule_lookup(const struct tz_rule *r, long long t, struct zinfo *zi)
{
	struct rule_event ev[8], tmp;
	long long y, next = LLONG_MAX;
	size_t i, j, n = 0;
	bool dst;
	int m, d;

	zi->utoff = r->std_off;
	zi->isdst = false;
	zi->abbr = r->std_abbr;
	if (!r->has_dst)
		return LLONG_MAX;
	civil_from_days(floordiv(t + r->std_off, DAY), &y, &m, &d);
	for (y -= 1, i = 0; i < 4; i++, y++) {
		ev[n].at = rule_day(&r->start, y) * DAY + r->start.secs -
		    r->std_off;
		ev[n++].start = true;
		ev[n].at = rule_day(&r->end, y) * DAY + r->end.secs -
		    r->dst_off;
		ev[n++].start = false;
	}
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && (ev[j - 1].at > ev[j].at ||
		    (ev[j - 1].at == ev[j].at && ev[j - 1].start &&
		    !ev[j].start)); j--) {
			tmp = ev[j];
			ev[j] = ev[j - 1];
			ev[j - 1] = tmp;
		}
	dst = !ev[0].start;
	for (i = 0; i < n; i++) {
		if (ev[i].at > t) {
			next = ev[i].at;
			break;
		}
		dst = ev[i].start;
	}
	if (dst) {
		zi->utoff = r->dst_off;
		zi->isdst = true;
		zi->abbr = r->dst_abbr;
	}
	return next;
}

/* ---- TZif files ---- */

struct tzif_hdr {
	char		 version;
	uint32_t	 isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int
tzif_header(const unsigned char *p, size_t len, struct tzif_hdr *h)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	h->version = (char)p[4];
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	if (h->isutcnt > 256 || h->isstdcnt > 256 || h->leapcnt > 65536 ||
	    h->timecnt > 65536 || h->typecnt > 256 || h->charcnt > 65536)
		return -1;
	return 0;
}

/* Bytes of the data block after a header; tsize: 4 (v1) or 8 (v2+). */
static size_t
tzif_block_len(const struct tzif_hdr *h, size_t tsize)
{
	return h->timecnt * (tsize + 1) + h->typecnt * 6 + h->charcnt +
	    h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

static int
tzif_fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "bad TZif data: %s", why);
	return -1;
}

/* Read the transitions, types and abbreviations of one data block. */
static int
tzif_block(struct schedule_zone *z, const struct tzif_hdr *h,
    const unsigned char *p, size_t tsize, char *err, size_t errlen)
{
	const unsigned char *ti = p + h->timecnt * tsize, *tt;
	size_t i;

	z->ntimes = h->timecnt;
	z->times = xcalloc(h->timecnt + 1, sizeof(*z->times));
	z->idx = xcalloc(h->timecnt + 1, 1);
	for (i = 0; i < h->timecnt; i++) {
		z->times[i] = tsize == 8 ? be64(p + 8 * i) :
		    (int32_t)be32(p + 4 * i);
		z->idx[i] = ti[i];
		if (ti[i] >= h->typecnt)
			return tzif_fail(err, errlen, "type index out of range");
		if (i > 0 && z->times[i] <= z->times[i - 1])
			return tzif_fail(err, errlen, "unordered transitions");
	}
	tt = ti + h->timecnt;
	z->ntypes = h->typecnt;
	z->types = xcalloc(h->typecnt, sizeof(*z->types));
	for (i = 0; i < h->typecnt; i++, tt += 6) {
		z->types[i].utoff = (int32_t)be32(tt);
		z->types[i].isdst = tt[4] != 0;
		z->types[i].abbr = tt[5];
		if (z->types[i].utoff < UTOFF_MIN ||
		    z->types[i].utoff > UTOFF_MAX || tt[4] > 1 ||
		    tt[5] >= h->charcnt)
			return tzif_fail(err, errlen, "bad local time type");
	}
	z->nchars = h->charcnt + 1;
	z->chars = xmalloc(z->nchars);
	memcpy(z->chars, tt, h->charcnt);
	z->chars[h->charcnt] = '\0';
	return 0;
}

/* The POSIX TZ footer "\n...\n" after a v2+ block; empty is allowed. */
static int
tzif_footer(struct schedule_zone *z, const unsigned char *p, size_t len,
    char *err, size_t errlen)
{
	const unsigned char *nl;
	char rule[128];
	size_t n;

	if (len < 2 || p[0] != '\n' ||
	    (nl = memchr(p + 1, '\n', len - 1)) == NULL)
		return tzif_fail(err, errlen, "missing TZ string footer");
	n = (size_t)(nl - p - 1);
	if (n == 0)
		return 0;
	if (n >= sizeof(rule))
		return tzif_fail(err, errlen, "TZ string footer too long");
	memcpy(rule, p + 1, n);
	rule[n] = '\0';
	if (tz_parse_rule(rule, &z->rule) < 0)
		return tzif_fail(err, errlen, "bad TZ string footer");
	z->has_rule = true;
	return 0;
}

/* Fill z from a whole TZif file (version 1 to 4). */
static int
tzif_parse(struct schedule_zone *z, const unsigned char *p, size_t len,
    char *err, size_t errlen)
{
	struct tzif_hdr h;
	size_t tsize = 4, blen;

	if (tzif_header(p, len, &h) < 0)
		return tzif_fail(err, errlen, "not a TZif file");
	if (h.version != '\0') {
		blen = tzif_block_len(&h, 4);
		if (len - 44 < blen)
			return tzif_fail(err, errlen, "truncated");
		p += 44 + blen;
		len -= 44 + blen;
		if (tzif_header(p, len, &h) < 0)
			return tzif_fail(err, errlen, "bad second header");
		tsize = 8;
	}
	if (h.typecnt == 0 || h.charcnt == 0 ||
	    (h.isstdcnt != 0 && h.isstdcnt != h.typecnt) ||
	    (h.isutcnt != 0 && h.isutcnt != h.typecnt))
		return tzif_fail(err, errlen, "inconsistent counts");
	if (h.leapcnt != 0)
		return tzif_fail(err, errlen,
		    "the zone counts leap seconds (a 'right/' zone?)");
	blen = tzif_block_len(&h, tsize);
	if (len - 44 < blen)
		return tzif_fail(err, errlen, "truncated");
	if (tzif_block(z, &h, p + 44, tsize, err, errlen) < 0)
		return -1;
	if (tsize == 8)
		return tzif_footer(z, p + 44 + blen, len - 44 - blen, err,
		    errlen);
	return 0;
}

/* ---- the shared zone list ---- */

static void
zone_free(struct schedule_zone *z)
{
	if (z == NULL || z->is_static)
		return;
	free(z->key);
	free(z->times);
	free(z->idx);
	free(z->types);
	free(z->chars);
	free(z);
}

static void
zone_unref(struct schedule_zone *z)
{
	struct schedule_zone **pp;
	bool last = false;

	if (z == NULL || z->is_static)
		return;
	pthread_mutex_lock(&zone_lock);
	if (--z->refs == 0) {
		for (pp = &zone_list; *pp != NULL; pp = &(*pp)->next)
			if (*pp == z) {
				*pp = z->next;
				break;
			}
		last = true;
	}
	pthread_mutex_unlock(&zone_lock);
	if (last)
		zone_free(z);
}

static struct schedule_zone *
zone_ref(struct schedule_zone *z)
{
	if (z != NULL && !z->is_static) {
		pthread_mutex_lock(&zone_lock);
		z->refs++;
		pthread_mutex_unlock(&zone_lock);
	}
	return z;
}

/*
 * A shared zone with this key whose file (if st) is unchanged, with one
 * more reference; NULL if none.  A changed file (tzdata upgrade, a new
 * /etc/localtime) gives a new entry, so a reload picks it up.
 */
static struct schedule_zone *
zone_find(const char *key, const struct stat *st)
{
	struct schedule_zone *z;

	pthread_mutex_lock(&zone_lock);
	for (z = zone_list; z != NULL; z = z->next) {
		if (strcmp(z->key, key) != 0)
			continue;
		if (st == NULL || (z->dev == st->st_dev &&
		    z->ino == st->st_ino && z->size == st->st_size &&
		    z->mtime.tv_sec == st->st_mtim.tv_sec &&
		    z->mtime.tv_nsec == st->st_mtim.tv_nsec))
			break;
	}
	if (z != NULL)
		z->refs++;
	pthread_mutex_unlock(&zone_lock);
	return z;
}

static struct schedule_zone *
zone_insert(struct schedule_zone *z)
{
	z->refs = 1;
	pthread_mutex_lock(&zone_lock);
	z->next = zone_list;
	zone_list = z;
	pthread_mutex_unlock(&zone_lock);
	return z;
}

static int
read_fd(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* Read the zone at path (shared if already read); NULL and err if bad. */
static struct schedule_zone *
zone_from_file(const char *path, char *err, size_t errlen)
{
	struct schedule_zone *z = NULL;
	unsigned char *data = NULL;
	struct stat st;
	int fd, saved;

	/* one stat() when it is shared already: no open, read and close
	   for each of a thousand subscriptions */
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (z = zone_find(path, &st)) != NULL)
		return z;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		saved = errno;
		snprintf(err, errlen, "%s", strerror(saved));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > ZONE_FILE_MAX) {
		snprintf(err, errlen, "not a zone file");
		goto out_close;
	}
	if ((z = zone_find(path, &st)) != NULL)
		goto out_close;
	data = xmalloc((size_t)st.st_size + 1);
	z = xcalloc(1, sizeof(*z));
	if (read_fd(fd, data, (size_t)st.st_size) < 0) {
		snprintf(err, errlen, "read error");
		goto out_fail;
	}
	if (tzif_parse(z, data, (size_t)st.st_size, err, errlen) < 0)
		goto out_fail;
	free(data);
	z->key = xstrdup(path);
	z->dev = st.st_dev;
	z->ino = st.st_ino;
	z->size = st.st_size;
	z->mtime = st.st_mtim;
	close(fd);
	return zone_insert(z);
out_fail:
	free(data);
	zone_free(z);
	z = NULL;
out_close:
	close(fd);
	return z;
}

/* A zone made of one POSIX TZ string (system zone from $TZ); or NULL. */
static struct schedule_zone *
zone_from_posix(const char *s)
{
	struct schedule_zone *z;
	struct tz_rule rule;
	char *key;

	if (tz_parse_rule(s, &rule) < 0)
		return NULL;
	key = xasprintf("posix:%s", s);
	if ((z = zone_find(key, NULL)) != NULL) {
		free(key);
		return z;
	}
	z = xcalloc(1, sizeof(*z));
	z->key = key;
	z->rule = rule;
	z->has_rule = true;
	z->ntypes = 1;
	z->types = xcalloc(1, sizeof(*z->types));
	z->types[0].utoff = rule.std_off;
	z->nchars = 1;
	z->chars = xcalloc(1, 1);
	return zone_insert(z);
}

/* An IANA name: relative, no "." components, [A-Za-z0-9_+-/] only. */
static bool
zone_name_ok(const char *name)
{
	const char *p;
	size_t len = strlen(name);

	if (len == 0 || len > ZONE_NAME_MAX || name[0] == '/' ||
	    name[len - 1] == '/' || strstr(name, "//") != NULL)
		return false;
	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("_+-/", *p) == NULL)
			return false;
	return true;
}

static const char *
zone_dir(void)
{
	const char *dir = getenv("TZDIR");

	return dir != NULL && dir[0] == '/' ? dir : TZDIR_DEFAULT;
}

static struct schedule_zone *
zone_from_name(const char *name, char *err, size_t errlen)
{
	struct schedule_zone *z;
	char path[PATH_MAX];
	char why[160];

	if (!zone_name_ok(name)) {
		snprintf(err, errlen, "not an IANA zone name");
		return NULL;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", zone_dir(), name) >=
	    sizeof(path)) {
		snprintf(err, errlen, "name too long");
		return NULL;
	}
	if ((z = zone_from_file(path, why, sizeof(why))) == NULL)
		snprintf(err, errlen, "%s", why);
	return z;
}

/*
 * The system zone as glibc finds it: $TZ (":name", a path, a name under
 * the zone directory, or a POSIX TZ string; empty means UTC), else
 * /etc/localtime; UTC when nothing works.  Never fails.
 */
static struct schedule_zone *
zone_system(void)
{
	struct schedule_zone *z = NULL;
	const char *tz = getenv("TZ");
	char why[160];

	if (tz == NULL)
		z = zone_from_file("/etc/localtime", why, sizeof(why));
	else if (*tz == ':')
		tz++;
	if (tz != NULL && tz[0] == '/')
		z = zone_from_file(tz, why, sizeof(why));
	else if (tz != NULL && *tz != '\0') {
		z = zone_from_name(tz, why, sizeof(why));
		if (z == NULL)
			z = zone_from_posix(tz);
	}
	return z != NULL ? z : &zone_utc;
}

/*
 * The zone of s: its own (borrowed: s holds a reference, so the fast path
 * takes no lock), or one looked up for a schedule without a reference;
 * give it back with zone_done.
 */
static struct schedule_zone *
zone_of(const struct schedule *s)
{
	struct schedule_zone *z;
	char why[160];

	if (s->zone != NULL)
		return s->zone;
	if (s->tz == NULL)
		return zone_system();
	z = zone_from_name(s->tz, why, sizeof(why));
	return z != NULL ? z : &zone_utc;
}

static void
zone_done(const struct schedule *s, struct schedule_zone *z)
{
	if (s->zone == NULL)
		zone_unref(z);
}

/* ---- instants and wall times ---- */

/* The offset at t, and (returned) the next instant it may change. */
static long long
zone_lookup(const struct schedule_zone *z, long long t, struct zinfo *zi)
{
	const struct zone_type *ty;
	size_t lo = 0, hi = z->ntimes, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (z->times[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (z->has_rule && lo == z->ntimes)
		return rule_lookup(&z->rule, t, zi);
	ty = &z->types[lo == 0 ? 0 : z->idx[lo - 1]];
	zi->utoff = ty->utoff;
	zi->isdst = ty->isdst;
	zi->abbr = z->chars + ty->abbr;
	return lo < z->ntimes ? z->times[lo] : LLONG_MAX;
}

/*
 * The earliest instant whose wall time is >= local (local: wall-clock
 * seconds counted as if UTC): the wall time itself, its first occurrence
 * if it occurs twice, the end of the gap if it does not exist.  Walks the
 * constant-offset intervals from before any possible match.
 */
static long long
zone_resolve(const struct schedule_zone *z, long long local)
{
	struct zinfo zi = { 0, false, NULL };
	long long a = local - RESOLVE_BACK, next;
	int i;

	for (i = 0; i < 64; i++) {
		next = zone_lookup(z, a, &zi);
		if (a + zi.utoff >= local)
			return a;
		if (local - zi.utoff < next)
			return local - zi.utoff;
		a = next;
	}
	return local - zi.utoff;
}

static long long
local_day(const struct schedule_zone *z, long long t)
{
	struct zinfo zi;

	zone_lookup(z, t, &zi);
	return floordiv(t + zi.utoff, DAY);
}

/* First HH:MM on a day (wday < 0: any day) whose instant is > after. */
static long long
next_wall(const struct schedule_zone *z, long long after, int wday,
    int hour, int minute)
{
	long long day = local_day(z, after), t, k;

	for (k = -1; k <= 9; k++) {
		if (wday >= 0 && weekday(day + k) != wday)
			continue;
		t = zone_resolve(z, (day + k) * DAY + hour * 3600LL +
		    minute * 60LL);
		if (t > after)
			return t;
	}
	return after + (wday >= 0 ? 7 : 1) * DAY;	/* not reached */
}

static long long
next_every(long long every, long long after, long long last)
{
	if (every < 1)
		every = SCHEDULE_EVERY_MIN;
	every = clamp(every, 1, T_LIMIT);
	if (last < 0)
		return after + every;
	return last + (floordiv(after - last, every) + 1) * every;
}

long long
schedule_next(const struct schedule *s, long long after, long long last)
{
	struct schedule_zone *z;
	long long t;
	int hour, minute;

	after = clamp(after, -T_LIMIT, T_LIMIT);
	last = clamp(last, -1, T_LIMIT);
	switch (s->kind) {
	case SCHEDULE_DAILY:
	case SCHEDULE_WEEKLY:
		hour = (int)clamp(s->hour, 0, 23);
		minute = (int)clamp(s->minute, 0, 59);
		z = zone_of(s);
		t = next_wall(z, after, s->kind == SCHEDULE_WEEKLY ?
		    (int)clamp(s->wday, 0, 6) : -1, hour, minute);
		zone_done(s, z);
		return t;
	case SCHEDULE_EVERY:
		return next_every(s->every, after, last);
	case SCHEDULE_IMMEDIATE:
	default:
		return after;
	}
}

long
schedule_localtime(const struct schedule *s, long long t, struct tm *tm)
{
	struct schedule_zone *z = zone_of(s);
	struct zinfo zi;
	long long local, days, y, secs;
	int m, d;

	t = clamp(t, -T_LIMIT, T_LIMIT);
	zone_lookup(z, t, &zi);
	if (tm == NULL)
		goto out;
	local = t + zi.utoff;
	days = floordiv(local, DAY);
	secs = local - days * DAY;
	civil_from_days(days, &y, &m, &d);
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = (int)(y - 1900);
	tm->tm_mon = m - 1;
	tm->tm_mday = d;
	tm->tm_hour = (int)(secs / 3600);
	tm->tm_min = (int)(secs / 60 % 60);
	tm->tm_sec = (int)(secs % 60);
	tm->tm_wday = weekday(days);
	tm->tm_yday = (int)(days - days_from_civil(y, 1, 1));
	tm->tm_isdst = zi.isdst;
	tm->tm_gmtoff = zi.utoff;
	/* Borrowed: s's own zone outlives the call; a temporary one not. */
	tm->tm_zone = s->zone != NULL || z->is_static ? zi.abbr : "";
out:
	zone_done(s, z);
	return zi.utoff;
}

void
schedule_local_date(const struct schedule *s, long long t, char *out,
    size_t outlen)
{
	struct tm tm;

	if (out == NULL || outlen == 0)
		return;
	schedule_localtime(s, t, &tm);
	snprintf(out, outlen, "%04lld-%02d-%02d", (long long)tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday);
}

long long
schedule_resolve_local(const struct schedule *s, int year, int month,
    int day, int hour, int minute)
{
	struct schedule_zone *z = zone_of(s);
	long long y = year, m0 = (long long)month - 1, local, t;

	y += floordiv(m0, 12);
	m0 -= floordiv(m0, 12) * 12;
	y = clamp(y, -30000, 30000);
	local = days_from_civil(y, (int)m0 + 1, 1) * DAY +
	    ((long long)day - 1) * DAY + hour * 3600LL + minute * 60LL;
	t = zone_resolve(z, clamp(local, -T_LIMIT, T_LIMIT));
	zone_done(s, z);
	return t;
}

/* ---- parsing ---- */

/* Hostile-safe copy of text for an error message. */
static const char *
safe_text(const char *s, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 4 < outlen; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' :
		    s[i];
	if (s[i] != '\0' && outlen > 4) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

/* safe_text into a buffer that lives until the end of the statement. */
#define SAFE(s)	safe_text((s), (char[40]){ 0 }, 40)

static int
parse_fail(char *err, size_t errlen, const char *text, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
parse_fail(char *err, size_t errlen, const char *text, const char *fmt, ...)
{
	char t[72], why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "schedule '%s': %s",
	    safe_text(text, t, sizeof(t)), why);
	return -1;
}

/* "HH:MM" (H or HH, exactly MM), 00:00 to 23:59. */
static int
parse_hhmm(const char *s, int *hour, int *minute)
{
	size_t hd = 0;

	while (s[hd] >= '0' && s[hd] <= '9')
		hd++;
	if (hd < 1 || hd > 2 || s[hd] != ':' || strlen(s + hd + 1) != 2 ||
	    s[hd + 1] < '0' || s[hd + 1] > '5' ||
	    s[hd + 2] < '0' || s[hd + 2] > '9')
		return -1;
	*hour = (int)strtol(s, NULL, 10);
	*minute = (s[hd + 1] - '0') * 10 + (s[hd + 2] - '0');
	return *hour <= 23 ? 0 : -1;
}

static int
parse_wday(const char *s)
{
	static const char *const names[7][2] = {
		{ "sun", "sunday" }, { "mon", "monday" }, { "tue", "tuesday" },
		{ "wed", "wednesday" }, { "thu", "thursday" },
		{ "fri", "friday" }, { "sat", "saturday" },
	};
	int i;

	for (i = 0; i < 7; i++)
		if (strcasecmp(s, names[i][0]) == 0 ||
		    strcasecmp(s, names[i][1]) == 0)
			return i;
	return -1;
}

/* A unit word's length in seconds; 0 if unknown. */
static long long
parse_unit(const char *s)
{
	static const struct { const char *name; long long secs; } units[] = {
		{ "m", 60 }, { "min", 60 }, { "mins", 60 }, { "minute", 60 },
		{ "minutes", 60 }, { "h", 3600 }, { "hour", 3600 },
		{ "hours", 3600 }, { "d", DAY }, { "day", DAY },
		{ "days", DAY },
	};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcasecmp(s, units[i].name) == 0)
			return units[i].secs;
	return 0;
}

/* "6h", or "6" then the unit word "h" (unit NULL for the first form). */
static int
parse_every(const char *num, const char *unit, const char *text,
    struct schedule *out, char *err, size_t errlen)
{
	long long n = 0, secs;
	const char *p = num;

	for (; *p >= '0' && *p <= '9'; p++)	/* saturates: no overflow */
		n = n > 1000000000 ? n : n * 10 + (*p - '0');
	if (p == num || (*p == '\0') == (unit == NULL) ||
	    (secs = parse_unit(unit != NULL ? unit : p)) == 0)
		return parse_fail(err, errlen, text, "bad interval '%s%s%s' "
		    "(expected a number and m, h or d, as in 'every 6h')",
		    SAFE(num), unit != NULL ? " " : "",
		    unit != NULL ? SAFE(unit) : "");
	if (n > 1000000000 || n * secs < SCHEDULE_EVERY_MIN ||
	    n * secs > SCHEDULE_EVERY_MAX)
		return parse_fail(err, errlen, text,
		    "interval out of range (1m to 365d)");
	out->every = n * secs;
	return 0;
}

/* Split s (modified) at blanks into at most max words; their count. */
static size_t
split_words(char *s, char **w, size_t max)
{
	size_t n = 0;
	char *save = NULL, *tok;

	for (tok = strtok_r(s, " \t\r\n", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return max + 1;
		w[n++] = tok;
	}
	return n;
}

static const struct schedule_form {
	const char		*word;
	enum schedule_kind	 kind;
	size_t			 min, max;	/* words, with the first */
	const char		*usage;
} schedule_forms[] = {
	{ "immediate", SCHEDULE_IMMEDIATE, 1, 1, "immediate" },
	{ "daily", SCHEDULE_DAILY, 2, 2, "daily HH:MM" },
	{ "weekly", SCHEDULE_WEEKLY, 3, 3, "weekly DAY HH:MM" },
	{ "every", SCHEDULE_EVERY, 2, 3, "every N{m,h,d}" },
};

/* The words after the first, for the form f. */
static int
parse_args(const struct schedule_form *f, char **w, const char *text,
    struct schedule *out, char *err, size_t errlen)
{
	const char *hhmm = f->kind == SCHEDULE_WEEKLY ? w[2] : w[1];

	out->kind = f->kind;
	if (f->kind == SCHEDULE_EVERY)
		return parse_every(w[1], w[2], text, out, err, errlen);
	if (f->kind == SCHEDULE_WEEKLY && (out->wday = parse_wday(w[1])) < 0)
		return parse_fail(err, errlen, text, "unknown day '%s' "
		    "(expected mon, tue, wed, thu, fri, sat or sun)",
		    SAFE(w[1]));
	if (f->kind != SCHEDULE_IMMEDIATE &&
	    parse_hhmm(hhmm, &out->hour, &out->minute) < 0)
		return parse_fail(err, errlen, text, "bad time '%s' "
		    "(expected HH:MM, 00:00 to 23:59)", SAFE(hhmm));
	return 0;
}

static int
parse_text(const char *text, struct schedule *out, char *err,
    size_t errlen)
{
	char copy[SCHEDULE_TEXT_MAX + 1];
	char *w[4] = { NULL, NULL, NULL, NULL };
	const struct schedule_form *f = NULL;
	size_t n, i;

	if (strlen(text) > SCHEDULE_TEXT_MAX)
		return parse_fail(err, errlen, text, "too long (at most %d "
		    "characters)", SCHEDULE_TEXT_MAX);
	memcpy(copy, text, strlen(text) + 1);
	n = split_words(copy, w, 3);
	for (i = 0; n > 0 && i < sizeof(schedule_forms) /
	    sizeof(schedule_forms[0]); i++)
		if (strcasecmp(w[0], schedule_forms[i].word) == 0)
			f = &schedule_forms[i];
	if (f == NULL)
		return parse_fail(err, errlen, text, "%s", SCHEDULE_EXPECTED);
	if (n < f->min || n > f->max)
		return parse_fail(err, errlen, text, "%s (expected '%s')",
		    n < f->min ? "too few words" : "too many words", f->usage);
	return parse_args(f, w, text, out, err, errlen);
}

int
schedule_parse(const char *text, const char *tz, struct schedule *out,
    char *err, size_t errlen)
{
	char why[160], t[72];

	memset(out, 0, sizeof(*out));
	if (parse_text(text != NULL ? text : "", out, err, errlen) < 0) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	if (tz == NULL) {
		out->zone = zone_system();
		return 0;
	}
	if ((out->zone = zone_from_name(tz, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "unknown time zone '%s': %s (expected an "
		    "IANA name such as 'Europe/Berlin'; is tzdata installed?)",
		    safe_text(tz, t, sizeof(t)), why);
		memset(out, 0, sizeof(*out));
		return -1;
	}
	out->tz = xstrdup(tz);
	return 0;
}

void
schedule_release(struct schedule *s)
{
	if (s == NULL)
		return;
	zone_unref(s->zone);
	free(s->tz);
	memset(s, 0, sizeof(*s));
}

void
schedule_copy(struct schedule *dst, const struct schedule *src)
{
	*dst = *src;
	dst->tz = xstrdup(src->tz);
	dst->zone = zone_ref(src->zone);
}

bool
schedule_tz_valid(const char *tz)
{
	struct schedule_zone *z;
	char why[160];

	if (tz == NULL || (z = zone_from_name(tz, why, sizeof(why))) == NULL)
		return false;
	zone_unref(z);
	return true;
}

/* ---- polling helpers ---- */

/* A 32-bit hash of a counter (splitmix-like): good bits from any seed. */
static uint32_t
next_random(unsigned *seed)
{
	uint32_t x = (uint32_t)(*seed += 0x9e3779b9u);

	x = (x ^ (x >> 16)) * 0x85ebca6bu;
	x = (x ^ (x >> 13)) * 0xc2b2ae35u;
	return x ^ (x >> 16);
}

long long
schedule_jitter(long long interval, unsigned *seed)
{
	unsigned long long r;
	long long span;

	if (seed == NULL || interval < 10)
		return interval;
	interval = clamp(interval, 10, LLONG_MAX / 2);
	span = interval / 10;
	r = (unsigned long long)next_random(seed) << 32 | next_random(seed);
	return interval - span + (long long)(r % (unsigned long long)
	    (2 * span + 1));
}

/* New York's zone, read once and kept for the life of the process. */
static struct schedule_zone *
arxiv_zone(void)
{
	static struct schedule_zone *ny;
	static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
	char why[160];

	pthread_mutex_lock(&once);
	if (ny == NULL)
		ny = zone_from_name("America/New_York", why, sizeof(why));
	if (ny == NULL)
		ny = zone_from_posix("EST5EDT,M3.2.0,M11.1.0");
	pthread_mutex_unlock(&once);
	return ny;
}

long long
schedule_arxiv_next_poll(long long now, long long jitter)
{
	const struct schedule_zone *z = arxiv_zone();
	long long day, t, k;
	int wd;

	now = clamp(now, -T_LIMIT, T_LIMIT);
	jitter = clamp(jitter, 0, SCHEDULE_ARXIV_JITTER_MAX);
	day = local_day(z, now);
	for (k = -1; k <= 8; k++) {
		wd = weekday(day + k);
		if (wd == 5 || wd == 6)		/* Friday, Saturday */
			continue;
		t = zone_resolve(z, (day + k) * DAY +
		    SCHEDULE_ARXIV_POLL_HOUR * 3600LL +
		    SCHEDULE_ARXIV_POLL_MINUTE * 60LL) + jitter;
		if (t > now)
			return t;
	}
	return now + DAY;	/* not reached */
}
