/*
 * test_store_outbox.c - outbox rows (keys, loading, sent/retry/dead,
 * counts), channel state, agents and events.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_fixture.h"

static struct store_fx *fx_of(void **state)
{
    return *state;
}

/* A conversation of Ann on email with an outbound reply waiting; returns the outbox id. */
struct scene {
    int64_t contact, ident, conv, reply, outbox;
};

static void build_scene(struct wb_store *st, struct scene *sc, int n_inbound)
{
    struct wb_err err = { 0 };
    struct wb_conversation c;
    char ext[32];
    assert_int_equal(wb_store_identity_resolve(st, "email", "ann@example.com", "Ann",
                                               "ann@example.com", 1, &sc->contact, &sc->ident,
                                               &err),
                     WB_OK);
    assert_int_equal(
        wb_store_conversation_create(st, sc->contact, "email", "Order 5", "order 5", 1, &c, &err),
        WB_OK);
    sc->conv = c.id;
    wb_conversation_free(&c);
    for (int i = 0; i < n_inbound; i++) {
        (void)snprintf(ext, sizeof(ext), "<m%d@x>", i);
        assert_int_equal(
            store_fx_append(st, sc->conv, WB_DIR_IN, "email", ext, "q", 10 + i, NULL, NULL), WB_OK);
    }
    /* a message that came on another channel into the same conversation */
    assert_int_equal(store_fx_append(st, sc->conv, WB_DIR_IN, "chat", "c1", "q", 500, NULL, NULL),
                     WB_OK);
    assert_int_equal(store_fx_append(st, sc->conv, WB_DIR_OUT, "email", NULL, "the answer", 600,
                                     &sc->reply, NULL),
                     WB_OK);
    struct wb_outbox_new o = {
        .message_id = sc->reply,
        .conversation_id = sc->conv,
        .channel_id = "email",
        .recipient_id = "ann@example.com",
        .next_attempt_ms = 600,
    };
    assert_int_equal(wb_store_outbox_add(st, &o, &sc->outbox, &err), WB_OK);
}

static int64_t add_row(struct wb_store *st, const struct scene *sc, const char *channel,
                       const char *recipient)
{
    struct wb_err err = { 0 };
    int64_t id = 0, msg = 0;
    assert_int_equal(
        store_fx_append(st, sc->conv, WB_DIR_OUT, channel, NULL, "more", 700, &msg, NULL), WB_OK);
    struct wb_outbox_new o = { .message_id = msg,
                               .conversation_id = sc->conv,
                               .channel_id = channel,
                               .recipient_id = recipient,
                               .next_attempt_ms = 700,
                               .now_ms = 650 };
    assert_int_equal(wb_store_outbox_add(st, &o, &id, &err), WB_OK);
    return id;
}

static void test_outbox_add_key(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    struct wb_outbox_item it;
    struct scene sc;
    char want[64];
    build_scene(fx->st, &sc, 1);
    int64_t second = add_row(fx->st, &sc, "telegram", "42");
    assert_true(second > sc.outbox);

    /* "wb-<12 hex digits of this database>-<channel>-<row id>" */
    assert_int_equal(wb_store_outbox_get(fx->st, sc.outbox, &it, &err), WB_OK);
    assert_int_equal(strlen(it.idempotency_key) > 16, 1);
    assert_memory_equal(it.idempotency_key, "wb-", 3);
    char inst[16] = { 0 };
    memcpy(inst, it.idempotency_key + 3, 12);
    assert_true(strspn(inst, "0123456789abcdef") == 12 && it.idempotency_key[15] == '-');
    (void)snprintf(want, sizeof(want), "wb-%s-email-%lld", inst, (long long)sc.outbox);
    assert_string_equal(it.idempotency_key, want);
    wb_outbox_item_free(&it);

    assert_int_equal(wb_store_outbox_get(fx->st, second, &it, &err), WB_OK);
    (void)snprintf(want, sizeof(want), "wb-%s-telegram-%lld", inst, (long long)second);
    assert_string_equal(it.idempotency_key, want);
    assert_null(it.recipient_name); /* no identity telegram/42 */
    wb_outbox_item_free(&it);

    /* the key survives a retry */
    assert_int_equal(wb_store_outbox_retry(fx->st, second, 1, 5000, "timeout", &err), WB_OK);
    assert_int_equal(wb_store_outbox_get(fx->st, second, &it, &err), WB_OK);
    assert_string_equal(it.idempotency_key, want);
    wb_outbox_item_free(&it);

    struct wb_outbox_new bad = {
        .message_id = 9999, .conversation_id = sc.conv, .channel_id = "email", .recipient_id = "x"
    };
    int64_t id = 0;
    assert_int_equal(wb_store_outbox_add(fx->st, &bad, &id, &err), WB_ERR_STORAGE);
    bad.channel_id = NULL;
    assert_int_equal(wb_store_outbox_add(fx->st, &bad, &id, &err), WB_ERR_INVAL);
    assert_int_equal(wb_store_outbox_get(fx->st, 9999, &it, &err), WB_ERR_NOTFOUND);
}

