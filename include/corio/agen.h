/*
 * corio/agen.h -- async generators (PEP 525): coroutines that both await
 * and yield, and the `async for` that consumes them from a task.
 *
 * An async generator is a generator frame (gen.h) whose body may use every
 * await of the runtime (sleeps, I/O, queues, other tasks) and also yields
 * values with gen.h's CO_YIELD.  Its consumer, a task body, drives it with
 * the four awaits of Python's protocol -- anext, asend, athrow, aclose --
 * each with CPython 3.11's semantics:
 *
 *     CO_ASYNC_GEN(ticks, int, int n; int i;)       async def ticks(n):
 *         for (self->i = 0; self->i < self->n; self->i++) {  for i in range(n):
 *             CO_SLEEP(self, 100);                          await asyncio.sleep(.1)
 *             CO_YIELD(self, self->i);                      yield i
 *         }
 *     CO_ASYNC_END
 *
 *     CO_ASYNC(main, ticks t; int v;)               async def main():
 *         CO_AGEN(self, t, ticks, .n = 5);
 *         CO_ASYNC_FOR(self, &self->t, &self->v) {      async for v in ticks(5):
 *             printf("%d\n", self->v);                      print(v)
 *         } CO_ASYNC_FOR_END;
 *     CO_ASYNC_END
 *
 * While an await of the consumer's is in progress the generator is running
 * (ag_running): another await on it is CO_ERUNNING.  One that finished stays
 * finished: anext and asend raise CO_ESTOPASYNC (StopAsyncIteration), athrow
 * and aclose return at once.  aclose throws CO_EXIT (GeneratorExit) in and
 * lets the cleanup run, awaits included; a cleanup that yields a value is
 * CO_EIGNOREDCLOSE (RuntimeError: async generator ignored GeneratorExit).
 * A cancellation of the consumer while the generator awaits is thrown in at
 * the generator's await, so its finally clauses run.
 *
 * Delegation: CO_YIELD_FROM(self, member) from one async generator to
 * another (a member of its frame, of the same value type) passes values out,
 * sends, throws and closes in, in O(1) per value at any depth -- Python's
 * `async for x in inner: yield x`, with asend/athrow forwarded as `yield
 * from` would (Python has no `yield from` in an async generator).
 *
 * Lifetime: a generator started by an await registers with the running loop
 * (asyncio's firstiter hook).  When co_run ends, after the leftover tasks
 * were cancelled, every generator still suspended is closed, each in a task
 * of its own, so its cleanup may await (loop.shutdown_asyncgens()).  One
 * that lives in a CO_NEW task's frame is closed when that task is freed,
 * as CPython closes one its last reference drops: there its cleanup runs
 * outside any task, and an await in it raises CO_ENOTASK -- close such a
 * generator with CO_ACLOSE when its cleanup awaits (contextlib.aclosing).
 * A generator elsewhere (static, caller storage, the heap) must outlive
 * the loop's run or be finished or closed before its memory goes.
 */
#ifndef CORIO_AGEN_H
#define CORIO_AGEN_H

#include <corio/sched.h>

