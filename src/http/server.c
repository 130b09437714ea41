/*
 * server.c - the loop thread: libwebsockets HTTP server.
 *
 * DESIGN: the loop never touches the store or the network on its own. A
 * webhook's body is read up to http.max_body (413 before reading more, from
 * Content-Length when given), then the channel's connector verifies and
 * parses it (pure functions) and the messages go to the core queue. The
 * request stays open until the core reports the batch committed: the core
 * thread pushes a completion to our inbox and calls lws_cancel_service(),
 * the only lws call made off this thread; LWS_CALLBACK_EVENT_WAIT_CANCELLED
 * drains the inbox. A batch commit completes many requests at once, so the
 * core skips lws_cancel_service() (a pipe write, and a wakeup here) while
 * an earlier one has not been drained yet. Completions find their
 * request by id in a small hash map, so a client that hung up meanwhile
 * is simply skipped.
 *
 * Thread: loop, except wb_server_stop/wake and on_done (core thread).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libwebsockets.h>

#include <warbler/log.h>

#include "channels.h"
#include "metrics.h"
#include "queue.h"
#include "server.h"

#define HOOK_PREFIX     "/hooks/"
#define MAX_HDR_VALUE   4096
#define MAX_REQ_HEADERS 64

struct pss;

struct req_map {
    uint64_t *keys; /* 0 = empty */
    struct lws **vals;
    size_t cap, n;
};

struct wb_server {
    const struct wb_config *cfg;
    struct wb_core *core;
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    struct wb_queue *inbox; /* struct completion *, from the core thread */
    /* a cancel is on its way: set by on_done, cleared before draining */
    atomic_bool wake_pending;
    struct req_map pending;
    uint64_t next_req;
    struct wb_limits lim;
    atomic_bool stop;
};

/* One committed (or refused) message of a request, from the core thread. */
struct completion {
    uint64_t req_id;
    size_t idx;
    struct wb_ingest_result res;
};

struct done_ctx {
    struct wb_server *srv;
    uint64_t req_id;
    size_t idx;
};

enum pss_state {
    PSS_IDLE = 0,
    PSS_BODY,    /* reading a webhook body */
    PSS_WAITING, /* messages handed to the core */
    PSS_ANSWER,  /* answer ready, waiting for WRITEABLE */
};

struct pss {
    enum pss_state state;
    uint64_t req_id;
    char channel_id[72];
    bool is_post;
    bool close_after;
    struct wb_buf body;
    struct wb_arena arena;
    struct wb_ingest_result *results;
    size_t n_msgs, n_pending;
    int status;
    const char *ctype;
    char *resp; /* LWS_PRE bytes, then the body */
    size_t resp_len;
    int64_t retry_after_s;
};

static const char ctype_json[] = "application/json";

/* ---- request map (open addressing, linear probing) ---- */

static size_t map_slot(const struct req_map *m, uint64_t k)
{
    return (size_t)((k * 0x9E3779B97F4A7C15ULL) >> 20) & (m->cap - 1);
}

static void map_put(struct req_map *m, uint64_t k, struct lws *v);

static void map_grow(struct req_map *m)
{
    struct req_map old = *m;
    m->cap = old.cap ? old.cap * 2 : 256;
    m->keys = wb_calloc(m->cap, sizeof(*m->keys));
    m->vals = wb_calloc(m->cap, sizeof(*m->vals));
    m->n = 0;
    for (size_t i = 0; i < old.cap; i++) {
        if (old.keys[i] != 0) {
            map_put(m, old.keys[i], old.vals[i]);
        }
    }
    free(old.keys);
    free(old.vals);
}

static void map_put(struct req_map *m, uint64_t k, struct lws *v)
{
    if ((m->n + 1) * 2 > m->cap) {
        map_grow(m);
    }
    size_t i = map_slot(m, k);
    while (m->keys[i] != 0) {
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = k;
    m->vals[i] = v;
    m->n++;
}

static struct lws *map_get(const struct req_map *m, uint64_t k)
{
    if (m->cap == 0) {
        return NULL;
    }
    for (size_t i = map_slot(m, k); m->keys[i] != 0; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == k) {
            return m->vals[i];
        }
    }
    return NULL;
}

