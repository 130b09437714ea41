/*
 * hmac.h - HMAC-SHA256 signatures as webhook platforms use them (OpenSSL).
 *
 * Thread: any.
 */
#ifndef WB_UTIL_HMAC_H
#define WB_UTIL_HMAC_H

#include <warbler/common.h>

#define WB_SHA256_HEX_LEN 64

/* HMAC-SHA256 of data keyed by key, as 64 lowercase hex digits + NUL. */
void wb_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t n,
                        char out[WB_SHA256_HEX_LEN + 1]);

/*
 * Constant-time check that hex (hex_len bytes, not NUL-terminated) is the
 * lowercase hex HMAC-SHA256 of data under key.
 */
bool wb_hmac_sha256_hex_verify(const void *key, size_t key_len, const void *data, size_t n,
                               const char *hex, size_t hex_len);

/* SHA-256 of data as lowercase hex. */
void wb_sha256_hex(const void *data, size_t n, char out[WB_SHA256_HEX_LEN + 1]);

#endif
