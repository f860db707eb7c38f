/*
 * match.c: one Aho-Corasick automaton for the text terms of every
 * subscription, hash tables for author, category and source terms, and a
 * small postfix program per subscription evaluated on the terms that hit.
 *
 * Text terms become byte patterns over normalised text padded with one
 * space at both ends: " diffusion model " (plus its plurals), or
 * " diffus" for a prefix.  Since normalised text has exactly one space
 * between words, a pattern that starts and ends with a space matches whole
 * words only, and the automaton needs no boundary checks.
 *
 * Per paper: each text field is normalised and scanned once; every output
 * records (term, field bit) in a generation-stamped table.  Only the
 * subscriptions indexed under a term that hit (as a positive literal) are
 * evaluated, plus the few whose expression is true when nothing hits
 * ("NOT survey"): if no positive term of a subscription hits, every
 * positive literal is false and every negative one is at least as true as
 * with no hits at all, so the expression (monotone in its literals) is no
 * truer than with no hits.
 */
#include "match.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../feeds/util.h"
#include "query.h"

/*
 * U+00C0..U+024F folded to ASCII ("" = not a letter, "=" = keep as is).
 * Generated with Python's unicodedata (NFKD, marks dropped), plus the
 * letters NFKD leaves alone by hand (ß ø ł đ æ œ þ ð ħ ı ...).
 */
static const char fold_latin[0x250 - 0xC0][3] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",
	"i", "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y",
	"th", "ss", "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e",
	"i", "i", "i", "i", "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u",
	"u", "u", "y", "th", "y", "a", "a", "a", "a", "a", "a", "c", "c", "c", "c",
	"c", "c", "c", "c", "d", "d", "d", "d", "e", "e", "e", "e", "e", "e", "e",
	"e", "e", "e", "g", "g", "g", "g", "g", "g", "g", "g", "h", "h", "h", "h",
	"i", "i", "i", "i", "i", "i", "i", "i", "i", "i", "ij", "ij", "j", "j", "k",
	"k", "k", "l", "l", "l", "l", "l", "l", "l", "l", "l", "l", "n", "n", "n",
	"n", "n", "n", "n", "n", "n", "o", "o", "o", "o", "o", "o", "oe", "oe", "r",
	"r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s", "s", "s", "t", "t",
	"t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u",
	"u", "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s", "b", "b",
	"=", "=", "=", "=", "=", "c", "c", "d", "d", "=", "=", "=", "=", "=", "=",
	"f", "f", "=", "=", "hv", "=", "=", "k", "k", "l", "=", "=", "n", "n", "=",
	"o", "o", "=", "=", "p", "p", "=", "=", "=", "=", "=", "t", "t", "t", "t",
	"u", "u", "=", "=", "y", "y", "z", "z", "=", "=", "=", "=", "=", "=", "=",
	"=", "=", "=", "=", "=", "=", "dz", "dz", "dz", "lj", "lj", "lj", "nj",
	"nj", "nj", "a", "a", "i", "i", "o", "o", "u", "u", "u", "u", "u", "u", "u",
	"u", "u", "u", "=", "a", "a", "a", "a", "ae", "ae", "=", "=", "g", "g", "k",
	"k", "o", "o", "o", "o", "=", "=", "j", "dz", "dz", "dz", "g", "g", "hv",
	"=", "n", "n", "a", "a", "ae", "ae", "o", "o", "a", "a", "a", "a", "e", "e",
	"e", "e", "i", "i", "i", "i", "o", "o", "o", "o", "r", "r", "r", "r", "u",
	"u", "u", "u", "s", "s", "t", "t", "=", "=", "h", "h", "=", "d", "ou", "ou",
	"=", "=", "a", "a", "e", "e", "o", "o", "o", "o", "o", "o", "o", "o", "y",
	"y", "l", "n", "t", "j", "db", "qp", "a", "c", "c", "=", "t", "s", "z", "=",
	"=", "b", "=", "=", "e", "e", "j", "j", "q", "q", "r", "r", "y", "y"
};
/* U+1E00..U+1EFF (Latin Extended Additional, e.g. Vietnamese); 0 = keep. */
static const char fold_latin_add[256] = {
	'a', 'a', 'b', 'b', 'b', 'b', 'b', 'b', 'c', 'c', 'd', 'd', 'd', 'd', 'd',
	'd', 'd', 'd', 'd', 'd', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e',
	'f', 'f', 'g', 'g', 'h', 'h', 'h', 'h', 'h', 'h', 'h', 'h', 'h', 'h', 'i',
	'i', 'i', 'i', 'k', 'k', 'k', 'k', 'k', 'k', 'l', 'l', 'l', 'l', 'l', 'l',
	'l', 'l', 'm', 'm', 'm', 'm', 'm', 'm', 'n', 'n', 'n', 'n', 'n', 'n', 'n',
	'n', 'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o', 'p', 'p', 'p', 'p', 'r', 'r',
	'r', 'r', 'r', 'r', 'r', 'r', 's', 's', 's', 's', 's', 's', 's', 's', 's',
	's', 't', 't', 't', 't', 't', 't', 't', 't', 'u', 'u', 'u', 'u', 'u', 'u',
	'u', 'u', 'u', 'u', 'v', 'v', 'v', 'v', 'w', 'w', 'w', 'w', 'w', 'w', 'w',
	'w', 'w', 'w', 'x', 'x', 'x', 'x', 'y', 'y', 'z', 'z', 'z', 'z', 'z', 'z',
	'h', 't', 'w', 'y', 0, 's', 0, 0, 0, 0, 'a', 'a', 'a', 'a', 'a', 'a', 'a',
	'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
	'a', 'a', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e', 'e',
	'e', 'e', 'e', 'i', 'i', 'i', 'i', 'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o',
	'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o', 'o',
	'o', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	'y', 'y', 'y', 'y', 'y', 'y', 'y', 'y', 0, 0, 0, 0, 0, 0
};

/* Normalisation */

enum fold {
	FOLD_SEP,	/* separates words */
	FOLD_DROP,	/* vanishes (combining mark, zero width) */
	FOLD_WORD,	/* a word character, written out */
};

static const struct {
	uint32_t	lo, hi;
	enum fold	f;
} fold_ranges[] = {	/* first match wins */
	{ 0x02b0, 0x02ff, FOLD_SEP },	/* spacing modifier letters */
	{ 0x0300, 0x036f, FOLD_DROP },	/* combining diacritical marks */
	{ 0x037e, 0x037e, FOLD_SEP },
	{ 0x0387, 0x0387, FOLD_SEP },
	{ 0x0483, 0x0489, FOLD_DROP },
	{ 0x1ab0, 0x1aff, FOLD_DROP },
	{ 0x1dc0, 0x1dff, FOLD_DROP },
	{ 0x200b, 0x200f, FOLD_DROP },	/* zero width, direction marks */
	{ 0x202a, 0x202e, FOLD_DROP },
	{ 0x2060, 0x206f, FOLD_DROP },
	{ 0x20d0, 0x20ff, FOLD_DROP },
	{ 0x2000, 0x2bff, FOLD_SEP },	/* punctuation, symbols, arrows */
	{ 0x2e00, 0x2e7f, FOLD_SEP },
	{ 0x3000, 0x303f, FOLD_SEP },	/* CJK punctuation */
	{ 0xe000, 0xf8ff, FOLD_SEP },	/* private use */
	{ 0xfe00, 0xfe0f, FOLD_DROP },	/* variation selectors */
	{ 0xfe10, 0xfe1f, FOLD_SEP },
	{ 0xfe20, 0xfe2f, FOLD_DROP },
	{ 0xfe30, 0xfe6f, FOLD_SEP },
	{ 0xfeff, 0xfeff, FOLD_DROP },	/* byte order mark */
	{ 0xff00, 0xff65, FOLD_SEP },	/* fullwidth punctuation */
	{ 0xfff0, 0xffff, FOLD_SEP },	/* specials, U+FFFD */
	{ 0x1f000, 0x1faff, FOLD_SEP },	/* emoji and pictographs */
	{ 0xe0000, 0xe0fff, FOLD_DROP },	/* tags, variation selectors */
	{ 0xf0000, 0x10ffff, FOLD_SEP },	/* private use planes */
};

