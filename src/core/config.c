/*
 * config.c - warblerd's configuration: the schemas of the core groups, the
 * `channels` list, and loading from text or a file.
 *
 * Design: libconfig parses; the walker (config_walk.c) checks and fills
 * every group from a schema table, so this file holds tables and glue, not
 * parsing code. The top level is itself walked with a schema (state_dir
 * plus the group names), so an unknown top-level key is an error like any
 * other. Each channel's settings are walked with its connector's schema
 * into a struct of schema->size. The config_t lives only for the call: the
 * result is self-contained and immutable, so a reload can build a new one
 * and keep the old one when the new file is bad.
 *
 * Thread: main (load, free); the result is read-only afterwards.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libconfig.h>

#include <warbler/connector.h>

#include "bot.h"
#include "config.h"
#include "config_schema.h"
#include "config_value.h"
#include "config_walk.h"

#define CONFIG_FILE_MAX ((size_t)16 * 1024 * 1024)
#define CHANNEL_ID_MAX  64

/* ---- schemas ---- */

static const char *const log_levels[] = { "error", "warn", "notice", "info", "debug", NULL };
static const char *const log_sinks[] = { "auto", "stderr", "journal", "syslog", NULL };
static const char *const store_drivers[] = { "sqlite", NULL };

#define K(n) ((int64_t)(n)*1024)
#define M(n) ((int64_t)(n)*1024 * 1024)
#define S(n) ((int64_t)(n)*1000)

static const struct wb_conf_field top_fields[] = {
    { .key = "state_dir",
      .type = WB_CONF_PATH,
      .offset = offsetof(struct wb_config, state_dir),
      .def = "/var/lib/warblerd",
      .doc = "directory for the database and runtime state (relative: to the config file)" },
    { .key = "user",
      .type = WB_CONF_STR,
      .offset = offsetof(struct wb_config, user),
      .def = "",
      .doc = "when started as root: the user to switch to once the listener is bound" },
};

static const struct wb_conf_schema top_schema = {
    .name = "top level",
    .fields = top_fields,
    .n_fields = WB_ARRAY_LEN(top_fields),
    .size = sizeof(struct wb_config),
};

static const struct wb_conf_field log_fields[] = {
    { .key = "level",
      .type = WB_CONF_ENUM,
      .offset = offsetof(struct wb_conf_log, level),
      .def = "info",
      .enum_words = log_levels,
      .doc = "least severe level logged: error, warn, notice, info or debug" },
    { .key = "sink",
      .type = WB_CONF_ENUM,
      .offset = offsetof(struct wb_conf_log, sink),
      .def = "auto",
      .enum_words = log_sinks,
      .doc = "auto (journal under systemd, else stderr), stderr, journal or syslog" },
};

static const struct wb_conf_schema log_schema = {
    .name = "log",
    .fields = log_fields,
    .n_fields = WB_ARRAY_LEN(log_fields),
    .size = sizeof(struct wb_conf_log),
};

static enum wb_status http_verify(void *conf, struct wb_err *err)
{
    const struct wb_conf_http *h = conf;
    if (h->listen == NULL || h->listen[0] == '\0') {
        return wb_err_set(err, WB_ERR_INVAL, "listen must not be empty");
    }
    return WB_OK;
}

static const struct wb_conf_field http_fields[] = {
    { .key = "listen",
      .type = WB_CONF_STR,
      .offset = offsetof(struct wb_conf_http, listen),
      .def = "127.0.0.1",
      .doc = "address the HTTP server binds to" },
    { .key = "port",
      .type = WB_CONF_INT,
      .offset = offsetof(struct wb_conf_http, port),
      .def = "8080",
      .min = 0,
      .max = 65535,
      .doc = "TCP port; 0 picks an ephemeral port (tests)" },
    { .key = "max_body",
      .type = WB_CONF_SIZE,
      .offset = offsetof(struct wb_conf_http, max_body),
      .def = "1M",
      .min = K(1),
      .max = M(64),
      .doc = "largest request body; larger webhooks get 413" },
    { .key = "request_timeout",
      .type = WB_CONF_DURATION,
      .offset = offsetof(struct wb_conf_http, request_timeout_ms),
      .def = "30s",
      .min = S(1),
      .max = S(600),
      .doc = "a request not complete after this is closed" },
    { .key = "max_headers",
      .type = WB_CONF_INT,
      .offset = offsetof(struct wb_conf_http, max_headers),
      .def = "64",
      .min = 8,
      .max = 1024,
      .doc = "most request headers accepted" },
};

