/*
 * fuzz_email_mime.c - libFuzzer harness for wb_email_parse_mime(), the
 * email channel's MIME-to-model parser.
 *
 * Each input is parsed twice: with the default limits, and with tight
 * ones (tiny attachment, text and depth limits, one own address) so the
 * skip and truncation paths are fuzzed too. The outputs are walked so that
 * every string and attachment byte is read (ASan sees any bad pointer),
 * and the text fields are checked to be valid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "email_charset.h"
#include "email_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t touch(const char *s)
{
    if (s == NULL) {
        return 0;
    }
    size_t n = strlen(s);
    if (!wb_email_utf8_valid(s, n)) {
        abort();
    }
    return n;
}

static size_t walk(const struct wb_email_parsed *m)
{
    size_t sum = touch(m->in.subject) + touch(m->in.topic) + touch(m->in.sender_name) +
                 touch(m->in.text) + touch(m->in.full_text) + touch(m->in.sender_id);
    sum += m->in.external_id != NULL ? strlen(m->in.external_id) : 0;
    for (size_t i = 0; i < m->in.n_thread_refs; i++) {
        sum += strlen(m->in.thread_refs[i]);
    }
    for (size_t i = 0; i < m->in.n_attachments; i++) {
        const struct wb_attachment *at = &m->in.attachments[i];
        sum += touch(at->filename) + strlen(at->content_type);
        for (size_t k = 0; k < at->size; k += 4096) {
            sum += at->data[k];
        }
        sum += at->size > 0 ? at->data[at->size - 1] : 0;
    }
    for (size_t i = 0; i < m->n_skipped; i++) {
        sum += touch(m->skipped[i].filename);
    }
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const own[] = { "support@warbler.example" };
    struct wb_email_limits lim;
    struct wb_arena a = WB_ARENA_INIT;
    struct wb_email_parsed m;
    volatile size_t sink = 0;

    wb_email_limits_default(&lim);
    enum wb_status st = wb_email_parse_mime(data, size, &lim, &a, &m, NULL);
    if (st != WB_OK && m.in.external_id == NULL) {
        abort(); /* every outcome keeps an id so the raw message can be stored */
    }
    sink += walk(&m);
    wb_arena_free(&a);

    lim.max_attachment = 64;
    lim.max_attachments = 2;
    lim.max_text = 100;
    lim.max_depth = 3;
    lim.max_parts = 8;
    lim.max_refs = 2;
    lim.max_headers = 30;
    lim.own_addresses = own;
    lim.n_own_addresses = 1;
    st = wb_email_parse_mime(data, size, &lim, &a, &m, NULL);
    if (st == WB_OK && (m.in.sender_id == NULL || m.in.text == NULL)) {
        abort(); /* WB_OK promises the required fields */
    }
    sink += walk(&m);
    wb_arena_free(&a);
    (void)sink;
    return 0;
}
