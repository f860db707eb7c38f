/*
 * test_match.c: normalisation, every matching rule of match.h, scores and
 * hits, keywords/exclude, errors, papers from the fixtures, and a
 * differential test: a naive reference matcher kept here (word lists,
 * recursive evaluation, no automaton) against the automaton on thousands
 * of random queries and papers, seeded and deterministic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/match.h"
#include "daemon/query.h"
#include "feeds/paper.h"
#include "feeds/source.h"
#include "feeds/util.h"

/* Helpers */

static char *
norm(const char *s)
{
	struct buf b;

	buf_init(&b);
	match_normalize(s, strlen(s), &b);
	buf_adds(&b, "");
	return b.data != NULL ? buf_detach(&b) : xstrdup("");
}

/* authors: "A|B|C"; cats: "cs.CV,cs.LG" (first is primary). */
static struct paper *
mkpaper(const char *title, const char *summary, const char *authors,
    const char *cats)
{
	struct paper *p = paper_new();
	char *dup, *tok, *save;

	paper_set(&p->title, title);
	paper_set(&p->summary, summary);
	if (authors != NULL) {
		dup = xstrdup(authors);
		for (tok = strtok_r(dup, "|", &save); tok != NULL;
		    tok = strtok_r(NULL, "|", &save))
			paper_add_author(p, tok, NULL);
		free(dup);
	}
	if (cats != NULL) {
		dup = xstrdup(cats);
		for (tok = strtok_r(dup, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			if (p->primary_category == NULL)
				paper_set(&p->primary_category, tok);
			strvec_push(&p->categories, tok);
		}
		free(dup);
	}
	return p;
}

struct got {
	int	 n;		/* callbacks */
	size_t	 subs[16];
	double	 score;		/* of the last one */
	char	 hits[512];	/* of the last one: "a|b|c" */
};

static void
got_cb(const struct match_result *r, void *arg)
{
	struct got *g = arg;
	size_t o = 0;

	if (g->n < 16)
		g->subs[g->n] = r->sub;
	g->n++;
	g->score = r->score;
	g->hits[0] = '\0';
	for (size_t i = 0; i < r->n_hits; i++)
		o += (size_t)snprintf(g->hits + o, sizeof(g->hits) - o, "%s%s",
		    i ? "|" : "", r->hits[i]);
}

/* Match p against the single query q (source "arxiv"). */
static struct got
match1(const char *q, const struct paper *p, const char *source)
{
	struct match_spec sp = { .name = "t", .query = q };
	struct got g;
	char err[256];
	struct matcher *m = match_new(&sp, 1, err, sizeof(err), NULL);

	memset(&g, 0, sizeof(g));
	if (m == NULL)
		fail_msg("'%s': %s", q, err);
	match_paper(m, p, source, got_cb, &g);
	match_free(m);
	return g;
}

static bool
hit1(const char *q, const char *title, const char *summary)
{
	struct paper *p = mkpaper(title, summary, NULL, NULL);
	struct got g = match1(q, p, "arxiv");

	paper_free(p);
	return g.n == 1;
}

/* Normalisation */

static void
test_match_normalize(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "Schrödinger", "schrodinger" },
		{ "Wübben", "wubben" },
		{ "Øvergaard Łukasz Weiß", "overgaard lukasz weiss" },
		{ "Æsir œuvre Þór", "aesir oeuvre thor" },
		{ "Çağlar Yılmaz Dvořák", "caglar yilmaz dvorak" },
		{ "Nguyễn Văn Thắng", "nguyen van thang" },
		{ "Müller-Lüdenscheidt", "muller ludenscheidt" },
		{ "state-space model", "state space model" },
		{ "  State,  Space!! -- Model. ", "state space model" },
		{ "e\xcc\x81t\xc3\xa9", "ete" },		/* combining acute */
		{ "soft\xc2\xadhyphen", "softhyphen" },
		{ "zero\xe2\x80\x8bwidth", "zerowidth" },
		{ "a\xe2\x80\x94" "b\xe2\x80\x99" "c", "a b c" },	/* — ’ */
		{ "\xef\xbc\xb4\xef\xbd\x85st", "test" },		/* fullwidth */
		{ "ΑΒΓ δ", "αβγ δ" },
		{ "张伟 and 김민준", "张伟 and 김민준" },
		{ "$O(n^2)$ \\ell_1", "o n 2 ell 1" },
		{ "a\xff" "b\xc3", "a b" },			/* invalid UTF-8 */
		{ "GPT-4o, RoPE & LLMs", "gpt 4o rope llms" },
		{ "", "" },
		{ " ,.- ", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *n = norm(cases[i].in);

		if (strcmp(n, cases[i].out) != 0)
			fail_msg("'%s' -> '%s', want '%s'", cases[i].in, n,
			    cases[i].out);
		free(n);
	}
}

/* Text rules */

