/*
 * test_samples_files.c -- read_files beside its Python twin on the same
 * files (text-mode probes and files of the repository), and
 * threads_vs_coroutines, whose timings leave only its table's shape and
 * checksums to compare.
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

/* --------------------------------------------------------- read_files */

/* Files that probe Python's text mode: "\r\n" and "\r" become "\n", a
   length counts characters, not bytes, and splitlines() ends a line at
   more than "\n". */
static const struct {
    const char *name, *bytes;
} text_probes[] = {
    {"crlf.txt", "first\r\nsecond\r\n"},
    {"cr.txt", "old Mac\rline ends\r"},
    {"unicode.txt",
     "caf\xc3\xa9 \xe2\x80\x94 na\xc3\xaf" "ve\xe2\x80\xa8" "after a line separator\n"},
    {"empty.txt", ""},
    {"newline.txt", "\n"},
    {"formfeed.txt", "\fpage two\n"},
    {"bom.txt", "\xef\xbb\xbf" "a byte-order mark\n"},
    {"group_separator.txt", "one\x1dtwo"},
    {"no_end.txt", "one line, no newline"},
};
#define N_PROBES (sizeof text_probes / sizeof text_probes[0])

static char probe_dir[4096];

/* The tests' .init: writes the probes in a new directory and makes it the
   current one, so that the samples get plain relative names, as a user
   would type them. */
static void enter_probe_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    size_t i;
    snprintf(probe_dir, sizeof probe_dir, "%s/corio-read-files-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(probe_dir), "mkdtemp: %s", strerror(errno));
    cr_assert_eq(chdir(probe_dir), 0, "chdir: %s", strerror(errno));
    for (i = 0; i < N_PROBES; i++) {
        FILE *f = fopen(text_probes[i].name, "wb");
        cr_assert_not_null(f, "cannot write %s: %s", text_probes[i].name, strerror(errno));
        fputs(text_probes[i].bytes, f);
        cr_assert_eq(fclose(f), 0);
    }
}

/* The tests' .fini: runs even after a failed assertion. */
static void leave_probe_dir(void)
{
    size_t i;
    for (i = 0; i < N_PROBES; i++)
        unlink(text_probes[i].name);
    unlink("not_utf8.txt");
    if (chdir("/") == 0)
        rmdir(probe_dir);
}

/* The probes' names, then `extra` (NULL-ended), as one argument list. */
#define MAX_READ_ARGS (N_PROBES + 8)
static void probe_args(const char **args, const char *const *extra)
{
    size_t n = 0, i;
    for (i = 0; i < N_PROBES; i++)
        args[n++] = text_probes[i].name;
    while (extra && *extra) {
        cr_assert(n + 1 < MAX_READ_ARGS);
        args[n++] = *extra++;
    }
    args[n] = NULL;
}

Test(asyncio_samples, read_files_py_is_the_lectures)
{
    char copy[4096];
    join(copy, sizeof copy, env("CORIO_SAMPLES_DIR"), "read_files.py");
    check_lecture_copy("read_files.py", copy);
}

/* Each probe's path, length and first line, in the arguments' order. */
Test(asyncio_samples, read_files, .init = enter_probe_dir, .fini = leave_probe_dir)
{
    const char *args[MAX_READ_ARGS + 1];
    text got, want;
    probe_args(args, NULL);
    got = run_sample("SAMPLE_READ_FILES", args);
    want = read_expected("read_files.out");
    assert_same(got, want, "read_files on the probes");
    free(got.data);
    free(want.data);
}

/* The Python twin prints the same, for the probes and for files of the
   repository (the samples' own, and a page with characters beyond ASCII). */
Test(asyncio_samples, read_files_as_python, .init = enter_probe_dir, .fini = leave_probe_dir)
{
    char py[4096], c[4096], doc[4096];
    const char *extra[] = {py, c, doc, NULL}, *args[MAX_READ_ARGS + 1];
    text got, want;
    int status;

    python_or_skip();
    join(py, sizeof py, env("CORIO_SAMPLES_DIR"), "read_files.py");
    join(c, sizeof c, env("CORIO_SAMPLES_DIR"), "read_files.c");
    join(doc, sizeof doc, env("CORIO_SAMPLES_DIR"), "../docs/files.md");
    probe_args(args, extra);
    status = run_python_twin("read_files.py", args, &want);
    assert_clean_exit(status, "read_files.py");
    got = run_sample("SAMPLE_READ_FILES", args);
    assert_same(got, want, "read_files, against read_files.py");
    free(got.data);
    free(want.data);
}

