/*
 * sqlite_sql.c - every request-time SQL text of the SQLite driver.
 *
 * DESIGN: one table indexed by enum wb_sq_id, so the statement cache is a
 * plain array and each query can be read next to its neighbours. Values
 * are always bound (?N); enum values (owner, direction, state, delivery)
 * are bound too, so no C constant is spelled twice. The SQL keeps to what
 * PostgreSQL also accepts (RETURNING, ON CONFLICT ... DO UPDATE) where
 * that costs nothing, so a second driver can start from these texts.
 *
 * Thread: any (constant data).
 */
#include "sqlite_priv.h"

#define CONV_COLS                                                                 \
    "c.id, c.contact_id, c.channel_id, c.subject, c.topic, c.owner, c.last_seq, " \
    "c.created_ms, c.updated_ms"

#define ITEM_SELECT                                                                            \
    "SELECT o.id, o.message_id, o.conversation_id, o.channel_id, o.recipient_id, i.name, "     \
    "i.email, m.text, m.author, c.subject, o.idempotency_key, o.attempts, o.next_attempt_ms, " \
    "o.last_error FROM outbox o JOIN messages m ON m.id = o.message_id "                       \
    "JOIN conversations c ON c.id = o.conversation_id "                                        \
    "LEFT JOIN identities i ON i.channel_id = o.channel_id AND i.external_id = o.recipient_id "

/* the partial index messages_bot_replies (migration 5) spells these as 1 */
_Static_assert(WB_AUTHOR_BOT == 1 && WB_DIR_OUT == 1, "messages_bot_replies literals");

