/*
 * fuzz_digest.c: libFuzzer target for the digest layer: the input's
 * NUL-separated fields become a paper's title, abstract, AI summary,
 * authors (one a line), links and hit terms; a digest of a few copies is
 * rendered with every default template.  Every JSON payload must parse
 * with jansson and every part must respect its platform's byte limits;
 * text lines must stay within 78 columns unless one word is longer.
 *
 * Build and run by hand (about 60 s), from the repository root:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=all -I. \
 *     -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
 *     tests/fuzz/fuzz_digest.c daemon/digest.c daemon/render.c \
 *     feeds/paper.c feeds/util.c feeds/latex.c \
 *     -ljansson -lm -o /tmp/fuzz_digest
 *   mkdir -p /tmp/fuzz_digest_corpus
 *   PW_TEMPLATES=$PWD/templates /tmp/fuzz_digest -max_total_time=60 \
 *     -max_len=8192 -rss_limit_mb=1024 /tmp/fuzz_digest_corpus
 * (paper.c needs util.c and latex.c; add others if that changes)
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/digest.h"
#include "feeds/paper.h"
#include "feeds/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELDS	7

static struct digest_renderer *renderer;

/* Split data at NUL bytes into at most FIELDS strings (owned). */
static void
fields(const uint8_t *data, size_t size, char *f[FIELDS])
{
	size_t i, start = 0, k = 0;

	for (i = 0; i <= size && k < FIELDS; i++) {
		if (i < size && data[i] != '\0')
			continue;
		f[k++] = xstrndup((const char *)data + start, i - start);
		start = i + 1;
	}
	while (k < FIELDS)
		f[k++] = NULL;
}

static struct paper *
make_paper(char *f[FIELDS], int n)
{
	struct paper *p = paper_new();
	char id[32], *line, *save = NULL;

	snprintf(id, sizeof(id), "2606.%05d", n);
	paper_set_arxiv_id(p, id, 1);
	paper_set(&p->title, f[0] ? f[0] : "");
	paper_set(&p->summary, f[1]);
	paper_set(&p->ai_summary, f[2]);
	if (f[3] != NULL)
		for (line = strtok_r(f[3], "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			paper_add_author(p, line, NULL);
	paper_set(&p->url, f[4]);
	paper_set(&p->url_pdf, f[5]);
	p->upvotes = n;
	return p;
}

static void
check_text(const char *s)
{
	const char *line = s, *nl, *w;
	size_t cols;

	for (; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			nl = line + strlen(line);
		for (cols = 0, w = line; w < nl; w++)
			cols += ((unsigned char)*w & 0xc0) != 0x80;
		if (cols > 78) {
			for (w = line; w < nl && *w == ' '; w++)
				;
			if (memchr(w, ' ', (size_t)(nl - w)) != NULL)
				abort();	/* breakable but not broken */
		}
		if (*nl == '\0')
			break;
	}
}

static void
check(const char *format, const struct strvec *parts)
{
	size_t i, max = strcmp(format, "ntfy") == 0 ? 4096 :
	    strcmp(format, "teams") == 0 ? 28672 :
	    strcmp(format, "matrix") == 0 ? 65536 : 0;
	json_t *j;

	for (i = 0; i < parts->n; i++) {
		if (strcmp(format, "text") == 0)
			check_text(parts->v[i]);
		if (strcmp(format, "text") == 0 || strcmp(format, "html") == 0 ||
		    strcmp(format, "markdown") == 0)
			continue;
		if ((j = json_loads(parts->v[i], 0, NULL)) == NULL)
			abort();
		json_decref(j);
		if (max && strlen(parts->v[i]) > max)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[FIELDS], err[512], *hits[8], *save = NULL, *h;
	struct digest_item items[3];
	struct paper *p[3];
	struct digest d;
	struct strvec parts;
	size_t i, nh = 0;
	int n = size > 0 ? 1 + data[0] % 3 : 1;

	if (renderer == NULL) {
		const char *t = getenv("PW_TEMPLATES");

		renderer = digest_renderer_new(NULL, t ? t : "templates");
	}
	fields(data, size, f);
	for (h = f[6] ? strtok_r(f[6], "\n", &save) : NULL; h && nh < 8;
	    h = strtok_r(NULL, "\n", &save))
		hits[nh++] = h;
	memset(items, 0, sizeof(items));
	for (i = 0; i < (size_t)n; i++) {
		p[i] = make_paper(f, (int)i);
		items[i].paper = p[i];
		items[i].score = 3.0 - (double)i;
		items[i].hits = (const char *const *)hits;
		items[i].n_hits = nh;
	}
	memset(&d, 0, sizeof(d));
	d.subscription = f[0] ? f[0] : "s";
	d.date = "2026-06-12";
	d.items = items;
	d.n_items = (size_t)n;
	for (i = 0; digest_formats[i] != NULL; i++) {
		strvec_init(&parts);
		if (digest_render(renderer, &d, digest_formats[i], &parts, err,
		    sizeof(err)) == 0)
			check(digest_formats[i], &parts);
		strvec_release(&parts);
	}
	for (i = 0; i < (size_t)n; i++)
		paper_free(p[i]);
	for (i = 0; i < FIELDS; i++)
		free(f[i]);
	return 0;
}
