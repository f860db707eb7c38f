/*
 * test_digest.c: every default template rendered from papers of the
 * fixtures (hf-daily/daily_papers_2026-06-12.json, parsed by the hf-daily
 * source) and checked: JSON payloads parse and respect the platform
 * limits (checked here independently, from the numbers of issue 5), the
 * Markdown table keeps its columns and escapes '|', the HTML is
 * well-formed for libxml2's HTML parser and escapes <script>, and a
 * 200-paper digest splits into labelled parts that each fit.
 *
 * Templates come from $TEMPLATES, else $FIXTURES/../../templates.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/digest.h"
#include "feeds/paper.h"
#include "feeds/source.h"
#include "feeds/util.h"

#define HF_FIXTURE	"hf-daily/daily_papers_2026-06-12.json"
#define HOSTILE_TITLE	"Quote \" back\\slash <script>alert('x')</script> " \
			"a|b\nnew line \x01 ctl \xf0\x9f\x9a\x80 @everyone & <@123>"

static const char *const json_formats[] = { "slack", "discord",
    "mattermost", "teams", "matrix", "ntfy", "json", NULL };

static char tpl_dir[1024];

static const char *
fixtures(void)
{
	const char *f = getenv("FIXTURES");

	return f && *f ? f : "tests/fixtures";
}

/* ------------------------------------------------------------------ */
/* Building digests */

struct fixture {
	struct paper_list	 papers;
	struct digest_item	*items;
	struct digest		 d;
	struct digest_renderer	*r;
};

static const char *const hits_llm[] = { "language models", "LLM" };
static const char *const src_names[] = { "hf" };

static int
keep_paper(struct paper *p, void *arg)
{
	paper_list_push_take(arg, p);
	return 0;
}

static void
load_hf(struct paper_list *l)
{
	char path[1024], err[256];
	struct source_info info;
	struct buf b;

	snprintf(path, sizeof(path), "%s/%s", fixtures(), HF_FIXTURE);
	buf_init(&b);
	assert_int_equal(file_read_all(path, 8 << 20, &b, err, sizeof(err)), 0);
	source_info_init(&info);
	assert_int_equal(source_parse(&source_hf_daily, b.data, b.len,
	    keep_paper, l, &info, err, sizeof(err)), 0);
	source_info_release(&info);
	buf_release(&b);
	assert_int_equal(l->n, 30);
}

/* Digest over the papers in f->papers, scores falling with the rank. */
static void
make_digest(struct fixture *f)
{
	size_t i;

	f->items = xcalloc(f->papers.n + 1, sizeof(*f->items));
	for (i = 0; i < f->papers.n; i++) {
		f->items[i].paper = f->papers.v[i];
		f->items[i].score = (double)(f->papers.n - i) + 0.25;
		f->items[i].hits = hits_llm;
		f->items[i].n_hits = 2;
	}
	f->d.subscription = "llm-watch";
	f->d.date = "2026-06-12";
	f->d.digest_id = "42";
	f->d.items = f->items;
	f->d.n_items = f->papers.n;
	f->d.sources = src_names;
	f->d.n_sources = 1;
	f->r = digest_renderer_new(NULL, tpl_dir);
}

static struct paper *
hostile_paper(void)
{
	struct paper *p = paper_new();

	paper_set_arxiv_id(p, "2606.99999", 1);
	paper_set(&p->title, HOSTILE_TITLE);
	paper_set(&p->summary, "Summary with | pipe, *stars*, _under_ and "
	    "</p><script>x</script> and a \"quote\".");
	paper_add_author(p, "@here Mallory | <b>Bold</b>", NULL);
	paper_add_author(p, "Ada \"The\" Lovelace", "Analytical & Co");
	strvec_push(&p->categories, "cs.CR");
	p->upvotes = 3;
	return p;
}

/* The 30 fixture papers, plus the hostile one when hostile. */
static int
setup_hf(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	paper_list_init(&f->papers);
	load_hf(&f->papers);
	make_digest(f);
	*state = f;
	return 0;
}

static int
setup_hf_hostile(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	paper_list_init(&f->papers);
	load_hf(&f->papers);
	paper_list_push_take(&f->papers, hostile_paper());
	make_digest(f);
	*state = f;
	return 0;
}