static const struct wb_conf_schema http_schema = {
    .name = "http",
    .fields = http_fields,
    .n_fields = WB_ARRAY_LEN(http_fields),
    .size = sizeof(struct wb_conf_http),
    .verify = http_verify,
};

static const struct wb_conf_field store_fields[] = {
    { .key = "driver",
      .type = WB_CONF_ENUM,
      .offset = offsetof(struct wb_conf_store, driver),
      .def = "sqlite",
      .enum_words = store_drivers,
      .doc = "database driver (only sqlite for now)" },
    { .key = "path",
      .type = WB_CONF_PATH,
      .offset = offsetof(struct wb_conf_store, path),
      .def = "",
      .doc = "SQLite database file; empty means <state_dir>/warbler.db" },
    { .key = "busy_timeout",
      .type = WB_CONF_DURATION,
      .offset = offsetof(struct wb_conf_store, busy_timeout_ms),
      .def = "5s",
      .min = 0,
      .max = S(600),
      .doc = "how long a query waits for a lock held by another connection" },
    { .key = "synchronous_full",
      .type = WB_CONF_BOOL,
      .offset = offsetof(struct wb_conf_store, synchronous_full),
      .def = "false",
      .doc = "fsync the WAL on every commit (PRAGMA synchronous=FULL) instead of NORMAL" },
};

static const struct wb_conf_schema store_schema = {
    .name = "store",
    .fields = store_fields,
    .n_fields = WB_ARRAY_LEN(store_fields),
    .size = sizeof(struct wb_conf_store),
};

static const struct wb_conf_field core_fields[] = {
    { .key = "batch_max",
      .type = WB_CONF_INT,
      .offset = offsetof(struct wb_conf_core, batch_max),
      .def = "256",
      .min = 1,
      .max = 10000,
      .doc = "most messages committed in one transaction" },
    { .key = "batch_wait",
      .type = WB_CONF_DURATION,
      .offset = offsetof(struct wb_conf_core, batch_wait_ms),
      .def = "0ms",
      .min = 0,
      .max = S(1),
      .doc = "how long a batch waits to fill after its first message" },
    { .key = "queue_depth",
      .type = WB_CONF_INT,
      .offset = offsetof(struct wb_conf_core, queue_depth),
      .def = "8192",
      .min = 16,
      .max = 1000000,
      .doc = "messages waiting for the core; when full, webhooks get 503" },
    { .key = "max_text",
      .type = WB_CONF_SIZE,
      .offset = offsetof(struct wb_conf_core, max_text),
      .def = "64k",
      .min = K(1),
      .max = M(16),
      .doc = "largest message text in bytes" },
    { .key = "max_messages",
      .type = WB_CONF_INT,
      .offset = offsetof(struct wb_conf_core, max_messages),
      .def = "100",
      .min = 1,
      .max = 10000,
      .doc = "most messages accepted in one webhook delivery" },
};

static const struct wb_conf_schema core_schema = {
    .name = "core",
    .fields = core_fields,
    .n_fields = WB_ARRAY_LEN(core_fields),
    .size = sizeof(struct wb_conf_core),
};

static enum wb_status outbox_verify(void *conf, struct wb_err *err)
{
    const struct wb_conf_outbox *o = conf;
    if (o->backoff_base_ms > o->backoff_max_ms) {
        char b[32], m[32];
        wb_conf_format_duration(o->backoff_base_ms, b, sizeof(b));
        wb_conf_format_duration(o->backoff_max_ms, m, sizeof(m));
        return wb_err_set(err, WB_ERR_INVAL, "backoff_base (%s) must not exceed backoff_max (%s)",
                          b, m);
    }
    return WB_OK;
}

