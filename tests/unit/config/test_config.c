/*
 * test_config.c - the whole loader: core groups and their bounds, the bot
 * group, channels (with the real connector registry), secrets, relative
 * paths, files, includes, the shipped etc/warbler.conf, the fixtures in
 * tests/fixtures/config and the reference printer.
 *
 * Rows: {label, config text, want status, want error substring with line}.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot.h"
#include "config.h"
#include "config_schema.h"
#include "config_walk.h"

#define API_SECRET "0123456789abcdef0123456789abcdef"
#define API_CH(body)                                                                            \
    "channels = (\n  { id = \"a\"; type = \"api\"; secret = \"env:WB_TEST_API_SECRET\";\n" body \
    "  }\n);"

#define SLURP_MAX ((size_t)256 * 1024)

static char tmpdir[64];

static void write_file(const char *name, const char *content, mode_t mode)
{
    char path[PATH_MAX];
    (void)snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(close(fd), 0);
}

static const char *const tmp_files[] = {
    "api.secret", "open.secret", "main.conf", "inc.conf", "bad.conf", "badinc.conf", "ovf.conf",
};

static int setup(void **state)
{
    (void)state;
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/wb-config-XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        return -1;
    }
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): single-threaded test */
    (void)setenv("WB_TEST_API_SECRET", API_SECRET, 1);
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): single-threaded test */
    (void)setenv("WB_TEST_SHORT", "short", 1);
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): single-threaded test */
    (void)unsetenv("WB_TEST_MISSING");
    return 0;
}

static int teardown(void **state)
{
    char path[PATH_MAX];
    (void)state;
    for (size_t i = 0; i < sizeof(tmp_files) / sizeof(tmp_files[0]); i++) {
        (void)snprintf(path, sizeof(path), "%s/%s", tmpdir, tmp_files[i]);
        (void)unlink(path);
    }
    (void)rmdir(tmpdir);
    return 0;
}

static enum wb_status load(const char *text, struct wb_config **cfg, struct wb_err *err)
{
    return wb_config_load_string(text, strlen(text), "t.conf", "/etc/warbler", cfg, err);
}

struct row {
    const char *label;
    const char *text;
    enum wb_status want;
    const char *want_msg;
};

