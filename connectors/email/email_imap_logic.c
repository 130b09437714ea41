/*
 * email_imap_logic.c - the IMAP worker's decisions, as pure functions.
 *
 * DESIGN: the worker (email_imap.c) does the talking; everything that can
 * be decided from numbers alone lives here so it is tested without a
 * server. UIDs are only ever compared within one UIDVALIDITY; a change of
 * UIDVALIDITY rescans the folder from the start, and the store's dedupe on
 * (channel, external_id) keeps that from importing anything twice.
 *
 * Thread: any (pure).
 */
#include <stdlib.h>
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "email_imap_logic.h"

void wb_email_imap_resume(const struct wb_email_resume_in *in, struct wb_email_resume *out)
{
    memset(out, 0, sizeof(*out));
    if (!in->has_uidvalidity) {
        /* a new mailbox: take what is not yet processed, from the start */
        out->is_first_run = !in->has_last_uid;
        out->last_uid = in->has_last_uid ? in->last_uid : 0;
        out->is_state_stale = true;
        return;
    }
    if (in->uidvalidity != in->server_validity) {
        out->is_rescan = true;
        out->is_state_stale = true;
        out->last_uid = 0;
        return;
    }
    out->last_uid = in->has_last_uid ? in->last_uid : 0;
    out->is_state_stale = !in->has_last_uid;
}

static int uid_cmp(const void *a, const void *b)
{
    const struct wb_email_uid *x = a, *y = b;
    return (x->uid > y->uid) - (x->uid < y->uid);
}

size_t wb_email_imap_select(struct wb_email_uid *v, size_t n, uint32_t last_uid,
                            bool skip_processed)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].uid <= last_uid || (skip_processed && v[i].is_processed)) {
            continue;
        }
        v[k++] = v[i];
    }
    if (k > 1) {
        qsort(v, k, sizeof(*v), uid_cmp);
    }
    size_t u = 0;
    for (size_t i = 0; i < k; i++) {
        if (u == 0 || v[u - 1].uid != v[i].uid) {
            v[u++] = v[i];
        }
    }
    return u;
}

size_t wb_email_imap_batch_len(const struct wb_email_uid *v, size_t n, size_t max_count,
                               uint64_t max_bytes, uint64_t max_message)
{
    uint64_t bytes = 0;
    size_t i = 0;
    if (max_count == 0) {
        max_count = 1;
    }
    for (; i < n && i < max_count; i++) {
        uint64_t sz = v[i].size > max_message ? 0 : v[i].size;
        if (i > 0 && bytes + sz > max_bytes) {
            break;
        }
        bytes += sz;
    }
    return i;
}

enum wb_email_outcome wb_email_imap_outcome(enum wb_status st)
{
    switch (st) {
    case WB_OK:
    case WB_ERR_DUPLICATE:
        return WB_EMAIL_COMMITTED;
    case WB_ERR_INVAL:
    case WB_ERR_PARSE:
    case WB_ERR_LIMIT:
    case WB_ERR_NOTFOUND:
        return WB_EMAIL_SKIPPED;
    default:
        return WB_EMAIL_RETRY;
    }
}

uint32_t wb_email_imap_advance(uint32_t last_uid, const uint32_t *uids,
                               const enum wb_email_outcome *out, size_t n)
{
    uint32_t last = last_uid;
    for (size_t i = 0; i < n; i++) {
        if (out[i] == WB_EMAIL_RETRY) {
            break;
        }
        if (uids[i] > last) {
            last = uids[i];
        }
    }
    return last;
}

int64_t wb_email_imap_backoff_ms(int failures)
{
    int64_t d = WB_EMAIL_BACKOFF_MIN_MS;
    for (int i = 1; i < failures && d < WB_EMAIL_BACKOFF_MAX_MS; i++) {
        d *= 2;
    }
    return d > WB_EMAIL_BACKOFF_MAX_MS ? WB_EMAIL_BACKOFF_MAX_MS : d;
}

enum wb_status wb_email_parse_u32(const char *s, uint32_t *out)
{
    uint64_t v = 0;
    if (s == NULL || s[0] == '\0') {
        return WB_ERR_PARSE;
    }
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            return WB_ERR_PARSE;
        }
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX) {
            return WB_ERR_PARSE;
        }
    }
    *out = (uint32_t)v;
    return WB_OK;
}

bool wb_email_host_is_loopback(const char *host)
{
    struct in_addr a4;
    if (host == NULL) {
        return false;
    }
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
        strcmp(host, "[::1]") == 0) {
        return true;
    }
    return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

bool wb_email_host_is_ip(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return host != NULL &&
           (inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1);
}
