/*
 * mbox.c: append a message to an mbox file (mboxrd quoting, LF line
 * ends), under an fcntl write lock, created 0600, fsync'ed before the
 * message counts as delivered.
 */
#include "channel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../feeds/util.h"
#include "../mail.h"

static void *
mbox_open(const struct conf *cfg, char *err, size_t errlen)
{
	static int dummy;

	(void)cfg;
	(void)err;
	(void)errlen;
	return &dummy;
}

/* The envelope sender from the message's From: header, or MAILER-DAEMON. */
static char *
envelope_from(const char *msg)
{
	const char *p = msg;

	while (*p && !(p[0] == '\r' && p[1] == '\n' && p[2] == '\r') &&
	    !(p[0] == '\n' && p[1] == '\n')) {
		if ((p == msg || p[-1] == '\n') && str_istarts(p, "From:")) {
			const char *e = strpbrk(p, "\r\n");
			char *line = xstrndup(p + 5, e ? (size_t)(e - p - 5) :
			    strlen(p + 5));
			char *a = mail_addr_spec(str_collapse_ws(line));

			free(line);
			if (a != NULL && *a && strpbrk(a, " \t") == NULL)
				return a;
			free(a);
			break;
		}
		p++;
	}
	return xstrdup("MAILER-DAEMON");
}

/* mboxrd: LF line ends, ">"-quote lines that match ^>*From . */
static void
mbox_format(const struct outbox_msg *m, struct buf *out)
{
	char *from = envelope_from(m->body);
	const char *p = m->body, *end = m->body + m->body_len;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
	buf_printf(out, "From %s %s\n", from, date);
	free(from);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *q = p;
		size_t n;

		while (q < le && *q == '>')
			q++;
		if ((size_t)(le - q) >= 5 && memcmp(q, "From ", 5) == 0)
			buf_addc(out, '>');
		n = (size_t)(le - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		buf_add(out, p, n);
		buf_addc(out, '\n');
		p = nl ? nl + 1 : end;
	}
	buf_addc(out, '\n');
}

static int
append_locked(const char *path, const struct buf *b, char *err, size_t errlen)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd, saved;
	size_t off = 0;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1)
		goto fail;
	if (fcntl(fd, F_SETLKW, &fl) == -1)
		goto fail_close;
	while (off < b->len) {
		ssize_t n = write(fd, b->data + off, b->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail_close;
		off += (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail_close;
	close(fd);
	return 0;
fail_close:
	saved = errno;
	close(fd);
	errno = saved;
fail:
	saved = errno;
	snprintf(err, errlen, "cannot append to mbox '%s': %s", path,
	    strerror(saved));
	return -1;
}

static void
mbox_send(void *state, struct outbox_msg *const *msgs, size_t n)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		struct outbox_msg *m = msgs[i];

		if (!chan_may_send(m))
			continue;
		buf_reset(&b);
		mbox_format(m, &b);
		if (append_locked(m->dest, &b, m->err, sizeof(m->err)) == 0) {
			m->result = CHAN_SENT;
		} else {
			/* a full disk or a permission problem may pass */
			m->result = CHAN_RETRY;
		}
		chan_report(m);
	}
	buf_release(&b);
}

static void
mbox_close(void *state)
{
	(void)state;
}

const struct chan_type chan_mbox = {
	.name = "mbox",
	.open = mbox_open,
	.send = mbox_send,
	.close = mbox_close,
};
