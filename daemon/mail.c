/*
 * mail.c: RFC 5322 / MIME messages for one recipient each.
 *
 * The output is plain ASCII with CRLF line ends: header values that are
 * not printable ASCII become RFC 2047 "B" encoded words (never splitting
 * a UTF-8 character, folded so that every line stays within 76 octets),
 * bodies are quoted-printable (RFC 2045: lines of at most 76 octets), so
 * the message crosses any 7-bit relay and libESMTP (which sends no
 * 8BITMIME) unchanged.  The same spec always gives the same bytes, so a
 * resend from the outbox is byte-identical.
 */
#include "mail.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAIL_LINE_MAX	76	/* header lines with encoded words, QP */
#define MAIL_WORD_MAX	75	/* one RFC 2047 encoded word */
#define MAIL_WORD_MIN	20	/* "=?UTF-8?B?" + one 4-byte char + "?=" */
#define MAIL_PLAIN_MAX	60	/* longer ASCII words are encoded to fold */
#define MAIL_TOKEN_MAX	900	/* ids, addresses, URIs: under 998 a line */

/* Where a header value is being written: column, first token or not. */
struct hdr_out {
	struct buf	*out;
	size_t		 col;
	bool		 first;
};

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
b64_encode(struct buf *out, const unsigned char *s, size_t n)
{
	char q[4];

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = b64_chars[(v >> 18) & 63];
		q[1] = b64_chars[(v >> 12) & 63];
		q[2] = i + 1 < n ? b64_chars[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? b64_chars[v & 63] : '=';
		buf_add(out, q, 4);
	}
}

/* Length of the UTF-8 sequence starting with byte c (1 for anything odd). */
static size_t
utf8_seq_len(unsigned char c)
{
	if (c >= 0xf0)
		return 4;
	if (c >= 0xe0)
		return 3;
	if (c >= 0xc0)
		return 2;
	return 1;
}

/*
 * Write the separator before a token of len octets: nothing before the
 * first token, else a space, or a fold (CRLF SP) when the token would not
 * fit in the line.
 */
static void
hdr_sep(struct hdr_out *h, size_t len)
{
	if (h->first) {
		h->first = false;
		return;
	}
	if (h->col + 1 + len > MAIL_LINE_MAX) {
		buf_add(h->out, "\r\n ", 3);
		h->col = 1;
	} else {
		buf_addc(h->out, ' ');
		h->col++;
	}
}

static void
hdr_plain(struct hdr_out *h, const char *s, size_t n)
{
	hdr_sep(h, n);
	buf_add(h->out, s, n);
	h->col += n;
}

/*
 * Write s[0..n) (valid UTF-8) as encoded words: each fills what is left
 * of the line (at most 75 octets), folding when less than one character
 * would fit.  Whitespace between adjacent encoded words is ignored by
 * decoders, so the spaces of the text travel inside the words.
 */
static void
hdr_encoded(struct hdr_out *h, const char *s, size_t n)
{
	while (n > 0) {
		size_t sep = h->first ? 0 : 1, room = 0, raw, take = 0;

		if (h->col + sep < MAIL_LINE_MAX)
			room = MAIL_LINE_MAX - h->col - sep;
		if (room < MAIL_WORD_MIN) {
			/* fold; its space separates the next word */
			buf_add(h->out, "\r\n ", 3);
			h->col = 1;
			h->first = true;
			continue;
		}
		if (room > MAIL_WORD_MAX)
			room = MAIL_WORD_MAX;
		raw = (room - 12) / 4 * 3;
		while (take < n) {
			size_t k = utf8_seq_len((unsigned char)s[take]);

			if (k > n - take)
				k = n - take;
			if (take + k > raw)
				break;
			take += k;
		}
		hdr_sep(h, 0);
		buf_adds(h->out, "=?UTF-8?B?");
		b64_encode(h->out, (const unsigned char *)s, take);
		buf_adds(h->out, "?=");
		h->col += 12 + (take + 2) / 3 * 4;
		s += take;
		n -= take;
	}
}

