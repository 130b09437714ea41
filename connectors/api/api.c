/*
 * api.c - the generic API channel: ops table, settings and instances.
 *
 * DESIGN: the model every HTTP platform connector copies. The instance is
 * immutable after create(), so the pure functions in api_parse.c run on the
 * loop thread (verify, parse, answer) and the http thread (build_send,
 * read_send_result) at once without locks.
 *
 * Thread: create/destroy on main; see connector.h for the rest.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <warbler/connector.h>

#include "api_parse.h"

struct api_conf {
    struct wb_secret secret;
    char *callback_url;
};

struct api_inst {
    char *channel_id;
    struct wb_secret secret;
    char *callback_url;
};

static enum wb_status api_conf_verify(void *conf, struct wb_err *err)
{
    const struct api_conf *c = conf;
    if (strncmp(c->callback_url, "http://", 7) != 0 &&
        strncmp(c->callback_url, "https://", 8) != 0) {
        return wb_err_set(err, WB_ERR_INVAL, "callback_url must be an http:// or https:// URL");
    }
    if (c->secret.len < 16) {
        return wb_err_set(err, WB_ERR_INVAL, "secret must be at least 16 bytes");
    }
    return WB_OK;
}

static const struct wb_conf_field api_fields[] = {
    { .key = "secret",
      .type = WB_CONF_SECRET,
      .offset = offsetof(struct api_conf, secret),
      .required = true,
      .doc = "HMAC-SHA256 key for X-Warbler-Signature (secret_file or env:NAME)" },
    { .key = "callback_url",
      .type = WB_CONF_STR,
      .offset = offsetof(struct api_conf, callback_url),
      .required = true,
      .doc = "where replies are POSTed" },
};

static const struct wb_conf_schema api_schema = {
    .name = "api",
    .fields = api_fields,
    .n_fields = WB_ARRAY_LEN(api_fields),
    .size = sizeof(struct api_conf),
    .verify = api_conf_verify,
};

static enum wb_status api_create(const struct wb_host *host, const char *channel_id,
                                 const void *conf, void **inst_out, struct wb_err *err)
{
    const struct api_conf *c = conf;
    struct api_inst *in = wb_calloc(1, sizeof(*in));
    (void)host;
    (void)err;
    in->channel_id = wb_strdup(channel_id);
    in->callback_url = wb_strdup(c->callback_url);
    in->secret.data = wb_memdup(c->secret.data, c->secret.len);
    in->secret.len = c->secret.len;
    *inst_out = in;
    return WB_OK;
}

static void api_destroy(void *inst)
{
    struct api_inst *in = inst;
    if (in == NULL) {
        return;
    }
    wb_secret_free(&in->secret);
    free(in->channel_id);
    free(in->callback_url);
    free(in);
}

static enum wb_status api_verify(const void *inst, const struct wb_http_request *req,
                                 struct wb_arena *a, struct wb_http_answer *ans, struct wb_err *err)
{
    const struct api_inst *in = inst;
    return wb_api_verify(&in->secret, req, a, ans, err);
}

static enum wb_status api_parse(const void *inst, const struct wb_http_request *req,
                                const struct wb_limits *lim, struct wb_arena *a,
                                struct wb_parse_out *out, struct wb_err *err)
{
    (void)inst;
    return wb_api_parse(req, lim, a, out, err);
}

static enum wb_status api_answer(const void *inst, const struct wb_ingest_result *res, size_t n,
                                 struct wb_arena *a, struct wb_http_answer *out)
{
    (void)inst;
    wb_api_answer(res, n, a, out);
    return WB_OK;
}

static enum wb_status api_build_send(const void *inst, const struct wb_outbound *ob,
                                     struct wb_arena *a, struct wb_http_out *out,
                                     struct wb_err *err)
{
    const struct api_inst *in = inst;
    return wb_api_build_send(&in->secret, in->callback_url, ob, a, out, err);
}

static enum wb_status api_read_send_result(const void *inst, const struct wb_outbound *ob,
                                           const struct wb_http_resp *resp,
                                           struct wb_send_result *out)
{
    (void)inst;
    (void)ob;
    wb_api_read_send_result(resp, out);
    return WB_OK;
}

static const char *const api_headers[] = { WB_API_SIGNATURE_HEADER, NULL };

const struct wb_connector_ops wb_api_ops = {
    .name = "api",
    .headers = api_headers,
    .schema = &api_schema,
    .caps = { .max_text = 64 * 1024 },
    .create = api_create,
    .destroy = api_destroy,
    .verify = api_verify,
    .parse = api_parse,
    .answer = api_answer,
    .build_send = api_build_send,
    .read_send_result = api_read_send_result,
};
