/*
 * http_server_conn.c -- a connection of the HTTP server sample: one task
 * that reads requests and sends their answers until either side closes,
 * each I/O step (wait for a request, read its head, drop its body, send)
 * a child coroutine under its own deadline; then a lingering close.  For
 * HTTPS the fd is put under a TLS stream first and the handshake is one
 * more step; plain HTTP reads and sends on the bare fd.  Also the task's
 * start for an accepted fd, and closing the idle ones for a graceful stop.
 * What a request is answered with is http_server_routes.c's.
 */
#define _POSIX_C_SOURCE 200809L /* inet_ntop */

#include "http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL /* where it is missing, corio's SO_NOSIGPIPE does its work */
#define MSG_NOSIGNAL 0
#endif

void conn_drop(conn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* ----------------------------------------------------- request blocks */

#define SPARES_MAX 16 /* blocks kept for the next requests: one busy loop
                         reuses one, and a burst does not go to malloc */

/* A request block for c (fresh for the next request): true, or false
 * when there is no memory for one. */
static bool conn_take(conn *c)
{
    server *srv = c->srv;
    request *rq = c->rq;
    if (rq == NULL) {
        if ((rq = srv->spare) != NULL) {
            srv->spare = rq->next_spare;
            srv->nspare--;
        } else if ((rq = malloc(sizeof *rq + c->cap)) == NULL) {
            return false;
        }
        rq->open.fd = -1;
        rq->open.dir_fd = srv->root_fd;
        rq->chunk = NULL;
        c->rq = rq;
        c->buf = rq->buf;
    }
    return true;
}

/* Gives c's block back: c has answered and holds no byte of a request. */
static void conn_give_back(conn *c)
{
    server *srv = c->srv;
    request *rq = c->rq;
    if (rq == NULL)
        return;
    free(rq->chunk);
    c->rq = NULL;
    c->buf = NULL;
    c->len = 0;
    if (srv->nspare < SPARES_MAX) {
        rq->next_spare = srv->spare;
        srv->spare = rq;
        srv->nspare++;
    } else {
        free(rq);
    }
}

void server_free_spares(server *srv)
{
    while (srv->spare) {
        request *rq = srv->spare;
        srv->spare = rq->next_spare;
        free(rq);
    }
    srv->nspare = 0;
}

/* ------------------------------------------------------------- steps */

/* How much of a buffer of `len` bytes a body with `left` to go takes. */
static size_t body_part(size_t len, int64_t left)
{
    return (int64_t)len < left ? len : (size_t)left;
}

/* STEP_CHUNKED: decodes what the buffer holds, dropping the data. */
static bool chunked_done(step *s)
{
    conn *c = s->c;
    request *rq = c->rq;
    int64_t max = c->srv->opt.max_body;
    size_t used, data;
    int rc = http_chunked_decode(&rq->chunked, c->buf, c->len, &used, &data);
    conn_drop(c, used);
    rq->body_seen += (int64_t)data;
    /* a chunk announced too large is refused before it arrives */
    if (rc != HTTP_ERROR && rq->body_seen <= max &&
        rq->chunked.left <= (uint64_t)(max - rq->body_seen))
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
        return http_parse(&c->rq->parser, c->buf, c->len) != HTTP_MORE;
    case STEP_BODY:
        n = body_part(c->len, c->rq->body_left);
        conn_drop(c, n);
        c->rq->body_left -= (int64_t)n;
        return c->rq->body_left == 0;
    case STEP_CHUNKED:
        return chunked_done(s);
    default: /* STEP_LINGER: what it reads is dropped (see sink) */
        c->len = 0;
        return s->budget <= 0;
    }
}

/* What a lingering close reads goes here, and is dropped: every
 * connection can share it, since none keeps what it read there. */
static char sink[16 * 1024];

/* Where a step's next read goes, and how much room it has there. */
static char *read_to(const step *s)
{
    return s->op == STEP_LINGER ? sink : s->c->buf + s->c->len;
}

static size_t room_at(const step *s)
{
    return s->op == STEP_LINGER ? sizeof sink : s->c->cap - s->c->len;
}

