/*
 * http_server.c -- an HTTP/1.1 server with one task per connection: the C
 * twin of aiohttp's web.Application with a "Hello, world!" route and a
 * static directory.
 *
 * The Python it mirrors (see docs/http.md for the two side by side):
 *
 *     async def hello(request):
 *         return web.Response(text="Hello, world!")
 *
 *     app = web.Application()
 *     app.add_routes([web.get("/", hello), web.get("/hello", hello),
 *                     web.static("/", root)])
 *     web.run_app(app, host="127.0.0.1", port=8080)
 *
 * GET and HEAD of "/" and "/hello" answer "Hello, world!"; any other path
 * names a regular file under --root, sent with its Content-Length and a
 * Content-Type from its extension.  Files are opened and read by corio's
 * file jobs, beside the loop.  Connections are kept alive (HTTP/1.1, or
 * HTTP/1.0 asking for it) and requests may be pipelined.
 *
 * What a peer can get wrong is answered and bounded: a malformed head is a
 * 400, an over-long request line a 414, too large a head a 431, a body over
 * --max-body a 413, a method other than GET or HEAD a 405, a transfer
 * coding other than chunked a 501; each of these closes the connection.
 * A head must arrive within --header-timeout-ms of its first byte (a
 * "slowloris" client sending a byte now and then is dropped), and a
 * kept-alive connection that sends nothing for --idle-timeout-ms is closed;
 * a client that does not read its response is dropped after
 * --send-timeout-ms.  At most --max-conns connections are served at once;
 * more wait in the listen backlog.
 *
 * SIGINT or SIGTERM stops it gracefully: no more accepts, idle connections
 * closed, requests in flight answered (with "Connection: close"), then exit
 * status 0 -- after --grace-ms at most, or at once on a second signal.
 *
 * With --cert FILE --key FILE (PEM) it serves HTTPS instead, through
 * corio's TLS streams: aiohttp's run_app(app, ssl_context=ctx).  Each
 * connection's handshake must end within --header-timeout-ms; a client
 * that speaks plain HTTP to it is answered a 400 in the clear, saying so.
 * A corio built without OpenSSL refuses --cert with a message.
 *
 * The first line on stdout says where it listens ("listening on
 * http://127.0.0.1:8080/", or https://); with --port 0 the system picks the
 * port, and tests read it there.  --log adds a line per request (and per
 * failed TLS handshake).
 */
#define _POSIX_C_SOURCE 200809L /* the O_DIRECTORY of open */

#include "http_server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ acceptor */

/* Accepts connections while a slot is free, a task for each. */
typedef struct acceptor {
    co_gen gen;
    server *srv;
    co_io io;
    bool holding; /* a slot, taken before the accept */
} acceptor;

static int acceptor_fn(co_gen *g)
{
    acceptor *self = (acceptor *)g;
    server *srv = self->srv;
    CO_BEGIN(self);
    for (;;) {
        CO_SEM_ACQUIRE(self, &srv->slots);
        self->holding = true;
        CO_ACCEPT(self, &self->io, srv->lfd, NULL);
        if (self->io.result < 0) {
            /* out of fds: CO_ACCEPT has already paused; try again */
            if (self->io.result != -EMFILE && self->io.result != -ENFILE &&
                self->io.result != -ECONNABORTED && self->io.result != -ENOBUFS &&
                self->io.result != -ENOMEM)
                fprintf(stderr, "http_server: accept: %s\n", co_strerror((int)self->io.result));
            self->holding = false;
            co_sem_release(&srv->slots);
            continue;
        }
        self->holding = false;
        if (!conn_start(srv, (int)self->io.result))
            co_sem_release(&srv->slots);
    }
    CO_FINALLY(self) {
        if (self->holding)
            co_sem_release(&srv->slots);
    }
    CO_END(self);
}

/* ------------------------------------------------------------ signals */

/* Counts SIGINT and SIGTERM, and tells main of each. */
typedef struct watcher {
    co_gen gen;
    server *srv;
} watcher;

static int watcher_fn(co_gen *g)
{
    watcher *self = (watcher *)g;
    server *srv = self->srv;
    CO_BEGIN(self);
    for (;;) {
        CO_EVENT_WAIT(self, &srv->signal);
        co_event_clear(&srv->signal);
        srv->signals++;
        co_event_set(&srv->changed);
    }
    CO_END(self);
}

/* Waits until `done` says so, woken by srv->changed. */
typedef struct until {
    co_gen gen;
    server *srv;
    bool (*done)(const server *srv);
} until;

static int until_fn(co_gen *g)
{
    until *self = (until *)g;
    CO_BEGIN(self);
    while (!self->done(self->srv)) {
        CO_EVENT_WAIT(self, &self->srv->changed);
        co_event_clear(&self->srv->changed);
    }
    CO_END(self);
}

