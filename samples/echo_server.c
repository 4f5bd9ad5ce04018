/*
 * echo_server.c -- asyncio's TCP echo server: an accept loop that starts a
 * task per connection, each echoing what it reads until its client hangs
 * up; SIGINT or SIGTERM stops it cleanly.
 *
 * The Python it mirrors (asyncio's streams example, with the shutdown a
 * real server needs):
 *
 *     async def handle_echo(reader, writer):
 *         while data := await reader.read(16384):
 *             writer.write(data)
 *             await writer.drain()
 *         writer.close()
 *
 *     async def main():
 *         server = await asyncio.start_server(handle_echo, "127.0.0.1", 8888)
 *         stop = asyncio.Event()
 *         for signo in (signal.SIGINT, signal.SIGTERM):
 *             asyncio.get_running_loop().add_signal_handler(signo, stop.set)
 *         async with server:
 *             await stop.wait()
 *         # asyncio.run then cancels the connections still open
 *
 *     asyncio.run(main())
 *
 * It prints "serving on HOST:PORT (K threads, BACKEND)" once it listens
 * (--port 0 picks a free port: read it there) and, once stopped, how many
 * connections it served and how many bytes it echoed.  A stop closes the listener and
 * cancels every connection; each connection's cleanup closes its socket, so
 * its client reads end of stream.
 *
 * --threads K runs K loops, one per thread, each with a listener of its own
 * on the same port (CO_LISTEN_REUSEPORT): the kernel spreads the incoming
 * connections over them, and each loop serves its own with no locking.  The
 * first thread's loop owns the signals and tells the others to stop with
 * co_call_soon_threadsafe.
 */
#define _POSIX_C_SOURCE 200809L /* pthreads, strtol's errno */

#include <corio/corio.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BUF_SIZE = 16384, MAX_THREADS = 64 };

/* One loop with its listener: the whole server when it runs one thread. */
typedef struct server {
    co_loop *loop;
    int lfd;
    int index;               /* 0: the first thread's loop, which owns the signals */
    co_event stop;           /* set by a signal, a stop call, or a failed accept   */
    co_call stop_call;       /* how the first loop reaches this one                */
    pthread_t thread;
    unsigned long long connections, bytes;
    int error;               /* why it stopped on its own (0: it was asked to)     */
    const char *failed;      /* what failed then ("accept", ...)                   */
    int rc;                  /* co_run's result                                    */
} server;

static server servers[MAX_THREADS];
static int nservers = 1;

/* ---------------------------------------------------------- a connection */

typedef struct {
    co_gen gen;
    server *srv;
    int fd;
    co_io io;
    char buf[BUF_SIZE];
} connection;

/* handle_echo: read, write back, until end of stream or an error. */
static int connection_fn(co_gen *g)
{
    connection *self = (connection *)g;
    CO_BEGIN(self);
    for (;;) {
        CO_RECV(self, &self->io, self->fd, self->buf, sizeof self->buf);
        if (self->io.result <= 0) /* 0: the client hung up; < 0: -errno */
            break;
        CO_SEND_ALL(self, &self->io, self->fd, self->buf, (size_t)self->io.result);
        if (self->io.result < 0)
            break;
        self->srv->bytes += (unsigned long long)self->io.result;
    }
    /* also when the server stops: cancellation unwinds through here */
    CO_FINALLY(self) { co_fd_close(co_running_loop(), self->fd); }
    CO_END(self);
}

/* create_task(handle_echo(...)) for a new connection; nobody awaits it. */
static void start_connection(server *srv, int fd)
{
    connection *c = CO_NEW(srv->loop, connection, connection_fn);
    if (c == NULL) { /* no memory for a task: turn this client away, serve on */
        fprintf(stderr, "echo_server: a connection's task: %s: client turned away\n",
                co_strerror(CO_ENOMEM));
        co_fd_close(srv->loop, fd);
        return;
    }
    c->srv = srv;
    c->fd = fd;
    co_spawn(&c->gen);
    co_release(&c->gen); /* freed when it ends */
    srv->connections++;
}

/* ------------------------------------------------------- the accept loop */

typedef struct {
    co_gen gen;
    server *srv;
    co_io io;
} acceptor;

