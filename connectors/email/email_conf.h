/*
 * email_conf.h - the settings of one email channel (one mailbox).
 *
 * Filled by the config walker from the connector's schema (email.c); the
 * IMAP worker (email_imap.c) and the SMTP sender (email_smtp.c) read it.
 * Immutable after create().
 *
 * Thread: any (read-only).
 */
#ifndef WB_EMAIL_CONF_H
#define WB_EMAIL_CONF_H

#include <warbler/common.h>

enum wb_email_tls {
    WB_EMAIL_TLS_IMPLICIT = 0, /* TLS from the first byte (IMAPS 993, SMTPS 465) */
    WB_EMAIL_TLS_STARTTLS,     /* plain, then STARTTLS (required) */
    WB_EMAIL_TLS_PLAIN,        /* no TLS: refused unless the host is loopback */
};

enum wb_email_processed {
    WB_EMAIL_MARK_SEEN = 0, /* set \Seen after commit */
    WB_EMAIL_MARK_KEYWORD,  /* set the keyword `processed_keyword` after commit */
};

struct wb_email_conf {
    /* the mailbox's own address and the name replies are sent as */
    char *address;
    char *display_name;
    char *message_id_domain; /* "" = the domain of address */

    /* IMAP */
    char *imap_host;
    int64_t imap_port;
    int imap_tls; /* enum wb_email_tls */
    char *imap_user;
    struct wb_secret imap_password;
    char *imap_folder;        /* "INBOX" */
    int processed;            /* enum wb_email_processed */
    char *processed_keyword;  /* "$WarblerProcessed" */
    int64_t poll_interval_ms; /* only when the server lacks IDLE */
    int64_t fetch_batch;      /* messages fetched and committed together */
    char *sent_folder;        /* "" = do not keep copies of replies */

    /* SMTP */
    char *smtp_host;
    int64_t smtp_port;
    int smtp_tls;    /* enum wb_email_tls */
    char *smtp_user; /* "" = no AUTH */
    struct wb_secret smtp_password;

    /* TLS verification (both protocols) */
    bool tls_verify; /* true unless this mailbox says otherwise (logged) */
    char *ca_file;   /* "" = the system's CA store */

    /* limits and behaviour */
    int64_t max_message;     /* raw bytes */
    int64_t max_attachment;  /* decoded bytes per attachment */
    int64_t topic_window_ms; /* same sender + same subject joins within this window */
    int64_t max_auto_replies_per_hour;
    int64_t timeout_ms; /* network timeout per operation */
};

#endif
