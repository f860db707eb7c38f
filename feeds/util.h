/*
 * util.h: the bottom layer: allocation wrappers that never return NULL,
 * growable byte buffers, string vectors and UTF-8 text hygiene.
 */
#ifndef PW_FEEDS_UTIL_H
#define PW_FEEDS_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Word-at-a-time (SWAR) scanning of text, 8 bytes at a time.
 * SWAR_REP(b): byte b repeated in the 8 bytes of a word.
 * swar_zero_bytes(w): 0x80 in each byte of w that is zero, 0 elsewhere;
 * exact (no borrow spills into the next byte, unlike (w - 1) & ~w).
 */
#define SWAR_REP(b)	(0x0101010101010101ULL * (uint64_t)(b))

static inline uint64_t
swar_zero_bytes(uint64_t w)
{
	uint64_t t = (w & SWAR_REP(0x7f)) + SWAR_REP(0x7f);

	return ~(t | w | SWAR_REP(0x7f));
}

/* Allocation: on failure these print "<2>out of memory" and exit(70). */
void	*xmalloc(size_t n);
void	*xcalloc(size_t n, size_t size);
void	*xrealloc(void *p, size_t n);
void	*xreallocarray(void *p, size_t n, size_t size);
char	*xstrdup(const char *s);		/* xstrdup(NULL) == NULL */
char	*xstrndup(const char *s, size_t n);
char	*xasprintf(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* A growable byte buffer; data is always NUL-terminated once non-empty. */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};
void	 buf_init(struct buf *b);
void	 buf_release(struct buf *b);		/* frees data, back to empty */
void	 buf_reset(struct buf *b);		/* len = 0, keeps memory */
void	 buf_reserve(struct buf *b, size_t n);	/* room for n more bytes */
void	 buf_add(struct buf *b, const void *p, size_t n);
void	 buf_adds(struct buf *b, const char *s);
void	 buf_addc(struct buf *b, char c);
void	 buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
const char *buf_str(const struct buf *b);	/* "" when empty, never NULL */
char	*buf_detach(struct buf *b);		/* caller frees; b empty after */

/* A vector of owned strings. */
struct strvec {
	char	**v;
	size_t	  n;
	size_t	  cap;
};
void	 strvec_init(struct strvec *sv);
void	 strvec_release(struct strvec *sv);
void	 strvec_push(struct strvec *sv, const char *s);	/* copies s */
void	 strvec_push_take(struct strvec *sv, char *s);	/* takes s */
bool	 strvec_contains(const struct strvec *sv, const char *s);
void	 strvec_copy(struct strvec *dst, const struct strvec *src);

/*
 * Text hygiene for feed text.  utf8_clean appends src to dst, replacing
 * invalid UTF-8 (overlong forms, surrogates, truncated sequences) with
 * U+FFFD and dropping C0/C1 control characters other than \t \n \r.
 */
void	 utf8_clean(struct buf *dst, const char *src, size_t len);
/* A copy of s (NUL-terminated) as utf8_clean leaves it. */
char	*utf8_clean_dup(const char *s);
/* true if s[0..len) is valid UTF-8 (what utf8_clean would keep as is). */
bool	 utf8_valid(const char *s, size_t len);
/*
 * How many bytes at the start of s[0..len) utf8_clean would copy as they
 * are (len: utf8_clean would not change s); ASCII eight bytes at a time.
 */
size_t	 utf8_clean_span(const char *s, size_t len);
/*
 * Collapse runs of white space (space, tab, CR, LF) to one space and trim
 * both ends, in place.  Returns s.
 */
char	*str_collapse_ws(char *s);
/* Decode one UTF-8 code point at s (len bytes left); 0 bytes on error. */
size_t	 utf8_decode(const char *s, size_t len, uint32_t *cp);
/* Encode cp as UTF-8 into out (at least 4 bytes); returns bytes written. */
size_t	 utf8_encode(uint32_t cp, char *out);

/* Case-insensitive ASCII prefix test. */
bool	 str_istarts(const char *s, const char *prefix);
bool	 str_starts(const char *s, const char *prefix);
bool	 str_ends(const char *s, const char *suffix);

/*
 * Time: RFC 3339 ("2026-04-12T22:09:25Z", fractions and offsets allowed)
 * and RFC 822 ("Thu, 28 Nov 2024 00:00:00 -0500", obsolete zone names too).
 * Both return (time_t)-1 when s is not a date.
 */
long long time_parse_rfc3339(const char *s);
long long time_parse_rfc822(const char *s);
long long time_parse_any(const char *s);	/* either form */
/* Format t (UTC) as "2026-04-12T22:09:25Z" into out (>= 21 bytes). */
void	 time_format_rfc3339(long long t, char *out, size_t outlen);
/* CLOCK_MONOTONIC in seconds (the same clock in every process). */
double	 time_mono(void);

/*
 * JSON documents are bounded before they are parsed: jansson costs ~230
 * bytes per object and ~40 per value, so 16 MiB of "{}," would take 1.3 GB.
 * true if s[0..len) holds at most UTIL_JSON_MAX_CONTAINERS objects and
 * arrays and UTIL_JSON_MAX_VALUES values (counted from commas, strings
 * skipped).
 */
#define UTIL_JSON_MAX_CONTAINERS	100000u
#define UTIL_JSON_MAX_VALUES		1000000u
bool	 json_text_within(const char *s, size_t len);

/* Read a whole file (at most max bytes) into b; -1 and err on failure. */
int	 file_read_all(const char *path, size_t max, struct buf *b,
	    char *err, size_t errlen);

/* Copy src into dst (at most dstlen-1 bytes), always terminated. */
void	 str_copy(char *dst, size_t dstlen, const char *src);

#endif
