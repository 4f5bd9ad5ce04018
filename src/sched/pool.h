/*
 * pool.h -- the task pool's geometry and state (pool.c): the size classes
 * CO_NEW's blocks come from and the chunks they are carved from.  Part of
 * loop.h, which includes it after the build's settings (CO_BARE, the
 * attributes); nothing else includes it.
 */
#ifndef CORIO_POOL_H
#define CORIO_POOL_H

/*
 * The pool's geometry, in bytes; each may be set with -D.  Blocks are
 * CO_POOL_GRAIN apart up to CO_POOL_MAX (larger ones go to the allocator),
 * carved from chunks of CO_POOL_CHUNK (growing to CO_POOL_CHUNK_MAX, below).
 * A hosted build favours speed (64 KiB chunks to begin with); a bare one
 * fits a small RAM (1 KiB chunks on 32-bit, 256 bytes where size_t is 16
 * bits, as on AVR).  The grain is a multiple of a
 * task's alignment (pool.c checks): 8 bytes serve a 32-bit target.
 */
#ifndef CO_POOL_GRAIN
#if CO_BARE && UINTPTR_MAX <= 0xFFFFFFFFu
#define CO_POOL_GRAIN 8
#else
#define CO_POOL_GRAIN 16
#endif
#endif
#if SIZE_MAX <= 0xFFFF
#define CO__POOL_SMALL 1 /* a 16-bit size_t */
#else
#define CO__POOL_SMALL 0
#endif
#ifndef CO_POOL_MAX
#if CO__POOL_SMALL
#define CO_POOL_MAX 128
#elif CO_BARE
#define CO_POOL_MAX 256
#else
#define CO_POOL_MAX 1024
#endif
#endif
#ifndef CO_POOL_CHUNK
#if CO__POOL_SMALL
#define CO_POOL_CHUNK 256
#elif CO_BARE
#define CO_POOL_CHUNK 1024
#else
#define CO_POOL_CHUNK 65536
#endif
#endif
/* A hosted pool's chunks grow, once it holds 2 MiB, with what it holds up
 * to this: a million tasks live mostly in large blocks, which the default
 * allocator backs with huge pages (alloc.c).  A bare pool's chunks stay
 * CO_POOL_CHUNK. */
#ifndef CO_POOL_CHUNK_MAX
#if CO_BARE
#define CO_POOL_CHUNK_MAX CO_POOL_CHUNK
#else
#define CO_POOL_CHUNK_MAX (32 * 1024 * 1024)
#endif
#endif
#define CO__POOL_GROWS (CO_POOL_CHUNK_MAX > CO_POOL_CHUNK)
#if CO_POOL_CHUNK > SIZE_MAX || CO_POOL_MAX % CO_POOL_GRAIN || CO_POOL_CHUNK % CO_POOL_GRAIN || \
    CO_POOL_MAX + 32 > CO_POOL_CHUNK || CO_POOL_CHUNK_MAX < CO_POOL_CHUNK || CO_POOL_CHUNK_MAX > SIZE_MAX
#error "CO_POOL_CHUNK must fit size_t and hold a CO_POOL_MAX block, both multiples of CO_POOL_GRAIN, and CO_POOL_CHUNK_MAX be no less"
#endif
#define CO__POOL_CLASSES (CO_POOL_MAX / CO_POOL_GRAIN)

typedef struct co_pool {
    void **free;         /* a free list per size class, linked through the
                            blocks' first word; allocated with the first block */
    char *bump, *end;    /* what is left of the newest chunk                 */
    struct chunk *chunks;
#if CO__POOL_GROWS
    size_t held;         /* the chunks' bytes, all told                      */
#endif
    bool checked;        /* under valgrind: free blocks are marked no-access */
} co_pool;

void *co__pool_alloc(struct co_loop *loop, size_t size);
void co__pool_free(struct co_loop *loop, void *block, size_t size);
void co__pool_fini(struct co_loop *loop);

#endif
