/*
 * util.c: allocation wrappers, buffers, string vectors, UTF-8 hygiene,
 * dates.
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void
oom(void)
{
	static const char msg[] = "<2>out of memory\n";

	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(70);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom();
	return q;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		oom();
	return xrealloc(p, n * size);
}

char *
xstrdup(const char *s)
{
	if (s == NULL)
		return NULL;
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (b.data == NULL)
		return xstrdup("");
	return buf_detach(&b);
}

/* buf */

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static void
buf_grow(struct buf *b, size_t extra)
{
	size_t need, cap;

	if (extra > SIZE_MAX - b->len - 1)
		oom();
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

/* Grow once now for n more bytes, instead of doubling on the way. */
void
buf_reserve(struct buf *b, size_t n)
{
	if (b->data == NULL || n >= b->cap - b->len)
		buf_grow(b, n);
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n >= b->cap - b->len || b->data == NULL)	/* room for n + NUL? */
		buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, char c)
{
	if (b->data == NULL || b->cap - b->len < 2)
		buf_grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

const char *
buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}

char *
buf_detach(struct buf *b)
{
	char *p = b->data ? b->data : xstrdup("");

	buf_init(b);
	return p;
}

/* strvec */

void
strvec_init(struct strvec *sv)
{
	sv->v = NULL;
	sv->n = 0;
	sv->cap = 0;
}

void
strvec_release(struct strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	strvec_init(sv);
}

void
strvec_push_take(struct strvec *sv, char *s)
{
	if (sv->n == sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 4;
		sv->v = xreallocarray(sv->v, sv->cap, sizeof(*sv->v));
	}
	sv->v[sv->n++] = s;
}

void
strvec_push(struct strvec *sv, const char *s)
{
	strvec_push_take(sv, xstrdup(s));
}