/* 200 distinct papers: the fixture's 30 over and over, new ids. */
static int
setup_200(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct paper_list hf;
	char id[32];
	size_t i;

	paper_list_init(&hf);
	load_hf(&hf);
	paper_list_init(&f->papers);
	for (i = 0; i < 200; i++) {
		struct paper *p = paper_dup(hf.v[i % hf.n]);

		snprintf(id, sizeof(id), "2606.%05zu", 50000 + i);
		free(p->url_abs);
		free(p->url_pdf);
		free(p->url_hf);
		p->url_abs = p->url_pdf = p->url_hf = NULL;
		paper_set_arxiv_id(p, id, 1);
		paper_list_push_take(&f->papers, p);
	}
	paper_list_release(&hf);
	make_digest(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	digest_renderer_free(f->r);
	paper_list_release(&f->papers);
	free(f->items);
	free(f);
	return 0;
}

static void
render_ok(struct fixture *f, const char *format, struct strvec *parts)
{
	char err[512] = "";

	strvec_init(parts);
	if (digest_render(f->r, &f->d, format, parts, err, sizeof(err)) != 0)
		fail_msg("%s: %s", format, err);
	assert_true(parts->n >= 1);
	if (getenv("DIGEST_DUMP") && strcmp(getenv("DIGEST_DUMP"), format) == 0)
		for (size_t i = 0; i < parts->n; i++)
			printf("----- %s part %zu\n%s\n", format, i + 1,
			    parts->v[i]);
}

/* ------------------------------------------------------------------ */
/* Platform limits, checked independently of digest.c */

static size_t
chars(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static size_t
jchars(const json_t *o, const char *key)
{
	return chars(json_string_value(json_object_get(o, key)));
}

static void
check_discord(const json_t *j)
{
	const json_t *embeds = json_object_get(j, "embeds"), *e, *am;
	size_t i, total = 0;

	am = json_object_get(j, "allowed_mentions");
	assert_true(json_is_array(json_object_get(am, "parse")));
	assert_int_equal(json_array_size(json_object_get(am, "parse")), 0);
	assert_true(jchars(j, "content") <= 2000);
	assert_true(json_array_size(embeds) <= 10);
	json_array_foreach(embeds, i, e) {
		assert_true(jchars(e, "title") <= 256);
		assert_true(jchars(e, "description") <= 4096);
		total += jchars(e, "title") + jchars(e, "description") +
		    jchars(json_object_get(e, "footer"), "text");
	}
	assert_true(total <= 6000);
}

static void
check_slack(const json_t *j)
{
	const json_t *blocks = json_object_get(j, "blocks"), *b;
	size_t i;

	assert_true(json_is_array(blocks));
	assert_true(json_array_size(blocks) <= 50);
	json_array_foreach(blocks, i, b) {
		const char *type = json_string_value(json_object_get(b, "type"));

		assert_non_null(type);
		if (strcmp(type, "section") == 0)
			assert_true(jchars(json_object_get(b, "text"), "text")
			    <= 3000);
	}
}

static void
check_payload(const char *format, const char *s)
{
	json_error_t je;
	json_t *j = json_loads(s, 0, &je);

	if (j == NULL)
		fail_msg("%s: invalid JSON: %s (line %d)", format, je.text,
		    je.line);
	if (strcmp(format, "discord") == 0)
		check_discord(j);
	else if (strcmp(format, "slack") == 0)
		check_slack(j);
	else if (strcmp(format, "teams") == 0) {
		assert_true(strlen(s) <= 28 * 1024);
		assert_string_equal(json_string_value(json_object_get(j,
		    "type")), "message");
	} else if (strcmp(format, "ntfy") == 0)
		assert_true(strlen(s) <= 4096);
	else if (strcmp(format, "matrix") == 0)
		assert_true(strlen(s) <= 65536);
	else if (strcmp(format, "mattermost") == 0)
		assert_true(jchars(j, "text") <= 16383);
	json_decref(j);
}

/* ------------------------------------------------------------------ */
/* Markdown */

/* Cells of one table row: unescaped '|' split it; leading/trailing cut. */
static size_t
md_cells(const char *line)
{
	size_t bars = 0;

	for (const char *p = line; *p && *p != '\n'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '|')
			bars++;
	}
	return bars ? bars - 1 : 0;
}

static void
test_markdown_table(void **state)
{
	struct fixture *f = *state;
	struct strvec parts;
	const char *s, *line;
	size_t rows = 0;

	render_ok(f, "markdown", &parts);
	assert_int_equal(parts.n, 1);
	s = parts.v[0];
	assert_true(str_starts(s, "\n\n## Papers for 2026-06-12\n\n"
	    "| Title | Authors | Summary |\n|-------|---------|---------|\n"));
	line = strchr(strstr(s, "|-------|"), '\n');
	while (line != NULL && line[1] == '|') {
		line++;
		assert_int_equal(md_cells(line), 3);
		rows++;
		line = strchr(line, '\n');
	}
	assert_int_equal(rows, 31);
	/* first fixture paper, in the seed's form */
	assert_non_null(strstr(s, "\n| On the Limits of LLM Adaptability: "
	    "Impact of Model-Internalized Priors on Annotation Task "
	    "Performance (Read more on [arXiv](https://arxiv.org/abs/"
	    "2606.00467) or [HuggingFace](https://huggingface.co/papers/"
	    "2606.00467))| Etienne Casanova, Rafal Kocielnik, R. Michael "
	    "Alvarez | Large language models exhibit limited ability"));
	/* the hostile title: | escaped, the newline gone, one row */
	assert_non_null(strstr(s, "| Quote \" back\\\\slash \\<script\\>"
	    "alert('x')\\</script\\> a\\|b new line ctl "));
	assert_non_null(strstr(s, "\\<script\\>"));
	assert_non_null(strstr(s, "| @here Mallory \\| \\<b\\>Bold\\</b\\>, "
	    "Ada \"The\" Lovelace |"));
	strvec_release(&parts);
}

/* The seed's form, byte for byte, for two of its rows. */
static void
test_markdown_seed(void **state)
{
	static const char *const authors1[] = { "Giuseppe Carenini",
	    "yuweiyin" };
	static const char *const authors2[] = { "Shi Dong", "Will Dabney",
	    "Michael Bowling", "Andr\xc3\xa9 Barreto", "David Abel" };
	static const char sum1[] = "ARR is a zero-shot prompting method.";
	static const char sum2[] = "i) The paper argues that agency is "
	    "frame-dependent. v) Any basic science of agency requires "
	    "frame-dependence.";
	static const char expect[] = "\n\n## Papers for 2025-02-10\n\n"
	    "| Title | Authors | Summary |\n"
	    "|-------|---------|---------|\n"
	    "| ARR: Question Answering with Large Language Models via "
	    "Analyzing, Retrieving, and Reasoning (Read more on [arXiv]"
	    "(https://arxiv.org/abs/2502.04689) or [HuggingFace]"
	    "(https://huggingface.co/papers/2502.04689))| Giuseppe Carenini, "
	    "yuweiyin | ARR is a zero-shot prompting method.  |\n"
	    "| Agency Is Frame-Dependent (Read more on [arXiv]"
	    "(https://arxiv.org/abs/2502.04403) or [HuggingFace]"
	    "(https://huggingface.co/papers/2502.04403))| Shi Dong, Will "
	    "Dabney, Michael Bowling, Andr\xc3\xa9 Barreto, David Abel | i) "
	    "The paper argues that agency is frame-dependent. v) Any basic "
	    "science of agency requires frame-dependence.  |\n";
	struct paper *p[2];
	struct digest_item items[2];
	struct digest d;
	struct strvec parts;
	char err[256];
	size_t i;

	(void)state;
	memset(items, 0, sizeof(items));
	for (i = 0; i < 2; i++) {
		p[i] = paper_new();
		paper_set_arxiv_id(p[i], i == 0 ? "2502.04689" : "2502.04403",
		    1);
		items[i].paper = p[i];
		items[i].score = 2.0 - (double)i;
	}
	paper_set(&p[0]->title, "ARR: Question Answering with Large Language "
	    "Models via Analyzing, Retrieving, and Reasoning");
	paper_set(&p[1]->title, "Agency Is Frame-Dependent");
	paper_set(&p[0]->ai_summary, sum1);
	paper_set(&p[1]->summary, sum2);
	for (i = 0; i < 2; i++)
		paper_add_author(p[0], authors1[i], NULL);
	for (i = 0; i < 5; i++)
		paper_add_author(p[1], authors2[i], NULL);
	memset(&d, 0, sizeof(d));
	d.subscription = "seed";
	d.date = "2025-02-10";
	d.items = items;
	d.n_items = 2;
	struct digest_renderer *r = digest_renderer_new(NULL, tpl_dir);
	strvec_init(&parts);
	assert_int_equal(digest_render(r, &d, "markdown", &parts, err,
	    sizeof(err)), 0);
	assert_string_equal(parts.v[0], expect);
	strvec_release(&parts);
	digest_renderer_free(r);
	paper_free(p[0]);
	paper_free(p[1]);
}

/* ------------------------------------------------------------------ */
/* HTML */

static int html_errors;

static void
count_html_error(void *arg, xmlErrorPtr e)
{
	(void)arg;
	if (e != NULL && e->level >= XML_ERR_ERROR) {
		html_errors++;
		fprintf(stderr, "libxml2: line %d: %s", e->line, e->message);
	}
}

static void
test_html_wellformed(void **state)
{
	struct fixture *f = *state;
	struct strvec parts;
	htmlDocPtr doc;
	const char *s;

	render_ok(f, "html", &parts);
	assert_int_equal(parts.n, 1);
	s = parts.v[0];
	html_errors = 0;
	xmlSetStructuredErrorFunc(NULL, count_html_error);
	doc = htmlReadMemory(s, (int)strlen(s), "digest.html", "UTF-8",
	    HTML_PARSE_NONET);
	xmlSetStructuredErrorFunc(NULL, NULL);
	assert_non_null(doc);
	xmlFreeDoc(doc);
	assert_int_equal(html_errors, 0);
	/* no markup from paper text survives; inline CSS only */
	assert_null(strstr(s, "<script"));
	assert_null(strstr(s, "<b>Bold"));
	assert_null(strstr(s, "<style"));
	assert_non_null(strstr(s, "&lt;script&gt;alert(&#39;x&#39;)"
	    "&lt;/script&gt;"));
	assert_non_null(strstr(s, "href=\"https://arxiv.org/abs/2606.00467\""));
	assert_non_null(strstr(s, "<title>Papers for 2026-06-12: llm-watch"
	    "</title>"));
	/* a hit is emphasised, inside the escaped text */
	assert_non_null(strstr(s, "Impact of Model-Internalized Priors"));
	assert_non_null(strstr(s, "<strong>LLM</strong> Adaptability"));
	strvec_release(&parts);
}

/* ------------------------------------------------------------------ */
/* JSON payloads */

static void
test_json_payloads(void **state)
{
	struct fixture *f = *state;
	struct strvec parts;
	size_t i, k;

	for (i = 0; json_formats[i] != NULL; i++) {
		render_ok(f, json_formats[i], &parts);
		for (k = 0; k < parts.n; k++)
			check_payload(json_formats[i], parts.v[k]);
		strvec_release(&parts);
	}
}

/* The generic JSON carries every field, the hostile title intact. */
static void
test_json_every_field(void **state)
{
	struct fixture *f = *state;
	struct strvec parts;
	json_t *j, *p, *last;

	render_ok(f, "json", &parts);
	assert_int_equal(parts.n, 1);
	j = json_loads(parts.v[0], 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j,
	    "subscription")), "llm-watch");
	assert_int_equal(json_integer_value(json_object_get(j, "count")), 31);
	assert_int_equal(json_array_size(json_object_get(j, "papers")), 31);
	p = json_array_get(json_object_get(j, "papers"), 0);
	assert_string_equal(json_string_value(json_object_get(p, "id")),
	    "2606.00467");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(p, "authors"), 0), "name")), "Etienne Casanova");
	assert_int_equal(json_integer_value(json_object_get(p, "upvotes")), 0);
	assert_true(json_real_value(json_object_get(p, "score")) == 31.25);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    p, "links"), "hf")), "https://huggingface.co/papers/2606.00467");
	last = json_array_get(json_object_get(j, "papers"), 30);
	/* white space collapsed and control characters gone, the rest intact */
	assert_string_equal(json_string_value(json_object_get(last, "title")),
	    "Quote \" back\\slash <script>alert('x')</script> a|b new line "
	    "ctl \xf0\x9f\x9a\x80 @everyone & <@123>");
	json_decref(j);
	strvec_release(&parts);
}

