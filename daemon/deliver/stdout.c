/*
 * stdout.c: write each message to standard output (for `once --dry-run`
 * style use and for scripts), separated by a blank line.
 */
#include "channel.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void *
stdout_open(const struct conf *cfg, char *err, size_t errlen)
{
	static int dummy;

	(void)cfg;
	(void)err;
	(void)errlen;
	return &dummy;
}

static void
stdout_send(void *state, struct outbox_msg *const *msgs, size_t n)
{
	(void)state;
	for (size_t i = 0; i < n; i++) {
		struct outbox_msg *m = msgs[i];

		if (!chan_may_send(m))
			continue;
		if (fwrite(m->body, 1, m->body_len, stdout) != m->body_len ||
		    fputs("\n", stdout) == EOF || fflush(stdout) == EOF) {
			snprintf(m->err, sizeof(m->err), "stdout: %s",
			    strerror(errno));
			m->result = CHAN_RETRY;
			chan_report(m);
			continue;
		}
		m->result = CHAN_SENT;
		chan_report(m);
	}
}

static void
stdout_close(void *state)
{
	(void)state;
}

const struct chan_type chan_stdout = {
	.name = "stdout",
	.open = stdout_open,
	.send = stdout_send,
	.close = stdout_close,
};