/* ASCII: the small letter or digit, 0 for a separator. */
static const unsigned char ascii_fold[128] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 0, 0,
	0, 0, 0, 0, 0, 'a', 'b', 'c', 'd', 'e', 'f', 'g',
	'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's',
	't', 'u', 'v', 'w', 'x', 'y', 'z', 0, 0, 0, 0, 0,
	0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k',
	'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w',
	'x', 'y', 'z', 0, 0, 0, 0, 0,
};

static inline unsigned char
ascii_word(unsigned char c)
{
	return c < 0x80 ? ascii_fold[c] : 0;
}

static enum fold
fold_keep(uint32_t cp, char *out, size_t *n)
{
	*n = utf8_encode(cp, out);
	return FOLD_WORD;
}

static enum fold
fold_ascii(const char *s, char *out, size_t *n)
{
	*n = s[1] != '\0' ? 2 : 1;
	memcpy(out, s, *n);
	return FOLD_WORD;
}

/* Fold one code point >= 0x80 into out (at least 4 bytes). */
static enum fold
fold_wide(uint32_t cp, char *out, size_t *n)
{
	if (cp < 0xc0)
		return cp == 0xad ? FOLD_DROP : FOLD_SEP;
	if (cp < 0x250) {
		const char *f = fold_latin[cp - 0xc0];

		if (f[0] == '\0')
			return FOLD_SEP;
		return f[0] == '=' ? fold_keep(cp, out, n) :
		    fold_ascii(f, out, n);
	}
	if (cp >= 0x1e00 && cp <= 0x1eff) {
		char c = fold_latin_add[cp - 0x1e00];
		char one[2] = { c, '\0' };

		if (cp == 0x1e9e)
			return fold_ascii("ss", out, n);
		return c != 0 ? fold_ascii(one, out, n) : fold_keep(cp, out, n);
	}
	if ((cp >= 0x391 && cp <= 0x3a9) || (cp >= 0x410 && cp <= 0x42f))
		return fold_keep(cp + 0x20, out, n);	/* Greek, Cyrillic */
	if (cp >= 0x400 && cp <= 0x40f)
		return fold_keep(cp + 0x50, out, n);
	if (cp == 0x3c2)
		return fold_keep(0x3c3, out, n);	/* final sigma */
	if (cp >= 0xff01 && cp <= 0xff5e) {		/* fullwidth ASCII */
		out[0] = (char)ascii_word((unsigned char)(cp - 0xfee0));
		*n = 1;
		return out[0] != '\0' ? FOLD_WORD : FOLD_SEP;
	}
	for (size_t i = 0; i < sizeof(fold_ranges) / sizeof(fold_ranges[0]);
	    i++)
		if (cp >= fold_ranges[i].lo && cp <= fold_ranges[i].hi)
			return fold_ranges[i].f;
	return fold_keep(cp, out, n);
}

/* ASCII: the small letter or digit, ' ' for a separator (ascii_fold). */
static const unsigned char ascii_fold_sp[128] = {
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ' ', ' ',
	' ', ' ', ' ', ' ', ' ', 'a', 'b', 'c', 'd', 'e', 'f', 'g',
	'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's',
	't', 'u', 'v', 'w', 'x', 'y', 'z', ' ', ' ', ' ', ' ', ' ',
	' ', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k',
	'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w',
	'x', 'y', 'z', ' ', ' ', ' ', ' ', ' ',
};

/*
 * Normalise s into dst, which has room for len + 3 bytes: the output never
 * grows (every space stands for at least one separator byte, every folded
 * letter is at most as long as its UTF-8 form), pad adds a space at both
 * ends, and a NUL follows.  Returns the bytes written (without the NUL).
 *
 * Every separator is written as a space, and a space after a space (or at
 * the start) is taken back, so ASCII text goes through without branches;
 * the last space, if any, is dropped at the end.
 */
static size_t
norm_into(const char *s, size_t len, char *dst, bool pad)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0, n, k = 0, start;
	unsigned char c, last = ' ';
	uint32_t cp;
	char tmp[4];

	if (pad)
		dst[o++] = ' ';
	start = o;
	while (i < len) {
		if (u[i] < 0x80) {
			c = ascii_fold_sp[u[i++]];
			dst[o] = (char)c;
			o += (c != ' ') | (last != ' ');
			last = c;
			continue;
		}
		if ((n = utf8_decode(s + i, len - i, &cp)) == 0) {
			i++;
			dst[o] = ' ';
			o += last != ' ';
			last = ' ';
			continue;
		}
		i += n;
		switch (fold_wide(cp, tmp, &k)) {
		case FOLD_SEP:
			dst[o] = ' ';
			o += last != ' ';
			last = ' ';
			break;
		case FOLD_DROP:
			break;
		case FOLD_WORD:
			memcpy(dst + o, tmp, k);
			o += k;
			last = (unsigned char)tmp[k - 1];
			break;
		}
	}
	if (o > start && last == ' ')
		o--;				/* the separators at the end */
	if (pad && o > start)
		dst[o++] = ' ';
	dst[o] = '\0';
	return o;
}

void
match_normalize(const char *s, size_t len, struct buf *out)
{
	char *tmp = xmalloc(len + 3);
	size_t n = norm_into(s, len, tmp, false);

	buf_add(out, tmp, n);
	free(tmp);
}

/* A string -> uint32 hash table (open addressing, keys owned). */

struct smap {
	char		**keys;		/* NULL: empty slot */
	uint32_t	 *klen;
	uint32_t	 *vals;
	size_t		  cap;		/* 0 or a power of two */
	size_t		  n;
};

static uint64_t
hash_bytes(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

static uint32_t *
smap_find(const struct smap *m, const char *k, size_t n)
{
	size_t i;

	if (m->n == 0)
		return NULL;
	for (i = hash_bytes(k, n) & (m->cap - 1); m->keys[i] != NULL;
	    i = (i + 1) & (m->cap - 1))
		if (m->klen[i] == n && memcmp(m->keys[i], k, n) == 0)
			return &m->vals[i];
	return NULL;
}

static void
smap_grow(struct smap *m)
{
	struct smap g = { .cap = m->cap ? m->cap * 2 : 16, .n = m->n };
	size_t j;

	g.keys = xcalloc(g.cap, sizeof(*g.keys));
	g.klen = xcalloc(g.cap, sizeof(*g.klen));
	g.vals = xcalloc(g.cap, sizeof(*g.vals));
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i] == NULL)
			continue;
		j = hash_bytes(m->keys[i], m->klen[i]) & (g.cap - 1);
		while (g.keys[j] != NULL)
			j = (j + 1) & (g.cap - 1);
		g.keys[j] = m->keys[i];
		g.klen[j] = m->klen[i];
		g.vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->klen);
	free(m->vals);
	*m = g;
}

/* The value slot of k, created (as UINT32_MAX) when absent. */
static uint32_t *
smap_put(struct smap *m, const char *k, size_t n)
{
	uint32_t *v = smap_find(m, k, n);
	size_t i;

	if (v != NULL)
		return v;
	if ((m->n + 1) * 2 > m->cap)
		smap_grow(m);
	i = hash_bytes(k, n) & (m->cap - 1);
	while (m->keys[i] != NULL)
		i = (i + 1) & (m->cap - 1);
	m->keys[i] = xstrndup(k, n);
	m->klen[i] = (uint32_t)n;
	m->vals[i] = UINT32_MAX;
	m->n++;
	return &m->vals[i];
}

static void
smap_release(struct smap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->klen);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* The automaton */

