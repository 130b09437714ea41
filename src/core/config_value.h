/*
 * config_value.h - pure parsers for config value forms (private to wb_config).
 *
 * Durations ("250ms", "30s", "30m", "24h", "7d") become milliseconds and
 * sizes ("512", "64k", "10M", "1G", powers of 1024) become bytes, with
 * every multiplication checked for int64 overflow. The integer scan finds
 * literals that libconfig 1.5 would silently truncate.
 *
 * Thread: any (no globals, no I/O).
 */
#ifndef WB_CORE_CONFIG_VALUE_H
#define WB_CORE_CONFIG_VALUE_H

#include <warbler/common.h>

/*
 * Parse a duration string into milliseconds. On error returns WB_ERR_INVAL
 * and sets *why_out to a static phrase such as "unknown unit".
 */
WB_NODISCARD enum wb_status wb_conf_parse_duration(const char *s, int64_t *ms_out,
                                                   const char **why_out);

/* Parse a size string into bytes; errors as for wb_conf_parse_duration(). */
WB_NODISCARD enum wb_status wb_conf_parse_size(const char *s, int64_t *bytes_out,
                                               const char **why_out);

/* Seconds (a config integer) to milliseconds; WB_ERR_INVAL if negative or too large. */
WB_NODISCARD enum wb_status wb_conf_seconds_to_ms(int64_t sec, int64_t *ms_out,
                                                  const char **why_out);

/* Format ms with the largest unit that divides it exactly ("10m", "250ms"). */
void wb_conf_format_duration(int64_t ms, char *buf, size_t bufsz);

/* Format bytes with the largest binary unit that divides it exactly ("64k", "1M"). */
void wb_conf_format_size(int64_t bytes, char *buf, size_t bufsz);

/*
 * libconfig 1.5 stores an integer literal without the L suffix in an int,
 * wrapping anything outside 32 bits, and saturates 64-bit literals. Scan
 * config text (skipping strings and comments) for the first integer literal
 * that does not fit. Returns its line (1-based) and copies the literal into
 * tok (truncated to toksz), or returns 0 if every literal fits.
 */
int wb_conf_scan_int_overflow(const char *text, size_t len, char *tok, size_t toksz);

#endif
