/*
 * lifecycle.c -- a child's life around the awaits: a cancelled wait or
 * communicate leaves the child running (asyncio's rule) and a later wait
 * still reaps it; waiting twice; signals after the end; closing a child
 * that still runs; awaits outside a task; out of memory in communicate.
 */
#include "testloop.h"

#include <corio/corio.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif
#include <unistd.h>

static void no_children_left(void)
{
    errno = 0;
    cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a child is left (zombie or running)");
    cr_assert_eq(errno, ECHILD);
}

TestSuite(lifecycle, .init = rt_reset, .timeout = 60);

static const char *const cat[] = {"cat", NULL};
static const char *const sleeper[] = {"sleep", "30", NULL};

typedef struct waiting {
    co_gen gen;
    co_process proc;
} waiting;

/* Starts cat (its stdin a pipe, so it runs until that closes) and waits. */
static int waiting_fn(co_gen *g)
{
    waiting *self = (waiting *)g;
    co_spawn_opts o = {.in = CO_STDIO_PIPE};
    CO_BEGIN(self);
    cr_assert_eq(co_process_spawn(co_running_loop(), &self->proc, cat, &o), 0);
    CO_PROCESS_WAIT(self, proc);
    CO_END(self);
}

typedef struct owner {
    co_gen gen;
    waiting *w;
    co_process proc; /* taken over from the cancelled waiter */
    bool alive_after_cancel;
} owner;

static int cancel_wait_fn(co_gen *g)
{
    owner *self = (owner *)g;
    CO_BEGIN(self);
    rt_spawn(&self->w->gen);
    CO_SLEEP(self, 0);
    CO_SLEEP(self, 0);
    co_cancel(&self->w->gen);
    CO_AWAIT_TASK_CATCH(self, &self->w->gen);
    cr_assert_eq(CO_THROWN(self), CO_ECANCELLED);
    cr_assert_eq(self->w->proc.result, CO_ECANCELLED);
    self->proc = self->w->proc; /* the waiter is over: its process is ours now */
    /* the child runs on: still there, not reaped */
    self->alive_after_cancel = kill(self->proc.pid, 0) == 0 && !self->proc.exited &&
                               waitpid(self->proc.pid, NULL, WNOHANG) == 0;
    co_fd_close(co_running_loop(), self->proc.in); /* cat sees end of file */
    self->proc.in = -1;
    CO_PROCESS_WAIT(self, proc);
    cr_assert_eq(self->proc.returncode, 0);
    CO_FINALLY(self) { co_process_close(&self->proc); }
    CO_END(self);
}

Test(lifecycle, a_cancelled_wait_leaves_the_child_running)
{
    co_loop *loop = rt_loop();
    owner *o = CO_NEW(loop, owner, cancel_wait_fn);
    cr_assert_not_null(o);
    o->w = CO_NEW(loop, waiting, waiting_fn);
    cr_assert_not_null(o->w);
    cr_assert_eq(co_run(loop, &o->gen), 0);
    cr_assert(o->alive_after_cancel);
    cr_assert(o->proc.exited);
    rt_free_loop(loop);
    no_children_left();
}

typedef struct talking {
    co_gen gen;
    co_process proc;
} talking;

static int talking_fn(co_gen *g)
{
    talking *self = (talking *)g;
    co_spawn_opts o = {.out = CO_STDIO_PIPE, .err = CO_STDIO_PIPE};
    CO_BEGIN(self);
    cr_assert_eq(co_process_spawn(co_running_loop(), &self->proc, sleeper, &o), 0);
    CO_PROCESS_COMMUNICATE(self, proc, NULL, 0);
    CO_END(self);
}

typedef struct stopper {
    co_gen gen;
    talking *t;
    bool alive;
    co_process proc;
} stopper;

static int stopper_fn(co_gen *g)
{
    stopper *self = (stopper *)g;
    CO_BEGIN(self);
    rt_spawn(&self->t->gen);
    CO_SLEEP(self, 0);
    CO_SLEEP(self, 0);
    co_cancel(&self->t->gen);
    CO_AWAIT_TASK_CATCH(self, &self->t->gen);
    cr_assert_eq(CO_THROWN(self), CO_ECANCELLED);
    self->proc = self->t->proc;
    self->alive = kill(self->proc.pid, 0) == 0 && !self->proc.exited;
    cr_assert_eq(co_process_kill(&self->proc), 0);
    CO_PROCESS_WAIT(self, proc);
    cr_assert_eq(self->proc.returncode, -SIGKILL);
    cr_assert_eq(co_process_kill(&self->proc), -ESRCH, "no signal after the end");
    CO_PROCESS_WAIT(self, proc); /* a second wait returns at once */
    cr_assert_eq(self->proc.result, 0);
    cr_assert_eq(self->proc.returncode, -SIGKILL);
    CO_FINALLY(self) { co_process_close(&self->proc); }
    CO_END(self);
}

Test(lifecycle, a_cancelled_communicate_leaves_the_child_running)
{
    co_loop *loop = rt_loop();
    stopper *s = CO_NEW(loop, stopper, stopper_fn);
    cr_assert_not_null(s);
    s->t = CO_NEW(loop, talking, talking_fn);
    cr_assert_not_null(s->t);
    cr_assert_eq(co_run(loop, &s->gen), 0);
    cr_assert(s->alive);
    rt_free_loop(loop); /* the pumps and their buffers all came back */
    no_children_left();
}

