/*
 * store.h - the storage interface.
 *
 * Callers see only this header; no SQLite or libpq type appears here. A
 * driver (src/store/sqlite.c first, PostgreSQL later) implements it. Only
 * src/store/ speaks SQL.
 *
 * A struct wb_store is one connection, owned by one thread for its whole
 * life: the core thread owns the read-write one; reader threads open
 * read-only ones. Writes happen inside wb_store_begin()/commit(); the core
 * runs one transaction per batch (group commit).
 *
 * Times are int64 milliseconds since the epoch. Ids are int64 > 0.
 * Strings returned in out-structs are owned by the caller unless stated;
 * free the struct with its _free function.
 */
#ifndef WARBLER_STORE_H
#define WARBLER_STORE_H

#include <warbler/common.h>
#include <warbler/message.h>

struct wb_store;

struct wb_store_options {
    const char *driver;      /* "sqlite" */
    const char *path;        /* sqlite: database file */
    bool read_only;          /* open without migrating, queries only */
    int64_t busy_timeout_ms; /* wait on a locked database */
    bool synchronous_full;   /* sqlite: synchronous=FULL instead of NORMAL in WAL */
    /* sqlite, read-write: WAL checkpoints on a thread of the store's, not in COMMIT */
    bool background_checkpoint;
};

/*
 * Open a connection. A read-write open creates the database if needed and
 * runs pending migrations (keyed by the schema version), all before
 * returning. A read-only open never migrates and fails (WB_ERR_STORAGE)
 * unless the file is at this build's schema version; writes through it
 * fail with WB_ERR_STORAGE. Thread: the owning thread.
 */
WB_NODISCARD enum wb_status wb_store_open(const struct wb_store_options *opt, struct wb_store **out,
                                          struct wb_err *err);
void wb_store_close(struct wb_store *st);

/* Schema version after migrations. */
int wb_store_schema_version(struct wb_store *st);

/*
 * Transactions. begin fails with WB_ERR_INVAL when one is already open.
 * When commit fails the transaction is still open: call rollback.
 * rollback is a no-op without an open transaction.
 */
WB_NODISCARD enum wb_status wb_store_begin(struct wb_store *st, struct wb_err *err);
WB_NODISCARD enum wb_status wb_store_commit(struct wb_store *st, struct wb_err *err);
void wb_store_rollback(struct wb_store *st);

/*
 * Savepoints, so one bad message in a batch is rolled back alone.
 * Names are fixed by the driver; they nest. Only inside a transaction
 * (WB_ERR_INVAL otherwise). Close each savepoint with exactly one of
 * release (keep its work) or rollback_to (undo its work and close it;
 * the transaction goes on). Outside a savepoint every call is atomic on
 * its own; inside one, a call that fails may leave part of its work, and
 * the caller must roll back to the savepoint (it saves each multi-statement
 * call two statements on the ingest path).
 */
WB_NODISCARD enum wb_status wb_store_savepoint(struct wb_store *st, struct wb_err *err);
WB_NODISCARD enum wb_status wb_store_release(struct wb_store *st, struct wb_err *err);
void wb_store_rollback_to(struct wb_store *st);

/* ---- conversation model ---- */

enum wb_owner {
    WB_OWNER_BOT = 0,
    WB_OWNER_QUEUED, /* waiting for a human */
    WB_OWNER_AGENT,
    WB_OWNER_RESOLVED,
};

const char *wb_owner_str(enum wb_owner o);

enum wb_delivery {
    WB_DELIVERY_NONE = 0, /* inbound or note */
    WB_DELIVERY_PENDING,
    WB_DELIVERY_SENT,
    WB_DELIVERY_DEAD,
    WB_DELIVERY_DRAFT, /* a bot reply waiting for the LLM; no outbox row yet */
};

/* The stored message found by (channel, external id). */
struct wb_msg_ref {
    int64_t message_id;
    int64_t conversation_id;
    int64_t contact_id;
};

/*
 * Look up a message by (channel_id, external_id).
 * Returns WB_OK and fills out, or WB_ERR_NOTFOUND.
 */
