/*
 * config.h - warblerd's configuration, loaded from one libconfig file.
 *
 * wb_config_load_string() is the pure entry (tests and the fuzzer feed it
 * text); wb_config_load_file() reads a file and calls it. Both report the
 * first error as "FILE:LINE: SETTING: problem" in err. The returned struct
 * is immutable; a reload builds a new one and the old one is kept when the
 * new file is bad.
 *
 * Thread: main (load, free); the filled struct is read-only afterwards.
 */
#ifndef WB_CORE_CONFIG_H
#define WB_CORE_CONFIG_H

#include <stdio.h>

#include <warbler/common.h>
#include <warbler/conf.h>
#include <warbler/connector.h>

struct wb_conf_http {
    char *listen;     /* address, "127.0.0.1" */
    int64_t port;     /* 0 picks an ephemeral port (tests) */
    int64_t max_body; /* bytes; larger webhook bodies get 413 */
    int64_t request_timeout_ms;
    int64_t max_headers; /* header count */
};

struct wb_conf_store {
    int driver; /* index into {"sqlite", NULL} */
    char *path; /* PATH; the loader fills in "<state_dir>/warbler.db" when empty */
    int64_t busy_timeout_ms;
    bool synchronous_full;
};

struct wb_conf_core {
    int64_t batch_max;     /* messages per transaction */
    int64_t batch_wait_ms; /* how long a batch waits to fill after its first message */
    int64_t queue_depth;   /* bounded core queue */
    int64_t max_text;      /* bytes of message text */
    int64_t max_messages;  /* per webhook delivery */
};

struct wb_conf_outbox {
    int64_t max_attempts; /* then the message is dead */
    int64_t backoff_base_ms;
    int64_t backoff_max_ms;
    int64_t timeout_ms;   /* per HTTP attempt */
    int64_t max_inflight; /* concurrent HTTP sends */
    int64_t senders;      /* threads for blocking send() connectors */
};

struct wb_conf_log {
    int level; /* enum wb_log_level */
    int sink;  /* 0 auto, 1 stderr, 2 journal, 3 syslog */
};

struct wb_conf_channel {
    char *id; /* [a-z0-9_-]{1,64}, unique */
    const struct wb_connector_ops *ops;
    void *conf; /* struct filled with ops->schema */
    int line;   /* where it is defined, for messages */
};

struct wb_config {
    char *file;      /* the path it was loaded from, or the name given */
    char *dir;       /* its directory (relative paths resolve here) */
    char *state_dir; /* PATH, created if missing */
    char *user;      /* when started as root, switch to this user after binding */
    struct wb_conf_log log;
    struct wb_conf_http http;
    struct wb_conf_store store;
    struct wb_conf_core core;
    struct wb_conf_outbox outbox;
    void *bot; /* struct filled with wb_bot_conf_schema */
    struct wb_conf_channel *channels;
    size_t n_channels;
};

/*
 * Parse and validate config text. name is used in messages and dir for
 * relative paths (NULL: the current directory). Secret files are read and
 * checked here. On error returns WB_ERR_INVAL (or _PARSE for syntax) with
 * err->msg "name:line: setting: problem".
 */
WB_NODISCARD enum wb_status wb_config_load_string(const char *text, size_t len, const char *name,
                                                  const char *dir, struct wb_config **out,
                                                  struct wb_err *err);
/*
 * Read path (at most 16 MiB) and load it as above, with name = path and dir
 * = the absolute directory of path (relative paths and @include resolve
 * there). WB_ERR_IO when the file cannot be read.
 */
WB_NODISCARD enum wb_status wb_config_load_file(const char *path, struct wb_config **out,
                                                struct wb_err *err);
void wb_config_free(struct wb_config *cfg);

/* Find a channel by id; NULL if none. */
const struct wb_conf_channel *wb_config_channel(const struct wb_config *cfg, const char *id);

/* Print every setting with its type, default and doc line (warblerd --help-config). */
void wb_config_print_reference(FILE *f);

#endif