Test(lifecycle, closing_a_running_child_kills_and_reaps_it)
{
    co_loop *loop = rt_loop();
    co_process p;
    co_spawn_opts o = {.in = CO_STDIO_PIPE, .out = CO_STDIO_PIPE};
    cr_assert_eq(co_process_spawn(loop, &p, sleeper, &o), 0);
    co_process_close(&p);
    cr_assert(p.exited);
    cr_assert_eq(p.returncode, -SIGKILL);
    cr_assert_eq(p.in, -1);
    cr_assert_eq(p.out, -1);
    co_process_close(&p); /* twice is fine */
    rt_free_loop(loop);
    no_children_left();
}

typedef struct outside {
    co_gen gen;
    co_process proc;
} outside;

static int outside_fn(co_gen *g)
{
    outside *self = (outside *)g;
    CO_BEGIN(self);
    CO_PROCESS_WAIT(self, proc);
    CO_END(self);
}

Test(lifecycle, awaits_outside_a_task_are_raised)
{
    outside o;
    co_init(&o.gen, outside_fn);
    cr_assert_eq(co_next(&o.gen), CO_ENOTASK);
}

typedef struct starved {
    co_gen gen;
    co_process proc;
    int result;
} starved;

static int starved_fn(co_gen *g)
{
    starved *self = (starved *)g;
    co_spawn_opts o = {.in = CO_STDIO_PIPE, .out = CO_STDIO_PIPE};
    CO_BEGIN(self);
    cr_assert_eq(co_process_spawn(co_running_loop(), &self->proc, cat, &o), 0);
    rt.failing = true;
    CO_PROCESS_COMMUNICATE(self, proc, "x", 1);
    rt.failing = false;
    self->result = self->proc.result;
    CO_FINALLY(self) { co_process_close(&self->proc); }
    CO_END(self);
}

Test(lifecycle, out_of_memory_in_communicate)
{
    co_loop *loop = rt_loop();
    starved *s = CO_NEW(loop, starved, starved_fn);
    cr_assert_not_null(s);
    cr_assert_eq(co_run(loop, &s->gen), 0);
    cr_assert_eq(s->result, CO_ENOMEM);
    rt_free_loop(loop);
    no_children_left();
}

typedef struct late_oom {
    co_gen gen;
    co_process proc;
    int result;
    size_t out_len, out_cap;
    bool pattern_ok;
} late_oom;

/* The pump reads, then its output buffer cannot grow: that pipe is closed,
 * so the child (yes, writing forever) ends by SIGPIPE instead of hanging. */
static int late_oom_fn(co_gen *g)
{
    late_oom *self = (late_oom *)g;
    static const char *const yes[] = {"yes", NULL};
    co_spawn_opts o = {.out = CO_STDIO_PIPE};
    CO_BEGIN(self);
    cr_assert_eq(co_process_spawn(co_running_loop(), &self->proc, yes, &o), 0);
    CO_PROCESS_COMMUNICATE(self, proc, NULL, 0);
    rt.failing = false;
    self->result = self->proc.result;
    self->out_len = self->proc.out_len;
    self->out_cap = self->proc.out_cap;
    self->pattern_ok = true;
    for (size_t i = 0; i < self->out_len; i++)
        self->pattern_ok &= self->proc.out_data[i] == (i % 2 ? '\n' : 'y');
    CO_FINALLY(self) { co_process_close(&self->proc); }
    CO_END(self);
}

typedef struct starver {
    co_gen gen;
    late_oom *victim;
} starver;

/* Once output has arrived, every allocation fails: the next growth. */
static int starver_fn(co_gen *g)
{
    starver *self = (starver *)g;
    CO_BEGIN(self);
    while (self->victim->proc.out_len == 0)
        CO_SLEEP(self, 0);
    rt.failing = true;
    CO_END(self);
}

Test(lifecycle, output_that_cannot_grow_closes_the_pipe)
{
    co_loop *loop = rt_loop();
    late_oom *s = CO_NEW(loop, late_oom, late_oom_fn);
    starver *st = CO_NEW(loop, starver, starver_fn);
    cr_assert(s && st);
    st->victim = s;
    rt_spawn(&st->gen);
    cr_assert_eq(co_run(loop, &s->gen), 0);
    cr_assert_eq(s->result, CO_ENOMEM);
    cr_assert_eq(s->proc.returncode, -SIGPIPE);
    cr_assert_gt(s->out_len, 0);
    cr_assert_eq(s->out_len, s->out_cap, "it failed only when the buffer was full");
    cr_assert(s->pattern_ok, "nothing lost or garbled before the failure");
    rt_free_loop(loop);
    no_children_left();
}

Test(lifecycle, waits_through_a_pidfd_or_sigchld_as_configured)
{
    co_loop *loop = rt_loop();
    static const char *const t[] = {"true", NULL};
    const char *env = getenv("CORIO_PIDFD");
    bool sigchld = env && strcmp(env, "0") == 0;
    co_process p;
    cr_assert_eq(co_process_spawn(loop, &p, t, NULL), 0);
#if defined(__linux__) && defined(SYS_pidfd_open)
    {
        /* the kernel (or valgrind) may not have pidfds: then SIGCHLD it is */
        long probe = syscall(SYS_pidfd_open, getpid(), 0);
        bool have = probe >= 0;
        if (have)
            close((int)probe);
        if (sigchld || !have)
            cr_assert_eq(p.pidfd, -1, "the SIGCHLD watch");
        else
            cr_assert_geq(p.pidfd, 0, "Linux: a pidfd");
    }
#else
    (void)sigchld;
#endif
    co_process_close(&p);
    rt_free_loop(loop);
    no_children_left();
}
