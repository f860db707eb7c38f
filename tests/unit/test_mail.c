/*
 * test_mail.c: the RFC 5322 / MIME builder.  Exact encodings where they
 * can be worked out by hand (base64 of the UTF-8 bytes, quoted-printable
 * line breaks), round trips through the independent decoder in
 * mail_decode.h everywhere else.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/mail.h"
#include "feeds/util.h"
#include "mail_decode.h"

static const struct mail_spec base = {
	.from = "Paper digests <digest@example.org>",
	.to = "alice@example.org",
	.subject = "3 new papers",
	.text = "Hello\n",
	.message_id = "d42.alice@paperwatch.example",
	.date = 1732752000,		/* 2024-11-28T00:00:00Z, a Thursday */
	.list_id = "video-gen.paperwatch.example",
};

static char *
enc(const char *name, const char *value)
{
	struct buf b;

	buf_init(&b);
	mail_encode_header(name, value, &b);
	return b.data != NULL ? buf_detach(&b) : xstrdup("");
}

static char *
dec(const char *encoded)
{
	struct buf b;

	buf_init(&b);
	assert_int_equal(md_header(encoded, &b), 0);
	return b.data != NULL ? buf_detach(&b) : xstrdup("");
}

static char *
build(const struct mail_spec *m)
{
	struct buf b;
	char err[256] = "";

	buf_init(&b);
	if (mail_build(m, &b, err, sizeof(err)) != 0)
		fail_msg("mail_build: %s", err);
	return buf_detach(&b);
}

/* The raw (folded) value of header name in msg's header block, or NULL. */
static char *
header_of(const char *msg, const char *name)
{
	size_t nl = strlen(name);
	const char *end = strstr(msg, "\r\n\r\n"), *p = msg;

	while (p != NULL && p < end) {
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1, *e = v;

			while (*v == ' ')
				v++;
			e = v;
			while (!(e[0] == '\r' && e[1] == '\n' && e[2] != ' ' &&
			    e[2] != '\t'))
				e++;
			return xstrndup(v, (size_t)(e - v));
		}
		p = strstr(p, "\r\n");
		if (p != NULL)
			p += 2;
	}
	return NULL;
}

/* ASCII only, CR and LF only as CRLF pairs, every line <= max octets. */
static void
assert_wire_clean(const char *msg, size_t max)
{
	size_t col = 0;

	for (const char *p = msg; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		assert_true(c < 0x80);
		if (c == '\r') {
			assert_int_equal(p[1], '\n');
			p++;
			col = 0;
			continue;
		}
		assert_true(c != '\n');
		col++;
		if (col > max)
			fail_msg("line over %zu octets at '%.40s'", max, p - col + 1);
	}
}

/* The body of a single-part message (after the blank line). */
static const char *
body_of(const char *msg)
{
	const char *p = strstr(msg, "\r\n\r\n");

	assert_non_null(p);
	return p + 4;
}

static void
test_header_ascii_kept(void **state)
{
	char *s;

	(void)state;
	s = enc("Subject", "3 new papers: video generation (arXiv)");
	assert_string_equal(s, "3 new papers: video generation (arXiv)");
	free(s);
	s = enc("Subject", "  runs   of\tspace\r\nand lines  ");
	assert_string_equal(s, "runs of space and lines");
	free(s);
	s = enc("Subject", "");
	assert_string_equal(s, "");
	free(s);
}

static void
test_header_utf8_exact(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "Grüße 🎉", "=?UTF-8?B?R3LDvMOfZSDwn46J?=" },
		{ "Jürgen Müller", "=?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?=" },
		/* ASCII words around stay readable */
		{ "neu: ü ok", "neu: =?UTF-8?B?w7w=?= ok" },
		/* text that looks like an encoded word is encoded itself */
		{ "=?UTF-8?B?x?=", "=?UTF-8?B?PT9VVEYtOD9CP3g/PQ==?=" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = enc("Subject", cases[i].in), *d;

		assert_string_equal(s, cases[i].out);
		d = dec(s);
		assert_string_equal(d, cases[i].in);
		free(s);
		free(d);
	}
}

