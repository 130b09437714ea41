/*
 * config_walk.c - the one walker that turns a libconfig group into a
 * module's struct, driven by a struct wb_conf_schema table.
 *
 * Design: modules and connectors never read libconfig themselves; they
 * declare {key, type, offset, required, default, bounds, enum words} and
 * this file does the reading and checking once [Postfix CONFIG_*_TABLE,
 * nginx ngx_command_t]. First every key of the group is checked against
 * the table (unknown keys are errors: a typo must not silently become a
 * default), then every field is filled from its setting or its default
 * (defaults are text in the same syntax and go through the same parsers),
 * then the schema's verify runs for rules spanning fields. Secrets are
 * never literal values: `<key>_file` (mode 0600-ish, checked on the open
 * descriptor) or `<key> = "env:NAME"`.
 *
 * Thread: the thread that loads the config (main).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <warbler/log.h>

#include "config_value.h"
#include "config_walk.h"

#define SECRET_FILE_MAX ((size_t)64 * 1024)
#define KEY_PATH_MAX    160
#define SHOW_MAX        64

enum wb_status wb_conf_err(const struct wb_conf_walk *w, const config_setting_t *s,
                           struct wb_err *err, enum wb_status code, const char *fmt, ...)
{
    const char *file = s != NULL ? config_setting_source_file(s) : NULL;
    if (file == NULL) {
        file = w->name != NULL ? w->name : "<config>";
    }
    unsigned line = s != NULL ? config_setting_source_line(s) : 0;
    char where[WB_ERR_MSG_MAX];
    if (line > 0) {
        (void)snprintf(where, sizeof(where), "%s:%u: ", file, line);
    } else {
        (void)snprintf(where, sizeof(where), "%s: ", file);
    }
    char msg[WB_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return wb_err_set(err, code, "%s%s", where, msg);
}

void wb_conf_key_path(const char *path, const char *key, char *buf, size_t bufsz)
{
    if (path == NULL || path[0] == '\0') {
        (void)snprintf(buf, bufsz, "%s", key);
    } else {
        (void)snprintf(buf, bufsz, "%s.%s", path, key);
    }
}

const char *wb_conf_printable(const char *s, char *buf, size_t bufsz)
{
    return wb_log_printable(s, strlen(s), buf, bufsz);
}

char *wb_conf_resolve_path(const char *dir, const char *p)
{
    if (dir == NULL || dir[0] == '\0' || p[0] == '\0' || p[0] == '/') {
        return wb_strdup(p);
    }
    size_t dl = strlen(dir), pl = strlen(p);
    while (dl > 1 && dir[dl - 1] == '/') {
        dl--;
    }
    size_t total = dl + 1 + pl + 1;
    char *out = wb_malloc(total);
    (void)snprintf(out, total, "%.*s/%s", (int)dl, dir, p);
    return out;
}

static const char *type_word(const config_setting_t *s)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_GROUP:
        return "a group";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        return "an integer";
    case CONFIG_TYPE_FLOAT:
        return "a float";
    case CONFIG_TYPE_STRING:
        return "a string";
    case CONFIG_TYPE_BOOL:
        return "a boolean";
    case CONFIG_TYPE_ARRAY:
        return "an array";
    case CONFIG_TYPE_LIST:
        return "a list";
    default:
        return "an unknown type";
    }
}

static const char *want_word(enum wb_conf_type t)
{
    switch (t) {
    case WB_CONF_STR:
    case WB_CONF_PATH:
    case WB_CONF_SECRET:
        return "a string";
    case WB_CONF_INT:
        return "an integer";
    case WB_CONF_BOOL:
        return "true or false";
    case WB_CONF_DOUBLE:
        return "a number";
    case WB_CONF_DURATION:
        return "a duration (\"30s\" or an integer of seconds)";
    case WB_CONF_SIZE:
        return "a size (\"64k\" or an integer of bytes)";
    case WB_CONF_ENUM:
        return "one of the words listed for it (a string)";
    case WB_CONF_STRLIST:
        return "a list of strings [ \"a\", \"b\" ]";
    }
    return "a value";
}

static bool is_int(const config_setting_t *s)
{
    return config_setting_type(s) == CONFIG_TYPE_INT || config_setting_type(s) == CONFIG_TYPE_INT64;
}

static void *field_ptr(void *conf, const struct wb_conf_field *f)
{
    return (char *)conf + f->offset;
}

/* ---- unknown keys ---- */

