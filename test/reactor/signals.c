/*
 * signals.c -- signals as awaitable events, and Ctrl-C during co_run.
 *
 * co_signal_watch: a raised signal sets the event a task awaits; one loop
 * watches a signal at a time; unwatching (or freeing the loop) puts back
 * whatever handled the signal before.  Ctrl-C: the first SIGINT cancels
 * main, whose cleanup runs, and co_run returns CO_EINTERRUPTED; a second
 * one kills the process by SIGINT, as Python's asyncio.run does.  The
 * Ctrl-C tests run their loop in a forked child, which reports through a
 * pipe and is then judged by its exit status.
 */
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void init(void) { rt_reset(); }

TestSuite(reactor_signals, .init = init, .timeout = 20);

static void (*handler_of(int signo))(int)
{
    struct sigaction sa;
    cr_assert_eq(sigaction(signo, NULL, &sa), 0);
    return sa.sa_handler;
}

static volatile sig_atomic_t previous_calls;
static void previous_handler(int signo)
{
    (void)signo;
    previous_calls++;
}

static void set_handler(int signo, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(signo, &sa, NULL), 0);
}

/* ------------------------------------------------------------- watching */

/* Raises SIGUSR1 `times` times, awaiting the event after each. */
typedef struct catcher {
    co_gen gen;
    co_event ev;
    int times, caught;
} catcher;

static int catcher_fn(co_gen *g)
{
    catcher *self = (catcher *)g;
    CO_BEGIN(self);
    cr_assert_eq(co_signal_watch(co_running_loop(), SIGUSR1, &self->ev), 0);
    while (self->caught < self->times) {
        cr_assert_not(co_event_is_set(&self->ev));
        raise(SIGUSR1);
        CO_EVENT_WAIT(self, &self->ev);
        co_event_clear(&self->ev);
        self->caught++;
    }
    cr_assert_eq(co_signal_unwatch(co_running_loop(), SIGUSR1), 0);
    CO_END(self);
}

Test(reactor_signals, a_raised_signal_sets_the_awaited_event)
{
    co_loop *loop = rt_loop();
    catcher *c = CO_NEW(loop, catcher, catcher_fn);
    co_event_init(&c->ev);
    c->times = 3;
    cr_assert_eq(rx_run(loop, &c->gen), 0, "a signal was lost");
    cr_assert_eq(c->caught, 3);
    rt_free_loop(loop);
}

Test(reactor_signals, one_loop_watches_a_signal_at_a_time)
{
    co_loop *one, *two;
    co_event e1, e2;
    co_event_init(&e1);
    co_event_init(&e2);
    cr_assert_eq(co_loop_new(&one, NULL), 0);
    cr_assert_eq(co_loop_new(&two, NULL), 0);
    cr_assert_eq(co_signal_watch(one, SIGUSR1, &e1), 0);
    cr_assert_eq(co_signal_watch(two, SIGUSR1, &e2), CO_EBUSY);
    cr_assert_eq(co_signal_watch(one, SIGUSR1, &e2), CO_EBUSY, "watched twice by one loop");
    cr_assert_eq(co_signal_watch(two, SIGUSR2, &e2), 0, "another signal is free");
    cr_assert_eq(co_signal_unwatch(one, SIGUSR1), 0);
    cr_assert_eq(co_signal_watch(two, SIGUSR1, &e1), 0, "free again once unwatched");
    cr_assert_eq(co_signal_unwatch(one, SIGUSR1), CO_EBADARG, "not watched by this loop");
    cr_assert_eq(co_signal_unwatch(two, SIGUSR1), 0);
    cr_assert_eq(co_signal_unwatch(two, SIGUSR2), 0);
    co_loop_free(one);
    co_loop_free(two);
}

Test(reactor_signals, watch_rejects_bad_arguments)
{
    co_loop *loop;
    co_event ev;
    co_event_init(&ev);
    cr_assert_eq(co_loop_new(&loop, NULL), 0);
    cr_assert_eq(co_signal_watch(loop, 0, &ev), CO_EBADARG);
    cr_assert_eq(co_signal_watch(loop, 32, &ev), CO_EBADARG);
    cr_assert_eq(co_signal_watch(loop, SIGKILL, &ev), CO_EBADARG);
    cr_assert_eq(co_signal_watch(loop, SIGSTOP, &ev), CO_EBADARG);
    cr_assert_eq(co_signal_watch(loop, SIGUSR1, NULL), CO_EBADARG);
    cr_assert_eq(co_signal_watch(NULL, SIGUSR1, &ev), CO_EBADARG);
    cr_assert_eq(co_signal_unwatch(loop, SIGUSR1), CO_EBADARG);
    co_loop_free(loop);
}

