/*
 * gen_resume.c -- what one resume of a generator costs.
 *
 * One program times, in nanoseconds per resume, the same counter written four
 * ways: a corio generator driven by co_next; a hand-written `switch` state
 * machine, the floor for any stackless resume; a glibc ucontext producer,
 * the stackful alternative; and the corio counter seen through 1, 4 and 16
 * levels of yield-from, resumed from the outermost frame, and through 1 and
 * 16 levels of recursion whose frames come from an arena.  Each measurement
 * is repeated (7 runs of about 70 ms by default, interleaved in rounds) and
 * reported as the median with its min-max range, then as ratios of medians.
 * It prints, it asserts nothing about time: a wrong checksum is the only
 * failure.
 *
 * Build it once per local-continuation form (CO_USE_LABELS or not); the
 * hand-written and ucontext rows do not depend on the form and serve as the
 * yardstick between the two executables.
 *
 * Usage: gen_resume [--runs R] [--iters N] [--ms T] [--only NAME] | --list
 *   --iters fixes the resumes per run (no calibration), which makes the run
 *   repeatable under valgrind; --only runs one measurement by name; --list
 *   prints the names and labels, for bench/run.
 */
#define _POSIX_C_SOURCE 200809L

#include <corio/gen.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

/* Hides a value from the optimiser: after this it may be anything, so a frame
   pointer laundered here cannot reveal which body it runs, and the loop that
   drives it cannot be folded or inlined away. */
#define OPAQUE(x) __asm__("" : "+r"(x))

#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

#ifdef CO_USE_LABELS
#define FORM "labels"
#else
#define FORM "switch"
#endif

/* ------------------------------------------------------------- the counter */

/* Yields 0, 1, ..., n-1, then returns: `for i in range(n): yield i`. */
typedef struct {
    co_gen gen;
    int out;
    int in;
    int i;
    int n;
} counter;

static int counter_fn(co_gen *g)
{
    counter *self = (counter *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->n; self->i++)
        CO_YIELD(self, self->i);
    CO_END(self);
}

/* Resumes g until it finishes, summing what it yields into *out. */
static NOINLINE long long drain_gen(co_gen *g, const int *out)
{
    long long sum = 0;
    OPAQUE(g);
    OPAQUE(out);
    while (co_next(g) == CO_YIELDED)
        sum += *out;
    return sum;
}

static long long run_corio(long n)
{
    counter c;
    c.n = (int)n;
    CO_INIT(&c, counter_fn);
    return drain_gen(&c.gen, &c.out);
}

/* ------------------------------------------------- the hand-written machine */

/* The same counter as a bare state machine: one `switch`, one resume point. */
typedef struct {
    int lc;
    int out;
    int i;
    int n;
} machine;

typedef int (*machine_step)(machine *m);

static int machine_counter(machine *m)
{
    switch (m->lc) {
    case 0:
        for (m->i = 0; m->i < m->n; m->i++) {
            m->out = m->i;
            m->lc = 1;
            return 1;
    case 1:;
        }
        m->lc = 2;
        return 0;
    default:
        return 0;
    }
}

/* Like drain_gen: an indirect call the compiler cannot see through. */
static NOINLINE long long drain_machine(machine_step step, machine *m)
{
    long long sum = 0;
    OPAQUE(step);
    OPAQUE(m);
    while (step(m) == 1)
        sum += m->out;
    return sum;
}

static long long run_machine(long n)
{
    machine m = {0, 0, 0, (int)n};
    return drain_machine(machine_counter, &m);
}

/* ---------------------------------------------------------------- ucontext */

/* A producer on its own stack: each resume is two swapcontext calls. */
typedef struct {
    ucontext_t caller;
    ucontext_t self;
    int out;
    int n;
    int done;
} producer;

static producer *running_producer; /* makecontext passes no pointer portably */
static char producer_stack[64 * 1024];

static void producer_body(void)
{
    producer *p = running_producer;
    int i;
    for (i = 0; i < p->n; i++) {
        p->out = i;
        swapcontext(&p->self, &p->caller);
    }
    p->done = 1; /* returning switches to uc_link, the caller */
}

static NOINLINE long long drain_producer(producer *p)
{
    long long sum = 0;
    OPAQUE(p);
    while (swapcontext(&p->caller, &p->self) == 0 && !p->done)
        sum += p->out;
    return sum;
}

static long long run_ucontext(long n)
{
    static producer p;
    p.n = (int)n;
    p.done = 0;
    if (getcontext(&p.self) != 0) {
        perror("getcontext");
        exit(1);
    }
    p.self.uc_stack.ss_sp = producer_stack;
    p.self.uc_stack.ss_size = sizeof producer_stack;
    p.self.uc_link = &p.caller;
    running_producer = &p;
    makecontext(&p.self, producer_body, 0);
    return drain_producer(&p);
}

/* -------------------------------------------------------------- yield-from */