static bool key_known(const struct wb_conf_schema *schema, const char *const *skip,
                      const char *name)
{
    for (size_t i = 0; i < schema->n_fields; i++) {
        const struct wb_conf_field *f = &schema->fields[i];
        size_t kl = strlen(f->key);
        if (strcmp(name, f->key) == 0) {
            return true;
        }
        if (f->type == WB_CONF_SECRET && strncmp(name, f->key, kl) == 0 &&
            strcmp(name + kl, "_file") == 0) {
            return true;
        }
    }
    for (size_t i = 0; skip != NULL && skip[i] != NULL; i++) {
        if (strcmp(name, skip[i]) == 0) {
            return true;
        }
    }
    return false;
}

static bool append_key(char *buf, size_t bufsz, size_t *used, const char *key, const char *suffix)
{
    int n = snprintf(buf + *used, bufsz - *used, "%s%s%s", *used > 0 ? ", " : "", key, suffix);
    if (n < 0 || (size_t)n >= bufsz - *used) {
        return false;
    }
    *used += (size_t)n;
    return true;
}

/* "id, type, listen, port, ..." (the caller's keys, then the schema's) if it fits, else "" */
static void known_keys(const struct wb_conf_schema *schema, const char *const *skip, char *buf,
                       size_t bufsz)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; skip != NULL && skip[i] != NULL; i++) {
        if (!append_key(buf, bufsz, &used, skip[i], "")) {
            buf[0] = '\0';
            return;
        }
    }
    for (size_t i = 0; i < schema->n_fields; i++) {
        const struct wb_conf_field *f = &schema->fields[i];
        if (!append_key(buf, bufsz, &used, f->key, f->type == WB_CONF_SECRET ? "[_file]" : "")) {
            buf[0] = '\0';
            return;
        }
    }
}

static enum wb_status check_unknown(const struct wb_conf_walk *w, const config_setting_t *group,
                                    const struct wb_conf_schema *schema, struct wb_err *err)
{
    int n = group != NULL ? config_setting_length(group) : 0;
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        if (name == NULL || key_known(schema, w->skip, name)) {
            continue;
        }
        char kp[KEY_PATH_MAX], known[128];
        wb_conf_key_path(w->path, name, kp, sizeof(kp));
        known_keys(schema, w->skip, known, sizeof(known));
        if (known[0] != '\0') {
            return wb_conf_err(w, s, err, WB_ERR_INVAL, "%s: unknown setting (known: %s)", kp,
                               known);
        }
        return wb_conf_err(w, s, err, WB_ERR_INVAL, "%s: unknown setting", kp);
    }
    return WB_OK;
}

/* ---- range checks ---- */

static bool has_bounds(const struct wb_conf_field *f)
{
    return !(f->min == 0 && f->max == 0);
}

static void format_value(enum wb_conf_type t, int64_t v, char *buf, size_t bufsz)
{
    if (t == WB_CONF_DURATION) {
        wb_conf_format_duration(v, buf, bufsz);
    } else if (t == WB_CONF_SIZE) {
        wb_conf_format_size(v, buf, bufsz);
    } else {
        (void)snprintf(buf, bufsz, "%lld", (long long)v);
    }
}

