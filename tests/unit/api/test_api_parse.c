/*
 * test_api_parse.c - the API channel's pure functions, table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_parse.h"
#include "hmac.h"

static const char key[] = "0123456789abcdef-test-secret";
static const struct wb_secret secret = { (unsigned char *)(uintptr_t)key, sizeof(key) - 1 };
static const struct wb_limits lim = { .max_body = 4096, .max_text = 64, .max_messages = 10 };

struct hdrs {
    struct wb_header h[4];
    char sig[80];
};

static void make_req(struct wb_http_request *r, struct hdrs *hs, const char *body,
                     const char *ctype, const char *sig_override)
{
    char hex[WB_SHA256_HEX_LEN + 1];
    size_t n = 0;
    memset(r, 0, sizeof(*r));
    wb_hmac_sha256_hex(key, sizeof(key) - 1, body, strlen(body), hex);
    (void)snprintf(hs->sig, sizeof(hs->sig), "sha256=%s", hex);
    if (ctype != NULL) {
        hs->h[n++] = (struct wb_header){ "Content-Type", ctype };
    }
    if (sig_override == NULL || sig_override[0] != '-') {
        hs->h[n++] =
            (struct wb_header){ "x-warbler-signature", sig_override ? sig_override : hs->sig };
    }
    r->method = "POST";
    r->path = "/hooks/api-main";
    r->query = "";
    r->headers = hs->h;
    r->n_headers = n;
    r->body = (const uint8_t *)body;
    r->body_len = strlen(body);
}

static void test_verify(void **state)
{
    static const struct {
        const char *label;
        const char *sig; /* NULL = correct, "-" = absent */
        enum wb_status want;
    } rows[] = {
        { "good", NULL, WB_OK },
        { "missing", "-", WB_ERR_AUTH },
        { "no prefix", "0000", WB_ERR_AUTH },
        { "wrong hex", "sha256=0000000000000000000000000000000000000000000000000000000000000000",
          WB_ERR_AUTH },
        { "short", "sha256=abc", WB_ERR_AUTH },
        { "uppercase prefix", "SHA256=00", WB_ERR_AUTH },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct wb_http_request r;
        struct hdrs hs;
        struct wb_arena a = WB_ARENA_INIT;
        struct wb_http_answer ans;
        memset(&ans, 0, sizeof(ans));
        make_req(&r, &hs, "{\"x\":1}", "application/json", rows[i].sig);
        enum wb_status st = wb_api_verify(&secret, &r, &a, &ans, NULL);
        if (st != rows[i].want) {
            fail_msg("%s: got %s", rows[i].label, wb_status_str(st));
        }
        if (st != WB_OK) {
            assert_int_equal(ans.status, 401);
            assert_non_null(strstr(ans.body, "\"error\""));
        }
        wb_arena_free(&a);
    }
}

static void test_verify_tampered_body(void **state)
{
    struct wb_http_request r;
    struct hdrs hs;
    struct wb_arena a = WB_ARENA_INIT;
    struct wb_http_answer ans;
    (void)state;
    make_req(&r, &hs, "{\"a\":1}", "application/json", NULL);
    r.body = (const uint8_t *)"{\"a\":2}";
    assert_int_equal(wb_api_verify(&secret, &r, &a, &ans, NULL), WB_ERR_AUTH);
    wb_arena_free(&a);
}