/* true if the word can stay as it is in an unstructured header. */
static bool
word_is_plain(const char *s, size_t n)
{
	if (n > MAIL_PLAIN_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7e)
			return false;
		if (c == '=' && i + 1 < n && s[i + 1] == '?')
			return false;
	}
	return true;
}

/* UTF-8 clean, controls dropped, white space collapsed; caller frees. */
static char *
header_text(const char *value)
{
	return str_collapse_ws(utf8_clean_dup(value != NULL ? value : ""));
}

/* Unstructured text (a subject): plain words kept, others encoded. */
static void
hdr_text(struct hdr_out *h, const char *text)
{
	const char *p = text, *run = NULL, *run_end = NULL;

	while (*p != '\0') {
		const char *q = strchr(p, ' ');
		size_t n;

		if (q == NULL)
			q = p + strlen(p);
		n = (size_t)(q - p);
		if (word_is_plain(p, n)) {
			if (run != NULL)
				hdr_encoded(h, run, (size_t)(run_end - run));
			run = NULL;
			hdr_plain(h, p, n);
		} else {
			if (run == NULL)
				run = p;
			run_end = q;
		}
		p = *q == ' ' ? q + 1 : q;
	}
	if (run != NULL)
		hdr_encoded(h, run, (size_t)(run_end - run));
}

void
mail_encode_header(const char *name, const char *value, struct buf *out)
{
	struct hdr_out h = { out, strlen(name) + 2, true };
	char *text = header_text(value);

	hdr_text(&h, text);
	free(text);
}

/*
 * Split "Name <addr>", "\"Name\" <addr>" or "addr" into a display name
 * (NULL if none, unquoted) and an address; -1 if the brackets are broken.
 */
static int
addr_split(const char *s, char **name, char **spec)
{
	const char *lt, *gt, *end;

	*name = *spec = NULL;
	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	lt = memchr(s, '<', (size_t)(end - s));
	if (lt == NULL) {
		if (memchr(s, '>', (size_t)(end - s)) != NULL)
			return -1;
		*spec = xstrndup(s, (size_t)(end - s));
		return 0;
	}
	gt = end - 1;
	if (gt <= lt || *gt != '>' || memchr(lt + 1, '<',
	    (size_t)(gt - lt - 1)) != NULL)
		return -1;
	*spec = xstrndup(lt + 1, (size_t)(gt - lt - 1));
	while (lt > s && (lt[-1] == ' ' || lt[-1] == '\t'))
		lt--;
	if (lt - s >= 2 && *s == '"' && lt[-1] == '"') {
		struct buf b;

		buf_init(&b);
		for (const char *p = s + 1; p < lt - 1; p++) {
			if (*p == '\\' && p + 1 < lt - 1)
				p++;
			buf_addc(&b, *p);
		}
		*name = b.data != NULL ? buf_detach(&b) : xstrdup("");
	} else if (lt > s) {
		*name = xstrndup(s, (size_t)(lt - s));
	}
	return 0;
}

char *
mail_addr_spec(const char *addr)
{
	char *name, *spec;

	if (addr == NULL || addr_split(addr, &name, &spec) < 0)
		return NULL;
	free(name);
	return spec;
}

/* A plain addr-spec: local@domain, printable ASCII, no specials. */
static bool
spec_valid(const char *s)
{
	size_t n = strlen(s);
	const char *at = strrchr(s, '@');

	if (n < 3 || n > 254 || at == NULL || at == s || at[1] == '\0')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7e || strchr("<>()[],;:\\\"", c) != NULL)
			return false;
	}
	return strchr(s, '@') == at;
}

/* Printable ASCII only, no spaces or angle brackets, bounded length. */
static bool
token_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAIL_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7e || c == '<' || c == '>')
			return false;
	}
	return true;
}

