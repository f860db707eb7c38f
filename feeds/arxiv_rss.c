/*
 * arxiv_rss.c: arXiv's announcement feeds (rss.arxiv.org/rss/<cats> in
 * RSS 2.0, the /atom/<cats> form in Atom 1.0, and the older RSS 1.0
 * layout), streamed: each item is a paper handed over as soon as it ends.
 *
 * The announce type comes from arxiv:announce_type or, failing that, from
 * the description's "Announce Type:"; the abstract is what follows
 * "Abstract:".  Authors come as one dc:creator string ("A (Affil), B"),
 * split by arxiv_text_authors, with LaTeX accents decoded.  A channel
 * titled "Feed error for query: .../rss/<cat>" is arXiv's report of a bad
 * category: end() fails naming it.  A channel without items is a quiet day:
 * zero papers, no error.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arxiv_text.h"
#include "source.h"
#include "xmlsax.h"

#define RSS_DEFAULT_MAX_ITEMS	200000
#define RSS_ERROR_TITLE		"Feed error for query"
#define RSS_HEADER_SPAN		300	/* where "Abstract:" may start */

enum { NS_ATOM, NS_ARXIV, NS_DC, NS_RSS1, NS_RDF };
static const char *const rss_ns[] = {
	[NS_ATOM] = "http://www.w3.org/2005/Atom",
	[NS_ARXIV] = "http://arxiv.org/schemas/atom",
	[NS_DC] = "http://purl.org/dc/elements/1.1/",
	[NS_RSS1] = "http://purl.org/rss/1.0/",
	[NS_RDF] = "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
};

enum field {
	F_NONE = 0, F_ITEM, F_TITLE, F_LINK, F_DESCRIPTION, F_GUID,
	F_CATEGORY, F_PUBDATE, F_UPDATED, F_LASTBUILD, F_ANNOUNCE,
	F_CREATOR, F_AUTHOR, F_NAME, F_PRIMARY, F_COMMENT, F_JREF, F_DOI,
};

static const struct xmlsax_name names[] = {
	{ XMLSAX_NS_NONE, "item", F_ITEM },
	{ XMLSAX_NS_NONE, "title", F_TITLE },
	{ XMLSAX_NS_NONE, "link", F_LINK },
	{ XMLSAX_NS_NONE, "description", F_DESCRIPTION },
	{ XMLSAX_NS_NONE, "guid", F_GUID },
	{ XMLSAX_NS_NONE, "category", F_CATEGORY },
	{ XMLSAX_NS_NONE, "pubDate", F_PUBDATE },
	{ XMLSAX_NS_NONE, "lastBuildDate", F_LASTBUILD },
	{ NS_RSS1, "item", F_ITEM }, { NS_RSS1, "title", F_TITLE },
	{ NS_RSS1, "link", F_LINK },
	{ NS_RSS1, "description", F_DESCRIPTION },
	{ NS_ATOM, "entry", F_ITEM }, { NS_ATOM, "title", F_TITLE },
	{ NS_ATOM, "link", F_LINK }, { NS_ATOM, "summary", F_DESCRIPTION },
	{ NS_ATOM, "subtitle", F_DESCRIPTION }, { NS_ATOM, "id", F_GUID },
	{ NS_ATOM, "category", F_CATEGORY },
	{ NS_ATOM, "published", F_PUBDATE },
	{ NS_ATOM, "updated", F_UPDATED }, { NS_ATOM, "author", F_AUTHOR },
	{ NS_ATOM, "name", F_NAME },
	{ NS_ARXIV, "announce_type", F_ANNOUNCE },
	{ NS_ARXIV, "primary_category", F_PRIMARY },
	{ NS_ARXIV, "comment", F_COMMENT },
	{ NS_ARXIV, "journal_ref", F_JREF }, { NS_ARXIV, "doi", F_DOI },
	{ NS_DC, "creator", F_CREATOR }, { NS_DC, "date", F_PUBDATE },
};