#ifdef __cplusplus
extern "C" {
#endif

/* StopAsyncIteration: anext / asend of a finished async generator. */
#define CO_ESTOPASYNC (-1161)

/* An async generator's own state, right after its co_gen header.  Private:
 * the macros below fill it in.  Its size is a multiple of the strictest
 * alignment, so `out` sits at the same offset in every async generator and
 * `in` right after it, whatever their type. */
typedef struct co_agen {
    struct co_agen *next, *prev; /* the loop's list of started ones          */
    co_loop *loop;               /* the loop it is listed in, or NULL        */
    void *dst;                   /* where the await in progress puts a value */
    uint16_t size;               /* the value's size                         */
    int16_t stop;                /* aclose: offset to the frame closing now  */
    uint8_t op;                  /* the await in progress (0: none)          */
    uint8_t flags;               /* CO__AG_*                                 */
    struct co_agen *inner;       /* the await its body has in progress     */
    union {
        void *outer; /* the consumer task's scope (co_task.scope), or the
                        generator whose body awaits this one (CO__AG_NESTED) */
        long double co__ld;
        long long co__ll;
    } scope;
} co_agen;

/*
 * async def name(...) with a yield: one declaration for an async generator's
 * frame and body, as CO_ASYNC is for a coroutine.  `type` is what it yields
 * (`out`) and what asend delivers (`in`); the fields follow.  The body ends
 * with CO_ASYNC_END and yields with CO_YIELD / CO_YIELD_CATCH.
 */
#define CO_ASYNC_GEN(name, type, ...)                                                      \
    CO_ASYNC(name, co_agen ag; type out; type in; __VA_ARGS__)

/* self->member = name(...): a fresh async generator in a frame field, its
 * fields set by designated initializers; nothing runs.  CO_EBUSY is raised
 * if the field holds one still started and unfinished (close it first). */
#define CO_AGEN(self, member, name, ...)                                                   \
    do {                                                                                   \
        CO__CHECK(self, co__agen_reusable(&(self)->member.gen));                           \
        (self)->member = (name){.gen = {0}, __VA_ARGS__};                                  \
        CO_INIT(&(self)->member, name##_fn);                                               \
    } while (0)

/* *dst = await anext(agen): the next value, copied to *dst (dst points to
 * a field of the generator's `out` type).  A finished generator raises
 * CO_ESTOPASYNC; an error it raises is raised here.  The _CATCH forms raise
 * nothing: CO_THROWN(self) is then 0 or the error. */
#define CO_ANEXT(self, agen, dst) CO__AGEN_OP(self, agen, CO__AG_NEXT, 0, dst, false)
#define CO_ANEXT_CATCH(self, agen, dst) CO__AGEN_OP(self, agen, CO__AG_NEXT, 0, dst, true)

/* *dst = await agen.asend(*src): *src becomes the generator's `in` (its
 * CO_SENT is true); a just-started one refuses it with CO_ENOTSTARTED. */
#define CO_ASEND(self, agen, src, dst) CO__AGEN_SEND(self, agen, src, dst, false)
#define CO_ASEND_CATCH(self, agen, src, dst) CO__AGEN_SEND(self, agen, src, dst, true)

/* *dst = await agen.athrow(err): err (< 0) is raised at the generator's
 * yield; the value it yields next is the result.  One not started finishes
 * with err at once; a finished one returns at once (dst untouched). */
#define CO_ATHROW(self, agen, err, dst) CO__AGEN_OP(self, agen, CO__AG_THROW, err, dst, false)
#define CO_ATHROW_CATCH(self, agen, err, dst)                                              \
    CO__AGEN_OP(self, agen, CO__AG_THROW, err, dst, true)

/* await agen.aclose(): CO_EXIT is thrown in and the cleanup runs (it may
 * await); CO_EIGNOREDCLOSE if it yields a value instead of finishing. */
#define CO_ACLOSE(self, agen) CO__AGEN_WAIT(self, CO__AGEN_CLOSE(agen), false)
#define CO_ACLOSE_CATCH(self, agen) CO__AGEN_WAIT(self, CO__AGEN_CLOSE(agen), true)

/*
 * async for v in agen: ... -- the loop body between CO_ASYNC_FOR and
 * CO_ASYNC_FOR_END runs once per value, copied to *dst first; the loop ends
 * when the generator finishes.  An error it raises is raised here.  `break`
 * and `continue` work as in C (CO_BREAK from inside a CO_TRY); leaving the
 * loop leaves the generator suspended, as in Python.  Each step is a
 * CO_ANEXT, which evaluates agen and dst once, when it starts.
 */
#define CO_ASYNC_FOR(self, agen, dst)                                                      \
    for (;;) {                                                                             \
        CO_ANEXT_CATCH(self, agen, dst);                                                   \
        if (CO_THROWN(self) == CO_ESTOPASYNC)                                              \
            break;                                                                         \
        if (CO_THROWN(self))                                                               \
            CO_RAISE(self, CO_THROWN(self));                                               \
        {
#define CO_ASYNC_FOR_END                                                                   \
    }                                                                                      \
    }

/* ------------------------------------------------------------- internals */

enum { CO__AG_NEXT = 1, CO__AG_SEND, CO__AG_THROW, CO__AG_CLOSE };
enum {
    CO__AG_RUNNING = 0x01, /* an await on it is in progress (ag_running)     */
    CO__AG_CLOSED = 0x02,  /* aclose began, or it ended (ag_closed)          */
    CO__AG_SHUT = 0x04,    /* a shutdown finalizer has it                     */
    CO__AG_NESTED = 0x08   /* awaited from another generator's body           */
};

/* Starts an await on agen: <0 an error to raise, 1 done, 0 the task now
 * waits (suspend, then call co__agen_again with what was thrown at it).
 * `val` is what a send delivers, `dst` where a value goes, `size` their
 * size (the generator's `out`). */
CO_API int co__agen_start(co_gen *agen, int op, int err, const void *val, void *dst, size_t size);
CO_API int co__agen_again(int thrown);
/* 0, or CO_EBUSY when the frame holds a started, unfinished generator. */
CO_API int co__agen_reusable(co_gen *agen);

/* dst (and src) point to the generator's value type: sizeof evaluates
 * neither its operand nor agen there, so each argument is evaluated once. */
#define CO__AGEN_OP(self, agen, op, err, dst, caught)                                      \
    CO__AGEN_WAIT(self,                                                                    \
                  co__agen_start(&(agen)->gen, (op), (err), (const void *)0,               \
                                 ((void)sizeof(*(dst) = (agen)->out), (dst)),              \
                                 sizeof (agen)->out),                                      \
                  caught)
#define CO__AGEN_SEND(self, agen, src, dst, caught)                                        \
    CO__AGEN_WAIT(self,                                                                    \
                  co__agen_start(&(agen)->gen, CO__AG_SEND, 0,                             \
                                 ((void)sizeof((agen)->in = *(src)), (src)),               \
                                 ((void)sizeof(*(dst) = (agen)->out), (dst)),              \
                                 sizeof (agen)->out),                                      \
                  caught)
#define CO__AGEN_CLOSE(agen) co__agen_start(&(agen)->gen, CO__AG_CLOSE, 0, (void *)0, (void *)0, 0)

/* A cancellation thrown at the wait is the generator's to handle. */
#define CO__AGEN_WAIT(self, start, caught)                                                 \
    do {                                                                                   \
        int co__r = (start);                                                               \
        while (co__r == 0) {                                                               \
            CO__SUSPEND_TASK(self, true);                                                  \
            co__r = co__agen_again(CO_THROWN(self));                                       \
        }                                                                                  \
        CO__OUTCOME(self, co__r < 0 ? co__r : 0, caught);                                  \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif /* CORIO_AGEN_H */
