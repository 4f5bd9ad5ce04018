/*
 * twins.c -- the C twins of the generator shapes of twins.py, written with
 * corio/gen.h, plus the log they write to.  Each body follows its Python
 * original statement for statement, so that any difference in what the two
 * print comes from the generator core, not from the shapes.  Python keeps
 * `x = yield v` in a local; here the sent value is read from `in` only when
 * CO_SENT says the resume was a send (Python's x is None otherwise).
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

const char *twin_kind(int code)
{
    switch (code) {
    case 0: return "-";
    case E1: return "E1";
    case E2: return "E2";
    case E3: return "E3";
    case CO_EXIT: return "EXIT";
    case CO_EIGNOREDCLOSE: return "ignored-close";
    case CO_ENOTSTARTED: return "not-started";
    case CO_ERUNNING: return "running";
    case CO_EEXHAUSTED: return "exhausted";
    default: return NULL;
    }
}

int twin_code(const char *name)
{
    static const int throwable[] = {E1, E2, E3, CO_EXIT};
    size_t i;
    for (i = 0; i < sizeof throwable / sizeof throwable[0]; i++)
        if (strcmp(name, twin_kind(throwable[i])) == 0)
            return throwable[i];
    return 0;
}

const char *twin_state(const co_gen *g)
{
    static const char *const names[] = {"CREATED", "RUNNING", "SUSPENDED", "CLOSED"};
    enum co_state s = co_state(g);
    return (unsigned)s < 4 ? names[s] : "BAD";
}

/* Like twins.py's unwinding(): the error a cleanup section runs for. */
static const char *unwinding(int thrown)
{
    const char *name = twin_kind(thrown);
    return name ? name : "unknown";
}

/* What a re-entrant call returned, spelt as twins.py's attempt() does for
   the outcomes a running generator can give. */
static const char *reentry(int rc)
{
    const char *name = twin_kind(rc);
    return rc < 0 && name ? name : "unexpected";
}

/* Typed access to a frame's `in`, `out` and `ret` for the driver. */
#define TWIN_ACCESS(T)                                                              \
    static int T##_send(co_gen *g, int v) { return CO_SEND((T *)g, v); }            \
    static int T##_out(const co_gen *g) { return ((const T *)g)->out; }             \
    static int T##_ret(const co_gen *g) { return ((const T *)g)->ret; }

/* A twin without child frames. */
static const co_gen *no_kid(const co_gen *g, int i)
{
    (void)g;
    (void)i;
    return NULL;
}

/* A child frame counts as made once CO_INIT gave it a body (frames start zeroed). */
static const co_gen *made(const co_gen *g) { return g->fn ? g : NULL; }

/* ------------------------------------------------------------- counter */

typedef struct {
    co_gen gen;
    int out, in, ret;
    int n, i;
} counter;
TWIN_ACCESS(counter)

static int counter_fn(co_gen *g)
{
    counter *self = (counter *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->n; self->i++)
        CO_YIELD(self, self->i);
    CO_RETURN(self, self->n);
    CO_END(self);
}

static co_gen *counter_make(int p)
{
    static counter f;
    memset(&f, 0, sizeof f);
    CO_INIT(&f, counter_fn);
    f.n = p;
    return &f.gen;
}

/* --------------------------------------------------------- accumulator */

typedef struct {
    co_gen gen;
    int out, in, ret;
    int limit, total;
} accumulator;
TWIN_ACCESS(accumulator)

static int accumulator_fn(co_gen *g)
{
    accumulator *self = (accumulator *)g;
    CO_BEGIN(self);
    self->total = 0;
    for (;;) {
        CO_YIELD(self, self->total);
        if (!CO_SENT(self))
            continue;
        if (self->in == 0)
            CO_RETURN(self, self->total);
        self->total += self->in;
        if (self->total > self->limit) {
            twin_log("over:%d", self->total);
            CO_RAISE(self, E3);
        }
    }
    CO_END(self);
}

static co_gen *accumulator_make(int p)
{
    static accumulator f;
    memset(&f, 0, sizeof f);
    CO_INIT(&f, accumulator_fn);
    f.limit = 10 + 5 * p;
    return &f.gen;
}

/* ----------------------------------------------------------- delegator */

typedef struct {
    co_gen gen;
    int out, in, ret;
    int n, i, total;
} child;

