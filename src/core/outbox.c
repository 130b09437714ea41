/*
 * outbox.c - the http thread: one libcurl multi loop for every outbound
 * HTTP request.
 *
 * DESIGN: items arrive through a bounded queue that this thread drains at
 * the top of every iteration into a min-heap ordered by due time, so the
 * core's push never waits long and this thread never waits on the core.
 * Due items become curl easy handles (at most max_inflight at once); the
 * connector builds each request and reads each response. Backoff is
 * exponential with jitter and never shorter than the peer's Retry-After.
 * The loop drives curl through the socket interface: curl tells us which
 * sockets to watch (an epoll set) and when its timer is due, and each
 * ready socket is handed to curl_multi_socket_action(). curl_multi_perform()
 * instead polled every transfer's socket on every call, one poll(2) per
 * transfer in flight per iteration. The loop sleeps in epoll_wait() and is
 * woken through an eventfd when an item is submitted, a sender finishes,
 * or at stop; submitters skip the wakeup while one is already pending, so
 * a burst of submits costs one wakeup.
 *
 * Per-request costs are kept off the hot path: easy handles go back to a
 * pool (curl_easy_reset) instead of being created and destroyed per
 * attempt, header lists are built in the job's arena, and the multi handle
 * keeps up to max_inflight idle connections so bursts reuse them rather
 * than reconnecting.
 *
 * Thread: the http thread owns the CURLM, every easy handle and the heap.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include <warbler/log.h>

#include "channels.h"
#include "metrics.h"
#include "outbox.h"
#include "queue.h"

#define MAX_RESP_BODY    (64 * 1024)
#define MAX_RESP_HEADERS 64

struct job {
    struct wb_outbox_item *it; /* a delivery, or */
    struct wb_http_call *call; /* a one-shot call */
    int64_t due_ms;
    CURL *easy;
    struct wb_arena arena;
    struct wb_buf body;
    struct wb_header resp_hdrs[MAX_RESP_HEADERS];
    size_t n_resp_hdrs;
    int64_t start_mono;
    size_t fly_idx; /* index in ob->flying while in flight */
    char errbuf[CURL_ERROR_SIZE];
};

/* A blocking send finished on a sender thread, back to the http thread. */
struct pool_done {
    struct job *j;
    struct wb_send_result res;
};

struct wb_outbox {
    struct wb_conf_outbox conf;
    /* sender pool for connectors with a blocking send() */
    struct wb_queue *pool_q;    /* struct job *, due */
    struct wb_queue *pool_done; /* struct pool_done * */
    pthread_t *senders;
    size_t n_senders;
    wb_report_fn report;
    void *report_ctx;
    struct wb_queue *intake;
    /*
     * Set by a submitter that wrote a wakeup the loop has not yet acted
     * on; cleared by the loop before it drains the intake.
     */
    atomic_bool wake_pending;
    int wake_fd;  /* eventfd: submit, sender done, stop */
    int epoll_fd; /* wake_fd and the sockets curl asks us to watch */
    CURLM *multi;
    pthread_t thread;
    bool started;
    atomic_bool stopping;
    /* thread-owned */
    struct job **heap;
    size_t n_heap, cap_heap;
    struct job **flying; /* jobs attached to the multi handle */
    size_t inflight;
    CURL **easy_pool; /* reset easy handles, at most max_inflight */
    size_t n_easy_pool;
    int64_t curl_due_mono;          /* when curl's timer fires (monotonic ms), -1 none */
    struct wb_send_report **unsent; /* reports the core queue had no room for */
    size_t n_unsent, cap_unsent;
    uint64_t rng;
};

/* ---- small helpers ---- */

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64*: jitter only, not security */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Wake the http thread (any thread). */
static void wake(struct wb_outbox *ob)
{
    uint64_t one = 1;
    /* only fails when the counter is saturated: the loop is awake then */
    (void)!write(ob->wake_fd, &one, sizeof(one));
}

int64_t wb_outbox_backoff_ms(const struct wb_conf_outbox *conf, int attempts, uint64_t rnd)
{
    int64_t d = conf->backoff_base_ms;
    for (int i = 1; i < attempts && d < conf->backoff_max_ms; i++) {
        d *= 2;
    }
    if (d > conf->backoff_max_ms) {
        d = conf->backoff_max_ms;
    }
    int64_t half = d / 2;
    return half + (half > 0 ? (int64_t)(rnd % (uint64_t)(half + 1)) : 0);
}

static void job_free(struct job *j)
{
    if (j == NULL) {
        return;
    }
    if (j->it != NULL) {
        wb_outbox_item_free(j->it);
        free(j->it);
    }
    wb_http_call_free(j->call);
    if (j->easy != NULL) {
        curl_easy_cleanup(j->easy);
    }
    wb_arena_free(&j->arena);
    wb_buf_free(&j->body);
    free(j);
}

