/*
 * latex.c: LaTeX accent macros to Unicode (see latex.h).
 */
#include "latex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Precomposed letter for (combining mark, ASCII base), sorted. */
struct compose {
	uint16_t	 mark;
	char		 base;
	uint16_t	 cp;
};

/* Generated with Python's unicodedata.normalize("NFC", base + mark). */
static const struct compose compose_table[] = {
	{0x300,'A',0x00C0}, {0x300,'E',0x00C8}, {0x300,'I',0x00CC},
	{0x300,'N',0x01F8}, {0x300,'O',0x00D2}, {0x300,'U',0x00D9},
	{0x300,'W',0x1E80}, {0x300,'Y',0x1EF2}, {0x300,'a',0x00E0},
	{0x300,'e',0x00E8}, {0x300,'i',0x00EC}, {0x300,'n',0x01F9},
	{0x300,'o',0x00F2}, {0x300,'u',0x00F9}, {0x300,'w',0x1E81},
	{0x300,'y',0x1EF3}, {0x301,'A',0x00C1}, {0x301,'C',0x0106},
	{0x301,'E',0x00C9}, {0x301,'G',0x01F4}, {0x301,'I',0x00CD},
	{0x301,'K',0x1E30}, {0x301,'L',0x0139}, {0x301,'M',0x1E3E},
	{0x301,'N',0x0143}, {0x301,'O',0x00D3}, {0x301,'P',0x1E54},
	{0x301,'R',0x0154}, {0x301,'S',0x015A}, {0x301,'U',0x00DA},
	{0x301,'W',0x1E82}, {0x301,'Y',0x00DD}, {0x301,'Z',0x0179},
	{0x301,'a',0x00E1}, {0x301,'c',0x0107}, {0x301,'e',0x00E9},
	{0x301,'g',0x01F5}, {0x301,'i',0x00ED}, {0x301,'k',0x1E31},
	{0x301,'l',0x013A}, {0x301,'m',0x1E3F}, {0x301,'n',0x0144},
	{0x301,'o',0x00F3}, {0x301,'p',0x1E55}, {0x301,'r',0x0155},
	{0x301,'s',0x015B}, {0x301,'u',0x00FA}, {0x301,'w',0x1E83},
	{0x301,'y',0x00FD}, {0x301,'z',0x017A}, {0x302,'A',0x00C2},
	{0x302,'C',0x0108}, {0x302,'E',0x00CA}, {0x302,'G',0x011C},
	{0x302,'H',0x0124}, {0x302,'I',0x00CE}, {0x302,'J',0x0134},
	{0x302,'O',0x00D4}, {0x302,'S',0x015C}, {0x302,'U',0x00DB},
	{0x302,'W',0x0174}, {0x302,'Y',0x0176}, {0x302,'Z',0x1E90},
	{0x302,'a',0x00E2}, {0x302,'c',0x0109}, {0x302,'e',0x00EA},
	{0x302,'g',0x011D}, {0x302,'h',0x0125}, {0x302,'i',0x00EE},
	{0x302,'j',0x0135}, {0x302,'o',0x00F4}, {0x302,'s',0x015D},
	{0x302,'u',0x00FB}, {0x302,'w',0x0175}, {0x302,'y',0x0177},
	{0x302,'z',0x1E91}, {0x303,'A',0x00C3}, {0x303,'E',0x1EBC},
	{0x303,'I',0x0128}, {0x303,'N',0x00D1}, {0x303,'O',0x00D5},
	{0x303,'U',0x0168}, {0x303,'V',0x1E7C}, {0x303,'Y',0x1EF8},
	{0x303,'a',0x00E3}, {0x303,'e',0x1EBD}, {0x303,'i',0x0129},
	{0x303,'n',0x00F1}, {0x303,'o',0x00F5}, {0x303,'u',0x0169},
	{0x303,'v',0x1E7D}, {0x303,'y',0x1EF9}, {0x304,'A',0x0100},
	{0x304,'E',0x0112}, {0x304,'G',0x1E20}, {0x304,'I',0x012A},
	{0x304,'O',0x014C}, {0x304,'U',0x016A}, {0x304,'Y',0x0232},
	{0x304,'a',0x0101}, {0x304,'e',0x0113}, {0x304,'g',0x1E21},
	{0x304,'i',0x012B}, {0x304,'o',0x014D}, {0x304,'u',0x016B},
	{0x304,'y',0x0233}, {0x306,'A',0x0102}, {0x306,'E',0x0114},
	{0x306,'G',0x011E}, {0x306,'I',0x012C}, {0x306,'O',0x014E},
	{0x306,'U',0x016C}, {0x306,'a',0x0103}, {0x306,'e',0x0115},
	{0x306,'g',0x011F}, {0x306,'i',0x012D}, {0x306,'o',0x014F},
	{0x306,'u',0x016D}, {0x307,'A',0x0226}, {0x307,'B',0x1E02},
	{0x307,'C',0x010A}, {0x307,'D',0x1E0A}, {0x307,'E',0x0116},
	{0x307,'F',0x1E1E}, {0x307,'G',0x0120}, {0x307,'H',0x1E22},
	{0x307,'I',0x0130}, {0x307,'M',0x1E40}, {0x307,'N',0x1E44},
	{0x307,'O',0x022E}, {0x307,'P',0x1E56}, {0x307,'R',0x1E58},
	{0x307,'S',0x1E60}, {0x307,'T',0x1E6A}, {0x307,'W',0x1E86},
	{0x307,'X',0x1E8A}, {0x307,'Y',0x1E8E}, {0x307,'Z',0x017B},
	{0x307,'a',0x0227}, {0x307,'b',0x1E03}, {0x307,'c',0x010B},
	{0x307,'d',0x1E0B}, {0x307,'e',0x0117}, {0x307,'f',0x1E1F},
	{0x307,'g',0x0121}, {0x307,'h',0x1E23}, {0x307,'m',0x1E41},
	{0x307,'n',0x1E45}, {0x307,'o',0x022F}, {0x307,'p',0x1E57},
	{0x307,'r',0x1E59}, {0x307,'s',0x1E61}, {0x307,'t',0x1E6B},
	{0x307,'w',0x1E87}, {0x307,'x',0x1E8B}, {0x307,'y',0x1E8F},
	{0x307,'z',0x017C}, {0x308,'A',0x00C4}, {0x308,'E',0x00CB},
	{0x308,'H',0x1E26}, {0x308,'I',0x00CF}, {0x308,'O',0x00D6},
	{0x308,'U',0x00DC}, {0x308,'W',0x1E84}, {0x308,'X',0x1E8C},
	{0x308,'Y',0x0178}, {0x308,'a',0x00E4}, {0x308,'e',0x00EB},
	{0x308,'h',0x1E27}, {0x308,'i',0x00EF}, {0x308,'o',0x00F6},
	{0x308,'t',0x1E97}, {0x308,'u',0x00FC}, {0x308,'w',0x1E85},
	{0x308,'x',0x1E8D}, {0x308,'y',0x00FF}, {0x30A,'A',0x00C5},
	{0x30A,'U',0x016E}, {0x30A,'a',0x00E5}, {0x30A,'u',0x016F},
	{0x30A,'w',0x1E98}, {0x30A,'y',0x1E99}, {0x30B,'O',0x0150},
	{0x30B,'U',0x0170}, {0x30B,'o',0x0151}, {0x30B,'u',0x0171},
	{0x30C,'A',0x01CD}, {0x30C,'C',0x010C}, {0x30C,'D',0x010E},
	{0x30C,'E',0x011A}, {0x30C,'G',0x01E6}, {0x30C,'H',0x021E},
	{0x30C,'I',0x01CF}, {0x30C,'K',0x01E8}, {0x30C,'L',0x013D},
	{0x30C,'N',0x0147}, {0x30C,'O',0x01D1}, {0x30C,'R',0x0158},
	{0x30C,'S',0x0160}, {0x30C,'T',0x0164}, {0x30C,'U',0x01D3},
	{0x30C,'Z',0x017D}, {0x30C,'a',0x01CE}, {0x30C,'c',0x010D},
	{0x30C,'d',0x010F}, {0x30C,'e',0x011B}, {0x30C,'g',0x01E7},
	{0x30C,'h',0x021F}, {0x30C,'i',0x01D0}, {0x30C,'j',0x01F0},
	{0x30C,'k',0x01E9}, {0x30C,'l',0x013E}, {0x30C,'n',0x0148},
	{0x30C,'o',0x01D2}, {0x30C,'r',0x0159}, {0x30C,'s',0x0161},
	{0x30C,'t',0x0165}, {0x30C,'u',0x01D4}, {0x30C,'z',0x017E},
	{0x323,'A',0x1EA0}, {0x323,'B',0x1E04}, {0x323,'D',0x1E0C},
	{0x323,'E',0x1EB8}, {0x323,'H',0x1E24}, {0x323,'I',0x1ECA},
	{0x323,'K',0x1E32}, {0x323,'L',0x1E36}, {0x323,'M',0x1E42},
	{0x323,'N',0x1E46}, {0x323,'O',0x1ECC}, {0x323,'R',0x1E5A},
	{0x323,'S',0x1E62}, {0x323,'T',0x1E6C}, {0x323,'U',0x1EE4},
	{0x323,'V',0x1E7E}, {0x323,'W',0x1E88}, {0x323,'Y',0x1EF4},
	{0x323,'Z',0x1E92}, {0x323,'a',0x1EA1}, {0x323,'b',0x1E05},
	{0x323,'d',0x1E0D}, {0x323,'e',0x1EB9}, {0x323,'h',0x1E25},
	{0x323,'i',0x1ECB}, {0x323,'k',0x1E33}, {0x323,'l',0x1E37},
	{0x323,'m',0x1E43}, {0x323,'n',0x1E47}, {0x323,'o',0x1ECD},
	{0x323,'r',0x1E5B}, {0x323,'s',0x1E63}, {0x323,'t',0x1E6D},
	{0x323,'u',0x1EE5}, {0x323,'v',0x1E7F}, {0x323,'w',0x1E89},
	{0x323,'y',0x1EF5}, {0x323,'z',0x1E93}, {0x327,'C',0x00C7},
	{0x327,'D',0x1E10}, {0x327,'E',0x0228}, {0x327,'G',0x0122},
	{0x327,'H',0x1E28}, {0x327,'K',0x0136}, {0x327,'L',0x013B},
	{0x327,'N',0x0145}, {0x327,'R',0x0156}, {0x327,'S',0x015E},
	{0x327,'T',0x0162}, {0x327,'c',0x00E7}, {0x327,'d',0x1E11},
	{0x327,'e',0x0229}, {0x327,'g',0x0123}, {0x327,'h',0x1E29},
	{0x327,'k',0x0137}, {0x327,'l',0x013C}, {0x327,'n',0x0146},
	{0x327,'r',0x0157}, {0x327,'s',0x015F}, {0x327,'t',0x0163},
	{0x328,'A',0x0104}, {0x328,'E',0x0118}, {0x328,'I',0x012E},
	{0x328,'O',0x01EA}, {0x328,'U',0x0172}, {0x328,'a',0x0105},
	{0x328,'e',0x0119}, {0x328,'i',0x012F}, {0x328,'o',0x01EB},
	{0x328,'u',0x0173}, {0x331,'B',0x1E06}, {0x331,'D',0x1E0E},
	{0x331,'K',0x1E34}, {0x331,'L',0x1E3A}, {0x331,'N',0x1E48},
	{0x331,'R',0x1E5E}, {0x331,'T',0x1E6E}, {0x331,'Z',0x1E94},
	{0x331,'b',0x1E07}, {0x331,'d',0x1E0F}, {0x331,'h',0x1E96},
	{0x331,'k',0x1E35}, {0x331,'l',0x1E3B}, {0x331,'n',0x1E49},
	{0x331,'r',0x1E5F}, {0x331,'t',0x1E6F}, {0x331,'z',0x1E95},
};

