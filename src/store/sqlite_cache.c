/*
 * sqlite_cache.c - two-generation maps and the write connection's caches
 * of identities and conversations (see sqlite_cache.h).
 *
 * Thread: the connection's thread.
 */
#include <stdlib.h>
#include <string.h>

#include "sqlite_cache.h"

#define SLOTS (2 * WB_SQ_CACHE_GEN) /* a power of two: load stays at or below 1/2 */

struct wb_sq_slot {
    uint64_t hash;
    void *key; /* NULL: empty */
    size_t klen;
    void *val; /* NULL: removed (the key stays so probe chains hold) */
};

/* FNV-1a, 64 bit: keys are short and come from our own rows. */
static uint64_t hash_key(const void *key, size_t klen)
{
    const unsigned char *p = key;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < klen; i++) {
        h = (h ^ p[i]) * 1099511628211ULL;
    }
    return h;
}

static void gen_free(struct wb_sq_gen *g, void (*free_val)(void *))
{
    if (g->slots == NULL) {
        return;
    }
    for (size_t i = 0; i < SLOTS; i++) {
        free(g->slots[i].key);
        if (g->slots[i].val != NULL) {
            free_val(g->slots[i].val);
        }
    }
    free(g->slots);
    g->slots = NULL;
    g->used = 0;
}

/* The slot holding key, or the empty slot where it would go (NULL: gen unallocated). */
static struct wb_sq_slot *gen_find(struct wb_sq_gen *g, uint64_t h, const void *key, size_t klen)
{
    if (g->slots == NULL) {
        return NULL;
    }
    for (size_t i = (size_t)h & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
        struct wb_sq_slot *s = &g->slots[i];
        if (s->key == NULL || (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0)) {
            return s;
        }
    }
}

void wb_sq_map_init(struct wb_sq_map *m, void (*free_val)(void *))
{
    memset(m, 0, sizeof(*m));
    m->free_val = free_val;
}

void wb_sq_map_clear(struct wb_sq_map *m)
{
    gen_free(&m->cur, m->free_val);
    gen_free(&m->old, m->free_val);
}

/* Put into the current generation, rotating first when it is full. */
static void cur_put(struct wb_sq_map *m, uint64_t h, const void *key, size_t klen, void *val)
{
    if (m->cur.slots == NULL) {
        m->cur.slots = wb_calloc(SLOTS, sizeof(*m->cur.slots));
    }
    struct wb_sq_slot *s = gen_find(&m->cur, h, key, klen);
    if (s->key == NULL && m->cur.used >= WB_SQ_CACHE_GEN) {
        gen_free(&m->old, m->free_val);
        m->old = m->cur;
        m->cur.slots = wb_calloc(SLOTS, sizeof(*m->cur.slots));
        m->cur.used = 0;
        s = gen_find(&m->cur, h, key, klen);
    }
    if (s->key == NULL) {
        s->key = wb_malloc(klen);
        memcpy(s->key, key, klen);
        s->klen = klen;
        s->hash = h;
        m->cur.used++;
    } else if (s->val != NULL) {
        m->free_val(s->val);
    }
    s->val = val;
}

void *wb_sq_map_get(struct wb_sq_map *m, const void *key, size_t klen)
{
    uint64_t h = hash_key(key, klen);
    struct wb_sq_slot *s = gen_find(&m->cur, h, key, klen);
    if (s != NULL && s->key != NULL) {
        return s->val;
    }
    s = gen_find(&m->old, h, key, klen);
    if (s == NULL || s->key == NULL || s->val == NULL) {
        return NULL;
    }
    void *val = s->val;
    s->val = NULL; /* moves to the current generation */
    cur_put(m, h, key, klen, val);
    return val;
}

void wb_sq_map_put(struct wb_sq_map *m, const void *key, size_t klen, void *val)
{
    uint64_t h = hash_key(key, klen);
    struct wb_sq_slot *s = gen_find(&m->old, h, key, klen);
    if (s != NULL && s->key != NULL && s->val != NULL) {
        m->free_val(s->val);
        s->val = NULL;
    }
    if (val == NULL) {
        s = gen_find(&m->cur, h, key, klen);
        if (s != NULL && s->key != NULL && s->val != NULL) {
            m->free_val(s->val);
            s->val = NULL;
        }
        return;
    }
    cur_put(m, h, key, klen, val);
}

/* ---- the three caches ---- */

static void ident_free(void *p)
{
    struct wb_sq_ident *e = p;
    free(e->name);
    free(e->email);
    free(e);
}

static void conv_free(void *p)
{
    struct wb_sq_conv *e = p;
    wb_conversation_free(&e->c);
    free(e->last_text);
    free(e);
}

void wb_sq_caches_init(struct wb_sq_caches *c)
{
    wb_sq_map_init(&c->ident, ident_free);
    wb_sq_map_init(&c->conv, conv_free);
    wb_sq_map_init(&c->newest, free);
}

void wb_sq_caches_clear(struct wb_sq_caches *c)
{
    wb_sq_map_clear(&c->ident);
    wb_sq_map_clear(&c->conv);
    wb_sq_map_clear(&c->newest);
}

