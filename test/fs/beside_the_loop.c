/*
 * beside_the_loop.c -- file jobs run while the loop goes on: a ticker keeps
 * ticking during a read that waits; a cancelled task whose job runs stays
 * suspended until the job is over (the worker owns part of its frame),
 * while a job still queued is dropped at once; and asyncio.run's shutdown
 * waits for jobs in flight.
 */
#include "fs_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

TestSuite(beside_the_loop, .init = ft_init, .fini = ft_fini, .timeout = 10);

/* Opens the FIFO for writing once a reader has it open (a reader blocked
 * in open() counts); writes `text` and closes: the reader sees text, then
 * end of file.  False while there is no reader yet. */
static bool feed_fifo(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        cr_assert_eq(errno, ENXIO, "open fifo: %s", strerror(errno));
        return false;
    }
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return true;
}

/* ------------------------------------------------ the loop keeps on */

typedef struct {
    co_gen gen;
    co_file_job job;
    const char *path;
    char buf[32];
    int64_t got;
    int *ticks, ticks_when_done;
} fifo_reader;

static int fifo_reader_fn(co_gen *g)
{
    fifo_reader *self = (fifo_reader *)g;
    CO_BEGIN(self);
    CO_FILE_READ(self, &self->job, self->path, self->buf, sizeof self->buf);
    self->got = self->job.result;
    self->ticks_when_done = *self->ticks;
    CO_END(self);
}

/* Ticks once a turn of the loop; after a few ticks it feeds the FIFO the
 * reader is blocked on.  If the read blocked the loop, nothing would ever
 * feed it (and the test would time out). */
typedef struct {
    co_gen gen;
    fifo_reader *reader;
    int ticks, fed_at;
} ticker;

static int ticker_fn(co_gen *g)
{
    ticker *self = (ticker *)g;
    CO_BEGIN(self);
    while (!co_done(&self->reader->gen)) {
        self->ticks++;
        if (self->fed_at == 0 && self->ticks >= 3 && feed_fifo(self->reader->path, "through\n"))
            self->fed_at = self->ticks;
        CO_SLEEP(self, 0);
    }
    CO_END(self);
}

Test(beside_the_loop, the_loop_ticks_while_a_read_waits)
{
    co_loop *loop = ft_loop(0);
    fifo_reader *r = CO_NEW(loop, fifo_reader, fifo_reader_fn);
    ticker *t = CO_NEW(loop, ticker, ticker_fn);
    r->path = ft_fifo("slow");
    r->ticks = &t->ticks;
    t->reader = r;
    cr_assert_eq(co_spawn(&r->gen), 0);
    cr_assert_eq(co_run(loop, &t->gen), 0);
    cr_assert_eq(co_task_result(&r->gen), 0);
    cr_assert_eq(r->got, 8, "%lld", (long long)r->got);
    cr_assert(memcmp(r->buf, "through\n", 8) == 0);
    cr_assert_geq(t->fed_at, 3);
    /* the ticker went on while the read was in flight, and the read only
       finished after the ticker fed it */
    cr_assert_geq(r->ticks_when_done, t->fed_at);
    rt_free_loop(loop);
}

/* --------------------------------------------- cancel a running job */

/* A task whose to_thread job waits at the gate.  `slot` is in its frame
 * and the worker writes it: the task must not finish before that. */
typedef struct {
    co_gen gen;
    co_file_job job;
    int64_t slot;
    int64_t result, slot_seen;
    int thrown;
} gated;

static int gated_fn(co_gen *g)
{
    gated *self = (gated *)g;
    CO_BEGIN(self);
    CO_TO_THREAD(self, &self->job, ft_gate_wait, &self->slot);
    CO_FINALLY(self)
    {
        self->thrown = CO_THROWN(self);
        self->result = self->job.result;
        self->slot_seen = self->slot;
    }
    CO_END(self);
}

