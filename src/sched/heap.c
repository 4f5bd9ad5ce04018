/*
 * heap.c -- the loop's timers: an array-backed 4-ary min-heap of deadlines,
 * and beside it the lane, a ring of timers armed in deadline order.
 *
 * Heap entries carry the deadline and the arming sequence beside the timer
 * pointer so that sifting compares numbers in one array instead of chasing
 * pointers (ms sleeps share deadlines by the thousand); each timer
 * keeps its slot, which makes cancel O(log n) and the earliest deadline O(1).
 * Four children per node halve the tree's height against a binary heap.
 * Ties cost little: the timer being armed is the newest, so it rises past
 * later deadlines only, and the way down picks a child without branching.
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
#define LANE_START 4
/* A slot keeps its top bit for CO__LANE, and twice a capacity's bytes must
 * fit a size_t: neither array grows beyond this. */
#define SIZE_CAP ((size_t)-1 / sizeof(co_heap_entry) / 2)
#define MAX_CAP (SIZE_CAP < CO__LANE / 2 ? (uint32_t)SIZE_CAP : CO__LANE / 2)

/* Whether what is due at (d, seq) fires before what is due at (e, eseq):
 * sequence numbers wrap, so their distance is compared, not their values. */
static bool fires_before(int64_t d, uint32_t seq, int64_t e, uint32_t eseq)
{
    if (d != e)
        return d < e;
    return (int32_t)(seq - eseq) < 0;
}

static bool before(const co_heap_entry *a, const co_heap_entry *b)
{
    return fires_before(a->deadline, a->seq, b->deadline, b->seq);
}

/* A bigger array for *cap entries of `size` bytes, through the allocator
 * hook; *cap updated. */
static void *regrow(co_loop *loop, void *a, uint32_t *cap, uint32_t start, size_t size)
{
    uint32_t old = *cap, want = old ? old * 2 : start;
    if (old >= MAX_CAP)
        return NULL;
    a = co__realloc(loop, a, old * size, want * size);
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
    h->a[i].seq = e->seq;
    h->a[i].timer = e->timer;
    e->timer->slot = i + 1;
}

/* e is a copy, never an entry of the array, which these overwrite.  A
 * newest timer (the one being armed) fires after every armed timer of its
 * deadline, so it rises past later deadlines only: no seq compared. */
static inline void rise(co_heap *h, uint32_t i, const co_heap_entry *e, bool newest)
{
    while (i > 0) {
        uint32_t parent = (i - 1) / D;
        const co_heap_entry *p = &h->a[parent];
        if (newest ? e->deadline >= p->deadline : !before(e, p))
            break;
        place(h, i, p);
        i = parent;
    }
    place(h, i, e);
}

static void sift_up(co_heap *h, uint32_t i, const co_heap_entry *e) { rise(h, i, e, false); }

/* Out of line: sleeps of one length all go to the lane, whose arm
 * (co__heap_push) then saves no registers for the sift. */
static CO__OUT_OF_LINE int heap_push(co_loop *loop, co_heap *h, co_timer *t, int64_t deadline)
{
    co_heap_entry e;
    if (h->n == h->cap) {
        co_heap_entry *a = regrow(loop, h->a, &h->cap, HEAP_START, sizeof *a);
        if (a == NULL)
            return CO_ENOMEM;
        h->a = a;
    }
    e.deadline = deadline;
    e.seq = t->seq;
    e.timer = t;
    rise(h, h->n++, &e, true);
    return 0;
}

/* The earliest of the children first .. end - 1 (at least one).  Random
 * deadlines make every comparison a coin toss, so the best so far is
 * kept in registers and chosen without && or || (flags and conditional
 * moves rather than branches that would be mispredicted half the time). */
static uint32_t earliest_child(const co_heap_entry *a, uint32_t first, uint32_t end)
{
    uint32_t best = first, bseq = a[first].seq;
    int64_t at = a[first].deadline;
    for (uint32_t c = first + 1; c < end; c++) {
        int64_t d = a[c].deadline;
        uint32_t seq = a[c].seq;
        bool take = (d < at) | ((d == at) & ((int32_t)(seq - bseq) < 0));
        best = take ? c : best;
        at = take ? d : at;
        bseq = take ? seq : bseq;
    }
    return best;
}

/* Entry i leaves, and the last entry fills its place.  That one is as a
 * rule among the latest (in a heap armed in deadline order, the very
 * latest): instead of sinking it from i, comparing it at every level, the
 * hole sinks along the earlier child to the bottom, and the last entry
 * rises from there as far as it must -- rarely a level, though past i when
 * it is earlier than i's parent. */
static void heap_remove(co_heap *h, uint32_t i)
{
    uint32_t n;
    co_heap_entry last;
    h->a[i].timer->slot = 0;
    n = --h->n;
    if (i == n)
        return;
    last.deadline = h->a[n].deadline;
    last.seq = h->a[n].seq;
    last.timer = h->a[n].timer;
    for (;;) {
        uint32_t first = i * D + 1, best;
        if (first >= n)
            break;
        best = earliest_child(h->a, first, first + D < n ? first + D : n);
        place(h, i, &h->a[best]);
        i = best;
    }
    sift_up(h, i, &last);
}

