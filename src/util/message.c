/*
 * message.c - heap-owned messages crossing threads.
 *
 * DESIGN: wb_message_new() measures every string of the inbound value and
 * copies them into one allocation after the struct, so a message is freed
 * with one free() and no field can outlive it.
 *
 * Thread: any.
 */
#include <stdlib.h>
#include <string.h>

#include <warbler/message.h>

static const char *const author_names[] = { "contact", "bot", "agent", "system" };
static const char *const direction_names[] = { "in", "out", "note" };

const char *wb_author_str(enum wb_author a)
{
    return (size_t)a < WB_ARRAY_LEN(author_names) ? author_names[a] : "unknown";
}

const char *wb_direction_str(enum wb_direction d)
{
    return (size_t)d < WB_ARRAY_LEN(direction_names) ? direction_names[d] : "unknown";
}

struct packer {
    char *p;
    size_t need;
};

static size_t slen(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static char *pack_str(struct packer *k, const char *s)
{
    if (s == NULL) {
        return NULL;
    }
    size_t n = strlen(s) + 1;
    char *d = k->p;
    memcpy(d, s, n);
    k->p += n;
    return d;
}

static const void *pack_mem(struct packer *k, const void *s, size_t n)
{
    if (s == NULL) {
        return NULL;
    }
    void *d = k->p;
    if (n > 0) {
        memcpy(d, s, n);
    }
    k->p += n;
    return d;
}

static size_t measure(const char *channel_id, const struct wb_inbound *in)
{
    size_t n = sizeof(struct wb_message) + 16;
    n += slen(channel_id) + slen(in->external_id) + slen(in->sender_id) + slen(in->sender_name);
    n += slen(in->sender_email) + slen(in->text) + slen(in->full_text) + slen(in->subject);
    n += slen(in->topic) + in->raw_len;
    n += in->n_thread_refs * sizeof(char *) + 16;
    for (size_t i = 0; i < in->n_thread_refs; i++) {
        n += slen(in->thread_refs[i]);
    }
    n += in->n_attachments * sizeof(struct wb_attachment) + 16;
    for (size_t i = 0; i < in->n_attachments; i++) {
        const struct wb_attachment *at = &in->attachments[i];
        n += slen(at->filename) + slen(at->content_type) + slen(at->path);
        n += at->data ? at->size : 0;
    }
    return n;
}

struct wb_message *wb_message_new(const char *channel_id, const struct wb_inbound *in)
{
    size_t total = measure(channel_id, in);
    struct wb_message *m = wb_calloc(1, total);
    /* pointer arrays first (aligned), then bytes */
    char *base = (char *)(m + 1);
    const char **refs = NULL;
    struct wb_attachment *atts = NULL;
    uintptr_t al = ((uintptr_t)base + 15) & ~(uintptr_t)15;
    base = (char *)al;
    if (in->n_attachments > 0) {
        atts = (struct wb_attachment *)(void *)base;
        base += in->n_attachments * sizeof(*atts);
    }
    if (in->n_thread_refs > 0) {
        refs = (const char **)(void *)base;
        base += in->n_thread_refs * sizeof(char *);
    }
    struct packer k = { base, 0 };

    m->channel_id = pack_str(&k, channel_id);
    m->in = *in;
    m->in.external_id = pack_str(&k, in->external_id);
    m->in.sender_id = pack_str(&k, in->sender_id);
    m->in.sender_name = pack_str(&k, in->sender_name);
    m->in.sender_email = pack_str(&k, in->sender_email);
    m->in.text = pack_str(&k, in->text);
    m->in.full_text = pack_str(&k, in->full_text);
    m->in.subject = pack_str(&k, in->subject);
    m->in.topic = pack_str(&k, in->topic);
    m->in.raw = pack_mem(&k, in->raw, in->raw_len);
    for (size_t i = 0; i < in->n_thread_refs; i++) {
        refs[i] = pack_str(&k, in->thread_refs[i]);
    }
    m->in.thread_refs = refs;
    for (size_t i = 0; i < in->n_attachments; i++) {
        const struct wb_attachment *src = &in->attachments[i];
        atts[i] = *src;
        atts[i].filename = pack_str(&k, src->filename);
        atts[i].content_type = pack_str(&k, src->content_type);
        atts[i].path = pack_str(&k, src->path);
        atts[i].data = pack_mem(&k, src->data, src->data ? src->size : 0);
    }
    m->in.attachments = atts;
    wb_assert((size_t)(k.p - (char *)m) <= total);
    m->received_ms = wb_now_ms();
    m->received_mono_ms = wb_mono_ms();
    return m;
}

void wb_message_free(struct wb_message *m)
{
    free(m);
}
