/*
 * email.c - the email channel: ops table, settings and instances.
 *
 * DESIGN: one instance is one mailbox. It reads over IMAP on a thread of
 * its own (email_imap.c: connect, IDLE or poll, fetch, parse, submit,
 * mark processed after the commit) and answers over SMTP from the sender
 * pool (send -> wb_email_send, email_smtp.c; libcurl for implicit TLS,
 * email_smtps.c). The instance keeps a deep copy of its settings,
 * immutable after create(), which both halves read.
 *
 * Thread: create/start/stop/destroy on main; send on a sender pool thread;
 * instance_caps on any thread.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <warbler/connector.h>
#include <warbler/log.h>

#include "email_conf.h"
#include "email_imap.h"
#include "email_imap_logic.h"
#include "email_smtp.h"

struct email_inst {
    char *channel_id;
    struct wb_email_conf conf; /* deep copy */
    struct wb_email_imap *imap;
};

static const char *const tls_words[] = { "implicit", "starttls", "plain", NULL };
static const char *const processed_words[] = { "seen", "keyword", NULL };

#define F(k, t, field) .key = (k), .type = (t), .offset = offsetof(struct wb_email_conf, field)

static const struct wb_conf_field email_fields[] = {
    { F("address", WB_CONF_STR, address), .required = true,
      .doc = "the mailbox's address: replies come from it, mail from it is never answered" },
    { F("display_name", WB_CONF_STR, display_name), .def = "",
      .doc = "the name replies are sent as, e.g. \"Example Support\"" },
    { F("message_id_domain", WB_CONF_STR, message_id_domain), .def = "",
      .doc = "domain of the Message-IDs of replies (\"\" = the domain of address)" },
    { F("imap_host", WB_CONF_STR, imap_host), .required = true, .doc = "IMAP server name" },
    { F("imap_port", WB_CONF_INT, imap_port), .def = "0", .min = 0, .max = 65535,
      .doc = "IMAP port (0 = 993 with imap_tls = implicit, else 143)" },
    { F("imap_tls", WB_CONF_ENUM, imap_tls), .def = "implicit", .enum_words = tls_words,
      .doc = "implicit (IMAPS), starttls, or plain (loopback hosts only)" },
    { F("imap_user", WB_CONF_STR, imap_user), .required = true, .doc = "IMAP login name" },
    { F("imap_password", WB_CONF_SECRET, imap_password), .required = true,
      .doc = "IMAP password or app password (imap_password_file or env:NAME)" },
    { F("imap_folder", WB_CONF_STR, imap_folder), .def = "INBOX",
      .doc = "the folder customers' mail arrives in" },
    { F("processed", WB_CONF_ENUM, processed), .def = "seen", .enum_words = processed_words,
      .doc = "how stored mail is marked: seen (\\Seen) or keyword (processed_keyword)" },
    { F("processed_keyword", WB_CONF_STR, processed_keyword), .def = "$WarblerProcessed",
      .doc = "the IMAP keyword set with processed = keyword" },
    { F("poll_interval", WB_CONF_DURATION, poll_interval_ms), .def = "60s", .min = 1000,
      .max = (int64_t)24 * 3600 * 1000,
      .doc = "how often to look for new mail when the server has no IDLE" },
    { F("fetch_batch", WB_CONF_INT, fetch_batch), .def = "500", .min = 1, .max = 5000,
      .doc = "messages fetched, committed and marked processed together" },
    { F("sent_folder", WB_CONF_STR, sent_folder), .def = "",
      .doc = "folder that keeps a copy of every reply (\"\" = none)" },
    { F("smtp_host", WB_CONF_STR, smtp_host), .def = "",
      .doc = "SMTP submission server (\"\" = imap_host)" },
    { F("smtp_port", WB_CONF_INT, smtp_port), .def = "0", .min = 0, .max = 65535,
      .doc = "SMTP port (0 = 587 with starttls, 465 with implicit, 25 with plain)" },
    { F("smtp_tls", WB_CONF_ENUM, smtp_tls), .def = "starttls", .enum_words = tls_words,
      .doc = "starttls (required), implicit (SMTPS, port 465) or plain (loopback hosts only)" },
    { F("smtp_user", WB_CONF_STR, smtp_user), .def = "", .doc = "SMTP AUTH user (\"\" = no AUTH)" },
    { F("smtp_password", WB_CONF_SECRET, smtp_password),
      .doc = "SMTP password (smtp_password_file or env:NAME); needed when smtp_user is set" },
    { F("tls_verify", WB_CONF_BOOL, tls_verify), .def = "true",
      .doc = "verify the servers' certificates and names (false is logged as a warning)" },
    { F("ca_file", WB_CONF_PATH, ca_file),
      .doc = "PEM file of the CAs to trust (unset = the system's CA store)" },
    { F("max_message", WB_CONF_SIZE, max_message), .def = "50M", .min = 1024,
      .max = (int64_t)1 << 30, .doc = "largest message downloaded whole (bytes)" },
    { F("max_attachment", WB_CONF_SIZE, max_attachment), .def = "25M", .min = 0,
      .max = (int64_t)1 << 30, .doc = "largest attachment kept (decoded bytes)" },
    { F("topic_window", WB_CONF_DURATION, topic_window_ms), .def = "7d", .min = 0,
      .max = (int64_t)365 * 24 * 3600 * 1000,
      .doc = "a mail with the same sender and subject joins the open conversation within this" },
    { F("max_auto_replies_per_hour", WB_CONF_INT, max_auto_replies_per_hour), .def = "5", .min = 0,
      .max = 10000, .doc = "bot replies to one sender per hour (0 = no cap)" },
    { F("timeout", WB_CONF_DURATION, timeout_ms), .def = "60s", .min = 1000,
      .max = (int64_t)600 * 1000, .doc = "network timeout of one IMAP or SMTP operation" },
};

