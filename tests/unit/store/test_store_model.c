/*
 * test_store_model.c - identities, conversations, messages: identity
 * reuse, dedupe, sequence numbers, conversation matching, listing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "store_fixture.h"

static struct store_fx *fx_of(void **state)
{
    return *state;
}

/* ---- identities ---- */

static void test_identity_resolve_reuses(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };

    /* rows of one group must get the same identity and contact; other groups never do */
    static const struct {
        const char *label;
        const char *channel;
        const char *ext;
        const char *name;
        const char *email;
        char group;
    } rows[] = {
        { "first", "email", "ann@example.com", "Ann", "ann@example.com", 'a' },
        { "again", "email", "ann@example.com", NULL, NULL, 'a' },
        { "renamed", "email", "ann@example.com", "Ann B.", NULL, 'a' },
        { "same ext other channel", "chat", "ann@example.com", "Ann", NULL, 'b' },
        { "same name and email never merge", "telegram", "42", "Ann", "ann@example.com", 'c' },
        { "telegram again", "telegram", "42", NULL, NULL, 'c' },
        { "other person", "email", "bob@example.com", "Bob", NULL, 'd' },
    };

    int64_t contact[WB_ARRAY_LEN(rows)], ident[WB_ARRAY_LEN(rows)];
    for (size_t i = 0; i < WB_ARRAY_LEN(rows); i++) {
        enum wb_status rc = wb_store_identity_resolve(
            fx->st, rows[i].channel, rows[i].ext, rows[i].name, rows[i].email, (int64_t)(100 + i),
            &contact[i], &ident[i], &err);
        if (rc != WB_OK) {
            fail_msg("%s: %s", rows[i].label, err.msg);
        }
        assert_true(contact[i] > 0 && ident[i] > 0);
        for (size_t j = 0; j < i; j++) {
            bool want_same = rows[i].group == rows[j].group;
            if (want_same != (ident[i] == ident[j]) || want_same != (contact[i] == contact[j])) {
                fail_msg("%s vs %s: ids %lld/%lld contacts %lld/%lld", rows[i].label, rows[j].label,
                         (long long)ident[i], (long long)ident[j], (long long)contact[i],
                         (long long)contact[j]);
            }
        }
    }
    struct wb_store_stats s;
    assert_int_equal(wb_store_stats_get(fx->st, &s, &err), WB_OK);
    assert_int_equal(s.contacts, 4);
    assert_int_equal(
        wb_store_identity_resolve(fx->st, NULL, "x", NULL, NULL, 1, &contact[0], &ident[0], &err),
        WB_ERR_INVAL);
}

/* ---- messages ---- */

static void test_sequence_numbers(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    struct wb_conversation c;
    int64_t contact = 0, ident = 0, conv_a = 0, conv_b = 0, id = 0, seq = 0;
    store_fx_contact_conv(fx->st, "chat", "v1", &contact, &ident, &conv_a);
    store_fx_contact_conv(fx->st, "chat", "v2", &contact, &ident, &conv_b);
    int64_t want_a = 0, want_b = 0;
    for (int i = 0; i < 10; i++) {
        bool to_a = i % 3 != 0;
        /* outbound messages have no external id yet: NULLs never collide */
        assert_int_equal(store_fx_append(fx->st, to_a ? conv_a : conv_b, WB_DIR_OUT, "chat", NULL,
                                         "t", 2000 + i, &id, &seq),
                         WB_OK);
        assert_int_equal(seq, to_a ? ++want_a : ++want_b);
    }
    assert_int_equal(wb_store_conversation_get(fx->st, conv_a, &c, &err), WB_OK);
    assert_int_equal(c.last_seq, want_a);
    assert_int_equal(c.updated_ms, 2008); /* i = 8 was the last message to a */
    wb_conversation_free(&c);
    /* an older message does not move updated_ms back */
    assert_int_equal(
        store_fx_append(fx->st, conv_a, WB_DIR_IN, "chat", "late", "t", 1500, &id, &seq), WB_OK);
    assert_int_equal(seq, want_a + 1);
    assert_int_equal(wb_store_conversation_get(fx->st, conv_a, &c, &err), WB_OK);
    assert_int_equal(c.updated_ms, 2008);
    assert_int_equal(c.last_seq, want_a + 1);
    wb_conversation_free(&c);
    /* unknown conversation */
    assert_int_equal(store_fx_append(fx->st, 9999, WB_DIR_IN, "chat", "x", "t", 1, &id, &seq),
                     WB_ERR_NOTFOUND);
}