static void test_parse(void **state)
{
    static const struct {
        const char *label;
        const char *body;
        const char *ctype;
        enum wb_status want;
        int want_http;
        const char *want_sender, *want_name, *want_email, *want_id, *want_text;
    } rows[] = {
        { "full",
          "{\"sender\":{\"id\":\"u-42\",\"name\":\"Li Lei\",\"email\":\"li@example.com\"},"
          "\"message\":{\"id\":\"m-1001\",\"text\":\"hello\"}}",
          "application/json", WB_OK, 200, "u-42", "Li Lei", "li@example.com", "m-1001", "hello" },
        { "no email", "{\"sender\":{\"id\":\"u\"},\"message\":{\"id\":\"m\",\"text\":\"你好\"}}",
          "application/json; charset=utf-8", WB_OK, 200, "u", NULL, NULL, "m", "你好" },
        { "null name",
          "{\"sender\":{\"id\":\"u\",\"name\":null},\"message\":{\"id\":\"m\",\"text\":\"t\"}}",
          "application/json", WB_OK, 200, "u", NULL, NULL, "m", "t" },
        { "bad json", "{\"sender\":", "application/json", WB_ERR_PARSE, 400, NULL, NULL, NULL, NULL,
          NULL },
        { "not object", "[1,2]", "application/json", WB_ERR_PARSE, 400, NULL, NULL, NULL, NULL,
          NULL },
        { "empty body", "", "application/json", WB_ERR_PARSE, 400, NULL, NULL, NULL, NULL, NULL },
        { "no sender", "{\"message\":{\"id\":\"m\",\"text\":\"t\"}}", "application/json",
          WB_ERR_INVAL, 400, NULL, NULL, NULL, NULL, NULL },
        { "no message", "{\"sender\":{\"id\":\"u\"}}", "application/json", WB_ERR_INVAL, 400, NULL,
          NULL, NULL, NULL, NULL },
        { "no message id", "{\"sender\":{\"id\":\"u\"},\"message\":{\"text\":\"t\"}}",
          "application/json", WB_ERR_INVAL, 400, NULL, NULL, NULL, NULL, NULL },
        { "empty sender id", "{\"sender\":{\"id\":\"\"},\"message\":{\"id\":\"m\",\"text\":\"t\"}}",
          "application/json", WB_ERR_INVAL, 400, NULL, NULL, NULL, NULL, NULL },
        { "id not string", "{\"sender\":{\"id\":42},\"message\":{\"id\":\"m\",\"text\":\"t\"}}",
          "application/json", WB_ERR_INVAL, 400, NULL, NULL, NULL, NULL, NULL },
        { "text not string", "{\"sender\":{\"id\":\"u\"},\"message\":{\"id\":\"m\",\"text\":[]}}",
          "application/json", WB_ERR_INVAL, 400, NULL, NULL, NULL, NULL, NULL },
        { "bad email",
          "{\"sender\":{\"id\":\"u\",\"email\":\"nope\"},\"message\":{\"id\":\"m\","
          "\"text\":\"t\"}}",
          "application/json", WB_ERR_INVAL, 400, NULL, NULL, NULL, NULL, NULL },
        { "duplicate key",
          "{\"sender\":{\"id\":\"u\",\"id\":\"v\"},\"message\":{\"id\":\"m\","
          "\"text\":\"t\"}}",
          "application/json", WB_ERR_PARSE, 400, NULL, NULL, NULL, NULL, NULL },
        { "text too long",
          "{\"sender\":{\"id\":\"u\"},\"message\":{\"id\":\"m\",\"text\":\""
          "0123456789012345678901234567890123456789012345678901234567890123456789"
          "\"}}",
          "application/json", WB_ERR_LIMIT, 413, NULL, NULL, NULL, NULL, NULL },
        { "nul in text",
          "{\"sender\":{\"id\":\"u\"},\"message\":{\"id\":\"m\",\"text\":\"a\\u0000b\"}}",
          "application/json", WB_ERR_PARSE, 400, NULL, NULL, NULL, NULL, NULL },
        { "wrong content type", "{}", "text/plain", WB_ERR_INVAL, 415, NULL, NULL, NULL, NULL,
          NULL },
        { "no content type", "{}", NULL, WB_ERR_INVAL, 415, NULL, NULL, NULL, NULL, NULL },
        { "json prefix type", "{}", "application/jsonx", WB_ERR_INVAL, 415, NULL, NULL, NULL, NULL,
          NULL },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct wb_http_request r;
        struct hdrs hs;
        struct wb_arena a = WB_ARENA_INIT;
        struct wb_parse_out po;
        struct wb_err err;
        make_req(&r, &hs, rows[i].body, rows[i].ctype, NULL);
        enum wb_status st = wb_api_parse(&r, &lim, &a, &po, &err);
        if (st != rows[i].want || po.answer.status != rows[i].want_http) {
            fail_msg("%s: got %s / %d", rows[i].label, wb_status_str(st), po.answer.status);
        }
        if (st == WB_OK) {
            assert_int_equal(po.n_msgs, 1);
            assert_string_equal(po.msgs[0].sender_id, rows[i].want_sender);
            assert_string_equal(po.msgs[0].external_id, rows[i].want_id);
            assert_string_equal(po.msgs[0].text, rows[i].want_text);
            if (rows[i].want_name) {
                assert_string_equal(po.msgs[0].sender_name, rows[i].want_name);
            } else {
                assert_null(po.msgs[0].sender_name);
            }
            if (rows[i].want_email) {
                assert_string_equal(po.msgs[0].sender_email, rows[i].want_email);
            } else {
                assert_null(po.msgs[0].sender_email);
            }
            assert_false(po.msgs[0].sender_email_verified);
        } else {
            assert_non_null(strstr(po.answer.body, "\"error\""));
        }
        wb_arena_free(&a);
    }
}

