/*
 * twins_grown.c -- the C twins of twins.py's shapes for what the generator
 * core grew: recursion through a frame arena (treewalk: PEP 380's in-order
 * walk over a tree of random shape), try/except/else/finally nested three
 * deep with raises, returns, breaks and throws landing in every clause
 * (trynest), and PEP 479 (pep479).  As in twins_basic.c, each body follows
 * its Python original statement for statement.
 */
#include "twins.h"

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ treewalk */

typedef struct node {
    const struct node *left, *right;
    int value;
} node;

/* twins.py's tree(): the same LCG, the same order of draws. */
static node nodes[64];
static int used;
static uint32_t lcg;

static int rnd(void)
{
    lcg = (lcg * 1103515245u + 12345u) & 0x7fffffffu;
    return (int)(lcg >> 16);
}

static const node *build(int d)
{
    node *t;
    if (d == 6 || (d > 0 && rnd() % 3 == 0))
        return NULL;
    t = &nodes[used++];
    t->left = build(d + 1);
    t->value = rnd() % 100;
    t->right = build(d + 1);
    return t;
}

typedef struct walker walker;
struct walker {
    TWIN_HEAD;
    const node *t;
    int n, m;
    walker *kid; /* the level below, from the arena */
    co_try tries[2];
};

static int inorder_fn(co_gen *g)
{
    walker *self = (walker *)g;
    CO_BEGIN(self);
    if (self->t == NULL)
        CO_RETURN(self, 0);
    CO_TRY(self) {
        CO_ARENA_NEW(self, kid, inorder_fn);
        self->kid->t = self->t->left;
        CO_YIELD_FROM_ARENA(self, kid);
        self->n = self->kid->ret;
        CO_YIELD(self, self->t->value);
        if (CO_SENT(self)) {
            twin_log("got:%d@%d", self->in, self->t->value);
            if (self->in == 9)
                CO_RAISE(self, E3);
        }
        CO_TRY(self) {
            CO_ARENA_NEW(self, kid, inorder_fn);
            self->kid->t = self->t->right;
            CO_YIELD_FROM_ARENA(self, kid);
            self->m = self->kid->ret;
        } CO_EXCEPT(self, E2) {
            twin_log("caught:E2@%d", self->t->value);
            self->m = -1;
        } CO_TRY_END(self);
        CO_RETURN(self, self->n + self->m + 1);
    } CO_TRY_FINALLY(self) {
        twin_log("leave:%d:%s", self->t->value, twin_unwinding(CO_CAUGHT(self)));
    } CO_TRY_END(self);
    CO_END(self);
}

/* The outermost level, with the context and the arena the others come from. */
typedef struct {
    walker top;
    co_ctx ctx;
    co_arena arena;
    union co__max_align frames[4096 / sizeof(union co__max_align)];
} treewalk;

static void treewalk_setup(twin_frame *f)
{
    treewalk *w = (treewalk *)(void *)f;
    used = 0;
    lcg = (uint32_t)f->p * 7919u + 1u;
    w->top.t = build(0);
    co_ctx_attach(&w->top.gen, &w->ctx);
    co_arena_init(&w->arena, w->frames, sizeof w->frames);
    w->ctx.arena = &w->arena;
}

/* ------------------------------------------------------------- trynest */

typedef struct {
    TWIN_HEAD;
    int i, total, stop;
    co_try tries[3];
} trynest;

