/*
 * pool.c -- where CO_NEW's task blocks come from: size classes 16 bytes
 * apart up to 1 KiB, carved from 64 KiB chunks of the loop's allocator, a
 * free list per class.  A task block then costs its size rounded up to 16
 * bytes -- no allocator header, no search -- and allocating or freeing one
 * is a pointer swap.  Chunks go back to the allocator when the loop is
 * freed; a block larger than the largest class goes to the allocator itself.
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

/* A block is free: nothing may touch it but the pool. */
static void poison(void *b, size_t n)
{
#ifdef CO__ASAN
    ASAN_POISON_MEMORY_REGION(b, n);
#endif
#ifdef CO__VALGRIND
    VALGRIND_MAKE_MEM_NOACCESS(b, n);
#endif
    (void)b;
    (void)n;
}

/* The pool reads a free block's link, or hands the block out (undefined
 * contents, as from malloc). */
static void unpoison(void *b, size_t n)
{
#ifdef CO__ASAN
    ASAN_UNPOISON_MEMORY_REGION(b, n);
#endif
#ifdef CO__VALGRIND
    VALGRIND_MAKE_MEM_UNDEFINED(b, n);
#endif
    (void)b;
    (void)n;
}

#define GRAIN 16
#define CHUNK (64 * 1024)

/* A chunk's header; its blocks follow, GRAIN-aligned. */
typedef struct chunk {
    struct chunk *next;
    size_t size;
} chunk;

static size_t class_of(size_t size) { return (size + GRAIN - 1) / GRAIN - 1; }

void *co__pool_alloc(co_loop *loop, size_t size)
{
    co_pool *p = &loop->pool;
    size_t c = class_of(size), block = (c + 1) * GRAIN;
    void *b;
    if (c >= CO__POOL_CLASSES)
        return co__alloc(loop, size);
    if ((b = p->free[c]) != NULL) {
        unpoison(b, block);
#ifdef CO__VALGRIND
        VALGRIND_MAKE_MEM_DEFINED(b, sizeof(void *)); /* the link the pool wrote */
#endif
        p->free[c] = *(void **)b;
        return b;
    }
    if (p->end[c] - p->bump[c] < (ptrdiff_t)block) {
        chunk *ch = co__alloc(loop, CHUNK);
        if (ch == NULL)
            return NULL;
        ch->next = p->chunks;
        ch->size = CHUNK;
        p->chunks = ch;
        p->bump[c] = (char *)ch + ((sizeof *ch + GRAIN - 1) / GRAIN) * GRAIN;
        p->end[c] = (char *)ch + CHUNK;
    }
    b = p->bump[c];
    p->bump[c] += block;
    return b;
}

void co__pool_free(co_loop *loop, void *b, size_t size)
{
    co_pool *p = &loop->pool;
    size_t c = class_of(size);
    if (b == NULL)
        return;
    if (c >= CO__POOL_CLASSES) {
        co__free(loop, b, size);
        return;
    }
    *(void **)b = p->free[c];
    p->free[c] = b;
    poison(b, (c + 1) * GRAIN);
}

void co__pool_fini(co_loop *loop)
{
    co_pool *p = &loop->pool;
    while (p->chunks) {
        chunk *next = p->chunks->next;
        unpoison(p->chunks, p->chunks->size); /* the allocator hook may touch it */
        co__free(loop, p->chunks, p->chunks->size);
        p->chunks = next;
    }
    for (size_t c = 0; c < CO__POOL_CLASSES; c++)
        p->free[c] = p->bump[c] = p->end[c] = NULL;
}
