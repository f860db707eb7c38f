/*
 * fuzz_render.c: libFuzzer target for the Mustache renderer.
 *
 * The first byte picks the mode and the escaping:
 *  - even: the rest is a template, rendered over a fixed model with nested
 *    objects and lists and partials (one of which includes itself, one the
 *    input itself), with the escaping the byte picks: no crash, no leak,
 *    bounded output, an error message of the documented shape;
 *  - odd: the rest (made valid UTF-8) is a value put into a JSON payload
 *    template with json escaping on: the output must parse, and a value
 *    escaped for JSON only must come back byte for byte.
 *
 * Build and run by hand (about 60 s), from the repository root:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=all -I. \
 *     -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
 *     tests/fuzz/fuzz_render.c daemon/render.c feeds/util.c \
 *     -ljansson -lm -o /tmp/fuzz_render
 *   mkdir -p /tmp/fuzz_render_corpus
 *   for f in templates/[a-z]*.mustache; do { printf '\002'; cat "$f"; } \
 *     > /tmp/fuzz_render_corpus/"${f##*\/}"; done    # seeds: template mode
 *   /tmp/fuzz_render -max_total_time=60 -max_len=4096 \
 *     -rss_limit_mb=1024 /tmp/fuzz_render_corpus
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/render.h"
#include "feeds/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *model;
static const char *self_text;

static const char *
partial(const char *name, void *arg)
{
	(void)arg;
	if (strcmp(name, "paper") == 0)
		return "{{rank}}. {{title}}\n{{#authors}}  {{name}}\n{{/authors}}";
	if (strcmp(name, "node") == 0)
		return "{{content}}<{{#nodes}}{{>node}}{{/nodes}}>";
	if (strcmp(name, "self") == 0)
		return self_text;
	return NULL;
}

static void
init(void)
{
	model = json_loads("{\"date\": \"2026-06-12\", \"subscription\": "
	    "\"a <b> & \\\"c\\\"\", \"count\": 2, \"score\": 1.25, \"t\": true,"
	    " \"f\": false, \"n\": null, \"e\": \"\", \"z\": 0, \"papers\": ["
	    "{\"rank\": 1, \"title\": \"x | *y* [z](u) @everyone\", "
	    "\"authors\": [{\"name\": \"A\"}, {\"name\": \"B\"}]},"
	    "{\"rank\": 2, \"title\": \"\\u2028\\n\\\\\", \"authors\": []}],"
	    " \"content\": \"X\", \"nodes\": [{\"content\": \"Y\", \"nodes\": "
	    "[{\"content\": \"Z\", \"nodes\": []}]}], \"a\": {\"b\": {\"c\": "
	    "\"deep\"}}}", 0, NULL);
	if (model == NULL)
		abort();
}

static void
fuzz_template(const char *tpl, size_t len, enum render_escape esc, bool json)
{
	struct render_tpl *t;
	struct render_opts o;
	struct buf out;
	char err[256];

	t = render_compile(tpl, len, "fuzz.mustache", err, sizeof(err));
	if (t == NULL) {
		if (strncmp(err, "fuzz.mustache:", 14) != 0)
			abort();
		return;
	}
	memset(&o, 0, sizeof(o));
	o.esc = esc;
	o.json = json;
	o.max_output = 1 << 20;
	o.partials = partial;
	self_text = xstrndup(tpl, len);
	buf_init(&out);
	if (render_exec(t, model, &o, &out, err, sizeof(err)) == 0 &&
	    out.len > o.max_output)
		abort();
	buf_release(&out);
	free((char *)self_text);
	render_tpl_free(t);
}

static void
fuzz_value(const char *v, size_t len, enum render_escape esc)
{
	static const char tpl[] = "{\"a\": \"{{v}}\", \"b\": \"{{{v}}}\"}";
	struct buf clean, out;
	json_t *d, *j;
	char err[256];

	buf_init(&clean);
	utf8_clean(&clean, v, len);
	d = json_object();
	json_object_set_new(d, "v", json_stringn(buf_str(&clean), clean.len));
	buf_init(&out);
	if (render_string(tpl, sizeof(tpl) - 1, "json", d, RENDER_ESC_JSON,
	    NULL, NULL, &out, err, sizeof(err)) != 0)
		abort();
	j = json_loads(buf_str(&out), 0, NULL);
	if (j == NULL || strcmp(json_string_value(json_object_get(j, "b")),
	    buf_str(&clean)) != 0 || strcmp(json_string_value(
	    json_object_get(j, "a")), buf_str(&clean)) != 0)
		abort();
	json_decref(j);
	/* markup escaping first, then JSON: still valid JSON */
	buf_reset(&out);
	if (esc != RENDER_ESC_JSON) {
		struct render_tpl *t = render_compile(tpl, sizeof(tpl) - 1,
		    "json", err, sizeof(err));
		struct render_opts o;

		memset(&o, 0, sizeof(o));
		o.esc = esc;
		o.json = true;
		if (t == NULL || render_exec(t, d, &o, &out, err,
		    sizeof(err)) != 0)
			abort();
		j = json_loads(buf_str(&out), 0, NULL);
		if (j == NULL)
			abort();
		json_decref(j);
		render_tpl_free(t);
	}
	json_decref(d);
	buf_release(&out);
	buf_release(&clean);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum render_escape esc;

	if (model == NULL)
		init();
	if (size < 1)
		return 0;
	esc = (enum render_escape)((data[0] >> 1) % (RENDER_ESC_NONE + 1));
	if ((data[0] & 1) == 0)
		fuzz_template((const char *)data + 1, size - 1, esc,
		    (data[0] & 0x80) != 0);
	else
		fuzz_value((const char *)data + 1, size - 1, esc);
	return 0;
}
