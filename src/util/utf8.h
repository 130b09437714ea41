/*
 * utf8.h - decoding and encoding one UTF-8 code point.
 *
 * glibc's mbrtowc depends on the locale; these do not. Strict: overlong
 * forms, surrogates and code points past U+10FFFF are invalid.
 *
 * Thread: any (pure).
 */
#ifndef WB_UTIL_UTF8_H
#define WB_UTIL_UTF8_H

#include <warbler/common.h>

#define WB_UTF8_REPLACEMENT 0xFFFDu

/*
 * Decode one code point at p[*i] (n bytes in all) and advance *i. An
 * invalid or truncated sequence yields U+FFFD and advances one byte.
 */
uint32_t wb_utf8_next(const char *p, size_t n, size_t *i);

/* Length of the well-formed sequence at p[0..n), 0 when it is not one. */
size_t wb_utf8_seq_len(const char *p, size_t n);

/*
 * Encode cp into out (1 to 4 bytes; returns the count). Surrogates and
 * values past U+10FFFF are written as U+FFFD.
 */
size_t wb_utf8_encode(uint32_t cp, char out[4]);

#endif
