/*
 * core.c - the core thread: group-committed ingest pipeline.
 *
 * DESIGN: see core.h. The queue carries three kinds of items: inbound
 * messages, delivery reports from the http thread, and a new bot to swap
 * in. A batch is whatever arrived within batch_wait of the first item, up
 * to batch_max; it runs in one transaction, so one fsync covers many
 * messages. Each message runs inside a savepoint: a message the store
 * refuses is answered with an error while the rest of the batch commits.
 *
 * Thread: the core thread owns the store connection and the bot pointer.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <warbler/log.h>
#include <warbler/store.h>

#include "bot.h"
#include "channels.h"
#include "core.h"
#include "metrics.h"
#include "outbox.h"
#include "queue.h"

enum item_kind {
    ITEM_MSG = 0,
    ITEM_REPORT,
    ITEM_BOT,
    ITEM_STATE,
};

/* A per-channel state write from a connector. */
struct state_write {
    char *channel_id;
    char *key;
    char *value;
};

struct item {
    enum item_kind kind;

    union {
        struct wb_message *msg;
        struct wb_send_report *report;
        struct wb_bot *bot;
        struct state_write *state;
    } u;
};

struct result {
    enum wb_status st;
    int64_t conversation_id;
    int64_t message_id;
    bool duplicate;
};

struct wb_core {
    const struct wb_config *cfg;
    struct wb_host host;
    struct wb_store *store;
    struct wb_bot *bot;
    struct wb_queue *q;
    struct wb_outbox *outbox;
    pthread_t thread;
    bool started;
    atomic_bool kb_dirty;    /* the knowledge files changed; set by the core thread */
    int64_t kb_checked_mono; /* core thread: last wb_bot_kb_changed() poll */
    /* core-thread scratch, sized batch_max */
    struct item **batch;
    struct result *results;
    struct new_row *new_outbox; /* outbox rows the batch wrote */
    size_t n_new_outbox;
    struct wb_http_call **new_calls; /* LLM calls to make once the batch commits */
    size_t n_new_calls;
};

/* An outbox row written by the batch: built in memory, or read back after the commit. */
struct new_row {
    int64_t id;
    struct wb_outbox_item *item; /* NULL: read the row back */
};

/* A bot answer waiting for the LLM: the draft message and what sending it needs. */
struct llm_pending {
    int64_t message_id;
    int64_t conversation_id;
    int64_t identity_id;
    char *channel_id;
    char *recipient_id;
    size_t max_len;
    struct wb_bot_reply reply; /* the retrieved answer, the fallback */
};

static void llm_pending_free(void *p)
{
    struct llm_pending *lp = p;
    if (lp == NULL) {
        return;
    }
    free(lp->channel_id);
    free(lp->recipient_id);
    wb_bot_reply_free(&lp->reply);
    free(lp);
}

/* ---- host services ---- */

static enum wb_status host_submit_take(const struct wb_host *host, struct wb_message *m)
{
    return wb_core_submit_take(host->core, m);
}

static void host_set_state(const struct wb_host *host, const char *channel_id,
                           enum wb_channel_state state, const char *reason)
{
    (void)host;
    wb_channel_set_state(wb_channel_stats_get(channel_id), state, reason);
}

static void state_write_free(struct state_write *w)
{
    if (w != NULL) {
        free(w->channel_id);
        free(w->key);
        free(w->value);
        free(w);
    }
}

static void item_free(void *p)
{
    struct item *it = p;
    if (it == NULL) {
        return;
    }
    switch (it->kind) {
    case ITEM_MSG:
        if (it->u.msg->done != NULL) {
            it->u.msg->done(it->u.msg->done_ctx, it->u.msg, WB_ERR_BUSY, 0, 0, false);
        }
        wb_message_free(it->u.msg);
        break;
    case ITEM_REPORT:
        wb_call_result_free(it->u.report->call);
        free(it->u.report);
        break;
    case ITEM_BOT:
        wb_bot_free(it->u.bot);
        break;
    case ITEM_STATE:
        state_write_free(it->u.state);
        break;
    }
    free(it);
}

enum wb_status wb_core_submit_take(struct wb_core *core, struct wb_message *m)
{
    struct item *it = wb_calloc(1, sizeof(*it));
    it->kind = ITEM_MSG;
    it->u.msg = m;
    enum wb_status st = wb_queue_push(core->q, it);
    if (st != WB_OK) {
        atomic_fetch_add(&wb_metrics.core_busy, 1);
        item_free(it); /* calls m->done with WB_ERR_BUSY */
        return WB_ERR_BUSY;
    }
    return WB_OK;
}

