/*
 * test_config_value.c - durations, sizes and the integer-literal scan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "config_value.h"

struct num_row {
    const char *label;
    const char *in;
    enum wb_status want;
    int64_t want_v;
    const char *want_why; /* substring, for errors */
};

static const struct num_row duration_rows[] = {
    { "ms", "250ms", WB_OK, 250, NULL },
    { "seconds", "30s", WB_OK, 30000, NULL },
    { "minutes", "30m", WB_OK, 1800000, NULL },
    { "hours", "24h", WB_OK, 86400000, NULL },
    { "days", "7d", WB_OK, 604800000, NULL },
    { "zero", "0s", WB_OK, 0, NULL },
    { "int64 max ms", "9223372036854775807ms", WB_OK, INT64_MAX, NULL },
    { "unknown unit", "10x", WB_ERR_INVAL, 0, "unknown unit" },
    { "negative", "-5s", WB_ERR_INVAL, 0, "negative" },
    { "digits overflow", "99999999999999999999h", WB_ERR_INVAL, 0, "too large" },
    { "unit overflow", "9223372036854775807s", WB_ERR_INVAL, 0, "too large" },
    { "days overflow", "106751991167301d", WB_ERR_INVAL, 0, "too large" },
    { "no unit", "30", WB_ERR_INVAL, 0, "missing unit" },
    { "empty", "", WB_ERR_INVAL, 0, "expected a number" },
    { "unit only", "s", WB_ERR_INVAL, 0, "expected a number" },
    { "leading space", " 30s", WB_ERR_INVAL, 0, "expected a number" },
    { "trailing space", "30s ", WB_ERR_INVAL, 0, "unknown unit" },
    { "fraction", "1.5h", WB_ERR_INVAL, 0, "unknown unit" },
    { "plus sign", "+5s", WB_ERR_INVAL, 0, "expected a number" },
    { "upper unit", "5S", WB_ERR_INVAL, 0, "unknown unit" },
};

static const struct num_row size_rows[] = {
    { "bytes", "512", WB_OK, 512, NULL },
    { "k", "64k", WB_OK, 65536, NULL },
    { "K", "64K", WB_OK, 65536, NULL },
    { "M", "10M", WB_OK, 10485760, NULL },
    { "G", "1G", WB_OK, 1073741824, NULL },
    { "zero", "0", WB_OK, 0, NULL },
    { "unknown unit", "10x", WB_ERR_INVAL, 0, "unknown unit" },
    { "two units", "10MB", WB_ERR_INVAL, 0, "unknown unit" },
    { "negative", "-1", WB_ERR_INVAL, 0, "negative" },
    { "digits overflow", "99999999999999999999", WB_ERR_INVAL, 0, "too large" },
    { "unit overflow", "9999999999G", WB_ERR_INVAL, 0, "too large" },
    { "empty", "", WB_ERR_INVAL, 0, "expected a number" },
    { "fraction", "1.5M", WB_ERR_INVAL, 0, "unknown unit" },
};

static void run_num_rows(const struct num_row *rows, size_t n, bool is_duration)
{
    for (size_t i = 0; i < n; i++) {
        const struct num_row *r = &rows[i];
        int64_t v = -1;
        const char *why = NULL;
        enum wb_status st = is_duration ? wb_conf_parse_duration(r->in, &v, &why)
                                        : wb_conf_parse_size(r->in, &v, &why);
        print_message("  %s: \"%s\"\n", r->label, r->in);
        assert_int_equal(st, r->want);
        if (r->want == WB_OK) {
            assert_true(v == r->want_v);
        } else {
            assert_non_null(why);
            assert_non_null(strstr(why, r->want_why));
        }
    }
}

static void test_duration(void **state)
{
    (void)state;
    run_num_rows(duration_rows, sizeof(duration_rows) / sizeof(duration_rows[0]), true);
}

static void test_size(void **state)
{
    (void)state;
    run_num_rows(size_rows, sizeof(size_rows) / sizeof(size_rows[0]), false);
}

