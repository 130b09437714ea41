/*
 * log.h - leveled logging.
 *
 * The level is checked before the arguments are evaluated. Output goes to
 * stderr with "<N>" syslog priority prefixes when running under systemd
 * (JOURNAL_STREAM set) or when asked to, otherwise to stderr with a time
 * stamp, or to syslog(3) when configured.
 *
 * Thread: any. Sinks are called without any lock held by the caller.
 */
#ifndef WARBLER_LOG_H
#define WARBLER_LOG_H

#include <warbler/common.h>

enum wb_log_level {
    WB_LOG_ERROR = 0,
    WB_LOG_WARN,
    WB_LOG_NOTICE,
    WB_LOG_INFO,
    WB_LOG_DEBUG,
};

enum wb_log_sink {
    WB_LOG_SINK_STDERR = 0, /* plain lines with time stamps */
    WB_LOG_SINK_JOURNAL,    /* "<N>" prefixes, parsed by journald */
    WB_LOG_SINK_SYSLOG,     /* syslog(3) */
};

extern volatile int wb_log_level_current;

/* Set the level and sink. Thread: any (atomic int store). */
void wb_log_setup(enum wb_log_level level, enum wb_log_sink sink);

/* Parse "error", "warn", "notice", "info", "debug". */
WB_NODISCARD enum wb_status wb_log_level_parse(const char *s, enum wb_log_level *out);

void wb_log_emit(enum wb_log_level level, const char *ctx, const char *fmt, ...) WB_PRINTF(3, 4);
void wb_log_emitv(enum wb_log_level level, const char *ctx, const char *fmt, va_list ap)
    WB_PRINTF(3, 0);

#define wb_log(level, ...)                           \
    do {                                             \
        if ((int)(level) <= wb_log_level_current) {  \
            wb_log_emit((level), NULL, __VA_ARGS__); \
        }                                            \
    } while (0)

/* ctx is a prefix such as "api[main] conv=42". */
#define wb_logc(ctx, level, ...)                      \
    do {                                              \
        if ((int)(level) <= wb_log_level_current) {   \
            wb_log_emit((level), (ctx), __VA_ARGS__); \
        }                                             \
    } while (0)

/*
 * Copy untrusted text into out (size outsz, always NUL-terminated) with
 * control characters, CR and LF escaped, truncated to fit. Returns out.
 */
char *wb_log_printable(const char *p, size_t n, char *out, size_t outsz);

#endif