/* Discord: nothing can ping, the description's Markdown is inert. */
static void
test_discord_safe(void **state)
{
	struct fixture *f = *state;
	struct strvec parts;
	const json_t *e;
	json_t *j;
	size_t k;

	render_ok(f, "discord", &parts);
	for (k = 0; k < parts.n; k++) {
		j = json_loads(parts.v[k], 0, NULL);
		assert_non_null(j);
		e = json_array_get(json_object_get(j, "embeds"),
		    json_array_size(json_object_get(j, "embeds")) - 1);
		if (k + 1 == parts.n) {
			const char *desc = json_string_value(json_object_get(e,
			    "description"));

			assert_non_null(strstr(desc, "@\xe2\x80\x8bhere Mallory "
			    "\\| \\<b\\>Bold\\</b\\>"));
			assert_non_null(strstr(desc, "\\*stars\\*"));
		}
		json_decref(j);
	}
	strvec_release(&parts);
}

static void
test_payload_shapes(void **state)
{
	struct fixture *f = *state;
	struct strvec parts;
	json_t *j;

	render_ok(f, "matrix", &parts);
	j = json_loads(parts.v[0], 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "msgtype")),
	    "m.text");
	assert_string_equal(json_string_value(json_object_get(j, "format")),
	    "org.matrix.custom.html");
	assert_non_null(strstr(json_string_value(json_object_get(j,
	    "formatted_body")), "<a href=\"https://arxiv.org/abs/2606.00467\">"
	    "On the Limits of <strong>LLM</strong> Adaptability"));
	assert_non_null(strstr(json_string_value(json_object_get(j, "body")),
	    "1. On the Limits of LLM Adaptability"));
	json_decref(j);
	strvec_release(&parts);

	render_ok(f, "ntfy", &parts);
	j = json_loads(parts.v[0], 0, NULL);
	assert_true(str_starts(json_string_value(json_object_get(j, "title")),
	    "Papers for 2026-06-12: llm-watch"));
	assert_string_equal(json_string_value(json_object_get(j, "click")),
	    "https://arxiv.org/abs/2606.00467");
	assert_true(json_is_array(json_object_get(j, "tags")));
	assert_non_null(json_string_value(json_object_get(j, "message")));
	json_decref(j);
	strvec_release(&parts);

	render_ok(f, "teams", &parts);
	j = json_loads(parts.v[0], 0, NULL);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "attachments"), 0), "contentType")),
	    "application/vnd.microsoft.card.adaptive");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_array_get(json_object_get(j, "attachments"), 0), "content"),
	    "type")), "AdaptiveCard");
	json_decref(j);
	strvec_release(&parts);
}