#undef F

static bool is_keyword_atom(const char *s)
{
    if (s == NULL || s[0] == '\0' || s[0] == '\\') {
        return false;
    }
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL) {
            return false;
        }
    }
    return true;
}

static enum wb_status verify_tls(const char *proto, int tls, const char *host, struct wb_err *err)
{
    if (tls == WB_EMAIL_TLS_PLAIN && !wb_email_host_is_loopback(host)) {
        return wb_err_set(err, WB_ERR_INVAL,
                          "%s_tls = \"plain\" is only allowed for a loopback host, not \"%s\" "
                          "(use implicit or starttls)",
                          proto, host);
    }
    return WB_OK;
}

static void default_ports(struct wb_email_conf *c)
{
    if (c->imap_port == 0) {
        c->imap_port = c->imap_tls == WB_EMAIL_TLS_IMPLICIT ? 993 : 143;
    }
    if (c->smtp_host[0] == '\0') {
        free(c->smtp_host);
        c->smtp_host = wb_strdup(c->imap_host);
    }
    if (c->smtp_port == 0) {
        c->smtp_port = c->smtp_tls == WB_EMAIL_TLS_IMPLICIT ? 465
                       : c->smtp_tls == WB_EMAIL_TLS_PLAIN  ? 25
                                                            : 587;
    }
    if (c->ca_file == NULL) {
        c->ca_file = wb_strdup("");
    }
}

/* Cross-field rules; also fills the defaults that depend on other settings. */
static enum wb_status email_conf_verify(void *conf, struct wb_err *err)
{
    struct wb_email_conf *c = conf;
    const char *at = strchr(c->address, '@');
    if (at == NULL || at == c->address || at[1] == '\0' || strpbrk(c->address, " \r\n<>") != NULL) {
        return wb_err_set(err, WB_ERR_INVAL, "address \"%s\" is not a mail address", c->address);
    }
    if (c->imap_host[0] == '\0' || c->imap_user[0] == '\0') {
        return wb_err_set(err, WB_ERR_INVAL, "imap_host and imap_user must not be empty");
    }
    if (c->imap_folder[0] == '\0') {
        return wb_err_set(err, WB_ERR_INVAL, "imap_folder must not be empty");
    }
    if (c->processed == WB_EMAIL_MARK_KEYWORD && !is_keyword_atom(c->processed_keyword)) {
        return wb_err_set(err, WB_ERR_INVAL,
                          "processed_keyword \"%s\" is not an IMAP keyword (an atom such as "
                          "$WarblerProcessed)",
                          c->processed_keyword);
    }
    if (c->smtp_user[0] != '\0' && c->smtp_password.data == NULL) {
        return wb_err_set(err, WB_ERR_INVAL,
                          "smtp_user is set: give smtp_password_file = \"/path\" or "
                          "smtp_password = \"env:NAME\"");
    }
    default_ports(c);
    enum wb_status st = verify_tls("imap", c->imap_tls, c->imap_host, err);
    if (st == WB_OK) {
        st = verify_tls("smtp", c->smtp_tls, c->smtp_host, err);
    }
    if (st == WB_OK && c->ca_file[0] != '\0' && access(c->ca_file, R_OK) != 0) {
        st = wb_err_set(err, WB_ERR_INVAL, "ca_file %s cannot be read", c->ca_file);
    }
    return st;
}