static bool accept_can_retry(ssize_t err)
{
    /* out of fds or memory (the kernel's or the loop's): CO_ACCEPT has
       already paused, so a transient shortage costs a pause, not the server */
    return err == -EMFILE || err == -ENFILE || err == -ENOBUFS || err == -ENOMEM ||
           err == CO_ENOMEM;
}

static int acceptor_fn(co_gen *g)
{
    acceptor *self = (acceptor *)g;
    CO_BEGIN(self);
    for (;;) {
        CO_ACCEPT(self, &self->io, self->srv->lfd, NULL);
        if (self->io.result >= 0)
            start_connection(self->srv, (int)self->io.result);
        else if (accept_can_retry(self->io.result))
            fprintf(stderr, "echo_server: accept: %s: retrying\n", co_strerror((int)self->io.result));
        else
            CO_RAISE(self, (int)self->io.result);
    }
    CO_FINALLY(self) {
        co_fd_close(co_running_loop(), self->srv->lfd);
        self->srv->lfd = -1;
        if (CO_THROWN(self) != CO_ECANCELLED) { /* it failed: stop the server */
            self->srv->error = CO_THROWN(self);
            self->srv->failed = "accept";
            co_event_set(&self->srv->stop);
        }
    }
    CO_END(self);
}

/* ------------------------------------------------------------- stopping */

/* Runs on a loop's own thread, called from the first loop's thread. */
static void stop_call(void *arg)
{
    server *srv = arg;
    co_event_set(&srv->stop);
}

static void stop_other_loops(void)
{
    for (int i = 1; i < nservers; i++)
        co_call_soon_threadsafe(servers[i].loop, &servers[i].stop_call, stop_call, &servers[i]);
}

/* ------------------------------------------------------------- a loop */

typedef struct {
    co_gen gen;
    server *srv;
} serve;

/* async with server: await stop.wait() -- then co_run cancels the accept
 * loop and the connections, and runs their cleanup. */
static int serve_fn(co_gen *g)
{
    serve *self = (serve *)g;
    acceptor *acc;
    CO_BEGIN(self);
    /* no memory for the accept loop yet: pause and try again, as accept does */
    while ((acc = CO_NEW(self->srv->loop, acceptor, acceptor_fn)) == NULL) {
        fprintf(stderr, "echo_server: the accept loop's task: %s: retrying\n",
                co_strerror(CO_ENOMEM));
        CO_SLEEP(self, CO_ACCEPT_BACKOFF_MS);
    }
    acc->srv = self->srv;
    co_spawn(&acc->gen);
    co_release(&acc->gen);
    CO_EVENT_WAIT(self, &self->srv->stop);
    if (self->srv->error < 0)
        CO_RAISE(self, self->srv->error);
    CO_FINALLY(self) {
        /* however the first loop ends, the others must not outlive it */
        if (self->srv->index == 0)
            stop_other_loops();
    }
    CO_END(self);
}

static int run_server(server *srv)
{
    serve *s = CO_NEW(srv->loop, serve, serve_fn);
    if (s == NULL) {
        srv->failed = "the server's task";
        return CO_ENOMEM;
    }
    s->srv = srv;
    return co_run(srv->loop, &s->gen);
}

static void *thread_main(void *arg)
{
    server *srv = arg;
    srv->rc = run_server(srv);
    return NULL;
}

/* -------------------------------------------------------------- setting up */

typedef struct {
    const char *host;
    int port;
    int threads;
} options;

/* Exits: status 0 for --help (on stdout), 2 for a bad command line. */
static void usage(const char *prog, const char *why, int status)
{
    fprintf(status ? stderr : stdout, "%s: %s\nusage: %s [--host ADDR] [--port N] [--threads K]\n",
            prog, why, prog);
    exit(status);
}

static long number_arg(const char *prog, const char *text, long lo, long hi)
{
    char *end;
    long n;
    errno = 0;
    n = strtol(text, &end, 10);
    if (errno || end == text || *end || n < lo || n > hi)
        usage(prog, "bad number", 2);
    return n;
}

