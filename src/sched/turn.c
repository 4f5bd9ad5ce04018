/*
 * turn.c -- the loop's turn and asyncio.run: run the tasks ready now, wait
 * for I/O until the next deadline, fire the timers that are due; and co_run,
 * which turns the loop until main is done, then cancels what is left.
 *
 * One turn reads the clock once, after its wait.  The reactor is reached
 * only through the loop's co_io_ops; a loop without one (the bare
 * scheduler) waits through the idle hook.
 */
#include "loop.h"

#define MAX_SHUTDOWN_ROUNDS 8

/* ---------------------------------------------------------------- timers */

static void fire_timer(co_loop *loop, co_timer *tm)
{
    switch (tm->kind) {
    case CO__TIMER_SLEEP: {
        co_task *t = (co_task *)(void *)((char *)tm - offsetof(co_task, timer));
        co__make_ready(loop, t);
        break;
    }
    case CO__TIMER_DEADLINE: {
        co_deadline *d = (co_deadline *)(void *)((char *)tm - offsetof(co_deadline, timer));
        d->expired = true; /* asyncio.timeout: the task inside is cancelled */
        co_cancel(co__frame(d->owner));
        break;
    }
    case CO__TIMER_CALLBACK: {
        co__callback_timer *c = (co__callback_timer *)(void *)tm;
        c->fn(c->arg);
        break;
    }
    case CO__TIMER_HANDLE: /* due now, run now, as asyncio's timer handles */
        loop->run_call(loop, (co_task *)(void *)((char *)tm - offsetof(co_task, timer)));
        break;
    default:
        break;
    }
}

static void fire_timers(co_loop *loop)
{
    co_timer *tm;
    while ((tm = co__heap_pop_due(loop, loop->now)) != NULL)
        fire_timer(loop, tm);
}

/* ----------------------------------------------------------------- a turn */

/* Whether anything could still wake a task: timers, or the reactor (whose
 * signals and other threads may always call in). */
static bool can_progress(co_loop *loop)
{
    if (loop->io_error)
        return loop->ready_head != NULL;
    return loop->ready_head || !co__heap_empty(&loop->timers) || loop->io || loop->hooks.idle;
}

/* At shutdown, only what is already under way counts. */
static bool shutdown_can_progress(co_loop *loop)
{
    if (loop->io_error)
        return loop->ready_head != NULL;
    return loop->ready_head || !co__heap_empty(&loop->timers) ||
           (loop->io && loop->io->busy(loop));
}

/* Runs the tasks ready now; those they ready run in the next round, so a
 * task that yields goes behind the others and I/O is polled in between.
 * Callbacks (call_soon, done callbacks) sit in the same FIFO: an entry with
 * no loop is one. */
static inline void run_round(co_loop *loop)
{
    loop->round_last = loop->ready_tail;
    while (loop->round_last) {
        co_task *t = co__pop_ready(loop);
        if (t == loop->round_last)
            loop->round_last = NULL;
        if (co__is_task(t))
            co__run_task(loop, t);
        else
            loop->run_call(loop, t);
    }
}

/* The other half of a turn: wait for I/O until the next deadline (not at
 * all if something is ready or may_block is false), then fire the timers
 * that are due.  The clock is read once, after the wait. */
static void wait_and_fire(co_loop *loop, bool may_block)
{
    int64_t timeout = -1;
    if (loop->ready_head || !may_block)
        timeout = 0;
    else if (!co__heap_empty(&loop->timers)) {
        timeout = co__heap_top_deadline(&loop->timers) - loop->now;
        if (timeout < 0)
            timeout = 0;
    }
    if (loop->autojump && timeout > 0) {
        /* a fake clock: poll I/O once, then jump straight to the deadline --
           only if the poll really found nothing: one cut short by a signal
           may have missed a ready fd, so the next turn polls again */
        int rc = loop->io ? loop->io->wait(loop, 0) : 0;
        if (rc < 0 && loop->io_error == 0)
            loop->io_error = rc;
        if (rc == 0 && !loop->ready_head)
            loop->now = co__heap_top_deadline(&loop->timers);
    } else {
        /* with tasks ready and nothing that a poll could find, skip the
           syscall: a busy round costs no kernel round trip */
        if (loop->io && (timeout != 0 || loop->io->busy(loop))) {
            int rc = loop->io->wait(loop, timeout);
            if (rc < 0 && loop->io_error == 0)
                loop->io_error = rc; /* never spin on a broken backend */
        } else if (loop->hooks.idle && timeout != 0)
            loop->hooks.idle(loop->hooks.ctx, timeout);
        loop->now = co__read_clock(loop);
    }
    fire_timers(loop);
}

