/*
 * test_samples_dump.c -- task_dump and its Python twin: each is started,
 * sent SIGUSR1 once it says it is ready, and its dump must show the real
 * await chains: the waiter's own frame, then the fetch it awaits, down into
 * fetch's sub-coroutine read_body, every frame at the line of the source
 * that carries its "dump: <body>" marker.
 */
#include "samples_kit.h"

#include <criterion/criterion.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* The 1-based line of `file` that holds `marker`. */
static unsigned marker_line(const char *file, const char *marker)
{
    char path[4096];
    text src;
    unsigned line = 1;
    const char *at;
    join(path, sizeof path, env("CORIO_SAMPLES_DIR"), file);
    src = read_file(path);
    at = strstr(src.data, marker);
    cr_assert_not_null(at, "no \"%s\" in %s", marker, path);
    for (const char *p = src.data; p < at; p++)
        line += *p == '\n';
    free(src.data);
    return line;
}

/* Runs argv, sends SIGUSR1 after its first line, and returns the rest. */
static text dump_of(char *const argv[])
{
    char first[256];
    child c = start(argv, false);
    text t;
    cr_assert_not_null(fgets(first, sizeof first, c.out), "%s said nothing", argv[0]);
    cr_assert(strstr(first, "kill -USR1"), "%s: not its ready line: %s", argv[0], first);
    cr_assert_eq(kill(c.pid, SIGUSR1), 0);
    t = read_stream(c.out, argv[0]);
    assert_clean_exit(finish(&c), argv[0]);
    return t;
}

/* The line that starts with `start`, as a copy (or a failed test). */
static char *line_from(text t, const char *start)
{
    const char *at = strstr(t.data, start);
    size_t n;
    char *line;
    cr_assert_not_null(at, "no line \"%s\" in:\n%s", start, t.data);
    n = strcspn(at, "\n");
    line = malloc(n + 1);
    cr_assert_not_null(line);
    memcpy(line, at, n);
    line[n] = '\0';
    return line;
}

Test(asyncio_samples, task_dump_shows_the_await_chains_on_sigusr1)
{
    command cmd = sample_command("SAMPLE_TASK_DUMP", ARGS("--once"));
    text got = dump_of(cmd.argv);
    unsigned waiter = marker_line("task_dump.c", "dump: waiter");
    unsigned fetch = marker_line("task_dump.c", "dump: fetch");
    unsigned body = marker_line("task_dump.c", "dump: read_body");
    char *head = line_from(got, "Stack for <Task pending name='waiter'");
    char path[1024], want[4400];
    const char *p = strstr(head, "running at "), *colon;
    cr_assert_not_null(p, "%s", head);
    p += strlen("running at ");
    colon = strchr(p, ':');
    cr_assert(colon && (size_t)(colon - p) < sizeof path);
    memcpy(path, p, (size_t)(colon - p));
    path[colon - p] = '\0';
    cr_expect(strstr(path, "task_dump.c"), "the file is the sample's: %s", path);
    snprintf(want, sizeof want,
             "Stack for <Task pending name='waiter' coro=<waiter() running at %s:%u> "
             "wait_for=<Task 'fetch-a'>> (most recent call last):\n"
             "  File \"%s\", line %u, in waiter\n"
             "  awaiting <Task pending name='fetch-a' coro=<fetch() running at %s:%u> "
             "wait_for=<sleep, ",
             path, waiter, path, waiter, path, fetch);
    cr_expect(strstr(got.data, want), "no\n%s\nin:\n%s", want, got.data);
    snprintf(want, sizeof want,
             " ms left>>:\n"
             "  File \"%s\", line %u, in fetch\n"
             "  File \"%s\", line %u, in read_body\n"
             "Stack for <Task pending name='ticker'",
             path, fetch, path, body);
    cr_expect(strstr(got.data, want), "no\n%s\nin:\n%s", want, got.data);
    cr_expect(strstr(got.data, "--- 6 tasks\n"), "main, two fetches, waiter, ticker, dumper");
    cr_expect(strstr(got.data, "name='dumper' coro=<dump_on_signal() running>>"), "%s", got.data);
    free(head);
    free(got.data);
}

Test(asyncio_samples, task_dump_python_twin_prints_asyncio_stacks)
{
    const char *python = getenv("PYTHON3");
    char path[4096], want[4400];
    char *argv[4];
    text got;
    if (python == NULL || *python == '\0')
        cr_skip_test("no python3 found at configure time: the Python twin is not run");
    join(path, sizeof path, env("CORIO_SAMPLES_DIR"), "task_dump.py");
    argv[0] = (char *)python;
    argv[1] = path;
    argv[2] = "--once";
    argv[3] = NULL;
    got = dump_of(argv);
    cr_expect(strstr(got.data, "--- 6 tasks\n"), "%s", got.data);
    snprintf(want, sizeof want, "Stack for <Task pending name='waiter' coro=<waiter() running at %s:%u>",
             path, marker_line("task_dump.py", "dump: waiter"));
    cr_expect(strstr(got.data, want), "no\n%s\nin:\n%s", want, got.data);
    snprintf(want, sizeof want, "  File \"%s\", line %u, in fetch\n", path,
             marker_line("task_dump.py", "dump: fetch"));
    cr_expect(strstr(got.data, want), "no\n%s\nin:\n%s", want, got.data);
    free(got.data);
}
