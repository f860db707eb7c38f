/*
 * channel.c: the table of delivery channels.
 */
#include "channel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct chan_type *const chan_types[] = {
	&chan_smtp,
	&chan_mbox,
	&chan_webhook,
	&chan_stdout,
	NULL,
};

const struct chan_type *
chan_find(const char *name)
{
	for (size_t i = 0; chan_types[i] != NULL; i++)
		if (strcmp(chan_types[i]->name, name) == 0)
			return chan_types[i];
	return NULL;
}

void
outbox_msg_free(struct outbox_msg *m)
{
	if (m == NULL)
		return;
	free(m->channel);
	free(m->dest);
	free(m->subscription);
	free(m->digest_id);
	free(m->subject);
	free(m->body);
	free(m);
}

bool
chan_may_send(struct outbox_msg *m)
{
	if (m->proceed == NULL || m->proceed(m->done_arg))
		return true;
	m->result = CHAN_RETRY;
	m->retry_after = 0;
	m->unsent = true;
	snprintf(m->err, sizeof(m->err), "not sent: the results before it "
	    "could not be recorded");
	chan_report(m);
	return false;
}

void
chan_report(struct outbox_msg *m)
{
	if (m->reported)
		return;
	m->reported = true;
	if (m->done != NULL)
		m->done(m, m->done_arg);
}