static void
test_match_text_rules(void **state)
{
	static const struct {
		const char *q, *title, *summary;
		bool want;
	} cases[] = {
		/* word boundaries */
		{ "RoPE", "Europe and beyond", "", false },
		{ "RoPE", "Scaling RoPE to long contexts", "", true },
		{ "RAG", "on average", "", false },
		{ "GPT", "ChatGPT", "", false },
		/* case and accents */
		{ "schrodinger", "Schrödinger bridges", "", true },
		{ "Schrödinger", "SCHRODINGER bridges", "", true },
		{ "weiss", "Weiß", "", true },
		/* plural rule */
		{ "LLM", "LLMs are few-shot learners", "", true },
		{ "llm", "An LLM", "", true },
		{ "LLMs", "An LLM", "", false },
		{ "policy", "Policies", "", true },
		{ "day", "days", "", true },
		{ "box", "boxes", "", true },
		{ "diffusion model", "Diffusion Models", "", true },
		{ "\"state space model\"", "State-Space Models", "", true },
		{ "model", "modeling", "", false },
		/* phrases: hyphen = space, words in a row */
		{ "\"state-space model\"", "a state space model", "", true },
		{ "\"state space model\"", "a State-Space Model", "", true },
		{ "\"video generation\"", "generation of video", "", false },
		{ "video generation", "generation of video", "", true },
		{ "\"neural net\"", "neural network", "", false },
		{ "\"neural net*\"", "neural network", "", true },
		/* prefixes */
		{ "diffus*", "Diffusion", "", true },
		{ "diffus*", "diffusive", "", true },
		{ "diffus*", "confusion", "", false },
		{ "diffus*", "", "a diffusion", true },
		/* fields */
		{ "title:diffusion", "", "diffusion", false },
		{ "title:diffusion", "Diffusion", "", true },
		{ "abstract:diffusion", "Diffusion", "", false },
		{ "abs:diffusion", "", "diffusion", true },
		/* operators */
		{ "a OR b c", "a", "", true },
		{ "a OR b c", "b", "", false },
		{ "a OR b c", "c b", "", true },
		{ "NOT survey", "A new method", "", true },
		{ "NOT survey", "A survey", "", false },
		{ "diffusion -survey", "diffusion: a survey", "", false },
		{ "diffusion ANDNOT survey", "diffusion", "", true },
		{ "-(a OR b) c", "c", "b", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (hit1(cases[i].q, cases[i].title, cases[i].summary) !=
		    cases[i].want)
			fail_msg("'%s' on '%s' / '%s': want %s", cases[i].q,
			    cases[i].title, cases[i].summary,
			    cases[i].want ? "match" : "no match");
}

/* ai_summary and ai_keywords count as text, not as abstract. */
static void
test_match_hf_fields(void **state)
{
	struct paper *p = mkpaper("A title", "An abstract", NULL, NULL);

	(void)state;
	paper_set(&p->ai_summary, "Uses flow matching");
	strvec_push(&p->ai_keywords, "video");
	strvec_push(&p->ai_keywords, "generation");
	assert_int_equal(match1("\"flow matching\"", p, NULL).n, 1);
	assert_int_equal(match1("abstract:\"flow matching\"", p, NULL).n, 0);
	assert_int_equal(match1("video generation", p, NULL).n, 1);
	/* keywords are scanned one by one: no phrase across two */
	assert_int_equal(match1("\"video generation\"", p, NULL).n, 0);
	paper_free(p);
}

static void
test_match_authors(void **state)
{
	static const struct {
		const char *q, *authors;
		bool want;
	} cases[] = {
		{ "author:Wübben", "Kees A. Schouhamer Immink|Dirk Wübben", true },
		{ "author:wubben", "Dirk Wübben", true },
		{ "author:\"D. Wubben\"", "Dirk Wübben", true },
		{ "author:\"Dirk Wübben\"", "Dirk Wübben", true },
		{ "author:\"X. Wubben\"", "Dirk Wübben", false },
		{ "author:Dirk", "Dirk Wübben", false },
		{ "author:\"Kees Immink\"", "Kees A. Schouhamer Immink", true },
		{ "author:\"K. A. Immink\"", "Kees A. Schouhamer Immink", true },
		{ "author:\"A. K. Immink\"", "Kees A. Schouhamer Immink", false },
		{ "author:\"John Smith\"", "J. Smith", true },
		{ "author:\"John Smith\"", "Anna Smith", false },
		{ "au:\"Martin King\"", "Martin Luther King Jr.", true },
		{ "author:Smi*", "John Smith", true },
		{ "author:\"J. Smi*\"", "Anna Smith", false },
		{ "au:\"del maestro\"", "Adrian Del Maestro", true },
		{ "au:del_maestro", "Adrian Del Maestro", true },	/* arXiv */
		{ "author:\"Łukasz Kaiser\"", "Lukasz Kaiser", true },
		{ "author:张伟", "张伟", true },
		{ "author:Smith", "", false },
		/* author terms never match text, text terms never authors */
		{ "author:diffusion", "Dirk Wübben", false },
		{ "Wübben", "Dirk Wübben", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct paper *p = mkpaper("diffusion", "", cases[i].authors,
		    NULL);

		if ((match1(cases[i].q, p, NULL).n == 1) != cases[i].want)
			fail_msg("'%s' on '%s': want %s", cases[i].q,
			    cases[i].authors, cases[i].want ? "match" :
			    "no match");
		paper_free(p);
	}
}

static void
test_match_cat_source(void **state)
{
	struct paper *p = mkpaper("t", "", NULL, "cs.CV,stat.ML");

	(void)state;
	assert_int_equal(match1("cat:cs.CV", p, NULL).n, 1);
	assert_int_equal(match1("cat:CS.cv", p, NULL).n, 1);
	assert_int_equal(match1("cat:stat.ML", p, NULL).n, 1);
	assert_int_equal(match1("cat:cs.*", p, NULL).n, 1);
	assert_int_equal(match1("cat:stat*", p, NULL).n, 1);
	assert_int_equal(match1("cat:cs.C", p, NULL).n, 0);
	assert_int_equal(match1("cat:cs.LG", p, NULL).n, 0);
	assert_int_equal(match1("cat:math.*", p, NULL).n, 0);
	assert_int_equal(match1("source:hf", p, "hf").n, 1);
	assert_int_equal(match1("source:HF", p, "hf").n, 1);
	assert_int_equal(match1("source:hf", p, "arxiv-cv").n, 0);
	assert_int_equal(match1("source:arxiv*", p, "arxiv-cv").n, 1);
	/* no source given: the paper's own list */
	assert_int_equal(match1("source:hf", p, NULL).n, 0);
	strvec_push(&p->sources, "arxiv-cv");
	strvec_push(&p->sources, "hf");
	assert_int_equal(match1("source:hf", p, NULL).n, 1);
	assert_int_equal(match1("source:hf", p, "arxiv-cv").n, 0);
	paper_free(p);
}

/* Scores and hits */

static void
test_match_score_example(void **state)
{
	/* the example of match.h: 2*(3+1) + 1*1 + log2(16) = 13 */
	struct paper *p = mkpaper("Video Generation at Scale",
	    "Video generation with diffusion.", NULL, NULL);
	struct got g;

	(void)state;
	p->upvotes = 15;
	g = match1("\"video generation\" OR diffusion", p, NULL);
	assert_int_equal(g.n, 1);
	assert_true(fabs(g.score - 13.0) < 1e-9);
	assert_string_equal(g.hits, "video generation|diffusion");
	paper_free(p);
}

static void
test_match_score_weights(void **state)
{
	static const struct {
		const char *q, *title, *summary, *hits;
		double score;
	} cases[] = {
		{ "diffusion", "Diffusion", "", "diffusion", 3 },
		{ "diffusion", "", "diffusion", "diffusion", 1 },
		{ "diffusion", "diffusion", "diffusion", "diffusion", 4 },
		{ "\"neural network\"", "", "neural networks", "neural network",
		  2 },
		{ "diffus*", "diffusion", "", "diffus*", 3 },
		/* a term counts once, however many leaves name it */
		{ "diffusion OR title:diffusion", "diffusion", "",
		  "diffusion", 3 },
		{ "LLM OR llm", "LLM", "", "LLM|llm", 3 },
		/* negated terms never hit */
		{ "a NOT b", "a", "", "a", 3 },
		{ "NOT b", "a", "", "", 0 },
		/* author 3, cat 0.5, source 0 */
		{ "author:Smith OR cat:cs.* OR source:arxiv", "", "",
		  "Smith|cs.*|arxiv", 3.5 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct paper *p = mkpaper(cases[i].title, cases[i].summary,
		    "John Smith", "cs.LG");
		struct got g = match1(cases[i].q, p, "arxiv");

		if (g.n != 1 || fabs(g.score - cases[i].score) > 1e-9 ||
		    strcmp(g.hits, cases[i].hits) != 0)
			fail_msg("'%s': n=%d score %g hits '%s', want %g '%s'",
			    cases[i].q, g.n, g.score, g.hits, cases[i].score,
			    cases[i].hits);
		paper_free(p);
	}
}

/* Specs: keywords, exclude, order, errors */

static void
test_match_keywords_exclude(void **state)
{
	const char *kw[] = { "graph neural network", "LoRA", "diffus*" };
	const char *ex[] = { "survey", "retracted" };
	struct match_spec sp[] = {
		{ .name = "kw", .keywords = kw, .n_keywords = 3,
		  .exclude = ex, .n_exclude = 2 },
		{ .name = "q+kw", .query = "title:transformer", .keywords = kw,
		  .n_keywords = 1 },
		{ .name = "all" },
		{ .name = "ex-only", .exclude = ex, .n_exclude = 1 },
	};
	static const struct {
		const char *title;
		int n;
		size_t subs[4];
	} cases[] = {
		{ "Graph Neural Networks for LoRA", 4, { 0, 1, 2, 3 } },
		{ "A Survey of Graph Neural Networks", 2, { 1, 2 } },
		{ "Transformers", 3, { 1, 2, 3 } },
		{ "Diffusion Transformer", 4, { 0, 1, 2, 3 } },
		{ "A survey", 1, { 2 } },
		{ "retracted LoRA", 2, { 2, 3 } },
	};
	char err[256];
	struct matcher *m;

	(void)state;
	m = match_new(sp, 4, err, sizeof(err), NULL);
	assert_non_null(m);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct paper *p = mkpaper(cases[i].title, "", NULL, NULL);
		struct got g;

		memset(&g, 0, sizeof(g));
		match_paper(m, p, "arxiv", got_cb, &g);
		if (g.n != cases[i].n)
			fail_msg("'%s': %d matches, want %d", cases[i].title,
			    g.n, cases[i].n);
		for (int j = 0; j < g.n; j++)
			assert_int_equal(g.subs[j], cases[i].subs[j]);
		paper_free(p);
	}
	match_free(m);
}

static void
test_match_hits_of_keywords(void **state)
{
	const char *kw[] = { "LoRA", "graph neural network" };
	struct match_spec sp = { .name = "k", .query = "adapter",
	    .keywords = kw, .n_keywords = 2 };
	struct paper *p = mkpaper("LoRA adapters for graph neural networks",
	    "", NULL, NULL);
	char err[256];
	struct matcher *m = match_new(&sp, 1, err, sizeof(err), NULL);
	struct got g;

	(void)state;
	assert_non_null(m);
	memset(&g, 0, sizeof(g));
	match_paper(m, p, NULL, got_cb, &g);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.hits, "adapter|LoRA|graph neural network");
	assert_true(fabs(g.score - (3 + 3 + 6)) < 1e-9);
	paper_free(p);
	match_free(m);
}

static void
test_match_errors(void **state)
{
	const char *bad_kw[] = { "ok", "$$" };
	const char *bad_ex[] = { "" };
	struct match_spec sp[] = {
		{ .name = "fine", .query = "a" },
		{ .name = "video", .query = "\"video gen\" AND (a OR b" },
	};
	struct match_spec sk = { .name = "k", .keywords = bad_kw,
	    .n_keywords = 2 };
	struct match_spec se = { .name = "e", .query = "x", .exclude = bad_ex,
	    .n_exclude = 1 };
	char err[256];
	size_t bad = 99;

	(void)state;
	assert_null(match_new(sp, 2, err, sizeof(err), &bad));
	assert_string_equal(err,
	    "subscription 'video': query: unbalanced '(' at column 17");
	assert_int_equal(bad, 1);
	assert_null(match_new(&sk, 1, err, sizeof(err), &bad));
	assert_string_equal(err, "subscription 'k': keywords[1]: term '$$' "
	    "has no letters or digits");
	assert_int_equal(bad, 0);
	assert_null(match_new(&se, 1, err, sizeof(err), NULL));
	assert_string_equal(err, "subscription 'e': exclude[0]: empty term");
	match_free(NULL);
}

static void
test_match_empty_and_stats(void **state)
{
	struct match_spec sp[] = {
		{ .name = "a", .query = "diffusion model OR LLM" },
		{ .name = "b", .query = "NOT survey author:Smith cat:cs.*" },
		{ .name = "c", .query = "llm" },
	};
	struct match_stats st;
	struct paper *p = mkpaper(NULL, NULL, NULL, NULL);
	struct got g;
	char err[256];
	struct matcher *m;

	(void)state;
	/* no subscriptions, a paper without any field */
	m = match_new(NULL, 0, err, sizeof(err), NULL);
	assert_non_null(m);
	memset(&g, 0, sizeof(g));
	match_paper(m, p, NULL, got_cb, &g);
	assert_int_equal(g.n, 0);
	match_free(m);

	m = match_new(sp, 3, err, sizeof(err), NULL);
	assert_non_null(m);
	match_stats(m, &st);
	assert_int_equal(st.n_subs, 3);
	/* diffusion, model, llm (shared by a and c), survey, Smith, cs. */
	assert_int_equal(st.n_terms, 6);
	/* each of the 4 text terms and its "s" and "es" plurals */
	assert_int_equal(st.n_patterns, 12);
	assert_int_equal(st.n_always, 0);
	assert_true(st.bytes > 0);
	memset(&g, 0, sizeof(g));
	match_paper(m, p, NULL, got_cb, &g);
	assert_int_equal(g.n, 0);
	match_free(m);
	paper_free(p);
}

/* Hostile sizes: a 1 MiB abstract, absurd author names. */
static void
test_match_hostile(void **state)
{
	struct paper *p = mkpaper("t", NULL, NULL, NULL);
	struct buf b;
	struct got g;

	(void)state;
	buf_init(&b);
	for (int i = 0; i < 1 << 19; i++)
		buf_adds(&b, "a-");
	buf_adds(&b, "Diffusion");
	paper_set(&p->summary, buf_str(&b));
	g = match1("diffusion", p, NULL);
	assert_int_equal(g.n, 1);
	assert_true(fabs(g.score - 1.0) < 1e-9);
	assert_int_equal(match1("\"a a a b\"", p, NULL).n, 0);
	/* 499 initials and a last name: 1000 bytes, still a name */
	buf_reset(&b);
	for (int i = 0; i < 497; i++)
		buf_adds(&b, "a ");
	buf_adds(&b, "Smith");
	assert_int_equal(b.len, 999);
	paper_add_author(p, buf_str(&b), NULL);
	assert_int_equal(match1("author:\"A. Smith\"", p, NULL).n, 1);
	assert_int_equal(match1("author:Smi*", p, NULL).n, 1);
	assert_int_equal(match1("author:\"B. Smith\"", p, NULL).n, 0);
	paper_free(p);
	/* over MATCH_MAX_AUTHOR bytes: not a name, not matched */
	p = mkpaper("t", NULL, NULL, NULL);
	buf_reset(&b);
	for (int i = 0; i < 600; i++)
		buf_adds(&b, "a ");
	buf_adds(&b, "Smith");
	paper_add_author(p, buf_str(&b), NULL);
	assert_int_equal(match1("author:Smith", p, NULL).n, 0);
	paper_free(p);
	buf_release(&b);
}

/* Papers from the fixtures (values from tests/fixtures/README.md) */

struct collect {
	struct paper_list papers;
};

static int
collect_cb(struct paper *p, void *arg)
{
	paper_list_push_take(&((struct collect *)arg)->papers, p);
	return 0;
}

static void
load_fixture(const char *rel, struct collect *c)
{
	const char *dir = getenv("FIXTURES");
	char path[1024], err[256];
	struct source_info info;
	struct buf b;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/fixtures",
	    rel);
	buf_init(&b);
	if (file_read_all(path, 8u << 20, &b, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	paper_list_init(&c->papers);
	source_info_init(&info);
	if (source_parse(NULL, b.data, b.len, collect_cb, c, &info, err,
	    sizeof(err)) != 0)
		fail_msg("%s: %s", rel, err);
	source_info_release(&info);
	buf_release(&b);
}

/* The ids of the papers of c that q matches, space separated. */
static char *
matching_ids(const char *q, const struct collect *c)
{
	struct match_spec sp = { .name = "f", .query = q };
	char err[256];
	struct matcher *m = match_new(&sp, 1, err, sizeof(err), NULL);
	struct buf out;
	struct got g;

	assert_non_null(m);
	buf_init(&out);
	for (size_t i = 0; i < c->papers.n; i++) {
		memset(&g, 0, sizeof(g));
		match_paper(m, c->papers.v[i], NULL, got_cb, &g);
		if (g.n == 1)
			buf_printf(&out, "%s%s", out.len ? " " : "",
			    c->papers.v[i]->id);
	}
	match_free(m);
	buf_adds(&out, "");
	return out.data != NULL ? buf_detach(&out) : xstrdup("");
}

static size_t
count_ids(const char *ids)
{
	size_t n = *ids != '\0';

	for (; *ids != '\0'; ids++)
		n += *ids == ' ';
	return n;
}

static void
test_match_fixture_arxiv(void **state)
{
	struct collect c;
	char *ids;

	(void)state;
	load_fixture("arxiv-api/api2026_two_ids_one_missing_nonascii.xml", &c);
	assert_int_equal(c.papers.n, 1);
	ids = matching_ids("author:wubben", &c);
	assert_string_equal(ids, "1707.08567");
	free(ids);
	ids = matching_ids("au:\"D. Wübben\" AND au:\"Kees Immink\"", &c);
	assert_string_equal(ids, "1707.08567");
	free(ids);
	ids = matching_ids("title:\"information theory\" AEW10", &c);
	assert_string_equal(ids, "1707.08567");
	free(ids);
	paper_list_release(&c.papers);

	/* arXiv's own answers: the search au:del_maestro gave these 10
	 * entries, au:del_maestro AND ti:"quantum criticality" these 2 */
	load_fixture("arxiv-api/legacy2016_search_au_del_maestro.xml", &c);
	assert_int_equal(c.papers.n, 10);
	ids = matching_ids("au:del_maestro", &c);
	assert_int_equal(count_ids(ids), 10);
	assert_true(str_starts(ids, "1201.4869 "));
	free(ids);
	paper_list_release(&c.papers);
	load_fixture("arxiv-api/"
	    "legacy2016_search_au_del_maestro_quantum_criticality.xml", &c);
	assert_int_equal(c.papers.n, 2);
	ids = matching_ids("au:del_maestro AND ti:\"quantum criticality\"", &c);
	assert_int_equal(count_ids(ids), 2);
	assert_true(str_starts(ids, "1111.2011 "));
	free(ids);
	paper_list_release(&c.papers);

	load_fixture("arxiv-api/api2026_search_testing_100_entries.xml", &c);
	assert_int_equal(c.papers.n, 100);
	ids = matching_ids("author:\"José Raúl Romero\" author:Ramirez", &c);
	assert_string_equal(ids, "2405.13786");
	free(ids);
	ids = matching_ids("title:\"comparative study of multiple testing\"",
	    &c);
	assert_string_equal(ids, "2202.12139");
	free(ids);
	ids = matching_ids("title:WebView", &c);
	assert_string_equal(ids, "2306.03845");
	free(ids);
	paper_list_release(&c.papers);
}

static void
test_match_fixture_hf(void **state)
{
	struct collect c;
	char *ids;

	(void)state;
	load_fixture("hf-daily/daily_papers_2026-06-12.json", &c);
	assert_int_equal(c.papers.n, 30);
	ids = matching_ids("author:\"Niccolo Biondi\"", &c);
	assert_string_equal(ids, "2606.12488");
	free(ids);
	ids = matching_ids("title:\"limits of LLM adaptability\"", &c);
	assert_string_equal(ids, "2606.00467");
	free(ids);
	paper_list_release(&c.papers);
}

/*
 * The differential test.  The reference works on arrays of words: a text
 * term is found by comparing word by word; authors by the documented rule
 * written again here; the expression by recursion over the parse tree.
 */

struct words {
	char	**w;
	size_t	  n;
};

static void
words_of(const char *s, struct words *out)
{
	char *n = norm(s != NULL ? s : ""), *tok, *save;

	out->w = NULL;
	out->n = 0;
	for (tok = strtok_r(n, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		out->w = xreallocarray(out->w, out->n + 1, sizeof(*out->w));
		out->w[out->n++] = xstrdup(tok);
	}
	free(n);
}

static void
words_free(struct words *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->w[i]);
	free(w->w);
}

/* Is text word t the query word q, or (last word) its prefix/plural? */
static bool
ref_word(const char *t, const char *q, bool last, bool prefix)
{
	size_t tl = strlen(t), ql = strlen(q);
	char c;

	if (!last)
		return strcmp(t, q) == 0;
	if (prefix)
		return strncmp(t, q, ql) == 0;
	if (strcmp(t, q) == 0)
		return true;
	c = q[ql - 1];
	if (c < 'a' || c > 'z' || strncmp(t, q, ql) != 0) {
		if (c == 'y' && ql >= 2 && !strchr("aeiou", q[ql - 2]) &&
		    tl == ql + 2 && strncmp(t, q, ql - 1) == 0 &&
		    strcmp(t + ql - 1, "ies") == 0)
			return true;
		return false;
	}
	return strcmp(t + ql, "s") == 0 || strcmp(t + ql, "es") == 0;
}

static bool
ref_find(const struct words *text, const struct words *q, bool prefix)
{
	for (size_t i = 0; i + q->n <= text->n; i++) {
		size_t j;

		for (j = 0; j < q->n; j++)
			if (!ref_word(text->w[i + j], q->w[j], j + 1 == q->n,
			    prefix))
				break;
		if (j == q->n)
			return true;
	}
	return false;
}

struct ref_paper {
	const struct paper *p;
	const char	*source;
	struct words	 title, abstract, other[4];
	size_t		 n_other;
};

static bool
is_suffix_word(const char *w)
{
	return !strcmp(w, "jr") || !strcmp(w, "sr") || !strcmp(w, "ii") ||
	    !strcmp(w, "iii") || !strcmp(w, "iv");
}

static bool
ref_same_name(const char *a, const char *b)
{
	return strcmp(a, b) == 0 ||
	    ((strlen(a) == 1 || strlen(b) == 1) && a[0] == b[0]);
}

static bool
ref_author(const char *name, const struct words *q, bool prefix)
{
	struct words a;
	size_t na, nq = q->n, j = 0;
	bool ok = false;

	words_of(name, &a);
	na = a.n;
	if (na > 1 && is_suffix_word(a.w[na - 1]))
		na--;
	if (nq > 1 && is_suffix_word(q->w[nq - 1]))
		nq--;
	if (na == 0 || nq == 0)
		goto out;
	if (prefix ? strncmp(a.w[na - 1], q->w[nq - 1],
	    strlen(q->w[nq - 1])) != 0 : strcmp(a.w[na - 1], q->w[nq - 1]))
		goto out;
	for (size_t i = 0; i + 1 < nq; i++) {
		while (j + 1 < na && !ref_same_name(q->w[i], a.w[j]))
			j++;
		if (j + 1 >= na)
			goto out;
		j++;
	}
	ok = true;
out:
	words_free(&a);
	return ok;
}

static bool
ref_name(const char *have, const char *want, bool prefix)
{
	return have != NULL && (prefix ? strncasecmp(have, want,
	    strlen(want)) == 0 : strcasecmp(have, want) == 0);
}

/* Where term q is found: bits 1 title, 2 abstract, 4 other, 8 meta. */
static unsigned
ref_term(const struct ref_paper *rp, const struct query_node *q)
{
	const struct paper *p = rp->p;
	struct words w;
	unsigned bits = 0;

	switch (q->field) {
	case QUERY_FIELD_CAT:
		bits = ref_name(p->primary_category, q->text, q->prefix);
		for (size_t i = 0; i < p->categories.n; i++)
			bits |= ref_name(p->categories.v[i], q->text, q->prefix);
		return bits ? 8 : 0;
	case QUERY_FIELD_SOURCE:
		if (rp->source != NULL)
			return ref_name(rp->source, q->text, q->prefix) ? 8 : 0;
		for (size_t i = 0; i < p->sources.n; i++)
			if (ref_name(p->sources.v[i], q->text, q->prefix))
				return 8;
		return 0;
	case QUERY_FIELD_AUTHOR:
		words_of(q->text, &w);
		for (size_t i = 0; i < p->n_authors && !bits; i++)
			bits = ref_author(p->authors[i].name, &w, q->prefix) ?
			    8 : 0;
		words_free(&w);
		return bits;
	default:
		words_of(q->text, &w);
		bits = ref_find(&rp->title, &w, q->prefix) ? 1 : 0;
		bits |= ref_find(&rp->abstract, &w, q->prefix) ? 2 : 0;
		for (size_t i = 0; i < rp->n_other; i++)
			bits |= ref_find(&rp->other[i], &w, q->prefix) ? 4 : 0;
		words_free(&w);
		return bits;
	}
}

static bool
ref_leaf(const struct ref_paper *rp, const struct query_node *q)
{
	unsigned b = ref_term(rp, q);

	switch (q->field) {
	case QUERY_FIELD_TITLE:
		return b & 1;
	case QUERY_FIELD_ABSTRACT:
		return b & 2;
	default:
		return b != 0;
	}
}

static bool
ref_eval(const struct ref_paper *rp, const struct query_node *q)
{
	switch (q->op) {
	case QUERY_TERM:
		return ref_leaf(rp, q);
	case QUERY_NOT:
		return !ref_eval(rp, q->a);
	case QUERY_AND:
		return ref_eval(rp, q->a) && ref_eval(rp, q->b);
	default:
		return ref_eval(rp, q->a) || ref_eval(rp, q->b);
	}
}

struct ref_hits {
	char	 keys[64][160];		/* distinct terms, for the score */
	size_t	 n_keys;
	char	 shown[600];		/* "a|b|c" */
	double	 score;
};

static void
ref_add_hit(struct ref_hits *h, const struct ref_paper *rp,
    const struct query_node *q)
{
	char key[160], shown[160], *n;
	unsigned b = ref_term(rp, q);
	bool text = q->field <= QUERY_FIELD_ABSTRACT;
	size_t i;

	n = q->field == QUERY_FIELD_CAT || q->field == QUERY_FIELD_SOURCE ?
	    xstrdup(q->text) : norm(q->text);
	for (char *s = n; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	snprintf(key, sizeof(key), "%d%d%s", text ? 0 : (int)q->field,
	    q->prefix, n);
	for (i = 0; i < h->n_keys && strcmp(h->keys[i], key); i++)
		;
	if (i == h->n_keys && h->n_keys < 64) {
		snprintf(h->keys[h->n_keys++], sizeof(key), "%s", key);
		if (text)
			h->score += (strchr(n, ' ') ? 2 : 1) *
			    ((b & 1 ? 3 : 0) + (b & 6 ? 1 : 0));
		else
			h->score += q->field == QUERY_FIELD_AUTHOR ? 3 :
			    q->field == QUERY_FIELD_CAT ? 0.5 : 0;
	}
	free(n);
	snprintf(shown, sizeof(shown), "|%s%s|", q->text, q->prefix ? "*" : "");
	{
		char padded[sizeof(h->shown) + 2];

		snprintf(padded, sizeof(padded), "|%s|", h->shown);
		if (strstr(padded, shown) != NULL)
			return;
	}
	snprintf(h->shown + strlen(h->shown), sizeof(h->shown) -
	    strlen(h->shown), "%s%s%s", h->shown[0] ? "|" : "", q->text,
	    q->prefix ? "*" : "");
}

/* Positive leaves that are true, in order. */
static void
ref_hits(const struct ref_paper *rp, const struct query_node *q,
    bool positive, struct ref_hits *h)
{
	switch (q->op) {
	case QUERY_TERM:
		if (positive && ref_leaf(rp, q))
			ref_add_hit(h, rp, q);
		break;
	case QUERY_NOT:
		ref_hits(rp, q->a, !positive, h);
		break;
	default:
		ref_hits(rp, q->a, positive, h);
		ref_hits(rp, q->b, positive, h);
		break;
	}
}

/* Random generation (xorshift64*, seeded) */

static uint64_t rng_state;

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ULL) >> 33) % n;
}

static const char *const vocab[] = {
	"diffusion", "model", "models", "state", "space", "graph", "neural",
	"network", "networks", "rope", "europe", "llm", "llms", "policy",
	"policies", "schrodinger", "video", "generation", "survey",
	"attention", "mamba", "lora", "study", "studies", "key", "keys",
	"box", "boxes", "day", "a", "of", "diffusive", "modeling", "4",
};
#define NV (sizeof(vocab) / sizeof(vocab[0]))

static const char *const seps[] = {
	" ", " ", " ", "-", ", ", ". ", "  ", " \xe2\x80\x94 ", " (", "$",
};
static const char *const names[] = {
	"Dirk Wübben", "D. Wubben", "Kees A. Schouhamer Immink", "John Smith",
	"J. Smith", "Anna Smith", "Martin Luther King Jr.", "Wei Zhang",
	"Zoë Müller-Lüdenscheidt", "Adrian Del Maestro", "Smith",
};
static const char *const au_queries[] = {
	"Wübben", "\"D. Wubben\"", "\"Dirk Wubben\"", "\"X. Wubben\"", "Smith",
	"\"J. Smith\"", "\"John Smith\"", "Sm*", "King", "\"Kees Immink\"",
	"\"Martin King\"", "ludenscheidt", "\"Del Maestro\"", "\"A. Smith\"",
};
static const char *const cat_list[] = {
	"cs.CV", "cs.LG", "cs.CL", "stat.ML", "math.OC",
};
static const char *const cat_queries[] = {
	"cs.*", "cs.CV", "stat.ML", "CS.lg", "math*",
};

/* A word of the vocabulary in a random case/spelling. */
static void
rand_word(struct buf *b)
{
	const char *w = vocab[rnd(NV)];

	if (strcmp(w, "schrodinger") == 0 && rnd(2))
		w = "Schrödinger";
	switch (rnd(4)) {
	case 0:
		buf_addc(b, (char)(w[0] >= 'a' && w[0] <= 'z' ?
		    w[0] - 'a' + 'A' : w[0]));
		buf_adds(b, w + 1);
		break;
	case 1:
		for (const char *s = w; *s; s++)
			buf_addc(b, (*s >= 'a' && *s <= 'z') ?
			    (char)(*s - 'a' + 'A') : *s);
		break;
	default:
		buf_adds(b, w);
	}
}

static char *
rand_text(size_t lo, size_t hi)
{
	size_t n = lo + rnd((uint32_t)(hi - lo + 1));
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_adds(&b, seps[rnd(sizeof(seps) / sizeof(*seps))]);
		rand_word(&b);
	}
	buf_adds(&b, "");
	return b.data != NULL ? buf_detach(&b) : xstrdup("");
}

