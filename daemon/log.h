/*
 * log.h: one line per message on stderr, with a "<N>" syslog priority
 * prefix that journald understands.  When stderr is a terminal and
 * JOURNAL_STREAM is unset, the prefix is dropped for humans.
 */
#ifndef PW_DAEMON_LOG_H
#define PW_DAEMON_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARN = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/* Messages above level are dropped (default: info). */
void	log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parse "error", "warning", "notice", "info", "debug"; -1 if unknown. */
int	log_level_parse(const char *s);
/* Redirect output to a file descriptor (tests); default 2. */
void	log_set_fd(int fd);

void	log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Make hostile text safe to log: control characters become '?', and the
 * result is cut to at most outlen-1 bytes at a UTF-8 boundary (with "...").
 * Returns out.
 */
const char *log_safe(const char *s, char *out, size_t outlen);

#endif
