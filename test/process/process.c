/*
 * process.c -- subprocesses: exit statuses and signals, programs that
 * cannot start, communicate with more than a MiB each way through all
 * three pipes, /dev/null and inherited streams, a two-command pipeline,
 * what the child inherits (fds, signal dispositions, the environment),
 * cancellation that leaves the child alone, closing a running child, and
 * out of memory.  After every test the process has no child left: no
 * zombie, nothing running.
 *
 * The suite runs once per backend, and once more with CORIO_PIDFD=0 (the
 * SIGCHLD way of waiting).
 */
#include "testloop.h"

#include <corio/corio.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void no_children_left(void)
{
    errno = 0;
    cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a child is left (zombie or running)");
    cr_assert_eq(errno, ECHILD);
}

TestSuite(process, .init = rt_reset, .timeout = 60);

/* Spawns argv with opt; fails the test if it cannot. */
static void spawn(co_loop *loop, co_process *p, const char *const *argv, const co_spawn_opts *o)
{
    int rc = co_process_spawn(loop, p, argv, o);
    cr_assert_eq(rc, 0, "spawn %s: %s", argv[0], co_strerror(rc));
}

/* ------------------------------------------------------------- waiting */

typedef struct waiter {
    co_gen gen;
    const char *const *argv;
    co_spawn_opts opt;
    co_process proc;
    int sig;
} waiter;

static int waiter_fn(co_gen *g)
{
    waiter *self = (waiter *)g;
    CO_BEGIN(self);
    spawn(co_running_loop(), &self->proc, self->argv, &self->opt);
    if (self->sig) {
        CO_SLEEP(self, 0);
        cr_assert_eq(co_process_send_signal(&self->proc, self->sig), 0);
    }
    CO_PROCESS_WAIT(self, proc);
    cr_assert_eq(self->proc.result, 0, "%s", co_strerror(self->proc.result));
    CO_FINALLY(self) { co_process_close(&self->proc); }
    CO_END(self);
}

static int run_wait(const char *const *argv, int sig)
{
    co_loop *loop = rt_loop();
    waiter *w = CO_NEW(loop, waiter, waiter_fn);
    int rc;
    cr_assert_not_null(w);
    w->argv = argv;
    w->sig = sig;
    cr_assert_eq(co_run(loop, &w->gen), 0);
    cr_assert(w->proc.exited);
    rc = w->proc.returncode;
    rt_free_loop(loop);
    no_children_left();
    return rc;
}

Test(process, exit_statuses)
{
    static const char *const zero[] = {"true", NULL};
    static const char *const three[] = {"/bin/sh", "-c", "exit 3", NULL};
    cr_assert_eq(run_wait(zero, 0), 0);
    cr_assert_eq(run_wait(three, 0), 3);
}

Test(process, ended_by_a_signal)
{
    static const char *const sleeper[] = {"sleep", "30", NULL};
    cr_assert_eq(run_wait(sleeper, SIGTERM), -SIGTERM);
    cr_assert_eq(run_wait(sleeper, SIGKILL), -SIGKILL);
}

Test(process, a_program_that_cannot_start_is_a_spawn_error)
{
    co_loop *loop = rt_loop();
    static const char *const missing[] = {"/nonexistent/program", NULL};
    static const char *const unknown[] = {"corio-no-such-program-here", NULL};
    static const char *const notexec[] = {"/dev/null", NULL};
    static const char *const empty[] = {NULL};
    co_process p;
    co_spawn_opts pipes = {.in = CO_STDIO_PIPE, .out = CO_STDIO_PIPE, .err = CO_STDIO_PIPE};
    int fds_before = dup(0);
    close(fds_before);
    cr_assert_eq(co_process_spawn(loop, &p, missing, &pipes), -ENOENT);
    cr_assert_eq(p.in, -1, "nothing left open");
    cr_assert_eq(co_process_spawn(loop, &p, unknown, NULL), -ENOENT);
    cr_assert_eq(co_process_spawn(loop, &p, notexec, NULL), -EACCES);
    cr_assert_eq(co_process_spawn(loop, &p, empty, NULL), -EINVAL);
    co_process_close(&p);
    {
        int fd = dup(0); /* the lowest free fd: no pipe end leaked */
        cr_assert_eq(fd, fds_before);
        close(fd);
    }
    rt_free_loop(loop);
    no_children_left();
}

typedef struct gatherer {
    co_gen gen;
    co_gen **tasks;
    size_t n;
    co_gather g;
} gatherer;

static int gatherer_fn(co_gen *g)
{
    gatherer *self = (gatherer *)g;
    CO_BEGIN(self);
    CO_GATHER(self, &self->g, self->tasks, self->n, CO_GATHER_FIRST_ERROR);
    CO_END(self);
}