/* ------------------------------------------------------------------ */
/* Text */

static void
test_text_wrapped(void **state)
{
	struct fixture *f = *state;
	struct strvec parts;
	const char *line, *nl;

	render_ok(f, "text", &parts);
	assert_int_equal(parts.n, 1);
	assert_true(str_starts(parts.v[0], "Papers for 2026-06-12: llm-watch\n"
	    "31 papers from hf\n\n1. On the Limits of LLM Adaptability: "));
	assert_non_null(strstr(parts.v[0], "   arXiv: https://arxiv.org/abs/"
	    "2606.00467\n"));
	for (line = parts.v[0]; *line; line = nl + 1) {
		size_t n;
		char *l;

		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = line + strlen(line);
		l = xstrndup(line, (size_t)(nl - line));
		n = chars(l);
		/* over 78 only for one word that cannot be broken */
		if (n > 78) {
			const char *w = l;

			while (*w == ' ')
				w++;
			if (strchr(w, ' ') != NULL)
				fail_msg("line of %zu columns: %s", n, l);
		}
		free(l);
		if (*nl == '\0')
			break;
	}
	strvec_release(&parts);
}

/* ------------------------------------------------------------------ */
/* Splitting */

static void
check_parts(const char *format, struct strvec *parts, size_t n_papers)
{
	char label[32], url[64];
	size_t k, i, seen = 0;
	const char *at;

	assert_true(parts->n >= 2);
	for (k = 0; k < parts->n; k++) {
		check_payload(format, parts->v[k]);
		snprintf(label, sizeof(label), "(%zu/%zu)", k + 1, parts->n);
		if (strstr(parts->v[k], label) == NULL)
			fail_msg("%s part %zu lacks '%s'", format, k + 1, label);
	}
	/* every paper once, in rank order */
	for (i = 0, k = 0; i < n_papers; i++) {
		snprintf(url, sizeof(url), "https://arxiv.org/abs/2606.%05zu",
		    50000 + i);
		while (k < parts->n && (at = strstr(parts->v[k], url)) == NULL)
			k++;
		if (k == parts->n)
			fail_msg("%s: paper %zu missing or out of order",
			    format, i + 1);
		seen++;
	}
	assert_int_equal(seen, n_papers);
}

static void
test_split_200(void **state)
{
	static const char *const limited[] = { "discord", "slack", "ntfy",
	    "teams", "mattermost", "matrix", NULL };
	struct fixture *f = *state;
	struct strvec parts;
	size_t i;

	for (i = 0; limited[i] != NULL; i++) {
		render_ok(f, limited[i], &parts);
		check_parts(limited[i], &parts, 200);
		print_message("%s: 200 papers in %zu parts\n", limited[i],
		    parts.n);
		strvec_release(&parts);
	}
	/* no limit: one part */
	render_ok(f, "html", &parts);
	assert_int_equal(parts.n, 1);
	strvec_release(&parts);
}

static void write_file(const char *dir, const char *name, const char *text);

/*
 * A paper too big for one message: the defaults shorten it; a template
 * that repeats shortened fields gets them shorter level by level; one
 * that prints the whole title cannot be helped and says so.
 */
