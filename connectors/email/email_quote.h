/*
 * email_quote.h - the customer's new text of a reply, without the history.
 *
 * Pure; thread: any.
 */
#ifndef WB_EMAIL_QUOTE_H
#define WB_EMAIL_QUOTE_H

#include <warbler/buf.h>
#include <warbler/common.h>

/*
 * Append to out the new text of t[0..n) (UTF-8, LF line ends): the text
 * before the first history marker (English "On ... wrote:", Chinese
 * "在 ... 写道：", "-----Original Message-----" and its Chinese and
 * Foxmail forms, "Begin forwarded message:", an Outlook "From:/Sent:" or
 * "发件人:/发送时间:" header block), without lines quoted with '>', without
 * a signature after "-- " and without a trailing "Sent from my iPhone".
 * When nothing would remain, the whole text is kept. *stripped_out says
 * whether anything was removed. Returns WB_OK or WB_ERR_LIMIT.
 */
WB_NODISCARD enum wb_status wb_email_new_text(const char *t, size_t n, struct wb_buf *out,
                                              bool *stripped_out);

#endif
