/*
 * http_util.c - small HTTP helpers shared by the server, the http thread
 * and connectors.
 *
 * Thread: any.
 */
#include <string.h>
#include <strings.h>
#include <time.h>

#include <warbler/connector.h>

const char *wb_http_header_get(const struct wb_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (h[i].name != NULL && strcasecmp(h[i].name, name) == 0) {
            return h[i].value;
        }
    }
    return NULL;
}

const char *wb_channel_state_str(enum wb_channel_state s)
{
    switch (s) {
    case WB_CHANNEL_UP:
        return "up";
    case WB_CHANNEL_DEGRADED:
        return "degraded";
    case WB_CHANNEL_DOWN:
        return "down";
    }
    return "unknown";
}

int64_t wb_http_retry_after_ms(const char *value, int64_t now_ms)
{
    const int64_t cap = 24LL * 3600 * 1000;
    int64_t secs = 0;
    const char *p = value;

    if (value == NULL) {
        return 0;
    }
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p >= '0' && *p <= '9') {
        while (*p >= '0' && *p <= '9') {
            secs = secs * 10 + (*p - '0');
            if (secs * 1000 > cap) {
                return cap;
            }
            p++;
        }
        return secs * 1000;
    }
    /* HTTP-date: IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT" */
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(p, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == NULL) {
        return 0;
    }
    int64_t at = (int64_t)timegm(&tm) * 1000;
    if (at <= now_ms) {
        return 0;
    }
    return at - now_ms > cap ? cap : at - now_ms;
}