static enum wb_status host_submit_wait_take(const struct wb_host *host, struct wb_message *m)
{
    struct wb_core *core = host->core;
    struct item *it = wb_calloc(1, sizeof(*it));
    it->kind = ITEM_MSG;
    it->u.msg = m;
    if (wb_queue_push_wait(core->q, it) != WB_OK) {
        if (m->done != NULL) {
            m->done(m->done_ctx, m, WB_ERR_IO, 0, 0, false);
        }
        wb_message_free(m);
        free(it);
        return WB_ERR_IO;
    }
    return WB_OK;
}

static enum wb_status host_state_get(const struct wb_host *host, const char *channel_id,
                                     const char *key, char **value_out, struct wb_err *err)
{
    const struct wb_core *core = host->core;
    struct wb_store_options so;
    struct wb_store *st = NULL;
    memset(&so, 0, sizeof(so));
    so.driver = "sqlite";
    so.path = core->cfg->store.path;
    so.read_only = true;
    so.busy_timeout_ms = core->cfg->store.busy_timeout_ms;
    enum wb_status rc = wb_store_open(&so, &st, err);
    if (rc == WB_OK) {
        rc = wb_store_channel_state_get(st, channel_id, key, value_out, err);
    }
    wb_store_close(st);
    return rc;
}

static void host_state_set(const struct wb_host *host, const char *channel_id, const char *key,
                           const char *value)
{
    struct wb_core *core = host->core;
    struct item *it = wb_calloc(1, sizeof(*it));
    struct state_write *w = wb_calloc(1, sizeof(*w));
    w->channel_id = wb_strdup(channel_id);
    w->key = wb_strdup(key);
    w->value = wb_strdup(value);
    it->kind = ITEM_STATE;
    it->u.state = w;
    if (wb_queue_push_wait(core->q, it) != WB_OK) {
        item_free(it); /* shutting down: the connector resumes from the older value */
    }
}

static enum wb_status report_to_core(void *ctx, struct wb_send_report *r)
{
    struct wb_core *core = ctx;
    struct item *it = wb_calloc(1, sizeof(*it));
    it->kind = ITEM_REPORT;
    it->u.report = r;
    if (wb_queue_push(core->q, it) != WB_OK) {
        free(it);
        return WB_ERR_BUSY;
    }
    return WB_OK;
}

void wb_core_swap_bot_take(struct wb_core *core, struct wb_bot *bot)
{
    struct item *it = wb_calloc(1, sizeof(*it));
    it->kind = ITEM_BOT;
    it->u.bot = bot;
    if (wb_queue_push_wait(core->q, it) != WB_OK) {
        item_free(it);
    }
}

size_t wb_core_queue_len(struct wb_core *core)
{
    return wb_queue_len(core->q);
}

/* ---- the pipeline ---- */

struct ctx {
    const struct wb_message *m;
    const struct wb_inbound *in;
    char *prev_text; /* the customer's previous message, for follow-ups */
    int64_t now;
    int64_t identity_id;
    struct wb_conversation conv;
    struct wb_channel_caps caps;
    size_t max_text;
};

/* Append the bot's message (pending delivery, or a draft for the LLM). */
static enum wb_status append_bot_message(struct wb_core *c, const struct ctx *x, const char *text,
                                         enum wb_delivery delivery, int64_t *mid_out,
                                         struct wb_err *err)
{
    struct wb_store_message sm;
    memset(&sm, 0, sizeof(sm));
    sm.conversation_id = x->conv.id;
    sm.direction = WB_DIR_OUT;
    sm.author = WB_AUTHOR_BOT;
    sm.channel_id = x->m->channel_id;
    sm.identity_id = x->identity_id;
    sm.text = text;
    sm.delivery = delivery;
    sm.created_ms = x->now;
    return wb_store_message_append(c->store, &sm, mid_out, NULL, err);
}

/* Forget the rows written after mark (their savepoint was rolled back). */
static void drop_new_rows(struct wb_core *c, size_t mark)
{
    while (c->n_new_outbox > mark) {
        struct wb_outbox_item *it = c->new_outbox[--c->n_new_outbox].item;
        if (it != NULL) {
            wb_outbox_item_free(it);
            free(it);
        }
    }
}

/* What a reply's outbox item is built from without reading the row back. */
struct reply_item {
    const char *text;
    const char *subject;
    bool thread_refs;
};

/*
 * Queue a written reply for delivery; on handoff the conversation waits for
 * a person. With ri the outbox item is built now; without it, it is read
 * back after the commit.
 */
