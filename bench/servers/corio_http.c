/*
 * corio_http.c -- the benchmark's HTTP hello server on corio: one task per
 * connection, answering every GET with "Hello, world!" and keep-alive.
 *
 *     corio_http PORT [--wait-first]
 *                            listens on 127.0.0.1:PORT (0: any free port)
 *
 * It prints "listening on PORT" once it accepts, then serves until killed.
 * It does what uv_http.c does, in the same way where the libraries allow
 * (hello.h): the bytes read go to one buffer shared by every connection of
 * the loop, as libuv's alloc callback hands out one static buffer.  A task
 * only needs the buffer from the end of its CO_RECV to its next suspension,
 * and no other task runs in between; what it must keep across a wait -- how
 * much of a request's blank line it has seen, how many replies it still
 * owes -- lives in its frame.  So an idle keep-alive connection costs its
 * task (co_task + this frame) and its slot in the reactor's fd table, and
 * no buffer.
 *
 * CO_RECV tries the read first and waits only if nothing is there, as
 * asyncio's sock_recv does.  A keep-alive client sends its next request
 * only after the reply, so the read that follows a reply almost always
 * finds nothing: one recv() per request fails with EAGAIN.  --wait-first
 * does what libuv does after a short read: it waits for readiness before
 * reading again when the last read did not fill the buffer (the fd is
 * still in the epoll set, so that wait costs no system call).  The two
 * variants show what that extra recv() costs.
 */
#define _POSIX_C_SOURCE 200809L

#include <corio/corio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hello.h"

/* Read into by whichever task is running: see above. */
static char inbuf[65536];
static bool wait_first;

typedef struct {
    co_gen gen;
    int fd;
    unsigned char matched; /* of "\r\n\r\n", at the end of what was read */
    bool drained;          /* the last read did not fill the buffer */
    unsigned owed;         /* replies not yet written */
    unsigned batch;        /* those being written now */
    co_io io;
} conn;

static int conn_fn(co_gen *g)
{
    conn *self = (conn *)g;
    CO_BEGIN(self);
    for (;;) {
        if (wait_first && self->drained)
            CO_WAIT_READABLE(self, self->fd);
        CO_RECV(self, &self->io, self->fd, inbuf, sizeof inbuf);
        if (self->io.result <= 0)
            break;
        self->drained = (size_t)self->io.result < sizeof inbuf;
        self->owed = hello_count_requests(&self->matched, inbuf, (size_t)self->io.result);
        while (self->owed > 0) {
            self->batch = self->owed < HELLO_BATCH ? self->owed : HELLO_BATCH;
            CO_SEND_ALL(self, &self->io, self->fd, hello_replies,
                        (size_t)self->batch * HELLO_REPLY_LEN);
            if (self->io.result < 0)
                CO_RETURN_VOID(self);
            self->owed -= self->batch;
        }
    }
    CO_FINALLY(self) { co_fd_close(co_running_loop(), self->fd); }
    CO_END(self);
}

typedef struct {
    co_gen gen;
    int lfd;
    co_io io;
} acceptor;

static int acceptor_fn(co_gen *g)
{
    acceptor *self = (acceptor *)g;
    conn *c;
    CO_BEGIN(self);
    for (;;) {
        CO_ACCEPT(self, &self->io, self->lfd, NULL);
        if (self->io.result < 0)
            continue; /* out of fds: the accept has paused already */
        c = CO_NEW(co_running_loop(), conn, conn_fn);
        if (c == NULL) {
            co_fd_close(co_running_loop(), (int)self->io.result);
            continue;
        }
        c->fd = (int)self->io.result;
        co_spawn(&c->gen);
        co_release(&c->gen);
    }
    CO_END(self);
}

int main(int argc, char **argv)
{
    co_loop *loop;
    co_addr addr;
    acceptor *a;
    int rc;

    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--wait-first") != 0)) {
        fprintf(stderr, "usage: %s PORT [--wait-first]\n", argv[0]);
        return 2;
    }
    wait_first = argc == 3;
    hello_init();
    if ((rc = co_addr_ip(&addr, "127.0.0.1", atoi(argv[1]))) < 0 ||
        (rc = co_loop_new(&loop, NULL)) < 0) {
        fprintf(stderr, "%s: %s\n", argv[0], co_strerror(rc));
        return 1;
    }
    a = CO_NEW(loop, acceptor, acceptor_fn);
    if (a == NULL || (a->lfd = co_listen(&addr, -1, 0)) < 0 || co_sockname(a->lfd, &addr) < 0) {
        fprintf(stderr, "%s: cannot listen on port %s\n", argv[0], argv[1]);
        return 1;
    }
    printf("listening on %d\n", co_addr_port(&addr));
    fflush(stdout);
    rc = co_run(loop, &a->gen);
    co_loop_free(loop);
    if (rc < 0)
        fprintf(stderr, "%s: %s\n", argv[0], co_strerror(rc));
    return rc < 0;
}
