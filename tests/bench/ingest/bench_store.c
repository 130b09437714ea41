/*
 * bench_store.c - what the store alone costs per ingested message: the
 * ceiling the core thread cannot pass, whatever the HTTP side and the bot
 * cost.
 *
 * Usage: bench_store [-n MESSAGES] [-b BATCH] [-s SENDERS] [--dir DIR]
 *
 * Runs, on a fresh SQLite database opened as the core opens it (WAL,
 * synchronous=NORMAL, background checkpoints), exactly the store calls the
 * core makes for an API-channel message answered by the bot, in
 * transactions of BATCH messages (64 by default: the benchmark's wrk
 * connections): savepoint, dedupe lookup, identity, conversation,
 * previous turn, the message, the bot's reply, its outbox row (item built
 * in memory), release; and each batch also settles the previous batch's
 * deliveries as sent, in one savepoint, as the core does with the http
 * thread's reports. SENDERS distinct customers (5,000) write in turn.
 * Prints messages per second of this thread's CPU time and of wall time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <warbler/store.h>

static const char reply_text[] =
    "Refunds go back to the original payment method within 5-7 business days after we "
    "receive the returned item. You will get an email when the refund is issued.";

static double seconds(clockid_t clk)
{
    struct timespec t;
    clock_gettime(clk, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void check(enum wb_status st, const struct wb_err *err, const char *what)
{
    if (st != WB_OK) {
        fprintf(stderr, "bench_store: %s: %s\n", what, err->msg);
        exit(1);
    }
}

/* One message as the core's ingest() stores it. Returns the reply's outbox id. */
static int64_t one_message(struct wb_store *st, long i, long senders, int64_t now)
{
    struct wb_err err = { 0 };
    char ext[32], sender[32];
    struct wb_msg_ref ref;
    struct wb_conversation conv;
    int64_t contact = 0, identity = 0, mid = 0, rid = 0, seq = 0;
    char *prev = NULL;

    (void)snprintf(ext, sizeof(ext), "bench-%ld", i);
    (void)snprintf(sender, sizeof(sender), "bench-%ld", i % senders);
    check(wb_store_savepoint(st, &err), &err, "savepoint");
    if (wb_store_message_find(st, "api-main", ext, &ref, &err) != WB_ERR_NOTFOUND) {
        fprintf(stderr, "bench_store: %s found twice\n", ext);
        exit(1);
    }
    check(wb_store_identity_resolve(st, "api-main", sender, "Bench User", NULL, now, &contact,
                                    &identity, &err),
          &err, "identity");
    enum wb_status s =
        wb_store_conversation_match(st, contact, "api-main", NULL, 0, NULL, 0, now, &conv, &err);
    if (s == WB_ERR_NOTFOUND) {
        s = wb_store_conversation_create(st, contact, "api-main", NULL, NULL, now, &conv, &err);
    }
    check(s, &err, "conversation");
    check(wb_store_last_contact_text(st, conv.id, &prev, &err), &err, "previous turn");
    struct wb_store_message in = { .conversation_id = conv.id,
                                   .direction = WB_DIR_IN,
                                   .author = WB_AUTHOR_CONTACT,
                                   .channel_id = "api-main",
                                   .external_id = ext,
                                   .identity_id = identity,
                                   .text = "How long does a refund take?",
                                   .created_ms = now };
    check(wb_store_message_append(st, &in, &mid, &seq, &err), &err, "message");
    struct wb_store_message out = { .conversation_id = conv.id,
                                    .direction = WB_DIR_OUT,
                                    .author = WB_AUTHOR_BOT,
                                    .channel_id = "api-main",
                                    .identity_id = identity,
                                    .text = reply_text,
                                    .delivery = WB_DELIVERY_PENDING,
                                    .created_ms = now };
    check(wb_store_message_append(st, &out, &rid, &seq, &err), &err, "reply");
    struct wb_outbox_new on = { .message_id = rid,
                                .conversation_id = conv.id,
                                .channel_id = "api-main",
                                .recipient_id = sender,
                                .next_attempt_ms = now,
                                .now_ms = now };
    struct wb_outbox_item item;
    check(wb_store_outbox_add_item(st, &on, reply_text, WB_AUTHOR_BOT, conv.subject, false, &item,
                                   &err),
          &err, "outbox");
    check(wb_store_release(st, &err), &err, "release");
    int64_t outbox_id = item.id;
    wb_outbox_item_free(&item);
    wb_conversation_free(&conv);
    free(prev);
    return outbox_id;
}

