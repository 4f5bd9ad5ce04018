/*
 * twins_basic.c -- the C twins of twins.py's protocol shapes: next, send,
 * return, throw, close, yield from, cleanup sections, ignored closes and
 * re-entry.  Each body follows its Python original statement for statement,
 * so that any difference in what the two print comes from the generator
 * core, not from the shapes.  Python keeps `x = yield v` in a local; here
 * the sent value is read from `in` only when CO_SENT says the resume was a
 * send (Python's x is None otherwise).  The shape's parameter is `p`.
 */
#include "twins.h"

#include <stddef.h>

/* ------------------------------------------------------------- counter */

int twin_counter_fn(co_gen *g)
{
    twin_counter *self = (twin_counter *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->p; self->i++)
        CO_YIELD(self, self->i);
    CO_RETURN(self, self->p);
    CO_END(self);
}

/* --------------------------------------------------------- accumulator */

typedef struct {
    TWIN_HEAD; /* p: the limit */
    int total;
} accumulator;

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
        if (self->total > self->p) {
            twin_log("over:%d", self->total);
            CO_RAISE(self, E3);
        }
    }
    CO_END(self);
}

/* ----------------------------------------------------------- delegator */

typedef struct {
    TWIN_HEAD;
    int i, total;
} child;

static int child_fn(co_gen *g)
{
    child *self = (child *)g;
    CO_BEGIN(self);
    self->total = 0;
    for (self->i = 0; self->i < self->p; self->i++) {
        CO_YIELD(self, self->i);
        if (CO_SENT(self))
            self->total += self->in;
    }
    CO_RETURN(self, self->total);
    CO_END(self);
}

typedef struct {
    TWIN_HEAD;
    int k, total;
    child sub;
} delegator;

static int delegator_fn(co_gen *g)
{
    delegator *self = (delegator *)g;
    CO_BEGIN(self);
    self->total = 0;
    for (self->k = 0; self->k < 2; self->k++) {
        CO_INIT(&self->sub, child_fn);
        self->sub.p = self->p + self->k;
        CO_YIELD_FROM(self, sub);
        twin_log("child-ret:%d", self->sub.ret);
        self->total += self->sub.ret;
        CO_YIELD(self, 100 + self->sub.ret);
    }
    CO_RETURN(self, self->total);
    CO_END(self);
}

/* ------------------------------------------------------------- cleanup */

typedef struct {
    TWIN_HEAD;
    int i;
} cleanup;

static int cleanup_fn(co_gen *g)
{
    cleanup *self = (cleanup *)g;
    CO_BEGIN(self);
    twin_log("open");
    for (self->i = 0; self->i < self->p; self->i++) {
        CO_YIELD(self, self->i);
        if (CO_SENT(self))
            twin_log("got:%d", self->in);
    }
    CO_RETURN(self, self->p);
    CO_FINALLY(self) { twin_log("cleanup:%s", twin_unwinding(CO_THROWN(self))); }
    CO_END(self);
}

/* ------------------------------------------------------------- catcher */

typedef struct {
    TWIN_HEAD;
    int i, caught;
} catcher;