#define AC_DENSE	0xffff	/* state.nedge: edges indexes a dense table */
#define AC_DENSE_MIN	8	/* children from which a state goes dense */
#define NONE		UINT32_MAX

struct link {			/* a singly linked list cell in an array */
	uint32_t	 term;
	uint32_t	 next;
};

struct links {
	struct link	*v;
	size_t		 n;
	size_t		 cap;
};

/* Push term onto the list headed by *head. */
static void
links_push(struct links *l, uint32_t *head, uint32_t term)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n].term = term;
	l->v[l->n].next = *head;
	*head = (uint32_t)l->n++;
}

struct bnode {			/* the trie while it is built */
	uint32_t	 child;
	uint32_t	 sibling;
	uint32_t	 out;		/* list of terms in build.outs */
	unsigned char	 c;
};

struct build {
	struct bnode	*v;
	size_t		 n;
	size_t		 cap;
	struct links	 outs;
	size_t		 n_patterns;
};

/*
 * The final automaton.  States are numbered in depth-first preorder, so
 * the first child of state s is s + 1: a state with one edge (most states:
 * the inside of a phrase) stores just its byte, and walking along a
 * pattern reads memory in order.  States with 2..AC_DENSE_MIN-1 edges
 * keep them sorted in edge[]; more get a 256-entry table.
 */
struct state {
	uint32_t	 fail;
	uint32_t	 out;		/* first state (this or a fail ancestor)
					   with outputs; 0 for none */
	uint32_t	 edges;		/* first edge, or dense table index */
	uint16_t	 nedge;		/* 0, 1 (to s + 1), n, or AC_DENSE */
	unsigned char	 c;		/* the byte of a single edge */
};

struct edge {
	uint32_t	 to;
	unsigned char	 c;
};

struct ac {
	struct state	*st;
	uint32_t	 n;
	struct edge	*edge;		/* sorted by byte within a state */
	size_t		 n_edges;
	uint32_t	*dense;		/* 256 per dense state; 0 = no edge */
	uint32_t	 n_dense;
	uint32_t	*out_first;	/* n + 1: outputs of state s are */
	uint32_t	*out_term;	/* out_term[out_first[s]..[s+1]) */
};

static uint32_t
build_node(struct build *b, unsigned char c)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1024;
		b->v = xreallocarray(b->v, b->cap, sizeof(*b->v));
	}
	b->v[b->n] = (struct bnode){ .child = NONE, .sibling = NONE,
	    .out = NONE, .c = c };
	return (uint32_t)b->n++;
}

static uint32_t
build_child(const struct build *b, uint32_t s, unsigned char c)
{
	uint32_t k;

	for (k = b->v[s].child; k != NONE; k = b->v[k].sibling)
		if (b->v[k].c == c)
			return k;
	return NONE;
}

/* Add pattern p (n bytes) reporting term. */
static void
build_add(struct build *b, const char *p, size_t n, uint32_t term)
{
	uint32_t s = 0, k;

	if (b->n == 0)
		build_node(b, 0);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((k = build_child(b, s, c)) == NONE) {
			k = build_node(b, c);
			b->v[k].sibling = b->v[s].child;
			b->v[s].child = k;
		}
		s = k;
	}
	for (k = b->v[s].out; k != NONE; k = b->outs.v[k].next)
		if (b->outs.v[k].term == term)
			return;
	links_push(&b->outs, &b->v[s].out, term);
	b->n_patterns++;
}

/* Breadth-first order of the trie; fills fail links (old ids). */
static uint32_t *
build_bfs(const struct build *b, uint32_t *fail)
{
	uint32_t *order = xreallocarray(NULL, b->n, sizeof(*order));
	size_t head = 0, tail = 0;
	uint32_t u, v, f, w;

	order[tail++] = 0;
	fail[0] = 0;
	while (head < tail) {
		u = order[head++];
		for (v = b->v[u].child; v != NONE; v = b->v[v].sibling) {
			order[tail++] = v;
			if (u == 0) {
				fail[v] = 0;
				continue;
			}
			for (f = fail[u];; f = fail[f]) {
				w = build_child(b, f, b->v[v].c);
				if (w != NONE || f == 0)
					break;
			}
			fail[v] = w != NONE ? w : 0;
		}
	}
	return order;
}

/* Depth-first preorder numbering: newid[old]; a stack, not recursion. */
static void
build_dfs(const struct build *b, uint32_t *newid, uint32_t *stack)
{
	size_t sp = 0;
	uint32_t next = 0, u;

	stack[sp++] = 0;
	while (sp > 0) {
		u = stack[--sp];
		newid[u] = next++;
		for (uint32_t v = b->v[u].child; v != NONE; v = b->v[v].sibling)
			stack[sp++] = v;	/* the last pushed is u + 1 */
	}
}

static int
cmp_edge(const void *x, const void *y)
{
	const uint64_t *a = x, *b = y;

	return *a < *b ? -1 : *a > *b;
}

static void
ac_dense(struct ac *a, uint32_t s, const uint64_t *tmp, size_t k)
{
	uint32_t *row;

	a->st[s].nedge = AC_DENSE;
	a->st[s].edges = a->n_dense;
	a->dense = xreallocarray(a->dense, (size_t)a->n_dense + 1,
	    256 * sizeof(*a->dense));
	row = a->dense + (size_t)a->n_dense++ * 256;
	memset(row, 0, 256 * sizeof(*row));
	for (size_t i = 0; i < k; i++)
		row[tmp[i] >> 32] = (uint32_t)tmp[i];
}

/*
 * Edges of old state u as final state s.  The root's children (the state
 * after a space, where every word starts) always get a dense table.
 */
static void
ac_fill_edges(struct ac *a, const struct build *b, uint32_t u, uint32_t s,
    const uint32_t *newid, uint64_t *tmp)
{
	size_t k = 0;
	bool top = false;

	for (uint32_t v = b->v[0].child; v != NONE && !top;
	    v = b->v[v].sibling)
		top = v == u;
	for (uint32_t v = b->v[u].child; v != NONE; v = b->v[v].sibling)
		tmp[k++] = (uint64_t)b->v[v].c << 32 | newid[v];
	if (top && k > 0) {
		qsort(tmp, k, sizeof(*tmp), cmp_edge);
		ac_dense(a, s, tmp, k);
		return;
	}
	if (k == 1) {
		a->st[s].nedge = 1;
		a->st[s].c = (unsigned char)(tmp[0] >> 32);
		return;
	}
	qsort(tmp, k, sizeof(*tmp), cmp_edge);
	if (k >= AC_DENSE_MIN) {
		ac_dense(a, s, tmp, k);
		return;
	}
	a->st[s].nedge = (uint16_t)k;
	a->st[s].edges = (uint32_t)a->n_edges;
	for (size_t i = 0; i < k; i++) {
		a->edge[a->n_edges].c = (unsigned char)(tmp[i] >> 32);
		a->edge[a->n_edges++].to = (uint32_t)tmp[i];
	}
}

/* Outputs, in the order of the new ids (dfs[s] = old id of s). */
static void
ac_fill_outs(struct ac *a, const struct build *b, const uint32_t *dfs)
{
	size_t no = 0;

	a->out_first = xreallocarray(NULL, (size_t)a->n + 1,
	    sizeof(*a->out_first));
	a->out_term = xreallocarray(NULL, b->outs.n + 1,
	    sizeof(*a->out_term));
	for (uint32_t s = 0; s < a->n; s++) {
		a->out_first[s] = (uint32_t)no;
		for (uint32_t k = b->v[dfs[s]].out; k != NONE;
		    k = b->outs.v[k].next)
			a->out_term[no++] = b->outs.v[k].term;
	}
	a->out_first[a->n] = (uint32_t)no;
}