static void test_dedupe(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    struct wb_msg_ref ref;
    struct wb_store_stats s;
    int64_t contact = 0, ident = 0, conv = 0, conv2 = 0, id = 0, seq = 0, first = 0;
    store_fx_contact_conv(fx->st, "tg", "u1", &contact, &ident, &conv);
    store_fx_contact_conv(fx->st, "tg", "u2", &contact, &ident, &conv2);

    static const struct {
        const char *label;
        const char *channel;
        const char *ext;
        int conv; /* 0: conv, 1: conv2 */
        enum wb_status want;
    } rows[] = {
        { "first", "tg", "100", 0, WB_OK },
        { "redelivered", "tg", "100", 0, WB_ERR_DUPLICATE },
        { "redelivered into another conversation", "tg", "100", 1, WB_ERR_DUPLICATE },
        { "same id on another channel", "wa", "100", 0, WB_OK },
        { "next", "tg", "101", 0, WB_OK },
    };

    for (size_t i = 0; i < WB_ARRAY_LEN(rows); i++) {
        enum wb_status got = store_fx_append(fx->st, rows[i].conv ? conv2 : conv, WB_DIR_IN,
                                             rows[i].channel, rows[i].ext, "hi", 10, &id, &seq);
        if (got != rows[i].want) {
            fail_msg("%s: got %s want %s", rows[i].label, wb_status_str(got),
                     wb_status_str(rows[i].want));
        }
        if (i == 0) {
            first = id;
        }
    }
    assert_int_equal(seq, 3); /* duplicates used no sequence number */
    assert_int_equal(wb_store_message_find(fx->st, "tg", "100", &ref, &err), WB_OK);
    assert_int_equal(ref.message_id, first);
    assert_int_equal(ref.conversation_id, conv);
    assert_int_equal(wb_store_message_find(fx->st, "tg", "999", &ref, &err), WB_ERR_NOTFOUND);
    assert_int_equal(err.code, WB_ERR_NOTFOUND);
    assert_int_equal(wb_store_stats_get(fx->st, &s, &err), WB_OK);
    assert_int_equal(s.messages, 3);
    assert_int_equal(s.messages_in, 3);
    assert_int_equal(s.messages_out, 0);
}

static void test_messages_list(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    struct wb_stored_message *v = NULL;
    size_t n = 0;
    int64_t contact = 0, ident = 0, conv = 0, id = 0, seq = 0;
    static const uint8_t raw[] = { 0, 1, 2, 0xff };
    store_fx_contact_conv(fx->st, "chat", "v1", &contact, &ident, &conv);
    const char *texts[] = { "one", "two", "three", "four", "五" };
    for (size_t i = 0; i < WB_ARRAY_LEN(texts); i++) {
        struct wb_store_message m = {
            .conversation_id = conv,
            .direction = i % 2 ? WB_DIR_OUT : WB_DIR_IN,
            .author = i % 2 ? WB_AUTHOR_BOT : WB_AUTHOR_CONTACT,
            .channel_id = "chat",
            .external_id = i % 2 ? NULL : texts[i],
            .identity_id = ident,
            .text = texts[i],
            .subject = "s",
            .raw = raw,
            .raw_len = sizeof(raw),
            .delivery = i % 2 ? WB_DELIVERY_PENDING : WB_DELIVERY_NONE,
            .created_ms = (int64_t)(100 + i),
        };
        assert_int_equal(wb_store_message_append(fx->st, &m, &id, &seq, &err), WB_OK);
    }
    assert_int_equal(wb_store_messages_list(fx->st, conv, 1, 2, &v, &n, &err), WB_OK);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].seq, 2);
    assert_string_equal(v[0].text, "two");
    assert_null(v[0].external_id);
    assert_int_equal(v[0].direction, WB_DIR_OUT);
    assert_int_equal(v[0].author, WB_AUTHOR_BOT);
    assert_int_equal(v[0].delivery, WB_DELIVERY_PENDING);
    assert_int_equal(v[1].seq, 3);
    assert_string_equal(v[1].external_id, "three");
    assert_string_equal(v[1].channel_id, "chat");
    assert_int_equal(v[1].created_ms, 102);
    wb_stored_messages_free(v, n);

    assert_int_equal(wb_store_messages_list(fx->st, conv, 0, 100, &v, &n, &err), WB_OK);
    assert_int_equal(n, 5);
    assert_string_equal(v[4].text, "五");
    wb_stored_messages_free(v, n);
    assert_int_equal(wb_store_messages_list(fx->st, conv, 5, 100, &v, &n, &err), WB_OK);
    assert_int_equal(n, 0);
    wb_stored_messages_free(v, n);
    assert_int_equal(wb_store_messages_list(fx->st, conv, 0, 0, &v, &n, &err), WB_OK);
    assert_int_equal(n, 0);
    wb_stored_messages_free(v, n);
}