static const struct row rows[] = {
    /* syntax (libconfig) */
    { "syntax error", "http = {\n  port = = 1;\n};", WB_ERR_PARSE, "t.conf:2: syntax error" },
    { "group without =", "\nhttp { port = 1; };", WB_ERR_PARSE, "t.conf:2: syntax error" },
    { "duplicate key", "http = {\n  port = 1;\n  port = 2;\n};", WB_ERR_PARSE,
      "t.conf:3: duplicate setting name" },
    { "unterminated string", "state_dir = \"/x;\n", WB_ERR_PARSE, "t.conf:2:" },
    { "missing include", "\n@include \"nope.conf\"\n", WB_ERR_PARSE, "t.conf:2:" },
    /* top level */
    { "unknown top-level", "\nfoo = 1;", WB_ERR_INVAL,
      "t.conf:2: foo: unknown setting (known: log, http, store, core, outbox, bot, channels, state_dir, user)" },
    { "state_dir type", "state_dir = 5;", WB_ERR_INVAL,
      "t.conf:1: state_dir: expected a string, got an integer" },
    { "group not a group", "\nhttp = 5;", WB_ERR_INVAL, "t.conf:2: http: expected a group" },
    { "int literal overflow", "http = {\n  port = 4294975488;\n};", WB_ERR_INVAL,
      "t.conf:2: integer 4294975488 does not fit in 32 bits" },
    /* log */
    { "log level word", "log = {\n  level = \"verbose\";\n};", WB_ERR_INVAL,
      "t.conf:2: log.level: unknown value \"verbose\" (expected one of: error, warn, notice, info, debug)" },
    { "log sink word", "log = {\n  sink = \"file\";\n};", WB_ERR_INVAL,
      "t.conf:2: log.sink: unknown value \"file\" (expected one of: auto, stderr, journal, syslog)" },
    { "log unknown key", "log = {\n  lvl = \"info\";\n};", WB_ERR_INVAL,
      "t.conf:2: log.lvl: unknown setting" },
    /* http */
    { "http unknown key", "http = {\n  prot = 80;\n};", WB_ERR_INVAL,
      "t.conf:2: http.prot: unknown setting (known: listen, port, max_body, request_timeout, max_headers)" },
    { "port type", "http = {\n  port = \"80\";\n};", WB_ERR_INVAL,
      "t.conf:2: http.port: expected an integer, got a string" },
    { "port above max", "http = {\n  port = 65536;\n};", WB_ERR_INVAL,
      "t.conf:2: http.port: 65536 is out of range (0..65535)" },
    { "port below min", "http = {\n  port = -1;\n};", WB_ERR_INVAL,
      "t.conf:2: http.port: -1 is out of range (0..65535)" },
    { "listen empty", "http = {\n  listen = \"\";\n};", WB_ERR_INVAL,
      "t.conf:1: http: listen must not be empty" },
    { "max_body below", "http = {\n  max_body = \"1023\";\n};", WB_ERR_INVAL,
      "t.conf:2: http.max_body: 1023 is out of range (1k..64M)" },
    { "max_body above", "http = {\n  max_body = \"65M\";\n};", WB_ERR_INVAL,
      "t.conf:2: http.max_body: 65M is out of range (1k..64M)" },
    { "max_body bad", "http = {\n  max_body = \"10x\";\n};", WB_ERR_INVAL,
      "t.conf:2: http.max_body: bad size \"10x\": unknown unit" },
    { "request_timeout below", "http = {\n  request_timeout = \"999ms\";\n};", WB_ERR_INVAL,
      "t.conf:2: http.request_timeout: 999ms is out of range (1s..10m)" },
    { "request_timeout above", "http = {\n  request_timeout = 601;\n};", WB_ERR_INVAL,
      "t.conf:2: http.request_timeout: 601s is out of range (1s..10m)" },
    { "request_timeout negative", "http = {\n  request_timeout = \"-5s\";\n};", WB_ERR_INVAL,
      "t.conf:2: http.request_timeout: bad duration \"-5s\": must not be negative" },
    { "request_timeout overflow", "http = {\n  request_timeout = \"99999999999999999999h\";\n};",
      WB_ERR_INVAL,
      "t.conf:2: http.request_timeout: bad duration \"99999999999999999999h\": too large" },
    { "max_headers below", "http = {\n  max_headers = 7;\n};", WB_ERR_INVAL,
      "t.conf:2: http.max_headers: 7 is out of range (8..1024)" },
    { "max_headers above", "http = {\n  max_headers = 1025;\n};", WB_ERR_INVAL,
      "t.conf:2: http.max_headers: 1025 is out of range (8..1024)" },
    /* store */
    { "store driver", "store = {\n  driver = \"postgres\";\n};", WB_ERR_INVAL,
      "t.conf:2: store.driver: unknown value \"postgres\" (expected one of: sqlite)" },
    { "store busy_timeout", "store = {\n  busy_timeout = \"11m\";\n};", WB_ERR_INVAL,
      "t.conf:2: store.busy_timeout: 11m is out of range (0s..10m)" },
    { "store sync type", "store = {\n  synchronous_full = \"yes\";\n};", WB_ERR_INVAL,
      "t.conf:2: store.synchronous_full: expected true or false, got a string" },
    /* core */
    { "batch_max below", "core = {\n  batch_max = 0;\n};", WB_ERR_INVAL,
      "t.conf:2: core.batch_max: 0 is out of range (1..10000)" },
    { "batch_max above", "core = {\n  batch_max = 10001;\n};", WB_ERR_INVAL,
      "t.conf:2: core.batch_max: 10001 is out of range (1..10000)" },
    { "batch_wait above", "core = {\n  batch_wait = \"1001ms\";\n};", WB_ERR_INVAL,
      "t.conf:2: core.batch_wait: 1001ms is out of range (0s..1s)" },
    { "queue_depth below", "core = {\n  queue_depth = 15;\n};", WB_ERR_INVAL,
      "t.conf:2: core.queue_depth: 15 is out of range (16..1000000)" },
    { "queue_depth above", "core = {\n  queue_depth = 1000001;\n};", WB_ERR_INVAL,
      "t.conf:2: core.queue_depth: 1000001 is out of range (16..1000000)" },
    { "max_text below", "core = {\n  max_text = 512;\n};", WB_ERR_INVAL,
      "t.conf:2: core.max_text: 512 is out of range (1k..16M)" },
    { "max_text above", "core = {\n  max_text = \"17M\";\n};", WB_ERR_INVAL,
      "t.conf:2: core.max_text: 17M is out of range (1k..16M)" },
    { "max_messages below", "core = {\n  max_messages = 0;\n};", WB_ERR_INVAL,
      "t.conf:2: core.max_messages: 0 is out of range (1..10000)" },
    /* outbox */
    { "max_attempts above", "outbox = {\n  max_attempts = 101;\n};", WB_ERR_INVAL,
      "t.conf:2: outbox.max_attempts: 101 is out of range (1..100)" },
    { "backoff_base below", "outbox = {\n  backoff_base = \"9ms\";\n};", WB_ERR_INVAL,
      "t.conf:2: outbox.backoff_base: 9ms is out of range (10ms..1h)" },
    { "backoff_max above", "outbox = {\n  backoff_max = \"8d\";\n};", WB_ERR_INVAL,
      "t.conf:2: outbox.backoff_max: 8d is out of range (1s..7d)" },
    { "timeout below", "outbox = {\n  timeout = 0;\n};", WB_ERR_INVAL,
      "t.conf:2: outbox.timeout: 0s is out of range (1s..10m)" },
    { "max_inflight above", "outbox = {\n  max_inflight = 10001;\n};", WB_ERR_INVAL,
      "t.conf:2: outbox.max_inflight: 10001 is out of range (1..10000)" },
    { "backoff cross-field", "\noutbox = {\n  backoff_base = \"1h\";\n  backoff_max = \"30m\";\n};",
      WB_ERR_INVAL, "t.conf:2: outbox: backoff_base (1h) must not exceed backoff_max (30m)" },
    /* bot */
    { "bot unknown key", "bot = {\n  nope = 1;\n};", WB_ERR_INVAL,
      "t.conf:2: bot.nope: unknown setting" },
    { "bot threshold", "bot = {\n  threshold = 1.5;\n};", WB_ERR_INVAL,
      "t.conf:2: bot.threshold: 1.5 is out of range (0..1)" },
    { "bot literal key", "bot = {\n\n  llm_api_key = \"sk-123\";\n};", WB_ERR_INVAL,
      "t.conf:3: bot.llm_api_key: a literal secret is not allowed; use llm_api_key_file" },
    /* channels */
    { "channels not a list", "channels = {\n};", WB_ERR_INVAL,
      "t.conf:1: channels: expected a list" },
    { "channel not a group", "channels = (\n  1\n);", WB_ERR_INVAL,
      "t.conf:2: channels[0]: expected a group" },
    { "channel missing id", "channels = (\n  { type = \"api\"; }\n);", WB_ERR_INVAL,
      "t.conf:2: channels[0]: missing required setting id" },
    { "channel id type", "channels = (\n  { id = 5; type = \"api\"; }\n);", WB_ERR_INVAL,
      "t.conf:2: channels[0].id: expected a string" },
    { "channel bad id", "channels = (\n  { id = \"API Main\"; type = \"api\"; }\n);", WB_ERR_INVAL,
      "t.conf:2: channels[0].id: bad channel id \"API Main\" (use 1 to 64 of a-z 0-9 _ -)" },
    { "channel empty id", "channels = (\n  { id = \"\"; type = \"api\"; }\n);", WB_ERR_INVAL,
      "t.conf:2: channels[0].id: bad channel id \"\"" },
    { "channel id too long",
      "channels = (\n  { id = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"; type = \"api\"; }\n);",
      WB_ERR_INVAL, "t.conf:2: channels[0].id: bad channel id" },
    { "channel missing type", "channels = (\n  { id = \"a\"; }\n);", WB_ERR_INVAL,
      "t.conf:2: channels[0]: missing required setting type" },
    { "channel unknown type", "channels = (\n  { id = \"a\";\n    type = \"carrier-pigeon\"; }\n);",
      WB_ERR_INVAL,
      "t.conf:3: channels[a].type: unknown channel type \"carrier-pigeon\" (known: api" },
    { "unknown key after channels",
      API_CH("    callback_url = \"http://127.0.0.1:9/cb\";\n") "\n"
                                                                "channels2 = 1;",
      WB_ERR_INVAL, "channels2: unknown setting" },
    { "channel duplicate id",
      "channels = (\n  { id = \"a\"; type = \"api\"; secret = \"env:WB_TEST_API_SECRET\"; callback_url = \"http://x/\"; },\n  { id = \"a\"; type = \"api\"; secret = \"env:WB_TEST_API_SECRET\"; callback_url = \"http://x/\"; }\n);",
      WB_ERR_INVAL,
      "t.conf:3: channels[1].id: duplicate channel id \"a\" (first defined at line 2)" },
    { "channel unknown key",
      API_CH("    callback_url = \"http://127.0.0.1:9/cb\";\n    colour = \"red\";\n"),
      WB_ERR_INVAL,
      "t.conf:4: channels[a].colour: unknown setting (known: id, type, secret[_file], callback_url)" },
    { "api missing callback", API_CH(""), WB_ERR_INVAL,
      "t.conf:2: channels[a].callback_url: missing required setting" },
    { "api literal secret",
      "channels = (\n  { id = \"a\"; type = \"api\";\n    secret = \"abc\"; callback_url = \"http://x/\"; }\n);",
      WB_ERR_INVAL,
      "t.conf:3: channels[a].secret: a literal secret is not allowed; use secret_file = \"/path\" or secret = \"env:NAME\"" },
    { "api env missing",
      "channels = (\n  { id = \"a\"; type = \"api\";\n    secret = \"env:WB_TEST_MISSING\"; callback_url = \"http://x/\"; }\n);",
      WB_ERR_INVAL,
      "t.conf:3: channels[a].secret: environment variable WB_TEST_MISSING is not set" },
    { "api missing secret",
      "channels = (\n  { id = \"a\"; type = \"api\"; callback_url = \"http://x/\"; }\n);",
      WB_ERR_INVAL, "t.conf:2: channels[a].secret: missing required setting (give secret_file" },
    { "api verify",
      "channels = (\n  { id = \"a\"; type = \"api\"; secret = \"env:WB_TEST_SHORT\"; callback_url = \"http://x/\"; }\n);",
      WB_ERR_INVAL, "t.conf:2: channels[a]: secret must be at least 16 bytes" },
    { "api secret type",
      "channels = (\n  { id = \"a\"; type = \"api\";\n    secret_file = 5; callback_url = \"http://x/\"; }\n);",
      WB_ERR_INVAL,
      "t.conf:3: channels[a].secret_file: expected a string (a path), got an integer" },
    /* what is fine */
    { "empty", "", WB_OK, NULL },
    { "comments only", "# nothing\n// here\n/* at all */\n", WB_OK, NULL },
    { "empty groups", "log = {}; http = {}; store = {}; core = {}; outbox = {}; bot = {};", WB_OK,
      NULL },
    { "empty channel list", "channels = ( );", WB_OK, NULL },
    { "empty channel array", "channels = [ ];", WB_OK, NULL },
    { "bounds low",
      "http = { port = 0; max_body = \"1k\"; request_timeout = 1; max_headers = 8; };\n"
      "core = { batch_max = 1; batch_wait = 0; queue_depth = 16; max_text = 1024; max_messages = 1; };\n"
      "outbox = { max_attempts = 1; backoff_base = \"10ms\"; backoff_max = \"1s\"; timeout = \"1s\"; max_inflight = 1; };\n"
      "store = { busy_timeout = 0; };",
      WB_OK, NULL },
    { "bounds high",
      "http = { port = 65535; max_body = \"64M\"; request_timeout = \"10m\"; max_headers = 1024; };\n"
      "core = { batch_max = 10000; batch_wait = \"1s\"; queue_depth = 1000000; max_text = \"16M\"; max_messages = 10000; };\n"
      "outbox = { max_attempts = 100; backoff_base = \"1h\"; backoff_max = \"7d\"; timeout = \"10m\"; max_inflight = 10000; };\n"
      "store = { busy_timeout = \"10m\"; };",
      WB_OK, NULL },
    { "colon syntax", "http : { port : 9000; };", WB_OK, NULL },
    { "api channel", API_CH("    callback_url = \"http://127.0.0.1:9/cb\";\n"), WB_OK, NULL },
};

