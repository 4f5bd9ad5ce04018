/*
 * delegation_chain.h -- the three-level delegation chain the yield-from and
 * await tests share (top > mid > leaf, each a member of its parent's frame):
 * its frames and bodies, the log of the order their cleanup sections ran in,
 * and helpers to set it up and check what comes out.
 */
#ifndef TEST_GEN_DELEGATION_CHAIN_H
#define TEST_GEN_DELEGATION_CHAIN_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <string.h>

#include <corio/gen.h>

#define E_THROWN (-5)
#define E_OTHER (-77)
#define MID_CAUGHT (-1) /* what the middle level yields after catching */
#define TOP_CAUGHT (-2) /* what the top level yields after catching    */

/* What the levels of a chain share: the order their cleanup sections ran
   in, and frames the innermost body tries to resume while it runs. */
typedef struct {
    char order[8];
    int n;
    co_gen *poke[3];
    int rc_poke[3];
} chain_log;

static inline void chain_mark(chain_log *log, char level)
{
    if (log != NULL && log->n < (int)sizeof log->order - 1)
        log->order[log->n++] = level;
}

/* Resumes each frame in log->poke from inside a running body. */
static inline void chain_poke(chain_log *log)
{
    int k;
    for (k = 0; log != NULL && k < 3; k++)
        if (log->poke[k] != NULL)
            log->rc_poke[k] = co_next(log->poke[k]);
}

/* --------------------------------------------------------------- the leaf */

/* Yields base, base+1, ... (count values), adds up what is sent to it and
   returns base*100 + that sum. */
typedef struct {
    co_gen gen;
    int out;
    int in;
    chain_log *log;
    int base, count, i, sum;
    int caught;
    int cleanup_saw;
    int ret;
} leaf_t;

static inline int leaf_fn(co_gen *g)
{
    leaf_t *self = (leaf_t *)g;
    CO_BEGIN(self);
    chain_poke(self->log);
    for (self->i = 0; self->i < self->count; self->i++) {
        CO_YIELD(self, self->base + self->i);
        if (CO_SENT(self))
            self->sum += self->in;
    }
    CO_RETURN(self, self->base * 100 + self->sum);
    CO_FINALLY(self)
    {
        chain_mark(self->log, 'L');
        self->cleanup_saw = CO_THROWN(self);
    }
    CO_END(self);
}

/* The same values, but an error thrown at a yield is caught and the loop goes
   on; a close is answered by raising E_OTHER. */
static inline int leaf_catching_fn(co_gen *g)
{
    leaf_t *self = (leaf_t *)g;
    CO_BEGIN(self);
    for (self->i = 0; self->i < self->count; self->i++) {
        CO_YIELD_CATCH(self, self->base + self->i);
        self->caught = CO_THROWN(self);
        if (self->caught == CO_EXIT)
            CO_RAISE(self, E_OTHER);
    }
    CO_RETURN(self, self->base * 100);
    CO_FINALLY(self)
    {
        chain_mark(self->log, 'L');
        self->cleanup_saw = CO_THROWN(self);
    }
    CO_END(self);
}

/* Yields 7 forever, catching everything, close() included. */
static inline int leaf_ignoring_fn(co_gen *g)
{
    leaf_t *self = (leaf_t *)g;
    CO_BEGIN(self);
    for (;;) {
        CO_YIELD_CATCH(self, 7);
        self->caught = CO_THROWN(self);
    }
    CO_END(self);
}

/* ------------------------------------------------------------- the middle */

/* Delegates to its leaf, then yields 1000 + the leaf's return value and
   returns the leaf's return value + 1. */
typedef struct {
    co_gen gen;
    int out;
    int in;
    leaf_t leaf;
    chain_log *log;
    co_body leaf_body; /* NULL: leaf_fn                              */
    bool keep_leaf;    /* delegate to the leaf as the test left it   */
    bool catches;      /* delegate with CO_YIELD_FROM_CATCH          */
    bool redelegates;  /* after catching, delegate to a fresh leaf   */
    int caught;
    int cleanup_saw;
    int ret;
} mid_t;

static inline void leaf_setup(leaf_t *leaf, co_body fn, chain_log *log)
{
    memset(leaf, 0, sizeof *leaf);
    co_init(&leaf->gen, fn != NULL ? fn : leaf_fn);
    leaf->log = log;
    leaf->base = 1;
    leaf->count = 3;
}

static inline int mid_fn(co_gen *g)
{
    mid_t *self = (mid_t *)g;
    CO_BEGIN(self);
    if (!self->keep_leaf)
        leaf_setup(&self->leaf, self->leaf_body, self->log);
    if (self->catches) {
        CO_YIELD_FROM_CATCH(self, leaf);
        self->caught = CO_THROWN(self);
        if (self->caught && self->redelegates) {
            leaf_setup(&self->leaf, self->leaf_body, self->log);
            CO_YIELD_FROM(self, leaf);
        } else if (self->caught) {
            CO_YIELD(self, MID_CAUGHT);
        }
    } else {
        CO_YIELD_FROM(self, leaf);
    }
    CO_YIELD(self, 1000 + self->leaf.ret);
    CO_RETURN(self, self->leaf.ret + 1);
    CO_FINALLY(self)
    {
        chain_mark(self->log, 'M');
        self->cleanup_saw = CO_THROWN(self);
    }
    CO_END(self);
}

/* ---------------------------------------------------------------- the top */

/* Delegates to its middle, then yields 2000 + the middle's return value and
   returns the middle's return value + 1. */
typedef struct {
    co_gen gen;
    int out;
    int in;
    mid_t mid;
    chain_log log;
    co_body leaf_body;
    bool mid_catches;
    bool mid_redelegates;
    bool catches;
    int caught;
    int cleanup_saw;
    int ret;
} top_t;

static inline int top_fn(co_gen *g)
{
    top_t *self = (top_t *)g;
    CO_BEGIN(self);
    memset(&self->mid, 0, sizeof self->mid);
    CO_INIT(&self->mid, mid_fn);
    self->mid.log = &self->log;
    self->mid.leaf_body = self->leaf_body;
    self->mid.catches = self->mid_catches;
    self->mid.redelegates = self->mid_redelegates;
    if (self->catches) {
        CO_YIELD_FROM_CATCH(self, mid);
        self->caught = CO_THROWN(self);
        if (self->caught)
            CO_YIELD(self, TOP_CAUGHT);
    } else {
        CO_YIELD_FROM(self, mid);
    }
    CO_YIELD(self, 2000 + self->mid.ret);
    CO_RETURN(self, self->mid.ret + 1);
    CO_FINALLY(self)
    {
        chain_mark(&self->log, 'T');
        self->cleanup_saw = CO_THROWN(self);
    }
    CO_END(self);
}

static inline void top_init(top_t *t)
{
    memset(t, 0, sizeof *t);
    CO_INIT(t, top_fn);
}

static inline void mid_init(mid_t *m, chain_log *log)
{
    memset(m, 0, sizeof *m);
    CO_INIT(m, mid_fn);
    m->log = log;
}

/* Resumes g with next and expects it to yield `value`. */
static inline void expect_yield(co_gen *g, const int *out, int value)
{
    int rc = co_next(g);
    cr_assert_eq(rc, CO_YIELDED, "next gave %d (%s), wanted a yield of %d", rc,
                 co_gen_strerror(rc), value);
    cr_assert_eq(*out, value);
}

#endif /* TEST_GEN_DELEGATION_CHAIN_H */
