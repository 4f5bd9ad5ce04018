/*
 * heap.c -- the loop's timers: an array-backed 4-ary min-heap of deadlines,
 * and beside it the lane, a ring of timers armed in deadline order.
 *
 * Heap entries carry the deadline beside the timer pointer so that sifting
 * compares numbers in one array instead of chasing pointers; each timer
 * keeps its slot, which makes cancel O(log n) and the earliest deadline O(1).
 * Four children per node halve the tree's height against a binary heap and
 * keep a node's children in one cache line.
 *
 * Most timers never need the heap: a loop's sleeps and timeouts of one
 * length are armed in the order they fall due, the clock only going forward.
 * Such a timer -- due no earlier than the lane's last -- is appended to the
 * lane and later popped from its head, both O(1), where the heap would sift
 * every pop's last entry from the top to the bottom.  The rest go into the
 * heap.  Equal deadlines fire in arming order (the timers' seq) within
 * either and across the two: the earliest timer is the lesser of the lane's
 * head and the heap's top by (deadline, seq).
 */
#include "loop.h"

#define D 4
/* Room for this many timers comes with the first; it doubles from there,
 * so a loop with few timers stays small. */
#define HEAP_START 4
#define LANE_START 8
/* A slot keeps its top bit for CO__LANE, and twice a capacity's bytes must
 * fit a size_t: neither array grows beyond this. */
#define SIZE_CAP ((size_t)-1 / sizeof(co_heap_entry) / 2)
#define MAX_CAP (SIZE_CAP < CO__LANE / 2 ? (uint32_t)SIZE_CAP : CO__LANE / 2)

/* Whether timer a was armed before timer b (sequence numbers wrap: compare
 * their distance, not their values). */
static bool armed_before(const co_timer *a, const co_timer *b)
{
    return (int32_t)(a->seq - b->seq) < 0;
}

/* Whether entry a fires before entry b. */
static bool before(const co_heap_entry *a, const co_heap_entry *b)
{
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline;
    return armed_before(a->timer, b->timer);
}

/* A bigger array for `cap` entries, through the allocator hook. */
static co_heap_entry *regrow(co_loop *loop, co_heap_entry *a, uint32_t *cap, uint32_t start)
{
    uint32_t old = *cap, want = old ? old * 2 : start;
    if (old >= MAX_CAP)
        return NULL;
    a = co__realloc(loop, a, old * sizeof *a, want * sizeof *a);
    if (a != NULL)
        *cap = want;
    return a;
}

/* ------------------------------------------------------------------ heap */

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

static int heap_push(co_loop *loop, co_heap *h, co_timer *t, int64_t deadline)
{
    co_heap_entry e;
    if (h->n == h->cap) {
        co_heap_entry *a = regrow(loop, h->a, &h->cap, HEAP_START);
        if (a == NULL)
            return CO_ENOMEM;
        h->a = a;
    }
    e.deadline = deadline;
    e.timer = t;
    sift_up(h, h->n++, &e);
    return 0;
}