/* A display name: atoms, one quoted string, or encoded words. */
static void
hdr_display_name(struct hdr_out *h, const char *name)
{
	size_t n = strlen(name);
	bool ascii = true, special = false;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c > 0x7e)
			ascii = false;
		else if (strchr("()<>[]:;@\\,.\"", c) != NULL)
			special = true;
	}
	if (ascii && strstr(name, "=?") == NULL && !special) {
		hdr_text(h, name);
	} else if (ascii && strstr(name, "=?") == NULL &&
	    n + 2 <= MAIL_PLAIN_MAX) {
		struct buf q;

		buf_init(&q);
		buf_addc(&q, '"');
		for (size_t i = 0; i < n; i++) {
			if (name[i] == '"' || name[i] == '\\')
				buf_addc(&q, '\\');
			buf_addc(&q, name[i]);
		}
		buf_addc(&q, '"');
		hdr_plain(h, q.data, q.len);
		buf_release(&q);
	} else {
		hdr_encoded(h, name, n);
	}
}

/* "Name <spec>" (name encoded as needed) or bare spec; -1 if invalid. */
static int
hdr_address(struct hdr_out *h, const char *addr)
{
	char *name, *spec, *text;
	struct buf b;

	if (addr_split(addr, &name, &spec) < 0)
		return -1;
	if (!spec_valid(spec)) {
		free(name);
		free(spec);
		return -1;
	}
	text = header_text(name);
	free(name);
	if (*text == '\0') {
		hdr_plain(h, spec, strlen(spec));
	} else {
		hdr_display_name(h, text);
		buf_init(&b);
		buf_printf(&b, "<%s>", spec);
		hdr_plain(h, b.data, b.len);
		buf_release(&b);
	}
	free(text);
	free(spec);
	return 0;
}

void
mail_encode_address(const char *addr, struct buf *out)
{
	struct hdr_out h = { out, strlen("Reply-To: "), true };

	if (addr == NULL || hdr_address(&h, addr) < 0)
		mail_encode_header("Reply-To", addr, out);
}

/* "Name: value\r\n" where value is text to encode. */
static void
add_text_header(struct buf *out, const char *name, const char *value)
{
	size_t before;

	buf_printf(out, "%s: ", name);
	before = out->len;
	mail_encode_header(name, value, out);
	if (out->len == before)		/* empty: no trailing space */
		out->data[--out->len] = '\0';
	buf_adds(out, "\r\n");
}

static int
add_address_header(struct buf *out, const char *name, const char *addr)
{
	struct hdr_out h = { out, strlen(name) + 2, true };

	buf_printf(out, "%s: ", name);
	if (hdr_address(&h, addr) < 0)
		return -1;
	buf_adds(out, "\r\n");
	return 0;
}

/* RFC 5322 date in UTC, English names whatever the locale. */
static int
add_date_header(struct buf *out, long long date)
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)date;
	struct tm tm;

	if ((long long)t != date || gmtime_r(&t, &tm) == NULL ||
	    tm.tm_year + 1900 < 1900 || tm.tm_year + 1900 > 9999)
		return -1;
	buf_printf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return 0;
}