/*
 * After "Subject: " (9 columns) the first word holds 39 octets (19 x
 * "ü", 64 columns), the next line 45 octets: exact folds.
 */
static void
test_header_fold_exact(void **state)
{
	struct buf in;
	char *s, *d;

	(void)state;
	buf_init(&in);
	for (int i = 0; i < 30; i++)
		buf_adds(&in, "ü");
	s = enc("Subject", in.data);
	assert_string_equal(s,
	    "=?UTF-8?B?w7zDvMO8w7zDvMO8w7zDvMO8w7zDvMO8w7zDvMO8w7zDvMO8w7w=?="
	    "\r\n =?UTF-8?B?w7zDvMO8w7zDvMO8w7zDvMO8w7zDvA==?=");
	d = dec(s);
	assert_string_equal(d, in.data);
	free(s);
	free(d);
	buf_reset(&in);
	for (int i = 0; i < 20; i++)
		buf_adds(&in, "🎉");
	s = enc("Subject", in.data);
	/* 4-octet characters: 9 then 11 per word, never split */
	assert_string_equal(s,
	    "=?UTF-8?B?8J+OifCfjonwn46J8J+OifCfjonwn46J8J+OifCfjonwn46J?="
	    "\r\n =?UTF-8?B?8J+OifCfjonwn46J8J+OifCfjonwn46J8J+OifCfjonwn46J"
	    "8J+OifCfjok=?=");
	d = dec(s);
	assert_string_equal(d, in.data);
	free(s);
	free(d);
	buf_release(&in);
}

/* Long mixed text: lines <= 76, words <= 75, whole characters, round trip */
static void
test_header_long_mixed_round_trip(void **state)
{
	static const char *const inputs[] = {
		"Neue Papiere für dich: 🎉 Über \"video generation\" — 3 papers "
		"with a long title that must be folded somewhere sensible, "
		"日本語のタイトル 和 中文标题 and Ελληνικά too",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		" a very long ASCII word above",
		"ü a ü b ü c ü d ü e ü f ü g ü h ü i ü j ü k ü l ü m ü n ü o ü",
	};
	static const char *const names[] = { "Subject", "X", "List-Unsubscribe-Post" };

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			struct buf line;
			char *s = enc(names[k], inputs[i]), *d;

			buf_init(&line);
			buf_printf(&line, "%s: %s\r\n", names[k], s);
			assert_wire_clean(line.data, 76);
			d = dec(s);
			assert_string_equal(d, inputs[i]);
			free(d);
			free(s);
			buf_release(&line);
		}
	}
}

/* A subject can never add a header: CR/LF become a space. */
static void
test_header_injection_and_bad_utf8(void **state)
{
	char *s, *d;

	(void)state;
	s = enc("Subject", "hi\r\nBcc: eve@example.org\n");
	assert_string_equal(s, "hi Bcc: eve@example.org");
	free(s);
	s = enc("Subject", "bad \xff\xfe byte \x01\x7f");
	d = dec(s);
	/* each invalid byte is one U+FFFD; controls are dropped */
	assert_string_equal(d, "bad \xef\xbf\xbd\xef\xbf\xbd byte");
	free(s);
	free(d);
}

static void
test_encode_address(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "alice@example.org", "alice@example.org" },
		{ "  Paper digests   <digest@example.org> ",
		  "Paper digests <digest@example.org>" },
		{ "\"Doe, John\" <john@example.org>",
		  "\"Doe, John\" <john@example.org>" },
		{ "Dr. J. \"Q\" Doe <q@example.org>",
		  "\"Dr. J. \\\"Q\\\" Doe\" <q@example.org>" },
		{ "Jürgen Müller <jm@example.org>",
		  "=?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <jm@example.org>" },
		{ "\"Jürgen Müller\" <jm@example.org>",
		  "=?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <jm@example.org>" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b;

		buf_init(&b);
		mail_encode_address(cases[i].in, &b);
		assert_string_equal(buf_str(&b), cases[i].out);
		buf_release(&b);
	}
}