static void map_del(struct req_map *m, uint64_t k)
{
    size_t i;
    if (m->cap == 0 || k == 0) {
        return;
    }
    for (i = map_slot(m, k); m->keys[i] != k; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == 0) {
            return;
        }
    }
    m->keys[i] = 0;
    m->n--;
    /* backward-shift the cluster so lookups never stop early */
    for (size_t j = (i + 1) & (m->cap - 1); m->keys[j] != 0; j = (j + 1) & (m->cap - 1)) {
        uint64_t kj = m->keys[j];
        struct lws *vj = m->vals[j];
        m->keys[j] = 0;
        m->n--;
        map_put(m, kj, vj);
    }
}

/* ---- answers ---- */

static void pss_reset(struct wb_server *srv, struct pss *p)
{
    map_del(&srv->pending, p->req_id);
    wb_buf_free(&p->body);
    wb_arena_free(&p->arena);
    free(p->resp);
    memset(p, 0, sizeof(*p));
}

static void answer_set(struct lws *wsi, struct pss *p, int status, const char *ctype,
                       const char *body, size_t len)
{
    p->status = status;
    p->ctype = ctype;
    p->resp = wb_malloc(LWS_PRE + len + 1);
    memcpy(p->resp + LWS_PRE, body, len);
    p->resp_len = len;
    p->state = PSS_ANSWER;
    lws_callback_on_writable(wsi);
}

static void answer_error(struct lws *wsi, struct pss *p, int status, const char *code,
                         const char *msg)
{
    json_t *o = json_pack("{s:s, s:s}", "error", code, "message", msg);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    const char *body = s ? s : "{\"error\":\"internal\"}";
    if (status >= 400 && status < 500) {
        atomic_fetch_add(&wb_metrics.http_rejected, 1);
    }
    answer_set(wsi, p, status, ctype_json, body, strlen(body));
    free(s);
    json_decref(o);
}

/* Answers up to this size go out with their headers in one write. */
#define ONE_WRITE_BODY 2048

/*
 * Headers of p's answer at *ptr. With set_length, lws is told the content
 * length (it then counts the body writes); without, the same status,
 * Content-Type and Content-Length headers are written by hand so that
 * headers and body can go out in one write, which lws would otherwise
 * count as body bytes. (lws_add_http_common_headers() adds nothing else
 * for these content types: its stream compression only applies to text/
 * types, and the 4.1 packages are built without it.)
 */
static int answer_headers(struct lws *wsi, struct pss *p, bool set_length, unsigned char **ptr,
                          unsigned char *end)
{
    char num[24];
    int n;

    if (set_length) {
        if (lws_add_http_common_headers(wsi, (unsigned int)p->status, p->ctype, p->resp_len, ptr,
                                        end) != 0) {
            return -1;
        }
    } else {
        n = snprintf(num, sizeof(num), "%zu", p->resp_len);
        if (lws_add_http_header_status(wsi, (unsigned int)p->status, ptr, end) != 0 ||
            lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                         (const unsigned char *)p->ctype, (int)strlen(p->ctype),
                                         ptr, end) != 0 ||
            lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
                                         (const unsigned char *)num, n, ptr, end) != 0) {
            return -1;
        }
    }
    if (p->retry_after_s > 0) {
        n = snprintf(num, sizeof(num), "%lld", (long long)p->retry_after_s);
        if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_RETRY_AFTER,
                                         (const unsigned char *)num, n, ptr, end) != 0) {
            return -1;
        }
    }
    if (p->close_after &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5,
                                     ptr, end) != 0) {
        return -1;
    }
    return 0;
}

