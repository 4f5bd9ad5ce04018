/*
 * corio_http.c -- the benchmark's HTTP hello server on corio: one task per
 * connection, answering every GET with "Hello, world!" and keep-alive.
 *
 *     corio_http PORT [--wait-first] [--loops N]
 *                            listens on 127.0.0.1:PORT (0: any free port)
 *
 * It prints "listening on PORT" once it accepts, then serves until killed.
 * With --loops N it runs N threads, each with a loop of its own and a
 * listening socket of its own on the same port (SO_REUSEPORT), among which
 * the kernel spreads the connections: how a corio server uses more than
 * one core (bench/servers.sh's reuseport section).
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
 * A keep-alive client sends its next request only after the reply, so the
 * read that follows a reply almost always finds nothing.  CO_RECV knows:
 * after a read that did not fill its buffer the fd is drained, and the
 * next CO_RECV waits for readiness before it reads, as libuv does (the fd
 * is still in the epoll set, so that wait costs no system call).
 * --wait-first does the same from the program, with CO_WAIT_READABLE
 * before each CO_RECV after a short read: it once showed what the recv()
 * that failed with EAGAIN cost, and now costs what corio does by itself.
 */
#define _POSIX_C_SOURCE 200809L

#include <corio/corio.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hello.h"

/* Read into by whichever task of the thread's loop is running: see above. */
static _Thread_local char inbuf[65536];
static bool wait_first;

#define LOOPS_MAX 64

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

/* One loop serving one listening socket, on the thread that runs it. */
static void *serve(void *arg)
{
    int lfd = (int)(intptr_t)arg, rc;
    co_loop *loop;
    acceptor *a;
    if ((rc = co_loop_new(&loop, NULL)) < 0) {
        fprintf(stderr, "corio_http: %s\n", co_strerror(rc));
        exit(1);
    }
    a = CO_NEW(loop, acceptor, acceptor_fn);
    if (a == NULL) {
        fprintf(stderr, "corio_http: %s\n", co_strerror(CO_ENOMEM));
        exit(1);
    }
    a->lfd = lfd;
    rc = co_run(loop, &a->gen);
    co_loop_free(loop);
    if (rc < 0) {
        fprintf(stderr, "corio_http: %s\n", co_strerror(rc));
        exit(1);
    }
    return NULL;
}

static void usage(const char *prog)
{
    fprintf(stderr, "usage: %s PORT [--wait-first] [--loops N]\n", prog);
    exit(2);
}

int main(int argc, char **argv)
{
    int lfds[LOOPS_MAX], loops = 1, port, rc;
    pthread_t threads[LOOPS_MAX];
    co_addr addr;

    if (argc < 2)
        usage(argv[0]);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--wait-first") == 0)
            wait_first = true;
        else if (strcmp(argv[i], "--loops") == 0 && i + 1 < argc)
            loops = atoi(argv[++i]);
        else
            usage(argv[0]);
    }
    if (loops < 1 || loops > LOOPS_MAX)
        usage(argv[0]);
    hello_init();
    /* the first socket picks the port (for PORT 0), the others share it */
    port = atoi(argv[1]);
    for (int i = 0; i < loops; i++) {
        if ((rc = co_addr_ip(&addr, "127.0.0.1", port)) < 0 ||
            (lfds[i] = co_listen(&addr, -1, loops > 1 ? CO_LISTEN_REUSEPORT : 0)) < 0 ||
            co_sockname(lfds[i], &addr) < 0) {
            fprintf(stderr, "%s: cannot listen on port %d\n", argv[0], port);
            return 1;
        }
        port = co_addr_port(&addr);
    }
    printf("listening on %d\n", port);
    fflush(stdout);
    for (int i = 1; i < loops; i++)
        if (pthread_create(&threads[i], NULL, serve, (void *)(intptr_t)lfds[i]) != 0) {
            fprintf(stderr, "%s: cannot start a thread\n", argv[0]);
            return 1;
        }
    serve((void *)(intptr_t)lfds[0]); /* runs until killed */
    return 0;
}
