/*
 * query.c: the subscription query language (see query.h for the grammar).
 *
 * A hand-written lexer with one token of look-ahead feeds a recursive
 * descent parser: or := and {OR and}; and := unary {[AND|ANDNOT] unary};
 * unary := (NOT|'-') unary | primary; primary := '(' or ')' | term |
 * field:'(' or ')'.  Recursion is bounded by QUERY_MAX_DEPTH and the input
 * by QUERY_MAX_LEN, so hostile input costs bounded stack and memory.
 */
#include "query.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../feeds/util.h"
#include "match.h"

enum tok_type {
	T_END,
	T_ERR,
	T_LPAREN,
	T_RPAREN,
	T_AND,
	T_OR,
	T_NOT,
	T_ANDNOT,
	T_MINUS,
	T_TERM,		/* [field:]word or [field:]"phrase" */
	T_FIELD,	/* field: directly followed by '(' */
};

struct tok {
	enum tok_type	 type;
	size_t		 off;		/* byte offset of the token */
	size_t		 text_off;	/* T_TERM: the term's text */
	size_t		 text_len;
	int		 field;		/* explicit field or -1 */
	bool		 quoted;
	bool		 prefix;
};

struct parser {
	const char	*s;
	size_t		 len;
	size_t		 pos;
	struct tok	 look;
	bool		 have_look;
	int		 depth;
	enum query_field field;		/* default field inside field:(...) */
	bool		 failed;
	char		*err;
	size_t		 errlen;
	int		*column;
	const char	*hint;		/* appended after the column, or NULL */
	struct buf	 norm;		/* scratch for term validation */
};

static const struct {
	const char	*name;
	enum query_field field;
} field_names[] = {
	{ "title", QUERY_FIELD_TITLE },
	{ "ti", QUERY_FIELD_TITLE },
	{ "abstract", QUERY_FIELD_ABSTRACT },
	{ "abs", QUERY_FIELD_ABSTRACT },
	{ "author", QUERY_FIELD_AUTHOR },
	{ "au", QUERY_FIELD_AUTHOR },
	{ "cat", QUERY_FIELD_CAT },
	{ "source", QUERY_FIELD_SOURCE },
	{ "all", QUERY_FIELD_TEXT },
};

static const char *const tok_names[] = {
	[T_AND] = "AND", [T_OR] = "OR", [T_NOT] = "NOT", [T_ANDNOT] = "ANDNOT",
	[T_MINUS] = "-",
};

