/*
 * teardown.c -- a signal handler running in another thread while the loop
 * that watches the signal is freed.
 *
 * A thread raises SIGUSR1 at itself (so the handler runs there, never in
 * the main thread) while the main thread creates a loop, watches SIGUSR1
 * and frees the loop.  A handler that still uses a loop being freed shows
 * in two ways:
 *   - the wake fd: right after each free, eventfds take the numbers the
 *     loop's fds had; a handler writing to a freed loop's wake fd would
 *     land in one of them;
 *   - the loop's memory: the allocator hook fills every freed block with
 *     0xA5 and keeps it, so a handler reading a freed loop follows a wild
 *     pointer and the test process dies.
 * The first test makes the race happen every time: this executable defines
 * write(2), which the library's wake-up calls, and holds the handler's
 * write until the main thread has freed the loop and taken its fd numbers
 * (or, when the free waits for the handler as it must, until a cap of
 * STALL_CAP_MS).  The second one lets the two threads race freely a
 * thousand times.  With the handler safe against teardown neither can see
 * a stray write or a freed loop, whatever the interleaving.
 */
#define _GNU_SOURCE /* syscall(2) */
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

static void init(void) { rt_reset(); }

TestSuite(reactor_teardown, .init = init, .timeout = 60);

enum { ROUNDS = 1000, STALLED_ROUNDS = 3, PROBES = 4, STALL_CAP_MS = 200 };

/* --------------------------------------- an allocator that poisons frees */

typedef struct kept {
    struct kept *next;
} kept;

static kept *graveyard;

static void *plain_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size < sizeof(kept) ? sizeof(kept) : size);
}

static void poisoning_free(void *ctx, void *p, size_t size)
{
    kept *k = p;
    (void)ctx;
    if (p == NULL)
        return;
    memset(p, 0xA5, size);
    k->next = graveyard; /* the first word only: the rest stays poisoned */
    graveyard = k;
}

static void bury(void)
{
    while (graveyard) {
        kept *next = graveyard->next;
        free(graveyard);
        graveyard = next;
    }
}

/* ------------------------------------------------------ the signaller */

static atomic_bool stop;
static atomic_long raised;
static atomic_long handled_before; /* the handler that was there before the loop */

static void before(int signo)
{
    (void)signo;
    atomic_fetch_add(&handled_before, 1);
}

/* ------------------------------------------- holding the handler's write */

static _Thread_local bool in_signaller;
static atomic_bool hold_next; /* the signaller's next write is held         */
static atomic_bool held;      /* it is: the handler is inside its write      */
static atomic_bool freed;     /* the main thread freed the loop, took its fds */
static atomic_bool written;   /* the held write went through                 */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Everybody's write(2) in this executable; only the held one waits (in a
 * signal handler: nothing here but async-signal-safe calls). */
ssize_t write(int fd, const void *buf, size_t n)
{
    ssize_t rc;
    if (!in_signaller || !atomic_exchange(&hold_next, false))
        return syscall(SYS_write, fd, buf, n);
    atomic_store(&held, true);
    for (int64_t start = mono_ms(); !atomic_load(&freed) && mono_ms() - start < STALL_CAP_MS;) {
        struct timespec pause = {0, 100000};
        nanosleep(&pause, NULL);
    }
    rc = syscall(SYS_write, fd, buf, n);
    atomic_store(&written, true);
    return rc;
}

static void *signaller(void *arg)
{
    (void)arg;
    in_signaller = true;
    while (!atomic_load(&stop)) {
        pthread_kill(pthread_self(), SIGUSR1);
        atomic_fetch_add(&raised, 1);
    }
    return NULL;
}

/* --------------------------------------------------------------- probes */

static int probe_fd(void)
{
#ifdef __linux__
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
#else
    int p[2], fd = -1;
    if (pipe(p) == 0) { /* the read end takes the lower number: keep the write end */
        close(p[0]);
        fd = p[1];
    }
#endif
    cr_assert_geq(fd, 0, "probe: %s", strerror(errno));
    return fd;
}