static enum wb_status queue_reply(struct wb_core *c, int64_t conv_id, int64_t mid,
                                  const char *channel_id, const char *recipient_id,
                                  enum wb_bot_action action, const struct reply_item *ri,
                                  int64_t now, struct wb_err *err)
{
    struct wb_outbox_new on;
    struct new_row row = { 0, NULL };
    enum wb_status st;
    memset(&on, 0, sizeof(on));
    on.message_id = mid;
    on.conversation_id = conv_id;
    on.channel_id = channel_id;
    on.recipient_id = recipient_id;
    on.next_attempt_ms = now;
    on.now_ms = now;
    if (ri != NULL) {
        row.item = wb_calloc(1, sizeof(*row.item));
        st = wb_store_outbox_add_item(c->store, &on, ri->text, WB_AUTHOR_BOT, ri->subject,
                                      ri->thread_refs, row.item, err);
        row.id = row.item->id;
        if (st != WB_OK) {
            free(row.item);
            row.item = NULL;
        }
    } else {
        st = wb_store_outbox_add(c->store, &on, &row.id, err);
    }
    if (st == WB_OK) {
        c->new_outbox[c->n_new_outbox++] = row; /* before the owner step: dropped on failure */
    }
    if (st == WB_OK && action == WB_BOT_HANDOFF) {
        st = wb_store_conversation_set_owner(c->store, conv_id, WB_OWNER_QUEUED, now, err);
        if (st == WB_OK) {
            st = wb_store_event_append(c->store, "conversation.queued", conv_id, 0, now, NULL, err);
        }
    }
    return st;
}

/* Write a bot reply and its outbox row. */
static enum wb_status write_reply(struct wb_core *c, struct ctx *x, const struct wb_bot_reply *r,
                                  struct wb_err *err)
{
    int64_t mid;
    struct reply_item ri = { r->text, x->conv.subject, x->caps.thread_refs };
    enum wb_status st = append_bot_message(c, x, r->text, WB_DELIVERY_PENDING, &mid, err);
    if (st == WB_OK) {
        st = queue_reply(c, x->conv.id, mid, x->m->channel_id, x->in->sender_id, r->action, &ri,
                         x->now, err);
    }
    return st;
}

/*
 * The LLM writes this answer: store the retrieved answer as a draft (what
 * the customer gets if the call fails, or if we crash before it returns:
 * drafts are queued at start) and make the call after the commit.
 * Takes r on WB_OK.
 */
static enum wb_status write_draft(struct wb_core *c, struct ctx *x, struct wb_bot_reply *r,
                                  const struct wb_http_out *req, struct wb_err *err)
{
    int64_t mid;
    enum wb_status st = append_bot_message(c, x, r->text, WB_DELIVERY_DRAFT, &mid, err);
    if (st != WB_OK) {
        return st;
    }
    struct llm_pending *lp = wb_calloc(1, sizeof(*lp));
    lp->message_id = mid;
    lp->conversation_id = x->conv.id;
    lp->identity_id = x->identity_id;
    lp->channel_id = wb_strdup(x->m->channel_id);
    lp->recipient_id = wb_strdup(x->in->sender_id);
    lp->max_len = x->max_text;
    lp->reply = *r;
    memset(r, 0, sizeof(*r));
    c->new_calls[c->n_new_calls++] =
        wb_http_call_new(req, wb_bot_llm_timeout_ms(c->bot), lp, llm_pending_free);
    return WB_OK;
}

/* Ask the LLM when it is configured and the bot answers from the knowledge base. */
static bool try_llm(struct wb_core *c, struct ctx *x, const struct wb_bot_query *q,
                    struct wb_bot_reply *r, enum wb_status *st, struct wb_err *err)
{
    struct wb_arena a = WB_ARENA_INIT;
    struct wb_http_out req;
    struct wb_err lerr;
    bool used = false;

    if (r->action != WB_BOT_ANSWER || !wb_bot_llm_enabled(c->bot)) {
        return false;
    }
    memset(&req, 0, sizeof(req));
    if (wb_bot_llm_request(c->bot, q, &a, &req, &lerr) == WB_OK) {
        *st = write_draft(c, x, r, &req, err);
        used = true;
    }
    wb_arena_free(&a); /* holds the Authorization header */
    return used;
}

static enum wb_status run_bot(struct wb_core *c, struct ctx *x, struct wb_err *err)
{
    struct wb_bot_query q;
    struct wb_bot_reply r;
    enum wb_status st;

    memset(&q, 0, sizeof(q));
    memset(&r, 0, sizeof(r));
    q.text = x->in->text ? x->in->text : "";
    q.prev_text = x->prev_text;
    q.max_len = x->max_text;
    st = wb_bot_answer(c->bot, &q, &r, err);
    if (st != WB_OK) {
        /* a bot failure must not lose the message: hand off silently */
        wb_log(WB_LOG_WARN, "bot: conv=%lld: %s; queued for an agent", (long long)x->conv.id,
               err ? err->msg : wb_status_str(st));
        return wb_store_conversation_set_owner(c->store, x->conv.id, WB_OWNER_QUEUED, x->now, err);
    }
    if (r.action != WB_BOT_SILENT && r.text != NULL && r.text[0] != '\0' &&
        !try_llm(c, x, &q, &r, &st, err)) {
        st = write_reply(c, x, &r, err);
    }
    wb_bot_reply_free(&r);
    return st;
}

