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
#include <unistd.h>

void conn_drop(conn *c, size_t n)
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
    conn_drop(c, used);
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
        conn_drop(c, n);
        c->body_left -= (int64_t)n;
        return c->body_left == 0;
    case STEP_CHUNKED:
        return chunked_done(s);
    default: /* STEP_LINGER: what it read is dropped */
        c->len = 0;
        return s->budget <= 0;
    }
}

/* A step: reads until step_done says it is over, sends, or shakes hands.
 * Plain HTTP reads and sends on the fd itself; HTTPS goes through the TLS
 * stream, whose reads are copied into the connection's buffer and whose
 * drain waits until everything written has gone (high water 1, low 0). */
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
    while (!step_done(self)) {
        if (self->stream == NULL) {
            CO_RECV(self, &self->io, c->fd, c->buf + c->len, c->cap - c->len);
            self->got = self->io.result;
        } else {
            CO_READ(self, stream, c->cap - c->len);
            self->got = self->stream->result;
            if (self->got > 0)
                memcpy(c->buf + c->len, self->stream->data, (size_t)self->got);
        }
        if (self->got <= 0) {
            self->result = self->got == 0 ? PEER_CLOSED : (int)self->got;
            break;
        }
        c->len += (size_t)self->got;
        self->budget -= self->got;
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
    int rc = step_outcome(c);
    const char *reason = c->thrown ? "" : co_tls_reason(c->stream);
    size_t n;
    if (c->srv->opt.log) {
        printf("%s TLS handshake failed: %s%s%s\n", c->peer, co_strerror(rc),
               *reason ? ": " : "", reason);
        fflush(stdout);
    }
    /* OpenSSL's SSL_R_HTTP_REQUEST: "GET ", "POST"... where a ClientHello goes */
    if (rc != CO_ETLSPROTO || strstr(reason, "http request") == NULL)
        return false;
    n = http_response_head(c->head, sizeof c->head, 400, "text/plain; charset=utf-8",
                           (int64_t)sizeof text - 1, HTTP_CLOSE, NULL);
    if (n == 0 || n + sizeof text > sizeof c->head)
        return false;
    memcpy(c->head + n, text, sizeof text - 1);
    c->head_len = n + sizeof text - 1;
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

/*
 * One connection: (for HTTPS, the handshake, then) requests, one after the
 * other, until either side closes it.  Each request goes through four
 * steps -- wait for it, read its head, drop its body, answer -- and each
 * I/O step runs under its own deadline.
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

    /* 0. HTTPS: the handshake, within the header timeout */
    if (srv->tls) {
        if (!tls_begin(self))
            CO_RETURN_VOID(self);
        prepare(self, STEP_HANDSHAKE, srv->opt.header_timeout_ms);
        self->idle = true; /* no request yet: a stop closes it at once */
        RUN_STEP(self);
        self->idle = false;
        self->secure = step_outcome(self) == 0;
        if (!self->secure && tls_refused(self)) {
            prepare_send(self, self->head, self->head_len);
            RUN_STEP(self);
        }
    }

    while (!srv->stopping && (self->secure || srv->tls == NULL)) {
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
    if ((self->secure ? co_stream_write_eof(self->stream) : co_shutdown_write(self->fd)) == 0) {
        prepare(self, STEP_LINGER, linger_ms(self));
        RUN_STEP(self);
    }
    CO_FINALLY(self) {
        if (self->open.fd >= 0)
            close(self->open.fd); /* cancelled in the middle of a file */
        if (self->stream)
            co_stream_abort(self->stream); /* and its fd */
        else
            co_fd_close(co_running_loop(), self->fd);
        free(self->buf);
        free(self->chunk);
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

/* A task for the accepted fd; false (the fd closed) when none can be had. */
bool conn_start(server *srv, int fd, const co_addr *peer)
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

/* Closes the idle connections: those waiting for a request to start. */
void conn_close_idle(server *srv)
{
    conn *c;
    for (c = srv->conns; c; c = c->next)
        if (c->idle)
            co_cancel(&c->gen);
}