WB_NODISCARD enum wb_status wb_store_message_find(struct wb_store *st, const char *channel_id,
                                                  const char *external_id, struct wb_msg_ref *out,
                                                  struct wb_err *err);

/*
 * Find the identity (channel_id, external_id) or create it with a new
 * contact. name and email (may be NULL) update the identity's display
 * fields; they never merge contacts. Returns the contact and identity ids.
 */
WB_NODISCARD enum wb_status wb_store_identity_resolve(struct wb_store *st, const char *channel_id,
                                                      const char *external_id, const char *name,
                                                      const char *email, int64_t now_ms,
                                                      int64_t *contact_id_out,
                                                      int64_t *identity_id_out, struct wb_err *err);

/*
 * The identity's display fields as stored (each may be NULL; owned).
 * WB_ERR_NOTFOUND when there is no such identity.
 */
WB_NODISCARD enum wb_status wb_store_identity_display(struct wb_store *st, const char *channel_id,
                                                      const char *external_id, char **name_out,
                                                      char **email_out, struct wb_err *err);

struct wb_conversation {
    int64_t id;
    int64_t contact_id;
    char *channel_id;
    char *subject; /* may be NULL */
    char *topic;   /* normalized subject key, may be NULL */
    enum wb_owner owner;
    int64_t last_seq;
    int64_t created_ms;
    int64_t updated_ms;
};

void wb_conversation_free(struct wb_conversation *c);

/*
 * Find the conversation a new inbound message joins, for this contact only:
 * the conversation of any stored message whose external id (on this
 * channel) is in refs; else the newest open conversation on the channel
 * whose topic equals topic and that was updated within topic_window_ms
 * (when topic is not NULL); else, when topic is NULL, the newest open
 * (not resolved) conversation of the contact on the channel.
 * A topic_window_ms <= 0 means the topic is not used (as in struct
 * wb_inbound): the call then behaves as if topic were NULL.
 * Returns WB_ERR_NOTFOUND when none matches. out is owned by the caller
 * on WB_OK (free with wb_conversation_free()).
 */
WB_NODISCARD enum wb_status wb_store_conversation_match(struct wb_store *st, int64_t contact_id,
                                                        const char *channel_id,
                                                        const char *const *refs, size_t n_refs,
                                                        const char *topic, int64_t topic_window_ms,
                                                        int64_t now_ms, struct wb_conversation *out,
                                                        struct wb_err *err);

/* Open a new conversation owned by the bot. */
WB_NODISCARD enum wb_status
wb_store_conversation_create(struct wb_store *st, int64_t contact_id, const char *channel_id,
                             const char *subject, const char *topic, int64_t now_ms,
                             struct wb_conversation *out, struct wb_err *err);

WB_NODISCARD enum wb_status wb_store_conversation_get(struct wb_store *st, int64_t id,
                                                      struct wb_conversation *out,
                                                      struct wb_err *err);

WB_NODISCARD enum wb_status wb_store_conversation_set_owner(struct wb_store *st, int64_t id,
                                                            enum wb_owner owner, int64_t now_ms,
                                                            struct wb_err *err);

/* A message to append. Borrowed strings. */
struct wb_store_message {
    int64_t conversation_id;
    enum wb_direction direction;
    enum wb_author author;
    const char *channel_id;
    const char *external_id; /* may be NULL (outbound before sending) */
    int64_t identity_id;     /* sender or recipient identity, 0 if none */
    const char *text;
    const char *full_text; /* may be NULL */
    const char *subject;   /* may be NULL */
    const uint8_t *raw;    /* may be NULL */
    size_t raw_len;
    enum wb_delivery delivery;
    int64_t created_ms;
};

/*
 * Append a message with the conversation's next sequence number.
 * Returns WB_ERR_DUPLICATE if (channel_id, external_id) already exists.
 */
WB_NODISCARD enum wb_status wb_store_message_append(struct wb_store *st,
                                                    const struct wb_store_message *m,
                                                    int64_t *id_out, int64_t *seq_out,
                                                    struct wb_err *err);

struct wb_stored_message {
    int64_t id;
    int64_t conversation_id;
    int64_t seq;
    enum wb_direction direction;
    enum wb_author author;
    char *channel_id;
    char *external_id; /* may be NULL */
    char *text;
    enum wb_delivery delivery;
    char *delivery_error; /* may be NULL */
    int64_t created_ms;
};

