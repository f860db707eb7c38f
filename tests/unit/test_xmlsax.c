/*
 * test_xmlsax.c: the streaming XML layer (feeds/xmlsax.c) on its own:
 * namespaces by URI, attributes, text and markup capture, caps, depth,
 * DOCTYPE refusal, recovery, encodings, and libxml2 kept off stderr.
 * Small documents that isolate one mechanism each are written inline; the
 * encoding and xml:base cases use files from fixtures/generic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feeds/util.h"
#include "feeds/xmlsax.h"

enum { NS_ATOM, NS_X };
static const char *const test_ns[] = {
	[NS_ATOM] = "http://www.w3.org/2005/Atom",
	[NS_X] = "urn:x",
};

/* What the handler saw, one line per event. */
struct trace {
	struct buf	 log;
	const char	*capture;	/* local name to capture */
	int		 mode;		/* its capture mode */
	bool		 fail_on_end;
};

static int
t_start(struct xmlsax *x, const struct xmlsax_elem *e, void *arg)
{
	struct trace *t = arg;

	(void)x;
	buf_printf(&t->log, "<%d:%s@%zu", e->ns, e->local, e->depth);
	for (size_t i = 0; i < e->n_attrs; i++) {
		assert_int_equal(strlen(e->attrs[i].value), e->attrs[i].len);
		buf_printf(&t->log, " %d:%s=%s", e->attrs[i].ns,
		    e->attrs[i].local, e->attrs[i].value);
	}
	buf_adds(&t->log, ">\n");
	if (t->capture != NULL && strcmp(e->local, t->capture) == 0)
		return t->mode;
	return XMLSAX_SKIP;
}

static int
t_end(struct xmlsax *x, const struct xmlsax_elem *e, void *arg)
{
	struct trace *t = arg;

	buf_printf(&t->log, "</%s", e->local);
	if (e->text != NULL)
		buf_printf(&t->log, " [%s]%s", e->text,
		    e->truncated ? " cut" : "");
	buf_adds(&t->log, ">\n");
	if (t->fail_on_end && strcmp(e->local, "stop") == 0) {
		xmlsax_fail(x, "handler says no at <%s>", e->local);
		return -1;
	}
	return 0;
}

static const struct xmlsax_handler t_handler = { t_start, t_end };

/* Parse doc in chunks of chunk bytes; rc of the whole run. */
static int
run(const char *doc, size_t len, size_t chunk, struct trace *t,
    const struct xmlsax_opts *o, char *err, size_t errlen,
    size_t *n_errors)
{
	struct xmlsax *x = xmlsax_new(&t_handler, t, test_ns, 2, o);
	size_t off = 0;
	int rc = 0;

	assert_non_null(x);
	buf_init(&t->log);
	err[0] = '\0';
	while (off < len && rc == 0) {
		size_t n = len - off < chunk ? len - off : chunk;

		rc = xmlsax_push(x, doc + off, n, err, errlen);
		off += n;
	}
	if (rc == 0)
		rc = xmlsax_finish(x, err, errlen);
	if (n_errors != NULL)
		*n_errors = xmlsax_n_errors(x);
	xmlsax_free(x);
	return rc;
}

static int
run_s(const char *doc, struct trace *t, const struct xmlsax_opts *o,
    char *err, size_t errlen)
{
	return run(doc, strlen(doc), 4096, t, o, err, errlen, NULL);
}

static void
test_xmlsax_namespaces(void **state)
{
	static const char doc[] =
	    "<f:feed xmlns:f='http://www.w3.org/2005/Atom' xmlns:q='urn:x'"
	    " xmlns:o='urn:other'>"
	    "<f:entry q:a='1' b='2' xml:base='http://e.org/'>"
	    "<q:thing/><o:thing/><plain xmlns=''/></f:entry>"
	    "<entry xmlns='urn:x'/></f:feed>";
	struct trace t = { .capture = NULL };
	char err[256];

	(void)state;
	assert_int_equal(run_s(doc, &t, NULL, err, sizeof(err)), 0);
	assert_string_equal(buf_str(&t.log),
	    "<0:feed@1>\n"
	    "<0:entry@2 1:a=1 -1:b=2 -3:base=http://e.org/>\n"
	    "<1:thing@3>\n</thing>\n"
	    "<-2:thing@3>\n</thing>\n"
	    "<-1:plain@3>\n</plain>\n"
	    "</entry>\n"
	    "<1:entry@2>\n</entry>\n"
	    "</feed>\n");
	buf_release(&t.log);
}

