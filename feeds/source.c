/*
 * source.c: the table of source types, sniffing, and the chunked drivers
 * every caller uses (a whole buffer, or a stream fed from fetch).
 */
#include "source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct source_type *const source_types[] = {
	&source_arxiv_api,
	&source_arxiv_rss,
	&source_hf_daily,
	&source_feed,
	NULL,
};

/* Feed parsers in chunks of this size (libxml2 rejects > 10 MB chunks). */
#define SOURCE_CHUNK	(64 * 1024)
/* Bytes looked at to sniff a document's type. */
#define SOURCE_SNIFF	4096

const struct source_type *
source_find(const char *name)
{
	for (size_t i = 0; source_types[i] != NULL; i++)
		if (strcmp(source_types[i]->name, name) == 0)
			return source_types[i];
	return NULL;
}

const struct source_type *
source_sniff(const char *buf, size_t len)
{
	const struct source_type *best = &source_feed;
	int best_score = 0;

	for (size_t i = 0; source_types[i] != NULL; i++) {
		int s = source_types[i]->sniff(buf, len);

		if (s > best_score) {
			best = source_types[i];
			best_score = s;
		}
	}
	return best;
}

void
source_info_init(struct source_info *info)
{
	memset(info, 0, sizeof(*info));
	info->updated = -1;
	info->total_results = -1;
	info->start_index = -1;
	info->items_per_page = -1;
}

void
source_info_release(struct source_info *info)
{
	free(info->title);
	free(info->link);
	source_info_init(info);
}

struct source_stream {
	const struct source_type *type;
	source_paper_cb		 cb;
	void			*arg;
	struct source_info	*info;
	struct source_limits	 limits;
	void			*state;
	struct buf		 head;	/* first bytes, while sniffing */
	bool			 failed;
};

struct source_stream *
source_stream_new(const struct source_type *t, source_paper_cb cb, void *arg,
    struct source_info *info)
{
	struct source_stream *s = xcalloc(1, sizeof(*s));

	s->type = t;
	s->cb = cb;
	s->arg = arg;
	s->info = info;
	buf_init(&s->head);
	return s;
}

void
source_stream_set_base(struct source_stream *s, const char *url)
{
	s->limits.base_url = url;
}

const struct source_type *
source_stream_type(const struct source_stream *s)
{
	return s->type;
}

static int
stream_start(struct source_stream *s, char *err, size_t errlen)
{
	/* the same prefix whatever the pushes were (source_parse too) */
	if (s->type == NULL)
		s->type = source_sniff(buf_str(&s->head),
		    s->head.len < SOURCE_SNIFF ? s->head.len : SOURCE_SNIFF);
	s->state = s->type->begin(s->cb, s->arg, s->info, &s->limits);
	if (s->state == NULL) {
		snprintf(err, errlen, "cannot start the %s parser",
		    s->type->name);
		return -1;
	}
	return 0;
}

static int
stream_feed(struct source_stream *s, const char *buf, size_t len, char *err,
    size_t errlen)
{
	while (len > 0) {
		size_t n = len < SOURCE_CHUNK ? len : SOURCE_CHUNK;

		if (s->type->chunk(s->state, buf, n, err, errlen) == -1) {
			s->failed = true;
			return -1;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

int
source_stream_push(struct source_stream *s, const char *buf, size_t len,
    char *err, size_t errlen)
{
	int rc;

	if (s->failed) {
		snprintf(err, errlen, "parse already failed");
		return -1;
	}
	if (s->state != NULL)
		return stream_feed(s, buf, len, err, errlen);
	if (s->type == NULL) {
		/* sniffing: keep the first bytes until there are enough */
		buf_add(&s->head, buf, len);
		if (s->head.len < SOURCE_SNIFF)
			return 0;
		buf = NULL;
		len = 0;
	}
	if (stream_start(s, err, errlen) == -1)
		return -1;
	rc = s->head.len ? stream_feed(s, s->head.data, s->head.len, err,
	    errlen) : 0;
	buf_release(&s->head);
	if (rc == -1 || len == 0)
		return rc;
	return stream_feed(s, buf, len, err, errlen);
}

int
source_stream_end(struct source_stream *s, char *err, size_t errlen)
{
	if (s->failed) {
		snprintf(err, errlen, "parse already failed");
		return -1;
	}
	if (s->state == NULL) {
		if (stream_start(s, err, errlen) == -1)
			return -1;
		if (s->head.len > 0 &&
		    stream_feed(s, s->head.data, s->head.len, err, errlen) == -1)
			return -1;
		buf_release(&s->head);
	}
	if (s->type->end(s->state, err, errlen) == -1) {
		s->failed = true;
		return -1;
	}
	return 0;
}

void
source_stream_free(struct source_stream *s)
{
	if (s == NULL)
		return;
	if (s->state != NULL)
		s->type->free(s->state);
	buf_release(&s->head);
	free(s);
}

int
source_parse(const struct source_type *t, const char *buf, size_t len,
    source_paper_cb cb, void *arg, struct source_info *info, char *err,
    size_t errlen)
{
	struct source_stream *s;
	int rc;

	if (t == NULL)
		t = source_sniff(buf, len < SOURCE_SNIFF ? len : SOURCE_SNIFF);
	s = source_stream_new(t, cb, arg, info);
	rc = source_stream_push(s, buf, len, err, errlen);
	if (rc == 0)
		rc = source_stream_end(s, err, errlen);
	source_stream_free(s);
	return rc;
}