static void test_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        struct wb_config *cfg = NULL;
        struct wb_err err = { 0 };
        print_message("  %s\n", r->label);
        enum wb_status st = load(r->text, &cfg, &err);
        if (st != r->want) {
            fail_msg("%s: status %d, want %d (%s)", r->label, st, r->want, err.msg);
        }
        if (st == WB_OK) {
            assert_non_null(cfg);
            wb_config_free(cfg);
        } else {
            assert_null(cfg);
        }
        if (r->want_msg != NULL && strstr(err.msg, r->want_msg) == NULL) {
            fail_msg("%s: error \"%s\" lacks \"%s\"", r->label, err.msg, r->want_msg);
        }
    }
}

static void test_nul_byte(void **state)
{
    static const char text[] = "http = {\n  port = 1;\0\n};";
    struct wb_config *cfg = NULL;
    struct wb_err err = { 0 };
    (void)state;
    assert_int_equal(wb_config_load_string(text, sizeof(text) - 1, "t.conf", NULL, &cfg, &err),
                     WB_ERR_PARSE);
    assert_non_null(strstr(err.msg, "t.conf:2: NUL byte"));
    assert_null(cfg);
}

/* The default of a DOUBLE field, as the bot's own table gives it. */
static double default_double(const struct wb_conf_schema *schema, const char *key)
{
    for (size_t i = 0; i < schema->n_fields; i++) {
        if (strcmp(schema->fields[i].key, key) == 0) {
            return strtod(schema->fields[i].def, NULL);
        }
    }
    fail_msg("no field %s", key);
    return -1;
}

