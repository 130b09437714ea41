/*
 * fake_channel.h - what the core tests' fake connectors share: an instance
 * that holds nothing, and a channel set of one channel installed as current.
 */
#ifndef WB_TEST_FAKE_CHANNEL_H
#define WB_TEST_FAKE_CHANNEL_H

#include <warbler/connector.h>

enum wb_status fake_create(const struct wb_host *host, const char *id, const void *conf,
                           void **inst_out, struct wb_err *err);
void fake_destroy(void *inst);

/* Make and install a channel set with the single channel id using ops. */
void fake_channel_install(const char *id, const struct wb_connector_ops *ops,
                          const struct wb_host *host);

#endif
