/*
 * corio/process.h -- subprocesses for tasks: asyncio.create_subprocess_exec
 * and its Process (wait, communicate, send_signal, terminate, kill).
 *
 *     typedef struct { co_gen gen; co_process proc; } run;
 *
 *     static int run_fn(co_gen *g)
 *     {
 *         run *self = (run *)g;
 *         static const char *const argv[] = {"sort", NULL};
 *         co_spawn_opts opt = {.in = CO_STDIO_PIPE, .out = CO_STDIO_PIPE};
 *         CO_BEGIN(self);
 *         if (co_process_spawn(co_running_loop(), &self->proc, argv, &opt) < 0)
 *             CO_RETURN_VOID(self);                       // -ENOENT: no such program
 *         CO_PROCESS_COMMUNICATE(self, proc, "b\na\n", 4);
 *         fwrite(self->proc.out_data, 1, self->proc.out_len, stdout);  // "a\nb\n"
 *         printf("exit %d\n", self->proc.returncode);
 *         CO_FINALLY(self) { co_process_close(&self->proc); }
 *         CO_END(self);
 *     }
 *
 * Each of the child's stdin, stdout and stderr is a pipe to the parent
 * (CO_STDIO_PIPE: the parent's end is in `in`, `out` or `err`, non-blocking
 * and close-on-exec), this process's own (CO_STDIO_INHERIT), /dev/null
 * (CO_STDIO_DEVNULL), or an fd of the caller's (CO_STDIO_FD: a blocking one,
 * such as one end of a pipe(2) joining two children).  Every other fd of the
 * parent stays out of the child (corio opens all of its fds close-on-exec),
 * and the child starts with every signal at its default action and none
 * blocked.  A program that cannot be started (not found, not executable) is
 * an error of co_process_spawn, not an exit status.
 *
 * On Linux the loop waits for a child through a pidfd: no SIGCHLD handler,
 * and no other process's children reaped.  Elsewhere (or with the
 * environment variable CORIO_PIDFD=0) a SIGCHLD watch on the loop wakes the
 * waiters, who each reap only their own child (one loop at a time may run
 * children then).
 *
 * As in asyncio, cancelling a wait or a communicate does not touch the
 * child: it goes on running, and a later wait still reaps it.  A child must
 * be waited for (or closed) so that it does not stay a zombie:
 * co_process_close kills and reaps a child still running.
 *
 * The state argument of each await (`proc` above) names a co_process member
 * of the frame, where the await finds it after a resume; every other
 * argument is read once, at the start.  The outcome is in proc.result: 0,
 * or a negative code (only cancellation and misuse are raised).
 */
#ifndef CORIO_PROCESS_H
#define CORIO_PROCESS_H

#include <corio/sched.h>

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What one of the child's standard streams is. */
enum co_stdio {
    CO_STDIO_INHERIT, /* this process's own                      */
    CO_STDIO_PIPE,    /* a pipe to the parent (asyncio.subprocess.PIPE) */
    CO_STDIO_DEVNULL, /* /dev/null (asyncio.subprocess.DEVNULL)  */
    CO_STDIO_FD       /* the fd in in_fd / out_fd / err_fd       */
};

typedef struct co_spawn_opts {
    const char *const *env; /* the child's environment; NULL: this process's */
    uint8_t in, out, err;    /* enum co_stdio, for stdin, stdout, stderr       */
    int in_fd, out_fd, err_fd;
} co_spawn_opts;

/* A child process: in the frame.  Read the fields up to the private ones. */
typedef struct co_process {
    pid_t pid;
    int in, out, err;   /* the parent's ends of CO_STDIO_PIPE streams, else -1 */
    bool exited;        /* reaped: returncode holds how it ended              */
    int returncode;     /* the exit status, or -N if signal N ended it         */
    int result;         /* the last await's outcome: 0 or a negative code      */
    char *out_data;     /* communicate: what the child wrote to stdout         */
    size_t out_len;
    char *err_data; /* ... and to stderr */
    size_t err_len;
    /* private */
    co_loop *loop;
    int pidfd;   /* -1: waited for through the SIGCHLD watch */
    void *watch; /* that watch, while it is needed          */
    uint8_t phase;
    size_t out_cap, err_cap;
    const char *input;
    size_t input_len;
    co_gather gather;
    co_gen *pumps[3];
    size_t npumps;
} co_process;