static options parse_options(int argc, char **argv)
{
    options o = {"127.0.0.1", 8888, 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            usage(argv[0], "a TCP echo server", 0);
        if (i + 1 >= argc)
            usage(argv[0], "an option without its value, or an unknown one", 2);
        if (strcmp(a, "--host") == 0)
            o.host = argv[++i];
        else if (strcmp(a, "--port") == 0)
            o.port = (int)number_arg(argv[0], argv[++i], 0, 65535);
        else if (strcmp(a, "--threads") == 0)
            o.threads = (int)number_arg(argv[0], argv[++i], 1, MAX_THREADS);
        else
            usage(argv[0], "unknown option", 2);
    }
    return o;
}

/* Every listener, before any loop runs: a failure is reported at once.
 * With several threads the first one picks the port (for --port 0) and the
 * others join it there. */
static int open_listeners(const options *o, co_addr *addr)
{
    unsigned flags = nservers > 1 ? CO_LISTEN_REUSEPORT : 0;
    int rc = co_addr_ip(addr, o->host, o->port);
    if (rc < 0)
        return rc;
    for (int i = 0; i < nservers; i++) {
        servers[i].lfd = co_listen(addr, -1, flags);
        if (servers[i].lfd < 0)
            return servers[i].lfd;
        if (i == 0 && (rc = co_sockname(servers[0].lfd, addr)) < 0)
            return rc;
    }
    return 0;
}

static int make_loops(void)
{
    for (int i = 0; i < nservers; i++) {
        int rc = co_loop_new(&servers[i].loop, NULL);
        if (rc < 0)
            return rc;
        servers[i].index = i;
        co_event_init(&servers[i].stop);
    }
    /* before any thread runs: a signal then always finds its handler */
    int rc = co_signal_watch(servers[0].loop, SIGINT, &servers[0].stop);
    return rc < 0 ? rc : co_signal_watch(servers[0].loop, SIGTERM, &servers[0].stop);
}

static void report(void)
{
    unsigned long long connections = 0, bytes = 0;
    for (int i = 0; i < nservers; i++) {
        if (nservers > 1)
            printf("thread %d: %llu connections, %llu bytes echoed\n", i,
                   servers[i].connections, servers[i].bytes);
        connections += servers[i].connections;
        bytes += servers[i].bytes;
    }
    printf("stopped: %llu connections, %llu bytes echoed\n", connections, bytes);
}

int main(int argc, char **argv)
{
    options o = parse_options(argc, argv);
    int total = o.threads, rc, status = 0;
    co_addr addr;

    nservers = total;
    for (int i = 0; i < total; i++)
        servers[i].lfd = -1;
    if ((rc = open_listeners(&o, &addr)) < 0) {
        fprintf(stderr, "%s: cannot listen on %s port %d: %s\n", argv[0], o.host, o.port,
                co_strerror(rc));
        return 1;
    }
    if ((rc = make_loops()) < 0) {
        fprintf(stderr, "%s: cannot start: %s\n", argv[0], co_strerror(rc));
        return 1;
    }
    /* an IPv6 address in brackets, so that the port after the last ':' is clear */
    printf(strchr(o.host, ':') ? "serving on [%s]:%d (%d thread%s, %s)\n"
                               : "serving on %s:%d (%d thread%s, %s)\n",
           o.host, co_addr_port(&addr), total, total > 1 ? "s" : "",
           co_loop_backend(servers[0].loop));
    fflush(stdout);

    for (int i = 1; i < total; i++)
        if (pthread_create(&servers[i].thread, NULL, thread_main, &servers[i]) != 0) {
            /* serve with the threads that did start; stop calls reach only them */
            fprintf(stderr, "%s: cannot start thread %d: serving with %d\n", argv[0], i, i);
            for (int j = i; j < total; j++)
                co_fd_close(NULL, servers[j].lfd);
            nservers = i;
            break;
        }
    servers[0].rc = run_server(&servers[0]);
    for (int i = 1; i < nservers; i++)
        pthread_join(servers[i].thread, NULL);

    report();
    for (int i = 0; i < nservers; i++)
        if (servers[i].rc < 0) {
            fprintf(stderr, "%s: thread %d: %s: %s\n", argv[0], i,
                    servers[i].failed ? servers[i].failed : "the loop", co_strerror(servers[i].rc));
            status = 1;
        }
    for (int i = 0; i < total; i++)
        co_loop_free(servers[i].loop);
    return status;
}
