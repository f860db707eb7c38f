/*
 * mail.h: building RFC 5322 / MIME messages: multipart/alternative with a
 * text and an HTML part, UTF-8 everywhere, RFC 2047 encoded headers,
 * quoted-printable bodies (lines under 998 octets), CRLF line ends.
 */
#ifndef PW_DAEMON_MAIL_H
#define PW_DAEMON_MAIL_H

#include <stddef.h>

#include "../feeds/util.h"

struct mail_spec {
	const char	*from;		/* "Name <addr>" or "addr" */
	const char	*to;		/* one recipient: "addr" or "Name <addr>" */
	const char	*reply_to;	/* or NULL */
	const char	*subject;	/* UTF-8 */
	const char	*text;		/* text/plain part (UTF-8), required */
	const char	*html;		/* text/html part, or NULL */
	const char	*message_id;	/* without <>; e.g. "d123.alice@host" */
	long long	 date;		/* Unix time */
	const char	*list_id;	/* "name.paperwatch.host" or NULL */
	const char	*list_unsubscribe;	/* a URI or NULL */
};

/* Append the whole message (headers, CRLF, body) to out; 0, or -1 + err. */
int	mail_build(const struct mail_spec *m, struct buf *out,
	    char *err, size_t errlen);

/*
 * Encode a header value: ASCII printable text is kept, anything else is
 * RFC 2047 "=?UTF-8?B?...?=" encoded words (folded, each under 76
 * octets), never splitting a UTF-8 character.  name is the header name
 * (for the fold length).  Appends to out.
 */
void	mail_encode_header(const char *name, const char *value,
	    struct buf *out);
/* Encode "Display Name <addr>" with the display name RFC 2047 encoded. */
void	mail_encode_address(const char *addr, struct buf *out);
/* The bare address of "Name <addr>" (or addr itself); caller frees. */
char	*mail_addr_spec(const char *addr);

#endif
