/*
 * pool.c -- where CO_NEW's task blocks come from: size classes
 * CO_POOL_GRAIN bytes apart up to CO_POOL_MAX, carved one after the other
 * from chunks of the loop's allocator, a free list per class.  A task
 * block then costs its size rounded up to the grain -- no allocator
 * header, no search -- and allocating or freeing one is a pointer swap.
 * The geometry is set in pool.h: on a hosted build the chunks are
 * 64 KiB until the pool holds 2 MiB, then grow with it up to 32 MiB, so a
 * million tasks live mostly in a few large blocks (which the default
 * allocator backs with huge pages: alloc.c); a bare build's stay 1 KiB (256
 * bytes on a 16-bit target), so CO_NEW works in a few KiB of RAM.
 *
 * Nothing is allocated before the first block: the free lists' table comes
 * with it.  Chunks go back to the allocator when the loop is freed; a block
 * larger than CO_POOL_MAX goes to the allocator itself.  Every size here is
 * a size_t: on a 16-bit target an int holds no chunk size.
 *
 * A released block is reused by the next CO_NEW of its class, so a stale
 * pointer to a freed task would read the new task's data unnoticed: under
 * ASan a free block is poisoned (all of it, its free-list link included,
 * which the pool unpoisons only to follow it), and under valgrind it is
 * marked no-access, so both report a read through a stale pointer.
 */
#include "loop.h"

#if defined(__SANITIZE_ADDRESS__)
#define CO__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CO__ASAN 1
#endif
#endif
#ifdef CO__ASAN
#include <sanitizer/asan_interface.h>
#endif
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define CO__VALGRIND 1
#endif
#endif

/* A valgrind client request costs some ten instructions even outside
 * valgrind, at every CO_NEW and release: whether the process runs under
 * memcheck is asked once, with the pool's first block (p->checked).  Only
 * memcheck tracks addressability: under callgrind or cachegrind (whose
 * counts bench/breakdown.sh reports) the requests would be counted as the
 * pool's work while doing nothing, so there they are not made.  Memcheck
 * answers a request it handled with -1; other tools leave the default 0. */

#ifdef CO__VALGRIND
/* What memcheck is told of a block's bytes.  Out of line: a client
 * request's argument block on the stack would give co__pool_alloc a frame
 * and saved registers at every call, under valgrind or not. */
enum { NOACCESS, UNDEFINED, DEFINED };
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
static void memcheck_mark(const void *b, size_t n, int how)
{
    if (how == NOACCESS)
        VALGRIND_MAKE_MEM_NOACCESS(b, n);
    else if (how == UNDEFINED)
        VALGRIND_MAKE_MEM_UNDEFINED(b, n);
    else
        VALGRIND_MAKE_MEM_DEFINED(b, n);
}
#endif

/* A block is free: nothing may touch it but the pool. */
static void poison(const co_pool *p, void *b, size_t n)
{
#ifdef CO__ASAN
    ASAN_POISON_MEMORY_REGION(b, n);
#endif
#ifdef CO__VALGRIND
    if (p->checked)
        memcheck_mark(b, n, NOACCESS);
#endif
    (void)p;
    (void)b;
    (void)n;
}

/* The pool reads a free block's link, or hands the block out (undefined
 * contents, as from malloc). */
static void unpoison(const co_pool *p, void *b, size_t n)
{
#ifdef CO__ASAN
    ASAN_UNPOISON_MEMORY_REGION(b, n);
#endif
#ifdef CO__VALGRIND
    if (p->checked)
        memcheck_mark(b, n, UNDEFINED);
#endif
    (void)p;
    (void)b;
    (void)n;
}

#define GRAIN ((size_t)CO_POOL_GRAIN)
_Static_assert(CO_POOL_GRAIN % _Alignof(co_task) == 0,
               "CO_POOL_GRAIN must be a multiple of a task's alignment");
#define CHUNK ((size_t)CO_POOL_CHUNK)

/* A chunk's header; its blocks follow, GRAIN-aligned. */
typedef struct chunk {
    struct chunk *next;
    size_t size; /* in bytes, the header included */
} chunk;

#define HEADER (((sizeof(chunk) + GRAIN - 1) / GRAIN) * GRAIN)

static size_t class_of(size_t size) { return (size - 1) / GRAIN; }

/* Out of line where the compiler allows: code that runs once (and asks
 * valgrind questions, whose argument blocks live on the stack) kept off the
 * path of every block.  Not on a bare build, which counts flash bytes. */
#if !CO_BARE && (defined(__GNUC__) || defined(__clang__))
#define COLD __attribute__((noinline, cold))
#else
#define COLD
#endif

