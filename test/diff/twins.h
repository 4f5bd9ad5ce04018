/*
 * twins.h -- the C halves of the differential test, as the replay driver sees
 * them.  Each generator shape of twins.py has a twin, written with
 * corio/gen.h, and a row in a table of shapes: its body, its frame's size,
 * how the drawn parameter becomes its own, the child frames whose states the
 * trace reports.  The driver only creates one (twin_make), resumes it, reads
 * its `out` and `ret`, and reports the states of its children.  Twins write
 * what they do to a shared log whose entries are spelt exactly as the Python
 * ones.  The shapes live in twins_basic.c (the protocol) and twins_grown.c
 * (recursion, try statements, PEP 479); the table's machinery in twins.c.
 */
#ifndef DIFF_TWINS_H
#define DIFF_TWINS_H

#include <corio/gen.h>
#include <stdbool.h>
#include <stddef.h>

/* The user errors of twins.py, as negative codes. */
#define E1 (-101)
#define E2 (-102)
#define E3 (-103)

/* What every twin's frame starts with: the driver reads out and ret, sends
   to in, and hands the shape its parameter in p. */
#define TWIN_HEAD                                                               \
    co_gen gen;                                                                 \
    int out, in, ret;                                                           \
    int p
typedef struct {
    TWIN_HEAD;
} twin_frame;

/* counter's frame and body (twins_basic.c), which pep479 uses as a child. */
typedef struct {
    TWIN_HEAD;
    int i;
} twin_counter;
int twin_counter_fn(co_gen *g);

/* How the drawn parameter p becomes the shape's (twins.py's SHAPES). */
enum twin_param { TWIN_P, TWIN_LIMIT /* 10 + 5p */, TWIN_MOD3 /* p % 3 */ };

struct twin {
    const char *name;
    co_body body;
    size_t size;                      /* of its frame, at most TWIN_FRAME_MAX */
    enum twin_param param;
    void (*setup)(twin_frame *f);     /* after CO_INIT and p, or NULL */
    const char *const *kids;          /* child frames reported in the state; NULL-ended */
    size_t kid_at[2];                 /* where each child frame is in the frame */
    bool chain;                       /* report the yield-from depth without kids */
};
#define TWIN_FRAME_MAX 8192

/* The shapes' tables, each ended by a row without a name. */
extern const struct twin twins_basic[];
extern const struct twin twins_grown[];

/* The twin named `name`, or NULL. */
const struct twin *twin_find(const char *name);

/* A fresh frame (CO_CREATED) of twin t for drawn parameter p; the one live
   frame is also twin_top, for the shapes that look at it from inside. */
co_gen *twin_make(const struct twin *t, int p);
extern twin_frame *twin_top;

int twin_send(co_gen *g, int value); /* CO_SEND */
int twin_out(const co_gen *g);       /* the last yielded value */
int twin_ret(const co_gen *g);       /* the returned value */
/* Child frame i of g, or NULL while it was never made. */
const co_gen *twin_kid(const struct twin *t, const co_gen *g, int i);

/* The neutral name of an error code (as twins.py's kind()), "-" for 0, or
   NULL for a code twins.py never produces. */
const char *twin_kind(int code);

/* The code of a throwable name (E1, E2, E3, EXIT, STOP), or 0. */
int twin_code(const char *name);

/* inspect.getgeneratorstate() without its GEN_ prefix. */
const char *twin_state(const co_gen *g);

/* Like twins.py's unwinding(): the error a cleanup runs for, by name. */
const char *twin_unwinding(int code);

/* What a re-entrant call returned, spelt as twins.py's attempt() does for
   the outcomes a running generator can give. */
const char *twin_reentry(int rc);

/* The log: entries of the current operation, space-separated, or "-". */
void twin_log(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
const char *twin_log_text(void);
void twin_log_clear(void);

#endif /* DIFF_TWINS_H */
