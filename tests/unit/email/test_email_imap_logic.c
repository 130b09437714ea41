/*
 * test_email_imap_logic.c - table-driven tests of the IMAP worker's pure
 * decisions (email_imap_logic.c): resume point and UIDVALIDITY changes,
 * which UIDs to fetch, batches, commit outcomes, last_uid advance,
 * backoff, state values and loopback hosts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "email_imap_logic.h"

struct resume_case {
    const char *label;
    struct wb_email_resume_in in;
    struct wb_email_resume want;
};

static const struct resume_case resume_cases[] = {
    { "nothing stored",
      { .server_validity = 7 },
      { .last_uid = 0, .is_first_run = true, .is_state_stale = true } },
    { "same validity", { true, 7, true, 41, 7 }, { .last_uid = 41 } },
    { "same validity, no last uid",
      { true, 7, false, 0, 7 },
      { .last_uid = 0, .is_state_stale = true } },
    { "validity changed",
      { true, 7, true, 41, 9 },
      { .last_uid = 0, .is_rescan = true, .is_state_stale = true } },
    { "validity went down",
      { true, 9, true, 41, 7 },
      { .last_uid = 0, .is_rescan = true, .is_state_stale = true } },
    { "last uid without validity",
      { false, 0, true, 12, 7 },
      { .last_uid = 12, .is_state_stale = true } },
};

static void test_resume(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(resume_cases) / sizeof(resume_cases[0]); i++) {
        const struct resume_case *c = &resume_cases[i];
        struct wb_email_resume got;
        wb_email_imap_resume(&c->in, &got);
        if (memcmp(&got, &c->want, sizeof(got)) != 0) {
            print_error("%s: got last=%u first=%d rescan=%d stale=%d\n", c->label,
                        (unsigned)got.last_uid, got.is_first_run, got.is_rescan,
                        got.is_state_stale);
        }
        assert_int_equal(got.last_uid, c->want.last_uid);
        assert_int_equal(got.is_first_run, c->want.is_first_run);
        assert_int_equal(got.is_rescan, c->want.is_rescan);
        assert_int_equal(got.is_state_stale, c->want.is_state_stale);
    }
}

static void test_select(void **state)
{
    (void)state;
    /* `10:*` when nothing is newer returns the highest message (uid 9) */
    struct wb_email_uid v1[] = { { 9, 100, false } };
    assert_int_equal(wb_email_imap_select(v1, 1, 9, false), 0);

    struct wb_email_uid v2[] = {
        { 14, 1, false }, { 11, 1, true }, { 12, 1, false }, { 12, 1, false }, { 3, 1, false }
    };
    size_t n = wb_email_imap_select(v2, 5, 10, false);
    assert_int_equal(n, 3);
    assert_int_equal(v2[0].uid, 11);
    assert_int_equal(v2[1].uid, 12);
    assert_int_equal(v2[2].uid, 14);

    struct wb_email_uid v3[] = { { 4, 1, true }, { 2, 1, false }, { 3, 1, true } };
    n = wb_email_imap_select(v3, 3, 0, true); /* first run: skip processed */
    assert_int_equal(n, 1);
    assert_int_equal(v3[0].uid, 2);

    assert_int_equal(wb_email_imap_select(NULL, 0, 0, false), 0);
}

struct batch_case {
    const char *label;
    uint32_t sizes[6];
    size_t n, max_count;
    uint64_t max_bytes, max_message;
    size_t want;
};

static const struct batch_case batch_cases[] = {
    { "empty", { 0 }, 0, 50, 1000, 500, 0 },
    { "all fit", { 10, 10, 10 }, 3, 50, 1000, 500, 3 },
    { "count cap", { 1, 1, 1, 1 }, 4, 2, 1000, 500, 2 },
    { "bytes cap", { 400, 400, 400 }, 3, 50, 1000, 500, 2 },
    { "first alone even if large", { 900, 10 }, 2, 50, 100, 1000, 1 },
    { "oversize counts zero", { 5000, 400, 400 }, 3, 50, 1000, 500, 3 },
    { "zero count means one", { 1, 1 }, 2, 0, 1000, 500, 1 },
};

static void test_batch(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(batch_cases) / sizeof(batch_cases[0]); i++) {
        const struct batch_case *c = &batch_cases[i];
        struct wb_email_uid v[6];
        for (size_t j = 0; j < c->n; j++) {
            v[j].uid = (uint32_t)j + 1;
            v[j].size = c->sizes[j];
            v[j].is_processed = false;
        }
        size_t got = wb_email_imap_batch_len(v, c->n, c->max_count, c->max_bytes, c->max_message);
        if (got != c->want) {
            print_error("%s: got %zu want %zu\n", c->label, got, c->want);
        }
        assert_int_equal(got, c->want);
    }
}

