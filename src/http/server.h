/*
 * server.h - the libwebsockets HTTP server (the loop thread).
 *
 * Routes: POST|GET /hooks/{channel-id} to the channel's connector,
 * GET /healthz (JSON, per-channel state), GET /metrics (Prometheus text).
 * Every error answer is a JSON body.
 *
 * Thread: wb_server_new/run/free on the loop (main) thread;
 * wb_server_stop from any thread (it only sets a flag and calls
 * lws_cancel_service()).
 */
#ifndef WB_HTTP_SERVER_H
#define WB_HTTP_SERVER_H

#include "config.h"
#include "core.h"

struct wb_server;

/*
 * Create the lws context and bind the listener (errors name the address).
 * core may be NULL here (binding happens before privileges are dropped and
 * the store is opened); set it with wb_server_set_core() before serving.
 */
WB_NODISCARD enum wb_status wb_server_new(const struct wb_config *cfg, struct wb_core *core,
                                          struct wb_server **out, struct wb_err *err);
void wb_server_set_core(struct wb_server *srv, struct wb_core *core);
/* The port actually bound (useful with port 0). */
int wb_server_port(const struct wb_server *srv);
/* Serve until wb_server_stop(). Thread: loop. */
void wb_server_run(struct wb_server *srv);
/* Ask the loop to return from wb_server_run(). Thread: any. */
void wb_server_stop(struct wb_server *srv);
/* Wake the loop (e.g. after a reload). Thread: any. */
void wb_server_wake(struct wb_server *srv);
void wb_server_free(struct wb_server *srv);

#endif