static struct paper *
rand_paper(void)
{
	struct paper *p = paper_new();
	char *t;

	t = rand_text(1, 8);
	paper_set(&p->title, t);
	free(t);
	t = rand_text(0, 40);
	paper_set(&p->summary, t);
	free(t);
	if (rnd(3) == 0) {
		t = rand_text(3, 12);
		paper_set(&p->ai_summary, t);
		free(t);
		for (uint32_t i = rnd(3); i > 0; i--) {
			t = rand_text(1, 2);
			strvec_push_take(&p->ai_keywords, t);
		}
	}
	for (uint32_t i = rnd(4); i > 0; i--)
		paper_add_author(p, names[rnd(sizeof(names) / sizeof(*names))],
		    NULL);
	for (uint32_t i = rnd(3); i > 0; i--) {
		const char *c = cat_list[rnd(5)];

		if (p->primary_category == NULL)
			paper_set(&p->primary_category, c);
		strvec_push(&p->categories, c);
	}
	if (rnd(2))
		strvec_push(&p->sources, rnd(2) ? "hf" : "arxiv");
	p->upvotes = rnd(3) ? -1 : (int)rnd(50);
	return p;
}

static void
rand_term(struct buf *b)
{
	uint32_t k = rnd(100), n;
	size_t start;

	if (k < 6) {
		buf_adds(b, "author:");
		buf_adds(b, au_queries[rnd(sizeof(au_queries) /
		    sizeof(*au_queries))]);
		return;
	}
	if (k < 10) {
		buf_adds(b, "cat:");
		buf_adds(b, cat_queries[rnd(5)]);
		return;
	}
	if (k < 12) {
		buf_adds(b, rnd(2) ? "source:hf" : "source:arxiv");
		return;
	}
	if (k < 27)
		buf_adds(b, "title:");
	else if (k < 35)
		buf_adds(b, "abs:");
	if (rnd(4) == 0) {			/* a phrase */
		buf_addc(b, '"');
		for (n = 2 + rnd(2); n > 0; n--) {
			rand_word(b);
			if (n > 1)
				buf_adds(b, rnd(3) ? " " : "-");
		}
		if (rnd(5) == 0)
			buf_addc(b, '*');
		buf_addc(b, '"');
		return;
	}
	start = b->len;
	rand_word(b);
	if (rnd(6) == 0 && b->len - start > 3) {	/* a prefix */
		size_t cut = start + 3 + rnd((uint32_t)(b->len - start - 3));

		if (((unsigned char)b->data[cut] & 0xc0) != 0x80) {
			b->len = cut;
			buf_addc(b, '*');
		}
	}
}

