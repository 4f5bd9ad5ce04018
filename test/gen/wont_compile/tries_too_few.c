/* Try statements nested deeper than the frame's `tries` array: the compile
 * error names the field to grow, in both forms.
 * expect: co_try_nesting_deeper_than_the_frame_s_tries_array */
#include <corio/gen.h>

typedef struct {
    co_gen gen;
    int out;
    int in;
    co_try tries[1];
} nested;

int nested_fn(co_gen *g);
int nested_fn(co_gen *g)
{
    nested *self = (nested *)g;
    CO_BEGIN(self);
    CO_TRY(self) {
        CO_TRY(self) {
            CO_YIELD(self, 1);
        } CO_EXCEPT_ANY(self) {
        } CO_TRY_END(self);
    } CO_EXCEPT_ANY(self) {
    } CO_TRY_END(self);
    CO_END(self);
}