/* Turn the trie into the final automaton. */
static void
ac_finish(struct ac *a, struct build *b)
{
	uint32_t *fail, *bfs, *newid, *dfs, s;
	uint64_t tmp[256];

	if (b->n == 0)
		build_node(b, 0);
	fail = xreallocarray(NULL, b->n, sizeof(*fail));
	newid = xreallocarray(NULL, b->n, sizeof(*newid));
	dfs = xreallocarray(NULL, b->n, sizeof(*dfs));
	bfs = build_bfs(b, fail);
	build_dfs(b, newid, dfs);
	for (size_t i = 0; i < b->n; i++)
		dfs[newid[i]] = (uint32_t)i;
	a->n = (uint32_t)b->n;
	a->st = xcalloc(b->n, sizeof(*a->st));
	a->edge = xreallocarray(NULL, b->n, sizeof(*a->edge));
	for (s = 0; s < a->n; s++) {
		a->st[s].fail = newid[fail[dfs[s]]];
		ac_fill_edges(a, b, dfs[s], s, newid, tmp);
	}
	a->edge = xreallocarray(a->edge, a->n_edges + 1, sizeof(*a->edge));
	ac_fill_outs(a, b, dfs);
	/* out links need the fail target done first: breadth-first */
	for (size_t i = 0; i < b->n; i++) {
		s = newid[bfs[i]];
		a->st[s].out = a->out_first[s + 1] > a->out_first[s] ? s :
		    a->st[a->st[s].fail].out;
	}
	free(bfs);
	free(dfs);
	free(newid);
	free(fail);
}

static void
ac_release(struct ac *a)
{
	free(a->st);
	free(a->edge);
	free(a->dense);
	free(a->out_first);
	free(a->out_term);
	memset(a, 0, sizeof(*a));
}

/* One transition, following fail links; 0 (the root) when none. */
static inline uint32_t
ac_step(const struct ac *a, uint32_t s, unsigned char c)
{
	const struct state *st;
	uint32_t nx, e, end;

	for (;;) {
		st = &a->st[s];
		if (st->nedge == 1) {
			if (st->c == c)
				return s + 1;
		} else if (st->nedge == AC_DENSE) {
			if ((nx = a->dense[(size_t)st->edges * 256 + c]) != 0)
				return nx;
		} else {
			for (e = st->edges, end = e + st->nedge; e < end; e++)
				if (a->edge[e].c == c)
					return a->edge[e].to;
		}
		if (s == 0)
			return 0;
		s = st->fail;
	}
}

/* Subscriptions */

enum term_kind { TK_TEXT, TK_AUTHOR, TK_CAT, TK_SOURCE };

/* Where a term hit. */
#define B_TITLE		0x01
#define B_ABSTRACT	0x02
#define B_OTHER		0x04	/* ai_summary, ai_keywords */
#define B_META		0x08	/* author, category, source */
#define B_TEXT		(B_TITLE | B_ABSTRACT | B_OTHER)

struct term {
	unsigned char	 kind;
	bool		 phrase;
	char		*given;		/* author: normalised first names */
};

/* Where a term hit in the current paper (valid when gen is current). */
struct thit {
	uint32_t	 gen;
	unsigned char	 mask;
};

enum { I_LEAF, I_AND, I_OR, I_NOT, I_TRUE };

struct instr {
	uint32_t	 term;
	uint32_t	 display;	/* index in displays */
	unsigned char	 op;
	unsigned char	 need;		/* field bits a leaf accepts */
	bool		 positive;	/* under an even number of NOTs */
};

struct sub {
	uint32_t	 code;		/* m->code[code .. code + n_code) */
	uint32_t	 n_code;
	bool		 always;	/* true when no term hits */
};

/*
 * A positive use of a term by a subscription.  When the subscription is a
 * plain OR of positive leaves that accept every field of their kind (a
 * keywords list, "a OR author:b"), leaf is the leaf's code index: a hit
 * of the term makes that leaf and the subscription true, no evaluation
 * needed.  Otherwise leaf is NONE and the subscription is evaluated.
 */
struct tuse {
	uint32_t	 term;
	uint32_t	 sub;
	uint32_t	 leaf;
};

struct matcher {
	struct sub	*subs;
	size_t		 n_subs;
	struct instr	*code;
	size_t		 n_code;
	size_t		 cap_code;
	struct term	*terms;
	size_t		 n_terms;
	size_t		 cap_terms;
	uint32_t	*tsub_first;	/* n_terms + 1: the subscriptions */
	struct tuse	*term_subs;	/* of term t (positive uses) are */
	size_t		 n_term_subs;	/* term_subs[tsub_first[t]..[t+1]) */
	struct smap	 keys;		/* kind, '*' or '=', key -> term */
	struct smap	 au, au_pre, cat, cat_pre, src, src_pre; /* -> links */
	struct smap	 au_last, au_pre_last;	/* the last names (stems)
						   of au, au_pre's keys */
	struct links	 links;
	struct ac	 ac;
	size_t		 n_patterns;
	struct strvec	 displays;
	struct smap	 dmap;		/* display text -> index */
	uint32_t	*always;
	size_t		 n_always;
	size_t		 max_stack;
	size_t		 max_leaves;
	/* per paper */
	uint32_t	 gen;
	struct thit	*th;
	uint32_t	*hit;
	size_t		 n_hit;
	uint32_t	*sgen;
	uint32_t	*cand;
	bool		*stack;
	const char	**hits;
	uint32_t	*hit_ids;
	uint32_t	*hit_disp;
	uint32_t	*tleaf;		/* true positive leaves (code index) */
	uint64_t	*direct;	/* sub << 32 | leaf, see struct tuse */
	char		*nbuf;
	size_t		 ncap;
	struct buf	 akey;		/* author lookup key */
	size_t		 au_pre_max;	/* longest author prefix stem */
};

/* Compile-time state. */
struct comp {
	struct build	 b;
	struct tuse	*pairs;		/* positive uses of terms */
	size_t		 n_pairs;
	size_t		 cap_pairs;
	struct buf	 norm;
};

static const char *const au_suffixes[] = { "jr", "sr", "ii", "iii", "iv" };

/* The last space in s[0..len), or NULL. */
static const char *
last_space(const char *s, size_t len)
{
	while (len > 0)
		if (s[--len] == ' ')
			return s + len;
	return NULL;
}

/* Length of the author name n (normalised) without a trailing suffix. */
static size_t
strip_suffix(const char *n, size_t len)
{
	const char *sp = last_space(n, len);

	if (sp == NULL)
		return len;
	for (size_t i = 0; i < sizeof(au_suffixes) / sizeof(*au_suffixes);
	    i++)
		if (strlen(au_suffixes[i]) == (size_t)(n + len - sp - 1) &&
		    memcmp(sp + 1, au_suffixes[i], n + len - sp - 1) == 0)
			return (size_t)(sp - n);
	return len;
}

/* Insert " norm " and its plurals (or " norm" for a prefix). */
static void
add_text_patterns(struct comp *c, const char *norm, size_t len, bool prefix,
    uint32_t t)
{
	struct buf p;
	char last = norm[len - 1];

	buf_init(&p);
	buf_addc(&p, ' ');
	buf_add(&p, norm, len);
	if (prefix) {
		build_add(&c->b, p.data, p.len, t);
		buf_release(&p);
		return;
	}
	buf_addc(&p, ' ');
	build_add(&c->b, p.data, p.len, t);
	if (last >= 'a' && last <= 'z') {
		p.len = len + 1;
		buf_adds(&p, "s ");
		build_add(&c->b, p.data, p.len, t);
		p.len = len + 1;
		buf_adds(&p, "es ");
		build_add(&c->b, p.data, p.len, t);
		if (last == 'y' && len >= 2 && norm[len - 2] != ' ' &&
		    strchr("aeiou", norm[len - 2]) == NULL) {
			p.len = len;
			buf_adds(&p, "ies ");
			build_add(&c->b, p.data, p.len, t);
		}
	}
	buf_release(&p);
}