Test(process, many_children_at_once)
{
    enum { N = 20 };
    co_loop *loop = rt_loop();
    waiter *w[N];
    co_gen *tasks[N];
    gatherer *all = CO_NEW(loop, gatherer, gatherer_fn);
    static char codes[N][8];
    static const char *argvs[N][4];
    cr_assert_not_null(all);
    for (int i = 0; i < N; i++) {
        w[i] = CO_NEW(loop, waiter, waiter_fn);
        cr_assert_not_null(w[i]);
        snprintf(codes[i], sizeof codes[i], "exit %d", i);
        argvs[i][0] = "/bin/sh";
        argvs[i][1] = "-c";
        argvs[i][2] = codes[i];
        argvs[i][3] = NULL;
        w[i]->argv = argvs[i];
        tasks[i] = &w[i]->gen;
    }
    all->tasks = tasks;
    all->n = N;
    cr_assert_eq(co_run(loop, &all->gen), 0);
    for (int i = 0; i < N; i++)
        cr_assert_eq(w[i]->proc.returncode, i, "child %d: %d", i, w[i]->proc.returncode);
    rt_free_loop(loop);
    no_children_left();
}

/* -------------------------------------------------------- communicate */

typedef struct talker {
    co_gen gen;
    const char *const *argv;
    co_spawn_opts opt;
    const void *input;
    size_t len;
    co_process proc;
    int rc, result;
    char *out, *err;
    size_t out_len, err_len;
} talker;

static int talker_fn(co_gen *g)
{
    talker *self = (talker *)g;
    CO_BEGIN(self);
    spawn(co_running_loop(), &self->proc, self->argv, &self->opt);
    CO_PROCESS_COMMUNICATE(self, proc, self->input, self->len);
    self->rc = self->proc.returncode;
    self->result = self->proc.result;
    /* copied out: the buffers are the loop's, freed by co_process_close */
    self->out_len = self->proc.out_len;
    self->err_len = self->proc.err_len;
    self->out = malloc(self->out_len + 1);
    self->err = malloc(self->err_len + 1);
    cr_assert(self->out && self->err);
    if (self->out_len)
        memcpy(self->out, self->proc.out_data, self->out_len);
    if (self->err_len)
        memcpy(self->err, self->proc.err_data, self->err_len);
    self->out[self->out_len] = self->err[self->err_len] = '\0';
    CO_FINALLY(self) { co_process_close(&self->proc); }
    CO_END(self);
}

static talker talk(const char *const *argv, co_spawn_opts opt, const void *input, size_t len)
{
    co_loop *loop = rt_loop();
    talker *t = CO_NEW(loop, talker, talker_fn), out;
    cr_assert_not_null(t);
    t->argv = argv;
    t->opt = opt;
    t->input = input;
    t->len = len;
    cr_assert_eq(co_run(loop, &t->gen), 0);
    out = *t;
    rt_free_loop(loop);
    no_children_left();
    return out;
}

static const co_spawn_opts all_pipes = {.in = CO_STDIO_PIPE, .out = CO_STDIO_PIPE,
                                        .err = CO_STDIO_PIPE};

Test(process, communicate_small)
{
    static const char *const sorter[] = {"sort", NULL};
    talker t = talk(sorter, all_pipes, "b\nc\na\n", 6);
    cr_assert_eq(t.result, 0);
    cr_assert_eq(t.rc, 0);
    cr_assert_str_eq(t.out, "a\nb\nc\n");
    cr_assert_eq(t.err_len, 0);
    free(t.out);
    free(t.err);
}

Test(process, communicate_megabytes_each_way_through_three_pipes)
{
    /* tee writes everything to stdout and to stderr while it reads stdin:
       any pipe left undrained would stall it and the test would hang */
    static const char *const tee[] = {"/bin/sh", "-c", "tee /dev/stderr", NULL};
    size_t n = (size_t)3 << 19; /* 1.5 MiB */
    unsigned char *in = malloc(n);
    talker t;
    cr_assert_not_null(in);
    for (size_t i = 0; i < n; i++)
        in[i] = (unsigned char)((i * 7 + i / 251) % 256);
    t = talk(tee, all_pipes, in, n);
    cr_assert_eq(t.result, 0, "%s", co_strerror(t.result));
    cr_assert_eq(t.rc, 0);
    cr_assert_eq(t.out_len, n);
    cr_assert_eq(t.err_len, n);
    cr_assert_eq(memcmp(t.out, in, n), 0, "stdout byte for byte");
    cr_assert_eq(memcmp(t.err, in, n), 0, "stderr byte for byte");
    free(in);
    free(t.out);
    free(t.err);
}

