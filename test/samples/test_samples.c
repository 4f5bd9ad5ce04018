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

/* A running sample: its pid and the read ends of its output pipes. */
typedef struct {
    pid_t pid;
    FILE *out;
    FILE *err; /* NULL: its stderr is ours (the test's log) */
} child;

/* Starts argv (no shell) with its stdout, and its stderr if asked, piped to
   us.  Ctrl-C gets its default action back, as in a terminal: a test run in
   the background would otherwise hand the sample an ignored SIGINT. */
static child start(char *const argv[], bool capture_stderr)
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
static int finish(child *c)
{
    int status;
    fclose(c->out);
    if (c->err)
        fclose(c->err);
    cr_assert_eq(waitpid(c->pid, &status, 0), c->pid, "waitpid: %s", strerror(errno));
    return status;
}

/* Anything but a clean exit fails the test. */
static void assert_clean_exit(int status, const char *what)
{
    cr_assert(!WIFSIGNALED(status), "%s was killed by signal %d", what, WTERMSIG(status));
    cr_assert(WEXITSTATUS(status) == 0, "%s exited with status %d%s", what, WEXITSTATUS(status),
              WEXITSTATUS(status) == 127 ? " (could it be run?)" : "");
}

/* Runs argv to its end and returns what it wrote on stdout. */
static text run(char *const argv[])
{
    child c = start(argv, false);
    text t = read_stream(c.out, argv[0]);
    assert_clean_exit(finish(&c), argv[0]);
    return t;
}

/* The command line of sample SAMPLE_<NAME> with `args` (NULL-ended). */
#define MAX_ARGS 16
typedef struct {
    char *argv[MAX_ARGS + 2];
} command;

static command sample_command(const char *env_name, const char *const *args)
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