static gated *new_gated(co_loop *loop, int64_t value)
{
    gated *t = CO_NEW(loop, gated, gated_fn);
    cr_assert_not_null(t);
    t->slot = value;
    return t;
}

typedef struct {
    co_gen gen;
    gated *victim;
    int turns;
    bool done_before_gate;
} cancel_running_main;

static int cancel_running_fn(co_gen *g)
{
    cancel_running_main *self = (cancel_running_main *)g;
    CO_BEGIN(self);
    cr_assert_eq(co_spawn(&self->victim->gen), 0);
    while (atomic_load(&ft.entered) < 1)
        CO_SLEEP(self, 0);
    cr_assert_eq(co_cancel(&self->victim->gen), 1);
    /* however many turns pass, the victim stays suspended */
    for (self->turns = 0; self->turns < 20; self->turns++)
        CO_SLEEP(self, 0);
    self->done_before_gate = co_done(&self->victim->gen);
    ft_gate_open(1);
    CO_AWAIT_TASK_CATCH(self, &self->victim->gen);
    CO_END(self);
}

Test(beside_the_loop, a_cancelled_task_waits_for_its_running_job)
{
    co_loop *loop = ft_loop(0);
    cancel_running_main *m = CO_NEW(loop, cancel_running_main, cancel_running_fn);
    gated *v = new_gated(loop, 42);
    m->victim = v;
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_assert(!m->done_before_gate, "the task resumed while its job still ran");
    cr_assert_eq(co_task_result(&v->gen), CO_ECANCELLED);
    cr_assert_eq(v->thrown, CO_ECANCELLED);
    cr_assert_eq(v->result, 42, "the job's result is there");
    cr_assert_eq(v->slot_seen, -1, "the worker's write came before the task resumed");
    cr_assert_eq(atomic_load(&ft.left), 1);
    /* the frame is freed now: a late write by the worker would show under ASan */
    co_release(&v->gen);
    rt_free_loop(loop);
}

/* ----------------------------------------------- cancel a queued job */

#define POOL 4

typedef struct {
    co_gen gen;
    gated *busy[POOL];
    gated *queued;
    co_gather gather;
    int entered_after_cancel;
} cancel_queued_main;

static int cancel_queued_fn(co_gen *g)
{
    cancel_queued_main *self = (cancel_queued_main *)g;
    CO_BEGIN(self);
    /* every worker waits at the gate; the next job must queue */
    for (int i = 0; i < POOL; i++)
        cr_assert_eq(co_spawn(&self->busy[i]->gen), 0);
    while (atomic_load(&ft.entered) < POOL)
        CO_SLEEP(self, 0);
    cr_assert_eq(co_spawn(&self->queued->gen), 0);
    CO_SLEEP(self, 0);
    cr_assert_eq(co_cancel(&self->queued->gen), 1);
    CO_AWAIT_TASK_CATCH(self, &self->queued->gen);
    self->entered_after_cancel = atomic_load(&ft.entered);
    ft_gate_open(POOL);
    CO_GATHER(self, &self->gather, (co_gen *const *)self->busy, POOL, CO_GATHER_ALL);
    CO_END(self);
}

Test(beside_the_loop, a_queued_job_is_dropped_at_once)
{
    co_loop *loop = ft_loop(POOL);
    cancel_queued_main *m = CO_NEW(loop, cancel_queued_main, cancel_queued_fn);
    for (int i = 0; i < POOL; i++)
        m->busy[i] = new_gated(loop, 10 + i);
    m->queued = new_gated(loop, 99);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    /* it finished while every worker was still at the gate */
    cr_assert_eq(co_task_result(&m->queued->gen), CO_ECANCELLED);
    cr_assert_eq(m->entered_after_cancel, POOL);
    cr_assert_eq(m->queued->result, CO_ECANCELLED);
    cr_assert_eq(m->queued->slot_seen, 99, "a dropped job never ran");
    for (int i = 0; i < POOL; i++) {
        cr_assert_eq(co_task_result(&m->busy[i]->gen), 0);
        cr_assert_eq(m->busy[i]->result, 10 + i);
    }
    cr_assert_eq(atomic_load(&ft.entered), POOL);
    rt_free_loop(loop);
}

