/*
 * email_imap.h - the IMAP worker of one mailbox.
 *
 * One thread per mailbox (`imap:<channel>`) owns its libetpan session for
 * its whole life: connect (implicit TLS, STARTTLS, or plain on loopback),
 * check the server's certificate and name, log in, select the folder,
 * fetch new mail (BODY.PEEK[], so fetching never sets \Seen), parse it,
 * submit it to the core, and after the commit mark it processed (\Seen or
 * a keyword) and record the last UID. IDLE when the server offers it,
 * polling otherwise; reconnects with backoff; reports channel health.
 *
 * Thread: new/start/stop/free on main; the worker runs on its own thread.
 */
#ifndef WB_EMAIL_IMAP_H
#define WB_EMAIL_IMAP_H

#include <warbler/common.h>
#include <warbler/connector.h>

#include "email_conf.h"

struct wb_email_imap;

/*
 * Make a worker (not started). host, channel_id and conf are borrowed and
 * must outlive the worker (the instance owns them). Never fails today;
 * returns WB_OK and *out.
 */
WB_NODISCARD enum wb_status wb_email_imap_new(const struct wb_host *host, const char *channel_id,
                                              const struct wb_email_conf *conf,
                                              struct wb_email_imap **out, struct wb_err *err);

/* Start the thread. WB_ERR_INTERNAL when it cannot be created. */
WB_NODISCARD enum wb_status wb_email_imap_start(struct wb_email_imap *w, struct wb_err *err);

/*
 * Stop the thread: interrupts a blocking IDLE or network call and joins
 * (bounded). Idempotent; safe on a worker never started.
 */
void wb_email_imap_stop(struct wb_email_imap *w);

/* Stop and free (NULL is a no-op). */
void wb_email_imap_free(struct wb_email_imap *w);

#endif