/* An easy handle from the pool, or a new one (NULL when curl cannot make one). */
static CURL *easy_get(struct wb_outbox *ob)
{
    if (ob->n_easy_pool > 0) {
        return ob->easy_pool[--ob->n_easy_pool];
    }
    return curl_easy_init();
}

/*
 * Give j's easy handle (detached from the multi) back to the pool. The
 * reset drops every option, so no pointer into j survives in the handle.
 */
static void easy_put(struct wb_outbox *ob, struct job *j)
{
    CURL *e = j->easy;
    j->easy = NULL;
    if (e == NULL) {
        return;
    }
    if (ob->n_easy_pool == (size_t)ob->conf.max_inflight) {
        curl_easy_cleanup(e);
        return;
    }
    curl_easy_reset(e);
    ob->easy_pool[ob->n_easy_pool++] = e;
}

static void job_reset_attempt(struct wb_outbox *ob, struct job *j)
{
    easy_put(ob, j);
    wb_arena_free(&j->arena);
    wb_buf_reset(&j->body);
    j->n_resp_hdrs = 0;
    j->errbuf[0] = '\0';
}

struct wb_http_call *wb_http_call_new(const struct wb_http_out *req, int64_t timeout_ms, void *ctx,
                                      void (*ctx_free)(void *ctx))
{
    struct wb_http_call *c = wb_calloc(1, sizeof(*c));
    c->method = wb_strdup(req->method);
    c->url = wb_strdup(req->url);
    c->n_headers = req->n_headers;
    c->headers = wb_calloc(req->n_headers ? req->n_headers : 1, sizeof(*c->headers));
    for (size_t i = 0; i < req->n_headers; i++) {
        c->headers[i].name = wb_strdup(req->headers[i].name);
        c->headers[i].value = wb_strdup(req->headers[i].value);
    }
    c->body = wb_memdup(req->body ? req->body : (const uint8_t *)"", req->body_len);
    c->body_len = req->body_len;
    c->timeout_ms = timeout_ms;
    c->ctx = ctx;
    c->ctx_free = ctx_free;
    return c;
}

void wb_http_call_free(struct wb_http_call *c)
{
    if (c == NULL) {
        return;
    }
    if (c->ctx != NULL && c->ctx_free != NULL) {
        c->ctx_free(c->ctx);
    }
    for (size_t i = 0; i < c->n_headers; i++) {
        /* the values may hold an API key */
        if (c->headers[i].value != NULL) {
            OPENSSL_cleanse((void *)(uintptr_t)c->headers[i].value, strlen(c->headers[i].value));
        }
        free((void *)(uintptr_t)c->headers[i].name);
        free((void *)(uintptr_t)c->headers[i].value);
    }
    free(c->headers);
    free(c->method);
    free(c->url);
    free(c->body);
    free(c);
}

void wb_call_result_free(struct wb_call_result *r)
{
    if (r != NULL) {
        if (r->ctx != NULL && r->ctx_free != NULL) {
            r->ctx_free(r->ctx);
        }
        free(r->body);
        free(r);
    }
}

/* ---- heap by due time ---- */

static void heap_push(struct wb_outbox *ob, struct job *j)
{
    if (ob->n_heap == ob->cap_heap) {
        ob->cap_heap = ob->cap_heap ? ob->cap_heap * 2 : 64;
        ob->heap = wb_realloc(ob->heap, ob->cap_heap * sizeof(*ob->heap));
    }
    size_t i = ob->n_heap++;
    while (i > 0 && ob->heap[(i - 1) / 2]->due_ms > j->due_ms) {
        ob->heap[i] = ob->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    ob->heap[i] = j;
}

static struct job *heap_pop(struct wb_outbox *ob)
{
    struct job *top = ob->heap[0];
    struct job *last = ob->heap[--ob->n_heap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= ob->n_heap) {
            break;
        }
        if (c + 1 < ob->n_heap && ob->heap[c + 1]->due_ms < ob->heap[c]->due_ms) {
            c++;
        }
        if (ob->heap[c]->due_ms >= last->due_ms) {
            break;
        }
        ob->heap[i] = ob->heap[c];
        i = c;
    }
    if (ob->n_heap > 0) {
        ob->heap[i] = last;
    }
    return top;
}

/* ---- reports ---- */

static void report_push(struct wb_outbox *ob, struct wb_send_report *r)
{
    if (ob->n_unsent == 0 && ob->report(ob->report_ctx, r) == WB_OK) {
        return;
    }
    if (ob->n_unsent == ob->cap_unsent) {
        ob->cap_unsent = ob->cap_unsent ? ob->cap_unsent * 2 : 64;
        ob->unsent = wb_realloc(ob->unsent, ob->cap_unsent * sizeof(*ob->unsent));
    }
    ob->unsent[ob->n_unsent++] = r;
}

