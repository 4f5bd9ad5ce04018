/*
 * tree_walk.c -- PEP 380's own example in C: the recursive in-order walk of
 * a binary tree, `yield from inorder(t.left)`.  A walker delegates to a
 * walker of the same type, so its child frames cannot be members of it: they
 * come from an arena that the outermost frame carries, taken and given back
 * last in, first out (CO_ARENA_NEW, CO_YIELD_FROM_ARENA).  A tree deeper
 * than the arena allows is CO_ERECURSION, Python's RecursionError.  Prints
 * what tree_walk.py prints.
 */
#include <corio/gen.h>

#include <stdio.h>

typedef struct tree {
    struct tree *left, *right;
    int value;
} tree;

/* def inorder(t): the frame of one level of the walk. */
typedef struct walker walker;
struct walker {
    co_gen gen;
    int out;
    int in;
    const tree *t;
    walker *kid; /* the level below, in the arena */
};

static int inorder_fn(co_gen *g)
{
    walker *self = (walker *)g;
    CO_BEGIN(self);
    if (self->t) {
        CO_ARENA_NEW(self, kid, inorder_fn);
        self->kid->t = self->t->left;
        CO_YIELD_FROM_ARENA(self, kid);     /* yield from inorder(t.left) */
        CO_YIELD(self, self->t->value);     /* yield t.value */
        CO_ARENA_NEW(self, kid, inorder_fn);
        self->kid->t = self->t->right;
        CO_YIELD_FROM_ARENA(self, kid);     /* yield from inorder(t.right) */
    }
    CO_END(self);
}

/* The outermost walker, its context, and the arena its levels come from:
 * one block, so that every frame is within 16-bit offsets of the first. */
typedef struct {
    walker top;
    co_ctx ctx;
    co_arena arena;
    unsigned char frames[2048]; /* the recursion budget: ~50 levels */
} walk;

static void walk_start(walk *w, const tree *t)
{
    CO_INIT(&w->top, inorder_fn);
    w->top.t = t;
    co_ctx_attach(&w->top.gen, &w->ctx);
    co_arena_init(&w->arena, w->frames, sizeof w->frames);
    w->ctx.arena = &w->arena;
    w->ctx.error = NULL;
}

static tree pool[10000];
static int pooled;

/* A balanced tree of the sorted values[0..n). */
static tree *build(const int *values, int n)
{
    tree *t;
    if (n == 0)
        return NULL;
    t = &pool[pooled++];
    t->left = build(values, n / 2);
    t->value = values[n / 2];
    t->right = build(values + n / 2 + 1, n - n / 2 - 1);
    return t;
}

static int depth(const tree *t)
{
    int l, r;
    if (!t)
        return 0;
    l = depth(t->left);
    r = depth(t->right);
    return 1 + (l > r ? l : r);
}

int main(void)
{
    static const int values[] = {1, 3, 4, 6, 7, 8, 10, 13, 14};
    static walk w;
    tree *root = build(values, 9), *spine = NULL;
    int i, rc;

    walk_start(&w, root);
    printf("in order:");
    while ((rc = co_next(&w.top.gen)) == CO_YIELDED)
        printf(" %d", w.top.out);
    printf("\ndepth: %d\n", depth(root));

    /* Stopping half-way: close() unwinds every level of the walk. */
    walk_start(&w, root);
    printf("first four:");
    for (i = 0; i < 4 && co_next(&w.top.gen) == CO_YIELDED; i++)
        printf(" %d", w.top.out);
    co_close(&w.top.gen);
    printf("\nclosed: %s\n", co_state(&w.top.gen) == CO_CLOSED && w.arena.used == 0 ? "True" : "False");

    /* A degenerate tree, one long left spine, deeper than the budget allows. */
    pooled = 0;
    for (i = 0; i < 10000; i++) {
        pool[i].left = spine;
        pool[i].right = NULL;
        pool[i].value = i;
        spine = &pool[i];
    }
    walk_start(&w, spine);
    rc = co_next(&w.top.gen);
    if (rc == CO_ERECURSION)
        printf("a spine of 10000 nodes: RecursionError\n");
    else
        printf("a spine of 10000 nodes: %s\n", co_gen_strerror(rc));
    return rc == CO_ERECURSION && w.arena.used == 0 ? 0 : 1;
}
