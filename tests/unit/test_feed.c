/*
 * test_feed.c: the generic feed parser (RSS 0.9x/2.0, RSS 1.0, Atom, JSON
 * Feed) against every file of fixtures/generic, the hostile files, and
 * small documents for link resolution, arXiv items and limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/feed.h"
#include "feeds/paper.h"
#include "feeds/source.h"
#include "feeds/util.h"

struct result {
	struct paper_list	papers;
	struct source_info	info;
	int			rc;
	char			err[256];
	size_t			stop_after;	/* callback fails after n */
};

static int
collect(struct paper *p, void *arg)
{
	struct result *r = arg;

	paper_list_push_take(&r->papers, p);
	if (r->stop_after != 0 && r->papers.n >= r->stop_after)
		return -1;
	return 0;
}

static void
read_fixture(const char *name, struct buf *b)
{
	const char *dir = getenv("FIXTURES");
	char path[1024], err[256];

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/fixtures",
	    name);
	buf_init(b);
	if (file_read_all(path, 8u << 20, b, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

/* Parse buf with the feed type in chunks of chunk bytes. */
static void
parse_with(struct result *r, const char *buf, size_t len, size_t chunk,
    const struct source_limits *lim)
{
	const struct source_type *t = &source_feed;
	void *st;
	size_t off = 0;

	paper_list_init(&r->papers);
	source_info_init(&r->info);
	r->err[0] = '\0';
	st = t->begin(collect, r, &r->info, lim);
	assert_non_null(st);
	r->rc = 0;
	while (off < len && r->rc == 0) {
		size_t n = len - off < chunk ? len - off : chunk;

		r->rc = t->chunk(st, buf + off, n, r->err, sizeof(r->err));
		off += n;
	}
	if (r->rc == 0)
		r->rc = t->end(st, r->err, sizeof(r->err));
	t->free(st);
}

static void
parse_file(struct result *r, const char *name)
{
	struct buf b;

	read_fixture(name, &b);
	parse_with(r, buf_str(&b), b.len, 4096, NULL);
	buf_release(&b);
}

static void
parse_str(struct result *r, const char *s)
{
	parse_with(r, s, strlen(s), 5, NULL);
}

static void
result_release(struct result *r)
{
	paper_list_release(&r->papers);
	source_info_release(&r->info);
}

static void
assert_ok(const struct result *r, size_t n_papers)
{
	if (r->rc != 0)
		fail_msg("parse failed: %s", r->err);
	assert_int_equal(r->papers.n, n_papers);
	assert_int_equal(r->info.n_items, n_papers);
}

#define P(i)	(r.papers.v[(i)])

/* feedparser_* files: feedparser's own Expect lines are the reference */

static void
test_fp_entities_doesnotexist(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_file(&r, "generic/feedparser_entities_doesnotexist.xml");
	/* feedparser keeps "&doesnotexist;" as written; libxml2's recovery
	   drops the undefined reference and says so */
	assert_ok(&r, 0);
	assert_string_equal(r.info.title, "testing entity");
	assert_int_equal(r.info.n_warnings, 1);
	assert_non_null(strstr(r.info.warning, "'doesnotexist' not defined"));
	result_release(&r);
}

static void
test_fp_empty_document(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_file(&r, "generic/feedparser_illformed_rss_empty_document.xml");
	assert_int_equal(r.rc, -1);
	assert_true(str_starts(r.err, "feed: not an XML document"));
	assert_int_equal(r.papers.n, 0);
	result_release(&r);
}

static void
test_fp_incomplete_cdata(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_file(&r, "generic/feedparser_illformed_rss_incomplete_cdata.xml");
	/* bozo: recovered, the cut-off item is not emitted */
	assert_ok(&r, 0);
	assert_string_equal(r.info.title, "can feedparser read this xml");
	assert_string_equal(r.info.link, "http://adcdefgh.com");
	assert_true(r.info.n_warnings >= 1);
	assert_true(str_starts(r.info.warning, "ill-formed XML read with "
	    "recovery: line 5:"));
	result_release(&r);
}

static void
test_fp_corrupted_ampersands(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_file(&r, "generic/"
	    "feedparser_illformed_rss_item_link_corrupted_ampersands.xml");
	assert_ok(&r, 1);
	assert_string_equal(P(0)->url, "http://link/get?a=1&b=2");
	assert_string_equal(P(0)->id, "http://link/get?a=1&b=2");
	assert_false(P(0)->is_arxiv);
	assert_true(r.info.n_warnings >= 1);	/* "</rss" unterminated */
	result_release(&r);
}

static void
test_fp_undeclared_namespace(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_file(&r, "generic/feedparser_illformed_undeclared_namespace.xml");
	assert_ok(&r, 0);
	assert_int_equal(r.info.n_warnings, 1);
	assert_non_null(strstr(r.info.warning,
	    "Namespace prefix itunes on subtitle is not defined"));
	result_release(&r);
}

static void
test_fp_entity_in_doctype(void **state)
{
	struct result r = { 0 };

	(void)state;
	/* feedparser expands the internal entity; paperwatch refuses every
	   DOCTYPE (no entity is ever declared: no XXE, no billion laughs) */
	parse_file(&r, "generic/feedparser_wellformed_rss_entity_in_doctype.xml");
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err, "feed: line 6: document type declaration "
	    "(DOCTYPE) refused: a feed never needs one");
	assert_int_equal(r.papers.n, 0);
	result_release(&r);
}

static void
test_fp_item_pubdate(void **state)
{
	struct result r = { 0 }, again = { 0 };

	(void)state;
	parse_file(&r, "generic/feedparser_wellformed_rss_item_pubDate.xml");
	assert_ok(&r, 1);
	assert_int_equal(r.info.n_warnings, 0);
	/* Thu, 01 Jan 2004 19:48:21 GMT */
	assert_int_equal(P(0)->published, 1072986501LL);
	assert_int_equal(r.info.updated, 1072986501LL);
	assert_null(P(0)->title);
	assert_null(P(0)->url);
	/* no guid, no link: a stable id made from what the item says */
	assert_true(str_starts(P(0)->id, "urn:paperwatch:item:"));
	parse_file(&again, "generic/feedparser_wellformed_rss_item_pubDate.xml");
	assert_string_equal(P(0)->id, again.papers.v[0]->id);
	result_release(&again);
	result_release(&r);
}

/* feedrs_* files */

static void
test_atom_reddit(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_file(&r, "generic/feedrs_atom_example_reddit.xml");
	assert_ok(&r, 1);
	assert_int_equal(r.info.n_warnings, 0);
	assert_string_equal(r.info.title, "The Rust Programming Language");
	assert_string_equal(r.info.link, "https://www.reddit.com/r/rust/");
	assert_int_equal(r.info.updated, 1590357076LL);	/* 2020-05-24 */
	assert_string_equal(P(0)->title,
	    "Hey Rustaceans! Got an easy question? Ask here (21/2020)!");
	assert_string_equal(P(0)->url, "https://www.reddit.com/r/rust/"
	    "comments/glvkc5/hey_rustaceans_got_an_easy_question_ask_here/");
	/* the Atom id "t3_glvkc5" is no URI: the link is the id */
	assert_string_equal(P(0)->id, P(0)->url);
	assert_int_equal(P(0)->n_authors, 1);
	assert_string_equal(P(0)->authors[0].name, "/u/llogiq");
	assert_int_equal(P(0)->categories.n, 1);
	assert_string_equal(P(0)->categories.v[0], "rust");
	assert_int_equal(P(0)->updated, 1589780687LL);
	assert_int_equal(P(0)->published, -1);
	/* escaped HTML content reduced to text, entities decoded twice */
	assert_true(str_starts(P(0)->summary, "Mystified about strings? "
	    "Borrow checker have you in a headlock?"));
	assert_non_null(strstr(P(0)->summary, "that haven't been written"));
	assert_non_null(strstr(P(0)->summary, "the \"Rust\" tag for"));
	assert_null(strchr(P(0)->summary, '<'));
	assert_true(str_ends(P(0)->summary, "submitted by /u/llogiq [link] "
	    "[comments]"));
	result_release(&r);
}

static void
test_atom_scattered(void **state)
{
	struct result r = { 0 };

	(void)state;
	/* starts with a blank line before <?xml: read without complaint */
	parse_file(&r, "generic/feedrs_atom_scattered.xml");
	assert_ok(&r, 1);
	assert_int_equal(r.info.n_warnings, 0);
	assert_string_equal(r.info.title, "Scattered Thoughts");
	/* the alternate link, not rel="self" */
	assert_string_equal(r.info.link, "https://www.scattered-thoughts.net/");
	assert_int_equal(r.info.updated, 1701388800LL);
	assert_string_equal(P(0)->title, "0042: consulting lessons, there are "
	    "no strings on me, buttondown, focus goof, jsfuck, 1ml");
	assert_string_equal(P(0)->id,
	    "https://www.scattered-thoughts.net/log/0042/");
	assert_string_equal(P(0)->url,
	    "https://www.scattered-thoughts.net/log/0042/");
	assert_int_equal(P(0)->published, 1701388800LL);
	assert_int_equal(P(0)->updated, 1701388800LL);
	/* the feed's author is the entry's when it names none */
	assert_int_equal(P(0)->n_authors, 1);
	assert_string_equal(P(0)->authors[0].name, "Jamie Brandon");
	assert_string_equal(P(0)->summary,
	    "0042: consulting lessons, there are no strings on me");
	result_release(&r);
}

static void
test_atom_xml_base(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_file(&r, "generic/feedrs_atom_xml_base.xml");
	assert_ok(&r, 1);
	assert_int_equal(r.info.n_warnings, 0);
	assert_string_equal(r.info.title, "my cool website title");
	assert_null(r.info.link);
	assert_int_equal(r.info.updated, 1651051587LL);	/* 2022-04-27 */
	assert_string_equal(P(0)->id, "https://numi.st/post/2022/travel-uke");
	assert_string_equal(P(0)->title, "my cool entry title");
	assert_string_equal(P(0)->authors[0].name, "Not Blank");
	assert_int_equal(P(0)->updated, 1650499200LL);	/* 2022-04-21 */
	/* the content is one image: no text, and the entry has no link */
	assert_null(P(0)->summary);
	assert_null(P(0)->url);
	result_release(&r);
}

static void
test_rss091_missing_id(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_file(&r, "generic/feedrs_rss_0.91_missing_id.xml");
	assert_ok(&r, 1);
	assert_int_equal(r.info.n_warnings, 0);
	/* ISO-8859-1 converted */
	assert_string_equal(r.info.title, "Servicio de Personal - Ingreso - "
	    "Diputaci\xc3\xb3n de valencia");
	assert_string_equal(r.info.link, "http://www.dival.es/personal");
	assert_string_equal(P(0)->title, "Oferta de Empleo P\xc3\xba"
	    "blico // 3 PROFESOR/A T\xc3\x89" "CNICO/A (INGENIE. T\xc3\x89"
	    "C. FORESTAL) 17/17");
	assert_string_equal(P(0)->summary, "Publicado el 14-05-2021 "
	    "resultado de calificaciones 2\xc2\xba ej en los tablones de "
	    "anuncios. Desc\xc3\xa1rguelo aqu\xc3\xad");
	assert_true(str_starts(P(0)->id, "urn:paperwatch:item:"));
	assert_null(P(0)->url);
	assert_int_equal(P(0)->published, -1);
	result_release(&r);
}

static void
test_rss10_biorxiv(void **state)
{
	struct result r = { 0 };
	const char *link =
	    "http://biorxiv.org/cgi/content/short/2023.12.16.571984v1?rss=1";

	(void)state;
	parse_file(&r, "generic/feedrs_rss_1.0_biorxiv.xml");
	assert_ok(&r, 1);
	assert_int_equal(r.info.n_warnings, 0);
	assert_string_equal(r.info.title,
	    "bioRxiv Subject Collection: Genomics");
	assert_string_equal(r.info.link, "http://biorxiv.org");
	assert_string_equal(P(0)->title, "Complete genome of the Medicago "
	    "anthracnose fungus, Colletotrichum destructivum, reveals a "
	    "mini-chromosome-like region within a core chromosome.");
	assert_string_equal(P(0)->url, link);
	assert_string_equal(P(0)->id, link);
	assert_false(P(0)->is_arxiv);
	assert_string_equal(P(0)->doi, "10.1101/2023.12.16.571984");
	assert_int_equal(P(0)->published, 1702684800LL);	/* 2023-12-16 */
	assert_int_equal(P(0)->n_authors, 1);	/* one dc:creator string */
	assert_true(str_starts(P(0)->authors[0].name, "LAPALU, N., SIMON, A."));
	assert_true(str_starts(P(0)->summary, "Colletotrichum destructivum "
	    "(Cd) is a phytopathogenic fungus"));
	assert_true(str_ends(P(0)->summary, "in this asexual fungal pathogen."));
	/* the channel's dc:date is absent: the newest item date stands in */
	assert_int_equal(r.info.updated, 1702684800LL);
	result_release(&r);
}

static void
test_rss10_iso8859(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_file(&r, "generic/feedrs_rss_1.0_iso8859.xml");
	assert_ok(&r, 1);
	assert_int_equal(r.info.n_warnings, 0);
	assert_string_equal(r.info.title, "Golem.de");
	assert_string_equal(r.info.link, "https://www.golem.de/");
	assert_int_equal(r.info.updated, 1674678061LL);	/* 21:21:01+01:00 */
	assert_string_equal(P(0)->title, "Digitalministerium: Neue "
	    "Glasfaserf\xc3\xb6rderung mit Schnellkasse");
	assert_string_equal(P(0)->authors[0].name, "Achim Sawall");
	assert_int_equal(P(0)->published, 1674669782LL);	/* 19:03:02+01:00 */
	assert_string_equal(P(0)->url, "https://www.golem.de/news/"
	    "digitalministerium-neue-glasfaserfoerderung-mit-schnellkasse-"
	    "2301-171451.html");
	assert_string_equal(P(0)->summary, "Ab April soll es wieder "
	    "F\xc3\xb6rderung f\xc3\xbcr den Ausbau von Glasfaser geben. Das "
	    "Bundesdigitalministerium will es diesmal besser machen. "
	    "(Infrastruktur, Glasfaser)");
	result_release(&r);
}

static void
test_rss20_bbc(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_file(&r, "generic/feedrs_rss_2.0_bbc.xml");
	assert_ok(&r, 1);
	assert_string_equal(r.info.title, "In Our Time");
	assert_string_equal(r.info.link,
	    "http://www.bbc.co.uk/programmes/b006qykl");
	assert_int_equal(r.info.updated, 1614248100LL);	/* channel pubDate */
	assert_string_equal(P(0)->title, "Marcus Aurelius");
	/* guid isPermaLink="false" but a URN: kept as the id */
	assert_string_equal(P(0)->id, "urn:bbc:podcast:m000sjxt");
	assert_string_equal(P(0)->url, "http://www.bbc.co.uk/programmes/m000sjxt");
	assert_string_equal(P(0)->summary, "Melvyn Bragg and guests discuss...");
	assert_int_equal(P(0)->published, 1614248100LL);
	result_release(&r);
}

static void
test_rss20_encoding(void **state)
{
	struct result r = { 0 };
	const char *link = "https://www.inovacaotecnologica.com.br/noticias/"
	    "noticia.php?artigo=revolucao-telas-pontos-quanticos-impressos-3d"
	    "&id=010150200813";

	(void)state;
	parse_file(&r, "generic/feedrs_rss_2.0_encoding_1.xml");
	assert_ok(&r, 1);
	assert_int_equal(r.info.n_warnings, 0);
	assert_string_equal(r.info.title, "RSS Feed do Site Inova\xc3\xa7\xc3\xa3"
	    "o Tecnol\xc3\xb3gica");
	assert_int_equal(r.info.updated, 1597325133LL);	/* lastBuildDate */
	assert_string_equal(P(0)->title, "Revolu\xc3\xa7\xc3\xa3o nas telas "
	    "com pontos qu\xc3\xa2nticos impressos em 3D");
	assert_string_equal(P(0)->url, link);
	assert_string_equal(P(0)->id, link);
	assert_int_equal(P(0)->published, 1597312675LL);	/* -0300 */
	assert_string_equal(P(0)->summary, "A nova tecnologia permitiu criar "
	    "as tr\xc3\xaas cores prim\xc3\xa1rias em 5.600 PPI, excedendo em "
	    "muito as TVs QLED de 8K, que t\xc3\xaam 100 PPI.");
	result_release(&r);
}

static void
test_rss20_invalid(void **state)
{
	struct result r = { 0 };

	(void)state;
	/* odd white space in <rss>, then cut off after the channel header */
	parse_file(&r, "generic/feedrs_rss_2.0_invalid_1.xml");
	assert_ok(&r, 0);
	assert_string_equal(r.info.title, "Reuters: Most Read Articles");
	assert_string_equal(r.info.link, "https://www.reuters.com");
	assert_int_equal(r.info.updated, 1584786591LL);
	assert_true(r.info.n_warnings >= 1);
	assert_true(str_starts(r.info.warning, "ill-formed XML"));
	result_release(&r);
}

static void
test_rss20_relurl(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_file(&r, "generic/feedrs_rss_2.0_relurl_1.xml");
	assert_ok(&r, 2);
	assert_int_equal(r.info.n_warnings, 0);
	assert_string_equal(r.info.title, "Insanity Industries");
	assert_string_equal(r.info.link, "https://insanity.industries/");
	assert_int_equal(r.info.updated, 1614724755LL);
	assert_string_equal(P(0)->title, "Pareto-optimal compression");
	assert_string_equal(P(0)->url,
	    "https://insanity.industries/post/pareto-optimal-compression/");
	assert_int_equal(P(0)->published, 1614724755LL);	/* +0100 */
	/* "jonas@insanity.industries (Jonas Große Sundrup)" */
	assert_string_equal(P(0)->authors[0].name,
	    "Jonas Gro\xc3\x9f" "e Sundrup");
	assert_string_equal(P(0)->summary, "Everyone wants good compression. "
	    "But what exactly is good compression? Time for a closer look.");
	assert_string_equal(P(1)->title, "Tracking leftover packages with pacman");
	assert_string_equal(P(1)->id, "https://insanity.industries/post/"
	    "pacman-tracking-leftover-packages/");
	assert_int_equal(P(1)->published, 1613174400LL);
	result_release(&r);
}

static void
test_rss20_spiegel(void **state)
{
	struct result r = { 0 };
	const char *link = "https://omny.fm/shows/spiegel-update-die-"
	    "nachrichten/07-02-die-wochenvorschau-lockdown-verl-ngerung-kri";

	(void)state;
	parse_file(&r, "generic/feedrs_rss_2.0_spiegel.xml");
	assert_ok(&r, 1);
	assert_int_equal(r.info.n_warnings, 0);
	assert_string_equal(r.info.title,
	    "SPIEGEL Update \xe2\x80\x93 Die Nachrichten");
	assert_string_equal(r.info.link,
	    "https://www.spiegel.de/thema/spiegel-update/");
	assert_string_equal(P(0)->title, "07.02. \xe2\x80\x93 die "
	    "Wochenvorschau: Lockdown-Verl\xc3\xa4ngerung, Kriegsverbrecher "
	    "vor Gericht, Super Bowl, Karneval");
	/* a guid that is no URI is only unique in its feed: link is id */
	assert_string_equal(P(0)->id, link);
	assert_string_equal(P(0)->url, link);
	assert_int_equal(P(0)->published, 1612652460LL);
	assert_string_equal(P(0)->summary, "Die wichtigsten Nachrichten aus "
	    "der SPIEGEL-Redaktion. See omnystudio.com/listener for privacy "
	    "information.");
	result_release(&r);
}

static void
test_json_feedparser_example(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_file(&r, "generic/feedparser_json_example.json");
	/* Expect: not bozo and feed.title == 'My Example Feed' and
	   len(entries) == 2 */
	assert_ok(&r, 2);
	assert_int_equal(r.info.n_warnings, 0);
	assert_string_equal(r.info.title, "My Example Feed");
	assert_string_equal(r.info.link, "https://example.org/");
	assert_string_equal(P(0)->title, "post 2");
	assert_string_equal(P(0)->url, "https://example.org/second-item");
	assert_string_equal(P(0)->id, "https://example.org/second-item");
	assert_string_equal(P(0)->summary, "This is a second item.");
	assert_int_equal(P(0)->categories.n, 2);
	assert_string_equal(P(0)->categories.v[1], "JSON");
	assert_string_equal(P(0)->authors[0].name, "me");	/* the feed's */
	assert_string_equal(P(1)->url, "https://example.org/initial-post");
	assert_string_equal(P(1)->authors[0].name, "you");
	/* content_html: the <script> is gone with its content */
	assert_string_equal(P(1)->summary, "Hello, world!");
	result_release(&r);
}

static void
test_json_elastic(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_file(&r, "generic/feedrs_jsonfeed_elastic_1.1.json");
	assert_ok(&r, 3);
	assert_int_equal(r.info.n_warnings, 0);
	assert_string_equal(r.info.title, "Blog &#8211; InfluxData");
	assert_string_equal(r.info.link, "https://www.influxdata.com/blog/");
	assert_string_equal(P(0)->title, "InfluxDB vs. Graphite for Time "
	    "Series Data & Metrics Benchmark");
	/* "authors" (1.1) wins over "author" (1.0) */
	assert_int_equal(P(0)->n_authors, 2);
	assert_string_equal(P(0)->authors[0].name, "Chris Churilo");
	assert_string_equal(P(0)->authors[1].name, "Fake Author 1");
	/* RFC 822 dates in a JSON Feed: "Fri, 31 May 2019 12:17:58 -0700" */
	assert_int_equal(P(0)->published, 1559330278LL);
	assert_int_equal(P(0)->updated, 1559330278LL);
	assert_int_equal(P(0)->categories.n, 4);
	assert_string_equal(P(1)->authors[0].name, "Chris Churilo");
	assert_int_equal(P(1)->published, 1517924052LL);
	assert_string_equal(P(2)->title, "Fake item");
	assert_string_equal(P(2)->id, "https://example.com");
	assert_int_equal(P(2)->n_authors, 2);	/* the feed's authors */
	assert_string_equal(P(2)->authors[1].name, "Fake Author 4");
	assert_int_equal(r.info.updated, 1559330278LL);	/* newest item */
	result_release(&r);
}

static void
test_json_spec1(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_file(&r, "generic/feedrs_jsonfeed_spec_1.json");
	assert_ok(&r, 1);
	assert_string_equal(r.info.title, "JSON Feed");
	assert_string_equal(r.info.link, "https://jsonfeed.org/");
	assert_string_equal(P(0)->title, "Announcing JSON Feed");
	assert_string_equal(P(0)->id,
	    "https://jsonfeed.org/2017/05/17/announcing_json_feed");
	assert_int_equal(P(0)->published, 1495033332LL);	/* -07:00 */
	assert_string_equal(P(0)->authors[0].name,
	    "Brent Simmons and Manton Reece");
	assert_true(str_starts(P(0)->summary, "We \xe2\x80\x94 Manton Reece "
	    "and Brent Simmons \xe2\x80\x94 have noticed"));
	assert_non_null(strstr(P(0)->summary, "similar to RSS and Atom but"));
	result_release(&r);
}

/* The arXiv announcement feed read as a generic feed: arXiv ids. */
static void
test_arxiv_rss_as_feed(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_file(&r, "arxiv-rss/rss2024_all_archives_2024-11-28_excerpt_A.xml");
	assert_ok(&r, 405);
	assert_string_equal(P(0)->id, "2411.17700");
	assert_int_equal(P(0)->version, 1);
	assert_true(P(0)->is_arxiv);
	assert_string_equal(P(0)->url_abs, "https://arxiv.org/abs/2411.17700");
	assert_string_equal(P(0)->url, "https://arxiv.org/abs/2411.17700");
	assert_string_equal(P(404)->title,
	    "Essential loops in completions of Hamiltonian groups");
	for (size_t i = 0; i < r.papers.n; i++)
		assert_true(P(i)->is_arxiv);
	result_release(&r);
}

/* Every fixture gives the same papers in 1-byte chunks as in one. */
static void
test_chunking(void **state)
{
	static const char *const files[] = {
		"generic/feedrs_rss_1.0_iso8859.xml",
		"generic/feedrs_atom_example_reddit.xml",
		"generic/feedrs_jsonfeed_elastic_1.1.json",
		"generic/feedrs_atom_scattered.xml",
	};
	struct result a = { 0 }, b = { 0 };
	struct buf f, ja, jb;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		read_fixture(files[i], &f);
		parse_with(&a, f.data, f.len, 1, NULL);
		parse_with(&b, f.data, f.len, f.len, NULL);
		assert_int_equal(a.rc, 0);
		assert_int_equal(b.rc, 0);
		assert_int_equal(a.papers.n, b.papers.n);
		for (size_t k = 0; k < a.papers.n; k++) {
			buf_init(&ja);
			buf_init(&jb);
			paper_to_json(a.papers.v[k], &ja);
			paper_to_json(b.papers.v[k], &jb);
			assert_string_equal(buf_str(&ja), buf_str(&jb));
			buf_release(&ja);
			buf_release(&jb);
		}
		result_release(&a);
		result_release(&b);
		buf_release(&f);
	}
}

