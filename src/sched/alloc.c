/*
 * alloc.c -- the loop's memory: every block the scheduler and the reactor
 * allocate goes through the loop's allocator hook, or malloc without one
 * (a bare build has no malloc: there co_loop_new insists on the hooks).
 * And the two byte loops the scheduler zeroes and copies with.
 *
 * This is the bottom of the scheduler: the timer heap, the task pool and
 * the registry all allocate here, and it calls nothing of theirs.
 */
#include "loop.h"

#if !CO_BARE
#include <stdlib.h>
#include <string.h>
#endif
#if !CO_BARE && defined(__linux__)
#include <sys/mman.h>
#endif

/*
 * The default allocator's large blocks (the big pool chunks, the timer
 * lane and the registry of a loop with many tasks) are backed by huge
 * pages where the kernel does transparent huge pages on request (madvise
 * mode, the common default).  Why: a first touch of a 4 KiB page costs
 * about as much as a task's whole life (1.5-2 us on a VM here), so at a
 * million tasks the page faults were a third of the CPU; one fault per 2
 * MiB is a tenth of that.  Only whole 2 MiB spans inside a block are
 * advised, so a block under 4 MiB is left alone unless it is a pool chunk
 * of 2 MiB or more (co__alloc_spans: aligned to a span, and all advised),
 * and so is a program with a few thousand tasks; the price is RSS rounded
 * up to 2 MiB in the spans a block has begun to use.  An allocator hook
 * opts out: its memory is its own.  The advice is a hint: a kernel that
 * refuses it changes nothing.
 */
#if !CO_BARE && defined(__linux__) && defined(MADV_HUGEPAGE)
#define SPANS 1

static void *with_huge_pages(void *p, size_t size)
{
    uintptr_t span = CO__HUGE_SPAN;
    uintptr_t from = ((uintptr_t)p + span - 1) & ~(span - 1);
    uintptr_t to = ((uintptr_t)p + size) & ~(span - 1);
    if (p != NULL && to > from)
        (void)madvise((void *)from, to - from, MADV_HUGEPAGE);
    return p;
}
#elif !CO_BARE
#define SPANS 0

static void *with_huge_pages(void *p, size_t size)
{
    (void)size;
    return p;
}
#endif

void *co__alloc(co_loop *loop, size_t size)
{
    if (loop->hooks.alloc)
        return loop->hooks.alloc(loop->hooks.ctx, size);
#if CO_BARE
    return NULL;
#else
    return with_huge_pages(malloc(size), size);
#endif
}

#if !CO_BARE
void *co__alloc_spans(co_loop *loop, size_t size)
{
#if SPANS
    if (loop->hooks.alloc == NULL && size % CO__HUGE_SPAN == 0)
        return with_huge_pages(aligned_alloc(CO__HUGE_SPAN, size), size);
#endif
    return co__alloc(loop, size);
}
#endif

void *co__realloc(co_loop *loop, void *p, size_t old, size_t size)
{
    void *q;
    if (loop->hooks.realloc)
        return loop->hooks.realloc(loop->hooks.ctx, p, old, size);
#if !CO_BARE
    if (loop->hooks.alloc == NULL && loop->hooks.free == NULL)
        return with_huge_pages(realloc(p, size), size); /* glibc remaps large blocks */
#endif
    q = co__alloc(loop, size);
    if (q == NULL)
        return NULL;
    if (p) {
        co__bytecopy(q, p, old < size ? old : size);
        co__free(loop, p, old);
    }
    return q;
}

void co__free(co_loop *loop, void *p, size_t size)
{
    if (p == NULL)
        return;
    if (loop->hooks.free)
        loop->hooks.free(loop->hooks.ctx, p, size);
#if !CO_BARE
    else
        free(p);
#endif
}

/*
 * GCC and clang turn a byte loop into a memset or memcpy call at -O2, even
 * with -ffreestanding; a bare build has neither.  An empty asm statement in
 * the loop's body keeps it a loop.  A hosted build calls the library.
 */
#if CO_BARE && (defined(__GNUC__) || defined(__clang__))
#define KEEP_A_LOOP() __asm__ __volatile__("" ::: "memory")
#else
#define KEEP_A_LOOP() ((void)0)
#endif

#if CO_BARE /* a hosted build's co__zero is inline (loop.h) */
void co__zero(void *p, size_t n)
{
    unsigned char *b = p;
    while (n--) {
        *b++ = 0;
        KEEP_A_LOOP();
    }
}
#endif

void co__bytecopy(void *dst, const void *src, size_t n)
{
#if CO_BARE
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) {
        *d++ = *s++;
        KEEP_A_LOOP();
    }
#else
    if (n)
        memcpy(dst, src, n);
#endif
}

void co__bytemove(void *dst, const void *src, size_t n)
{
#if CO_BARE
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        co__bytecopy(dst, src, n);
        return;
    }
    while (n--) {
        d[n] = s[n];
        KEEP_A_LOOP();
    }
#else
    if (n)
        memmove(dst, src, n);
#endif
}
