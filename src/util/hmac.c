/*
 * hmac.c - HMAC-SHA256 and SHA-256 through OpenSSL.
 *
 * DESIGN: signatures are compared with CRYPTO_memcmp over equal-length
 * buffers so a forged signature's timing tells nothing.
 *
 * Thread: any.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hmac.h"

static void to_hex(const unsigned char *md, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[2 * n] = '\0';
}

void wb_hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t n,
                        char out[WB_SHA256_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    static const unsigned char empty[1];

    if (HMAC(EVP_sha256(), key_len ? key : empty, (int)key_len, n ? data : empty, n, md, &md_len) ==
            NULL ||
        md_len != 32) {
        wb_panic("hmac: HMAC-SHA256 failed");
    }
    to_hex(md, md_len, out);
    OPENSSL_cleanse(md, sizeof(md));
}

bool wb_hmac_sha256_hex_verify(const void *key, size_t key_len, const void *data, size_t n,
                               const char *hex, size_t hex_len)
{
    char want[WB_SHA256_HEX_LEN + 1];
    bool ok;

    if (hex_len != WB_SHA256_HEX_LEN) {
        return false;
    }
    wb_hmac_sha256_hex(key, key_len, data, n, want);
    ok = CRYPTO_memcmp(want, hex, WB_SHA256_HEX_LEN) == 0;
    OPENSSL_cleanse(want, sizeof(want));
    return ok;
}

void wb_sha256_hex(const void *data, size_t n, char out[WB_SHA256_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    static const unsigned char empty[1];

    if (EVP_Digest(n ? data : empty, n, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32) {
        wb_panic("sha256: digest failed");
    }
    to_hex(md, md_len, out);
}