static void test_defaults(void **state)
{
    struct wb_config *cfg = NULL;
    struct wb_err err = { 0 };
    (void)state;
    assert_int_equal(load("", &cfg, &err), WB_OK);
    assert_string_equal(cfg->file, "t.conf");
    assert_string_equal(cfg->dir, "/etc/warbler");
    assert_string_equal(cfg->state_dir, "/var/lib/warblerd");
    assert_int_equal(cfg->log.level, 3); /* info */
    assert_int_equal(cfg->log.sink, 0);  /* auto */
    assert_string_equal(cfg->http.listen, "127.0.0.1");
    assert_true(cfg->http.port == 8080);
    assert_true(cfg->http.max_body == (int64_t)1024 * 1024);
    assert_true(cfg->http.request_timeout_ms == 30000);
    assert_true(cfg->http.max_headers == 64);
    assert_int_equal(cfg->store.driver, 0);
    assert_string_equal(cfg->store.path, "/var/lib/warblerd/warbler.db");
    assert_true(cfg->store.busy_timeout_ms == 5000);
    assert_false(cfg->store.synchronous_full);
    assert_true(cfg->core.batch_max == 256);
    assert_true(cfg->core.batch_wait_ms == 0);
    assert_true(cfg->core.queue_depth == 8192);
    assert_true(cfg->core.max_text == (int64_t)64 * 1024);
    assert_true(cfg->core.max_messages == 100);
    assert_true(cfg->outbox.max_attempts == 8);
    assert_true(cfg->outbox.backoff_base_ms == 1000);
    assert_true(cfg->outbox.backoff_max_ms == 600000);
    assert_true(cfg->outbox.timeout_ms == 30000);
    assert_true(cfg->outbox.max_inflight == 64);
    assert_true(cfg->outbox.senders == 2);
    const struct wb_bot_conf *bot = cfg->bot;
    assert_non_null(bot);
    assert_string_equal(bot->knowledge_dir, "/etc/warbler/knowledge");
    assert_true(bot->threshold == default_double(&wb_bot_conf_schema, "threshold"));
    assert_int_equal(cfg->n_channels, 0);
    assert_null(wb_config_channel(cfg, "api-main"));
    wb_config_free(cfg);
}

