/*
 * test_render.c: the Mustache spec (every case of every file in
 * $FIXTURES/mustache-spec, plus delimiters.json from tests/unit/data when
 * the fixtures lack it), each case run as one named cmocka test; then the
 * escapers, JSON payload safety, error messages and the limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/render.h"
#include "feeds/util.h"

static const char *
fixtures(void)
{
	const char *f = getenv("FIXTURES");

	return f && *f ? f : "tests/fixtures";
}

/* ------------------------------------------------------------------ */
/* Spec cases */

struct spec_case {
	char		*name;		/* "sections: Doubled" */
	json_t		*test;		/* borrowed from the file's document */
};

static const char *
spec_partial(const char *name, void *arg)
{
	const json_t *partials = arg;

	return json_string_value(json_object_get(partials, name));
}

static void
test_spec_case(void **state)
{
	const struct spec_case *c = *state;
	const json_t *t = c->test;
	const char *tpl = json_string_value(json_object_get(t, "template"));
	const char *exp = json_string_value(json_object_get(t, "expected"));
	json_t *partials = json_object_get(t, "partials");
	char err[256] = "";
	struct buf out;
	int rc;

	assert_non_null(tpl);
	assert_non_null(exp);
	buf_init(&out);
	rc = render_string(tpl, strlen(tpl), "spec", json_object_get(t, "data"),
	    RENDER_ESC_HTML, spec_partial, partials, &out, err, sizeof(err));
	if (rc != 0 || strcmp(buf_str(&out), exp) != 0) {
		print_error("case '%s'\n  template: %s\n  expected: [%s]\n"
		    "  got:      [%s]\n  err: %s\n", c->name, tpl, exp,
		    buf_str(&out), err);
	}
	assert_int_equal(rc, 0);
	assert_string_equal(buf_str(&out), exp);
	buf_release(&out);
}

static json_t *spec_docs[32];
static size_t n_spec_docs;

/* Load one spec file's cases into cases; returns how many. */
static size_t
load_spec(const char *path, const char *label, struct spec_case **cases,
    size_t *n)
{
	json_error_t je;
	json_t *doc = json_load_file(path, 0, &je), *tests, *t;
	size_t i;

	if (doc == NULL) {
		fprintf(stderr, "cannot load '%s': %s\n", path, je.text);
		return 0;
	}
	if (n_spec_docs == sizeof(spec_docs) / sizeof(spec_docs[0])) {
		json_decref(doc);
		return 0;
	}
	spec_docs[n_spec_docs++] = doc;
	tests = json_object_get(doc, "tests");
	json_array_foreach(tests, i, t) {
		*cases = xreallocarray(*cases, *n + 1, sizeof(**cases));
		(*cases)[*n].name = xasprintf("spec %s: %s", label,
		    json_string_value(json_object_get(t, "name")));
		(*cases)[*n].test = t;
		(*n)++;
	}
	return json_array_size(tests);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.json of the spec directory, in name order; 0 if none. */
static size_t
load_specs(struct spec_case **cases, size_t *n)
{
	char dir[1024], path[2048], label[256];
	struct strvec names;
	struct dirent *de;
	bool have_delims = false;
	size_t i, total = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/mustache-spec", fixtures());
	d = opendir(dir);
	if (d == NULL)
		return 0;
	strvec_init(&names);
	while ((de = readdir(d)) != NULL)
		if (str_ends(de->d_name, ".json") && de->d_name[0] != '.')
			strvec_push(&names, de->d_name);
	closedir(d);
	qsort(names.v, names.n, sizeof(*names.v), cmp_str);
	for (i = 0; i < names.n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names.v[i]);
		snprintf(label, sizeof(label), "%.*s",
		    (int)(strlen(names.v[i]) - 5), names.v[i]);
		if (strcmp(names.v[i], "delimiters.json") == 0)
			have_delims = true;
		total += load_spec(path, label, cases, n);
	}
	strvec_release(&names);
	if (!have_delims) {
		snprintf(path, sizeof(path),
		    "%s/../unit/data/mustache-spec-delimiters.json", fixtures());
		total += load_spec(path, "delimiters", cases, n);
	}
	return total;
}

