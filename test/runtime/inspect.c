/*
 * inspect.c -- a debugger's view of the loop (inspect.h): task names, their
 * default "Task-N" in creation order and what survives the registry's
 * reshuffles, and the list's order as tasks leave; all_tasks after tasks finish and are cancelled; the await
 * chain of get_stack through a CO_AWAIT_CALL sub-coroutine and into an
 * awaited task, each line checked against the __LINE__ of its await; and
 * the text print_stack gives, through a writer and (with the reactor) to a
 * FILE.
 */
#include "testloop.h"

#include <stdio.h>
#include <string.h>

TestSuite(inspect, .init = rt_reset);

/* The lines of the awaits below, recorded by the bodies as they get there. */
static unsigned line_sleep, line_call, line_await, plain_line;

/* async def leaf(ms): await asyncio.sleep(ms) */
CO_ASYNC(leaf, int ms;)
    line_sleep = __LINE__; CO_SLEEP(self, self->ms);
CO_ASYNC_END

/* async def middle(): await leaf(1000) -- inline, a sub-frame */
CO_ASYNC(middle, leaf child;)
    line_call = __LINE__; CO_AWAIT_CALL(self, child, leaf, .ms = 1000);
CO_ASYNC_END

/* async def outer(task): await task */
CO_ASYNC(outer, middle *task;)
    line_await = __LINE__; CO_AWAIT_TASK(self, &self->task->gen);
CO_ASYNC_END

CO_ASYNC(nap, int ms;)
    CO_SLEEP(self, self->ms);
CO_ASYNC_END

static const char *name_of(const void *frame)
{
    static char buf[4][32];
    static int i;
    char *b = buf[i++ % 4];
    cr_assert_geq(co_task_get_name(frame, b, sizeof buf[0]), 0);
    return b;
}

Test(inspect, default_names_count_tasks_in_creation_order)
{
    co_loop *loop = rt_loop();
    nap *a = CO_TASK(loop, nap, ), *b = CO_TASK(loop, nap, ), *c = CO_TASK(loop, nap, );
    cr_assert(a && b && c);
    cr_expect_str_eq(name_of(a), "Task-1");
    cr_expect_str_eq(name_of(b), "Task-2");
    cr_expect_str_eq(name_of(c), "Task-3");
    rt_free_loop(loop);
}

Test(inspect, a_set_name_is_a_copy_and_null_restores_the_default)
{
    co_loop *loop = rt_loop();
    nap *a = CO_TASK(loop, nap, ), *b = CO_TASK(loop, nap, );
    char name[16] = "worker";
    char small[4];
    cr_assert(a && b);
    cr_expect_eq(co_task_set_name(&b->gen, name), 0);
    strcpy(name, "changed");
    cr_expect_str_eq(name_of(b), "worker", "the task keeps its own copy");
    cr_expect_str_eq(name_of(a), "Task-1");
    cr_expect_eq(co_task_get_name(&b->gen, small, sizeof small), 6, "the whole length");
    cr_expect_str_eq(small, "wor", "cut to the buffer, NUL kept");
    cr_expect_eq(co_task_get_name(&b->gen, NULL, 0), 6);
    cr_expect_eq(co_task_set_name(&b->gen, "again"), 0);
    cr_expect_str_eq(name_of(b), "again");
    cr_expect_eq(co_task_set_name(&b->gen, NULL), 0);
    cr_expect_str_eq(name_of(b), "Task-2");
    cr_expect_eq(co_task_set_name(&a->gen, "kept at the end"), 0);
    rt_free_loop(loop); /* every name freed with the loop: the count checks */
}

Test(inspect, names_and_numbers_follow_a_task_when_the_registry_moves_it)
{
    co_loop *loop = rt_loop();
    nap *t[12];
    for (int i = 0; i < 12; i++) /* past the registry's first 8 slots */
        cr_assert_not_null(t[i] = CO_TASK(loop, nap, ));
    cr_expect_eq(co_task_set_name(&t[11]->gen, "last"), 0);
    cr_expect_eq(co_task_set_name(&t[5]->gen, "sixth"), 0);
    co_release(&t[0]->gen); /* never spawned: freed now; the last slot moves in */
    co_release(&t[5]->gen);
    cr_expect_str_eq(name_of(t[11]), "last");
    cr_expect_str_eq(name_of(t[10]), "Task-11");
    cr_expect_str_eq(name_of(t[1]), "Task-2");
    cr_expect_eq(co_task_set_name(&t[10]->gen, "eleventh"), 0);
    co_release(&t[11]->gen);
    cr_expect_str_eq(name_of(t[10]), "eleventh");
    nap *fresh = CO_TASK(loop, nap, );
    cr_assert_not_null(fresh);
    cr_expect_str_eq(name_of(fresh), "Task-13", "a new task is not given a freed slot's name");
    rt_free_loop(loop);
}

