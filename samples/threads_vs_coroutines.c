/*
 * threads_vs_coroutines.c -- lecture 3's "threads or asyncio?", measured.
 *
 * N jobs each wait 10 ms, then square 1000 numbers (the lecture's
 * threads.py: square_numbers).  They run two ways: one POSIX thread per job,
 * as threading.Thread would; and one corio task per job, all on the loop's
 * single thread, as asyncio would:
 *
 *     def square_numbers():                  async def square_numbers():
 *         time.sleep(0.01)                       await asyncio.sleep(0.01)
 *         for i in range(1000):                  for i in range(1000):
 *             result = i * i                         result = i * i
 *
 *     threads = [Thread(target=square_numbers) for _ in range(n)]
 *     for t in threads: t.start()
 *     for t in threads: t.join()
 *                                            await asyncio.gather(
 *                                                *(square_numbers() for _ in range(n)))
 *
 * Each run happens in a child process of its own, so that its peak memory
 * (getrusage's ru_maxrss) is its own; the table shows each run's wall time,
 * its peak memory, that peak above an idle child's divided by N, and a
 * checksum of what the jobs computed, which both ways must agree on.
 *
 * --jobs 1000,10000 picks the Ns (1,000 to 1,000,000 by default); threads
 * run only up to --threads-max jobs (10,000), as each costs a kernel thread.
 * A thread the system refuses (ulimit -u, kernel.threads-max,
 * vm.max_map_count, memory) is reported in the table.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */

#include <corio/corio.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { WAIT_MS = 10, SQUARES = 1000, MAX_NS = 16 };

/* ----------------------------------------------------------- the work */

/*
 * What a job computes once its wait is over: the squares of 1000 numbers
 * (its own 1000, so no two jobs compute the same), folded into a checksum.
 * The fold keeps the compiler from skipping the work, or from replacing the
 * loop with a formula.
 */
