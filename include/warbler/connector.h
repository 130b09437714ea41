/*
 * connector.h - the interface every channel implements.
 *
 * A connector type is one static const struct wb_connector_ops filled with
 * designated initializers. An instance (one per configured channel) is an
 * opaque pointer the connector owns, made by create() from the struct the
 * config walker filled using ops->schema.
 *
 * HTTP platforms implement four pure functions (no I/O, no clock, no
 * globals): verify, parse, build_send and read_send_result. The core does
 * every network operation, retry, timeout and metric. Connectors that hold
 * their own connections (email, web chat) add start/stop and, for blocking
 * senders, send().
 *
 * Thread: verify/parse/answer run on the loop thread; build_send and
 * read_send_result on the http thread; send on a sender pool thread;
 * create/start/stop/destroy on the main thread. An instance's
 * configuration is immutable after create(), so the pure functions may run
 * concurrently on different threads.
 */
#ifndef WARBLER_CONNECTOR_H
#define WARBLER_CONNECTOR_H

#include <warbler/common.h>
#include <warbler/buf.h>
#include <warbler/conf.h>
#include <warbler/message.h>

struct wb_header {
    const char *name;
    const char *value;
};

/* An inbound HTTP request as received (borrowed; body not NUL-terminated). */
struct wb_http_request {
    const char *method;
    const char *path;  /* without the query */
    const char *query; /* raw query string without '?', may be "" */
    const struct wb_header *headers;
    size_t n_headers;
    const uint8_t *body;
    size_t body_len;
    int64_t now_ms; /* wall clock, passed in so parsers stay pure */
};

/* Case-insensitive header lookup; NULL if absent. Thread: any. */
const char *wb_http_header_get(const struct wb_header *h, size_t n, const char *name);

/*
 * Milliseconds to wait from a Retry-After value (delta-seconds or an
 * HTTP-date), capped at one day; 0 when absent or unreadable. Pure.
 */
int64_t wb_http_retry_after_ms(const char *value, int64_t now_ms);

/* The HTTP answer to a webhook (arena or static memory). */
struct wb_http_answer {
    int status;
    const char *content_type;
    const char *body;
    size_t body_len;
};

struct wb_limits {
    size_t max_body;       /* webhook body bytes */
    size_t max_text;       /* message text bytes */
    size_t max_messages;   /* messages in one webhook delivery */
    size_t max_headers;    /* header count */
    size_t max_attachment; /* bytes */
};

struct wb_parse_out {
    struct wb_inbound *msgs; /* in the arena */
    size_t n_msgs;
    /*
     * The answer to send once the messages are committed (or at once when
     * n_msgs is 0), unless the connector has an answer() op.
     */
    struct wb_http_answer answer;
};

/* The outcome of committing one parsed message. */
struct wb_ingest_result {
    enum wb_status status;
    int64_t conversation_id;
    int64_t message_id;
    bool duplicate;
};

/* An outbound HTTP request built by build_send (arena memory). */
struct wb_http_out {
    const char *method;
    const char *url;
    struct wb_header *headers;
    size_t n_headers;
    const uint8_t *body;
    size_t body_len;
};

/* The response to an outbound request, as the http thread received it. */
struct wb_http_resp {
    enum wb_status transport;    /* WB_OK, or WB_ERR_TIMEOUT / _IO / _TLS */
    const char *transport_error; /* curl's message when transport != WB_OK */
    long status;                 /* HTTP status, 0 when transport failed */
    const struct wb_header *headers;
    size_t n_headers;
    const uint8_t *body;
    size_t body_len;
    int64_t now_ms;
};

enum wb_send_outcome {
    WB_SEND_OK = 0,
    WB_SEND_RETRY,     /* transient: try again later */
    WB_SEND_PERMANENT, /* the platform refused: never retry */
};

struct wb_send_result {
    enum wb_send_outcome outcome;
    char external_id[128];  /* platform's id for the sent message, may be "" */
    int64_t retry_after_ms; /* from Retry-After, 0 if none */
    char reason[256];       /* readable by an agent */
};

enum wb_channel_state {
    WB_CHANNEL_UP = 0,
    WB_CHANNEL_DEGRADED,
    WB_CHANNEL_DOWN,
};

const char *wb_channel_state_str(enum wb_channel_state s);