/* true if s[i] starts a hard line break or is the end of the text. */
static bool
qp_at_eol(const char *s, size_t n, size_t i)
{
	return i >= n || s[i] == '\n' ||
	    (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n');
}

/* Does byte i of s need =XX?  (col: where it would go on the line) */
static bool
qp_needs_escape(const char *s, size_t n, size_t i, size_t col)
{
	unsigned char c = (unsigned char)s[i];

	if (c == '=' || c > 126 || (c < 32 && c != '\t'))
		return true;
	if ((c == ' ' || c == '\t') && qp_at_eol(s, n, i + 1))
		return true;
	/* "From " at a line start would be mangled by mbox readers */
	return col == 0 && c == 'F' && n - i >= 5 &&
	    memcmp(s + i, "From ", 5) == 0;
}

/*
 * Quoted-printable (RFC 2045 6.7): LF and CRLF become hard CRLF breaks,
 * soft breaks ("=" CRLF) keep every line at most 76 octets, an =XX
 * triplet is never split, trailing white space is encoded.  Dots at line
 * starts are kept: SMTP dot-stuffing is the transport's business.
 */
/* Printable ASCII that never needs encoding (not '=', not space). */
static bool
qp_plain(unsigned char c)
{
	return c > 32 && c < 127 && c != '=';
}

/*
 * How many of the eight bytes at s a run takes as they are, found at once:
 * those before the first that is not printable ASCII or is an '=' (the
 * masks are exact per byte), less a blank just before it or at the end,
 * which the caller judges (does it end its line?).
 */
static size_t
qp_plain_prefix(const char *s)
{
	uint64_t w, m;
	size_t k;

	memcpy(&w, s, 8);
	m = (w & SWAR_REP(0x80)) |		/* non-ASCII */
	    (~((w & SWAR_REP(0x7f)) + SWAR_REP(0x80 - 0x20)) &
	    SWAR_REP(0x80)) |			/* controls */
	    swar_zero_bytes(w ^ SWAR_REP(0x7f)) |	/* DEL */
	    swar_zero_bytes(w ^ SWAR_REP('='));
	if (m == 0)
		k = 8;
	else {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		k = (size_t)__builtin_clzll(m) / 8;
#else
		k = (size_t)__builtin_ctzll(m) / 8;
#endif
	}
	if (k > 0 && s[k - 1] == ' ')
		k--;
	return k;
}

/*
 * Byte i of s goes out as it is away from a line's start and end: plain,
 * or white space that does not end its line (qp_needs_escape).
 */
static bool
qp_run_char(const char *s, size_t n, size_t i)
{
	unsigned char c = (unsigned char)s[i];

	if (qp_plain(c))
		return true;
	return (c == ' ' || c == '\t') && !qp_at_eol(s, n, i + 1);
}

/* Encoded output goes out in pieces of this size (a step writes < 80). */
#define QP_CHUNK	8192
#define QP_STEP_MAX	128

/*
 * Is the byte at s[i] (not printable ASCII) clean text, as utf8_clean_span
 * judges it: tab, CR, LF, or the start of a valid UTF-8 sequence that is no
 * C1 control?  *to: the end of the sequence.
 */
static bool
qp_clean_at(const char *s, size_t n, size_t i, size_t *to)
{
	unsigned char c = (unsigned char)s[i];
	uint32_t cp;
	size_t k;

	if (c < 0x80) {
		*to = i + 1;
		return c == '\t' || c == '\n' || c == '\r';
	}
	if ((k = utf8_decode(s + i, n - i, &cp)) == 0 || cp < 0xa0)
		return false;
	*to = i + k;
	return true;
}

/*
 * Append s encoded to out: written through a pointer into a chunk on the
 * stack, as the bodies are tens of KB and every piece of a line went
 * through buf_add.  check: -1 (out as it was) if s is not clean text
 * (utf8_clean_span), found on the way, as every byte that is not
 * printable ASCII takes the slow path below.
 */
static int
qp_encode(struct buf *out, const char *s, size_t n, bool check)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0, col = 0, clean_to = 0, start_len = out->len;
	char chunk[QP_CHUNK], *o = chunk;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		bool esc, last;
		size_t w;

		if ((size_t)(o - chunk) > QP_CHUNK - QP_STEP_MAX) {
			buf_add(out, chunk, (size_t)(o - chunk));
			o = chunk;
		}

		if (c == '\n' || (c == '\r' && i + 1 < n && s[i + 1] == '\n')) {
			i += c == '\r' ? 2 : 1;
			*o++ = '\r';
			*o++ = '\n';
			col = 0;
			continue;
		}
		if (check && i >= clean_to && (c < 0x20 || c > 0x7e) &&
		    !qp_clean_at(s, n, i, &clean_to)) {
			out->len = start_len;
			if (out->data != NULL)
				out->data[start_len] = '\0';
			return -1;
		}
		if (col > 0 && col + 2 < MAIL_LINE_MAX && qp_run_char(s, n, i)) {
			/* a run of characters well inside the line that the
			   checks below would let through as they are */
			size_t start = i, end = i + (MAIL_LINE_MAX - 2 - col);

			if (end > n)
				end = n;
			while (i < end) {
				unsigned char d;

				if (i + 8 <= end) {
					size_t k = qp_plain_prefix(s + i);

					i += k;
					if (k == 8)
						continue;
				}
				d = (unsigned char)s[i];
				if (!qp_plain(d) && !((d == ' ' || d == '\t') &&
				    !qp_at_eol(s, n, i + 1)))
					break;
				i++;
			}
			col += i - start;
			memcpy(o, s + start, i - start);
			o += i - start;
			continue;
		}
		esc = qp_needs_escape(s, n, i, col);
		w = esc ? 3 : 1;
		last = qp_at_eol(s, n, i + 1);
		if (col + w > (last ? MAIL_LINE_MAX : MAIL_LINE_MAX - 1)) {
			*o++ = '=';
			*o++ = '\r';
			*o++ = '\n';
			col = 0;
			continue;	/* re-judge c at the line start */
		}
		if (esc) {
			*o++ = '=';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		} else {
			*o++ = (char)c;
		}
		col += w;
		i++;
	}
	buf_add(out, chunk, (size_t)(o - chunk));
	return 0;
}


