/*
 * fs_harness.h -- what the file-job tests add to testloop.h: a scratch
 * directory per test, a loop on the real clock (file jobs finish in real
 * time) with testloop's counting allocator (rt.failing fails it), and a
 * gate: a pipe that worker functions block on until a task or the test
 * opens it.
 *
 * Criterion runs each test in its own process, so the state is one global,
 * `ft`, set up by ft_init (every suite's init, which also clears `rt`) and
 * removed by ft_fini.
 */
#ifndef FS_HARNESS_H
#define FS_HARNESS_H

#include <corio/corio.h>

#include "testloop.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ft_state {
    char dir[256];      /* the test's scratch directory             */
    int gate[2];        /* read end for workers, write end to open  */
    atomic_int entered; /* gate_wait calls that have started        */
    atomic_int left;    /* gate_wait calls that have returned       */
} ft_state;

extern ft_state ft;

void ft_init(void);
void ft_fini(void);

/* A loop on the real clock with the counting allocator and `workers` file
 * workers (0: the default); the backend comes from $CORIO_BACKEND.  Free it
 * with rt_free_loop. */
co_loop *ft_loop(int workers);

/* dir/name, valid until eight more calls. */
const char *ft_path(const char *name);
/* Writes a file synchronously (test setup). */
void ft_write(const char *name, const void *data, size_t len);
/* Makes a FIFO in the scratch directory; returns its path. */
const char *ft_fifo(const char *name);

/* A CO_TO_THREAD function: blocks until a byte comes through the gate,
 * then returns the int64_t that arg points to (after setting it to -1, so
 * the test can see the worker wrote into the frame). */
int64_t ft_gate_wait(void *arg);
/* Lets n blocked (or future) gate_wait calls through. */
void ft_gate_open(int n);

/* How many threads of this process have `comm` as their name. */
int ft_threads_named(const char *comm);
/* How many fds this process has open. */
int ft_open_fds(void);

/* "io_uring" or "threads": what a loop here should report, computed
 * independently of the library (CORIO_FS, the build, the kernel). */
const char *ft_expected_backend(void);

#endif /* FS_HARNESS_H */