static void reports_flush(struct wb_outbox *ob)
{
    size_t done = 0;
    while (done < ob->n_unsent && ob->report(ob->report_ctx, ob->unsent[done]) == WB_OK) {
        done++;
    }
    if (done == 0) {
        return;
    }
    memmove(ob->unsent, ob->unsent + done, (ob->n_unsent - done) * sizeof(*ob->unsent));
    ob->n_unsent -= done;
}

static struct wb_send_report *report_new(const struct job *j, enum wb_report_kind kind)
{
    struct wb_send_report *r = wb_calloc(1, sizeof(*r));
    r->outbox_id = j->it->id;
    r->conversation_id = j->it->conversation_id;
    r->message_id = j->it->message_id;
    r->kind = kind;
    r->attempts = j->it->attempts;
    return r;
}

/*
 * Settle one attempt: report it, and either free the job or put it back
 * on the heap for the next attempt.
 */
static void settle(struct wb_outbox *ob, struct job *j, const struct wb_send_result *res,
                   struct wb_channel_stats *stats)
{
    struct wb_send_report *r;
    int64_t now = wb_now_ms();

    if (res->outcome == WB_SEND_OK) {
        r = report_new(j, WB_REPORT_SENT);
        (void)snprintf(r->external_id, sizeof(r->external_id), "%s", res->external_id);
        if (stats != NULL) {
            atomic_fetch_add(&stats->sent, 1);
            wb_channel_set_state(stats, WB_CHANNEL_UP, NULL);
        }
        report_push(ob, r);
        easy_put(ob, j);
        job_free(j);
        return;
    }
    if (stats != NULL) {
        atomic_fetch_add(&stats->send_failed, 1);
    }
    if (res->outcome == WB_SEND_PERMANENT || j->it->attempts >= ob->conf.max_attempts) {
        r = report_new(j, WB_REPORT_DEAD);
        (void)snprintf(r->error, sizeof(r->error), "%s", res->reason);
        atomic_fetch_add(&wb_metrics.outbox_dead, 1);
        if (stats != NULL) {
            atomic_fetch_add(&stats->dead, 1);
        }
        wb_log(WB_LOG_WARN, "outbox: item %lld for %s is dead after %d attempt(s): %s",
               (long long)j->it->id, j->it->channel_id, j->it->attempts, res->reason);
        report_push(ob, r);
        easy_put(ob, j);
        job_free(j);
        return;
    }
    int64_t delay = wb_outbox_backoff_ms(&ob->conf, j->it->attempts, rng_next(&ob->rng));
    if (res->retry_after_ms > delay) {
        delay = res->retry_after_ms;
    }
    if (stats != NULL) {
        wb_channel_set_state(stats, WB_CHANNEL_DEGRADED, res->reason);
    }
    atomic_fetch_add(&wb_metrics.outbox_retries, 1);
    r = report_new(j, WB_REPORT_RETRY);
    r->next_attempt_ms = now + delay;
    (void)snprintf(r->error, sizeof(r->error), "%s", res->reason);
    wb_log(WB_LOG_INFO, "outbox: item %lld attempt %d failed (%s), retry in %lld ms",
           (long long)j->it->id, j->it->attempts, res->reason, (long long)delay);
    report_push(ob, r);
    j->due_ms = now + delay;
    job_reset_attempt(ob, j);
    heap_push(ob, j);
}

static void settle_error(struct wb_outbox *ob, struct job *j, enum wb_send_outcome outcome,
                         const char *reason, struct wb_channel_stats *stats)
{
    struct wb_send_result res;
    memset(&res, 0, sizeof(res));
    res.outcome = outcome;
    (void)snprintf(res.reason, sizeof(res.reason), "%s", reason);
    settle(ob, j, &res, stats);
}

/* ---- curl ---- */

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct job *j = ud;
    size_t n = size * nmemb;
    /* keep the first MAX_RESP_BODY bytes; the rest is read and dropped */
    size_t room = j->body.len < MAX_RESP_BODY ? MAX_RESP_BODY - j->body.len : 0;
    if (room > 0 && wb_buf_append(&j->body, p, n < room ? n : room) != WB_OK) {
        return 0;
    }
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    struct job *j = ud;
    size_t n = size * nmemb;
    const char *colon = memchr(p, ':', n);
    if (colon == NULL || j->n_resp_hdrs >= MAX_RESP_HEADERS) {
        if (n > 5 && memcmp(p, "HTTP/", 5) == 0) {
            j->n_resp_hdrs = 0; /* a new response (after 100 or a redirect) */
        }
        return n;
    }
    size_t vlen = n - (size_t)(colon + 1 - p);
    const char *v = colon + 1;
    while (vlen > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ')) {
        vlen--;
    }
    j->resp_hdrs[j->n_resp_hdrs].name = wb_arena_strndup(&j->arena, p, (size_t)(colon - p));
    j->resp_hdrs[j->n_resp_hdrs].value = wb_arena_strndup(&j->arena, v, vlen);
    j->n_resp_hdrs++;
    return n;
}