/* 1-based column, in characters, of byte offset off. */
static int
column_of(const char *s, size_t off)
{
	int col = 1;

	for (size_t i = 0; i < off; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			col++;
	return col;
}

static void
perr(struct parser *P, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record the first error: "REASON at column N". */
static void
perr(struct parser *P, size_t off, const char *fmt, ...)
{
	char reason[256];
	va_list ap;
	int col;

	if (P->failed)
		return;
	P->failed = true;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	col = column_of(P->s, off);
	if (P->column != NULL)
		*P->column = col;
	if (P->err != NULL && P->errlen > 0)
		snprintf(P->err, P->errlen, "%s at column %d%s", reason, col,
		    P->hint != NULL ? P->hint : "");
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Ends an unquoted word. */
static bool
is_delim(char c)
{
	return is_space(c) || c == '(' || c == ')' || c == '"';
}

/* Reject control characters and invalid UTF-8 before lexing. */
static bool
check_bytes(struct parser *P)
{
	size_t i = 0, n;
	uint32_t cp;

	while (i < P->len) {
		n = utf8_decode(P->s + i, P->len - i, &cp);
		if (n == 0) {
			perr(P, i, "invalid UTF-8");
			return false;
		}
		if ((cp < 0x20 && !is_space((char)cp)) || cp == 0x7f) {
			perr(P, i, "control character");
			return false;
		}
		i += n;
	}
	return true;
}

static int
field_lookup(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(field_names) / sizeof(field_names[0]);
	    i++)
		if (strlen(field_names[i].name) == n &&
		    strncasecmp(field_names[i].name, s, n) == 0)
			return (int)field_names[i].field;
	return -1;
}

/* Lex "..." starting at the quote at off into t. */
static void
lex_phrase(struct parser *P, size_t off, struct tok *t)
{
	const char *q = memchr(P->s + off + 1, '"', P->len - off - 1);
	size_t end;

	if (q == NULL) {
		perr(P, off, "unterminated quote");
		t->type = T_ERR;
		return;
	}
	end = (size_t)(q - P->s);
	t->type = T_TERM;
	t->quoted = true;
	t->text_off = off + 1;
	t->text_len = end - off - 1;
	P->pos = end + 1;
	if (P->pos < P->len && P->s[P->pos] == '*') {
		t->prefix = true;
		P->pos++;
	} else if (t->text_len > 0 && P->s[end - 1] == '*') {
		t->prefix = true;
		t->text_len--;
	}
	if (P->pos < P->len && P->s[P->pos] == '*') {
		perr(P, P->pos, "'*' is only allowed at the end of a term");
		t->type = T_ERR;
	} else if (t->text_len == 0) {
		perr(P, off, "empty phrase");
		t->type = T_ERR;
	}
}

/* "word:" at the start of a word: returns the field, -2 if none, -3 bad. */
static int
lex_field(struct parser *P, size_t off, size_t end, size_t *colon)
{
	size_t i = off;
	int f;

	while (i < end && ((P->s[i] >= 'a' && P->s[i] <= 'z') ||
	    (P->s[i] >= 'A' && P->s[i] <= 'Z')))
		i++;
	if (i == off || i == end || P->s[i] != ':')
		return -2;
	f = field_lookup(P->s + off, i - off);
	if (f < 0) {
		P->hint = " (fields: title, abstract, author, cat, source, "
		    "ti, abs, au, all; quote a term to search for a colon)";
		perr(P, off, "unknown field '%.*s:'",
		    (int)(i - off > 32 ? 32 : i - off), P->s + off);
		return -3;
	}
	*colon = i;
	return f;
}

/* Lex an unquoted word (maybe with a field) from off into t. */
static void
lex_word(struct parser *P, size_t off, struct tok *t)
{
	size_t end = off, colon = 0, star;
	int f;

	while (end < P->len && !is_delim(P->s[end]))
		end++;
	f = lex_field(P, off, end, &colon);
	if (f == -3) {
		t->type = T_ERR;
		return;
	}
	t->type = T_TERM;
	t->text_off = off;
	if (f >= 0) {
		t->field = f;
		t->text_off = colon + 1;
		if (colon + 1 == end) {
			P->pos = end;
			if (end < P->len && P->s[end] == '"') {
				lex_phrase(P, end, t);
				return;
			}
			if (end < P->len && P->s[end] == '(') {
				t->type = T_FIELD;
				return;
			}
			perr(P, off, "missing term after '%.*s'",
			    (int)(end - off), P->s + off);
			t->type = T_ERR;
			return;
		}
	}
	t->text_len = end - t->text_off;
	P->pos = end;
	if (P->s[end - 1] == '*') {
		t->prefix = true;
		t->text_len--;
	}
	star = t->text_off;
	while (star < t->text_off + t->text_len && P->s[star] != '*')
		star++;
	if (star < t->text_off + t->text_len || t->text_len == 0) {
		perr(P, star, t->text_len == 0 ? "missing term before '*'" :
		    "'*' is only allowed at the end of a term");
		t->type = T_ERR;
	}
}

static enum tok_type
op_word(const char *s, size_t n)
{
	if (n == 3 && memcmp(s, "AND", 3) == 0)
		return T_AND;
	if (n == 2 && memcmp(s, "OR", 2) == 0)
		return T_OR;
	if (n == 3 && memcmp(s, "NOT", 3) == 0)
		return T_NOT;
	if (n == 6 && memcmp(s, "ANDNOT", 6) == 0)
		return T_ANDNOT;
	return T_TERM;
}

static void
lex(struct parser *P, struct tok *t)
{
	size_t off, end;
	char c;

	memset(t, 0, sizeof(*t));
	t->field = -1;
	while (P->pos < P->len && is_space(P->s[P->pos]))
		P->pos++;
	off = t->off = P->pos;
	if (off >= P->len) {
		t->type = T_END;
		return;
	}
	c = P->s[off];
	if (c == '(' || c == ')') {
		t->type = c == '(' ? T_LPAREN : T_RPAREN;
		P->pos++;
		return;
	}
	if (c == '"') {
		lex_phrase(P, off, t);
		return;
	}
	if (c == '-') {
		if (off + 1 < P->len && !is_space(P->s[off + 1]) &&
		    P->s[off + 1] != ')') {
			t->type = T_MINUS;
			P->pos++;
			return;
		}
		perr(P, off, "missing term after '-'");
		t->type = T_ERR;
		return;
	}
	end = off;
	while (end < P->len && !is_delim(P->s[end]))
		end++;
	t->type = op_word(P->s + off, end - off);
	if (t->type != T_TERM) {
		P->pos = end;
		return;
	}
	lex_word(P, off, t);
}

static struct tok *
peek(struct parser *P)
{
	if (!P->have_look) {
		if (P->failed) {
			memset(&P->look, 0, sizeof(P->look));
			P->look.type = T_ERR;
		} else {
			lex(P, &P->look);
		}
		P->have_look = true;
	}
	return &P->look;
}

static struct tok
next(struct parser *P)
{
	struct tok t = *peek(P);

	if (t.type != T_ERR)
		P->have_look = false;
	return t;
}

static bool
starts_unary(enum tok_type t)
{
	return t == T_TERM || t == T_LPAREN || t == T_NOT || t == T_MINUS ||
	    t == T_FIELD;
}

struct query_node *
query_node_new(enum query_op op, struct query_node *a, struct query_node *b)
{
	struct query_node *n = xcalloc(1, sizeof(*n));

	n->op = op;
	n->a = a;
	n->b = b;
	if (a != NULL)
		n->column = a->column;
	return n;
}

/* Does the term text normalise to at least one word? Sets *phrase. */
static bool
term_has_word(struct buf *norm, enum query_field f, const char *text,
    size_t len, bool *phrase)
{
	if (f == QUERY_FIELD_CAT || f == QUERY_FIELD_SOURCE) {
		*phrase = false;
		return len > 0;
	}
	buf_reset(norm);
	match_normalize(text, len, norm);
	*phrase = norm->len > 0 && memchr(norm->data, ' ', norm->len) != NULL;
	return norm->len > 0;
}

static struct query_node *
make_term(struct parser *P, const struct tok *t)
{
	struct query_node *n;
	enum query_field f = t->field >= 0 ? (enum query_field)t->field :
	    P->field;
	bool phrase;

	if (!term_has_word(&P->norm, f, P->s + t->text_off, t->text_len,
	    &phrase)) {
		perr(P, t->off, "term '%.*s' has no letters or digits",
		    (int)(t->text_len > 40 ? 40 : t->text_len),
		    P->s + t->text_off);
		return NULL;
	}
	n = query_node_new(QUERY_TERM, NULL, NULL);
	n->field = f;
	n->text = xstrndup(P->s + t->text_off, t->text_len);
	n->phrase = phrase || (t->quoted && f != QUERY_FIELD_CAT &&
	    f != QUERY_FIELD_SOURCE);
	n->prefix = t->prefix;
	n->column = column_of(P->s, t->off);
	return n;
}

static struct query_node *parse_or(struct parser *P);
static struct query_node *parse_unary(struct parser *P);

/* After '(' (or field:'('): the group up to the matching ')'. */
static struct query_node *
parse_group(struct parser *P, const struct tok *lp)
{
	struct query_node *e;

	if (P->depth >= QUERY_MAX_DEPTH) {
		perr(P, lp->off, "query nested too deeply (at most %d levels)",
		    QUERY_MAX_DEPTH);
		return NULL;
	}
	if (peek(P)->type == T_RPAREN) {
		perr(P, lp->off, "empty parentheses");
		return NULL;
	}
	P->depth++;
	e = parse_or(P);
	P->depth--;
	if (e == NULL)
		return NULL;
	if (peek(P)->type != T_RPAREN) {
		perr(P, lp->off, "unbalanced '('");
		query_free(e);
		return NULL;
	}
	next(P);
	return e;
}

static struct query_node *
parse_primary(struct parser *P)
{
	struct tok t = next(P), lp;
	enum query_field saved;
	struct query_node *e;

	switch (t.type) {
	case T_LPAREN:
		return parse_group(P, &t);
	case T_FIELD:
		lp = next(P);		/* the lexer saw the '(' */
		saved = P->field;
		P->field = (enum query_field)t.field;
		e = parse_group(P, &lp);
		P->field = saved;
		return e;
	case T_TERM:
		return make_term(P, &t);
	case T_RPAREN:
		perr(P, t.off, "unexpected ')'");
		return NULL;
	case T_AND:
	case T_OR:
	case T_ANDNOT:
		perr(P, t.off, "missing term before '%s'", tok_names[t.type]);
		return NULL;
	case T_END:
		perr(P, t.off, "missing term");
		return NULL;
	default:
		return NULL;	/* T_ERR: already reported */
	}
}

/* After an operator at off: the next token must start a term. */
static bool
expect_operand(struct parser *P, const struct tok *op)
{
	enum tok_type t = peek(P)->type;

	if (starts_unary(t))
		return true;
	if (t != T_ERR)
		perr(P, op->off, "missing term after '%s'", tok_names[op->type]);
	return false;
}

static struct query_node *
parse_unary(struct parser *P)
{
	struct tok op;
	struct query_node *a, *n;

	if (peek(P)->type != T_NOT && peek(P)->type != T_MINUS)
		return parse_primary(P);
	op = next(P);
	if (P->depth >= QUERY_MAX_DEPTH) {
		perr(P, op.off, "query nested too deeply (at most %d levels)",
		    QUERY_MAX_DEPTH);
		return NULL;
	}
	if (!expect_operand(P, &op))
		return NULL;
	P->depth++;
	a = parse_unary(P);
	P->depth--;
	if (a == NULL)
		return NULL;
	n = query_node_new(QUERY_NOT, a, NULL);
	n->column = column_of(P->s, op.off);
	return n;
}

static struct query_node *
parse_and(struct parser *P)
{
	struct query_node *left, *right;
	struct tok op;

	if ((left = parse_unary(P)) == NULL)
		return NULL;
	for (;;) {
		op = *peek(P);
		if (op.type == T_AND || op.type == T_ANDNOT) {
			next(P);
			if (!expect_operand(P, &op))
				break;
		} else if (!starts_unary(op.type)) {
			return left;
		}
		if ((right = parse_unary(P)) == NULL)
			break;
		if (op.type == T_ANDNOT) {
			right = query_node_new(QUERY_NOT, right, NULL);
			right->column = column_of(P->s, op.off);
		}
		left = query_node_new(QUERY_AND, left, right);
		left->column = column_of(P->s, op.off);
	}
	query_free(left);
	return NULL;
}

static struct query_node *
parse_or(struct parser *P)
{
	struct query_node *left, *right;
	struct tok op;

	if ((left = parse_and(P)) == NULL)
		return NULL;
	while (peek(P)->type == T_OR) {
		op = next(P);
		if (!expect_operand(P, &op) ||
		    (right = parse_and(P)) == NULL) {
			query_free(left);
			return NULL;
		}
		left = query_node_new(QUERY_OR, left, right);
		left->column = column_of(P->s, op.off);
	}
	return left;
}

static bool
all_space(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_space(s[i]))
			return false;
	return true;
}

struct query_node *
query_parse_len(const char *text, size_t len, char *err, size_t errlen,
    int *column)
{
	struct parser P = { .s = text, .len = len, .err = err,
	    .errlen = errlen, .column = column };
	struct query_node *q = NULL;

	if (len > QUERY_MAX_LEN) {
		perr(&P, QUERY_MAX_LEN, "query longer than %d bytes",
		    QUERY_MAX_LEN);
		return NULL;
	}
	if (!check_bytes(&P))
		return NULL;
	if (all_space(text, len)) {
		if (column != NULL)
			*column = 1;
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "empty query");
		return NULL;
	}
	buf_init(&P.norm);
	q = parse_or(&P);
	if (q != NULL && peek(&P)->type == T_RPAREN)
		perr(&P, peek(&P)->off, "unexpected ')'");
	buf_release(&P.norm);
	if (P.failed) {
		query_free(q);
		return NULL;
	}
	return q;
}

