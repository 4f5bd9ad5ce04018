/*
 * fork.c -- what a forked child may do with its parent's loop (free it,
 * nothing else) and with loops of its own (everything), and that the
 * parent's loop goes on working whatever the child did.
 *
 * The parent's loop has used the file pool (worker threads exist) and
 * watches SIGTERM.  The child frees that loop -- which must neither join
 * threads it does not have nor delete the shared wake fd from the shared
 * epoll set -- then makes a loop of its own, watches SIGTERM on it, raises
 * SIGTERM and reads a file through the pool.  The child reports by its
 * exit status (it runs no Criterion assertion), with an alarm as a bound
 * on a hang.  Back in the parent, a threadsafe call and SIGTERM must still
 * reach the parent's loop.  The suite runs on every backend of the build.
 */
#include "util.h"

#include <corio/fs.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void init(void)
{
    rt_reset();
    setenv("CORIO_FS", "threads", 1); /* the pool, with its threads, on every kernel */
}

TestSuite(reactor_fork, .init = init, .timeout = 30);

/* What the child's exit status means. */
enum {
    CHILD_OK = 0,
    CHILD_NEW_LOOP = 10, /* co_loop_new failed                    */
    CHILD_WATCH,         /* its own loop could not watch SIGTERM  */
    CHILD_RUN,           /* the task failed                       */
    CHILD_SIGNAL,        /* SIGTERM never set the event           */
    CHILD_READ,          /* the file read gave the wrong bytes    */
    CHILD_OLD_LOOP,      /* the inherited loop did not refuse use */
};

/* ---------------------------------------------------- tasks of both sides */

/* Reads the file at `path` through the pool. */
typedef struct reader {
    co_gen gen;
    const char *path;
    co_file_job job;
    char buf[64];
} reader;

static int reader_fn(co_gen *g)
{
    reader *self = (reader *)g;
    CO_BEGIN(self);
    CO_FILE_READ(self, &self->job, self->path, self->buf, sizeof self->buf - 1);
    CO_END(self);
}

/* Raises SIGTERM and awaits the event its loop watches it with, then reads
 * a file. */
typedef struct terminated {
    co_gen gen;
    co_event ev;
    reader *read;
    bool caught;
} terminated;

static int terminated_fn(co_gen *g)
{
    terminated *self = (terminated *)g;
    CO_BEGIN(self);
    raise(SIGTERM);
    CO_EVENT_WAIT(self, &self->ev);
    self->caught = true;
    co_spawn(&self->read->gen);
    CO_AWAIT_TASK(self, &self->read->gen);
    CO_END(self);
}

static char path[64];
static const char text[] = "written by the parent";

static void make_file(void)
{
    FILE *f;
    snprintf(path, sizeof path, "/tmp/corio-fork-%d", (int)getpid());
    f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_geq(fputs(text, f), 0);
    fclose(f);
}

/* The parent's loops: file jobs take real time, so a real clock with no
 * jumps, and a guard of GUARD_MS that only a failure ever reaches. */
enum { GUARD_MS = 5000 };

typedef struct guard {
    co_gen gen;
    co_gen *main;
    co_deadline dl;
} guard;

static int guard_fn(co_gen *g)
{
    guard *self = (guard *)g;
    CO_BEGIN(self);
    CO_WAIT_FOR_TASK(self, &self->dl, self->main, GUARD_MS);
    CO_END(self);
}

static int guarded_run(co_loop *loop, co_gen *main)
{
    guard *gd = CO_NEW(loop, guard, guard_fn);
    int rc;
    cr_assert_not_null(gd);
    gd->main = main;
    rc = co_run(loop, &gd->gen);
    co_release(&gd->gen);
    return rc;
}

/* A loop that watches SIGTERM with `ev` and, if files is set, has read
 * `path` through the pool (its workers are running). */
static co_loop *used_loop(co_event *ev, bool files)
{
    co_loop_options opt = rt_options();
    co_loop *loop;
    reader *rd;
    opt.hooks.clock = NULL;
    opt.autojump = false;
    loop = rt_loop_with(&opt);
    if (files) {
        rd = CO_NEW(loop, reader, reader_fn);
        rd->path = path;
        cr_assert_eq(guarded_run(loop, &rd->gen), 0);
        cr_assert_eq(rd->job.result, (int64_t)strlen(text));
        co_release(&rd->gen);
        if (getenv("CORIO_FS")) /* else io_uring, where the kernel lets us */
            cr_assert_str_eq(co_fs_backend(loop), "threads");
    }
    co_event_init(ev);
    cr_assert_eq(co_signal_watch(loop, SIGTERM, ev), 0);
    return loop;
}

/* ------------------------------------------------------------ the child */

/* The child: frees the inherited loop first (free_first) or last, and in
 * between runs a loop of its own that watches SIGTERM and reads a file. */
