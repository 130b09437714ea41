/*
 * channels.h - the running channel instances, their health and counters.
 *
 * DESIGN: a struct wb_chanset is an immutable, reference-counted array of
 * instances made from one config. The current set is swapped on reload;
 * threads that use a set (the loop for webhooks, the http thread for
 * sends) hold a reference while they call its connectors, so an instance is
 * destroyed only when the last user lets it go. The swap pointer is guarded
 * by a mutex held only for the pointer copy and the reference count.
 * Health (state + last error) is a small mutex-guarded struct per channel,
 * kept across reloads by channel id, as are the counters.
 *
 * Thread: any, as documented per function.
 */
#ifndef WB_CORE_CHANNELS_H
#define WB_CORE_CHANNELS_H

#include <pthread.h>
#include <stdatomic.h>

#include <warbler/connector.h>

#include "config.h"

/* Health and counters of one channel id; lives as long as the process. */
struct wb_channel_stats {
    char id[72];
    pthread_mutex_t mu; /* guards state and last_error */
    enum wb_channel_state state;
    char last_error[256];
    int64_t state_since_ms;
    atomic_ullong inbound;     /* messages committed */
    atomic_ullong duplicates;  /* re-deliveries answered from the store */
    atomic_ullong rejected;    /* webhook requests refused (4xx) */
    atomic_ullong sent;        /* replies delivered */
    atomic_ullong send_failed; /* failed attempts */
    atomic_ullong dead;        /* replies given up */
};

struct wb_channel {
    char *id;
    const struct wb_connector_ops *ops;
    void *inst;
    struct wb_channel_stats *stats;
};

struct wb_chanset {
    atomic_int refs;
    struct wb_channel *v;
    size_t n;
};

/*
 * Create every channel of cfg (calling ops->create; not start). On error
 * nothing is left created. Thread: main.
 */
WB_NODISCARD enum wb_status wb_chanset_new(const struct wb_config *cfg, const struct wb_host *host,
                                           struct wb_chanset **out, struct wb_err *err);
/* Start connectors with their own threads. Thread: main. */
WB_NODISCARD enum wb_status wb_chanset_start(struct wb_chanset *cs, struct wb_err *err);
/* Stop connectors with their own threads (idempotent). Thread: main. */
void wb_chanset_stop(struct wb_chanset *cs);

/* The current set with a reference taken; NULL before the first install. Thread: any. */
struct wb_chanset *wb_chanset_acquire(void);
/* Drop a reference; the last one destroys the set. Thread: any. */
void wb_chanset_release(struct wb_chanset *cs);
/* Make cs current (taking over the caller's reference); the old one is released. */
void wb_chanset_install(struct wb_chanset *cs);

const struct wb_channel *wb_chanset_find(const struct wb_chanset *cs, const char *id);

/* The channel's capabilities: the instance's own, or its connector type's. */
void wb_channel_caps_get(const struct wb_channel *ch, struct wb_channel_caps *out);

/* The stats block for a channel id (created on first use). Thread: any. */
struct wb_channel_stats *wb_channel_stats_get(const char *id);
/* Set health; logs transitions. Thread: any. */
void wb_channel_set_state(struct wb_channel_stats *s, enum wb_channel_state state,
                          const char *reason);
/* Copy health out under the lock. Thread: any. */
void wb_channel_get_state(struct wb_channel_stats *s, enum wb_channel_state *state_out,
                          char *reason_out, size_t reason_sz, int64_t *since_out);

#endif
