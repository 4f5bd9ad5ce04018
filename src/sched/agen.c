/*
 * agen.c -- async generators (corio/agen.h): the four awaits of PEP 525's
 * protocol (anext, asend, athrow, aclose), the loop's list of generators
 * that have started, and their finalization when their memory goes or
 * when co_run ends (asyncio's shutdown_asyncgens).
 *
 * An await on a generator drives its frame from inside the consumer's
 * task, as gen.h drives any generator.  What comes back is told apart by
 * the task: a generator that suspended at one of the runtime's awaits has
 * registered the consumer task somewhere (its `wait` is set), so the
 * consumer suspends too and resumes the generator when woken; one that
 * suspended with the task free yielded a value.  The await in progress is
 * pushed on the task's scope (co_task.scope), so resuming it reads nothing
 * the caller evaluated.
 *
 * aclose with delegates closes them innermost first, one at a time, each
 * with its own cleanup free to await: gen.h's co_close cannot, as it must
 * finish without suspending.  co_run and the task core reach this file
 * only through loop->agen_ops, set when the first generator starts.
 */
#include "loop.h"

#include <corio/agen.h>

/* `out` of every async generator sits here, `in` right after it. */
#define OUT_OFF offsetof(struct { co_gen g; co_agen a; char o; }, o)
#define AGEN_OFF offsetof(struct { co_gen g; co_agen a; }, a)

static co_gen *gen_of(co_agen *a) { return (co_gen *)(void *)((char *)a - AGEN_OFF); }
static co_agen *agen_of(co_gen *g) { return (co_agen *)(void *)((char *)g + AGEN_OFF); }

/* ------------------------------------------------------------ the list */

static bool listed(const co_loop *loop, const co_agen *a)
{
    return loop && a->loop == loop && (a->prev ? a->prev->next == a : loop->agens == a);
}

static void unlist(co_agen *a)
{
    co_loop *loop = a->loop;
    if (!listed(loop, a))
        return;
    if (a->prev)
        a->prev->next = a->next;
    else
        loop->agens = a->next;
    if (a->next)
        a->next->prev = a->prev;
    a->next = a->prev = NULL;
    a->loop = NULL;
}

static const co__agen_ops agen_ops;

/* asyncio's firstiter hook: the loop will finalize it. */
static void enlist(co_loop *loop, co_agen *a)
{
    if (listed(loop, a))
        return;
    a->loop = loop;
    a->prev = NULL;
    a->next = loop->agens;
    if (a->next)
        a->next->prev = a;
    loop->agens = a;
    loop->agen_ops = &agen_ops;
}

int co__agen_reusable(co_gen *agen)
{
    co_agen *a = agen_of(agen);
    if (!listed(co__loop(), a))
        return 0;
    if (co__st(agen) != CO_CLOSED)
        return CO_EBUSY;
    unlist(a);
    return 0;
}

/* -------------------------------------------------------------- driving */

/* The frame the await in progress runs until: the generator, or while
 * aclose works through its delegates, the one closing now. */
static co_gen *stop_of(co_gen *g, const co_agen *a) { return CO__AT(g, a->stop); }

/* While a's generator runs, an await in its body nests inside a's. */
static int drive(co_gen *g, co_agen *a, int in)
{
    co_loop *loop = co__loop();
    co_agen *outer = loop->agen_driving;
    int st;
    loop->agen_driving = a;
    st = co__drive(g, co__leaf(g), in, stop_of(g, a));
    loop->agen_driving = outer;
    return st;
}

/* The await in progress is found again from where it started: the task's
 * scope for one its consumer's own body started, else the generator whose
 * body did (the consumer resumes the outermost first, which resumes the
 * next, so each finds its own). */
static void open_await(co_loop *loop, co_agen *a)
{
    co_agen *outer = loop->agen_driving;
    if (outer) {
        a->flags |= CO__AG_NESTED;
        a->scope.outer = outer;
        outer->inner = a;
    } else {
        a->flags &= (uint8_t)~CO__AG_NESTED;
        co__scope_push(loop->current, a, &a->scope.outer);
    }
}

static void close_await(co_loop *loop, co_agen *a)
{
    if (a->flags & CO__AG_NESTED)
        ((co_agen *)a->scope.outer)->inner = NULL;
    else
        loop->current->scope.top = a->scope.outer;
    a->flags &= (uint8_t)~CO__AG_NESTED;
}

