/*
 * fuzz_mail_header.c: libFuzzer target for the RFC 2047 header encoder
 * (daemon/mail.c).
 *
 * The first byte picks the header name (its length moves the first fold);
 * the rest, up to a NUL, is the value.  Checks, each an abort():
 *  - mail_encode_header's output is printable ASCII, with CR and LF only
 *    in folds (CRLF + one space) and no fold at the end or doubled, so the
 *    value can never end the header early or inject another one;
 *  - lines (the "Name: " prefix counted) stay within 76 octets, except
 *    the first one when an ASCII word left as is follows a long name;
 *  - every encoded word is "=?UTF-8?B?...?=", at most 75 octets, and
 *    decodes to whole UTF-8 characters on its own;
 *  - unfolding and decoding (tests/unit/mail_decode.h, an independent
 *    decoder) gives back the input as the encoder promises to keep it:
 *    invalid UTF-8 as U+FFFD, controls dropped, white space runs as one
 *    space, trimmed;
 *  - mail_encode_address("VALUE <a@example.org>") is printable ASCII with
 *    folds only and ends with " <a@example.org>" (or is the bare address
 *    when the name is empty).
 *
 * Build and run by hand (about 60 s), from the repository root:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. \
 *     -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
 *     tests/fuzz/fuzz_mail_header.c daemon/mail.c feeds/util.c \
 *     -o /tmp/fuzz_mail_header
 *   mkdir -p /tmp/fuzz_mail_corpus
 *   printf 'SNeue Papiere f\303\274r dich \360\237\216\211' \
 *     > /tmp/fuzz_mail_corpus/seed1
 *   /tmp/fuzz_mail_header -max_total_time=60 -max_len=2048 \
 *     /tmp/fuzz_mail_corpus
 * (or `make fuzz FUZZ_TARGETS=mail_header`, which also keeps findings as
 * regressions that the unit tests replay.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/mail.h"
#include "feeds/util.h"
#include "../unit/mail_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void mh_fail(const char *what, const char *out)
    __attribute__((noreturn));

static void
mh_fail(const char *what, const char *out)
{
	fprintf(stderr, "fuzz: mail_header: %s\noutput: [%s]\n", what, out);
	abort();
}

/* Printable ASCII; CR only in "\r\n " folds, never last or doubled. */
static void
mh_check_wire(const char *s, const char *what)
{
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\r') {
			if (p[1] != '\n' || p[2] != ' ' || p[3] == '\0' ||
			    p[3] == '\r' || p[3] == ' ')
				mh_fail(what, s);
			p += 2;
		} else if (c < 0x20 || c > 0x7e) {
			mh_fail(what, s);
		}
	}
}

/* Line lengths with the "Name: " prefix (col) counted on the first. */
static void
mh_check_lines(const char *s, size_t col)
{
	size_t first_max = col + 60 > 76 ? col + 60 : 76, len = col;
	int line = 0;

	for (const char *p = s;; p++) {
		if (*p == '\r' || *p == '\0') {
			if (len > (line == 0 ? first_max : 76))
				mh_fail("line too long", s);
			if (*p == '\0')
				return;
			p++;		/* the LF */
			len = 0;
			line++;
			continue;
		}
		len++;
	}
}

/* The text the encoder promises to keep. */
static char *
mh_expected(const char *value)
{
	struct buf b;

	buf_init(&b);
	utf8_clean(&b, value, strlen(value));
	if (b.data == NULL)
		return xstrdup("");
	str_collapse_ws(b.data);
	return buf_detach(&b);
}

static void
mh_header(const char *name, const char *value)
{
	struct buf out, dec;
	char *want;
	int rc;

	buf_init(&out);
	buf_init(&dec);
	mail_encode_header(name, value, &out);
	mh_check_wire(buf_str(&out), "not ASCII, or a bare CR/LF");
	mh_check_lines(buf_str(&out), strlen(name) + 2);
	rc = md_header(buf_str(&out), &dec);
	if (rc == -2)
		mh_fail("an encoded word splits a UTF-8 character", out.data);
	if (rc == -3)
		mh_fail("an encoded word over 75 octets", out.data);
	if (rc != 0)
		mh_fail("malformed fold or encoded word", out.data);
	want = mh_expected(value);
	if (strcmp(buf_str(&dec), want) != 0)
		mh_fail("does not decode to the input", out.data);
	free(want);
	buf_release(&out);
	buf_release(&dec);
}

static void
mh_address(const char *value)
{
	static const char tail[] = " <a@example.org>";
	struct buf in, out;
	const char *s;
	size_t n;

	buf_init(&in);
	buf_init(&out);
	if (strpbrk(value, "<>") == NULL) {	/* else it is not a name */
		buf_printf(&in, "%s%s", value, tail);
		mail_encode_address(in.data, &out);
		s = buf_str(&out);
		mh_check_wire(s, "address: not ASCII, or a bare CR/LF");
		n = strlen(s);
		/* an empty (or "") name leaves the bare address */
		if (strcmp(s, "a@example.org") != 0 && (n < sizeof(tail) - 1 ||
		    strcmp(s + n - (sizeof(tail) - 2), tail + 1) != 0 ||
		    (s[n - 16] != ' ' && s[n - 16] != '\n')))
			mh_fail("address: does not end with the address", s);
	}
	buf_release(&in);
	buf_release(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "Subject", "X", "To",
		"List-Unsubscribe-Post",
		"X-A-Very-Long-Header-Name-That-Pushes-The-First-Fold-Far-Out" };
	char *value;

	if (size == 0)
		return 0;
	value = xstrndup((const char *)data + 1, size - 1);
	mh_header(names[data[0] % (sizeof(names) / sizeof(names[0]))], value);
	mh_address(value);
	free(value);
	return 0;
}