/* ------------------------------------------------------------------ */
/* Helpers */

static char last_err[512];

/* Render tpl with data (JSON text) and esc; returns the output (static). */
static const char *
render(const char *tpl, const char *data, enum render_escape esc)
{
	static struct buf out;
	json_error_t je;
	json_t *d = json_loads(data, 0, &je);
	int rc;

	assert_non_null(d);
	buf_release(&out);
	last_err[0] = '\0';
	rc = render_string(tpl, strlen(tpl), "t.mustache", d, esc, NULL, NULL,
	    &out, last_err, sizeof(last_err));
	json_decref(d);
	return rc == 0 ? buf_str(&out) : NULL;
}

/* Render with render_opts (json on) and one partial table. */
static int
render_opts_json(const char *tpl, const json_t *d, enum render_escape esc,
    struct buf *out)
{
	struct render_tpl *t;
	struct render_opts o;
	int rc;

	t = render_compile(tpl, strlen(tpl), "p.mustache", last_err,
	    sizeof(last_err));
	if (t == NULL)
		return -1;
	memset(&o, 0, sizeof(o));
	o.esc = esc;
	o.json = true;
	rc = render_exec(t, d, &o, out, last_err, sizeof(last_err));
	render_tpl_free(t);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Escaping */

static void
test_escape_html(void **state)
{
	(void)state;
	assert_string_equal(render("{{t}}|{{{t}}}",
	    "{\"t\": \"<script>alert('x&y')</script>\\\"\"}", RENDER_ESC_HTML),
	    "&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt;&quot;|"
	    "<script>alert('x&y')</script>\"");
}

static void
test_escape_markdown(void **state)
{
	(void)state;
	/* | and newline stay inside a table cell; seed punctuation is kept */
	assert_string_equal(render("| {{t}} |",
	    "{\"t\": \"a|b\\nc *d* _e_ [f](g) <h> `i` ~j~ \\\\ &amp; R&D: ok? (yes) \\\"q\\\" 's' 50%\"}",
	    RENDER_ESC_MARKDOWN),
	    "| a\\|b<br>c \\*d\\* \\_e\\_ \\[f\\](g) \\<h\\> \\`i\\` \\~j\\~ "
	    "\\\\ \\&amp; R&D: ok? (yes) \"q\" 's' 50% |");
}

static void
test_escape_mrkdwn(void **state)
{
	(void)state;
	assert_string_equal(render("{{t}}",
	    "{\"t\": \"<!channel> & <@U1> *b* _i_\"}", RENDER_ESC_MRKDWN),
	    "&lt;!channel&gt; &amp; &lt;@U1&gt; *b* _i_");
}

static void
test_escape_discord(void **state)
{
	(void)state;
	assert_string_equal(render("{{t}}",
	    "{\"t\": \"@everyone **x** ||spoiler|| [l](http://e) # h a@b.c\"}",
	    RENDER_ESC_DISCORD),
	    "@\xe2\x80\x8b" "everyone \\*\\*x\\*\\* \\|\\|spoiler\\|\\| "
	    "\\[l\\](http://e) \\# h a@b.c");
}

static void
test_escape_json_roundtrip(void **state)
{
	static const char *const titles[] = {
		"Quotes \"in\" title",
		"back\\slash \\n not a newline",
		"line\nbreak\r\nand\ttab",
		"ctl \x01\x02\x1f\x7f end",
		"emoji \xf0\x9f\x9a\x80 and CJK \xe4\xb8\xad and \xe2\x80\xa8 sep",
		"</script><!-- -->",
	};
	struct buf out;
	json_t *d, *parsed;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(titles) / sizeof(titles[0]); i++) {
		d = json_pack("{s:s}", "title", titles[i]);
		assert_non_null(d);
		buf_init(&out);
		assert_int_equal(render_opts_json(
		    "{\"a\": \"{{title}}\", \"b\": \"{{{title}}}\"}", d,
		    RENDER_ESC_NONE, &out), 0);
		parsed = json_loads(buf_str(&out), 0, NULL);
		assert_non_null(parsed);
		assert_string_equal(json_string_value(json_object_get(parsed,
		    "a")), titles[i]);
		assert_string_equal(json_string_value(json_object_get(parsed,
		    "b")), titles[i]);
		json_decref(parsed);
		json_decref(d);
		buf_release(&out);
	}
}