static int trynest_fn(co_gen *g)
{
    trynest *self = (trynest *)g;
    CO_BEGIN(self);
    self->total = 0;
    CO_TRY(self) {
        for (self->i = 0; self->i < 4; self->i++) {
            self->stop = 0;
            CO_TRY(self) {
                CO_TRY(self) {
                    CO_YIELD(self, self->i);
                    if (CO_SENT(self)) {
                        twin_log("op:%d", self->in);
                        if (self->in == 1)
                            CO_RAISE(self, E1);
                        if (self->in == 2)
                            CO_RAISE(self, E2);
                        if (self->in == 3)
                            CO_RAISE(self, E3);
                        if (self->in == 4)
                            CO_RETURN(self, self->total);
                        self->stop = self->in == 5;
                        self->total += self->in;
                    }
                } CO_EXCEPT(self, E1) {
                    twin_log("C-caught:E1");
                    CO_YIELD(self, 10 + self->i);
                    if (CO_SENT(self))
                        twin_log("C-got:%d", self->in);
                    else
                        twin_log("C-got:-");
                    if (CO_SENT(self) && self->in == 2)
                        CO_RAISE(self, E2);
                } CO_ELSE(self) {
                    twin_log("C-else");
                } CO_TRY_FINALLY(self) {
                    twin_log("C-finally:%s", twin_unwinding(CO_CAUGHT(self)));
                } CO_TRY_END(self);
                if (self->stop)
                    CO_BREAK(self);
            } CO_EXCEPT(self, E2) {
                twin_log("B-caught:E2");
            } CO_EXCEPT(self, self->p % 2 ? E3 : E2) {
                twin_log("B-caught:E3");
                CO_YIELD(self, 20 + self->i);
            } CO_TRY_FINALLY(self) {
                twin_log("B-finally:%s", twin_unwinding(CO_CAUGHT(self)));
            } CO_TRY_END(self);
        }
        twin_log("loop-done:%d", self->total);
        CO_RETURN(self, self->total);
    } CO_EXCEPT_ANY(self) {
        twin_log("A-caught:%s", twin_unwinding(CO_CAUGHT(self)));
        if (self->p & 2)
            CO_RAISE(self, E1);
        CO_RETURN(self, -1);
    } CO_TRY_FINALLY(self) {
        twin_log("A-finally:%s", twin_unwinding(CO_CAUGHT(self)));
        if (self->p & 4)
            CO_YIELD(self, 99);
    } CO_TRY_END(self);
    CO_END(self);
}

/* -------------------------------------------------------------- pep479 */

/* counter, raising StopIteration when sent 6. */
static int stopper_fn(co_gen *g)
{
    twin_counter *self = (twin_counter *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->p; self->i++) {
        CO_YIELD(self, self->i);
        if (CO_SENT(self) && self->in == 6)
            CO_RAISE(self, CO_EEXHAUSTED); /* raise StopIteration */
    }
    CO_RETURN(self, self->p);
    CO_END(self);
}

typedef struct {
    TWIN_HEAD;
    int total, rc;
    twin_counter inner, sub;
    co_try tries[2];
} pep479;

static int pep479_fn(co_gen *g)
{
    pep479 *self = (pep479 *)g;
    CO_BEGIN(self);
    CO_INIT(&self->inner, twin_counter_fn);
    self->inner.p = self->p % 3;
    self->total = 0;
    CO_TRY(self) {
        CO_INIT(&self->sub, stopper_fn);
        self->sub.p = 2 + self->p % 2;
        CO_YIELD_FROM(self, sub);
        twin_log("child-ret:%d", self->sub.ret);
        for (;;) {
            CO_YIELD(self, self->total);
            if (CO_SENT(self) && self->in >= 7) {
                CO_TRY(self) {
                    CO_RAISE(self, CO_EEXHAUSTED);
                } CO_EXCEPT(self, CO_EEXHAUSTED) {
                    twin_log("stop-caught");
                } CO_TRY_END(self);
                continue;
            }
            if (CO_SENT(self) && self->in == 5)
                CO_RAISE(self, CO_EEXHAUSTED);
            /* total += next(inner): its StopIteration escapes */
            self->rc = co_next(&self->inner.gen);
            if (self->rc == CO_RETURNED)
                self->rc = CO_EEXHAUSTED;
            if (self->rc < 0)
                CO_RAISE(self, self->rc);
            self->total += self->inner.out;
        }
    } CO_TRY_FINALLY(self) {
        twin_log("finally:%s", twin_unwinding(CO_CAUGHT(self)));
    } CO_TRY_END(self);
    CO_END(self);
}

/* ----------------------------------------------------------------- table */

static const char *const no_kids[] = {NULL};
static const char *const pep479_kids[] = {"inner", "child", NULL};

const struct twin twins_grown[] = {
    {"treewalk", inorder_fn, sizeof(treewalk), TWIN_P, treewalk_setup, no_kids, {0, 0}, true},
    {"trynest", trynest_fn, sizeof(trynest), TWIN_P, NULL, no_kids, {0, 0}, false},
    {"pep479", pep479_fn, sizeof(pep479), TWIN_P, NULL, pep479_kids,
     {offsetof(pep479, inner), offsetof(pep479, sub)}, false},
    {NULL, NULL, 0, TWIN_P, NULL, NULL, {0, 0}, false},
};