static int catcher_fn(co_gen *g)
{
    catcher *self = (catcher *)g;
    int e;
    CO_BEGIN(self);
    self->i = 0;
    self->caught = 0;
    while (self->i < self->p) {
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

/* ------------------------------------------------------------ stubborn */

/* Ignores the first p closes (yields again), then gives in. */
typedef struct {
    TWIN_HEAD;
    int i, ignored;
} stubborn;

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
            if (self->ignored >= self->p) {
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

/* ------------------------------------------------ finyield and finsend */

/* A cleanup section that yields: close() is then ignored. */
typedef struct {
    TWIN_HEAD;
    int i;
} finyield;

static int finyield_fn(co_gen *g)
{
    finyield *self = (finyield *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->p; self->i++)
        CO_YIELD(self, self->i);
    CO_RETURN(self, self->p);
    CO_FINALLY(self)
    {
        twin_log("finally:%s", twin_unwinding(CO_THROWN(self)));
        CO_YIELD(self, 100);
        twin_log("finally-done");
    }
    CO_END(self);
}

/* The same, reading a value sent to the yield in the cleanup section. */
static int finsend_fn(co_gen *g)
{
    finyield *self = (finyield *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->p; self->i++)
        CO_YIELD(self, self->i);
    CO_RETURN(self, self->p);
    CO_FINALLY(self)
    {
        twin_log("finally:%s", twin_unwinding(CO_THROWN(self)));
        CO_YIELD(self, 100);
        if (CO_SENT(self))
            twin_log("finally-got:%d", self->in);
        else
            twin_log("finally-got:-");
    }
    CO_END(self);
}

/* ---------------------------------------------- deep: top > mid > leaf */

typedef struct {
    TWIN_HEAD;
    int i, total;
} leaf;

typedef struct {
    TWIN_HEAD;
    int k, got;
    leaf sub;
} mid;

typedef struct {
    TWIN_HEAD;
    mid sub;
} deep;

static int leaf_fn(co_gen *g)
{
    leaf *self = (leaf *)g;
    deep *top = (deep *)twin_top; /* the one live `deep` frame: looked at, resumed */
    int e;
    CO_BEGIN(self);
    twin_log("leaf-start:%s/%s/%s", twin_state(&top->gen), twin_state(&top->sub.gen),
             twin_state(&self->gen));
    twin_log("top-next:%s", twin_reentry(co_next(&top->gen)));
    twin_log("mid-next:%s", twin_reentry(co_next(&top->sub.gen)));
    self->total = 0;
    for (self->i = 0; self->i < self->p; self->i++) {
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
    CO_FINALLY(self) { twin_log("leaf-finally:%s", twin_unwinding(CO_THROWN(self))); }
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
        self->sub.p = self->p + self->k;
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
    self->sub.p = self->p;
    CO_YIELD_FROM(self, sub);
    twin_log("mid-ret:%d", self->sub.ret);
    CO_YIELD(self, self->sub.ret);
    CO_RETURN(self, self->sub.ret);
    CO_FINALLY(self) { twin_log("top-finally:%s", twin_unwinding(CO_THROWN(self))); }
    CO_END(self);
}

/* -------------------------------------------------------------- closefwd */

/* Delegates to a stubborn child: close() is forwarded to it first. */
typedef struct {
    TWIN_HEAD;
    stubborn sub;
} closefwd;

static int closefwd_fn(co_gen *g)
{
    closefwd *self = (closefwd *)g;
    CO_BEGIN(self);
    CO_INIT(&self->sub, stubborn_fn);
    self->sub.p = self->p;
    CO_YIELD_FROM(self, sub);
    twin_log("child-ret:%d", self->sub.ret);
    CO_RETURN(self, self->sub.ret);
    CO_FINALLY(self) { twin_log("outer-finally:%s", twin_unwinding(CO_THROWN(self))); }
    CO_END(self);
}

/* --------------------------------------------------------------- reenter */

/* Resumes, throws into and closes itself while running. */
typedef struct {
    TWIN_HEAD;
    int i;
} reenter;

static int reenter_fn(co_gen *g)
{
    reenter *self = (reenter *)g;
    co_gen *me = &twin_top->gen;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->p; self->i++) {
        twin_log("next:%s", twin_reentry(co_next(me)));
        twin_log("send:%s", twin_reentry(twin_send(me, 1)));
        twin_log("throw:%s", twin_reentry(co_throw(me, E1)));
        twin_log("close:%s", twin_reentry(co_close(me)));
        twin_log("state:%s", twin_state(me));
        CO_YIELD(self, self->i);
    }
    CO_RETURN(self, self->p);
    CO_END(self);
}

/* ----------------------------------------------------------------- table */

static const char *const no_kids[] = {NULL};
static const char *const child_kids[] = {"child", NULL};
static const char *const deep_kids[] = {"mid", "leaf", NULL};

const struct twin twins_basic[] = {
    {"counter", twin_counter_fn, sizeof(twin_counter), TWIN_P, NULL, no_kids, {0, 0}, false},
    {"accumulator", accumulator_fn, sizeof(accumulator), TWIN_LIMIT, NULL, no_kids, {0, 0}, false},
    {"delegator", delegator_fn, sizeof(delegator), TWIN_P, NULL, child_kids,
     {offsetof(delegator, sub), 0}, false},
    {"cleanup", cleanup_fn, sizeof(cleanup), TWIN_P, NULL, no_kids, {0, 0}, false},
    {"catcher", catcher_fn, sizeof(catcher), TWIN_P, NULL, no_kids, {0, 0}, false},
    {"stubborn", stubborn_fn, sizeof(stubborn), TWIN_MOD3, NULL, no_kids, {0, 0}, false},
    {"finyield", finyield_fn, sizeof(finyield), TWIN_P, NULL, no_kids, {0, 0}, false},
    {"finsend", finsend_fn, sizeof(finyield), TWIN_P, NULL, no_kids, {0, 0}, false},
    {"deep", deep_fn, sizeof(deep), TWIN_P, NULL, deep_kids,
     {offsetof(deep, sub), offsetof(deep, sub.sub)}, false},
    {"closefwd", closefwd_fn, sizeof(closefwd), TWIN_MOD3, NULL, child_kids,
     {offsetof(closefwd, sub), 0}, false},
    {"reenter", reenter_fn, sizeof(reenter), TWIN_P, NULL, no_kids, {0, 0}, false},
    {NULL, NULL, 0, TWIN_P, NULL, NULL, {0, 0}, false},
};