static const struct wb_conf_field outbox_fields[] = {
    { .key = "max_attempts",
      .type = WB_CONF_INT,
      .offset = offsetof(struct wb_conf_outbox, max_attempts),
      .def = "8",
      .min = 1,
      .max = 100,
      .doc = "send attempts before a reply is marked dead" },
    { .key = "backoff_base",
      .type = WB_CONF_DURATION,
      .offset = offsetof(struct wb_conf_outbox, backoff_base_ms),
      .def = "1s",
      .min = 10,
      .max = S(3600),
      .doc = "wait before the first retry; doubles each attempt" },
    { .key = "backoff_max",
      .type = WB_CONF_DURATION,
      .offset = offsetof(struct wb_conf_outbox, backoff_max_ms),
      .def = "10m",
      .min = S(1),
      .max = S(7 * 86400),
      .doc = "longest wait between retries (at least backoff_base)" },
    { .key = "timeout",
      .type = WB_CONF_DURATION,
      .offset = offsetof(struct wb_conf_outbox, timeout_ms),
      .def = "30s",
      .min = S(1),
      .max = S(600),
      .doc = "time limit of one send attempt" },
    { .key = "max_inflight",
      .type = WB_CONF_INT,
      .offset = offsetof(struct wb_conf_outbox, max_inflight),
      .def = "64",
      .min = 1,
      .max = 10000,
      .doc = "most sends in progress at once" },
    { .key = "senders",
      .type = WB_CONF_INT,
      .offset = offsetof(struct wb_conf_outbox, senders),
      .def = "2",
      .min = 1,
      .max = 64,
      .doc = "threads for channels that send with a blocking protocol (SMTP)" },
};

static const struct wb_conf_schema outbox_schema = {
    .name = "outbox",
    .fields = outbox_fields,
    .n_fields = WB_ARRAY_LEN(outbox_fields),
    .size = sizeof(struct wb_conf_outbox),
    .verify = outbox_verify,
};

/* The groups of struct wb_config, in file order of the reference. */
struct group_def {
    const char *key;
    const struct wb_conf_schema *schema;
    size_t offset;
};

static const struct group_def groups[] = {
    { "log", &log_schema, offsetof(struct wb_config, log) },
    { "http", &http_schema, offsetof(struct wb_config, http) },
    { "store", &store_schema, offsetof(struct wb_config, store) },
    { "core", &core_schema, offsetof(struct wb_config, core) },
    { "outbox", &outbox_schema, offsetof(struct wb_config, outbox) },
};

/* Top-level keys besides the top schema's fields. */
static const char *const top_groups[] = {
    "log", "http", "store", "core", "outbox", "bot", "channels", NULL,
};

static const char *const channel_own_keys[] = { "id", "type", NULL };

size_t wb_config_schema_count(void)
{
    return 1 + WB_ARRAY_LEN(groups);
}

const struct wb_conf_schema *wb_config_schema(size_t i)
{
    wb_assert(i < wb_config_schema_count());
    return i == 0 ? &top_schema : groups[i - 1].schema;
}

/* ---- channels ---- */

static bool is_channel_id(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n == 0 || n > CHANNEL_ID_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

static void known_types(char *buf, size_t bufsz)
{
    size_t n = 0, used = 0;
    const struct wb_connector_ops *const *all = wb_connector_all(&n);
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < bufsz; i++) {
        int r = snprintf(buf + used, bufsz - used, "%s%s", i > 0 ? ", " : "", all[i]->name);
        used += r > 0 ? (size_t)r : 0;
    }
    if (n == 0) {
        (void)snprintf(buf, bufsz, "none compiled in");
    }
}

/* Read a required string member of a channel group. */
static enum wb_status channel_string(const struct wb_conf_walk *w, const config_setting_t *g,
                                     const char *key, const char **out, struct wb_err *err)
{
    const config_setting_t *s = config_setting_get_member(g, key);
    if (s == NULL) {
        return wb_conf_err(w, g, err, WB_ERR_INVAL, "%s: missing required setting %s", w->path,
                           key);
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        return wb_conf_err(w, s, err, WB_ERR_INVAL, "%s.%s: expected a string", w->path, key);
    }
    const char *v = config_setting_get_string(s);
    *out = v != NULL ? v : "";
    return WB_OK;
}

