/*
 * buf.h - arenas for parse output and bounded growable byte buffers.
 *
 * An arena hands out memory that lives until wb_arena_free(); parse
 * functions put their output there so one call frees it all. A wb_buf
 * grows up to a maximum and returns WB_ERR_LIMIT past it (curl dynbuf).
 *
 * Thread: an arena or buffer is used by one thread at a time.
 */
#ifndef WARBLER_BUF_H
#define WARBLER_BUF_H

#include <warbler/common.h>

struct wb_arena_chunk;

struct wb_arena {
    struct wb_arena_chunk *head;
};

#define WB_ARENA_INIT \
    {                 \
        NULL          \
    }

/* Zeroed memory of n bytes, aligned for any type. Never NULL. */
void *wb_arena_alloc(struct wb_arena *a, size_t n);
/* Copy n bytes and append a NUL. */
char *wb_arena_strndup(struct wb_arena *a, const char *s, size_t n);
char *wb_arena_strdup(struct wb_arena *a, const char *s);
char *wb_arena_printf(struct wb_arena *a, const char *fmt, ...) WB_PRINTF(2, 3);
/* Free every chunk; the arena may be reused afterwards. */
void wb_arena_free(struct wb_arena *a);

struct wb_buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max; /* 0 means no limit */
};

void wb_buf_init(struct wb_buf *b, size_t max);
WB_NODISCARD enum wb_status wb_buf_append(struct wb_buf *b, const void *p, size_t n);
WB_NODISCARD enum wb_status wb_buf_appendf(struct wb_buf *b, const char *fmt, ...) WB_PRINTF(2, 3);
void wb_buf_reset(struct wb_buf *b);
/* Hand the data to the caller (owned, free()), leaving b empty. */
char *wb_buf_steal(struct wb_buf *b, size_t *len_out);
void wb_buf_free(struct wb_buf *b);

#endif
