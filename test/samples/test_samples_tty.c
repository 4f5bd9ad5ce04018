/*
 * test_samples_tty.c -- the samples whose output is for a terminal or for a
 * clock: video_processing's progress bars, read from a pseudo-terminal
 * through a small emulator, and two_printers' shape, seeds and Ctrl-C.
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
