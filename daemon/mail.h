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

/*
 * Append the whole message (headers, CRLF, body) to out; 0, or -1 + err
 * ("mail: invalid recipient address", ...) with out left as it was.
 * Required: from, to, text, message_id (must contain '@').  The result is
 * ASCII only with CRLF line ends, every line at most 76 octets (only a
 * long Message-ID/List-Id/List-Unsubscribe token may make its line
 * longer, never over 998): headers Date (UTC), From, Reply-To, To (the one
 * recipient, never Bcc), Subject, Message-ID, List-Id, List-Unsubscribe
 * (+ List-Unsubscribe-Post when https), Auto-Submitted: auto-generated,
 * MIME-Version; then text/plain, or multipart/alternative (text, then
 * HTML) when html is set, both quoted-printable UTF-8.  The same spec
 * always gives the same bytes.
 */
int	mail_build(const struct mail_spec *m, struct buf *out,
	    char *err, size_t errlen);

/*
 * Encode a header value: ASCII printable text is kept, anything else is
 * RFC 2047 "=?UTF-8?B?...?=" encoded words (folded, each under 76
 * octets), never splitting a UTF-8 character.  name is the header name
 * (for the fold length).  Appends to out.
 * Appends only the value: the caller writes "Name: " before and CRLF
 * after.  Invalid UTF-8 becomes U+FFFD, control characters are dropped
 * and white space runs (CR and LF included) become one space, so the
 * value can never end the header early.
 */
void	mail_encode_header(const char *name, const char *value,
	    struct buf *out);
/*
 * Encode "Display Name <addr>" with the display name RFC 2047 encoded
 * (a quoted string when it is ASCII with specials).  Folds as if written
 * after "Reply-To: ".  An unparsable address is encoded as plain text.
 */
void	mail_encode_address(const char *addr, struct buf *out);
/*
 * The bare address of "Name <addr>" (or addr itself, trimmed); caller
 * frees.  NULL when addr is NULL or its angle brackets are broken.
 */
char	*mail_addr_spec(const char *addr);
/*
 * true if addr ("addr@example.org" or "Name <addr@example.org>") is one
 * mail_build takes: one ASCII addr-spec (no SMTPUTF8), a display name of
 * any text.  check-config holds every address of the config to it.
 */
bool	mail_address_valid(const char *addr);
/* true if uri can go in a header's <...>: no blank, control or <>. */
bool	mail_uri_valid(const char *uri);

#endif