/* The registry keeps the order tasks were listed in as some leave, and
 * closes up its gaps, rather than growing, once they are half of it:
 * names move down with their tasks.  The main task takes slot 0, its 7
 * naps fill the registry's first 8 slots, 4 of them leave from the middle
 * and a ninth task comes. */
CO_ASYNC(lister, nap *t[7]; nap *fresh; co_gen *seen[16]; size_t allocs;)
    for (int i = 0; i < 7; i++) {
        cr_assert_not_null(self->t[i] = CO_TASK(co_running_loop(), nap, .ms = 5));
        rt_spawn(&self->t[i]->gen);
    }
    cr_expect_eq(co_task_set_name(&self->t[6]->gen, "seventh"), 0);
    cr_expect_eq(co_task_set_name(&self->t[2]->gen, "third"), 0);
    co_cancel(&self->t[0]->gen);
    co_cancel(&self->t[1]->gen);
    co_cancel(&self->t[3]->gen);
    co_cancel(&self->t[5]->gen);
    CO_SLEEP(self, 0); /* the cancelled ones unwind */
    co_release(&self->t[0]->gen);
    co_release(&self->t[1]->gen);
    co_release(&self->t[3]->gen);
    co_release(&self->t[5]->gen);
    cr_assert_eq(co_all_tasks(NULL, self->seen, 16), 4);
    cr_expect_eq(self->seen[0], &self->gen);
    cr_expect_eq(self->seen[1], &self->t[2]->gen, "in the order listed");
    cr_expect_eq(self->seen[2], &self->t[4]->gen, "in the order listed");
    cr_expect_eq(self->seen[3], &self->t[6]->gen, "in the order listed");
    self->allocs = rt.alloc_calls;
    cr_assert_not_null(self->fresh = CO_TASK(co_running_loop(), nap, .ms = 5));
    cr_expect_eq(rt.alloc_calls, self->allocs, "the registry closed its gaps, it did not grow");
    rt_spawn(&self->fresh->gen);
    cr_assert_eq(co_all_tasks(NULL, self->seen, 16), 5);
    cr_expect_eq(self->seen[1], &self->t[2]->gen, "after the close-up, in the same order");
    cr_expect_eq(self->seen[2], &self->t[4]->gen, "after the close-up, in the same order");
    cr_expect_eq(self->seen[3], &self->t[6]->gen, "after the close-up, in the same order");
    cr_expect_eq(self->seen[4], &self->fresh->gen, "the new task last");
    cr_expect_str_eq(name_of(self->t[6]), "seventh");
    cr_expect_str_eq(name_of(self->t[2]), "third");
    cr_expect_str_eq(name_of(self->t[4]), "Task-6");
    cr_expect_str_eq(name_of(self->fresh), "Task-9");
    CO_SLEEP(self, 10); /* the naps end */
    co_release(&self->t[2]->gen);
    co_release(&self->t[4]->gen);
    co_release(&self->t[6]->gen);
    co_release(&self->fresh->gen);
CO_ASYNC_END

Test(inspect, the_list_keeps_its_order_and_closes_its_gaps_before_growing)
{
    co_loop *loop = rt_loop();
    lister *m = CO_TASK(loop, lister, );
    cr_assert_not_null(m);
    cr_expect_eq(co_run(loop, &m->gen), 0);
    co_release(&m->gen);
    rt_free_loop(loop);
}

/* Gaps at the list's end go with its last slot, so co_loop_free, which
 * frees from the end, meets no gap; never-spawned tasks are listed too. */
Test(inspect, gaps_at_the_end_go_and_the_loop_frees_what_is_left)
{
    co_loop *loop = rt_loop();
    nap *t[6], *more[2];
    for (int i = 0; i < 6; i++)
        cr_assert_not_null(t[i] = CO_TASK(loop, nap, ));
    cr_expect_eq(co_task_set_name(&t[1]->gen, "second"), 0);
    co_release(&t[2]->gen); /* never spawned: freed at once, a gap */
    co_release(&t[3]->gen);
    co_release(&t[4]->gen);
    co_release(&t[5]->gen); /* the last: it and the gaps before it go */
    for (int i = 0; i < 2; i++)
        cr_assert_not_null(more[i] = CO_TASK(loop, nap, ));
    cr_expect_str_eq(name_of(t[1]), "second");
    cr_expect_str_eq(name_of(more[1]), "Task-8");
    rt_free_loop(loop); /* t[0], t[1] and more: freed, none twice, none missed */
}

