/*
 * diff_test.c -- differential test of the generator core against CPython.
 *
 * For each generator shape, twins.py (run by python3) draws seeded random
 * walks of operations -- new / next / send v / throw KIND / close -- runs
 * them on its Python generator and prints one neutral trace line for each.
 * This test replays the operation of every line on the shape's C twin
 * (twins_basic.c, twins_grown.c), prints its own line the same way and compares the two byte for
 * byte, reporting the first disagreement with the lines that led to it.
 *
 * Without python3 every test is skipped with the reason, and the executable
 * exits 77 so that meson reports SKIP rather than OK.
 */
#define _POSIX_C_SOURCE 200809L

#include "twins.h"

#include <criterion/criterion.h>
#include <criterion/hooks.h>

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef DIFF_SCRIPT
#error "DIFF_SCRIPT must be the absolute path of twins.py (test/diff/meson.build sets it)"
#endif
/* The interpreter the semantics were checked against; python3 on PATH else. */
#ifndef DIFF_PYTHON
#define DIFF_PYTHON "/usr/bin/python3"
#endif

#define SEEDS 40      /* random walks per shape */
#define COUNT 200     /* operations per walk */
#define CONTEXT 8     /* agreeing lines shown before a mismatch */
#define LINE_CAP 2048 /* longest trace line */
#define MAX_MUST 8

extern char **environ;


/* ------------------------------------------------------------- python3 */

static bool find_python(char *path, size_t cap)
{
    const char *dirs = getenv("PATH");
    if (access(DIFF_PYTHON, X_OK) == 0) {
        snprintf(path, cap, "%s", DIFF_PYTHON);
        return true;
    }
    while (dirs != NULL && *dirs != '\0') {
        size_t len = strcspn(dirs, ":");
        int n = snprintf(path, cap, "%.*s/python3", (int)len, dirs);
        if (len > 0 && n > 0 && (size_t)n < cap && access(path, X_OK) == 0)
            return true;
        dirs += len + (dirs[len] == ':');
    }
    return false;
}

struct python {
    pid_t pid;
    FILE *out; /* its stdout; its stderr is ours, so a traceback shows */
};

/* Runs `twins.py shape SEEDS COUNT`; 0 or an errno value. */
static int python_start(struct python *py, const char *exe, const char *shape)
{
    char seeds[16], count[16];
    char *argv[] = {(char *)exe, "-I", DIFF_SCRIPT, (char *)shape, seeds, count, NULL};
    posix_spawn_file_actions_t actions;
    int fds[2], rc;

    snprintf(seeds, sizeof seeds, "%d", SEEDS);
    snprintf(count, sizeof count, "%d", COUNT);
    if (pipe(fds) != 0)
        return errno;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    rc = posix_spawn(&py->pid, exe, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return rc;
    }
    py->out = fdopen(fds[0], "r");
    return 0;
}

/* Reads the rest of its output (so it never dies of a broken pipe) and
   reaps it; its exit status, or 128 + the signal that killed it. */