/* ---- conversations ---- */

enum {
    A1,
    A2,
    A3,
    A4,
    B1,
    N_CONV
};

struct match_world {
    int64_t contact_a, contact_b, contact_c;
    int64_t conv[N_CONV];
};

static int64_t make_conv(struct wb_store *st, int64_t contact, const char *channel,
                         const char *topic, const char *ext, int64_t t)
{
    struct wb_err err = { 0 };
    struct wb_conversation c;
    int64_t id = 0;
    assert_int_equal(wb_store_conversation_create(st, contact, channel, topic, topic, t, &c, &err),
                     WB_OK);
    assert_int_equal(c.owner, WB_OWNER_BOT);
    assert_int_equal(c.created_ms, t);
    int64_t conv = c.id;
    wb_conversation_free(&c);
    assert_int_equal(store_fx_append(st, conv, WB_DIR_IN, channel, ext, "hi", t, &id, NULL), WB_OK);
    return conv;
}

static void build_world(struct wb_store *st, struct match_world *w)
{
    struct wb_err err = { 0 };
    int64_t ident = 0;
    assert_int_equal(
        wb_store_identity_resolve(st, "email", "a@x", NULL, NULL, 1, &w->contact_a, &ident, &err),
        WB_OK);
    assert_int_equal(
        wb_store_identity_resolve(st, "email", "b@x", NULL, NULL, 1, &w->contact_b, &ident, &err),
        WB_OK);
    assert_int_equal(
        wb_store_identity_resolve(st, "email", "c@x", NULL, NULL, 1, &w->contact_c, &ident, &err),
        WB_OK);
    w->conv[A1] = make_conv(st, w->contact_a, "email", "order", "<a1@x>", 1000);
    w->conv[A2] = make_conv(st, w->contact_a, "email", "refund", "<a2@x>", 2000);
    w->conv[A3] = make_conv(st, w->contact_a, "email", "old", "<a3@x>", 3000);
    assert_int_equal(
        wb_store_conversation_set_owner(st, w->conv[A3], WB_OWNER_RESOLVED, 3000, &err), WB_OK);
    w->conv[A4] = make_conv(st, w->contact_a, "chat", NULL, "c1", 2500);
    w->conv[B1] = make_conv(st, w->contact_b, "email", "order", "<b1@x>", 4000);
}