static void heap_remove(co_heap *h, uint32_t i)
{
    co_heap_entry last;
    h->a[i].timer->slot = 0;
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

/* ------------------------------------------------------------------ lane */

static co_heap_entry *lane_at(const co_heap *h, uint32_t pos)
{
    return &h->lane[pos & (h->lane_cap - 1)];
}

/* Whether a timer due at `deadline` may join the lane's end. */
static bool lane_takes(const co_heap *h, int64_t deadline)
{
    return h->head == h->tail || lane_at(h, h->tail - 1)->deadline <= deadline;
}

/* Squeezes the holes out, in place: each live entry moves down to the next
 * free position (never past one still to be read). */
static void lane_compact(co_heap *h)
{
    uint32_t p, q = h->head;
    for (p = h->head; p != h->tail; p++) {
        co_heap_entry *from = lane_at(h, p), *to;
        if (from->timer == NULL)
            continue;
        to = lane_at(h, q);
        to->deadline = from->deadline;
        to->timer = from->timer;
        to->timer->slot = CO__LANE | (q & ~CO__LANE);
        q++;
    }
    h->tail = q;
}

/* Twice the room.  An entry's place is its position modulo the capacity:
 * with twice the capacity, those whose position has the old capacity's bit
 * set move up by the old capacity, and every slot stays what it was. */
static int lane_grow(co_loop *loop, co_heap *h)
{
    uint32_t old = h->lane_cap, p;
    co_heap_entry *a = regrow(loop, h->lane, &h->lane_cap, LANE_START);
    if (a == NULL)
        return CO_ENOMEM;
    h->lane = a;
    for (p = h->head; p != h->tail; p++)
        if (p & old) {
            co_heap_entry *from = &a[p & (old - 1)], *to = &a[(p & (old - 1)) + old];
            to->deadline = from->deadline;
            to->timer = from->timer;
        }
    return 0;
}

/* Room for one more at the lane's end: holes squeezed out when they fill
 * half of it or more (so a lane re-armed behind a long-lived head does not
 * grow without bound), else twice the room. */
static int lane_room(co_loop *loop, co_heap *h)
{
    if (h->tail - h->head < h->lane_cap)
        return 0;
    if (h->lane_cap && h->live <= h->lane_cap / 2) {
        lane_compact(h);
        return 0;
    }
    return lane_grow(loop, h);
}

static void lane_append(co_heap *h, co_timer *t, int64_t deadline)
{
    uint32_t pos = h->tail++;
    co_heap_entry *e = lane_at(h, pos);
    e->deadline = deadline;
    e->timer = t;
    t->slot = CO__LANE | (pos & ~CO__LANE);
    h->live++;
}

/* The head is never a hole: past the holes that follow it. */
static void lane_skip(co_heap *h)
{
    while (h->head != h->tail && lane_at(h, h->head)->timer == NULL)
        h->head++;
}

static void lane_remove(co_heap *h, co_timer *t)
{
    uint32_t mask = h->lane_cap - 1, i = t->slot & mask;
    h->lane[i].timer = NULL;
    t->slot = 0;
    h->live--;
    if (i == (h->head & mask))
        lane_skip(h);
    else if (i == ((h->tail - 1) & mask))
        /* the head is live: the trim stops there at the latest */
        while (lane_at(h, h->tail - 1)->timer == NULL)
            h->tail--;
}

/* ------------------------------------------------------------ the timers */

/* Arms t for `deadline` (re-arming it if it is armed). 0 or CO_ENOMEM. */
int co__heap_push(co_loop *loop, co_timer *t, int64_t deadline)
{
    co_heap *h = &loop->timers;
    if (t->slot)
        co__heap_remove(loop, t);
    /* the sequence first: the heap's sift compares it */
    t->seq = loop->timer_seq++;
    if (lane_takes(h, deadline)) {
        /* no retry in the heap: every failed allocation is reported */
        if (lane_room(loop, h) < 0)
            return CO_ENOMEM;
        lane_append(h, t, deadline);
        return 0;
    }
    return heap_push(loop, h, t, deadline);
}

/* Disarms t; a no-op when it is not armed. */
void co__heap_remove(co_loop *loop, co_timer *t)
{
    if (t->slot & CO__LANE)
        lane_remove(&loop->timers, t);
    else if (t->slot)
        heap_remove(&loop->timers, t->slot - 1);
}

const co_heap_entry *co__heap_first(const co_heap *h)
{
    const co_heap_entry *l = h->head != h->tail ? lane_at(h, h->head) : NULL;
    if (h->n == 0 || (l != NULL && !before(&h->a[0], l)))
        return l;
    return &h->a[0];
}

co_timer *co__heap_pop_due(co_loop *loop, int64_t now)
{
    co_heap *h = &loop->timers;
    const co_heap_entry *e = co__heap_first(h);
    co_timer *t;
    if (e == NULL || e->deadline > now)
        return NULL;
    t = e->timer;
    if (t->slot & CO__LANE) {
        t->slot = 0;
        h->live--;
        h->head++;
        lane_skip(h);
    } else
        heap_remove(h, 0);
    return t;
}

int64_t co__heap_deadline(const co_heap *h, const co_timer *t)
{
    if (t->slot & CO__LANE)
        return h->lane[t->slot & (h->lane_cap - 1)].deadline;
    return h->a[t->slot - 1].deadline;
}

void co__heap_free(co_loop *loop)
{
    co_heap *h = &loop->timers;
    co__free(loop, h->a, h->cap * sizeof *h->a);
    co__free(loop, h->lane, h->lane_cap * sizeof *h->lane);
    h->a = h->lane = NULL;
    h->n = h->cap = h->lane_cap = h->head = h->tail = h->live = 0;
}
