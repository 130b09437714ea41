/*
 * test_util.c - src/util: queue, arena, buffer, message copy, HMAC,
 * printable log text, Retry-After.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <warbler/buf.h>
#include <warbler/connector.h>
#include <warbler/log.h>
#include <warbler/message.h>

#include "hmac.h"
#include "queue.h"
#include "utf8.h"

static void test_hmac_vectors(void **state)
{
    char hex[WB_SHA256_HEX_LEN + 1];
    (void)state;
    /* RFC 4231 test case 2 */
    wb_hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28, hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assert_true(wb_hmac_sha256_hex_verify("Jefe", 4, "what do ya want for nothing?", 28, hex, 64));
    hex[63] = hex[63] == '0' ? '1' : '0';
    assert_false(wb_hmac_sha256_hex_verify("Jefe", 4, "what do ya want for nothing?", 28, hex, 64));
    assert_false(wb_hmac_sha256_hex_verify("Jefe", 4, "x", 1, hex, 10));
    wb_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_buf_limit(void **state)
{
    struct wb_buf b;
    (void)state;
    wb_buf_init(&b, 10);
    assert_int_equal(wb_buf_append(&b, "12345", 5), WB_OK);
    assert_int_equal(wb_buf_append(&b, "67890", 5), WB_OK);
    assert_int_equal(wb_buf_append(&b, "x", 1), WB_ERR_LIMIT);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "1234567890");
    wb_buf_reset(&b);
    assert_int_equal(wb_buf_appendf(&b, "%d-%s", 42, "ab"), WB_OK);
    assert_string_equal(b.data, "42-ab");
    wb_buf_free(&b);
}

static void test_arena(void **state)
{
    struct wb_arena a = WB_ARENA_INIT;
    (void)state;
    char *s = wb_arena_strndup(&a, "hello world", 5);
    assert_string_equal(s, "hello");
    char *big = wb_arena_alloc(&a, 100000);
    big[99999] = 'x';
    char *t = wb_arena_printf(&a, "%s=%d", "k", 7);
    assert_string_equal(t, "k=7");
    for (int i = 0; i < 1000; i++) {
        unsigned char *p = wb_arena_alloc(&a, 33);
        assert_int_equal(p[0], 0);
        assert_int_equal(((uintptr_t)p) % 16, 0);
    }
    assert_string_equal(s, "hello");
    wb_arena_free(&a);
}

static void test_message_copy(void **state)
{
    const char *refs[] = { "<a@x>", "<b@x>" };
    struct wb_attachment att = { .filename = "发票.pdf",
                                 .content_type = "application/pdf",
                                 .data = (const uint8_t *)"PDF",
                                 .size = 3 };
    struct wb_inbound in;
    char buf[64];
    (void)state;
    memset(&in, 0, sizeof(in));
    (void)snprintf(buf, sizeof(buf), "%s", "transient text");
    in.external_id = "m-1";
    in.sender_id = "u-1";
    in.text = buf;
    in.thread_refs = refs;
    in.n_thread_refs = 2;
    in.attachments = &att;
    in.n_attachments = 1;
    in.raw = (const uint8_t *)"RAW\0BYTES";
    in.raw_len = 9;
    struct wb_message *m = wb_message_new("api-main", &in);
    memset(buf, 'X', sizeof(buf) - 1); /* the copy must not alias */
    assert_string_equal(m->channel_id, "api-main");
    assert_string_equal(m->in.text, "transient text");
    assert_string_equal(m->in.thread_refs[1], "<b@x>");
    assert_string_equal(m->in.attachments[0].filename, "发票.pdf");
    assert_memory_equal(m->in.attachments[0].data, "PDF", 3);
    assert_memory_equal(m->in.raw, "RAW\0BYTES", 9);
    assert_null(m->in.sender_name);
    wb_message_free(m);
}

static void *producer(void *arg)
{
    struct wb_queue *q = arg;
    for (intptr_t i = 1; i <= 10000; i++) {
        if (wb_queue_push_wait(q, (void *)i) != WB_OK) {
            break;
        }
    }
    return NULL;
}

