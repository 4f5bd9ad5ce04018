/*
 * samples_kit.c -- the helpers of samples_kit.h.
 */
#define _XOPEN_SOURCE 700 /* POSIX 2008 with the pseudo-terminal calls */

#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "samples_kit.h"


text read_stream(FILE *f, const char *what)
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

const char *env(const char *name)
{
    const char *value = getenv(name);
    cr_assert(value && *value, "%s is not set: run this suite with `meson test`", name);
    return value;
}

void join(char *buf, size_t size, const char *dir, const char *name)
{
    int n = snprintf(buf, size, "%s/%s", dir, name);
    cr_assert(n > 0 && (size_t)n < size, "path too long: %s/%s", dir, name);
}

text read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    text t;
    cr_assert_not_null(f, "cannot open %s: %s", path, strerror(errno));
    t = read_stream(f, path);
    fclose(f);
    return t;
}

text read_expected(const char *name)
{
    char path[4096];
    join(path, sizeof path, env("CORIO_EXPECTED_DIR"), name);
    return read_file(path);
}

/* A running sample: its pid and the read ends of its output pipes. */

/* Starts argv (no shell) with its stdout, and its stderr if asked, piped to
   us.  Ctrl-C gets its default action back, as in a terminal: a test run in
   the background would otherwise hand the sample an ignored SIGINT. */
child start(char *const argv[], bool capture_stderr)
{
    int out[2], err[2] = {-1, -1};
    child c = {0, NULL, NULL};

    cr_assert_eq(pipe(out), 0, "pipe: %s", strerror(errno));
    if (capture_stderr)
        cr_assert_eq(pipe(err), 0, "pipe: %s", strerror(errno));
    fflush(NULL);
    c.pid = fork();
    cr_assert_neq(c.pid, -1, "fork: %s", strerror(errno));
    if (c.pid == 0) {
        signal(SIGINT, SIG_DFL);
        dup2(out[1], STDOUT_FILENO);
        if (capture_stderr)
            dup2(err[1], STDERR_FILENO);
        close(out[0]);
        close(out[1]);
        if (capture_stderr) {
            close(err[0]);
            close(err[1]);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    close(out[1]);
    c.out = fdopen(out[0], "r");
    cr_assert_not_null(c.out, "fdopen: %s", strerror(errno));
    if (capture_stderr) {
        close(err[1]);
        c.err = fdopen(err[0], "r");
        cr_assert_not_null(c.err, "fdopen: %s", strerror(errno));
    }
    return c;
}

/* Waits for the child; returns waitpid's status. */
int finish(child *c)
{
    int status;
    fclose(c->out);
    if (c->err)
        fclose(c->err);
    cr_assert_eq(waitpid(c->pid, &status, 0), c->pid, "waitpid: %s", strerror(errno));
    return status;
}

/* Anything but a clean exit fails the test. */
void assert_clean_exit(int status, const char *what)
{
    cr_assert(!WIFSIGNALED(status), "%s was killed by signal %d", what, WTERMSIG(status));
    cr_assert(WEXITSTATUS(status) == 0, "%s exited with status %d%s", what, WEXITSTATUS(status),
              WEXITSTATUS(status) == 127 ? " (could it be run?)" : "");
}

/* Runs argv to its end and returns what it wrote on stdout. */
text run(char *const argv[])
{
    child c = start(argv, false);
    text t = read_stream(c.out, argv[0]);
    assert_clean_exit(finish(&c), argv[0]);
    return t;
}

command sample_command(const char *env_name, const char *const *args)
{
    command cmd;
    size_t n = 0;
    cmd.argv[n++] = (char *)env(env_name);
    while (args && *args) {
        cr_assert(n <= MAX_ARGS, "too many arguments for %s", env_name);
        cmd.argv[n++] = (char *)*args++;
    }
    cmd.argv[n] = NULL;
    return cmd;
}


text run_sample(const char *env_name, const char *const *args)
{
    command cmd = sample_command(env_name, args);
    return run(cmd.argv);
}

size_t line_end(text t, size_t start)
{
    size_t i = start;
    while (i < t.len && t.data[i] != '\n')
        i++;
    return i;
}

/* Fails with the first differing line, which says more than "not equal". */
void assert_same(text got, text want, const char *what)
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

/* Sample SAMPLE_<NAME>, run with `args`, prints exactly the file `expected`. */
void check_output(const char *env_name, const char *const *args, const char *expected)
{
    text got = run_sample(env_name, args), want = read_expected(expected);
    assert_same(got, want, env(env_name));
    free(got.data);
    free(want.data);
}

void check_sample(const char *env_name, const char *expected)
{
    check_output(env_name, NULL, expected);
}

/* Runs samples/<script> with python3 (when there is one) against `expected`. */
void check_python_twin(const char *script, const char *expected)
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

/* Fails unless the file at `copy` equals the lecture's file `name`; skipped
   when the lecture folder is not beside the repository. */
void check_lecture_copy(const char *name, const char *copy)
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

enum { TWIN_ARGS = 64 }; /* the most arguments a Python twin gets */

/* Whether t holds `needle` anywhere. */
bool contains(text t, const char *needle)
{
    size_t n = strlen(needle), i;
    for (i = 0; i + n <= t.len; i++)
        if (memcmp(t.data + i, needle, n) == 0)
            return true;
    return false;
}

/* The python3 found at configure time; skips the test if there was none. */
const char *python_or_skip(void)
{
    const char *python = getenv("PYTHON3");
    if (python == NULL || *python == '\0')
        cr_skip_test("no python3 found at configure time: the Python twin is not run");
    return python;
}

/* python3 samples/<script> with args: its status, its stdout in *out. */
int run_python_twin(const char *script, const char *const *args, text *out)
{
    const char *python = python_or_skip();
    char path[4096];
    char *argv[TWIN_ARGS + 3];
    size_t n = 0;
    child c;

    join(path, sizeof path, env("CORIO_SAMPLES_DIR"), script);
    argv[n++] = (char *)python;
    argv[n++] = path;
    while (*args && n < TWIN_ARGS + 2)
        argv[n++] = (char *)*args++;
    argv[n] = NULL;
    /* open()'s encoding is the locale's: ask for UTF-8, whatever it is here */
    setenv("PYTHONUTF8", "1", 1);
    c = start(argv, true);
    *out = read_stream(c.out, path);
    free(read_stream(c.err, "python's stderr").data);
    return finish(&c);
}

/* The sample with args: its status, its stdout in *out and stderr in *err. */
int run_sample_status(const char *env_name, const char *const *args, text *out, text *err)
{
    command cmd = sample_command(env_name, args);
    child c = start(cmd.argv, true);
    *out = read_stream(c.out, cmd.argv[0]);
    *err = read_stream(c.err, "its stderr");
    return finish(&c);
}
