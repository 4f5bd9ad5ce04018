/*
 * video_processing.c -- the lecture's "simulator of asynchronous processes":
 * long jobs that run together, each reporting its progress as it goes.
 *
 * The Python it mirrors (samples/video_processing.py, the lecture's example):
 *
 *     async def get_answer_video(text: str):
 *         await asyncio.sleep(5)
 *         print(text)
 *
 *     async def read_data():
 *         print("I started reading data")
 *         await asyncio.sleep(3)
 *
 *     async def video_processing():
 *         print("I started processing the video")
 *         await get_answer_video("I am still processing the video")
 *         await asyncio.sleep(3)
 *         print("I finished processing the video")
 *
 *     async def main():
 *         await asyncio.gather(asyncio.create_task(read_data()),
 *                              asyncio.create_task(video_processing()))
 *
 *     asyncio.run(main())
 *
 * By default (or with --lecture) it is exactly that program.  With --progress
 * it becomes the simulator the lecture's exercise asks for: a third job,
 * "data archiving", joins in, and every asyncio.sleep(s) of a job becomes
 * work(job, s), a sleep in short ticks that reports after each one:
 *
 *     async def work(job, seconds):
 *         while seconds > 0:
 *             step = min(TICK, seconds)
 *             await asyncio.sleep(step)
 *             seconds -= step
 *             job.done += step
 *             display.progress(job)
 *
 * On a terminal the display is one live progress bar per job, redrawn in
 * place with ANSI cursor movement (TICK = 0.1 s), the lecture's messages
 * scrolling above the bars; into a pipe or a file it writes one plain line
 * per report (TICK = 1 s).  --fake-clock runs it on virtual time, instantly
 * and exactly; --trace puts the loop's time in front of every line.
 */
#include "tour.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* ----------------------------------------------------------- the display */

typedef struct {
    const char *name;
    int total_ms; /* the job's whole length */
    int done_ms;
} job;

enum { READING, VIDEO, ARCHIVING, NJOBS };

static job jobs[NJOBS] = {
    {"reading data", 3000, 0},
    {"video processing", 8000, 0},
    {"data archiving", 6000, 0},
};

enum display_kind {
    DISPLAY_LECTURE, /* the lecture's print()s and nothing else */
    DISPLAY_LINES,   /* a plain line per progress report       */
    DISPLAY_BARS     /* live bars on a terminal                 */
};

static enum display_kind display = DISPLAY_LECTURE;
static int tick_ms;   /* how often a job reports; 0: it does not */
static int bar_width; /* in DISPLAY_BARS */

#define NAME_WIDTH 18

static int percent(const job *j)
{
    return (j->done_ms * 100 + j->total_ms / 2) / j->total_ms;
}

/* One bar line, without its newline: "video processing  [#####.....]  50%". */
static void draw_bar(const job *j)
{
    int filled = j->done_ms * bar_width / j->total_ms, i;
    printf("\r\033[2K%-*s[", NAME_WIDTH, j->name);
    for (i = 0; i < bar_width; i++)
        putchar(i < filled ? '#' : '.');
    printf("] %3d%%", percent(j));
}

static void draw_bars(void)
{
    int i;
    for (i = 0; i < NJOBS; i++) {
        draw_bar(&jobs[i]);
        putchar('\n');
    }
    fflush(stdout);
}

/* Picks the display for --progress: bars when stdout is a terminal wide
   enough for them, plain lines otherwise. */
static void progress_display_init(void)
{
    struct winsize ws;
    int columns = 80;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        columns = ws.ws_col;
    /* a bar line must not wrap, or moving the cursor up would miss it: it
       leaves the last column free, after the name, "[", the bar and "] 100%" */
    bar_width = columns - 1 - NAME_WIDTH - (int)strlen("[] 100%");
    if (bar_width > 40)
        bar_width = 40;
    if (isatty(STDOUT_FILENO) && bar_width >= 10) {
        display = DISPLAY_BARS;
        tick_ms = 100;
        draw_bars(); /* the block starts at 0%; messages go above it */
    } else {
        display = DISPLAY_LINES;
        tick_ms = 1000;
    }
}