static int write_answer(struct wb_server *srv, struct lws *wsi, struct pss *p)
{
    unsigned char buf[LWS_PRE + 512 + ONE_WRITE_BODY];
    unsigned char *start = buf + LWS_PRE, *ptr = start;

    if (p->resp_len <= ONE_WRITE_BODY) {
        /*
         * A small answer (every webhook answer) in one write: one send(2)
         * and one TCP segment instead of two.
         */
        unsigned char *end = start + 512 - 1;
        if (answer_headers(wsi, p, false, &ptr, end) != 0 ||
            lws_finalize_http_header(wsi, &ptr, end) != 0) {
            return -1;
        }
        memcpy(ptr, p->resp + LWS_PRE, p->resp_len);
        ptr += p->resp_len;
        if (lws_write(wsi, start, (size_t)(ptr - start), LWS_WRITE_HTTP_FINAL) !=
            (int)(ptr - start)) {
            return -1;
        }
    } else {
        unsigned char *end = buf + sizeof(buf) - 1;
        if (answer_headers(wsi, p, true, &ptr, end) != 0 ||
            lws_finalize_write_http_header(wsi, start, &ptr, end) != 0) {
            return -1;
        }
        if (lws_write(wsi, (unsigned char *)p->resp + LWS_PRE, p->resp_len, LWS_WRITE_HTTP_FINAL) !=
            (int)p->resp_len) {
            return -1;
        }
    }
    bool close = p->close_after;
    pss_reset(srv, p);
    if (close || lws_http_transaction_completed(wsi) != 0) {
        return -1;
    }
    return 0;
}

/* ---- /healthz and /metrics ---- */

static json_t *health_channels(void)
{
    json_t *arr = json_array();
    struct wb_chanset *cs = wb_chanset_acquire();
    for (size_t i = 0; cs != NULL && i < cs->n; i++) {
        enum wb_channel_state st;
        char reason[256];
        int64_t since;
        wb_channel_get_state(cs->v[i].stats, &st, reason, sizeof(reason), &since);
        (void)json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", cs->v[i].id,
                                                   "type", cs->v[i].ops->name, "state",
                                                   wb_channel_state_str(st), "last_error", reason,
                                                   "since_ms", (json_int_t)since));
    }
    wb_chanset_release(cs);
    return arr;
}

static void serve_healthz(struct wb_server *srv, struct lws *wsi, struct pss *p)
{
    json_t *o = json_pack("{s:s, s:s, s:o, s:I, s:I}", "status", "ok", "version", WB_VERSION,
                          "channels", health_channels(), "outbox_depth",
                          (json_int_t)atomic_load(&wb_metrics.outbox_depth), "core_queue",
                          (json_int_t)wb_core_queue_len(srv->core));
    char *s = json_dumps(o, JSON_COMPACT);
    answer_set(wsi, p, 200, ctype_json, s, strlen(s));
    free(s);
    json_decref(o);
}

