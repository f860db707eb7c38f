/*
 * render.h: a Mustache renderer (the core spec: interpolation, sections,
 * inverted sections, comments, partials, set delimiters) with the escaping
 * chosen by the output, not by hand in templates.
 *
 * The data model is a jansson value; its type is only forward-declared
 * here so that callers need not include jansson.h.
 */
#ifndef PW_DAEMON_RENDER_H
#define PW_DAEMON_RENDER_H

#include <stddef.h>

#include "../feeds/util.h"

struct json_t;

enum render_escape {
	RENDER_ESC_HTML = 0,	/* & < > " ' (the Mustache default) */
	RENDER_ESC_MARKDOWN,	/* CommonMark specials, | in tables */
	RENDER_ESC_MRKDWN,	/* Slack: & < > */
	RENDER_ESC_DISCORD,	/* Discord Markdown */
	RENDER_ESC_JSON,	/* inside a JSON string literal */
	RENDER_ESC_NONE,
};

/* "html", "markdown", "mrkdwn", "discord", "json", "none"; -1 if unknown. */
int	render_escape_parse(const char *s);

/*
 * Looks up partials by name; returns the template text (owned by the
 * resolver) or NULL when there is none (which renders as empty).
 */
typedef const char *(*render_partial_fn)(const char *name, void *arg);

/*
 * Render tpl (len bytes, named name in errors) with data into out.
 * Returns 0, or -1 with "NAME:LINE: REASON at tag '{{...}}'" in err.
 */
int	render_string(const char *tpl, size_t len, const char *name,
	    const struct json_t *data, enum render_escape esc,
	    render_partial_fn partials, void *partials_arg,
	    struct buf *out, char *err, size_t errlen);

#endif
