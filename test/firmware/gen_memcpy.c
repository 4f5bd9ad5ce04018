/*
 * gen_memcpy.c -- a stand-in memcpy for the demo, linked by scripts/firmware
 * only while include/corio/gen.h copies yielded and sent values with
 * __builtin_memcpy, which optimised code turns into a memcpy call wherever
 * the copy's size is not a constant (issue 11).  The scheduler's own objects
 * are never allowed it: scripts/firmware checks they ask for no memcpy.
 * Once gen.h has no __builtin_memcpy, the script stops linking this file
 * and any memcpy the demo needs fails the link.
 */
#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) {
        *d++ = *s++;
        __asm__ __volatile__("" ::: "memory"); /* not a call to itself */
    }
    return dst;
}