static void test_conversation_match(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    struct match_world w;
    build_world(fx->st, &w);
    static const char *const r_a1[] = { "<a1@x>" };
    static const char *const r_mixed[] = { "<unknown>", "<a2@x>", "<a1@x>" };
    static const char *const r_a3[] = { "<a3@x>" };
    static const char *const r_b1[] = { "<b1@x>" };

    static const struct {
        const char *label;
        const char *channel;
        const char *const *refs;
        size_t n_refs;
        const char *topic;
        int64_t window;
        int want;     /* index into w.conv, or -1 for WB_ERR_NOTFOUND */
        char contact; /* 'a', 'b' or 'c' */
    } rows[] = {
        { "by ref", "email", r_a1, 1, "zzz", 100, A1, 'a' },
        { "first known ref wins", "email", r_mixed, 3, NULL, 0, A2, 'a' },
        { "ref to a resolved conversation", "email", r_a3, 1, NULL, 0, A3, 'a' },
        { "other contact's ref, then newest open", "email", r_b1, 1, NULL, 0, A2, 'a' },
        { "other contact's ref, topic miss", "email", r_b1, 1, "zzz", 100000, -1, 'a' },
        { "ref on another channel ignored", "chat", r_a1, 1, NULL, 0, A4, 'a' },
        { "topic in window", "email", NULL, 0, "order", 100000, A1, 'a' },
        { "topic outside window", "email", NULL, 0, "order", 5000, -1, 'a' },
        { "topic of a resolved conversation", "email", NULL, 0, "old", 100000, -1, 'a' },
        { "topic of other contact", "email", NULL, 0, "order", 100000, -1, 'c' },
        { "newest open", "email", NULL, 0, NULL, 0, A2, 'a' },
        { "window 0: topic not used", "email", NULL, 0, "order", 0, A2, 'a' },
        { "other contact's newest open", "email", NULL, 0, NULL, 0, B1, 'b' },
        { "contact without conversations", "email", NULL, 0, NULL, 0, -1, 'c' },
        { "channel without conversations", "telegram", NULL, 0, NULL, 0, -1, 'a' },
    };

    for (size_t i = 0; i < WB_ARRAY_LEN(rows); i++) {
        struct wb_conversation c;
        int64_t contact = rows[i].contact == 'a'   ? w.contact_a
                          : rows[i].contact == 'b' ? w.contact_b
                                                   : w.contact_c;
        enum wb_status rc = wb_store_conversation_match(fx->st, contact, rows[i].channel,
                                                        rows[i].refs, rows[i].n_refs, rows[i].topic,
                                                        rows[i].window, 10000, &c, &err);
        if (rows[i].want < 0) {
            if (rc != WB_ERR_NOTFOUND) {
                fail_msg("%s: got %s (conversation %lld), want not found", rows[i].label,
                         wb_status_str(rc), (long long)c.id);
            }
            continue;
        }
        if (rc != WB_OK || c.id != w.conv[rows[i].want]) {
            fail_msg("%s: got %s conversation %lld, want %lld", rows[i].label, wb_status_str(rc),
                     (long long)(rc == WB_OK ? c.id : 0), (long long)w.conv[rows[i].want]);
        }
        assert_int_equal(c.contact_id, contact);
        assert_string_equal(c.channel_id, rows[i].channel);
        wb_conversation_free(&c);
    }
}

static void test_conversation_get_and_owner(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    struct wb_conversation c;
    int64_t contact = 0, ident = 0;
    assert_int_equal(
        wb_store_identity_resolve(fx->st, "email", "a@x", NULL, NULL, 1, &contact, &ident, &err),
        WB_OK);
    assert_int_equal(wb_store_conversation_create(fx->st, contact, "email", "Re: Order 5",
                                                  "order 5", 100, &c, &err),
                     WB_OK);
    int64_t id = c.id;
    wb_conversation_free(&c);

    static const enum wb_owner owners[] = { WB_OWNER_QUEUED, WB_OWNER_AGENT, WB_OWNER_RESOLVED,
                                            WB_OWNER_BOT };

    for (size_t i = 0; i < WB_ARRAY_LEN(owners); i++) {
        assert_int_equal(
            wb_store_conversation_set_owner(fx->st, id, owners[i], (int64_t)(200 + i), &err),
            WB_OK);
        assert_int_equal(wb_store_conversation_get(fx->st, id, &c, &err), WB_OK);
        assert_int_equal(c.owner, owners[i]);
        assert_int_equal(c.updated_ms, 200 + (int64_t)i);
        assert_string_equal(c.subject, "Re: Order 5");
        assert_string_equal(c.topic, "order 5");
        assert_int_equal(c.created_ms, 100);
        wb_conversation_free(&c);
    }
    assert_int_equal(wb_store_conversation_set_owner(fx->st, 9999, WB_OWNER_AGENT, 1, &err),
                     WB_ERR_NOTFOUND);
    assert_int_equal(wb_store_conversation_set_owner(fx->st, id, (enum wb_owner)9, 1, &err),
                     WB_ERR_INVAL);
    assert_int_equal(wb_store_conversation_get(fx->st, 9999, &c, &err), WB_ERR_NOTFOUND);
    assert_string_equal(wb_owner_str(WB_OWNER_QUEUED), "queued");
    assert_string_equal(wb_owner_str((enum wb_owner)42), "unknown");
}

#define T(f) cmocka_unit_test_setup_teardown(f, store_fx_setup, store_fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_identity_resolve_reuses),
        T(test_sequence_numbers),
        T(test_dedupe),
        T(test_messages_list),
        T(test_conversation_match),
        T(test_conversation_get_and_owner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