/* Attribute values come decoded: "&amp;" and "&#38;" are one '&'. */
static void
test_xmlsax_attribute_entities(void **state)
{
	static const char doc[] = "<r a='x&amp;y&#38;z&lt;&#233;' b=''/>";
	struct trace t = { .capture = NULL };
	char err[256];

	(void)state;
	assert_int_equal(run_s(doc, &t, NULL, err, sizeof(err)), 0);
	assert_string_equal(buf_str(&t.log),
	    "<-1:r@1 -1:a=x&y&z<é -1:b=>\n</r>\n");
	buf_release(&t.log);
}

static void
test_xmlsax_text_capture(void **state)
{
	static const char doc[] = "<r><t>a &amp; <b>bold</b><![CDATA[ <c> ]]>"
	    "</t><u>not captured</u></r>";
	struct trace t = { .capture = "t", .mode = XMLSAX_TEXT };
	char err[256];

	(void)state;
	assert_int_equal(run_s(doc, &t, NULL, err, sizeof(err)), 0);
	assert_string_equal(buf_str(&t.log),
	    "<-1:r@1>\n<-1:t@2>\n<-1:b@3>\n</b>\n</t [a & bold <c> ]>\n"
	    "<-1:u@2>\n</u>\n</r>\n");
	buf_release(&t.log);
}

static void
test_xmlsax_markup_capture(void **state)
{
	static const char doc[] = "<r><c xmlns:h='urn:h'><h:p class='a&quot;b'>"
	    "x &lt; y &amp; <h:em>z</h:em></h:p><br/></c></r>";
	struct trace t = { .capture = "c", .mode = XMLSAX_MARKUP };
	char err[256];

	(void)state;
	assert_int_equal(run_s(doc, &t, NULL, err, sizeof(err)), 0);
	assert_non_null(strstr(buf_str(&t.log), "</c [<p class=\"a&quot;b\">"
	    "x &lt; y &amp; <em>z</em></p><br></br>]>"));
	buf_release(&t.log);
}

/* The cap cuts on a UTF-8 boundary and says so. */
static void
test_xmlsax_text_cap(void **state)
{
	static const char doc[] = "<t>abcé€xyz</t>";	/* é 2, € 3 bytes */
	struct xmlsax_opts o = { .max_text = 6 };
	struct trace t = { .capture = "t", .mode = XMLSAX_TEXT };
	char err[256];

	(void)state;
	assert_int_equal(run_s(doc, &t, &o, err, sizeof(err)), 0);
	/* "abcé" is 5 bytes; € would end at 8 > 6 */
	assert_string_equal(buf_str(&t.log), "<-1:t@1>\n</t [abcé] cut>\n");
	buf_release(&t.log);
}

