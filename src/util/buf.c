/*
 * buf.c - arenas and bounded growable buffers.
 *
 * DESIGN: an arena is a list of chunks; large requests get a chunk of
 * their own. Memory is zeroed so parse output starts in a known state.
 *
 * Thread: one thread per arena or buffer at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <warbler/buf.h>

#define CHUNK_SIZE 4096

struct wb_arena_chunk {
    struct wb_arena_chunk *next;
    size_t used;
    size_t cap;
    _Alignas(16) unsigned char data[];
};

void *wb_arena_alloc(struct wb_arena *a, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    struct wb_arena_chunk *c = a->head;

    if (need < n) {
        wb_panic("arena: size overflow");
    }
    if (c == NULL || c->cap - c->used < need) {
        size_t cap = need > CHUNK_SIZE ? need : CHUNK_SIZE;
        struct wb_arena_chunk *nc = wb_malloc(sizeof(*nc) + cap);
        nc->used = 0;
        nc->cap = cap;
        if (need > CHUNK_SIZE && c != NULL) {
            /* keep the current chunk on top: it still has room */
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            a->head = nc;
        }
        c = nc;
    }
    void *p = c->data + c->used;
    c->used += need;
    memset(p, 0, n);
    return p;
}

char *wb_arena_strndup(struct wb_arena *a, const char *s, size_t n)
{
    char *p = wb_arena_alloc(a, n + 1);
    if (n > 0) {
        memcpy(p, s, n);
    }
    p[n] = '\0';
    return p;
}

char *wb_arena_strdup(struct wb_arena *a, const char *s)
{
    return wb_arena_strndup(a, s, strlen(s));
}

char *wb_arena_printf(struct wb_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return wb_arena_strdup(a, "");
    }
    char *p = wb_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    (void)vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void wb_arena_free(struct wb_arena *a)
{
    struct wb_arena_chunk *c = a->head;
    while (c != NULL) {
        struct wb_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}

void wb_buf_init(struct wb_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

enum wb_status wb_buf_append(struct wb_buf *b, const void *p, size_t n)
{
    size_t need;
    if (__builtin_add_overflow(b->len, n, &need) || (b->max != 0 && need > b->max)) {
        return WB_ERR_LIMIT;
    }
    if (need + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need + 1) {
            cap *= 2;
        }
        b->data = wb_realloc(b->data, cap);
        b->cap = cap;
    }
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
    }
    b->len = need;
    b->data[b->len] = '\0';
    return WB_OK;
}

enum wb_status wb_buf_appendf(struct wb_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        return WB_ERR_INVAL;
    }
    if ((size_t)n < sizeof(small)) {
        return wb_buf_append(b, small, (size_t)n);
    }
    char *big = wb_malloc((size_t)n + 1);
    va_start(ap, fmt);
    (void)vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    enum wb_status st = wb_buf_append(b, big, (size_t)n);
    free(big);
    return st;
}

void wb_buf_reset(struct wb_buf *b)
{
    b->len = 0;
    if (b->data != NULL) {
        b->data[0] = '\0';
    }
}

char *wb_buf_steal(struct wb_buf *b, size_t *len_out)
{
    char *p = b->data;
    if (len_out != NULL) {
        *len_out = b->len;
    }
    if (p == NULL) {
        p = wb_strdup("");
    }
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

void wb_buf_free(struct wb_buf *b)
{
    WB_FREE(b->data);
    b->len = 0;
    b->cap = 0;
}
