/*
 * twins.c -- the machinery under the table of twins: the log they write to,
 * the neutral names of codes and states, and the generic frame operations
 * the driver uses (make, send, out, ret, children), which work on any twin
 * because every frame starts with TWIN_HEAD.  The shapes themselves are in
 * twins_basic.c and twins_grown.c.
 */
#include "twins.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ----------------------------------------------------------------- log */

static char log_buf[4096];
static size_t log_len;

void twin_log(const char *fmt, ...)
{
    va_list ap;
    int n;
    if (log_len > 0 && log_len < sizeof log_buf - 1)
        log_buf[log_len++] = ' ';
    va_start(ap, fmt);
    n = vsnprintf(log_buf + log_len, sizeof log_buf - log_len, fmt, ap);
    va_end(ap);
    /* an overlong log is cut short; the comparison then fails loudly */
    if (n > 0)
        log_len += (size_t)n < sizeof log_buf - log_len ? (size_t)n : sizeof log_buf - 1 - log_len;
}

const char *twin_log_text(void) { return log_len ? log_buf : "-"; }

void twin_log_clear(void)
{
    log_len = 0;
    log_buf[0] = '\0';
}

/* ------------------------------------------------------- neutral names */

/* Codes and their names; the throwable ones are those a walk may throw in. */
static const struct {
    int code;
    const char *name;
    bool throwable;
} names[] = {
    {0, "-", false},
    {E1, "E1", true},
    {E2, "E2", true},
    {E3, "E3", true},
    {CO_EXIT, "EXIT", true},
    {CO_EIGNOREDCLOSE, "ignored-close", false},
    {CO_ENOTSTARTED, "not-started", false},
    {CO_ERUNNING, "running", false},
    {CO_EEXHAUSTED, "exhausted", false},
    {CO_ESTOPITERATION, "stop-iteration", false},
};

const char *twin_kind(int code)
{
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == code)
            return names[i].name;
    return NULL;
}

int twin_code(const char *name)
{
    size_t i;
    if (strcmp(name, "STOP") == 0) /* StopIteration thrown in: "exhausted" */
        return CO_EEXHAUSTED;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].throwable && strcmp(name, names[i].name) == 0)
            return names[i].code;
    return 0;
}

const char *twin_state(const co_gen *g)
{
    static const char *const states[] = {"CREATED", "RUNNING", "SUSPENDED", "CLOSED"};
    enum co_state s = co_state(g);
    return (unsigned)s < 4 ? states[s] : "BAD";
}

const char *twin_unwinding(int code)
{
    const char *name = twin_kind(code);
    return name ? name : "unknown";
}

const char *twin_reentry(int rc)
{
    const char *name = twin_kind(rc);
    return rc < 0 && name ? name : "unexpected";
}

/* ------------------------------------------------------------- frames */

/* The one live frame: walks run one at a time, and some shapes look at it. */
static union {
    union co__max_align align;
    unsigned char bytes[TWIN_FRAME_MAX];
} frame;
twin_frame *twin_top;

const struct twin *twin_find(const char *name)
{
    static const struct twin *const tables[] = {twins_basic, twins_grown};
    const struct twin *t;
    size_t i;
    for (i = 0; i < sizeof tables / sizeof tables[0]; i++)
        for (t = tables[i]; t->name != NULL; t++)
            if (strcmp(t->name, name) == 0)
                return t;
    return NULL;
}

co_gen *twin_make(const struct twin *t, int p)
{
    twin_frame *f = (twin_frame *)(void *)frame.bytes;
    if (t->size > sizeof frame.bytes)
        return NULL;
    memset(frame.bytes, 0, sizeof frame.bytes);
    co_init(&f->gen, t->body);
    f->p = t->param == TWIN_LIMIT ? 10 + 5 * p : t->param == TWIN_MOD3 ? p % 3 : p;
    twin_top = f;
    if (t->setup)
        t->setup(f);
    return &f->gen;
}

int twin_send(co_gen *g, int value) { return CO_SEND((twin_frame *)(void *)g, value); }
int twin_out(const co_gen *g) { return ((const twin_frame *)(const void *)g)->out; }
int twin_ret(const co_gen *g) { return ((const twin_frame *)(const void *)g)->ret; }

/* A child frame counts as made once CO_INIT gave it a body (frames start zeroed). */
const co_gen *twin_kid(const struct twin *t, const co_gen *g, int i)
{
    const co_gen *kid = (const co_gen *)(const void *)((const char *)g + t->kid_at[i]);
    return kid->fn ? kid : NULL;
}