/* \' \` \^ \" \~ \= \. : accents written with a symbol. */
static const struct {
	char		 c;
	uint16_t	 mark;
} symbol_accents[] = {
	{ '\'', 0x301 }, { '`', 0x300 }, { '^', 0x302 }, { '"', 0x308 },
	{ '~', 0x303 }, { '=', 0x304 }, { '.', 0x307 },
};

/*
 * \u \v \H \c \k \r \d \b : accents written with a letter; \r \d \b
 * only with a braced argument.
 */
static const struct {
	char		 name;
	uint16_t	 mark;
	bool		 braced_only;
} word_accents[] = {
	{ 'u', 0x306, false }, { 'v', 0x30c, false }, { 'H', 0x30b, false },
	{ 'c', 0x327, false }, { 'k', 0x328, false }, { 'r', 0x30a, true },
	{ 'd', 0x323, true }, { 'b', 0x331, true },
};

/* How an accent takes its argument. */
struct accent {
	uint16_t	 mark;
	size_t		 used;		/* bytes of the macro itself */
	bool		 spaced;
	bool		 braced_only;
};

/* Letters of their own. */
static const struct {
	const char	*name;
	uint32_t	 cp;
} letters[] = {
	{ "ss", 0xdf }, { "aa", 0xe5 }, { "AA", 0xc5 }, { "ae", 0xe6 },
	{ "AE", 0xc6 }, { "oe", 0x153 }, { "OE", 0x152 }, { "o", 0xf8 },
	{ "O", 0xd8 }, { "l", 0x142 }, { "L", 0x141 }, { "i", 0x131 },
	{ "j", 0x237 }, { "dh", 0xf0 }, { "DH", 0xd0 }, { "th", 0xfe },
	{ "TH", 0xde }, { "ng", 0x14b }, { "NG", 0x14a },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void
add_cp(struct buf *out, uint32_t cp)
{
	char	 u[4];

	buf_add(out, u, utf8_encode(cp, u));
}

static int
compose_cmp(const void *a, const void *b)
{
	const struct compose *x = a, *y = b;

	if (x->mark != y->mark)
		return x->mark < y->mark ? -1 : 1;
	return (unsigned char)x->base - (unsigned char)y->base;
}

/* The letter base with the mark, precomposed when Unicode has it. */
static void
add_accented(struct buf *out, uint16_t mark, char base)
{
	struct compose	 key = { mark, base, 0 };
	const struct compose *hit;

	hit = bsearch(&key, compose_table, NELEM(compose_table),
	    sizeof(compose_table[0]), compose_cmp);
	if (hit != NULL) {
		add_cp(out, hit->cp);
		return;
	}
	buf_addc(out, base);
	add_cp(out, mark);
}

/* Length of the control word at s (letters after the backslash). */
static size_t
word_len(const char *s, size_t len)
{
	size_t	 n = 0;

	while (n < len && is_alpha(s[n]))
		n++;
	return n;
}

/*
 * The letter an accent applies to, at s: "e", "{e}", "\i", "{\i}"; with
 * spaced, after spaces too ("\c c"); braced_only: only "{e}" ("\d" and
 * "\b" bare are far likelier a regex than an accent).  Returns the bytes
 * used (0: no such argument).
 */
static size_t
accent_arg(const char *s, size_t len, bool spaced, bool braced_only,
    char *base)
{
	size_t	 i = 0, brace;

	while (spaced && i < len && s[i] == ' ')
		i++;
	brace = (i < len && s[i] == '{');
	if (braced_only && !brace)
		return 0;
	i += brace;
	if (i + 1 < len && s[i] == '\\' && (s[i + 1] == 'i' ||
	    s[i + 1] == 'j') && (i + 2 >= len || !is_alpha(s[i + 2]))) {
		*base = s[i + 1];
		i += 2;
		while (brace && i < len && s[i] == ' ')
			i++;
	} else if (i < len && is_alpha(s[i])) {
		*base = s[i++];
	} else {
		return 0;
	}
	if (brace) {
		if (i >= len || s[i] != '}')
			return 0;
		i++;
	}
	return i;
}

/* A letter macro (\ss, \o, ...) of n letters at name, or NULL. */
static bool
find_letter(const char *name, size_t n, uint32_t *cp)
{
	for (size_t i = 0; i < NELEM(letters); i++)
		if (letters[i].name[0] == name[0] &&	/* n > 0 */
		    strlen(letters[i].name) == n &&
		    memcmp(letters[i].name, name, n) == 0) {
			*cp = letters[i].cp;
			return true;
		}
	return false;
}

/* The accent macro at s ('\\' first), if it is one. */
static bool
find_accent(const char *s, size_t len, struct accent *a)
{
	size_t	 n;

	if (len < 2)
		return false;
	memset(a, 0, sizeof(*a));
	a->used = 2;
	for (size_t i = 0; i < NELEM(symbol_accents); i++)
		if (s[1] == symbol_accents[i].c) {
			a->mark = symbol_accents[i].mark;
			return true;
		}
	n = word_len(s + 1, len - 1);
	for (size_t i = 0; n == 1 && i < NELEM(word_accents); i++)
		if (s[1] == word_accents[i].name) {
			a->mark = word_accents[i].mark;
			a->spaced = true;
			a->braced_only = word_accents[i].braced_only;
			return true;
		}
	return false;
}

/* The accent at s applied: bytes used after the macro, 0 if none. */
static size_t
accent_apply(const struct accent *a, const char *s, size_t len, char *base)
{
	return accent_arg(s + a->used, len - a->used, a->spaced,
	    a->braced_only, base);
}

/*
 * Decode the macro at s (s[0] == '\\') into out.  Returns the bytes used,
 * or 0 when s is not an accent or special letter (nothing written).
 */
static size_t
decode_macro(struct buf *out, const char *s, size_t len)
{
	struct accent a;
	uint32_t cp;
	size_t	 used, n;
	char	 base;

	if (find_accent(s, len, &a)) {
		n = accent_apply(&a, s, len, &base);
		if (n == 0)
			return 0;
		add_accented(out, a.mark, base);
		return a.used + n;
	}
	n = word_len(s + 1, len - 1);
	if (n == 0 || !find_letter(s + 1, n, &cp))
		return 0;
	add_cp(out, cp);
	used = 1 + n;
	if (used + 1 < len && s[used] == '{' && s[used + 1] == '}')
		return used + 2;		/* \ss{} */
	while (used < len && s[used] == ' ')
		used++;				/* TeX eats them */
	return used;
}

/* "{\macro}" at s: the macro decoded without its braces, or 0. */
static size_t
decode_group(struct buf *out, const char *s, size_t len)
{
	size_t	 saved = out->len, n;

	n = decode_macro(out, s + 1, len - 1);
	if (n == 0)
		return 0;
	if (1 + n < len && s[1 + n] == '}')
		return n + 2;
	out->len = saved;		/* not a group of its own: undo */
	if (out->data != NULL)
		out->data[saved] = '\0';
	return 0;
}

void
latex_accents(struct buf *out, const char *s, size_t len)
{
	size_t	 i = 0;

	while (i < len) {
		const char *bs = memchr(s + i, '\\', len - i);
		size_t	 j, n;

		if (bs == NULL) {
			buf_add(out, s + i, len - i);
			return;
		}
		j = (size_t)(bs - s);
		if (j > i && s[j - 1] == '{') {
			buf_add(out, s + i, j - 1 - i);
			n = decode_group(out, s + j - 1, len - j + 1);
			if (n > 0) {
				i = j - 1 + n;
				continue;
			}
			buf_addc(out, '{');
		} else {
			buf_add(out, s + i, j - i);
		}
		if (j + 1 < len && s[j + 1] == '\\') {
			buf_add(out, "\\\\", 2);
			i = j + 2;
		} else if ((n = decode_macro(out, s + j, len - j)) > 0) {
			i = j + n;
		} else {
			buf_addc(out, '\\');
			i = j + 1;
		}
	}
}

char *
latex_accents_str(const char *s)
{
	struct buf	 b;

	if (s == NULL)
		return NULL;
	buf_init(&b);
	latex_accents(&b, s, strlen(s));
	if (b.data == NULL)
		return xstrdup("");
	return buf_detach(&b);
}

bool
latex_has_macro(const char *s, size_t len)
{
	const char	*bs, *end = s + len;
	struct accent	 a;
	uint32_t	 cp;
	size_t		 n;
	char		 base;

	while ((bs = memchr(s, '\\', (size_t)(end - s))) != NULL) {
		len = (size_t)(end - bs);
		if (len > 1 && bs[1] == '\\') {
			s = bs + 2;
			continue;
		}
		if (find_accent(bs, len, &a) &&
		    accent_apply(&a, bs, len, &base) > 0)
			return true;
		n = word_len(bs + 1, len - 1);
		if (n > 0 && find_letter(bs + 1, n, &cp))
			return true;
		s = bs + 1;
	}
	return false;
}