/* Fails the test if anything was written into a probe; closes them. */
static void check_probes(int *fds, int n, int round)
{
    for (int i = 0; i < n; i++) {
#ifdef __linux__
        uint64_t v;
        ssize_t got = read(fds[i], &v, sizeof v);
        cr_assert(got < 0 && errno == EAGAIN,
                  "round %d: a write for a freed loop landed in fd %d, which reused its number",
                  round, fds[i]);
#endif
        close(fds[i]);
    }
}

/* The signalling thread and the handler that was there before any loop. */
static pthread_t start_signaller(sigset_t *old)
{
    struct sigaction sa;
    sigset_t usr1;
    pthread_t t;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = before;
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
    /* the signaller raises at itself, and the main thread (blocking it after
       the thread inherited an open mask) never takes it: the handler always
       runs beside the free */
    cr_assert_eq(pthread_create(&t, NULL, signaller, NULL), 0);
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    cr_assert_eq(pthread_sigmask(SIG_BLOCK, &usr1, old), 0);
    return t;
}

static void stop_signaller(pthread_t t, const sigset_t *old)
{
    atomic_store(&stop, true);
    cr_assert_eq(pthread_join(t, NULL), 0);
    pthread_sigmask(SIG_SETMASK, old, NULL);
    cr_expect_gt(atomic_load(&raised), 0);
}

static co_loop_options poisoning_options(void)
{
    co_loop_options opt;
    memset(&opt, 0, sizeof opt);
    opt.hooks.alloc = plain_alloc;
    opt.hooks.free = poisoning_free;
    return opt;
}

static co_loop *watching_loop(const co_loop_options *opt, co_event *ev)
{
    co_loop *loop;
    co_event_init(ev);
    cr_assert_eq(co_loop_new(&loop, opt), 0);
    cr_assert_eq(co_signal_watch(loop, SIGUSR1, ev), 0);
    return loop;
}

static void spin_until(atomic_bool *flag)
{
    while (!atomic_load(flag))
        sched_yield();
}

Test(reactor_teardown, a_handler_held_inside_its_wakeup_is_waited_for_by_the_free)
{
    co_loop_options opt = poisoning_options();
    sigset_t old;
    pthread_t t = start_signaller(&old);
    for (int round = 0; round < STALLED_ROUNDS; round++) {
        int probes[PROBES];
        co_event ev;
        co_loop *loop;
        atomic_store(&held, false);
        atomic_store(&freed, false);
        atomic_store(&written, false);
        atomic_store(&hold_next, true);
        loop = watching_loop(&opt, &ev);
        spin_until(&held); /* the handler has the loop and is writing to it */
        co_loop_free(loop);
        for (int i = 0; i < PROBES; i++)
            probes[i] = probe_fd();
        atomic_store(&freed, true);
        spin_until(&written);
        check_probes(probes, PROBES, round);
    }
    stop_signaller(t, &old);
    bury();
}

Test(reactor_teardown, freeing_loops_while_signals_fly_touches_neither_loop_nor_fd)
{
    co_loop_options opt = poisoning_options();
    int probes[2][PROBES], nprobes[2] = {0, 0};
    sigset_t old;
    pthread_t t = start_signaller(&old);
    for (int round = 0; round < ROUNDS; round++) {
        int *mine = probes[round & 1];
        co_event ev;
        co_loop_free(watching_loop(&opt, &ev));
        /* the numbers the loop's fds had, now ours */
        nprobes[round & 1] = PROBES;
        for (int i = 0; i < PROBES; i++)
            mine[i] = probe_fd();
        /* the previous round's probes have waited a whole round */
        check_probes(probes[(round + 1) & 1], nprobes[(round + 1) & 1], round - 1);
        nprobes[(round + 1) & 1] = 0;
    }
    /* a signal raised wholly after the last free, whatever the scheduler
       let the signaller do between the rounds: it reaches the handler that
       free put back (the kill in flight at the read may predate the free) */
    long seen = atomic_load(&raised);
    while (atomic_load(&raised) < seen + 2)
        sched_yield();
    stop_signaller(t, &old);
    check_probes(probes[(ROUNDS - 1) & 1], nprobes[(ROUNDS - 1) & 1], ROUNDS - 1);
    /* every free put the old handler back: it saw the signals between loops */
    cr_expect_gt(atomic_load(&handled_before), 0);
    bury();
}