static const char *const sq_sql[WB_SQ_COUNT] = {
    [WB_SQ_BEGIN] = "BEGIN IMMEDIATE",
    [WB_SQ_BEGIN_READ] = "BEGIN",
    [WB_SQ_COMMIT] = "COMMIT",
    [WB_SQ_ROLLBACK] = "ROLLBACK",
    [WB_SQ_SAVEPOINT] = "SAVEPOINT wb_sp",
    [WB_SQ_RELEASE] = "RELEASE wb_sp",
    [WB_SQ_ROLLBACK_TO] = "ROLLBACK TO wb_sp",
    [WB_SQ_OP_SAVEPOINT] = "SAVEPOINT wb_op",
    [WB_SQ_OP_RELEASE] = "RELEASE wb_op",
    [WB_SQ_OP_ROLLBACK_TO] = "ROLLBACK TO wb_op",

    [WB_SQ_MSG_FIND] = "SELECT m.id, m.conversation_id, c.contact_id FROM messages m "
                       "JOIN conversations c ON c.id = m.conversation_id "
                       "WHERE m.channel_id = ?1 AND m.external_id = ?2",
    [WB_SQ_IDENT_FIND] = "SELECT id, contact_id, name, email FROM identities "
                         "WHERE channel_id = ?1 AND external_id = ?2",
    [WB_SQ_IDENT_UPDATE] =
        "UPDATE identities SET name = coalesce(?1, name), "
        "email = coalesce(?2, email), updated_ms = ?3 WHERE id = ?4 "
        "AND (name IS NOT coalesce(?1, name) OR email IS NOT coalesce(?2, email))",
    [WB_SQ_CONTACT_INSERT] = "INSERT INTO contacts (name, created_ms, updated_ms) "
                             "VALUES (?1, ?2, ?2)",
    [WB_SQ_IDENT_INSERT] = "INSERT INTO identities (contact_id, channel_id, external_id, name, "
                           "email, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    [WB_SQ_CONV_BY_REF] = "SELECT " CONV_COLS " FROM messages m "
                          "JOIN conversations c ON c.id = m.conversation_id "
                          "WHERE m.channel_id = ?1 AND m.external_id = ?2 AND c.contact_id = ?3",
    [WB_SQ_CONV_BY_TOPIC] = "SELECT " CONV_COLS " FROM conversations c "
                            "WHERE c.contact_id = ?1 AND c.channel_id = ?2 AND c.owner <> ?3 "
                            "AND c.topic = ?4 AND c.updated_ms >= ?5 "
                            "ORDER BY c.updated_ms DESC, c.id DESC LIMIT 1",
    [WB_SQ_CONV_NEWEST_OPEN] = "SELECT " CONV_COLS " FROM conversations c "
                               "WHERE c.contact_id = ?1 AND c.channel_id = ?2 AND c.owner <> ?3 "
                               "ORDER BY c.updated_ms DESC, c.id DESC LIMIT 1",
    [WB_SQ_CONV_INSERT] = "INSERT INTO conversations (contact_id, channel_id, subject, topic, "
                          "owner, last_seq, created_ms, updated_ms) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?6)",
    [WB_SQ_CONV_GET] = "SELECT " CONV_COLS " FROM conversations c WHERE c.id = ?1",
    [WB_SQ_CONV_SET_OWNER] = "UPDATE conversations SET owner = ?1, "
                             "updated_ms = max(updated_ms, ?2) WHERE id = ?3",
    [WB_SQ_CONV_SET_SEQ] = "UPDATE conversations SET last_seq = ?1, "
                           "updated_ms = max(updated_ms, ?2) WHERE id = ?3 AND last_seq = ?4",
    [WB_SQ_CONV_NEXT_SEQ] = "UPDATE conversations SET last_seq = last_seq + 1, "
                            "updated_ms = max(updated_ms, ?1) WHERE id = ?2 "
                            "RETURNING last_seq, updated_ms",
    [WB_SQ_MSG_INSERT] = "INSERT INTO messages (conversation_id, seq, direction, author, "
                         "channel_id, external_id, identity_id, text, full_text, subject, raw, "
                         "delivery, created_ms) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [WB_SQ_MSG_LIST] = "SELECT id, conversation_id, seq, direction, author, channel_id, "
                       "external_id, text, delivery, delivery_error, created_ms FROM messages "
                       "WHERE conversation_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    [WB_SQ_MSG_LAST_CONTACT] = "SELECT text FROM messages WHERE conversation_id = ?1 "
                               "AND author = ?2 ORDER BY seq DESC LIMIT 1",
    [WB_SQ_MSG_SET_TEXT] =
        "UPDATE messages SET text = coalesce(?1, text), delivery = ?2 WHERE id = ?3",
    [WB_SQ_ATTACH_INSERT] = "INSERT INTO attachments (message_id, filename, content_type, size, "
                            "path, is_inline, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    /* literals, not bound: SQLite uses a partial index only for constants */
    [WB_SQ_REPLIES_SINCE] = "SELECT count(*) FROM messages WHERE identity_id = ?1 AND author = 1 "
                            "AND direction = 1 AND created_ms >= ?2",
    [WB_SQ_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [WB_SQ_DRAFTS] = "SELECT m.id, m.conversation_id, m.channel_id, i.external_id "
                     "FROM messages m JOIN identities i ON i.id = m.identity_id "
                     "WHERE m.delivery = ?1 AND m.id > ?2 ORDER BY m.id LIMIT ?3",

    [WB_SQ_OUTBOX_INSERT] = "INSERT INTO outbox (message_id, conversation_id, channel_id, "
                            "recipient_id, state, attempts, next_attempt_ms, created_ms, "
                            "updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?7)",
    [WB_SQ_OUTBOX_GET] = ITEM_SELECT "WHERE o.id = ?1",
    [WB_SQ_OUTBOX_PENDING] = ITEM_SELECT "WHERE o.state = ?1 AND o.id > ?2 ORDER BY o.id LIMIT ?3",
    [WB_SQ_OUTBOX_REFS] = "SELECT external_id FROM (SELECT external_id, seq FROM messages "
                          "WHERE conversation_id = ?1 AND channel_id = ?2 "
                          "AND external_id IS NOT NULL ORDER BY seq DESC LIMIT ?3) ORDER BY seq",
    [WB_SQ_OUTBOX_SENT] = "UPDATE outbox SET state = ?1, attempts = ?2, updated_ms = ?3, "
                          "last_error = NULL WHERE id = ?4 AND state = ?5",
    [WB_SQ_MSG_SET_SENT] = "UPDATE messages SET external_id = coalesce(?1, external_id), "
                           "delivery = ?2, delivery_error = NULL "
                           "WHERE id = (SELECT message_id FROM outbox WHERE id = ?3)",
    [WB_SQ_OUTBOX_RETRY] = "UPDATE outbox SET attempts = ?1, next_attempt_ms = ?2, "
                           "last_error = ?3 WHERE id = ?4 AND state = ?5",
    [WB_SQ_OUTBOX_DEAD] = "UPDATE outbox SET state = ?1, attempts = ?2, last_error = ?3, "
                          "updated_ms = ?4 WHERE id = ?5 AND state = ?6",
    [WB_SQ_MSG_SET_DEAD] = "UPDATE messages SET delivery_error = ?1, delivery = ?2 "
                           "WHERE id = (SELECT message_id FROM outbox WHERE id = ?3)",
    [WB_SQ_OUTBOX_COUNTS] = "SELECT state, count(*) FROM outbox GROUP BY state",
    [WB_SQ_EVENT_INSERT] = "INSERT INTO events (kind, conversation_id, message_id, created_ms) "
                           "VALUES (?1, ?2, ?3, ?4)",
    [WB_SQ_AGENT_UPSERT] = "INSERT INTO agents (login, name, email, created_ms, updated_ms) "
                           "VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (login) DO UPDATE SET "
                           "name = excluded.name, email = excluded.email, "
                           "updated_ms = excluded.updated_ms RETURNING id",
    [WB_SQ_CSTATE_GET] = "SELECT value FROM channel_state WHERE channel_id = ?1 AND key = ?2",
    [WB_SQ_CSTATE_SET] = "INSERT INTO channel_state (channel_id, key, value) VALUES (?1, ?2, ?3) "
                         "ON CONFLICT (channel_id, key) DO UPDATE SET value = excluded.value",
    [WB_SQ_STATS] = "SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM conversations), "
                    "(SELECT count(*) FROM messages), "
                    "(SELECT count(*) FROM messages WHERE direction = ?1), "
                    "(SELECT count(*) FROM messages WHERE direction = ?2)",
};

const char *wb_sq_sql(enum wb_sq_id id)
{
    wb_assert((size_t)id < WB_ARRAY_LEN(sq_sql) && sq_sql[id] != NULL);
    return sq_sql[id];
}
