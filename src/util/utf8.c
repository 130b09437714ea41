/*
 * utf8.c - one UTF-8 code point at a time, strict (see utf8.h).
 *
 * Thread: any.
 */
#include "utf8.h"

uint32_t wb_utf8_next(const char *p, size_t n, size_t *i)
{
    const unsigned char *s = (const unsigned char *)p + *i;
    size_t left = n - *i;
    uint32_t c = s[0];
    size_t len;
    uint32_t min;
    if (c < 0x80) {
        *i += 1;
        return c;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2, min = 0x80, c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, min = 0x800, c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, min = 0x10000, c &= 0x07;
    } else {
        *i += 1;
        return WB_UTF8_REPLACEMENT;
    }
    if (left < len) {
        *i += 1;
        return WB_UTF8_REPLACEMENT;
    }
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) {
            *i += 1;
            return WB_UTF8_REPLACEMENT;
        }
        c = (c << 6) | (s[k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        *i += 1;
        return WB_UTF8_REPLACEMENT;
    }
    *i += len;
    return c;
}

size_t wb_utf8_seq_len(const char *p, size_t n)
{
    size_t i = 0;
    /* a decoded U+FFFD is valid only when it was really written (3 bytes) */
    if (n == 0 || (wb_utf8_next(p, n, &i) == WB_UTF8_REPLACEMENT && i == 1)) {
        return 0;
    }
    return i;
}

size_t wb_utf8_encode(uint32_t cp, char out[4])
{
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
        cp = WB_UTF8_REPLACEMENT;
    }
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}