static enum wb_status check_range(const struct wb_conf_walk *w, const config_setting_t *s,
                                  const struct wb_conf_field *f, const char *kp, int64_t v,
                                  struct wb_err *err)
{
    if (!has_bounds(f) || (v >= f->min && v <= f->max)) {
        return WB_OK;
    }
    char vb[32], lo[32], hi[32];
    format_value(f->type, v, vb, sizeof(vb));
    format_value(f->type, f->min, lo, sizeof(lo));
    format_value(f->type, f->max, hi, sizeof(hi));
    return wb_conf_err(w, s, err, WB_ERR_INVAL, "%s: %s is out of range (%s..%s)", kp, vb, lo, hi);
}

/* ---- scalar values: from a setting (s != NULL) or from default text ---- */

struct value_src {
    const config_setting_t *s; /* the setting, or NULL for the default text */
    const char *text;          /* the string value (setting or default), may be NULL */
};

static enum wb_status type_error(const struct wb_conf_walk *w, const config_setting_t *s,
                                 const struct wb_conf_field *f, const char *kp, struct wb_err *err)
{
    return wb_conf_err(w, s, err, WB_ERR_INVAL, "%s: expected %s, got %s", kp, want_word(f->type),
                       type_word(s));
}

/* A string value (or a built-in default when v->s is NULL) that does not parse. */
static enum wb_status bad_text(const struct wb_conf_walk *w, const struct value_src *v,
                               const char *kp, const char *what, const char *why,
                               struct wb_err *err)
{
    char show[SHOW_MAX];
    if (v->s == NULL) {
        return wb_conf_err(w, NULL, err, WB_ERR_INTERNAL, "%s: bad built-in default %s \"%s\": %s",
                           kp, what, v->text, why);
    }
    return wb_conf_err(w, v->s, err, WB_ERR_INVAL, "%s: bad %s \"%s\": %s", kp, what,
                       wb_conf_printable(v->text, show, sizeof(show)), why);
}

static enum wb_status fill_int(const struct wb_conf_walk *w, const struct value_src *v,
                               const struct wb_conf_field *f, const char *kp, int64_t *out,
                               struct wb_err *err)
{
    int64_t x = 0;
    const char *why = NULL;
    enum wb_status st = WB_OK;
    if (v->s != NULL && is_int(v->s)) {
        x = config_setting_get_int64(v->s);
        if (f->type == WB_CONF_DURATION) {
            st = wb_conf_seconds_to_ms(x, &x, &why);
        } else if (f->type == WB_CONF_SIZE && x < 0) {
            st = WB_ERR_INVAL;
            why = "must not be negative";
        }
        if (st != WB_OK) {
            return wb_conf_err(w, v->s, err, WB_ERR_INVAL, "%s: %lld %s: %s", kp,
                               (long long)config_setting_get_int64(v->s),
                               f->type == WB_CONF_DURATION ? "seconds" : "bytes", why);
        }
    } else if (v->s != NULL &&
               (f->type == WB_CONF_INT || config_setting_type(v->s) != CONFIG_TYPE_STRING)) {
        return type_error(w, v->s, f, kp, err);
    } else if (f->type == WB_CONF_DURATION) {
        if (wb_conf_parse_duration(v->text, &x, &why) != WB_OK) {
            return bad_text(w, v, kp, "duration", why, err);
        }
    } else if (f->type == WB_CONF_SIZE) {
        if (wb_conf_parse_size(v->text, &x, &why) != WB_OK) {
            return bad_text(w, v, kp, "size", why, err);
        }
    } else {
        /* INT default text */
        char *end = NULL;
        errno = 0;
        long long ll = strtoll(v->text, &end, 10);
        if (errno != 0 || end == v->text || *end != '\0') {
            return bad_text(w, v, kp, "integer", "not an integer", err);
        }
        x = ll;
    }
    *out = x;
    return check_range(w, v->s, f, kp, x, err);
}