/* Markup escaping first, then JSON: {{x}} gets both, {{{x}}} JSON only. */
static void
test_escape_json_with_markup(void **state)
{
	struct buf out;
	json_t *d = json_pack("{s:s}", "t", "a<b> & \"c\"");

	(void)state;
	buf_init(&out);
	assert_int_equal(render_opts_json("\"{{t}}\" \"{{{t}}}\" \"{{&t}}\"",
	    d, RENDER_ESC_MRKDWN, &out), 0);
	assert_string_equal(buf_str(&out), "\"a&lt;b&gt; &amp; \\\"c\\\"\" "
	    "\"a<b> & \\\"c\\\"\" \"a<b> & \\\"c\\\"\"");
	buf_reset(&out);
	assert_int_equal(render_opts_json("{{t}}", d, RENDER_ESC_HTML, &out), 0);
	assert_string_equal(buf_str(&out),
	    "a&lt;b&gt; &amp; &quot;c&quot;");
	buf_release(&out);
	json_decref(d);
}

static void
test_escape_parse(void **state)
{
	(void)state;
	assert_int_equal(render_escape_parse("html"), RENDER_ESC_HTML);
	assert_int_equal(render_escape_parse("markdown"), RENDER_ESC_MARKDOWN);
	assert_int_equal(render_escape_parse("md"), RENDER_ESC_MARKDOWN);
	assert_int_equal(render_escape_parse("mrkdwn"), RENDER_ESC_MRKDWN);
	assert_int_equal(render_escape_parse("discord"), RENDER_ESC_DISCORD);
	assert_int_equal(render_escape_parse("json"), RENDER_ESC_JSON);
	assert_int_equal(render_escape_parse("none"), RENDER_ESC_NONE);
	assert_int_equal(render_escape_parse("htm"), -1);
	assert_int_equal(render_escape_parse(NULL), -1);
	assert_string_equal(render_escape_name(RENDER_ESC_MRKDWN), "mrkdwn");
}

/* ------------------------------------------------------------------ */
/* Values */

static void
test_values(void **state)
{
	(void)state;
	/* 0, "" and [] are falsy; "0" is a non-empty string */
	assert_string_equal(render(
	    "{{#z}}z{{/z}}{{^z}}!z{{/z}} {{#e}}e{{/e}}{{^e}}!e{{/e}} "
	    "{{#s}}[{{s}}]{{/s}} {{n}} {{r}} {{b}} {{list}}",
	    "{\"z\": 0, \"e\": \"\", \"s\": \"0\", \"n\": -12, \"r\": 3.25,"
	    " \"b\": true, \"list\": [\"a\", 1, 2.5]}", RENDER_ESC_HTML),
	    "!z !e [0] -12 3.25 true a, 1, 2.5");
}

/* ------------------------------------------------------------------ */
/* Errors: file, line and tag */

static void
test_error_unclosed_section(void **state)
{
	(void)state;
	assert_null(render("a\nb\n{{#papers}}\n{{title}}\n", "{}",
	    RENDER_ESC_HTML));
	assert_string_equal(last_err,
	    "t.mustache:3: unclosed section at tag '{{#papers}}'");
}

static void
test_error_mismatch(void **state)
{
	(void)state;
	assert_null(render("{{#a}}\n{{#b}}\n{{/a}}\n", "{}", RENDER_ESC_HTML));
	assert_string_equal(last_err, "t.mustache:3: closing tag does not "
	    "match the section opened at line 2 at tag '{{/a}}'");
	assert_null(render("x {{/a}}", "{}", RENDER_ESC_HTML));
	assert_string_equal(last_err, "t.mustache:1: closing tag without an "
	    "open section at tag '{{/a}}'");
}