static void test_answer(void **state)
{
    struct wb_arena a = WB_ARENA_INIT;
    struct wb_http_answer ans;
    struct wb_ingest_result ok = { WB_OK, 7, 99, false };
    struct wb_ingest_result dup = { WB_OK, 7, 99, true };
    struct wb_ingest_result bad = { WB_ERR_STORAGE, 0, 0, false };
    (void)state;
    wb_api_answer(&ok, 1, &a, &ans);
    assert_int_equal(ans.status, 200);
    assert_string_equal(ans.body, "{\"conversation_id\":7,\"message_id\":99,\"duplicate\":false}");
    wb_api_answer(&dup, 1, &a, &ans);
    assert_string_equal(ans.body, "{\"conversation_id\":7,\"message_id\":99,\"duplicate\":true}");
    wb_api_answer(&bad, 1, &a, &ans);
    assert_int_equal(ans.status, 503);
    wb_arena_free(&a);
}

static void test_build_send(void **state)
{
    struct wb_arena a = WB_ARENA_INIT;
    struct wb_http_out out;
    struct wb_outbound ob;
    char hex[WB_SHA256_HEX_LEN + 1], want_sig[80];
    (void)state;
    memset(&ob, 0, sizeof(ob));
    ob.idempotency_key = "wb-api-main-5";
    ob.conversation_id = 3;
    ob.message_id = 12;
    ob.recipient_id = "u-42";
    ob.text = "Refunds take 5 days. \"quoted\" 中文";
    ob.author = WB_AUTHOR_BOT;
    assert_int_equal(wb_api_build_send(&secret, "http://127.0.0.1:9/cb", &ob, &a, &out, NULL),
                     WB_OK);
    assert_string_equal(out.method, "POST");
    assert_string_equal(out.url, "http://127.0.0.1:9/cb");
    assert_string_equal(
        (const char *)out.body,
        "{\"conversation_id\":3,\"recipient\":{\"id\":\"u-42\"},\"message\":{\"id\":"
        "\"12\",\"text\":\"Refunds take 5 days. \\\"quoted\\\" 中文\",\"author\":"
        "\"bot\"}}");
    wb_hmac_sha256_hex(key, sizeof(key) - 1, out.body, out.body_len, hex);
    (void)snprintf(want_sig, sizeof(want_sig), "sha256=%s", hex);
    assert_string_equal(wb_http_header_get(out.headers, out.n_headers, "X-Warbler-Signature"),
                        want_sig);
    assert_string_equal(wb_http_header_get(out.headers, out.n_headers, "idempotency-key"),
                        "wb-api-main-5");
    assert_string_equal(wb_http_header_get(out.headers, out.n_headers, "Content-Type"),
                        "application/json");
    ob.text = "\xff\xfe invalid";
    assert_int_equal(wb_api_build_send(&secret, "http://x/", &ob, &a, &out, NULL), WB_ERR_INVAL);
    wb_arena_free(&a);
}

static void test_read_send_result(void **state)
{
    static const struct {
        enum wb_status transport;
        long status;
        const char *retry_after;
        enum wb_send_outcome want;
        int64_t want_retry_ms;
    } rows[] = {
        { WB_OK, 200, NULL, WB_SEND_OK, 0 },
        { WB_OK, 204, NULL, WB_SEND_OK, 0 },
        { WB_OK, 429, "7", WB_SEND_RETRY, 7000 },
        { WB_OK, 503, "Thu, 01 Jan 1970 00:00:30 GMT", WB_SEND_RETRY, 20000 },
        { WB_OK, 500, NULL, WB_SEND_RETRY, 0 },
        { WB_OK, 400, NULL, WB_SEND_PERMANENT, 0 },
        { WB_OK, 404, NULL, WB_SEND_PERMANENT, 0 },
        { WB_OK, 301, NULL, WB_SEND_PERMANENT, 0 },
        { WB_ERR_TIMEOUT, 0, NULL, WB_SEND_RETRY, 0 },
        { WB_ERR_IO, 0, NULL, WB_SEND_RETRY, 0 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct wb_header h = { "Retry-After", rows[i].retry_after };
        struct wb_http_resp resp;
        struct wb_send_result res;
        memset(&resp, 0, sizeof(resp));
        resp.transport = rows[i].transport;
        resp.transport_error = "connection refused";
        resp.status = rows[i].status;
        resp.headers = &h;
        resp.n_headers = rows[i].retry_after ? 1 : 0;
        resp.now_ms = 10000;
        wb_api_read_send_result(&resp, &res);
        if (res.outcome != rows[i].want || res.retry_after_ms != rows[i].want_retry_ms) {
            fail_msg("row %zu: outcome %d retry %lld", i, res.outcome,
                     (long long)res.retry_after_ms);
        }
        if (res.outcome != WB_SEND_OK) {
            assert_true(res.reason[0] != '\0');
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify),     cmocka_unit_test(test_verify_tampered_body),
        cmocka_unit_test(test_parse),      cmocka_unit_test(test_answer),
        cmocka_unit_test(test_build_send), cmocka_unit_test(test_read_send_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