/* A file that cannot be read fails the whole gather, as in Python: nothing
   on stdout, status 1, and the reason on stderr. */
Test(asyncio_samples, read_files_unreadable, .init = enter_probe_dir, .fini = leave_probe_dir)
{
    static const char *const cases[][2] = {
        {"crlf.txt", "missing.txt"},       /* -ENOENT */
        {".", "crlf.txt"},                 /* -EISDIR */
        {"crlf.txt", "not_utf8.txt"},      /* a stray continuation byte */
    };
    size_t i;
    {
        FILE *f = fopen("not_utf8.txt", "wb");
        cr_assert_not_null(f);
        fputs("ok, then \x80", f);
        cr_assert_eq(fclose(f), 0);
    }
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[] = {cases[i][0], cases[i][1], NULL};
        const char *bad = strcmp(cases[i][0], ".") == 0 ? "." : cases[i][1];
        text out, err;
        int status = run_sample_status("SAMPLE_READ_FILES", args, &out, &err);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1,
                  "%s: expected status 1, got %d", bad, WEXITSTATUS(status));
        cr_assert_eq(out.len, 0, "%s: stdout: %.*s", bad, (int)out.len, out.data);
        cr_assert(contains(err, bad),
                  "%s: stderr does not name the file: %.*s", bad, (int)err.len, err.data);
        free(out.data);
        free(err.data);
    }
}

Test(asyncio_samples, read_files_unreadable_as_python, .init = enter_probe_dir,
     .fini = leave_probe_dir)
{
    const char *args[] = {"crlf.txt", "missing.txt", NULL};
    text out;
    int status;
    python_or_skip();
    status = run_python_twin("read_files.py", args, &out);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "python: status %d",
              WEXITSTATUS(status));
    cr_assert_eq(out.len, 0, "python printed: %.*s", (int)out.len, out.data);
    free(out.data);
}

Test(asyncio_samples, read_files_needs_a_path)
{
    text out, err;
    int status = run_sample_status("SAMPLE_READ_FILES", NULL, &out, &err);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", WEXITSTATUS(status));
    cr_assert(err.len > 0 && out.len == 0);
    free(out.data);
    free(err.data);
}

/*
 * --ticker with no path: a thread feeds a FIFO one chunk per tick, so the
 * read cannot end before the last tick.  The eight ticks come in order, all
 * before the FIFO's line; its length is the 1 MiB fed plus the first line;
 * and the FIFO's directory is gone afterwards.  On the real clock (0.8 s):
 * the fake one would jump from tick to tick while a read that did not wait
 * for them was still under way, and hide that it did not.
 */
Test(asyncio_samples, read_files_ticks_while_reading)
{
    text got = run_sample("SAMPLE_READ_FILES", ARGS("--ticker", "--fifo-mib", "1"));
    size_t i = 0, end, ticks = 0, size, first_len;
    char path[4096], first[256], *dir_end;
    int consumed = 0;

    for (; i < got.len; i = end + 1) {
        char want[32];
        end = line_end(got, i);
        snprintf(want, sizeof want, "tick %zu: ", ticks + 1);
        if (strncmp(got.data + i, "tick ", 5) != 0)
            break;
        cr_assert(strncmp(got.data + i, want, strlen(want)) == 0, "tick out of order: %.*s",
                  (int)(end - i), got.data + i);
        ticks++;
    }
    cr_assert_eq(ticks, 8, "expected 8 ticks before the read ended, got %zu:\n%.*s", ticks,
                 (int)got.len, got.data);
    end = line_end(got, i);
    cr_assert(end + 1 == got.len, "one line after the ticks expected:\n%.*s", (int)got.len,
              got.data);
    got.data[end] = '\0';
    cr_assert_eq(sscanf(got.data + i, "%4095s %zu %n", path, &size, &consumed), 2,
                 "not a path and a size: %s", got.data + i);
    snprintf(first, sizeof first, "%s", got.data + i + consumed);
    first_len = strlen(first);
    cr_assert(first_len > 0 && strstr(first, "FIFO"), "the first line: \"%s\"", first);
    cr_assert_eq(size, 1024 * 1024 + first_len + 1, "length %zu for 1 MiB and \"%s\"", size,
                 first);
    dir_end = strrchr(path, '/');
    cr_assert_not_null(dir_end);
    *dir_end = '\0';
    cr_assert(access(path, F_OK) != 0 && errno == ENOENT, "%s was left behind", path);
    free(got.data);
}