/* A NULL-ended list of arguments, for the calls below. */
#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static text run_sample(const char *env_name, const char *const *args)
{
    command cmd = sample_command(env_name, args);
    return run(cmd.argv);
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

/* Sample SAMPLE_<NAME>, run with `args`, prints exactly the file `expected`. */
static void check_output(const char *env_name, const char *const *args, const char *expected)
{
    text got = run_sample(env_name, args), want = read_expected(expected);
    assert_same(got, want, env(env_name));
    free(got.data);
    free(want.data);
}

static void check_sample(const char *env_name, const char *expected)
{
    check_output(env_name, NULL, expected);
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

/* ----------------------------------------------- a terminal, emulated */

/* Just enough of a terminal for the progress bars: text, \r, \n, and the
   escapes cursor up (ESC[nA), erase line (ESC[2K) and erase down (ESC[J). */
#define SCREEN_ROWS 64
#define SCREEN_COLS 160
typedef struct {
    char cells[SCREEN_ROWS][SCREEN_COLS];
    int row, col, used;  /* the cursor; rows ever written */
    unsigned cursor_ups; /* how many times the cursor went up */
} screen;

static void screen_clear_row(screen *s, int row, int from)
{
    memset(s->cells[row] + from, ' ', (size_t)(SCREEN_COLS - from));
}

static void screen_escape(screen *s, char op, int n)
{
    switch (op) {
    case 'A':
        s->row = s->row >= n ? s->row - n : 0;
        s->cursor_ups++;
        break;
    case 'K':
        cr_assert_eq(n, 2, "only ESC[2K (erase the line) is expected, got ESC[%dK", n);
        screen_clear_row(s, s->row, 0);
        break;
    case 'J':
        cr_assert_eq(n, 0, "only ESC[J (erase down) is expected, got ESC[%dJ", n);
        screen_clear_row(s, s->row, s->col);
        for (int r = s->row + 1; r < SCREEN_ROWS; r++)
            screen_clear_row(s, r, 0);
        break;
    default:
        cr_assert_fail("unexpected escape ESC[%d%c", n, op);
    }
}

static void screen_feed(screen *s, text t)
{
    for (size_t i = 0; i < t.len; i++) {
        char c = t.data[i];
        if (c == '\033') {
            int n = 0;
            cr_assert(i + 2 < t.len && t.data[i + 1] == '[', "a bare ESC at byte %zu", i);
            for (i += 2; i < t.len && t.data[i] >= '0' && t.data[i] <= '9'; i++)
                n = 10 * n + (t.data[i] - '0');
            cr_assert(i < t.len, "an escape cut short");
            screen_escape(s, t.data[i], t.data[i] == 'A' && n == 0 ? 1 : n);
        } else if (c == '\r') {
            s->col = 0;
        } else if (c == '\n') {
            s->row++;
            cr_assert(s->row < SCREEN_ROWS, "more lines than the test screen holds");
        } else {
            cr_assert(c >= ' ' && c < 127, "unexpected byte 0x%02x", (unsigned char)c);
            cr_assert(s->col < SCREEN_COLS, "a line wider than the test screen");
            s->cells[s->row][s->col++] = c;
            if (s->row >= s->used)
                s->used = s->row + 1;
        }
    }
}

/* The screen's text: its rows up to the last non-blank one, each trimmed
   and ended by a newline. */
static text screen_text(const screen *s)
{
    text t = {malloc(SCREEN_ROWS * (SCREEN_COLS + 1)), 0};
    size_t last_line_end = 0;
    cr_assert_not_null(t.data);
    for (int r = 0; r < s->used; r++) {
        int n = SCREEN_COLS;
        while (n > 0 && s->cells[r][n - 1] == ' ')
            n--;
        memcpy(t.data + t.len, s->cells[r], (size_t)n);
        t.len += (size_t)n;
        t.data[t.len++] = '\n';
        if (n > 0)
            last_line_end = t.len;
    }
    t.len = last_line_end;
    return t;
}

/* Runs argv with its stdout on a new pseudo-terminal `columns` wide, and
   returns everything written there. */
static text run_on_terminal(char *const argv[], int columns)
{
    struct winsize size = {24, (unsigned short)columns, 0, 0};
    char name[256];
    text t = {NULL, 0};
    size_t cap = 0;
    int master, status;
    pid_t pid;

    master = posix_openpt(O_RDWR | O_NOCTTY);
    cr_assert_geq(master, 0, "posix_openpt: %s", strerror(errno));
    cr_assert(grantpt(master) == 0 && unlockpt(master) == 0, "pty: %s", strerror(errno));
    cr_assert_eq(ioctl(master, TIOCSWINSZ, &size), 0, "TIOCSWINSZ: %s", strerror(errno));
    cr_assert_not_null(ptsname(master));
    snprintf(name, sizeof name, "%s", ptsname(master));
    fflush(NULL);
    pid = fork();
    cr_assert_neq(pid, -1, "fork: %s", strerror(errno));
    if (pid == 0) {
        int slave = open(name, O_RDWR);
        if (slave < 0)
            _exit(126);
        dup2(slave, STDOUT_FILENO);
        close(slave);
        close(master);
        execv(argv[0], argv);
        _exit(127);
    }
    for (;;) { /* until the other side is closed: EIO on Linux, 0 elsewhere */
        ssize_t n;
        if (t.len == cap) {
            cap = cap ? 2 * cap : 65536;
            t.data = realloc(t.data, cap);
            cr_assert_not_null(t.data);
        }
        n = read(master, t.data + t.len, cap - t.len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        t.len += (size_t)n;
    }
    close(master);
    cr_assert_eq(waitpid(pid, &status, 0), pid, "waitpid: %s", strerror(errno));
    assert_clean_exit(status, argv[0]);
    return t;
}

/* On a terminal: live bars, redrawn in place, with the messages above them. */
Test(asyncio_samples, video_processing_progress_bars)
{
    command cmd = sample_command("SAMPLE_VIDEO_PROCESSING", ARGS("--fake-clock", "--progress"));
    static screen s;
    text raw = run_on_terminal(cmd.argv, 80), shown, want;

    memset(s.cells, ' ', sizeof s.cells);
    screen_feed(&s, raw);
    shown = screen_text(&s);
    want = read_expected("video_processing_bars.screen");
    assert_same(shown, want, "the terminal at the end");
    /* the bars went up and were redrawn at every report, ten a second for
       each job (3 + 8 + 6 s), and around each of the 5 messages */
    cr_assert_eq(s.cursor_ups, 30 + 80 + 60 + 5, "the bars were redrawn %u times",
                 s.cursor_ups);
    free(raw.data);
    free(shown.data);
    free(want.data);
}

/* A terminal too narrow for a bar gets the plain lines instead. */
Test(asyncio_samples, video_processing_narrow_terminal)
{
    command cmd = sample_command("SAMPLE_VIDEO_PROCESSING", ARGS("--fake-clock", "--progress"));
    static screen s;
    text raw = run_on_terminal(cmd.argv, 30), shown, want;

    memset(s.cells, ' ', sizeof s.cells);
    screen_feed(&s, raw);
    shown = screen_text(&s);
    want = read_expected("video_processing_progress.out");
    assert_same(shown, want, "a terminal 30 columns wide");
    cr_assert_eq(s.cursor_ups, 0);
    free(raw.data);
    free(shown.data);
    free(want.data);
}

/* ------------------------------------------------------- two_printers */

/*
 * two_printers' lines, as a shape: 'N' for the counter (1, 2, 3, ... in
 * order), 'R' for a random number (1 to 100).  Fails on any other line.
 * Counts the random lines and how many distinct values they took.
 */
typedef struct {
    char pattern[512];
    size_t randoms, distinct;
} shape;

static shape shape_of(text t, const char *what)
{
    shape sh = {{0}, 0, 0};
    bool seen[101] = {false};
    long counter = 1;
    size_t i = 0, n = 0;
    while (i < t.len) {
        size_t end = line_end(t, i);
        char line[32], *stop;
        long v;
        cr_assert(end - i > 0 && end - i < sizeof line, "%s: bad line at byte %zu", what, i);
        memcpy(line, t.data + i, end - i);
        line[end - i] = '\0';
        v = strtol(line, &stop, 10);
        cr_assert(*stop == '\0', "%s: \"%s\" is not a number", what, line);
        cr_assert(n + 1 < sizeof sh.pattern, "%s: too many lines", what);
        if (v == counter) {
            sh.pattern[n++] = 'N';
            counter++;
        } else {
            cr_assert(v >= 1 && v <= 100, "%s: %ld is neither the count (%ld) nor in 1..100",
                      what, v, counter);
            sh.pattern[n++] = 'R';
            sh.randoms++;
            if (!seen[v])
                sh.distinct++;
            seen[v] = true;
        }
        i = end + 1;
    }
    return sh;
}

/* The lecture's run ended just after 2 s: 1, R, 2, 3, 4, R, 5. */
Test(asyncio_samples, two_printers_has_the_lectures_shape)
{
    text lecture = read_expected("two_printers.out");
    text got = run_sample("SAMPLE_TWO_PRINTERS",
                          ARGS("--fake-clock", "--seconds", "2.1", "--seed", "1"));
    shape want = shape_of(lecture, "two_printers.out"), have = shape_of(got, "two_printers");
    cr_assert_str_eq(want.pattern, "NRNNNRN");
    cr_assert_str_eq(have.pattern, want.pattern);
    free(lecture.data);
    free(got.data);
}

/* Both tasks wake at t=2 and t=4: the random printer first, as its sleep
   began earlier; the time limit at t=5 cancels them before the counter's 11. */
Test(asyncio_samples, two_printers_five_seconds)
{
    text got = run_sample("SAMPLE_TWO_PRINTERS",
                          ARGS("--fake-clock", "--seconds", "5", "--seed", "2"));
    cr_assert_str_eq(shape_of(got, "two_printers").pattern, "NRNNNRNNNNRNN");
    free(got.data);
}

Test(asyncio_samples, two_printers_seed_repeats)
{
    const char *const *args = ARGS("--fake-clock", "--seconds", "5", "--seed", "42");
    text a = run_sample("SAMPLE_TWO_PRINTERS", args);
    text b = run_sample("SAMPLE_TWO_PRINTERS", args);
    assert_same(a, b, "two_printers --seed 42, run again");
    free(a.data);
    free(b.data);
}

/* A minute: 120 counts, 30 random numbers, all in 1..100 and not stuck. */
Test(asyncio_samples, two_printers_a_minute)
{
    text got = run_sample("SAMPLE_TWO_PRINTERS",
                          ARGS("--fake-clock", "--seconds", "60", "--seed", "7"));
    shape sh = shape_of(got, "two_printers");
    cr_assert_eq(strlen(sh.pattern), 150);
    cr_assert_eq(sh.randoms, 30);
    cr_assert_geq(sh.distinct, 10, "only %zu distinct random numbers in 30", sh.distinct);
    free(got.data);
}

/* Ctrl-C (on the real clock, running forever): the run ends quietly with
   the status a shell gives a program stopped by Ctrl-C. */
Test(asyncio_samples, two_printers_ctrl_c, .timeout = 20)
{
    command cmd = sample_command("SAMPLE_TWO_PRINTERS", NULL);
    child c = start(cmd.argv, true);
    text rest, err;
    int ch, status;

    /* the first line is printed by a task: co_run is running, Ctrl-C is its */
    while ((ch = getc(c.out)) != EOF && ch != '\n')
        ;
    cr_assert_eq(ch, '\n', "two_printers printed nothing");
    cr_assert_eq(kill(c.pid, SIGINT), 0, "kill: %s", strerror(errno));
    rest = read_stream(c.out, "two_printers");
    err = read_stream(c.err, "two_printers' stderr");
    status = finish(&c);
    cr_assert(WIFEXITED(status), "two_printers did not exit by itself (signal %d)",
              WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    cr_assert_eq(WEXITSTATUS(status), 130);
    cr_assert_eq(err.len, 0, "two_printers wrote on stderr: %.*s", (int)err.len, err.data);
    if (rest.len) /* whatever came after the first line: numbers only */
        shape_of(rest, "two_printers after the first line");
    free(rest.data);
    free(err.data);
}

/* Virtual time without an end would print forever, as fast as it can. */
Test(asyncio_samples, two_printers_fake_clock_needs_seconds, .timeout = 20)
{
    command cmd = sample_command("SAMPLE_TWO_PRINTERS", ARGS("--fake-clock"));
    child c = start(cmd.argv, true);
    text out = read_stream(c.out, "two_printers"), err = read_stream(c.err, "its stderr");
    int status = finish(&c);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2,
              "expected a usage error (status 2), got status %d", WEXITSTATUS(status));
    cr_assert_eq(out.len, 0, "it printed: %.*s", (int)out.len, out.data);
    cr_assert(err.len > 0, "no message on stderr");
    free(out.data);
    free(err.data);
}

/* --------------------------------------------------------- read_files */

/* Whether t holds `needle` anywhere. */
static bool contains(text t, const char *needle)
{
    size_t n = strlen(needle), i;
    for (i = 0; i + n <= t.len; i++)
        if (memcmp(t.data + i, needle, n) == 0)
            return true;
    return false;
}

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

/* The python3 found at configure time; skips the test if there was none. */
static const char *python_or_skip(void)
{
    const char *python = getenv("PYTHON3");
    if (python == NULL || *python == '\0')
        cr_skip_test("no python3 found at configure time: the Python twin is not run");
    return python;
}

/* python3 samples/<script> with args: its status, its stdout in *out. */
static int run_python_twin(const char *script, const char *const *args, text *out)
{
    const char *python = python_or_skip();
    char path[4096];
    char *argv[MAX_READ_ARGS + 3];
    size_t n = 0;
    child c;

    join(path, sizeof path, env("CORIO_SAMPLES_DIR"), script);
    argv[n++] = (char *)python;
    argv[n++] = path;
    while (*args && n < MAX_READ_ARGS + 2)
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
static int run_sample_status(const char *env_name, const char *const *args, text *out, text *err)
{
    command cmd = sample_command(env_name, args);
    child c = start(cmd.argv, true);
    *out = read_stream(c.out, cmd.argv[0]);
    *err = read_stream(c.err, "its stderr");
    return finish(&c);
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
