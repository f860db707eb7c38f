/*
 * arxiv_api.c: the arXiv API (export.arxiv.org/api/query) Atom response,
 * streamed: every <entry> becomes a paper handed to the callback as soon
 * as it ends.  Elements are matched by namespace URI and local name, in
 * any order, so the 2016 layout (namespaces declared on each element,
 * rel/title on links) and the 2025+ layout (namespaces on the root, links
 * without rel or title) read the same.  The PDF link is the one whose path
 * starts with /pdf/.  An entry whose id is under arxiv.org/api/errors is
 * the API's error report: end() fails with its message.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arxiv_text.h"
#include "source.h"
#include "xmlsax.h"

#define API_DEFAULT_MAX_ITEMS	200000

enum { NS_ATOM, NS_ARXIV, NS_OPENSEARCH };
static const char *const api_ns[] = {
	[NS_ATOM] = "http://www.w3.org/2005/Atom",
	[NS_ARXIV] = "http://arxiv.org/schemas/atom",
	[NS_OPENSEARCH] = "http://a9.com/-/spec/opensearch/1.1/",
};

/* What an element is to this parser. */
enum field {
	F_NONE = 0, F_ENTRY, F_ID, F_TITLE, F_SUMMARY, F_UPDATED, F_PUBLISHED,
	F_AUTHOR, F_NAME, F_LINK, F_CATEGORY, F_AFFILIATION, F_PRIMARY,
	F_COMMENT, F_JREF, F_DOI, F_TOTAL, F_START, F_PERPAGE,
};

static const struct xmlsax_name names[] = {
	{ NS_ATOM, "entry", F_ENTRY }, { NS_ATOM, "id", F_ID },
	{ NS_ATOM, "title", F_TITLE }, { NS_ATOM, "summary", F_SUMMARY },
	{ NS_ATOM, "updated", F_UPDATED },
	{ NS_ATOM, "published", F_PUBLISHED },
	{ NS_ATOM, "author", F_AUTHOR }, { NS_ATOM, "name", F_NAME },
	{ NS_ATOM, "link", F_LINK }, { NS_ATOM, "category", F_CATEGORY },
	{ NS_ARXIV, "affiliation", F_AFFILIATION },
	{ NS_ARXIV, "primary_category", F_PRIMARY },
	{ NS_ARXIV, "comment", F_COMMENT },
	{ NS_ARXIV, "journal_ref", F_JREF }, { NS_ARXIV, "doi", F_DOI },
	{ NS_OPENSEARCH, "totalResults", F_TOTAL },
	{ NS_OPENSEARCH, "startIndex", F_START },
	{ NS_OPENSEARCH, "itemsPerPage", F_PERPAGE },
};


struct api {
	struct xmlsax		*x;
	source_paper_cb		 cb;
	void			*arg;
	struct source_info	*info;
	struct source_info	 own_info;	/* when the caller gave none */
	size_t			 max_items;

	unsigned char		 fields[XMLSAX_DEFAULT_MAX_DEPTH + 2];
	struct xmlsax_name_cache cache[XMLSAX_NAME_CACHE];
	size_t			 max_depth;
	struct paper		*p;		/* the entry being read */
	size_t			 entry_depth;
	bool			 entry_is_error;
	char			*entry_raw_id;
	bool			 in_author;
	char			*author_name;
	struct buf		 affil;
	char			*api_error;	/* first error entry */
};

/* The field of element e (F_NONE when it is not one of ours). */
static enum field
lookup(struct xmlsax_name_cache *cache, const struct xmlsax_elem *e)
{
	return (enum field)xmlsax_name_find(names,
	    sizeof(names) / sizeof(names[0]), cache, e);
}