Test(inspect, naming_refuses_what_is_not_a_listed_task_and_survives_no_memory)
{
    co_loop *loop = rt_loop();
    CO_TASK_STORAGE(nap) s;
    nap *a = CO_TASK(loop, nap, .ms = 1);
    char buf[8];
    cr_assert_not_null(a);
    cr_expect_eq(co_task_set_name(NULL, "x"), CO_EBADARG);
    cr_expect_eq(co_task_get_name(NULL, buf, sizeof buf), CO_EBADARG);
    cr_expect_eq(co_task_get_name(&a->gen, NULL, 4), CO_EBADARG);
    CO_INIT(&s.frame, nap_fn);
    s.frame.ms = 1;
    cr_assert_eq(co_task_init(loop, &s.task, &s.frame.gen), 0);
    cr_expect_eq(co_task_set_name(&s.frame.gen, "x"), CO_EBADARG, "caller storage before spawn");
    cr_assert_eq(co_spawn(&s.frame.gen), 0);
    cr_expect_eq(co_task_set_name(&s.frame.gen, "stored"), 0, "listed once spawned");
    cr_expect_str_eq(name_of(&s.frame), "stored");
    rt.failing = true;
    cr_expect_eq(co_task_set_name(&a->gen, "no room"), CO_ENOMEM);
    rt.failing = false;
    cr_expect_str_eq(name_of(a), "Task-1", "unchanged by the failure");
    rt_spawn(&a->gen);
    cr_expect_eq(co_run(loop, &a->gen), 0);
    cr_expect_eq(co_task_get_name(&s.frame.gen, buf, sizeof buf), CO_EBADARG,
                 "caller storage is unlisted once it has ended");
    rt_free_loop(loop);
}

/* ------------------------------------------------------------- all_tasks */

CO_ASYNC(census, nap *quick, *doomed, *slow; size_t n; co_gen *seen[8];)
    CO_SLEEP(self, 10); /* quick has finished */
    co_cancel(&self->doomed->gen);
    CO_SLEEP(self, 0); /* doomed has unwound */
    self->n = co_all_tasks(NULL, self->seen, 8);
CO_ASYNC_END

static bool among(co_gen *const *a, size_t n, const void *x)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] == x)
            return true;
    return false;
}

Test(inspect, all_tasks_lists_the_scheduled_tasks_not_done)
{
    co_loop *loop = rt_loop();
    census *m = CO_TASK(loop, census, );
    nap *unspawned = CO_TASK(loop, nap, );
    co_gen *two[2];
    cr_assert(m && unspawned);
    cr_assert_not_null(m->quick = CO_TASK(loop, nap, .ms = 5));
    cr_assert_not_null(m->doomed = CO_TASK(loop, nap, .ms = 500));
    cr_assert_not_null(m->slow = CO_TASK(loop, nap, .ms = 100));
    rt_spawn(&m->quick->gen);
    rt_spawn(&m->doomed->gen);
    rt_spawn(&m->slow->gen);
    cr_expect_eq(co_all_tasks(loop, NULL, 0), 3, "main is not scheduled yet");
    cr_expect_eq(co_all_tasks(loop, two, 2), 3, "the count, with the first two filled");
    cr_expect_eq(co_run(loop, &m->gen), 0);
    cr_expect_eq(m->n, 2, "main and slow (quick finished, doomed cancelled)");
    cr_expect(among(m->seen, m->n, m), "main, running, is listed");
    cr_expect(among(m->seen, m->n, m->slow));
    cr_expect_eq(co_task_result(&m->doomed->gen), CO_ECANCELLED);
    cr_expect_eq(co_all_tasks(loop, NULL, 0), 0, "all done once co_run returned");
    cr_expect_eq(co_all_tasks(NULL, NULL, 0), 0, "no running loop");
    rt_free_loop(loop);
}

/* ----------------------------------------------------------------- stacks */

/* What a writer was given, as one text. */
typedef struct dump_text {
    char text[2048];
    size_t len;
} dump_text;

static void dump_to(void *arg, const char *s, size_t n)
{
    dump_text *d = arg;
    cr_assert_lt(d->len + n, sizeof d->text);
    memcpy(d->text + d->len, s, n);
    d->len += n;
    d->text[d->len] = '\0';
}


