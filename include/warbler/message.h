/*
 * message.h - the normalized message model shared by every channel.
 *
 * A connector's parse function fills struct wb_inbound values in an arena
 * (borrowed, short-lived). What crosses threads is a heap-owned
 * struct wb_message made with wb_message_new(), which deep-copies the
 * inbound fields into one allocation. The core takes ownership of a
 * wb_message on submit, on every path.
 *
 * Outbound replies reach connectors as a borrowed struct wb_outbound.
 *
 * Thread: any; a value is used by one thread at a time.
 */
#ifndef WARBLER_MESSAGE_H
#define WARBLER_MESSAGE_H

#include <warbler/common.h>

enum wb_author {
    WB_AUTHOR_CONTACT = 0,
    WB_AUTHOR_BOT,
    WB_AUTHOR_AGENT,
    WB_AUTHOR_SYSTEM,
};

enum wb_direction {
    WB_DIR_IN = 0,
    WB_DIR_OUT,
    WB_DIR_NOTE, /* private agent note, never sent */
};

const char *wb_author_str(enum wb_author a);
const char *wb_direction_str(enum wb_direction d);

struct wb_attachment {
    const char *filename;     /* decoded display name, may be NULL */
    const char *content_type; /* e.g. "image/png" */
    const char *path;         /* stored file, may be NULL until stored */
    const uint8_t *data;      /* bytes when not yet stored, may be NULL */
    size_t size;
    bool is_inline;
};

/* One inbound message as a connector parsed it. Strings are UTF-8. */
struct wb_inbound {
    const char *external_id;    /* platform's unique id: required */
    const char *sender_id;      /* identity's external id on this channel: required */
    const char *sender_name;    /* display name, may be NULL */
    const char *sender_email;   /* claimed address, may be NULL */
    bool sender_email_verified; /* true only on proof (e.g. HMAC-verified login) */
    const char *text;           /* what the bot reads and the agent sees first */
    const char *full_text;      /* full text when text is a part of it, may be NULL */
    const char *subject;        /* may be NULL */
    /*
     * Threading hints: external ids of earlier messages (inbound or our
     * own outbound) this one answers, newest first; and a topic key with
     * the window in which the same sender's same topic joins an open
     * conversation (0 = not used).
     */
    const char *const *thread_refs;
    size_t n_thread_refs;
    const char *topic;
    int64_t topic_window_ms;
    int64_t sent_at_ms; /* platform's time, 0 if unknown */
    bool no_auto_reply; /* auto-reply, bounce or list mail: store, never answer */
    const struct wb_attachment *attachments;
    size_t n_attachments;
    const uint8_t *raw; /* raw payload to keep, may be NULL */
    size_t raw_len;
};

/* Heap-owned inbound message bound to a channel, crossing threads. */
struct wb_message {
    char *channel_id;
    struct wb_inbound in;     /* strings point into this allocation */
    int64_t received_ms;      /* wall clock when received */
    int64_t received_mono_ms; /* monotonic, for ingest latency */
    /* Completion: the core calls done(ctx, ...) on its thread after commit. */
    void (*done)(void *ctx, const struct wb_message *m, enum wb_status st, int64_t conversation_id,
                 int64_t message_id, bool duplicate);
    void *done_ctx;
};

/*
 * Deep-copy in into a new heap message for channel_id. Never NULL.
 * Ownership: returned message is owned; free with wb_message_free().
 */
struct wb_message *wb_message_new(const char *channel_id, const struct wb_inbound *in);
void wb_message_free(struct wb_message *m);

/* A reply to deliver, as given to a connector. All fields borrowed. */
struct wb_outbound {
    int64_t outbox_id;
    const char *idempotency_key; /* same across retries */
    const char *channel_id;
    int64_t conversation_id;
    int64_t message_id;
    const char *recipient_id;    /* identity's external id on the channel */
    const char *recipient_name;  /* may be NULL */
    const char *recipient_email; /* may be NULL */
    const char *text;
    enum wb_author author;
    const char *subject;            /* conversation subject, may be NULL */
    const char *const *thread_refs; /* external ids of the thread, oldest first */
    size_t n_thread_refs;
    int attempt; /* 1 for the first try */
};

#endif
