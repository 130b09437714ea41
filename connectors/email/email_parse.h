/*
 * email_parse.h - one raw RFC 5322 / MIME message to the conversation model.
 *
 * wb_email_parse_mime() is the email channel's pure parser: bytes in,
 * struct wb_email_parsed (a struct wb_inbound plus email-only fields) out.
 * No I/O, no logging, no clock, no globals; libetpan does the MIME
 * structure and header grammar, glibc iconv the charsets. The IMAP worker
 * calls it per fetched message; unit tests and the fuzzer call it with
 * bytes.
 *
 * Thread: any; the limits are read-only and may be shared.
 */
#ifndef WB_EMAIL_PARSE_H
#define WB_EMAIL_PARSE_H

#include <warbler/buf.h>
#include <warbler/common.h>
#include <warbler/message.h>

/* Bounds and mailbox facts the parser needs (set by the connector's config). */
struct wb_email_limits {
    size_t max_message;     /* raw message bytes */
    size_t max_attachment;  /* decoded bytes of one attachment */
    size_t max_attachments; /* attachments kept; further ones are skipped */
    size_t max_headers;     /* header fields of the top-level message */
    size_t max_text;        /* bytes of decoded text kept (cut on a UTF-8 boundary) */
    size_t max_parts;       /* MIME parts looked at */
    size_t max_depth;       /* MIME nesting looked into */
    size_t max_refs;        /* thread references kept */
    /* The mailbox's own addresses: mail From one of them is never answered. */
    const char *const *own_addresses;
    size_t n_own_addresses;
    int64_t topic_window_ms; /* copied to in.topic_window_ms */
};

/*
 * Fill lim with safe defaults: 50 MiB message, 25 MiB per attachment, 100
 * attachments, 1000 header fields, 1 MiB text, 1000 parts, depth 20, 50
 * references, no own address, a 7-day topic window.
 */
void wb_email_limits_default(struct wb_email_limits *lim);

enum wb_email_skip_reason {
    WB_EMAIL_SKIP_TOO_LARGE = 1, /* over max_attachment */
    WB_EMAIL_SKIP_TOO_MANY,      /* over max_attachments */
    WB_EMAIL_SKIP_TOO_DEEP,      /* nested deeper than max_depth, or past max_parts */
};

/* An attachment that was seen but not kept (not an error). */
struct wb_email_skipped {
    const char *filename;     /* decoded, may be NULL */
    const char *content_type; /* lowercase type/subtype */
    size_t size;              /* decoded bytes, or an estimate when not decoded */
    enum wb_email_skip_reason reason;
};

/* Why a message is not to be answered (bits of wb_email_parsed.auto_flags). */
enum {
    WB_EMAIL_AUTO_SUBMITTED = 1 << 0,   /* Auto-Submitted other than "no" */
    WB_EMAIL_AUTO_XAUTOREPLY = 1 << 1,  /* X-Autoreply or X-Autorespond */
    WB_EMAIL_AUTO_PRECEDENCE = 1 << 2,  /* Precedence: bulk, junk or list */
    WB_EMAIL_AUTO_LIST = 1 << 3,        /* List-Id */
    WB_EMAIL_AUTO_NULL_SENDER = 1 << 4, /* Return-Path: <> */
    WB_EMAIL_AUTO_MDN = 1 << 5,         /* multipart/report disposition-notification */
};

struct wb_email_parsed {
    /*
     * The conversation model. external_id is the Message-ID without
     * brackets or, when there is none, "sha256:" and the hex SHA-256 of
     * the raw bytes (stable across IMAP re-fetches); sender_id the
     * lowercased From address; sender_email the same address, unverified;
     * sender_name and subject decoded; topic the normalized subject (NULL
     * when empty); thread_refs In-Reply-To then References newest first;
     * text the new text only; full_text the whole decoded text; sent_at_ms
     * from Date (0 when missing or invalid); attachments with their bytes
     * in the arena; raw the whole message (a copy in the arena).
     */
    struct wb_inbound in;
    const char *message_id;        /* without <>, NULL when absent */
    const char *in_reply_to;       /* first id of In-Reply-To, without <>, NULL when absent */
    const char *const *references; /* References as written (oldest first) */
    size_t n_references;
    const char *reply_to; /* lowercased first Reply-To address, NULL when absent */
    bool has_date;
    size_t n_to, n_cc;      /* addresses in To and Cc (group members counted) */
    size_t n_headers;       /* header fields of the top-level message */
    bool is_synthetic_id;   /* external_id is the SHA-256 one */
    bool is_bounce;         /* multipart/report delivery-status or From MAILER-DAEMON */
    bool is_auto;           /* auto_flags != 0 */
    unsigned auto_flags;    /* WB_EMAIL_AUTO_* */
    bool is_from_self;      /* From is one of own_addresses */
    bool has_html;          /* an HTML body part was seen */
    bool text_from_html;    /* the text came from HTML (no text/plain) */
    bool is_quote_stripped; /* text is shorter than full_text */
    bool is_text_truncated; /* the text reached max_text */
    const struct wb_email_skipped *skipped;
    size_t n_skipped;
};

/*
 * Parse the raw message p[0..n) (not NUL-terminated; CRLF or bare LF).
 *
 * Parameters: lim the bounds (NULL means wb_email_limits_default()); a the
 * arena that receives every output string and byte (a copy of p included:
 * out never points into p); out is zeroed first; err gets the detail on
 * failure (may be NULL).
 *
 * Status:
 *  - WB_OK: out is complete. Odd mail (no Message-ID, no Date, empty body,
 *    broken encodings, unknown charsets) is still WB_OK, decoded as well as
 *    it can be.
 *  - WB_ERR_LIMIT: n > max_message, more than max_headers header fields,
 *    more than 1000 Content-Type fields or comments nested more than 100
 *    deep (libetpan's recursion is bounded this way: the parser needs
 *    well under 1 MiB of stack); out has only external_id (SHA-256) and,
 *    unless the message was too large, raw.
 *  - WB_ERR_PARSE: no sender address could be found, or libetpan could
 *    not parse the message; out is filled as far as possible (always
 *    external_id and raw, in.sender_id NULL) so the caller can store the
 *    message raw and show it to an agent.
 *  - WB_ERR_INVAL: p is NULL with n > 0, or out or a is NULL.
 */
WB_NODISCARD enum wb_status wb_email_parse_mime(const uint8_t *p, size_t n,
                                                const struct wb_email_limits *lim,
                                                struct wb_arena *a, struct wb_email_parsed *out,
                                                struct wb_err *err);

/*
 * The topic key of a decoded subject (what in.topic holds): reply and
 * forward prefixes (Re:, RE:, Fwd:, 回复:, 答复:, 转发: ...) stripped
 * repeatedly, lowercased, whitespace collapsed. Returns a string in a.
 */
char *wb_email_subject_topic(const char *subject, struct wb_arena *a);

#endif