/*
 * Author terms are found by their last name and the first of their given
 * names: given_match needs the term's first given name to equal an author's
 * given name, or one of the two to be the initial of the other.  So a term
 * whose first given name is an initial ("J. Smith") is filed under "smith"
 * AU_INITIAL "j"; a term with a full first name ("John Smith") under
 * "smith" AU_FULL "john" and under "smith" AU_FULL_BY_INITIAL "j"; a term
 * with a last name only under "smith".  An author is looked up under each
 * of its given names: AU_INITIAL + its first byte, and AU_FULL + the name
 * (or AU_FULL_BY_INITIAL + it when the name is an initial).
 */
#define AU_INITIAL		'\x01'
#define AU_FULL			'\x02'
#define AU_FULL_BY_INITIAL	'\x03'

static void
author_key(struct buf *key, const char *last, size_t llen, char kind,
    const char *name, size_t nlen)
{
	buf_reset(key);
	buf_add(key, last, llen);
	if (kind != '\0') {
		buf_addc(key, kind);
		buf_add(key, name, nlen);
	}
}

/* Register a new author term (norm: its normalised text). */
static void
add_author(struct matcher *m, struct term *tm, const char *norm,
    size_t len, bool prefix, uint32_t t)
{
	struct smap *map = prefix ? &m->au_pre : &m->au;
	size_t n = strip_suffix(norm, len), flen;
	const char *sp = last_space(norm, n), *last;

	last = sp != NULL ? sp + 1 : norm;
	if (prefix && (size_t)(norm + n - last) > m->au_pre_max)
		m->au_pre_max = (size_t)(norm + n - last);
	smap_put(prefix ? &m->au_pre_last : &m->au_last, last,
	    (size_t)(norm + n - last));
	if (sp == NULL) {
		author_key(&m->akey, last, n, '\0', NULL, 0);
	} else {
		tm->given = xstrndup(norm, (size_t)(sp - norm));
		flen = strcspn(tm->given, " ");
		if (flen > 1) {
			author_key(&m->akey, last, (size_t)(norm + n - last),
			    AU_FULL_BY_INITIAL, tm->given, 1);
			links_push(&m->links, smap_put(map, m->akey.data,
			    m->akey.len), t);
		}
		author_key(&m->akey, last, (size_t)(norm + n - last),
		    flen > 1 ? AU_FULL : AU_INITIAL, tm->given, flen);
	}
	links_push(&m->links, smap_put(map, m->akey.data, m->akey.len), t);
}

/* The term id of a leaf, creating the term (and its patterns) if new. */
static uint32_t
intern_term(struct matcher *m, struct comp *c, const struct query_node *q)
{
	enum term_kind k = q->field == QUERY_FIELD_AUTHOR ? TK_AUTHOR :
	    q->field == QUERY_FIELD_CAT ? TK_CAT :
	    q->field == QUERY_FIELD_SOURCE ? TK_SOURCE : TK_TEXT;
	uint32_t *slot, t;
	struct term *tm;
	const char *key;
	size_t klen;

	buf_reset(&c->norm);
	buf_addc(&c->norm, (char)('0' + k));
	buf_addc(&c->norm, q->prefix ? '*' : '=');
	if (k == TK_TEXT || k == TK_AUTHOR) {
		match_normalize(q->text, strlen(q->text), &c->norm);
	} else {
		for (const char *s = q->text; *s != '\0'; s++)
			buf_addc(&c->norm, (*s >= 'A' && *s <= 'Z') ?
			    (char)(*s + 'a' - 'A') : *s);
	}
	slot = smap_put(&m->keys, c->norm.data, c->norm.len);
	if (*slot != NONE)
		return *slot;
	if (m->n_terms == m->cap_terms) {
		m->cap_terms = m->cap_terms ? m->cap_terms * 2 : 64;
		m->terms = xreallocarray(m->terms, m->cap_terms,
		    sizeof(*m->terms));
	}
	t = *slot = (uint32_t)m->n_terms++;
	tm = &m->terms[t];
	memset(tm, 0, sizeof(*tm));
	tm->kind = (unsigned char)k;
	key = c->norm.data + 2;
	klen = c->norm.len - 2;
	tm->phrase = memchr(key, ' ', klen) != NULL;
	if (k == TK_TEXT)
		add_text_patterns(c, key, klen, q->prefix, t);
	else if (k == TK_AUTHOR)
		add_author(m, tm, key, klen, q->prefix, t);
	else if (k == TK_CAT)
		links_push(&m->links, smap_put(q->prefix ? &m->cat_pre :
		    &m->cat, key, klen), t);
	else
		links_push(&m->links, smap_put(q->prefix ? &m->src_pre :
		    &m->src, key, klen), t);
	return t;
}

/* The index of the leaf's display text ("diffus*"), shared when equal. */
static uint32_t
intern_display(struct matcher *m, const struct query_node *q)
{
	char *d = xasprintf("%s%s", q->text, q->prefix ? "*" : "");
	uint32_t *slot = smap_put(&m->dmap, d, strlen(d));

	if (*slot == NONE) {
		*slot = (uint32_t)m->displays.n;
		strvec_push_take(&m->displays, d);
	} else {
		free(d);
	}
	return *slot;
}

static struct instr *
emit(struct matcher *m, unsigned char op)
{
	if (m->n_code == m->cap_code) {
		m->cap_code = m->cap_code ? m->cap_code * 2 : 256;
		m->code = xreallocarray(m->code, m->cap_code,
		    sizeof(*m->code));
	}
	memset(&m->code[m->n_code], 0, sizeof(*m->code));
	m->code[m->n_code].op = op;
	return &m->code[m->n_code++];
}

static unsigned char
leaf_need(enum query_field f)
{
	switch (f) {
	case QUERY_FIELD_TEXT:
		return B_TEXT;
	case QUERY_FIELD_TITLE:
		return B_TITLE;
	case QUERY_FIELD_ABSTRACT:
		return B_ABSTRACT;
	default:
		return B_META;
	}
}

static void
add_pair(struct comp *c, uint32_t term, size_t sub, uint32_t leaf)
{
	if (c->n_pairs == c->cap_pairs) {
		c->cap_pairs = c->cap_pairs ? c->cap_pairs * 2 : 256;
		c->pairs = xreallocarray(c->pairs, c->cap_pairs,
		    sizeof(*c->pairs));
	}
	c->pairs[c->n_pairs++] = (struct tuse){ .term = term,
	    .sub = (uint32_t)sub, .leaf = leaf };
}

/* Postfix code for q (recursion depth: the tree's, bounded by the parser). */
static void
compile_node(struct matcher *m, struct comp *c, const struct query_node *q,
    bool positive, size_t sub)
{
	struct instr *in;
	uint32_t t;

	switch (q->op) {
	case QUERY_TERM:
		t = intern_term(m, c, q);
		in = emit(m, I_LEAF);
		in->term = t;
		in->need = leaf_need(q->field);
		in->positive = positive;
		in->display = intern_display(m, q);
		if (positive)
			add_pair(c, t, sub, (uint32_t)(m->n_code - 1));
		break;
	case QUERY_NOT:
		compile_node(m, c, q->a, !positive, sub);
		emit(m, I_NOT);
		break;
	case QUERY_AND:
	case QUERY_OR:
		compile_node(m, c, q->a, positive, sub);
		compile_node(m, c, q->b, positive, sub);
		emit(m, q->op == QUERY_AND ? I_AND : I_OR);
		break;
	}
}

static bool
leaf_true(const struct matcher *m, const struct instr *in)
{
	const struct thit *h = &m->th[in->term];

	return h->gen == m->gen && (h->mask & in->need) != 0;
}

/*
 * Run a subscription's program; with none, as if no term had hit.  The
 * positive leaves found true go to m->tleaf (their count to *ntl) when
 * ntl is not NULL.
 */
