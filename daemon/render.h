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

#include <stdbool.h>
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

/*
 * Extensions (beyond render_string): compiled templates, options for JSON
 * payloads, and the escapers on their own.
 */

#define RENDER_MAX_OUTPUT	(64u << 20)	/* default output cap, bytes */
#define RENDER_MAX_DEPTH	128	/* nested sections + partials */
#define RENDER_MAX_STEPS	50000000u	/* tags visited in one render */

struct render_opts {
	enum render_escape	 esc;	/* escaping of {{name}} */
	/*
	 * The output is JSON: every value, {{{name}}} and {{&name}} included,
	 * is also escaped for a JSON string literal (after the markup escaping
	 * of esc), so a payload stays valid JSON whatever the data holds.
	 * Implied by esc == RENDER_ESC_JSON.
	 */
	bool			 json;
	size_t			 max_output;	/* bytes; 0: RENDER_MAX_OUTPUT */
	render_partial_fn	 partials;	/* NULL: no partials */
	void			*partials_arg;
	/* Name of partial name's file for errors (NULL fn or result: name). */
	const char		*(*partial_file)(const char *name, void *arg);
};

/* A parsed template: owns a copy of its text. */
struct render_tpl;

/*
 * Parse tpl (len bytes) named name (used in errors).  Returns the template,
 * or NULL with "NAME:LINE: REASON at tag '{{...}}'" in err.
 */
struct render_tpl *render_compile(const char *tpl, size_t len,
		    const char *name, char *err, size_t errlen);
void		 render_tpl_free(struct render_tpl *t);	/* accepts NULL */
const char	*render_tpl_name(const struct render_tpl *t);

/*
 * Render t with data (a jansson value; any type) and options o, appending
 * to out.  Returns 0, or -1 with "NAME:LINE: REASON at tag '{{...}}'" in
 * err (NAME is the partial's file when the error is in a partial) and out
 * back at its length on entry.  Missing partials render as empty (spec).
 */
int		 render_exec(const struct render_tpl *t,
		    const struct json_t *data, const struct render_opts *o,
		    struct buf *out, char *err, size_t errlen);

/*
 * Call fn for every tag name t uses (variables, sections, partials; each
 * occurrence), with partial true for partial names.  For callers that
 * build only the data a template can see.
 */
void		 render_tpl_names(const struct render_tpl *t,
		    void (*fn)(const char *name, size_t len, bool partial,
		    void *arg), void *arg);

/*
 * Append s[0..len) to out escaped for esc (RENDER_ESC_JSON: the inside of
 * a string literal, without quotes).  Control characters other than tab
 * and newline are dropped by the markup escapers.
 */
void		 render_escape_append(struct buf *out, const char *s,
		    size_t len, enum render_escape esc);
/* Name of an escaping ("html", ...). */
const char	*render_escape_name(enum render_escape esc);

#endif
