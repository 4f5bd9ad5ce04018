/*
 * heap.c -- the timer heap: an array-backed 4-ary min-heap of deadlines.
 *
 * Entries carry the deadline beside the timer pointer so that sifting
 * compares numbers in one array instead of chasing pointers; each timer
 * keeps its slot, which makes cancel O(log n) and the earliest deadline O(1).
 * Equal deadlines are ordered by the timers' arming sequence, so they fire in
 * the order they were set.  Four children per node halve the tree's height
 * against a binary heap and keep a node's children in one cache line.
 */
#include "loop.h"

#define D 4
/* Room for this many timers comes with the first; it doubles from there,
 * so a loop with few timers stays small. */
#define HEAP_START 4

/* Whether entry a fires before entry b. */
static bool before(const co_heap_entry *a, const co_heap_entry *b)
{
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline;
    /* sequence numbers wrap: compare their distance, not their values */
    return (int32_t)(a->timer->seq - b->timer->seq) < 0;
}

/* Entries are copied field by field: a whole-struct copy is a memcpy call
 * on a Cortex-M0, which a bare build does not have. */
static void place(co_heap *h, uint32_t i, const co_heap_entry *e)
{
    h->a[i].deadline = e->deadline;
    h->a[i].timer = e->timer;
    e->timer->slot = i + 1;
}

/* e is a copy, never an entry of the array, which these overwrite. */
static void sift_up(co_heap *h, uint32_t i, const co_heap_entry *e)
{
    while (i > 0) {
        uint32_t parent = (i - 1) / D;
        if (!before(e, &h->a[parent]))
            break;
        place(h, i, &h->a[parent]);
        i = parent;
    }
    place(h, i, e);
}

static void sift_down(co_heap *h, uint32_t i, const co_heap_entry *e)
{
    for (;;) {
        uint32_t first = i * D + 1, best, c, end;
        if (first >= h->n)
            break;
        end = first + D < h->n ? first + D : h->n;
        best = first;
        for (c = first + 1; c < end; c++)
            if (before(&h->a[c], &h->a[best]))
                best = c;
        if (!before(&h->a[best], e))
            break;
        place(h, i, &h->a[best]);
        i = best;
    }
    place(h, i, e);
}

static int grow(co_loop *loop, co_heap *h)
{
    uint32_t cap = h->cap ? h->cap * 2 : HEAP_START;
    co_heap_entry *a = co__alloc(loop, cap * sizeof *a);
    if (a == NULL)
        return CO_ENOMEM;
    co__bytecopy(a, h->a, h->n * sizeof *a);
    co__free(loop, h->a, h->cap * sizeof *h->a);
    h->a = a;
    h->cap = cap;
    return 0;
}

/* Arms t for `deadline` (re-arming it if it is armed). 0 or CO_ENOMEM. */
int co__heap_push(co_loop *loop, co_timer *t, int64_t deadline)
{
    co_heap *h = &loop->timers;
    co_heap_entry e;
    if (t->slot)
        co__heap_remove(loop, t);
    if (h->n == h->cap && grow(loop, h) < 0)
        return CO_ENOMEM;
    t->seq = loop->timer_seq++;
    e.deadline = deadline;
    e.timer = t;
    sift_up(h, h->n++, &e);
    return 0;
}

/* Disarms t; a no-op when it is not armed. */
void co__heap_remove(co_loop *loop, co_timer *t)
{
    co_heap *h = &loop->timers;
    uint32_t i;
    co_heap_entry last;
    if (t->slot == 0)
        return;
    i = t->slot - 1;
    t->slot = 0;
    --h->n;
    if (i == h->n)
        return;
    last.deadline = h->a[h->n].deadline;
    last.timer = h->a[h->n].timer;
    /* the last entry fills the hole, then moves whichever way it must */
    if (i > 0 && before(&last, &h->a[(i - 1) / D]))
        sift_up(h, i, &last);
    else
        sift_down(h, i, &last);
}

void co__heap_free(co_loop *loop)
{
    co__free(loop, loop->timers.a, loop->timers.cap * sizeof *loop->timers.a);
    loop->timers.a = NULL;
    loop->timers.n = loop->timers.cap = 0;
}
