/*
 * test_samples.c -- the tour's samples print exactly what their Python twins
 * print.  Each test runs a built sample and compares its standard output,
 * byte for byte, with the file stored in test/samples/expected/; the Python
 * twins are run against the same files, so C and Python cannot drift apart.
 * The robot's .py and .out are copies of the lecture's, checked against it.
 *
 * meson passes everything through the environment (see meson.build):
 * SAMPLE_<NAME> the sample binaries, CORIO_EXPECTED_DIR, CORIO_SAMPLES_DIR
 * (the sources, for the .py twins), CORIO_LECTURES_DIR and PYTHON3.  Without
 * python3 or the lecture folder, the checks needing them skip, saying why.
 */
#define _POSIX_C_SOURCE 200809L

#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    char *data;
    size_t len;
} text;

static text read_stream(FILE *f, const char *what)
{
    text t = {NULL, 0};
    size_t cap = 0, n;
    do {
        if (t.len == cap) {
            cap = cap ? 2 * cap : 4096;
            t.data = realloc(t.data, cap);
            cr_assert_not_null(t.data, "out of memory reading %s", what);
        }
        n = fread(t.data + t.len, 1, cap - t.len, f);
        t.len += n;
    } while (n > 0);
    cr_assert(!ferror(f), "error reading %s", what);
    return t;
}

static const char *env(const char *name)
{
    const char *value = getenv(name);
    cr_assert(value && *value, "%s is not set: run this suite with `meson test`", name);
    return value;
}

static void join(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    cr_assert(n > 0 && (size_t)n < size, "path too long: %s/%s", dir, name);
}

static text read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    text t;
    cr_assert_not_null(f, "cannot open %s: %s", path, strerror(errno));
    t = read_stream(f, path);
    fclose(f);
    return t;
}

static text read_expected(const char *name)
{
    char path[4096];
    join(path, sizeof path, env("CORIO_EXPECTED_DIR"), name);
    return read_file(path);
}

/* Runs argv (no shell) to its end and returns what it wrote on stdout;
   anything but a clean exit fails the test. */
static text run(char *const argv[])
{
    int fds[2], status;
    pid_t pid;
    FILE *out;
    text t;

    cr_assert_eq(pipe(fds), 0, "pipe: %s", strerror(errno));
    fflush(NULL);
    pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    out = fdopen(fds[0], "r");
    cr_assert_not_null(out, "fdopen: %s", strerror(errno));
    t = read_stream(out, argv[0]);
    fclose(out);
    cr_assert_eq(waitpid(pid, &status, 0), pid, "waitpid: %s", strerror(errno));
    cr_assert(!WIFSIGNALED(status), "%s was killed by signal %d", argv[0], WTERMSIG(status));
    cr_assert(WEXITSTATUS(status) == 0, "%s exited with status %d%s", argv[0],
              WEXITSTATUS(status), WEXITSTATUS(status) == 127 ? " (could it be run?)" : "");
    return t;
}

static size_t line_end(text t, size_t start)
{
    size_t i = start;
    while (i < t.len && t.data[i] != '\n')
        i++;
    return i;
}

/* Fails with the first differing line, which says more than "not equal". */
static void assert_same(text got, text want, const char *what)
{
    size_t i = 0, line = 1, start = 0;
    while (i < got.len && i < want.len && got.data[i] == want.data[i]) {
        if (got.data[i] == '\n') {
            line++;
            start = i + 1;
        }
        i++;
    }
    if (i == got.len && i == want.len)
        return;
    cr_assert_fail("%s: line %zu differs\n  got:      \"%.*s\"%s\n  expected: \"%.*s\"%s", what,
                   line, (int)(line_end(got, start) - start), got.data + start,
                   start >= got.len ? " (output ended)" : "",
                   (int)(line_end(want, start) - start), want.data + start,
                   start >= want.len ? " (expected output ended)" : "");
}

static void check_sample(const char *env_name, const char *expected)
{
    char *argv[2];
    text got, want;
    argv[0] = (char *)env(env_name);
    argv[1] = NULL;
    got = run(argv);
    want = read_expected(expected);
    assert_same(got, want, argv[0]);
    free(got.data);
    free(want.data);
}

/* Runs samples/<script> with python3 (when there is one) against `expected`. */
static void check_python_twin(const char *script, const char *expected)
{
    const char *python = getenv("PYTHON3");
    char path[4096];
    char *argv[3];
    text got, want;

    if (python == NULL || *python == '\0')
        cr_skip_test("no python3 found at configure time: the Python twin is not run");
    join(path, sizeof path, env("CORIO_SAMPLES_DIR"), script);
    argv[0] = (char *)python;
    argv[1] = path;
    argv[2] = NULL;
    got = run(argv);
    want = read_expected(expected);
    assert_same(got, want, path);
    free(got.data);
    free(want.data);
}

Test(samples, robot_worker)
{
    check_sample("SAMPLE_ROBOT_WORKER", "robot_worker.out");
}

Test(samples, pipeline)
{
    check_sample("SAMPLE_PIPELINE", "pipeline.out");
}

Test(samples, states)
{
    check_sample("SAMPLE_STATES", "states.out");
}

Test(samples, robot_worker_python_twin)
{
    check_python_twin("robot_worker.py", "robot_worker.out");
}

Test(samples, pipeline_python_twin)
{
    check_python_twin("pipeline.py", "pipeline.out");
}

Test(samples, states_python_twin)
{
    check_python_twin("states.py", "states.out");
}

/* Fails unless the file at `copy` equals the lecture's file `name`; skipped
   when the lecture folder is not beside the repository. */
static void check_lecture_copy(const char *name, const char *copy)
{
    char path[4096];
    text lecture, ours;

    join(path, sizeof path, env("CORIO_LECTURES_DIR"), name);
    if (access(path, F_OK) != 0)
        cr_skip_test("%s is absent (no lecture folder beside the repository): "
                     "the stored copy cannot be compared with it",
                     path);
    lecture = read_file(path);
    ours = read_file(copy);
    assert_same(ours, lecture, copy);
    free(lecture.data);
    free(ours.data);
}

/* The robot's expected output and its Python are copies of the lecture's. */
Test(samples, robot_worker_out_matches_lecture)
{
    char copy[4096];
    join(copy, sizeof copy, env("CORIO_EXPECTED_DIR"), "robot_worker.out");
    check_lecture_copy("robot_worker.out", copy);
}

Test(samples, robot_worker_py_matches_lecture)
{
    char copy[4096];
    join(copy, sizeof copy, env("CORIO_SAMPLES_DIR"), "robot_worker.py");
    check_lecture_copy("robot_worker.py", copy);
}