static void test_values(void **state)
{
    struct wb_config *cfg = NULL;
    struct wb_err err = { 0 };
    (void)state;
    assert_int_equal(load("log = { level = \"debug\"; sink = \"journal\"; };\n"
                          "http = { listen = \"0.0.0.0\"; port = 0; max_body = 2048; };\n"
                          "store = { synchronous_full = true; busy_timeout = \"250ms\"; };\n"
                          "outbox = { backoff_base = \"1m\"; backoff_max = \"1m\"; };\n"
                          "core = { batch_wait = \"0ms\"; max_text = \"1M\"; };\n",
                          &cfg, &err),
                     WB_OK);
    assert_int_equal(cfg->log.level, 4);
    assert_int_equal(cfg->log.sink, 2);
    assert_string_equal(cfg->http.listen, "0.0.0.0");
    assert_true(cfg->http.port == 0);
    assert_true(cfg->http.max_body == 2048);
    assert_true(cfg->store.synchronous_full);
    assert_true(cfg->store.busy_timeout_ms == 250);
    assert_true(cfg->outbox.backoff_base_ms == 60000);
    assert_true(cfg->core.batch_wait_ms == 0);
    assert_true(cfg->core.max_text == (int64_t)1024 * 1024);
    wb_config_free(cfg);
}

static void test_relative_paths(void **state)
{
    struct wb_config *cfg = NULL;
    struct wb_err err = { 0 };
    (void)state;
    static const char rel[] = "state_dir = \"state\";\nbot = { knowledge_dir = \"kb\"; };";
    assert_int_equal(wb_config_load_string(rel, strlen(rel), "t.conf", "/srv/w", &cfg, &err),
                     WB_OK);
    assert_string_equal(cfg->state_dir, "/srv/w/state");
    assert_string_equal(cfg->store.path, "/srv/w/state/warbler.db");
    assert_string_equal(((const struct wb_bot_conf *)cfg->bot)->knowledge_dir, "/srv/w/kb");
    wb_config_free(cfg);
    /* store.path given: relative to the config directory, not state_dir */
    assert_int_equal(load("state_dir = \"/var/x\"; store = { path = \"db/w.db\"; };", &cfg, &err),
                     WB_OK);
    assert_string_equal(cfg->store.path, "/etc/warbler/db/w.db");
    wb_config_free(cfg);
    /* absolute paths stay */
    assert_int_equal(load("store = { path = \"/data/w.db\"; };", &cfg, &err), WB_OK);
    assert_string_equal(cfg->store.path, "/data/w.db");
    wb_config_free(cfg);
    /* no dir: relative paths stay as written */
    static const char nodir[] = "state_dir = \"st\";";
    assert_int_equal(wb_config_load_string(nodir, strlen(nodir), NULL, NULL, &cfg, &err), WB_OK);
    assert_string_equal(cfg->state_dir, "st");
    assert_string_equal(cfg->file, "<string>");
    wb_config_free(cfg);
}

static void test_channels(void **state)
{
    struct wb_config *cfg = NULL;
    struct wb_err err = { 0 };
    (void)state;
    assert_int_equal(
        load("channels = (\n"
             "  { id = \"api-main\"; type = \"api\"; secret = \"env:WB_TEST_API_SECRET\";\n"
             "    callback_url = \"http://127.0.0.1:9090/cb\"; },\n"
             "  { id = \"api_2\"; type = \"api\"; secret = \"env:WB_TEST_API_SECRET\";\n"
             "    callback_url = \"https://example.com/cb\"; }\n"
             ");",
             &cfg, &err),
        WB_OK);
    assert_int_equal(cfg->n_channels, 2);
    const struct wb_conf_channel *ch = wb_config_channel(cfg, "api-main");
    assert_non_null(ch);
    assert_string_equal(ch->id, "api-main");
    assert_string_equal(ch->ops->name, "api");
    assert_int_equal(ch->line, 2);
    assert_non_null(ch->conf);
    ch = wb_config_channel(cfg, "api_2");
    assert_non_null(ch);
    assert_int_equal(ch->line, 4);
    assert_null(wb_config_channel(cfg, "api"));
    wb_config_free(cfg);
}

