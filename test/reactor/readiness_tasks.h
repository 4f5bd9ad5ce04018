/*
 * readiness_tasks.h -- the tasks the readiness tests share (see
 * readiness_tasks.c): each spawn_* makes one on loop and starts it.
 */
#ifndef READINESS_TASKS_H
#define READINESS_TASKS_H

#include "util.h"

#include <stdbool.h>
#include <stddef.h>

/* Reads `want` bytes one at a time, waiting before each: with level-
 * triggered readiness every wait returns while bytes remain. */
typedef struct reader {
    co_gen gen;
    int fd;
    size_t want, got;
    int wakes;
    bool eof;
    char buf[64];
} reader;

/* Waits `times` times for one direction of fd, doing nothing in between. */
typedef struct waiter {
    co_gen gen;
    int fd;
    unsigned dir;
    int times, wakes;
} waiter;

/* A main task whose steps are a test's own function, called once per
 * resume with the step number; it returns how long to sleep (ms) before
 * the next step, or -1 when done. */
typedef struct script {
    co_gen gen;
    int (*step)(struct script *self, int n);
    int n, pause;
    void *ctx;
} script;

reader *spawn_reader(co_loop *loop, int fd, size_t want);
waiter *spawn_waiter(co_loop *loop, int fd, unsigned dir, int times);
/* Runs a script of `step` (its ctx in self->ctx) as main, guarded (rx_run). */
int run_script(co_loop *loop, int (*step)(script *, int), void *ctx);
/* Writes text to fd, all of it. */
void put(int fd, const char *text);

#endif /* READINESS_TASKS_H */
