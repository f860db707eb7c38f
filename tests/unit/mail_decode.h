/*
 * mail_decode.h: an independent decoder for what daemon/mail.c writes
 * (RFC 5322 unfolding, RFC 2047 "B" encoded words, quoted-printable), so
 * tests and the fuzz target can check round trips without trusting the
 * encoder.  Header-only (static inline) for test_mail.c and
 * tests/fuzz/fuzz_mail_header.c.
 */
#ifndef PW_TESTS_UNIT_MAIL_DECODE_H
#define PW_TESTS_UNIT_MAIL_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "feeds/util.h"

static inline int
md_b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64: whole quads, '=' only as final padding; -1 if bad. */
static inline int
md_b64(const char *s, size_t n, struct buf *out)
{
	if (n % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4], pad = 0;
		unsigned long w = 0;

		for (int k = 0; k < 4; k++) {
			if (s[i + k] == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
			} else if (pad > 0 || (v[k] = md_b64_val(s[i + k])) < 0) {
				return -1;
			}
			w = w << 6 | (unsigned long)v[k];
		}
		buf_addc(out, (char)(w >> 16));
		if (pad < 2)
			buf_addc(out, (char)(w >> 8 & 0xff));
		if (pad < 1)
			buf_addc(out, (char)(w & 0xff));
	}
	return 0;
}

/* Remove folds (CRLF before SP/TAB); -1 if any other CR or LF remains. */
static inline int
md_unfold(const char *s, struct buf *out)
{
	for (; *s != '\0'; s++) {
		if (s[0] == '\r' && s[1] == '\n' && (s[2] == ' ' || s[2] == '\t')) {
			s++;
			continue;
		}
		if (*s == '\r' || *s == '\n')
			return -1;
		buf_addc(out, *s);
	}
	return 0;
}

/* Is s[0..n) one "=?UTF-8?B?...?=" word?  Sets the payload. */
static inline bool
md_is_word(const char *s, size_t n, const char **pl, size_t *pn)
{
	if (n < 12 || strncmp(s, "=?UTF-8?B?", 10) != 0 ||
	    strncmp(s + n - 2, "?=", 2) != 0)
		return false;
	*pl = s + 10;
	*pn = n - 12;
	return memchr(*pl, '?', *pn) == NULL;
}

/*
 * Decode an unstructured header value: unfold, drop leading white space
 * (a fold before the first word), decode encoded words, drop the white
 * space between two adjacent encoded words.  Returns 0,
 * -1 for a malformed fold or word, -2 if an encoded word does not decode
 * to whole UTF-8 characters on its own, -3 if a word is over 75 octets.
 */
static inline int
md_header(const char *s, struct buf *out)
{
	struct buf u, w;
	const char *p;
	bool prev_word = false;
	int rc = 0;

	buf_init(&u);
	buf_init(&w);
	if (md_unfold(s, &u) < 0) {
		rc = -1;
		goto out;
	}
	p = buf_str(&u);
	p += strspn(p, " \t");	/* leading white space is not the value */
	while (*p != '\0' && rc == 0) {
		size_t ws = strspn(p, " \t"), n, pn;
		const char *tok = p + ws, *pl;

		n = strcspn(tok, " \t");
		if (n == 0) {			/* trailing white space */
			buf_add(out, p, ws);
			break;
		}
		if (md_is_word(tok, n, &pl, &pn)) {
			if (!prev_word)
				buf_add(out, p, ws);
			buf_reset(&w);
			if (n > 75)
				rc = -3;
			else if (md_b64(pl, pn, &w) < 0)
				rc = -1;
			else if (!utf8_valid(buf_str(&w), w.len))
				rc = -2;
			buf_add(out, buf_str(&w), w.len);
			prev_word = true;
		} else {
			buf_add(out, p, ws + n);
			prev_word = false;
		}
		p = tok + n;
	}
out:
	buf_release(&u);
	buf_release(&w);
	return rc;
}

static inline int
md_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Quoted-printable: soft breaks removed, =XX decoded; -1 if malformed. */
static inline int
md_qp(const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '=') {
			buf_addc(out, s[i]);
			continue;
		}
		if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2;
			continue;
		}
		if (i + 2 >= n || md_hex(s[i + 1]) < 0 || md_hex(s[i + 2]) < 0)
			return -1;
		buf_addc(out, (char)(md_hex(s[i + 1]) << 4 | md_hex(s[i + 2])));
		i += 2;
	}
	return 0;
}

#endif
