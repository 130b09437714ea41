/*
 * store_fixture.h - a fresh SQLite database in a mkdtemp directory for
 * each store test, opened read-write and migrated.
 *
 * Thread: the test's.
 */
#ifndef WB_TEST_STORE_FIXTURE_H
#define WB_TEST_STORE_FIXTURE_H

#include <warbler/store.h>

struct store_fx {
    char dir[64];
    char path[96];
    struct wb_store *st; /* read-write, migrated */
};

/* cmocka setup/teardown: *state becomes a struct store_fx. */
int store_fx_setup(void **state);
int store_fx_teardown(void **state);

/* Open another connection on the fixture's file (asserts success). */
struct wb_store *store_fx_open(const struct store_fx *fx, bool read_only);

/* Try to open; returns the status, *out set on WB_OK. */
enum wb_status store_fx_try_open(const struct store_fx *fx, bool read_only, struct wb_store **out,
                                 struct wb_err *err);

/* Resolve a new identity and open a conversation for it. */
void store_fx_contact_conv(struct wb_store *st, const char *channel, const char *ext,
                           int64_t *contact_out, int64_t *identity_out, int64_t *conv_out);

/* Append one message; returns the status, the id and seq through the outs. */
enum wb_status store_fx_append(struct wb_store *st, int64_t conv, enum wb_direction dir,
                               const char *channel, const char *ext, const char *text,
                               int64_t created_ms, int64_t *id_out, int64_t *seq_out);

#endif
