/*
 * util.h -- what the reactor tests add to testloop.h: a guarded run that
 * turns a hang into CO_ETIMEOUT (on the fake clock the guard's deadline comes
 * at once, instead of stalling the suite), and non-blocking pipes and socket
 * pairs.
 */
#ifndef RX_UTIL_H
#define RX_UTIL_H

#include <corio/corio.h>

#include "testloop.h"

#include <stddef.h>

/* How long rx_run lets main run, on the fake clock: hangs end here. */
#define RX_GUARD_MS 60000

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