/* ------------------------------------------------ threads_vs_coroutines */

/* One row of the table: "N  way  time  peak  per-job  checksum", or a
   failure ("N  way  failed ..."). */
typedef struct {
    size_t jobs;
    char way[16];
    bool failed, not_run;
    char checksum[17];
} table_row;

/* "1,000" -> 1000. */
static size_t parse_count(const char *s, size_t len)
{
    size_t n = 0, i;
    for (i = 0; i < len; i++)
        if (s[i] >= '0' && s[i] <= '9')
            n = 10 * n + (size_t)(s[i] - '0');
        else
            cr_assert_eq(s[i], ',', "not a count: %.*s", (int)len, s);
    return n;
}

/* Reads the rows after the header line; returns how many. */
static size_t parse_table(text t, table_row *rows, size_t max)
{
    size_t i = 0, end, n = 0;
    bool in_table = false;
    for (; i < t.len; i = end + 1) {
        char line[256], *p, *q;
        size_t len;
        end = line_end(t, i);
        len = end - i < sizeof line - 1 ? end - i : sizeof line - 1;
        memcpy(line, t.data + i, len);
        line[len] = '\0';
        if (!in_table) {
            in_table = strstr(line, "jobs") && strstr(line, "checksum");
            continue;
        }
        if (len == 0)
            break; /* the table ends at the blank line */
        cr_assert(n < max, "too many rows");
        p = line + strspn(line, " ");
        q = p + strcspn(p, " ");
        rows[n].jobs = parse_count(p, (size_t)(q - p));
        p = q + strspn(q, " ");
        if (strncmp(p, "threads", 7) == 0)
            snprintf(rows[n].way, sizeof rows[n].way, "threads");
        else if (strncmp(p, "corio tasks", 11) == 0)
            snprintf(rows[n].way, sizeof rows[n].way, "corio");
        else if (strncmp(p, "asyncio", 7) == 0) /* the Python twin's */
            snprintf(rows[n].way, sizeof rows[n].way, "asyncio");
        else
            cr_assert_fail("unknown way in: %s", line);
        rows[n].failed = strstr(p, "failed") != NULL;
        rows[n].not_run = strstr(p, "not run") != NULL;
        rows[n].checksum[0] = '\0';
        if (!rows[n].failed && !rows[n].not_run) {
            q = strrchr(line, ' ') + 1;
            cr_assert_eq(strlen(q), 16, "no checksum in: %s", line);
            cr_assert_eq(strspn(q, "0123456789abcdef"), 16, "no checksum in: %s", line);
            memcpy(rows[n].checksum, q, 17);
        }
        n++;
    }
    cr_assert(in_table, "no table header in:\n%.*s", (int)t.len, t.data);
    return n;
}

/* Two Ns, both ways: four rows, each N's two checksums equal, the two Ns'
   different; the legend and the explanation follow.  No timing is checked. */
Test(asyncio_samples, threads_vs_coroutines_table)
{
    text got = run_sample("SAMPLE_THREADS_VS_COROUTINES", ARGS("--jobs", "100,300"));
    table_row rows[8];
    size_t n = parse_table(got, rows, 8), i;
    static const size_t jobs[] = {100, 100, 300, 300};
    static const char *const ways[] = {"threads", "corio", "threads", "corio"};

    cr_assert_eq(n, 4, "expected 4 rows:\n%.*s", (int)got.len, got.data);
    for (i = 0; i < 4; i++) {
        cr_assert_eq(rows[i].jobs, jobs[i]);
        cr_assert_str_eq(rows[i].way, ways[i]);
        cr_assert(!rows[i].failed && !rows[i].not_run, "row %zu did not run:\n%.*s", i,
                  (int)got.len, got.data);
    }
    cr_assert_str_eq(rows[0].checksum, rows[1].checksum, "threads and tasks disagree at 100");
    cr_assert_str_eq(rows[2].checksum, rows[3].checksum, "threads and tasks disagree at 300");
    cr_assert_str_neq(rows[0].checksum, rows[2].checksum, "100 and 300 jobs, one checksum");
    cr_assert(contains(got, "\nWhy: "), "no explanation");
    cr_assert(contains(got, "\nAt 300 jobs, "), "no summary");
    free(got.data);
}