/* The free lists, all empty, made with the first block. */
static COLD int make_table(co_loop *loop)
{
    co_pool *p = &loop->pool;
    p->free = co__alloc(loop, CO__POOL_CLASSES * sizeof *p->free);
    if (p->free == NULL)
        return CO_ENOMEM;
    co__zero(p->free, CO__POOL_CLASSES * sizeof *p->free);
#ifdef CO__VALGRIND
    p->checked = RUNNING_ON_VALGRIND != 0 &&
                 VALGRIND_MAKE_MEM_DEFINED(p->free, CO__POOL_CLASSES * sizeof *p->free) != 0;
#endif
    return 0;
}

/* The next chunk's size: CO_POOL_CHUNK while the pool holds less than 2
 * MiB, so a program of a few thousand tasks holds what it did; then as
 * much as the pool holds already, up to CO_POOL_CHUNK_MAX (2, 4, 8, 16, 32,
 * 32... MiB), so a big pool is a few large blocks, each a whole number of
 * huge pages (co__alloc_spans), and at most half of it is ahead of its
 * use. */
#if CO__POOL_GROWS
#define GROW_FROM CO__HUGE_SPAN

static size_t next_chunk_size(const co_pool *p)
{
    size_t size = p->held < GROW_FROM ? CHUNK : p->held;
    return size < (size_t)CO_POOL_CHUNK_MAX ? size : (size_t)CO_POOL_CHUNK_MAX;
}

static void *alloc_chunk(co_loop *loop, size_t size)
{
    return size < CO__HUGE_SPAN ? co__alloc(loop, size) : co__alloc_spans(loop, size);
}
#define COUNT_CHUNK(p, size) ((p)->held += (size))
#define FORGET_CHUNKS(p) ((p)->held = 0)
#else
static size_t next_chunk_size(const co_pool *p)
{
    (void)p;
    return CHUNK;
}

static void *alloc_chunk(co_loop *loop, size_t size) { return co__alloc(loop, size); }
#define COUNT_CHUNK(p, size) ((void)0)
#define FORGET_CHUNKS(p) ((void)0)
#endif

/* A fresh chunk; what was left of the last one becomes a free block. */
static int new_chunk(co_loop *loop)
{
    co_pool *p = &loop->pool;
    size_t left = (size_t)(p->end - p->bump);
    size_t size = next_chunk_size(p);
    chunk *ch = alloc_chunk(loop, size);
    if (ch == NULL)
        return CO_ENOMEM;
    if (left >= GRAIN) {
        void **b = (void **)(void *)p->bump;
        *b = p->free[class_of(left)];
        p->free[class_of(left)] = b;
    }
    ch->next = p->chunks;
    ch->size = size;
    COUNT_CHUNK(p, size);
    p->chunks = ch;
    p->bump = (char *)ch + HEADER;
    p->end = (char *)ch + size;
    return 0;
}

/* The pool's first block (the free lists are made), or one the newest
 * chunk has no room for (a chunk is added): the common path, again. */
static COLD void *first_block(co_loop *loop, size_t size)
{
    return make_table(loop) < 0 ? NULL : co__pool_alloc(loop, size);
}

static COLD void *from_new_chunk(co_loop *loop, size_t size)
{
    return new_chunk(loop) < 0 ? NULL : co__pool_alloc(loop, size);
}

void *co__pool_alloc(co_loop *loop, size_t size)
{
    co_pool *p = &loop->pool;
    size_t c, block;
    void *b;
    if (size == 0 || size > CO_POOL_MAX)
        return co__alloc(loop, size);
    if (p->free == NULL)
        return first_block(loop, size);
    c = class_of(size);
    block = (c + 1) * GRAIN;
    if ((b = p->free[c]) != NULL) {
        unpoison(p, b, block);
#ifdef CO__VALGRIND
        if (p->checked)
            memcheck_mark(b, sizeof(void *), DEFINED); /* the link the pool wrote */
#endif
        p->free[c] = *(void **)b;
        return b;
    }
    if ((size_t)(p->end - p->bump) < block)
        return from_new_chunk(loop, size); /* what it leaves is of a smaller class */
    b = p->bump;
    p->bump += block;
    return b;
}

void co__pool_free(co_loop *loop, void *b, size_t size)
{
    co_pool *p = &loop->pool;
    size_t c;
    if (b == NULL)
        return;
    if (size == 0 || size > CO_POOL_MAX) {
        co__free(loop, b, size);
        return;
    }
    c = class_of(size);
    *(void **)b = p->free[c];
    p->free[c] = b;
    poison(p, b, (c + 1) * GRAIN);
}

void co__pool_fini(co_loop *loop)
{
    co_pool *p = &loop->pool;
    while (p->chunks) {
        chunk *next = p->chunks->next;
        size_t size = p->chunks->size;
        unpoison(p, p->chunks, size); /* the allocator hook may touch it */
        co__free(loop, p->chunks, size);
        p->chunks = next;
    }
    co__free(loop, p->free, CO__POOL_CLASSES * sizeof *p->free);
    p->free = NULL;
    p->bump = p->end = NULL;
    FORGET_CHUNKS(p);
}