void wb_stored_message_free(struct wb_stored_message *m);

/*
 * The text of the newest message the contact wrote in the conversation
 * (owned), or NULL when there is none: the previous turn for the bot.
 */
WB_NODISCARD enum wb_status wb_store_last_contact_text(struct wb_store *st, int64_t conversation_id,
                                                       char **text_out, struct wb_err *err);

/*
 * Messages of a conversation with seq > after_seq, oldest first, at most
 * max. *out is an owned array of *n_out entries; free each entry and the
 * array with wb_stored_messages_free().
 */
WB_NODISCARD enum wb_status wb_store_messages_list(struct wb_store *st, int64_t conversation_id,
                                                   int64_t after_seq, size_t max,
                                                   struct wb_stored_message **out, size_t *n_out,
                                                   struct wb_err *err);
void wb_stored_messages_free(struct wb_stored_message *v, size_t n);

/* Replace a message's text (NULL keeps it) and delivery state (a draft becoming final). */
WB_NODISCARD enum wb_status wb_store_message_set_text(struct wb_store *st, int64_t id,
                                                      const char *text, enum wb_delivery delivery,
                                                      struct wb_err *err);

/* A draft reply left by a crash, with what is needed to queue it. Owned. */
struct wb_draft {
    int64_t message_id;
    int64_t conversation_id;
    char *channel_id;
    char *recipient_id; /* the identity's external id */
};

/*
 * Drafts (delivery WB_DELIVERY_DRAFT) with id > after_id, oldest first, at
 * most max; free with wb_drafts_free().
 */
WB_NODISCARD enum wb_status wb_store_drafts_list(struct wb_store *st, int64_t after_id, size_t max,
                                                 struct wb_draft **out, size_t *n_out,
                                                 struct wb_err *err);
void wb_drafts_free(struct wb_draft *v, size_t n);

/* Record an attachment stored as path (relative to the state directory). */
WB_NODISCARD enum wb_status wb_store_attachment_add(struct wb_store *st, int64_t message_id,
                                                    const char *filename, const char *content_type,
                                                    int64_t size, const char *path, bool is_inline,
                                                    int64_t now_ms, struct wb_err *err);

/* How many automatic (bot) replies went to an identity since since_ms. */
WB_NODISCARD enum wb_status wb_store_bot_replies_since(struct wb_store *st, int64_t identity_id,
                                                       int64_t since_ms, int64_t *n_out,
                                                       struct wb_err *err);

/* ---- outbox ---- */

enum wb_outbox_state {
    WB_OUTBOX_PENDING = 0,
    WB_OUTBOX_SENT,
    WB_OUTBOX_DEAD,
};

/* A row to add, in the same transaction as the message it delivers. */
struct wb_outbox_new {
    int64_t message_id;
    int64_t conversation_id;
    const char *channel_id;
    const char *recipient_id; /* identity external id */
    int64_t next_attempt_ms;
    int64_t now_ms; /* creation time; 0 = use next_attempt_ms */
};

/* Add an outbox row; the idempotency key is derived from the row id. */
WB_NODISCARD enum wb_status wb_store_outbox_add(struct wb_store *st, const struct wb_outbox_new *o,
                                                int64_t *id_out, struct wb_err *err);

struct wb_outbox_item;

/*
 * Add an outbox row like wb_store_outbox_add and fill *item (owned) with
 * what wb_store_outbox_get would read back once committed, without reading
 * it: the reply's text, author and the conversation's subject as given,
 * the recipient's display fields, and the thread's external ids on the
 * channel only when want_refs (a connector that threads replies).
 */
WB_NODISCARD enum wb_status
wb_store_outbox_add_item(struct wb_store *st, const struct wb_outbox_new *o, const char *text,
                         enum wb_author author, const char *subject, bool want_refs,
                         struct wb_outbox_item *item, struct wb_err *err);