struct query_node *
query_parse(const char *text, char *err, size_t errlen, int *column)
{
	if (text == NULL)
		text = "";
	return query_parse_len(text, strlen(text), err, errlen, column);
}

void
query_free(struct query_node *q)
{
	if (q == NULL)
		return;
	query_free(q->a);
	query_free(q->b);
	free(q->text);
	free(q);
}

const char *
query_field_name(enum query_field f)
{
	switch (f) {
	case QUERY_FIELD_TITLE:
		return "title";
	case QUERY_FIELD_ABSTRACT:
		return "abstract";
	case QUERY_FIELD_AUTHOR:
		return "author";
	case QUERY_FIELD_CAT:
		return "cat";
	case QUERY_FIELD_SOURCE:
		return "source";
	default:
		return "";
	}
}

/* Would the text re-lex as something other than one plain word? */
static bool
needs_quotes(const char *s)
{
	if (*s == '-' || op_word(s, strlen(s)) != T_TERM)
		return true;
	for (; *s != '\0'; s++)
		if (is_delim(*s) || *s == ':' || *s == '*')
			return true;
	return false;
}

static void
term_to_buf(const struct query_node *q, struct buf *b)
{
	if (q->field != QUERY_FIELD_TEXT)
		buf_printf(b, "%s:", query_field_name(q->field));
	if (q->phrase || needs_quotes(q->text))
		buf_printf(b, "\"%s\"", q->text);
	else
		buf_adds(b, q->text);
	if (q->prefix)
		buf_addc(b, '*');
}