static enum wb_status find_conversation(struct wb_core *c, struct ctx *x, int64_t contact_id,
                                        struct wb_err *err)
{
    const struct wb_inbound *in = x->in;
    enum wb_status st = wb_store_conversation_match(c->store, contact_id, x->m->channel_id,
                                                    in->thread_refs, in->n_thread_refs, in->topic,
                                                    in->topic_window_ms, x->now, &x->conv, err);
    if (st == WB_ERR_NOTFOUND) {
        return wb_store_conversation_create(c->store, contact_id, x->m->channel_id, in->subject,
                                            in->topic, x->now, &x->conv, err);
    }
    if (st == WB_OK && x->conv.owner == WB_OWNER_RESOLVED) {
        /* the customer wrote again: the conversation reopens with the bot */
        st = wb_store_conversation_set_owner(c->store, x->conv.id, WB_OWNER_BOT, x->now, err);
        x->conv.owner = WB_OWNER_BOT;
    }
    return st;
}

static int write_file_synced(const char *path, const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        return -1;
    }
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, p + off, n - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            (void)close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        (void)close(fd);
        return -1;
    }
    return close(fd);
}

/*
 * Write each attachment's bytes to state_dir/attachments/<message>-<n> and
 * record it; the file is synced before the transaction that names it
 * commits, so an acknowledged attachment is never missing.
 */
static enum wb_status store_attachments(struct wb_core *c, const struct ctx *x, int64_t mid,
                                        struct wb_err *err)
{
    char dir[4096], path[4200], rel[128];
    (void)snprintf(dir, sizeof(dir), "%s/attachments", c->cfg->state_dir);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        return wb_err_set(err, WB_ERR_IO, "attachments: %s: %s", dir, strerror(errno));
    }
    for (size_t i = 0; i < x->in->n_attachments; i++) {
        const struct wb_attachment *a = &x->in->attachments[i];
        (void)snprintf(rel, sizeof(rel), "attachments/%lld-%zu", (long long)mid, i);
        (void)snprintf(path, sizeof(path), "%s/%s", c->cfg->state_dir, rel);
        if (a->data != NULL && write_file_synced(path, a->data, a->size) != 0) {
            return wb_err_set(err, WB_ERR_IO, "attachments: %s: %s", path, strerror(errno));
        }
        enum wb_status st =
            wb_store_attachment_add(c->store, mid, a->filename, a->content_type, (int64_t)a->size,
                                    a->data != NULL ? rel : a->path, a->is_inline, x->now, err);
        if (st != WB_OK) {
            return st;
        }
    }
    return WB_OK;
}

/* A channel may cap automatic replies per sender per hour (mail loops). */
static bool over_reply_cap(struct wb_core *c, const struct ctx *x)
{
    int64_t n = 0;
    if (x->caps.max_auto_replies_per_hour <= 0) {
        return false;
    }
    if (wb_store_bot_replies_since(c->store, x->identity_id, x->now - 3600 * 1000, &n, NULL) !=
        WB_OK) {
        return false;
    }
    if (n >= x->caps.max_auto_replies_per_hour) {
        wb_log(
            WB_LOG_NOTICE,
            "bot: conv=%lld: %lld automatic replies to this sender in the last hour; not answering",
            (long long)x->conv.id, (long long)n);
        return true;
    }
    return false;
}

static enum wb_status ingest(struct wb_core *c, struct ctx *x, struct result *res,
                             struct wb_err *err)
{
    const struct wb_inbound *in = x->in;
    struct wb_msg_ref ref;
    struct wb_store_message sm;
    int64_t contact_id;
    enum wb_status st;

    st = wb_store_message_find(c->store, x->m->channel_id, in->external_id, &ref, err);
    if (st == WB_OK) {
        res->conversation_id = ref.conversation_id;
        res->message_id = ref.message_id;
        res->duplicate = true;
        return WB_OK;
    }
    if (st != WB_ERR_NOTFOUND) {
        return st;
    }
    st = wb_store_identity_resolve(c->store, x->m->channel_id, in->sender_id, in->sender_name,
                                   in->sender_email, x->now, &contact_id, &x->identity_id, err);
    if (st == WB_OK) {
        st = find_conversation(c, x, contact_id, err);
    }
    bool answer = x->conv.owner == WB_OWNER_BOT && !in->no_auto_reply;
    if (st == WB_OK && answer) {
        /* read before this message is appended: it is then the newest */
        st = wb_store_last_contact_text(c->store, x->conv.id, &x->prev_text, err);
    }
    if (st != WB_OK) {
        return st;
    }
    memset(&sm, 0, sizeof(sm));
    sm.conversation_id = x->conv.id;
    sm.direction = WB_DIR_IN;
    sm.author = WB_AUTHOR_CONTACT;
    sm.channel_id = x->m->channel_id;
    sm.external_id = in->external_id;
    sm.identity_id = x->identity_id;
    sm.text = in->text ? in->text : "";
    sm.full_text = in->full_text;
    sm.subject = in->subject;
    sm.raw = in->raw;
    sm.raw_len = in->raw_len;
    sm.created_ms = x->now;
    st = wb_store_message_append(c->store, &sm, &res->message_id, NULL, err);
    if (st == WB_OK) {
        res->conversation_id = x->conv.id;
    }
    if (st == WB_OK && in->n_attachments > 0) {
        st = store_attachments(c, x, res->message_id, err);
    }
    if (st == WB_OK && answer && !over_reply_cap(c, x)) {
        st = run_bot(c, x, err);
    }
    return st;
}

