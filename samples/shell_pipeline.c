/*
 * shell_pipeline.c -- `first | second` as a shell runs it: two children
 * joined by a pipe, the second one's output read by the parent, and both
 * exit statuses reported.  Meanwhile the loop stays free: a ticker task
 * counts while the pipeline runs.
 *
 * The Python it mirrors (shell_pipeline.py):
 *
 *     r, w = os.pipe()
 *     first = await asyncio.create_subprocess_exec(*cmd1, stdout=w)
 *     second = await asyncio.create_subprocess_exec(*cmd2, stdin=r,
 *                                                   stdout=asyncio.subprocess.PIPE)
 *     os.close(r); os.close(w)
 *     out, _ = await second.communicate()
 *     await first.wait()
 *
 * Run: shell_pipeline [CMD1 ARGS... '|' CMD2 ARGS...]; without arguments it
 * runs  printf 'pear\napple\nfig\n' | sort.
 */
#define _GNU_SOURCE /* pipe2 */

#include <corio/corio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The pipe, and a child at each end of it: 0, or why not (the pipe is closed
 * either way: the children hold it now). */
static int spawn_both(const char *const *cmd1, const char *const *cmd2, co_process *first,
                      co_process *second)
{
    int link[2], rc;
    co_spawn_opts a = {.out = CO_STDIO_FD}, b = {.in = CO_STDIO_FD, .out = CO_STDIO_PIPE};
    /* a plain (blocking) pipe: each child gets one end as its stdin or stdout */
    if (pipe2(link, O_CLOEXEC) < 0)
        return -errno;
    a.out_fd = link[1];
    b.in_fd = link[0];
    rc = co_process_spawn(co_running_loop(), first, cmd1, &a);
    if (rc == 0)
        rc = co_process_spawn(co_running_loop(), second, cmd2, &b);
    close(link[0]);
    close(link[1]);
    return rc;
}

/* async def pipeline(cmd1, cmd2, done) */
CO_ASYNC(pipeline, const char *const *cmd1, *const *cmd2; co_process first, second; bool done;)
    CO_CHECK(self, spawn_both(self->cmd1, self->cmd2, &self->first, &self->second));
    CO_PROCESS_COMMUNICATE(self, second, NULL, 0);
    CO_PROCESS_WAIT(self, first);
    fwrite(self->second.out_data, 1, self->second.out_len, stdout);
    printf("exit statuses: %d %d\n", self->first.returncode, self->second.returncode);
    CO_FINALLY(self)
    {
        self->done = true; /* done.set() */
        co_process_close(&self->first);
        co_process_close(&self->second);
    }
CO_ASYNC_END

/* async def ticker(done) */
CO_ASYNC(ticker, pipeline *p; int ticks;)
    while (!self->p->done) {
        CO_SLEEP(self, 1);
        self->ticks++;
    }
CO_ASYNC_END

int main(int argc, char **argv)
{
    static const char *const dflt1[] = {"printf", "pear\\napple\\nfig\\n", NULL};
    static const char *const dflt2[] = {"sort", NULL};
    co_loop *loop;
    pipeline *p;
    ticker *t;
    int rc, bar = 0;
    bool failed;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "|") == 0)
            bar = i;
    if (argc > 1 && (bar <= 1 || bar == argc - 1)) {
        fprintf(stderr, "usage: shell_pipeline [CMD1 ARGS... '|' CMD2 ARGS...]\n");
        return 2;
    }
    if ((rc = co_loop_new(&loop, NULL)) < 0) {
        fprintf(stderr, "loop: %s\n", co_strerror(rc));
        return 1;
    }
    p = CO_TASK(loop, pipeline, .cmd1 = dflt1, .cmd2 = dflt2);
    t = p ? CO_TASK(loop, ticker, .p = p) : NULL;
    if (t == NULL) {
        co_loop_free(loop);
        return 1;
    }
    if (bar) {
        argv[bar] = NULL; /* argv splits into two NULL-terminated lists */
        p->cmd1 = (const char *const *)(argv + 1);
        p->cmd2 = (const char *const *)(argv + bar + 1);
    }
    co_spawn(&t->gen);
    rc = co_run(loop, &p->gen);
    if (rc < 0)
        fprintf(stderr, "cannot run: %s\n", co_strerror(rc));
    fprintf(stderr, "(the loop ticked %d times meanwhile)\n", t->ticks);
    failed = rc != 0 || p->first.returncode != 0 || p->second.returncode != 0;
    co_loop_free(loop);
    return failed ? 1 : 0;
}
