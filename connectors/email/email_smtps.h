/*
 * email_smtps.h - send one composed reply over implicit TLS (SMTPS, port
 * 465) with libcurl.
 *
 * libesmtp 1.1 can only upgrade with STARTTLS, so wb_email_send
 * (email_smtp.c) hands smtp_tls = implicit to this function once the
 * message is composed; the Message-ID, the Sent-folder copy and the logging
 * stay in email_smtp.c, shared by both paths.
 *
 * Thread: any (a sender pool thread); blocking; one curl easy handle per
 * call, owned by the calling thread. curl_global_init must have been called
 * before threads start (warblerd does it at startup).
 */
#ifndef WB_EMAIL_SMTPS_H
#define WB_EMAIL_SMTPS_H

#include <warbler/common.h>
#include <warbler/connector.h>
#include <warbler/message.h>

#include "email_conf.h"

/*
 * Send data[0..len) (an RFC 5322 message with CRLF line ends, from
 * wb_email_compose) to the recipient of ob over smtps://smtp_host:smtp_port,
 * from conf->address; AUTH as conf->smtp_user with password (NUL-terminated,
 * may be NULL when smtp_user is empty) when smtp_user is set. TLS 1.2 or
 * newer; peer and host name verified against conf->ca_file (or the system
 * store) unless conf->tls_verify is false.
 *
 * Fills out->outcome and out->reason (printable, no CR/LF) only:
 *   WB_SEND_OK        the server accepted the message;
 *   WB_SEND_RETRY     connection, TLS, timeout, AUTH-rejected or 4xx
 *                     failures;
 *   WB_SEND_PERMANENT a 5xx for MAIL, RCPT or the message (the server's
 *                     reply in reason), or a host that cannot be put in a
 *                     URL.
 * The caller sets external_id and keeps the Sent copy. Every argument is
 * borrowed; credentials are never logged.
 *
 * Thread: any; blocks up to a few times conf->timeout_ms.
 */
void wb_email_smtps_send(const struct wb_email_conf *conf, const struct wb_outbound *ob,
                         const char *data, size_t len, const char *password,
                         struct wb_send_result *out);

#endif
