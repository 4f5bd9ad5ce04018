/*
 * loop.c -- making a reactor loop: choosing the backend by option or by
 * $CORIO_BACKEND, refusing unknown names, running out of memory at each
 * allocation without leaking memory or fds; and two properties that only the
 * real clock shows: a sleep never ends early, and a ready fd nobody waits for
 * does not keep the loop spinning.
 */
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void init(void) { rt_reset(); }

TestSuite(reactor_loop, .init = init, .timeout = 20);

static const char *const known_backends[] = {"epoll", "kqueue", "poll"};

/* The backends this build has, as the suite's meson.build lists them. */
static bool built_with(const char *name)
{
    const char *all = getenv("RX_ALL_BACKENDS");
    size_t len = strlen(name);
    cr_assert_not_null(all, "RX_ALL_BACKENDS is not set: run the suite through meson");
    for (const char *p = all; (p = strstr(p, name)) != NULL; p += len)
        if ((p == all || p[-1] == ' ') && (p[len] == '\0' || p[len] == ' '))
            return true;
    return false;
}

/* ------------------------------------------------------------ backend */

/* A tiny run on the loop: a reader of a pipe that holds one byte. */
typedef struct one_read {
    co_gen gen;
    int fd;
} one_read;

static int one_read_fn(co_gen *g)
{
    one_read *self = (one_read *)g;
    char c;
    CO_BEGIN(self);
    CO_WAIT_READABLE(self, self->fd);
    if (read(self->fd, &c, 1) != 1)
        CO_RAISE(self, CO_EBADARG);
    CO_END(self);
}

static int read_one_byte(co_loop *loop)
{
    int p[2], rc;
    one_read *m = CO_NEW(loop, one_read, one_read_fn);
    cr_assert_not_null(m);
    rx_pipe(p);
    cr_assert_eq(write(p[1], "b", 1), 1);
    m->fd = p[0];
    rc = rx_run(loop, &m->gen);
    co_fd_close(loop, p[0]);
    close(p[1]);
    return rc;
}

Test(reactor_loop, each_backend_of_the_build_can_be_chosen_by_name)
{
    for (size_t i = 0; i < sizeof known_backends / sizeof known_backends[0]; i++) {
        co_loop_options opt = rt_options();
        co_loop *loop = NULL;
        int rc;
        opt.backend = known_backends[i];
        rc = co_loop_new(&loop, &opt);
        if (!built_with(opt.backend)) {
            cr_assert_eq(rc, CO_EBADARG, "%s is not in this build", opt.backend);
            continue;
        }
        cr_assert_eq(rc, 0, "%s: %s", opt.backend, co_strerror(rc));
        cr_assert_str_eq(co_loop_backend(loop), opt.backend);
        cr_assert_eq(read_one_byte(loop), 0, "%s cannot wait for a pipe", opt.backend);
        rt_free_loop(loop);
    }
}

Test(reactor_loop, the_option_overrides_the_environment)
{
    co_loop_options opt = rt_options();
    co_loop *loop;
    setenv("CORIO_BACKEND", "no-such-backend", 1);
    opt.backend = "poll";
    cr_assert_eq(co_loop_new(&loop, &opt), 0);
    cr_assert_str_eq(co_loop_backend(loop), "poll");
    rt_free_loop(loop);
}

Test(reactor_loop, the_environment_chooses_when_the_option_is_empty)
{
    co_loop_options opt = rt_options();
    co_loop *loop;
    setenv("CORIO_BACKEND", "poll", 1);
    opt.backend = "";
    cr_assert_eq(co_loop_new(&loop, &opt), 0);
    cr_assert_str_eq(co_loop_backend(loop), "poll");
    rt_free_loop(loop);
    cr_assert_eq(co_loop_new(&loop, NULL), 0);
    cr_assert_str_eq(co_loop_backend(loop), "poll");
    rt_free_loop(loop);
}

