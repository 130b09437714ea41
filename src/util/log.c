/*
 * log.c - leveled logging to stderr, the journal or syslog.
 *
 * DESIGN: one formatted line per call, written with a single write(2) so
 * lines from different threads never interleave; no lock is taken. The
 * level is an int read without a lock; a stale read only changes whether
 * one line is printed.
 *
 * Thread: any.
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <warbler/log.h>

volatile int wb_log_level_current = WB_LOG_INFO;
static volatile int log_sink = WB_LOG_SINK_STDERR;

static const char *const level_names[] = { "error", "warn", "notice", "info", "debug" };
static const int level_prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

void wb_log_setup(enum wb_log_level level, enum wb_log_sink sink)
{
    wb_log_level_current = (int)level;
    if (sink == WB_LOG_SINK_SYSLOG && log_sink != WB_LOG_SINK_SYSLOG) {
        openlog("warblerd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    }
    log_sink = (int)sink;
}

enum wb_status wb_log_level_parse(const char *s, enum wb_log_level *out)
{
    for (size_t i = 0; i < WB_ARRAY_LEN(level_names); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum wb_log_level)i;
            return WB_OK;
        }
    }
    return WB_ERR_INVAL;
}

void wb_log_emitv(enum wb_log_level level, const char *ctx, const char *fmt, va_list ap)
{
    char msg[2048];
    char line[2304];
    int n;
    int lv = (int)level;

    if (lv < 0 || lv > WB_LOG_DEBUG) {
        lv = WB_LOG_ERROR;
    }
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    if (log_sink == WB_LOG_SINK_SYSLOG) {
        syslog(level_prio[lv], "%s%s%s", ctx ? ctx : "", ctx ? ": " : "", msg);
        return;
    }
    if (log_sink == WB_LOG_SINK_JOURNAL) {
        n = snprintf(line, sizeof(line), "<%d>%s%s%s\n", level_prio[lv], ctx ? ctx : "",
                     ctx ? ": " : "", msg);
    } else {
        struct timespec ts;
        struct tm tm;
        char stamp[32];
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        (void)gmtime_r(&ts.tv_sec, &tm);
        (void)strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
        n = snprintf(line, sizeof(line), "%s.%03ldZ [%s] %s%s%s\n", stamp, ts.tv_nsec / 1000000,
                     level_names[lv], ctx ? ctx : "", ctx ? ": " : "", msg);
    }
    if (n < 0) {
        return;
    }
    if ((size_t)n >= sizeof(line)) {
        n = (int)sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    (void)!write(STDERR_FILENO, line, (size_t)n);
}

void wb_log_emit(enum wb_log_level level, const char *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wb_log_emitv(level, ctx, fmt, ap);
    va_end(ap);
}

char *wb_log_printable(const char *p, size_t n, char *out, size_t outsz)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    if (outsz == 0) {
        return out;
    }
    for (size_t i = 0; i < n && p[i] != '\0'; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f || c == '\\') {
            if (o + 4 >= outsz) {
                break;
            }
            out[o++] = '\\';
            if (c == '\\') {
                out[o++] = '\\';
            } else if (c == '\n') {
                out[o++] = 'n';
            } else if (c == '\r') {
                out[o++] = 'r';
            } else {
                out[o++] = 'x';
                out[o++] = hex[c >> 4];
                out[o++] = hex[c & 15];
            }
        } else {
            if (o + 1 >= outsz) {
                break;
            }
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return out;
}
