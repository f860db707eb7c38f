/*
 * log.c: one line per message on stderr with a "<N>" priority prefix.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../feeds/util.h"

static enum log_level max_level = LOG_LVL_INFO;
static int log_fd = 2;
static int prefix = -1;		/* -1: not decided yet */

static bool	want_prefix(void);

void
log_set_level(enum log_level level)
{
	max_level = level;
	/* decided here, before cycle_digests starts its delivery thread */
	(void)want_prefix();
}

enum log_level
log_get_level(void)
{
	return max_level;
}

int
log_level_parse(const char *s)
{
	static const struct { const char *name; enum log_level lvl; } t[] = {
		{ "error", LOG_LVL_ERR }, { "err", LOG_LVL_ERR },
		{ "warning", LOG_LVL_WARN }, { "warn", LOG_LVL_WARN },
		{ "notice", LOG_LVL_NOTICE }, { "info", LOG_LVL_INFO },
		{ "debug", LOG_LVL_DEBUG },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(s, t[i].name) == 0)
			return (int)t[i].lvl;
	return -1;
}

void
log_set_fd(int fd)
{
	log_fd = fd;
	prefix = -1;
}

static bool
want_prefix(void)
{
	if (prefix == -1)
		prefix = getenv("JOURNAL_STREAM") != NULL || !isatty(log_fd);
	return prefix;
}

static void log_v(enum log_level lvl, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
log_v(enum log_level lvl, const char *fmt, va_list ap)
{
	static const char *const names[] = { [3] = "error: ",
	    [4] = "warning: ", [5] = "", [6] = "", [7] = "debug: " };
	struct buf b;

	if (lvl > max_level)
		return;
	buf_init(&b);
	if (want_prefix())
		buf_printf(&b, "<%d>", (int)lvl);
	else
		buf_adds(&b, names[lvl]);
	buf_vprintf(&b, fmt, ap);
	for (size_t i = 0; i < b.len; i++)	/* one line, always */
		if (b.data[i] == '\n' || b.data[i] == '\r')
			b.data[i] = ' ';
	buf_addc(&b, '\n');
	(void)!write(log_fd, b.data, b.len);
	buf_release(&b);
}

#define LOG_FN(fn, lvl) \
void \
fn(const char *fmt, ...) \
{ \
	va_list ap; \
 \
	va_start(ap, fmt); \
	log_v(lvl, fmt, ap); \
	va_end(ap); \
}

LOG_FN(log_err, LOG_LVL_ERR)
LOG_FN(log_warn, LOG_LVL_WARN)
LOG_FN(log_notice, LOG_LVL_NOTICE)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)

const char *
log_safe(const char *s, char *out, size_t outlen)
{
	size_t i = 0, o = 0, len;
	uint32_t cp;

	if (outlen == 0)
		return out;
	if (s == NULL) {
		str_copy(out, outlen, "(null)");
		return out;
	}
	len = strlen(s);
	while (i < len) {
		size_t n = utf8_decode(s + i, len - i, &cp);
		bool ctl = n == 0 || cp < 0x20 || cp == 0x7f ||
		    (cp >= 0x80 && cp < 0xa0);

		if (ctl)
			n = n ? n : 1;
		if (o + (ctl ? 1 : n) + 4 > outlen) {
			if (o + 4 <= outlen)
				memcpy(out + o, "...", 3), o += 3;
			break;
		}
		if (ctl)
			out[o++] = '?';
		else
			memcpy(out + o, s + i, n), o += n;
		i += n;
	}
	out[o] = '\0';
	return out;
}
