/*
 * try_frame.h -- what the try-statement tests share: one frame for every
 * body, a log of one letter per step (compared with the order Python runs
 * the same statement in), and helpers to start and drain a body.
 */
#ifndef TEST_GEN_TRY_FRAME_H
#define TEST_GEN_TRY_FRAME_H

#include <string.h>

#include <corio/gen.h>

#define E_A (-5)
#define E_B (-6)
#define E_C (-7)
#define CANCELLED (-1101) /* corio/sched.h's CO_ECANCELLED */

typedef struct {
    co_gen gen;
    int out;
    int in;
    co_try tries[3];
    int mode; /* what the body does: see each body */
    int i;
    char log[64];
    int n;
    int caught; /* the last CO_CAUGHT an except clause saw */
    int ret;
} frame;

static inline void mark(frame *f, char c)
{
    if (f->n < (int)sizeof f->log - 1)
        f->log[f->n++] = c;
}

static inline void frame_init(frame *f, co_body fn, int mode)
{
    memset(f, 0, sizeof *f);
    f->mode = mode;
    co_init(&f->gen, fn);
}

/* Runs f to its end with next(); returns how it finished. */
static inline int drain(frame *f)
{
    int rc;
    while ((rc = co_next(&f->gen)) == CO_YIELDED)
        mark(f, 'y');
    return rc;
}

#endif /* TEST_GEN_TRY_FRAME_H */
