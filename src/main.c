/*
 * main.c - warblerd: load the config, start the threads, serve.
 *
 * DESIGN: signals are blocked in every thread; a control thread takes them
 * with sigtimedwait(): SIGTERM/SIGINT stop the loop, SIGHUP reloads the
 * config (a bad file is reported and the running one kept), and between
 * signals it rebuilds the bot when the core saw the knowledge files change. The loop thread is
 * this one, inside wb_server_run(). Shutdown stops the loop first (no new
 * requests), then lets the core finish its batch, then the http thread.
 *
 * Thread: main (loop) and the control thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <curl/curl.h>

#include <warbler/log.h>

#include "bot.h"
#include "channels.h"
#include "config.h"
#include "core.h"
#include "metrics.h"
#include "server.h"

#define DEFAULT_CONFIG "/etc/warbler/warbler.conf"

struct daemon {
    const char *config_path;
    struct wb_config *cfg;      /* as started: the core and the server keep using it */
    struct wb_config *live_cfg; /* the last one loaded by a reload, or NULL */
    struct wb_core *core;
    struct wb_server *srv;
    sigset_t sigs;
};

static void usage(FILE *f)
{
    (void)fprintf(f, "usage: warblerd [-c FILE] [-t] [-p PORTFILE]\n"
                     "  -c FILE         configuration file (default " DEFAULT_CONFIG ")\n"
                     "  -t              check the configuration and exit\n"
                     "  -p PORTFILE     write the bound HTTP port to PORTFILE once listening\n"
                     "  --help-config   print every setting with its default\n"
                     "  -v              print the version\n");
}

static void setup_logging(const struct wb_config *cfg)
{
    enum wb_log_sink sink = WB_LOG_SINK_STDERR;
    switch (cfg->log.sink) {
    case 0: /* auto: journald sets JOURNAL_STREAM for the services it runs */
        /* NOLINTNEXTLINE(concurrency-mt-unsafe): before threads */
        sink = getenv("JOURNAL_STREAM") != NULL ? WB_LOG_SINK_JOURNAL : WB_LOG_SINK_STDERR;
        break;
    case 2:
        sink = WB_LOG_SINK_JOURNAL;
        break;
    case 3:
        sink = WB_LOG_SINK_SYSLOG;
        break;
    default:
        break;
    }
    wb_log_setup((enum wb_log_level)cfg->log.level, sink);
}

static void reload(struct daemon *d)
{
    struct wb_config *ncfg = NULL;
    struct wb_chanset *cs = NULL;
    struct wb_bot *bot = NULL;
    struct wb_err err;

    wb_log(WB_LOG_NOTICE, "reloading %s", d->config_path);
    if (wb_config_load_file(d->config_path, &ncfg, &err) != WB_OK) {
        wb_log(WB_LOG_ERROR, "reload failed, keeping the running configuration: %s", err.msg);
        return;
    }
    if (wb_chanset_new(ncfg, wb_core_host(d->core), &cs, &err) != WB_OK ||
        wb_bot_new(ncfg->bot, &bot, &err) != WB_OK) {
        wb_log(WB_LOG_ERROR, "reload failed, keeping the running configuration: %s", err.msg);
        if (cs != NULL) {
            wb_chanset_release(cs);
        }
        wb_config_free(ncfg);
        return;
    }
    if (wb_chanset_start(cs, &err) != WB_OK) {
        wb_log(WB_LOG_ERROR, "reload: %s", err.msg);
    }
    setup_logging(ncfg);
    wb_chanset_install(cs);
    wb_core_swap_bot_take(d->core, bot);
    if (strcmp(ncfg->http.listen, d->cfg->http.listen) != 0 ||
        ncfg->http.port != d->cfg->http.port || strcmp(ncfg->store.path, d->cfg->store.path) != 0) {
        wb_log(WB_LOG_WARN, "reload: http.listen, http.port and store changes need a restart");
    }
    wb_log(WB_LOG_NOTICE, "reloaded: %zu channel(s)", ncfg->n_channels);
    /* kept for knowledge-base rebuilds; instances and the bot copied the rest */
    wb_config_free(d->live_cfg);
    d->live_cfg = ncfg;
}