static bool
eval_sub(struct matcher *m, const struct sub *s, bool none, size_t *ntl)
{
	const struct instr *in = m->code + s->code;
	bool *st = m->stack, v;
	size_t sp = 0;

	for (uint32_t i = 0; i < s->n_code; i++, in++) {
		switch (in->op) {
		case I_LEAF:
			v = !none && leaf_true(m, in);
			st[sp++] = v;
			if (v && in->positive && ntl != NULL)
				m->tleaf[(*ntl)++] = s->code + i;
			break;
		case I_TRUE:
			st[sp++] = true;
			break;
		case I_NOT:
			st[sp - 1] = !st[sp - 1];
			break;
		case I_AND:
			sp--;
			st[sp - 1] = st[sp - 1] && st[sp];
			break;
		case I_OR:
			sp--;
			st[sp - 1] = st[sp - 1] || st[sp];
			break;
		}
	}
	return st[0];
}

/* Stack depth and leaf count of the program just compiled. */
static void
code_limits(struct matcher *m, const struct sub *s)
{
	size_t sp = 0, max = 0, leaves = 0;

	for (uint32_t i = s->code; i < s->code + s->n_code; i++) {
		switch (m->code[i].op) {
		case I_LEAF:
			leaves++;
			/* FALLTHROUGH */
		case I_TRUE:
			if (++sp > max)
				max = sp;
			break;
		case I_AND:
		case I_OR:
			sp--;
			break;
		}
	}
	if (max > m->max_stack)
		m->max_stack = max;
	if (leaves > m->max_leaves)
		m->max_leaves = leaves;
}

/* An OR of the terms of a keywords/exclude list; NULL and err if bad. */
static int
term_list(const char *const *v, size_t n, const char *what,
    struct query_node **out, char *err, size_t errlen)
{
	struct query_node *t;
	char why[256];

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		t = query_term_new(QUERY_FIELD_TEXT, v[i], why, sizeof(why));
		if (t == NULL) {
			snprintf(err, errlen, "%s[%zu]: %s", what, i, why);
			query_free(*out);
			*out = NULL;
			return -1;
		}
		*out = *out == NULL ? t : query_node_new(QUERY_OR, *out, t);
	}
	return 0;
}

/* The whole expression of a spec: (query OR keywords) AND NOT exclude. */
static int
spec_tree(const struct match_spec *sp, struct query_node **out, char *err,
    size_t errlen)
{
	struct query_node *q = NULL, *kw = NULL, *ex = NULL;
	char why[256];
	int col;

	*out = NULL;
	if (sp->query != NULL &&
	    (q = query_parse(sp->query, why, sizeof(why), &col)) == NULL) {
		snprintf(err, errlen, "query: %s", why);
		return -1;
	}
	if (term_list(sp->keywords, sp->n_keywords, "keywords", &kw, err,
	    errlen) < 0 || term_list(sp->exclude, sp->n_exclude, "exclude",
	    &ex, err, errlen) < 0) {
		query_free(q);
		query_free(kw);
		return -1;
	}
	if (q != NULL && kw != NULL)
		q = query_node_new(QUERY_OR, q, kw);
	else if (kw != NULL)
		q = kw;
	if (ex != NULL)
		ex = query_node_new(QUERY_NOT, ex, NULL);
	if (q != NULL && ex != NULL)
		q = query_node_new(QUERY_AND, q, ex);
	*out = q != NULL ? q : ex;	/* NULL: everything matches */
	return 0;
}

/* Is the program an OR of positive leaves, each taking any field? */
static bool
plain_or(const struct matcher *m, const struct sub *s)
{
	const struct instr *in = m->code + s->code;

	for (uint32_t i = 0; i < s->n_code; i++, in++)
		if ((in->op == I_LEAF && (!in->positive ||
		    (in->need != B_TEXT && in->need != B_META))) ||
		    (in->op != I_LEAF && in->op != I_OR))
			return false;
	return true;
}

static int
compile_spec(struct matcher *m, struct comp *c, const struct match_spec *sp,
    size_t i, char *err, size_t errlen)
{
	struct query_node *q;
	struct sub *s = &m->subs[i];

	size_t first_pair = c->n_pairs;

	if (spec_tree(sp, &q, err, errlen) < 0)
		return -1;
	s->code = (uint32_t)m->n_code;
	if (q == NULL)
		emit(m, I_TRUE);
	else
		compile_node(m, c, q, true, i);
	s->n_code = (uint32_t)(m->n_code - s->code);
	query_free(q);
	code_limits(m, s);
	if (!plain_or(m, s))
		for (size_t k = first_pair; k < c->n_pairs; k++)
			c->pairs[k].leaf = NONE;
	return 0;
}

static int
cmp_tuse(const void *x, const void *y)
{
	const struct tuse *a = x, *b = y;

	if (a->term != b->term)
		return a->term < b->term ? -1 : 1;
	if (a->sub != b->sub)
		return a->sub < b->sub ? -1 : 1;
	return a->leaf < b->leaf ? -1 : a->leaf > b->leaf;
}

/* term -> its positive uses, as one sorted array without repeats. */
static void
index_terms(struct matcher *m, struct comp *c)
{
	const struct tuse *prev = NULL, *u;
	size_t t = 0;

	if (c->n_pairs > 1)
		qsort(c->pairs, c->n_pairs, sizeof(*c->pairs), cmp_tuse);
	m->term_subs = xreallocarray(NULL, c->n_pairs + 1,
	    sizeof(*m->term_subs));
	m->tsub_first = xcalloc(m->n_terms + 1, sizeof(*m->tsub_first));
	for (size_t i = 0; i < c->n_pairs; prev = u, i++) {
		u = &c->pairs[i];
		if (prev != NULL && cmp_tuse(prev, u) == 0)
			continue;
		while (t <= u->term)
			m->tsub_first[t++] = (uint32_t)m->n_term_subs;
		m->term_subs[m->n_term_subs++] = *u;
	}
	while (t <= m->n_terms)
		m->tsub_first[t++] = (uint32_t)m->n_term_subs;
}

/* Subscriptions that hold with no hits; then the per-paper scratch. */
static void
finish(struct matcher *m)
{
	m->stack = xcalloc(m->max_stack + 1, sizeof(*m->stack));
	m->always = xcalloc(m->n_subs + 1, sizeof(*m->always));
	for (size_t i = 0; i < m->n_subs; i++) {
		m->subs[i].always = eval_sub(m, &m->subs[i], true, NULL);
		if (m->subs[i].always)
			m->always[m->n_always++] = (uint32_t)i;
	}
	m->th = xcalloc(m->n_terms + 1, sizeof(*m->th));
	m->hit = xcalloc(m->n_terms + 1, sizeof(*m->hit));
	m->sgen = xcalloc(m->n_subs + 1, sizeof(*m->sgen));
	m->cand = xcalloc(m->n_subs + 1, sizeof(*m->cand));
	m->hits = xcalloc(m->max_leaves + 1, sizeof(*m->hits));
	m->hit_ids = xcalloc(m->max_leaves + 1, sizeof(*m->hit_ids));
	m->hit_disp = xcalloc(m->max_leaves + 1, sizeof(*m->hit_disp));
	m->tleaf = xcalloc(m->max_leaves + 1, sizeof(*m->tleaf));
	m->direct = xcalloc(m->n_term_subs + 1, sizeof(*m->direct));
	m->gen = 1;
}

static void
comp_release(struct comp *c)
{
	free(c->b.v);
	free(c->b.outs.v);
	free(c->pairs);
	buf_release(&c->norm);
}