static enum wb_status fill_double(const struct wb_conf_walk *w, const struct value_src *v,
                                  const struct wb_conf_field *f, const char *kp, double *out,
                                  struct wb_err *err)
{
    double x = 0;
    if (v->s != NULL) {
        if (config_setting_type(v->s) == CONFIG_TYPE_FLOAT) {
            x = config_setting_get_float(v->s);
        } else if (is_int(v->s)) {
            x = (double)config_setting_get_int64(v->s);
        } else {
            return type_error(w, v->s, f, kp, err);
        }
    } else {
        char *end = NULL;
        errno = 0;
        x = strtod(v->text, &end);
        if (errno != 0 || end == v->text || *end != '\0') {
            return bad_text(w, v, kp, "number", "not a number", err);
        }
    }
    if (!isfinite(x)) {
        return wb_conf_err(w, v->s, err, WB_ERR_INVAL, "%s: not a finite number", kp);
    }
    if (!(f->dmin == 0 && f->dmax == 0) && (x < f->dmin || x > f->dmax)) {
        return wb_conf_err(w, v->s, err, WB_ERR_INVAL, "%s: %g is out of range (%g..%g)", kp, x,
                           f->dmin, f->dmax);
    }
    *out = x;
    return WB_OK;
}

static enum wb_status fill_enum(const struct wb_conf_walk *w, const struct value_src *v,
                                const struct wb_conf_field *f, const char *kp, int *out,
                                struct wb_err *err)
{
    if (f->enum_words == NULL) {
        return wb_conf_err(w, v->s, err, WB_ERR_INTERNAL, "%s: enum without words", kp);
    }
    for (int i = 0; f->enum_words[i] != NULL; i++) {
        if (strcmp(v->text, f->enum_words[i]) == 0) {
            *out = i;
            return WB_OK;
        }
    }
    char words[128] = "", show[SHOW_MAX];
    size_t used = 0;
    for (int i = 0; f->enum_words[i] != NULL && used < sizeof(words); i++) {
        int n = snprintf(words + used, sizeof(words) - used, "%s%s", i > 0 ? ", " : "",
                         f->enum_words[i]);
        used += n > 0 ? (size_t)n : 0;
    }
    enum wb_status code = v->s != NULL ? WB_ERR_INVAL : WB_ERR_INTERNAL;
    return wb_conf_err(w, v->s, err, code, "%s: unknown value \"%s\" (expected one of: %s)", kp,
                       wb_conf_printable(v->text, show, sizeof(show)), words);
}

static void strlist_push(struct wb_strlist *l, const char *s, size_t n)
{
    l->items = wb_realloc(l->items, (l->n + 1) * sizeof(*l->items));
    l->items[l->n++] = wb_strndup(s, n);
}

static enum wb_status fill_strlist(const struct wb_conf_walk *w, const struct value_src *v,
                                   const struct wb_conf_field *f, const char *kp,
                                   struct wb_strlist *out, struct wb_err *err)
{
    if (v->s == NULL) {
        /* default text: comma-separated words, "" for an empty list */
        const char *p = v->text;
        while (*p != '\0') {
            size_t n = strcspn(p, ",");
            strlist_push(out, p, n);
            p += n + (p[n] == ',' ? 1 : 0);
        }
        return WB_OK;
    }
    int t = config_setting_type(v->s);
    if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
        return type_error(w, v->s, f, kp, err);
    }
    int n = config_setting_length(v->s);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(v->s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            return wb_conf_err(w, e, err, WB_ERR_INVAL, "%s[%d]: expected a string, got %s", kp, i,
                               type_word(e));
        }
        const char *s = config_setting_get_string(e);
        strlist_push(out, s, strlen(s));
    }
    return WB_OK;
}