static void check_restores(void (*before)(int), bool by_free)
{
    co_loop *loop;
    co_event ev;
    co_event_init(&ev);
    set_handler(SIGUSR1, before);
    cr_assert_eq(co_loop_new(&loop, NULL), 0);
    cr_assert_eq(co_signal_watch(loop, SIGUSR1, &ev), 0);
    cr_assert_neq(handler_of(SIGUSR1), before, "watching did not install a handler");
    if (by_free)
        co_loop_free(loop);
    else
        cr_assert_eq(co_signal_unwatch(loop, SIGUSR1), 0);
    cr_assert_eq(handler_of(SIGUSR1), before, "the previous disposition is not back");
    if (!by_free)
        co_loop_free(loop);
}

Test(reactor_signals, unwatch_restores_the_previous_handler)
{
    check_restores(previous_handler, false);
    previous_calls = 0;
    raise(SIGUSR1);
    cr_assert_eq(previous_calls, 1, "the previous handler does not run again");
}

Test(reactor_signals, unwatch_restores_an_ignored_signal)
{
    check_restores(SIG_IGN, false);
}

Test(reactor_signals, freeing_the_loop_restores_the_previous_handler)
{
    check_restores(previous_handler, true);
}

/* ------------------------------------------------------------- Ctrl-C */

/* What the child's main does: report it waits, then wait for ever; its
 * cleanup reports, then (slow_cleanup) blocks until its parent says go. */
typedef struct sleeper {
    co_gen gen;
    int report, go; /* pipe ends to and from the parent */
    bool slow_cleanup, watch_sigint;
    co_event never, sigint;
} sleeper;

static void say(int fd, const char *text)
{
    ssize_t n = write(fd, text, strlen(text));
    (void)n;
}

static int sleeper_fn(co_gen *g)
{
    sleeper *self = (sleeper *)g;
    CO_BEGIN(self);
    if (self->watch_sigint)
        co_signal_watch(co_running_loop(), SIGINT, &self->sigint);
    say(self->report, "waiting\n");
    if (self->watch_sigint)
        CO_EVENT_WAIT(self, &self->sigint);
    else
        CO_EVENT_WAIT(self, &self->never);
    say(self->report, "woken\n");
    CO_FINALLY(self)
    {
        char c;
        say(self->report, "cleanup\n");
        if (self->slow_cleanup && read(self->go, &c, 1) < 0) /* a signal ends us here */
            say(self->report, "read failed\n");
    }
    CO_END(self);
}

typedef struct child {
    pid_t pid;
    int report, go; /* the parent's ends */
} child;

/* Forks a child running a sleeper under co_run with a real clock; its
 * exit code says whether co_run returned `expect`. */
static child start_child(bool slow_cleanup, bool watch_sigint, int expect)
{
    int up[2], down[2];
    child c;
    cr_assert_eq(pipe(up), 0);
    cr_assert_eq(pipe(down), 0);
    c.pid = fork();
    cr_assert_neq(c.pid, -1);
    if (c.pid == 0) {
        co_loop *loop;
        sleeper *s;
        int rc;
        char line[64];
        close(up[0]);
        close(down[1]);
        signal(SIGALRM, SIG_DFL); /* a child the test gave up on must not linger */
        alarm(15);
        signal(SIGINT, SIG_DFL); /* as in a fresh program */
        if (co_loop_new(&loop, NULL) < 0 || (s = CO_NEW(loop, sleeper, sleeper_fn)) == NULL)
            _exit(90);
        s->report = up[1];
        s->go = down[0];
        s->slow_cleanup = slow_cleanup;
        s->watch_sigint = watch_sigint;
        co_event_init(&s->never);
        co_event_init(&s->sigint);
        rc = co_run(loop, &s->gen);
        snprintf(line, sizeof line, "rc %d\n", rc);
        say(up[1], line);
        co_loop_free(loop);
        if (handler_of(SIGINT) != SIG_DFL)
            _exit(91); /* the loop left its SIGINT handler behind */
        _exit(rc == expect ? 0 : 92);
    }
    close(up[1]);
    close(down[0]);
    c.report = up[0];
    c.go = down[1];
    return c;
}

