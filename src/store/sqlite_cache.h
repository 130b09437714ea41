/*
 * sqlite_cache.h - the writer connection's memory of recent identities and
 * conversations, so the ingest path skips the lookups it repeats for every
 * message of a known customer.
 *
 * DESIGN: the driver's write connection is the only writer of the
 * database (one warblerd process owns the file; read-only connections and
 * warblerctl never write), so what it wrote is what the database holds.
 * The caches are filled from rows read or written through this connection
 * and updated by every driver call that changes those rows; any rollback
 * clears them all, so they never hold a value the database does not.
 *
 * Each map keeps two generations of at most WB_SQ_CACHE_GEN entries: when
 * the current one is full it becomes the old one and the older is freed,
 * and a hit in the old generation moves the entry to the current one.
 * That is LRU-like at O(1) cost and bounds memory to two generations.
 *
 * Thread: the connection's thread.
 */
#ifndef WB_STORE_SQLITE_CACHE_H
#define WB_STORE_SQLITE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <warbler/store.h>

#define WB_SQ_CACHE_GEN 8192

/* Texts longer than this are not kept; the query runs instead. */
#define WB_SQ_CACHE_TEXT_MAX 512

struct wb_sq_slot;

struct wb_sq_gen {
    struct wb_sq_slot *slots; /* 2 * WB_SQ_CACHE_GEN, open addressing */
    size_t used;              /* slots holding a key (live or removed) */
};

struct wb_sq_map {
    struct wb_sq_gen cur, old;
    void (*free_val)(void *);
};

/* An identity as stored: (channel, external id) -> ids and display fields. */
struct wb_sq_ident {
    int64_t identity_id;
    int64_t contact_id;
    char *name;  /* may be NULL */
    char *email; /* may be NULL */
};

/* A conversation row, by id, and the newest message its contact wrote. */
struct wb_sq_conv {
    struct wb_conversation c;
    bool last_text_known; /* last_text is the newest contact text (NULL: none) */
    char *last_text;
};

/* (contact, channel) -> the conversation that would be matched as newest open. */
struct wb_sq_newest {
    int64_t conversation_id;
    int64_t updated_ms;
};

void wb_sq_map_init(struct wb_sq_map *m, void (*free_val)(void *));
/* Free every entry; the map stays usable (and allocates again on the next put). */
void wb_sq_map_clear(struct wb_sq_map *m);
/*
 * The value stored under key, or NULL. Valid until the next call on the
 * same map: a get that moves an entry up may retire the old generation.
 */
void *wb_sq_map_get(struct wb_sq_map *m, const void *key, size_t klen);
/* Store val (owned) under key, replacing (and freeing) an older value. */
void wb_sq_map_put(struct wb_sq_map *m, const void *key, size_t klen, void *val);

/* The three caches of a write connection. */
struct wb_sq_caches {
    struct wb_sq_map ident;  /* channel '\0' external id */
    struct wb_sq_map conv;   /* conversation id (8 bytes) */
    struct wb_sq_map newest; /* contact id (8 bytes) + channel */
};

void wb_sq_caches_init(struct wb_sq_caches *c);
/* Free every entry: after any rollback, and at close. */
void wb_sq_caches_clear(struct wb_sq_caches *c);

struct wb_sq_ident *wb_sq_ident_get(struct wb_sq_caches *c, const char *channel_id,
                                    const char *external_id);
void wb_sq_ident_put(struct wb_sq_caches *c, const char *channel_id, const char *external_id,
                     int64_t identity_id, int64_t contact_id, const char *name, const char *email);

struct wb_sq_conv *wb_sq_conv_get(struct wb_sq_caches *c, int64_t id);
/* Remember a conversation row (copied); returns the cached entry. */
struct wb_sq_conv *wb_sq_conv_put(struct wb_sq_caches *c, const struct wb_conversation *conv);
/* Set the remembered newest contact text (copied; NULL = none). */
void wb_sq_conv_set_text(struct wb_sq_conv *e, const char *text);

/*
 * The conversation a touch (new message, owner change) at updated_ms makes
 * the newest of its contact on its channel, unless it is resolved.
 */
void wb_sq_newest_touch(struct wb_sq_caches *c, const struct wb_conversation *conv);
/* Remember conv as the newest open one of its contact on its channel (a query said so). */
void wb_sq_newest_set(struct wb_sq_caches *c, const struct wb_conversation *conv);
/* The cached newest open conversation of (contact, channel), or NULL. */
struct wb_sq_conv *wb_sq_newest_get(struct wb_sq_caches *c, int64_t contact_id,
                                    const char *channel_id);

#endif
