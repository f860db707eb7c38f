/*
 * latex.h: LaTeX accent macros, as arXiv stores names and some text, turned
 * into Unicode: Przemys{\l}aw -> Przemysław, R\'emy -> Rémy, Mu\~noz ->
 * Muñoz, \.Zygierewicz -> Żygierewicz, Zi\k{e}ba -> Zięba, Sj{\o}rup ->
 * Sjørup, {\"u} and \"{u} -> ü, \c{c} -> ç, \v{s} -> š, \ss -> ß, \aa -> å.
 *
 * Only accents and the special letters (\ss \aa \AA \ae \AE \oe \OE \o \O
 * \l \L \i \j) are rewritten; every other piece of LaTeX (math $...$,
 * \href{..}{..}, \kappa, {B}races around plain letters) is copied exactly
 * as written.  An accent whose letter has no precomposed form becomes the
 * letter followed by the combining mark (valid UTF-8 all the same).
 */
#ifndef PW_FEEDS_LATEX_H
#define PW_FEEDS_LATEX_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/*
 * Append s[0..len) to out with the accent macros decoded.  s is UTF-8
 * (what is not a macro is copied byte for byte); the output is valid UTF-8
 * whenever s is.
 */
void	 latex_accents(struct buf *out, const char *s, size_t len);

/* The same on a NUL-terminated string, as a new string the caller frees. */
char	*latex_accents_str(const char *s);

/*
 * true if s[0..len) holds an accent macro latex_accents would decode (a
 * quick scan that writes nothing: most abstracts only carry math macros).
 */
bool	 latex_has_macro(const char *s, size_t len);

#endif
