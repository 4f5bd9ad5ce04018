/*
 * util.h -- what the reactor tests share: a loop on a frozen clock that only
 * moves when the loop jumps it to the next deadline (so a task that would
 * hang hits its guard deadline at once instead of stalling the suite), an
 * allocator that counts bytes and can fail its Nth call, and non-blocking
 * pipes and socket pairs.
 *
 * Criterion runs each test in a process of its own, so the state is one
 * global, `rx`, cleared by rx_reset() (every suite's init).
 */
#ifndef RX_UTIL_H
#define RX_UTIL_H

#include <corio/corio.h>

#include <criterion/criterion.h>

#include <stddef.h>
#include <stdint.h>

#define MS (INT64_C(1000000)) /* one millisecond in ns */

/* How long rx_run lets main run, on the frozen clock: hangs end here. */
#define RX_GUARD_MS 60000

typedef struct rx_state {
    co_loop *loop;      /* the loop rx_loop made: its clock reads it back   */
    size_t alloc_calls; /* every call of the alloc hook, failed ones too    */
    size_t fail_at;     /* the call (1-based) that returns NULL; 0: none    */
    size_t live_bytes;  /* allocated and not freed yet                      */
} rx_state;

extern rx_state rx;

void rx_reset(void);

/* Frozen clock, autojump, counting allocator; backend from $CORIO_BACKEND. */
co_loop_options rx_options(void);
/* A loop with rx_options(); fails the test if it cannot be made. */
co_loop *rx_loop(void);
/* Frees a loop made with rx_options(); fails the test if memory leaked. */
void rx_free(co_loop *loop);
/* co_run of `main` (a CO_NEW frame) awaited under a RX_GUARD_MS deadline:
 * main's result, or CO_ETIMEOUT if it was still waiting then. */
int rx_run(co_loop *loop, co_gen *main);

/* Non-blocking, close-on-exec pipe and AF_UNIX stream pair. */
void rx_pipe(int fds[2]);
void rx_socketpair(int fds[2]);
/* Writes into fd until it would block: the bytes written. */
size_t rx_fill(int fd);
/* Reads from fd until it would block: the bytes read. */
size_t rx_drain(int fd);
/* The number the next new fd would get. */
int rx_next_fd(void);

#endif /* RX_UTIL_H */