static void
test_error_unclosed_tag(void **state)
{
	(void)state;
	assert_null(render("ok\n{{title", "{}", RENDER_ESC_HTML));
	assert_string_equal(last_err, "t.mustache:2: unclosed tag (no closing "
	    "delimiter) at tag '{{title'");
	assert_null(render("{{{title}}", "{}", RENDER_ESC_HTML));
	assert_string_equal(last_err, "t.mustache:1: unclosed tag (no closing "
	    "delimiter) at tag '{{{title}}'");
}

static void
test_error_names(void **state)
{
	(void)state;
	assert_null(render("{{ }}", "{}", RENDER_ESC_HTML));
	assert_string_equal(last_err,
	    "t.mustache:1: empty tag name at tag '{{ }}'");
	assert_null(render("\n{{title | upper}}", "{}", RENDER_ESC_HTML));
	assert_string_equal(last_err, "t.mustache:2: bad tag name (blanks or "
	    "too long) at tag '{{title | upper}}'");
	assert_null(render("{{=<% = %>=}}", "{}", RENDER_ESC_HTML));
	assert_true(str_starts(last_err,
	    "t.mustache:1: bad set-delimiter tag"));
	assert_null(render("{{=<%%>=}}", "{}", RENDER_ESC_HTML));
	assert_true(str_starts(last_err,
	    "t.mustache:1: bad set-delimiter tag"));
}

static const char *
table_partial(const char *name, void *arg)
{
	const char *const *tab = arg;

	for (; tab[0] != NULL; tab += 2)
		if (strcmp(tab[0], name) == 0)
			return tab[1];
	return NULL;
}

static const char *
partial_file(const char *name, void *arg)
{
	static char path[128];

	(void)arg;
	snprintf(path, sizeof(path), "/tpl/%s.mustache", name);
	return path;
}

static int
render_with_partials(const char *tpl, const char *const *tab, size_t max,
    struct buf *out)
{
	struct render_tpl *t;
	struct render_opts o;
	json_t *d = json_pack("{s:[{s:i},{s:i}]}", "list", "n", 1, "n", 2);
	int rc;

	t = render_compile(tpl, strlen(tpl), "main.mustache", last_err,
	    sizeof(last_err));
	assert_non_null(t);
	memset(&o, 0, sizeof(o));
	o.esc = RENDER_ESC_HTML;
	o.partials = table_partial;
	o.partials_arg = (void *)tab;
	o.partial_file = partial_file;
	o.max_output = max;
	rc = render_exec(t, d, &o, out, last_err, sizeof(last_err));
	render_tpl_free(t);
	json_decref(d);
	return rc;
}

static void
test_error_in_partial(void **state)
{
	static const char *const tab[] = {
		"paper", "{{n}}\n{{#x}}\n", NULL, NULL,
	};
	struct buf out;

	(void)state;
	buf_init(&out);
	buf_adds(&out, "kept");
	assert_int_equal(render_with_partials("{{#list}}{{>paper}}{{/list}}",
	    tab, 0, &out), -1);
	assert_string_equal(last_err,
	    "/tpl/paper.mustache:2: unclosed section at tag '{{#x}}'");
	assert_string_equal(buf_str(&out), "kept");	/* output rolled back */
	buf_release(&out);
}

/* ------------------------------------------------------------------ */
/* Limits: hostile templates end with an error, not a crash */

static void
test_limit_recursion(void **state)
{
	static const char *const tab[] = { "self", "x{{>self}}", NULL, NULL };
	struct buf out;

	(void)state;
	buf_init(&out);
	assert_int_equal(render_with_partials("{{>self}}", tab, 0, &out), -1);
	assert_string_equal(last_err, "/tpl/self.mustache:1: partials nested "
	    "too deeply (recursion?) at tag '{{>self}}'");
	assert_int_equal(out.len, 0);
	buf_release(&out);
}