/* The same under a deadline: asyncio.wait_for(until(done), ms / 1000). */
typedef struct until_timed {
    co_gen gen;
    co_deadline deadline;
    int64_t ms;
    until until;
} until_timed;

static int until_timed_fn(co_gen *g)
{
    until_timed *self = (until_timed *)g;
    CO_BEGIN(self);
    CO_WAIT_FOR(self, &self->deadline, until, self->ms);
    CO_END(self);
}

static bool signalled(const server *srv) { return srv->signals > 0; }

static bool drained(const server *srv) { return srv->nconns == 0 || srv->signals > 1; }

/* ---------------------------------------------------------------- main */

typedef struct main_task {
    co_gen gen;
    server *srv;
    acceptor *acceptor;
    watcher *watcher;
    until_timed wait;
} main_task;

/* Where it listens, as a URL: the first line of output. */
static void announce(const server *srv)
{
    co_addr a;
    char where[80];
    if (co_sockname(srv->lfd, &a) < 0)
        return;
    format_peer(&a, where, sizeof where);
    printf("listening on %s://%s/\n", srv->tls ? "https" : "http", where);
    fflush(stdout);
}

static int main_fn(co_gen *g)
{
    main_task *self = (main_task *)g;
    server *srv = self->srv;
    co_loop *loop = co_running_loop();
    CO_BEGIN(self);
    self->acceptor = CO_NEW(loop, acceptor, acceptor_fn);
    self->watcher = CO_NEW(loop, watcher, watcher_fn);
    if (self->acceptor == NULL || self->watcher == NULL)
        CO_RAISE(self, CO_ENOMEM);
    self->acceptor->srv = srv;
    self->watcher->srv = srv;
    co_spawn(&self->watcher->gen);
    co_spawn(&self->acceptor->gen);
    announce(srv);

    /* serve until a signal */
    CO_INIT(&self->wait.until, until_fn);
    self->wait.until.srv = srv;
    self->wait.until.done = signalled;
    CO_AWAIT(self, wait.until);

    /* then stop: no more accepts, idle connections closed at once, and
       those in the middle of a request given --grace-ms to finish it */
    srv->stopping = true;
    co_cancel(&self->acceptor->gen);
    CO_AWAIT_TASK_CATCH(self, &self->acceptor->gen);
    co_fd_close(loop, srv->lfd);
    srv->lfd = -1;
    conn_close_idle(srv);
    fprintf(stderr, "http_server: stopping, %d connection%s busy\n", srv->nconns,
            srv->nconns == 1 ? "" : "s");
    CO_INIT(&self->wait, until_timed_fn);
    CO_INIT(&self->wait.until, until_fn);
    self->wait.ms = srv->opt.grace_ms;
    self->wait.until.srv = srv;
    self->wait.until.done = drained;
    CO_AWAIT_CATCH(self, wait);
    if (CO_THROWN(self) == CO_ECANCELLED)
        CO_RAISE(self, CO_ECANCELLED);
    if (srv->nconns > 0) /* asyncio.run's end cancels them */
        fprintf(stderr, "http_server: %d connection%s cut short\n", srv->nconns,
                srv->nconns == 1 ? "" : "s");
    fprintf(stderr, "http_server: stopped\n");
    CO_FINALLY(self) {
        co_signal_unwatch(loop, SIGINT);
        co_signal_unwatch(loop, SIGTERM);
    }
    CO_END(self);
}

/* ------------------------------------------------------- command line */

static const char usage[] =
    "[--host ADDR] [--port N] [--root DIR] [--log] [--max-conns N] [--max-body BYTES]\n"
    "       [--header-timeout-ms MS] [--idle-timeout-ms MS] [--send-timeout-ms MS]\n"
    "       [--grace-ms MS] [--cert FILE --key FILE]";

static void usage_error(const char *prog, const char *what, const char *arg)
{
    fprintf(stderr, "%s: %s '%s'\nusage: %s %s\n", prog, what, arg, prog, usage);
    exit(2);
}