static enum wb_status channel_id_check(const struct wb_conf_walk *w, const config_setting_t *g,
                                       const struct wb_config *cfg, const char *id,
                                       struct wb_err *err)
{
    char show[80];
    const config_setting_t *s = config_setting_get_member(g, "id");
    if (!is_channel_id(id)) {
        return wb_conf_err(w, s, err, WB_ERR_INVAL,
                           "%s.id: bad channel id \"%s\" (use 1 to 64 of a-z 0-9 _ -)", w->path,
                           wb_conf_printable(id, show, sizeof(show)));
    }
    for (size_t i = 0; i < cfg->n_channels; i++) {
        if (strcmp(cfg->channels[i].id, id) == 0) {
            return wb_conf_err(w, s, err, WB_ERR_INVAL,
                               "%s.id: duplicate channel id \"%s\" (first defined at line %d)",
                               w->path, id, cfg->channels[i].line);
        }
    }
    return WB_OK;
}

static enum wb_status load_channel(const struct wb_conf_walk *top, const config_setting_t *g,
                                   int index, struct wb_config *cfg, struct wb_err *err)
{
    char path[96];
    (void)snprintf(path, sizeof(path), "channels[%d]", index);
    struct wb_conf_walk w = { .name = top->name, .dir = top->dir, .path = path };
    if (!config_setting_is_group(g)) {
        return wb_conf_err(&w, g, err, WB_ERR_INVAL,
                           "%s: expected a group { id = \"...\"; type = \"...\"; ... }", path);
    }
    const char *id = NULL, *type = NULL;
    enum wb_status st = channel_string(&w, g, "id", &id, err);
    if (st == WB_OK) {
        st = channel_id_check(&w, g, cfg, id, err);
    }
    if (st == WB_OK) {
        st = channel_string(&w, g, "type", &type, err);
    }
    if (st != WB_OK) {
        return st;
    }
    (void)snprintf(path, sizeof(path), "channels[%s]", id);
    const struct wb_connector_ops *ops = wb_connector_find(type);
    if (ops == NULL) {
        char known[128], show[64];
        known_types(known, sizeof(known));
        return wb_conf_err(&w, config_setting_get_member(g, "type"), err, WB_ERR_INVAL,
                           "%s.type: unknown channel type \"%s\" (known: %s)", path,
                           wb_conf_printable(type, show, sizeof(show)), known);
    }
    static const struct wb_conf_schema no_settings = { .name = "channel" };
    const struct wb_conf_schema *schema = ops->schema != NULL ? ops->schema : &no_settings;
    struct wb_conf_channel *ch = &cfg->channels[cfg->n_channels++];
    ch->id = wb_strdup(id);
    ch->ops = ops;
    ch->line = config_setting_source_line(g);
    ch->conf = schema->size > 0 ? wb_calloc(1, schema->size) : NULL;
    w.skip = channel_own_keys;
    return wb_conf_walk(&w, g, schema, ch->conf, err);
}

static enum wb_status load_channels(const struct wb_conf_walk *top, const config_setting_t *root,
                                    struct wb_config *cfg, struct wb_err *err)
{
    const config_setting_t *list = config_setting_get_member(root, "channels");
    if (list == NULL) {
        return WB_OK;
    }
    int n = config_setting_length(list);
    bool empty_array = config_setting_type(list) == CONFIG_TYPE_ARRAY && n == 0;
    if (config_setting_type(list) != CONFIG_TYPE_LIST && !empty_array) {
        return wb_conf_err(top, list, err, WB_ERR_INVAL,
                           "channels: expected a list ( { id = \"...\"; type = \"...\"; }, ... )");
    }
    cfg->channels = wb_calloc((size_t)n, sizeof(*cfg->channels));
    for (int i = 0; i < n; i++) {
        enum wb_status st =
            load_channel(top, config_setting_get_elem(list, (unsigned)i), i, cfg, err);
        if (st != WB_OK) {
            return st;
        }
    }
    return WB_OK;
}

/* ---- loading ---- */