static void test_secret_files(void **state)
{
    char text[1024];
    struct wb_config *cfg = NULL;
    struct wb_err err = { 0 };
    (void)state;
    write_file("api.secret", API_SECRET "\n", 0600);
    write_file("open.secret", API_SECRET "\n", 0644);
    (void)snprintf(text, sizeof(text),
                   "channels = (\n  { id = \"a\"; type = \"api\";\n"
                   "    secret_file = \"%s/api.secret\"; callback_url = \"http://x/\"; }\n);",
                   tmpdir);
    assert_int_equal(load(text, &cfg, &err), WB_OK);
    wb_config_free(cfg);
    (void)snprintf(text, sizeof(text),
                   "channels = (\n  { id = \"a\"; type = \"api\";\n"
                   "    secret_file = \"%s/open.secret\"; callback_url = \"http://x/\"; }\n);",
                   tmpdir);
    assert_int_equal(load(text, &cfg, &err), WB_ERR_INVAL);
    assert_null(cfg);
    char want[256];
    (void)snprintf(want, sizeof(want),
                   "t.conf:3: channels[a].secret_file: %s/open.secret is readable or writable by "
                   "group or others (mode 0644)",
                   tmpdir);
    if (strstr(err.msg, want) == NULL) {
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, want);
    }
}

static void tmp_path(const char *name, char *buf, size_t bufsz)
{
    (void)snprintf(buf, bufsz, "%s/%s", tmpdir, name);
}

static void test_load_file(void **state)
{
    char path[PATH_MAX], want[PATH_MAX + 64], real[PATH_MAX];
    struct wb_config *cfg = NULL;
    struct wb_err err = { 0 };
    (void)state;
    assert_non_null(realpath(tmpdir, real));
    write_file("api.secret", API_SECRET "\n", 0600);
    write_file("inc.conf", "http = {\n  port = 9999;\n};\n", 0644);
    write_file("main.conf",
               "# relative paths: to this file's directory\n"
               "state_dir = \"state\";\n"
               "@include \"inc.conf\"\n"
               "bot = { knowledge_dir = \"knowledge\"; };\n"
               "channels = ( { id = \"api-main\"; type = \"api\"; secret_file = \"api.secret\";\n"
               "               callback_url = \"http://127.0.0.1:9090/cb\"; } );\n",
               0644);
    tmp_path("main.conf", path, sizeof(path));
    assert_int_equal(wb_config_load_file(path, &cfg, &err), WB_OK);
    assert_string_equal(cfg->file, path);
    assert_string_equal(cfg->dir, real);
    (void)snprintf(want, sizeof(want), "%s/state", real);
    assert_string_equal(cfg->state_dir, want);
    (void)snprintf(want, sizeof(want), "%s/knowledge", real);
    assert_string_equal(((const struct wb_bot_conf *)cfg->bot)->knowledge_dir, want);
    assert_true(cfg->http.port == 9999);
    assert_int_equal(cfg->n_channels, 1);
    wb_config_free(cfg);

    /* errors name the file and line */
    write_file("bad.conf", "\n\nhttp = {\n  port = 70000;\n};\n", 0644);
    tmp_path("bad.conf", path, sizeof(path));
    assert_int_equal(wb_config_load_file(path, &cfg, &err), WB_ERR_INVAL);
    (void)snprintf(want, sizeof(want), "%s:4: http.port: 70000 is out of range", path);
    if (strstr(err.msg, want) == NULL) {
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, want);
    }
    /* an error inside an included file names that file */
    write_file("inc.conf", "http = {\n  nope = 1;\n};\n", 0644);
    write_file("badinc.conf", "\n@include \"inc.conf\"\n", 0644);
    tmp_path("badinc.conf", path, sizeof(path));
    assert_int_equal(wb_config_load_file(path, &cfg, &err), WB_ERR_INVAL);
    if (strstr(err.msg, "inc.conf:2: http.nope: unknown setting") == NULL) {
        fail_msg("error \"%s\" lacks the included file's line", err.msg);
    }
    /* syntax error in a file */
    write_file("ovf.conf", "a = {\n\n  b = ;\n};\n", 0644);
    tmp_path("ovf.conf", path, sizeof(path));
    assert_int_equal(wb_config_load_file(path, &cfg, &err), WB_ERR_PARSE);
    (void)snprintf(want, sizeof(want), "%s:3: syntax error", path);
    if (strstr(err.msg, want) == NULL) {
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, want);
    }
    /* a missing file */
    tmp_path("none.conf", path, sizeof(path));
    assert_int_equal(wb_config_load_file(path, &cfg, &err), WB_ERR_IO);
    assert_non_null(strstr(err.msg, "none.conf: cannot open"));
    assert_null(cfg);
}

static const char *source_dir(void)
{
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): single-threaded test */
    const char *d = getenv("WB_SOURCE_DIR");
    return d != NULL ? d : ".";
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("cannot open %s", path);
    }
    static char buf[SLURP_MAX];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    (void)fclose(f);
    buf[n] = '\0';
    return buf;
}

