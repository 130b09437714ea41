/*
 * ctl.c - warblerctl: look at a running warblerd and its store.
 *
 *   warblerctl [-c FILE] status   GET /healthz of the daemon the config names
 *   warblerctl [-c FILE] stats    counts from the store (read-only connection)
 *
 * Thread: single-threaded program.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <curl/curl.h>
#include <jansson.h>

#include <warbler/store.h>

#include "config.h"

#define DEFAULT_CONFIG "/etc/warbler/warbler.conf"

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct wb_buf *b = ud;
    return wb_buf_append(b, p, size * nmemb) == WB_OK ? size * nmemb : 0;
}

static int cmd_status(const struct wb_config *cfg)
{
    char url[512];
    struct wb_buf b;
    long code = 0;
    int rc = 1;
    CURL *c = curl_easy_init();

    if (c == NULL) {
        return 1;
    }
    wb_buf_init(&b, 1 << 20);
    (void)snprintf(url, sizeof(url), "http://%s:%lld/healthz", cfg->http.listen,
                   (long long)cfg->http.port);
    (void)curl_easy_setopt(c, CURLOPT_URL, url);
    (void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    (void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    (void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    (void)curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    CURLcode cr = curl_easy_perform(c);
    (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (cr != CURLE_OK) {
        (void)fprintf(stderr, "warblerctl: %s: %s\n", url, curl_easy_strerror(cr));
    } else {
        json_t *o = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
        char *pretty = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
        printf("%s\n", pretty ? pretty : (b.data ? b.data : ""));
        free(pretty);
        json_decref(o);
        rc = code == 200 ? 0 : 1;
    }
    wb_buf_free(&b);
    curl_easy_cleanup(c);
    return rc;
}

static int cmd_stats(const struct wb_config *cfg)
{
    struct wb_store_options so;
    struct wb_store *st = NULL;
    struct wb_store_stats s;
    struct wb_outbox_counts oc;
    struct wb_err err;

    memset(&so, 0, sizeof(so));
    so.driver = "sqlite";
    so.path = cfg->store.path;
    so.read_only = true;
    so.busy_timeout_ms = cfg->store.busy_timeout_ms;
    if (wb_store_open(&so, &st, &err) != WB_OK || wb_store_stats_get(st, &s, &err) != WB_OK ||
        wb_store_outbox_counts(st, &oc, &err) != WB_OK) {
        (void)fprintf(stderr, "warblerctl: %s\n", err.msg);
        wb_store_close(st);
        return 1;
    }
    printf("contacts:       %lld\nconversations:  %lld\nmessages:       %lld (in %lld, out "
           "%lld)\noutbox:         %lld pending, %lld sent, %lld dead\n",
           (long long)s.contacts, (long long)s.conversations, (long long)s.messages,
           (long long)s.messages_in, (long long)s.messages_out, (long long)oc.pending,
           (long long)oc.sent, (long long)oc.dead);
    wb_store_close(st);
    return 0;
}

int main(int argc, char **argv)
{
    const char *path = DEFAULT_CONFIG;
    struct wb_config *cfg = NULL;
    struct wb_err err;
    int opt, rc;

    /* NOLINTNEXTLINE(concurrency-mt-unsafe): single-threaded */
    while ((opt = getopt(argc, argv, "c:h")) != -1) {
        if (opt == 'c') {
            path = optarg;
        } else {
            (void)fprintf(opt == 'h' ? stdout : stderr,
                          "usage: warblerctl [-c FILE] status|stats\n");
            return opt == 'h' ? 0 : EX_USAGE;
        }
    }
    if (optind >= argc) {
        (void)fprintf(stderr, "usage: warblerctl [-c FILE] status|stats\n");
        return EX_USAGE;
    }
    if (wb_config_load_file(path, &cfg, &err) != WB_OK) {
        (void)fprintf(stderr, "warblerctl: %s\n", err.msg);
        return EX_CONFIG;
    }
    if (strcmp(argv[optind], "status") == 0) {
        (void)curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = cmd_status(cfg);
        curl_global_cleanup();
    } else if (strcmp(argv[optind], "stats") == 0) {
        rc = cmd_stats(cfg);
    } else {
        (void)fprintf(stderr, "warblerctl: unknown command %s\n", argv[optind]);
        rc = EX_USAGE;
    }
    wb_config_free(cfg);
    return rc;
}