/* What a channel can carry; the core checks replies against it. */
struct wb_channel_caps {
    size_t max_text;               /* bytes of reply text, 0 = no limit */
    int64_t reply_window_ms;       /* 0 = replies any time */
    bool customer_first;           /* the customer must write first */
    int max_auto_replies_per_hour; /* bot replies to one sender per hour, 0 = no cap */
    bool thread_refs;              /* send() reads wb_outbound.thread_refs (email References) */
};

/*
 * The core's services, given to each instance at create().
 */
struct wb_host {
    void *core; /* opaque */
    /*
     * Hand an inbound message to the core. The core owns m on every path
     * and calls m->done (if set) on the core thread after the commit.
     * Thread: any. Returns WB_ERR_BUSY when the core queue is full (the
     * message is freed, m->done is called with that status).
     */
    enum wb_status (*submit_take)(const struct wb_host *host, struct wb_message *m);
    /*
     * Like submit_take, but waits for room in the core queue: for connector
     * threads that may block (an IMAP worker). WB_ERR_IO when shutting down
     * (m->done is called with it). Thread: any but the loop.
     */
    enum wb_status (*submit_wait_take)(const struct wb_host *host, struct wb_message *m);
    /* Report channel health; reason may be NULL. Thread: any. */
    void (*set_state)(const struct wb_host *host, const char *channel_id,
                      enum wb_channel_state state, const char *reason);
    /*
     * Per-channel persistent values (e.g. an IMAP folder's UIDVALIDITY and
     * last processed UID). state_get reads the store through a read-only
     * connection of its own: it blocks, so never call it from the loop.
     * *value_out is owned (free()); WB_ERR_NOTFOUND when unset. state_set
     * queues the write behind every message submitted before it; it is
     * committed with the next batch. Thread: any (state_get: not the loop).
     */
    enum wb_status (*state_get)(const struct wb_host *host, const char *channel_id, const char *key,
                                char **value_out, struct wb_err *err);
    void (*state_set)(const struct wb_host *host, const char *channel_id, const char *key,
                      const char *value);
    /* warblerd's state directory (state_dir), for a connector's own files. */
    const char *state_dir;
};

struct wb_connector_ops {
    const char *name;                    /* the `type` word in warbler.conf */
    const struct wb_conf_schema *schema; /* per-channel settings */
    struct wb_channel_caps caps;
    /*
     * Non-standard request headers verify/parse read (NULL-terminated, may
     * be NULL); standard ones (Content-Type, Authorization, ...) are always
     * passed.
     */
    const char *const *headers;

    /* Make an instance from the filled conf struct (borrowed: copy what is kept). */
    enum wb_status (*create)(const struct wb_host *host, const char *channel_id, const void *conf,
                             void **inst_out, struct wb_err *err);
    void (*destroy)(void *inst);
    /* Optional, for connectors with their own threads. stop is idempotent. */
    enum wb_status (*start)(void *inst, struct wb_err *err);
    void (*stop)(void *inst);

    /*
     * HTTP platforms. verify checks the platform's signature or handshake on
     * the raw request; on failure it fills ans (401/403/...) and returns an
     * error. It may also answer a handshake itself (returns WB_AGAIN with ans).
     */
    enum wb_status (*verify)(const void *inst, const struct wb_http_request *req,
                             struct wb_arena *a, struct wb_http_answer *ans, struct wb_err *err);
    enum wb_status (*parse)(const void *inst, const struct wb_http_request *req,
                            const struct wb_limits *lim, struct wb_arena *a,
                            struct wb_parse_out *out, struct wb_err *err);
    /* Optional: build the answer from commit results (one per parsed message). */
    enum wb_status (*answer)(const void *inst, const struct wb_ingest_result *res, size_t n,
                             struct wb_arena *a, struct wb_http_answer *out);
    enum wb_status (*build_send)(const void *inst, const struct wb_outbound *ob, struct wb_arena *a,
                                 struct wb_http_out *out, struct wb_err *err);
    enum wb_status (*read_send_result)(const void *inst, const struct wb_outbound *ob,
                                       const struct wb_http_resp *resp, struct wb_send_result *out);

    /* Optional: this instance's capabilities when they depend on its settings. */
    void (*instance_caps)(const void *inst, struct wb_channel_caps *out);

    /* Blocking send for connectors with their own transport (email). */
    enum wb_status (*send)(void *inst, const struct wb_outbound *ob, struct wb_send_result *out);
};

/* The registry of compiled-in connector types. Thread: any (immutable). */
const struct wb_connector_ops *wb_connector_find(const char *name);
const struct wb_connector_ops *const *wb_connector_all(size_t *n_out);

#endif
