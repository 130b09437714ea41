/*
 * email_html.h - readable plain text from the HTML of an email.
 *
 * A small converter, not an HTML parser: mail HTML is only ever turned into
 * text for the bot and the agent, never rendered. Pure; thread: any.
 */
#ifndef WB_EMAIL_HTML_H
#define WB_EMAIL_HTML_H

#include <warbler/buf.h>
#include <warbler/common.h>

/*
 * Append the text of UTF-8 HTML p[0..n) to out. Tags are removed; the
 * content of <script>, <style>, <head>, <title> and <template> is dropped;
 * <br>, <p>, <div>, <li>, <tr>, headings and other blocks become line
 * breaks (<li> items start with "- "); text inside <blockquote> is prefixed
 * with "> " per level so quoted history is recognisable; whitespace
 * collapses outside <pre>; entities (&amp; &lt; &gt; &quot; &#39; &nbsp;
 * a few typographic names, &#NNN; and &#xHH;) are decoded.
 * Returns WB_OK or WB_ERR_LIMIT when out is full.
 */
WB_NODISCARD enum wb_status wb_email_html_to_text(const char *p, size_t n, struct wb_buf *out);

/*
 * The charset named by a <meta charset=...> or http-equiv Content-Type in
 * the first 4 KiB of p[0..n), copied into buf (cap bytes, NUL-terminated).
 * Returns buf, or NULL when there is none.
 */
const char *wb_email_html_meta_charset(const char *p, size_t n, char *buf, size_t cap);

/* Append the UTF-8 encoding of code point cp (U+FFFD when invalid). */
WB_NODISCARD enum wb_status wb_email_put_utf8(struct wb_buf *out, uint32_t cp);

#endif