/* Above --threads-max, only the tasks run; the threads row says so. */
Test(asyncio_samples, threads_vs_coroutines_threads_max)
{
    text got = run_sample("SAMPLE_THREADS_VS_COROUTINES",
                          ARGS("--jobs", "200", "--threads-max", "100"));
    table_row rows[4];
    size_t n = parse_table(got, rows, 4);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(rows[0].way, "threads");
    cr_assert(rows[0].not_run, "%.*s", (int)got.len, got.data);
    cr_assert_str_eq(rows[1].way, "corio");
    cr_assert(!rows[1].failed && !rows[1].not_run);
    free(got.data);
}

/*
 * Threads the system refuses are a row of the table, not a crash.  glibc
 * sizes a thread's stack by `ulimit -s`: a limit of 64 TiB makes the very
 * first stack impossible to map (one at most, where memory is overcommitted
 * without limit).
 */
Test(asyncio_samples, threads_vs_coroutines_refused_threads)
{
#ifndef __GLIBC__
    cr_skip_test("only glibc takes thread stacks' size from ulimit -s");
#else
    struct rlimit huge = {(rlim_t)1 << 46, RLIM_INFINITY}, old;
    command cmd = sample_command("SAMPLE_THREADS_VS_COROUTINES", ARGS("--jobs", "100"));
    table_row rows[4];
    text got;
    size_t n;
    child c;

    cr_assert_eq(getrlimit(RLIMIT_STACK, &old), 0);
    huge.rlim_max = old.rlim_max;
    if (old.rlim_max != RLIM_INFINITY && old.rlim_max < huge.rlim_cur)
        cr_skip_test("the hard stack limit (%llu) is too low for this test",
                     (unsigned long long)old.rlim_max);
    cr_assert_eq(setrlimit(RLIMIT_STACK, &huge), 0, "setrlimit: %s", strerror(errno));
    c = start(cmd.argv, false); /* inherits the limit */
    cr_assert_eq(setrlimit(RLIMIT_STACK, &old), 0);
    got = read_stream(c.out, "threads_vs_coroutines");
    assert_clean_exit(finish(&c), "threads_vs_coroutines");
    n = parse_table(got, rows, 4);
    cr_assert_eq(n, 2, "%.*s", (int)got.len, got.data);
    cr_assert(rows[0].failed, "the threads were not refused:\n%.*s", (int)got.len, got.data);
    cr_assert(!rows[1].failed, "the tasks failed too:\n%.*s", (int)got.len, got.data);
    cr_assert(contains(got, "Some threads were refused"), "%.*s", (int)got.len,
              got.data);
    free(got.data);
#endif
}

/* The Python twin (threads against asyncio) computes the very checksums
   the C sample does, and prints a table of the same shape. */
Test(asyncio_samples, threads_vs_coroutines_python_twin)
{
    const char *args[] = {"--jobs", "100,300", NULL};
    text py, c = run_sample("SAMPLE_THREADS_VS_COROUTINES", ARGS("--jobs", "100,300"));
    table_row py_rows[8], c_rows[8];
    size_t i;
    int status = run_python_twin("threads_vs_coroutines.py", args, &py);

    assert_clean_exit(status, "threads_vs_coroutines.py");
    cr_assert_eq(parse_table(py, py_rows, 8), 4, "%.*s", (int)py.len, py.data);
    cr_assert_eq(parse_table(c, c_rows, 8), 4, "%.*s", (int)c.len, c.data);
    for (i = 0; i < 4; i++) {
        cr_assert_eq(py_rows[i].jobs, c_rows[i].jobs);
        cr_assert_str_eq(py_rows[i].way, i % 2 ? "asyncio" : "threads");
        cr_assert(!py_rows[i].failed && !py_rows[i].not_run, "%.*s", (int)py.len, py.data);
        cr_assert_str_eq(py_rows[i].checksum, c_rows[i].checksum, "row %zu: Python and C differ",
                         i);
    }
    free(py.data);
    free(c.data);
}