static void
test_addr_spec(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "alice@example.org", "alice@example.org" },
		{ " alice@example.org\t", "alice@example.org" },
		{ "Alice <alice@example.org>", "alice@example.org" },
		{ "\"A <b>\" <alice@example.org>", NULL },
		{ "Alice <alice@example.org", NULL },
		{ "alice@example.org>", NULL },
		{ "<>", "" },
	};

	(void)state;
	assert_null(mail_addr_spec(NULL));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = mail_addr_spec(cases[i].in);

		if (cases[i].out == NULL) {
			assert_null(s);
		} else {
			assert_non_null(s);
			assert_string_equal(s, cases[i].out);
		}
		free(s);
	}
}

static void
test_build_single_part_exact(void **state)
{
	char *msg;

	(void)state;
	msg = build(&base);
	assert_string_equal(msg,
	    "Date: Thu, 28 Nov 2024 00:00:00 +0000\r\n"
	    "From: Paper digests <digest@example.org>\r\n"
	    "To: alice@example.org\r\n"
	    "Subject: 3 new papers\r\n"
	    "Message-ID: <d42.alice@paperwatch.example>\r\n"
	    "List-Id: <video-gen.paperwatch.example>\r\n"
	    "Auto-Submitted: auto-generated\r\n"
	    "X-Auto-Response-Suppress: All\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    "\r\n"
	    "Hello\r\n");
	free(msg);
}

static void
test_build_headers(void **state)
{
	struct mail_spec m = base;
	char *msg, *h, *d;

	(void)state;
	m.to = "Jürgen Müller <jm@example.org>";
	m.reply_to = "\"Lab, Admin\" <admin@example.org>";
	m.subject = "Über 🎉 video";
	m.list_unsubscribe = "https://example.org/unsub?s=video-gen";
	m.date = 0;
	msg = build(&m);
	assert_wire_clean(msg, 76);
	h = header_of(msg, "Date");
	assert_string_equal(h, "Thu, 01 Jan 1970 00:00:00 +0000");
	free(h);
	h = header_of(msg, "To");
	assert_string_equal(h, "=?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <jm@example.org>");
	free(h);
	h = header_of(msg, "Reply-To");
	assert_string_equal(h, "\"Lab, Admin\" <admin@example.org>");
	free(h);
	h = header_of(msg, "Subject");
	d = dec(h);
	assert_string_equal(d, "Über 🎉 video");
	free(d);
	free(h);
	h = header_of(msg, "List-Unsubscribe");
	assert_string_equal(h, "<https://example.org/unsub?s=video-gen>");
	free(h);
	h = header_of(msg, "List-Unsubscribe-Post");
	assert_string_equal(h, "List-Unsubscribe=One-Click");
	free(h);
	assert_null(header_of(msg, "Bcc"));
	assert_null(header_of(msg, "Cc"));
	free(msg);

	/* mailto: no one-click POST header; no subject: an empty one */
	m.list_unsubscribe = "mailto:digest@example.org?subject=unsubscribe";
	m.subject = NULL;
	msg = build(&m);
	assert_null(header_of(msg, "List-Unsubscribe-Post"));
	assert_non_null(strstr(msg, "\r\nSubject:\r\n"));
	h = header_of(msg, "List-Unsubscribe");
	assert_string_equal(h,
	    "<mailto:digest@example.org?subject=unsubscribe>");
	free(h);
	free(msg);
}

/* 200 octets on one line: 75 + "=", 75 + "=", 50; exact. */
static void
test_qp_soft_breaks_exact(void **state)
{
	struct mail_spec m = base;
	char a200[201], a76[78], a77[79], au[80], want[400];
	char *msg;

	(void)state;
	memset(a200, 'a', 200);
	a200[200] = '\0';
	m.text = a200;
	msg = build(&m);
	snprintf(want, sizeof(want), "%.75s=\r\n%.75s=\r\n%.50s\r\n", a200,
	    a200, a200);
	assert_string_equal(body_of(msg), want);
	free(msg);

	/* 76 octets before a line end fit (no "=" needed), 77 do not */
	memset(a76, 'a', 76);
	memcpy(a76 + 76, "\n", 2);
	m.text = a76;
	msg = build(&m);
	snprintf(want, sizeof(want), "%.76s\r\n", a76);
	assert_string_equal(body_of(msg), want);
	free(msg);
	memset(a77, 'a', 77);
	a77[77] = '\0';
	m.text = a77;
	msg = build(&m);
	snprintf(want, sizeof(want), "%.75s=\r\naa\r\n", a77);
	assert_string_equal(body_of(msg), want);
	free(msg);

	/* an =XX triplet is never split: 74 x a + "ü" */
	memset(au, 'a', 74);
	memcpy(au + 74, "ü", 3);
	m.text = au;
	msg = build(&m);
	snprintf(want, sizeof(want), "%.74s=\r\n=C3=BC\r\n", au);
	assert_string_equal(body_of(msg), want);
	free(msg);
}