static uint64_t square_numbers(uint64_t job)
{
    uint64_t sum = 0, i;
    for (i = 0; i < SQUARES; i++) {
        uint64_t x = job * SQUARES + i;
        sum = (sum ^ x * x) * UINT64_C(0x100000001B3);
    }
    return sum;
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* What a run reports to the parent, through a pipe. */
typedef struct {
    int error;          /* 0; else an errno (threads) or a corio code */
    size_t started;     /* jobs started before an error */
    int64_t wall_ns;    /* from the first job started to the last one done */
    uint64_t checksum;  /* the jobs' results, added up */
    uint64_t peak_bytes; /* the child's peak resident memory */
} run_report;

/* ---------------------------------------------------------- threads */

typedef struct {
    uint64_t job;
    uint64_t result;
} thread_job;

static void *thread_main(void *arg)
{
    thread_job *j = arg;
    struct timespec wait = {0, WAIT_MS * 1000000L};
    while (nanosleep(&wait, &wait) != 0 && errno == EINTR)
        ;
    j->result = square_numbers(j->job);
    return NULL;
}

/* for t in threads: t.start(), then t.join(): stops starting threads at the
 * first the system refuses, and still joins those that started. */
static void run_threads(size_t n, run_report *rep)
{
    thread_job *jobs = calloc(n, sizeof *jobs);
    pthread_t *ids = calloc(n, sizeof *ids);
    int64_t start;
    size_t i;

    if (jobs == NULL || ids == NULL) {
        rep->error = ENOMEM;
        return;
    }
    start = now_ns();
    for (i = 0; i < n; i++) {
        jobs[i].job = i;
        rep->error = pthread_create(&ids[i], NULL, thread_main, &jobs[i]);
        if (rep->error != 0)
            break;
    }
    rep->started = i;
    for (i = 0; i < rep->started; i++)
        pthread_join(ids[i], NULL);
    rep->wall_ns = now_ns() - start;
    for (i = 0; i < rep->started; i++)
        rep->checksum += jobs[i].result;
    free(jobs);
    free(ids);
}

/* ------------------------------------------------------- corio tasks */

CO_ASYNC(job_task, uint64_t job; uint64_t result;)
    CO_SLEEP(self, WAIT_MS);
    self->result = square_numbers(self->job);
CO_ASYNC_END

/* await asyncio.gather(*(square_numbers() for _ in range(n))) */
CO_ASYNC(main_task, size_t n, started; co_gen **tasks; co_gather gather;)
    for (self->started = 0; self->started < self->n; self->started++) {
        job_task *t = CO_CALL(job_task, .job = self->started);
        if (t == NULL)
            CO_RAISE(self, CO_ENOMEM);
        self->tasks[self->started] = &t->gen;
    }
    CO_GATHER(self, &self->gather, self->tasks, self->n, CO_GATHER_FIRST_ERROR);
CO_ASYNC_END

static void run_tasks(size_t n, run_report *rep)
{
    co_gen **tasks = calloc(n, sizeof *tasks);
    co_loop *loop = NULL;
    main_task *m;
    int64_t start = now_ns();
    size_t i;

    if (tasks == NULL) {
        rep->error = CO_ENOMEM;
        return;
    }
    rep->error = co_loop_new(&loop, NULL);
    if (rep->error < 0) {
        free(tasks);
        return;
    }
    m = CO_TASK(loop, main_task, .n = n, .tasks = tasks);
    if (m == NULL) {
        rep->error = CO_ENOMEM;
    } else {
        rep->error = co_run(loop, &m->gen);
        rep->started = m->started;
    }
    rep->wall_ns = now_ns() - start;
    if (rep->error == 0)
        for (i = 0; i < n; i++)
            rep->checksum += ((job_task *)tasks[i])->result;
    co_loop_free(loop); /* the tasks with it */
    free(tasks);
}

/* Nothing at all: the peak memory of a child that runs no job. */
static void run_nothing(size_t n, run_report *rep)
{
    (void)n;
    (void)rep;
}

/* ------------------------------------------------- one run, one child */

static uint64_t peak_of_self(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
#ifdef __APPLE__
    return (uint64_t)ru.ru_maxrss; /* bytes there, KiB on Linux and the BSDs */
#else
    return (uint64_t)ru.ru_maxrss * 1024;
#endif
}

/* Reads exactly len bytes unless the other end closes first; the count. */
static size_t read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

/*
 * Runs run(n) in a new child process and fills rep.  false, with why
 * filled in, if the child could not be made or died without reporting (a
 * crash, or the kernel's out-of-memory killer).
 */
static bool measure(void (*run)(size_t n, run_report *rep), size_t n, run_report *rep,
                    char *why, size_t why_size)
{
    int fds[2], status;
    size_t got;
    pid_t pid;

    memset(rep, 0, sizeof *rep);
    if (pipe(fds) != 0) {
        snprintf(why, why_size, "pipe: %s", strerror(errno));
        return false;
    }
    fflush(NULL); /* the child must not print our buffered output again */
    pid = fork();
    if (pid < 0) {
        snprintf(why, why_size, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (pid == 0) {
        run_report r;
        memset(&r, 0, sizeof r);
        close(fds[0]);
        run(n, &r);
        r.peak_bytes = peak_of_self();
        _exit(write(fds[1], &r, sizeof r) == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fds[1]);
    got = read_full(fds[0], rep, sizeof *rep);
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (got == sizeof *rep)
        return true;
    if (WIFSIGNALED(status))
        snprintf(why, why_size, "the run was killed by signal %d%s", WTERMSIG(status),
                 WTERMSIG(status) == SIGKILL ? " (out of memory?)" : "");
    else
        snprintf(why, why_size, "the run ended without a report (status %d)",
                 WEXITSTATUS(status));
    return false;
}

/* -------------------------------------------------------- formatting */

/* 1000000 as "1,000,000". */
static const char *with_commas(char *buf, size_t size, size_t n)
{
    char digits[32];
    size_t len, i, o = 0;
    snprintf(digits, sizeof digits, "%zu", n);
    len = strlen(digits);
    for (i = 0; i < len && o + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

static const char *duration(char *buf, size_t size, int64_t ns)
{
    if (ns >= 1000000000)
        snprintf(buf, size, "%.2f s", (double)ns / 1e9);
    else
        snprintf(buf, size, "%.1f ms", (double)ns / 1e6);
    return buf;
}

static const char *bytes(char *buf, size_t size, double b)
{
    if (b >= 1024.0 * 1024 * 1024)
        snprintf(buf, size, "%.1f GiB", b / (1024.0 * 1024 * 1024));
    else if (b >= 1024.0 * 1024)
        snprintf(buf, size, "%.1f MiB", b / (1024.0 * 1024));
    else if (b >= 1024.0)
        snprintf(buf, size, "%.1f KiB", b / 1024.0);
    else
        snprintf(buf, size, "%.0f B", b);
    return buf;
}

/* ------------------------------------------------------------- table */

typedef struct {
    const char *name;
    void (*run)(size_t n, run_report *rep);
    const char *(*describe_error)(int error);
} variant;

static const char *thread_error(int error) { return strerror(error); }

static const variant threads = {"threads", run_threads, thread_error};
static const variant tasks = {"corio tasks", run_tasks, co_strerror};

/* What a row found, for the summary under the table. */
typedef struct {
    bool ok;
    int64_t wall_ns;
    double per_job; /* bytes */
    uint64_t checksum;
} outcome;

static uint64_t baseline_bytes;
static bool threads_refused; /* a threads run failed */

#define ROW_START "%10s   %-12s"

/* Runs one variant for n jobs and prints its row. */
static outcome row(const variant *v, size_t n)
{
    char count[32], why[160], wall[32], peak[32], per[32];
    outcome out = {false, 0, 0, 0};
    run_report rep;

    printf(ROW_START, with_commas(count, sizeof count, n), v->name);
    fflush(stdout); /* the row's start shows while the run runs */
    if (!measure(v->run, n, &rep, why, sizeof why)) {
        printf("failed: %s\n", why);
    } else if (rep.error != 0) {
        char at[32];
        printf("failed at job %s of %s: %s\n", with_commas(at, sizeof at, rep.started + 1),
               with_commas(count, sizeof count, n), v->describe_error(rep.error));
    } else {
        out.ok = true;
        out.wall_ns = rep.wall_ns;
        out.checksum = rep.checksum;
        out.per_job = rep.peak_bytes > baseline_bytes
                          ? (double)(rep.peak_bytes - baseline_bytes) / (double)n
                          : 0;
        printf("%10s   %11s   %14s   %016" PRIx64 "\n",
               duration(wall, sizeof wall, rep.wall_ns),
               bytes(peak, sizeof peak, (double)rep.peak_bytes),
               bytes(per, sizeof per, out.per_job), rep.checksum);
    }
    fflush(stdout);
    return out;
}

static size_t default_stack_size(void)
{
    pthread_attr_t attr;
    size_t size = 0;
    if (pthread_attr_init(&attr) == 0) {
        pthread_attr_getstacksize(&attr, &size);
        pthread_attr_destroy(&attr);
    }
    return size;
}

static void explain(void)
{
    char stack[32], base[32];
    printf("\n"
           "wall time       from the first job's start to the last one's end\n"
           "peak memory     the run's peak resident memory (each run is a process of its own)\n"
           "memory per job  that peak less an idle process's (%s), divided by the jobs;\n"
           "                the loop's own memory weighs on small N\n"
           "checksum        what the jobs computed, added up: both ways must agree\n"
           "\n",
           bytes(base, sizeof base, (double)baseline_bytes));
    if (threads_refused)
        printf("Some threads were refused: the system limits them (ulimit -u, ulimit -s,\n"
               "kernel.threads-max, vm.max_map_count, memory); those runs show no numbers.\n\n");
    printf("Why: a thread belongs to the kernel.  Each gets a stack of its own (%s\n"
           "of address space, of which it touches a few pages), and starting one is a\n"
           "system call, so with thousands of threads most of the time and memory goes\n"
           "to starting them; the kernel's own share (its stack for each thread, say)\n"
           "is not even counted here.  A corio task is %zu bytes: the loop's\n"
           "bookkeeping and a frame with what the job keeps across its await.  Starting\n"
           "one is a malloc and a place in the ready queue, and its 10 ms wait is an\n"
           "entry in the loop's timer heap.  Both ways, the waits overlap.  The squares\n"
           "do not: the tasks compute them one after another on the loop's one thread,\n"
           "while threads can use every CPU (%ld here).\n",
           bytes(stack, sizeof stack, (double)default_stack_size()),
           sizeof(co_task) + sizeof(job_task), sysconf(_SC_NPROCESSORS_ONLN));
}

/* The largest n both ways ran, compared in a sentence. */
static void summarise(size_t n, outcome t, outcome c)
{
    char count[32];
    if (t.checksum != c.checksum) {
        printf("\nThe checksums differ at %s jobs: the two ways did not compute the same.\n",
               with_commas(count, sizeof count, n));
        return;
    }
    printf("\nAt %s jobs, the corio tasks were done %.1f times sooner than the threads",
           with_commas(count, sizeof count, n),
           c.wall_ns > 0 ? (double)t.wall_ns / (double)c.wall_ns : 0.0);
    if (c.per_job > 0 && t.per_job > 0)
        printf(",\nwith %.*f times less memory per job", t.per_job < 10 * c.per_job ? 1 : 0,
               t.per_job / c.per_job);
    printf(".\n");
}

/* ---------------------------------------------------------- options */

/* "1000,10000" into ns; false if it is not a list of counts 1..10^8. */
static bool parse_jobs(const char *text, size_t *ns, size_t *count)
{
    const char *p = text;
    *count = 0;
    for (;;) {
        char *end;
        unsigned long long v;
        if (*p < '0' || *p > '9' || *count == MAX_NS)
            return false;
        errno = 0;
        v = strtoull(p, &end, 10);
        if (errno != 0 || v == 0 || v > 100000000)
            return false;
        ns[(*count)++] = (size_t)v;
        if (*end == '\0')
            return true;
        if (*end != ',')
            return false;
        p = end + 1;
    }
}

static void usage_error(const char *prog, const char *arg)
{
    fprintf(stderr,
            "%s: unexpected argument '%s'\n"
            "usage: %s [--jobs N[,N...]] [--threads-max N]\n",
            prog, arg, prog);
    exit(2);
}

int main(int argc, char **argv)
{
    size_t ns[MAX_NS] = {1000, 10000, 100000, 1000000}, count = 4, threads_max = 10000, i;
    size_t both_n = 0;
    outcome both_t = {false, 0, 0, 0}, both_c = both_t;
    run_report idle;
    char why[160], c1[32], c2[32];
    int a;

    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--jobs") == 0 && a + 1 < argc) {
            if (!parse_jobs(argv[++a], ns, &count))
                usage_error(argv[0], argv[a]);
        } else if (strcmp(argv[a], "--threads-max") == 0 && a + 1 < argc) {
            size_t max_one[1], one;
            if (!parse_jobs(argv[++a], max_one, &one) || one != 1)
                usage_error(argv[0], argv[a]);
            threads_max = max_one[0];
        } else {
            usage_error(argv[0], argv[a]);
        }
    }
    if (!measure(run_nothing, 0, &idle, why, sizeof why)) {
        fprintf(stderr, "%s: %s\n", argv[0], why);
        return 1;
    }
    baseline_bytes = idle.peak_bytes;

    printf("N jobs each wait %d ms, then square %d numbers: one thread per job, or\n"
           "one corio task per job (all on one thread).\n\n",
           WAIT_MS, SQUARES);
    printf(ROW_START "%10s   %11s   %14s   %s\n", "jobs", "run as", "wall time", "peak memory",
           "memory per job", "checksum");
    for (i = 0; i < count; i++) {
        outcome t = {false, 0, 0, 0}, c;
        if (ns[i] <= threads_max) {
            t = row(&threads, ns[i]);
            threads_refused |= !t.ok;
        } else
            printf(ROW_START "not run: more than --threads-max %s\n",
                   with_commas(c1, sizeof c1, ns[i]), threads.name,
                   with_commas(c2, sizeof c2, threads_max));
        c = row(&tasks, ns[i]);
        if (t.ok && c.ok) {
            both_n = ns[i];
            both_t = t;
            both_c = c;
        }
    }
    explain();
    if (both_n)
        summarise(both_n, both_t, both_c);
    return 0;
}
