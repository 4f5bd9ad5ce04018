/* A frame over 32 KiB cannot delegate: every link of a delegation tree is a
 * 16-bit offset.  The compile error names the limit, in both forms.
 * expect: co_frame_larger_than_32767_bytes_the_limit_of_16_bit_offsets */
#include <corio/gen.h>

typedef struct {
    co_gen gen;
} child;

typedef struct {
    co_gen gen;
    child kid;
    char buffer[40000];
} parent;

int parent_fn(co_gen *g);
int parent_fn(co_gen *g)
{
    parent *self = (parent *)g;
    CO_BEGIN(self);
    CO_AWAIT(self, kid);
    CO_END(self);
}
