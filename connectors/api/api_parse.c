/*
 * api_parse.c - the generic API channel's wire format (pure).
 *
 * DESIGN: the signature is checked over the raw body before any JSON is
 * parsed; JSON is read with jansson (JSON_REJECT_DUPLICATES) and its values
 * never leave this file: strings are copied into the caller's arena.
 *
 * Thread: any.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "api_parse.h"
#include "hmac.h"

static const char content_json[] = "application/json";

void wb_api_error_answer(struct wb_arena *a, int status, const char *code, const char *msg,
                         struct wb_http_answer *out)
{
    json_t *o = json_pack("{s:s, s:s}", "error", code, "message", msg);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    out->status = status;
    out->content_type = content_json;
    out->body = wb_arena_strdup(a, s ? s : "{\"error\":\"internal\"}");
    out->body_len = strlen(out->body);
    free(s);
    json_decref(o);
}

enum wb_status wb_api_verify(const struct wb_secret *secret, const struct wb_http_request *req,
                             struct wb_arena *a, struct wb_http_answer *ans, struct wb_err *err)
{
    const char *sig = wb_http_header_get(req->headers, req->n_headers, WB_API_SIGNATURE_HEADER);
    static const char prefix[] = "sha256=";

    if (sig == NULL) {
        wb_api_error_answer(a, 401, "unauthorized", "missing X-Warbler-Signature header", ans);
        return wb_err_set(err, WB_ERR_AUTH, "missing signature header");
    }
    if (strncmp(sig, prefix, sizeof(prefix) - 1) != 0 ||
        !wb_hmac_sha256_hex_verify(secret->data, secret->len, req->body, req->body_len,
                                   sig + sizeof(prefix) - 1, strlen(sig + sizeof(prefix) - 1))) {
        wb_api_error_answer(a, 401, "unauthorized", "bad X-Warbler-Signature", ans);
        return wb_err_set(err, WB_ERR_AUTH, "signature mismatch");
    }
    return WB_OK;
}

static bool is_json(const char *ct)
{
    size_t n = sizeof(content_json) - 1;
    if (ct == NULL || strncasecmp(ct, content_json, n) != 0) {
        return false;
    }
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/*
 * Copy the string member key of obj into the arena. Missing is an error
 * only when required; a present member must be a string of 1..max bytes.
 */
static enum wb_status get_str(json_t *obj, const char *path, const char *key, bool required,
                              size_t max, struct wb_arena *a, const char **out, struct wb_err *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required) {
            return wb_err_set(err, WB_ERR_INVAL, "missing field %s.%s", path, key);
        }
        return WB_OK;
    }
    if (!json_is_string(v)) {
        return wb_err_set(err, WB_ERR_INVAL, "field %s.%s must be a string", path, key);
    }
    size_t n = json_string_length(v);
    if (n == 0 && required) {
        return wb_err_set(err, WB_ERR_INVAL, "field %s.%s must not be empty", path, key);
    }
    if (n > max) {
        return wb_err_set(err, WB_ERR_LIMIT, "field %s.%s is longer than %zu bytes", path, key,
                          max);
    }
    *out = wb_arena_strndup(a, json_string_value(v), n);
    return WB_OK;
}

static enum wb_status fill_inbound(json_t *root, const struct wb_limits *lim, struct wb_arena *a,
                                   struct wb_inbound *in, struct wb_err *err)
{
    json_t *sender = json_object_get(root, "sender");
    json_t *msg = json_object_get(root, "message");
    enum wb_status st;

    if (!json_is_object(sender)) {
        return wb_err_set(err, WB_ERR_INVAL, "missing object sender");
    }
    if (!json_is_object(msg)) {
        return wb_err_set(err, WB_ERR_INVAL, "missing object message");
    }
    st = get_str(sender, "sender", "id", true, WB_API_MAX_ID, a, &in->sender_id, err);
    if (st == WB_OK) {
        st = get_str(sender, "sender", "name", false, 256, a, &in->sender_name, err);
    }
    if (st == WB_OK) {
        st = get_str(sender, "sender", "email", false, 320, a, &in->sender_email, err);
    }
    if (st == WB_OK) {
        st = get_str(msg, "message", "id", true, WB_API_MAX_ID, a, &in->external_id, err);
    }
    if (st == WB_OK) {
        st = get_str(msg, "message", "text", true, lim->max_text, a, &in->text, err);
    }
    if (st == WB_OK && in->sender_email != NULL && strchr(in->sender_email, '@') == NULL) {
        st = wb_err_set(err, WB_ERR_INVAL, "field sender.email is not an address");
    }
    return st;
}

enum wb_status wb_api_parse(const struct wb_http_request *req, const struct wb_limits *lim,
                            struct wb_arena *a, struct wb_parse_out *out, struct wb_err *err)
{
    json_error_t jerr;
    json_t *root = NULL;
    enum wb_status st;
    struct wb_inbound *in;