/* hostile/: clean errors or safe partial results */

static void
test_hostile_files(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_file(&r, "hostile/billion_laughs.xml");
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "DOCTYPE"));
	result_release(&r);

	parse_file(&r, "hostile/xxe_file_etc_passwd.xml");
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "DOCTYPE"));
	assert_int_equal(r.papers.n, 0);
	result_release(&r);

	parse_file(&r, "hostile/deep_nesting_100k.xml");
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "nested deeper than 256"));
	result_release(&r);

	parse_file(&r, "hostile/truncated_atom_mid_entry.xml");
	assert_ok(&r, 1);
	assert_string_equal(P(0)->title, "First entry is complete");
	assert_true(r.info.n_warnings >= 1);
	result_release(&r);

	parse_file(&r, "hostile/huge_text_node_1_5MB.xml");
	assert_ok(&r, 1);
	assert_true(strlen(P(0)->summary) <= 1024 * 1024);
	assert_true(strlen(P(0)->summary) > 1000 * 1000);
	assert_non_null(strstr(r.info.warning, "longer than 1048576 bytes"));
	result_release(&r);

	parse_file(&r, "hostile/invalid_utf8_in_title.xml");
	assert_ok(&r, 1);
	assert_true(utf8_valid(P(0)->title, strlen(P(0)->title)));
	assert_non_null(strstr(P(0)->title, "\xef\xbf\xbd"));
	assert_true(r.info.n_warnings >= 1);
	result_release(&r);
}

