/*
 * task_dump.c -- `kill -USR1 <pid>` prints where every task of the loop is
 * waiting: each task's name and state, and its whole await chain, frame by
 * frame with body name and file:line, into the tasks it awaits.
 *
 * A few tasks stand still in the shapes a real program has: two fetches
 * deep in a sub-coroutine's sleep (fetch -> read_body), a task awaiting one
 * of them, and a ticker.  The signal is taken by the reactor
 * (co_signal_watch), which sets an event; the dump is printed by a task that
 * waits on it, on the loop's own thread -- never inside the signal handler,
 * where almost nothing is safe.  The Python twin, task_dump.py, does the same
 * with loop.add_signal_handler, asyncio.all_tasks and Task.print_stack
 * (docs/asyncio.md has the two outputs side by side).
 *
 *     async def read_body(url):
 *         await asyncio.sleep(3600)
 *     async def fetch(url):
 *         await read_body(url)
 *     async def waiter(task):
 *         await task
 *
 * Run: task_dump [--once], then `kill -USR1 <pid>` from another terminal
 * (the pid is printed first); Ctrl-C ends it.  --once ends it after the
 * first dump.
 */
#define _POSIX_C_SOURCE 200809L

#include <corio/corio.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

CO_ASYNC(read_body, const char *url;)
    CO_SLEEP(self, 3600 * 1000); /* dump: read_body */
CO_ASYNC_END

CO_ASYNC(fetch, const char *url; read_body body;)
    CO_AWAIT_CALL(self, body, read_body, .url = self->url); /* dump: fetch */
CO_ASYNC_END

CO_ASYNC(waiter, fetch *task;)
    CO_AWAIT_TASK(self, &self->task->gen); /* dump: waiter */
CO_ASYNC_END

CO_ASYNC(ticker, long ticks;)
    for (;;) {
        CO_SLEEP(self, 100); /* dump: ticker */
        self->ticks++;
    }
CO_ASYNC_END

/* The dump, on the loop's thread: the reactor sets the event per signal. */
CO_ASYNC(dump_on_signal, co_event ev; bool once;)
    co_event_init(&self->ev);
    CO_CHECK(self, co_signal_watch(co_running_loop(), SIGUSR1, &self->ev));
    for (;;) {
        CO_EVENT_WAIT(self, &self->ev); /* dump: dumper */
        co_event_clear(&self->ev);
        printf("--- %zu tasks\n", co_all_tasks(NULL, NULL, 0));
        co_loop_print_tasks(NULL, stdout);
        printf("---\n");
        fflush(stdout);
        if (self->once)
            break;
    }
    co_signal_unwatch(co_running_loop(), SIGUSR1);
CO_ASYNC_END

/* Starts task t under name, or raises what went wrong. */
#define START(self, t, name)                                                               \
    do {                                                                                   \
        CO_CHECK(self, (t) ? co_task_set_name(&(t)->gen, (name)) : CO_ENOMEM);            \
        CO_CHECK(self, co_spawn(&(t)->gen));                                               \
    } while (0)

CO_ASYNC(main_task, bool once; fetch *a, *b; waiter *w; ticker *tick; dump_on_signal *dump;)
    self->a = CO_CALL(fetch, .url = "https://example.com/a");
    START(self, self->a, "fetch-a");
    self->b = CO_CALL(fetch, .url = "https://example.com/b");
    START(self, self->b, "fetch-b");
    self->w = CO_CALL(waiter, .task = self->a);
    START(self, self->w, "waiter");
    self->tick = CO_CALL(ticker, );
    START(self, self->tick, "ticker");
    self->dump = CO_CALL(dump_on_signal, .once = self->once);
    START(self, self->dump, "dumper");
    CO_SLEEP(self, 0); /* every task has taken its first step */
    printf("task_dump: pid %ld -- kill -USR1 %ld prints its tasks\n", (long)getpid(),
           (long)getpid());
    fflush(stdout);
    CO_AWAIT_TASK(self, &self->dump->gen); /* dump: main */
CO_ASYNC_END

int main(int argc, char **argv)
{
    co_loop *loop;
    main_task *m;
    int rc = co_loop_new(&loop, NULL);
    if (rc < 0) {
        fprintf(stderr, "task_dump: %s\n", co_strerror(rc));
        return 1;
    }
    m = CO_TASK(loop, main_task, .once = argc > 1 && strcmp(argv[1], "--once") == 0);
    if (m)
        co_task_set_name(&m->gen, "main");
    rc = m ? co_run(loop, &m->gen) : CO_ENOMEM;
    co_loop_free(loop);
    if (rc < 0 && rc != CO_EINTERRUPTED) {
        fprintf(stderr, "task_dump: %s\n", co_strerror(rc));
        return 1;
    }
    return 0;
}