static enum wb_status metrics_channels(struct wb_buf *b)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } ctrs[] = {
        { "warbler_inbound_messages_total", "Inbound messages committed",
          offsetof(struct wb_channel_stats, inbound) },
        { "warbler_inbound_duplicates_total",
          "Re-delivered inbound messages answered from the store",
          offsetof(struct wb_channel_stats, duplicates) },
        { "warbler_outbound_messages_total", "Replies delivered",
          offsetof(struct wb_channel_stats, sent) },
        { "warbler_outbound_failures_total", "Failed delivery attempts",
          offsetof(struct wb_channel_stats, send_failed) },
        { "warbler_outbound_dead_total", "Replies given up (dead letters)",
          offsetof(struct wb_channel_stats, dead) },
    };
    struct wb_chanset *cs = wb_chanset_acquire();
    enum wb_status st = WB_OK;
    for (size_t k = 0; st == WB_OK && k < WB_ARRAY_LEN(ctrs); k++) {
        st = wb_buf_appendf(b, "# HELP %s %s\n# TYPE %s counter\n", ctrs[k].name, ctrs[k].help,
                            ctrs[k].name);
        for (size_t i = 0; st == WB_OK && cs != NULL && i < cs->n; i++) {
            const atomic_ullong *v =
                (const atomic_ullong *)(const void *)((const char *)cs->v[i].stats + ctrs[k].off);
            st = wb_buf_appendf(b, "%s{channel=\"%s\"} %llu\n", ctrs[k].name, cs->v[i].id,
                                (unsigned long long)atomic_load(v));
        }
    }
    if (st == WB_OK) {
        st = wb_buf_appendf(b, "# HELP warbler_channel_up Channel health (1 up, 0.5 degraded, 0 "
                               "down)\n# TYPE warbler_channel_up gauge\n");
    }
    for (size_t i = 0; st == WB_OK && cs != NULL && i < cs->n; i++) {
        enum wb_channel_state s;
        char reason[8];
        int64_t since;
        wb_channel_get_state(cs->v[i].stats, &s, reason, sizeof(reason), &since);
        st = wb_buf_appendf(b, "warbler_channel_up{channel=\"%s\"} %s\n", cs->v[i].id,
                            s == WB_CHANNEL_UP         ? "1"
                            : s == WB_CHANNEL_DEGRADED ? "0.5"
                                                       : "0");
    }
    wb_chanset_release(cs);
    return st;
}

static void serve_metrics(struct wb_server *srv, struct lws *wsi, struct pss *p)
{
    struct wb_buf b;
    wb_buf_init(&b, 0);
    enum wb_status st = metrics_channels(&b);
    if (st == WB_OK) {
        st = wb_buf_appendf(
            &b,
            "# HELP warbler_outbox_depth Replies waiting for delivery\n"
            "# TYPE warbler_outbox_depth gauge\nwarbler_outbox_depth %lld\n"
            "# HELP warbler_outbox_retries_total Delivery attempts that will be retried\n"
            "# TYPE warbler_outbox_retries_total counter\nwarbler_outbox_retries_total %llu\n"
            "# HELP warbler_outbox_dead_letters_total Replies given up\n"
            "# TYPE warbler_outbox_dead_letters_total counter\n"
            "warbler_outbox_dead_letters_total %llu\n"
            "# HELP warbler_core_queue_length Messages waiting for the core thread\n"
            "# TYPE warbler_core_queue_length gauge\nwarbler_core_queue_length %zu\n"
            "# HELP warbler_core_busy_total Messages refused because the core queue was full\n"
            "# TYPE warbler_core_busy_total counter\nwarbler_core_busy_total %llu\n"
            "# HELP warbler_commit_failures_total Batches that failed to commit\n"
            "# TYPE warbler_commit_failures_total counter\nwarbler_commit_failures_total %llu\n"
            "# HELP warbler_http_rejected_total Webhook requests answered 4xx\n"
            "# TYPE warbler_http_rejected_total counter\nwarbler_http_rejected_total %llu\n",
            (long long)atomic_load(&wb_metrics.outbox_depth),
            (unsigned long long)atomic_load(&wb_metrics.outbox_retries),
            (unsigned long long)atomic_load(&wb_metrics.outbox_dead), wb_core_queue_len(srv->core),
            (unsigned long long)atomic_load(&wb_metrics.core_busy),
            (unsigned long long)atomic_load(&wb_metrics.commit_failures),
            (unsigned long long)atomic_load(&wb_metrics.http_rejected));
    }
    if (st == WB_OK) {
        st = wb_histogram_render(&wb_metrics.batch_size, "warbler_batch_size",
                                 "Messages per committed transaction", &b);
    }
    if (st == WB_OK) {
        st = wb_histogram_render(&wb_metrics.ingest_seconds, "warbler_ingest_latency_seconds",
                                 "Time from receiving a message to its commit", &b);
    }
    if (st == WB_OK) {
        st = wb_histogram_render(&wb_metrics.send_seconds, "warbler_send_latency_seconds",
                                 "Duration of outbound delivery attempts", &b);
    }
    answer_set(wsi, p, 200, "text/plain; version=0.0.4", b.data ? b.data : "", b.len);
    wb_buf_free(&b);
}

