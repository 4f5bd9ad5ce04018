/*
 * processes_vs_threads.c -- the lecture's "threads or asyncio?" with child
 * processes: N children that each sleep, waited for by one thread each (a
 * blocking waitpid per thread), then by one corio task each on a single
 * loop.  Both finish in about the children's own time, since every wait
 * overlaps; the difference is what a waiter costs: a thread and its stack,
 * or a task frame of a few hundred bytes.
 *
 * The Python it mirrors (processes_vs_threads.py):
 *
 *     def with_threads(n):
 *         ts = [threading.Thread(target=subprocess.run, args=(CMD,)) for _ in range(n)]
 *         for t in ts: t.start()
 *         for t in ts: t.join()
 *
 *     async def with_tasks(n):
 *         async def one():
 *             proc = await asyncio.create_subprocess_exec(*CMD)
 *             return await proc.wait()
 *         await asyncio.gather(*(one() for _ in range(n)))
 *
 * Run: processes_vs_threads [--children N] [--seconds S]  (100, 0.2)
 */
#define _POSIX_C_SOURCE 200809L

#include <corio/corio.h>

#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static const char *argv_child[] = {"sleep", NULL, NULL};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------- threads */

static void *thread_waiter(void *arg)
{
    pid_t pid;
    int *status = arg;
    if (posix_spawnp(&pid, argv_child[0], NULL, NULL, (char *const *)(uintptr_t)argv_child,
                     environ) != 0) {
        *status = -1;
        return NULL;
    }
    while (waitpid(pid, status, 0) < 0)
        ;
    return NULL;
}

static int with_threads(int n, size_t *stack)
{
    pthread_t *ts = calloc((size_t)n, sizeof *ts);
    int *st = calloc((size_t)n, sizeof *st), started = 0, failed = 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_getstacksize(&attr, stack);
    pthread_attr_destroy(&attr);
    if (ts == NULL || st == NULL)
        return -1;
    for (; started < n; started++)
        if (pthread_create(&ts[started], NULL, thread_waiter, &st[started]) != 0)
            break;
    for (int i = 0; i < started; i++) {
        pthread_join(ts[i], NULL);
        failed += st[i] != 0;
    }
    free(ts);
    free(st);
    return started < n ? -1 : failed;
}

/* ------------------------------------------------------------ tasks */

/* one(): proc = await create_subprocess_exec(*cmd); await proc.wait() */
CO_ASYNC(one, co_process proc;)
    CO_CHECK(self, co_process_spawn(co_running_loop(), &self->proc, argv_child, NULL));
    CO_PROCESS_WAIT(self, proc);
    CO_FINALLY(self) { co_process_close(&self->proc); }
CO_ASYNC_END

/* with_tasks(): await gather(*(one() for _ in range(n))) */
CO_ASYNC(gatherer, co_gen **tasks; int n; co_gather g;)
    CO_GATHER(self, &self->g, self->tasks, (size_t)self->n, CO_GATHER_FIRST_ERROR);
CO_ASYNC_END

static int with_tasks(int n)
{
    co_loop *loop;
    gatherer *main_task;
    int rc = co_loop_new(&loop, NULL);
    if (rc < 0)
        return rc;
    main_task = CO_TASK(loop, gatherer, .n = n);
    if (main_task == NULL || (main_task->tasks = calloc((size_t)n, sizeof(co_gen *))) == NULL) {
        co_loop_free(loop);
        return CO_ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        one *w = CO_TASK(loop, one, );
        if (w == NULL) {
            rc = CO_ENOMEM;
            break;
        }
        main_task->tasks[i] = &w->gen;
    }
    if (rc == 0)
        rc = co_run(loop, &main_task->gen);
    free(main_task->tasks);
    co_loop_free(loop);
    return rc;
}

int main(int argc, char **argv)
{
    int n = 100, rc;
    const char *seconds = "0.2";
    size_t stack = 0;
    double t0, t_threads, t_tasks;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--children") == 0 && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = argv[++i];
        else {
            fprintf(stderr, "usage: processes_vs_threads [--children N] [--seconds S]\n");
            return 2;
        }
    }
    if (n < 1) {
        fprintf(stderr, "--children: at least 1\n");
        return 2;
    }
    argv_child[1] = seconds;
    printf("%d children, each running: sleep %s\n", n, seconds);
    t0 = now_s();
    if ((rc = with_threads(n, &stack)) != 0) {
        fprintf(stderr, "threads: %d children failed\n", rc);
        return 1;
    }
    t_threads = now_s() - t0;
    printf("threads: %.2f s, %d threads, %zu KiB of stack reserved per waiter\n", t_threads, n,
           stack / 1024);
    t0 = now_s();
    if ((rc = with_tasks(n)) != 0) {
        fprintf(stderr, "tasks: %s\n", co_strerror(rc));
        return 1;
    }
    t_tasks = now_s() - t0;
    printf("tasks:   %.2f s, 1 thread, %zu bytes of frame per waiter\n", t_tasks,
           sizeof(one) + sizeof(co_task));
    return 0;
}
