/*
 * threads_bench.c -- the jobs of `corio_bench spawn N --add` as threads: one
 * pthread per job, default attributes (so the default 8 MiB stack
 * reservation, of which a job touches a few pages), each sleeping 10 ms
 * then adding its number to a shared total; all created, then all joined.
 *
 * Usage: threads_bench N    (prints bench=jobs lib=threads)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "measure.h"

static const char usage[] = "threads_bench N";

static atomic_llong total;

static void *job(void *arg)
{
    struct timespec ten_ms = {0, 10000000};
    while (nanosleep(&ten_ms, &ten_ms) != 0)
        ;
    atomic_fetch_add(&total, (long long)(intptr_t)arg);
    return NULL;
}

int main(int argc, char **argv)
{
    size_t n = parse_count(argc == 2 ? argv[1] : NULL, usage);
    pthread_t *threads = malloc(n * sizeof *threads);
    if (threads == NULL) {
        fputs("out of memory\n", stderr);
        return 1;
    }
    long rss0 = peak_rss_kb();
    int64_t t0 = wall_ns(), c0 = cpu_ns();
    for (size_t i = 0; i < n; i++) {
        int rc = pthread_create(&threads[i], NULL, job, (void *)(intptr_t)i);
        if (rc != 0) {
            fprintf(stderr, "pthread_create #%zu: %s\n", i, strerror(rc));
            return 1;
        }
    }
    for (size_t i = 0; i < n; i++)
        pthread_join(threads[i], NULL);
    int64_t t1 = wall_ns(), c1 = cpu_ns();
    long rss1 = peak_rss_kb();
    check_sum("threads", atomic_load(&total), triangle(n));
    printf("result bench=jobs lib=threads n=%zu wall_ns=%lld cpu_ns=%lld rss_kb=%ld\n", n,
           (long long)(t1 - t0), (long long)(c1 - c0), rss1 - rss0);
    free(threads);
    return 0;
}
