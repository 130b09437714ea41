/*
 * common.h - status codes, error detail, attributes and allocation.
 *
 * Every module returns an enum wb_status; detail travels in an optional
 * struct wb_err (code + 256-byte message) passed as the last argument.
 * Allocation cannot fail: wb_malloc and friends abort with file:line.
 *
 * Thread: any.
 */
#ifndef WARBLER_COMMON_H
#define WARBLER_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WB_NODISCARD    __attribute__((warn_unused_result))
#define WB_NONNULL      __attribute__((nonnull))
#define WB_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define WB_NORETURN     __attribute__((noreturn))

#define WB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum wb_status {
    WB_OK = 0,
    WB_AGAIN,         /* flow control: more input or a later call needed */
    WB_ERR_INVAL,     /* bad argument or bad input value */
    WB_ERR_PARSE,     /* malformed input */
    WB_ERR_LIMIT,     /* a configured limit was reached */
    WB_ERR_AUTH,      /* signature, password or token rejected */
    WB_ERR_TLS,       /* TLS handshake or certificate failure */
    WB_ERR_IO,        /* network or file I/O */
    WB_ERR_TIMEOUT,   /* peer did not answer in time */
    WB_ERR_BUSY,      /* resource busy, try later */
    WB_ERR_NOTFOUND,  /* no such object */
    WB_ERR_STORAGE,   /* database error */
    WB_ERR_INTERNAL,  /* broken invariant that was survivable */
    WB_ERR_DUPLICATE, /* object already exists (dedupe) */
};

#define WB_ERR_MSG_MAX 256

struct wb_err {
    enum wb_status code;
    char msg[WB_ERR_MSG_MAX];
};

/* Text for a status code; never NULL. */
const char *wb_status_str(enum wb_status s);

/*
 * Record an error in err (if err is not NULL) and return code, so that
 * `return wb_err_set(err, WB_ERR_PARSE, "api[%s]: ...", id);` works.
 * Messages are lowercase, with no final period, and name the object.
 */
enum wb_status wb_err_set(struct wb_err *err, enum wb_status code, const char *fmt, ...)
    WB_PRINTF(3, 4);

/* Clear err (NULL-safe). */
void wb_err_clear(struct wb_err *err);

/* Allocation: never returns NULL; aborts with file:line on OOM. */
void *wb_malloc_at(size_t n, const char *file, int line);
void *wb_calloc_at(size_t nmemb, size_t size, const char *file, int line);
void *wb_realloc_at(void *p, size_t n, const char *file, int line);
char *wb_strdup_at(const char *s, const char *file, int line);
char *wb_strndup_at(const char *s, size_t n, const char *file, int line);
void *wb_memdup_at(const void *p, size_t n, const char *file, int line);

#define wb_malloc(n)     wb_malloc_at((n), __FILE__, __LINE__)
#define wb_calloc(n, s)  wb_calloc_at((n), (s), __FILE__, __LINE__)
#define wb_realloc(p, n) wb_realloc_at((p), (n), __FILE__, __LINE__)
#define wb_strdup(s)     wb_strdup_at((s), __FILE__, __LINE__)
#define wb_strndup(s, n) wb_strndup_at((s), (n), __FILE__, __LINE__)
#define wb_memdup(p, n)  wb_memdup_at((p), (n), __FILE__, __LINE__)
#define WB_FREE(p)  \
    do {            \
        free(p);    \
        (p) = NULL; \
    } while (0)

/* Broken invariant: log file:line and abort (core dump). */
WB_NORETURN void wb_panic_at(const char *file, int line, const char *fmt, ...) WB_PRINTF(3, 4);
#define wb_panic(...) wb_panic_at(__FILE__, __LINE__, __VA_ARGS__)
#define wb_assert(cond)                                                     \
    do {                                                                    \
        if (!(cond)) {                                                      \
            wb_panic_at(__FILE__, __LINE__, "assertion failed: %s", #cond); \
        }                                                                   \
    } while (0)

/* Wall-clock milliseconds since the epoch, and a monotonic clock in ms. */
int64_t wb_now_ms(void);
int64_t wb_mono_ms(void);

/*
 * Secrets: a buffer wiped with OPENSSL_cleanse when freed. Never logged.
 */
struct wb_secret {
    unsigned char *data;
    size_t len;
};

void wb_secret_free(struct wb_secret *s);

#endif
