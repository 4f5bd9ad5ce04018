/*
 * twins.h -- the C halves of the differential test, as the replay driver sees
 * them.  Each generator shape of twins.py has a twin here, written with
 * corio/gen.h; the driver only creates one, resumes it, reads its `out` and
 * `ret`, and reports the states of its child frames.  Twins write what they do
 * to a shared log whose entries are spelt exactly as the Python ones.
 */
#ifndef DIFF_TWINS_H
#define DIFF_TWINS_H

#include <corio/gen.h>

/* The user errors of twins.py, as negative codes. */
#define E1 (-101)
#define E2 (-102)
#define E3 (-103)

struct twin {
    const char *name;
    const char *const *kids;          /* child frames reported in the state; NULL-ended */
    co_gen *(*make)(int p);           /* a fresh frame (CO_CREATED) for drawn parameter p */
    int (*send)(co_gen *g, int value); /* CO_SEND on the frame's own type */
    int (*out)(const co_gen *g);      /* the last yielded value */
    int (*ret)(const co_gen *g);      /* the returned value */
    const co_gen *(*kid)(const co_gen *g, int i); /* child frame i, NULL if never made */
};

/* The twin named `name`, or NULL. */
const struct twin *twin_find(const char *name);

/* The neutral name of an error code (as twins.py's kind()), "-" for 0, or
   NULL for a code twins.py never produces. */
const char *twin_kind(int code);

/* The code of a throwable name (E1, E2, E3, EXIT), or 0. */
int twin_code(const char *name);

/* inspect.getgeneratorstate() without its GEN_ prefix. */
const char *twin_state(const co_gen *g);

/* The log: entries of the current operation, space-separated, or "-". */
void twin_log(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
const char *twin_log_text(void);
void twin_log_clear(void);

#endif /* DIFF_TWINS_H */
