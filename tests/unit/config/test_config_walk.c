/*
 * test_config_walk.c - the schema walker over every field type, with a
 * test schema: defaults, bounds, unknown keys, wrong types, enum words,
 * secrets (file modes, env, literals), path resolution and verify.
 *
 * Rows: {label, config text, want status, want substring (with the line)}.
 * "@D@" in a row's text is replaced by a temporary directory holding the
 * secret files the rows use.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "config_walk.h"

struct all {
    char *str;
    int64_t num;
    bool flag;
    double ratio;
    int64_t wait_ms;
    int64_t bytes;
    int color;
    struct wb_secret token;
    char *dir;
    struct wb_strlist tags;
};

static const char *const colors[] = { "red", "green", "blue", NULL };

static enum wb_status all_verify(void *conf, struct wb_err *err)
{
    const struct all *a = conf;
    if (a->str != NULL && strcmp(a->str, "forbidden") == 0) {
        return wb_err_set(err, WB_ERR_INVAL, "str must not be \"forbidden\"");
    }
    return WB_OK;
}

#define F(field) offsetof(struct all, field)

static const struct wb_conf_field all_fields[] = {
    { .key = "str", .type = WB_CONF_STR, .offset = F(str), .def = "hello" },
    { .key = "num", .type = WB_CONF_INT, .offset = F(num), .def = "5", .min = 1, .max = 100 },
    { .key = "flag", .type = WB_CONF_BOOL, .offset = F(flag), .def = "true" },
    { .key = "ratio",
      .type = WB_CONF_DOUBLE,
      .offset = F(ratio),
      .def = "0.5",
      .dmin = 0.0,
      .dmax = 1.0 },
    { .key = "wait",
      .type = WB_CONF_DURATION,
      .offset = F(wait_ms),
      .def = "2s",
      .min = 100,
      .max = 3600000 },
    { .key = "bytes",
      .type = WB_CONF_SIZE,
      .offset = F(bytes),
      .def = "1k",
      .min = 1,
      .max = 1048576 },
    { .key = "color",
      .type = WB_CONF_ENUM,
      .offset = F(color),
      .def = "green",
      .enum_words = colors },
    { .key = "token", .type = WB_CONF_SECRET, .offset = F(token) },
    { .key = "dir", .type = WB_CONF_PATH, .offset = F(dir), .def = "data" },
    { .key = "tags", .type = WB_CONF_STRLIST, .offset = F(tags), .def = "a,b" },
};

static const struct wb_conf_schema all_schema = {
    .name = "g",
    .fields = all_fields,
    .n_fields = sizeof(all_fields) / sizeof(all_fields[0]),
    .size = sizeof(struct all),
    .verify = all_verify,
};

struct need {
    char *name;
    struct wb_secret key;
};

static const struct wb_conf_field need_fields[] = {
    { .key = "name", .type = WB_CONF_STR, .offset = offsetof(struct need, name), .required = true },
    { .key = "key",
      .type = WB_CONF_SECRET,
      .offset = offsetof(struct need, key),
      .required = true },
};

static const struct wb_conf_schema need_schema = {
    .name = "g",
    .fields = need_fields,
    .n_fields = 2,
    .size = sizeof(struct need),
};

static char tmpdir[64];

/* Write a file with mode; returns 0 on success. */
static void write_file(const char *name, const char *content, mode_t mode)
{
    char path[256];
    (void)snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
}

static int setup(void **state)
{
    (void)state;
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/wb-walk-XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        return -1;
    }
    write_file("ok.secret", "s3cr3t-value\n", 0600);
    write_file("crlf.secret", "abc\r\n", 0400);
    write_file("two.secret", "abc\n\n", 0600);
    write_file("open.secret", "s3cr3t-value\n", 0644);
    write_file("group.secret", "s3cr3t-value\n", 0620);
    write_file("empty.secret", "", 0600);
    write_file("nl.secret", "\n", 0600);
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): single-threaded test */
    (void)setenv("WB_TEST_TOKEN", "from-env", 1);
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): single-threaded test */
    (void)setenv("WB_TEST_EMPTY", "", 1);
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): single-threaded test */
    (void)unsetenv("WB_TEST_MISSING");
    return 0;
}

