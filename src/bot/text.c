/*
 * text.c - buffer helpers and answer trimming.
 *
 * Design: answers are cut where a reader expects a stop (end of a
 * sentence or a line) and never inside a UTF-8 sequence, so a channel's
 * byte limit cannot produce broken characters.
 *
 * Thread: any (pure).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "tokenize.h"

void wb_bot_put(struct wb_buf *b, const void *p, size_t n)
{
    if (wb_buf_append(b, p, n) != WB_OK) {
        wb_panic("text buffer overflow (%zu bytes)", b->len);
    }
}

void wb_bot_putf(struct wb_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): ap is started above */
    int k = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (k >= 0 && (size_t)k < sizeof(small)) {
        wb_bot_put(b, small, (size_t)k);
    } else if (k >= 0) {
        char *big = wb_malloc((size_t)k + 1);
        va_start(ap, fmt);
        (void)vsnprintf(big, (size_t)k + 1, fmt, ap);
        va_end(ap);
        wb_bot_put(b, big, (size_t)k);
        free(big);
    }
}

/* Is there a sentence end at s[i] (i < n, s NUL-terminated at n)? Called per character. */
static bool is_stop_at(const char *s, size_t n, size_t i, size_t *len_out)
{
    static const char stops_zh[][4] = { "。", "！", "？", "；" };
    unsigned char c = (unsigned char)s[i];
    if (c == '\n' ||
        ((c == '.' || c == '!' || c == '?') && (s[i + 1] == ' ' || s[i + 1] == '\0'))) {
        *len_out = 1;
        return true;
    }
    if (c < 0x80 || n - i < 3) {
        return false; /* the full-width stops are 3 bytes, lead byte 0xE3 or 0xEF */
    }
    for (size_t k = 0; k < WB_ARRAY_LEN(stops_zh); k++) {
        if (memcmp(s + i, stops_zh[k], 3) == 0) {
            *len_out = 3;
            return true;
        }
    }
    return false;
}

char *wb_bot_trim_text(const char *s, size_t max_chars, size_t max_bytes)
{
    static const char ellipsis[] = "…";
    size_t n = strlen(s);
    size_t chars = 0, i = 0, cut = 0, last_stop = 0;
    if (max_bytes == 0) {
        max_bytes = (size_t)-1;
    }
    if (max_chars == 0) {
        max_chars = (size_t)-1;
    }
    if (n <= max_bytes && n <= max_chars) {
        return wb_strdup(s); /* fits: a character is at least a byte, so no need to count */
    }
    while (i < n && chars < max_chars) {
        size_t next = i;
        if ((unsigned char)s[i] < 0x80) {
            next++;
        } else {
            (void)wb_utf8_next(s, n, &next);
        }
        if (next > max_bytes) {
            break;
        }
        size_t sl;
        if (is_stop_at(s, n, i, &sl) && i + sl <= max_bytes) {
            last_stop = i + sl;
        }
        i = next;
        chars++;
        cut = i;
    }
    if (i >= n) {
        return wb_strdup(s);
    }
    if (last_stop > 0 && last_stop >= cut / 2) {
        char *r = wb_strndup(s, last_stop);
        size_t rl = strlen(r);
        while (rl > 0 && (r[rl - 1] == '\n' || r[rl - 1] == ' ')) {
            r[--rl] = '\0';
        }
        return r;
    }
    /* no good stop: cut at a character boundary and leave room for "…" */
    size_t room = sizeof(ellipsis) - 1;
    while (cut > 0 && (cut + room > max_bytes || chars + 1 > max_chars)) {
        do {
            cut--;
        } while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80);
        chars--;
        room = 0 + (sizeof(ellipsis) - 1);
    }
    struct wb_buf b;
    wb_buf_init(&b, 0);
    wb_bot_put(&b, s, cut);
    wb_bot_put(&b, ellipsis, room);
    return wb_buf_steal(&b, NULL);
}