/* ---- webhooks ---- */

static void on_done(void *ctx, const struct wb_message *m, enum wb_status st,
                    int64_t conversation_id, int64_t message_id, bool duplicate)
{
    struct done_ctx *d = ctx;
    struct completion *c = wb_calloc(1, sizeof(*c));
    (void)m;
    c->req_id = d->req_id;
    c->idx = d->idx;
    c->res.status = st;
    c->res.conversation_id = conversation_id;
    c->res.message_id = message_id;
    c->res.duplicate = duplicate;
    struct wb_server *srv = d->srv;
    free(d);
    if (wb_queue_push_wait(srv->inbox, c) != WB_OK) {
        free(c);
        return;
    }
    if (!atomic_exchange(&srv->wake_pending, true)) {
        lws_cancel_service(srv->ctx);
    }
}

/* Copy the standard headers and the connector's own into the arena. */
static size_t collect_headers(struct lws *wsi, const struct wb_connector_ops *ops,
                              struct wb_arena *a, struct wb_header *out)
{
    size_t n = 0;
    for (int t = 0; t < WSI_TOKEN_COUNT && n < MAX_REQ_HEADERS; t++) {
        int len = lws_hdr_total_length(wsi, (enum lws_token_indexes)t);
        if (len <= 0 || len > MAX_HDR_VALUE) {
            continue; /* most tokens are absent: skip the name lookup */
        }
        const char *name = (const char *)lws_token_to_string((enum lws_token_indexes)t);
        size_t nl = name ? strlen(name) : 0;
        if (nl < 2 || name[nl - 1] != ':' || name[0] == ':') {
            continue;
        }
        char *v = wb_arena_alloc(a, (size_t)len + 1);
        if (lws_hdr_copy(wsi, v, len + 1, (enum lws_token_indexes)t) < 0) {
            continue;
        }
        out[n].name = wb_arena_strndup(a, name, nl - 1);
        out[n++].value = v;
    }
    for (size_t i = 0; ops->headers != NULL && ops->headers[i] != NULL && n < MAX_REQ_HEADERS;
         i++) {
        size_t hl = strlen(ops->headers[i]);
        char *lname = wb_arena_alloc(a, hl + 2);
        for (size_t k = 0; k < hl; k++) {
            char c = ops->headers[i][k];
            lname[k] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
        }
        lname[hl] = ':';
        lname[hl + 1] = '\0';
        int nlen = (int)hl + 1;
        int len = lws_hdr_custom_length(wsi, lname, nlen);
        if (len <= 0 || len > MAX_HDR_VALUE) {
            continue;
        }
        char *v = wb_arena_alloc(a, (size_t)len + 1);
        if (lws_hdr_custom_copy(wsi, v, len + 1, lname, nlen) < 0) {
            continue;
        }
        out[n].name = ops->headers[i];
        out[n++].value = v;
    }
    return n;
}

static char *collect_query(struct lws *wsi, struct wb_arena *a)
{
    struct wb_buf q;
    char frag[1024];
    wb_buf_init(&q, 8192);
    for (int i = 0; lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i) > 0;
         i++) {
        if ((i > 0 && wb_buf_append(&q, "&", 1) != WB_OK) ||
            wb_buf_append(&q, frag, strlen(frag)) != WB_OK) {
            break;
        }
    }
    char *s = wb_arena_strdup(a, q.data ? q.data : "");
    wb_buf_free(&q);
    return s;
}