static void
test_qp_special_lines(void **state)
{
	struct mail_spec m = base;
	char *msg;

	(void)state;
	m.text = ".\n.dot at start\nFrom me\nx=1 \ntab\t\nlone\rcr\r\nend";
	msg = build(&m);
	assert_string_equal(body_of(msg),
	    ".\r\n.dot at start\r\n=46rom me\r\nx=3D1=20\r\ntab=09\r\n"
	    "lone=0Dcr\r\nend\r\n");
	free(msg);
}

/* 1000 "ü" on one line: short lines, decodes back to the input. */
static void
test_qp_long_utf8_round_trip(void **state)
{
	struct mail_spec m = base;
	struct buf in, out, want;
	char *msg;
	const char *body;

	(void)state;
	buf_init(&in);
	buf_init(&out);
	buf_init(&want);
	for (int i = 0; i < 1000; i++)
		buf_adds(&in, "ü");
	buf_adds(&in, "\n.\n");
	m.text = in.data;
	msg = build(&m);
	assert_wire_clean(msg, 76);
	body = body_of(msg);
	assert_int_equal(md_qp(body, strlen(body), &out), 0);
	buf_add(&want, in.data, in.len - 3);
	buf_adds(&want, "\r\n.\r\n");
	assert_string_equal(out.data, want.data);
	free(msg);
	buf_release(&in);
	buf_release(&out);
	buf_release(&want);
}

/* Split a multipart/alternative message into its two parts. */
static void
split_parts(const char *msg, char **boundary, char *part[2])
{
	char *ct = header_of(msg, "Content-Type"), *b, *delim;
	const char *p, *q;

	assert_non_null(ct);
	assert_non_null(strstr(ct, "multipart/alternative;"));
	b = strstr(ct, "boundary=\"");
	assert_non_null(b);
	b += 10;
	*strchr(b, '"') = '\0';
	*boundary = xstrdup(b);
	free(ct);
	delim = xasprintf("\r\n--%s", *boundary);
	p = strstr(msg, delim);
	for (int i = 0; i < 2; i++) {
		assert_non_null(p);
		p += strlen(delim);
		assert_true(p[0] == '\r' && p[1] == '\n');
		q = strstr(p, delim);
		assert_non_null(q);
		part[i] = xstrndup(p + 2, (size_t)(q - p - 2));
		p = q;
	}
	assert_string_equal(p + strlen(delim), "--\r\n");
	free(delim);
}

static void
check_part(const char *part, const char *type, const char *want)
{
	struct buf out;
	const char *body;

	assert_true(strncmp(part, "Content-Type: ", 14) == 0);
	assert_true(strncmp(part + 14, type, strlen(type)) == 0);
	assert_non_null(strstr(part,
	    "\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"));
	body = strstr(part, "\r\n\r\n") + 4;
	buf_init(&out);
	assert_int_equal(md_qp(body, strlen(body), &out), 0);
	assert_string_equal(buf_str(&out), want);
	buf_release(&out);
}

