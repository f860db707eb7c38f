/*
 * digest.h: a ranked digest of one subscription's matches, the model its
 * templates see, and rendering it in each output format with that format's
 * escaping and platform limits (split into parts, never cut mid-character
 * or mid-link).
 */
#ifndef PW_DAEMON_DIGEST_H
#define PW_DAEMON_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "../feeds/paper.h"
#include "../feeds/util.h"

struct digest_item {
	const struct paper	*paper;		/* borrowed */
	double			 score;
	const char *const	*hits;		/* terms that hit; borrowed */
	size_t			 n_hits;
};

struct digest {
	const char		*subscription;
	const char		*date;		/* "YYYY-MM-DD" */
	const char		*digest_id;	/* stable, for Message-IDs */
	struct digest_item	*items;		/* ranked: best first */
	size_t			 n_items;
	const char *const	*sources;	/* source names */
	size_t			 n_sources;
};

/*
 * Formats: "text", "html", "markdown", "slack", "discord", "mattermost",
 * "teams", "matrix", "ntfy", "json".  Template lookup: template_dir (the
 * user's overrides) first, then data_dir (the installed defaults), then
 * data_dir/templates, by file name "<format>.mustache"; partials are
 * looked up the same way by name; NULL dirs are skipped.  Files are read
 * once and kept for the renderer's life (make a new one to reload).
 */
struct digest_renderer;
struct digest_renderer *digest_renderer_new(const char *template_dir,
		    const char *data_dir);
void		 digest_renderer_free(struct digest_renderer *r);

/*
 * Render d in format.  The parts (one, or several when a platform limit
 * forces a split, each saying "(2/3)") are appended to parts.  Returns 0,
 * or -1 with err naming the template file, line and tag (or saying the
 * template produced invalid JSON, or a paper that cannot fit one message)
 * and parts as it was.  The "text" format is wrapped at 78 columns.
 */
int		 digest_render(struct digest_renderer *r, const struct digest *d,
		    const char *format, struct strvec *parts,
		    char *err, size_t errlen);

/* Sort items by score, best first (stable for equal scores: by id). */
void		 digest_sort(struct digest *d);

/*
 * Like digest_render, with the template tpl instead of "<format>.mustache":
 * a name looked up like a format's ("my-slack" -> "my-slack.mustache" in
 * template_dir, then data_dir), or a path when it holds a '/'.  The
 * escaping, JSON check and platform limits stay those of format.  tpl
 * NULL is digest_render.
 */
int		 digest_render_template(struct digest_renderer *r,
		    const struct digest *d, const char *format, const char *tpl,
		    struct strvec *parts, char *err, size_t errlen);

/*
 * What the models of one paper share between the digests that list it:
 * the values that depend on the paper alone (its clean title, shortened
 * abstract, links...), made by the first render that needs them.  Only
 * valid while the paper does not change: free it with the paper.
 */
struct digest_pcache;
struct digest_pcache *digest_pcache_new(void);
void		 digest_pcache_free(struct digest_pcache *c);	/* NULL ok */

/*
 * digest_render_template, with caches[i] (NULL, or caches NULL: none) the
 * cache of d->items[i]'s paper.  Same output.
 */
int		 digest_render_cached(struct digest_renderer *r,
		    const struct digest *d, const char *format, const char *tpl,
		    struct digest_pcache *const *caches, struct strvec *parts,
		    char *err, size_t errlen);

/*
 * The subject line of d: tpl (a Mustache string, e.g. from the config;
 * NULL: "Papers for {{date}}: {{subscription}} ({{count_label}})")
 * rendered without escaping, white space collapsed to one line and cut at
 * a word boundary under 200 characters.  Caller frees; NULL + err on a
 * template error.
 */
char		*digest_subject(const struct digest *d, const char *tpl,
		    char *err, size_t errlen);

/*
 * Append the model the templates of format see (every paper, one part) as
 * indented JSON text: for `paperwatch preview --format json` and for
 * people writing templates.  format NULL: "json".  -1 + err if format is
 * unknown.
 */
int		 digest_model_json(const struct digest *d, const char *format,
		    struct buf *out, char *err, size_t errlen);

/* true if format is one of the formats above. */
bool		 digest_format_known(const char *format);
/* The formats, NULL-terminated. */
extern const char *const digest_formats[];

#endif
