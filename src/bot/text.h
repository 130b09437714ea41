/*
 * text.h - small text helpers shared by the bot's files.
 *
 * Thread: any (pure).
 */
#ifndef WB_BOT_TEXT_H
#define WB_BOT_TEXT_H

#include <warbler/buf.h>
#include <warbler/common.h>

/* Append to an unbounded wb_buf (max 0); growth cannot fail (allocation aborts). */
void wb_bot_put(struct wb_buf *b, const void *p, size_t n);
void wb_bot_putf(struct wb_buf *b, const char *fmt, ...) WB_PRINTF(2, 3);

/*
 * Cut text to at most max_chars code points and max_bytes bytes (0 = no
 * limit), at a sentence end (。！？.!? or a line break) in the second half
 * when there is one, else at a character boundary with "…". Returns a new
 * string (owned).
 */
char *wb_bot_trim_text(const char *s, size_t max_chars, size_t max_bytes);

#endif