static co_agen *await_of(co_loop *loop)
{
    co_agen *outer = loop->agen_driving;
    return outer ? outer->inner : loop->current->scope.top;
}

/* The delegate `stop` is done closing: unlinked, its parent closes next. */
static void up(co_gen *g, co_agen *a, co_gen *stop)
{
    co_gen *p = co__parent(g, stop);
    co__detach(g, p, stop);
    a->stop = CO__OFFSET(g, p);
}

/* The await is over with r: the generator is no longer running. */
static int end(co_loop *loop, co_gen *g, co_agen *a, int r)
{
    a->flags &= (uint8_t)~CO__AG_RUNNING;
    a->op = 0;
    a->stop = 0;
    close_await(loop, a);
    if (co__st(g) == CO_CLOSED)
        unlist(a);
    return r;
}

/* What the await gives when the generator finished with st. */
static int outcome(co_gen *g, co_agen *a, int st)
{
    if (st == CO_ESTOPASYNC) /* "async generator raised StopAsyncIteration" */
        st = g->err = CO_ESTOPITERATION;
    a->flags |= CO__AG_CLOSED;
    if (a->op == CO__AG_CLOSE)
        return st == 0 || st == CO_EXIT ? 1 : st;
    return st == 0 ? CO_ESTOPASYNC : st;
}

/* Carries the await on from a drive that returned st: 0 while the task
 * waits, else what the await gives. */
static int settle(co_loop *loop, co_gen *g, co_agen *a, int st)
{
    for (;;) {
        co_gen *stop = stop_of(g, a);
        if (st == CO_YIELDED) {
            if (loop->current->wait != CO__W_NONE)
                return 0; /* it awaits: so does its consumer */
            if (stop != g) { /* a delegate yielded instead of closing */
                up(g, a, stop);
                st = drive(g, a, CO_EIGNOREDCLOSE);
                continue;
            }
            if (a->op == CO__AG_CLOSE)
                return end(loop, g, a, CO_EIGNOREDCLOSE);
            co__copy(a->dst, (char *)g + OUT_OFF, a->size);
            return end(loop, g, a, 1);
        }
        if (co__st(stop) != CO_CLOSED) /* refused before running (a send) */
            return end(loop, g, a, st);
        if (stop != g) { /* closed: GeneratorExit, or its error, goes on above */
            up(g, a, stop);
            st = drive(g, a, st < 0 && st != CO_EXIT ? st : CO_EXIT);
            continue;
        }
        return end(loop, g, a, outcome(g, a, st));
    }
}

/* Why the await cannot start (<0), 1 when it is over at once, else 0. */
static int refuse(co_loop *loop, co_gen *g, int op, int err, const void *dst, size_t size)
{
    co_agen *a = agen_of(g);
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (g == NULL || g->fn == NULL || co__corrupt(g))
        return CO_EBADFRAME;
    if (co__on_stack(loop, g) || (dst && co__on_stack(loop, dst)))
        return CO_ESTACKARG;
    if (size > UINT16_MAX || (op == CO__AG_THROW && (err >= 0 || err < INT16_MIN)))
        return CO_EBADARG;
    if (g->top < 0) /* another generator delegates to it */
        return co__usable(g);
    if (co__st(g) == CO_CLOSED) {
        unlist(a);
        return op == CO__AG_NEXT || op == CO__AG_SEND ? CO_ESTOPASYNC : 1;
    }
    if ((a->flags & CO__AG_RUNNING) || co__st(g) == CO_RUNNING)
        return CO_ERUNNING;
    if ((op == CO__AG_THROW || op == CO__AG_CLOSE) && (a->flags & CO__AG_CLOSED))
        return CO_ESTOPASYNC; /* closed once, and it ignored that: 3.11 says so */
    if (op == CO__AG_SEND && co__st(g) == CO_CREATED)
        return CO_ENOTSTARTED;
    return 0;
}

