/*
 * config_schema.h - the loader's own schema tables, for tools and tests
 * (private to wb_config). The bot's table is wb_bot_conf_schema and each
 * connector's is its ops->schema.
 *
 * Thread: any (the tables are constant).
 */
#ifndef WB_CORE_CONFIG_SCHEMA_H
#define WB_CORE_CONFIG_SCHEMA_H

#include <stddef.h>

#include <warbler/conf.h>

/* Number of tables: the top level, then log, http, store, core, outbox. */
size_t wb_config_schema_count(void);

/* Table i (0 <= i < wb_config_schema_count()); name is the group's key. */
const struct wb_conf_schema *wb_config_schema(size_t i);

#endif
