/*
 * test_samples.c -- the tour's samples print exactly what their Python twins
 * print.  Each test runs a built sample and compares its standard output,
 * byte for byte, with the file stored in test/samples/expected/; the Python
 * twins of the generator samples are run against the same files, so C and
 * Python cannot drift apart.  The lecture's .py and .out files are copies,
 * checked against the lecture folder.
 *
 * Two suites: `samples` (generators, run once per local-continuation form)
 * and `asyncio_samples` (the runtime's, run once per readiness backend).
 * The asyncio samples run on the fake clock (--fake-clock): instant, and
 * their --trace times are exact.  Their Python twins are not run here, as
 * they would take seconds of real time each: their .out files are the
 * lecture's, made with /usr/bin/python3, and checked to be unchanged copies.
 * Their other expected files are *.trace (each line with the time it came,
 * checked against the Python's timing when written) and the progress bars'
 * last screen, read from a pseudo-terminal through a small emulator.
 * read_files runs beside its Python twin on the same files (text-mode
 * probes and files of the repository); threads_vs_coroutines prints
 * timings, so its table is checked for its shape and its checksums only.
 *
 * meson passes everything through the environment (see meson.build):
 * SAMPLE_<NAME> the sample binaries, CORIO_EXPECTED_DIR, CORIO_SAMPLES_DIR
 * (the sources, for the .py twins), CORIO_LECTURES_DIR and PYTHON3.  Without
 * python3 or the lecture folder, the checks needing them skip, saying why.
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

Test(samples, tree_walk)
{
    check_sample("SAMPLE_TREE_WALK", "tree_walk.out");
}

Test(samples, calc)
{
    check_sample("SAMPLE_CALC", "calc.out");
}

Test(samples, tree_walk_python_twin)
{
    check_python_twin("tree_walk.py", "tree_walk.out");
}

Test(samples, calc_python_twin)
{
    check_python_twin("calc.py", "calc.out");
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

/* ------------------------------------------------------ asyncio samples */

/* Every asyncio sample's .py and .out are the lecture's, unchanged. */
Test(asyncio_samples, python_and_output_are_the_lectures)
{
    static const char *const names[] = {"two_printers", "create_task_order", "fetch_data",
                                        "foo_bar_gather", "video_processing"};
    char file[256], copy[4096];
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(file, sizeof file, "%s.py", names[i]);
        join(copy, sizeof copy, env("CORIO_SAMPLES_DIR"), file);
        check_lecture_copy(file, copy);
        snprintf(file, sizeof file, "%s.out", names[i]);
        join(copy, sizeof copy, env("CORIO_EXPECTED_DIR"), file);
        check_lecture_copy(file, copy);
    }
}

/*
 * A --trace file says when each line was printed ("t=3.000 also finished")
 * and adds, in brackets, what Python does silently.  Without the times and
 * the bracketed lines it must be the plain output: the two expected files
 * cannot disagree.
 */
static text strip_trace(text t)
{
    text out = {malloc(t.len + 1), 0};
    size_t i = 0;
    cr_assert_not_null(out.data);
    while (i < t.len) {
        size_t end = line_end(t, i), from = i;
        if (end - i > 2 && strncmp(t.data + i, "t=", 2) == 0) {
            while (from < end && t.data[from] != ' ')
                from++;
            from++; /* the space after the time */
        }
        if (from < end && t.data[from] != '[') {
            memcpy(out.data + out.len, t.data + from, end - from);
            out.len += end - from;
            out.data[out.len++] = '\n';
        }
        i = end + 1;
    }
    return out;
}

static void check_trace(const char *env_name, const char *trace_file, const char *out_file)
{
    text trace, plain, out;
    check_output(env_name, ARGS("--fake-clock", "--trace"), trace_file);
    trace = read_expected(trace_file);
    out = read_expected(out_file);
    plain = strip_trace(trace);
    assert_same(plain, out, trace_file);
    free(trace.data);
    free(plain.data);
    free(out.data);
}

Test(asyncio_samples, create_task_order)
{
    check_output("SAMPLE_CREATE_TASK_ORDER", ARGS("--fake-clock"), "create_task_order.out");
}

/* When each line comes, and that asyncio.run cancels the forgotten task
   right after main returns, at t=0. */
Test(asyncio_samples, create_task_order_times)
{
    check_trace("SAMPLE_CREATE_TASK_ORDER", "create_task_order.trace", "create_task_order.out");
}

Test(asyncio_samples, fetch_data)
{
    check_output("SAMPLE_FETCH_DATA", ARGS("--fake-clock"), "fetch_data.out");
}

/* The numbers come every 0.45 s; print_numbers is cancelled at t=2, when
   main has its value and returns. */
Test(asyncio_samples, fetch_data_times)
{
    check_trace("SAMPLE_FETCH_DATA", "fetch_data.trace", "fetch_data.out");
}

Test(asyncio_samples, foo_bar_gather)
{
    check_output("SAMPLE_FOO_BAR_GATHER", ARGS("--fake-clock"), "foo_bar_gather.out");
}

Test(asyncio_samples, foo_bar_gather_times)
{
    check_trace("SAMPLE_FOO_BAR_GATHER", "foo_bar_gather.trace", "foo_bar_gather.out");
}

/* --timing adds the elapsed time: 2 s, not 3. */
Test(asyncio_samples, foo_bar_gather_takes_two_seconds)
{
    static const char elapsed[] = "elapsed: 2.000 s ";
    text got = run_sample("SAMPLE_FOO_BAR_GATHER", ARGS("--fake-clock", "--timing"));
    text want = read_expected("foo_bar_gather.out");
    cr_assert(got.len > want.len && memcmp(got.data, want.data, want.len) == 0,
              "--timing must print the lecture's lines first:\n%.*s", (int)got.len, got.data);
    cr_assert(got.len - want.len > sizeof elapsed - 1 &&
                  memcmp(got.data + want.len, elapsed, sizeof elapsed - 1) == 0,
              "expected a last line starting \"%s\", got \"%.*s\"", elapsed,
              (int)(got.len - want.len), got.data + want.len);
    free(got.data);
    free(want.data);
}

Test(asyncio_samples, video_processing)
{
    check_output("SAMPLE_VIDEO_PROCESSING", ARGS("--fake-clock"), "video_processing.out");
    check_output("SAMPLE_VIDEO_PROCESSING", ARGS("--fake-clock", "--lecture"),
                 "video_processing.out");
}

/* Into a pipe, --progress writes a plain line for each report. */
Test(asyncio_samples, video_processing_progress_lines)
{
    check_output("SAMPLE_VIDEO_PROCESSING", ARGS("--fake-clock", "--progress"),
                 "video_processing_progress.out");
}
