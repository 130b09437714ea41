/*
 * alloc.c - allocation that cannot fail, and secret buffers.
 *
 * Out of memory is not a recoverable condition for a daemon that has
 * already acknowledged work: we abort with file:line (Postfix mymalloc).
 *
 * Thread: any.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <warbler/common.h>

static WB_NORETURN void oom(size_t n, const char *file, int line)
{
    (void)fprintf(stderr, "warbler: out of memory allocating %zu bytes at %s:%d\n", n, file, line);
    abort();
}

void *wb_malloc_at(size_t n, const char *file, int line)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        oom(n, file, line);
    }
    return p;
}

void *wb_calloc_at(size_t nmemb, size_t size, const char *file, int line)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (p == NULL) {
        oom(nmemb * size, file, line);
    }
    return p;
}

void *wb_realloc_at(void *p, size_t n, const char *file, int line)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) {
        oom(n, file, line);
    }
    return q;
}

char *wb_strdup_at(const char *s, const char *file, int line)
{
    return wb_strndup_at(s, strlen(s), file, line);
}

char *wb_strndup_at(const char *s, size_t n, const char *file, int line)
{
    size_t len = strnlen(s, n);
    char *p = wb_malloc_at(len + 1, file, line);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void *wb_memdup_at(const void *p, size_t n, const char *file, int line)
{
    void *q = wb_malloc_at(n + 1, file, line);
    if (n > 0) {
        memcpy(q, p, n);
    }
    ((char *)q)[n] = '\0';
    return q;
}

void wb_secret_free(struct wb_secret *s)
{
    if (s == NULL || s->data == NULL) {
        return;
    }
    OPENSSL_cleanse(s->data, s->len);
    free(s->data);
    s->data = NULL;
    s->len = 0;
}