static void outbound_from_item(const struct wb_outbox_item *it, struct wb_outbound *o)
{
    memset(o, 0, sizeof(*o));
    o->outbox_id = it->id;
    o->idempotency_key = it->idempotency_key;
    o->channel_id = it->channel_id;
    o->conversation_id = it->conversation_id;
    o->message_id = it->message_id;
    o->recipient_id = it->recipient_id;
    o->recipient_name = it->recipient_name;
    o->recipient_email = it->recipient_email;
    o->text = it->text;
    o->author = it->author;
    o->subject = it->subject;
    o->thread_refs = (const char *const *)it->thread_refs;
    o->n_thread_refs = it->n_thread_refs;
    o->attempt = it->attempts;
}

static enum wb_status easy_setup(struct wb_outbox *ob, struct job *j, const struct wb_http_out *req,
                                 int64_t timeout_ms)
{
    CURL *e = j->easy; /* fresh or reset (easy_put) */
    struct curl_slist *hdrs = NULL, **tail = &hdrs;
    (void)ob;
    /*
     * curl only reads the list, so it is built in the arena (no malloc per
     * header); the arena outlives the transfer and the reset in easy_put.
     */
    for (size_t i = 0; i <= req->n_headers; i++) {
        struct curl_slist *node = wb_arena_alloc(&j->arena, sizeof(*node));
        if (i == req->n_headers) {
            node->data = (char *)(uintptr_t) "Expect:";
        } else {
            const char *name = req->headers[i].name, *value = req->headers[i].value;
            size_t nl = strlen(name), vl = strlen(value);
            char *h = wb_arena_alloc(&j->arena, nl + vl + 3);
            memcpy(h, name, nl);
            memcpy(h + nl, ": ", 2);
            memcpy(h + nl + 2, value, vl + 1);
            if (strpbrk(h, "\r\n") != NULL) {
                return WB_ERR_INVAL;
            }
            node->data = h;
        }
        *tail = node;
        tail = &node->next;
    }
    (void)curl_easy_setopt(e, CURLOPT_URL, req->url);
    (void)curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    (void)curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    (void)curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    (void)curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    (void)curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    (void)curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf);
    (void)curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    (void)curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
    (void)curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    (void)curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
    (void)curl_easy_setopt(e, CURLOPT_PRIVATE, j);
    (void)curl_easy_setopt(e, CURLOPT_USERAGENT, "warbler/" WB_VERSION);
    if (strcmp(req->method, "GET") != 0) {
        (void)curl_easy_setopt(e, CURLOPT_POST, 1L);
        (void)curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
        (void)curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
        if (strcmp(req->method, "POST") != 0) {
            (void)curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
        }
    }
    return WB_OK;
}

static enum wb_status transport_status(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return WB_ERR_TIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return WB_ERR_TLS;
    default:
        return WB_ERR_IO;
    }
}

static void job_start_delivery(struct wb_outbox *ob, struct job *j);

static void call_finish_error(struct wb_outbox *ob, struct job *j, const char *why)
{
    struct wb_send_report *r = wb_calloc(1, sizeof(*r));
    r->kind = WB_REPORT_CALL;
    r->call = wb_calloc(1, sizeof(*r->call));
    r->call->ctx = j->call->ctx;
    r->call->ctx_free = j->call->ctx_free;
    j->call->ctx = NULL; /* handed over with the result */
    r->call->transport = WB_ERR_IO;
    (void)snprintf(r->call->error, sizeof(r->call->error), "%s", why);
    report_push(ob, r);
    job_free(j);
}

static bool attach(struct wb_outbox *ob, struct job *j)
{
    j->start_mono = wb_mono_ms();
    if (curl_multi_add_handle(ob->multi, j->easy) != CURLM_OK) {
        return false;
    }
    j->fly_idx = ob->inflight;
    ob->flying[ob->inflight++] = j;
    return true;
}