static void test_seconds(void **state)
{
    int64_t ms = 0;
    const char *why = NULL;
    (void)state;
    assert_int_equal(wb_conf_seconds_to_ms(30, &ms, &why), WB_OK);
    assert_true(ms == 30000);
    assert_int_equal(wb_conf_seconds_to_ms(-1, &ms, &why), WB_ERR_INVAL);
    assert_non_null(strstr(why, "negative"));
    assert_int_equal(wb_conf_seconds_to_ms(INT64_MAX / 1000 + 1, &ms, &why), WB_ERR_INVAL);
    assert_non_null(strstr(why, "too large"));
}

static void test_format(void **state)
{
    char b[32];
    (void)state;
    wb_conf_format_duration(0, b, sizeof(b));
    assert_string_equal(b, "0s");
    wb_conf_format_duration(250, b, sizeof(b));
    assert_string_equal(b, "250ms");
    wb_conf_format_duration(1500, b, sizeof(b));
    assert_string_equal(b, "1500ms");
    wb_conf_format_duration(600000, b, sizeof(b));
    assert_string_equal(b, "10m");
    wb_conf_format_duration(7 * 86400000LL, b, sizeof(b));
    assert_string_equal(b, "7d");
    wb_conf_format_size(1024, b, sizeof(b));
    assert_string_equal(b, "1k");
    wb_conf_format_size(64LL << 20, b, sizeof(b));
    assert_string_equal(b, "64M");
    wb_conf_format_size(1000, b, sizeof(b));
    assert_string_equal(b, "1000");
    wb_conf_format_size(0, b, sizeof(b));
    assert_string_equal(b, "0");
}

struct scan_row {
    const char *label;
    const char *text;
    int want_line; /* 0: all literals fit */
    const char *want_tok;
};

static const struct scan_row scan_rows[] = {
    { "small", "a = 1;", 0, NULL },
    { "int max", "a = 2147483647;", 0, NULL },
    { "int max + 1", "a = 2147483648;", 1, "2147483648" },
    { "int min", "a = -2147483648;", 0, NULL },
    { "int min - 1", "a = -2147483649;", 1, "-2147483649" },
    { "line count", "\n\nb = 9999999999;", 3, "9999999999" },
    { "L suffix", "a = 9999999999L;", 0, NULL },
    { "L overflow", "a = 99999999999999999999L;", 1, "99999999999999999999L" },
    { "int64 min", "a = -9223372036854775808L;", 0, NULL },
    { "in a string", "a = \"9999999999\";", 0, NULL },
    { "escaped quote", "a = \"x\\\"9999999999\";", 0, NULL },
    { "hash comment", "# 9999999999\na = 1;", 0, NULL },
    { "slash comment", "// 9999999999\na = 1;", 0, NULL },
    { "block comment", "/* 9999999999\n */ a = 99999999999;", 2, "99999999999" },
    { "float", "a = 1e10; b = 12345678901.5;", 0, NULL },
    { "float exp sign", "a = 1e-10;", 0, NULL },
    { "hex fits", "a = 0xFFFFFFFF;", 0, NULL },
    { "hex too big", "a = 0x100000000;", 1, "0x100000000" },
    { "hex64", "a = 0x100000000L;", 0, NULL },
    { "digits in a name", "name9999999999 = 1; a-9999999999 = 2;", 0, NULL },
    { "in a list", "a = [1,\n 9999999999];", 2, "9999999999" },
};

static void test_scan(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(scan_rows) / sizeof(scan_rows[0]); i++) {
        const struct scan_row *r = &scan_rows[i];
        char tok[48] = "";
        print_message("  %s\n", r->label);
        int line = wb_conf_scan_int_overflow(r->text, strlen(r->text), tok, sizeof(tok));
        assert_int_equal(line, r->want_line);
        if (r->want_tok != NULL) {
            assert_string_equal(tok, r->want_tok);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration), cmocka_unit_test(test_size),
        cmocka_unit_test(test_seconds),  cmocka_unit_test(test_format),
        cmocka_unit_test(test_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
