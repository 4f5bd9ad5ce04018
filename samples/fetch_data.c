/*
 * fetch_data.c -- awaiting a task for its result, while another task runs
 * beside it and is never awaited: asyncio.run cancels that one at the end.
 *
 * The Python it mirrors (samples/fetch_data.py, the lecture's example):
 *
 *     async def fetch_data() -> dict:
 *         print("start fetching")
 *         await asyncio.sleep(2)
 *         print("finished fetching")
 *         return {"data": 123}
 *
 *     async def print_numbers():
 *         for i in range(10):
 *             print(i)
 *             await asyncio.sleep(0.45)
 *
 *     async def main():
 *         fetching_task = asyncio.create_task(fetch_data())
 *         printing_task = asyncio.create_task(print_numbers())
 *         value = await fetching_task
 *         print(value)
 *
 *     asyncio.run(main())
 *
 * It prints the same lines, the dict included.  A task's return value lives
 * in its frame (the `ret` field), where the awaiting task reads it once the
 * task is done.  --fake-clock runs it on virtual time, instantly; --trace
 * puts the loop's time in front of every line and shows, in brackets, the
 * cancellation Python does silently.
 */
#include "tour.h"

#include <stdio.h>
#include <string.h>

/* Python's {"data": 123}: a one-entry dict is all this sample returns. */
typedef struct {
    const char *key;
    int value;
} dict_entry;

/* print(value) of a dict shows its repr: quotes around the string key. */
static void print_dict(const dict_entry *d)
{
    tour_say("{'%s': %d}", d->key, d->value);
}

CO_ASYNC(fetch_data, dict_entry ret;) /* ret: the return value, read by whoever awaits it */
    static const dict_entry data = {"data", 123};
    tour_say("start fetching");
    CO_SLEEP(self, 2000);
    tour_say("finished fetching");
    CO_RETURN(self, data);
CO_ASYNC_END

CO_ASYNC(print_numbers, int i;)
    for (self->i = 0; self->i < 10; self->i++) {
        tour_say("%d", self->i);
        CO_SLEEP(self, 450);
    }
    CO_FINALLY(self) {
        if (CO_THROWN(self) == CO_ECANCELLED)
            tour_trace("print_numbers cancelled at its sleep after %d", self->i);
    }
CO_ASYNC_END

/* create_task: each is scheduled now and first runs when main awaits */
CO_ASYNC(main_task, fetch_data *fetching_task; print_numbers *printing_task;)
    CO_CREATE_TASK(self, self->fetching_task, fetch_data, );
    CO_CREATE_TASK(self, self->printing_task, print_numbers, );
    CO_AWAIT_TASK(self, &self->fetching_task->gen); /* raises what the task raised */
    print_dict(&self->fetching_task->ret);
CO_ASYNC_END

int main(int argc, char **argv)
{
    static const char usage[] = "[--fake-clock] [--trace]";
    co_loop *loop;
    main_task *m;
    int rc, i;

    for (i = 1; i < argc; i++)
        if (!tour_option(argv[i]))
            tour_usage_error(argv[0], usage, argv[i]);
    loop = tour_loop();
    m = CO_TASK(loop, main_task, );
    rc = m ? co_run(loop, &m->gen) : CO_ENOMEM;
    tour_trace("asyncio.run returns");
    tour_loop_free(loop); /* frees the tasks too */
    return tour_exit_status(argv[0], rc);
}
