/*
 * eyeballs.c -- CO_OPEN_CONNECTION: Happy Eyeballs on loopback, in fake
 * time.  One port P on several loopback addresses: a listener that accepts
 * (127.0.0.1, ::1), listeners whose backlog is full so that a SYN is never
 * answered (127.0.0.2, 127.0.0.6: a blackhole), and addresses where nothing
 * listens (127.0.0.4, .5: refused).  The names come from the test's hosts
 * file, answered on the loop so that fake time stays exact (one test goes
 * through the worker pool).
 */
#include "hosts.h"
#include "testloop.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static struct {
    int port;
    int fds[8];
    int nfds;
    bool v6;
} he;

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    cr_assert_not_null(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void keep(int fd) { he.fds[he.nfds++] = fd; }

static int listen_at(const char *ip, int port, int backlog)
{
    co_addr a;
    int fd;
    cr_assert_eq(co_addr_ip(&a, ip, port), 0);
    fd = co_listen(&a, backlog, 0);
    cr_assert(fd >= 0, "listen on %s:%d: %s", ip, port, co_strerror(fd));
    cr_assert_eq(co_sockname(fd, &a), 0);
    keep(fd);
    return co_addr_port(&a);
}

/* A listener whose only backlog slot a blocking connect fills: further
 * SYNs are dropped, so a connect to it never ends. */
static void blackhole_at(const char *ip, int port)
{
    co_addr a;
    int c;
    listen_at(ip, port, 0);
    cr_assert_eq(co_addr_ip(&a, ip, port), 0);
    c = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(c >= 0);
    cr_assert_eq(connect(c, &a.u.sa, a.len), 0, "filling the backlog: %s", strerror(errno));
    keep(c);
}

static void init(void)
{
    char hosts[512];
    const char *six;
    rt_reset();
    memset(&he, 0, sizeof he);
    he.port = listen_at("127.0.0.1", 0, 64);
    blackhole_at("127.0.0.2", he.port);
    blackhole_at("127.0.0.6", he.port);
    {
        co_addr a;
        int fd;
        co_addr_ip(&a, "::1", he.port);
        fd = co_listen(&a, 64, 0);
        he.v6 = fd >= 0;
        if (he.v6)
            keep(fd);
    }
    six = he.v6 ? "::1" : "127.0.0.1";
    snprintf(hosts, sizeof hosts,
             "127.0.0.1 good.test\n"
             "127.0.0.2 stagger.test\n127.0.0.1 stagger.test\n"
             "127.0.0.4 refused-first.test\n127.0.0.1 refused-first.test\n"
             "127.0.0.4 refused.test\n127.0.0.5 refused.test\n"
             "127.0.0.2 blackhole.test\n"
             "127.0.0.2 mixed.test\n127.0.0.6 mixed.test\n%s mixed.test\n",
             six);
    hosts_write(hosts);
    hosts_use(true);
}

static void fini(void)
{
    for (int i = 0; i < he.nfds; i++)
        close(he.fds[i]);
    hosts_done();
}

TestSuite(eyeballs, .init = init, .fini = fini, .timeout = 30);

typedef struct dialer {
    co_gen gen;
    const char *host;
    int64_t timeout_ms, took_ms;
    co_dial dial;
    bool finished;
} dialer;

static int dialer_fn(co_gen *g)
{
    dialer *self = (dialer *)g;
    CO_BEGIN(self);
    self->took_ms = rt_ms(co_running_loop());
    CO_OPEN_CONNECTION(self, dial, self->host, he.port, self->timeout_ms);
    self->took_ms = rt_ms(co_running_loop()) - self->took_ms;
    self->finished = true;
    CO_END(self);
}

typedef struct outcome {
    int result, attempts;
    int64_t ms;
    co_addr peer;
} outcome;

/* Dials host in a fresh loop; checks that only the winner's socket is left
 * open after the loop has run everything out. */
static outcome dial(const char *host, int64_t timeout_ms)
{
    int before = open_fds();
    co_loop *loop = rt_loop();
    dialer *d = CO_NEW(loop, dialer, dialer_fn);
    outcome o;
    cr_assert_not_null(d);
    d->host = host;
    d->timeout_ms = timeout_ms;
    cr_assert_eq(co_run(loop, &d->gen), 0);
    cr_assert(d->finished);
    o.result = d->dial.result;
    o.attempts = d->dial.attempts;
    o.ms = d->took_ms;
    o.peer = d->dial.peer;
    rt_free_loop(loop);
    cr_assert_eq(open_fds(), before + (o.result >= 0), "every losing attempt closed");
    if (o.result >= 0)
        close(o.result);
    return o;
}

static void assert_peer(const co_addr *a, const char *text)
{
    char buf[INET6_ADDRSTRLEN];
    const void *bin = a->u.sa.sa_family == AF_INET ? (const void *)&a->u.in4.sin_addr
                                                   : (const void *)&a->u.in6.sin6_addr;
    cr_assert_not_null(inet_ntop(a->u.sa.sa_family, bin, buf, sizeof buf));
    cr_assert_str_eq(buf, text);
    cr_assert_eq(co_addr_port(a), he.port);
}

Test(eyeballs, one_good_address_connects_at_once)
{
    outcome o = dial("good.test", 5000);
    cr_assert_geq(o.result, 0, "%s", co_strerror(o.result));
    cr_assert_eq(o.attempts, 1);
    cr_assert_eq(o.ms, 0);
    assert_peer(&o.peer, "127.0.0.1");
}

Test(eyeballs, a_blackhole_is_overtaken_after_250ms)
{
    outcome o = dial("stagger.test", 5000);
    cr_assert_geq(o.result, 0, "%s", co_strerror(o.result));
    cr_assert_eq(o.attempts, 2);
    cr_assert_eq(o.ms, CO_DIAL_STAGGER_MS);
    assert_peer(&o.peer, "127.0.0.1");
}

Test(eyeballs, a_refusal_starts_the_next_attempt_at_once)
{
    outcome o = dial("refused-first.test", 5000);
    cr_assert_geq(o.result, 0, "%s", co_strerror(o.result));
    cr_assert_eq(o.attempts, 2);
    cr_assert_eq(o.ms, 0);
}

Test(eyeballs, all_refused_reports_the_refusal)
{
    outcome o = dial("refused.test", 5000);
    cr_assert_eq(o.result, -ECONNREFUSED, "%s", co_strerror(o.result));
    cr_assert_eq(o.attempts, 2);
    cr_assert_eq(o.ms, 0);
}

Test(eyeballs, the_overall_timeout)
{
    outcome o = dial("blackhole.test", 1000);
    cr_assert_eq(o.result, CO_ETIMEOUT, "%s", co_strerror(o.result));
    cr_assert_eq(o.ms, 1000);
}

Test(eyeballs, families_are_interleaved)
{
    outcome o;
    if (!he.v6)
        cr_skip_test("::1 cannot be bound here");
    /* v4 blackhole, v4 blackhole, v6 good: the second attempt is the v6 one */
    o = dial("mixed.test", 5000);
    cr_assert_geq(o.result, 0, "%s", co_strerror(o.result));
    cr_assert_eq(o.attempts, 2);
    cr_assert_eq(o.ms, CO_DIAL_STAGGER_MS);
    assert_peer(&o.peer, "::1");
}

Test(eyeballs, unknown_names_and_lookup_errors)
{
    outcome o = dial("nowhere.test", 5000);
    cr_assert_eq(o.result, CO_EAI_NONAME);
    cr_assert_eq(o.attempts, 0);
}

typedef struct starved {
    co_gen gen;
    co_dial dial;
} starved;

static int starved_fn(co_gen *g)
{
    starved *self = (starved *)g;
    CO_BEGIN(self);
    rt.failing = true;
    CO_OPEN_CONNECTION(self, dial, "good.test", he.port, 1000);
    rt.failing = false;
    CO_END(self);
}

Test(eyeballs, out_of_memory_is_a_clear_result)
{
    co_loop *loop = rt_loop();
    starved *s = CO_NEW(loop, starved, starved_fn);
    cr_assert_not_null(s);
    cr_assert_eq(co_run(loop, &s->gen), 0);
    cr_assert_eq(s->dial.result, CO_ENOMEM);
    rt_free_loop(loop);
}

Test(eyeballs, through_the_worker_pool)
{
    outcome o;
    hosts_use(false);
    o = dial("stagger.test", -1); /* no deadline while the worker resolves */
    cr_assert_geq(o.result, 0, "%s", co_strerror(o.result));
    cr_assert_eq(o.ms, CO_DIAL_STAGGER_MS);
    assert_peer(&o.peer, "127.0.0.1");
}

typedef struct canceller {
    co_gen gen;
    dialer *d;
    int64_t at;
} canceller;

static int canceller_fn(co_gen *g)
{
    canceller *self = (canceller *)g;
    CO_BEGIN(self);
    rt_spawn(&self->d->gen);
    CO_SLEEP(self, 100);
    co_cancel(&self->d->gen);
    CO_AWAIT_TASK_CATCH(self, &self->d->gen);
    self->at = rt_ms(co_running_loop());
    CO_END(self);
}

Test(eyeballs, cancelled_mid_race_closes_every_attempt)
{
    int before = open_fds();
    co_loop *loop = rt_loop();
    canceller *c = CO_NEW(loop, canceller, canceller_fn);
    dialer *d = CO_NEW(loop, dialer, dialer_fn);
    cr_assert(c && d);
    d->host = "mixed.test";
    d->timeout_ms = -1;
    c->d = d;
    cr_assert_eq(co_run(loop, &c->gen), 0);
    cr_assert_eq(co_task_result(&d->gen), CO_ECANCELLED);
    cr_assert_not(d->finished);
    cr_assert_eq(c->at, 100);
    rt_free_loop(loop);
    cr_assert_eq(open_fds(), before);
}
