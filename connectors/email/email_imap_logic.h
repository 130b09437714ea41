/*
 * email_imap_logic.h - the IMAP worker's protocol-independent decisions.
 *
 * Pure functions (no I/O, no clock, no globals, no libetpan types): where
 * to resume in a folder, which UIDs to fetch and in which batches, what a
 * commit status means for the mailbox, how far last_uid may advance, the
 * reconnect backoff and which hosts count as loopback. email_imap.c calls
 * them; tests/unit/email/test_email_imap_logic.c tests them with tables.
 *
 * Thread: any.
 */
#ifndef WB_EMAIL_IMAP_LOGIC_H
#define WB_EMAIL_IMAP_LOGIC_H

#include <warbler/common.h>

/* Per-channel state keys (host->state_get/state_set). */
#define WB_EMAIL_STATE_UIDVALIDITY "uidvalidity"
#define WB_EMAIL_STATE_LAST_UID    "last_uid"

/* Re-issue IDLE this often (RFC 2177: servers may drop it after 30 minutes). */
#define WB_EMAIL_IDLE_REISSUE_MS ((int64_t)25 * 60 * 1000)

/* Reconnect backoff bounds. */
#define WB_EMAIL_BACKOFF_MIN_MS ((int64_t)1000)
#define WB_EMAIL_BACKOFF_MAX_MS ((int64_t)5 * 60 * 1000)

/* What the worker knows about a folder when it selects it. */
struct wb_email_resume_in {
    bool has_uidvalidity;     /* state "uidvalidity" was stored */
    uint32_t uidvalidity;     /* the stored one */
    bool has_last_uid;        /* state "last_uid" was stored */
    uint32_t last_uid;        /* the stored one */
    uint32_t server_validity; /* UIDVALIDITY from SELECT */
};

struct wb_email_resume {
    uint32_t last_uid;   /* fetch UIDs greater than this */
    bool is_first_run;   /* nothing stored: skip mail already marked processed */
    bool is_rescan;      /* UIDVALIDITY changed: rescan (the store dedupes) */
    bool is_state_stale; /* write uidvalidity (and last_uid) now */
};

/* Decide where to resume (see struct wb_email_resume). */
void wb_email_imap_resume(const struct wb_email_resume_in *in, struct wb_email_resume *out);

/* One message as the UID listing saw it. */
struct wb_email_uid {
    uint32_t uid;
    uint32_t size;     /* RFC822.SIZE */
    bool is_processed; /* already carries \Seen or the processed keyword */
};

/*
 * Keep the UIDs to fetch: uid > last_uid (a `last+1:*` range also returns
 * the highest message when nothing is newer), without repeats, and without
 * those already processed when skip_processed; sorted ascending, in place.
 * Returns how many are kept at the front of v.
 */
size_t wb_email_imap_select(struct wb_email_uid *v, size_t n, uint32_t last_uid,
                            bool skip_processed);

/*
 * How many of v[0..n) go into the next batch: at least one, at most
 * max_count, and no more than max_bytes of sizes together (a message over
 * max_message counts 0: only its header is fetched). 0 when n is 0.
 */
size_t wb_email_imap_batch_len(const struct wb_email_uid *v, size_t n, size_t max_count,
                               uint64_t max_bytes, uint64_t max_message);

/* What a message's commit status means for the mailbox. */
enum wb_email_outcome {
    WB_EMAIL_COMMITTED = 0, /* stored (or already stored): mark processed, advance */
    WB_EMAIL_SKIPPED,       /* refused for good or gone: advance, leave unmarked */
    WB_EMAIL_RETRY,         /* not stored now (busy, storage, shutdown): fetch again later */
};

enum wb_email_outcome wb_email_imap_outcome(enum wb_status st);

/*
 * The new last_uid after a batch: uids[i] (ascending) with outcomes
 * out[i]; it advances over committed and skipped messages and stops
 * before the first one to retry. Never goes below last_uid.
 */
uint32_t wb_email_imap_advance(uint32_t last_uid, const uint32_t *uids,
                               const enum wb_email_outcome *out, size_t n);

/* Reconnect delay after `failures` consecutive failures (>= 1): 1 s doubling to 5 min. */
int64_t wb_email_imap_backoff_ms(int failures);

/* Read a decimal uint32 state value ("0".."4294967295", nothing else). */
WB_NODISCARD enum wb_status wb_email_parse_u32(const char *s, uint32_t *out);

/* True for "localhost", 127.0.0.0/8, "::1" and "[::1]". */
bool wb_email_host_is_loopback(const char *host);
/* True when host is an IPv4 or IPv6 address literal. Pure. */
bool wb_email_host_is_ip(const char *host);

#endif