/* "a" '\0' "b": both are NUL-free strings, so the key is unambiguous. */
static size_t pair_key(char *buf, size_t size, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la + 1 + lb > size) {
        return 0;
    }
    memcpy(buf, a, la);
    buf[la] = '\0';
    memcpy(buf + la + 1, b, lb);
    return la + 1 + lb;
}

/* contact id (8 bytes) + channel id */
static size_t newest_key(char *buf, size_t size, int64_t contact_id, const char *channel_id)
{
    size_t l = strlen(channel_id);
    if (sizeof(contact_id) + l > size) {
        return 0;
    }
    memcpy(buf, &contact_id, sizeof(contact_id));
    memcpy(buf + sizeof(contact_id), channel_id, l);
    return sizeof(contact_id) + l;
}

#define KEY_MAX 512 /* longer ids are simply not cached */

struct wb_sq_ident *wb_sq_ident_get(struct wb_sq_caches *c, const char *channel_id,
                                    const char *external_id)
{
    char key[KEY_MAX];
    size_t n = pair_key(key, sizeof(key), channel_id, external_id);
    return n > 0 ? wb_sq_map_get(&c->ident, key, n) : NULL;
}

void wb_sq_ident_put(struct wb_sq_caches *c, const char *channel_id, const char *external_id,
                     int64_t identity_id, int64_t contact_id, const char *name, const char *email)
{
    char key[KEY_MAX];
    size_t n = pair_key(key, sizeof(key), channel_id, external_id);
    if (n == 0) {
        return;
    }
    struct wb_sq_ident *e = wb_calloc(1, sizeof(*e));
    e->identity_id = identity_id;
    e->contact_id = contact_id;
    e->name = name != NULL ? wb_strdup(name) : NULL;
    e->email = email != NULL ? wb_strdup(email) : NULL;
    wb_sq_map_put(&c->ident, key, n, e);
}

struct wb_sq_conv *wb_sq_conv_get(struct wb_sq_caches *c, int64_t id)
{
    return wb_sq_map_get(&c->conv, &id, sizeof(id));
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? wb_strdup(s) : NULL;
}

struct wb_sq_conv *wb_sq_conv_put(struct wb_sq_caches *c, const struct wb_conversation *conv)
{
    struct wb_sq_conv *e = wb_sq_conv_get(c, conv->id);
    if (e == NULL) {
        e = wb_calloc(1, sizeof(*e));
        wb_sq_map_put(&c->conv, &conv->id, sizeof(conv->id), e);
    } else {
        wb_conversation_free(&e->c);
    }
    e->c = *conv;
    e->c.channel_id = dup_or_null(conv->channel_id);
    e->c.subject = dup_or_null(conv->subject);
    e->c.topic = dup_or_null(conv->topic);
    return e;
}

void wb_sq_conv_set_text(struct wb_sq_conv *e, const char *text)
{
    free(e->last_text);
    e->last_text = NULL;
    e->last_text_known = text == NULL || strlen(text) <= WB_SQ_CACHE_TEXT_MAX;
    if (text != NULL && e->last_text_known) {
        e->last_text = wb_strdup(text);
    }
}

void wb_sq_newest_touch(struct wb_sq_caches *c, const struct wb_conversation *conv)
{
    char key[KEY_MAX];
    size_t n = newest_key(key, sizeof(key), conv->contact_id, conv->channel_id);
    if (n == 0) {
        return;
    }
    struct wb_sq_newest *e = wb_sq_map_get(&c->newest, key, n);
    if (e == NULL) {
        return; /* unknown: the next lookup asks the database */
    }
    if (conv->owner == WB_OWNER_RESOLVED) {
        if (e->conversation_id == conv->id) {
            wb_sq_map_put(&c->newest, key, n, NULL);
        }
        return;
    }
    /* the order of the query: updated_ms, then id, both descending */
    if (conv->updated_ms > e->updated_ms ||
        (conv->updated_ms == e->updated_ms && conv->id >= e->conversation_id)) {
        e->conversation_id = conv->id;
        e->updated_ms = conv->updated_ms;
    } else if (e->conversation_id == conv->id) {
        e->updated_ms = conv->updated_ms;
    }
}

void wb_sq_newest_set(struct wb_sq_caches *c, const struct wb_conversation *conv)
{
    char key[KEY_MAX];
    size_t n = newest_key(key, sizeof(key), conv->contact_id, conv->channel_id);
    if (n == 0) {
        return;
    }
    struct wb_sq_newest *e = wb_malloc(sizeof(*e));
    e->conversation_id = conv->id;
    e->updated_ms = conv->updated_ms;
    wb_sq_map_put(&c->newest, key, n, e);
}

struct wb_sq_conv *wb_sq_newest_get(struct wb_sq_caches *c, int64_t contact_id,
                                    const char *channel_id)
{
    char key[KEY_MAX];
    size_t n = newest_key(key, sizeof(key), contact_id, channel_id);
    struct wb_sq_newest *e = n > 0 ? wb_sq_map_get(&c->newest, key, n) : NULL;
    if (e == NULL) {
        return NULL;
    }
    struct wb_sq_conv *cv = wb_sq_conv_get(c, e->conversation_id);
    if (cv == NULL || cv->c.owner == WB_OWNER_RESOLVED || cv->c.updated_ms != e->updated_ms) {
        return NULL;
    }
    return cv;
}