static void
rand_expr(struct buf *b, int depth)
{
	uint32_t k = depth > 2 ? 0 : rnd(10);

	if (k < 4) {
		rand_term(b);
	} else if (k < 5) {
		buf_adds(b, rnd(2) ? "NOT " : "-");
		if (rnd(2)) {
			rand_term(b);
		} else {
			buf_addc(b, '(');
			rand_expr(b, depth + 1);
			buf_addc(b, ')');
		}
	} else {
		buf_addc(b, '(');
		rand_expr(b, depth + 1);
		buf_adds(b, k < 7 ? " OR " : k < 9 ? " AND " : " ");
		rand_expr(b, depth + 1);
		buf_addc(b, ')');
	}
}

struct rand_sub {
	char		*query;
	char		*kw[3];
	size_t		 n_kw;
	char		*ex[2];
	size_t		 n_ex;
	struct query_node *tree;	/* the reference's own expression */
};

static char *
rand_keyword(void)
{
	struct buf b;

	buf_init(&b);
	rand_word(&b);
	if (rnd(3) == 0) {
		buf_addc(&b, ' ');
		rand_word(&b);
	}
	return buf_detach(&b);
}

static void
rand_sub(struct rand_sub *s)
{
	struct buf b;
	char err[256];
	int col;
	struct query_node *t = NULL;

	memset(s, 0, sizeof(*s));
	if (rnd(5) != 0) {
		buf_init(&b);
		rand_expr(&b, 0);
		s->query = buf_detach(&b);
		t = query_parse(s->query, err, sizeof(err), &col);
		if (t == NULL)
			fail_msg("random query '%s': %s", s->query, err);
	}
	s->n_kw = s->query == NULL ? 1 + rnd(3) : rnd(3) == 0 ? rnd(3) : 0;
	for (size_t i = 0; i < s->n_kw; i++) {
		struct query_node *k;

		s->kw[i] = rand_keyword();
		k = query_term_new(QUERY_FIELD_TEXT, s->kw[i], err,
		    sizeof(err));
		t = t == NULL ? k : query_node_new(QUERY_OR, t, k);
	}
	s->n_ex = rnd(4) == 0 ? 1 + rnd(2) : 0;
	for (size_t i = 0; i < s->n_ex; i++) {
		s->ex[i] = rand_keyword();
		t = query_node_new(QUERY_AND, t, query_node_new(QUERY_NOT,
		    query_term_new(QUERY_FIELD_TEXT, s->ex[i], err,
		    sizeof(err)), NULL));
	}
	s->tree = t;
}