static void call_start(struct wb_outbox *ob, struct job *j)
{
    struct wb_http_out req;
    memset(&req, 0, sizeof(req));
    req.method = j->call->method;
    req.url = j->call->url;
    req.headers = j->call->headers;
    req.n_headers = j->call->n_headers;
    req.body = j->call->body;
    req.body_len = j->call->body_len;
    if (j->easy == NULL) {
        j->easy = easy_get(ob);
    }
    if (j->easy == NULL || easy_setup(ob, j, &req, j->call->timeout_ms) != WB_OK ||
        !attach(ob, j)) {
        call_finish_error(ob, j, "cannot start the HTTP request");
    }
}

static void call_finish(struct wb_outbox *ob, struct job *j, CURLcode rc)
{
    struct wb_send_report *r = wb_calloc(1, sizeof(*r));
    struct wb_call_result *res = wb_calloc(1, sizeof(*res));
    r->kind = WB_REPORT_CALL;
    r->call = res;
    res->ctx = j->call->ctx;
    res->ctx_free = j->call->ctx_free;
    j->call->ctx = NULL; /* handed over with the result */
    res->transport = rc == CURLE_OK ? WB_OK : transport_status(rc);
    (void)snprintf(res->error, sizeof(res->error), "%s",
                   j->errbuf[0] ? j->errbuf : curl_easy_strerror(rc));
    if (rc == CURLE_OK) {
        (void)curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &res->status);
    }
    res->body = wb_memdup(j->body.data ? j->body.data : "", j->body.len);
    res->body_len = j->body.len;
    report_push(ob, r);
    easy_put(ob, j);
    job_free(j);
}

/* Start one attempt of a due job. */
static void job_start(struct wb_outbox *ob, struct job *j)
{
    if (j->call != NULL) {
        call_start(ob, j);
        return;
    }
    job_start_delivery(ob, j);
}

static void job_start_delivery(struct wb_outbox *ob, struct job *j)
{
    struct wb_chanset *cs = wb_chanset_acquire();
    const struct wb_channel *ch = wb_chanset_find(cs, j->it->channel_id);
    struct wb_channel_stats *stats = wb_channel_stats_get(j->it->channel_id);
    struct wb_outbound o;
    struct wb_http_out req;
    struct wb_err err;

    j->it->attempts++;
    if (ch != NULL && ch->ops->build_send == NULL && ch->ops->send != NULL) {
        wb_chanset_release(cs);
        if (wb_queue_push(ob->pool_q, j) != WB_OK) {
            settle_error(ob, j, WB_SEND_RETRY, "sender threads busy", stats);
        }
        return;
    }
    if (ch == NULL || ch->ops->build_send == NULL) {
        wb_chanset_release(cs);
        settle_error(ob, j, WB_SEND_PERMANENT,
                     ch == NULL ? "channel is no longer configured" : "channel has no sender",
                     stats);
        return;
    }
    outbound_from_item(j->it, &o);
    memset(&req, 0, sizeof(req));
    wb_err_clear(&err);
    enum wb_status st = ch->ops->build_send(ch->inst, &o, &j->arena, &req, &err);
    wb_chanset_release(cs);
    if (st != WB_OK) {
        settle_error(ob, j, WB_SEND_PERMANENT, err.msg[0] ? err.msg : wb_status_str(st), stats);
        return;
    }
    if (j->easy == NULL) {
        j->easy = easy_get(ob);
    }
    if (j->easy == NULL || easy_setup(ob, j, &req, ob->conf.timeout_ms) != WB_OK) {
        settle_error(ob, j, WB_SEND_PERMANENT, "cannot build the HTTP request", stats);
        return;
    }
    if (!attach(ob, j)) {
        settle_error(ob, j, WB_SEND_RETRY, "curl_multi_add_handle failed", stats);
    }
}

/* A finished transfer: let the connector read it, then settle. */
static void job_finish(struct wb_outbox *ob, struct job *j, CURLcode rc)
{
    if (j->call != NULL) {
        (void)curl_multi_remove_handle(ob->multi, j->easy);
        ob->flying[j->fly_idx] = ob->flying[--ob->inflight];
        ob->flying[j->fly_idx]->fly_idx = j->fly_idx;
        call_finish(ob, j, rc);
        return;
    }
    struct wb_chanset *cs = wb_chanset_acquire();
    const struct wb_channel *ch = wb_chanset_find(cs, j->it->channel_id);
    struct wb_channel_stats *stats = wb_channel_stats_get(j->it->channel_id);
    struct wb_http_resp resp;
    struct wb_send_result res;
    struct wb_outbound o;
    long code = 0;

    (void)curl_multi_remove_handle(ob->multi, j->easy);
    ob->flying[j->fly_idx] = ob->flying[--ob->inflight];
    ob->flying[j->fly_idx]->fly_idx = j->fly_idx;
    wb_histogram_observe(&wb_metrics.send_seconds, (double)(wb_mono_ms() - j->start_mono) / 1e3);
    memset(&resp, 0, sizeof(resp));
    memset(&res, 0, sizeof(res));
    resp.transport = rc == CURLE_OK ? WB_OK : transport_status(rc);
    resp.transport_error = j->errbuf[0] ? j->errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_OK) {
        (void)curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
    }
    resp.status = code;
    resp.headers = j->resp_hdrs;
    resp.n_headers = j->n_resp_hdrs;
    resp.body = (const uint8_t *)j->body.data;
    resp.body_len = j->body.len;
    resp.now_ms = wb_now_ms();
    if (ch == NULL) {
        res.outcome = WB_SEND_PERMANENT;
        (void)snprintf(res.reason, sizeof(res.reason), "channel is no longer configured");
    } else {
        outbound_from_item(j->it, &o);
        (void)ch->ops->read_send_result(ch->inst, &o, &resp, &res);
    }
    wb_chanset_release(cs);
    settle(ob, j, &res, stats);
}

