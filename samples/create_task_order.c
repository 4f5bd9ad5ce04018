/*
 * create_task_order.c -- await versus create_task: when a coroutine's first
 * line runs, and what asyncio.run does with a task still running when main
 * returns.
 *
 * The Python it mirrors (samples/create_task_order.py, the lecture's example):
 *
 *     async def foo(text):
 *         print(text)
 *         await asyncio.sleep(3)  # stands for 3 s of work
 *         print("also finished")
 *
 *     async def sequential():
 *         print("hello")
 *         await foo("world")
 *         print("finished")
 *
 *     async def fire_and_forget():
 *         print("hello")
 *         task = asyncio.create_task(foo("world"))
 *         print("finished")
 *
 *     async def fire_then_wait():
 *         print("hello")
 *         task = asyncio.create_task(foo("world"))
 *         print("finished")
 *         await asyncio.sleep(4)
 *         print("finished 2")
 *
 *     for main in (sequential, fire_and_forget, fire_then_wait):
 *         print(f"-- {main.__name__}")
 *         asyncio.run(main())
 *
 * It prints the same lines.  --fake-clock runs it on virtual time, instantly;
 * --trace puts the loop's time in front of every line and also shows, in
 * brackets, what Python does silently: a task cancelled at shutdown, and the
 * moment asyncio.run returns.
 */
#include "tour.h"

#include <stdio.h>
#include <string.h>

/* foo(text): runs as a coroutine awaited by delegation, or as a task. */
CO_ASYNC(foo, const char *text;)
    tour_say("%s", self->text);
    CO_SLEEP(self, 3000); /* stands for 3 s of work */
    tour_say("also finished");
    CO_FINALLY(self) {
        if (CO_THROWN(self) == CO_ECANCELLED)
            tour_trace("foo(\"%s\") cancelled at its sleep", self->text);
    }
CO_ASYNC_END

/* sequential(): `await foo(...)` runs foo inside this task, to its end. */
CO_ASYNC(sequential, foo child;)
    tour_say("hello");
    CO_AWAIT_CALL(self, child, foo, .text = "world");
    tour_say("finished");
CO_ASYNC_END

/* fire_and_forget(): returns before the task it made has even started. */
CO_ASYNC(fire_and_forget, foo *task;)
    tour_say("hello");
    CO_CREATE_TASK(self, self->task, foo, .text = "world");
    tour_say("finished");
CO_ASYNC_END

/* fire_then_wait(): stays alive long enough for the task to finish. */
CO_ASYNC(fire_then_wait, foo *task;)
    tour_say("hello");
    CO_CREATE_TASK(self, self->task, foo, .text = "world");
    tour_say("finished");
    CO_SLEEP(self, 4000);
    tour_say("finished 2");
CO_ASYNC_END

/* The three mains, as Python's tuple of coroutine functions. */
static const struct {
    const char *name;
    co_body body;
    size_t size;
} mains[] = {
    {"sequential", sequential_fn, sizeof(sequential)},
    {"fire_and_forget", fire_and_forget_fn, sizeof(fire_and_forget)},
    {"fire_then_wait", fire_then_wait_fn, sizeof(fire_then_wait)},
};

/* asyncio.run(main()): a fresh loop for each run, as Python makes. */
static int run_one(co_body body, size_t size)
{
    co_loop *loop = tour_loop();
    co_gen *m = co_task_new(loop, size, body);
    int rc = m ? co_run(loop, m) : CO_ENOMEM;
    tour_trace("asyncio.run returns");
    tour_loop_free(loop);
    return rc;
}

int main(int argc, char **argv)
{
    static const char usage[] = "[--fake-clock] [--trace]";
    size_t i;
    int rc;

    for (i = 1; i < (size_t)argc; i++)
        if (!tour_option(argv[i]))
            tour_usage_error(argv[0], usage, argv[i]);
    for (i = 0; i < sizeof mains / sizeof mains[0]; i++) {
        printf("-- %s\n", mains[i].name);
        rc = run_one(mains[i].body, mains[i].size);
        if (rc != 0)
            return tour_exit_status(argv[0], rc);
    }
    return 0;
}
