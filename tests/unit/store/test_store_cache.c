/*
 * test_store_cache.c - the write connection's caches never change an
 * answer: random operations on the read-write connection (whose caches
 * live as long as it does), each answer compared, after every commit and
 * after rolled-back savepoints and batches, with a connection opened anew
 * on the same file (empty caches: every answer comes from the database).
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

#define N_EXT 40

static const char *const channels[] = { "api-a", "api-b" };
static const char *const names[] = { NULL, "Li Lei", "Han Meimei", NULL };
static const char *const emails[] = { NULL, "li@example.com", NULL };

/* xorshift: a fixed seed makes every run the same sequence */
static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void ext_id(char *buf, size_t n, uint32_t k)
{
    (void)snprintf(buf, n, "u-%u", k);
}

static bool str_eq(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Everything the cache may answer, asked of both connections. */
static void compare_all(struct wb_store *rw, struct wb_store *ro, int64_t now)
{
    struct wb_err err = { 0 };
    for (size_t c = 0; c < WB_ARRAY_LEN(channels); c++) {
        for (uint32_t k = 0; k < N_EXT; k++) {
            char ext[32];
            char *n1 = NULL, *e1 = NULL, *n2 = NULL, *e2 = NULL;
            int64_t contact1 = 0, ident1 = 0, contact2 = 0, ident2 = 0;
            ext_id(ext, sizeof(ext), k);
            enum wb_status s1 = wb_store_identity_display(rw, channels[c], ext, &n1, &e1, &err);
            enum wb_status s2 = wb_store_identity_display(ro, channels[c], ext, &n2, &e2, &err);
            assert_int_equal(s1, s2);
            assert_true(str_eq(n1, n2) && str_eq(e1, e2));
            free(n1);
            free(e1);
            free(n2);
            free(e2);
            if (s1 != WB_OK) {
                continue;
            }
            /* no display fields given: nothing is written */
            assert_int_equal(wb_store_identity_resolve(rw, channels[c], ext, NULL, NULL, now,
                                                       &contact1, &ident1, &err),
                             WB_OK);
            assert_int_equal(wb_store_identity_resolve(ro, channels[c], ext, NULL, NULL, now,
                                                       &contact2, &ident2, &err),
                             WB_OK);
            assert_int_equal(contact1, contact2);
            assert_int_equal(ident1, ident2);
            struct wb_conversation v1, v2;
            s1 = wb_store_conversation_match(rw, contact1, channels[c], NULL, 0, NULL, 0, now, &v1,
                                             &err);
            s2 = wb_store_conversation_match(ro, contact2, channels[c], NULL, 0, NULL, 0, now, &v2,
                                             &err);
            assert_int_equal(s1, s2);
            if (s1 == WB_OK) {
                assert_int_equal(v1.id, v2.id);
                assert_int_equal(v1.owner, v2.owner);
                assert_int_equal(v1.last_seq, v2.last_seq);
                assert_int_equal(v1.updated_ms, v2.updated_ms);
                char *t1 = NULL, *t2 = NULL;
                assert_int_equal(wb_store_last_contact_text(rw, v1.id, &t1, &err), WB_OK);
                assert_int_equal(wb_store_last_contact_text(ro, v2.id, &t2, &err), WB_OK);
                assert_true(str_eq(t1, t2));
                free(t1);
                free(t2);
            }
            wb_conversation_free(&v1);
            wb_conversation_free(&v2);
        }
    }
}

/* Conversations created so far: touching an older one must make it the newest. */
static int64_t convs[4096];
static size_t n_convs;

/* One random step on the write connection, inside its transaction. */
static void random_op(struct wb_store *st, uint32_t *seed, int64_t now)
{
    struct wb_err err = { 0 };
    char ext[32];
    const char *channel = channels[rnd(seed) % WB_ARRAY_LEN(channels)];
    int64_t contact = 0, ident = 0;
    ext_id(ext, sizeof(ext), rnd(seed) % N_EXT);
    assert_int_equal(wb_store_identity_resolve(
                         st, channel, ext, names[rnd(seed) % WB_ARRAY_LEN(names)],
                         emails[rnd(seed) % WB_ARRAY_LEN(emails)], now, &contact, &ident, &err),
                     WB_OK);
    struct wb_conversation cv;
    enum wb_status s =
        wb_store_conversation_match(st, contact, channel, NULL, 0, NULL, 0, now, &cv, &err);
    if (s == WB_ERR_NOTFOUND || rnd(seed) % 8 == 0) {
        if (s == WB_OK) {
            wb_conversation_free(&cv); /* a second open conversation of the same contact */
        }
        s = wb_store_conversation_create(st, contact, channel, NULL, NULL, now, &cv, &err);
        if (s == WB_OK && n_convs < WB_ARRAY_LEN(convs)) {
            convs[n_convs++] = cv.id; /* kept even if rolled back: then the calls fail */
        }
    }
    assert_int_equal(s, WB_OK);
    if (n_convs > 0 && rnd(seed) % 3 == 0) {
        /* any conversation, often not the newest of its contact */
        int64_t id = convs[rnd(seed) % n_convs];
        wb_conversation_free(&cv);
        if (wb_store_conversation_get(st, id, &cv, &err) != WB_OK) {
            return; /* created in a rolled-back savepoint */
        }
        channel = cv.channel_id;
    }
    switch (rnd(seed) % 4) {
    case 0:
        assert_int_equal(
            wb_store_conversation_set_owner(st, cv.id, (enum wb_owner)(rnd(seed) % 4), now, &err),
            WB_OK);
        break;
    case 1:
        assert_int_equal(
            store_fx_append(st, cv.id, WB_DIR_OUT, channel, NULL, "bot says", now, NULL, NULL),
            WB_OK);
        break;
    default: {
        char text[48], mid[48];
        (void)snprintf(text, sizeof(text), "question %u", rnd(seed));
        (void)snprintf(mid, sizeof(mid), "m-%u-%lld", rnd(seed), (long long)now);
        assert_int_equal(store_fx_append(st, cv.id, WB_DIR_IN, channel, mid, text, now, NULL, NULL),
                         WB_OK);
        break;
    }
    }
    wb_conversation_free(&cv);
}

static void test_cache_matches_database(void **state)
{
    struct store_fx *fx = *state;
    struct wb_err err = { 0 };
    uint32_t seed = 2463534242u;
    int64_t now = 1000;
    n_convs = 0;

    for (int round = 0; round < 60; round++) {
        assert_int_equal(wb_store_begin(fx->st, &err), WB_OK);
        for (int i = 0; i < 10; i++) {
            now += rnd(&seed) % 3; /* equal times happen: the id breaks the tie */
            if (rnd(&seed) % 5 == 0) {
                /* work that is rolled back must leave no trace in the cache */
                assert_int_equal(wb_store_savepoint(fx->st, &err), WB_OK);
                random_op(fx->st, &seed, now);
                random_op(fx->st, &seed, now);
                wb_store_rollback_to(fx->st);
            } else {
                assert_int_equal(wb_store_savepoint(fx->st, &err), WB_OK);
                random_op(fx->st, &seed, now);
                assert_int_equal(wb_store_release(fx->st, &err), WB_OK);
            }
        }
        if (round % 7 == 6) {
            wb_store_rollback(fx->st); /* a whole batch lost */
        } else {
            assert_int_equal(wb_store_commit(fx->st, &err), WB_OK);
        }
        struct wb_store *fresh = store_fx_open(fx, false);
        compare_all(fx->st, fresh, now);
        wb_store_close(fresh);
    }
}

/*
 * More identities than two cache generations hold (2 x 8,192,
 * src/store/sqlite_cache.h): evicted ones are read again, right.
 */
static void test_cache_generations(void **state)
{
    struct store_fx *fx = *state;
    struct wb_err err = { 0 };

    enum {
        N = 9000
    };

    static int64_t ids[N];
    char ext[32];
    int64_t contact = 0;
    assert_int_equal(wb_store_begin(fx->st, &err), WB_OK);
    for (int i = 0; i < N; i++) {
        (void)snprintf(ext, sizeof(ext), "g-%d", i);
        assert_int_equal(
            wb_store_identity_resolve(fx->st, "api-a", ext, "G", NULL, 1, &contact, &ids[i], &err),
            WB_OK);
    }
    assert_int_equal(wb_store_commit(fx->st, &err), WB_OK);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < N; i += (pass == 0 ? 1 : 7)) {
            int64_t id = 0;
            (void)snprintf(ext, sizeof(ext), "g-%d", i);
            assert_int_equal(
                wb_store_identity_resolve(fx->st, "api-a", ext, "G", NULL, 2, &contact, &id, &err),
                WB_OK);
            assert_int_equal(id, ids[i]);
        }
    }
}