/* A text part's content: cleaned UTF-8, quoted-printable. */
static void
add_qp_body(struct buf *out, const char *text)
{
	struct buf clean;
	size_t len = strlen(text);

	/* soft breaks, CRLFs and a few escapes: grown once, not by doubling */
	buf_reserve(out, len + len / 8 + 64);
	if (qp_encode(out, text, len, true) == 0)
		return;
	/* not clean: cleaned, then encoded */
	buf_init(&clean);
	utf8_clean(&clean, text, len);
	qp_encode(out, buf_str(&clean), clean.len, false);
	buf_release(&clean);
}

static void
add_part_headers(struct buf *out, const char *type)
{
	buf_printf(out, "Content-Type: %s; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n", type);
}

/*
 * A boundary from the message id, so the same spec gives the same bytes.
 * "=_" never occurs in quoted-printable output, so it cannot clash with
 * the parts; the search is a second line of defence.
 */
static void
make_boundary(const char *id, const struct buf *a, const struct buf *b,
    char *out, size_t outlen)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = id; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (unsigned n = 0;; n++) {
		snprintf(out, outlen, "=_pw_%016llx_%u", (unsigned long long)h,
		    n);
		if (strstr(buf_str(a), out) == NULL &&
		    strstr(buf_str(b), out) == NULL)
			return;
	}
}

static void
add_body(struct buf *out, const struct mail_spec *m)
{
	struct buf text, html;
	char boundary[64];

	if (m->html == NULL) {
		add_part_headers(out, "text/plain");
		buf_adds(out, "\r\n");
		add_qp_body(out, m->text);
		if (memcmp(out->data + out->len - 2, "\r\n", 2) != 0)
			buf_adds(out, "\r\n");
		return;
	}
	buf_init(&text);
	buf_init(&html);
	add_qp_body(&text, m->text);
	add_qp_body(&html, m->html);
	make_boundary(m->message_id, &text, &html, boundary,
	    sizeof(boundary));
	buf_reserve(out, text.len + html.len + 512);
	buf_printf(out, "Content-Type: multipart/alternative;\r\n"
	    " boundary=\"%s\"\r\n\r\n"
	    "This is a multi-part message in MIME format.\r\n", boundary);
	buf_printf(out, "\r\n--%s\r\n", boundary);
	add_part_headers(out, "text/plain");
	/* the parts are tens of KB: copied, not through printf */
	buf_add(out, "\r\n", 2);
	buf_add(out, text.data, text.len);
	buf_printf(out, "\r\n--%s\r\n", boundary);
	add_part_headers(out, "text/html");
	buf_add(out, "\r\n", 2);
	buf_add(out, html.data, html.len);
	buf_printf(out, "\r\n--%s--\r\n", boundary);
	buf_release(&text);
	buf_release(&html);
}