static void
rand_sub_free(struct rand_sub *s)
{
	free(s->query);
	for (size_t i = 0; i < s->n_kw; i++)
		free(s->kw[i]);
	for (size_t i = 0; i < s->n_ex; i++)
		free(s->ex[i]);
	query_free(s->tree);
}

struct diff_got {
	size_t	 n;
	size_t	 sub[64];
	double	 score[64];
	char	 hits[64][600];
};

static void
diff_cb(const struct match_result *r, void *arg)
{
	struct diff_got *g = arg;
	size_t o = 0;

	assert_true(g->n < 64);
	g->sub[g->n] = r->sub;
	g->score[g->n] = r->score;
	g->hits[g->n][0] = '\0';
	for (size_t i = 0; i < r->n_hits; i++)
		o += (size_t)snprintf(g->hits[g->n] + o, 600 - o, "%s%s",
		    i ? "|" : "", r->hits[i]);
	g->n++;
}

static void
ref_paper_init(struct ref_paper *rp, const struct paper *p,
    const char *source)
{
	rp->p = p;
	rp->source = source;
	words_of(p->title, &rp->title);
	words_of(p->summary, &rp->abstract);
	rp->n_other = 0;
	if (p->ai_summary != NULL)
		words_of(p->ai_summary, &rp->other[rp->n_other++]);
	for (size_t i = 0; i < p->ai_keywords.n && rp->n_other < 4; i++)
		words_of(p->ai_keywords.v[i], &rp->other[rp->n_other++]);
}