/* Small documents */

static void
test_rfc3986_examples(void **state)
{
	/* RFC 3986 section 5.4, base http://a/b/c/d;p?q */
	static const char *const cases[][2] = {
		{ "g:h", "g:h" }, { "g", "http://a/b/c/g" },
		{ "./g", "http://a/b/c/g" }, { "g/", "http://a/b/c/g/" },
		{ "/g", "http://a/g" }, { "//g", "http://g" },
		{ "?y", "http://a/b/c/d;p?y" }, { "g?y", "http://a/b/c/g?y" },
		{ "#s", "http://a/b/c/d;p?q#s" }, { "g#s", "http://a/b/c/g#s" },
		{ "g?y#s", "http://a/b/c/g?y#s" }, { ";x", "http://a/b/c/;x" },
		{ "g;x", "http://a/b/c/g;x" },
		{ "g;x?y#s", "http://a/b/c/g;x?y#s" },
		{ "", "http://a/b/c/d;p?q" }, { ".", "http://a/b/c/" },
		{ "./", "http://a/b/c/" }, { "..", "http://a/b/" },
		{ "../", "http://a/b/" }, { "../g", "http://a/b/g" },
		{ "../..", "http://a/" }, { "../../", "http://a/" },
		{ "../../g", "http://a/g" },
		/* abnormal examples (5.4.2) */
		{ "../../../g", "http://a/g" }, { "../../../../g", "http://a/g" },
		{ "/./g", "http://a/g" }, { "/../g", "http://a/g" },
		{ "g.", "http://a/b/c/g." }, { ".g", "http://a/b/c/.g" },
		{ "g..", "http://a/b/c/g.." }, { "..g", "http://a/b/c/..g" },
		{ "./../g", "http://a/b/g" }, { "./g/.", "http://a/b/c/g/" },
		{ "g/./h", "http://a/b/c/g/h" }, { "g/../h", "http://a/b/c/h" },
		{ "g;x=1/./y", "http://a/b/c/g;x=1/y" },
		{ "g;x=1/../y", "http://a/b/c/y" },
		{ "g?y/./x", "http://a/b/c/g?y/./x" },
		{ "g#s/../x", "http://a/b/c/g#s/../x" },
		{ "http:g", "http:g" },
	};
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = feed_uri_resolve("http://a/b/c/d;p?q", cases[i][0]);
		if (strcmp(s, cases[i][1]) != 0)
			fail_msg("'%s' gave '%s', not '%s'", cases[i][0], s,
			    cases[i][1]);
		free(s);
	}
	s = feed_uri_resolve("https://example.org", "a/b");
	assert_string_equal(s, "https://example.org/a/b");
	free(s);
	s = feed_uri_resolve("not absolute/", "a");	/* no base: as is */
	assert_string_equal(s, "a");
	free(s);
	s = feed_uri_resolve(NULL, "/x");
	assert_string_equal(s, "/x");
	free(s);
	assert_null(feed_uri_resolve("http://a/", NULL));
}