static const struct wb_conf_schema email_schema = {
    .name = "email",
    .fields = email_fields,
    .n_fields = WB_ARRAY_LEN(email_fields),
    .size = sizeof(struct wb_email_conf),
    .verify = email_conf_verify,
};

static char *dup_or_empty(const char *s)
{
    return wb_strdup(s != NULL ? s : "");
}

static void secret_copy(struct wb_secret *dst, const struct wb_secret *src)
{
    dst->data = src->data != NULL ? wb_memdup(src->data, src->len) : NULL;
    dst->len = src->data != NULL ? src->len : 0;
}

static void conf_copy(struct wb_email_conf *d, const struct wb_email_conf *s)
{
    *d = *s; /* numbers and flags; every pointer is replaced below */
    d->address = dup_or_empty(s->address);
    d->display_name = dup_or_empty(s->display_name);
    d->message_id_domain = dup_or_empty(s->message_id_domain);
    d->imap_host = dup_or_empty(s->imap_host);
    d->imap_user = dup_or_empty(s->imap_user);
    d->imap_folder = dup_or_empty(s->imap_folder);
    d->processed_keyword = dup_or_empty(s->processed_keyword);
    d->sent_folder = dup_or_empty(s->sent_folder);
    d->smtp_host = dup_or_empty(s->smtp_host);
    d->smtp_user = dup_or_empty(s->smtp_user);
    d->ca_file = dup_or_empty(s->ca_file);
    secret_copy(&d->imap_password, &s->imap_password);
    secret_copy(&d->smtp_password, &s->smtp_password);
}

static enum wb_status email_create(const struct wb_host *host, const char *channel_id,
                                   const void *conf, void **inst_out, struct wb_err *err)
{
    struct email_inst *in = wb_calloc(1, sizeof(*in));
    in->channel_id = wb_strdup(channel_id);
    conf_copy(&in->conf, conf);
    enum wb_status st = wb_email_imap_new(host, in->channel_id, &in->conf, &in->imap, err);
    if (st != WB_OK) {
        wb_conf_struct_free(&email_schema, &in->conf);
        free(in->channel_id);
        free(in);
        return st;
    }
    *inst_out = in;
    return WB_OK;
}

static void email_destroy(void *inst)
{
    struct email_inst *in = inst;
    if (in == NULL) {
        return;
    }
    wb_email_imap_free(in->imap); /* stops the worker first */
    wb_conf_struct_free(&email_schema, &in->conf);
    free(in->channel_id);
    free(in);
}

static enum wb_status email_start(void *inst, struct wb_err *err)
{
    struct email_inst *in = inst;
    return wb_email_imap_start(in->imap, err);
}

static void email_stop(void *inst)
{
    struct email_inst *in = inst;
    wb_email_imap_stop(in->imap);
}

static void email_instance_caps(const void *inst, struct wb_channel_caps *out)
{
    const struct email_inst *in = inst;
    out->max_auto_replies_per_hour = (int)in->conf.max_auto_replies_per_hour;
}

static enum wb_status email_send(void *inst, const struct wb_outbound *ob,
                                 struct wb_send_result *out)
{
    struct email_inst *in = inst;
    return wb_email_send(&in->conf, in->channel_id, ob, out);
}

const struct wb_connector_ops wb_email_ops = {
    .name = "email",
    .schema = &email_schema,
    .caps = { .max_text = 256 * 1024, .max_auto_replies_per_hour = 5, .thread_refs = true },
    .create = email_create,
    .destroy = email_destroy,
    .start = email_start,
    .stop = email_stop,
    .instance_caps = email_instance_caps,
    .send = email_send,
};