static void test_outcome(void **state)
{
    (void)state;
    assert_int_equal(wb_email_imap_outcome(WB_OK), WB_EMAIL_COMMITTED);
    assert_int_equal(wb_email_imap_outcome(WB_ERR_DUPLICATE), WB_EMAIL_COMMITTED);
    assert_int_equal(wb_email_imap_outcome(WB_ERR_INVAL), WB_EMAIL_SKIPPED);
    assert_int_equal(wb_email_imap_outcome(WB_ERR_NOTFOUND), WB_EMAIL_SKIPPED);
    assert_int_equal(wb_email_imap_outcome(WB_ERR_BUSY), WB_EMAIL_RETRY);
    assert_int_equal(wb_email_imap_outcome(WB_ERR_IO), WB_EMAIL_RETRY);
    assert_int_equal(wb_email_imap_outcome(WB_ERR_STORAGE), WB_EMAIL_RETRY);
}

static void test_advance(void **state)
{
    (void)state;
    const uint32_t uids[] = { 11, 12, 15, 16 };

    const enum wb_email_outcome all[] = { WB_EMAIL_COMMITTED, WB_EMAIL_SKIPPED, WB_EMAIL_COMMITTED,
                                          WB_EMAIL_COMMITTED };

    const enum wb_email_outcome mid[] = { WB_EMAIL_COMMITTED, WB_EMAIL_COMMITTED, WB_EMAIL_RETRY,
                                          WB_EMAIL_COMMITTED };

    const enum wb_email_outcome first[] = { WB_EMAIL_RETRY, WB_EMAIL_COMMITTED, WB_EMAIL_COMMITTED,
                                            WB_EMAIL_COMMITTED };

    assert_int_equal(wb_email_imap_advance(10, uids, all, 4), 16);
    assert_int_equal(wb_email_imap_advance(10, uids, mid, 4), 12);
    assert_int_equal(wb_email_imap_advance(10, uids, first, 4), 10);
    assert_int_equal(wb_email_imap_advance(20, uids, all, 4), 20); /* never goes back */
    assert_int_equal(wb_email_imap_advance(10, uids, all, 0), 10);
}

static void test_backoff(void **state)
{
    (void)state;
    assert_int_equal(wb_email_imap_backoff_ms(1), 1000);
    assert_int_equal(wb_email_imap_backoff_ms(2), 2000);
    assert_int_equal(wb_email_imap_backoff_ms(5), 16000);
    assert_int_equal(wb_email_imap_backoff_ms(9), 256000);
    assert_int_equal(wb_email_imap_backoff_ms(10), 300000);
    assert_int_equal(wb_email_imap_backoff_ms(1000), 300000);
    assert_int_equal(wb_email_imap_backoff_ms(0), 1000);
}

struct u32_case {
    const char *in;
    enum wb_status want;
    uint32_t value;
};

static const struct u32_case u32_cases[] = {
    { "0", WB_OK, 0 },
    { "42", WB_OK, 42 },
    { "4294967295", WB_OK, 4294967295u },
    { "4294967296", WB_ERR_PARSE, 0 },
    { "", WB_ERR_PARSE, 0 },
    { "-1", WB_ERR_PARSE, 0 },
    { "12a", WB_ERR_PARSE, 0 },
    { " 1", WB_ERR_PARSE, 0 },
    { "99999999999999999999999", WB_ERR_PARSE, 0 },
};

static void test_parse_u32(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(u32_cases) / sizeof(u32_cases[0]); i++) {
        uint32_t v = 0;
        enum wb_status st = wb_email_parse_u32(u32_cases[i].in, &v);
        assert_int_equal(st, u32_cases[i].want);
        if (st == WB_OK) {
            assert_int_equal(v, u32_cases[i].value);
        }
    }
    uint32_t v;
    assert_int_equal(wb_email_parse_u32(NULL, &v), WB_ERR_PARSE);
}

static void test_loopback(void **state)
{
    (void)state;
    static const char *const yes[] = { "localhost", "LOCALHOST", "127.0.0.1",
                                       "127.1.2.3", "::1",       "[::1]" };
    static const char *const no[] = { "example.com",
                                      "127.0.0.1.evil.com",
                                      "127.0.0",
                                      "127.0.0.256",
                                      "128.0.0.1",
                                      "127..0.1",
                                      "",
                                      "10.0.0.1",
                                      "localhost.example.com" };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        assert_true(wb_email_host_is_loopback(yes[i]));
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        if (wb_email_host_is_loopback(no[i])) {
            print_error("loopback: %s\n", no[i]);
        }
        assert_false(wb_email_host_is_loopback(no[i]));
    }
    assert_false(wb_email_host_is_loopback(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume),    cmocka_unit_test(test_select),
        cmocka_unit_test(test_batch),     cmocka_unit_test(test_outcome),
        cmocka_unit_test(test_advance),   cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_parse_u32), cmocka_unit_test(test_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