static void
test_html_text(void **state)
{
	static const char *const cases[][2] = {
		{ "<p>a</p><p>b</p>", " a  b " },
		{ "x<b>y</b>z", "xyz" },
		{ "a<br/>b", "a b" },
		{ "&lt;&amp;&gt;&quot;&#39;&#x41;&#66;", "<&>\"'AB" },
		{ "&auml;&euro;&hellip;&nbsp;!", "\xc3\xa4\xe2\x82\xac"
		    "\xe2\x80\xa6 !" },
		{ "AT&T &unknown; &#0; &#xD800; &", "AT&T &unknown; "
		    "\xef\xbf\xbd \xef\xbf\xbd &" },
		{ "a<script>var x = '<p>';</script>b", "a b" },
		{ "a<STYLE>p{}</STYLE>b", "a b" },
		{ "a<!-- <p>hidden</p> -->b", "ab" },
		{ "1 < 2 and 3 > 2", "1 < 2 and 3 > 2" },
		{ "<a href=\"x>y\" title='>'>link</a>", "link" },
		{ "text <b unterminated", "text " },
		{ "a<script>never closed", "a " },
		{ "<![CDATA[x]]>y", "y" },
	};
	struct buf b;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&b);
		feed_html_text(&b, cases[i][0], strlen(cases[i][0]));
		if (strcmp(buf_str(&b), cases[i][1]) != 0)
			fail_msg("'%s' gave '%s'", cases[i][0], buf_str(&b));
		buf_release(&b);
	}
}