static int child_fn(co_gen *g)
{
    child *self = (child *)g;
    CO_BEGIN(self);
    self->total = 0;
    for (self->i = 0; self->i < self->n; self->i++) {
        CO_YIELD(self, self->i);
        if (CO_SENT(self))
            self->total += self->in;
    }
    CO_RETURN(self, self->total);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    int out, in, ret;
    int n, k, total;
    child sub;
} delegator;
TWIN_ACCESS(delegator)

static int delegator_fn(co_gen *g)
{
    delegator *self = (delegator *)g;
    CO_BEGIN(self);
    self->total = 0;
    for (self->k = 0; self->k < 2; self->k++) {
        CO_INIT(&self->sub, child_fn);
        self->sub.n = self->n + self->k;
        CO_YIELD_FROM(self, sub);
        twin_log("child-ret:%d", self->sub.ret);
        self->total += self->sub.ret;
        CO_YIELD(self, 100 + self->sub.ret);
    }
    CO_RETURN(self, self->total);
    CO_END(self);
}

static co_gen *delegator_make(int p)
{
    static delegator f;
    memset(&f, 0, sizeof f);
    CO_INIT(&f, delegator_fn);
    f.n = p;
    return &f.gen;
}

static const co_gen *delegator_kid(const co_gen *g, int i)
{
    (void)i;
    return made(&((const delegator *)g)->sub.gen);
}

/* ------------------------------------------------------------- cleanup */

typedef struct {
    co_gen gen;
    int out, in, ret;
    int n, i;
} cleanup;
TWIN_ACCESS(cleanup)

static int cleanup_fn(co_gen *g)
{
    cleanup *self = (cleanup *)g;
    CO_BEGIN(self);
    twin_log("open");
    for (self->i = 0; self->i < self->n; self->i++) {
        CO_YIELD(self, self->i);
        if (CO_SENT(self))
            twin_log("got:%d", self->in);
    }
    CO_RETURN(self, self->n);
    CO_FINALLY(self) { twin_log("cleanup:%s", unwinding(CO_THROWN(self))); }
    CO_END(self);
}

static co_gen *cleanup_make(int p)
{
    static cleanup f;
    memset(&f, 0, sizeof f);
    CO_INIT(&f, cleanup_fn);
    f.n = p;
    return &f.gen;
}

/* ------------------------------------------------------------- catcher */

typedef struct {
    co_gen gen;
    int out, in, ret;
    int n, i, caught;
} catcher;
TWIN_ACCESS(catcher)

static int catcher_fn(co_gen *g)
{
    catcher *self = (catcher *)g;
    int e;
    CO_BEGIN(self);
    self->i = 0;
    self->caught = 0;
    while (self->i < self->n) {
        CO_YIELD_CATCH(self, self->i);
        e = CO_THROWN(self);
        if (e == E1) {
            self->caught++;
            twin_log("caught:E1");
            CO_YIELD(self, -1);
        } else if (e == E2) {
            self->caught++;
            twin_log("caught:E2");
        } else if (e) {
            CO_RAISE(self, e); /* `except E1 / except E2` let the others through */
        }
        self->i++;
    }
    CO_RETURN(self, self->caught);
    CO_END(self);
}

static co_gen *catcher_make(int p)
{
    static catcher f;
    memset(&f, 0, sizeof f);
    CO_INIT(&f, catcher_fn);
    f.n = p;
    return &f.gen;
}

/* ------------------------------------------------------------ stubborn */

/* Ignores the first k closes (yields again), then gives in. */
typedef struct {
    co_gen gen;
    int out, in, ret;
    int k, i, ignored;
} stubborn;
TWIN_ACCESS(stubborn)

static int stubborn_fn(co_gen *g)
{
    stubborn *self = (stubborn *)g;
    int e;
    CO_BEGIN(self);
    self->i = 0;
    self->ignored = 0;
    for (;;) {
        CO_YIELD_CATCH(self, self->i);
        e = CO_THROWN(self);
        if (e == CO_EXIT) {
            twin_log("exit-caught");
            if (self->ignored >= self->k) {
                twin_log("give-up");
                CO_RAISE(self, e);
            }
            self->ignored++;
        } else if (e) {
            CO_RAISE(self, e);
        }
        self->i++;
        if (self->i > 12)
            CO_RETURN(self, self->i);
    }
    CO_END(self);
}