static int python_finish(struct python *py)
{
    int status;
    while (fgetc(py->out) != EOF)
        ;
    fclose(py->out);
    if (waitpid(py->pid, &status, 0) != py->pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* -------------------------------------------------------------- replay */

struct replay {
    const struct twin *twin;
    co_gen *g;                         /* the generator of the current walk */
    char header[128];                  /* "# shape S seed N" of that walk */
    char context[CONTEXT][LINE_CAP];   /* its last agreeing lines, a ring */
    long walk_lines, walks, ops;
    const char *const *must_see;       /* texts some agreeing line must hold */
    bool seen[MAX_MUST];
    bool failed;
    char report[(CONTEXT + 4) * LINE_CAP];
};

/* Python's outcome of an operation, from the C result `rc`. */
static void name_outcome(const struct replay *r, int rc, bool closing, char *buf, size_t cap)
{
    const char *kind = twin_kind(rc);
    if (rc == CO_YIELDED && !closing)
        snprintf(buf, cap, "yield %d", twin_out(r->g));
    else if (rc == CO_RETURNED)
        snprintf(buf, cap, closing ? "closed" : "return %d", twin_ret(r->g));
    else if (rc < 0 && kind != NULL && twin_code(kind) != 0)
        snprintf(buf, cap, "raise %s", kind);
    else if (rc < 0 && kind != NULL)
        snprintf(buf, cap, "%s", kind);
    else
        snprintf(buf, cap, "unexpected %d (%s)", rc, co_gen_strerror(rc));
}

/* Performs operation `name arg` on the C twin; false if it is malformed. */
static bool apply(struct replay *r, const char *name, const char *arg, char *outcome, size_t cap)
{
    int rc;
    bool closing = false;
    if (strcmp(name, "new") == 0) {
        r->g = twin_make(r->twin, atoi(arg));
        snprintf(outcome, cap, "created");
        return r->g != NULL;
    }
    if (r->g == NULL)
        return false;
    if (strcmp(name, "next") == 0) {
        rc = co_next(r->g);
    } else if (strcmp(name, "send") == 0) {
        rc = twin_send(r->g, atoi(arg));
    } else if (strcmp(name, "throw") == 0 && twin_code(arg) != 0) {
        rc = co_throw(r->g, twin_code(arg));
    } else if (strcmp(name, "close") == 0) {
        rc = co_close(r->g);
        closing = true;
    } else {
        return false;
    }
    name_outcome(r, rc, closing, outcome, cap);
    return true;
}

/* The state column: the generator's state, its children's, and the depth of
   its yield-from chain (gi_yieldfrom followed to the end). */
static void describe(const struct replay *r, char *buf, size_t cap)
{
    const co_gen *y;
    size_t len = (size_t)snprintf(buf, cap, "%s", twin_state(r->g));
    int i, depth = 0;
    if (r->twin->kids[0] == NULL && !r->twin->chain)
        return;
    for (i = 0; r->twin->kids[i] != NULL && len < cap; i++) {
        const co_gen *kid = twin_kid(r->twin, r->g, i);
        len += (size_t)snprintf(buf + len, cap - len, " %s=%s", r->twin->kids[i],
                                kid ? twin_state(kid) : "-");
    }
    for (y = co_yieldfrom(r->g); y != NULL; y = co_yieldfrom(y))
        depth++;
    if (len < cap)
        snprintf(buf + len, cap - len, " yf=%d", depth);
}

/* Replays the operation of Python's trace line `py` into C's line `mine`. */
static bool replay_op(struct replay *r, const char *py, char *mine, size_t cap)
{
    const char *arrow = strstr(py, " => ");
    char op[64], name[16], arg[16] = "", outcome[256], state[256];
    int index;
    if (arrow == NULL || (size_t)(arrow - py) >= sizeof op)
        return false;
    memcpy(op, py, (size_t)(arrow - py));
    op[arrow - py] = '\0';
    if (sscanf(op, "%d %15s %15s", &index, name, arg) < 2)
        return false;
    twin_log_clear();
    if (!apply(r, name, arg, outcome, sizeof outcome))
        return false;
    describe(r, state, sizeof state);
    snprintf(mine, cap, "%s => %s | %s | %s", op, outcome, state, twin_log_text());
    return true;
}

/* Writes the first-mismatch report: where, the lines before, both lines. */
static void report_mismatch(struct replay *r, const char *py, const char *mine)
{
    size_t len, cap = sizeof r->report;
    long first = r->walk_lines > CONTEXT ? r->walk_lines - CONTEXT : 0, i;
    r->failed = true;
    len = (size_t)snprintf(r->report, cap, "%s: C and Python disagree at line %ld of the walk\n",
                           r->header, r->walk_lines + 1);
    for (i = first; i < r->walk_lines && len < cap; i++)
        len += (size_t)snprintf(r->report + len, cap - len, "  both:   %s\n",
                                r->context[i % CONTEXT]);
    if (len < cap)
        snprintf(r->report + len, cap - len, "  python: %s\n  C:      %s", py,
                 mine ? mine : "(cannot replay this operation)");
}

static void replay_line(struct replay *r, const char *py)
{
    char mine[LINE_CAP];
    int i;
    if (r->failed)
        return;
    if (py[0] == '#') {
        snprintf(r->header, sizeof r->header, "%s", py);
        r->g = NULL;
        r->walk_lines = 0;
        r->walks++;
        return;
    }
    if (!replay_op(r, py, mine, sizeof mine)) {
        report_mismatch(r, py, NULL);
        return;
    }
    if (strcmp(mine, py) != 0) {
        report_mismatch(r, py, mine);
        return;
    }
    for (i = 0; r->must_see[i] != NULL; i++)
        r->seen[i] = r->seen[i] || strstr(py, r->must_see[i]) != NULL;
    snprintf(r->context[r->walk_lines % CONTEXT], LINE_CAP, "%s", py);
    r->walk_lines++;
    r->ops++;
}

/*
 * Runs every walk of `shape` on both sides.  `must_see` lists texts that some
 * agreeing line must contain: proof that the walks reached the paths the
 * shape exists for (an ignored close, a caught error, ...).
 */
static void check_shape(const char *shape, const char *const *must_see)
{
    static struct replay r; /* too big for a test's stack */
    char python[PATH_MAX], *line = NULL;
    size_t line_cap = 0;
    ssize_t n;
    struct python py;
    int rc, status, i;

    if (!find_python(python, sizeof python)) {
        /* on stderr too: Criterion prints skip reasons only with --verbose */
        fprintf(stderr, "[SKIP] diff::%s: no python3 (neither %s nor on PATH)\n", shape,
                DIFF_PYTHON);
        cr_skip_test("no python3 (neither %s nor on PATH)", DIFF_PYTHON);
    }
    cr_assert(access(DIFF_SCRIPT, R_OK) == 0, "cannot read %s", DIFF_SCRIPT);
    memset(&r, 0, sizeof r);
    r.twin = twin_find(shape);
    r.must_see = must_see;
    cr_assert(r.twin != NULL, "no C twin named %s", shape);
    rc = python_start(&py, python, shape);
    cr_assert(rc == 0, "cannot run %s: %s", python, strerror(rc));
    while ((n = getline(&line, &line_cap, py.out)) != -1) {
        if (n > 0 && line[n - 1] == '\n')
            line[n - 1] = '\0';
        replay_line(&r, line);
    }
    free(line);
    status = python_finish(&py);

    cr_assert(status == 0, "%s %s %s exited with status %d", python, DIFF_SCRIPT, shape, status);
    cr_assert(!r.failed, "%s", r.report);
    cr_assert(r.walks == SEEDS && r.ops == (long)SEEDS * COUNT,
              "%s: %ld walks, %ld operations compared; expected %d x %d", shape, r.walks,
              r.ops, SEEDS, COUNT);
    for (i = 0; must_see[i] != NULL; i++)
        cr_expect(r.seen[i], "%s: no walk produced \"%s\"", shape, must_see[i]);
}

/* One test a shape; the texts after its name are its `must_see`. */
#define SHAPE_TEST(shape, ...)                                                  \
    Test(diff, shape)                                                           \
    {                                                                           \
        static const char *const must_see[MAX_MUST + 1] = {__VA_ARGS__, NULL};  \
        check_shape(#shape, must_see);                                          \
    }

SHAPE_TEST(counter, "=> yield", "=> return", "=> exhausted", "=> raise E1", "=> not-started",
           "=> closed")
SHAPE_TEST(accumulator, "=> return", "over:", "=> raise E3 | CLOSED | over:")
SHAPE_TEST(delegator, "child-ret:", "child=SUSPENDED yf=1", "=> yield 10", "=> return")
SHAPE_TEST(cleanup, "cleanup:-", "cleanup:EXIT", "cleanup:E1", "got:")
SHAPE_TEST(catcher, "caught:E1", "caught:E2", "=> yield -1", "=> raise E3")
SHAPE_TEST(stubborn, "=> ignored-close", "exit-caught give-up", "throw EXIT => yield")
SHAPE_TEST(finyield, "=> ignored-close", "finally:EXIT", "=> raise EXIT", "finally-done",
           "throw E1 => yield 100")
SHAPE_TEST(finsend, "=> ignored-close", "finally-got:")
SHAPE_TEST(deep, "leaf-start:RUNNING/RUNNING/RUNNING top-next:running mid-next:running",
           "mid-caught:E1", "leaf-caught:E2", "mid-ret:", "yf=2", "top-finally:EXIT",
           "leaf-finally:E1")
SHAPE_TEST(closefwd, "=> ignored-close", "outer-finally:ignored-close", "child=SUSPENDED yf=0",
           "child-ret:")
SHAPE_TEST(reenter, "next:running send:running throw:running close:running state:RUNNING")
SHAPE_TEST(treewalk, "yf=4", "got:", "caught:E2@", ":E3", ":EXIT", "=> return", "=> raise E1")
SHAPE_TEST(trynest, "C-caught:E1", "C-else", "B-caught:E2", "B-caught:E3", "A-caught:E3",
           "A-finally:E1", "=> yield 99", "B-finally:EXIT")
SHAPE_TEST(pep479, "=> stop-iteration", "finally:exhausted", "finally:stop-iteration",
           "stop-caught", "child-ret:", "throw STOP => stop-iteration", "=> exhausted")

/* ------------------------------------------------------ skip reporting */

static bool all_skipped;

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    all_skipped = stats->nb_tests > 0 && stats->tests_skipped == stats->nb_tests;
}

/* Criterion's own main, but a run whose every test was skipped exits with
   77, meson's "skipped", instead of passing. */
int main(int argc, char *argv[])
{
    struct criterion_test_set *tests = criterion_initialize();
    int result = 0;
    if (criterion_handle_args(argc, argv, true))
        result = !criterion_run_all_tests(tests);
    criterion_finalize(tests);
    return result == 0 && all_skipped ? 77 : result;
}