static void
test_xml_base_resolution(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_str(&r, "<feed xmlns='http://www.w3.org/2005/Atom' "
	    "xml:base='http://example.org/blog/'>"
	    "<link href='/'/><title>T</title>"
	    "<entry xml:base='2024/'><id>tag:example.org,2024:1</id>"
	    "<title type='html'>A &lt;b&gt;bold&lt;/b&gt; &amp;amp; more</title>"
	    "<link rel='enclosure' href='x.mp3'/>"
	    "<link href='post.html?a=1&amp;b=2'/></entry>"
	    "<entry><id>e2</id><title type='xhtml'><div xmlns="
	    "'http://www.w3.org/1999/xhtml'>X <i>h</i></div></title>"
	    "<link xml:base='../other/' href='./p'/></entry>"
	    "<entry><id>e3</id><link href='javascript:alert(1)'/></entry>"
	    "</feed>");
	assert_ok(&r, 3);
	assert_string_equal(r.info.link, "http://example.org/");
	assert_string_equal(P(0)->url,
	    "http://example.org/blog/2024/post.html?a=1&b=2");
	assert_string_equal(P(0)->id, "tag:example.org,2024:1");
	assert_string_equal(P(0)->title, "A bold & more");
	assert_string_equal(P(1)->url, "http://example.org/other/p");
	assert_string_equal(P(1)->id, "http://example.org/other/p");
	assert_string_equal(P(1)->title, "X h");
	/* only http(s) links are kept */
	assert_null(P(2)->url);
	assert_string_equal(P(2)->id, "http://example.org/#e3");
	assert_int_equal(r.info.n_warnings, 1);
	assert_true(str_starts(r.info.warning, "item 3: link "
	    "'javascript:alert(1)' dropped"));
	result_release(&r);
}

