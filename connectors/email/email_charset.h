/*
 * email_charset.h - charset conversion to clean UTF-8 for the email parser.
 *
 * Pure helpers (iconv from glibc; no I/O, no globals). Every function
 * returns valid UTF-8: bytes that do not convert become U+FFFD.
 *
 * Thread: any.
 */
#ifndef WB_EMAIL_CHARSET_H
#define WB_EMAIL_CHARSET_H

#include <warbler/buf.h>
#include <warbler/common.h>

/* True when p[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
bool wb_email_utf8_valid(const char *p, size_t n);

/*
 * Append p[0..n), written in charset (a MIME label such as "gb2312", may be
 * NULL when unknown), to out as UTF-8. Labels are widened to the superset
 * mail software really sends (GB2312 and GBK as GB18030, ISO-8859-1 as
 * windows-1252, Shift_JIS as CP932, Big5 falling back to Big5-HKSCS). An
 * unknown or missing label means: UTF-8 when the bytes are valid UTF-8,
 * else GB18030 when they convert cleanly, else windows-1252.
 * Returns WB_OK or WB_ERR_LIMIT when out reached its maximum (what fitted
 * was kept).
 */
WB_NODISCARD enum wb_status wb_email_to_utf8(const char *charset, const char *p, size_t n,
                                             struct wb_buf *out);

/*
 * Append UTF-8 text to out, cleaned for display: CRLF and lone CR become
 * LF, NUL and other C0/C1 controls except TAB and LF are dropped, invalid
 * sequences become U+FFFD. Returns WB_OK or WB_ERR_LIMIT.
 */
WB_NODISCARD enum wb_status wb_email_utf8_clean(const char *p, size_t n, struct wb_buf *out);

/* Length of the longest prefix of s[0..n) that ends on a UTF-8 boundary. */
size_t wb_email_utf8_trim(const char *s, size_t n);

#endif
