/*
 * email_compose.h - build the RFC 5322 bytes of one outbound reply.
 *
 * Pure: no I/O, no clock, no randomness. The caller (email_smtp.c) passes
 * the Message-ID (made with wb_email_message_id from random bytes it drew)
 * and the date. The output is 7-bit clean (RFC 2047 headers,
 * quoted-printable bodies) with CRLF line ends, so any SMTP server takes it
 * without 8BITMIME or SMTPUTF8.
 *
 * Thread: any.
 */
#ifndef WB_EMAIL_COMPOSE_H
#define WB_EMAIL_COMPOSE_H

#include <warbler/buf.h>
#include <warbler/common.h>
#include <warbler/message.h>

#include "email_conf.h"

/* References written at most (the oldest one plus the newest ones). */
#define WB_EMAIL_MAX_REFERENCES 20

/* Longest Message-ID we make (it must fit wb_send_result.external_id). */
#define WB_EMAIL_MESSAGE_ID_MAX 127

/*
 * The domain our Message-IDs use: conf->message_id_domain, or the domain
 * of conf->address when that is empty. Returns a pointer into conf (not a
 * copy) and its length in *n_out; NULL when there is none or it holds
 * characters other than letters, digits, '-' and '.'.
 */
const char *wb_email_message_id_domain(const struct wb_email_conf *conf, size_t *n_out);

/*
 * Write our Message-ID, without <>, into buf[0..size):
 * "wb.<conversation>.<message>.<random>@<domain>". random is the caller's
 * random token (letters and digits, 8 to 64 of them).
 *
 * Status: WB_OK; WB_ERR_INVAL for a bad random token or domain;
 * WB_ERR_LIMIT when the id does not fit in size (or is longer than
 * WB_EMAIL_MESSAGE_ID_MAX).
 */
WB_NODISCARD enum wb_status wb_email_message_id(const struct wb_email_conf *conf,
                                                int64_t conversation_id, int64_t message_id,
                                                const char *random, char *buf, size_t size,
                                                struct wb_err *err);

/*
 * True when id (without <>, not NUL-terminated) has the shape of an id
 * made by wb_email_message_id: "wb.<digits>.<digits>.<alnum>@<domain>".
 * When domain is not NULL the domain must also match (ASCII case-insensitive).
 */
bool wb_email_message_id_is_ours(const char *id, size_t n, const char *domain);

/*
 * Build the message for ob, sent from the mailbox conf describes.
 *
 *   From      conf->display_name <conf->address> (RFC 2047 when not ASCII)
 *   To        ob->recipient_name <ob->recipient_email or ob->recipient_id>
 *   Subject   "Re: " + ob->subject unless it already starts with Re:, RE:
 *             or 回复: (no Subject prefix doubling); RFC 2047 B words when
 *             not ASCII, folded
 *   Date      date_s (seconds since the epoch) in RFC 5322 form, UTC
 *   Message-ID <message_id>
 *   In-Reply-To / References from ob->thread_refs (oldest first; entries
 *             that are not Message-IDs, e.g. "sha256:..." ids, are skipped;
 *             at most WB_EMAIL_MAX_REFERENCES: the first and the newest)
 *   Auto-Submitted: auto-replied for WB_AUTHOR_BOT (auto-generated for
 *             WB_AUTHOR_SYSTEM); X-Auto-Response-Suppress: All always
 *   body      multipart/alternative: text/plain and text/html, both UTF-8
 *             quoted-printable
 *
 * Parameters: conf, ob, message_id (without <>) borrowed; out is appended
 * to (the caller sets its maximum with wb_buf_init).
 *
 * Status: WB_OK; WB_ERR_INVAL when a header input holds CR or LF (or the
 * addresses, message_id or a reference are unusable: not ASCII, spaces,
 * <>, no '@'); WB_ERR_LIMIT when out reached its maximum. On error out
 * may hold a partial message.
 */
WB_NODISCARD enum wb_status wb_email_compose(const struct wb_email_conf *conf,
                                             const struct wb_outbound *ob, const char *message_id,
                                             int64_t date_s, struct wb_buf *out,
                                             struct wb_err *err);

/*
 * The address a reply goes to: ob->recipient_email when set, else
 * ob->recipient_id (on the email channel an identity's external id is its
 * address). Borrowed from ob; may be NULL.
 */
const char *wb_email_recipient(const struct wb_outbound *ob);

/*
 * Append the RFC 5322 date of t (seconds since the epoch, UTC) to out,
 * e.g. "Tue, 07 May 2024 10:00:00 +0000".
 */
WB_NODISCARD enum wb_status wb_email_format_date(int64_t t, struct wb_buf *out);

#endif