static enum wb_status fill_value(const struct wb_conf_walk *w, const struct value_src *v,
                                 const struct wb_conf_field *f, const char *kp, void *conf,
                                 struct wb_err *err)
{
    void *p = field_ptr(conf, f);
    bool wants_string =
        f->type == WB_CONF_STR || f->type == WB_CONF_PATH || f->type == WB_CONF_ENUM;
    if (v->s != NULL && wants_string && config_setting_type(v->s) != CONFIG_TYPE_STRING) {
        return type_error(w, v->s, f, kp, err);
    }
    switch (f->type) {
    case WB_CONF_STR:
        free(*(char **)p);
        *(char **)p = wb_strdup(v->text);
        return WB_OK;
    case WB_CONF_PATH:
        free(*(char **)p);
        *(char **)p = wb_conf_resolve_path(w->dir, v->text);
        return WB_OK;
    case WB_CONF_INT:
    case WB_CONF_DURATION:
    case WB_CONF_SIZE:
        return fill_int(w, v, f, kp, (int64_t *)p, err);
    case WB_CONF_BOOL:
        if (v->s == NULL) {
            *(bool *)p = strcmp(v->text, "true") == 0;
            return WB_OK;
        }
        if (config_setting_type(v->s) != CONFIG_TYPE_BOOL) {
            return type_error(w, v->s, f, kp, err);
        }
        *(bool *)p = config_setting_get_bool(v->s) != 0;
        return WB_OK;
    case WB_CONF_DOUBLE:
        return fill_double(w, v, f, kp, (double *)p, err);
    case WB_CONF_ENUM:
        return fill_enum(w, v, f, kp, (int *)p, err);
    case WB_CONF_STRLIST:
        return fill_strlist(w, v, f, kp, (struct wb_strlist *)p, err);
    case WB_CONF_SECRET:
        break;
    }
    return wb_conf_err(w, v->s, err, WB_ERR_INTERNAL, "%s: unsupported field type %d", kp,
                       (int)f->type);
}

/* ---- secrets ---- */

static const char *errno_str(int e, char *buf, size_t bufsz)
{
    /* GNU strerror_r: thread-safe, returns the message (maybe not in buf) */
    return strerror_r(e, buf, bufsz);
}

static enum wb_status secret_read_fd(int fd, const char *path, struct wb_secret *out, char *why,
                                     size_t whysz)
{
    struct stat st;
    char eb[128];
    if (fstat(fd, &st) != 0) {
        (void)snprintf(why, whysz, "cannot stat %s: %s", path, errno_str(errno, eb, sizeof(eb)));
        return WB_ERR_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        (void)snprintf(why, whysz, "%s is not a regular file", path);
        return WB_ERR_INVAL;
    }
    if ((st.st_mode & 077) != 0) {
        (void)snprintf(why, whysz,
                       "%s is readable or writable by group or others (mode %04o); "
                       "chmod 600 it",
                       path, (unsigned)(st.st_mode & 07777));
        return WB_ERR_INVAL;
    }
    if ((uint64_t)st.st_size > SECRET_FILE_MAX) {
        (void)snprintf(why, whysz, "%s is larger than %zu bytes", path, SECRET_FILE_MAX);
        return WB_ERR_INVAL;
    }
    /* read into a scratch buffer wiped afterwards, one byte past the limit to see growth */
    struct wb_secret scratch = { .data = wb_malloc(SECRET_FILE_MAX + 1),
                                 .len = SECRET_FILE_MAX + 1 };
    size_t n = 0;
    enum wb_status rc = WB_OK;
    while (n <= SECRET_FILE_MAX) {
        ssize_t r = read(fd, scratch.data + n, SECRET_FILE_MAX + 1 - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            (void)snprintf(why, whysz, "cannot read %s: %s", path,
                           errno_str(errno, eb, sizeof(eb)));
            rc = WB_ERR_IO;
        }
        if (r <= 0) {
            break;
        }
        n += (size_t)r;
    }
    if (n > 0 && scratch.data[n - 1] == '\n') {
        n--;
        if (n > 0 && scratch.data[n - 1] == '\r') {
            n--;
        }
    }
    if (rc == WB_OK && n == 0) {
        (void)snprintf(why, whysz, "%s is empty", path);
        rc = WB_ERR_INVAL;
    } else if (rc == WB_OK && n > SECRET_FILE_MAX) {
        (void)snprintf(why, whysz, "%s is larger than %zu bytes", path, SECRET_FILE_MAX);
        rc = WB_ERR_INVAL;
    } else if (rc == WB_OK) {
        out->data = wb_memdup(scratch.data, n);
        out->len = n;
    }
    wb_secret_free(&scratch);
    return rc;
}

