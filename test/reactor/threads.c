/*
 * threads.c -- reaching a loop from outside its thread: calls from other
 * threads run in FIFO order on the loop's thread, coalesce into one turn,
 * and wake a loop blocked with no deadline at all; co_loop_wake and
 * threadsafe calls from signal handlers; one loop per thread, several
 * threads at once.
 *
 * These loops use the real clock and have no timers, so they block in the
 * backend without a limit: only the wake-up under test can end the wait.  A
 * lost wake-up hangs, and the Criterion timeout reports it.
 */
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NCALLS 100

/* ------------------------------------------------------------- shared */

static atomic_long turns; /* how often the loop read its clock: once a turn */
static pthread_t loop_thread;

static int64_t counting_clock(void *ctx)
{
    struct timespec ts;
    (void)ctx;
    atomic_fetch_add(&turns, 1);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static co_loop *real_loop(void)
{
    co_loop_options opt;
    co_loop *loop = NULL;
    int rc;
    memset(&opt, 0, sizeof opt);
    opt.hooks.clock = counting_clock;
    rc = co_loop_new(&loop, &opt);
    cr_assert_eq(rc, 0, "co_loop_new: %s", co_strerror(rc));
    loop_thread = pthread_self();
    return loop;
}

static void init(void)
{
    rt_reset();
    atomic_store(&turns, 0);
}

/* What the calls record: their order, their thread, their turn. */
static struct {
    co_loop *loop;
    co_call calls[NCALLS + 1];
    int order[NCALLS + 1];
    long turn[NCALLS + 1];
    int ran;
    bool off_thread;
    co_event done;
    atomic_bool pushed, rearmed;
} log_;

static void record(void *arg)
{
    int i = (int)(intptr_t)arg;
    if (!pthread_equal(pthread_self(), loop_thread))
        log_.off_thread = true;
    log_.order[log_.ran] = i;
    log_.turn[log_.ran] = atomic_load(&turns);
    log_.ran++;
}

static void set_done(void *arg)
{
    (void)arg;
    co_event_set(&log_.done);
}

/* Waits for log_.done, having started `thread_fn` in a thread. */
typedef struct waits_done {
    co_gen gen;
    void *(*thread_fn)(void *);
    pthread_t thread;
    bool busy_first; /* keep the loop busy until the thread has pushed */
} waits_done;

static int waits_done_fn(co_gen *g)
{
    waits_done *self = (waits_done *)g;
    CO_BEGIN(self);
    cr_assert_eq(pthread_create(&self->thread, NULL, self->thread_fn, NULL), 0);
    /* not a sleep: the loop's thread is held on purpose, not waiting */
    while (self->busy_first && !atomic_load(&log_.pushed))
        sched_yield();
    CO_EVENT_WAIT(self, &log_.done);
    CO_END(self);
}

static void run_with_thread(void *(*thread_fn)(void *), bool busy_first)
{
    co_loop *loop = real_loop();
    waits_done *m = CO_NEW(loop, waits_done, waits_done_fn);
    int rc;
    cr_assert_not_null(m);
    co_event_init(&log_.done);
    log_.loop = loop;
    m->thread_fn = thread_fn;
    m->busy_first = busy_first;
    rc = co_run(loop, &m->gen);
    cr_assert_eq(rc, 0, "co_run: %s", co_strerror(rc));
    cr_assert_eq(pthread_join(m->thread, NULL), 0);
    co_loop_free(loop);
}

/* ------------------------------------------------------ threadsafe calls */

static void *push_calls(void *arg)
{
    (void)arg;
    for (int i = 0; i < NCALLS; i++)
        co_call_soon_threadsafe(log_.loop, &log_.calls[i], record, (void *)(intptr_t)i);
    atomic_store(&log_.pushed, true);
    co_call_soon_threadsafe(log_.loop, &log_.calls[NCALLS], set_done, NULL);
    return NULL;
}

TestSuite(reactor_threads, .init = init, .timeout = 20);

Test(reactor_threads, calls_from_a_thread_run_in_order_on_the_loop_thread)
{
    run_with_thread(push_calls, false);
    cr_assert_eq(log_.ran, NCALLS);
    cr_assert_not(log_.off_thread, "a call ran outside the loop's thread");
    for (int i = 0; i < NCALLS; i++)
        cr_assert_eq(log_.order[i], i, "call %d ran in place %d", log_.order[i], i);
}

/* Pushed while the loop is busy, the calls are all found by one wake-up:
 * they run in a single turn. */
Test(reactor_threads, calls_pushed_while_the_loop_is_busy_run_in_one_turn)
{
    run_with_thread(push_calls, true);
    cr_assert_eq(log_.ran, NCALLS);
    for (int i = 1; i < NCALLS; i++)
        cr_assert_eq(log_.turn[i], log_.turn[0], "call %d ran in turn %ld, call 0 in %ld", i,
                     log_.turn[i], log_.turn[0]);
}

/* After a batch the wake-up is re-armed: a later call wakes the loop from
 * its unlimited wait again. */
static void rearm(void *arg)
{
    (void)arg;
    atomic_store(&log_.rearmed, true);
}

static void *push_twice(void *arg)
{
    (void)arg;
    co_call_soon_threadsafe(log_.loop, &log_.calls[0], rearm, NULL);
    while (!atomic_load(&log_.rearmed)) /* the loop has run the first call */
        sched_yield();
    co_call_soon_threadsafe(log_.loop, &log_.calls[1], set_done, NULL);
    return NULL;
}

Test(reactor_threads, the_wakeup_is_rearmed_after_each_batch)
{
    run_with_thread(push_twice, false);
    cr_assert(atomic_load(&log_.rearmed));
    cr_assert(co_event_is_set(&log_.done));
}

Test(reactor_threads, threadsafe_call_rejects_bad_arguments)
{
    co_loop *loop = real_loop();
    co_call call;
    cr_assert_eq(co_call_soon_threadsafe(NULL, &call, set_done, NULL), CO_EBADARG);
    cr_assert_eq(co_call_soon_threadsafe(loop, NULL, set_done, NULL), CO_EBADARG);
    cr_assert_eq(co_call_soon_threadsafe(loop, &call, NULL, NULL), CO_EBADARG);
    co_loop_free(loop);
}

/* ------------------------------------------------------ signal handlers */

static void wake_handler(int signo)
{
    (void)signo;
    co_loop_wake(log_.loop);
}

/* The handler runs in this thread (the loop's blocks the signal); all it
 * does is co_loop_wake, so the loop turning proves the wake-up. */
static void *wake_by_signal(void *arg)
{
    sigset_t set;
    long before = atomic_load(&turns);
    (void)arg;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(SIGUSR2);
    while (atomic_load(&turns) == before)
        sched_yield();
    co_call_soon_threadsafe(log_.loop, &log_.calls[0], set_done, NULL);
    return NULL;
}

Test(reactor_threads, co_loop_wake_in_a_signal_handler_ends_an_unlimited_wait)
{
    struct sigaction sa;
    sigset_t set;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = wake_handler;
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGUSR2, &sa, NULL), 0);
    /* the loop's thread never sees the signal: no EINTR can end its wait */
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    cr_assert_eq(pthread_sigmask(SIG_BLOCK, &set, NULL), 0);
    run_with_thread(wake_by_signal, false);
    cr_assert(co_event_is_set(&log_.done));
}