/* The lecture's print(): above the bars, if there are any. */
static void show_message(const char *text)
{
    if (display == DISPLAY_BARS)
        printf("\033[%dA\r\033[J", NJOBS); /* up to the bars and wipe them */
    tour_say("%s", text);
    if (display == DISPLAY_BARS)
        draw_bars();
}

static void show_progress(const job *j)
{
    if (display == DISPLAY_LINES) {
        tour_say("%s: %d%%", j->name, percent(j));
    } else if (display == DISPLAY_BARS) {
        printf("\033[%dA", NJOBS);
        draw_bars();
    }
}

/* ------------------------------------------------------------------ work */

/* The next step of a work() of left_ms: one tick, or all of it when the
   ticks are off (the lecture's display) or longer. */
static int step_of(int left_ms) { return tick_ms > 0 && tick_ms < left_ms ? tick_ms : left_ms; }

/* Job j got step_ms further. */
static void advance(job *j, int step_ms)
{
    j->done_ms += step_ms;
    show_progress(j);
}

/* work(job, ms): asyncio.sleep(ms), in ticks that report job's progress. */
CO_ASYNC(work, job *job; int left_ms; int step_ms;)
    for (; self->left_ms > 0; self->left_ms -= self->step_ms) {
        CO_SLEEP(self, self->step_ms = step_of(self->left_ms));
        advance(self->job, self->step_ms);
    }
CO_ASYNC_END

/* ------------------------------------------------------------------ jobs */

CO_ASYNC(get_answer_video, const char *text; work sleep;)
    CO_AWAIT_CALL(self, sleep, work, .job = &jobs[VIDEO], .left_ms = 5000);
    show_message(self->text);
CO_ASYNC_END

CO_ASYNC(read_data, work sleep;)
    show_message("I started reading data");
    CO_AWAIT_CALL(self, sleep, work, .job = &jobs[READING], .left_ms = 3000);
CO_ASYNC_END

CO_ASYNC(video_processing, get_answer_video answer; work sleep;)
    show_message("I started processing the video");
    CO_AWAIT_CALL(self, answer, get_answer_video, .text = "I am still processing the video");
    CO_AWAIT_CALL(self, sleep, work, .job = &jobs[VIDEO], .left_ms = 3000);
    show_message("I finished processing the video");
CO_ASYNC_END

/* The exercise's second example of a long job: --progress only (in the
   lecture's display it does nothing). */
CO_ASYNC(archive_data, work sleep;)
    if (display != DISPLAY_LECTURE) {
        show_message("I started archiving data");
        CO_AWAIT_CALL(self, sleep, work, .job = &jobs[ARCHIVING], .left_ms = 6000);
    }
CO_ASYNC_END

/* ------------------------------------------------------------------ main */

/* gather(create_task(read_data()), create_task(video_processing())), and
   archive_data() beside them with the progress display */
CO_ASYNC(main_task, co_gather gather;)
    CO_GATHER_OF(self, &self->gather, CO_GATHER_FIRST_ERROR, CO_CALL(read_data, ),
                 CO_CALL(video_processing, ), CO_CALL(archive_data, ));
CO_ASYNC_END

int main(int argc, char **argv)
{
    static const char usage[] = "[--lecture | --progress] [--fake-clock] [--trace]";
    bool progress = false;
    co_loop *loop;
    main_task *m;
    int rc, i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--lecture") == 0)
            progress = false;
        else if (strcmp(argv[i], "--progress") == 0)
            progress = true;
        else if (!tour_option(argv[i]))
            tour_usage_error(argv[0], usage, argv[i]);
    }
    loop = tour_loop();
    if (progress)
        progress_display_init();
    m = CO_TASK(loop, main_task, );
    rc = m ? co_run(loop, &m->gen) : CO_ENOMEM;
    tour_loop_free(loop);
    return tour_exit_status(argv[0], rc);
}