static void
warn(struct api *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
warn(struct api *a, const char *fmt, ...)
{
	va_list	 ap;

	if (a->info->n_warnings++ > 0)
		return;
	va_start(ap, fmt);
	vsnprintf(a->info->warning, sizeof(a->info->warning), fmt, ap);
	va_end(ap);
}

/* Replace *field by the cleaned text of e. */
static void
set_text(char **field, const struct xmlsax_elem *e, bool latex)
{
	free(*field);
	*field = arxiv_text_clean(e->text, e->text_len, latex);
}

static void
add_category(struct strvec *sv, const char *term)
{
	char	*t;

	if (term == NULL)
		return;
	t = arxiv_text_clean(term, strlen(term), false);
	if (*t != '\0' && !strvec_contains(sv, t))
		strvec_push_take(sv, t);
	else
		free(t);
}

static void
entry_link(struct api *a, const struct xmlsax_elem *e)
{
	const char	*href = xmlsax_attr_value(e, XMLSAX_NS_NONE, "href");
	const char	*rel, *doi;
	struct paper	*p = a->p;

	if (href == NULL)
		return;
	switch (arxiv_text_link_kind(href)) {
	case ARXIV_LINK_PDF:
		paper_set(&p->url_pdf, href);
		break;
	case ARXIV_LINK_ABS:
		paper_set(&p->url, href);
		break;
	case ARXIV_LINK_DOI:
		doi = arxiv_text_doi_from_url(href);
		if (p->doi == NULL && doi != NULL)
			p->doi = xstrdup(doi);
		break;
	default:
		rel = xmlsax_attr_value(e, XMLSAX_NS_NONE, "rel");
		if (p->url == NULL && (rel == NULL ||
		    strcmp(rel, "alternate") == 0))
			paper_set(&p->url, href);
		break;
	}
}

/* start() inside an entry: what to capture. */
static int
entry_start(struct api *a, const struct xmlsax_elem *e, enum field f)
{
	const char	*term = xmlsax_attr_value(e, XMLSAX_NS_NONE, "term");

	switch (f) {
	case F_AUTHOR:
		a->in_author = true;
		free(a->author_name);
		a->author_name = NULL;
		buf_reset(&a->affil);
		return XMLSAX_SKIP;
	case F_NAME:
	case F_AFFILIATION:
		return a->in_author ? XMLSAX_TEXT : XMLSAX_SKIP;
	case F_LINK:
		entry_link(a, e);
		return XMLSAX_SKIP;
	case F_CATEGORY:
		add_category(&a->p->categories, term);
		return XMLSAX_SKIP;
	case F_PRIMARY:
		if (term != NULL) {
			free(a->p->primary_category);
			a->p->primary_category = arxiv_text_clean(term,
			    strlen(term), false);
		}
		return XMLSAX_SKIP;
	case F_ID: case F_TITLE: case F_SUMMARY: case F_UPDATED:
	case F_PUBLISHED: case F_COMMENT: case F_JREF: case F_DOI:
		return e->depth == a->entry_depth + 1 ? XMLSAX_TEXT :
		    XMLSAX_SKIP;
	default:
		return XMLSAX_SKIP;
	}
}

/* start() outside entries: feed-level values. */
static int
feed_start(struct api *a, const struct xmlsax_elem *e, enum field f)
{
	const char	*href;

	switch (f) {
	case F_ENTRY:
		a->p = paper_new();
		a->entry_depth = e->depth;
		a->entry_is_error = false;
		a->in_author = false;
		return XMLSAX_SKIP;
	case F_LINK:
		href = xmlsax_attr_value(e, XMLSAX_NS_NONE, "href");
		if (e->depth == 2 && a->info->link == NULL && href != NULL)
			a->info->link = utf8_clean_dup(href);
		return XMLSAX_SKIP;
	case F_TITLE: case F_UPDATED: case F_TOTAL: case F_START:
	case F_PERPAGE:
		return e->depth == 2 ? XMLSAX_TEXT : XMLSAX_SKIP;
	default:
		return XMLSAX_SKIP;
	}
}

static int
on_start(struct xmlsax *x, const struct xmlsax_elem *e, void *arg)
{
	struct api	*a = arg;
	enum field	 f = lookup(a->cache, e);

	(void)x;
	if (e->depth < sizeof(a->fields))
		a->fields[e->depth] = (unsigned char)f;
	if (e->depth == 1 && (e->ns != NS_ATOM || strcmp(e->local, "feed"))) {
		xmlsax_fail(x, "not an arXiv API response: root element "
		    "<%.40s> is not an Atom <feed>", e->local);
		return -1;
	}
	if (f == F_NONE)
		return XMLSAX_SKIP;
	return a->p != NULL ? entry_start(a, e, f) : feed_start(a, e, f);
}

static void
set_id(struct api *a, const struct xmlsax_elem *e)
{
	char	 id[64];
	int	 version;

	free(a->entry_raw_id);
	a->entry_raw_id = arxiv_text_clean(e->text, e->text_len, false);
	if (strstr(a->entry_raw_id, "arxiv.org/api/errors") != NULL) {
		a->entry_is_error = true;
		return;
	}
	if (paper_arxiv_id(a->entry_raw_id, id, sizeof(id), &version) == 0)
		paper_set_arxiv_id(a->p, id, version);
	else
		paper_set(&a->p->id, a->entry_raw_id);
}

static void
set_time(long long *t, const struct xmlsax_elem *e)
{
	char	*s = arxiv_text_clean(e->text, e->text_len, false);

	*t = time_parse_rfc3339(s);
	free(s);
}

static void
author_end(struct api *a)
{
	if (a->author_name != NULL && *a->author_name != '\0')
		paper_add_author(a->p, a->author_name,
		    a->affil.len > 0 ? a->affil.data : NULL);
	free(a->author_name);
	a->author_name = NULL;
	buf_reset(&a->affil);
	a->in_author = false;
}

static void
affil_end(struct api *a, const struct xmlsax_elem *e)
{
	char	*s = arxiv_text_clean(e->text, e->text_len, true);

	if (*s != '\0') {
		if (a->affil.len > 0)
			buf_adds(&a->affil, "; ");
		buf_adds(&a->affil, s);
	}
	free(s);
}

/* The entry ended: emit its paper, or keep the API's error message. */
static int
entry_end(struct xmlsax *x, struct api *a)
{
	struct paper	*p = a->p;

	a->p = NULL;
	if (a->entry_is_error) {
		if (a->api_error == NULL)
			a->api_error = xstrdup(p->summary != NULL &&
			    *p->summary != '\0' ? p->summary :
			    a->entry_raw_id);
		paper_free(p);
		return 0;
	}
	if (p->id == NULL) {
		warn(a, "entry %zu without an <id> skipped",
		    a->info->n_items + 1);
		paper_free(p);
		return 0;
	}
	if (p->url == NULL && p->url_abs != NULL)
		p->url = xstrdup(p->url_abs);
	if (a->info->n_items >= a->max_items) {
		paper_free(p);
		xmlsax_fail(x, "more than %zu entries in one response",
		    a->max_items);
		return -1;
	}
	a->info->n_items++;
	if (a->cb(p, a->arg) == -1) {
		xmlsax_fail(x, "stopped by the paper callback");
		return -1;
	}
	return 0;
}

static void
entry_field_end(struct api *a, const struct xmlsax_elem *e, enum field f)
{
	struct paper	*p = a->p;

	switch (f) {
	case F_ID:		set_id(a, e); break;
	case F_TITLE:		set_text(&p->title, e, true); break;
	case F_SUMMARY:		set_text(&p->summary, e, true); break;
	case F_COMMENT:		set_text(&p->comment, e, true); break;
	case F_JREF:		set_text(&p->journal_ref, e, true); break;
	case F_DOI:		set_text(&p->doi, e, false); break;
	case F_UPDATED:		set_time(&p->updated, e); break;
	case F_PUBLISHED:	set_time(&p->published, e); break;
	case F_NAME:		set_text(&a->author_name, e, true); break;
	case F_AFFILIATION:	affil_end(a, e); break;
	case F_AUTHOR:		author_end(a); break;
	default:		break;
	}
}

static void
feed_field_end(struct api *a, const struct xmlsax_elem *e, enum field f)
{
	char		*s = arxiv_text_clean(e->text, e->text_len, false);
	struct source_info *info = a->info;

	switch (f) {
	case F_TITLE:	free(info->title); info->title = s; return;
	case F_UPDATED:	info->updated = time_parse_rfc3339(s); break;
	case F_TOTAL:	info->total_results = arxiv_text_count(s); break;
	case F_START:	info->start_index = arxiv_text_count(s); break;
	case F_PERPAGE:	info->items_per_page = arxiv_text_count(s); break;
	default:	break;
	}
	free(s);
}

static int
on_end(struct xmlsax *x, const struct xmlsax_elem *e, void *arg)
{
	struct api	*a = arg;
	enum field	 f = F_NONE;

	if (e->depth < sizeof(a->fields))
		f = (enum field)a->fields[e->depth];
	if (f == F_NONE)
		return 0;
	if (e->truncated)
		warn(a, "<%s> cut at %zu bytes", e->local, e->text_len);
	if (a->p != NULL && f == F_ENTRY && e->depth == a->entry_depth)
		return entry_end(x, a);
	if (e->text == NULL && f != F_AUTHOR)
		return 0;
	if (a->p != NULL)
		entry_field_end(a, e, f);
	else
		feed_field_end(a, e, f);
	return 0;
}

static const struct xmlsax_handler api_handler = { on_start, on_end };

static void *
api_begin(source_paper_cb cb, void *arg, struct source_info *info,
    const struct source_limits *lim)
{
	struct api		*a = xcalloc(1, sizeof(*a));
	struct xmlsax_opts	 o = { 0, 0, false };

	a->cb = cb;
	a->arg = arg;
	source_info_init(&a->own_info);
	a->info = info != NULL ? info : &a->own_info;
	a->max_items = API_DEFAULT_MAX_ITEMS;
	if (lim != NULL) {
		o.max_text = lim->max_field;
		o.max_depth = lim->max_depth;
		if (lim->max_items > 0)
			a->max_items = lim->max_items;
	}
	/* the field stack is sized for the default depth at most */
	if (o.max_depth == 0 || o.max_depth > XMLSAX_DEFAULT_MAX_DEPTH)
		o.max_depth = XMLSAX_DEFAULT_MAX_DEPTH;
	buf_init(&a->affil);
	a->x = xmlsax_new(&api_handler, a, api_ns,
	    sizeof(api_ns) / sizeof(api_ns[0]), &o);
	if (a->x == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

static int
api_chunk(void *state, const char *buf, size_t len, char *err, size_t errlen)
{
	struct api	*a = state;

	return xmlsax_push(a->x, buf, len, err, errlen);
}

static int
api_end(void *state, char *err, size_t errlen)
{
	struct api	*a = state;

	if (xmlsax_finish(a->x, err, errlen) == -1)
		return -1;
	if (a->api_error != NULL) {
		snprintf(err, errlen, "arXiv API error: %s", a->api_error);
		return -1;
	}
	return 0;
}

static void
api_free(void *state)
{
	struct api	*a = state;

	if (a == NULL)
		return;
	xmlsax_free(a->x);
	paper_free(a->p);
	free(a->entry_raw_id);
	free(a->author_name);
	free(a->api_error);
	buf_release(&a->affil);
	source_info_release(&a->own_info);
	free(a);
}

/*
 * An Atom feed from the arXiv API: the API's query link or id, or
 * opensearch elements next to the arXiv namespace.  Announcement feeds
 * (rss.arxiv.org) are left to arxiv-rss.
 */
static int
api_sniff(const char *buf, size_t len)
{
	if (!arxiv_text_has(buf, len, "<feed") ||
	    arxiv_text_has(buf, len, "rss.arxiv.org") ||
	    arxiv_text_has(buf, len, "announce_type"))
		return 0;
	if (arxiv_text_has(buf, len, "arxiv.org/api"))
		return 95;
	if (arxiv_text_has(buf, len, "a9.com/-/spec/opensearch") &&
	    arxiv_text_has(buf, len, "arxiv.org/"))
		return 90;
	if (arxiv_text_has(buf, len, "http://arxiv.org/schemas/atom"))
		return 60;
	return 0;
}

const struct source_type source_arxiv_api = {
	.name = "arxiv-api",
	.sniff = api_sniff,
	.begin = api_begin,
	.chunk = api_chunk,
	.end = api_end,
	.free = api_free,
};