static void
test_split_oversized_paper(void **state)
{
	struct fixture *f = *state;
	char dir[] = "/tmp/pw-test-digest-XXXXXX", err[512], cmd[1100];
	struct digest_renderer *r;
	struct strvec parts;
	struct buf big;
	size_t i;

	buf_init(&big);
	for (i = 0; i < 800; i++)
		buf_adds(&big, "enormous ");
	paper_set(&f->papers.v[3]->title, buf_str(&big));
	render_ok(f, "ntfy", &parts);
	for (i = 0; i < parts.n; i++)
		check_payload("ntfy", parts.v[i]);
	strvec_release(&parts);
	render_ok(f, "discord", &parts);
	for (i = 0; i < parts.n; i++)
		check_payload("discord", parts.v[i]);
	strvec_release(&parts);

	assert_non_null(mkdtemp(dir));
	buf_reset(&big);
	buf_adds(&big, "{\"message\": \"{{#papers}}");
	for (i = 0; i < 30; i++)
		buf_adds(&big, "{{title_short}}");
	buf_adds(&big, "{{/papers}}\"}");
	write_file(dir, "repeat.mustache", buf_str(&big));
	write_file(dir, "whole.mustache",
	    "{\"message\": \"{{#papers}}{{title}} {{/papers}}\"}");
	r = digest_renderer_new(dir, tpl_dir);
	strvec_init(&parts);
	assert_int_equal(digest_render_template(r, &f->d, "ntfy", "repeat",
	    &parts, err, sizeof(err)), 0);
	/* 30 x 150 characters do not fit: about one paper a message */
	assert_true(parts.n >= 15 && parts.n <= 30);
	for (i = 0; i < parts.n; i++) {
		check_payload("ntfy", parts.v[i]);
		/* the enormous title, cut to 100 characters (level 2) */
		if (strstr(parts.v[i], "enormous") != NULL) {
			assert_non_null(strstr(parts.v[i], "enormous enormous "
			    "enormous\xe2\x80\xa6" "enormous enormous"));
			assert_true(strlen(parts.v[i]) <= 30 * (99 + 3) + 16);
		}
	}
	strvec_release(&parts);
	/*
	 * A template that shows the whole title: that paper fits no message
	 * even shortened.  It is left out (with a warning); the others go,
	 * where failing the digest would hold every channel back each cycle.
	 */
	assert_int_equal(digest_render_template(r, &f->d, "ntfy", "whole",
	    &parts, err, sizeof(err)), 0);
	assert_true(parts.n >= 1);
	{
		struct buf all;

		buf_init(&all);
		for (i = 0; i < parts.n; i++) {
			check_payload("ntfy", parts.v[i]);
			buf_adds(&all, parts.v[i]);
		}
		assert_null(strstr(buf_str(&all), "enormous"));
		for (i = 0; i < f->d.n_items; i++) {
			const char *t = f->d.items[i].paper->title;
			char head[24];

			if (i == 3 || t == NULL)
				continue;
			snprintf(head, sizeof(head), "%.16s", t);
			if (strchr(head, '\\') == NULL &&
			    strchr(head, '"') == NULL)
				assert_non_null(strstr(buf_str(&all), head));
		}
		buf_release(&all);
	}
	strvec_release(&parts);
	digest_renderer_free(r);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	buf_release(&big);
}

/*
 * 120 papers whose titles need shortening to fit a Discord embed: each is
 * shortened before the papers are packed, so they share messages (only
 * the first of a part was, and every later one ended the part: 120
 * papers made 120 messages).
 */
static void
test_split_long_titles(void **state)
{
	struct fixture *f = *state;
	struct strvec parts;
	struct buf t;
	size_t i;

	buf_init(&t);
	for (i = 0; i < 200; i++)
		buf_adds(&t, "\xf0\x9f\x8e\x89");	/* U+1F389: 2 UTF-16 units */
	for (i = 0; i < 120; i++)
		paper_set(&f->papers.v[i]->title, buf_str(&t));
	render_ok(f, "discord", &parts);
	for (i = 0; i < parts.n; i++)
		check_payload("discord", parts.v[i]);
	print_message("discord: 200 papers, 120 long titles, in %zu parts\n",
	    parts.n);
	assert_true(parts.n <= 40);
	strvec_release(&parts);
	buf_release(&t);
}

/*
 * A paper whose link alone is over a platform's limit (a feed's link may
 * be 2 KB, 6 KB once percent-encoded): at the last level the long link is
 * left out, and the paper and the others still go in every format.
 */
static void
test_split_long_link(void **state)
{
	static const char *const fmts[] = { "ntfy", "discord", "slack",
	    "teams", "mattermost", "matrix", NULL };
	struct fixture *f = *state;
	struct strvec parts;
	struct buf link, all;
	size_t i, k;

	buf_init(&link);
	buf_adds(&link, "https://example.org/wiki/");
	for (i = 0; i < 1000; i++)
		buf_adds(&link, "\xd1\x8f");	/* U+044F, 6 bytes encoded */
	paper_set(&f->papers.v[2]->url_abs, buf_str(&link));
	for (k = 0; fmts[k] != NULL; k++) {
		render_ok(f, fmts[k], &parts);
		buf_init(&all);
		for (i = 0; i < parts.n; i++) {
			check_payload(fmts[k], parts.v[i]);
			buf_adds(&all, parts.v[i]);
		}
		/* the paper is there, its long link may not be */
		assert_non_null(strstr(buf_str(&all), f->papers.v[2]->id));
		buf_release(&all);
		strvec_release(&parts);
	}
	buf_release(&link);
}

/* ------------------------------------------------------------------ */
/* The model */

static json_t *
model_of(const struct digest *d, const char *format)
{
	struct buf b;
	char err[256];
	json_t *j;

	buf_init(&b);
	assert_int_equal(digest_model_json(d, format, &b, err, sizeof(err)), 0);
	j = json_loads(buf_str(&b), 0, NULL);
	assert_non_null(j);
	buf_release(&b);
	return j;
}

static void
test_model_authors_short(void **state)
{
	static const char *const names[] = { "A. One", "B. Two", "C. Three",
	    "D. Four", "E. Five", "F. Six" };
	struct fixture *f = *state;
	struct digest_item it;
	struct digest d;
	struct paper *p = paper_new();
	json_t *j, *m;
	size_t i;

	j = model_of(&f->d, "text");
	m = json_array_get(json_object_get(j, "papers"), 0);
	assert_string_equal(json_string_value(json_object_get(m,
	    "authors_short")), "Etienne Casanova, Rafal Kocielnik, "
	    "R. Michael Alvarez");
	json_decref(j);

	paper_set_arxiv_id(p, "1707.08567", 1);
	paper_set(&p->title, "t");
	memset(&it, 0, sizeof(it));
	it.paper = p;
	memset(&d, 0, sizeof(d));
	d.items = &it;
	d.n_items = 1;
	d.date = "2026-01-01";
	d.subscription = "s";
	for (i = 0; i < 6; i++) {
		paper_add_author(p, names[i], NULL);
		j = model_of(&d, "text");
		m = json_array_get(json_object_get(j, "papers"), 0);
		if (i == 4)
			assert_string_equal(json_string_value(json_object_get(m,
			    "authors_short")), "A. One, B. Two, C. Three, "
			    "D. Four, E. Five");
		if (i == 5) {
			assert_string_equal(json_string_value(json_object_get(m,
			    "authors_short")), "A. One, B. Two, C. Three et al.");
			assert_string_equal(json_string_value(json_object_get(m,
			    "authors_line")), "A. One, B. Two, C. Three, "
			    "D. Four, E. Five, F. Six");
		}
		json_decref(j);
	}
	paper_free(p);
}