/* ------------------------------------------------------------ asyncio.run */

static bool live_tasks(co_loop *loop)
{
    for (uint32_t i = 0; i < loop->ntasks; i++) {
        co_task *t = loop->tasks[i];
        if (t && (t->flags & CO__T_SPAWNED) && !(t->flags & CO__T_DONE))
            return true;
    }
    return false;
}

static void cancel_all(co_loop *loop)
{
    for (uint32_t i = 0; i < loop->ntasks; i++) {
        co_task *t = loop->tasks[i];
        if (t && (t->flags & CO__T_SPAWNED) && !(t->flags & CO__T_DONE))
            co_cancel(co__frame(t));
    }
}

/* Runs turns until `main` is done; false if nothing could ever wake it. */
static bool run_until_done(co_loop *loop, co_task *main)
{
    for (;;) {
        run_round(loop);
        if (main->flags & CO__T_DONE)
            return true;
        if (!can_progress(loop))
            return false;
        wait_and_fire(loop, true);
    }
}

/* asyncio.run's shutdown: cancel what is left and let its cleanup run.  A
 * task that keeps swallowing cancellations is given up on after a few
 * rounds rather than hanging the program. */
static void run_out(co_loop *loop)
{
    for (;;) {
        run_round(loop);
        if (!live_tasks(loop) || !shutdown_can_progress(loop))
            break;
        wait_and_fire(loop, true);
    }
}

static void shutdown_tasks(co_loop *loop)
{
    for (int rounds = 0; rounds < MAX_SHUTDOWN_ROUNDS && live_tasks(loop); rounds++) {
        cancel_all(loop);
        run_out(loop);
    }
}

/* loop.shutdown_asyncgens(): async generators still suspended are closed,
 * each in a task of its own whose cleanup may await (agen.c). */
static void shutdown_agens(co_loop *loop)
{
    if (loop->agen_ops == NULL)
        return;
    if (loop->agen_ops->close_all(loop)) {
        run_out(loop);
        shutdown_tasks(loop);
    }
    loop->agen_ops->forget(loop);
}

int co_run(co_loop *loop, co_gen *main)
{
    co_task *t;
    int rc;
    if (loop == NULL || main == NULL || main->fn == NULL)
        return CO_EBADARG;
    if (co__loop())
        return CO_ELOOPRUNNING;
    if (loop->state != CO__LOOP_OPEN)
        return loop->state == CO__LOOP_RUNNING ? CO_ELOOPRUNNING : CO_ELOOPCLOSED;
    t = co__task(main);
    if (co__task_loop(t) != loop)
        return CO_EBADARG;
    /* the reactor may refuse before anything runs: a loop inherited by fork */
    if (loop->io && loop->io->run_begin && (rc = loop->io->run_begin(loop)) < 0)
        return rc;
    if (!(t->flags & CO__T_SPAWNED) && (rc = co_spawn(main)) < 0) {
        if (loop->io && loop->io->run_end)
            loop->io->run_end(loop, rc);
        return rc;
    }
    co__set_running(loop);
#if defined(__GNUC__) || defined(__clang__)
    loop->stack_top = (uintptr_t)__builtin_frame_address(0);
#endif
    loop->state = CO__LOOP_RUNNING;
    loop->main = t;
    loop->now = co__read_clock(loop);
    if (!run_until_done(loop, t)) {
        /* every task waits on something nothing can trigger: a deadlock */
        co_cancel(main);
        run_until_done(loop, t);
    }
    /* asyncio's loop stops one iteration after main is done: what was ready
       by then still runs (fire-and-forget tasks get their first step) */
    wait_and_fire(loop, false);
    run_round(loop);
    shutdown_tasks(loop);
    shutdown_agens(loop);
    loop->main = NULL;
    loop->state = CO__LOOP_OPEN;
    co__set_running(NULL);
    rc = loop->io_error ? loop->io_error : co_task_result(main);
    loop->io_error = 0;
    if (loop->io && loop->io->run_end)
        rc = loop->io->run_end(loop, rc);
    if (t->flags & CO__T_RELEASED)
        co__free_task(loop, t);
    return rc;
}
