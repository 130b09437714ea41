/*
 * conf.h - config schema tables.
 *
 * Modules and connectors describe their settings as a table of
 * struct wb_conf_field; one walker (src/core/config.c) fills the module's
 * struct from a libconfig group, checks types, bounds and enum words, and
 * reports file:line and the setting on any error. Unknown keys are errors.
 *
 * Value forms accepted by the walker:
 *   WB_CONF_STR       "text"
 *   WB_CONF_INT       integer (int64), checked against [min, max]
 *   WB_CONF_BOOL      true / false
 *   WB_CONF_DOUBLE    float or integer, checked against [dmin, dmax]
 *   WB_CONF_DURATION  "250ms", "30s", "30m", "24h", "7d" or an integer of
 *                     seconds; stored as int64 milliseconds, checked
 *                     against [min, max] in milliseconds
 *   WB_CONF_SIZE      "512", "64k", "10M", "1G" (bytes) or an integer;
 *                     stored as int64 bytes, checked against [min, max]
 *   WB_CONF_ENUM      one word of enum_words; stored as int (its index)
 *   WB_CONF_SECRET    never a literal: `<key>_file = "/path"` (a file not
 *                     readable by group or others, trailing newline
 *                     stripped) or `<key> = "env:NAME"`; stored as
 *                     struct wb_secret
 *   WB_CONF_PATH      "text"; relative paths are resolved against the
 *                     directory of the config file
 *   WB_CONF_STRLIST   [ "a", "b" ]; stored as struct wb_strlist
 *
 * Thread: the walker runs on the thread that loads the config (main).
 */
#ifndef WARBLER_CONF_H
#define WARBLER_CONF_H

#include <warbler/common.h>

enum wb_conf_type {
    WB_CONF_STR = 1,
    WB_CONF_INT,
    WB_CONF_BOOL,
    WB_CONF_DOUBLE,
    WB_CONF_DURATION,
    WB_CONF_SIZE,
    WB_CONF_ENUM,
    WB_CONF_SECRET,
    WB_CONF_PATH,
    WB_CONF_STRLIST,
};

struct wb_strlist {
    char **items; /* owned */
    size_t n;
};

/*
 * Cross-field check run after the walker filled the struct. It returns a
 * status and fills err with a message naming the setting.
 */
typedef enum wb_status (*wb_conf_verify_fn)(void *conf, struct wb_err *err);

struct wb_conf_field {
    const char *key;
    enum wb_conf_type type;
    size_t offset; /* offsetof(struct, field) */
    bool required;
    const char *def;               /* default as text in the same syntax, or NULL */
    int64_t min, max;              /* INT, DURATION (ms), SIZE (bytes); 0,0 = no bound */
    double dmin, dmax;             /* DOUBLE; 0,0 = no bound */
    const char *const *enum_words; /* ENUM: NULL-terminated */
    const char *doc;               /* one line for `warblerd --help-config` */
};

struct wb_conf_schema {
    const char *name; /* group name for messages, e.g. "http" or "api" */
    const struct wb_conf_field *fields;
    size_t n_fields;
    size_t size;              /* sizeof the struct the walker fills */
    wb_conf_verify_fn verify; /* optional */
};

/* Free what the walker allocated in a struct described by schema (not the struct). */
void wb_conf_struct_free(const struct wb_conf_schema *schema, void *conf);

#endif