static void
test_channel_link_resolution(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_str(&r, "\xef\xbb\xbf\n  <?xml version='1.0'?>"
	    "<rss version='2.0'><channel><title>C</title>"
	    "<link>https://example.org/news/</link>"
	    "<image><title>not the title</title><link>x</link></image>"
	    "<item><title>one</title><link>a/b.html</link>"
	    "<guid isPermaLink='false'>1</guid>"
	    "<category>x</category><category>x</category><category>y</category>"
	    "</item>"
	    "<item><title>two</title><guid>../two.html</guid></item>"
	    "<item><title>three</title><guid>/three</guid>"
	    "<link>//cdn.example.org/3</link></item>"
	    "</channel></rss>");
	assert_ok(&r, 3);
	assert_string_equal(r.info.title, "C");
	assert_string_equal(P(0)->url, "https://example.org/news/a/b.html");
	assert_string_equal(P(0)->id, "https://example.org/news/a/b.html");
	assert_int_equal(P(0)->categories.n, 2);
	/* a relative guid is no link; it is scoped by the feed for an id */
	assert_null(P(1)->url);
	assert_string_equal(P(1)->id, "https://example.org/news/#../two.html");
	assert_string_equal(P(2)->url, "https://cdn.example.org/3");
	assert_int_equal(r.info.n_warnings, 0);
	result_release(&r);
}

/* Items whose guid or link is an arXiv paper get its id. */
static void
test_arxiv_items(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_str(&r, "<rss><channel>"
	    "<item><title>a</title>"
	    "<link>https://arxiv.org/abs/2502.05173v2</link></item>"
	    "<item><title>b</title><guid>oai:arXiv.org:hep-th/9901001v3</guid>"
	    "<link>https://blog.example.org/b</link></item>"
	    "<item><title>c</title><link>http://export.arxiv.org/pdf/"
	    "2401.00001</link></item>"
	    "<item><title>d</title><guid>2502.05173</guid>"
	    "<link>https://example.org/2502.05173</link></item>"
	    "</channel></rss>");
	assert_ok(&r, 4);
	assert_string_equal(P(0)->id, "2502.05173");
	assert_int_equal(P(0)->version, 2);
	assert_true(P(0)->is_arxiv);
	assert_string_equal(P(0)->url_abs, "https://arxiv.org/abs/2502.05173");
	assert_string_equal(P(0)->url, "https://arxiv.org/abs/2502.05173v2");
	assert_string_equal(P(1)->id, "hep-th/9901001");
	assert_int_equal(P(1)->version, 3);
	assert_string_equal(P(1)->url, "https://blog.example.org/b");
	assert_string_equal(P(2)->id, "2401.00001");
	/* a bare number is not taken for an arXiv id */
	assert_false(P(3)->is_arxiv);
	assert_string_equal(P(3)->id, "https://example.org/2502.05173");
	result_release(&r);
}

