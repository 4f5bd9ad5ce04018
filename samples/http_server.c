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
 * The first line on stdout says where it listens ("listening on
 * http://127.0.0.1:8080/"); with --port 0 the system picks the port, and
 * tests read it there.  --log adds a line per request.
 */
#define _POSIX_C_SOURCE 200809L /* openat, fstatat, inet_ntop */

#include "http/http_parse.h"

#include <corio/corio.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ options */

typedef struct server_options {
    const char *host, *root;
    int port, max_conns;
    int64_t header_timeout_ms, idle_timeout_ms, send_timeout_ms, grace_ms, max_body;
    bool log;
} server_options;

#define FILE_CHUNK (64 * 1024)      /* bytes of a file read and sent at a time */
#define LINGER_BYTES (256 * 1024)   /* read at most this much from a closing client */
#define LINGER_MS_MAX 2000          /* and for at most this long */
#define PATH_CAP 1024               /* a file's path under the root */

/* ------------------------------------------------------------- server */

typedef struct conn conn;

typedef struct server {
    server_options opt;
    http_limits limits;
    int lfd, root_fd; /* the listener; the root directory (-1: none) */
    co_sem slots;     /* connections that may still be opened */
    co_event signal;  /* SIGINT or SIGTERM came */
    co_event changed; /* a connection ended, or a signal was counted */
    conn *conns;      /* the live connections, newest first */
    int nconns, signals;
    bool stopping;
} server;

/* --------------------------------------------------------- connection */

/* What a step of a connection does; each runs under its own deadline. */
enum step_op {
    STEP_WAIT,    /* the first bytes of a request (idle: shutdown may end it) */
    STEP_HEAD,    /* the rest of the head, until the parser is done          */
    STEP_BODY,    /* drop a body of known length                             */
    STEP_CHUNKED, /* drop a chunked body                                     */
    STEP_SEND,    /* send out[0..out_len)                                    */
    STEP_LINGER   /* read and drop until the client closes, before we do     */
};

/* A step's result, besides 0 (done) and -errno. */
#define PEER_CLOSED 1 /* the client closed its side              */
#define BODY_BAD 2    /* a chunked body that does not parse      */
#define BODY_LARGE 3  /* a chunked body longer than --max-body   */

typedef struct step {
    co_gen gen;
    conn *c;
    uint8_t op;
    co_io io;
    const char *out; /* STEP_SEND */
    size_t out_len;
    int64_t budget; /* STEP_LINGER: bytes still to read */
    int result;
} step;

/* A step under a deadline: asyncio.wait_for(step, ms / 1000). */
typedef struct timed {
    co_gen gen;
    co_deadline deadline;
    int64_t ms;
    step step;
} timed;

/* An open file to send, from the open job. */
typedef struct file_open {
    int dir_fd;
    const char *path;
    int fd;
    int64_t size;
} file_open;

struct conn {
    co_gen gen;
    server *srv;
    conn *prev, *next;
    int fd;
    bool idle; /* waiting for a request to start */
    char peer[64];
    char *buf; /* bytes received and not yet used: a head, a body, what follows */
    size_t len, cap;
    http_parser parser;
    http_chunked chunked;
    int64_t body_left, body_seen;
    unsigned served;
    int thrown; /* what the last step raised: 0, CO_ETIMEOUT, CO_ECANCELLED */
    /* the request being answered */
    int method, minor, status;
    bool keep_alive;
    char request[160]; /* its line, for the log */
    char file[PATH_CAP];
    /* the response */
    char head[640];
    size_t head_len;
    const char *body;
    size_t body_len;
    int64_t sent;
    char text[64];
    co_file_job job;
    file_open open;
    char *chunk;
    timed t;
};

static void drop(conn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* How much of a buffer of `len` bytes a body with `left` to go takes. */
static size_t body_part(size_t len, int64_t left)
{
    return (int64_t)len < left ? len : (size_t)left;
}

/* STEP_CHUNKED: decodes what the buffer holds, dropping the data. */
static bool chunked_done(step *s)
{
    conn *c = s->c;
    int64_t max = c->srv->opt.max_body;
    size_t used, data;
    int rc = http_chunked_decode(&c->chunked, c->buf, c->len, &used, &data);
    drop(c, used);
    c->body_seen += (int64_t)data;
    /* a chunk announced too large is refused before it arrives */
    if (rc != HTTP_ERROR && c->body_seen <= max &&
        c->chunked.left <= (uint64_t)(max - c->body_seen))
        return rc == HTTP_DONE;
    s->result = rc == HTTP_ERROR ? BODY_BAD : BODY_LARGE;
    return true;
}

/* Uses what the buffer holds for the step: true when the step is over. */
static bool step_done(step *s)
{
    conn *c = s->c;
    size_t n;
    switch (s->op) {
    case STEP_WAIT:
        return c->len > 0;
    case STEP_HEAD:
        return http_parse(&c->parser, c->buf, c->len) != HTTP_MORE;
    case STEP_BODY:
        n = body_part(c->len, c->body_left);
        drop(c, n);
        c->body_left -= (int64_t)n;
        return c->body_left == 0;
    case STEP_CHUNKED:
        return chunked_done(s);
    default: /* STEP_LINGER: what it read is dropped */
        c->len = 0;
        return s->budget <= 0;
    }
}

/* A step: reads until step_done says it is over, or sends. */
static int step_fn(co_gen *g)
{
    step *self = (step *)g;
    conn *c = self->c;
    CO_BEGIN(self);
    if (self->op == STEP_SEND) {
        CO_SEND_ALL(self, &self->io, c->fd, self->out, self->out_len);
        self->result = self->io.result < 0 ? (int)self->io.result : 0;
        CO_RETURN_VOID(self);
    }
    while (!step_done(self)) {
        CO_RECV(self, &self->io, c->fd, c->buf + c->len, c->cap - c->len);
        if (self->io.result <= 0) {
            self->result = self->io.result == 0 ? PEER_CLOSED : (int)self->io.result;
            break;
        }
        c->len += (size_t)self->io.result;
        self->budget -= self->io.result;
    }
    CO_END(self);
}

static int timed_fn(co_gen *g)
{
    timed *self = (timed *)g;
    CO_BEGIN(self);
    CO_WAIT_FOR(self, &self->deadline, step, self->ms);
    CO_END(self);
}

/* Sets up the connection's next step; CO_AWAIT_CATCH(self, t) runs it. */
static void prepare(conn *c, enum step_op op, int64_t ms)
{
    CO_INIT(&c->t, timed_fn);
    CO_INIT(&c->t.step, step_fn);
    c->t.ms = ms;
    c->t.step.c = c;
    c->t.step.op = (uint8_t)op;
    c->t.step.result = 0;
    c->t.step.budget = LINGER_BYTES;
}

static void prepare_send(conn *c, const char *out, size_t len)
{
    prepare(c, STEP_SEND, c->srv->opt.send_timeout_ms);
    c->t.step.out = out;
    c->t.step.out_len = len;
}

/* The step's outcome: 0, or why the connection cannot go on. */
static int step_outcome(conn *c) { return c->thrown ? c->thrown : c->t.step.result; }

/* ------------------------------------------------------------- routes */

/* Opens the file on a worker: open(2) may wait for a disk, or for ever on
 * a FIFO, which O_NONBLOCK and the check for a regular file rule out. */
static int64_t open_regular(void *arg)
{
    file_open *f = arg;
    struct stat st;
    int fd = openat(f->dir_fd, f->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    int err = 0;
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0)
        err = -errno;
    else if (!S_ISREG(st.st_mode))
        err = -ENOENT; /* a directory, a FIFO, a device: not served */
    if (err < 0) {
        close(fd);
        return err;
    }
    f->fd = fd;
    f->size = (int64_t)st.st_size;
    return 0;
}

/* How much of the file's rest one read takes. */
static size_t chunk_size(int64_t left) { return left < FILE_CHUNK ? (size_t)left : FILE_CHUNK; }

static void log_request(const conn *c, int64_t bytes)
{
    if (!c->srv->opt.log)
        return;
    printf("%s \"%s\" %d %lld\n", c->peer, c->request, c->status, (long long)bytes);
    fflush(stdout);
}

/* The response's Connection, now that the request is known. */
static enum http_connection connection_of(const conn *c)
{
    if (!c->keep_alive || c->srv->stopping)
        return HTTP_CLOSE;
    return c->minor == 0 ? HTTP_KEEP_ALIVE : HTTP_KEEP;
}

/* Whether the connection can go on after a response of this status: not
 * after an error that may leave the stream unreadable (a bad head, a body
 * not read), nor after a timeout. */
static bool keeps_stream(int status)
{
    return status < 400 || status == 403 || status == 404 || status == 405;
}

/* The response head and in-memory body for c->status: the greeting, an
 * error page, or (c->open.fd open) a file's head. */
static void make_response(conn *c)
{
    const char *type = "text/plain; charset=utf-8", *extra = NULL;
    int64_t length;

    c->body = "Hello, world!";
    if (c->open.fd >= 0) {
        type = http_content_type(c->file);
        c->body = "";
    } else if (c->status >= 400) {
        snprintf(c->text, sizeof c->text, "%d %s\n", c->status, http_reason(c->status));
        c->body = c->text;
    }
    if (!keeps_stream(c->status))
        c->keep_alive = false;
    if (c->status == 405)
        extra = "Allow: GET, HEAD\r\n";
    c->body_len = strlen(c->body);
    length = c->open.fd >= 0 ? c->open.size : (int64_t)c->body_len;
    c->head_len = http_response_head(c->head, sizeof c->head, c->status, type, length,
                                      connection_of(c), extra);
    if (c->method == HTTP_METHOD_HEAD)
        c->body_len = 0;
}

/* Copies what the log needs of the request line before the head goes. */
static void remember_request(conn *c)
{
    const http_message *m = &c->parser.msg;
    int target = m->target_len > 100 ? 100 : (int)m->target_len;
    snprintf(c->request, sizeof c->request, "%.*s %.*s%s HTTP/1.%d", (int)m->method_len,
             c->buf + m->method_off, target, c->buf + m->target_off,
             target < (int)m->target_len ? "..." : "", m->minor);
}

/* Where the request goes: 0 for a file to open (c->file), else the status
 * of a response held in memory. */
static int route(conn *c)
{
    const http_message *m = &c->parser.msg;
    int n;
    if (m->method == HTTP_METHOD_OTHER)
        return 405;
    n = http_path_to_file(c->buf + m->path_off, m->path_len, c->file, sizeof c->file);
    if (n == HTTP_PATH_BAD || n == HTTP_PATH_LONG)
        return -n;
    if (n == 0 || strcmp(c->file, "hello") == 0)
        return 200;
    if (n < 0 || c->srv->root_fd < 0)
        return 404;
    return 0;
}

/* Takes the parsed head in: the request's properties, its route, and the
 * way its body (if any) is to be read. */
static void take_request(conn *c)
{
    const http_message *m = &c->parser.msg;
    c->method = m->method;
    c->minor = m->minor;
    c->keep_alive = m->keep_alive;
    remember_request(c);
    c->status = route(c);
    c->body_left = !m->chunked && m->content_length > 0 ? m->content_length : 0;
    c->body_seen = 0;
    http_chunked_init(&c->chunked);
    drop(c, m->head_len);
    if (c->body_left > c->srv->opt.max_body) {
        c->status = 413;
    } else if (m->expect_continue && (m->chunked || c->body_left > 0)) {
        /* no "100 Continue": answer at once, and close rather than guess
           whether the client sends its body anyway */
        c->keep_alive = false;
        c->body_left = 0;
    } else if (m->chunked) {
        c->body_left = -1;
    }
}

static void conn_unlink(conn *c)
{
    server *srv = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->nconns--;
    co_sem_release(&srv->slots);
    co_event_set(&srv->changed);
}

/* The first request gets the header timeout; a kept-alive connection
 * waits for the next one for the idle timeout. */
static int64_t wait_ms(const conn *c)
{
    return c->served ? c->srv->opt.idle_timeout_ms : c->srv->opt.header_timeout_ms;
}

/* How long a closing connection reads what the client still sends. */
static int64_t linger_ms(const conn *c)
{
    int64_t ms = c->srv->opt.header_timeout_ms;
    return ms < LINGER_MS_MAX ? ms : LINGER_MS_MAX;
}

/* Runs the step prepared in self->t and records what it raised; a
 * cancellation goes on up, as asyncio's rule wants. */
#define RUN_STEP(self)                                                                     \
    do {                                                                                   \
        CO_AWAIT_CATCH(self, t);                                                           \
        (self)->thrown = CO_THROWN(self);                                                  \
        if ((self)->thrown == CO_ECANCELLED)                                               \
            CO_RAISE(self, CO_ECANCELLED);                                                 \
    } while (0)

/*
 * One connection: requests, one after the other, until either side closes
 * it.  Each request goes through four steps -- wait for it, read its head,
 * drop its body, answer -- and each I/O step runs under its own deadline.
 */
static int conn_fn(co_gen *g)
{
    conn *self = (conn *)g;
    server *srv = self->srv;
    CO_BEGIN(self);
    self->open.fd = -1;
    self->open.dir_fd = srv->root_fd;
    self->cap = srv->limits.max_head + 1; /* one byte over the limit: a 431 */
    self->buf = malloc(self->cap);
    if (self->buf == NULL)
        CO_RETURN_VOID(self);

    while (!srv->stopping) {
        /* 1. the first bytes of a request: the one moment a connection
           is idle, and a shutdown may close it */
        if (self->len == 0) {
            prepare(self, STEP_WAIT, wait_ms(self));
            self->idle = true;
            RUN_STEP(self);
            self->idle = false;
            if (step_outcome(self) != 0)
                break; /* closed, reset, or silent too long: no one to answer */
        }

        /* 2. the head, within the header timeout of its first byte */
        http_request_parser_init(&self->parser, &srv->limits);
        self->body_left = 0;
        self->method = HTTP_METHOD_GET;
        self->minor = 1;
        self->keep_alive = true;
        snprintf(self->request, sizeof self->request, "-");
        prepare(self, STEP_HEAD, srv->opt.header_timeout_ms);
        RUN_STEP(self);
        if (self->thrown == CO_ETIMEOUT)
            self->status = 408;
        else if (step_outcome(self) != 0)
            break;
        else if (http_parse(&self->parser, self->buf, self->len) == HTTP_ERROR)
            self->status = self->parser.error;
        else
            take_request(self);

        /* 3. its body, read and dropped, within the header timeout */
        if (self->body_left != 0 && keeps_stream(self->status)) {
            prepare(self, self->body_left < 0 ? STEP_CHUNKED : STEP_BODY,
                    srv->opt.header_timeout_ms);
            RUN_STEP(self);
            if (self->thrown == CO_ETIMEOUT)
                self->status = 408;
            else if (self->t.step.result == BODY_BAD)
                self->status = 400;
            else if (self->t.step.result == BODY_LARGE)
                self->status = 413;
            else if (step_outcome(self) != 0)
                break;
        }
        self->body_left = 0;

        /* 4. the answer: a file is opened beside the loop */
        if (self->status == 0) {
            self->open.path = self->file;
            CO_TO_THREAD(self, &self->job, open_regular, &self->open);
            self->status = self->job.result == 0         ? 200
                           : self->job.result == -EACCES ? 403
                                                         : 404;
        }
        make_response(self);
        prepare_send(self, self->head, self->head_len);
        RUN_STEP(self);
        if (step_outcome(self) != 0)
            break;
        self->sent = 0;
        if (self->body_len > 0) {
            prepare_send(self, self->body, self->body_len);
            RUN_STEP(self);
            if (step_outcome(self) != 0)
                break;
            self->sent = (int64_t)self->body_len;
        }
        if (self->open.fd >= 0) {
            /* a chunk at a time: read beside the loop, then sent */
            while (self->method != HTTP_METHOD_HEAD && self->sent < self->open.size) {
                if (self->chunk == NULL && (self->chunk = malloc(FILE_CHUNK)) == NULL)
                    break;
                CO_FILE_PREAD(self, &self->job, self->open.fd, self->chunk,
                              chunk_size(self->open.size - self->sent), self->sent);
                if (self->job.result <= 0)
                    break; /* the file shrank, or failed */
                prepare_send(self, self->chunk, (size_t)self->job.result);
                RUN_STEP(self);
                if (step_outcome(self) != 0)
                    break;
                self->sent += self->job.result;
            }
            CO_FILE_CLOSE(self, &self->job, self->open.fd);
            self->open.fd = -1;
            if (self->method != HTTP_METHOD_HEAD && self->sent < self->open.size)
                break; /* the Content-Length sent was not kept: the stream is lost */
        }
        log_request(self, self->sent);
        self->served++;
        if (connection_of(self) == HTTP_CLOSE)
            break;
    }

    /* a lingering close: stop sending, then read what the client still
       sends until it closes, so that closing with bytes unread does not
       reset the connection and destroy the response on its way */
    if (co_shutdown_write(self->fd) == 0) {
        prepare(self, STEP_LINGER, linger_ms(self));
        RUN_STEP(self);
    }
    CO_FINALLY(self) {
        if (self->open.fd >= 0)
            close(self->open.fd); /* cancelled in the middle of a file */
        co_fd_close(co_running_loop(), self->fd);
        free(self->buf);
        free(self->chunk);
        conn_unlink(self);
    }
    CO_END(self);
}

/* ------------------------------------------------------------ acceptor */

/* Accepts connections while a slot is free, a task for each. */
typedef struct acceptor {
    co_gen gen;
    server *srv;
    co_io io;
    co_addr peer;
    bool holding; /* a slot, taken before the accept */
} acceptor;

static void format_peer(const co_addr *a, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (a->u.sa.sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &a->u.in6.sin6_addr, ip, sizeof ip);
        snprintf(out, cap, "[%s]:%d", ip, co_addr_port(a));
    } else if (a->u.sa.sa_family == AF_INET) {
        inet_ntop(AF_INET, &a->u.in4.sin_addr, ip, sizeof ip);
        snprintf(out, cap, "%s:%d", ip, co_addr_port(a));
    } else {
        snprintf(out, cap, "-");
    }
}

/* A task for the accepted fd; false (the fd closed) when none can be had. */
static bool start_conn(server *srv, int fd, const co_addr *peer)
{
    co_loop *loop = co_running_loop();
    conn *c = CO_NEW(loop, conn, conn_fn);
    if (c == NULL) {
        co_fd_close(loop, fd);
        return false;
    }
    c->srv = srv;
    c->fd = fd;
    format_peer(peer, c->peer, sizeof c->peer);
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
    /* from here on the task's cleanup gives the slot back */
    if (co_spawn(&c->gen) < 0) {
        co_fd_close(loop, fd);
        c->fd = -1;
        conn_unlink(c);
    }
    co_release(&c->gen);
    return true;
}

static int acceptor_fn(co_gen *g)
{
    acceptor *self = (acceptor *)g;
    server *srv = self->srv;
    CO_BEGIN(self);
    for (;;) {
        CO_SEM_ACQUIRE(self, &srv->slots);
        self->holding = true;
        CO_ACCEPT(self, &self->io, srv->lfd, &self->peer);
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
        if (!start_conn(srv, (int)self->io.result, &self->peer))
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
    printf("listening on http://%s/\n", where);
    fflush(stdout);
}

/* Closes the idle connections: those waiting for a request to start. */
static void close_idle(server *srv)
{
    conn *c;
    for (c = srv->conns; c; c = c->next)
        if (c->idle)
            co_cancel(&c->gen);
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
    close_idle(srv);
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
    "       [--grace-ms MS]";

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
    if (srv.root_fd >= 0)
        close(srv.root_fd);
    return rc;
}