Test(process, a_child_that_never_reads_its_input)
{
    static const char *const early[] = {"/bin/sh", "-c", "echo bye; exit 4", NULL};
    static char big[1 << 20];
    talker t = talk(early, all_pipes, big, sizeof big);
    cr_assert_eq(t.result, 0, "BrokenPipe is not an error: %s", co_strerror(t.result));
    cr_assert_eq(t.rc, 4);
    cr_assert_str_eq(t.out, "bye\n");
    free(t.out);
    free(t.err);
}

Test(process, devnull_and_inherited_streams)
{
    static const char *const cat[] = {"cat", NULL};
    static const char *const errs[] = {"/bin/sh", "-c", "echo out; echo err >&2", NULL};
    co_spawn_opts null_in = {.in = CO_STDIO_DEVNULL, .out = CO_STDIO_PIPE};
    co_spawn_opts null_err = {.in = CO_STDIO_DEVNULL, .out = CO_STDIO_PIPE,
                              .err = CO_STDIO_DEVNULL};
    talker t = talk(cat, null_in, NULL, 0);
    cr_assert_eq(t.rc, 0);
    cr_assert_eq(t.out_len, 0, "cat read end of file from /dev/null");
    free(t.out);
    free(t.err);
    t = talk(errs, null_err, NULL, 0);
    cr_assert_str_eq(t.out, "out\n");
    cr_assert_eq(t.err_len, 0, "stderr went to /dev/null, not to a pipe");
    free(t.out);
    free(t.err);
}

Test(process, the_environment)
{
    static const char *const env[] = {"CORIO_TEST=from-the-parent", "PATH=/usr/bin:/bin", NULL};
    static const char *const show[] = {"/bin/sh", "-c", "printf %s \"$CORIO_TEST\"", NULL};
    co_spawn_opts o = all_pipes;
    talker t;
    o.env = env;
    t = talk(show, o, NULL, 0);
    cr_assert_str_eq(t.out, "from-the-parent");
    free(t.out);
    free(t.err);
}

/* The loop ignores SIGPIPE (writes report EPIPE instead); exec would keep
 * that, so the child gets every signal back at its default, none blocked. */
Test(process, signal_dispositions_are_reset)
{
    static const char *const sigs[] = {"grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status", NULL};
    unsigned long long blk = 1, ign = 1;
    struct sigaction sa;
    talker t = talk(sigs, all_pipes, NULL, 0);
    cr_assert_eq(sigaction(SIGPIPE, NULL, &sa), 0);
    cr_assert(sa.sa_handler == SIG_IGN, "the parent ignores SIGPIPE");
    cr_assert_eq(sscanf(t.out, "SigBlk: %llx SigIgn: %llx", &blk, &ign), 2, "%s", t.out);
    cr_assert_eq(blk, 0, "nothing blocked");
    cr_assert_eq(ign & (1ull << (SIGPIPE - 1)), 0, "SIGPIPE back at its default");
    cr_assert_eq(ign & (1ull << (SIGINT - 1)), 0);
    free(t.out);
    free(t.err);
}

typedef struct fd_lister {
    co_gen gen;
    co_process proc;
    int mine[8], nmine;
    char seen[512];
} fd_lister;

/* Lists the child's fds (ls opens one of its own, 3) and notes the
 * parent's pipe ends and pidfd, which must not be among them. */
static int fd_lister_fn(co_gen *g)
{
    fd_lister *self = (fd_lister *)g;
    static const char *const ls[] = {"ls", "-1", "/proc/self/fd", NULL};
    CO_BEGIN(self);
    spawn(co_running_loop(), &self->proc, ls, &all_pipes);
    self->mine[self->nmine++] = self->proc.in;
    self->mine[self->nmine++] = self->proc.out;
    self->mine[self->nmine++] = self->proc.err;
    self->mine[self->nmine++] = self->proc.pidfd;
    CO_PROCESS_COMMUNICATE(self, proc, NULL, 0);
    cr_assert_lt(self->proc.out_len, sizeof self->seen);
    memcpy(self->seen, self->proc.out_data, self->proc.out_len);
    CO_FINALLY(self) { co_process_close(&self->proc); }
    CO_END(self);
}