struct rss {
	struct xmlsax		*x;
	source_paper_cb		 cb;
	void			*arg;
	struct source_info	*info;
	struct source_info	 own_info;	/* when the caller gave none */
	size_t			 max_items;

	unsigned char		 fields[XMLSAX_DEFAULT_MAX_DEPTH + 2];
	struct xmlsax_name_cache cache[XMLSAX_NAME_CACHE];
	bool			 atom;		/* the /atom/ form */
	struct paper		*p;		/* the item being read */
	size_t			 item_depth;
	bool			 creator_seen;	/* dc:creator gave authors */
	bool			 in_author;
	char			*chan_desc;	/* for the error channel */
	long long		 chan_pubdate;
};

/* The field of element e (F_NONE when it is not one of ours). */
static enum field
lookup(struct xmlsax_name_cache *cache, const struct xmlsax_elem *e)
{
	return (enum field)xmlsax_name_find(names,
	    sizeof(names) / sizeof(names[0]), cache, e);
}

static void
warn(struct rss *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
warn(struct rss *r, const char *fmt, ...)
{
	va_list	 ap;

	if (r->info->n_warnings++ > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(r->info->warning, sizeof(r->info->warning), fmt, ap);
	va_end(ap);
}

static void
add_category(struct strvec *sv, const char *s, size_t len)
{
	char	*t = arxiv_text_clean(s, len, false);

	if (*t != '\0' && !strvec_contains(sv, t))
		strvec_push_take(sv, t);
	else
		free(t);
}

/* An Atom link: the abs or PDF link, by its path. */
static void
link_href(struct rss *r, const char *href)
{
	struct paper	*p = r->p;

	if (href == NULL)
		return;
	switch (arxiv_text_link_kind(href)) {
	case ARXIV_LINK_PDF:
		paper_set(&p->url_pdf, href);
		break;
	case ARXIV_LINK_ABS:
		paper_set(&p->url, href);
		break;
	default:
		if (p->url == NULL)
			paper_set(&p->url, href);
		break;
	}
}

static int
item_start(struct rss *r, const struct xmlsax_elem *e, enum field f)
{
	const char	*term;

	switch (f) {
	case F_LINK:
		if (e->ns != NS_ATOM)
			return XMLSAX_TEXT;
		link_href(r, xmlsax_attr_value(e, XMLSAX_NS_NONE, "href"));
		return XMLSAX_SKIP;
	case F_CATEGORY:
		if (e->ns != NS_ATOM)
			return XMLSAX_TEXT;
		if ((term = xmlsax_attr_value(e, XMLSAX_NS_NONE, "term")) != NULL)
			add_category(&r->p->categories, term, strlen(term));
		return XMLSAX_SKIP;
	case F_PRIMARY:
		if ((term = xmlsax_attr_value(e, XMLSAX_NS_NONE, "term")) != NULL) {
			free(r->p->primary_category);
			r->p->primary_category = arxiv_text_clean(term,
			    strlen(term), false);
		}
		return XMLSAX_SKIP;
	case F_AUTHOR:
		r->in_author = true;
		return XMLSAX_SKIP;
	case F_NAME:
		return r->in_author ? XMLSAX_TEXT : XMLSAX_SKIP;
	case F_ITEM:
	case F_LASTBUILD:
		return XMLSAX_SKIP;
	default:
		return XMLSAX_TEXT;
	}
}

static int
channel_start(struct rss *r, const struct xmlsax_elem *e, enum field f)
{
	const char	*href, *rel;
	size_t		 chan_depth = r->atom ? 1 : 2;

	switch (f) {
	case F_ITEM:
		r->p = paper_new();
		r->item_depth = e->depth;
		r->creator_seen = false;
		r->in_author = false;
		return XMLSAX_SKIP;
	case F_LINK:
		if (e->depth != chan_depth + 1)
			return XMLSAX_SKIP;
		if (e->ns != NS_ATOM)
			return r->info->link == NULL ? XMLSAX_TEXT :
			    XMLSAX_SKIP;
		href = xmlsax_attr_value(e, XMLSAX_NS_NONE, "href");
		rel = xmlsax_attr_value(e, XMLSAX_NS_NONE, "rel");
		if (href != NULL && (r->info->link == NULL ||
		    (rel != NULL && strcmp(rel, "self") == 0))) {
			/* an attribute: no control characters either */
			free(r->info->link);
			r->info->link = utf8_clean_dup(href);
		}
		return XMLSAX_SKIP;
	case F_TITLE: case F_DESCRIPTION: case F_LASTBUILD: case F_PUBDATE:
	case F_UPDATED:
		return e->depth == chan_depth + 1 ? XMLSAX_TEXT : XMLSAX_SKIP;
	default:
		return XMLSAX_SKIP;
	}
}

static int
check_root(struct xmlsax *x, struct rss *r, const struct xmlsax_elem *e)
{
	if (e->ns == XMLSAX_NS_NONE && strcmp(e->local, "rss") == 0)
		return 0;
	if (e->ns == NS_RDF && strcmp(e->local, "RDF") == 0)
		return 0;
	if (e->ns == NS_ATOM && strcmp(e->local, "feed") == 0) {
		r->atom = true;
		return 0;
	}
	xmlsax_fail(x, "not an arXiv announcement feed: root element "
	    "<%.40s> is neither <rss>, <rdf:RDF> nor an Atom <feed>",
	    e->local);
	return -1;
}

static int
on_start(struct xmlsax *x, const struct xmlsax_elem *e, void *arg)
{
	struct rss	*r = arg;
	enum field	 f = lookup(r->cache, e);

	if (e->depth < sizeof(r->fields))
		r->fields[e->depth] = (unsigned char)f;
	if (e->depth == 1)
		return check_root(x, r, e);
	if (f == F_NONE)
		return XMLSAX_SKIP;
	return r->p != NULL ? item_start(r, e, f) : channel_start(r, e, f);
}

static void
set_id(struct paper *p, const char *s)
{
	char	 id[64];
	int	 version;

	if (paper_arxiv_id(s, id, sizeof(id), &version) == 0)
		paper_set_arxiv_id(p, id, version);
}

/*
 * "arXiv:2411.17700v1 Announce Type: new Abstract: text": the id (when
 * the guid gave none), the announce type (when arxiv:announce_type gave
 * none) and the abstract, which takes s over (moved down in place).
 */
static void
description(struct paper *p, char *s)
{
	char	*abs, *at;
	size_t	 n;

	if (p->id == NULL && str_istarts(s, "arXiv:"))
		set_id(p, s);
	at = strstr(s, "Announce Type:");
	if (at != NULL && at - s < RSS_HEADER_SPAN &&
	    p->announce == PAPER_ANNOUNCE_NONE) {
		char	 word[32];

		at += strlen("Announce Type:");
		at += strspn(at, " ");
		n = strcspn(at, " ");
		if (n < sizeof(word)) {
			memcpy(word, at, n);
			word[n] = '\0';
			p->announce = paper_announce_parse(word);
		}
	}
	abs = strstr(s, "Abstract:");
	if (abs != NULL && abs - s < RSS_HEADER_SPAN) {
		abs += strlen("Abstract:");
		abs += strspn(abs, " ");
		n = strlen(abs) + 1;
		memmove(s, abs, n);
		s = xrealloc(s, n);	/* the header's bytes back: kept per paper */
	}
	free(p->summary);
	p->summary = s;
}

static void
creator(struct rss *r, char *s, bool from_dc)
{
	struct paper	*p = r->p;

	if (from_dc && !r->creator_seen) {
		/* dc:creator is the full list: it wins over <author>s */
		for (size_t i = 0; i < p->n_authors; i++) {
			free(p->authors[i].name);
			free(p->authors[i].affiliation);
		}
		p->n_authors = 0;
		r->creator_seen = true;
	} else if (!from_dc && r->creator_seen) {
		return;
	}
	arxiv_text_authors(p, s);
}

static void
item_field_end(struct rss *r, const struct xmlsax_elem *e, enum field f)
{
	struct paper	*p = r->p;
	bool		 latex = f == F_TITLE || f == F_DESCRIPTION ||
			    f == F_CREATOR || f == F_NAME || f == F_COMMENT ||
			    f == F_JREF;
	char		*s = arxiv_text_clean(e->text, e->text_len, latex);

	switch (f) {
	case F_TITLE:		free(p->title); p->title = s; return;
	case F_COMMENT:		free(p->comment); p->comment = s; return;
	case F_JREF:		free(p->journal_ref); p->journal_ref = s;
				return;
	case F_DOI:		free(p->doi); p->doi = s; return;
	case F_LINK:		link_href(r, s); break;
	case F_DESCRIPTION:	description(p, s); return;
	case F_GUID:		set_id(p, s); break;
	case F_CATEGORY:	add_category(&p->categories, s, strlen(s));
				break;
	case F_PUBDATE:		p->published = time_parse_any(s); break;
	case F_UPDATED:		p->updated = time_parse_any(s); break;
	case F_ANNOUNCE:	p->announce = paper_announce_parse(s); break;
	case F_CREATOR:		creator(r, s, true); break;
	case F_NAME:		creator(r, s, false); break;
	default:		break;
	}
	free(s);
}

static void
channel_field_end(struct rss *r, const struct xmlsax_elem *e, enum field f)
{
	char		*s = arxiv_text_clean(e->text, e->text_len, false);
	struct source_info *info = r->info;

	switch (f) {
	case F_TITLE:		free(info->title); info->title = s; return;
	case F_LINK:		free(info->link); info->link = s; return;
	case F_DESCRIPTION:	free(r->chan_desc); r->chan_desc = s; return;
	case F_LASTBUILD:
	case F_UPDATED:		info->updated = time_parse_any(s); break;
	case F_PUBDATE:		r->chan_pubdate = time_parse_any(s); break;
	default:		break;
	}
	free(s);
}

/* The item ended: complete its paper and hand it over. */
static int
item_end(struct xmlsax *x, struct rss *r)
{
	struct paper	*p = r->p;

	r->p = NULL;
	if (p->id == NULL && p->url != NULL)
		set_id(p, p->url);
	if (p->id == NULL) {
		warn(r, "item %zu without an arXiv identifier skipped",
		    r->info->n_items + 1);
		paper_free(p);
		return 0;
	}
	if (p->url == NULL)
		p->url = xstrdup(p->url_abs);
	if (r->info->n_items >= r->max_items) {
		paper_free(p);
		xmlsax_fail(x, "more than %zu items in one feed",
		    r->max_items);
		return -1;
	}
	r->info->n_items++;
	if (r->cb(p, r->arg) == -1) {
		xmlsax_fail(x, "stopped by the paper callback");
		return -1;
	}
	return 0;
}

static int
on_end(struct xmlsax *x, const struct xmlsax_elem *e, void *arg)
{
	struct rss	*r = arg;
	enum field	 f = F_NONE;

	if (e->depth < sizeof(r->fields))
		f = (enum field)r->fields[e->depth];
	if (f == F_NONE)
		return 0;
	if (e->truncated)
		warn(r, "<%s> cut at %zu bytes", e->local, e->text_len);
	if (r->p != NULL && f == F_ITEM && e->depth == r->item_depth)
		return item_end(x, r);
	if (f == F_AUTHOR)
		r->in_author = false;
	if (e->text == NULL)
		return 0;
	if (r->p != NULL)
		item_field_end(r, e, f);
	else
		channel_field_end(r, e, f);
	return 0;
}

static const struct xmlsax_handler rss_handler = { on_start, on_end };

static void *
rss_begin(source_paper_cb cb, void *arg, struct source_info *info,
    const struct source_limits *lim)
{
	struct rss		*r = xcalloc(1, sizeof(*r));
	struct xmlsax_opts	 o = { 0, 0, false };

	r->cb = cb;
	r->arg = arg;
	source_info_init(&r->own_info);
	r->info = info != NULL ? info : &r->own_info;
	r->max_items = RSS_DEFAULT_MAX_ITEMS;
	r->chan_pubdate = -1;
	if (lim != NULL) {
		o.max_text = lim->max_field;
		o.max_depth = lim->max_depth;
		if (lim->max_items > 0)
			r->max_items = lim->max_items;
	}
	if (o.max_depth == 0 || o.max_depth > XMLSAX_DEFAULT_MAX_DEPTH)
		o.max_depth = XMLSAX_DEFAULT_MAX_DEPTH;
	r->x = xmlsax_new(&rss_handler, r, rss_ns,
	    sizeof(rss_ns) / sizeof(rss_ns[0]), &o);
	if (r->x == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

static int
rss_chunk(void *state, const char *buf, size_t len, char *err, size_t errlen)
{
	struct rss	*r = state;

	return xmlsax_push(r->x, buf, len, err, errlen);
}

/* "Feed error for query: http://rss.arxiv.org/rss/astroph": astroph. */
static void
feed_error(struct rss *r, char *err, size_t errlen)
{
	const char	*t = r->info->title, *cat = strrchr(t, '/');
	const char	*desc = r->chan_desc != NULL ? r->chan_desc : "";

	if (cat == NULL && (cat = strchr(t, ':')) == NULL)
		cat = t + strlen(t);
	else
		cat++;
	cat += strspn(cat, " ");
	snprintf(err, errlen, "arXiv feed error for '%.60s': %s", cat,
	    *desc != '\0' ? desc : "no reason given");
}

static int
rss_end(void *state, char *err, size_t errlen)
{
	struct rss	*r = state;

	if (xmlsax_finish(r->x, err, errlen) == -1)
		return -1;
	if (r->info->updated == -1)
		r->info->updated = r->chan_pubdate;
	if (r->info->title != NULL &&
	    str_istarts(r->info->title, RSS_ERROR_TITLE)) {
		feed_error(r, err, errlen);
		return -1;
	}
	return 0;
}

static void
rss_free(void *state)
{
	struct rss	*r = state;

	if (r == NULL)
		return;
	xmlsax_free(r->x);
	paper_free(r->p);
	free(r->chan_desc);
	source_info_release(&r->own_info);
	free(r);
}

/* Where rss.arxiv.org names the feed itself (channel link, feed id). */
static const char *const rss_self[] = {
	"<link>http://rss.arxiv.org/", "<link>https://rss.arxiv.org/",
	"<id>http://rss.arxiv.org/", "<id>https://rss.arxiv.org/",
	"href=\"http://rss.arxiv.org/", "href=\"https://rss.arxiv.org/",
};

/*
 * An announcement feed: RSS or Atom whose own link is on rss.arxiv.org,
 * or which declares the arXiv namespace and uses arxiv:announce_type; or
 * the older RSS 1.0 listing of export.arxiv.org.  A blog merely linking
 * to arXiv stays with the generic feed parser.
 */
static int
rss_sniff(const char *buf, size_t len)
{
	bool	 xml = arxiv_text_has(buf, len, "<rss") ||
		    arxiv_text_has(buf, len, "<feed") ||
		    arxiv_text_has(buf, len, "RDF");

	if (!xml)
		return 0;
	for (size_t i = 0; i < sizeof(rss_self) / sizeof(rss_self[0]); i++)
		if (arxiv_text_has(buf, len, rss_self[i]))
			return 95;
	if (arxiv_text_has(buf, len, "http://arxiv.org/schemas/atom") &&
	    arxiv_text_has(buf, len, "announce_type>"))
		return 95;
	if (arxiv_text_has(buf, len, "RDF") &&
	    arxiv_text_has(buf, len, "export.arxiv.org/rss"))
		return 90;
	return 0;
}

const struct source_type source_arxiv_rss = {
	.name = "arxiv-rss",
	.sniff = rss_sniff,
	.begin = rss_begin,
	.chunk = rss_chunk,
	.end = rss_end,
	.free = rss_free,
};
