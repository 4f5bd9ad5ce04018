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

/* work(job, ms): asyncio.sleep(ms), in ticks that report job's progress. */
typedef struct {
    co_gen gen;
    job *job;
    int left_ms;
    int step_ms;
} work;

static int work_fn(co_gen *g)
{
    work *self = (work *)g;
    CO_BEGIN(self);
    while (self->left_ms > 0) {
        self->step_ms = tick_ms > 0 && tick_ms < self->left_ms ? tick_ms : self->left_ms;
        CO_SLEEP(self, self->step_ms);
        self->left_ms -= self->step_ms;
        self->job->done_ms += self->step_ms;
        show_progress(self->job);
    }
    CO_END(self);
}

/* Makes `w` a fresh work(job, ms) coroutine, ready to be awaited. */
static void work_init(work *w, job *j, int ms)
{
    CO_INIT(w, work_fn);
    w->job = j;
    w->left_ms = ms;
}

/* ------------------------------------------------------------------ jobs */

typedef struct {
    co_gen gen;
    const char *text;
    work sleep;
} get_answer_video;

static int get_answer_video_fn(co_gen *g)
{
    get_answer_video *self = (get_answer_video *)g;
    CO_BEGIN(self);
    work_init(&self->sleep, &jobs[VIDEO], 5000);
    CO_AWAIT(self, sleep);
    show_message(self->text);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    work sleep;
} read_data;

static int read_data_fn(co_gen *g)
{
    read_data *self = (read_data *)g;
    CO_BEGIN(self);
    show_message("I started reading data");
    work_init(&self->sleep, &jobs[READING], 3000);
    CO_AWAIT(self, sleep);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    get_answer_video answer;
    work sleep;
} video_processing;

static int video_processing_fn(co_gen *g)
{
    video_processing *self = (video_processing *)g;
    CO_BEGIN(self);
    show_message("I started processing the video");
    CO_INIT(&self->answer, get_answer_video_fn);
    self->answer.text = "I am still processing the video";
    CO_AWAIT(self, answer);
    work_init(&self->sleep, &jobs[VIDEO], 3000);
    CO_AWAIT(self, sleep);
    show_message("I finished processing the video");
    CO_END(self);
}

/* Only in --progress: the exercise's second example of a long job. */
typedef struct {
    co_gen gen;
    work sleep;
} archive_data;

static int archive_data_fn(co_gen *g)
{
    archive_data *self = (archive_data *)g;
    CO_BEGIN(self);
    show_message("I started archiving data");
    work_init(&self->sleep, &jobs[ARCHIVING], 6000);
    CO_AWAIT(self, sleep);
    CO_END(self);
}

/* ------------------------------------------------------------------ main */

typedef struct {
    co_gen gen;
    co_gen *tasks[NJOBS];
    size_t ntasks;
    co_gather gather;
} main_task;

/* asyncio.create_task(body()) into self->tasks; false when out of memory. */
static bool create_task(main_task *self, size_t size, co_body body)
{
    co_gen *task = co_task_new(co_running_loop(), size, body);
    if (task == NULL)
        return false;
    co_spawn(task);
    self->tasks[self->ntasks++] = task;
    return true;
}

static int main_fn(co_gen *g)
{
    main_task *self = (main_task *)g;
    CO_BEGIN(self);
    if (!create_task(self, sizeof(read_data), read_data_fn) ||
        !create_task(self, sizeof(video_processing), video_processing_fn) ||
        (display != DISPLAY_LECTURE &&
         !create_task(self, sizeof(archive_data), archive_data_fn)))
        CO_RAISE(self, CO_ENOMEM);
    CO_GATHER(self, &self->gather, self->tasks, self->ntasks, CO_GATHER_FIRST_ERROR);
    CO_END(self);
}

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
    m = CO_NEW(loop, main_task, main_fn);
    rc = m ? co_run(loop, &m->gen) : CO_ENOMEM;
    tour_loop_free(loop);
    return tour_exit_status(argv[0], rc);
}
