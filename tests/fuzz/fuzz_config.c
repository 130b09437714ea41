/*
 * fuzz_config.c - libFuzzer harness for wb_config_load_string().
 *
 * Arbitrary bytes go through libconfig's parser, the integer-literal scan,
 * the schema walker and the channel loader; whatever loads is freed. The
 * directory for relative paths and includes is one that does not exist, so
 * inputs cannot pull in files by relative name. Under ASan a leak or an
 * overflow on any path is a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/* the name libFuzzer calls */
/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* libconfig wants a C string; the loader itself rejects embedded NULs */
    char *text = malloc(size + 1);
    if (text == NULL) {
        return 0;
    }
    if (size > 0) {
        memcpy(text, data, size);
    }
    text[size] = '\0';
    struct wb_config *cfg = NULL;
    struct wb_err err = { 0 };
    if (wb_config_load_string(text, size, "fuzz.conf", "/nonexistent/warbler-fuzz", &cfg, &err) ==
        WB_OK) {
        (void)wb_config_channel(cfg, "api-main");
        wb_config_free(cfg);
    }
    free(text);
    return 0;
}