static enum wb_status secret_from_file(const struct wb_conf_walk *w, const config_setting_t *s,
                                       const char *kp, struct wb_secret *out, struct wb_err *err)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        return wb_conf_err(w, s, err, WB_ERR_INVAL, "%s: expected a string (a path), got %s", kp,
                           type_word(s));
    }
    const char *given = config_setting_get_string(s);
    if (given[0] == '\0') {
        return wb_conf_err(w, s, err, WB_ERR_INVAL, "%s: empty path", kp);
    }
    char *path = wb_conf_resolve_path(w->dir, given);
    char show[SHOW_MAX * 2], why[WB_ERR_MSG_MAX], eb[128];
    (void)wb_conf_printable(path, show, sizeof(show));
    enum wb_status st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        (void)snprintf(why, sizeof(why), "cannot open %s: %s", show,
                       errno_str(errno, eb, sizeof(eb)));
        st = WB_ERR_INVAL;
    } else {
        st = secret_read_fd(fd, show, out, why, sizeof(why));
        (void)close(fd);
    }
    free(path);
    if (st != WB_OK) {
        return wb_conf_err(w, s, err, WB_ERR_INVAL, "%s: %s", kp, why);
    }
    return WB_OK;
}

static bool is_env_name(const char *s)
{
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_')) {
        return false;
    }
    for (s++; *s != '\0'; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_')) {
            return false;
        }
    }
    return true;
}

static enum wb_status secret_from_value(const struct wb_conf_walk *w, const config_setting_t *s,
                                        const struct wb_conf_field *f, const char *kp,
                                        struct wb_secret *out, struct wb_err *err)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        return wb_conf_err(w, s, err, WB_ERR_INVAL, "%s: expected \"env:NAME\", got %s", kp,
                           type_word(s));
    }
    const char *v = config_setting_get_string(s);
    if (strncmp(v, "env:", 4) != 0) {
        /* never echo the value: it is probably the secret itself */
        return wb_conf_err(w, s, err, WB_ERR_INVAL,
                           "%s: a literal secret is not allowed; use %s_file = \"/path\" "
                           "or %s = \"env:NAME\"",
                           kp, f->key, f->key);
    }
    const char *name = v + 4;
    char show[SHOW_MAX];
    (void)wb_conf_printable(name, show, sizeof(show));
    if (!is_env_name(name)) {
        return wb_conf_err(w, s, err, WB_ERR_INVAL,
                           "%s: bad environment variable name \"%s\" (use [A-Za-z_][A-Za-z0-9_]*)",
                           kp, show);
    }
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): config loads on main; warblerd never calls setenv */
    const char *val = getenv(name);
    if (val == NULL || val[0] == '\0') {
        return wb_conf_err(w, s, err, WB_ERR_INVAL, "%s: environment variable %s is %s", kp, show,
                           val == NULL ? "not set" : "empty");
    }
    out->len = strlen(val);
    out->data = wb_memdup(val, out->len);
    return WB_OK;
}

