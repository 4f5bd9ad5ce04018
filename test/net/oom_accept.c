/*
 * oom_accept.c -- an accept whose wait cannot be registered for want of
 * memory backs off like one out of fds, so that a server that accepts again
 * neither stops nor spins; the next accept works once memory is back.
 *
 * The allocation that fails is the reactor's first on the listener: the
 * fd table, grown when the listener is first waited on (a malloc failure
 * when the acceptor first registers once ended the echo server sample).
 */
#include "net.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

TestSuite(oom_accept, .init = net_reset, .timeout = 30);

typedef struct accepter {
    co_gen gen;
    int lfd;
    const co_addr *addr;
    co_io io;
    int client;
    int64_t first, first_ms, second;
} accepter;

static int accepter_fn(co_gen *g)
{
    accepter *self = (accepter *)g;
    CO_BEGIN(self);
    rt.fail_at = rt.alloc_calls + 1; /* the next allocation fails */
    CO_ACCEPT(self, &self->io, self->lfd, NULL);
    self->first = self->io.result;
    self->first_ms = net_ms();
    rt.fail_at = 0;
    /* a client queues up: the accept that retries gets it */
    self->client = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(self->client, 0);
    cr_assert_eq(connect(self->client, &self->addr->u.sa, self->addr->len), 0, "connect: %s",
                 strerror(errno));
    CO_ACCEPT(self, &self->io, self->lfd, NULL);
    self->second = self->io.result;
    CO_END(self);
}

Test(oom_accept, an_accept_that_cannot_watch_its_listener_backs_off_then_works)
{
    co_addr addr;
    int lfd = tcp_listener(8, &addr);
    accepter *a;
    net_loop();
    a = CO_NEW(net.loop, accepter, accepter_fn);
    a->lfd = lfd;
    a->addr = &addr;
    cr_assert_eq(co_run(net.loop, &a->gen), 0);
    cr_expect_eq(a->first, CO_ENOMEM, "the first accept: %s", co_strerror((int)a->first));
    cr_expect_eq(a->first_ms, CO_ACCEPT_BACKOFF_MS, "reported after %lld ms, not after the back-off",
                 (long long)a->first_ms);
    cr_expect_geq(a->second, 0, "the accept after it: %s", co_strerror((int)a->second));
    if (a->second >= 0)
        co_fd_close(net.loop, (int)a->second);
    close(a->client);
    co_fd_close(net.loop, lfd);
    rt_free_loop(net.loop);
}

Test(oom_accept, the_out_of_memory_text_blames_no_hook_that_may_not_exist)
{
    const char *text = co_strerror(CO_ENOMEM);
    cr_expect_not_null(strstr(text, "out of memory"), "%s", text);
    cr_expect_null(strstr(text, "hook)"), "\"%s\" blames a hook even when none is set", text);
}
