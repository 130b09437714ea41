/*
 * store_fixture.c - per-test temporary databases for the store tests.
 *
 * DESIGN: every test gets its own directory from mkdtemp, so tests never
 * share state and the WAL and shm files are removed with the database.
 *
 * Thread: the test's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_fixture.h"

int store_fx_setup(void **state)
{
    struct store_fx *fx = wb_calloc(1, sizeof(*fx));
    struct wb_err err = { 0 };
    (void)snprintf(fx->dir, sizeof(fx->dir), "/tmp/wb-store-XXXXXX");
    if (mkdtemp(fx->dir) == NULL) {
        free(fx);
        return -1;
    }
    (void)snprintf(fx->path, sizeof(fx->path), "%s/warbler.db", fx->dir);
    if (store_fx_try_open(fx, false, &fx->st, &err) != WB_OK) {
        print_error("open: %s\n", err.msg);
        (void)rmdir(fx->dir);
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

int store_fx_teardown(void **state)
{
    struct store_fx *fx = *state;
    char p[128];
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    wb_store_close(fx->st);
    for (size_t i = 0; i < WB_ARRAY_LEN(suffixes); i++) {
        (void)snprintf(p, sizeof(p), "%s%s", fx->path, suffixes[i]);
        (void)unlink(p);
    }
    int rc = rmdir(fx->dir);
    free(fx);
    return rc;
}

enum wb_status store_fx_try_open(const struct store_fx *fx, bool read_only, struct wb_store **out,
                                 struct wb_err *err)
{
    struct wb_store_options opt = {
        .driver = "sqlite",
        .path = fx->path,
        .read_only = read_only,
        .busy_timeout_ms = 2000,
    };
    return wb_store_open(&opt, out, err);
}

struct wb_store *store_fx_open(const struct store_fx *fx, bool read_only)
{
    struct wb_store *st = NULL;
    struct wb_err err = { 0 };
    enum wb_status rc = store_fx_try_open(fx, read_only, &st, &err);
    if (rc != WB_OK) {
        print_error("open: %s\n", err.msg);
    }
    assert_int_equal(rc, WB_OK);
    assert_non_null(st);
    return st;
}

void store_fx_contact_conv(struct wb_store *st, const char *channel, const char *ext,
                           int64_t *contact_out, int64_t *identity_out, int64_t *conv_out)
{
    struct wb_err err = { 0 };
    struct wb_conversation c;
    assert_int_equal(wb_store_identity_resolve(st, channel, ext, NULL, NULL, 1000, contact_out,
                                               identity_out, &err),
                     WB_OK);
    assert_int_equal(
        wb_store_conversation_create(st, *contact_out, channel, NULL, NULL, 1000, &c, &err), WB_OK);
    *conv_out = c.id;
    wb_conversation_free(&c);
}

enum wb_status store_fx_append(struct wb_store *st, int64_t conv, enum wb_direction dir,
                               const char *channel, const char *ext, const char *text,
                               int64_t created_ms, int64_t *id_out, int64_t *seq_out)
{
    struct wb_err err = { 0 };
    struct wb_store_message m = {
        .conversation_id = conv,
        .direction = dir,
        .author = dir == WB_DIR_IN ? WB_AUTHOR_CONTACT : WB_AUTHOR_BOT,
        .channel_id = channel,
        .external_id = ext,
        .text = text,
        .delivery = dir == WB_DIR_OUT ? WB_DELIVERY_PENDING : WB_DELIVERY_NONE,
        .created_ms = created_ms,
    };
    return wb_store_message_append(st, &m, id_out, seq_out, &err);
}
