/*
 * pool_chunks.c -- the sizes of the chunks CO_NEW's pool asks its
 * allocator for (src/sched/pool.c): on a hosted build 64 KiB until the pool
 * holds 2 MiB, then as much as it holds, up to 32 MiB; on a bare one (the
 * 16-bit geometry of test-runtime-small) always 256 bytes.  Every chunk
 * goes back at its size.  And on Linux, the default allocator's chunks of
 * 2 MiB and more are advised for huge pages while the small ones and an
 * allocator hook's are left alone (src/sched/alloc.c), as /proc/self/smaps
 * shows in a mapping's VmFlags.
 */
#include "testloop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(pool_chunks, .init = rt_reset);

#ifdef RT_SMALL
#define FRAME 40 /* a block of the 16-bit geometry's classes (<= 128 bytes) */
#define FIRST_CHUNK 256
#else
#define FRAME 900 /* with the header, a block of the largest class (1 KiB) */
#define FIRST_CHUNK 65536
#endif

CO_ASYNC(fat, unsigned char bytes[FRAME];)
    self->bytes[0] = 1;
CO_ASYNC_END

/* An allocator that logs the size of every block of a power of two from
 * the first chunk's size (the chunks; the registry grows through realloc,
 * which is not logged; nothing else the loop allocates is so sized) and
 * checks that each goes back at its size.  Its state is global: the hooks'
 * ctx is the fake clock's. */
typedef struct {
    size_t sizes[128], n;
    size_t live, bad_frees;
} chunk_log;

static chunk_log chunks;

static void *log_alloc(void *ctx, size_t size)
{
    chunk_log *l = &chunks;
    (void)ctx;
    size_t *p = malloc(size + 16);
    if (p == NULL)
        return NULL;
    if (size >= FIRST_CHUNK && (size & (size - 1)) == 0 && l->n < 128)
        l->sizes[l->n++] = size;
    p[0] = size;
    l->live += size;
    return (char *)p + 16;
}

static void *log_realloc(void *ctx, void *old, size_t old_size, size_t size)
{
    chunk_log *l = &chunks;
    (void)ctx;
    size_t *p = old ? (size_t *)(void *)((char *)old - 16) : NULL;
    if (p && p[0] != old_size)
        l->bad_frees++;
    p = realloc(p, size + 16);
    if (p == NULL)
        return NULL;
    p[0] = size;
    l->live += size - old_size;
    return (char *)p + 16;
}

static void log_free(void *ctx, void *block, size_t size)
{
    chunk_log *l = &chunks;
    (void)ctx;
    size_t *p = (size_t *)(void *)((char *)block - 16);
    if (p[0] != size)
        l->bad_frees++;
    l->live -= p[0];
    free(p);
}

static co_loop *logged_loop(void)
{
    co_loop_options opt = rt_options();
    co_loop *loop = NULL;
    opt.hooks.alloc = log_alloc;
    opt.hooks.realloc = log_realloc;
    opt.hooks.free = log_free;
    cr_assert_eq(co_loop_new(&loop, &opt), 0);
    return loop;
}

/* n never-spawned tasks: co_loop_free frees them with the pool. */
static void make_tasks(co_loop *loop, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cr_assert_not_null(CO_NEW(loop, fat, fat_fn), "task %zu", i);
}

#ifdef RT_SMALL
Test(pool_chunks, a_bare_pool_keeps_its_chunk_size)
{
    chunk_log *l = &chunks;
    co_loop *loop = logged_loop();
    make_tasks(loop, 200);
    cr_assert_gt(l->n, 10, "200 tasks take many 256-byte chunks");
    for (size_t i = 0; i < l->n; i++)
        cr_expect_eq(l->sizes[i], 256, "chunk %zu: %zu bytes", i, l->sizes[i]);
    co_loop_free(loop);
    cr_expect_eq(l->live, 0);
    cr_expect_eq(l->bad_frees, 0);
}
#else
Test(pool_chunks, chunks_grow_with_the_pool_from_2_MiB_up_to_32_MiB)
{
    chunk_log *l = &chunks;
    co_loop *loop = logged_loop();
    /* 70,000 one-KiB blocks: 32 chunks of 64 KiB (2 MiB), then 2, 4, 8, 16
       and 32 MiB (64 MiB in all), then another 32 */
    make_tasks(loop, 70000);
    cr_assert_eq(l->n, 38, "%zu chunks", l->n);
    for (size_t i = 0; i < 32; i++)
        cr_expect_eq(l->sizes[i], 65536, "chunk %zu: %zu bytes", i, l->sizes[i]);
    for (size_t i = 32; i < 37; i++)
        cr_expect_eq(l->sizes[i], (size_t)2 << (20 + i - 32), "chunk %zu: %zu bytes", i, l->sizes[i]);
    cr_expect_eq(l->sizes[37], (size_t)32 << 20, "capped: %zu bytes", l->sizes[37]);
    co_loop_free(loop);
    cr_expect_eq(l->live, 0, "every chunk went back");
    cr_expect_eq(l->bad_frees, 0, "each at its size");
}