/* Replace the first occurrence of from in text (capacity cap) with to. */
static void replace(char *text, size_t cap, const char *from, const char *to)
{
    char *p = strstr(text, from);
    assert_non_null(p);
    char *tail = strdup(p + strlen(from));
    assert_non_null(tail);
    size_t off = (size_t)(p - text);
    int n = snprintf(p, cap - off, "%s%s", to, tail);
    assert_true(n >= 0 && (size_t)n < cap - off);
    free(tail);
}

static void test_shipped(void **state)
{
    char path[PATH_MAX + 32], dir[PATH_MAX], secret[PATH_MAX], want[PATH_MAX + 32];
    struct wb_config *cfg = NULL;
    struct wb_err err = { 0 };
    (void)state;
    (void)snprintf(dir, sizeof(dir), "%s/etc", source_dir());
    (void)snprintf(path, sizeof(path), "%s/warbler.conf", dir);
    char *text = slurp(path);
    /* the shipped secret lives in /var/lib/warblerd; point it at a test file */
    write_file("api.secret", API_SECRET "\n", 0600);
    tmp_path("api.secret", secret, sizeof(secret));
    replace(text, SLURP_MAX, "/var/lib/warblerd/api.secret", secret);
    assert_int_equal(wb_config_load_string(text, strlen(text), path, dir, &cfg, &err), WB_OK);
    assert_string_equal(cfg->http.listen, "127.0.0.1");
    assert_true(cfg->http.port == 8080);
    assert_string_equal(cfg->state_dir, "/var/lib/warblerd");
    assert_string_equal(cfg->store.path, "/var/lib/warblerd/warbler.db");
    assert_int_equal(cfg->store.driver, 0);
    (void)snprintf(want, sizeof(want), "%s/knowledge", dir);
    assert_string_equal(((const struct wb_bot_conf *)cfg->bot)->knowledge_dir, want);
    const struct wb_conf_channel *ch = wb_config_channel(cfg, "api-main");
    assert_non_null(ch);
    assert_string_equal(ch->ops->name, "api");
    wb_config_free(cfg);
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

/*
 * tests/fixtures/config/good/ *.conf load; bad/ *.conf fail with the text
 * after "# expect: " on their first line (it holds ":LINE: setting: ...").
 */
static void run_fixture_dir(const char *sub, bool good)
{
    char dir[PATH_MAX], path[PATH_MAX * 2];
    (void)snprintf(dir, sizeof(dir), "%s/tests/fixtures/config/%s", source_dir(), sub);
    DIR *d = opendir(dir);
    if (d == NULL) {
        fail_msg("cannot open %s", dir);
        return;
    }
    int count = 0;
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): single-threaded test */
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        if (!has_suffix(e->d_name, ".conf")) {
            continue;
        }
        (void)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct wb_config *cfg = NULL;
        struct wb_err err = { 0 };
        print_message("  %s/%s\n", sub, e->d_name);
        enum wb_status st = wb_config_load_file(path, &cfg, &err);
        count++;
        if (good) {
            if (st != WB_OK) {
                fail_msg("%s: %s", e->d_name, err.msg);
            }
            wb_config_free(cfg);
            continue;
        }
        char *text = slurp(path);
        if (strncmp(text, "# expect: ", 10) != 0) {
            fail_msg("%s: first line must be \"# expect: :LINE: ...\"", e->d_name);
        }
        char *want = text + 10;
        want[strcspn(want, "\n")] = '\0';
        if (st == WB_OK) {
            wb_config_free(cfg);
            fail_msg("%s: loaded, want an error with \"%s\"", e->d_name, want);
        }
        if (strstr(err.msg, want) == NULL) {
            fail_msg("%s: error \"%s\" lacks \"%s\"", e->d_name, err.msg, want);
        }
    }
    (void)closedir(d);
    assert_true(count > 0);
}

static void test_fixtures(void **state)
{
    (void)state;
    run_fixture_dir("good", true);
    run_fixture_dir("bad", false);
}

/*
 * Every compiled-in connector's schema walks over an empty group without an
 * internal error: its defaults parse, and absent required keys are reported
 * as such.
 */
static void test_connector_schemas(void **state)
{
    size_t n = 0;
    const struct wb_connector_ops *const *all = wb_connector_all(&n);
    (void)state;
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        const struct wb_conf_schema *schema = all[i]->schema;
        if (schema == NULL) {
            continue;
        }
        void *conf = calloc(1, schema->size > 0 ? schema->size : 1);
        assert_non_null(conf);
        struct wb_err err = { 0 };
        struct wb_conf_walk w = { .name = "t.conf", .dir = "/d", .path = all[i]->name };
        enum wb_status st = wb_conf_walk(&w, NULL, schema, conf, &err);
        print_message("  %s: %s\n", all[i]->name, st == WB_OK ? "ok" : err.msg);
        assert_true(st == WB_OK || (st == WB_ERR_INVAL && strstr(err.msg, "missing required")));
        wb_conf_struct_free(schema, conf);
        free(conf);
    }
}