/* ---- sender pool ---- */

/* A sender thread: one blocking send() at a time. Thread: sender. */
static void *sender_main(void *arg)
{
    struct wb_outbox *ob = arg;
    void *item;
    (void)pthread_setname_np(pthread_self(), "wb-sender");
    while (wb_queue_pop_batch(ob->pool_q, &item, 1, -1, 0) == 1) {
        struct job *j = item;
        struct pool_done *d = wb_calloc(1, sizeof(*d));
        if (atomic_load(&ob->stopping)) {
            job_free(j); /* the row stays pending and is loaded at the next start */
            free(d);
            continue;
        }
        struct wb_chanset *cs = wb_chanset_acquire();
        const struct wb_channel *ch = wb_chanset_find(cs, j->it->channel_id);
        struct wb_outbound o;
        d->j = j;
        j->start_mono = wb_mono_ms();
        if (ch == NULL || ch->ops->send == NULL) {
            d->res.outcome = WB_SEND_PERMANENT;
            (void)snprintf(d->res.reason, sizeof(d->res.reason), "channel is no longer configured");
        } else {
            outbound_from_item(j->it, &o);
            if (ch->ops->send(ch->inst, &o, &d->res) != WB_OK && d->res.reason[0] == '\0') {
                d->res.outcome = WB_SEND_RETRY;
                (void)snprintf(d->res.reason, sizeof(d->res.reason), "send failed");
            }
        }
        wb_chanset_release(cs);
        if (wb_queue_push_wait(ob->pool_done, d) != WB_OK) {
            job_free(j);
            free(d);
            continue;
        }
        wake(ob);
    }
    return NULL;
}

/* Settle the sends the pool finished. Thread: http. */
static void drain_pool(struct wb_outbox *ob)
{
    void *items[64];
    size_t n;
    do {
        n = wb_queue_pop_batch(ob->pool_done, items, WB_ARRAY_LEN(items), 0, 0);
        for (size_t i = 0; i < n; i++) {
            struct pool_done *d = items[i];
            wb_histogram_observe(&wb_metrics.send_seconds,
                                 (double)(wb_mono_ms() - d->j->start_mono) / 1e3);
            settle(ob, d->j, &d->res, wb_channel_stats_get(d->j->it->channel_id));
            free(d);
        }
    } while (n == WB_ARRAY_LEN(items)); /* a short batch emptied the queue */
}

/* ---- the loop ---- */

static void drain_intake(struct wb_outbox *ob)
{
    void *items[256];
    size_t n;
    /* cleared before draining: a submit after this point wakes the loop again */
    atomic_store(&ob->wake_pending, false);
    do {
        n = wb_queue_pop_batch(ob->intake, items, WB_ARRAY_LEN(items), 0, 0);
        for (size_t i = 0; i < n; i++) {
            heap_push(ob, items[i]);
        }
    } while (n == WB_ARRAY_LEN(items)); /* a short batch emptied the queue */
}

static int next_wait_ms(struct wb_outbox *ob)
{
    int64_t wait = 1000;
    if (ob->n_unsent > 0) {
        wait = 10;
    }
    if (ob->n_heap > 0 && ob->inflight < (size_t)ob->conf.max_inflight) {
        int64_t d = ob->heap[0]->due_ms - wb_now_ms();
        if (d < wait) {
            wait = d < 0 ? 0 : d;
        }
    }
    return (int)wait;
}

