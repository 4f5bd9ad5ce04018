/*
 * target.c -- the program the gdb test stops: a loop whose tasks stand in
 * known await chains (a fetch deep in a sub-coroutine's sleep, a task
 * awaiting that fetch, one never scheduled, and the gap in the registry a
 * finished and released task left between them) when the running task calls
 * stop_here(), where check.py's gdb breaks and runs corio-tasks.  Each await
 * carries a "gdb: <body>" marker that check.py turns into its line.
 */
#include <corio/corio.h>

#include <stdio.h>

co_loop *the_loop;

/* The breakpoint: kept out of line and not folded away. */
__attribute__((noinline)) void stop_here(void) { __asm__ __volatile__("" ::: "memory"); }

CO_ASYNC(read_body, int ms;)
    CO_SLEEP(self, self->ms); /* gdb: read_body */
CO_ASYNC_END

CO_ASYNC(fetch, read_body body;)
    CO_AWAIT_CALL(self, body, read_body, .ms = 3600 * 1000); /* gdb: fetch */
CO_ASYNC_END

CO_ASYNC(waiter, fetch *task;)
    CO_AWAIT_TASK(self, &self->task->gen); /* gdb: waiter */
CO_ASYNC_END

CO_ASYNC(idle, )
CO_ASYNC_END

CO_ASYNC(main_task, fetch *f; idle *gone; waiter *w; idle *never;)
    self->f = CO_CALL(fetch, );
    self->gone = CO_CALL(idle, );
    self->w = CO_CALL(waiter, .task = self->f);
    self->never = CO_CALL(idle, );
    if (!self->f || !self->gone || !self->w || !self->never)
        CO_RAISE(self, CO_ENOMEM);
    CO_CHECK(self, co_task_set_name(&self->f->gen, "fetch-a"));
    CO_CHECK(self, co_task_set_name(&self->w->gen, "waiter"));
    CO_CHECK(self, co_spawn(&self->f->gen));
    CO_CHECK(self, co_spawn(&self->w->gen));
    CO_CHECK(self, co_spawn(&self->gone->gen));
    CO_SLEEP(self, 10); /* gdb: main_task */
    co_release(&self->gone->gen); /* done: freed, its slot a gap */
    stop_here();
    co_cancel(&self->w->gen);
    co_release(&self->never->gen);
CO_ASYNC_END

int main(void)
{
    main_task *m;
    int rc = co_loop_new(&the_loop, NULL);
    if (rc < 0)
        return 1;
    m = CO_TASK(the_loop, main_task, );
    rc = m ? co_run(the_loop, &m->gen) : CO_ENOMEM;
    co_loop_free(the_loop);
    printf("target: %s\n", rc == 0 ? "done" : co_strerror(rc));
    return rc == 0 ? 0 : 1;
}