/* The default as a config file writes it: strings quoted, numbers bare. */
static void default_as_written(const struct wb_conf_field *f, char *buf, size_t bufsz)
{
    bool quoted = f->type == WB_CONF_STR || f->type == WB_CONF_PATH || f->type == WB_CONF_ENUM ||
                  f->type == WB_CONF_DURATION || f->type == WB_CONF_SIZE;
    (void)snprintf(buf, bufsz, quoted ? "\"%s\"" : "%s", f->def);
}

/* Is there a line of text that contains a and (when b is not NULL) b? */
static bool line_with(const char *text, const char *a, const char *b)
{
    for (const char *p = strstr(text, a); p != NULL; p = strstr(p + 1, a)) {
        const char *bol = p;
        while (bol > text && bol[-1] != '\n') {
            bol--;
        }
        size_t len = strcspn(bol, "\n");
        char *line = strndup(bol, len);
        assert_non_null(line);
        bool ok = b == NULL || strstr(line, b) != NULL;
        free(line);
        if (ok) {
            return true;
        }
    }
    return false;
}

/*
 * docs/CONFIG.md and etc/warbler.conf show every key of every schema, with
 * its default (short defaults only: prose defaults are abbreviated there).
 */
static void check_schema_documented(const char *docs, const char *conf,
                                    const struct wb_conf_schema *schema, bool in_conf)
{
    for (size_t i = 0; schema != NULL && i < schema->n_fields; i++) {
        const struct wb_conf_field *f = &schema->fields[i];
        char key[96], val[96], assign[160];
        (void)snprintf(key, sizeof(key), "`%s`", f->key);
        bool short_def = f->def != NULL && strlen(f->def) <= 30;
        if (short_def) {
            default_as_written(f, val, sizeof(val));
        }
        char doc_val[100];
        (void)snprintf(doc_val, sizeof(doc_val), "`%s`", val);
        if (!line_with(docs, key, short_def ? doc_val : NULL)) {
            fail_msg("docs/CONFIG.md: no table row for %s.%s%s%s", schema->name, f->key,
                     short_def ? " with default " : "", short_def ? doc_val : "");
        }
        if (!in_conf) {
            continue;
        }
        if (short_def) {
            (void)snprintf(assign, sizeof(assign), "%s = %s;", f->key, val);
        } else {
            (void)snprintf(assign, sizeof(assign), "%s%s = ", f->key,
                           f->type == WB_CONF_SECRET ? "_file" : "");
        }
        /* the key starts a line or follows a space ("# key = ...", "    key = ...") */
        char spaced[170], lined[170];
        (void)snprintf(spaced, sizeof(spaced), " %s", assign);
        (void)snprintf(lined, sizeof(lined), "\n%s", assign);
        if (strstr(conf, spaced) == NULL && strstr(conf, lined) == NULL) {
            fail_msg("etc/warbler.conf: no line \"%s\" (%s)", assign, schema->name);
        }
    }
}

static void test_docs_consistent(void **state)
{
    char path[PATH_MAX];
    (void)state;
    (void)snprintf(path, sizeof(path), "%s/docs/CONFIG.md", source_dir());
    char *docs = strdup(slurp(path));
    (void)snprintf(path, sizeof(path), "%s/etc/warbler.conf", source_dir());
    char *conf = strdup(slurp(path));
    assert_non_null(docs);
    assert_non_null(conf);
    for (size_t i = 0; i < wb_config_schema_count(); i++) {
        check_schema_documented(docs, conf, wb_config_schema(i), true);
    }
    check_schema_documented(docs, conf, &wb_bot_conf_schema, true);
    size_t n = 0;
    const struct wb_connector_ops *const *all = wb_connector_all(&n);
    for (size_t i = 0; i < n; i++) {
        check_schema_documented(docs, conf, all[i]->schema, false);
    }
    free(docs);
    free(conf);
}

static void test_reference(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    (void)state;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    wb_config_print_reference(f);
    assert_int_equal(fclose(f), 0);
    static const char *const want[] = {
        "state_dir",
        "log.level",
        "http.port",
        "http.max_body",
        "store.path",
        "core.batch_wait",
        "outbox.backoff_max",
        "bot.knowledge_dir",
        "channels[].id",
        "channels[type=api].secret[_file]",
        "channels[type=api].callback_url",
        "0..65535",
        "1k..64M",
        "10ms..1h",
        "error|warn|notice|info|debug",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (strstr(buf, want[i]) == NULL) {
            fail_msg("reference lacks \"%s\"", want[i]);
        }
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_relative_paths),
        cmocka_unit_test(test_channels),
        cmocka_unit_test(test_secret_files),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_shipped),
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_connector_schemas),
        cmocka_unit_test(test_docs_consistent),
        cmocka_unit_test(test_reference),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