static void stubborn_init(stubborn *f, int k)
{
    CO_INIT(f, stubborn_fn);
    f->k = k;
}

static co_gen *stubborn_make(int p)
{
    static stubborn f;
    memset(&f, 0, sizeof f);
    stubborn_init(&f, p % 3);
    return &f.gen;
}

/* ------------------------------------------------ finyield and finsend */

/* A cleanup section that yields: close() is then ignored. */
typedef struct {
    co_gen gen;
    int out, in, ret;
    int n, i;
} finyield;
TWIN_ACCESS(finyield)

static int finyield_fn(co_gen *g)
{
    finyield *self = (finyield *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->n; self->i++)
        CO_YIELD(self, self->i);
    CO_RETURN(self, self->n);
    CO_FINALLY(self)
    {
        twin_log("finally:%s", unwinding(CO_THROWN(self)));
        CO_YIELD(self, 100);
        twin_log("finally-done");
    }
    CO_END(self);
}

static co_gen *finyield_make(int p)
{
    static finyield f;
    memset(&f, 0, sizeof f);
    CO_INIT(&f, finyield_fn);
    f.n = p;
    return &f.gen;
}

/* The same, reading a value sent to the yield in the cleanup section. */
typedef finyield finsend;
TWIN_ACCESS(finsend)

static int finsend_fn(co_gen *g)
{
    finsend *self = (finsend *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->n; self->i++)
        CO_YIELD(self, self->i);
    CO_RETURN(self, self->n);
    CO_FINALLY(self)
    {
        twin_log("finally:%s", unwinding(CO_THROWN(self)));
        CO_YIELD(self, 100);
        if (CO_SENT(self))
            twin_log("finally-got:%d", self->in);
        else
            twin_log("finally-got:-");
    }
    CO_END(self);
}

static co_gen *finsend_make(int p)
{
    static finsend f;
    memset(&f, 0, sizeof f);
    CO_INIT(&f, finsend_fn);
    f.n = p;
    return &f.gen;
}

/* ---------------------------------------------- deep: top > mid > leaf */

typedef struct {
    co_gen gen;
    int out, in, ret;
    int n, i, total;
} leaf;

typedef struct {
    co_gen gen;
    int out, in, ret;
    int n, k, got;
    leaf sub;
} mid;

typedef struct {
    co_gen gen;
    int out, in, ret;
    int n;
    mid sub;
} deep;
TWIN_ACCESS(deep)

/* The one live `deep` frame: its leaf looks at, and tries to resume, it. */
static deep deep_frame;

static int leaf_fn(co_gen *g)
{
    leaf *self = (leaf *)g;
    int e;
    CO_BEGIN(self);
    twin_log("leaf-start:%s/%s/%s", twin_state(&deep_frame.gen), twin_state(&deep_frame.sub.gen),
             twin_state(&self->gen));
    twin_log("top-next:%s", reentry(co_next(&deep_frame.gen)));
    twin_log("mid-next:%s", reentry(co_next(&deep_frame.sub.gen)));
    self->total = 0;
    for (self->i = 0; self->i < self->n; self->i++) {
        CO_YIELD_CATCH(self, 10 + self->i);
        e = CO_THROWN(self);
        if (e == E2) {
            twin_log("leaf-caught:E2");
            continue;
        }
        if (e)
            CO_RAISE(self, e);
        if (CO_SENT(self))
            self->total += self->in;
    }
    CO_RETURN(self, self->total);
    CO_FINALLY(self) { twin_log("leaf-finally:%s", unwinding(CO_THROWN(self))); }
    CO_END(self);
}

static int mid_fn(co_gen *g)
{
    mid *self = (mid *)g;
    int e;
    CO_BEGIN(self);
    self->got = 0;
    for (self->k = 0; self->k < 2; self->k++) {
        CO_INIT(&self->sub, leaf_fn);
        self->sub.n = self->n + self->k;
        CO_YIELD_FROM_CATCH(self, sub);
        e = CO_THROWN(self);
        if (e == E1) {
            twin_log("mid-caught:E1");
            self->got -= 1;
            continue;
        }
        if (e)
            CO_RAISE(self, e);
        twin_log("leaf-ret:%d", self->sub.ret);
        self->got += self->sub.ret;
    }
    CO_RETURN(self, self->got);
    CO_END(self);
}

