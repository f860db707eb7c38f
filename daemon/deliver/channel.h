/*
 * channel.h: the delivery channel interface and the table of channels.
 * A message in the outbox already holds the exact bytes to send (a whole
 * RFC 5322 message for smtp and mbox, a JSON payload for webhooks), so a
 * resend is byte-identical.  Adding a channel = one file in
 * daemon/deliver/ plus one line in the table in channel.c.
 */
#ifndef PW_DAEMON_DELIVER_CHANNEL_H
#define PW_DAEMON_DELIVER_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>

struct conf;

enum chan_result {
	CHAN_SENT = 0,		/* the server accepted it (SMTP 250, 2xx) */
	CHAN_RETRY,		/* temporary: try again later */
	CHAN_FAILED,		/* permanent for this message */
};

struct outbox_msg {
	long long	 id;		/* outbox row id */
	char		*channel;	/* "smtp", "mbox", "webhook", "stdout" */
	char		*dest;		/* smtp: the address; mbox: the path;
					   webhook: "SUBSCRIPTION#N" (the N-th
					   webhook of that subscription: the URL
					   is a secret and stays in the config) */
	char		*subscription;
	char		*digest_id;
	char		*subject;
	char		*body;		/* what is sent, NUL-terminated */
	size_t		 body_len;
	int		 attempts;	/* before this one */
	/* filled by send() */
	enum chan_result result;
	long long	 retry_after;	/* seconds asked by the server, 0 */
	char		 err[256];	/* why, when not CHAN_SENT */
	/*
	 * Optional, set by the caller: called (through chan_report) as soon
	 * as the result of this message is known, before the next message
	 * goes out, so the outbox can mark it sent at once and a crash in the
	 * middle of a batch resends at most the message in flight.
	 */
	void		(*done)(struct outbox_msg *m, void *arg);
	void		*done_arg;
	bool		 reported;	/* done() was called */
	/*
	 * Optional, set by the caller for a channel with gates: called with
	 * done_arg right before the message is committed to the server (for
	 * smtp, before the final dot of its data), so that the results
	 * reported before it can be recorded meanwhile, in the background:
	 * it returns once they are. False: they could not be, and the
	 * message must not be committed (the channel drops the connection).
	 */
	bool		(*gate)(void *arg);
	/*
	 * Optional, set by the caller for a channel without gates: called
	 * with done_arg before the message goes out. False: the results
	 * reported before it could not be recorded (a locked or full
	 * database), so what is sent now would be sent again next time:
	 * chan_may_send reports the message unsent instead.
	 */
	bool		(*proceed)(void *arg);
	bool		 unsent;	/* chan_may_send held it back: not an
					   attempt, left due as it was */
};

/* Report m's result now (once): calls m->done if set. */
void	chan_report(struct outbox_msg *m);
/*
 * For a channel without gates, before it sends m: true to go on; false
 * when m->proceed says no, m then reported CHAN_RETRY ("not sent: ...").
 */
bool	chan_may_send(struct outbox_msg *m);

struct chan_type {
	const char *name;		/* as stored in the outbox */
	/* Open a sending session; NULL and err when it cannot be opened. */
	void	*(*open)(const struct conf *cfg, char *err, size_t errlen);
	/*
	 * Send a batch of messages (one SMTP session carries them all).
	 * Sets result, retry_after and err of every message.
	 */
	void	 (*send)(void *state, struct outbox_msg *const *msgs, size_t n);
	/*
	 * Optional (NULL: send only): send msgs[0..n), then keep the
	 * session going with the messages more() returns, until it returns
	 * 0 (one SMTP session for a whole cycle). more(arg, name, &msgs)
	 * is called once every message handed out so far has been
	 * reported; those may then be freed. A channel may also return
	 * before more() says there is nothing left (a failed session): the
	 * caller goes on with its next messages.
	 */
	void	 (*send_more)(void *state, struct outbox_msg *const *msgs,
		    size_t n, size_t (*more)(void *arg, const char *name,
		    struct outbox_msg *const **msgs), void *arg);
	void	 (*close)(void *state);		/* accepts NULL */
	bool	 gates;		/* calls each message's gate (if set) */
};

/*
 * smtp: messages per SMTP session. libESMTP keeps about 4 KB per message
 * until its session ends; this keeps that memory under 1 MB.
 */
#define SMTP_SESSION_MAX 250

extern const struct chan_type *const chan_types[];	/* NULL-terminated */
extern const struct chan_type chan_smtp;
extern const struct chan_type chan_mbox;
extern const struct chan_type chan_webhook;
extern const struct chan_type chan_stdout;

const struct chan_type *chan_find(const char *name);

/*
 * 0 if url has the shape a webhook of that format needs (matrix: ending in
 * /send/m.room.message; ntfy: ending in the topic), else -1 and why in
 * err (which never holds the URL: it is a secret).
 */
int webhook_url_check(const char *format, const char *url, char *err,
    size_t errlen);
/*
 * What the outbox keeps as a webhook message's subject: "FORMAT FP", FP
 * 16 hex digits of a SHA-256 of the format and the URL. "SUB#N" names
 * the webhook by its place in the list, which an edit of the config can
 * change: the fingerprint finds the webhook the message was made for, or
 * none (the message is then a dead letter), never another one. Only 64
 * bits of a hash: they tell nothing of the URL's secret part.
 */
char	*webhook_subject(const char *format, const char *url);

void	outbox_msg_free(struct outbox_msg *m);		/* accepts NULL */

#endif
