/*
 * channels.c - channel instances, reference-counted sets and health.
 *
 * Thread: see channels.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <warbler/log.h>

#include "channels.h"

#define MAX_STATS 256

static pthread_mutex_t current_mu = PTHREAD_MUTEX_INITIALIZER;
static struct wb_chanset *current;

static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;
static struct wb_channel_stats *stats[MAX_STATS];
static size_t n_stats;

struct wb_channel_stats *wb_channel_stats_get(const char *id)
{
    struct wb_channel_stats *s = NULL;
    (void)pthread_mutex_lock(&stats_mu);
    for (size_t i = 0; i < n_stats; i++) {
        if (strcmp(stats[i]->id, id) == 0) {
            s = stats[i];
            break;
        }
    }
    if (s == NULL && n_stats < MAX_STATS) {
        s = wb_calloc(1, sizeof(*s));
        (void)snprintf(s->id, sizeof(s->id), "%s", id);
        (void)pthread_mutex_init(&s->mu, NULL);
        s->state = WB_CHANNEL_UP;
        s->state_since_ms = wb_now_ms();
        stats[n_stats++] = s;
    }
    (void)pthread_mutex_unlock(&stats_mu);
    if (s == NULL) {
        wb_panic("channels: more than %d channel ids", MAX_STATS);
    }
    return s;
}

void wb_channel_set_state(struct wb_channel_stats *s, enum wb_channel_state state,
                          const char *reason)
{
    enum wb_channel_state old;
    (void)pthread_mutex_lock(&s->mu);
    old = s->state;
    if (old != state) {
        s->state_since_ms = wb_now_ms();
    }
    s->state = state;
    (void)snprintf(s->last_error, sizeof(s->last_error), "%s", reason ? reason : "");
    (void)pthread_mutex_unlock(&s->mu);
    if (old != state) {
        wb_log(state == WB_CHANNEL_UP ? WB_LOG_NOTICE : WB_LOG_WARN, "channel[%s]: %s -> %s%s%s",
               s->id, wb_channel_state_str(old), wb_channel_state_str(state), reason ? ": " : "",
               reason ? reason : "");
    }
}

void wb_channel_get_state(struct wb_channel_stats *s, enum wb_channel_state *state_out,
                          char *reason_out, size_t reason_sz, int64_t *since_out)
{
    (void)pthread_mutex_lock(&s->mu);
    *state_out = s->state;
    (void)snprintf(reason_out, reason_sz, "%s", s->last_error);
    *since_out = s->state_since_ms;
    (void)pthread_mutex_unlock(&s->mu);
}

static void chanset_destroy(struct wb_chanset *cs)
{
    for (size_t i = 0; i < cs->n; i++) {
        struct wb_channel *c = &cs->v[i];
        if (c->ops != NULL && c->inst != NULL) {
            if (c->ops->stop != NULL) {
                c->ops->stop(c->inst);
            }
            c->ops->destroy(c->inst);
        }
        free(c->id);
    }
    free(cs->v);
    free(cs);
}

enum wb_status wb_chanset_new(const struct wb_config *cfg, const struct wb_host *host,
                              struct wb_chanset **out, struct wb_err *err)
{
    struct wb_chanset *cs = wb_calloc(1, sizeof(*cs));
    atomic_init(&cs->refs, 1);
    cs->v = wb_calloc(cfg->n_channels, sizeof(*cs->v));
    for (size_t i = 0; i < cfg->n_channels; i++) {
        const struct wb_conf_channel *cc = &cfg->channels[i];
        struct wb_channel *c = &cs->v[i];
        struct wb_err e;
        c->id = wb_strdup(cc->id);
        c->stats = wb_channel_stats_get(cc->id);
        if (cc->ops->create(host, cc->id, cc->conf, &c->inst, &e) != WB_OK) {
            cs->n = i + 1;
            chanset_destroy(cs);
            return wb_err_set(err, WB_ERR_INVAL, "%s:%d: channel %s: %s", cfg->file, cc->line,
                              cc->id, e.msg);
        }
        c->ops = cc->ops;
    }
    cs->n = cfg->n_channels;
    *out = cs;
    return WB_OK;
}

enum wb_status wb_chanset_start(struct wb_chanset *cs, struct wb_err *err)
{
    for (size_t i = 0; i < cs->n; i++) {
        struct wb_channel *c = &cs->v[i];
        struct wb_err e;
        if (c->ops->start != NULL && c->ops->start(c->inst, &e) != WB_OK) {
            return wb_err_set(err, e.code, "channel %s: %s", c->id, e.msg);
        }
    }
    return WB_OK;
}

void wb_chanset_stop(struct wb_chanset *cs)
{
    for (size_t i = 0; i < cs->n; i++) {
        struct wb_channel *c = &cs->v[i];
        if (c->ops->stop != NULL) {
            c->ops->stop(c->inst);
        }
    }
}

struct wb_chanset *wb_chanset_acquire(void)
{
    struct wb_chanset *cs;
    (void)pthread_mutex_lock(&current_mu);
    cs = current;
    if (cs != NULL) {
        atomic_fetch_add(&cs->refs, 1);
    }
    (void)pthread_mutex_unlock(&current_mu);
    return cs;
}

void wb_chanset_release(struct wb_chanset *cs)
{
    if (cs != NULL && atomic_fetch_sub(&cs->refs, 1) == 1) {
        chanset_destroy(cs);
    }
}

void wb_chanset_install(struct wb_chanset *cs)
{
    struct wb_chanset *old;
    (void)pthread_mutex_lock(&current_mu);
    old = current;
    current = cs;
    (void)pthread_mutex_unlock(&current_mu);
    wb_chanset_release(old);
}

const struct wb_channel *wb_chanset_find(const struct wb_chanset *cs, const char *id)
{
    for (size_t i = 0; cs != NULL && i < cs->n; i++) {
        if (strcmp(cs->v[i].id, id) == 0) {
            return &cs->v[i];
        }
    }
    return NULL;
}

void wb_channel_caps_get(const struct wb_channel *ch, struct wb_channel_caps *out)
{
    *out = ch->ops->caps;
    if (ch->ops->instance_caps != NULL) {
        ch->ops->instance_caps(ch->inst, out);
    }
}