static void submit_messages(struct wb_server *srv, struct lws *wsi, struct pss *p,
                            const struct wb_parse_out *po)
{
    p->n_msgs = po->n_msgs;
    p->n_pending = po->n_msgs;
    p->results = wb_arena_alloc(&p->arena, po->n_msgs * sizeof(*p->results));
    p->state = PSS_WAITING;
    map_put(&srv->pending, p->req_id, wsi);
    for (size_t i = 0; i < po->n_msgs; i++) {
        struct wb_message *m = wb_message_new(p->channel_id, &po->msgs[i]);
        struct done_ctx *d = wb_malloc(sizeof(*d));
        d->srv = srv;
        d->req_id = p->req_id;
        d->idx = i;
        m->done = on_done;
        m->done_ctx = d;
        if (wb_core_submit_take(srv->core, m) != WB_OK) {
            continue; /* refused (queue full): on_done already reported WB_ERR_BUSY */
        }
    }
}

/* The whole body is here: verify, parse, hand to the core or answer now. */
static void hook_complete(struct wb_server *srv, struct lws *wsi, struct pss *p)
{
    struct wb_chanset *cs = wb_chanset_acquire();
    const struct wb_channel *ch = wb_chanset_find(cs, p->channel_id);
    struct wb_header hdrs[MAX_REQ_HEADERS];
    struct wb_http_request req;
    struct wb_http_answer ans;
    struct wb_parse_out po;
    struct wb_err err;
    enum wb_status st;

    if (ch == NULL || ch->ops->verify == NULL || ch->ops->parse == NULL) {
        answer_error(wsi, p, 404, "not_found", "no such channel");
        goto out;
    }
    memset(&req, 0, sizeof(req));
    memset(&ans, 0, sizeof(ans));
    memset(&po, 0, sizeof(po));
    wb_err_clear(&err);
    req.method = p->is_post ? "POST" : "GET";
    req.path = wb_arena_printf(&p->arena, HOOK_PREFIX "%s", p->channel_id);
    req.query = collect_query(wsi, &p->arena);
    req.headers = hdrs;
    req.n_headers = collect_headers(wsi, ch->ops, &p->arena, hdrs);
    req.body = (const uint8_t *)(p->body.data ? p->body.data : "");
    req.body_len = p->body.len;
    req.now_ms = wb_now_ms();
    st = ch->ops->verify(ch->inst, &req, &p->arena, &ans, &err);
    if (st == WB_OK) {
        st = ch->ops->parse(ch->inst, &req, &srv->lim, &p->arena, &po, &err);
        ans = po.answer;
    }
    if (st != WB_OK || po.n_msgs == 0) {
        if (st != WB_OK) {
            atomic_fetch_add(&ch->stats->rejected, 1);
            atomic_fetch_add(&wb_metrics.http_rejected, 1);
            wb_log(WB_LOG_INFO, "http: hook %s refused (%d): %s", p->channel_id, ans.status,
                   err.msg[0] ? err.msg : wb_status_str(st));
        }
        if (ans.status == 0) {
            answer_error(wsi, p, 400, "bad_request", err.msg[0] ? err.msg : "request refused");
        } else {
            answer_set(wsi, p, ans.status, ans.content_type ? ans.content_type : ctype_json,
                       ans.body ? ans.body : "", ans.body_len);
        }
        goto out;
    }
    submit_messages(srv, wsi, p, &po);
out:
    wb_chanset_release(cs);
}

/* All messages of a request are settled: build the connector's answer. */
static void hook_answer(struct lws *wsi, struct pss *p)
{
    struct wb_chanset *cs = wb_chanset_acquire();
    const struct wb_channel *ch = wb_chanset_find(cs, p->channel_id);
    struct wb_http_answer ans;
    bool busy = false;

    memset(&ans, 0, sizeof(ans));
    for (size_t i = 0; i < p->n_msgs; i++) {
        busy = busy || p->results[i].status == WB_ERR_BUSY;
    }
    if (ch != NULL && ch->ops->answer != NULL) {
        (void)ch->ops->answer(ch->inst, p->results, p->n_msgs, &p->arena, &ans);
    }
    wb_chanset_release(cs);
    p->retry_after_s = busy ? 1 : 0;
    if (ans.status == 0) {
        bool ok = true;
        for (size_t i = 0; i < p->n_msgs; i++) {
            ok = ok && p->results[i].status == WB_OK;
        }
        if (!ok) {
            answer_error(wsi, p, 503, "unavailable", "message not stored, retry later");
            return;
        }
        answer_set(wsi, p, 200, ctype_json, "{\"ok\":true}", 11);
        return;
    }
    answer_set(wsi, p, ans.status, ans.content_type ? ans.content_type : ctype_json,
               ans.body ? ans.body : "", ans.body_len);
}