int co__agen_start(co_gen *g, int op, int err, const void *val, void *dst, size_t size)
{
    co_loop *loop = co__loop();
    co_agen *a, *outer;
    int st = refuse(loop, g, op, err, dst, size);
    if (st != 0)
        return st;
    a = agen_of(g);
    enlist(loop, a);
    a->op = (uint8_t)op;
    a->dst = dst;
    a->size = (uint16_t)size;
    a->stop = 0;
    a->flags |= CO__AG_RUNNING;
    a->inner = NULL;
    open_await(loop, a);
    outer = loop->agen_driving;
    loop->agen_driving = a;
    switch (op) {
    case CO__AG_NEXT:
        st = co_next(g);
        break;
    case CO__AG_SEND:
        co__copy((char *)g + OUT_OFF + size, val, size);
        st = co__send(g, (char *)g + OUT_OFF + size, size);
        break;
    default: /* athrow, and aclose: a throw of GeneratorExit */
        if (op == CO__AG_CLOSE) {
            a->flags |= CO__AG_CLOSED;
            err = CO_EXIT;
        }
        if (err == CO_EXIT && co__st(g) == CO_SUSPENDED) {
            /* GeneratorExit: the delegates close first, innermost first */
            a->stop = CO__OFFSET(g, co__leaf(g));
            st = drive(g, a, CO_EXIT);
        } else {
            st = co_throw(g, err);
        }
        break;
    }
    loop->agen_driving = outer;
    return settle(loop, g, a, st);
}

int co__agen_again(int thrown)
{
    co_loop *loop = co__loop();
    co_agen *a;
    co_gen *g;
    if (loop == NULL || loop->current == NULL || (a = await_of(loop)) == NULL)
        return CO_ENOTASK;
    g = gen_of(a);
    return settle(loop, g, a, drive(g, a, thrown < 0 ? thrown : 0));
}

/* ------------------------------------------------------- finalization */

/* Closes g at once, outside any task: its cleanup runs, an await in it
 * raising CO_ENOTASK. */
static void close_now(co_loop *loop, co_gen *g)
{
    co_task *current = loop->current;
    co_agen *driving = loop->agen_driving;
    loop->current = NULL;
    loop->agen_driving = NULL;
    (void)co_close(g);
    loop->current = current;
    loop->agen_driving = driving;
}

/* Task t's block is freed: the generators in its frame are closed first. */
static void drop(co_loop *loop, co_task *t)
{
    const char *lo = (const char *)t, *hi = lo + co__task_bytes(t);
    co_agen *a = loop->agens;
    if (!(t->flags & CO__T_ALLOCATED))
        return;
    while (a) {
        co_agen *next = a->next;
        if ((const char *)a >= lo && (const char *)a < hi) {
            unlist(a);
            if (!(a->flags & CO__AG_RUNNING) && co__st(gen_of(a)) == CO_SUSPENDED)
                close_now(loop, gen_of(a));
        }
        a = next;
    }
}

/* await agen.aclose() in a task of its own, as shutdown_asyncgens does;
 * an error it raises is reported as the task's, when it is freed. */
CO_ASYNC(agen_finalizer, co_gen *agen;)
    CO__AGEN_WAIT(self, co__agen_start(self->agen, CO__AG_CLOSE, 0, NULL, NULL, 0), false);
CO_ASYNC_END

/* co_run is ending: one finalizer task per generator still suspended.
 * True when co_run has tasks to run out. */
static bool close_all(co_loop *loop)
{
    bool spawned = false;
    co_agen *a = loop->agens;
    while (a) {
        co_agen *next = a->next;
        co_gen *g = gen_of(a);
        if ((a->flags & (CO__AG_RUNNING | CO__AG_SHUT)) || co__st(g) != CO_SUSPENDED) {
            unlist(a); /* nothing to finalize, or nobody left to finish its await */
        } else {
            agen_finalizer *f = CO_NEW(loop, agen_finalizer, agen_finalizer_fn);
            a->flags |= CO__AG_SHUT;
            if (f == NULL) {
                unlist(a);
                close_now(loop, g);
            } else {
                f->agen = g;
                co_spawn(&f->gen);
                co_release(&f->gen);
                spawned = true;
            }
        }
        a = next;
    }
    return spawned;
}

/* After the finalizers ran: what is left (it ignored its close) is let go. */
static void forget(co_loop *loop)
{
    co_agen *a = loop->agens;
    loop->agens = NULL;
    while (a) {
        co_agen *next = a->next;
        a->flags &= (uint8_t)~CO__AG_SHUT;
        a->next = a->prev = NULL;
        a->loop = NULL;
        a = next;
    }
}

static const co__agen_ops agen_ops = {drop, close_all, forget};
