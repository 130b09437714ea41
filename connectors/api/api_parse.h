/*
 * api_parse.h - pure functions of the generic API channel.
 *
 * Inbound:  POST /hooks/{channel-id}, Content-Type: application/json,
 *           X-Warbler-Signature: sha256=<hex HMAC-SHA256(body, secret)>,
 *           {"sender":{"id","name"?,"email"?},"message":{"id","text"}}.
 * Outbound: POST callback_url, the same signature header, an
 *           Idempotency-Key header, {"conversation_id", "recipient":{"id"},
 *           "message":{"id","text","author"}}.
 *
 * No I/O, clock or globals: bytes in, values or an error out.
 * Thread: any.
 */
#ifndef WB_API_PARSE_H
#define WB_API_PARSE_H

#include <warbler/connector.h>

#define WB_API_SIGNATURE_HEADER "X-Warbler-Signature"
#define WB_API_MAX_ID           256

/*
 * Check the X-Warbler-Signature header of req against secret. On failure
 * fills ans with a 401 JSON answer (arena) and returns WB_ERR_AUTH.
 */
WB_NODISCARD enum wb_status wb_api_verify(const struct wb_secret *secret,
                                          const struct wb_http_request *req, struct wb_arena *a,
                                          struct wb_http_answer *ans, struct wb_err *err);

/*
 * Parse the JSON body into one message. On bad input fills out->answer with
 * a 400/413/415 JSON answer and returns WB_ERR_PARSE, WB_ERR_LIMIT or
 * WB_ERR_INVAL.
 */
WB_NODISCARD enum wb_status wb_api_parse(const struct wb_http_request *req,
                                         const struct wb_limits *lim, struct wb_arena *a,
                                         struct wb_parse_out *out, struct wb_err *err);

/* The 200 answer after commit (or 503 when the commit failed). */
void wb_api_answer(const struct wb_ingest_result *res, size_t n, struct wb_arena *a,
                   struct wb_http_answer *out);

/* Build the signed callback request for a reply. */
WB_NODISCARD enum wb_status wb_api_build_send(const struct wb_secret *secret,
                                              const char *callback_url,
                                              const struct wb_outbound *ob, struct wb_arena *a,
                                              struct wb_http_out *out, struct wb_err *err);

/* 2xx sent; 429, 5xx and transport errors retried; other statuses permanent. */
void wb_api_read_send_result(const struct wb_http_resp *resp, struct wb_send_result *out);

/* A JSON error answer {"error":code,"message":msg} in the arena. */
void wb_api_error_answer(struct wb_arena *a, int status, const char *code, const char *msg,
                         struct wb_http_answer *out);

#endif