/* A whole number in [min, max] for option `name`, or a usage error. */
static int64_t number(const char *prog, const char *name, const char *text, int64_t min,
                      int64_t max)
{
    char *end;
    long long v;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (*text == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
        usage_error(prog, name, text);
    return (int64_t)v;
}

static void parse_options(int argc, char **argv, server_options *o)
{
    int i;
    o->host = "127.0.0.1";
    o->port = 8080;
    o->root = NULL;
    o->max_conns = 512;
    o->max_body = 1024 * 1024;
    o->header_timeout_ms = 10000;
    o->idle_timeout_ms = 15000;
    o->send_timeout_ms = 30000;
    o->grace_ms = 10000;
    o->log = false;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--log") == 0) {
            o->log = true;
            continue;
        }
        if (v == NULL)
            usage_error(argv[0], "unexpected argument", a);
        if (strcmp(a, "--host") == 0)
            o->host = v;
        else if (strcmp(a, "--port") == 0)
            o->port = (int)number(argv[0], "bad port", v, 0, 65535);
        else if (strcmp(a, "--root") == 0)
            o->root = v;
        else if (strcmp(a, "--cert") == 0)
            o->cert = v;
        else if (strcmp(a, "--key") == 0)
            o->key = v;
        else if (strcmp(a, "--max-conns") == 0)
            o->max_conns = (int)number(argv[0], "bad connection count", v, 1, 1 << 20);
        else if (strcmp(a, "--max-body") == 0)
            o->max_body = number(argv[0], "bad size", v, 0, INT64_MAX);
        else if (strcmp(a, "--header-timeout-ms") == 0)
            o->header_timeout_ms = number(argv[0], "bad time", v, 1, INT64_MAX / 1000000);
        else if (strcmp(a, "--idle-timeout-ms") == 0)
            o->idle_timeout_ms = number(argv[0], "bad time", v, 1, INT64_MAX / 1000000);
        else if (strcmp(a, "--send-timeout-ms") == 0)
            o->send_timeout_ms = number(argv[0], "bad time", v, 1, INT64_MAX / 1000000);
        else if (strcmp(a, "--grace-ms") == 0)
            o->grace_ms = number(argv[0], "bad time", v, 0, INT64_MAX / 1000000);
        else
            usage_error(argv[0], "unexpected argument", a);
        i++;
    }
    if ((o->cert == NULL) != (o->key == NULL))
        usage_error(argv[0], "HTTPS needs both --cert and --key, not only",
                    o->cert ? "--cert" : "--key");
}

/* HTTPS: the certificate and key loaded; 0, or 1 with a message. */
static int set_up_tls(server *srv, const char *prog)
{
    int rc;
    if (srv->opt.cert == NULL)
        return 0;
    rc = co_tls_server(&srv->tls, srv->opt.cert, srv->opt.key);
    if (rc == CO_ENOTLS)
        fprintf(stderr, "%s: cannot serve HTTPS: %s\n", prog, co_strerror(rc));
    else if (rc < 0)
        fprintf(stderr, "%s: cannot use --cert %s --key %s: %s%s%s\n", prog, srv->opt.cert,
                srv->opt.key, co_strerror(rc), *co_tls_reason(NULL) ? ": " : "",
                co_tls_reason(NULL));
    return rc < 0;
}

/* The listener, the root and the signals; 0, or 1 with a message. */
static int set_up(co_loop *loop, server *srv, const char *prog)
{
    co_addr addr;
    int rc;
    if ((rc = co_addr_ip(&addr, srv->opt.host, srv->opt.port)) < 0) {
        fprintf(stderr, "%s: bad host '%s': numeric addresses and localhost only\n", prog,
                srv->opt.host);
        return 1;
    }
    if (set_up_tls(srv, prog) != 0)
        return 1;
    if (srv->opt.root &&
        (srv->root_fd = open(srv->opt.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, srv->opt.root, strerror(errno));
        return 1;
    }
    if ((srv->lfd = co_listen(&addr, -1, 0)) < 0) {
        fprintf(stderr, "%s: cannot listen on %s:%d: %s\n", prog, srv->opt.host, srv->opt.port,
                co_strerror(srv->lfd));
        return 1;
    }
    if ((rc = co_signal_watch(loop, SIGINT, &srv->signal)) < 0 ||
        (rc = co_signal_watch(loop, SIGTERM, &srv->signal)) < 0) {
        fprintf(stderr, "%s: cannot watch signals: %s\n", prog, co_strerror(rc));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static server srv;
    co_loop *loop = NULL;
    main_task *m;
    int rc;

    parse_options(argc, argv, &srv.opt);
    srv.limits.max_line = HTTP_MAX_LINE;
    srv.limits.max_head = HTTP_MAX_HEAD;
    srv.limits.max_fields = HTTP_MAX_FIELDS;
    srv.lfd = srv.root_fd = -1;
    co_sem_init(&srv.slots, srv.opt.max_conns, 0);
    co_event_init(&srv.signal);
    co_event_init(&srv.changed);
    if ((rc = co_loop_new(&loop, NULL)) < 0) {
        fprintf(stderr, "%s: cannot make a loop: %s\n", argv[0], co_strerror(rc));
        return 1;
    }
    rc = set_up(loop, &srv, argv[0]);
    if (rc == 0) {
        m = CO_NEW(loop, main_task, main_fn);
        if (m)
            m->srv = &srv;
        rc = m ? co_run(loop, &m->gen) : CO_ENOMEM;
        if (rc < 0)
            fprintf(stderr, "%s: %s\n", argv[0], co_strerror(rc));
        rc = rc < 0;
    }
    if (srv.lfd >= 0)
        co_fd_close(loop, srv.lfd);
    co_loop_free(loop);
    server_free_spares(&srv);
    if (srv.root_fd >= 0)
        close(srv.root_fd);
    co_tls_free(srv.tls);
    return rc;
}