static bool
addr_ok(const char *addr)
{
	char *spec = mail_addr_spec(addr);
	bool ok = spec != NULL && spec_valid(spec);

	free(spec);
	return ok;
}

bool
mail_address_valid(const char *addr)
{
	return addr != NULL && addr_ok(addr);
}

bool
mail_uri_valid(const char *uri)
{
	return uri != NULL && token_valid(uri);
}

/* Check every field before writing anything; -1 and err if one is bad. */
static int
spec_check(const struct mail_spec *m, char *err, size_t errlen)
{
	const char *bad = NULL;

	if (m->from == NULL || m->to == NULL || m->text == NULL ||
	    m->message_id == NULL) {
		snprintf(err, errlen, "mail: missing %s", m->from == NULL ?
		    "sender" : m->to == NULL ? "recipient" : m->text == NULL ?
		    "text part" : "message id");
		return -1;
	}
	if (!addr_ok(m->from))
		bad = "sender address";
	else if (!addr_ok(m->to))
		bad = "recipient address";
	else if (m->reply_to != NULL && !addr_ok(m->reply_to))
		bad = "reply-to address";
	else if (!token_valid(m->message_id) ||
	    strchr(m->message_id, '@') == NULL)
		bad = "message id";
	else if (m->list_id != NULL && !token_valid(m->list_id))
		bad = "list id";
	else if (m->list_unsubscribe != NULL &&
	    !token_valid(m->list_unsubscribe))
		bad = "list-unsubscribe URI";
	if (bad != NULL) {
		snprintf(err, errlen, "mail: invalid %s", bad);
		return -1;
	}
	return 0;
}

int
mail_build(const struct mail_spec *m, struct buf *out, char *err,
    size_t errlen)
{
	size_t start = out->len;

	if (spec_check(m, err, errlen) < 0)
		return -1;
	if (add_date_header(out, m->date) < 0) {
		snprintf(err, errlen, "mail: date %lld out of range", m->date);
		goto fail;
	}
	/* spec_check validated the addresses: these cannot fail */
	if (add_address_header(out, "From", m->from) < 0 ||
	    (m->reply_to != NULL &&
	    add_address_header(out, "Reply-To", m->reply_to) < 0) ||
	    add_address_header(out, "To", m->to) < 0) {
		snprintf(err, errlen, "mail: invalid address");
		goto fail;
	}
	add_text_header(out, "Subject", m->subject);
	buf_printf(out, "Message-ID: <%s>\r\n", m->message_id);
	if (m->list_id != NULL)
		buf_printf(out, "List-Id: <%s>\r\n", m->list_id);
	if (m->list_unsubscribe != NULL) {
		buf_printf(out, "List-Unsubscribe: <%s>\r\n",
		    m->list_unsubscribe);
		if (str_istarts(m->list_unsubscribe, "https:"))
			buf_adds(out, "List-Unsubscribe-Post: "
			    "List-Unsubscribe=One-Click\r\n");
	}
	buf_adds(out, "Auto-Submitted: auto-generated\r\n"
	    "X-Auto-Response-Suppress: All\r\n"
	    "MIME-Version: 1.0\r\n");
	add_body(out, m);
	return 0;
fail:
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return -1;
}