static enum wb_status load_groups(const struct wb_conf_walk *top, const config_setting_t *root,
                                  struct wb_config *cfg, struct wb_err *err)
{
    struct wb_conf_walk w = *top;
    w.skip = top_groups;
    enum wb_status st = wb_conf_walk(&w, root, &top_schema, cfg, err);
    w.skip = NULL;
    for (size_t i = 0; st == WB_OK && i < WB_ARRAY_LEN(groups); i++) {
        w.path = groups[i].key;
        st = wb_conf_walk(&w, config_setting_get_member(root, groups[i].key), groups[i].schema,
                          (char *)cfg + groups[i].offset, err);
    }
    if (st == WB_OK) {
        w.path = "bot";
        cfg->bot = wb_calloc(1, wb_bot_conf_schema.size);
        st = wb_conf_walk(&w, config_setting_get_member(root, "bot"), &wb_bot_conf_schema, cfg->bot,
                          err);
    }
    if (st == WB_OK) {
        st = load_channels(top, root, cfg, err);
    }
    if (st == WB_OK && (cfg->store.path == NULL || cfg->store.path[0] == '\0')) {
        free(cfg->store.path);
        cfg->store.path = wb_conf_resolve_path(cfg->state_dir, "warbler.db");
    }
    return st;
}

/* Refuse integer literals libconfig 1.5 would have truncated (see config_value.h). */
static enum wb_status check_int_literals(const char *text, size_t len, const char *name,
                                         struct wb_err *err)
{
    char tok[48];
    int line = wb_conf_scan_int_overflow(text, len, tok, sizeof(tok));
    if (line > 0) {
        return wb_err_set(err, WB_ERR_INVAL,
                          "%s:%d: integer %s does not fit in 32 bits; write it with an L "
                          "suffix (%sL) or, for sizes and durations, as a string (\"10G\", "
                          "\"7d\")",
                          name, line, tok, tok);
    }
    return WB_OK;
}

static enum wb_status parse_text(config_t *lc, const char *text, size_t len, const char *name,
                                 const char *dir, struct wb_err *err)
{
    const char *nul = memchr(text, '\0', len);
    if (nul != NULL) {
        int line = 1;
        for (const char *p = text; p < nul; p++) {
            line += *p == '\n';
        }
        return wb_err_set(err, WB_ERR_PARSE, "%s:%d: NUL byte in the config text", name, line);
    }
    if (dir != NULL) {
        config_set_include_dir(lc, dir);
    }
    char *copy = wb_strndup(text, len);
    int ok = config_read_string(lc, copy);
    free(copy);
    if (!ok) {
        const char *file = config_error_file(lc);
        return wb_err_set(err, WB_ERR_PARSE, "%s:%d: %s", file != NULL ? file : name,
                          config_error_line(lc), config_error_text(lc));
    }
    return check_int_literals(text, len, name, err);
}

enum wb_status wb_config_load_string(const char *text, size_t len, const char *name,
                                     const char *dir, struct wb_config **out, struct wb_err *err)
{
    config_t lc;
    struct wb_config *cfg = wb_calloc(1, sizeof(*cfg));
    *out = NULL;
    cfg->file = wb_strdup(name != NULL ? name : "<string>");
    cfg->dir = dir != NULL ? wb_strdup(dir) : NULL;
    config_init(&lc);
    enum wb_status st = parse_text(&lc, text, len, cfg->file, dir, err);
    if (st == WB_OK) {
        struct wb_conf_walk top = { .name = cfg->file, .dir = cfg->dir, .path = "" };
        st = load_groups(&top, config_root_setting(&lc), cfg, err);
    }
    config_destroy(&lc);
    if (st != WB_OK) {
        wb_config_free(cfg);
        return st;
    }
    *out = cfg;
    return WB_OK;
}