static void
test_model_summary_short(void **state)
{
	struct fixture *f = *state;
	json_t *j, *m;
	const char *full, *s;
	size_t i, n;

	j = model_of(&f->d, "slack");
	for (i = 0; i < 30; i++) {
		m = json_array_get(json_object_get(j, "papers"), i);
		full = json_string_value(json_object_get(m, "summary"));
		s = json_string_value(json_object_get(m, "summary_short"));
		n = strlen(s);
		assert_true(chars(s) <= 300);
		if (chars(full) <= 300) {
			assert_string_equal(s, full);
			continue;
		}
		/* "…" after a whole word of the abstract */
		assert_true(str_ends(s, "\xe2\x80\xa6"));
		assert_memory_equal(s, full, n - 3);
		assert_true(full[n - 3] == ' ' || full[n - 3] == ',' ||
		    full[n - 4] == ',' || full[n - 3] == ';');
	}
	json_decref(j);
}

static void
test_model_fields(void **state)
{
	struct fixture *f = *state;
	json_t *j, *m;

	j = model_of(&f->d, "markdown");
	assert_string_equal(json_string_value(json_object_get(j, "date")),
	    "2026-06-12");
	assert_int_equal(json_integer_value(json_object_get(j, "count")), 30);
	assert_string_equal(json_string_value(json_object_get(j,
	    "sources_line")), "hf");
	assert_true(json_is_false(json_object_get(j, "part")));
	m = json_array_get(json_object_get(j, "papers"), 0);
	assert_int_equal(json_integer_value(json_object_get(m, "rank")), 1);
	assert_string_equal(json_string_value(json_object_get(m, "url_pdf")),
	    "https://arxiv.org/pdf/2606.00467");
	assert_string_equal(json_string_value(json_object_get(m, "title_hl")),
	    "On the Limits of **LLM** Adaptability: Impact of "
	    "Model-Internalized Priors on Annotation Task Performance");
	assert_string_equal(json_string_value(json_object_get(m,
	    "hits_line")), "language models, LLM");
	assert_true(str_starts(json_string_value(json_object_get(m,
	    "ai_summary")), "Large language models exhibit limited"));
	json_decref(j);
}

static void
test_highlight_escaped(void **state)
{
	static const char *const hits[] = { "script", "bold*" };
	struct digest_item it;
	struct digest d;
	struct paper *p = paper_new();
	json_t *j;

	(void)state;
	paper_set_arxiv_id(p, "2606.00001", 1);
	paper_set(&p->title, "<script>x</script> & Boldness * scripts");
	memset(&it, 0, sizeof(it));
	it.paper = p;
	it.hits = hits;
	it.n_hits = 2;
	memset(&d, 0, sizeof(d));
	d.items = &it;
	d.n_items = 1;
	j = model_of(&d, "html");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "papers"), 0), "title_hl")), "&lt;<strong>"
	    "script</strong>&gt;x&lt;/<strong>script</strong>&gt; &amp; "
	    "<strong>Boldness</strong> * scripts");
	json_decref(j);
	j = model_of(&d, "slack");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "papers"), 0), "title_hl")), "&lt;*script*&gt;"
	    "x&lt;/*script*&gt; &amp; *Boldness* * scripts");
	json_decref(j);
	paper_free(p);
}

/* A javascript: link never reaches a template. */
static void
test_links_sanitised(void **state)
{
	struct digest_item it;
	struct digest d;
	struct paper *p = paper_new();
	json_t *j, *m;

	(void)state;
	paper_set(&p->id, "https://blog.example/post?a=1&b=(2) x\"y");
	paper_set(&p->url, "https://blog.example/post?a=1&b=(2) x\"y|z>");
	paper_set(&p->url_pdf, "javascript:alert(1)");
	paper_set(&p->title, "A blog post");
	memset(&it, 0, sizeof(it));
	it.paper = p;
	memset(&d, 0, sizeof(d));
	d.items = &it;
	d.n_items = 1;
	j = model_of(&d, "html");
	m = json_array_get(json_object_get(j, "papers"), 0);
	assert_string_equal(json_string_value(json_object_get(m, "url_main")),
	    "https://blog.example/post?a=1&b=%282%29%20x%22y%7Cz%3E");
	assert_true(json_is_null(json_object_get(m, "url_pdf")));
	assert_true(json_is_null(json_object_get(m, "url_abs")));
	assert_int_equal(json_array_size(json_object_get(m, "links_list")), 1);
	json_decref(j);
	paper_free(p);
}