/* ------------------------------------------------------------------ lane */

static co_lane_entry *lane_at(const co_heap *h, uint32_t pos)
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
        co_lane_entry *from = lane_at(h, p), *to;
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

/* Twice the room, for a full ring.  An entry's place is its position
 * modulo the capacity: with twice the capacity, those whose position has
 * the old capacity's bit set move up by the old capacity -- in a full ring,
 * one run of them: from the head's place to the end if the head's position
 * has the bit, else the wrapped ones before it.  Every slot stays valid. */
static int lane_grow(co_loop *loop, co_heap *h)
{
    uint32_t old = h->lane_cap, at = h->head & (old - 1);
    co_lane_entry *a = regrow(loop, h->lane, &h->lane_cap, LANE_START, sizeof *a);
    if (a == NULL)
        return CO_ENOMEM;
    h->lane = a;
    if (old == 0)
        return 0;
    if (h->head & old)
        co__bytecopy(&a[at + old], &a[at], (old - at) * sizeof *a);
    else
        co__bytecopy(&a[old], &a[0], at * sizeof *a);
    return 0;
}

/* Room for one more at the end of a full lane: holes squeezed out when
 * they fill half of it or more (so a lane re-armed behind a long-lived head
 * does not grow without bound), else twice the room. */
static int lane_make_room(co_loop *loop, co_heap *h)
{
    if (h->lane_cap && h->live <= h->lane_cap / 2) {
        lane_compact(h);
        return 0;
    }
    return lane_grow(loop, h);
}

static void lane_append(co_heap *h, co_timer *t, int64_t deadline)
{
    uint32_t pos = h->tail++;
    co_lane_entry *e = lane_at(h, pos);
    e->deadline = deadline;
    e->timer = t;
    t->slot = CO__LANE | (pos & ~CO__LANE);
    h->live++;
}

/* Appends t to a full lane, once there is room (0 or CO_ENOMEM).  Out of
 * line, as heap_push. */
static CO__OUT_OF_LINE int lane_append_full(co_loop *loop, co_heap *h, co_timer *t,
                                            int64_t deadline)
{
    if (lane_make_room(loop, h) < 0)
        return CO_ENOMEM;
    lane_append(h, t, deadline);
    return 0;
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

/* An armed t, armed anew. */
static CO__OUT_OF_LINE int rearm(co_loop *loop, co_timer *t, int64_t deadline)
{
    co__heap_disarm(loop, t);
    return co__heap_push(loop, t, deadline);
}

/* Arms t for `deadline` (re-arming it if it is armed). 0 or CO_ENOMEM. */
int co__heap_push(co_loop *loop, co_timer *t, int64_t deadline)
{
    co_heap *h = &loop->timers;
    if (t->slot) /* out of line: the arm itself then makes only tail calls */
        return rearm(loop, t, deadline);
    /* the sequence first: the heap's sift compares it */
    t->seq = loop->timer_seq++;
    if (lane_takes(h, deadline)) {
        /* no retry in the heap: every failed allocation is reported */
        if (h->tail - h->head >= h->lane_cap)
            return lane_append_full(loop, h, t, deadline);
        lane_append(h, t, deadline);
        return 0;
    }
    return heap_push(loop, h, t, deadline);
}

/* Disarms t, which is armed. */
void co__heap_disarm(co_loop *loop, co_timer *t)
{
    if (t->slot & CO__LANE)
        lane_remove(&loop->timers, t);
    else
        heap_remove(&loop->timers, t->slot - 1);
}

/* Whether the earliest timer is the lane's head (else the heap's top). */
static bool lane_first(const co_heap *h)
{
    const co_lane_entry *l;
    if (h->head == h->tail)
        return false;
    if (h->n == 0)
        return true;
    l = lane_at(h, h->head);
    return fires_before(l->deadline, l->timer->seq, h->a[0].deadline, h->a[0].seq);
}

int64_t co__heap_top_deadline(const co_heap *h)
{
    return lane_first(h) ? lane_at(h, h->head)->deadline : h->a[0].deadline;
}

co_timer *co__heap_pop_due(co_loop *loop, int64_t now)
{
    co_heap *h = &loop->timers;
    co_timer *t;
    if (lane_first(h)) {
        const co_lane_entry *l = lane_at(h, h->head);
        if (l->deadline > now)
            return NULL;
        t = l->timer;
        t->slot = 0;
        h->live--;
        h->head++;
        lane_skip(h);
    } else {
        if (h->n == 0 || h->a[0].deadline > now)
            return NULL;
        t = h->a[0].timer;
        heap_remove(h, 0);
    }
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
    h->a = NULL;
    h->lane = NULL;
    h->n = h->cap = h->lane_cap = h->head = h->tail = h->live = 0;
}