bool
strvec_contains(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

void
strvec_copy(struct strvec *dst, const struct strvec *src)
{
	for (size_t i = 0; i < src->n; i++)
		strvec_push(dst, src->v[i]);
}

/* UTF-8 */

size_t
utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c, min;
	size_t n;

	if (len == 0)
		return 0;
	c = u[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2; c &= 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3; c &= 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4; c &= 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (u[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

size_t
utf8_encode(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *)out;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		cp = 0xfffd;
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (cp > 0x10ffff)
		return utf8_encode(0xfffd, out);
	o[0] = (unsigned char)(0xf0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

static bool
is_bad_control(uint32_t cp)
{
	if (cp < 0x20)
		return cp != '\t' && cp != '\n' && cp != '\r';
	return cp == 0x7f || (cp >= 0x80 && cp < 0xa0);
}

void
utf8_clean(struct buf *dst, const char *src, size_t len)
{
	size_t i = 0, run = 0;
	uint32_t cp;

	while (i < len) {
		size_t n;
		unsigned char c = (unsigned char)src[i];

		if (c >= 0x20 && c < 0x7f) {	/* fast path: printable ASCII */
			i++;
			run++;
			continue;
		}
		n = utf8_decode(src + i, len - i, &cp);
		if (n != 0 && !is_bad_control(cp)) {
			i += n;
			run += n;
			continue;
		}
		buf_add(dst, src + i - run, run);
		run = 0;
		if (n == 0) {
			buf_add(dst, "\xef\xbf\xbd", 3);
			i++;
			/* skip continuation bytes of the broken sequence */
			while (i < len && ((unsigned char)src[i] & 0xc0) == 0x80)
				i++;
		} else {
			i += n;	/* drop the control character */
		}
	}
	buf_add(dst, src + len - run, run);
}

size_t
utf8_clean_span(const char *s, size_t len)
{
	const uint64_t rep = 0x0101010101010101ULL;
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t n;

		if (i + 8 <= len) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			/* eight bytes in 0x20..0x7e */
			if (((w | (w + rep) | ((w - rep * 0x20) & ~w)) &
			    (rep * 0x80)) == 0) {
				i += 8;
				continue;
			}
		}
		if (c >= 0x20 && c < 0x7f) {
			i++;
			continue;
		}
		n = utf8_decode(s + i, len - i, &cp);
		if (n == 0 || is_bad_control(cp))
			return i;
		i += n;
	}
	return len;
}

bool
utf8_valid(const char *s, size_t len)
{
	size_t i = 0;
	uint32_t cp;

	while (i < len) {
		size_t n = utf8_decode(s + i, len - i, &cp);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

char *
str_collapse_ws(char *s)
{
	char *r = s, *w = s;
	bool space = false;

	while (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')
		r++;
	for (; *r; r++) {
		if (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r') {
			space = true;
			continue;
		}
		if (space)
			*w++ = ' ';
		space = false;
		*w++ = *r;
	}
	*w = '\0';
	return s;
}

bool
str_istarts(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

bool
str_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool
str_ends(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

void
str_copy(char *dst, size_t dstlen, const char *src)
{
	size_t n;

	if (dstlen == 0)
		return;
	n = strlen(src);
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* dates */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static int
days_in_month(int y, int mo)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
	    31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return mo == 2 && leap ? 29 : dm[mo - 1];
}

static long long
mktime_utc(int y, int mo, int d, int h, int mi, int s)
{
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 ||
	    h > 24 || mi < 0 || mi > 59 || s < 0 || s > 60)
		return -1;
	return days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400LL +
	    h * 3600LL + mi * 60LL + s;
}

static const char *
parse_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return NULL;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return s + n;
}

long long
time_parse_rfc3339(const char *s)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, oh, om;
	long long t, off = 0;
	const char *p = s;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (!(p = parse_digits(p, 4, &y)) || *p++ != '-' ||
	    !(p = parse_digits(p, 2, &mo)) || *p++ != '-' ||
	    !(p = parse_digits(p, 2, &d)))
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!(p = parse_digits(p, 2, &h)) || *p++ != ':' ||
		    !(p = parse_digits(p, 2, &mi)))
			return -1;
		if (*p == ':') {
			if (!(p = parse_digits(p + 1, 2, &sec)))
				return -1;
			if (*p == '.' || *p == ',') {
				p++;
				while (isdigit((unsigned char)*p))
					p++;
			}
		}
		while (*p == ' ')
			p++;
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p == '-' ? -1 : 1;

			if (!(p = parse_digits(p + 1, 2, &oh)))
				return -1;
			om = 0;		/* "+01" has no minutes */
			if (*p == ':')
				p++;
			if (isdigit((unsigned char)*p) &&
			    !(p = parse_digits(p, 2, &om)))
				return -1;
			if (oh > 23 || om > 59)
				return -1;
			off = sign * (oh * 3600LL + om * 60LL);
		}
	}
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p != '\0')
		return -1;
	t = mktime_utc(y, mo, d, h, mi, sec);
	return t == -1 ? -1 : t - off;
}

static int
month_index(const char *s)
{
	static const char *const m[] = { "jan", "feb", "mar", "apr", "may",
	    "jun", "jul", "aug", "sep", "oct", "nov", "dec" };

	for (int i = 0; i < 12; i++)
		if (strncasecmp(s, m[i], 3) == 0)
			return i + 1;
	return 0;
}

static bool
zone_offset(const char *z, long long *off)
{
	static const struct { const char *name; int hours; } zones[] = {
		{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
		{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
		{ "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
	};
	int oh, om;

	if (*z == '+' || *z == '-') {
		int sign = *z == '-' ? -1 : 1;
		const char *p = parse_digits(z + 1, 2, &oh);

		if (p == NULL)
			return false;
		if (*p == ':')
			p++;
		om = 0;
		if (isdigit((unsigned char)*p) && parse_digits(p, 2, &om) == NULL)
			return false;
		*off = sign * (oh * 3600LL + om * 60LL);
		return true;
	}
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		size_t n = strlen(zones[i].name);

		if (strncasecmp(z, zones[i].name, n) == 0 &&
		    !isalpha((unsigned char)z[n])) {
			*off = zones[i].hours * 3600LL;
			return true;
		}
	}
	*off = 0;	/* RFC 822: unknown military zones mean "unknown" */
	return isalpha((unsigned char)*z) != 0;
}

/* "Thu, 28 Nov 2024 00:00:00 -0500" and lax variants (no weekday, no
   seconds, 2-digit years, no zone = UTC). */
long long
time_parse_rfc822(const char *s)
{
	const char *p = s;
	char *end;
	long d, y;
	int mo, h, mi, sec = 0;
	long long off = 0, t;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (isalpha((unsigned char)*p)) {	/* weekday */
		while (isalpha((unsigned char)*p))
			p++;
		if (*p == ',')
			p++;
	}
	while (*p == ' ')
		p++;
	d = strtol(p, &end, 10);
	if (end == p || d < 1 || d > 31)
		return -1;
	p = end;
	while (*p == ' ' || *p == '-')
		p++;
	if ((mo = month_index(p)) == 0)
		return -1;
	while (isalpha((unsigned char)*p))
		p++;
	while (*p == ' ' || *p == '-')
		p++;
	y = strtol(p, &end, 10);
	if (end == p || y < 0 || y > 9999)
		return -1;
	if (end - p <= 2)
		y += y < 50 ? 2000 : 1900;
	p = end;
	while (*p == ' ')
		p++;
	if (!(p = parse_digits(p, 2, &h)) || *p++ != ':' ||
	    !(p = parse_digits(p, 2, &mi)))
		return -1;
	if (*p == ':' && !(p = parse_digits(p + 1, 2, &sec)))
		return -1;
	while (*p == ' ')
		p++;
	if (*p != '\0' && !zone_offset(p, &off))
		return -1;
	t = mktime_utc((int)y, mo, (int)d, h, mi, sec);
	return t == -1 ? -1 : t - off;
}

long long
time_parse_any(const char *s)
{
	long long t = time_parse_rfc3339(s);

	return t != -1 ? t : time_parse_rfc822(s);
}

/* y-m-d of a day number counted from 1970-01-01 (proleptic Gregorian). */
static void
civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
	long long era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (long long)yoe + era * 400 + (*m <= 2);
}

double
time_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Without gmtime_r and strftime: it is on the JSON Lines hot path. */
void
time_format_rfc3339(long long t, char *out, size_t outlen)
{
	long long days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	long long secs = t - days * 86400, y;
	unsigned m, d;
	char tmp[32];
	int n;

	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		str_copy(out, outlen, "");
		return;
	}
	n = (int)y;
	tmp[0] = (char)('0' + n / 1000);
	tmp[1] = (char)('0' + n / 100 % 10);
	tmp[2] = (char)('0' + n / 10 % 10);
	tmp[3] = (char)('0' + n % 10);
	tmp[4] = '-';
	tmp[5] = (char)('0' + m / 10);
	tmp[6] = (char)('0' + m % 10);
	tmp[7] = '-';
	tmp[8] = (char)('0' + d / 10);
	tmp[9] = (char)('0' + d % 10);
	tmp[10] = 'T';
	tmp[11] = (char)('0' + secs / 36000);
	tmp[12] = (char)('0' + secs / 3600 % 10);
	tmp[13] = ':';
	tmp[14] = (char)('0' + secs % 3600 / 600);
	tmp[15] = (char)('0' + secs % 600 / 60);
	tmp[16] = ':';
	tmp[17] = (char)('0' + secs % 60 / 10);
	tmp[18] = (char)('0' + secs % 10);
	tmp[19] = 'Z';
	tmp[20] = '\0';
	str_copy(out, outlen, tmp);
}

bool
json_text_within(const char *s, size_t len)
{
	size_t containers = 0, values = 1;
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		if (in_string) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_string = false;
			continue;
		}
		if (s[i] == '"')
			in_string = true;
		else if (s[i] == '{' || s[i] == '[')
			containers++;
		else if (s[i] == ',')
			values++;
	}
	return containers <= UTIL_JSON_MAX_CONTAINERS &&
	    values <= UTIL_JSON_MAX_VALUES;
}

int
file_read_all(const char *path, size_t max, struct buf *b, char *err,
    size_t errlen)
{
	char chunk[65536];
	int fd, saved;
	ssize_t n;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		saved = errno;
		snprintf(err, errlen, "cannot open '%s': %s", path,
		    strerror(saved));
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			saved = errno;
			snprintf(err, errlen, "cannot read '%s': %s", path,
			    strerror(saved));
			close(fd);
			return -1;
		}
		if ((size_t)n > max - b->len) {
			snprintf(err, errlen, "'%s' is larger than %zu bytes",
			    path, max);
			close(fd);
			return -1;
		}
		buf_add(b, chunk, (size_t)n);
	}
	close(fd);
	if (b->data == NULL)
		buf_add(b, "", 0);
	return 0;
}

char *
utf8_clean_dup(const char *s)
{
	struct buf b;

	buf_init(&b);
	utf8_clean(&b, s, strlen(s));
	if (b.data == NULL)
		return xstrdup("");
	return buf_detach(&b);
}