static void test_queue(void **state)
{
    struct wb_queue *q = wb_queue_new(16);
    pthread_t t;
    void *items[64];
    intptr_t sum = 0, count = 0, last = 0;
    bool ordered = true;
    (void)state;
    assert_int_equal(pthread_create(&t, NULL, producer, q), 0);
    while (count < 10000) {
        size_t n = wb_queue_pop_batch(q, items, 64, 1000, 1);
        assert_true(n > 0);
        for (size_t i = 0; i < n; i++) {
            intptr_t v = (intptr_t)items[i];
            ordered = ordered && v == last + 1;
            last = v;
            sum += v;
            count++;
        }
    }
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(ordered);
    assert_int_equal(sum, (intptr_t)10000 * 10001 / 2);
    /* full and closed */
    for (intptr_t i = 1; i <= 16; i++) {
        assert_int_equal(wb_queue_push(q, (void *)i), WB_OK);
    }
    assert_int_equal(wb_queue_push(q, (void *)99), WB_ERR_BUSY);
    wb_queue_close(q);
    assert_int_equal(wb_queue_push(q, (void *)99), WB_ERR_IO);
    assert_int_equal(wb_queue_pop_batch(q, items, 64, -1, 0), 16); /* drains after close */
    assert_int_equal(wb_queue_pop_batch(q, items, 64, -1, 0), 0);
    wb_queue_free(q, NULL);
}

static void test_printable(void **state)
{
    char out[32];
    (void)state;
    assert_string_equal(wb_log_printable("a\r\nb\x01", 5, out, sizeof(out)), "a\\r\\nb\\x01");
    assert_string_equal(wb_log_printable("abcdefghij", 10, out, 5), "abcd");
}

static void test_utf8(void **state)
{
    static const struct {
        const char *in;
        size_t n;
        uint32_t cp; /* first code point */
        size_t len;  /* wb_utf8_seq_len: 0 = invalid */
    } rows[] = {
        { "A", 1, 'A', 1 },
        { "\xc3\xa9", 2, 0xE9, 2 },
        { "\xe4\xbd\xa0", 3, 0x4F60, 3 },
        { "\xf0\x9f\x98\x80", 4, 0x1F600, 4 },
        { "\xef\xbf\xbd", 3, 0xFFFD, 3 },     /* a real U+FFFD is valid */
        { "\xc0\x80", 2, 0xFFFD, 0 },         /* overlong */
        { "\xe0\x80\xaf", 3, 0xFFFD, 0 },     /* overlong */
        { "\xed\xa0\x80", 3, 0xFFFD, 0 },     /* surrogate */
        { "\xf4\x90\x80\x80", 4, 0xFFFD, 0 }, /* past U+10FFFF */
        { "\xe4\xbd", 2, 0xFFFD, 0 },         /* truncated */
        { "\x80", 1, 0xFFFD, 0 },             /* lone continuation */
    };

    (void)state;
    for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
        size_t i = 0;
        uint32_t cp = wb_utf8_next(rows[k].in, rows[k].n, &i);
        if (cp != rows[k].cp || wb_utf8_seq_len(rows[k].in, rows[k].n) != rows[k].len ||
            i != (rows[k].len ? rows[k].len : 1)) {
            fail_msg("row %zu: cp %x i %zu", k, cp, i);
        }
        if (rows[k].len > 0) {
            char out[4];
            assert_int_equal(wb_utf8_encode(cp, out), rows[k].len);
            assert_memory_equal(out, rows[k].in, rows[k].len);
        }
    }
    char out[4];
    assert_int_equal(wb_utf8_encode(0xD800, out), 3); /* surrogates become U+FFFD */
    assert_memory_equal(out, "\xef\xbf\xbd", 3);
}

static void test_retry_after(void **state)
{
    (void)state;
    assert_int_equal(wb_http_retry_after_ms(NULL, 0), 0);
    assert_int_equal(wb_http_retry_after_ms("120", 0), 120000);
    assert_int_equal(wb_http_retry_after_ms(" 3", 0), 3000);
    assert_int_equal(wb_http_retry_after_ms("99999999999", 0), 24LL * 3600 * 1000);
    assert_int_equal(wb_http_retry_after_ms("Thu, 01 Jan 1970 00:01:00 GMT", 30000), 30000);
    assert_int_equal(wb_http_retry_after_ms("Thu, 01 Jan 1970 00:01:00 GMT", 90000), 0);
    assert_int_equal(wb_http_retry_after_ms("soon", 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_vectors), cmocka_unit_test(test_buf_limit),
        cmocka_unit_test(test_arena),        cmocka_unit_test(test_message_copy),
        cmocka_unit_test(test_queue),        cmocka_unit_test(test_printable),
        cmocka_unit_test(test_retry_after),  cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
