/*
 * http_util.c - small HTTP helpers shared by the server, the http thread
 * and connectors.
 *
 * Thread: any.
 */
#include <strings.h>

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
