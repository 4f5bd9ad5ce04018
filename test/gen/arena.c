/*
 * Recursion without malloc: child frames taken LIFO from the arena of the
 * tree's context (CO_ARENA_NEW, CO_YIELD_FROM_ARENA).  A generator
 * delegates to one of its own type to any depth the arena allows; past it,
 * CO_ERECURSION (RecursionError) is raised where the frame was asked for,
 * and the arena and every frame stay consistent; close, throw and send
 * cross all the levels; resuming goes straight to the innermost level.
 */
#include <criterion/criterion.h>
#include <string.h>

#include <corio/gen.h>

#define E_THROWN (-5)

/* def count(n): if n: yield n; yield from count(n - 1); yield -n
 * (it also adds what is sent to it into `got`) */
typedef struct level level;
struct level {
    co_gen gen;
    int out;
    int in;
    int n;
    int *got;
    int *cleanups;
    level *kid;
};

static int count_fn(co_gen *g)
{
    level *self = (level *)g;
    CO_BEGIN(self);
    if (self->n) {
        CO_YIELD(self, self->n);
        if (CO_SENT(self))
            *self->got += self->in;
        CO_ARENA_NEW(self, kid, count_fn);
        self->kid->n = self->n - 1;
        self->kid->got = self->got;
        self->kid->cleanups = self->cleanups;
        CO_YIELD_FROM_ARENA(self, kid);
        CO_YIELD(self, -self->n);
    }
    CO_FINALLY(self)
    {
        (*self->cleanups)++;
    }
    CO_END(self);
}

typedef struct {
    level top;
    co_ctx ctx;
    co_arena arena;
    unsigned char frames[1024];
    int got, cleanups;
} tree;

static void tree_init(tree *t, int n, size_t budget)
{
    memset(t, 0, sizeof *t);
    co_init(&t->top.gen, count_fn);
    t->top.n = n;
    t->top.got = &t->got;
    t->top.cleanups = &t->cleanups;
    cr_assert_eq(co_ctx_attach(&t->top.gen, &t->ctx), 0);
    co_arena_init(&t->arena, t->frames, budget);
    t->ctx.arena = &t->arena;
}

/* How many levels `budget` bytes hold. */
static int levels_in(size_t budget)
{
    size_t align = sizeof(union co__max_align);
    size_t one = (sizeof(level) + align - 1) / align * align;
    return (int)(budget / one);
}

Test(arena, recursion_yields_every_level)
{
    tree t;
    int k, rc;
    tree_init(&t, 5, sizeof t.frames);
    for (k = 5; k >= 1; k--) {
        cr_assert_eq(co_next(&t.top.gen), CO_YIELDED);
        cr_assert_eq(t.top.out, k);
    }
    for (k = 1; k <= 5; k++) {
        cr_assert_eq(co_next(&t.top.gen), CO_YIELDED);
        cr_assert_eq(t.top.out, -k);
    }
    rc = co_next(&t.top.gen);
    cr_assert_eq(rc, CO_RETURNED);
    cr_assert_eq(t.cleanups, 6);
    cr_assert_eq(t.arena.used, 0, "every frame went back");
    cr_assert_gt(t.arena.peak, 0);
}

Test(arena, a_send_reaches_the_innermost_level)
{
    tree t;
    tree_init(&t, 3, sizeof t.frames);
    cr_assert_eq(co_next(&t.top.gen), CO_YIELDED);
    cr_assert_eq(co_next(&t.top.gen), CO_YIELDED);
    cr_assert_eq(CO_SEND(&t.top, 40), CO_YIELDED);
    cr_assert_eq(t.top.out, 1);
    cr_assert_eq(t.got, 40);
}

