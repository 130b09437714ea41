/*
 * email_words.h - header text: RFC 2047 words, quoted names, topics.
 *
 * Pure; thread: any.
 */
#ifndef WB_EMAIL_WORDS_H
#define WB_EMAIL_WORDS_H

#include <warbler/buf.h>
#include <warbler/common.h>

/* Header values longer than this are cut before decoding. */
#define WB_EMAIL_MAX_HEADER_VALUE 4096

/*
 * Decode the header value raw[0..n) (RFC 2047 B and Q words, split and
 * malformed words, raw 8-bit UTF-8/GB18030/windows-1252 bytes) into a
 * clean one-line UTF-8 string in a: folding and runs of whitespace become
 * one space, ends are trimmed. libetpan's mailmime_encoded_word_parse
 * reads the words; adjacent words in one charset are converted together.
 * Never NULL.
 */
char *wb_email_decode_words(const char *raw, size_t n, struct wb_arena *a);

/* Remove one pair of surrounding double quotes and backslash escapes, in place. */
void wb_email_unquote(char *s);

/*
 * The topic key of a decoded subject: reply and forward prefixes (Re:,
 * RE:, Fw:, Fwd:, AW:, WG:, SV:, VS:, 回复:, 回覆:, 答复:, 转发:, 轉寄:, with
 * ASCII or full-width colons and counters like Re[2]:) stripped
 * repeatedly, ASCII lowercased, whitespace collapsed and trimmed. Returns
 * a string in a, "" when nothing is left.
 */
char *wb_email_topic(const char *subject, struct wb_arena *a);

/* ASCII-lowercased copy in a, with surrounding blanks and <> removed. */
char *wb_email_addr_norm(const char *s, struct wb_arena *a);

#endif