static void drain_inbox(struct wb_server *srv)
{
    void *items[256];
    size_t n;
    /* cleared before draining: a completion pushed after this cancels again */
    atomic_store(&srv->wake_pending, false);
    do {
        n = wb_queue_pop_batch(srv->inbox, items, WB_ARRAY_LEN(items), 0, 0);
        for (size_t i = 0; i < n; i++) {
            struct completion *c = items[i];
            struct lws *wsi = map_get(&srv->pending, c->req_id);
            struct pss *p = wsi ? lws_wsi_user(wsi) : NULL;
            if (p != NULL && p->state == PSS_WAITING && c->idx < p->n_msgs) {
                p->results[c->idx] = c->res;
                if (--p->n_pending == 0) {
                    map_del(&srv->pending, p->req_id);
                    hook_answer(wsi, p);
                }
            }
            free(c);
        }
    } while (n == WB_ARRAY_LEN(items)); /* a short batch emptied the queue */
}

static int on_http(struct wb_server *srv, struct lws *wsi, struct pss *p, const char *uri)
{
    pss_reset(srv, p);
    p->req_id = ++srv->next_req;
    p->is_post = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0;
    bool is_get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;

    if (is_get && strcmp(uri, "/healthz") == 0) {
        serve_healthz(srv, wsi, p);
        return 0;
    }
    if (is_get && strcmp(uri, "/metrics") == 0) {
        serve_metrics(srv, wsi, p);
        return 0;
    }
    if (strncmp(uri, HOOK_PREFIX, sizeof(HOOK_PREFIX) - 1) != 0) {
        answer_error(wsi, p, 404, "not_found", "no such route");
        return 0;
    }
    const char *id = uri + sizeof(HOOK_PREFIX) - 1;
    struct wb_chanset *cs = wb_chanset_acquire();
    bool known = strlen(id) < sizeof(p->channel_id) && wb_chanset_find(cs, id) != NULL;
    wb_chanset_release(cs);
    if (!known) {
        answer_error(wsi, p, 404, "not_found", "no such channel");
        p->close_after = p->is_post;
        return 0;
    }
    (void)snprintf(p->channel_id, sizeof(p->channel_id), "%s", id);
    if (!p->is_post && !is_get) {
        answer_error(wsi, p, 405, "method_not_allowed", "use POST or GET");
        p->close_after = true;
        return 0;
    }
    char cl[32];
    if (p->is_post && lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
        /*
         * libwebsockets 4.1 does not hand chunked request bodies to
         * HTTP_BODY; every webhook platform sends Content-Length.
         */
        answer_error(wsi, p, 411, "length_required", "Content-Length is required");
        p->close_after = true;
        return 0;
    }
    if (p->is_post && strtoull(cl, NULL, 10) > (unsigned long long)srv->cfg->http.max_body) {
        answer_error(wsi, p, 413, "too_large", "request body too large");
        p->close_after = true; /* the body is never read */
        return 0;
    }
    wb_buf_init(&p->body, (size_t)srv->cfg->http.max_body);
    p->state = PSS_BODY;
    if (!p->is_post) {
        hook_complete(srv, wsi, p);
    }
    return 0;
}