static void
to_buf(const struct query_node *q, struct buf *b)
{
	switch (q->op) {
	case QUERY_TERM:
		term_to_buf(q, b);
		break;
	case QUERY_NOT:
		buf_adds(b, "NOT ");
		to_buf(q->a, b);
		break;
	case QUERY_AND:
	case QUERY_OR:
		buf_addc(b, '(');
		to_buf(q->a, b);
		buf_adds(b, q->op == QUERY_AND ? " AND " : " OR ");
		to_buf(q->b, b);
		buf_addc(b, ')');
		break;
	}
}

char *
query_to_string(const struct query_node *q)
{
	struct buf b;

	buf_init(&b);
	if (q != NULL)
		to_buf(q, &b);
	buf_adds(&b, "");
	if (b.data == NULL)
		return xstrdup("");
	return buf_detach(&b);
}

struct query_node *
query_term_new(enum query_field field, const char *text, char *err,
    size_t errlen)
{
	size_t len = text != NULL ? strlen(text) : 0;
	struct query_node *n;
	struct buf norm;
	bool prefix = false, phrase, ok;

	if (len > QUERY_MAX_LEN) {
		snprintf(err, errlen, "term longer than %d bytes",
		    QUERY_MAX_LEN);
		return NULL;
	}
	if (len > 0 && text[len - 1] == '*') {
		prefix = true;
		len--;
	}
	buf_init(&norm);
	ok = term_has_word(&norm, field, text, len, &phrase);
	buf_release(&norm);
	if (!ok) {
		snprintf(err, errlen, len == 0 ? "empty term" :
		    "term '%.*s' has no letters or digits",
		    (int)(len > 40 ? 40 : len), text);
		return NULL;
	}
	n = query_node_new(QUERY_TERM, NULL, NULL);
	n->field = field;
	n->text = xstrndup(text, len);
	n->phrase = phrase;
	n->prefix = prefix;
	return n;
}