static enum wb_status read_file(const char *path, char **text_out, size_t *len_out,
                                struct wb_err *err)
{
    char eb[128];
    FILE *f = fopen(path, "rbe");
    if (f == NULL) {
        return wb_err_set(err, WB_ERR_IO, "%s: cannot open: %s", path,
                          strerror_r(errno, eb, sizeof(eb)));
    }
    size_t cap = (size_t)64 * 1024, n = 0;
    char *buf = wb_malloc(cap);
    enum wb_status st = WB_OK;
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = wb_realloc(buf, cap);
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n > CONFIG_FILE_MAX) {
            st = wb_err_set(err, WB_ERR_LIMIT, "%s: larger than %zu bytes", path, CONFIG_FILE_MAX);
            break;
        }
        if (r == 0) {
            if (ferror(f)) {
                st = wb_err_set(err, WB_ERR_IO, "%s: read error", path);
            }
            break;
        }
    }
    (void)fclose(f);
    if (st != WB_OK) {
        free(buf);
        return st;
    }
    *text_out = buf;
    *len_out = n;
    return WB_OK;
}

/* The directory part of path (dirname(3) without its static buffer). */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        return wb_strdup(".");
    }
    while (slash > path && slash[-1] == '/') {
        slash--;
    }
    return slash == path ? wb_strdup("/") : wb_strndup(path, (size_t)(slash - path));
}

enum wb_status wb_config_load_file(const char *path, struct wb_config **out, struct wb_err *err)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    enum wb_status st = read_file(path, &text, &len, err);
    if (st != WB_OK) {
        return st;
    }
    /* relative paths in the file resolve against its directory, made absolute */
    char *abs = realpath(path, NULL);
    char *dir = dir_of(abs != NULL ? abs : path);
    free(abs);
    st = wb_config_load_string(text, len, path, dir, out, err);
    free(dir);
    free(text);
    return st;
}

void wb_config_free(struct wb_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    for (size_t i = 0; i < cfg->n_channels; i++) {
        struct wb_conf_channel *ch = &cfg->channels[i];
        wb_conf_struct_free(ch->ops->schema, ch->conf);
        free(ch->conf);
        free(ch->id);
    }
    free(cfg->channels);
    if (cfg->bot != NULL) {
        wb_conf_struct_free(&wb_bot_conf_schema, cfg->bot);
        free(cfg->bot);
    }
    for (size_t i = 0; i < WB_ARRAY_LEN(groups); i++) {
        wb_conf_struct_free(groups[i].schema, (char *)cfg + groups[i].offset);
    }
    wb_conf_struct_free(&top_schema, cfg);
    free(cfg->file);
    free(cfg->dir);
    free(cfg);
}

const struct wb_conf_channel *wb_config_channel(const struct wb_config *cfg, const char *id)
{
    for (size_t i = 0; cfg != NULL && i < cfg->n_channels; i++) {
        if (strcmp(cfg->channels[i].id, id) == 0) {
            return &cfg->channels[i];
        }
    }
    return NULL;
}

/* ---- reference (warblerd --help-config) ---- */

static const char *type_name(enum wb_conf_type t)
{
    switch (t) {
    case WB_CONF_STR:
        return "string";
    case WB_CONF_INT:
        return "integer";
    case WB_CONF_BOOL:
        return "boolean";
    case WB_CONF_DOUBLE:
        return "number";
    case WB_CONF_DURATION:
        return "duration";
    case WB_CONF_SIZE:
        return "size";
    case WB_CONF_ENUM:
        return "enum";
    case WB_CONF_SECRET:
        return "secret";
    case WB_CONF_PATH:
        return "path";
    case WB_CONF_STRLIST:
        return "strings";
    }
    return "?";
}

static void field_range(const struct wb_conf_field *f, char *buf, size_t bufsz)
{
    char lo[32], hi[32];
    buf[0] = '\0';
    if (f->type == WB_CONF_ENUM && f->enum_words != NULL) {
        size_t used = 0;
        for (int i = 0; f->enum_words[i] != NULL && used < bufsz; i++) {
            int n = snprintf(buf + used, bufsz - used, "%s%s", i > 0 ? "|" : "", f->enum_words[i]);
            used += n > 0 ? (size_t)n : 0;
        }
    } else if (f->type == WB_CONF_DOUBLE && !(f->dmin == 0 && f->dmax == 0)) {
        (void)snprintf(buf, bufsz, "%g..%g", f->dmin, f->dmax);
    } else if (!(f->min == 0 && f->max == 0)) {
        if (f->type == WB_CONF_DURATION) {
            wb_conf_format_duration(f->min, lo, sizeof(lo));
            wb_conf_format_duration(f->max, hi, sizeof(hi));
        } else if (f->type == WB_CONF_SIZE) {
            wb_conf_format_size(f->min, lo, sizeof(lo));
            wb_conf_format_size(f->max, hi, sizeof(hi));
        } else {
            (void)snprintf(lo, sizeof(lo), "%lld", (long long)f->min);
            (void)snprintf(hi, sizeof(hi), "%lld", (long long)f->max);
        }
        (void)snprintf(buf, bufsz, "%s..%s", lo, hi);
    }
}