Test(arena, too_deep_is_a_recursion_error_and_nothing_is_corrupted)
{
    tree t;
    int fit, k, rc;
    size_t budget = 4 * sizeof(level) + 8;
    fit = levels_in(budget);
    tree_init(&t, fit + 3, budget);
    for (k = 0; k <= fit; k++) {
        cr_assert_eq(co_next(&t.top.gen), CO_YIELDED, "level %d", k);
        cr_assert_eq(t.top.out, fit + 3 - k);
    }
    rc = co_next(&t.top.gen);
    cr_assert_eq(rc, CO_ERECURSION);
    cr_assert_str_eq(co_gen_strerror(rc), "maximum recursion depth exceeded (the frame arena is full)");
    cr_assert_eq(t.cleanups, fit + 1, "each level ran its cleanup once");
    cr_assert_eq(t.arena.used, 0);
    cr_assert_leq(t.arena.peak, budget);
    cr_assert_eq(co_state(&t.top.gen), CO_CLOSED);
    cr_assert_eq(co_result(&t.top.gen), CO_ERECURSION);
    cr_assert_eq(co_next(&t.top.gen), CO_EEXHAUSTED);
}

Test(arena, close_in_the_middle_gives_every_frame_back)
{
    tree t;
    int k;
    tree_init(&t, 6, sizeof t.frames);
    for (k = 0; k < 4; k++)
        cr_assert_eq(co_next(&t.top.gen), CO_YIELDED);
    cr_assert_gt(t.arena.used, 0);
    cr_assert_eq(co_close(&t.top.gen), 0);
    cr_assert_eq(t.cleanups, 4);
    cr_assert_eq(t.arena.used, 0);
}

Test(arena, a_throw_unwinds_every_level)
{
    tree t;
    int k;
    tree_init(&t, 6, sizeof t.frames);
    for (k = 0; k < 4; k++)
        cr_assert_eq(co_next(&t.top.gen), CO_YIELDED);
    cr_assert_eq(co_throw(&t.top.gen, E_THROWN), E_THROWN);
    cr_assert_eq(t.cleanups, 4);
    cr_assert_eq(t.arena.used, 0);
}

Test(arena, the_arena_can_be_used_again)
{
    tree t;
    tree_init(&t, 4, sizeof t.frames);
    while (co_next(&t.top.gen) == CO_YIELDED)
        ;
    co_init(&t.top.gen, count_fn);
    co_ctx_attach(&t.top.gen, &t.ctx);
    t.top.n = 4;
    t.cleanups = 0;
    while (co_next(&t.top.gen) == CO_YIELDED)
        ;
    cr_assert_eq(t.cleanups, 5);
    cr_assert_eq(co_result(&t.top.gen), 0);
}

Test(arena, without_an_arena_a_recursion_error)
{
    tree t;
    tree_init(&t, 2, sizeof t.frames);
    t.ctx.arena = NULL;
    cr_assert_eq(co_next(&t.top.gen), CO_YIELDED);
    cr_assert_eq(co_next(&t.top.gen), CO_ERECURSION);
}

/* Storage beyond the reach of 16-bit offsets is refused, not corrupted. */
Test(arena, storage_out_of_reach_is_refused)
{
    static unsigned char far[70000];
    tree t;
    tree_init(&t, 2, sizeof t.frames);
    ptrdiff_t gap = (far + sizeof far - 1024) - (unsigned char *)&t;
    cr_assert(gap > INT16_MAX || gap < INT16_MIN - 1024, "static storage lies near the stack");
    co_arena_init(&t.arena, far + sizeof far - 1024, 1024);
    cr_assert_eq(co_next(&t.top.gen), CO_YIELDED);
    cr_assert_eq(co_next(&t.top.gen), CO_ERECURSION);
    cr_assert_eq(t.arena.used, 0);
}

/* Resuming from the outermost frame runs the innermost level directly. */
Test(arena, resume_goes_straight_to_the_innermost_level)
{
    tree t;
    int k;
    tree_init(&t, 8, sizeof t.frames);
    for (k = 0; k < 8; k++)
        cr_assert_eq(co_next(&t.top.gen), CO_YIELDED);
    cr_assert_not_null(co_yieldfrom(&t.top.gen));
    cr_assert_eq(co_line(&t.top.gen), co_line(co_yieldfrom(&t.top.gen)), "both wait at the yield-from");
    cr_assert_eq(co_state(&t.top.gen), CO_SUSPENDED);
    cr_assert_eq(co_next(&t.top.gen), CO_YIELDED);
    cr_assert_eq(t.top.out, -1);
}