Test(reactor_loop, an_unknown_backend_is_ebadarg_and_allocates_nothing)
{
    co_loop_options opt = rt_options();
    co_loop *loop = (co_loop *)&opt; /* must come back NULL */
    int next_fd = rx_next_fd();
    opt.backend = "select";
    cr_assert_eq(co_loop_new(&loop, &opt), CO_EBADARG);
    cr_assert_null(loop);
    cr_assert_eq(rt.alloc_calls, 0);
    cr_assert_eq(rx_next_fd(), next_fd, "an fd leaked");
    setenv("CORIO_BACKEND", "select", 1);
    cr_assert_eq(co_loop_new(&loop, NULL), CO_EBADARG);
    cr_assert_eq(co_loop_new(NULL, NULL), CO_EBADARG);
}

/* ------------------------------------------------------- out of memory */

/* Fails each allocation of co_loop_new in turn: each failure is CO_ENOMEM
 * and leaves no memory and no fd behind. */
Test(reactor_loop, co_loop_new_survives_failure_at_each_allocation)
{
    int next_fd = rx_next_fd();
    size_t n;
    for (n = 1;; n++) {
        co_loop_options opt = rt_options();
        co_loop *loop = NULL;
        int rc;
        rt_reset();
        rt.fail_at = n;
        rc = co_loop_new(&loop, &opt);
        if (rc == 0) {
            rt_free_loop(loop);
            break;
        }
        cr_assert_eq(rc, CO_ENOMEM, "allocation %zu: %s", n, co_strerror(rc));
        cr_assert_null(loop);
        cr_assert_eq(rt.live_bytes, 0, "allocation %zu failed: %zu bytes leaked", n, rt.live_bytes);
        cr_assert_eq(rx_next_fd(), next_fd, "allocation %zu failed: an fd leaked", n);
    }
    cr_assert_gt(n, 2, "co_loop_new allocated only %zu times", n - 1);
    cr_assert_eq(rx_next_fd(), next_fd);
}

/* A whole run (loop, task, fd table, backend arrays) with each allocation
 * failing in turn: an error or success, never a crash or a leak. */
typedef struct waits_pipes {
    co_gen gen;
    int fds[4];
    int i;
} waits_pipes;

static int waits_pipes_fn(co_gen *g)
{
    waits_pipes *self = (waits_pipes *)g;
    char c;
    CO_BEGIN(self);
    for (self->i = 0; self->i < 4; self->i += 2) {
        CO_WAIT_READABLE(self, self->fds[self->i]);
        if (read(self->fds[self->i], &c, 1) != 1)
            CO_RAISE(self, CO_EBADARG);
    }
    CO_END(self);
}

/* 0 when it ran; the first error otherwise.  The pipes' numbers are high,
 * so that the fd table and the poll map must grow. */
static int run_with_pipes(size_t fail_at)
{
    co_loop_options opt = rt_options();
    co_loop *loop = NULL;
    waits_pipes *m;
    int rc, p[2];
    rt_reset();
    rt.fail_at = fail_at;
    if ((rc = co_loop_new(&loop, &opt)) < 0)
        return rc;
    m = CO_NEW(loop, waits_pipes, waits_pipes_fn);
    if (m == NULL) {
        co_loop_free(loop);
        return CO_ENOMEM;
    }
    for (int i = 0; i < 4; i += 2) {
        rx_pipe(p);
        m->fds[i] = dup2(p[0], 200 + 100 * i);
        m->fds[i + 1] = dup2(p[1], 201 + 100 * i);
        close(p[0]);
        close(p[1]);
        cr_assert_eq(write(m->fds[i + 1], "m", 1), 1);
    }
    rc = co_run(loop, &m->gen);
    for (int i = 0; i < 4; i++)
        co_fd_close(loop, m->fds[i]);
    co_loop_free(loop);
    return rc;
}