static void
test_dates(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_str(&r, "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-"
	    "syntax-ns#' xmlns='http://purl.org/rss/1.0/' xmlns:dc='http://"
	    "purl.org/dc/elements/1.1/' xmlns:dcterms='http://purl.org/dc/"
	    "terms/'><channel rdf:about='x'><title>t</title>"
	    "<dc:date>2024-11-28T00:00:00-05:00</dc:date></channel>"
	    "<item rdf:about='https://example.org/1'><title>1</title>"
	    "<dc:date>2024-11-28T05:06:07.123+01:00</dc:date>"
	    "<dcterms:modified>Thu, 28 Nov 2024 10:00:00 EST</dcterms:modified>"
	    "</item><item rdf:about='https://example.org/2'><title>2</title>"
	    "<dc:date>yesterday</dc:date></item></rdf:RDF>");
	assert_ok(&r, 2);
	assert_int_equal(r.info.updated, 1732770000LL);
	assert_int_equal(P(0)->published, 1732766767LL);
	assert_int_equal(P(0)->updated, 1732806000LL);
	assert_string_equal(P(0)->url, "https://example.org/1");
	assert_string_equal(P(0)->id, "https://example.org/1");
	assert_int_equal(P(1)->published, -1);
	assert_int_equal(r.info.n_warnings, 1);
	assert_string_equal(r.info.warning, "item 2: unreadable date 'yesterday'");
	result_release(&r);
}

/* Documents that are no feed: a clear error each. */
static void
test_not_feeds(void **state)
{
	static const struct {
		const char *doc;
		const char *err;
	} cases[] = {
		{ "", "feed: empty document" },
		{ " \r\n\t ", "feed: empty document" },
		{ "\xef\xbb\xbf", "feed: empty document" },
		{ "hello", "feed: neither XML nor JSON (byte 0x68 at offset 0)" },
		{ "\xef\xbb<rss/>", "feed: neither XML nor JSON" },
		{ "<html><body>x</body></html>",
		    "feed: not a feed: the root element is <html>" },
		{ "<feed><entry/></feed>", "feed: not a feed: the root element "
		    "is <feed>" },
		{ "<rss><channel><item><title>x", "" },
		{ "[{\"paper\":{}}]", "feed: a JSON array that is not a JSON "
		    "Feed" },
		{ "{\"title\":\"x\",\"items\":[]}", "feed: a JSON object that "
		    "is not a JSON Feed" },
		{ "{\"version\":\"https://jsonfeed.org/version/1\"}",
		    "feed: JSON Feed without an 'items' array" },
		{ "{\"version\":\"https://jsonfeed.org/version/1\",\"items\":[",
		    "feed: invalid JSON" },
		{ "{\"version\":\"https://jsonfeed.org/version/1\",\"items\":"
		    "[{\"title\":\"\xc3\x28\"}]}", "feed: invalid JSON" },
	};
	struct result r = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse_str(&r, cases[i].doc);
		if (cases[i].err[0] == '\0') {
			/* truncated: recovered, nothing complete to emit */
			assert_int_equal(r.rc, 0);
			assert_int_equal(r.papers.n, 0);
			assert_true(r.info.n_warnings >= 1);
		} else if (r.rc != -1 || !str_starts(r.err, cases[i].err)) {
			fail_msg("case %zu: rc %d '%s', expected '%s'", i, r.rc,
			    r.err, cases[i].err);
		}
		result_release(&r);
	}
}

/* JSON Feed items and fields of the wrong type are skipped. */
static void
test_json_wrong_types(void **state)
{
	struct result r = { 0 };

	(void)state;
	parse_str(&r, "{\"version\":\"https://jsonfeed.org/version/1.1\","
	    "\"title\":5,\"home_page_url\":\"javascript:x\",\"items\":[1,"
	    "\"s\",{},{\"id\":17,\"title\":[],\"url\":\"/rel\","
	    "\"tags\":[1,\"t\"],\"date_published\":12,\"authors\":[1,"
	    "{\"name\":2},{\"name\":\"N\"}]},"
	    "{\"id\":\"x\",\"content_html\":\"<p>a&amp;b</p>\","
	    "\"external_url\":\"https://arxiv.org/abs/2502.05173\","
	    "\"date_published\":\"2024-02-30T00:00:00Z\"}]}");
	assert_ok(&r, 2);
	assert_null(r.info.title);
	assert_null(r.info.link);
	assert_null(P(0)->title);
	assert_string_equal(P(0)->id, "feed#17");
	assert_null(P(0)->url);
	assert_int_equal(P(0)->categories.n, 1);
	assert_int_equal(P(0)->n_authors, 1);
	assert_string_equal(P(0)->authors[0].name, "N");
	assert_string_equal(P(1)->id, "2502.05173");
	assert_true(P(1)->is_arxiv);
	assert_string_equal(P(1)->summary, "a&b");
	assert_true(r.info.n_warnings >= 6);
	result_release(&r);
}

/* A JSON Feed whose jansson tree would be huge is refused unparsed. */
static void
test_json_too_many_values(void **state)
{
	struct result r = { 0 };
	struct buf b;

	(void)state;
	buf_init(&b);
	buf_adds(&b, "{\"version\":\"https://jsonfeed.org/version/1\","
	    "\"items\":[{}");
	for (size_t i = 0; i < 150000; i++)
		buf_adds(&b, ",{}");
	buf_adds(&b, "]}");
	parse_with(&r, b.data, b.len, 65536, NULL);
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err, "feed: JSON Feed too large to parse (more "
	    "than 100000 objects or 1000000 values)");
	assert_int_equal(r.papers.n, 0);
	result_release(&r);
	buf_release(&b);
}

static void
test_limits(void **state)
{
	struct source_limits lim = { .max_field = 8, .max_items = 2,
	    .max_depth = 5 };
	struct result r = { 0 };
	const char *doc = "<rss><channel><item><title>abcdef\xc3\xa4\xc3\xa4"
	    "</title></item><item><title>2</title></item>"
	    "<item><title>3</title></item></channel></rss>";
	const char *deep = "<rss><channel><item><description><a><b><c>x"
	    "</c></b></a></description></item></channel></rss>";

	(void)state;
	parse_with(&r, doc, strlen(doc), 3, &lim);
	assert_ok(&r, 2);
	/* 8 bytes would split the second a-umlaut */
	assert_string_equal(P(0)->title, "abcdef\xc3\xa4");
	assert_int_equal(r.info.n_warnings, 2);
	assert_string_equal(r.info.warning, "item 1: <title> longer than 8 "
	    "bytes, cut");
	result_release(&r);
	parse_with(&r, deep, strlen(deep), 64, &lim);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err, "nested deeper than 5"));
	result_release(&r);
}