struct matcher *
match_new(const struct match_spec *specs, size_t n, char *err,
    size_t errlen, size_t *bad)
{
	struct matcher *m = xcalloc(1, sizeof(*m));
	struct comp c;
	char why[512];

	memset(&c, 0, sizeof(c));
	buf_init(&c.norm);
	strvec_init(&m->displays);
	buf_init(&m->akey);
	m->subs = xcalloc(n + 1, sizeof(*m->subs));
	m->n_subs = n;
	for (size_t i = 0; i < n; i++) {
		if (compile_spec(m, &c, &specs[i], i, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "subscription '%s': %s",
			    specs[i].name != NULL ? specs[i].name : "?", why);
			if (bad != NULL)
				*bad = i;
			comp_release(&c);
			match_free(m);
			return NULL;
		}
	}
	m->n_patterns = c.b.n_patterns;
	ac_finish(&m->ac, &c.b);
	index_terms(m, &c);
	comp_release(&c);
	finish(m);
	return m;
}

void
match_free(struct matcher *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n_terms; i++)
		free(m->terms[i].given);
	free(m->terms);
	free(m->subs);
	free(m->code);
	free(m->term_subs);
	smap_release(&m->keys);
	smap_release(&m->au);
	smap_release(&m->au_pre);
	smap_release(&m->au_last);
	smap_release(&m->au_pre_last);
	smap_release(&m->cat);
	smap_release(&m->cat_pre);
	smap_release(&m->src);
	smap_release(&m->src_pre);
	free(m->links.v);
	ac_release(&m->ac);
	strvec_release(&m->displays);
	smap_release(&m->dmap);
	free(m->always);
	free(m->stack);
	free(m->th);
	free(m->tsub_first);
	free(m->hit);
	free(m->sgen);
	free(m->cand);
	free(m->hits);
	free(m->hit_ids);
	free(m->hit_disp);
	free(m->tleaf);
	free(m->direct);
	free(m->nbuf);
	buf_release(&m->akey);
	free(m);
}

/* Per paper */

static inline void
record(struct matcher *m, uint32_t t, unsigned char bit)
{
	struct thit *h = &m->th[t];

	if (h->gen != m->gen) {
		h->gen = m->gen;
		h->mask = 0;
		m->hit[m->n_hit++] = t;
	}
	h->mask |= bit;
}

/* Normalise s (padded) into the matcher's scratch; returns its length. */
static size_t
norm_scratch(struct matcher *m, const char *s, size_t len)
{
	if (len + 3 > m->ncap) {
		m->ncap = len + 3 > 2 * m->ncap ? len + 3 : 2 * m->ncap;
		free(m->nbuf);
		m->nbuf = xmalloc(m->ncap);
	}
	return norm_into(s, len, m->nbuf, true);
}

static void
scan_text(struct matcher *m, const char *s, unsigned char bit)
{
	const struct ac *a = &m->ac;
	const char *t;
	uint32_t st = 0, o, e;
	size_t n;

	if (s == NULL || *s == '\0' || a->n <= 1)
		return;
	n = norm_scratch(m, s, strlen(s));
	t = m->nbuf;
	for (size_t i = 0; i < n; i++) {
		if (st == 0 && t[i] != ' ') {
			/*
			 * Every pattern starts with a space, the root's only
			 * edge: skip the rest of the word (a loop, not
			 * memchr: words are short).
			 */
			while (i < n && t[i] != ' ')
				i++;
			if (i == n)
				break;
		}
		st = ac_step(a, st, (unsigned char)t[i]);
		for (o = a->st[st].out; o != 0; o = a->st[a->st[o].fail].out)
			for (e = a->out_first[o]; e < a->out_first[o + 1]; e++)
				record(m, a->out_term[e], bit);
	}
}

/* Does the term's first-name part fit the author's (tokens, in order)? */
static bool
given_match(const char *q, const char *a, size_t alen)
{
	const char *ae = a + alen, *qe, *te;
	size_t ql, tl;

	while (*q != '\0') {
		qe = strchr(q, ' ');
		ql = qe != NULL ? (size_t)(qe - q) : strlen(q);
		for (;;) {
			if (a >= ae)
				return false;
			te = memchr(a, ' ', (size_t)(ae - a));
			tl = te != NULL ? (size_t)(te - a) : (size_t)(ae - a);
			if ((ql == tl && memcmp(q, a, ql) == 0) ||
			    ((ql == 1 || tl == 1) && q[0] == a[0])) {
				a += tl + (te != NULL);
				break;
			}
			a += tl + (te != NULL);
		}
		q += ql + (qe != NULL);
	}
	return true;
}

/* The author terms filed under key, checked against the given names. */
static void
author_try(struct matcher *m, const struct smap *map, const char *given,
    size_t glen)
{
	uint32_t *head = smap_find(map, m->akey.data, m->akey.len);
	const struct term *tm;

	for (uint32_t l = head != NULL ? *head : NONE; l != NONE;
	    l = m->links.v[l].next) {
		tm = &m->terms[m->links.v[l].term];
		if (tm->given == NULL || given_match(tm->given, given, glen))
			record(m, m->links.v[l].term, B_META);
	}
}

/* The last name (or its prefix of llen bytes) under every key. */
static void
author_keys(struct matcher *m, const struct smap *map, const char *last,
    size_t llen, const char *given, size_t glen)
{
	size_t i = 0, tl;

	/* every key starts with a last name: none can hit without it */
	if (smap_find(map == &m->au ? &m->au_last : &m->au_pre_last, last,
	    llen) == NULL)
		return;
	author_key(&m->akey, last, llen, '\0', NULL, 0);
	author_try(m, map, given, glen);
	while (i < glen) {
		tl = strcspn(given + i, " ");
		if (tl > glen - i)
			tl = glen - i;
		author_key(&m->akey, last, llen, AU_INITIAL, given + i, 1);
		author_try(m, map, given, glen);
		author_key(&m->akey, last, llen, tl > 1 ? AU_FULL :
		    AU_FULL_BY_INITIAL, given + i, tl);
		author_try(m, map, given, glen);
		i += tl + 1;
	}
}

static void
scan_author(struct matcher *m, const char *name)
{
	const char *s, *last;
	size_t n, glen, llen;

	if (name == NULL || *name == '\0' ||
	    (n = strlen(name)) > MATCH_MAX_AUTHOR)
		return;
	n = norm_scratch(m, name, n);
	s = m->nbuf + 1;			/* skip the padding */
	n = n >= 2 ? strip_suffix(s, n - 2) : 0;
	if (n == 0)
		return;
	last = last_space(s, n);
	glen = last != NULL ? (size_t)(last - s) : 0;
	last = last != NULL ? last + 1 : s;
	llen = (size_t)(s + n - last);
	if (m->au.n > 0)
		author_keys(m, &m->au, last, llen, s, glen);
	for (size_t k = 1; m->au_pre.n > 0 && k <= llen &&
	    k <= m->au_pre_max; k++)
		author_keys(m, &m->au_pre, last, k, s, glen);
}

static void
lookup_list(struct matcher *m, const struct smap *map, const char *k,
    size_t n)
{
	uint32_t *head = smap_find(map, k, n);

	for (uint32_t l = head != NULL ? *head : NONE; l != NONE;
	    l = m->links.v[l].next)
		record(m, m->links.v[l].term, B_META);
}

/* A category or source name s (ASCII case folded): exact and prefixes. */
static void
scan_name(struct matcher *m, const struct smap *exact,
    const struct smap *pre, const char *s)
{
	char low[128] = "";
	size_t n = 0;

	if (s == NULL || (exact->n == 0 && pre->n == 0))
		return;
	for (; s[n] != '\0' && n < sizeof(low); n++)
		low[n] = (s[n] >= 'A' && s[n] <= 'Z') ?
		    (char)(s[n] + 'a' - 'A') : s[n];
	if (s[n] != '\0')
		return;			/* longer than any sane name */
	lookup_list(m, exact, low, n);
	for (size_t k = 1; pre->n != 0 && k <= n; k++)
		lookup_list(m, pre, low, k);
}

