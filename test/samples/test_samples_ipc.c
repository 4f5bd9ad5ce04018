/*
 * test_samples_ipc.c -- the samples on datagrams and child processes beside
 * their Python twins: udp_echo's replies, shell_pipeline's sorted output and
 * exit statuses (and how it fails: a command that fails, one that does not
 * exist), and the shape of processes_vs_threads' report, whose timings
 * differ from run to run.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "samples_kit.h"

/* The sample's stdout equals its twin's for the same arguments, and both
 * exit with `status`. */
static void same_as_python(const char *env_name, const char *script, const char *const *args,
                           int status)
{
    text got, err, want;
    int c_status = run_sample_status(env_name, args, &got, &err);
    int py_status = run_python_twin(script, args, &want);
    cr_assert(WIFEXITED(c_status) && WEXITSTATUS(c_status) == status, "%s: status %d: %.*s",
              env_name, WEXITSTATUS(c_status), (int)err.len, err.data);
    cr_assert(WIFEXITED(py_status) && WEXITSTATUS(py_status) == 0, "%s: status %d", script,
              WEXITSTATUS(py_status));
    assert_same(got, want, script);
    free(got.data);
    free(err.data);
    free(want.data);
}

Test(asyncio_samples, udp_echo_as_python)
{
    const char *const none[] = {NULL};
    same_as_python("SAMPLE_UDP_ECHO", "udp_echo.py", none, 0);
}

Test(asyncio_samples, shell_pipeline_as_python)
{
    const char *const none[] = {NULL};
    static char sorted[] = "apple\nfig\npear\nexit statuses: 0 0\n";
    text got = run_sample("SAMPLE_SHELL_PIPELINE", NULL), want = {sorted, sizeof sorted - 1};
    assert_same(got, want, "printf 'pear\\napple\\nfig\\n' | sort");
    free(got.data);
    same_as_python("SAMPLE_SHELL_PIPELINE", "shell_pipeline.py", none, 0);
}

/* Both statuses are reported, and a failing child fails the program (the
 * .py reports them too, and exits 0: only the C sample's status is checked). */
Test(asyncio_samples, shell_pipeline_reports_a_failing_command)
{
    same_as_python("SAMPLE_SHELL_PIPELINE", "shell_pipeline.py", ARGS("sh", "-c", "exit 3", "|", "cat"),
                   1);
}

/* A command that cannot be run is an error with its reason, no crash and no
 * output: Python raises FileNotFoundError at create_subprocess_exec. */
Test(asyncio_samples, shell_pipeline_names_a_missing_command)
{
    text out, err;
    int status = run_sample_status("SAMPLE_SHELL_PIPELINE",
                                   ARGS("corio-no-such-command", "|", "cat"), &out, &err);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d", WEXITSTATUS(status));
    cr_assert_eq(out.len, 0, "stdout: %.*s", (int)out.len, out.data);
    cr_assert(contains(err, "cannot run: No such file or directory"), "stderr: %.*s",
              (int)err.len, err.data);
    free(out.data);
    free(err.data);
}

/* Its first line is the .py's; then one line for threads and one for tasks,
 * each with the seconds it took (timings differ, so only the shape). */
Test(asyncio_samples, processes_vs_threads_has_the_python_shape)
{
    const char *const *args = ARGS("--children", "20", "--seconds", "0.05");
    text got, err, want;
    int status = run_sample_status("SAMPLE_PROCESSES_VS_THREADS", args, &got, &err);
    double secs;
    char *threads, *tasks;
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d: %.*s",
              WEXITSTATUS(status), (int)err.len, err.data);
    cr_assert(WIFEXITED(run_python_twin("processes_vs_threads.py", args, &want)));
    cr_assert(got.len > 0 && want.len > 0);
    got.data = realloc(got.data, got.len + 1); /* a C string, for strstr and sscanf */
    cr_assert_not_null(got.data);
    got.data[got.len] = '\0';
    cr_assert_eq(line_end(got, 0), line_end(want, 0));
    cr_assert(memcmp(got.data, want.data, line_end(got, 0)) == 0, "first lines differ:\n%s\n%.*s",
              got.data, (int)want.len, want.data);
    cr_assert(contains(got, "20 children, each running: sleep 0.05\n"));
    threads = strstr(got.data, "\nthreads: ");
    tasks = strstr(got.data, "\ntasks:   ");
    cr_assert(threads && sscanf(threads, "\nthreads: %lf s, 20 threads", &secs) == 1 &&
                  secs >= 0.05, "the threads line: %s", got.data);
    cr_assert(tasks && sscanf(tasks, "\ntasks:   %lf s, 1 thread", &secs) == 1 && secs >= 0.05,
              "the tasks line: %s", got.data);
    free(got.data);
    free(err.data);
    free(want.data);
}