static void process_message(struct wb_core *c, const struct wb_chanset *cs, struct wb_message *m,
                            struct result *res)
{
    const struct wb_channel *ch = wb_chanset_find(cs, m->channel_id);
    struct ctx x;
    struct wb_err err;
    size_t outbox_mark = c->n_new_outbox;
    size_t calls_mark = c->n_new_calls;

    memset(&x, 0, sizeof(x));
    memset(res, 0, sizeof(*res));
    wb_err_clear(&err);
    x.m = m;
    x.in = &m->in;
    x.now = wb_now_ms();
    if (ch != NULL) {
        wb_channel_caps_get(ch, &x.caps);
    }
    x.max_text = x.caps.max_text;
    res->st = wb_store_savepoint(c->store, &err);
    if (res->st == WB_OK) {
        res->st = ingest(c, &x, res, &err);
        if (res->st == WB_OK) {
            res->st = wb_store_release(c->store, &err);
        } else {
            wb_store_rollback_to(c->store);
            drop_new_rows(c, outbox_mark);
            while (c->n_new_calls > calls_mark) {
                wb_http_call_free(c->new_calls[--c->n_new_calls]);
            }
        }
    }
    wb_conversation_free(&x.conv);
    free(x.prev_text);
    if (res->st != WB_OK) {
        wb_log(WB_LOG_ERROR, "core: %s message %s not stored: %s", m->channel_id, m->in.external_id,
               err.msg[0] ? err.msg : wb_status_str(res->st));
    }
}

/* The LLM answered (or failed): finish the draft and queue it. */
static void process_call(struct wb_core *c, struct wb_call_result *res)
{
    struct llm_pending *lp = res->ctx;
    struct wb_http_resp resp;
    struct wb_err err;
    int64_t now = wb_now_ms();
    enum wb_status st;

    memset(&resp, 0, sizeof(resp));
    resp.transport = res->transport;
    resp.transport_error = res->error;
    resp.status = res->status;
    resp.body = res->body;
    resp.body_len = res->body_len;
    resp.now_ms = now;
    wb_err_clear(&err);
    if (wb_bot_llm_apply(c->bot, &resp, lp->max_len, &lp->reply, &err) != WB_OK) {
        wb_log(WB_LOG_WARN, "bot: conv=%lld: LLM not used, answering with the passage: %s",
               (long long)lp->conversation_id, err.msg);
    }
    st = wb_store_savepoint(c->store, &err);
    if (st == WB_OK) {
        st = wb_store_message_set_text(c->store, lp->message_id, lp->reply.text,
                                       WB_DELIVERY_PENDING, &err);
    }
    if (st == WB_OK) {
        st = queue_reply(c, lp->conversation_id, lp->message_id, lp->channel_id, lp->recipient_id,
                         lp->reply.action, NULL, now, &err);
    }
    if (st == WB_OK) {
        st = wb_store_release(c->store, &err);
    } else {
        wb_store_rollback_to(c->store);
        /* the draft stays in the store and is queued at the next start */
        wb_log(WB_LOG_ERROR, "core: draft %lld: %s", (long long)lp->message_id, err.msg);
    }
}

/* Record one delivery outcome in the store. */
static enum wb_status apply_report(struct wb_core *c, const struct wb_send_report *r, int64_t now,
                                   struct wb_err *err)
{
    enum wb_status st;
    switch (r->kind) {
    case WB_REPORT_SENT:
        return wb_store_outbox_sent(c->store, r->outbox_id,
                                    r->external_id[0] ? r->external_id : NULL, r->attempts, now,
                                    err);
    case WB_REPORT_RETRY:
        return wb_store_outbox_retry(c->store, r->outbox_id, r->attempts, r->next_attempt_ms,
                                     r->error, err);
    case WB_REPORT_DEAD:
    case WB_REPORT_CALL:
    default:
        st = wb_store_outbox_dead(c->store, r->outbox_id, r->attempts, r->error, now, err);
        if (st == WB_OK) {
            st = wb_store_event_append(c->store, "message.failed", r->conversation_id,
                                       r->message_id, now, NULL, err);
        }
        return st;
    }
}