/* Reads the child's report up to and including a line `until`. */
static void read_until(child *c, char *buf, size_t size, const char *until)
{
    size_t len = strlen(buf);
    while (strstr(buf, until) == NULL) {
        ssize_t n = read(c->report, buf + len, size - 1 - len);
        cr_assert_gt(n, 0, "the child stopped before saying \"%s\"; it said \"%s\"", until, buf);
        len += (size_t)n;
        buf[len] = '\0';
    }
}

static int wait_child(child *c)
{
    int status;
    cr_assert_eq(waitpid(c->pid, &status, 0), c->pid);
    close(c->report);
    close(c->go);
    return status;
}

Test(reactor_signals, one_sigint_cancels_main_and_run_returns_interrupted)
{
    char buf[256] = "", expect[32];
    child c = start_child(false, false, CO_EINTERRUPTED);
    int status;
    read_until(&c, buf, sizeof buf, "waiting\n");
    cr_assert_eq(kill(c.pid, SIGINT), 0);
    snprintf(expect, sizeof expect, "rc %d\n", CO_EINTERRUPTED);
    read_until(&c, buf, sizeof buf, expect);
    status = wait_child(&c);
    cr_assert(WIFEXITED(status), "the child died of signal %d", WTERMSIG(status));
    cr_assert_eq(WEXITSTATUS(status), 0, "exit %d; the child said \"%s\"", WEXITSTATUS(status),
                 buf);
    cr_assert_not_null(strstr(buf, "waiting\ncleanup\n"), "no cleanup: \"%s\"", buf);
    cr_assert_null(strstr(buf, "woken"), "main was not cancelled: \"%s\"", buf);
}

Test(reactor_signals, a_second_sigint_kills_the_process_by_sigint)
{
    char buf[256] = "";
    child c = start_child(true, false, CO_EINTERRUPTED);
    int status;
    read_until(&c, buf, sizeof buf, "waiting\n");
    cr_assert_eq(kill(c.pid, SIGINT), 0);
    read_until(&c, buf, sizeof buf, "cleanup\n"); /* and now it blocks there */
    cr_assert_eq(kill(c.pid, SIGINT), 0);
    status = wait_child(&c);
    cr_assert(WIFSIGNALED(status), "the child exited (%d) instead; it said \"%s\"",
              WIFEXITED(status) ? WEXITSTATUS(status) : -1, buf);
    cr_assert_eq(WTERMSIG(status), SIGINT);
}

Test(reactor_signals, a_watched_sigint_sets_the_event_instead)
{
    char buf[256] = "";
    child c = start_child(false, true, 0);
    int status;
    read_until(&c, buf, sizeof buf, "waiting\n");
    cr_assert_eq(kill(c.pid, SIGINT), 0);
    read_until(&c, buf, sizeof buf, "rc 0\n");
    status = wait_child(&c);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child said \"%s\"", buf);
    cr_assert_not_null(strstr(buf, "waiting\nwoken\ncleanup\nrc 0\n"), "\"%s\"", buf);
}

/* A program that chose its own SIGINT disposition keeps it. */
typedef struct ignorer {
    co_gen gen;
} ignorer;

static int ignorer_fn(co_gen *g)
{
    ignorer *self = (ignorer *)g;
    CO_BEGIN(self);
    cr_assert_eq(handler_of(SIGINT), SIG_IGN, "co_run replaced an ignored SIGINT");
    raise(SIGINT);
    CO_SLEEP(self, 1);
    CO_END(self);
}

Test(reactor_signals, an_ignored_sigint_stays_ignored_during_run)
{
    co_loop *loop = rt_loop();
    ignorer *m = CO_NEW(loop, ignorer, ignorer_fn);
    set_handler(SIGINT, SIG_IGN);
    cr_assert_eq(rx_run(loop, &m->gen), 0);
    cr_assert_eq(handler_of(SIGINT), SIG_IGN);
    rt_free_loop(loop);
}
