/*
 * http_client_exchange.c -- one request of the HTTP client sample and its
 * response, on one connection: taken from the pool or opened (and, for
 * https://, put under TLS: the handshake, the server's certificate and
 * name verified), the request written, the head and the body read as they
 * come -- with a Content-Length, chunked, or until the server closes --
 * and the connection kept for the next request where it can be.  Every
 * connection is a corio stream, plain or TLS alike.
 */
#include "http_client.h"

#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- pool */

static bool same_place(const url *a, const url *b)
{
    return a->tls == b->tls && a->addr.len == b->addr.len &&
           memcmp(&a->addr.u, &b->addr.u, a->addr.len) == 0 &&
           (!a->tls || strcmp(a->name, b->name) == 0); /* verified for that name */
}

/* An idle connection to where u points, or NULL. */
static co_stream *pool_take(client *cl, const url *u)
{
    int i;
    for (i = cl->npool - 1; i >= 0; i--) {
        if (same_place(&cl->pool[i].to, u)) {
            co_stream *s = cl->pool[i].stream;
            cl->pool[i] = cl->pool[--cl->npool];
            return s;
        }
    }
    return NULL;
}

/* Keeps s for the next request to u; false when the pool is full. */
static bool pool_put(client *cl, const url *u, co_stream *s)
{
    if (cl->npool == cl->pool_cap)
        return false;
    cl->pool[cl->npool].to = *u;
    cl->pool[cl->npool].stream = s;
    cl->npool++;
    return true;
}

void pool_close_all(client *cl)
{
    while (cl->npool > 0)
        co_stream_abort(cl->pool[--cl->npool].stream);
}

/* ------------------------------------------------------------ response */

/* What the response head says of its body. */
static void body_mode(exchange *x)
{
    const http_message *m = &x->parser.msg;
    int s = m->status;
    x->body_left = 0;
    if (x->f->cl->head || s == 204 || s == 304 || (s >= 100 && s < 200)) {
        x->mode = BODY_NONE;
    } else if (m->chunked) {
        x->mode = BODY_CHUNKED;
        http_chunked_init(&x->chunked);
    } else if (m->content_length >= 0) {
        x->mode = BODY_LENGTH;
        x->body_left = m->content_length;
    } else {
        x->mode = BODY_UNTIL_CLOSE;
    }
}

static void consume(exchange *x, size_t n)
{
    x->len -= n;
    memmove(x->buf, x->buf + n, x->len);
}

/* Counts what buf holds of the body and drops it; true at the body's end
 * (or a bad chunk: x->error).  What follows the body stays in buf. */
static bool take_body(exchange *x)
{
    fetch *f = x->f;
    size_t n;
    if (x->mode == BODY_CHUNKED) {
        size_t data;
        int rc = http_chunked_decode(&x->chunked, x->buf, x->len, &n, &data);
        f->size += (int64_t)data;
        consume(x, n);
        if (rc == HTTP_ERROR)
            x->error = x->chunked.why;
        return rc != HTTP_MORE;
    }
    if (x->mode == BODY_UNTIL_CLOSE) {
        f->size += (int64_t)x->len;
        x->len = 0;
        return false;
    }
    n = (int64_t)x->len < x->body_left ? x->len : (size_t)x->body_left;
    f->size += (int64_t)n;
    x->body_left -= (int64_t)n;
    consume(x, n);
    return x->body_left == 0;
}

/* A response head is complete: skip interim 1xx ones. */
static bool final_head(exchange *x)
{
    const http_message *m = &x->parser.msg;
    if (m->status >= 200 || m->status == 101)
        return true;
    consume(x, m->head_len);
    http_response_parser_init(&x->parser, NULL);
    return false;
}


/* The error text for a failed handshake: the code's, then TLS's reason. */
static const char *tls_failure(exchange *x, int rc)
{
    const char *reason = co_tls_reason(x->stream);
    snprintf(x->why, sizeof x->why, "%s%s%s", co_strerror(rc), *reason ? ": " : "", reason);
    return x->why;
}

