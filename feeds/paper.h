/*
 * paper.h: the one paper struct every source fills, arXiv identifier rules,
 * the merge of two sightings of one paper, and the JSON Lines form.
 */
#ifndef PW_FEEDS_PAPER_H
#define PW_FEEDS_PAPER_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

enum paper_announce {
	PAPER_ANNOUNCE_NONE = 0,	/* not an announcement feed */
	PAPER_ANNOUNCE_NEW,
	PAPER_ANNOUNCE_CROSS,
	PAPER_ANNOUNCE_REPLACE,
	PAPER_ANNOUNCE_REPLACE_CROSS,
};

struct author {
	char	*name;
	char	*affiliation;		/* NULL when none is known */
};

/*
 * All strings are owned by the paper, UTF-8, white space collapsed, entities
 * decoded, LaTeX kept as written (except accents, see latex.h).  Absent
 * values are NULL (strings), 0 (counts) or -1 (times, upvotes, comments).
 */
struct paper {
	char		*id;		/* "2502.05173", "hep-th/9901001", or a
					   link/guid for non-arXiv items */
	int		 version;	/* 1, 2, ... or 0 when unknown */
	bool		 is_arxiv;	/* id is an arXiv identifier */
	char		*title;
	char		*summary;	/* the abstract */
	char		*ai_summary;	/* Hugging Face */
	struct author	*authors;
	size_t		 n_authors;
	char		*primary_category;
	struct strvec	 categories;
	struct strvec	 ai_keywords;	/* Hugging Face */
	char		*url;		/* the item's own link */
	char		*url_abs;	/* https://arxiv.org/abs/ID */
	char		*url_pdf;
	char		*url_hf;	/* https://huggingface.co/papers/ID */
	long long	 published;	/* Unix time, -1 unknown */
	long long	 updated;
	long long	 hf_date;	/* day it entered HF Daily Papers */
	char		*comment;
	char		*doi;
	char		*journal_ref;
	enum paper_announce announce;
	int		 upvotes;	/* -1 unknown */
	int		 n_comments;	/* -1 unknown */
	struct strvec	 sources;	/* names of the sources that saw it */
};

struct paper	*paper_new(void);
void		 paper_free(struct paper *p);		/* accepts NULL */
struct paper	*paper_dup(const struct paper *p);
void		 paper_add_author(struct paper *p, const char *name,
		    const char *affiliation);
/* Replace *field by a copy of s (NULL clears it). */
void		 paper_set(char **field, const char *s);

/*
 * Normalise an arXiv identifier found in s: a bare id ("2502.05173v2",
 * "hep-th/9901001"), an abs/pdf URL over http or https (with or without
 * "www." or "export."), or an OAI guid ("oai:arXiv.org:2502.05173v1").
 * Writes the id without version into id (idlen >= 32 is enough) and the
 * version (0 if none) into *version.  Returns 0, or -1 if s holds no
 * arXiv identifier.
 */
int		 paper_arxiv_id(const char *s, char *id, size_t idlen,
		    int *version);
/* Set p->id/version/is_arxiv and the abs/pdf/hf links from an id string. */
void		 paper_set_arxiv_id(struct paper *p, const char *id, int version);

/*
 * Merge a second sighting src into dst (same id): fill what dst lacks,
 * take the newer version's text, keep the highest upvotes, union the
 * categories and sources.  Returns true if dst changed.
 */
bool		 paper_merge(struct paper *dst, const struct paper *src);

const char	*paper_announce_name(enum paper_announce a); /* "new" or NULL */
enum paper_announce paper_announce_parse(const char *s);

/* Append p as one JSON object (no newline) to out. */
void		 paper_to_json(const struct paper *p, struct buf *out);
/* Parse the object paper_to_json wrote; NULL if it is not one. */
struct paper	*paper_from_json(const char *s, size_t len);

/* A growable list of owned papers. */
struct paper_list {
	struct paper	**v;
	size_t		  n;
	size_t		  cap;
};
void		 paper_list_init(struct paper_list *l);
void		 paper_list_release(struct paper_list *l);	/* frees all */
void		 paper_list_push_take(struct paper_list *l, struct paper *p);

#endif