/* CURLMOPT_SOCKETFUNCTION: mirror what curl wants to watch in the epoll set. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct wb_outbox *ob = userp;
    struct epoll_event ev;
    (void)easy;

    if (what == CURL_POLL_REMOVE) {
        /* curl says so before it closes the socket; ENOENT/EBADF are harmless */
        (void)epoll_ctl(ob->epoll_fd, EPOLL_CTL_DEL, s, NULL);
        return 0;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    ev.data.fd = s;
    if (socketp != NULL) {
        if (epoll_ctl(ob->epoll_fd, EPOLL_CTL_MOD, s, &ev) == 0 || errno != ENOENT) {
            return 0;
        }
    }
    if (epoll_ctl(ob->epoll_fd, EPOLL_CTL_ADD, s, &ev) != 0 && errno == EEXIST) {
        (void)epoll_ctl(ob->epoll_fd, EPOLL_CTL_MOD, s, &ev);
    }
    /* any non-NULL marker: the socket is in the set */
    (void)curl_multi_assign(ob->multi, s, ob);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: remember when curl wants socket_action(TIMEOUT). */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct wb_outbox *ob = userp;
    (void)multi;
    ob->curl_due_mono = timeout_ms < 0 ? -1 : wb_mono_ms() + timeout_ms;
    return 0;
}

/* Settle every finished transfer. */
static void collect_done(struct wb_outbox *ob)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(ob->multi, &left)) != NULL) {
        if (msg->msg == CURLMSG_DONE) {
            struct job *j = NULL;
            (void)curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
            job_finish(ob, j, msg->data.result);
        }
    }
}