static void
test_limit_output(void **state)
{
	/* 2^40 copies if unbounded */
	static const char *const tab[] = {
		"a", "{{>b}}{{>b}}", "b", "{{>c}}{{>c}}", "c", "{{>d}}{{>d}}",
		"d", "{{>e}}{{>e}}", "e", "{{>f}}{{>f}}", "f", "{{>g}}{{>g}}",
		"g", "{{>h}}{{>h}}", "h", "{{>i}}{{>i}}", "i", "{{>j}}{{>j}}",
		"j", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		NULL, NULL,
	};
	struct buf out;

	(void)state;
	buf_init(&out);
	assert_int_equal(render_with_partials("{{>a}}{{>a}}{{>a}}{{>a}}", tab,
	    4096, &out), -1);
	assert_string_equal(last_err, "/tpl/j.mustache:1: output larger than "
	    "4096 bytes");
	assert_int_equal(out.len, 0);
	buf_release(&out);
}

static void
test_limit_steps(void **state)
{
	/* 2^30 tags visited, no output: the step budget stops it */
	static char *tab[64];
	struct buf out;
	int i;

	(void)state;
	for (i = 0; i < 30; i++) {
		tab[2 * i] = xasprintf("p%d", i);
		tab[2 * i + 1] = i < 29 ? xasprintf("{{>p%d}}{{>p%d}}{{!c}}",
		    i + 1, i + 1) : xstrdup("{{nothing}}");
	}
	buf_init(&out);
	assert_int_equal(render_with_partials("{{>p0}}",
	    (const char *const *)tab, 0, &out), -1);
	assert_non_null(strstr(last_err, "template too expensive"));
	buf_release(&out);
	for (i = 0; i < 60; i++)
		free(tab[i]);
}

static void
test_deep_sections(void **state)
{
	struct buf tpl;
	int i;

	(void)state;
	buf_init(&tpl);
	for (i = 0; i < 200; i++)
		buf_adds(&tpl, "{{#a}}");
	assert_null(render(buf_str(&tpl), "{}", RENDER_ESC_HTML));
	assert_true(strstr(last_err, "sections nested too deeply") != NULL);
	buf_release(&tpl);
}

/* ------------------------------------------------------------------ */

static void
test_spec_files_present(void **state)
{
	(void)state;
	/* the five fixture files plus delimiters: 12+42+22+12+34+14 cases */
	assert_true(n_spec_docs >= 6);
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_spec_files_present),
		cmocka_unit_test(test_escape_html),
		cmocka_unit_test(test_escape_markdown),
		cmocka_unit_test(test_escape_mrkdwn),
		cmocka_unit_test(test_escape_discord),
		cmocka_unit_test(test_escape_json_roundtrip),
		cmocka_unit_test(test_escape_json_with_markup),
		cmocka_unit_test(test_escape_parse),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_error_unclosed_section),
		cmocka_unit_test(test_error_mismatch),
		cmocka_unit_test(test_error_unclosed_tag),
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_error_in_partial),
		cmocka_unit_test(test_limit_recursion),
		cmocka_unit_test(test_limit_output),
		cmocka_unit_test(test_limit_steps),
		cmocka_unit_test(test_deep_sections),
	};
	struct spec_case *cases = NULL;
	struct CMUnitTest *tests;
	size_t n = 0, i, nf = sizeof(fixed) / sizeof(fixed[0]);
	int rc;

	load_specs(&cases, &n);
	tests = xcalloc(n + nf, sizeof(*tests));
	for (i = 0; i < n; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = test_spec_case;
		tests[i].initial_state = &cases[i];
	}
	memcpy(tests + n, fixed, sizeof(fixed));
	rc = _cmocka_run_group_tests("render", tests, n + nf, NULL, NULL);
	for (i = 0; i < n; i++)
		free(cases[i].name);
	free(cases);
	free(tests);
	for (i = 0; i < n_spec_docs; i++)
		json_decref(spec_docs[i]);
	return rc;
}
