/*
 * heap_bench.c -- corio's timers on their own: src/sched/heap.c (the heap and
 * its lane) compiled into this program and driven through its internal API
 * (loop.h), with no task around the timers.  It separates what the heap costs from what a task's
 * sleep adds (a resume, the ready queue) in `corio_bench timers`.
 *
 *   timers N [--unit ms|us]
 *     start:  co__heap_push of N timers, the same deadlines as the others;
 *     cancel: co__heap_remove of all of them, in the order they were armed;
 *     restart: N pushed again, into the array the first push grew;
 *     fire:   then the earliest popped until none is left (what the loop
 *             does as deadlines pass), CPU time; the order is checked after.
 */
#include "sched/loop.h"
#include "measure.h"

static const char usage[] = "heap_bench timers N [--unit ms|us]";

static void push_all(co_loop *loop, co_timer *set, const int64_t *deadline, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (co__heap_push(loop, &set[i], deadline[i]) < 0) {
            fputs("out of memory\n", stderr);
            exit(1);
        }
}

int main(int argc, char **argv)
{
    static co_loop loop; /* only its heap and timer_seq are used */
    if (argc < 3 || strcmp(argv[1], "timers") != 0)
        usage_exit(usage);
    size_t n = parse_count(argv[2], usage);
    int micro = parse_unit(argc, argv, 3, usage);
    int64_t *deadline = make_delays(n, micro);
    co_timer *set = calloc(n, sizeof *set);
    if (set == NULL) {
        fputs("out of memory\n", stderr);
        return 1;
    }
    for (size_t i = 0; i < n; i++) { /* the loop's deadlines: now + delay, in ns */
        deadline[i] = 1000000000 + deadline[i] * (micro ? 1000 : 1000000);
        /* set up before the clock starts, as ev_bench's ev_timer_init does:
           calloc's pages are first touched here, not by the first push */
        set[i].kind = CO__TIMER_CALLBACK;
    }

    int64_t t0 = wall_ns();
    push_all(&loop, set, deadline, n);
    int64_t start = wall_ns() - t0;

    t0 = wall_ns();
    for (size_t i = 0; i < n; i++)
        co__heap_remove(&loop, &set[i]);
    int64_t cancel = wall_ns() - t0;

    t0 = wall_ns();
    push_all(&loop, set, deadline, n);
    int64_t restart = wall_ns() - t0;
    co_timer **order = malloc(n * sizeof *order); /* checked after the clock stops */
    size_t fired = 0;
    co_timer *t;
    if (order == NULL) {
        fputs("out of memory\n", stderr);
        return 1;
    }
    t0 = wall_ns();
    int64_t c0 = cpu_ns();
    while ((t = co__heap_pop_due(&loop, INT64_MAX)) != NULL)
        order[fired++] = t;
    int64_t fire_cpu = cpu_ns() - c0, fire_wall = wall_ns() - t0;
    for (size_t i = 1; i < fired; i++)
        if (deadline[order[i] - set] < deadline[order[i - 1] - set] ||
            (deadline[order[i] - set] == deadline[order[i - 1] - set] &&
             (int32_t)(order[i]->seq - order[i - 1]->seq) < 0)) {
            fputs("timer order broken\n", stderr);
            return 1;
        }
    check_sum("heap", (long long)fired, (long long)n);
    printf("result bench=timers lib=corio-heap unit=%s n=%zu start_ns=%lld cancel_ns=%lld "
           "restart_ns=%lld fire_cpu_ns=%lld fire_wall_ns=%lld\n",
           micro ? "us" : "ms", n, (long long)start, (long long)cancel, (long long)restart,
           (long long)fire_cpu, (long long)fire_wall);
    co__heap_free(&loop);
    free(order);
    free(set);
    free(deadline);
    return 0;
}