static void test_outbox_pending_loaded(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    struct wb_outbox_item *v = NULL;
    size_t n = 0;
    struct scene sc;
    build_scene(fx->st, &sc, 2);
    assert_int_equal(wb_store_outbox_pending(fx->st, 0, 10, &v, &n, &err), WB_OK);
    assert_int_equal(n, 1);
    struct wb_outbox_item *it = &v[0];
    assert_int_equal(it->id, sc.outbox);
    assert_int_equal(it->message_id, sc.reply);
    assert_int_equal(it->conversation_id, sc.conv);
    assert_string_equal(it->channel_id, "email");
    assert_string_equal(it->recipient_id, "ann@example.com");
    assert_string_equal(it->recipient_name, "Ann");
    assert_string_equal(it->recipient_email, "ann@example.com");
    assert_string_equal(it->text, "the answer");
    assert_int_equal(it->author, WB_AUTHOR_BOT);
    assert_string_equal(it->subject, "Order 5");
    assert_int_equal(it->attempts, 0);
    assert_int_equal(it->next_attempt_ms, 600);
    assert_null(it->last_error);
    /* the email thread, oldest first, without the chat message or the unsent reply */
    assert_int_equal(it->n_thread_refs, 2);
    assert_string_equal(it->thread_refs[0], "<m0@x>");
    assert_string_equal(it->thread_refs[1], "<m1@x>");
    wb_outbox_items_free(v, n);
}

static void test_outbox_thread_refs_capped(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    struct wb_outbox_item it;
    struct scene sc;
    build_scene(fx->st, &sc, 25);
    assert_int_equal(wb_store_outbox_get(fx->st, sc.outbox, &it, &err), WB_OK);
    assert_int_equal(it.n_thread_refs, 20);
    assert_string_equal(it.thread_refs[0], "<m5@x>");
    assert_string_equal(it.thread_refs[19], "<m24@x>");
    wb_outbox_item_free(&it);
}

static void expect_counts(struct wb_store *st, int64_t pending, int64_t sent, int64_t dead)
{
    struct wb_err err = { 0 };
    struct wb_outbox_counts c;
    assert_int_equal(wb_store_outbox_counts(st, &c, &err), WB_OK);
    assert_int_equal(c.pending, pending);
    assert_int_equal(c.sent, sent);
    assert_int_equal(c.dead, dead);
}

static void test_outbox_lifecycle(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    struct wb_outbox_item *v = NULL;
    struct wb_outbox_item it;
    struct wb_stored_message *msgs = NULL;
    struct wb_msg_ref ref;
    size_t n = 0;
    struct scene sc;
    build_scene(fx->st, &sc, 1);
    int64_t r1 = sc.outbox;
    int64_t r2 = add_row(fx->st, &sc, "email", "ann@example.com");
    int64_t r3 = add_row(fx->st, &sc, "email", "ann@example.com");
    expect_counts(fx->st, 3, 0, 0);

    /* paging: after_id and max */
    assert_int_equal(wb_store_outbox_pending(fx->st, r1, 1, &v, &n, &err), WB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].id, r2);
    wb_outbox_items_free(v, n);

    assert_int_equal(wb_store_outbox_sent(fx->st, r1, "<out1@x>", 1, 900, &err), WB_OK);
    assert_int_equal(wb_store_message_find(fx->st, "email", "<out1@x>", &ref, &err), WB_OK);
    assert_int_equal(ref.message_id, sc.reply);

    assert_int_equal(wb_store_outbox_retry(fx->st, r2, 1, 5000, "503 busy", &err), WB_OK);
    assert_int_equal(wb_store_outbox_get(fx->st, r2, &it, &err), WB_OK);
    assert_int_equal(it.attempts, 1);
    assert_int_equal(it.next_attempt_ms, 5000);
    assert_string_equal(it.last_error, "503 busy");
    wb_outbox_item_free(&it);
    expect_counts(fx->st, 2, 1, 0);

    assert_int_equal(wb_store_outbox_dead(fx->st, r2, 5, "550 no such user", 9000, &err), WB_OK);
    expect_counts(fx->st, 1, 1, 1);
    assert_int_equal(wb_store_outbox_pending(fx->st, 0, 10, &v, &n, &err), WB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].id, r3);
    wb_outbox_items_free(v, n);

    /* delivery recorded on the messages */
    assert_int_equal(wb_store_messages_list(fx->st, sc.conv, 0, 100, &msgs, &n, &err), WB_OK);
    assert_int_equal(n, 5);
    assert_int_equal(msgs[2].id, sc.reply);
    assert_int_equal(msgs[2].delivery, WB_DELIVERY_SENT);
    assert_string_equal(msgs[2].external_id, "<out1@x>");
    assert_int_equal(msgs[3].delivery, WB_DELIVERY_DEAD);
    assert_string_equal(msgs[3].delivery_error, "550 no such user");
    assert_int_equal(msgs[4].delivery, WB_DELIVERY_PENDING);
    wb_stored_messages_free(msgs, n);

    /* a row leaves the pending state once */
    static const struct {
        const char *label;
        int op; /* 0 sent, 1 retry, 2 dead */
        int64_t id;
    } rows[] = {
        { "sent twice", 0, 1 },          { "retry a sent row", 1, 1 }, { "dead a sent row", 2, 1 },
        { "sent a dead row", 0, 2 },     { "retry a dead row", 1, 2 }, { "unknown row", 0, 999 },
        { "unknown row retry", 1, 999 },
    };

    for (size_t i = 0; i < WB_ARRAY_LEN(rows); i++) {
        int64_t id = rows[i].id == 1 ? r1 : rows[i].id == 2 ? r2 : rows[i].id;
        enum wb_status got = rows[i].op == 0   ? wb_store_outbox_sent(fx->st, id, "z", 2, 1, &err)
                             : rows[i].op == 1 ? wb_store_outbox_retry(fx->st, id, 2, 1, "e", &err)
                                               : wb_store_outbox_dead(fx->st, id, 2, "e", 1, &err);
        if (got != WB_ERR_NOTFOUND) {
            fail_msg("%s: got %s", rows[i].label, wb_status_str(got));
        }
    }
    expect_counts(fx->st, 1, 1, 1);
}

