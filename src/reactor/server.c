/*
 * server.c -- asyncio.start_server's twin: a listening socket whose every
 * connection runs the user's coroutine with the connection's stream, with
 * a limit on connections served at once and a graceful close.
 *
 * The accept loop is a task in the server's own storage.  Each connection
 * is a small task of the server's that holds the user's frame at its end
 * and awaits it (delegation, as CO_AWAIT does), so that however the
 * handler ends -- returning, failing, cancelled -- the server is there to
 * close its stream and count it gone.  Connections over the limit are not
 * accepted: they wait in the listen backlog, as with asyncio's backlog.
 */
#include "stream_impl.h"

#include <errno.h>
#include <string.h>

typedef struct conn {
    co_gen gen;
    co_server *srv;
    int fd;
    co_stream *stream;
    struct conn *prev, *next; /* the server's running connections */
    max_align_t user[];       /* the handler's frame               */
} conn;

/* ------------------------------------------------------- a connection */

static void unlink_conn(co_server *srv, conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* await user(...) on a frame reached by pointer; its error is caught. */
#define AWAIT_FRAME(self, child, k)                                                        \
    do {                                                                                   \
        if (co__delegate(co__self, (child), false, true, CO__POINT_LC(k), __LINE__))       \
            return CO__DELEGATED;                                                          \
        goto CO__CAT(joined_, k);                                                          \
        CO__POINT_LABEL(k)                                                                 \
        CO__CAT(joined_, k) :;                                                             \
    } while (0)

static void link_conn(co_server *srv, conn *c)
{
    c->next = srv->conns;
    if (c->next)
        c->next->prev = c;
    srv->conns = c;
}

/* The stream is made here, in the connection's first step, not by the
 * acceptor: a task that never runs (cancelled at the loop's shutdown
 * before its first step) then owns no memory, only its fd. */
static int conn_fn(co_gen *g)
{
    conn *self = (conn *)g;
    CO_BEGIN(self);
    link_conn(self->srv, self);
    if (self->srv->dropping ||
        co_stream_open(self->srv->loop, self->fd, &self->srv->opt.stream, &self->stream) < 0)
        CO_RETURN_VOID(self); /* closing, or no memory: turn this client away */
    {
        co_gen *user = (co_gen *)(void *)self->user;
        co_init(user, self->srv->body);
        memcpy((char *)user + self->srv->stream_offset, &self->stream, sizeof self->stream);
    }
    AWAIT_FRAME(self, (co_gen *)(void *)self->user, 1);
    /* a handler's failure ends only its connection, as in asyncio */
    CO_FINALLY(self)
    {
        co_server *srv = self->srv;
        unlink_conn(srv, self);
        srv->active--;
        if (self->stream)
            co_stream_close(self->stream); /* what it wrote still goes out */
        else
            co_fd_close(srv->loop, self->fd);
        co_event_set(&srv->changed);
    }
    CO_END(self);
}

static void start_conn(co_server *srv, int fd)
{
    conn *c = co_task_new(srv->loop, sizeof *c + srv->frame_size, conn_fn);
    if (c == NULL) {
        co_fd_close(srv->loop, fd); /* no memory: turn this client away */
        return;
    }
    c->srv = srv;
    c->fd = fd;
    if (co_spawn(&c->gen) < 0) {
        co_release(&c->gen);
        co_fd_close(srv->loop, fd);
        return;
    }
    co_release(&c->gen); /* the loop frees it when it ends */
    srv->active++;
    srv->served++;
}

/* ------------------------------------------------------ the accept loop */

static bool retryable(ssize_t err)
{
    /* out of fds or memory: CO_ACCEPT has paused already */
    return err == -EMFILE || err == -ENFILE || err == -ENOBUFS || err == -ENOMEM;
}

static int acceptor_fn(co_gen *g)
{
    co__server_acceptor *self = (co__server_acceptor *)g;
    CO_BEGIN(self);
    while (!self->srv->closing) {
        if (self->srv->opt.max_connections > 0 &&
            self->srv->active >= (size_t)self->srv->opt.max_connections) {
            co_event_clear(&self->srv->changed); /* a connection ending sets it */
            if (co__event_wait(&self->srv->changed) == 0)
                CO__SUSPEND_TASK(self, false);
            co__stream_took_wakeup(self->srv->loop);
            continue;
        }
        CO_ACCEPT(self, &self->io, self->srv->lfd, NULL);
        if (self->io.result >= 0)
            start_conn(self->srv, (int)self->io.result);
        else if (!self->srv->closing && !retryable(self->io.result)) {
            self->srv->error = (int)self->io.result;
            break;
        }
    }
    CO_FINALLY(self)
    {
        co_server *srv = self->srv;
        if (srv->lfd >= 0)
            co_fd_close(srv->loop, srv->lfd);
        srv->lfd = -1;
        co_event_set(&srv->changed);
    }
    CO_END(self);
}

/* ------------------------------------------------------------- the API */

int co_server_start(co_server *srv, co_loop *loop, const co_addr *addr, co_body body,
                    size_t frame_size, size_t stream_offset, const co_server_options *opt)
{
    co_addr bound;
    int rc;
    if (srv == NULL || loop == NULL || addr == NULL || body == NULL ||
        frame_size < sizeof(co_gen) || stream_offset + sizeof(co_stream *) > frame_size ||
        sizeof(conn) + frame_size > INT16_MAX) /* a delegation spans < 32 KiB */
        return CO_EBADARG;
    memset(srv, 0, sizeof *srv);
    srv->loop = loop;
    srv->body = body;
    srv->frame_size = frame_size;
    srv->stream_offset = stream_offset;
    if (opt)
        srv->opt = *opt;
    co_event_init(&srv->changed);
    srv->lfd = co_listen(addr, srv->opt.backlog > 0 ? srv->opt.backlog : -1,
                         srv->opt.listen_flags);
    if (srv->lfd < 0)
        return srv->lfd;
    if (co_sockname(srv->lfd, &bound) == 0 && co_addr_port(&bound) > 0)
        srv->port = co_addr_port(&bound);
    CO_INIT(&srv->acceptor.frame, acceptor_fn);
    srv->acceptor.frame.srv = srv;
    rc = co_task_init(loop, &srv->acceptor.task, &srv->acceptor.frame.gen);
    if (rc == 0)
        rc = co_spawn(&srv->acceptor.frame.gen);
    if (rc < 0) {
        co_fd_close(loop, srv->lfd);
        srv->lfd = -1;
        return rc;
    }
    return 0;
}

void co_server_close(co_server *srv)
{
    if (srv == NULL || srv->closing)
        return;
    srv->closing = true;
    /* the listener closes now; an accept waiting on it wakes with -EBADF */
    if (srv->lfd >= 0)
        co_fd_close(srv->loop, srv->lfd);
    srv->lfd = -1;
    /* and one waiting for a free slot wakes up; neither is cancelled, since
     * a task cancelled before its first step would never run its cleanup */
    co_event_set(&srv->changed);
}

void co_server_close_clients(co_server *srv)
{
    if (srv == NULL)
        return;
    srv->dropping = true; /* those not started yet see it in their first step */
    for (conn *c = srv->conns; c; c = c->next)
        co_cancel(&c->gen);
}

int co__server_wait(co_server *srv)
{
    co_loop *loop = co__loop();
    if (srv == NULL)
        return CO_EBADARG;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    co__stream_took_wakeup(loop);
    for (;;) {
        int rc;
        if (co_done(&srv->acceptor.frame.gen) && srv->active == 0)
            return 1;
        co_event_clear(&srv->changed);
        if ((rc = co__event_wait(&srv->changed)) <= 0)
            return rc;
    }
}