/* Apply the delivery reports in batch[0..n) alone, each in its own savepoint. */
static void apply_reports_one_by_one(struct wb_core *c, size_t n, int64_t now)
{
    for (size_t i = 0; i < n; i++) {
        const struct item *it = c->batch[i];
        struct wb_err err;
        if (it->kind != ITEM_REPORT || it->u.report->kind == WB_REPORT_CALL) {
            continue;
        }
        wb_err_clear(&err);
        enum wb_status st = wb_store_savepoint(c->store, &err);
        if (st == WB_OK) {
            st = apply_report(c, it->u.report, now, &err);
            if (st == WB_OK) {
                st = wb_store_release(c->store, &err);
            } else {
                wb_store_rollback_to(c->store);
            }
        }
        if (st != WB_OK) {
            wb_log(WB_LOG_ERROR, "core: outbox item %lld: %s", (long long)it->u.report->outbox_id,
                   err.msg);
        }
    }
}

/*
 * The delivery reports of a batch run in one savepoint: inside it the
 * store adds no atomic section of its own per call (two statements each).
 * If one fails, the group is undone and each is applied alone, so a bad
 * report costs only itself. LLM answers follow, each in its own savepoint.
 */
static void process_reports(struct wb_core *c, size_t n)
{
    int64_t now = wb_now_ms();
    struct wb_err err;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct item *it = c->batch[i];
        if (it->kind == ITEM_REPORT && it->u.report->kind != WB_REPORT_CALL) {
            k++;
            if (it->u.report->kind != WB_REPORT_RETRY) {
                atomic_fetch_sub(&wb_metrics.outbox_depth, 1);
            }
        }
    }
    bool done = k == 0;
    if (!done && wb_store_savepoint(c->store, &err) == WB_OK) {
        enum wb_status st = WB_OK;
        for (size_t i = 0; i < n && st == WB_OK; i++) {
            const struct item *it = c->batch[i];
            if (it->kind == ITEM_REPORT && it->u.report->kind != WB_REPORT_CALL) {
                st = apply_report(c, it->u.report, now, &err);
            }
        }
        done = st == WB_OK && wb_store_release(c->store, &err) == WB_OK;
        if (!done) {
            wb_store_rollback_to(c->store);
        }
    }
    if (!done) {
        apply_reports_one_by_one(c, n, now);
    }
    for (size_t i = 0; i < n; i++) {
        const struct item *it = c->batch[i];
        if (it->kind == ITEM_REPORT && it->u.report->kind == WB_REPORT_CALL) {
            process_call(c, it->u.report->call);
        }
    }
}

static void process_state(struct wb_core *c, const struct state_write *w)
{
    struct wb_err err;
    if (wb_store_channel_state_set(c->store, w->channel_id, w->key, w->value, &err) != WB_OK) {
        wb_log(WB_LOG_ERROR, "core: channel %s state %s: %s", w->channel_id, w->key, err.msg);
    }
}

/* Hand the rows written by the committed batch to the http thread. */
static void dispatch_outbox(struct wb_core *c)
{
    for (size_t i = 0; i < c->n_new_outbox; i++) {
        struct wb_outbox_item *it = c->new_outbox[i].item;
        struct wb_err err;
        if (it == NULL) {
            it = wb_calloc(1, sizeof(*it));
            if (wb_store_outbox_get(c->store, c->new_outbox[i].id, it, &err) != WB_OK) {
                wb_log(WB_LOG_ERROR, "core: outbox item %lld: %s", (long long)c->new_outbox[i].id,
                       err.msg);
                free(it);
                continue;
            }
        }
        atomic_fetch_add(&wb_metrics.outbox_depth, 1);
        wb_outbox_submit_take(c->outbox, it);
    }
    c->n_new_outbox = 0;
    for (size_t i = 0; i < c->n_new_calls; i++) {
        wb_outbox_call_take(c->outbox, c->new_calls[i]);
    }
    c->n_new_calls = 0;
}

static void drop_calls(struct wb_core *c)
{
    while (c->n_new_calls > 0) {
        wb_http_call_free(c->new_calls[--c->n_new_calls]);
    }
}

static void complete(struct wb_core *c, size_t n, bool committed)
{
    int64_t now_mono = wb_mono_ms();
    for (size_t i = 0; i < n; i++) {
        struct item *it = c->batch[i];
        if (it->kind == ITEM_MSG) {
            struct wb_message *m = it->u.msg;
            struct result *r = &c->results[i];
            struct wb_channel_stats *s = wb_channel_stats_get(m->channel_id);
            if (!committed && r->st == WB_OK) {
                r->st = WB_ERR_STORAGE;
            }
            if (r->st == WB_OK) {
                atomic_fetch_add(r->duplicate ? &s->duplicates : &s->inbound, 1);
                wb_histogram_observe(&wb_metrics.ingest_seconds,
                                     (double)(now_mono - m->received_mono_ms) / 1e3);
            }
            if (m->done != NULL) {
                m->done(m->done_ctx, m, r->st, r->conversation_id, r->message_id, r->duplicate);
            }
            wb_message_free(m);
        } else if (it->kind == ITEM_REPORT) {
            wb_call_result_free(it->u.report->call);
            free(it->u.report);
        } else if (it->kind == ITEM_STATE) {
            state_write_free(it->u.state);
        }
        free(it);
    }
}

