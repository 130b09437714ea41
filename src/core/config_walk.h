/*
 * config_walk.h - the schema walker (private to wb_config).
 *
 * wb_conf_walk() fills a struct described by a struct wb_conf_schema from
 * one libconfig group: unknown keys, wrong types, out-of-range values and
 * unknown enum words are errors reported as "FILE:LINE: PATH.KEY: problem".
 * Absent keys take the field's default; a NULL group means "all defaults".
 * After the fields, schema->verify (if any) checks rules spanning fields.
 *
 * Ownership: on success and on failure the struct holds only what the
 * walker allocated so far; wb_conf_struct_free() releases it either way.
 *
 * Thread: the thread that loads the config (main).
 */
#ifndef WB_CORE_CONFIG_WALK_H
#define WB_CORE_CONFIG_WALK_H

#include <libconfig.h>

#include <warbler/common.h>
#include <warbler/conf.h>

struct wb_conf_walk {
    const char *name;        /* file name for settings libconfig has none for */
    const char *dir;         /* base of relative paths and secret files; NULL: as written */
    const char *path;        /* setting path of the group in messages; "" for the root */
    const char *const *skip; /* keys the caller reads itself, NULL-terminated; may be NULL */
};

/* Fill conf (zeroed by the caller, schema->size bytes) from group (may be NULL). */
WB_NODISCARD enum wb_status wb_conf_walk(const struct wb_conf_walk *w,
                                         const config_setting_t *group,
                                         const struct wb_conf_schema *schema, void *conf,
                                         struct wb_err *err);

/*
 * Record "FILE:LINE: " + the formatted message in err and return code. The
 * file and line come from s (NULL or a line of 0: "FILE: ").
 */
enum wb_status wb_conf_err(const struct wb_conf_walk *w, const config_setting_t *s,
                           struct wb_err *err, enum wb_status code, const char *fmt, ...)
    WB_PRINTF(5, 6);

/* Join a group path and a key: ("http", "port") -> "http.port", ("", "x") -> "x". */
void wb_conf_key_path(const char *path, const char *key, char *buf, size_t bufsz);

/* Copy a config-supplied string for a message, escaped and truncated. */
const char *wb_conf_printable(const char *s, char *buf, size_t bufsz);

/* dir + "/" + p for a relative, non-empty p and a non-NULL dir; else a copy of p. */
char *wb_conf_resolve_path(const char *dir, const char *p);

#endif
