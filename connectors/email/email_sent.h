/*
 * email_sent.h - keep a copy of a sent reply in the mailbox's Sent folder.
 *
 * One short-lived libetpan IMAP session per copy: connect (implicit TLS,
 * STARTTLS, or plain on loopback, as imap_tls says), LOGIN with the
 * mailbox's IMAP credentials, APPEND with \Seen, LOGOUT. TLS verification
 * follows the same rules as SMTP (email_smtp.h: wb_email_tls_setup).
 *
 * Thread: any (a sender pool thread); blocking; owns its session.
 */
#ifndef WB_EMAIL_SENT_H
#define WB_EMAIL_SENT_H

#include <warbler/common.h>

#include "email_conf.h"

/*
 * Append raw[0..n) (an RFC 5322 message with CRLF line ends) to
 * conf->sent_folder, flagged \Seen. Does nothing (WB_OK) when sent_folder
 * is empty. Borrowed arguments; the caller logs a failure and carries on
 * (the customer already has the mail).
 *
 * Status: WB_OK; WB_ERR_IO, WB_ERR_TLS, WB_ERR_TIMEOUT, WB_ERR_AUTH or
 * WB_ERR_INVAL (plain IMAP to a non-loopback host) with the detail in err.
 */
WB_NODISCARD enum wb_status wb_email_sent_append(const struct wb_email_conf *conf,
                                                 const char *channel_id, const char *raw, size_t n,
                                                 struct wb_err *err);

#endif
