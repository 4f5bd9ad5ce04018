/*
 * memory.c -- what an idle keep-alive connection of the server sample
 * holds (suite `http_memory`).  The sample's connection code runs in this
 * process, on a loop of its own: connections over socket pairs, each
 * answering one GET and then waiting for the next, are opened in two
 * batches, and the bytes the process holds from malloc (glibc's own count,
 * mallinfo2: deterministic, unlike the RSS) are read after each.  The
 * difference over the second batch, per connection, must be at most
 * 1 KiB: the task and its frame, its share of the loop's fd table -- and no
 * request buffer, which a connection takes only when a request's first
 * byte is there.  Under a sanitizer or valgrind, whose allocators glibc
 * does not count, it skips, saying so.
 */
#include "http_server.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define HAVE_MALLINFO2 1
#endif
#ifdef HTTP_HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif
#ifdef __has_feature
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#endif

TestSuite(http_memory, .timeout = 60);

#define BATCH 128        /* connections a batch */
#define PER_CONN_MAX 1024 /* bytes an idle connection may hold */

static const char request_text[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
static const char reply_end[] = "\r\n\r\nHello, world!";

static server srv;

/* The server's state as http_server.c's main makes it, with no listener:
 * the connections are handed their fds here. */
static void server_init(void)
{
    memset(&srv, 0, sizeof srv);
    srv.opt.max_conns = 4 * BATCH;
    srv.opt.max_body = 1024 * 1024;
    srv.opt.header_timeout_ms = 60000;
    srv.opt.idle_timeout_ms = 60000;
    srv.opt.send_timeout_ms = 60000;
    srv.opt.grace_ms = 0;
    srv.limits.max_line = HTTP_MAX_LINE;
    srv.limits.max_head = HTTP_MAX_HEAD;
    srv.limits.max_fields = HTTP_MAX_FIELDS;
    srv.lfd = srv.root_fd = -1;
    co_sem_init(&srv.slots, 0, 0); /* conn_unlink gives back a slot no one took */
    co_event_init(&srv.signal);
    co_event_init(&srv.changed);
}

/* Opens batches of connections, a GET on each, reads each reply, and
 * notes the bytes held once they all idle. */
typedef struct opener {
    co_gen gen;
    int n, i, batch;
    co_io io;
    char reply[512];
    size_t got;
} opener;

static int clients[2 * BATCH];
static size_t held[2]; /* bytes held after each batch */

static size_t bytes_held(void)
{
#ifdef HAVE_MALLINFO2
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
#else
    return 0;
#endif
}

/* A connection to the sample: its end of the pair goes to conn_start. */
static int connect_one(void)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0,
                 "socketpair: %s", strerror(errno));
    cr_assert(conn_start(&srv, sv[1]));
    cr_assert_eq(send(sv[0], request_text, sizeof request_text - 1, 0),
                 (ssize_t)sizeof request_text - 1);
    return sv[0];
}

static bool reply_whole(const opener *o)
{
    size_t n = sizeof reply_end - 1;
    return o->got >= n && memcmp(o->reply + o->got - n, reply_end, n) == 0;
}

/* The connections waiting for their next request. */
static int idle_conns(void)
{
    int n = 0;
    for (const struct conn *c = srv.conns; c; c = c->next)
        n += c->idle && c->rq == NULL;
    return n;
}

static int opener_fn(co_gen *g)
{
    opener *self = (opener *)g;
    CO_BEGIN(self);
    for (self->batch = 0; self->batch < 2; self->batch++) {
        for (self->i = 0; self->i < BATCH; self->i++)
            clients[self->n + self->i] = connect_one();
        for (self->i = 0; self->i < BATCH; self->i++) {
            self->got = 0;
            while (!reply_whole(self)) {
                CO_RECV(self, &self->io, clients[self->n + self->i], self->reply + self->got,
                        sizeof self->reply - self->got);
                cr_assert_gt(self->io.result, 0, "no reply: %s",
                             co_strerror((int)self->io.result));
                self->got += (size_t)self->io.result;
            }
        }
        self->n += BATCH;
        CO_SLEEP(self, 0); /* every connection back in its wait */
        cr_assert_eq(idle_conns(), self->n);
        held[self->batch] = bytes_held();
    }
    CO_END(self);
}

Test(http_memory, an_idle_keep_alive_connection_holds_at_most_1_KiB)
{
    co_loop *loop;
    opener *o;
    int rc;
    long per_conn;
#ifndef HAVE_MALLINFO2
    cr_skip_test("needs glibc's mallinfo2 (glibc 2.33 or later) to count the bytes held");
#endif
#ifdef UNDER_SANITIZER
    cr_skip_test("under a sanitizer, whose allocator glibc's mallinfo2 does not count");
#endif
#ifdef HTTP_HAVE_VALGRIND_H
    if (RUNNING_ON_VALGRIND)
        cr_skip_test("under valgrind, whose allocator glibc's mallinfo2 does not count");
#endif
    server_init();
    cr_assert_eq(co_loop_new(&loop, NULL), 0);
    o = CO_NEW(loop, opener, opener_fn);
    cr_assert_not_null(o);
    rc = co_run(loop, &o->gen); /* its end cancels the idle connections */
    cr_assert_eq(rc, 0, "%s", co_strerror(rc));
    per_conn = ((long)held[1] - (long)held[0]) / BATCH;
    cr_log_info("an idle keep-alive connection holds %ld bytes (the task block %zu + %zu)",
                per_conn, sizeof(co_task), sizeof(struct conn));
    cr_assert_leq(per_conn, PER_CONN_MAX, "%ld bytes per idle connection", per_conn);
    cr_assert_eq(srv.nconns, 0, "%d connections left after co_run", srv.nconns);
    for (int i = 0; i < 2 * BATCH; i++)
        close(clients[i]);
    co_loop_free(loop);
    server_free_spares(&srv);
}