static void
ref_paper_release(struct ref_paper *rp)
{
	words_free(&rp->title);
	words_free(&rp->abstract);
	for (size_t i = 0; i < rp->n_other; i++)
		words_free(&rp->other[i]);
}

#define DIFF_ROUNDS	40
#define DIFF_SUBS	50
#define DIFF_PAPERS	100

/* One round: DIFF_SUBS random subscriptions, DIFF_PAPERS papers. */
static void
diff_round(size_t *n_match, size_t *n_pairs)
{
	struct rand_sub rs[DIFF_SUBS];
	struct match_spec sp[DIFF_SUBS];
	struct matcher *m;
	char err[256];

	for (size_t i = 0; i < DIFF_SUBS; i++) {
		rand_sub(&rs[i]);
		sp[i] = (struct match_spec){ .name = "r", .query = rs[i].query,
		    .keywords = (const char *const *)rs[i].kw,
		    .n_keywords = rs[i].n_kw,
		    .exclude = (const char *const *)rs[i].ex,
		    .n_exclude = rs[i].n_ex };
	}
	m = match_new(sp, DIFF_SUBS, err, sizeof(err), NULL);
	if (m == NULL)
		fail_msg("%s", err);
	for (size_t k = 0; k < DIFF_PAPERS; k++) {
		struct paper *p = rand_paper();
		const char *source = rnd(3) == 0 ? NULL : rnd(2) ? "hf" : "arxiv";
		struct ref_paper rp;
		struct diff_got g;
		size_t j = 0;

		memset(&g, 0, sizeof(g));
		match_paper(m, p, source, diff_cb, &g);
		ref_paper_init(&rp, p, source);
		for (size_t i = 0; i < DIFF_SUBS; i++) {
			struct ref_hits h;

			(*n_pairs)++;
			if (!ref_eval(&rp, rs[i].tree)) {
				if (j < g.n && g.sub[j] == i)
					fail_msg("'%s' kw %zu ex %zu matched "
					    "'%s' / '%s', reference says no",
					    rs[i].query ? rs[i].query : "",
					    rs[i].n_kw, rs[i].n_ex, p->title,
					    p->summary);
				continue;
			}
			(*n_match)++;
			if (j >= g.n || g.sub[j] != i)
				fail_msg("'%s' kw %zu ex %zu missed '%s' / '%s'",
				    rs[i].query ? rs[i].query : "", rs[i].n_kw,
				    rs[i].n_ex, p->title, p->summary);
			memset(&h, 0, sizeof(h));
			ref_hits(&rp, rs[i].tree, true, &h);
			if (p->upvotes > 0)
				h.score += log2(1.0 + p->upvotes);
			if (fabs(h.score - g.score[j]) > 1e-9 ||
			    strcmp(h.shown, g.hits[j]) != 0)
				fail_msg("'%s' on '%s' / '%s': score %g hits "
				    "'%s', reference %g '%s'", rs[i].query ?
				    rs[i].query : "", p->title, p->summary,
				    g.score[j], g.hits[j], h.score, h.shown);
			j++;
		}
		assert_int_equal(j, g.n);
		ref_paper_release(&rp);
		paper_free(p);
	}
	match_free(m);
	for (size_t i = 0; i < DIFF_SUBS; i++)
		rand_sub_free(&rs[i]);
}