/* The item built at insert is the item read back after the commit. */
static void test_outbox_item_in_memory(void **state)
{
    struct store_fx *fx = *state;
    struct wb_err err = { 0 };
    int64_t contact = 0, ident = 0, conv = 0, mid = 0;
    store_fx_contact_conv(fx->st, "mail", "li@example.com", &contact, &ident, &conv);
    assert_int_equal(wb_store_identity_resolve(fx->st, "mail", "li@example.com", "Li",
                                               "li@example.com", 3, &contact, &ident, &err),
                     WB_OK);
    assert_int_equal(
        store_fx_append(fx->st, conv, WB_DIR_IN, "mail", "<a@x>", "hello", 4, NULL, NULL), WB_OK);
    assert_int_equal(
        store_fx_append(fx->st, conv, WB_DIR_OUT, "mail", NULL, "answer", 5, &mid, NULL), WB_OK);
    struct wb_outbox_new on = { .message_id = mid,
                                .conversation_id = conv,
                                .channel_id = "mail",
                                .recipient_id = "li@example.com",
                                .next_attempt_ms = 5 };
    struct wb_outbox_item a, b;
    assert_int_equal(wb_store_begin(fx->st, &err), WB_OK);
    assert_int_equal(
        wb_store_outbox_add_item(fx->st, &on, "answer", WB_AUTHOR_BOT, NULL, true, &a, &err),
        WB_OK);
    assert_int_equal(wb_store_commit(fx->st, &err), WB_OK);
    assert_int_equal(wb_store_outbox_get(fx->st, a.id, &b, &err), WB_OK);
    assert_int_equal(a.message_id, b.message_id);
    assert_int_equal(a.conversation_id, b.conversation_id);
    assert_string_equal(a.channel_id, b.channel_id);
    assert_string_equal(a.recipient_id, b.recipient_id);
    assert_string_equal(a.recipient_name, "Li");
    assert_true(str_eq(a.recipient_name, b.recipient_name));
    assert_true(str_eq(a.recipient_email, b.recipient_email));
    assert_string_equal(a.text, b.text);
    assert_int_equal(a.author, b.author);
    assert_true(str_eq(a.subject, b.subject));
    assert_string_equal(a.idempotency_key, b.idempotency_key);
    assert_int_equal(a.n_thread_refs, 1);
    assert_int_equal(a.n_thread_refs, b.n_thread_refs);
    assert_string_equal(a.thread_refs[0], b.thread_refs[0]);
    assert_int_equal(a.attempts, b.attempts);
    assert_int_equal(a.next_attempt_ms, b.next_attempt_ms);
    wb_outbox_item_free(&a);
    wb_outbox_item_free(&b);
}

#define T(f) cmocka_unit_test_setup_teardown(f, store_fx_setup, store_fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_cache_matches_database),
        T(test_cache_generations),
        T(test_outbox_item_in_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