static void test_outbox_sent_duplicate_external_id(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    struct scene sc;
    build_scene(fx->st, &sc, 1);
    /* the platform answers with an id that is already stored on the channel */
    assert_int_equal(wb_store_outbox_sent(fx->st, sc.outbox, "<m0@x>", 1, 900, &err),
                     WB_ERR_DUPLICATE);
    expect_counts(fx->st, 1, 0, 0);
    /* sent without an id keeps the message's (NULL) one */
    assert_int_equal(wb_store_outbox_sent(fx->st, sc.outbox, NULL, 1, 900, &err), WB_OK);
    expect_counts(fx->st, 0, 1, 0);
}

static void test_channel_state(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    char *value = NULL;

    static const struct {
        const char *label;
        bool set; /* set, else get */
        const char *channel;
        const char *key;
        const char *value; /* to set, or expected (NULL: not found) */
    } rows[] = {
        { "unset", false, "imap1", "uidvalidity", NULL },
        { "set", true, "imap1", "uidvalidity", "1700000000" },
        { "read back", false, "imap1", "uidvalidity", "1700000000" },
        { "other key unset", false, "imap1", "last_uid", NULL },
        { "set other key", true, "imap1", "last_uid", "17" },
        { "overwrite", true, "imap1", "last_uid", "18" },
        { "read overwrite", false, "imap1", "last_uid", "18" },
        { "other channel unset", false, "imap2", "last_uid", NULL },
        { "first key untouched", false, "imap1", "uidvalidity", "1700000000" },
        { "empty value", true, "imap2", "k", "" },
        { "read empty value", false, "imap2", "k", "" },
    };

    for (size_t i = 0; i < WB_ARRAY_LEN(rows); i++) {
        if (rows[i].set) {
            enum wb_status rc = wb_store_channel_state_set(fx->st, rows[i].channel, rows[i].key,
                                                           rows[i].value, &err);
            if (rc != WB_OK) {
                fail_msg("%s: %s", rows[i].label, err.msg);
            }
            continue;
        }
        enum wb_status rc =
            wb_store_channel_state_get(fx->st, rows[i].channel, rows[i].key, &value, &err);
        if (rows[i].value == NULL) {
            if (rc != WB_ERR_NOTFOUND || value != NULL) {
                fail_msg("%s: got %s", rows[i].label, wb_status_str(rc));
            }
            continue;
        }
        if (rc != WB_OK || value == NULL || strcmp(value, rows[i].value) != 0) {
            fail_msg("%s: got %s '%s'", rows[i].label, wb_status_str(rc),
                     value != NULL ? value : "(null)");
        }
        free(value);
        value = NULL;
    }
    assert_int_equal(wb_store_channel_state_set(fx->st, "imap1", "k", NULL, &err), WB_ERR_INVAL);
}