Test(process, no_fd_of_the_parent_reaches_the_child)
{
    co_loop *loop = rt_loop();
    fd_lister *f = CO_NEW(loop, fd_lister, fd_lister_fn);
    co_addr a;
    int lfd, link[2], std_seen = 0;
    co_addr_ip(&a, "127.0.0.1", 0);
    lfd = co_listen(&a, 1, 0);
    cr_assert_geq(lfd, 0);
    cr_assert_eq(pipe2(link, O_CLOEXEC), 0);
    cr_assert_not_null(f);
    f->mine[f->nmine++] = lfd;
    f->mine[f->nmine++] = link[0];
    f->mine[f->nmine++] = link[1];
    cr_assert_eq(co_run(loop, &f->gen), 0);
    for (char *line = strtok(f->seen, "\n"); line; line = strtok(NULL, "\n")) {
        int fd = atoi(line);
        std_seen += fd <= 2;
        for (int i = 0; i < f->nmine; i++)
            cr_assert_neq(fd, f->mine[i], "fd %d reached the child", fd);
    }
    cr_assert_eq(std_seen, 3, "the child has its stdin, stdout and stderr");
    rt_free_loop(loop);
    close(lfd);
    close(link[0]);
    close(link[1]);
    no_children_left();
}

/* ----------------------------------------------------------- pipeline */

typedef struct pipeline {
    co_gen gen;
    co_process first, second;
    char out[64];
} pipeline;

static int pipeline_fn(co_gen *g)
{
    pipeline *self = (pipeline *)g;
    static const char *const producer[] = {"printf", "pear\\napple\\nfig\\n", NULL};
    static const char *const sorter[] = {"sort", NULL};
    int link[2];
    co_spawn_opts a = {.out = CO_STDIO_FD}, b = {.in = CO_STDIO_FD, .out = CO_STDIO_PIPE};
    CO_BEGIN(self);
    cr_assert_eq(pipe2(link, O_CLOEXEC), 0);
    a.out_fd = link[1];
    b.in_fd = link[0];
    spawn(co_running_loop(), &self->first, producer, &a);
    spawn(co_running_loop(), &self->second, sorter, &b);
    close(link[0]); /* the children hold the pipe now */
    close(link[1]);
    CO_PROCESS_COMMUNICATE(self, second, NULL, 0);
    cr_assert_eq(self->second.out_len, 15);
    memcpy(self->out, self->second.out_data, 15);
    CO_PROCESS_WAIT(self, first);
    cr_assert_eq(self->first.returncode, 0);
    cr_assert_eq(self->second.returncode, 0);
    CO_FINALLY(self)
    {
        co_process_close(&self->first);
        co_process_close(&self->second);
    }
    CO_END(self);
}

Test(process, two_commands_in_a_pipeline)
{
    co_loop *loop = rt_loop();
    pipeline *p = CO_NEW(loop, pipeline, pipeline_fn);
    cr_assert_not_null(p);
    cr_assert_eq(co_run(loop, &p->gen), 0);
    cr_assert_str_eq(p->out, "apple\nfig\npear\n");
    rt_free_loop(loop);
    no_children_left();
}

/* ------------------------------------------- a C local as the input */

/* The input is written to the child after the task suspends: a C-stack
 * buffer is refused with CO_ESTACKARG before anything starts, and the
 * process is still whole: a communicate from frame storage then works. */
typedef struct local_input {
    co_gen gen;
    co_try tries[1];
    co_process proc;
    int refused;
    char in[8];
    size_t out_len;
    char out[8];
} local_input;

static int local_input_fn(co_gen *g)
{
    local_input *self = (local_input *)g;
    static const char *const cat[] = {"cat", NULL};
    CO_BEGIN(self);
    spawn(co_running_loop(), &self->proc, cat, &all_pipes);
    CO_TRY(self)
    {
        char in[8] = "abc\n";
        CO_PROCESS_COMMUNICATE(self, proc, in, 4);
    }
    CO_EXCEPT(self, CO_ESTACKARG) { self->refused = 1; }
    CO_TRY_END(self);
    memcpy(self->in, "abc\n", 4);
    CO_PROCESS_COMMUNICATE(self, proc, self->in, 4);
    self->out_len = self->proc.out_len;
    memcpy(self->out, self->proc.out_data, self->out_len < 8 ? self->out_len : 8);
    CO_FINALLY(self) { co_process_close(&self->proc); }
    CO_END(self);
}

Test(process, a_c_stack_input_is_refused_and_the_process_stays_usable)
{
    co_loop *loop = rt_loop();
    local_input *t = CO_NEW(loop, local_input, local_input_fn);
    cr_assert_not_null(t);
    cr_assert_eq(co_run(loop, &t->gen), 0);
    cr_expect_eq(t->refused, 1, "CO_ESTACKARG for the C-stack input");
    cr_expect_eq(t->out_len, 4);
    cr_expect_eq(memcmp(t->out, "abc\n", 4), 0, "then the frame's input went through");
    rt_free_loop(loop);
    no_children_left();
}