static void run_batch(struct wb_core *c, size_t n)
{
    struct wb_err err;
    size_t n_msgs = 0;
    bool committed = false;
    struct wb_chanset *cs = wb_chanset_acquire();

    /* bot swaps first, outside the transaction */
    for (size_t i = 0; i < n; i++) {
        if (c->batch[i]->kind == ITEM_BOT) {
            wb_bot_free(c->bot);
            c->bot = c->batch[i]->u.bot;
            c->batch[i]->u.bot = NULL;
            wb_log(WB_LOG_NOTICE, "bot: knowledge base swapped (%zu articles)",
                   wb_bot_article_count(c->bot));
        }
    }
    c->n_new_outbox = 0;
    c->n_new_calls = 0;
    if (wb_store_begin(c->store, &err) == WB_OK) {
        process_reports(c, n);
        for (size_t i = 0; i < n; i++) {
            if (c->batch[i]->kind == ITEM_MSG) {
                process_message(c, cs, c->batch[i]->u.msg, &c->results[i]);
                n_msgs++;
            } else if (c->batch[i]->kind == ITEM_STATE) {
                process_state(c, c->batch[i]->u.state);
            }
        }
        committed = wb_store_commit(c->store, &err) == WB_OK;
        if (!committed) {
            wb_store_rollback(c->store);
        }
    }
    wb_chanset_release(cs);
    if (!committed) {
        atomic_fetch_add(&wb_metrics.commit_failures, 1);
        wb_log(WB_LOG_ERROR, "core: batch of %zu not committed: %s", n, err.msg);
        drop_new_rows(c, 0);
        drop_calls(c);
    } else {
        atomic_fetch_add(&wb_metrics.batches, 1);
        if (n_msgs > 0) {
            wb_histogram_observe(&wb_metrics.batch_size, (double)n_msgs);
        }
        dispatch_outbox(c);
    }
    complete(c, n, committed);
}

#define KB_POLL_MS 2000

/*
 * Every KB_POLL_MS, ask the bot whether its knowledge files changed; the
 * control thread rebuilds it (off this thread) and swaps it in.
 */
static void poll_knowledge(struct wb_core *c)
{
    int64_t now = wb_mono_ms();
    if (now - c->kb_checked_mono < KB_POLL_MS || atomic_load(&c->kb_dirty)) {
        return;
    }
    c->kb_checked_mono = now;
    if (wb_bot_kb_changed(c->bot)) {
        wb_log(WB_LOG_NOTICE, "bot: knowledge files changed, rebuilding");
        atomic_store(&c->kb_dirty, true);
    }
}

bool wb_core_kb_dirty_take(struct wb_core *core)
{
    return atomic_exchange(&core->kb_dirty, false);
}

static void *core_main(void *arg)
{
    struct wb_core *c = arg;
    (void)pthread_setname_np(pthread_self(), "wb-core");
    size_t max = (size_t)c->cfg->core.batch_max;
    c->kb_checked_mono = wb_mono_ms();
    for (;;) {
        size_t n = wb_queue_pop_batch(c->q, (void **)c->batch, max, KB_POLL_MS,
                                      c->cfg->core.batch_wait_ms);
        if (n > 0) {
            run_batch(c, n);
        } else if (wb_queue_is_closed(c->q)) {
            break; /* closed and drained */
        }
        poll_knowledge(c);
    }
    return NULL;
}

/* ---- lifecycle ---- */

enum wb_status wb_core_new(const struct wb_config *cfg, struct wb_core **out, struct wb_err *err)
{
    struct wb_core *c = wb_calloc(1, sizeof(*c));
    struct wb_store_options so;
    enum wb_status st;

    c->cfg = cfg;
    c->host.core = c;
    c->host.submit_take = host_submit_take;
    c->host.submit_wait_take = host_submit_wait_take;
    c->host.set_state = host_set_state;
    c->host.state_get = host_state_get;
    c->host.state_set = host_state_set;
    c->host.state_dir = cfg->state_dir;
    memset(&so, 0, sizeof(so));
    so.driver = "sqlite";
    so.path = cfg->store.path;
    so.busy_timeout_ms = cfg->store.busy_timeout_ms;
    so.synchronous_full = cfg->store.synchronous_full;
    so.background_checkpoint = true;
    st = wb_store_open(&so, &c->store, err);
    if (st == WB_OK) {
        st = wb_bot_new(cfg->bot, &c->bot, err);
    }
    if (st == WB_OK) {
        st = wb_outbox_new(&cfg->outbox, report_to_core, c, &c->outbox, err);
    }
    if (st != WB_OK) {
        wb_core_free(c);
        return st;
    }
    c->q = wb_queue_new((size_t)cfg->core.queue_depth);
    c->batch = wb_calloc((size_t)cfg->core.batch_max, sizeof(*c->batch));
    c->results = wb_calloc((size_t)cfg->core.batch_max, sizeof(*c->results));
    /* at most one reply per message in a batch */
    c->new_outbox = wb_calloc((size_t)cfg->core.batch_max, sizeof(*c->new_outbox));
    c->new_calls = wb_calloc((size_t)cfg->core.batch_max, sizeof(*c->new_calls));
    *out = c;
    return WB_OK;
}