static void test_agents_and_events(void **state)
{
    struct store_fx *fx = fx_of(state);
    struct wb_err err = { 0 };
    int64_t a1 = 0, a2 = 0, a3 = 0, e1 = 0, e2 = 0, e3 = 0;
    struct scene sc;
    build_scene(fx->st, &sc, 1);
    assert_int_equal(wb_store_agent_upsert(fx->st, "mei", "Mei", "mei@biz", 1, &a1, &err), WB_OK);
    assert_int_equal(wb_store_agent_upsert(fx->st, "joe", "Joe", NULL, 1, &a2, &err), WB_OK);
    assert_int_equal(wb_store_agent_upsert(fx->st, "mei", "Mei L.", NULL, 2, &a3, &err), WB_OK);
    assert_true(a1 > 0 && a2 > 0);
    assert_int_not_equal(a1, a2);
    assert_int_equal(a1, a3);

    assert_int_equal(wb_store_event_append(fx->st, "message", sc.conv, sc.reply, 5, &e1, &err),
                     WB_OK);
    assert_int_equal(wb_store_event_append(fx->st, "channel", 0, 0, 6, &e2, &err), WB_OK);
    assert_true(e2 > e1 && e1 > 0);
    assert_int_equal(wb_store_event_append(fx->st, "message", 9999, 0, 7, &e3, &err),
                     WB_ERR_STORAGE);
    /* ids are never reused, even after a rollback of the newest */
    assert_int_equal(wb_store_begin(fx->st, &err), WB_OK);
    assert_int_equal(wb_store_event_append(fx->st, "x", 0, 0, 8, &e3, &err), WB_OK);
    assert_int_equal(wb_store_commit(fx->st, &err), WB_OK);
    assert_true(e3 > e2);
}

/* A bot draft (waiting for the LLM) is listed with its recipient until finished. */
static void test_drafts(void **state)
{
    struct store_fx *fx = *state;
    struct wb_err err;
    int64_t contact, ident, conv, mid, seq;
    struct wb_store_message sm;
    struct wb_draft *v = NULL;
    size_t n = 0;
    struct wb_stored_message *msgs = NULL;
    size_t nm = 0;

    store_fx_contact_conv(fx->st, "api-main", "u-draft", &contact, &ident, &conv);
    memset(&sm, 0, sizeof(sm));
    sm.conversation_id = conv;
    sm.direction = WB_DIR_OUT;
    sm.author = WB_AUTHOR_BOT;
    sm.channel_id = "api-main";
    sm.identity_id = ident;
    sm.text = "retrieved passage";
    sm.delivery = WB_DELIVERY_DRAFT;
    sm.created_ms = 5;
    assert_int_equal(wb_store_message_append(fx->st, &sm, &mid, &seq, &err), WB_OK);
    assert_int_equal(wb_store_drafts_list(fx->st, 0, 10, &v, &n, &err), WB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].message_id, mid);
    assert_int_equal(v[0].conversation_id, conv);
    assert_string_equal(v[0].channel_id, "api-main");
    assert_string_equal(v[0].recipient_id, "u-draft");
    wb_drafts_free(v, n);
    assert_int_equal(wb_store_drafts_list(fx->st, mid, 10, &v, &n, &err), WB_OK);
    assert_int_equal(n, 0);
    wb_drafts_free(v, n);

    /* NULL keeps the text; the draft leaves the list */
    assert_int_equal(wb_store_message_set_text(fx->st, mid, NULL, WB_DELIVERY_PENDING, &err),
                     WB_OK);
    assert_int_equal(wb_store_messages_list(fx->st, conv, 0, 10, &msgs, &nm, &err), WB_OK);
    assert_int_equal(nm, 1);
    assert_string_equal(msgs[0].text, "retrieved passage");
    assert_int_equal(msgs[0].delivery, WB_DELIVERY_PENDING);
    wb_stored_messages_free(msgs, nm);
    assert_int_equal(
        wb_store_message_set_text(fx->st, mid, "llm answer", WB_DELIVERY_PENDING, &err), WB_OK);
    assert_int_equal(wb_store_messages_list(fx->st, conv, 0, 10, &msgs, &nm, &err), WB_OK);
    assert_string_equal(msgs[0].text, "llm answer");
    wb_stored_messages_free(msgs, nm);
    assert_int_equal(wb_store_drafts_list(fx->st, 0, 10, &v, &n, &err), WB_OK);
    assert_int_equal(n, 0);
    wb_drafts_free(v, n);
    assert_int_equal(wb_store_message_set_text(fx->st, 999999, "x", WB_DELIVERY_PENDING, &err),
                     WB_ERR_NOTFOUND);
}

#define T(f) cmocka_unit_test_setup_teardown(f, store_fx_setup, store_fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_outbox_add_key),
        T(test_outbox_pending_loaded),
        T(test_outbox_thread_refs_capped),
        T(test_outbox_lifecycle),
        T(test_outbox_sent_duplicate_external_id),
        T(test_channel_state),
        T(test_agents_and_events),
        T(test_drafts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