static void
test_build_multipart(void **state)
{
	struct mail_spec m = base;
	char *msg, *boundary, *part[2], *h;

	(void)state;
	m.text = "Papers for you\n\n1. Grüße from the 🎉 lab\n"
	    "--=_pw_ fake boundary line\n";
	m.html = "<html><body><p>Grüße &amp; 🎉</p>\n<p>x=1</p></body></html>";
	msg = build(&m);
	assert_wire_clean(msg, 76);
	h = header_of(msg, "MIME-Version");
	assert_string_equal(h, "1.0");
	free(h);
	h = header_of(msg, "Auto-Submitted");
	assert_string_equal(h, "auto-generated");
	free(h);
	split_parts(msg, &boundary, part);
	assert_true(strncmp(boundary, "=_pw_", 5) == 0);
	assert_null(strstr(part[0], boundary));
	assert_null(strstr(part[1], boundary));
	check_part(part[0], "text/plain; charset=UTF-8",
	    "Papers for you\r\n\r\n1. Grüße from the 🎉 lab\r\n"
	    "--=_pw_ fake boundary line\r\n");
	check_part(part[1], "text/html; charset=UTF-8",
	    "<html><body><p>Grüße &amp; 🎉</p>\r\n<p>x=1</p></body></html>");
	free(boundary);
	free(part[0]);
	free(part[1]);
	free(msg);
}

static void
test_build_deterministic(void **state)
{
	struct mail_spec m = base;
	char *a, *b;

	(void)state;
	m.html = "<p>x</p>";
	a = build(&m);
	b = build(&m);
	assert_string_equal(a, b);
	free(a);
	free(b);
}

static void
test_build_errors(void **state)
{
	static const struct { const char *field, *value, *err; } cases[] = {
		{ "to", NULL, "mail: missing recipient" },
		{ "to", "not-an-address", "mail: invalid recipient address" },
		{ "to", "a@example.org\r\nBcc: eve@example.org",
		  "mail: invalid recipient address" },
		{ "to", "a@example.org, b@example.org",
		  "mail: invalid recipient address" },
		{ "to", "Alice <alice@example.org", "mail: invalid recipient address" },
		{ "from", "nobody", "mail: invalid sender address" },
		{ "reply_to", "x y@z", "mail: invalid reply-to address" },
		{ "text", NULL, "mail: missing text part" },
		{ "message_id", "no-at-sign", "mail: invalid message id" },
		{ "message_id", "a b@c", "mail: invalid message id" },
		{ "list_id", "a\r\nb", "mail: invalid list id" },
		{ "list_unsubscribe", "https://x/ y",
		  "mail: invalid list-unsubscribe URI" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mail_spec m = base;
		struct buf b;
		char err[256] = "";
		const char *f = cases[i].field;

		if (strcmp(f, "to") == 0)
			m.to = cases[i].value;
		else if (strcmp(f, "from") == 0)
			m.from = cases[i].value;
		else if (strcmp(f, "reply_to") == 0)
			m.reply_to = cases[i].value;
		else if (strcmp(f, "text") == 0)
			m.text = cases[i].value;
		else if (strcmp(f, "message_id") == 0)
			m.message_id = cases[i].value;
		else if (strcmp(f, "list_id") == 0)
			m.list_id = cases[i].value;
		else
			m.list_unsubscribe = cases[i].value;
		buf_init(&b);
		buf_adds(&b, "kept");
		assert_int_equal(mail_build(&m, &b, err, sizeof(err)), -1);
		assert_string_equal(err, cases[i].err);
		assert_string_equal(buf_str(&b), "kept");	/* unchanged */
		buf_release(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_ascii_kept),
		cmocka_unit_test(test_header_utf8_exact),
		cmocka_unit_test(test_header_fold_exact),
		cmocka_unit_test(test_header_long_mixed_round_trip),
		cmocka_unit_test(test_header_injection_and_bad_utf8),
		cmocka_unit_test(test_encode_address),
		cmocka_unit_test(test_addr_spec),
		cmocka_unit_test(test_build_single_part_exact),
		cmocka_unit_test(test_build_headers),
		cmocka_unit_test(test_qp_soft_breaks_exact),
		cmocka_unit_test(test_qp_special_lines),
		cmocka_unit_test(test_qp_long_utf8_round_trip),
		cmocka_unit_test(test_build_multipart),
		cmocka_unit_test(test_build_deterministic),
		cmocka_unit_test(test_build_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