/* The core saw the knowledge files change: build a new bot here, off the core. */
static void rebuild_bot(struct daemon *d)
{
    const struct wb_config *cfg = d->live_cfg ? d->live_cfg : d->cfg;
    struct wb_bot *bot = NULL;
    struct wb_err err;
    if (wb_bot_new(cfg->bot, &bot, &err) != WB_OK) {
        wb_log(WB_LOG_ERROR, "bot: rebuild failed, keeping the running knowledge base: %s",
               err.msg);
        return;
    }
    wb_core_swap_bot_take(d->core, bot);
}

static void *control_main(void *arg)
{
    struct daemon *d = arg;
    const struct timespec tick = { 1, 0 };
    for (;;) {
        int sig = sigtimedwait(&d->sigs, NULL, &tick);
        if (sig < 0) {
            if (wb_core_kb_dirty_take(d->core)) {
                rebuild_bot(d);
            }
            continue;
        }
        if (sig == SIGHUP) {
            reload(d);
            continue;
        }
        wb_log(WB_LOG_NOTICE, "signal %d: shutting down", sig);
        wb_server_stop(d->srv);
        return NULL;
    }
}

/* The state directory and the entries directly in it (database, secrets). */
static int chown_state(const char *dir, uid_t uid, gid_t gid)
{
    char path[4096];
    DIR *d = opendir(dir);
    struct dirent *e;
    if (d == NULL || chown(dir, uid, gid) != 0) {
        wb_log(WB_LOG_ERROR, "state_dir %s: %s", dir, strerror(errno));
        if (d != NULL) {
            (void)closedir(d);
        }
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        (void)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (lchown(path, uid, gid) != 0) {
            wb_log(WB_LOG_ERROR, "%s: %s", path, strerror(errno));
            (void)closedir(d);
            return -1;
        }
    }
    return closedir(d);
}

/*
 * Started as root: hand the state directory to cfg->user and become that
 * user, after the listener is bound and before any input is read or the
 * store is opened. Thread: main, before any other thread exists.
 */
static int drop_privileges(const struct wb_config *cfg)
{
    struct passwd pw, *res = NULL;
    char buf[4096];

    if (geteuid() != 0) {
        return 0;
    }
    if (cfg->user[0] == '\0') {
        wb_log(WB_LOG_WARN, "running as root: set `user` in %s to run unprivileged", cfg->file);
        return 0;
    }
    if (getpwnam_r(cfg->user, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
        wb_log(WB_LOG_ERROR, "%s: user: no such user \"%s\"", cfg->file, cfg->user);
        return -1;
    }
    if (chown_state(cfg->state_dir, pw.pw_uid, pw.pw_gid) != 0 ||
        initgroups(pw.pw_name, pw.pw_gid) != 0 || setgid(pw.pw_gid) != 0 ||
        setuid(pw.pw_uid) != 0) {
        wb_log(WB_LOG_ERROR, "cannot switch to user %s: %s", cfg->user, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) {
        wb_panic("privileges: root could be regained after switching to %s", cfg->user);
    }
    wb_log(WB_LOG_NOTICE, "running as user %s (uid %u)", cfg->user, (unsigned)pw.pw_uid);
    return 0;
}

static int check_state_dir(const char *dir)
{
    struct stat sb;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        wb_log(WB_LOG_ERROR, "state_dir %s: %s", dir, strerror(errno));
        return -1;
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        wb_log(WB_LOG_ERROR, "state_dir %s is not a directory", dir);
        return -1;
    }
    return 0;
}

/*
 * One warblerd per database. The store's write connection caches rows it
 * wrote (docs/ARCHITECTURE.md, Storage), which is exact only while it is
 * the database's only writer: a second daemon on the same file is refused
 * here, by name. The flock on <database>.lock is held for the life of the
 * process; the kernel drops it when the process ends, SIGKILL included.
 * Returns the descriptor to keep open, or -1.
 */
static int lock_database(const struct wb_config *cfg)
{
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s.lock", cfg->store.path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        wb_log(WB_LOG_ERROR, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            wb_log(WB_LOG_ERROR, "database %s is in use by another warblerd (lock %s)",
                   cfg->store.path, path);
        } else {
            wb_log(WB_LOG_ERROR, "%s: %s", path, strerror(errno));
        }
        (void)close(fd);
        return -1;
    }
    return fd;
}

static void write_port_file(const char *path, int port)
{
    char tmp[4096];
    (void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        wb_log(WB_LOG_ERROR, "port file %s: %s", tmp, strerror(errno));
        return;
    }
    (void)fprintf(f, "%d\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        wb_log(WB_LOG_ERROR, "port file %s: %s", path, strerror(errno));
    }
}