static void
test_match_differential(void **state)
{
	size_t n_match = 0, n_pairs = 0;

	(void)state;
	rng_state = 0x9e3779b97f4a7c15ULL;	/* fixed seed */
	for (int r = 0; r < DIFF_ROUNDS; r++)
		diff_round(&n_match, &n_pairs);
	/* 2,000 queries x 100 papers each; not a vacuous comparison */
	assert_int_equal(n_pairs, DIFF_ROUNDS * DIFF_SUBS * DIFF_PAPERS);
	assert_true(n_match > n_pairs / 10);
	assert_true(n_match < n_pairs * 9 / 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_normalize),
		cmocka_unit_test(test_match_text_rules),
		cmocka_unit_test(test_match_hf_fields),
		cmocka_unit_test(test_match_authors),
		cmocka_unit_test(test_match_cat_source),
		cmocka_unit_test(test_match_score_example),
		cmocka_unit_test(test_match_score_weights),
		cmocka_unit_test(test_match_keywords_exclude),
		cmocka_unit_test(test_match_hits_of_keywords),
		cmocka_unit_test(test_match_errors),
		cmocka_unit_test(test_match_empty_and_stats),
		cmocka_unit_test(test_match_hostile),
		cmocka_unit_test(test_match_fixture_arxiv),
		cmocka_unit_test(test_match_fixture_hf),
		cmocka_unit_test(test_match_differential),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