int main(int argc, char **argv)
{
    long n = 200000, batch = 64, senders = 5000;
    char dir[256] = "";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-n") == 0) {
            n = atol(argv[i + 1]);
        } else if (strcmp(argv[i], "-b") == 0) {
            batch = atol(argv[i + 1]);
        } else if (strcmp(argv[i], "-s") == 0) {
            senders = atol(argv[i + 1]);
        } else if (strcmp(argv[i], "--dir") == 0) {
            (void)snprintf(dir, sizeof(dir), "%s", argv[i + 1]);
        }
    }
    if (n <= 0 || batch <= 0 || senders <= 0) {
        fprintf(stderr, "usage: bench_store [-n MESSAGES] [-b BATCH] [-s SENDERS] [--dir DIR]\n");
        return 2;
    }
    char tmpl[] = "/tmp/wb-bench-store-XXXXXX";
    if (dir[0] == '\0' && mkdtemp(tmpl) != NULL) {
        (void)snprintf(dir, sizeof(dir), "%s", tmpl);
    }
    char path[300];
    (void)snprintf(path, sizeof(path), "%s/warbler.db", dir);
    struct wb_store_options so = {
        .driver = "sqlite", .path = path, .busy_timeout_ms = 5000, .background_checkpoint = true
    };
    struct wb_store *st = NULL;
    struct wb_err err = { 0 };
    check(wb_store_open(&so, &st, &err), &err, "open");

    int64_t *sent = calloc((size_t)batch, sizeof(*sent));
    long n_sent = 0;
    double c0 = seconds(CLOCK_THREAD_CPUTIME_ID), w0 = seconds(CLOCK_MONOTONIC);
    for (long i = 0; i < n; i += batch) {
        int64_t now = 1700000000000LL + i;
        check(wb_store_begin(st, &err), &err, "begin");
        if (n_sent > 0) {
            check(wb_store_savepoint(st, &err), &err, "savepoint");
            for (long k = 0; k < n_sent; k++) {
                check(wb_store_outbox_sent(st, sent[k], NULL, 1, now, &err), &err, "sent");
            }
            check(wb_store_release(st, &err), &err, "release");
        }
        n_sent = 0;
        for (long j = i; j < i + batch && j < n; j++) {
            sent[n_sent++] = one_message(st, j, senders, now);
        }
        check(wb_store_commit(st, &err), &err, "commit");
    }
    double cpu = seconds(CLOCK_THREAD_CPUTIME_ID) - c0, wall = seconds(CLOCK_MONOTONIC) - w0;
    wb_store_close(st);
    free(sent);
    printf("store alone: %ld messages in batches of %ld, %ld senders\n", n, batch, senders);
    printf("  %.0f msg/s of CPU (%.1f us/message), %.0f msg/s of wall time\n", (double)n / cpu,
           cpu * 1e6 / (double)n, (double)n / wall);
    static const char *const suffixes[] = { "", "-wal", "-shm" };
    for (size_t k = 0; k < WB_ARRAY_LEN(suffixes); k++) {
        char p[320];
        (void)snprintf(p, sizeof(p), "%s%s", path, suffixes[k]);
        (void)unlink(p);
    }
    if (strcmp(dir, tmpl) == 0) {
        (void)rmdir(dir);
    }
    return 0;
}