static int run(struct daemon *d, const char *port_file)
{
    struct wb_chanset *cs = NULL;
    pthread_t control;
    struct wb_err err;
    int rc = 1;

    if (check_state_dir(d->cfg->state_dir) != 0) {
        return 1;
    }
    int lock_fd = lock_database(d->cfg);
    if (lock_fd < 0) {
        return 1;
    }
    wb_metrics_init();
    /* bind first (a port below 1024 needs root), then stop being root */
    if (wb_server_new(d->cfg, NULL, &d->srv, &err) != WB_OK) {
        wb_log(WB_LOG_ERROR, "%s", err.msg);
        goto out;
    }
    /* connections made from now on wait in the listen backlog until the loop runs */
    if (port_file != NULL) {
        write_port_file(port_file, wb_server_port(d->srv));
    }
    if (drop_privileges(d->cfg) != 0) {
        goto out;
    }
    if (wb_core_new(d->cfg, &d->core, &err) != WB_OK ||
        wb_chanset_new(d->cfg, wb_core_host(d->core), &cs, &err) != WB_OK) {
        wb_log(WB_LOG_ERROR, "%s", err.msg);
        goto out;
    }
    wb_chanset_install(cs);
    wb_server_set_core(d->srv, d->core);
    if (wb_core_start(d->core, &err) != WB_OK || wb_chanset_start(cs, &err) != WB_OK) {
        wb_log(WB_LOG_ERROR, "%s", err.msg);
        goto out;
    }
    if (pthread_create(&control, NULL, control_main, d) != 0) {
        wb_log(WB_LOG_ERROR, "cannot start the control thread");
        goto out;
    }
    wb_log(WB_LOG_NOTICE, "warblerd %s listening on %s:%d with %zu channel(s)", WB_VERSION,
           d->cfg->http.listen, wb_server_port(d->srv), d->cfg->n_channels);
    wb_server_run(d->srv);
    (void)pthread_join(control, NULL);
    rc = 0;
out:
    wb_core_stop(d->core); /* the last batch commits and is answered */
    {
        struct wb_chanset *cur = wb_chanset_acquire();
        if (cur != NULL) {
            wb_chanset_stop(cur);
            wb_chanset_release(cur);
        }
        wb_chanset_install(NULL);
    }
    wb_server_free(d->srv);
    wb_core_free(d->core);
    (void)close(lock_fd);
    wb_log(WB_LOG_NOTICE, "warblerd stopped");
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help-config", no_argument, NULL, 'H' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct daemon d;
    struct wb_err err;
    const char *port_file = NULL;
    bool test_only = false;
    int opt;

    memset(&d, 0, sizeof(d));
    d.config_path = DEFAULT_CONFIG;
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): before threads */
    while ((opt = getopt_long(argc, argv, "c:tp:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            d.config_path = optarg;
            break;
        case 't':
            test_only = true;
            break;
        case 'p':
            port_file = optarg;
            break;
        case 'v':
            printf("warblerd %s\n", WB_VERSION);
            return 0;
        case 'H':
            wb_config_print_reference(stdout);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EX_USAGE;
        }
    }
    if (wb_config_load_file(d.config_path, &d.cfg, &err) != WB_OK) {
        (void)fprintf(stderr, "warblerd: %s\n", err.msg);
        return EX_CONFIG;
    }
    if (test_only) {
        (void)fprintf(stderr, "warblerd: configuration file %s test is successful\n",
                      d.config_path);
        wb_config_free(d.cfg);
        return 0;
    }
    setup_logging(d.cfg);
    (void)signal(SIGPIPE, SIG_IGN);
    (void)sigemptyset(&d.sigs);
    (void)sigaddset(&d.sigs, SIGHUP);
    (void)sigaddset(&d.sigs, SIGINT);
    (void)sigaddset(&d.sigs, SIGTERM);
    (void)pthread_sigmask(SIG_BLOCK, &d.sigs, NULL);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        (void)fprintf(stderr, "warblerd: curl_global_init failed\n");
        return 1;
    }
    int rc = run(&d, port_file);
    wb_config_free(d.live_cfg);
    wb_config_free(d.cfg);
    curl_global_cleanup();
    return rc;
}
