/*
 * fuzz_api_parse.c - libFuzzer harness for the API channel: the input is
 * used as a webhook body, signed correctly so the parser is reached, and
 * also verified with a wrong signature; answers must always be well formed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api_parse.h"
#include "hmac.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char key[] = "fuzz-secret-0123456789";
    const struct wb_secret secret = { (unsigned char *)(uintptr_t)key, sizeof(key) - 1 };
    const struct wb_limits lim = { .max_body = 1 << 20, .max_text = 4096, .max_messages = 10 };
    char hex[WB_SHA256_HEX_LEN + 1], sig[80];
    struct wb_header h[2];
    struct wb_http_request r;
    struct wb_arena a = WB_ARENA_INIT;
    struct wb_http_answer ans;
    struct wb_parse_out po;

    wb_hmac_sha256_hex(key, sizeof(key) - 1, data, size, hex);
    memcpy(sig, "sha256=", 7);
    memcpy(sig + 7, hex, sizeof(hex));
    h[0] = (struct wb_header){ "Content-Type", "application/json" };
    h[1] = (struct wb_header){ "X-Warbler-Signature", sig };
    memset(&r, 0, sizeof(r));
    r.headers = h;
    r.n_headers = 2;
    r.body = data;
    r.body_len = size;
    if (wb_api_verify(&secret, &r, &a, &ans, NULL) != WB_OK) {
        abort();
    }
    if (wb_api_parse(&r, &lim, &a, &po, NULL) == WB_OK) {
        if (po.n_msgs != 1 || po.msgs[0].sender_id == NULL || po.msgs[0].external_id == NULL ||
            po.msgs[0].text == NULL) {
            abort();
        }
    } else if (po.answer.status < 400 || po.answer.body == NULL) {
        abort();
    }
    sig[10] ^= 1;
    if (wb_api_verify(&secret, &r, &a, &ans, NULL) == WB_OK) {
        abort();
    }
    wb_arena_free(&a);
    return 0;
}