static int on_body(struct lws *wsi, struct pss *p, const void *in, size_t len)
{
    if (p->state != PSS_BODY) {
        return 0; /* answering already (e.g. 413): ignore the rest */
    }
    if (wb_buf_append(&p->body, in, len) != WB_OK) {
        answer_error(wsi, p, 413, "too_large", "request body too large");
        p->close_after = true;
    }
    return 0;
}

static int callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    struct wb_server *srv = ctx ? lws_context_user(ctx) : NULL;
    struct pss *p = user;

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_http(srv, wsi, p, (const char *)in);
    case LWS_CALLBACK_HTTP_BODY:
        return on_body(wsi, p, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (p->state == PSS_BODY) {
            hook_complete(srv, wsi, p);
        }
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (p->state == PSS_ANSWER) {
            return write_answer(srv, wsi, p);
        }
        return 0;
    case LWS_CALLBACK_CLOSED_HTTP:
        if (p != NULL) {
            pss_reset(srv, p);
        }
        return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (srv != NULL) {
            drain_inbox(srv);
        }
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
    { "http", callback_http, sizeof(struct pss), 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void lws_emit(int level, const char *line)
{
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
        n--;
    }
    wb_log(level == LLL_ERR    ? WB_LOG_ERROR
           : level == LLL_WARN ? WB_LOG_WARN
                               : WB_LOG_DEBUG,
           "lws: %.*s", (int)n, line);
}

enum wb_status wb_server_new(const struct wb_config *cfg, struct wb_core *core,
                             struct wb_server **out, struct wb_err *err)
{
    struct lws_context_creation_info info;
    struct wb_server *srv = wb_calloc(1, sizeof(*srv));

    srv->cfg = cfg;
    srv->core = core;
    srv->inbox = wb_queue_new((size_t)cfg->core.queue_depth + 1024);
    srv->lim.max_body = (size_t)cfg->http.max_body;
    srv->lim.max_text = (size_t)cfg->core.max_text;
    srv->lim.max_messages = (size_t)cfg->core.max_messages;
    srv->lim.max_headers = (size_t)cfg->http.max_headers;
    srv->lim.max_attachment = (size_t)cfg->http.max_body;
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_emit);
    memset(&info, 0, sizeof(info));
    info.port = (int)cfg->http.port;
    info.iface = cfg->http.listen;
    info.protocols = protocols;
    info.user = srv;
    info.timeout_secs = (unsigned int)(cfg->http.request_timeout_ms / 1000);
    info.max_http_header_data = 8192;
    info.fd_limit_per_thread = 16384;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
    if (strchr(cfg->http.listen, ':') == NULL) {
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    }
    srv->ctx = lws_create_context(&info);
    if (srv->ctx == NULL) {
        wb_queue_free(srv->inbox, free);
        free(srv);
        return wb_err_set(err, WB_ERR_IO, "http: cannot listen on %s:%lld", cfg->http.listen,
                          (long long)cfg->http.port);
    }
    srv->vhost = lws_get_vhost_by_name(srv->ctx, "default");
    *out = srv;
    return WB_OK;
}

void wb_server_set_core(struct wb_server *srv, struct wb_core *core)
{
    srv->core = core;
}

int wb_server_port(const struct wb_server *srv)
{
    return srv->vhost ? lws_get_vhost_listen_port(srv->vhost) : -1;
}

void wb_server_run(struct wb_server *srv)
{
    while (!atomic_load(&srv->stop)) {
        if (lws_service(srv->ctx, 0) < 0) {
            break;
        }
    }
}

void wb_server_stop(struct wb_server *srv)
{
    atomic_store(&srv->stop, true);
    lws_cancel_service(srv->ctx);
}

void wb_server_wake(struct wb_server *srv)
{
    lws_cancel_service(srv->ctx);
}

void wb_server_free(struct wb_server *srv)
{
    if (srv == NULL) {
        return;
    }
    lws_context_destroy(srv->ctx);
    wb_queue_free(srv->inbox, free);
    free(srv->pending.keys);
    free(srv->pending.vals);
    free(srv);
}