static enum wb_status fill_secret(const struct wb_conf_walk *w, const config_setting_t *group,
                                  const struct wb_conf_field *f, void *conf, struct wb_err *err)
{
    struct wb_secret *out = field_ptr(conf, f);
    char fkey[KEY_PATH_MAX], kp[KEY_PATH_MAX], fkp[KEY_PATH_MAX];
    (void)snprintf(fkey, sizeof(fkey), "%s_file", f->key);
    wb_conf_key_path(w->path, f->key, kp, sizeof(kp));
    wb_conf_key_path(w->path, fkey, fkp, sizeof(fkp));
    const config_setting_t *s = group != NULL ? config_setting_get_member(group, f->key) : NULL;
    const config_setting_t *sf = group != NULL ? config_setting_get_member(group, fkey) : NULL;
    wb_secret_free(out);
    if (s != NULL && sf != NULL) {
        return wb_conf_err(w, sf, err, WB_ERR_INVAL, "%s: give either %s or %s, not both", fkp,
                           f->key, fkey);
    }
    if (sf != NULL) {
        return secret_from_file(w, sf, fkp, out, err);
    }
    if (s != NULL) {
        return secret_from_value(w, s, f, kp, out, err);
    }
    if (f->required) {
        return wb_conf_err(w, group, err, WB_ERR_INVAL,
                           "%s: missing required setting (give %s = \"/path\" or "
                           "%s = \"env:NAME\")",
                           kp, fkey, f->key);
    }
    return WB_OK;
}

/* ---- the walk ---- */

static enum wb_status fill_field(const struct wb_conf_walk *w, const config_setting_t *group,
                                 const struct wb_conf_field *f, void *conf, struct wb_err *err)
{
    if (f->type == WB_CONF_SECRET) {
        return fill_secret(w, group, f, conf, err);
    }
    char kp[KEY_PATH_MAX];
    wb_conf_key_path(w->path, f->key, kp, sizeof(kp));
    struct value_src v = { 0 };
    v.s = group != NULL ? config_setting_get_member(group, f->key) : NULL;
    if (v.s == NULL) {
        if (f->required) {
            return wb_conf_err(w, group, err, WB_ERR_INVAL, "%s: missing required setting", kp);
        }
        if (f->def == NULL) {
            return WB_OK; /* stays zero: NULL string, 0, false, empty list */
        }
        v.text = f->def;
    } else if (config_setting_type(v.s) == CONFIG_TYPE_STRING) {
        v.text = config_setting_get_string(v.s);
    }
    return fill_value(w, &v, f, kp, conf, err);
}

enum wb_status wb_conf_walk(const struct wb_conf_walk *w, const config_setting_t *group,
                            const struct wb_conf_schema *schema, void *conf, struct wb_err *err)
{
    wb_assert(w->path != NULL);
    if (group != NULL && !config_setting_is_group(group)) {
        return wb_conf_err(w, group, err, WB_ERR_INVAL, "%s: expected a group { ... }, got %s",
                           w->path[0] != '\0' ? w->path : schema->name, type_word(group));
    }
    enum wb_status st = check_unknown(w, group, schema, err);
    for (size_t i = 0; st == WB_OK && i < schema->n_fields; i++) {
        st = fill_field(w, group, &schema->fields[i], conf, err);
    }
    if (st == WB_OK && schema->verify != NULL) {
        struct wb_err ve = { 0 };
        st = schema->verify(conf, &ve);
        if (st != WB_OK) {
            st = wb_conf_err(w, group, err, st, "%s: %s",
                             w->path[0] != '\0' ? w->path : schema->name, ve.msg);
        }
    }
    return st;
}

void wb_conf_struct_free(const struct wb_conf_schema *schema, void *conf)
{
    if (schema == NULL || conf == NULL) {
        return;
    }
    for (size_t i = 0; i < schema->n_fields; i++) {
        const struct wb_conf_field *f = &schema->fields[i];
        void *p = field_ptr(conf, f);
        switch (f->type) {
        case WB_CONF_STR:
        case WB_CONF_PATH:
            WB_FREE(*(char **)p);
            break;
        case WB_CONF_SECRET:
            wb_secret_free((struct wb_secret *)p);
            break;
        case WB_CONF_STRLIST: {
            struct wb_strlist *l = p;
            for (size_t j = 0; j < l->n; j++) {
                free(l->items[j]);
            }
            WB_FREE(l->items);
            l->n = 0;
            break;
        }
        default:
            break;
        }
    }
}
