/*
 * test_store_wal.c - with background checkpoints (what the core uses) the
 * WAL stays bounded under steady writes and every row stays readable.
 * Without the writer's catch-up the WAL grows with every commit: the
 * checkpointer copies while the writer appends, and SQLite starts the WAL
 * over only when all of it was copied.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_fixture.h"

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : 0;
}

static void test_wal_stays_bounded(void **state)
{
    struct store_fx *fx = *state;
    struct wb_err err = { 0 };
    struct wb_store_options opt = {
        .driver = "sqlite", .path = fx->path, .busy_timeout_ms = 5000, .background_checkpoint = true
    };
    struct wb_store *st = NULL;
    int64_t contact = 0, ident = 0, conv = 0;
    char wal[128];
    long biggest = 0;

    enum {
        ROWS = 1600,
        BLOB = 64 * 1024
    }; /* 100 MiB in all, 16 pages a row */

    uint8_t *raw = calloc(1, BLOB);

    wb_store_close(fx->st);
    fx->st = NULL;
    assert_int_equal(wb_store_open(&opt, &st, &err), WB_OK);
    (void)snprintf(wal, sizeof(wal), "%s-wal", fx->path);
    store_fx_contact_conv(st, "api", "u-1", &contact, &ident, &conv);
    for (int i = 0; i < ROWS; i++) {
        char ext[32];
        (void)snprintf(ext, sizeof(ext), "m-%d", i);
        raw[0] = (uint8_t)i; /* every page differs */
        struct wb_store_message m = { .conversation_id = conv,
                                      .direction = WB_DIR_IN,
                                      .author = WB_AUTHOR_CONTACT,
                                      .channel_id = "api",
                                      .external_id = ext,
                                      .text = "t",
                                      .raw = raw,
                                      .raw_len = BLOB,
                                      .created_ms = i };
        assert_int_equal(wb_store_begin(st, &err), WB_OK);
        assert_int_equal(wb_store_message_append(st, &m, NULL, NULL, &err), WB_OK);
        assert_int_equal(wb_store_commit(st, &err), WB_OK);
        long n = file_size(wal);
        biggest = n > biggest ? n : biggest;
    }
    /* 4,000 pages of 4 KiB past which the writer catches up, plus what one pass lets in */
    assert_true(biggest < 48L * 1024 * 1024);
    struct wb_stored_message *v = NULL;
    size_t n = 0;
    assert_int_equal(wb_store_messages_list(st, conv, ROWS - 5, 10, &v, &n, &err), WB_OK);
    assert_int_equal(n, 5);
    wb_stored_messages_free(v, n);
    wb_store_close(st);
    free(raw);
    fx->st = store_fx_open(fx, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wal_stays_bounded, store_fx_setup, store_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