const struct wb_host *wb_core_host(struct wb_core *core)
{
    return &core->host;
}

/* Queue every pending row left by an earlier run. Thread: main, before the core thread. */
static enum wb_status load_pending(struct wb_core *c, struct wb_err *err)
{
    int64_t after = 0;
    size_t total = 0;
    for (;;) {
        struct wb_outbox_item *v = NULL;
        size_t n = 0;
        enum wb_status st = wb_store_outbox_pending(c->store, after, 256, &v, &n, err);
        if (st != WB_OK) {
            return st;
        }
        for (size_t i = 0; i < n; i++) {
            struct wb_outbox_item *it = wb_malloc(sizeof(*it));
            *it = v[i]; /* move: the array slot is not freed below */
            after = it->id;
            atomic_fetch_add(&wb_metrics.outbox_depth, 1);
            wb_outbox_submit_take(c->outbox, it);
        }
        free(v);
        total += n;
        if (n < 256) {
            break;
        }
    }
    if (total > 0) {
        wb_log(WB_LOG_NOTICE, "outbox: %zu pending deliveries resumed", total);
    }
    return WB_OK;
}

/*
 * Drafts left by a crash (the LLM call was lost with the process): send the
 * retrieved answer they hold. Thread: main, before the core thread.
 */
static enum wb_status recover_drafts(struct wb_core *c, struct wb_err *err)
{
    int64_t after = 0;
    size_t total = 0;
    enum wb_status st = WB_OK;
    /* each draft writes one outbox row; the scratch array holds batch_max */
    size_t chunk = (size_t)c->cfg->core.batch_max;
    for (;;) {
        struct wb_draft *v = NULL;
        size_t n = 0;
        st = wb_store_drafts_list(c->store, after, chunk, &v, &n, err);
        if (st == WB_OK && n > 0) {
            st = wb_store_begin(c->store, err);
            int64_t now = wb_now_ms();
            for (size_t i = 0; st == WB_OK && i < n; i++) {
                after = v[i].message_id;
                st = wb_store_message_set_text(c->store, v[i].message_id, NULL, WB_DELIVERY_PENDING,
                                               err);
                if (st == WB_OK) {
                    st = queue_reply(c, v[i].conversation_id, v[i].message_id, v[i].channel_id,
                                     v[i].recipient_id, WB_BOT_ANSWER, NULL, now, err);
                }
            }
            st = st == WB_OK ? wb_store_commit(c->store, err) : st;
            if (st != WB_OK) {
                wb_store_rollback(c->store);
            }
            drop_new_rows(c, 0); /* load_pending() queues them */
        }
        wb_drafts_free(v, n);
        total += n;
        if (st != WB_OK || n < chunk) {
            break;
        }
    }
    if (st == WB_OK && total > 0) {
        wb_log(WB_LOG_NOTICE, "bot: %zu draft answer(s) left by a crash queued as retrieved",
               total);
    }
    return st;
}

enum wb_status wb_core_start(struct wb_core *core, struct wb_err *err)
{
    enum wb_status st = recover_drafts(core, err);
    if (st == WB_OK) {
        st = wb_outbox_start(core->outbox, err);
    }
    if (st == WB_OK) {
        st = load_pending(core, err);
    }
    if (st != WB_OK) {
        return st;
    }
    if (pthread_create(&core->thread, NULL, core_main, core) != 0) {
        return wb_err_set(err, WB_ERR_INTERNAL, "core: cannot start the core thread");
    }
    core->started = true;
    return WB_OK;
}

void wb_core_stop(struct wb_core *core)
{
    if (core == NULL) {
        return;
    }
    if (core->q != NULL) {
        wb_queue_close(core->q);
    }
    if (core->started) {
        (void)pthread_join(core->thread, NULL);
        core->started = false;
    }
    wb_outbox_stop(core->outbox);
}

void wb_core_free(struct wb_core *core)
{
    if (core == NULL) {
        return;
    }
    wb_core_stop(core);
    wb_outbox_free(core->outbox);
    if (core->q != NULL) {
        wb_queue_free(core->q, item_free);
    }
    wb_bot_free(core->bot);
    wb_store_close(core->store);
    free(core->batch);
    free(core->results);
    free(core->new_outbox);
    free(core->new_calls);
    free(core);
}
