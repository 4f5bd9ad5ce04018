/*
 * measure.h -- what every runtime benchmark program shares: the clocks, the
 * peak resident set, the seeded deadlines, the command line and the one
 * line of results each measurement prints.
 *
 * A program does one measurement per process (so that its peak RSS is its
 * own) and prints it as `result bench=... lib=... n=... key=value ...`;
 * bench/runtime.sh runs it several times, takes medians and ranges, and
 * compares libraries.  Programs print, they do not judge: a wrong checksum
 * (work that did not happen) is the only failure.
 */
#ifndef BENCH_MEASURE_H
#define BENCH_MEASURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* Wall-clock nanoseconds (monotonic). */
static inline int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CPU nanoseconds the whole process used, user and system, every thread. */
static inline int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The peak resident set so far, in KiB (Linux reports ru_maxrss in KiB). */
static inline long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* splitmix64: the same seed gives every library the same deadlines. */
static inline uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

#define DEADLINE_SEED 20261121u

/*
 * n timer delays in the unit the caller asks for: whole milliseconds in
 * [1, 100] (the resolution libuv and CO_SLEEP take, so equal deadlines are
 * common, as with real timeouts), or whole microseconds in [1, 100000].
 * Never 0: a zero sleep is a yield, not a timer.
 */
static inline int64_t *make_delays(size_t n, int micro)
{
    uint64_t state = DEADLINE_SEED;
    uint64_t span = micro ? 100000 : 100;
    int64_t *d = malloc(n * sizeof *d);
    if (d == NULL) {
        fprintf(stderr, "out of memory for %zu delays\n", n);
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        d[i] = (int64_t)(next_random(&state) % span) + 1;
    return d;
}

/* Prints the usage line and exits (status 2). */
static inline _Noreturn void usage_exit(const char *usage)
{
    fprintf(stderr, "usage: %s\n", usage);
    exit(2);
}

/* argv[i] as a count (1..1e9), or exit with the usage line. */
static inline size_t parse_count(const char *arg, const char *usage)
{
    char *end;
    unsigned long long v = arg ? strtoull(arg, &end, 10) : 0;
    if (arg == NULL || *end != '\0' || v == 0 || v > 1000000000ull)
        usage_exit(usage);
    return (size_t)v;
}

/* Parses "--unit ms|us" at argv[i]; returns 1 for microseconds. */
static inline int parse_unit(int argc, char **argv, int i, const char *usage)
{
    if (i >= argc)
        return 0;
    if (i + 2 == argc && strcmp(argv[i], "--unit") == 0) {
        if (strcmp(argv[i + 1], "ms") == 0)
            return 0;
        if (strcmp(argv[i + 1], "us") == 0)
            return 1;
    }
    usage_exit(usage);
}

/* Whether the command line is `prog CMD N OPT`, with exactly this option. */
static inline bool given_option(int argc, char **argv, const char *opt)
{
    return argc == 4 && strcmp(argv[3], opt) == 0;
}

/* Exits non-zero when the work the benchmark timed did not all happen. */
static inline void check_sum(const char *what, long long got, long long expect)
{
    if (got != expect) {
        fprintf(stderr, "%s: checksum %lld, expected %lld\n", what, got, expect);
        exit(1);
    }
}

/* Sum of 0 .. n-1: what the jobs' values add up to. */
static inline long long triangle(size_t n) { return (long long)n * ((long long)n - 1) / 2; }

#endif /* BENCH_MEASURE_H */