/*
 * proc = await asyncio.create_subprocess_exec(*argv, stdin=..., stdout=...,
 *                                             stderr=..., env=...)
 *
 * Starts argv[0] (searched in PATH when it has no '/') with arguments argv
 * (NULL-terminated) as `opt` says (NULL: all three inherited).  0, or a
 * -errno: -ENOENT or -EACCES for a program that cannot be run, -EMFILE...;
 * CO_ENOMEM; -EINVAL for bad arguments.  On failure nothing is left open.
 */
CO_API int co_process_spawn(co_loop *loop, co_process *p, const char *const *argv,
                     const co_spawn_opts *opt);

/*
 * returncode = await proc.wait()
 * proc.returncode: the exit status, or -N for signal N.  proc.result: 0, or
 * a -errno (-ECHILD: someone else reaped the child).  Waiting again after
 * the child was reaped returns at once.
 */
#define CO_PROCESS_WAIT(self, proc)                                                        \
    CO__PROC(self, &(self)->proc, co__process_wait_start(&(self)->proc))

/*
 * out, err = await proc.communicate(input)
 *
 * Writes the len bytes of input to the child's stdin (if it is a pipe; then
 * closes it), while reading all of stdout and stderr (those that are pipes)
 * into out_data / err_data, and then waits for the child to end.  Pipes
 * never deadlock: all three move at once.  A child that exits without
 * reading its input is not an error (BrokenPipeError is ignored, as in
 * asyncio).  input must stay valid until the await returns.  proc.result:
 * 0, CO_ENOMEM (the output could not grow: that pipe was closed), or a
 * -errno.  The output buffers are the loop's, freed by co_process_close.
 */
#define CO_PROCESS_COMMUNICATE(self, proc, input, len)                                     \
    CO__PROC(self, &(self)->proc, co__process_communicate_start(&(self)->proc, (input), (len)))

/* proc.send_signal(signo): 0, or -ESRCH once the child has been reaped
 * (Python does nothing then), or -errno. */
CO_API int co_process_send_signal(co_process *p, int signo);
/* proc.terminate(): SIGTERM */
CO_API int co_process_terminate(co_process *p);
/* proc.kill(): SIGKILL */
CO_API int co_process_kill(co_process *p);

/*
 * Closes the parent's pipe ends and frees communicate's output.  A child
 * not yet reaped is killed (SIGKILL) and reaped, which blocks for as long
 * as the kernel takes to end it: wait for children that may take time.
 * Safe to call twice, or on a process whose spawn failed.
 */
CO_API void co_process_close(co_process *p);

/* ----------------------------------------------------------- internals */

CO_API int co__process_wait_start(co_process *p);
CO_API int co__process_communicate_start(co_process *p, const void *input, size_t len);
/* 1 finished, 0 suspend, <0 raise */
CO_API int co__process_step(co_process *p);
/* 1 finished, 0 step again, <0 raise */
CO_API int co__process_resumed(co_process *p, int thrown);

#define CO__PROC(self, p, start)                                                           \
    do {                                                                                   \
        CO__CHECK(self, (start));                                                          \
        for (;;) {                                                                         \
            int co__s = co__process_step(p);                                               \
            if (co__s < 0)                                                                 \
                CO_RAISE(self, co__s);                                                     \
            if (co__s > 0)                                                                 \
                break;                                                                     \
            CO__SUSPEND_TASK(self, true);                                                  \
            co__s = co__process_resumed((p), CO_THROWN(self));                             \
            if (co__s < 0)                                                                 \
                CO_RAISE(self, co__s);                                                     \
            if (co__s > 0)                                                                 \
                break;                                                                     \
        }                                                                                  \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif /* CORIO_PROCESS_H */