static void
test_xmlsax_depth_limit(void **state)
{
	struct xmlsax_opts o = { .max_depth = 3 };
	struct trace t = { .capture = NULL };
	char err[256];

	(void)state;
	assert_int_equal(run_s("<a><b><c/></b></a>", &t, &o, err,
	    sizeof(err)), 0);
	buf_release(&t.log);
	assert_int_equal(run_s("<a><b><c><d/></c></b></a>", &t, &o, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "line 1: elements nested deeper than 3");
	buf_release(&t.log);
}

/* Any DOCTYPE stops the parse before its declarations are read. */
static void
test_xmlsax_doctype(void **state)
{
	static const char doc[] = "<?xml version='1.0'?>\n"
	    "<!DOCTYPE r [<!ENTITY e 'expanded'>]>\n<r>&e;</r>";
	struct trace t = { .capture = "r", .mode = XMLSAX_TEXT };
	char err[256];

	(void)state;
	assert_int_equal(run_s(doc, &t, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "DOCTYPE"));
	assert_null(strstr(buf_str(&t.log), "expanded"));
	assert_string_equal(buf_str(&t.log), "");
	buf_release(&t.log);
}

static void
test_xmlsax_handler_fail(void **state)
{
	struct trace t = { .fail_on_end = true };
	struct xmlsax *x;
	char err[256], pad[600];

	(void)state;
	assert_int_equal(run_s("<r><stop/><after/></r>", &t, NULL, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "handler says no at <stop>");
	assert_null(strstr(buf_str(&t.log), "after"));
	buf_release(&t.log);

	/* after a failure every later call fails the same way (the first
	   push is long enough to be parsed at once, not held) */
	x = xmlsax_new(&t_handler, &t, test_ns, 2, NULL);
	buf_init(&t.log);
	memset(pad, ' ', sizeof(pad));
	memcpy(pad, "<r>", 3);
	memcpy(pad + sizeof(pad) - 7, "<stop/>", 7);
	assert_int_equal(xmlsax_push(x, pad, sizeof(pad), err, sizeof(err)),
	    -1);
	assert_int_equal(xmlsax_push(x, "<more/>", 7, err, sizeof(err)), -1);
	assert_string_equal(err, "handler says no at <stop>");
	assert_int_equal(xmlsax_finish(x, err, sizeof(err)), -1);
	xmlsax_free(x);
	buf_release(&t.log);
}

/* Strict: the first fatal error fails; recovery: counted, parse goes on. */
static void
test_xmlsax_errors_and_recovery(void **state)
{
	static const char doc[] = "<r><a>x &nbsp; y</a><b>after</b></r>";
	struct xmlsax_opts rec = { .recover = true };
	struct trace t = { .capture = "b", .mode = XMLSAX_TEXT };
	char err[256];
	size_t n_errors;

	(void)state;
	assert_int_equal(run(doc, strlen(doc), 4096, &t, NULL, err,
	    sizeof(err), NULL), -1);
	assert_string_equal(err, "line 1: Entity 'nbsp' not defined");
	buf_release(&t.log);

	assert_int_equal(run(doc, strlen(doc), 4096, &t, &rec, err,
	    sizeof(err), &n_errors), 0);
	assert_true(n_errors >= 1);
	assert_non_null(strstr(buf_str(&t.log), "</b [after]>"));
	buf_release(&t.log);

	/* truncated input: said plainly */
	assert_int_equal(run_s("<r><a>never closed", &t, NULL, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "line 1: document truncated inside <a>");
	buf_release(&t.log);
	assert_int_equal(run_s("", &t, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not an XML document"));
	buf_release(&t.log);
}

/* ISO-8859-1 (declared) and UTF-16 (BOM) come out as UTF-8. */
static void
test_xmlsax_encodings(void **state)
{
	static const char latin1[] = "<?xml version='1.0' encoding='ISO-8859-1'?>"
	    "<t>M\xfcller</t>";
	static const char utf16[] = "\xff\xfe<\0t\0>\0\xe9\0<\0/\0t\0>\0";
	struct trace t = { .capture = "t", .mode = XMLSAX_TEXT };
	char err[256];

	(void)state;
	assert_int_equal(run_s(latin1, &t, NULL, err, sizeof(err)), 0);
	assert_string_equal(buf_str(&t.log), "<-1:t@1>\n</t [Müller]>\n");
	buf_release(&t.log);
	assert_int_equal(run(utf16, sizeof(utf16) - 1, 3, &t, NULL, err,
	    sizeof(err), NULL), 0);
	assert_string_equal(buf_str(&t.log), "<-1:t@1>\n</t [é]>\n");
	buf_release(&t.log);
}

/* The same events whatever the chunking, down to one byte. */
static void
test_xmlsax_chunking(void **state)
{
	static const char doc[] = "<?xml version='1.0' encoding='UTF-8'?>\n"
	    "<feed xmlns='http://www.w3.org/2005/Atom'><t a='v&amp;w'>é "
	    "<![CDATA[x]]> &lt;</t></feed>";
	struct trace whole = { .capture = "t", .mode = XMLSAX_TEXT };
	struct trace part = { .capture = "t", .mode = XMLSAX_TEXT };
	char err[256];

	(void)state;
	assert_int_equal(run_s(doc, &whole, NULL, err, sizeof(err)), 0);
	for (size_t c = 1; c < 8; c++) {
		assert_int_equal(run(doc, strlen(doc), c, &part, NULL, err,
		    sizeof(err), NULL), 0);
		assert_string_equal(buf_str(&part.log), buf_str(&whole.log));
		buf_release(&part.log);
	}
	buf_release(&whole.log);
}

/*
 * A declared encoding that libxml2 reads through iconv ('UTF-8.'): fed a
 * byte at a time, libxml2 failed to convert the text around a multibyte
 * character that it converted when parsing whole (the fuzz regression
 * arxiv_api/crash-6816...). Small pieces are now held and handed over
 * together.
 */
static void
test_xmlsax_iconv_chunking(void **state)
{
	struct trace whole = { .capture = "t", .mode = XMLSAX_TEXT };
	struct trace part = { .capture = "t", .mode = XMLSAX_TEXT };
	struct buf doc;
	char err[256];

	(void)state;
	buf_init(&doc);
	buf_adds(&doc, "<?xml version='1.0' encoding='UTF-8.'?>\n<r>");
	for (int i = 0; i < 40; i++)
		buf_printf(&doc, "<t>entry %d, Dirk W\xc3\xbc" "bben, long "
		    "enough to span several pieces</t>\n", i);
	buf_adds(&doc, "</r>");
	assert_int_equal(run(doc.data, doc.len, 4096, &whole, NULL, err,
	    sizeof(err), NULL), 0);
	for (size_t c = 1; c < 4; c++) {
		assert_int_equal(run(doc.data, doc.len, c, &part, NULL, err,
		    sizeof(err), NULL), 0);
		assert_string_equal(buf_str(&part.log), buf_str(&whole.log));
		buf_release(&part.log);
	}
	buf_release(&whole.log);
	buf_release(&doc);
}

/* libxml2's complaints end up in err, never on stderr. */
static void
test_xmlsax_quiet(void **state)
{
	static const char *const docs[] = { "<r><a></r>", "<r>&x;</r>",
	    "<r>\xc3\x28</r>", "<?xml version='1.0' encoding='bogus-enc'?><r/>",
	    "<a:b/>", "<!DOCTYPE r SYSTEM 'http://127.0.0.1:9/x.dtd'><r/>" };
	struct xmlsax_opts rec = { .recover = true };
	struct trace t = { .capture = NULL };
	char err[256], path[] = "/tmp/test_xmlsax_stderr_XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	off_t size;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		run_s(docs[i], &t, NULL, err, sizeof(err));
		buf_release(&t.log);
		run_s(docs[i], &t, &rec, err, sizeof(err));
		buf_release(&t.log);
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	size = lseek(fd, 0, SEEK_END);
	close(fd);
	unlink(path);
	assert_int_equal(size, 0);
}

static void
test_xmlsax_xml_base_fixture(void **state)
{
	const char *dir = getenv("FIXTURES");
	char path[1024], err[256];
	struct buf b;
	struct trace t = { .capture = "content", .mode = XMLSAX_TEXT };

	(void)state;
	snprintf(path, sizeof(path), "%s/generic/feedrs_atom_xml_base.xml",
	    dir != NULL ? dir : "tests/fixtures");
	buf_init(&b);
	assert_int_equal(file_read_all(path, 1 << 20, &b, err, sizeof(err)),
	    0);
	assert_int_equal(run(b.data, b.len, 64, &t, NULL, err, sizeof(err),
	    NULL), 0);
	assert_non_null(strstr(buf_str(&t.log), "<0:content@3 -1:type=html "
	    "-3:base=https://numi.st/post/2022/travel-uke/>"));
	assert_non_null(strstr(buf_str(&t.log), "<p><img src=\"IMG_1232.jpeg\" "
	    "/></p>"));
	buf_release(&t.log);
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xmlsax_namespaces),
		cmocka_unit_test(test_xmlsax_attribute_entities),
		cmocka_unit_test(test_xmlsax_text_capture),
		cmocka_unit_test(test_xmlsax_markup_capture),
		cmocka_unit_test(test_xmlsax_text_cap),
		cmocka_unit_test(test_xmlsax_depth_limit),
		cmocka_unit_test(test_xmlsax_doctype),
		cmocka_unit_test(test_xmlsax_handler_fail),
		cmocka_unit_test(test_xmlsax_errors_and_recovery),
		cmocka_unit_test(test_xmlsax_encodings),
		cmocka_unit_test(test_xmlsax_chunking),
		cmocka_unit_test(test_xmlsax_iconv_chunking),
		cmocka_unit_test(test_xmlsax_quiet),
		cmocka_unit_test(test_xmlsax_xml_base_fixture),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