static void call_handler(int signo)
{
    (void)signo;
    co_call_soon_threadsafe(log_.loop, &log_.calls[0], set_done, NULL);
}

typedef struct raiser {
    co_gen gen;
} raiser;

static int raiser_fn(co_gen *g)
{
    raiser *self = (raiser *)g;
    CO_BEGIN(self);
    raise(SIGUSR2); /* the handler runs before raise returns */
    CO_EVENT_WAIT(self, &log_.done);
    CO_END(self);
}

Test(reactor_threads, threadsafe_call_from_a_signal_handler_runs_on_the_loop)
{
    struct sigaction sa;
    co_loop *loop = real_loop();
    raiser *m = CO_NEW(loop, raiser, raiser_fn);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = call_handler;
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGUSR2, &sa, NULL), 0);
    co_event_init(&log_.done);
    log_.loop = loop;
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_assert(co_event_is_set(&log_.done));
    co_loop_free(loop);
}

/* ------------------------------------------------------ loop per thread */

#define PINGS 200

/* Two loops in two threads play ping-pong through two pipes: neither can
 * finish unless both run at the same time. */
typedef struct pinger {
    co_gen gen;
    int rd, wr;
    bool serves; /* writes first */
    int i;
    co_loop *loop;
    bool wrong_loop, io_failed; /* no cr_assert off the test's thread */
} pinger;

