/*
 * inspect_write.c -- the text of a task's stack (Task.print_stack) and of a
 * loop's tasks, through a writer callback, so that a bare scheduler with no
 * stdio prints them too (the reactor's FILE versions wrap these).
 *
 * The shape follows asyncio's: a task's repr, then its frames outermost
 * first ("most recent call last"), each as `File "x.c", line 12, in fetch`.
 * Where Python shows a task's outermost coroutine frame only, this shows the
 * whole await chain, into the tasks it awaits as well (3.14's
 * asyncio.print_call_graph follows the chain the same way).  Text is
 * gathered in a small buffer and written a line or a buffer at a time.
 */
#include "inspect.h"

typedef struct out {
    co_writer write;
    void *arg;
    size_t n;
    char buf[160];
} out;

static void flush(out *o)
{
    if (o->n)
        o->write(o->arg, o->buf, o->n);
    o->n = 0;
}

static void str(out *o, const char *s)
{
    for (; *s; s++) {
        if (o->n == sizeof o->buf)
            flush(o);
        o->buf[o->n++] = *s;
    }
}

static void num(out *o, uint32_t v)
{
    char d[11];
    co__format_uint(d, v);
    str(o, d);
}

static void hex(out *o, uintptr_t v)
{
    char d[2 * sizeof v + 3];
    size_t k = sizeof d - 1;
    d[k] = '\0';
    do
        d[--k] = "0123456789abcdef"[v & 15];
    while ((v >>= 4) != 0 && k > 2);
    d[--k] = 'x';
    d[--k] = '0';
    str(o, d + k);
}

static void name(out *o, const co_task *t)
{
    char buf[64];
    int rc = co_task_get_name((const co_gen *)(const void *)(t + 1), buf, sizeof buf);
    str(o, rc < 0 ? "?" : buf); /* not listed: caller storage that has ended */
}

/* A body's name, or its address when it has no record. */
static void body(out *o, const co_body_info *b, co_body fn)
{
    if (b) {
        str(o, b->name);
        return;
    }
    uintptr_t at = 0;
    /* a function's address as a number (ISO C has no cast for it) */
    co__bytecopy(&at, &fn, sizeof fn < sizeof at ? sizeof fn : sizeof at);
    str(o, "<body ");
    hex(o, at);
    str(o, ">");
}

static uint32_t ms_left(const co_loop *loop, const co_timer *tm)
{
    int64_t left;
    if (tm->slot == 0)
        return 0;
    left = co__heap_deadline(&loop->timers, tm) - loop->now;
    if (left <= 0)
        return 0;
    left = (left + 999999) / 1000000;
    return left > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)left;
}

/* What t is suspended on, as wait_for=<...> shows it. */
static void wait_for(out *o, const co_task *t)
{
    static const char *const kinds[CO__W_KINDS] = {
        [CO__W_GATHER] = "gather",    [CO__W_GROUP] = "task group", [CO__W_EVENT] = "event",
        [CO__W_LOCK] = "lock",        [CO__W_SEM] = "semaphore",   [CO__W_QGET] = "queue get",
        [CO__W_QPUT] = "queue put",   [CO__W_FD] = "fd",           [CO__W_JOB] = "file job",
        [CO__W_FUTURE] = "future",
    };
    if (t->wait == CO__W_NONE || t->wait == CO__W_READY)
        return;
    str(o, " wait_for=<");
    if (t->wait == CO__W_TIMER) {
        str(o, "sleep, ");
        num(o, ms_left(co__task_loop(t), &t->timer));
        str(o, " ms left");
    } else if (t->wait == CO__W_TASK) {
        str(o, "Task '");
        name(o, t->wait_on);
        str(o, "'");
    } else if (t->wait < CO__W_KINDS && kinds[t->wait]) {
        str(o, kinds[t->wait]);
    } else {
        str(o, "wait kind ");
        num(o, t->wait);
    }
    str(o, ">");
}

/* <Task pending name='fetch-1' coro=<fetch() running at x.c:12> wait_for=<...>> */
static void task_repr(out *o, const co_task *t)
{
    const co_gen *root = (const co_gen *)(const void *)(t + 1);
    const co_body_info *b = co__body_info(root->fn);
    int rc = co_result(root);
    bool done = (t->flags & CO__T_DONE) != 0;
    str(o, "<Task ");
    str(o, !done ? "pending" : rc == CO_ECANCELLED ? "cancelled" : "finished");
    str(o, " name='");
    name(o, t);
    str(o, "' coro=<");
    body(o, b, root->fn);
    if (done) {
        str(o, "() done>");
        if (rc < 0 && rc != CO_ECANCELLED) {
            str(o, " exception=<");
            str(o, co_strerror(rc));
            str(o, ">");
        } else if (rc == 0) {
            str(o, " result=0");
        }
    } else if (co_state(root) == CO_CREATED) {
        str(o, "() not started>");
    } else if (co__task_loop(t)->current == t) {
        str(o, "() running>");
    } else {
        str(o, "() running at ");
        str(o, b ? b->file : "?");
        str(o, ":");
        num(o, co_line(root));
        str(o, ">");
        wait_for(o, t);
    }
    str(o, ">");
}

/* The frames of t's own tree, outermost first. */
static void frames(out *o, const co_task *t)
{
    for (const co_gen *f = (const co_gen *)(const void *)(t + 1); f; f = co_yieldfrom(f)) {
        const co_body_info *b = co__body_info(f->fn);
        str(o, "  File \"");
        str(o, b ? b->file : "?");
        str(o, "\", line ");
        num(o, co_line(f));
        str(o, ", in ");
        body(o, b, f->fn);
        str(o, "\n");
    }
}

static void write_stack(out *o, const co_task *t)
{
    const co_task *first = t;
    uint32_t hops = 0;
    if (t->flags & CO__T_DONE) {
        str(o, "No stack for ");
        task_repr(o, t);
        str(o, "\n");
        return;
    }
    str(o, "Stack for ");
    task_repr(o, t);
    str(o, " (most recent call last):\n");
    for (;;) {
        frames(o, t);
        t = co__awaited(t);
        /* tasks awaiting each other in a ring: shown once round */
        if (t == NULL || t == first || ++hops > co__task_loop(t)->ntasks)
            break;
        str(o, "  awaiting ");
        task_repr(o, t);
        str(o, ":\n");
    }
}

void co_task_write_stack(const co_gen *task, co_writer write, void *arg)
{
    out o;
    if (task == NULL || task->fn == NULL || write == NULL)
        return;
    o.write = write;
    o.arg = arg;
    o.n = 0;
    write_stack(&o, co__task(task));
    flush(&o);
}

void co_loop_write_tasks(co_loop *loop, co_writer write, void *arg)
{
    out o;
    if (loop == NULL)
        loop = co__loop();
    if (loop == NULL || write == NULL || loop->state == CO__LOOP_CLOSED)
        return;
    o.write = write;
    o.arg = arg;
    o.n = 0;
    for (uint32_t i = 0; i < loop->ntasks; i++) {
        const co_task *t = loop->tasks[i];
        if (t && (t->flags & (CO__T_SPAWNED | CO__T_DONE)) == CO__T_SPAWNED)
            write_stack(&o, t);
    }
    flush(&o);
}