    memset(out, 0, sizeof(*out));
    if (!is_json(wb_http_header_get(req->headers, req->n_headers, "Content-Type"))) {
        wb_api_error_answer(a, 415, "unsupported_media_type",
                            "Content-Type must be application/json", &out->answer);
        return wb_err_set(err, WB_ERR_INVAL, "content type is not application/json");
    }
    if (req->body_len > lim->max_body) {
        wb_api_error_answer(a, 413, "too_large", "request body too large", &out->answer);
        return wb_err_set(err, WB_ERR_LIMIT, "body of %zu bytes over the limit", req->body_len);
    }
    root = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        st = wb_err_set(err, WB_ERR_PARSE, "malformed JSON at line %d column %d: %s", jerr.line,
                        jerr.column, jerr.text);
        goto fail;
    }
    if (!json_is_object(root)) {
        st = wb_err_set(err, WB_ERR_PARSE, "body is not a JSON object");
        goto fail;
    }
    in = wb_arena_alloc(a, sizeof(*in));
    st = fill_inbound(root, lim, a, in, err);
    if (st != WB_OK) {
        goto fail;
    }
    in->raw = NULL;
    out->msgs = in;
    out->n_msgs = 1;
    out->answer.status = 200;
    out->answer.content_type = content_json;
    json_decref(root);
    return WB_OK;
fail:
    json_decref(root);
    wb_api_error_answer(a, st == WB_ERR_LIMIT ? 413 : 400,
                        st == WB_ERR_LIMIT ? "too_large" : "bad_request",
                        err ? err->msg : wb_status_str(st), &out->answer);
    return st;
}

void wb_api_answer(const struct wb_ingest_result *res, size_t n, struct wb_arena *a,
                   struct wb_http_answer *out)
{
    if (n != 1 || res[0].status != WB_OK) {
        wb_api_error_answer(a, 503, "unavailable", "message not stored, retry later", out);
        return;
    }
    out->status = 200;
    out->content_type = content_json;
    out->body =
        wb_arena_printf(a, "{\"conversation_id\":%lld,\"message_id\":%lld,\"duplicate\":%s}",
                        (long long)res[0].conversation_id, (long long)res[0].message_id,
                        res[0].duplicate ? "true" : "false");
    out->body_len = strlen(out->body);
}

enum wb_status wb_api_build_send(const struct wb_secret *secret, const char *callback_url,
                                 const struct wb_outbound *ob, struct wb_arena *a,
                                 struct wb_http_out *out, struct wb_err *err)
{
    char sig[WB_SHA256_HEX_LEN + 1];
    char mid[32];
    json_t *o;
    char *body;

    (void)snprintf(mid, sizeof(mid), "%lld", (long long)ob->message_id);
    o = json_pack("{s:I, s:{s:s}, s:{s:s, s:s, s:s}}", "conversation_id",
                  (json_int_t)ob->conversation_id, "recipient", "id", ob->recipient_id, "message",
                  "id", mid, "text", ob->text ? ob->text : "", "author", wb_author_str(ob->author));
    if (o == NULL) {
        return wb_err_set(err, WB_ERR_INVAL, "api: reply %lld is not valid UTF-8",
                          (long long)ob->message_id);
    }
    body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (body == NULL) {
        return wb_err_set(err, WB_ERR_INTERNAL, "api: cannot encode reply");
    }
    out->method = "POST";
    out->url = wb_arena_strdup(a, callback_url);
    out->body_len = strlen(body);
    out->body = (const uint8_t *)wb_arena_strndup(a, body, out->body_len);
    free(body);
    wb_hmac_sha256_hex(secret->data, secret->len, out->body, out->body_len, sig);
    out->n_headers = 3;
    out->headers = wb_arena_alloc(a, 3 * sizeof(struct wb_header));
    out->headers[0] = (struct wb_header){ "Content-Type", content_json };
    out->headers[1] =
        (struct wb_header){ WB_API_SIGNATURE_HEADER, wb_arena_printf(a, "sha256=%s", sig) };
    out->headers[2] =
        (struct wb_header){ "Idempotency-Key", wb_arena_strdup(a, ob->idempotency_key) };
    return WB_OK;
}

void wb_api_read_send_result(const struct wb_http_resp *resp, struct wb_send_result *out)
{
    memset(out, 0, sizeof(*out));
    if (resp->transport != WB_OK) {
        out->outcome = WB_SEND_RETRY;
        (void)snprintf(out->reason, sizeof(out->reason), "callback unreachable: %s",
                       resp->transport_error ? resp->transport_error
                                             : wb_status_str(resp->transport));
        return;
    }
    if (resp->status >= 200 && resp->status < 300) {
        out->outcome = WB_SEND_OK;
        return;
    }
    out->outcome = (resp->status == 429 || resp->status >= 500) ? WB_SEND_RETRY : WB_SEND_PERMANENT;
    out->retry_after_ms = wb_http_retry_after_ms(
        wb_http_header_get(resp->headers, resp->n_headers, "Retry-After"), resp->now_ms);
    (void)snprintf(out->reason, sizeof(out->reason), "callback answered HTTP %ld", resp->status);
}