/* ------------------------------------ cancel a read that may wait forever */

typedef struct {
    co_gen gen;
    fifo_reader *reader;
    bool fed;
} cancel_fifo_main;

/* io_uring interrupts the read at once.  A worker thread cannot be: if one
 * has the job (it may still be queued, then it is dropped) the task waits
 * until the FIFO gets a writer.  It is fed once: the worker may close its
 * end as soon as it has read, and a second writer could then meet EPIPE. */
static int cancel_fifo_fn(co_gen *g)
{
    cancel_fifo_main *self = (cancel_fifo_main *)g;
    CO_BEGIN(self);
    cr_assert_eq(co_spawn(&self->reader->gen), 0);
    CO_SLEEP(self, 0);
    cr_assert_eq(co_cancel(&self->reader->gen), 1);
    if (strcmp(co_fs_backend(co_running_loop()), "threads") == 0)
        while (!co_done(&self->reader->gen)) {
            if (!self->fed)
                self->fed = feed_fifo(self->reader->path, "late\n");
            CO_SLEEP(self, 0);
        }
    CO_AWAIT_TASK_CATCH(self, &self->reader->gen);
    CO_END(self);
}

Test(beside_the_loop, a_cancelled_read_closes_its_file)
{
    co_loop *loop = ft_loop(0);
    cancel_fifo_main *m = CO_NEW(loop, cancel_fifo_main, cancel_fifo_fn);
    int zero = 0, fds;
    m->reader = CO_NEW(loop, fifo_reader, fifo_reader_fn);
    m->reader->path = ft_fifo("never");
    m->reader->ticks = &zero;
    cr_assert_str_eq(co_fs_backend(loop), ft_expected_backend());
    fds = ft_open_fds();
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_assert_eq(co_task_result(&m->reader->gen), CO_ECANCELLED);
    cr_assert_eq(ft_open_fds(), fds, "the job left a file open");
    rt_free_loop(loop);
}

/* ------------------------------------------- shutdown with jobs in flight */

/* Sleeps until shutdown cancels it; its cleanup opens the gate. */
typedef struct {
    co_gen gen;
} releaser;

static int releaser_fn(co_gen *g)
{
    releaser *self = (releaser *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 3600 * 1000);
    CO_FINALLY(self)
    {
        ft_gate_open(1);
    }
    CO_END(self);
}

typedef struct {
    co_gen gen;
    gated *stuck;
    releaser *rel;
} shutdown_main;

static int shutdown_main_fn(co_gen *g)
{
    shutdown_main *self = (shutdown_main *)g;
    CO_BEGIN(self);
    cr_assert_eq(co_spawn(&self->stuck->gen), 0);
    while (atomic_load(&ft.entered) < 1)
        CO_SLEEP(self, 0);
    cr_assert_eq(co_spawn(&self->rel->gen), 0);
    CO_SLEEP(self, 0); /* main returns with the job still at the gate */
    CO_END(self);
}

Test(beside_the_loop, shutdown_waits_for_jobs_in_flight)
{
    co_loop *loop = ft_loop(0);
    shutdown_main *m = CO_NEW(loop, shutdown_main, shutdown_main_fn);
    m->stuck = new_gated(loop, 5);
    m->rel = CO_NEW(loop, releaser, releaser_fn);
    cr_assert_eq(co_run(loop, &m->gen), 0);
    cr_assert(co_done(&m->stuck->gen));
    cr_assert_eq(co_task_result(&m->stuck->gen), CO_ECANCELLED);
    cr_assert_eq(m->stuck->thrown, CO_ECANCELLED);
    cr_assert_eq(m->stuck->result, 5);
    cr_assert_eq(m->stuck->slot_seen, -1);
    cr_assert_eq(atomic_load(&ft.left), 1);
    rt_free_loop(loop);
}