static void
test_callback_stop(void **state)
{
	struct result r = { .stop_after = 1 };
	struct result j = { .stop_after = 2 };

	(void)state;
	parse_file(&r, "generic/feedrs_rss_2.0_relurl_1.xml");
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.papers.n, 1);
	assert_string_equal(r.err, "feed: parse stopped by the consumer after "
	    "1 items");
	result_release(&r);
	parse_file(&j, "generic/feedrs_jsonfeed_elastic_1.1.json");
	assert_int_equal(j.rc, -1);
	assert_int_equal(j.papers.n, 2);
	assert_non_null(strstr(j.err, "stopped"));
	result_release(&j);
}

/* A NULL source_info is allowed. */
static void
test_no_info(void **state)
{
	const struct source_type *t = &source_feed;
	struct result r = { 0 };
	char err[256];
	void *st;
	const char *doc = "<rss><channel><title>t</title><item><title>x"
	    "</title><guid>urn:x</guid></item></channel></rss>";

	(void)state;
	paper_list_init(&r.papers);
	st = t->begin(collect, &r, NULL, NULL);
	assert_int_equal(t->chunk(st, doc, strlen(doc), err, sizeof(err)), 0);
	assert_int_equal(t->end(st, err, sizeof(err)), 0);
	t->free(st);
	assert_int_equal(r.papers.n, 1);
	assert_string_equal(r.papers.v[0]->id, "urn:x");
	paper_list_release(&r.papers);
}

static void
test_sniff(void **state)
{
	static const struct {
		const char *file;
		int score;
	} cases[] = {
		{ "generic/feedrs_rss_2.0_bbc.xml", 40 },
		{ "generic/feedrs_rss_1.0_biorxiv.xml", 40 },
		{ "generic/feedrs_rss_1.0_iso8859.xml", 40 },
		{ "generic/feedrs_atom_scattered.xml", 40 },
		{ "generic/feedparser_json_example.json", 60 },
		{ "generic/feedrs_jsonfeed_spec_1.json", 60 },
		{ "generic/feedparser_illformed_rss_empty_document.xml", 0 },
		{ "hf-daily/daily_papers_2026-06-12.json", 0 },
	};
	struct buf b;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		read_fixture(cases[i].file, &b);
		if (source_feed.sniff(b.data, b.len < 4096 ? b.len : 4096) !=
		    cases[i].score)
			fail_msg("%s: not %d", cases[i].file, cases[i].score);
		buf_release(&b);
	}
	assert_int_equal(source_feed.sniff("<html>", 6), 0);
	assert_int_equal(source_feed.sniff("", 0), 0);
	assert_int_equal(source_feed.sniff("<!-- c --><?pi x?><rdf:RDF", 26),
	    40);
}

/* Without xml:base or a feed link, relative links resolve against the
   URL the document was fetched from. */
static int
keep_first(struct paper *p, void *arg)
{
	struct paper **out = arg;

	if (*out == NULL)
		*out = p;
	else
		paper_free(p);
	return 0;
}

static void
test_document_url_base(void **state)
{
	static const char atom[] =
	    "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">"
	    "<title>t</title><entry><id>tag:x,2026:1</id><title>One</title>"
	    "<link href=\"posts/one.html\"/></entry></feed>";
	struct paper *p = NULL;
	struct source_info info;
	struct source_stream *s;
	char err[256];

	(void)state;
	source_info_init(&info);
	s = source_stream_new(&source_feed, keep_first, &p, &info);
	source_stream_set_base(s, "https://blog.example.org/feeds/atom.xml");
	assert_int_equal(source_stream_push(s, atom, sizeof(atom) - 1, err,
	    sizeof(err)), 0);
	assert_int_equal(source_stream_end(s, err, sizeof(err)), 0);
	assert_non_null(p);
	assert_string_equal(p->url,
	    "https://blog.example.org/feeds/posts/one.html");
	paper_free(p);
	source_stream_free(s);
	source_info_release(&info);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fp_entities_doesnotexist),
		cmocka_unit_test(test_fp_empty_document),
		cmocka_unit_test(test_fp_incomplete_cdata),
		cmocka_unit_test(test_fp_corrupted_ampersands),
		cmocka_unit_test(test_fp_undeclared_namespace),
		cmocka_unit_test(test_fp_entity_in_doctype),
		cmocka_unit_test(test_fp_item_pubdate),
		cmocka_unit_test(test_atom_reddit),
		cmocka_unit_test(test_atom_scattered),
		cmocka_unit_test(test_atom_xml_base),
		cmocka_unit_test(test_rss091_missing_id),
		cmocka_unit_test(test_rss10_biorxiv),
		cmocka_unit_test(test_rss10_iso8859),
		cmocka_unit_test(test_rss20_bbc),
		cmocka_unit_test(test_rss20_encoding),
		cmocka_unit_test(test_rss20_invalid),
		cmocka_unit_test(test_rss20_relurl),
		cmocka_unit_test(test_rss20_spiegel),
		cmocka_unit_test(test_json_feedparser_example),
		cmocka_unit_test(test_json_elastic),
		cmocka_unit_test(test_json_spec1),
		cmocka_unit_test(test_arxiv_rss_as_feed),
		cmocka_unit_test(test_chunking),
		cmocka_unit_test(test_hostile_files),
		cmocka_unit_test(test_rfc3986_examples),
		cmocka_unit_test(test_html_text),
		cmocka_unit_test(test_xml_base_resolution),
		cmocka_unit_test(test_channel_link_resolution),
		cmocka_unit_test(test_arxiv_items),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_not_feeds),
		cmocka_unit_test(test_json_wrong_types),
		cmocka_unit_test(test_json_too_many_values),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_callback_stop),
		cmocka_unit_test(test_no_info),
		cmocka_unit_test(test_sniff),
		cmocka_unit_test(test_document_url_base),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