/* The default as written in a config file, cut (on a UTF-8 boundary) when long. */
static void field_default(const struct wb_conf_field *f, char *buf, size_t bufsz)
{
    if (f->required) {
        (void)snprintf(buf, bufsz, "required");
        return;
    }
    if (f->def == NULL) {
        (void)snprintf(buf, bufsz, "no default");
        return;
    }
    bool quoted = f->type == WB_CONF_STR || f->type == WB_CONF_PATH || f->type == WB_CONF_ENUM ||
                  f->type == WB_CONF_DURATION || f->type == WB_CONF_SIZE;
    size_t n = strlen(f->def), cut = 48;
    if (n > cut) {
        while (cut > 0 && ((unsigned char)f->def[cut] & 0xC0) == 0x80) {
            cut--;
        }
        n = cut;
    }
    (void)snprintf(buf, bufsz, "default %s%.*s%s%s", quoted ? "\"" : "", (int)n, f->def,
                   n < strlen(f->def) ? "..." : "", quoted ? "\"" : "");
}

static void print_schema(FILE *f, const char *prefix, const struct wb_conf_schema *schema)
{
    for (size_t i = 0; schema != NULL && i < schema->n_fields; i++) {
        const struct wb_conf_field *fd = &schema->fields[i];
        char key[128], range[96], def[96];
        if (prefix[0] != '\0') {
            (void)snprintf(key, sizeof(key), "%s.%s%s", prefix, fd->key,
                           fd->type == WB_CONF_SECRET ? "[_file]" : "");
        } else {
            (void)snprintf(key, sizeof(key), "%s", fd->key);
        }
        field_range(fd, range, sizeof(range));
        field_default(fd, def, sizeof(def));
        (void)fprintf(f, "%-34s %-8s %s%s%s\n    %s\n", key, type_name(fd->type), def,
                      range[0] != '\0' ? ", range " : "", range, fd->doc != NULL ? fd->doc : "");
    }
}

void wb_config_print_reference(FILE *f)
{
    (void)fprintf(f, "Settings of warbler.conf (see docs/CONFIG.md). Durations: \"250ms\" \"30s\" "
                     "\"10m\" \"24h\" \"7d\" or integer seconds;\nsizes: \"512\" \"64k\" \"10M\" "
                     "\"1G\" or integer bytes; secrets: KEY_file = \"/path\" (mode 0600) or KEY = "
                     "\"env:NAME\".\n\n");
    print_schema(f, "", &top_schema);
    for (size_t i = 0; i < WB_ARRAY_LEN(groups); i++) {
        print_schema(f, groups[i].key, groups[i].schema);
    }
    print_schema(f, "bot", &wb_bot_conf_schema);
    (void)fprintf(f, "%-34s %-8s %s\n    %s\n", "channels[].id", "string",
                  "required, [a-z0-9_-]{1,64}", "unique channel id (in URLs and logs)");
    (void)fprintf(f, "%-34s %-8s %s\n    %s\n", "channels[].type", "string", "required",
                  "connector type; the channel's other keys are the connector's, below");
    size_t n = 0;
    const struct wb_connector_ops *const *all = wb_connector_all(&n);
    for (size_t i = 0; i < n; i++) {
        char prefix[80];
        (void)snprintf(prefix, sizeof(prefix), "channels[type=%s]", all[i]->name);
        print_schema(f, prefix, all[i]->schema);
    }
}