/* A pending delivery, loaded with everything a connector needs. Owned. */
struct wb_outbox_item {
    int64_t id;
    int64_t message_id;
    int64_t conversation_id;
    char *channel_id;
    char *recipient_id;
    char *recipient_name;  /* may be NULL */
    char *recipient_email; /* may be NULL */
    char *text;
    enum wb_author author;
    char *subject; /* may be NULL */
    char *idempotency_key;
    char **thread_refs; /* external ids of the conversation's messages on this
                           channel, oldest first, at most the 20 newest */
    size_t n_thread_refs;
    int attempts; /* attempts made so far */
    int64_t next_attempt_ms;
    char *last_error; /* may be NULL */
};

void wb_outbox_item_free(struct wb_outbox_item *it);

/* Load one outbox row with its message, whatever its state. */
WB_NODISCARD enum wb_status wb_store_outbox_get(struct wb_store *st, int64_t id,
                                                struct wb_outbox_item *out, struct wb_err *err);

/*
 * Pending rows with id > after_id, ordered by id, at most max; an owned
 * array freed with wb_outbox_items_free().
 */
WB_NODISCARD enum wb_status wb_store_outbox_pending(struct wb_store *st, int64_t after_id,
                                                    size_t max, struct wb_outbox_item **out,
                                                    size_t *n_out, struct wb_err *err);
void wb_outbox_items_free(struct wb_outbox_item *v, size_t n);

/*
 * sent, retry and dead change only a pending row: WB_ERR_NOTFOUND when the
 * row does not exist or has already left the pending state.
 */

/*
 * Mark delivered: sets the message's external id (may be NULL: keep the
 * current one) and delivery state. WB_ERR_DUPLICATE if that external id is
 * already stored on the channel (nothing is changed then).
 */
WB_NODISCARD enum wb_status wb_store_outbox_sent(struct wb_store *st, int64_t id,
                                                 const char *external_id, int attempts,
                                                 int64_t now_ms, struct wb_err *err);
/* Record a failed attempt to be retried at next_attempt_ms. */
WB_NODISCARD enum wb_status wb_store_outbox_retry(struct wb_store *st, int64_t id, int attempts,
                                                  int64_t next_attempt_ms, const char *error,
                                                  struct wb_err *err);
/* Give up: state dead, the error kept for the agent (also on the message). */
WB_NODISCARD enum wb_status wb_store_outbox_dead(struct wb_store *st, int64_t id, int attempts,
                                                 const char *error, int64_t now_ms,
                                                 struct wb_err *err);

struct wb_outbox_counts {
    int64_t pending;
    int64_t sent;
    int64_t dead;
};

WB_NODISCARD enum wb_status
wb_store_outbox_counts(struct wb_store *st, struct wb_outbox_counts *out, struct wb_err *err);

/* ---- events (live updates resume from a sequence number) ---- */

WB_NODISCARD enum wb_status wb_store_event_append(struct wb_store *st, const char *kind,
                                                  int64_t conversation_id, int64_t message_id,
                                                  int64_t now_ms, int64_t *event_id_out,
                                                  struct wb_err *err);

/* ---- agents ---- */

WB_NODISCARD enum wb_status wb_store_agent_upsert(struct wb_store *st, const char *login,
                                                  const char *name, const char *email,
                                                  int64_t now_ms, int64_t *id_out,
                                                  struct wb_err *err);

/* ---- per-channel state (e.g. IMAP UIDVALIDITY and last UID) ---- */

/* Returns WB_ERR_NOTFOUND when unset; *value_out is owned. */
WB_NODISCARD enum wb_status wb_store_channel_state_get(struct wb_store *st, const char *channel_id,
                                                       const char *key, char **value_out,
                                                       struct wb_err *err);
WB_NODISCARD enum wb_status wb_store_channel_state_set(struct wb_store *st, const char *channel_id,
                                                       const char *key, const char *value,
                                                       struct wb_err *err);

/* ---- counts for status and tests ---- */

struct wb_store_stats {
    int64_t contacts;
    int64_t conversations;
    int64_t messages;
    int64_t messages_in;
    int64_t messages_out;
};

WB_NODISCARD enum wb_status wb_store_stats_get(struct wb_store *st, struct wb_store_stats *out,
                                               struct wb_err *err);

#endif