/* The connection's stream, plain or TLS, over the connected fd: 0 or a code. */
static int open_stream(exchange *x, int fd)
{
    const url *u = &x->f->u;
    int rc = co_stream_open(co_running_loop(), fd, NULL, &x->stream);
    if (rc < 0) {
        co_fd_close(co_running_loop(), fd);
        return rc;
    }
    return u->tls ? co_stream_start_tls(x->stream, x->f->cl->tls, u->name) : 0;
}

/* Reads once into the buffer: true with more bytes there, false at the end
 * or a failure (x->stream->result says which). */
static bool read_more(exchange *x)
{
    ssize_t n = x->stream->result;
    if (n <= 0)
        return false;
    memcpy(x->buf + x->len, x->stream->data, (size_t)n);
    x->len += (size_t)n;
    return true;
}

int exchange_fn(co_gen *g)
{
    exchange *self = (exchange *)g;
    fetch *f = self->f;
    client *cl = f->cl;
    int rc;
    CO_BEGIN(self);
    self->stream = pool_take(cl, &f->u);
    self->reused = self->stream != NULL;
    if (!self->reused) {
        CO_CONNECT(self, &self->io, &f->u.addr, -1); /* the timeout is around us */
        if (self->io.result < 0) {
            self->error = co_strerror((int)self->io.result);
            CO_RETURN_VOID(self);
        }
        cl->connections++;
        if ((rc = open_stream(self, (int)self->io.result)) < 0) {
            self->error = co_strerror(rc);
            CO_RETURN_VOID(self);
        }
        if (f->u.tls) {
            CO_TLS_HANDSHAKE(self, stream);
            if (self->stream->result < 0) {
                self->error = tls_failure(self, (int)self->stream->result);
                CO_RETURN_VOID(self);
            }
        }
    }
    if ((rc = co_stream_write(self->stream, self->request, self->request_len)) == 0) {
        CO_DRAIN(self, stream);
        rc = self->stream->wresult;
    }
    if (rc < 0) {
        self->retry = self->reused;
        self->error = co_strerror(rc);
        CO_RETURN_VOID(self);
    }

    /* the head, then the body: whatever each read brings */
    http_response_parser_init(&self->parser, NULL);
    for (;;) {
        if (!self->head_done) {
            rc = http_parse(&self->parser, self->buf, self->len);
            if (rc == HTTP_ERROR) {
                self->error = self->parser.why;
                break;
            }
            if (rc == HTTP_DONE && final_head(self)) {
                if (self->parser.msg.status == 101) {
                    self->error = "the server switched protocols";
                    break;
                }
                self->head_done = true;
                f->status = self->parser.msg.status;
                consume(self, self->parser.msg.head_len);
                body_mode(self);
            }
            if (rc == HTTP_DONE)
                continue;
        }
        if (self->head_done && (take_body(self) || self->error))
            break;
        CO_READ(self, stream, sizeof self->buf - self->len);
        if (read_more(self))
            continue;
        if (self->stream->result == 0 && self->head_done && self->mode == BODY_UNTIL_CLOSE)
            break; /* a body that ends with the connection */
        /* a kept-alive connection the server closed meanwhile: once more */
        self->retry = self->reused && self->len == 0 && !self->head_done;
        self->error = self->stream->result == 0 ? "the connection closed early"
                                                : co_strerror((int)self->stream->result);
        break;
    }
    if (self->error == NULL && cl->keep_alive && self->parser.msg.keep_alive &&
        self->mode != BODY_UNTIL_CLOSE && self->len == 0 && pool_put(cl, &f->u, self->stream))
        self->stream = NULL;
    CO_FINALLY(self) {
        if (self->stream) /* a TLS stream sends its close_notify first */
            co_stream_abort(self->stream);
    }
    CO_END(self);
}

int timed_exchange_fn(co_gen *g)
{
    timed_exchange *self = (timed_exchange *)g;
    CO_BEGIN(self);
    CO_WAIT_FOR(self, &self->deadline, x, self->ms);
    CO_END(self);
}
