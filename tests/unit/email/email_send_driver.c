/*
 * email_send_driver.c - call wb_email_send once, for the integration test
 * (tests/integration/test_email_smtp.py).
 *
 * Usage: email_send_driver key=value...
 *   smtp_host smtp_port smtp_tls(starttls|plain|implicit) smtp_user
 *   smtp_password_file imap_host imap_port imap_tls imap_user
 *   imap_password_file sent_folder ca_file tls_verify(0|1) address
 *   display_name message_id_domain timeout_ms
 *   to to_name subject text author(agent|bot|system) ref (repeatable)
 *   conversation message
 * smtp_tls = implicit goes through libcurl (email_smtps.c), hence
 * curl_global_init here as in warblerd.
 * Prints outcome=OK|RETRY|PERMANENT, external_id=..., reason=... and exits
 * 0 when wb_email_send returned WB_OK (whatever the outcome), 2 on usage
 * errors.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include <warbler/log.h>

#include "email_smtp.h"

#define MAX_REFS 64

struct driver {
    struct wb_email_conf conf;
    struct wb_outbound ob;
    const char *refs[MAX_REFS];
    size_t n_refs;
};

static void read_secret(const char *path, struct wb_secret *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    char buf[512];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    (void)fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }
    out->data = wb_memdup(buf, n);
    out->len = n;
}

static int tls_word(const char *v)
{
    if (strcmp(v, "implicit") == 0) {
        return WB_EMAIL_TLS_IMPLICIT;
    }
    return strcmp(v, "plain") == 0 ? WB_EMAIL_TLS_PLAIN : WB_EMAIL_TLS_STARTTLS;
}

static enum wb_author author_word(const char *v)
{
    if (strcmp(v, "bot") == 0) {
        return WB_AUTHOR_BOT;
    }
    return strcmp(v, "system") == 0 ? WB_AUTHOR_SYSTEM : WB_AUTHOR_AGENT;
}

/* Keys that set a char * of the conf. */
static bool set_conf_string(struct wb_email_conf *c, const char *k, char *v)
{
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {
        { "smtp_host", offsetof(struct wb_email_conf, smtp_host) },
        { "smtp_user", offsetof(struct wb_email_conf, smtp_user) },
        { "imap_host", offsetof(struct wb_email_conf, imap_host) },
        { "imap_user", offsetof(struct wb_email_conf, imap_user) },
        { "sent_folder", offsetof(struct wb_email_conf, sent_folder) },
        { "ca_file", offsetof(struct wb_email_conf, ca_file) },
        { "address", offsetof(struct wb_email_conf, address) },
        { "display_name", offsetof(struct wb_email_conf, display_name) },
        { "message_id_domain", offsetof(struct wb_email_conf, message_id_domain) },
    };

    for (size_t i = 0; i < WB_ARRAY_LEN(keys); i++) {
        if (strcmp(k, keys[i].key) == 0) {
            memcpy((char *)c + keys[i].off, &v, sizeof(v));
            return true;
        }
    }
    return false;
}

static bool set_ob(struct driver *d, const char *k, char *v)
{
    if (strcmp(k, "to") == 0) {
        d->ob.recipient_id = v;
    } else if (strcmp(k, "to_name") == 0) {
        d->ob.recipient_name = v;
    } else if (strcmp(k, "subject") == 0) {
        d->ob.subject = v;
    } else if (strcmp(k, "text") == 0) {
        d->ob.text = v;
    } else if (strcmp(k, "author") == 0) {
        d->ob.author = author_word(v);
    } else if (strcmp(k, "ref") == 0 && d->n_refs < MAX_REFS) {
        d->refs[d->n_refs++] = v;
    } else if (strcmp(k, "conversation") == 0) {
        d->ob.conversation_id = strtoll(v, NULL, 10);
    } else if (strcmp(k, "message") == 0) {
        d->ob.message_id = strtoll(v, NULL, 10);
    } else {
        return false;
    }
    return true;
}

static bool set_key(struct driver *d, const char *k, char *v)
{
    struct wb_email_conf *c = &d->conf;
    if (set_conf_string(c, k, v) || set_ob(d, k, v)) {
        return true;
    }
    if (strcmp(k, "smtp_port") == 0) {
        c->smtp_port = strtoll(v, NULL, 10);
    } else if (strcmp(k, "imap_port") == 0) {
        c->imap_port = strtoll(v, NULL, 10);
    } else if (strcmp(k, "smtp_tls") == 0) {
        c->smtp_tls = tls_word(v);
    } else if (strcmp(k, "imap_tls") == 0) {
        c->imap_tls = tls_word(v);
    } else if (strcmp(k, "tls_verify") == 0) {
        c->tls_verify = strcmp(v, "0") != 0;
    } else if (strcmp(k, "timeout_ms") == 0) {
        c->timeout_ms = strtoll(v, NULL, 10);
    } else if (strcmp(k, "smtp_password_file") == 0) {
        read_secret(v, &c->smtp_password);
    } else if (strcmp(k, "imap_password_file") == 0) {
        read_secret(v, &c->imap_password);
    } else {
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    static char empty[] = "";
    struct driver d = { 0 };
    (void)signal(SIGPIPE, SIG_IGN);
    /* as warblerd does before threads start: smtp_tls = implicit sends with libcurl */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        (void)fprintf(stderr, "curl_global_init failed\n");
        return 2;
    }
    wb_log_setup(WB_LOG_DEBUG, WB_LOG_SINK_STDERR);
    d.conf = (struct wb_email_conf){
        .address = empty,
        .display_name = empty,
        .message_id_domain = empty,
        .smtp_user = empty,
        .sent_folder = empty,
        .ca_file = empty,
        .imap_user = empty,
        .tls_verify = true,
        .timeout_ms = 20000,
        .smtp_tls = WB_EMAIL_TLS_STARTTLS,
        .imap_tls = WB_EMAIL_TLS_IMPLICIT,
    };
    d.ob = (struct wb_outbound){ .outbox_id = 1,
                                 .channel_id = "test",
                                 .attempt = 1,
                                 .author = WB_AUTHOR_AGENT,
                                 .conversation_id = 1,
                                 .message_id = 1 };
    for (int i = 1; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL) {
            (void)fprintf(stderr, "usage: %s key=value...\n", argv[0]);
            return 2;
        }
        *eq = '\0';
        if (!set_key(&d, argv[i], eq + 1)) {
            (void)fprintf(stderr, "unknown key %s\n", argv[i]);
            return 2;
        }
    }
    d.ob.thread_refs = d.refs;
    d.ob.n_thread_refs = d.n_refs;
    struct wb_send_result res;
    enum wb_status st = wb_email_send(&d.conf, "test", &d.ob, &res);
    static const char *const names[] = { "OK", "RETRY", "PERMANENT" };
    printf("outcome=%s\nexternal_id=%s\nreason=%s\n", names[res.outcome], res.external_id,
           res.reason);
    wb_secret_free(&d.conf.smtp_password);
    wb_secret_free(&d.conf.imap_password);
    curl_global_cleanup();
    return st == WB_OK ? 0 : 1;
}