static int teardown(void **state)
{
    static const char *const names[] = { "ok.secret",   "crlf.secret",  "two.secret",
                                         "open.secret", "group.secret", "empty.secret",
                                         "nl.secret" };
    char path[256];
    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        (void)snprintf(path, sizeof(path), "%s/%s", tmpdir, names[i]);
        (void)unlink(path);
    }
    (void)rmdir(tmpdir);
    return 0;
}

/* Replace every "@D@" with tmpdir. */
static char *expand(const char *text)
{
    static char out[4096];
    size_t o = 0;
    for (const char *p = text; *p != '\0' && o < sizeof(out) - 80;) {
        if (strncmp(p, "@D@", 3) == 0) {
            o += (size_t)snprintf(out + o, sizeof(out) - o, "%s", tmpdir);
            p += 3;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return out;
}

/* Parse text, walk its group "g" into conf; conf is left for the caller to free. */
static enum wb_status walk_text(const char *text, const struct wb_conf_schema *schema, void *conf,
                                struct wb_err *err)
{
    config_t lc;
    config_init(&lc);
    if (!config_read_string(&lc, expand(text))) {
        fail_msg("test config does not parse: line %d: %s", config_error_line(&lc),
                 config_error_text(&lc));
    }
    struct wb_conf_walk w = { .name = "t.conf", .dir = "/base", .path = "g" };
    enum wb_status st = wb_conf_walk(&w, config_lookup(&lc, "g"), schema, conf, err);
    config_destroy(&lc);
    return st;
}

struct row {
    const char *label;
    const char *text;
    enum wb_status want;
    const char *want_msg; /* substring of the error, with the line number */
};

static const struct row err_rows[] = {
    /* unknown keys and wrong types */
    { "unknown key", "g = {\n  nope = 1;\n};", WB_ERR_INVAL,
      "t.conf:2: g.nope: unknown setting (known: str, num" },
    { "nested group", "g = {\n\n  str = { };\n};", WB_ERR_INVAL,
      "t.conf:3: g.str: expected a string, got a group" },
    { "group not a group", "g = 5;", WB_ERR_INVAL, "t.conf:1: g: expected a group" },
    { "str wrong type", "g = {\n  str = 1;\n};", WB_ERR_INVAL,
      "t.conf:2: g.str: expected a string, got an integer" },
    { "int wrong type", "g = {\n  num = \"5\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.num: expected an integer, got a string" },
    { "int float", "g = {\n  num = 5.0;\n};", WB_ERR_INVAL,
      "t.conf:2: g.num: expected an integer, got a float" },
    { "bool wrong type", "g = {\n  flag = 1;\n};", WB_ERR_INVAL,
      "t.conf:2: g.flag: expected true or false, got an integer" },
    { "bool string", "g = {\n  flag = \"yes\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.flag: expected true or false, got a string" },
    { "double wrong type", "g = {\n  ratio = \"0.5\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.ratio: expected a number, got a string" },
    { "duration bool", "g = {\n  wait = true;\n};", WB_ERR_INVAL,
      "t.conf:2: g.wait: expected a duration" },
    { "duration float", "g = {\n  wait = 1.5;\n};", WB_ERR_INVAL,
      "t.conf:2: g.wait: expected a duration" },
    { "size float", "g = {\n  bytes = 1.5;\n};", WB_ERR_INVAL,
      "t.conf:2: g.bytes: expected a size" },
    { "enum int", "g = {\n  color = 1;\n};", WB_ERR_INVAL,
      "t.conf:2: g.color: expected one of the words" },
    { "path int", "g = {\n  dir = 1;\n};", WB_ERR_INVAL, "t.conf:2: g.dir: expected a string" },
    { "strlist string", "g = {\n  tags = \"a\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.tags: expected a list of strings" },
    { "strlist element", "g = {\n  tags = ( \"a\",\n 1 );\n};", WB_ERR_INVAL,
      "t.conf:3: g.tags[1]: expected a string, got an integer" },
    /* bounds */
    { "int below min", "g = {\n  num = 0;\n};", WB_ERR_INVAL,
      "t.conf:2: g.num: 0 is out of range (1..100)" },
    { "int above max", "g = {\n  num = 101;\n};", WB_ERR_INVAL,
      "t.conf:2: g.num: 101 is out of range (1..100)" },
    { "int64 above max", "g = {\n  num = 5000000000L;\n};", WB_ERR_INVAL,
      "t.conf:2: g.num: 5000000000 is out of range" },
    { "double below", "g = {\n  ratio = -0.1;\n};", WB_ERR_INVAL,
      "t.conf:2: g.ratio: -0.1 is out of range (0..1)" },
    { "double above", "g = {\n  ratio = 1.5;\n};", WB_ERR_INVAL,
      "t.conf:2: g.ratio: 1.5 is out of range (0..1)" },
    { "duration below", "g = {\n  wait = \"99ms\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.wait: 99ms is out of range (100ms..1h)" },
    { "duration above", "g = {\n  wait = \"61m\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.wait: 61m is out of range (100ms..1h)" },
    { "duration int above", "g = {\n  wait = 3601;\n};", WB_ERR_INVAL,
      "t.conf:2: g.wait: 3601s is out of range (100ms..1h)" },
    { "size below", "g = {\n  bytes = 0;\n};", WB_ERR_INVAL,
      "t.conf:2: g.bytes: 0 is out of range (1..1M)" },
    { "size above", "g = {\n  bytes = \"2M\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.bytes: 2M is out of range (1..1M)" },
    /* bad duration and size text */
    { "duration unknown unit", "g = {\n  wait = \"10x\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.wait: bad duration \"10x\": unknown unit" },
    { "duration negative", "g = {\n  wait = \"-5s\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.wait: bad duration \"-5s\": must not be negative" },
    { "duration overflow", "g = {\n  wait = \"99999999999999999999h\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.wait: bad duration \"99999999999999999999h\": too large" },
    { "duration no unit", "g = {\n  wait = \"30\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.wait: bad duration \"30\": missing unit" },
    { "duration int negative", "g = {\n  wait = -5;\n};", WB_ERR_INVAL,
      "t.conf:2: g.wait: -5 seconds: must not be negative" },
    { "duration int overflow", "g = {\n  wait = 9223372036854775807L;\n};", WB_ERR_INVAL,
      "t.conf:2: g.wait: 9223372036854775807 seconds: too large" },
    { "size unknown unit", "g = {\n  bytes = \"10x\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.bytes: bad size \"10x\": unknown unit" },
    { "size negative", "g = {\n  bytes = -1;\n};", WB_ERR_INVAL,
      "t.conf:2: g.bytes: -1 bytes: must not be negative" },
    { "size overflow", "g = {\n  bytes = \"9999999999G\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.bytes: bad size \"9999999999G\": too large" },
    /* enum words */
    { "enum unknown word", "g = {\n  color = \"purple\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.color: unknown value \"purple\" (expected one of: red, green, blue)" },
    { "enum case", "g = {\n  color = \"Red\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.color: unknown value \"Red\"" },
    { "enum escaped", "g = {\n  color = \"a\\nb\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.color: unknown value \"a\\nb\"" },
    /* verify */
    { "verify", "g = {\n  str = \"forbidden\";\n};", WB_ERR_INVAL,
      "t.conf:1: g: str must not be \"forbidden\"" },
    /* secrets */
    { "secret literal", "g = {\n  token = \"hunter2\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.token: a literal secret is not allowed; use token_file = \"/path\" or token = \"env:NAME\"" },
    { "secret env missing", "g = {\n  token = \"env:WB_TEST_MISSING\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.token: environment variable WB_TEST_MISSING is not set" },
    { "secret env empty", "g = {\n  token = \"env:WB_TEST_EMPTY\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.token: environment variable WB_TEST_EMPTY is empty" },
    { "secret env bad name", "g = {\n  token = \"env:A-B\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.token: bad environment variable name \"A-B\"" },
    { "secret env no name", "g = {\n  token = \"env:\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.token: bad environment variable name" },
    { "secret int", "g = {\n  token = 5;\n};", WB_ERR_INVAL,
      "t.conf:2: g.token: expected \"env:NAME\", got an integer" },
    { "secret file 0644", "g = {\n\n  token_file = \"@D@/open.secret\";\n};", WB_ERR_INVAL,
      "t.conf:3: g.token_file: @D@/open.secret is readable or writable by group or others (mode 0644); chmod 600 it" },
    { "secret file 0620", "g = {\n  token_file = \"@D@/group.secret\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.token_file: @D@/group.secret is readable or writable by group or others (mode 0620)" },
    { "secret file empty", "g = {\n  token_file = \"@D@/empty.secret\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.token_file: @D@/empty.secret is empty" },
    { "secret file newline only", "g = {\n  token_file = \"@D@/nl.secret\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.token_file: @D@/nl.secret is empty" },
    { "secret file missing", "g = {\n  token_file = \"@D@/nope.secret\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.token_file: cannot open @D@/nope.secret: No such file or directory" },
    { "secret file a dir", "g = {\n  token_file = \"@D@\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.token_file: @D@ is not a regular file" },
    { "secret file relative", "g = {\n  token_file = \"ok.secret\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.token_file: cannot open /base/ok.secret" },
    { "secret file empty path", "g = {\n  token_file = \"\";\n};", WB_ERR_INVAL,
      "t.conf:2: g.token_file: empty path" },
    { "secret both",
      "g = {\n  token = \"env:WB_TEST_TOKEN\";\n  token_file = \"@D@/ok.secret\";\n};",
      WB_ERR_INVAL, "t.conf:3: g.token_file: give either token or token_file, not both" },
};

static const struct row need_rows[] = {
    { "missing required", "g = {\n  key = \"env:WB_TEST_TOKEN\";\n};", WB_ERR_INVAL,
      "t.conf:1: g.name: missing required setting" },
    { "missing required secret", "g = {\n  name = \"x\";\n};", WB_ERR_INVAL,
      "t.conf:1: g.key: missing required setting (give key_file = \"/path\" or key = \"env:NAME\")" },
    { "absent group", "h = { };", WB_ERR_INVAL, "t.conf: g.name: missing required setting" },
    { "all there", "g = {\n  name = \"x\";\n  key = \"env:WB_TEST_TOKEN\";\n};", WB_OK, NULL },
};

static void run_rows(const struct row *rows, size_t n, const struct wb_conf_schema *schema)
{
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        unsigned char conf[512] = { 0 };
        struct wb_err err = { 0 };
        assert_true(schema->size <= sizeof(conf));
        print_message("  %s\n", r->label);
        enum wb_status st = walk_text(r->text, schema, conf, &err);
        wb_conf_struct_free(schema, conf);
        if (st != r->want) {
            fail_msg("%s: status %d, want %d (%s)", r->label, st, r->want, err.msg);
        }
        if (r->want_msg != NULL && strstr(err.msg, expand(r->want_msg)) == NULL) {
            fail_msg("%s: error \"%s\" lacks \"%s\"", r->label, err.msg, expand(r->want_msg));
        }
    }
}

static void test_errors(void **state)
{
    (void)state;
    run_rows(err_rows, sizeof(err_rows) / sizeof(err_rows[0]), &all_schema);
}

static void test_required(void **state)
{
    (void)state;
    run_rows(need_rows, sizeof(need_rows) / sizeof(need_rows[0]), &need_schema);
}

static void check_defaults(const struct all *a)
{
    assert_string_equal(a->str, "hello");
    assert_true(a->num == 5);
    assert_true(a->flag);
    assert_true(a->ratio == 0.5);
    assert_true(a->wait_ms == 2000);
    assert_true(a->bytes == 1024);
    assert_int_equal(a->color, 1);
    assert_null(a->token.data);
    assert_string_equal(a->dir, "/base/data");
    assert_int_equal(a->tags.n, 2);
    assert_string_equal(a->tags.items[0], "a");
    assert_string_equal(a->tags.items[1], "b");
}

static void test_defaults(void **state)
{
    struct all a = { 0 };
    struct wb_err err = { 0 };
    struct wb_conf_walk w = { .name = "t.conf", .dir = "/base", .path = "g" };
    (void)state;
    /* absent group */
    assert_int_equal(wb_conf_walk(&w, NULL, &all_schema, &a, &err), WB_OK);
    check_defaults(&a);
    wb_conf_struct_free(&all_schema, &a);
    assert_null(a.str);
    /* empty group */
    memset(&a, 0, sizeof(a));
    assert_int_equal(walk_text("g = { };", &all_schema, &a, &err), WB_OK);
    check_defaults(&a);
    wb_conf_struct_free(&all_schema, &a);
}

static void test_values(void **state)
{
    struct all a = { 0 };
    struct wb_err err = { 0 };
    (void)state;
    assert_int_equal(walk_text("g = {\n str = \"\"; num = 100; flag = false; ratio = 1;\n"
                               " wait = 3600; bytes = \"1M\"; color = \"blue\";\n"
                               " token = \"env:WB_TEST_TOKEN\"; dir = \"/abs/x\";\n"
                               " tags = [ ];\n};",
                               &all_schema, &a, &err),
                     WB_OK);
    assert_string_equal(a.str, "");
    assert_true(a.num == 100);
    assert_false(a.flag);
    assert_true(a.ratio == 1.0);
    assert_true(a.wait_ms == 3600000);
    assert_true(a.bytes == 1048576);
    assert_int_equal(a.color, 2);
    assert_int_equal(a.token.len, 8);
    assert_memory_equal(a.token.data, "from-env", 8);
    assert_string_equal(a.dir, "/abs/x");
    assert_int_equal(a.tags.n, 0);
    wb_conf_struct_free(&all_schema, &a);

    memset(&a, 0, sizeof(a));
    assert_int_equal(walk_text("g = { num = 1; ratio = 0; wait = \"100ms\"; bytes = 1;\n"
                               " token_file = \"@D@/ok.secret\"; dir = \"rel/d\";\n"
                               " tags = (\"x\", \"y\", \"z\"); color = \"red\"; };",
                               &all_schema, &a, &err),
                     WB_OK);
    assert_true(a.num == 1);
    assert_true(a.ratio == 0.0);
    assert_true(a.wait_ms == 100);
    assert_true(a.bytes == 1);
    assert_int_equal(a.color, 0);
    /* one trailing newline stripped */
    assert_int_equal(a.token.len, 12);
    assert_memory_equal(a.token.data, "s3cr3t-value", 12);
    assert_string_equal(a.dir, "/base/rel/d");
    assert_int_equal(a.tags.n, 3);
    assert_string_equal(a.tags.items[2], "z");
    wb_conf_struct_free(&all_schema, &a);
    assert_null(a.token.data);
    assert_int_equal(a.token.len, 0);
}

static void test_secret_newlines(void **state)
{
    struct all a = { 0 };
    struct wb_err err = { 0 };
    (void)state;
    /* mode 0400 is fine; CRLF counts as one newline */
    assert_int_equal(walk_text("g = { token_file = \"@D@/crlf.secret\"; };", &all_schema, &a, &err),
                     WB_OK);
    assert_int_equal(a.token.len, 3);
    wb_conf_struct_free(&all_schema, &a);
    /* only one newline is stripped */
    memset(&a, 0, sizeof(a));
    assert_int_equal(walk_text("g = { token_file = \"@D@/two.secret\"; };", &all_schema, &a, &err),
                     WB_OK);
    assert_int_equal(a.token.len, 4);
    assert_memory_equal(a.token.data, "abc\n", 4);
    wb_conf_struct_free(&all_schema, &a);
}

static void test_resolve(void **state)
{
    (void)state;
    char *p = wb_conf_resolve_path("/etc/warbler", "knowledge");
    assert_string_equal(p, "/etc/warbler/knowledge");
    free(p);
    p = wb_conf_resolve_path("/etc/warbler/", "k");
    assert_string_equal(p, "/etc/warbler/k");
    free(p);
    p = wb_conf_resolve_path("/etc/warbler", "/abs");
    assert_string_equal(p, "/abs");
    free(p);
    p = wb_conf_resolve_path(NULL, "rel");
    assert_string_equal(p, "rel");
    free(p);
    p = wb_conf_resolve_path("/d", "");
    assert_string_equal(p, "");
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),          cmocka_unit_test(test_required),
        cmocka_unit_test(test_defaults),        cmocka_unit_test(test_values),
        cmocka_unit_test(test_secret_newlines), cmocka_unit_test(test_resolve),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