/* A step: reads until step_done says it is over, sends, or shakes hands.
 * Plain HTTP reads and sends on the fd itself; HTTPS goes through the TLS
 * stream, whose reads are copied into the connection's buffer and whose
 * drain waits until everything written has gone (high water 1, low 0).
 * Plain HTTP waits for a request's first byte before it takes the
 * request's block, so that an idle connection holds none. */
static int step_fn(co_gen *g)
{
    step *self = (step *)g;
    conn *c = self->c;
    CO_BEGIN(self);
    if (self->op == STEP_HANDSHAKE) {
        CO_TLS_HANDSHAKE(self, stream);
        self->result = (int)self->stream->result;
        CO_RETURN_VOID(self);
    }
    if (self->op == STEP_SEND) {
        if (self->stream == NULL) {
            CO_SEND_ALL(self, &self->io, c->fd, self->out, self->out_len);
            self->result = self->io.result < 0 ? (int)self->io.result : 0;
        } else if ((self->result = co_stream_write(self->stream, self->out, self->out_len)) == 0) {
            CO_DRAIN(self, stream);
            self->result = self->stream->wresult;
        }
        CO_RETURN_VOID(self);
    }
    if (self->op == STEP_WAIT && self->stream == NULL) {
        CO_WAIT_READABLE(self, c->fd);
        if (!conn_take(c)) {
            self->result = CO_ENOMEM;
            CO_RETURN_VOID(self);
        }
    }
    while (!step_done(self)) {
        if (self->stream == NULL) {
            CO_RECV(self, &self->io, c->fd, read_to(self), room_at(self));
            self->got = self->io.result;
        } else {
            CO_READ(self, stream, room_at(self));
            self->got = self->stream->result;
            if (self->got > 0)
                memcpy(read_to(self), self->stream->data, (size_t)self->got);
        }
        if (self->got <= 0) {
            self->result = self->got == 0 ? PEER_CLOSED : (int)self->got;
            break;
        }
        if (self->op == STEP_LINGER)
            self->budget -= self->got;
        else
            c->len += (size_t)self->got;
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
    c->t.step.stream = c->secure || op == STEP_HANDSHAKE ? c->stream : NULL;
    c->t.step.result = 0;
    c->t.step.budget = LINGER_BYTES;
}

static void prepare_send(conn *c, const char *out, size_t len)
{
    prepare(c, STEP_SEND, c->srv->opt.send_timeout_ms);
    c->t.step.out = out;
    c->t.step.out_len = len;
}

/* What the socket takes of out[0..len) now, without waiting. */
static size_t try_send(int fd, const char *out, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(fd, out + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* would block, or failed: the send step sees it again */
        done += (size_t)n;
    }
    return done;
}

/* Sends out[0..len).  Plain HTTP tries at once, as libuv's uv_try_write
 * does: what the socket takes whole needs no step and no deadline.  True
 * when a send step for the rest is prepared in c->t (RUN_STEP runs it);
 * false when all is sent (step_outcome is 0). */
static bool send_rest(conn *c, const char *out, size_t len)
{
    size_t done = c->secure ? 0 : try_send(c->fd, out, len);
    if (done == len) {
        c->thrown = 0;
        c->t.step.result = 0;
        return false;
    }
    prepare_send(c, out + done, len - done);
    return true;
}

/* The step's outcome: 0, or why the connection cannot go on. */
static int step_outcome(conn *c) { return c->thrown ? c->thrown : c->t.step.result; }

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

/* HTTPS: the TLS stream over the connection's fd, ready for the handshake;
 * false (nothing to serve) when it cannot be had. */
static bool tls_begin(conn *c)
{
    co_stream_options opt = {0};
    opt.high_water = 1; /* a send step drains all it wrote: low water 0 */
    if (co_stream_open(co_running_loop(), c->fd, &opt, &c->stream) < 0)
        return false;
    return co_stream_start_tls(c->stream, c->srv->tls, NULL) == 0;
}

/* A handshake that failed: logged, and when the client spoke plain HTTP to
 * the HTTPS port, a 400 saying so made ready in c->head (true), sent in the
 * clear as the client expects. */
static bool tls_refused(conn *c)
{
    static const char text[] = "400 Bad Request: this port speaks HTTPS; use https://\n";
    request *rq = c->rq;
    int rc = step_outcome(c);
    const char *reason = c->thrown ? "" : co_tls_reason(c->stream);
    size_t n;
    if (c->srv->opt.log) {
        char peer[64];
        conn_peer(c, peer, sizeof peer);
        printf("%s TLS handshake failed: %s%s%s\n", peer, co_strerror(rc), *reason ? ": " : "",
               reason);
        fflush(stdout);
    }
    /* OpenSSL's SSL_R_HTTP_REQUEST: "GET ", "POST"... where a ClientHello goes */
    if (rc != CO_ETLSPROTO || strstr(reason, "http request") == NULL)
        return false;
    n = http_response_head(rq->out, sizeof rq->out, 400, "text/plain; charset=utf-8",
                           (int64_t)sizeof text - 1, HTTP_CLOSE, NULL);
    if (n == 0 || n + sizeof text > sizeof rq->out)
        return false;
    memcpy(rq->out + n, text, sizeof text - 1);
    rq->out_len = n + sizeof text - 1;
    return true;
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

/* A request starts: nothing known of it yet. */
static void request_begin(conn *c)
{
    request *rq = c->rq;
    http_request_parser_init(&rq->parser, &c->srv->limits);
    rq->body_left = 0;
    rq->method = HTTP_METHOD_GET;
    rq->minor = 1;
    rq->status = 0;
    rq->keep_alive = true;
    rq->line[0] = '-';
    rq->line[1] = '\0';
}

/* The head is in (or its wait timed out): its status or route. */
static void request_read(conn *c)
{
    request *rq = c->rq;
    if (c->thrown == CO_ETIMEOUT)
        rq->status = 408;
    else if (http_parse(&rq->parser, c->buf, c->len) == HTTP_ERROR)
        rq->status = rq->parser.error;
    else
        take_request(c);
}

/* The body was dropped, or not: false when the connection cannot go on,
 * else what that makes of the status. */
static bool body_read(conn *c)
{
    request *rq = c->rq;
    if (c->thrown == CO_ETIMEOUT)
        rq->status = 408;
    else if (c->t.step.result == BODY_BAD)
        rq->status = 400;
    else if (c->t.step.result == BODY_LARGE)
        rq->status = 413;
    else
        return step_outcome(c) == 0;
    return true;
}

/*
 * One connection: (for HTTPS, the handshake, then) requests, one after the
 * other, until either side closes it.  Each request goes through four
 * steps -- wait for it, read its head, drop its body, answer -- and each
 * I/O step that has to wait runs under its own deadline: a head that came
 * whole with its first bytes needs no head step, and an answer the socket
 * takes at once no send step.
 */
static int conn_fn(co_gen *g)
{
    conn *self = (conn *)g;
    server *srv = self->srv;
    CO_BEGIN(self);
    self->cap = srv->limits.max_head + 1; /* one byte over the limit: a 431 */

    /* 0. HTTPS: the handshake, within the header timeout; the stream
       buffers what it reads, so the request block is taken at once */
    if (srv->tls) {
        if (!conn_take(self) || !tls_begin(self))
            CO_RETURN_VOID(self);
        prepare(self, STEP_HANDSHAKE, srv->opt.header_timeout_ms);
        self->idle = true; /* no request yet: a stop closes it at once */
        RUN_STEP(self);
        self->idle = false;
        self->secure = step_outcome(self) == 0;
        if (!self->secure && tls_refused(self) && send_rest(self, self->rq->out, self->rq->out_len))
            RUN_STEP(self);
    }

    while (!srv->stopping && (self->secure || srv->tls == NULL)) {
        /* 1. the first bytes of a request: the one moment a connection
           is idle, and a shutdown may close it */
        if (self->len == 0) {
            if (!self->secure)
                conn_give_back(self); /* taken again on the first byte */
            prepare(self, STEP_WAIT, wait_ms(self));
            self->idle = true;
            RUN_STEP(self);
            self->idle = false;
            if (step_outcome(self) != 0)
                break; /* closed, reset, or silent too long: no one to answer */
        }

        /* 2. the head, within the header timeout of its first byte */
        request_begin(self);
        self->thrown = 0;
        if (http_parse(&self->rq->parser, self->buf, self->len) == HTTP_MORE) {
            prepare(self, STEP_HEAD, srv->opt.header_timeout_ms);
            RUN_STEP(self);
            if (self->thrown != CO_ETIMEOUT && step_outcome(self) != 0)
                break;
        }
        request_read(self);

        /* 3. its body, read and dropped, within the header timeout */
        if (self->rq->body_left != 0 && keeps_stream(self->rq->status)) {
            prepare(self, self->rq->body_left < 0 ? STEP_CHUNKED : STEP_BODY,
                    srv->opt.header_timeout_ms);
            RUN_STEP(self);
            if (!body_read(self))
                break;
        }
        self->rq->body_left = 0;

        /* 4. the answer: a file is opened beside the loop */
        if (self->rq->status == 0) {
            self->rq->open.path = self->rq->file;
            CO_TO_THREAD(self, &self->rq->job, open_regular, &self->rq->open);
            self->rq->status = self->rq->job.result == 0         ? 200
                               : self->rq->job.result == -EACCES ? 403
                                                                 : 404;
        }
        make_response(self);
        if (send_rest(self, self->rq->out, self->rq->out_len))
            RUN_STEP(self);
        if (step_outcome(self) != 0)
            break;
        self->rq->sent = (int64_t)self->rq->body_len;
        if (self->rq->body && send_rest(self, self->rq->body, self->rq->body_len))
            RUN_STEP(self);
        if (step_outcome(self) != 0)
            break;
        if (self->rq->open.fd >= 0) {
            /* a chunk at a time: read beside the loop, then sent */
            while (self->rq->method != HTTP_METHOD_HEAD && self->rq->sent < self->rq->open.size) {
                if (self->rq->chunk == NULL && (self->rq->chunk = malloc(FILE_CHUNK)) == NULL)
                    break;
                CO_FILE_PREAD(self, &self->rq->job, self->rq->open.fd, self->rq->chunk,
                              chunk_size(self->rq->open.size - self->rq->sent), self->rq->sent);
                if (self->rq->job.result <= 0)
                    break; /* the file shrank, or failed */
                if (send_rest(self, self->rq->chunk, (size_t)self->rq->job.result))
                    RUN_STEP(self);
                if (step_outcome(self) != 0)
                    break;
                self->rq->sent += self->rq->job.result;
            }
            CO_FILE_CLOSE(self, &self->rq->job, self->rq->open.fd);
            self->rq->open.fd = -1;
            if (self->rq->method != HTTP_METHOD_HEAD && self->rq->sent < self->rq->open.size)
                break; /* the Content-Length sent was not kept: the stream is lost */
        }
        log_request(self, self->rq->sent);
        self->served++;
        if (connection_of(self) == HTTP_CLOSE)
            break;
    }

    /* a lingering close: stop sending, then read what the client still
       sends until it closes, so that closing with bytes unread does not
       reset the connection and destroy the response on its way */
    if ((self->secure ? co_stream_write_eof(self->stream) : co_shutdown_write(self->fd)) == 0) {
        prepare(self, STEP_LINGER, linger_ms(self));
        RUN_STEP(self);
    }
    CO_FINALLY(self) {
        if (self->rq && self->rq->open.fd >= 0)
            close(self->rq->open.fd); /* cancelled in the middle of a file */
        if (self->stream)
            co_stream_abort(self->stream); /* and its fd */
        else
            co_fd_close(co_running_loop(), self->fd);
        conn_give_back(self);
        conn_unlink(self);
    }
    CO_END(self);
}

/* ------------------------------------------------------------ starting */

void format_peer(const co_addr *a, char *out, size_t cap)
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

void conn_peer(const conn *c, char *out, size_t cap)
{
    co_addr a;
    memset(&a, 0, sizeof a);
    a.len = sizeof a.u;
    if (getpeername(c->fd, &a.u.sa, &a.len) == 0)
        format_peer(&a, out, cap);
    else
        snprintf(out, cap, "-"); /* gone already */
}

/* A task for the accepted fd; false (the fd closed) when none can be had. */
bool conn_start(server *srv, int fd)
{
    co_loop *loop = co_running_loop();
    conn *c = CO_NEW(loop, conn, conn_fn);
    if (c == NULL) {
        co_fd_close(loop, fd);
        return false;
    }
    c->srv = srv;
    c->fd = fd;
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

/* Closes the idle connections: those waiting for a request to start. */
void conn_close_idle(server *srv)
{
    conn *c;
    for (c = srv->conns; c; c = c->next)
        if (c->idle)
            co_cancel(&c->gen);
}