/*
 * A level delegates to the level below with one yield-from; the bottom one
 * delegates to the counter.  Distinct types, because a frame holds its child
 * by value.  Every value crosses all levels, and the outermost is resumed.
 */
#define DEFINE_LEVEL(name, child_type, child_body)  \
    typedef struct {                                \
        co_gen gen;                                 \
        int out;                                    \
        int in;                                     \
        int n;                                      \
        child_type child;                           \
    } name;                                         \
                                                    \
    static int name##_fn(co_gen *g)                 \
    {                                               \
        name *self = (name *)g;                     \
        CO_BEGIN(self);                             \
        self->child.n = self->n;                    \
        CO_INIT(&self->child, child_body);          \
        CO_YIELD_FROM(self, child);                 \
        CO_END(self);                               \
    }

DEFINE_LEVEL(level1, counter, counter_fn)
DEFINE_LEVEL(level2, level1, level1_fn)
DEFINE_LEVEL(level3, level2, level2_fn)
DEFINE_LEVEL(level4, level3, level3_fn)
DEFINE_LEVEL(level5, level4, level4_fn)
DEFINE_LEVEL(level6, level5, level5_fn)
DEFINE_LEVEL(level7, level6, level6_fn)
DEFINE_LEVEL(level8, level7, level7_fn)
DEFINE_LEVEL(level9, level8, level8_fn)
DEFINE_LEVEL(level10, level9, level9_fn)
DEFINE_LEVEL(level11, level10, level10_fn)
DEFINE_LEVEL(level12, level11, level11_fn)
DEFINE_LEVEL(level13, level12, level12_fn)
DEFINE_LEVEL(level14, level13, level13_fn)
DEFINE_LEVEL(level15, level14, level14_fn)
DEFINE_LEVEL(level16, level15, level15_fn)