Test(reactor_loop, a_run_survives_failure_at_each_allocation)
{
    size_t total;
    int next_fd = rx_next_fd();
    cr_assert_eq(run_with_pipes(0), 0);
    total = rt.alloc_calls;
    cr_assert_gt(total, 3);
    for (size_t n = 1; n <= total; n++) {
        int rc = run_with_pipes(n);
        cr_assert(rc == 0 || rc == CO_ENOMEM, "allocation %zu: %s", n, co_strerror(rc));
        cr_assert_eq(rt.live_bytes, 0, "allocation %zu failed: %zu bytes leaked", n, rt.live_bytes);
        cr_assert_eq(rx_next_fd(), next_fd, "allocation %zu failed: an fd leaked", n);
    }
}

/* ------------------------------------------------------ the real clock */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleeps of 3 ms and of 1.5 ms (not a whole number of the ms that epoll
 * and poll count in), timed by the task itself. */
typedef struct timed {
    co_gen gen;
    int64_t start, slept[2];
} timed;

static int timed_fn(co_gen *g)
{
    timed *self = (timed *)g;
    CO_BEGIN(self);
    self->start = mono_ns();
    CO_SLEEP(self, 3);
    self->slept[0] = mono_ns() - self->start;
    self->start = mono_ns();
    CO_SLEEP_NS(self, 1500000);
    self->slept[1] = mono_ns() - self->start;
    CO_END(self);
}

Test(reactor_loop, a_sleep_never_ends_early)
{
    co_loop *loop;
    timed *m;
    cr_assert_eq(co_loop_new(&loop, NULL), 0);
    m = CO_NEW(loop, timed, timed_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_assert_geq(m->slept[0], 3 * MS, "a 3 ms sleep took %lld ns", (long long)m->slept[0]);
    cr_assert_geq(m->slept[1], 1500000, "a 1.5 ms sleep took %lld ns", (long long)m->slept[1]);
    co_loop_free(loop);
}

/* A reader is woken and leaves without reading: the byte stays, nobody
 * waits for it, and the backend must stop reporting it.  Otherwise every
 * wait returns at once, and a 3 ms sleep takes thousands of turns. */
static long clock_reads;

static int64_t counting_clock(void *ctx)
{
    (void)ctx;
    clock_reads++;
    return mono_ns();
}

typedef struct leaves {
    co_gen gen;
    int fd;
} leaves;

static int leaves_fn(co_gen *g)
{
    leaves *self = (leaves *)g;
    CO_BEGIN(self);
    CO_WAIT_READABLE(self, self->fd);
    CO_END(self);
}

typedef struct idles {
    co_gen gen;
    leaves *reader;
    long turns;
} idles;

static int idles_fn(co_gen *g)
{
    idles *self = (idles *)g;
    CO_BEGIN(self);
    co_spawn(&self->reader->gen);
    for (self->turns = 0; !co_done(&self->reader->gen); self->turns++) {
        cr_assert_lt(self->turns, 10, "the reader of a ready pipe was never woken");
        CO_SLEEP(self, 0);
    }
    self->turns = clock_reads;
    CO_SLEEP(self, 3);
    self->turns = clock_reads - self->turns;
    CO_END(self);
}

Test(reactor_loop, a_ready_fd_nobody_waits_for_does_not_spin_the_loop)
{
    co_loop_options opt;
    co_loop *loop;
    idles *m;
    int p[2];
    memset(&opt, 0, sizeof opt);
    opt.hooks.clock = counting_clock;
    cr_assert_eq(co_loop_new(&loop, &opt), 0);
    rx_pipe(p);
    cr_assert_eq(write(p[1], "s", 1), 1);
    m = CO_NEW(loop, idles, idles_fn);
    m->reader = CO_NEW(loop, leaves, leaves_fn);
    m->reader->fd = p[0];
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_assert_leq(m->turns, 5, "the loop turned %ld times in a 3 ms sleep", m->turns);
    co_fd_close(loop, p[0]);
    close(p[1]);
    co_loop_free(loop);
}