static int deep_fn(co_gen *g)
{
    deep *self = (deep *)g;
    CO_BEGIN(self);
    CO_INIT(&self->sub, mid_fn);
    self->sub.n = self->n;
    CO_YIELD_FROM(self, sub);
    twin_log("mid-ret:%d", self->sub.ret);
    CO_YIELD(self, self->sub.ret);
    CO_RETURN(self, self->sub.ret);
    CO_FINALLY(self) { twin_log("top-finally:%s", unwinding(CO_THROWN(self))); }
    CO_END(self);
}

static co_gen *deep_make(int p)
{
    memset(&deep_frame, 0, sizeof deep_frame);
    CO_INIT(&deep_frame, deep_fn);
    deep_frame.n = p;
    return &deep_frame.gen;
}

static const co_gen *deep_kid(const co_gen *g, int i)
{
    const deep *d = (const deep *)g;
    return made(i == 0 ? &d->sub.gen : &d->sub.sub.gen);
}

/* -------------------------------------------------------------- closefwd */

/* Delegates to a stubborn child: close() is forwarded to it first. */
typedef struct {
    co_gen gen;
    int out, in, ret;
    int k;
    stubborn sub;
} closefwd;
TWIN_ACCESS(closefwd)

static int closefwd_fn(co_gen *g)
{
    closefwd *self = (closefwd *)g;
    CO_BEGIN(self);
    stubborn_init(&self->sub, self->k);
    CO_YIELD_FROM(self, sub);
    twin_log("child-ret:%d", self->sub.ret);
    CO_RETURN(self, self->sub.ret);
    CO_FINALLY(self) { twin_log("outer-finally:%s", unwinding(CO_THROWN(self))); }
    CO_END(self);
}

static co_gen *closefwd_make(int p)
{
    static closefwd f;
    memset(&f, 0, sizeof f);
    CO_INIT(&f, closefwd_fn);
    f.k = p % 3;
    return &f.gen;
}

static const co_gen *closefwd_kid(const co_gen *g, int i)
{
    (void)i;
    return made(&((const closefwd *)g)->sub.gen);
}

/* --------------------------------------------------------------- reenter */

/* Resumes, throws into and closes itself while running. */
typedef struct {
    co_gen gen;
    int out, in, ret;
    int n, i;
} reenter;
TWIN_ACCESS(reenter)

static reenter reenter_frame;

static int reenter_fn(co_gen *g)
{
    reenter *self = (reenter *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->n; self->i++) {
        twin_log("next:%s", reentry(co_next(&reenter_frame.gen)));
        twin_log("send:%s", reentry(reenter_send(&reenter_frame.gen, 1)));
        twin_log("throw:%s", reentry(co_throw(&reenter_frame.gen, E1)));
        twin_log("close:%s", reentry(co_close(&reenter_frame.gen)));
        twin_log("state:%s", twin_state(&reenter_frame.gen));
        CO_YIELD(self, self->i);
    }
    CO_RETURN(self, self->n);
    CO_END(self);
}

static co_gen *reenter_make(int p)
{
    memset(&reenter_frame, 0, sizeof reenter_frame);
    CO_INIT(&reenter_frame, reenter_fn);
    reenter_frame.n = p;
    return &reenter_frame.gen;
}

/* ----------------------------------------------------------------- table */

static const char *const no_kids[] = {NULL};
static const char *const child_kids[] = {"child", NULL};
static const char *const deep_kids[] = {"mid", "leaf", NULL};

#define TWIN(T, kids, kid) {#T, kids, T##_make, T##_send, T##_out, T##_ret, kid}

static const struct twin twins[] = {
    TWIN(counter, no_kids, no_kid),
    TWIN(accumulator, no_kids, no_kid),
    TWIN(delegator, child_kids, delegator_kid),
    TWIN(cleanup, no_kids, no_kid),
    TWIN(catcher, no_kids, no_kid),
    TWIN(stubborn, no_kids, no_kid),
    TWIN(finyield, no_kids, no_kid),
    TWIN(finsend, no_kids, no_kid),
    TWIN(deep, deep_kids, deep_kid),
    TWIN(closefwd, child_kids, closefwd_kid),
    TWIN(reenter, no_kids, no_kid),
};

const struct twin *twin_find(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof twins / sizeof twins[0]; i++)
        if (strcmp(twins[i].name, name) == 0)
            return &twins[i];
    return NULL;
}