static double
term_score(const struct matcher *m, uint32_t t)
{
	const struct term *tm = &m->terms[t];
	unsigned char b = m->th[t].mask;

	switch (tm->kind) {
	case TK_TEXT:
		return (tm->phrase ? 2.0 : 1.0) * ((b & B_TITLE ? 3 : 0) +
		    (b & (B_ABSTRACT | B_OTHER) ? 1 : 0));
	case TK_AUTHOR:
		return 3.0;
	case TK_CAT:
		return 0.5;
	default:
		return 0.0;
	}
}

/*
 * Score and hits of a matching subscription from its ntl true positive
 * leaves (m->tleaf), then the callback.  Displays are interned, so equal
 * texts have equal indexes.
 */
static void
report(struct matcher *m, uint32_t si, size_t ntl, const struct paper *p,
    match_cb cb, void *arg)
{
	struct match_result r = { .sub = si, .hits = m->hits };
	const struct instr *in;
	size_t n_ids = 0, n_disp = 0, j;

	for (size_t i = 0; i < ntl; i++) {
		in = &m->code[m->tleaf[i]];
		for (j = 0; j < n_ids && m->hit_ids[j] != in->term; j++)
			;
		if (j == n_ids) {
			m->hit_ids[n_ids++] = in->term;
			r.score += term_score(m, in->term);
		}
		for (j = 0; j < n_disp && m->hit_disp[j] != in->display; j++)
			;
		if (j == n_disp) {
			m->hit_disp[n_disp++] = in->display;
			m->hits[r.n_hits++] = m->displays.v[in->display];
		}
	}
	if (p->upvotes > 0)
		r.score += log2(1.0 + p->upvotes);
	cb(&r, arg);
}

static int
cmp_u32(const void *x, const void *y)
{
	const uint32_t *a = x, *b = y;

	return *a < *b ? -1 : *a > *b;
}

static int
cmp_u64(const void *x, const void *y)
{
	const uint64_t *a = x, *b = y;

	return *a < *b ? -1 : *a > *b;
}

/*
 * Sorts of the few numbers a paper gives (a sorted result does not depend
 * on the algorithm): insertion sort inline, qsort for long arrays.
 */
#define SORT_INLINE_MAX	48

static void
sort_u32(uint32_t *v, size_t n)
{
	if (n > SORT_INLINE_MAX) {
		qsort(v, n, sizeof(*v), cmp_u32);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		uint32_t x = v[i];
		size_t j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static void
sort_u64(uint64_t *v, size_t n)
{
	if (n > SORT_INLINE_MAX) {
		qsort(v, n, sizeof(*v), cmp_u64);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		uint64_t x = v[i];
		size_t j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static void
next_gen(struct matcher *m)
{
	if (++m->gen == 0) {		/* wrapped: forget every stamp */
		memset(m->th, 0, (m->n_terms + 1) * sizeof(*m->th));
		memset(m->sgen, 0, (m->n_subs + 1) * sizeof(*m->sgen));
		m->gen = 1;
	}
	m->n_hit = 0;
}

/* Every field of p through the automaton and the tables. */
static void
scan_paper(struct matcher *m, const struct paper *p, const char *source)
{
	scan_text(m, p->title, B_TITLE);
	scan_text(m, p->summary, B_ABSTRACT);
	scan_text(m, p->ai_summary, B_OTHER);
	for (size_t i = 0; i < p->ai_keywords.n; i++)
		scan_text(m, p->ai_keywords.v[i], B_OTHER);
	for (size_t i = 0; m->au.n + m->au_pre.n > 0 && i < p->n_authors; i++)
		scan_author(m, p->authors[i].name);
	scan_name(m, &m->cat, &m->cat_pre, p->primary_category);
	for (size_t i = 0; i < p->categories.n; i++)
		scan_name(m, &m->cat, &m->cat_pre, p->categories.v[i]);
	if (source != NULL)
		scan_name(m, &m->src, &m->src_pre, source);
	for (size_t i = 0; source == NULL && i < p->sources.n; i++)
		scan_name(m, &m->src, &m->src_pre, p->sources.v[i]);
}

/*
 * The subscriptions the terms that hit point to: plain ORs straight into
 * m->direct as (sub, leaf), the others (and the always-evaluated ones)
 * into m->cand.  Returns the number of candidates; *nd the direct uses.
 */
static size_t
collect(struct matcher *m, size_t *nd)
{
	const struct tuse *u;
	size_t nc = 0;
	uint32_t t;

	*nd = 0;
	for (size_t i = 0; i < m->n_hit; i++) {
		t = m->hit[i];
		for (uint32_t j = m->tsub_first[t]; j < m->tsub_first[t + 1];
		    j++) {
			u = &m->term_subs[j];
			if (u->leaf != NONE) {
				m->direct[(*nd)++] = (uint64_t)u->sub << 32 |
				    u->leaf;
			} else if (m->sgen[u->sub] != m->gen) {
				m->sgen[u->sub] = m->gen;
				m->cand[nc++] = u->sub;
			}
		}
	}
	for (size_t i = 0; i < m->n_always; i++)
		if (m->sgen[m->always[i]] != m->gen) {
			m->sgen[m->always[i]] = m->gen;
			m->cand[nc++] = m->always[i];
		}
	sort_u32(m->cand, nc);
	sort_u64(m->direct, *nd);
	return nc;
}

void
match_paper(struct matcher *m, const struct paper *p, const char *source,
    match_cb cb, void *arg)
{
	size_t nc, nd, i = 0, k = 0, ntl;
	uint32_t s;

	next_gen(m);
	scan_paper(m, p, source);
	nc = collect(m, &nd);
	while (i < nc || k < nd) {	/* merge both, in subscription order */
		ntl = 0;
		if (i == nc || (k < nd && (m->direct[k] >> 32) < m->cand[i])) {
			s = (uint32_t)(m->direct[k] >> 32);
			while (k < nd && (m->direct[k] >> 32) == s)
				m->tleaf[ntl++] = (uint32_t)m->direct[k++];
			report(m, s, ntl, p, cb, arg);
		} else {
			s = m->cand[i++];
			if (eval_sub(m, &m->subs[s], false, &ntl))
				report(m, s, ntl, p, cb, arg);
		}
	}
}

static size_t
smap_bytes(const struct smap *s)
{
	size_t n = s->cap * (sizeof(char *) + 2 * sizeof(uint32_t));

	for (size_t i = 0; i < s->cap; i++)
		if (s->keys[i] != NULL)
			n += s->klen[i] + 1;
	return n;
}

void
match_stats(const struct matcher *m, struct match_stats *st)
{
	const struct ac *a = &m->ac;

	memset(st, 0, sizeof(*st));
	st->n_subs = m->n_subs;
	st->n_terms = m->n_terms;
	st->n_patterns = m->n_patterns;
	st->n_states = a->n;
	st->n_always = m->n_always;
	st->bytes = sizeof(*m) + a->n * (sizeof(struct state) + 4) +
	    a->n_edges * sizeof(struct edge) + (size_t)a->n_dense * 256 * 4 +
	    a->out_first[a->n] * 4 + m->n_terms * (sizeof(struct term) +
	    sizeof(struct thit) + 8) + m->cap_code * sizeof(struct instr) +
	    m->n_term_subs * (sizeof(struct tuse) + 8) +
	    m->links.cap * sizeof(struct link) +
	    m->n_subs * (sizeof(struct sub) + 12) + smap_bytes(&m->dmap) +
	    smap_bytes(&m->keys) + smap_bytes(&m->au) + smap_bytes(&m->cat) +
	    smap_bytes(&m->src) + smap_bytes(&m->au_pre) +
	    smap_bytes(&m->cat_pre) + smap_bytes(&m->src_pre) +
	    smap_bytes(&m->au_last) + smap_bytes(&m->au_pre_last);
	for (size_t i = 0; i < m->displays.n; i++)
		st->bytes += strlen(m->displays.v[i]) + 1 + sizeof(char *);
}
