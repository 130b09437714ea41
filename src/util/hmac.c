/*
 * hmac.c - HMAC-SHA256 and SHA-256 through OpenSSL.
 *
 * DESIGN: signatures are compared with CRYPTO_memcmp over equal-length
 * buffers so a forged signature's timing tells nothing.
 *
 * Every webhook is verified on the loop thread and every reply signed on
 * the http thread, so the per-call cost matters. HMAC()/EVP_Q_mac fetch
 * the algorithm from the provider store on each call (a locked name
 * lookup), and so does setting the digest on a fresh EVP_MAC_CTX. Instead
 * the algorithms are fetched once (pthread_once, then read-only) and each
 * thread keeps one EVP_MAC_CTX with the digest already set (thread-specific
 * data, freed at thread exit): a call only re-keys it. The context keeps
 * the key-derived state between calls, which exposes nothing the caller's
 * copy of the key does not.
 *
 * Thread: any.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "hmac.h"

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MAC *hmac_alg;        /* written once under fetch_once, then read-only */
static EVP_MD *sha256_alg;       /* likewise */
static pthread_key_t thread_mac; /* this thread's EVP_MAC_CTX * */

static void thread_mac_free(void *p)
{
    EVP_MAC_CTX_free(p);
}

static void fetch_algorithms(void)
{
    hmac_alg = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    sha256_alg = EVP_MD_fetch(NULL, OSSL_DIGEST_NAME_SHA2_256, NULL);
    if (hmac_alg == NULL || sha256_alg == NULL ||
        pthread_key_create(&thread_mac, thread_mac_free) != 0) {
        wb_panic("hmac: cannot load HMAC-SHA256 from OpenSSL");
    }
}

/* This thread's HMAC-SHA256 context, created on first use. */
static EVP_MAC_CTX *mac_ctx(void)
{
    char digest[] = OSSL_DIGEST_NAME_SHA2_256; /* OSSL_PARAM wants it writable */
    EVP_MAC_CTX *c;

    (void)pthread_once(&fetch_once, fetch_algorithms);
    c = pthread_getspecific(thread_mac);
    if (c != NULL) {
        return c;
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    c = EVP_MAC_CTX_new(hmac_alg);
    if (c == NULL || EVP_MAC_CTX_set_params(c, params) != 1 ||
        pthread_setspecific(thread_mac, c) != 0) {
        wb_panic("hmac: cannot create an HMAC-SHA256 context");
    }
    return c;
}

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
    size_t md_len = 0;
    static const unsigned char empty[1];
    EVP_MAC_CTX *c = mac_ctx();

    /* a non-NULL key, even empty, re-keys the context (NULL would reuse the last key) */
    if (EVP_MAC_init(c, key_len ? key : empty, key_len, NULL) != 1 ||
        EVP_MAC_update(c, n ? data : empty, n) != 1 ||
        EVP_MAC_final(c, md, &md_len, sizeof(md)) != 1 || md_len != 32) {
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

    (void)pthread_once(&fetch_once, fetch_algorithms);
    if (EVP_Digest(n ? data : empty, n, md, &md_len, sha256_alg, NULL) != 1 || md_len != 32) {
        wb_panic("sha256: digest failed");
    }
    to_hex(md, md_len, out);
}