static int child_main(co_loop *inherited, bool free_first)
{
    co_loop *loop;
    terminated *t;
    int rc;
    alarm(10); /* a hang (joining threads that are gone) ends as SIGALRM */
    if (free_first)
        co_loop_free(inherited);
    if (co_loop_new(&loop, NULL) < 0)
        return CHILD_NEW_LOOP;
    t = CO_NEW(loop, terminated, terminated_fn);
    t->read = CO_NEW(loop, reader, reader_fn);
    t->read->path = path;
    co_event_init(&t->ev);
    if (co_signal_watch(loop, SIGTERM, &t->ev) < 0)
        return CHILD_WATCH;
    rc = co_run(loop, &t->gen);
    if (!t->caught)
        return CHILD_SIGNAL;
    if (rc < 0)
        return CHILD_RUN;
    if (t->read->job.result != (int64_t)strlen(text) ||
        memcmp(t->read->buf, text, strlen(text)) != 0)
        return CHILD_READ;
    co_loop_free(loop);
    if (!free_first)
        co_loop_free(inherited);
    return CHILD_OK;
}

static int wait_child(pid_t pid)
{
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "the child was killed by signal %d",
              WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return WEXITSTATUS(status);
}

/* ----------------------------------------------------- the parent after */

typedef struct called {
    co_gen gen;
    co_event *term;
    co_event done;
    co_call call;
    bool term_seen;
} called;

static void set_done(void *arg) { co_event_set(arg); }

static int called_fn(co_gen *g)
{
    called *self = (called *)g;
    CO_BEGIN(self);
    CO_EVENT_WAIT(self, &self->done); /* set by the threadsafe call */
    raise(SIGTERM);
    CO_EVENT_WAIT(self, self->term);
    self->term_seen = true;
    CO_END(self);
}

/* Forks; the child runs child_main; then the parent's loop must still get
 * a threadsafe call (its wake fd still in its epoll set) and SIGTERM. */
static void fork_and_check(bool files, bool free_first)
{
    co_event term;
    co_loop *loop;
    called *c;
    pid_t pid;
    make_file();
    loop = used_loop(&term, files);
    fflush(NULL);
    pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0)
        _exit(child_main(loop, free_first));
    cr_expect_eq(wait_child(pid), CHILD_OK);

    c = CO_NEW(loop, called, called_fn);
    c->term = &term;
    co_event_init(&c->done);
    cr_assert_eq(co_call_soon_threadsafe(loop, &c->call, set_done, &c->done), 0);
    cr_expect_eq(guarded_run(loop, &c->gen), 0, "the threadsafe call never reached the parent's loop");
    cr_expect(c->term_seen);
    if (files) { /* and its file backend, pool or ring, still works */
        reader *rd = CO_NEW(loop, reader, reader_fn);
        rd->path = path;
        cr_expect_eq(guarded_run(loop, &rd->gen), 0);
        cr_expect_eq(rd->job.result, (int64_t)strlen(text));
        co_release(&rd->gen);
    }
    rt_free_loop(loop);
    unlink(path);
}

/* The child frees its copy first: the shared epoll set keeps the parent's
 * wake fd. */
Test(reactor_fork, a_child_freeing_its_copy_leaves_the_parents_loop_working)
{
    fork_and_check(false, true);
}

/* The pool's threads are the parent's: the child's free must not join them. */
Test(reactor_fork, a_child_frees_a_copy_whose_file_pool_ran)
{
    fork_and_check(true, true);
}

/* The same with io_uring where the kernel has it (the suite's loops read
 * through the pool otherwise): the child's copy of the ring is unmapped and
 * closed, the parent's ring keeps working. */
Test(reactor_fork, a_child_frees_a_copy_whose_ring_ran)
{
    unsetenv("CORIO_FS");
    fork_and_check(true, true);
}

/* The child leaves its copy alone and makes its own loop: that loop can
 * watch SIGTERM, which the parent's loop watched when it forked. */
Test(reactor_fork, a_childs_own_loop_watches_the_signal_the_parent_watched)
{
    fork_and_check(false, false);
}

/* The inherited loop is closed to the child: run, watch and threadsafe
 * calls are refused, and freeing it is all that is left. */
static int refusing_child(co_loop *inherited)
{
    reader *rd = CO_NEW(inherited, reader, reader_fn);
    co_call call;
    co_event ev;
    co_event_init(&ev);
    alarm(10);
    if (rd == NULL || co_run(inherited, &rd->gen) != CO_ELOOPCLOSED ||
        co_signal_watch(inherited, SIGUSR1, &ev) != CO_ELOOPCLOSED ||
        co_call_soon_threadsafe(inherited, &call, set_done, &ev) != CO_ELOOPCLOSED)
        return CHILD_OLD_LOOP;
    co_loop_free(inherited);
    return CHILD_OK;
}

Test(reactor_fork, the_inherited_loop_refuses_to_run_in_the_child)
{
    co_event term;
    co_loop *loop;
    pid_t pid;
    make_file();
    loop = used_loop(&term, true);
    fflush(NULL);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(refusing_child(loop));
    cr_expect_eq(wait_child(pid), CHILD_OK);
    rt_free_loop(loop);
    unlink(path);
}