CO_ASYNC(observer, middle *worker; outer *waiter; size_t n; co_stack_frame f[8];
         dump_text out;)
    CO_SLEEP(self, 10);
    self->n = co_task_get_stack(&self->waiter->gen, self->f, 8);
    co_task_write_stack(&self->waiter->gen, NULL, NULL); /* no writer: nothing */
    co_cancel(&self->waiter->gen);
CO_ASYNC_END

/* observer, worker (middle -> leaf, asleep), waiter (outer, awaiting worker) */
static observer *chain(co_loop *loop)
{
    observer *o = CO_TASK(loop, observer, );
    cr_assert_not_null(o);
    cr_assert_not_null(o->worker = CO_TASK(loop, middle, ));
    cr_assert_not_null(o->waiter = CO_TASK(loop, outer, .task = o->worker));
    cr_assert_eq(co_task_set_name(&o->worker->gen, "worker"), 0);
    cr_assert_eq(co_task_set_name(&o->waiter->gen, "waiter"), 0);
    rt_spawn(&o->worker->gen);
    rt_spawn(&o->waiter->gen);
    return o;
}

static void expect_frame(const co_stack_frame *f, const void *task, const void *frame,
                         const char *body, unsigned line)
{
    cr_expect_eq(f->task, task, "%s: its task", body);
    cr_expect_eq(f->frame, frame, "%s: the frame", body);
    cr_expect_str_eq(f->body, body);
    cr_expect_str_eq(f->file, __FILE__);
    cr_expect_eq(f->line, line, "%s: suspended at line %u, not %u", body, line, f->line);
}

Test(inspect, get_stack_follows_a_sub_coroutine_and_the_task_awaited)
{
    co_loop *loop = rt_loop();
    observer *o = chain(loop);
    cr_expect_eq(co_run(loop, &o->gen), 0);
    cr_assert_eq(o->n, 3, "outer, then worker's middle and leaf");
    expect_frame(&o->f[0], o->waiter, o->waiter, "outer", line_await);
    expect_frame(&o->f[1], o->worker, o->worker, "middle", line_call);
    expect_frame(&o->f[2], o->worker, &o->worker->child, "leaf", line_sleep);
    cr_expect_eq(co_task_result(&o->waiter->gen), CO_ECANCELLED);
    cr_expect_eq(co_task_result(&o->worker->gen), CO_ECANCELLED, "the awaited one too");
    cr_expect_eq(co_task_get_stack(&o->waiter->gen, o->f, 8), 0, "a done task has no stack");
    rt_free_loop(loop);
}

Test(inspect, get_stack_of_a_task_not_started_is_its_frame_at_line_0)
{
    co_loop *loop = rt_loop();
    nap *a = CO_TASK(loop, nap, .ms = 1);
    co_stack_frame f[2];
    cr_assert_not_null(a);
    cr_expect_eq(co_task_get_stack(&a->gen, f, 2), 1);
    expect_frame(&f[0], a, a, "nap", 0);
    cr_expect_eq(co_task_get_stack(&a->gen, NULL, 0), 1, "counted without room");
    cr_expect_eq(co_task_get_stack(NULL, f, 2), 0);
    rt_free_loop(loop);
}

/* The text of the waiter's stack, made with the lines the bodies recorded. */
static void expected_stack(char *out, size_t n, const char *f)
{
    snprintf(out, n,
             "Stack for <Task pending name='waiter' coro=<outer() running at %s:%u> "
             "wait_for=<Task 'worker'>> (most recent call last):\n"
             "  File \"%s\", line %u, in outer\n"
             "  awaiting <Task pending name='worker' coro=<middle() running at %s:%u> "
             "wait_for=<sleep, 990 ms left>>:\n"
             "  File \"%s\", line %u, in middle\n"
             "  File \"%s\", line %u, in leaf\n",
             f, line_await, f, line_await, f, line_call, f, line_call, f, line_sleep);
}

CO_ASYNC(writer, observer *o;)
    CO_SLEEP(self, 10);
    co_task_write_stack(&self->o->waiter->gen, dump_to, &self->o->out);
    co_cancel(&self->o->waiter->gen);
CO_ASYNC_END

Test(inspect, write_stack_gives_print_stacks_text)
{
    co_loop *loop = rt_loop();
    observer *o = chain(loop);
    writer *w = CO_TASK(loop, writer, .o = o);
    char want[1024];
    cr_assert_not_null(w);
    cr_expect_eq(co_run(loop, &w->gen), 0);
    expected_stack(want, sizeof want, __FILE__);
    cr_expect_str_eq(o->out.text, want);
    o->out.len = 0;
    co_task_write_stack(&o->waiter->gen, dump_to, &o->out);
    cr_expect_str_eq(o->out.text,
                     "No stack for <Task cancelled name='waiter' coro=<outer() done>>\n");
    co_release(&o->gen); /* never run: freed now */
    rt_free_loop(loop);
}