/* Run curl's timer when it is due. */
static void curl_timer(struct wb_outbox *ob)
{
    int running = 0;
    if (ob->curl_due_mono >= 0 && ob->curl_due_mono <= wb_mono_ms()) {
        ob->curl_due_mono = -1; /* curl sets it again as needed */
        (void)curl_multi_socket_action(ob->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
}

static void *outbox_main(void *arg)
{
    struct wb_outbox *ob = arg;
    struct epoll_event evs[64];
    int running = 0;

    /* a name makes the thread findable in top -H, perf and /proc */
    (void)pthread_setname_np(pthread_self(), "wb-http");
    while (!atomic_load(&ob->stopping)) {
        drain_intake(ob);
        drain_pool(ob);
        reports_flush(ob);
        int64_t now = wb_now_ms();
        while (ob->n_heap > 0 && ob->inflight < (size_t)ob->conf.max_inflight &&
               ob->heap[0]->due_ms <= now) {
            job_start(ob, heap_pop(ob));
        }
        /* new transfers set a zero timeout: start them before sleeping */
        curl_timer(ob);
        collect_done(ob);
        int wait = next_wait_ms(ob);
        if (ob->curl_due_mono >= 0) {
            int64_t d = ob->curl_due_mono - wb_mono_ms();
            d = d < 0 ? 0 : d;
            wait = d < wait ? (int)d : wait;
        }
        int n = epoll_wait(ob->epoll_fd, evs, (int)WB_ARRAY_LEN(evs), wait);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == ob->wake_fd) {
                uint64_t v;
                (void)!read(ob->wake_fd, &v, sizeof(v));
                continue;
            }
            int bits = ((evs[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                       ((evs[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                       ((evs[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
            (void)curl_multi_socket_action(ob->multi, evs[i].data.fd, bits, &running);
        }
        curl_timer(ob);
        collect_done(ob);
    }
    return NULL;
}

enum wb_status wb_outbox_new(const struct wb_conf_outbox *conf, wb_report_fn report,
                             void *report_ctx, struct wb_outbox **out, struct wb_err *err)
{
    struct wb_outbox *ob = wb_calloc(1, sizeof(*ob));
    ob->conf = *conf;
    ob->report = report;
    ob->report_ctx = report_ctx;
    ob->intake = wb_queue_new(4096);
    ob->pool_q = wb_queue_new(1024);
    ob->pool_done = wb_queue_new(1024);
    ob->flying = wb_calloc((size_t)conf->max_inflight, sizeof(*ob->flying));
    ob->easy_pool = wb_calloc((size_t)conf->max_inflight, sizeof(*ob->easy_pool));
    ob->curl_due_mono = -1;
    ob->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ob->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    ob->multi = curl_multi_init();
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = ob->wake_fd };
    if (ob->wake_fd < 0 || ob->epoll_fd < 0 || ob->multi == NULL ||
        epoll_ctl(ob->epoll_fd, EPOLL_CTL_ADD, ob->wake_fd, &ev) != 0) {
        wb_outbox_free(ob);
        return wb_err_set(err, WB_ERR_INTERNAL, "outbox: cannot set up the curl multi loop");
    }
    (void)curl_multi_setopt(ob->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    (void)curl_multi_setopt(ob->multi, CURLMOPT_SOCKETDATA, ob);
    (void)curl_multi_setopt(ob->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    (void)curl_multi_setopt(ob->multi, CURLMOPT_TIMERDATA, ob);
    (void)curl_multi_setopt(ob->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conf->max_inflight);
    /*
     * The default cache size follows the number of attached handles, so a
     * lull between bursts closed connections that the next burst reopened.
     */
    (void)curl_multi_setopt(ob->multi, CURLMOPT_MAXCONNECTS, (long)conf->max_inflight);
    if (getrandom(&ob->rng, sizeof(ob->rng), 0) != (ssize_t)sizeof(ob->rng) || ob->rng == 0) {
        ob->rng = (uint64_t)wb_now_ms() | 1;
    }
    *out = ob;
    return WB_OK;
}

enum wb_status wb_outbox_start(struct wb_outbox *ob, struct wb_err *err)
{
    if (pthread_create(&ob->thread, NULL, outbox_main, ob) != 0) {
        return wb_err_set(err, WB_ERR_INTERNAL, "outbox: cannot start the http thread");
    }
    ob->started = true;
    ob->senders = wb_calloc((size_t)ob->conf.senders, sizeof(*ob->senders));
    for (int64_t i = 0; i < ob->conf.senders; i++) {
        if (pthread_create(&ob->senders[ob->n_senders], NULL, sender_main, ob) != 0) {
            return wb_err_set(err, WB_ERR_INTERNAL, "outbox: cannot start a sender thread");
        }
        ob->n_senders++;
    }
    return WB_OK;
}

static void submit_job(struct wb_outbox *ob, struct job *j)
{
    if (wb_queue_push_wait(ob->intake, j) != WB_OK) {
        /* stopping: a delivery stays pending in the store and is loaded next start */
        job_free(j);
        return;
    }
    /* one wakeup per drain: the loop clears the flag before it drains the intake */
    if (!atomic_exchange(&ob->wake_pending, true)) {
        wake(ob);
    }
}

void wb_outbox_submit_take(struct wb_outbox *ob, struct wb_outbox_item *it)
{
    struct job *j = wb_calloc(1, sizeof(*j));
    j->it = it;
    j->due_ms = it->next_attempt_ms;
    wb_buf_init(&j->body, MAX_RESP_BODY);
    submit_job(ob, j);
}

void wb_outbox_call_take(struct wb_outbox *ob, struct wb_http_call *c)
{
    struct job *j = wb_calloc(1, sizeof(*j));
    j->call = c;
    j->due_ms = 0;
    wb_buf_init(&j->body, MAX_RESP_BODY);
    submit_job(ob, j);
}

void wb_outbox_stop(struct wb_outbox *ob)
{
    if (ob == NULL || !ob->started) {
        return;
    }
    atomic_store(&ob->stopping, true);
    wb_queue_close(ob->intake);
    wb_queue_close(ob->pool_q);
    wb_queue_close(ob->pool_done);
    wake(ob);
    (void)pthread_join(ob->thread, NULL);
    /* a sender in a blocking send() finishes it; its row stays pending */
    for (size_t i = 0; i < ob->n_senders; i++) {
        (void)pthread_join(ob->senders[i], NULL);
    }
    ob->n_senders = 0;
    ob->started = false;
}

static void free_job(void *p)
{
    job_free(p);
}

static void free_pool_done(void *p)
{
    struct pool_done *d = p;
    job_free(d->j);
    free(d);
}

void wb_outbox_free(struct wb_outbox *ob)
{
    if (ob == NULL) {
        return;
    }
    wb_outbox_stop(ob);
    for (size_t i = 0; i < ob->n_heap; i++) {
        job_free(ob->heap[i]);
    }
    free(ob->heap);
    for (size_t i = 0; i < ob->inflight; i++) {
        (void)curl_multi_remove_handle(ob->multi, ob->flying[i]->easy);
        job_free(ob->flying[i]);
    }
    free(ob->flying);
    for (size_t i = 0; i < ob->n_easy_pool; i++) {
        curl_easy_cleanup(ob->easy_pool[i]);
    }
    free(ob->easy_pool);
    for (size_t i = 0; i < ob->n_unsent; i++) {
        wb_call_result_free(ob->unsent[i]->call);
        free(ob->unsent[i]);
    }
    free(ob->unsent);
    wb_queue_free(ob->intake, free_job);
    wb_queue_free(ob->pool_q, free_job);
    wb_queue_free(ob->pool_done, free_pool_done);
    free(ob->senders);
    if (ob->multi != NULL) {
        (void)curl_multi_cleanup(ob->multi);
    }
    if (ob->epoll_fd >= 0) {
        (void)close(ob->epoll_fd);
    }
    if (ob->wake_fd >= 0) {
        (void)close(ob->wake_fd);
    }
    free(ob);
}
