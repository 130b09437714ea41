/*
 * fake_channel.c - see fake_channel.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "channels.h"
#include "fake_channel.h"

enum wb_status fake_create(const struct wb_host *host, const char *id, const void *conf,
                           void **inst_out, struct wb_err *err)
{
    (void)host;
    (void)id;
    (void)conf;
    (void)err;
    *inst_out = wb_strdup("inst");
    return WB_OK;
}

void fake_destroy(void *inst)
{
    free(inst);
}

void fake_channel_install(const char *id, const struct wb_connector_ops *ops,
                          const struct wb_host *host)
{
    char *ch_id = wb_strdup(id);
    char file[] = "test";
    struct wb_conf_channel ch = { .id = ch_id, .ops = ops, .conf = NULL, .line = 1 };
    struct wb_config cfg;
    struct wb_chanset *cs = NULL;
    memset(&cfg, 0, sizeof(cfg));
    cfg.file = file;
    cfg.channels = &ch;
    cfg.n_channels = 1;
    assert_int_equal(wb_chanset_new(&cfg, host, &cs, NULL), WB_OK);
    wb_chanset_install(cs);
    free(ch_id);
}