static int pinger_fn(co_gen *g)
{
    pinger *self = (pinger *)g;
    char c = 'p';
    CO_BEGIN(self);
    for (self->i = 0; self->i < PINGS; self->i++) {
        if (co_running_loop() != self->loop)
            self->wrong_loop = true;
        if (self->serves && write(self->wr, &c, 1) != 1)
            self->io_failed = true;
        CO_WAIT_READABLE(self, self->rd);
        if (read(self->rd, &c, 1) != 1)
            self->io_failed = true;
        if (!self->serves && write(self->wr, &c, 1) != 1)
            self->io_failed = true;
    }
    CO_END(self);
}

typedef struct player {
    int rd, wr;
    bool serves;
    int rc;
    bool wrong_loop, io_failed;
    const char *backend;
} player;

static void *play(void *arg)
{
    player *p = arg;
    co_loop *loop = NULL;
    pinger *m;
    if ((p->rc = co_loop_new(&loop, NULL)) < 0)
        return NULL;
    p->backend = co_loop_backend(loop);
    m = CO_NEW(loop, pinger, pinger_fn);
    if (m == NULL) {
        p->rc = CO_ENOMEM;
        co_loop_free(loop);
        return NULL;
    }
    m->rd = p->rd;
    m->wr = p->wr;
    m->serves = p->serves;
    m->loop = loop;
    p->rc = co_run(loop, &m->gen);
    p->wrong_loop = m->wrong_loop;
    p->io_failed = m->io_failed;
    co_fd_forget(loop, p->rd);
    co_loop_free(loop);
    return NULL;
}

Test(reactor_threads, two_threads_run_their_own_loops_at_once)
{
    int ab[2], ba[2];
    pthread_t ta, tb;
    player a, b;
    rx_pipe(ab);
    rx_pipe(ba);
    a = (player){.rd = ba[0], .wr = ab[1], .serves = true};
    b = (player){.rd = ab[0], .wr = ba[1], .serves = false};
    cr_assert_eq(pthread_create(&ta, NULL, play, &a), 0);
    cr_assert_eq(pthread_create(&tb, NULL, play, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    cr_assert_eq(a.rc, 0, "a: %s", co_strerror(a.rc));
    cr_assert_eq(b.rc, 0, "b: %s", co_strerror(b.rc));
    cr_assert_not(a.wrong_loop || b.wrong_loop, "co_running_loop() gave another loop");
    cr_assert_not(a.io_failed || b.io_failed, "a ping was lost");
    cr_assert_str_eq(a.backend, b.backend);
    cr_assert_eq(co_running_loop(), NULL);
}

/* A second loop cannot run inside the first one's thread. */
typedef struct nested {
    co_gen gen;
    co_loop *other;
    co_gen *other_main;
    int rc;
} nested;

static int nested_fn(co_gen *g)
{
    nested *self = (nested *)g;
    CO_BEGIN(self);
    self->rc = co_run(self->other, self->other_main);
    CO_END(self);
}

static int idle_fn(co_gen *g)
{
    nested *self = (nested *)g;
    CO_BEGIN(self);
    CO_END(self);
}

Test(reactor_threads, a_second_loop_cannot_run_in_the_same_thread)
{
    co_loop *one = real_loop(), *two = real_loop();
    nested *m = CO_NEW(one, nested, nested_fn);
    nested *other = CO_NEW(two, nested, idle_fn);
    m->other = two;
    m->other_main = &other->gen;
    cr_assert_eq(co_run(one, &m->gen), 0);
    cr_assert_eq(m->rc, CO_ELOOPRUNNING);
    cr_assert_eq(co_run(two, &other->gen), 0, "the refused loop is still usable");
    co_loop_free(one);
    co_loop_free(two);
}
