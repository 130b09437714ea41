/*
 * err.c - status text and error detail.
 *
 * Thread: any.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <warbler/common.h>
#include <warbler/log.h>

static const char *const status_names[] = {
    [WB_OK] = "ok",
    [WB_AGAIN] = "again",
    [WB_ERR_INVAL] = "invalid argument",
    [WB_ERR_PARSE] = "parse error",
    [WB_ERR_LIMIT] = "limit exceeded",
    [WB_ERR_AUTH] = "authentication failed",
    [WB_ERR_TLS] = "tls error",
    [WB_ERR_IO] = "i/o error",
    [WB_ERR_TIMEOUT] = "timeout",
    [WB_ERR_BUSY] = "busy",
    [WB_ERR_NOTFOUND] = "not found",
    [WB_ERR_STORAGE] = "storage error",
    [WB_ERR_INTERNAL] = "internal error",
    [WB_ERR_DUPLICATE] = "duplicate",
};

const char *wb_status_str(enum wb_status s)
{
    if ((size_t)s < WB_ARRAY_LEN(status_names) && status_names[s] != NULL) {
        return status_names[s];
    }
    return "unknown status";
}

enum wb_status wb_err_set(struct wb_err *err, enum wb_status code, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        (void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}

void wb_err_clear(struct wb_err *err)
{
    if (err != NULL) {
        err->code = WB_OK;
        err->msg[0] = '\0';
    }
}

void wb_panic_at(const char *file, int line, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    wb_log_emit(WB_LOG_ERROR, "panic", "%s:%d: %s", file, line, buf);
    abort();
}