#define RUN_LEVELS(type, n)                      \
    do {                                         \
        type f;                                  \
        f.n = (int)(n);                          \
        CO_INIT(&f, type##_fn);                  \
        return drain_gen(&f.gen, &f.out);        \
    } while (0)

static long long run_from1(long n) { RUN_LEVELS(level1, n); }
static long long run_from4(long n) { RUN_LEVELS(level4, n); }
static long long run_from16(long n) { RUN_LEVELS(level16, n); }

/*
 * The same chains written as recursion: one frame type that delegates to
 * itself, its levels taken from an arena (CO_ARENA_NEW); the innermost
 * level counts.  Resuming still jumps straight to the innermost level.
 */
typedef struct rlevel rlevel;
struct rlevel {
    co_gen gen;
    int out;
    int in;
    int n, depth, i;
    rlevel *kid;
};

static int rlevel_fn(co_gen *g)
{
    rlevel *self = (rlevel *)g;
    CO_BEGIN(self);
    if (self->depth > 0) {
        CO_ARENA_NEW(self, kid, rlevel_fn);
        self->kid->n = self->n;
        self->kid->depth = self->depth - 1;
        CO_YIELD_FROM_ARENA(self, kid);
    } else {
        for (self->i = 0; self->i < self->n; self->i++)
            CO_YIELD(self, self->i);
    }
    CO_END(self);
}

static long long run_recursive(long n, int depth)
{
    static struct {
        rlevel top;
        co_ctx ctx;
        co_arena arena;
        unsigned char frames[32 * sizeof(rlevel)];
    } r;
    long long sum;
    CO_INIT(&r.top, rlevel_fn);
    r.top.n = (int)n;
    r.top.depth = depth;
    co_ctx_attach(&r.top.gen, &r.ctx);
    co_arena_init(&r.arena, r.frames, sizeof r.frames);
    r.ctx.arena = &r.arena;
    r.ctx.error = NULL;
    sum = drain_gen(&r.top.gen, &r.top.out);
    if (co_result(&r.top.gen) != 0) {
        fprintf(stderr, "recursive chain: %s\n", co_gen_strerror(co_result(&r.top.gen)));
        exit(1);
    }
    return sum;
}

static long long run_rec1(long n) { return run_recursive(n, 1); }
static long long run_rec16(long n) { return run_recursive(n, 16); }

/* ------------------------------------------------------------- measurement */

#define MAX_RUNS 99

typedef struct {
    const char *name;  /* for --only */
    const char *label; /* for the table */
    long long (*run)(long n);
    bool selected;
    long iters;           /* resumes a run */
    double ns[MAX_RUNS];  /* ns per resume of each run, sorted at the end */
    double median;
} bench;

static bench benches[] = {
    {"machine", "hand-written switch", run_machine, false, 0, {0}, 0},
    {"corio", "corio generator", run_corio, false, 0, {0}, 0},
    {"from1", "corio yield-from, 1 level", run_from1, false, 0, {0}, 0},
    {"from4", "corio yield-from, 4 levels", run_from4, false, 0, {0}, 0},
    {"from16", "corio yield-from, 16 levels", run_from16, false, 0, {0}, 0},
    {"rec1", "corio recursion, 1 level", run_rec1, false, 0, {0}, 0},
    {"rec16", "corio recursion, 16 levels", run_rec16, false, 0, {0}, 0},
    {"ucontext", "ucontext swapcontext", run_ucontext, false, 0, {0}, 0},
};
#define NBENCH (sizeof benches / sizeof benches[0])

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Runs n resumes once; returns the nanoseconds it took.  Checks the sum,
   so a benchmark that skipped its work cannot pass unnoticed. */
static double time_run(const bench *b, long n)
{
    long long expect = (long long)n * (n - 1) / 2, got;
    double t0 = now_ns(), t1;
    got = b->run(n);
    t1 = now_ns();
    if (got != expect) {
        fprintf(stderr, "%s: checksum %lld, expected %lld\n", b->name, got, expect);
        exit(1);
    }
    return t1 - t0;
}

/* The resumes a run needs to last about target_ns (it also warms up). */
static long calibrate(const bench *b, double target_ns)
{
    long n = 1000;
    for (;;) {
        double t = time_run(b, n);
        if (t >= target_ns / 8 || n > 1000000000L / 4) {
            double scaled = (double)n * target_ns / (t > 1 ? t : 1);
            return scaled < 1000 ? 1000 : scaled > 2e9 ? 2000000000L : (long)scaled;
        }
        n *= 4;
    }
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/*
 * Times every selected benchmark `runs` times, in rounds: each round runs
 * each benchmark once.  On a shared machine the load drifts; interleaving
 * exposes all benchmarks to the same drift, which keeps their ratios honest.
 */
static void measure_all(int runs, long iters, double target_ns)
{
    size_t k;
    int r;
    for (k = 0; k < NBENCH; k++)
        if (benches[k].selected)
            benches[k].iters = iters > 0 ? iters : calibrate(&benches[k], target_ns);
    for (r = 0; r < runs; r++)
        for (k = 0; k < NBENCH; k++) {
            bench *b = &benches[k];
            if (b->selected)
                b->ns[r] = time_run(b, b->iters) / (double)b->iters;
        }
    for (k = 0; k < NBENCH; k++) {
        bench *b = &benches[k];
        if (!b->selected)
            continue;
        qsort(b->ns, (size_t)runs, sizeof b->ns[0], compare_doubles);
        b->median = runs % 2 ? b->ns[runs / 2] : (b->ns[runs / 2 - 1] + b->ns[runs / 2]) / 2;
    }
}

static const bench *find(const char *name)
{
    size_t i;
    for (i = 0; i < NBENCH; i++)
        if (strcmp(benches[i].name, name) == 0)
            return &benches[i];
    return NULL;
}

static void print_ratio(const char *label, const char *num, const char *den, const char *target)
{
    const bench *a = find(num), *b = find(den);
    if (a == NULL || b == NULL || !a->selected || !b->selected)
        return;
    printf("  %-28s %7.2f%s\n", label, a->median / b->median, target);
}

static void usage(void)
{
    fprintf(stderr, "usage: gen_resume [--runs R] [--iters N] [--ms T] [--only NAME] | --list\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int runs = 7, i;
    long iters = 0;
    double ms = 70;
    const char *only = NULL;
    size_t k;

    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (k = 0; k < NBENCH; k++)
            printf("%s\t%s\n", benches[k].name, benches[k].label);
        return 0;
    }
    for (i = 1; i < argc; i += 2) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (val == NULL)
            usage();
        if (strcmp(opt, "--runs") == 0)
            runs = atoi(val);
        else if (strcmp(opt, "--iters") == 0)
            iters = atol(val);
        else if (strcmp(opt, "--ms") == 0)
            ms = atof(val);
        else if (strcmp(opt, "--only") == 0)
            only = val;
        else
            usage();
    }
    if (runs < 1 || runs > MAX_RUNS || iters < 0 || ms <= 0 || (only && !find(only)))
        usage();

    printf("gen_resume, %s form, compiler %s: ns per resume, median [min - max] of %d runs\n",
           FORM, __VERSION__, runs);
    for (k = 0; k < NBENCH; k++)
        benches[k].selected = only == NULL || strcmp(only, benches[k].name) == 0;
    measure_all(runs, iters, ms * 1e6);
    for (k = 0; k < NBENCH; k++) {
        const bench *b = &benches[k];
        if (b->selected)
            printf("  %-28s %7.2f  [%.2f - %.2f]  (%ld resumes a run)\n", b->label, b->median,
                   b->ns[0], b->ns[runs - 1], b->iters);
    }
    if (only)
        return 0;
    printf("ratios of medians:\n");
    print_ratio("corio / hand-written", "corio", "machine", "  (target <= 1.5)");
    print_ratio("16 levels / 1 level", "from16", "from1", "  (target <= 1.5)");
    print_ratio("4 levels / 1 level", "from4", "from1", "");
    print_ratio("recursion 16 / 1 level", "rec16", "rec1", "  (target <= 1.5)");
    print_ratio("ucontext / corio", "ucontext", "corio", "");
    return 0;
}