/* Not in test-runtime-bare, which compiles the scheduler as a port would,
 * without _GNU_SOURCE: there <sys/mman.h> declares no MADV_HUGEPAGE, and
 * nothing is advised. */
#if defined(__linux__) && !defined(RT_BARE)
/* The mappings of /proc/self/smaps, and which are advised for huge pages
 * ("hg" in their VmFlags), read once. */
typedef struct {
    uintptr_t from, to;
    bool hg;
} mapping;

static mapping maps[4096];
static size_t nmaps;

static void read_maps(void)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    unsigned long from, to;
    char c;
    nmaps = 0;
    cr_assert_not_null(f);
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%lx-%lx%c", &from, &to, &c) == 3 && c == ' ' && nmaps < 4096)
            maps[nmaps++] = (mapping){from, to, false};
        else if (nmaps && strncmp(line, "VmFlags:", 8) == 0)
            maps[nmaps - 1].hg = strstr(line, " hg") != NULL;
    }
    fclose(f);
}

static bool advised(const void *p)
{
    for (size_t i = 0; i < nmaps; i++)
        if ((uintptr_t)p >= maps[i].from && (uintptr_t)p < maps[i].to)
            return maps[i].hg;
    return false;
}

static bool kernel_has_thp(void)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (f)
        fclose(f);
    return f != NULL;
}

/* 8,000 one-KiB tasks: past 32 chunks of 64 KiB (2,016 tasks), chunks of
 * 2 and 4 MiB, aligned to 2 MiB and advised whole. */
#define MANY 8000

Test(pool_chunks, the_default_allocator_asks_for_huge_pages_for_large_blocks_only)
{
    static void *task[MANY];
    co_loop *loop = NULL;
    size_t first_huge = 0;
    if (!kernel_has_thp())
        cr_skip_test("this kernel has no transparent huge pages to ask for");
    co_loop_options opt = rt_options();
    opt.hooks.alloc = NULL; /* the default allocator: malloc */
    opt.hooks.free = NULL;
    cr_assert_eq(co_loop_new(&loop, &opt), 0);
    for (size_t i = 0; i < MANY; i++)
        cr_assert_not_null(task[i] = CO_NEW(loop, fat, fat_fn));
    read_maps();
    /* the small chunks (2 MiB: at most 2 MiB / sizeof(fat) tasks) are not
       advised; every task past them is */
    while (first_huge < MANY && !advised(task[first_huge]))
        first_huge++;
    cr_expect_gt(first_huge, 1000, "the 64 KiB chunks are not advised (task %zu is)", first_huge);
    cr_expect_leq(first_huge, ((size_t)2 << 20) / sizeof(fat), "task %zu is the first advised", first_huge);
    for (size_t i = first_huge; i < MANY; i++)
        cr_assert(advised(task[i]), "task %zu, past the small chunks, is not advised", i);
    co_loop_free(loop);
}

Test(pool_chunks, an_allocator_hooks_blocks_are_its_own)
{
    static void *task[MANY];
    co_loop *loop;
    if (!kernel_has_thp())
        cr_skip_test("this kernel has no transparent huge pages to ask for");
    loop = logged_loop();
    for (size_t i = 0; i < MANY; i++)
        cr_assert_not_null(task[i] = CO_NEW(loop, fat, fat_fn));
    read_maps();
    for (size_t i = 0; i < MANY; i++)
        cr_assert_not(advised(task[i]), "task %zu is in an advised mapping", i);
    co_loop_free(loop);
}
#endif
#endif