/* A written-out body, named for stacks with CO_BODY_NAME; and one left unnamed. */
typedef struct { co_gen gen; } plain;
static int plain_fn(co_gen *g)
{
    plain *self = (plain *)g;
    CO_BEGIN(self);
    plain_line = __LINE__; CO_SLEEP(self, 50);
    CO_END(self);
}
CO_BODY_NAME(plain_fn, "plain")
static int unnamed_fn(co_gen *g)
{
    plain *self = (plain *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 50);
    CO_END(self);
}

static dump_text dumped;

CO_ASYNC(dumper, )
    CO_SLEEP(self, 1);
    co_loop_write_tasks(NULL, dump_to, &dumped);
CO_ASYNC_END

Test(inspect, write_tasks_shows_every_task_and_names_written_out_bodies)
{
    co_loop *loop = rt_loop();
    dumper *d = CO_TASK(loop, dumper, );
    plain *p = CO_NEW(loop, plain, plain_fn), *u = CO_NEW(loop, plain, unnamed_fn);
    char want[256];
    cr_assert(d && p && u);
    rt_spawn(&p->gen);
    rt_spawn(&u->gen);
    cr_expect_eq(co_run(loop, &d->gen), 0);
    snprintf(want, sizeof want,
             "Stack for <Task pending name='Task-2' coro=<plain() running at %s:%u> "
             "wait_for=<sleep, 49 ms left>> (most recent call last):\n"
             "  File \"%s\", line %u, in plain\n",
             __FILE__, plain_line, __FILE__, plain_line);
    cr_expect(strstr(dumped.text, want), "plain's stack in:\n%s", dumped.text);
    cr_expect(strstr(dumped.text, "coro=<dumper() running>> (most recent call last):\n"),
              "the running dumper in:\n%s", dumped.text);
    cr_expect(strstr(dumped.text, "name='Task-3' coro=<<body 0x"), "unnamed in:\n%s",
              dumped.text);
    rt_free_loop(loop);
}

#ifndef RT_BARE
CO_ASYNC(printer, observer *o; FILE *f;)
    CO_SLEEP(self, 10);
    co_task_print_stack(&self->o->waiter->gen, self->f);
    co_cancel(&self->o->waiter->gen);
CO_ASYNC_END

Test(inspect, print_stack_writes_the_same_text_to_a_file)
{
    co_loop *loop = rt_loop();
    observer *o = chain(loop);
    printer *p = CO_TASK(loop, printer, .o = o, .f = tmpfile());
    char want[1024], got[1024] = "";
    cr_assert(p && p->f);
    cr_expect_eq(co_run(loop, &p->gen), 0);
    rewind(p->f);
    cr_expect_gt(fread(got, 1, sizeof got - 1, p->f), 0);
    fclose(p->f);
    expected_stack(want, sizeof want, __FILE__);
    cr_expect_str_eq(got, want);
    co_release(&o->gen);
    rt_free_loop(loop);
}
#endif

/* ------------------------------------------------------- realloc hook */

/* The registry grows through the realloc hook when there is one (a copy
 * at each doubling cost more than CO_NEW itself at a million tasks), and
 * the numbers behind the array move with it: every default name stays. */
static size_t reallocs;

static void *counting_realloc(void *ctx, void *p, size_t old, size_t size)
{
    rt_state *s = ctx;
    void *q = realloc(p, size);
    if (q) {
        reallocs++;
        s->allocs += p == NULL; /* the registry's first block */
        s->live_bytes += size - old;
    }
    return q;
}

Test(inspect, the_registry_grows_through_the_realloc_hook_and_keeps_every_number)
{
    co_loop_options opt = rt_options();
    co_loop *loop;
    nap *t[100];
    opt.hooks.realloc = counting_realloc;
    loop = rt_loop_with(&opt);
    reallocs = 0;
    for (int i = 0; i < 100; i++)
        cr_assert_not_null(t[i] = CO_TASK(loop, nap, ));
    cr_expect_geq(reallocs, 4, "8 slots doubled to 128: %zu reallocs", reallocs);
    for (int i = 0; i < 100; i++) {
        char want[16];
        snprintf(want, sizeof want, "Task-%d", i + 1);
        cr_expect_str_eq(name_of(t[i]), want);
    }
    rt_free_loop(loop); /* the count of live bytes comes back to zero */
}