/* ------------------------------------------------------------------ */
/* Templates: overrides and errors */

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[1200];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
test_template_override(void **state)
{
	struct fixture *f = *state;
	char dir[] = "/tmp/pw-test-digest-XXXXXX", err[512], path[1200];
	struct digest_renderer *r;
	struct strvec parts;
	size_t n;

	assert_non_null(mkdtemp(dir));
	write_file(dir, "slack.mustache", "{\"text\": \"{{count}} for "
	    "{{subscription}}{{>sig}}\"}\n");
	write_file(dir, "sig.mustache", " <{{date}}>");
	write_file(dir, "broken.mustache", "{\n  \"text\": \"{{#papers}}"
	    "{{title}}\"\n}\n");
	write_file(dir, "notjson.mustache", "{\"text\": {{count}}");
	r = digest_renderer_new(dir, tpl_dir);
	strvec_init(&parts);
	/* the override and its partial, with the format's escaping */
	assert_int_equal(digest_render(r, &f->d, "slack", &parts, err,
	    sizeof(err)), 0);
	assert_string_equal(parts.v[0],
	    "{\"text\": \"30 for llm-watch <2026-06-12>\"}\n");
	/* the default for a format not overridden */
	assert_int_equal(digest_render(r, &f->d, "discord", &parts, err,
	    sizeof(err)), 0);
	n = parts.n;
	/* errors name the file, the line and the tag */
	assert_int_equal(digest_render_template(r, &f->d, "slack", "broken",
	    &parts, err, sizeof(err)), -1);
	snprintf(path, sizeof(path), "%s/broken.mustache:2: unclosed section "
	    "at tag '{{#papers}}'", dir);
	assert_string_equal(err, path);
	assert_int_equal(digest_render_template(r, &f->d, "slack", "notjson",
	    &parts, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "notjson.mustache' produced invalid JSON"));
	assert_int_equal(digest_render_template(r, &f->d, "slack", "nosuch",
	    &parts, err, sizeof(err)), -1);
	assert_true(str_starts(err, "no template 'nosuch.mustache' in '"));
	assert_int_equal(digest_render(r, &f->d, "irc", &parts, err,
	    sizeof(err)), -1);
	assert_true(str_starts(err, "unknown digest format 'irc'"));
	assert_int_equal(parts.n, n);	/* failures added nothing */
	strvec_release(&parts);
	digest_renderer_free(r);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

/*
 * Payloads that only need to be valid JSON are checked without jansson:
 * the check agrees with jansson on each of these templates (literal text).
 */
static void
test_json_validity_check(void **state)
{
	static const char *const cases[] = {
		"{}", "[]", " {\"a\": [1, -0.5e+3, 0, 2E-2, true, false, null,"
		    " \"\\u00e9\\n\\/\\\"\"], \"b\": {\"c\": {}}}\n",
		"{\"a\": 1,}", "{\"a\": [1,]}", "{\"a\" 1}", "{\"a\": 01}",
		"{\"a\": 1.}", "{\"a\": -}", "{\"a\": .5}", "{\"a\": tru}",
		"{\"a\": \"x\ty\"}", "{\"a\": \"\\x\"}",
		"{\"a\": \"\\u12G4\"}", "{\"a\": \"open}",
		"{\"a\": \"\xc3\x28\"}", "{\"a\": \"\xed\xa0\x80\"}",
		"{\"a\": \"\xe2\x82\xac\"}", "{\"a\": 1} x", "{\"a\": 1}}",
		"\"str\"", "", "{1: 2}", "[1 2]", "{\"a\": [}",
		NULL,
	};
	char dir[] = "/tmp/pw-test-digest-XXXXXX", err[512], cmd[1100];
	struct fixture *f = *state;
	struct digest_renderer *r;
	struct strvec parts;
	struct buf deep;
	size_t i;
	int rc, want;

	assert_non_null(mkdtemp(dir));
	for (i = 0; cases[i] != NULL; i++) {
		json_t *j = json_loads(cases[i], 0, NULL);

		want = j != NULL ? 0 : -1;
		json_decref(j);
		write_file(dir, "case.mustache", cases[i]);
		r = digest_renderer_new(dir, tpl_dir);
		strvec_init(&parts);
		rc = digest_render_template(r, &f->d, "json", "case", &parts,
		    err, sizeof(err));
		if (rc != want)
			fail_msg("case %zu '%s': check %d, jansson %d (%s)", i,
			    cases[i], rc, want, err);
		if (rc < 0)
			assert_non_null(strstr(err, "produced invalid JSON "
			    "(output line 1, byte "));
		strvec_release(&parts);
		digest_renderer_free(r);
	}
	/* nesting deeper than 256 is refused, not a stack overflow */
	buf_init(&deep);
	for (i = 0; i < 100000; i++)
		buf_addc(&deep, '[');
	write_file(dir, "case.mustache", buf_str(&deep));
	r = digest_renderer_new(dir, tpl_dir);
	strvec_init(&parts);
	assert_int_equal(digest_render_template(r, &f->d, "teams", "case",
	    &parts, err, sizeof(err)), -1);
	strvec_release(&parts);
	digest_renderer_free(r);
	buf_release(&deep);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* An empty digest renders in every format, JSON valid. */
static void
test_empty_digest(void **state)
{
	struct digest d;
	struct digest_renderer *r;
	struct strvec parts;
	char err[512];
	size_t i;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.subscription = "quiet";
	d.date = "2026-06-13";
	r = digest_renderer_new(NULL, tpl_dir);
	for (i = 0; digest_formats[i] != NULL; i++) {
		strvec_init(&parts);
		if (digest_render(r, &d, digest_formats[i], &parts, err,
		    sizeof(err)) != 0)
			fail_msg("%s: %s", digest_formats[i], err);
		assert_int_equal(parts.n, 1);
		if (strcmp(digest_formats[i], "text") != 0 &&
		    strcmp(digest_formats[i], "html") != 0 &&
		    strcmp(digest_formats[i], "markdown") != 0)
			check_payload(digest_formats[i], parts.v[0]);
		strvec_release(&parts);
	}
	digest_renderer_free(r);
}

static void
test_sort_and_subject(void **state)
{
	struct paper *p[3];
	struct digest_item it[3];
	struct digest d;
	char err[256], *s;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		p[i] = paper_new();
		paper_set(&p[i]->id, i == 0 ? "b" : i == 1 ? "c" : "a");
		it[i].paper = p[i];
		it[i].hits = NULL;
		it[i].n_hits = 0;
	}
	it[0].score = 1.0;
	it[1].score = 5.0;
	it[2].score = 1.0;
	memset(&d, 0, sizeof(d));
	d.items = it;
	d.n_items = 3;
	d.subscription = "video-gen";
	d.date = "2025-02-10";
	digest_sort(&d);
	assert_string_equal(d.items[0].paper->id, "c");
	assert_string_equal(d.items[1].paper->id, "a");
	assert_string_equal(d.items[2].paper->id, "b");
	s = digest_subject(&d, NULL, err, sizeof(err));
	assert_string_equal(s, "Papers for 2025-02-10: video-gen (3 papers)");
	free(s);
	s = digest_subject(&d, "{{count}} new\n for  {{subscription}}", err,
	    sizeof(err));
	assert_string_equal(s, "3 new for video-gen");
	free(s);
	assert_null(digest_subject(&d, "{{#x}}", err, sizeof(err)));
	assert_string_equal(err, "subject:1: unclosed section at tag '{{#x}}'");
	for (i = 0; i < 3; i++)
		paper_free(p[i]);
}

/* Parts of d in format, joined with a separator line. */
static char *
render_all(struct digest_renderer *r, const struct digest *d,
    const char *format, struct digest_pcache *const *caches)
{
	struct strvec parts;
	struct buf b;
	char err[512];
	size_t i;

	strvec_init(&parts);
	assert_int_equal(digest_render_cached(r, d, format, NULL, caches,
	    &parts, err, sizeof(err)), 0);
	buf_init(&b);
	for (i = 0; i < parts.n; i++) {
		buf_adds(&b, parts.v[i]);
		buf_adds(&b, "\n----\n");
	}
	strvec_release(&parts);
	return buf_detach(&b);
}

/*
 * The per-paper caches change nothing: every format, cold and warm, and
 * a second digest of the same papers in another order with other hits
 * and scores (what comes from the digest is never taken from the cache).
 */
static void
test_render_cached(void **state)
{
	static const char *const other_hits[] = { "title:agent", "model*" };
	struct fixture *f = *state;
	size_t n = f->d.n_items, i, k;
	struct digest_pcache **c = xcalloc(n, sizeof(*c));
	struct digest_pcache **rc = xcalloc(n, sizeof(*rc));
	struct digest_item *rev = xcalloc(n, sizeof(*rev));
	struct digest d2 = f->d;

	for (i = 0; i < n; i++) {
		c[i] = digest_pcache_new();
		rev[i] = f->items[n - 1 - i];
		rev[i].score = (double)i / 3.0;
		rev[i].hits = i % 2 ? other_hits : NULL;
		rev[i].n_hits = i % 2 ? 2 : 0;
		rc[i] = c[n - 1 - i];
	}
	d2.items = rev;
	d2.subscription = "other";
	for (k = 0; digest_formats[k] != NULL; k++) {
		const char *fmt = digest_formats[k];
		char *plain = render_all(f->r, &f->d, fmt, NULL);
		char *cold = render_all(f->r, &f->d, fmt, c);
		char *warm = render_all(f->r, &f->d, fmt, c);
		char *plain2 = render_all(f->r, &d2, fmt, NULL);
		char *warm2 = render_all(f->r, &d2, fmt, rc);

		assert_true(strlen(plain) > 500);
		assert_string_equal(cold, plain);
		assert_string_equal(warm, plain);
		assert_string_equal(warm2, plain2);
		assert_string_not_equal(plain2, plain);
		free(plain);
		free(cold);
		free(warm);
		free(plain2);
		free(warm2);
	}
	for (i = 0; i < n; i++)
		digest_pcache_free(c[i]);
	digest_pcache_free(NULL);
	free(c);
	free(rc);
	free(rev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_markdown_table,
		    setup_hf_hostile, teardown),
		cmocka_unit_test(test_markdown_seed),
		cmocka_unit_test_setup_teardown(test_html_wellformed,
		    setup_hf_hostile, teardown),
		cmocka_unit_test_setup_teardown(test_json_payloads,
		    setup_hf_hostile, teardown),
		cmocka_unit_test_setup_teardown(test_json_every_field,
		    setup_hf_hostile, teardown),
		cmocka_unit_test_setup_teardown(test_discord_safe,
		    setup_hf_hostile, teardown),
		cmocka_unit_test_setup_teardown(test_payload_shapes,
		    setup_hf, teardown),
		cmocka_unit_test_setup_teardown(test_text_wrapped,
		    setup_hf_hostile, teardown),
		cmocka_unit_test_setup_teardown(test_split_200, setup_200,
		    teardown),
		cmocka_unit_test_setup_teardown(test_split_oversized_paper,
		    setup_hf, teardown),
		cmocka_unit_test_setup_teardown(test_split_long_link,
		    setup_hf, teardown),
		cmocka_unit_test_setup_teardown(test_split_long_titles,
		    setup_200, teardown),
		cmocka_unit_test_setup_teardown(test_model_authors_short,
		    setup_hf, teardown),
		cmocka_unit_test_setup_teardown(test_model_summary_short,
		    setup_hf, teardown),
		cmocka_unit_test_setup_teardown(test_model_fields, setup_hf,
		    teardown),
		cmocka_unit_test(test_highlight_escaped),
		cmocka_unit_test(test_links_sanitised),
		cmocka_unit_test_setup_teardown(test_template_override,
		    setup_hf, teardown),
		cmocka_unit_test_setup_teardown(test_json_validity_check,
		    setup_hf, teardown),
		cmocka_unit_test(test_empty_digest),
		cmocka_unit_test(test_sort_and_subject),
		cmocka_unit_test_setup_teardown(test_render_cached,
		    setup_hf_hostile, teardown),
	};
	const char *t = getenv("TEMPLATES");

	if (t != NULL && *t)
		snprintf(tpl_dir, sizeof(tpl_dir), "%s", t);
	else
		snprintf(tpl_dir, sizeof(tpl_dir), "%s/../../templates",
		    fixtures());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
