/*
 * inspect.c -- what a debugger's view of the loop reads: task names, the
 * list of a loop's live tasks (all_tasks), body names, and the walk of a
 * task's await chain (get_stack).  The text of a stack is inspect_write.c's.
 *
 * Side storage only, but for the task's number (co_task.id, given when the
 * registry lists it, loop.h): a set name lives in loop->names, indexed by
 * the task's registry slot, allocated with the first name and kept in
 * step by the registry's hooks: `unlisting` as a task leaves (its name
 * goes), `relisting` as the registry closes up its gaps (names move down
 * with their tasks).  Body records are static
 * storage of the program, linked into one list by constructor functions
 * before main runs (CO__BODY_INFO); the list is only read after that.
 */
#include "inspect.h"

#if CO_BARE && (defined(__GNUC__) || defined(__clang__))
#define KEEP_A_LOOP() __asm__ __volatile__("" ::: "memory") /* no strlen call */
#else
#define KEEP_A_LOOP() ((void)0)
#endif

size_t co__text_len(const char *s)
{
    size_t n = 0;
    while (s[n]) {
        n++;
        KEEP_A_LOOP();
    }
    return n;
}

/* ------------------------------------------------------------ body names */

static co_body_info *bodies;

void co__body_info_add(co_body_info *info)
{
    if (info == NULL || info->fn == NULL)
        return;
    for (const co_body_info *b = bodies; b; b = b->next)
        if (b == info)
            return; /* added already: adding again would make a cycle */
    info->next = bodies;
    bodies = info;
}

const co_body_info *co__body_info(co_body fn)
{
    for (const co_body_info *b = bodies; b; b = b->next)
        if (b->fn == fn)
            return b;
    return NULL;
}

/* ----------------------------------------------------------------- names */

/* The task's slot in its loop's list, or NULL when it is not listed. */
static const co_task *listed(const co_gen *task)
{
    const co_task *t;
    const co_loop *loop;
    if (task == NULL || task->fn == NULL)
        return NULL;
    t = co__task(task);
    loop = co__task_loop(t);
    if (!(t->flags & CO__T_LISTED) || loop == NULL || t->reg >= loop->ntasks ||
        loop->tasks[t->reg] != t)
        return NULL;
    return t;
}

static void drop_name(co_loop *loop, uint32_t slot)
{
    char *name = loop->names[slot];
    if (name)
        co__free(loop, name, co__text_len(name) + 1);
    loop->names[slot] = NULL;
}

/* The registry's hook: t leaves (its name goes), or, with t NULL, the loop
 * ends and the table goes. */
static void unlisting(co_loop *loop, co_task *t)
{
    if (t == NULL) {
        for (uint32_t i = 0; i < loop->cap_names; i++)
            drop_name(loop, i);
        co__free(loop, loop->names, loop->cap_names * sizeof *loop->names);
        loop->names = NULL;
        loop->cap_names = 0;
        loop->unlisting = NULL;
        loop->relisting = NULL;
        return;
    }
    if (t->reg < loop->cap_names) /* the slots past the table's end hold none */
        drop_name(loop, t->reg);
}

/* The other hook: the registry closed up a gap, the task in slot `from`
 * moved down to `to`, and so does its name. */
static void relisting(co_loop *loop, uint32_t from, uint32_t to)
{
    if (from >= loop->cap_names)
        return;
    loop->names[to] = loop->names[from];
    loop->names[from] = NULL;
}

/* Room for a name in every slot the registry has now. */
static int names_fit(co_loop *loop)
{
    char **a;
    uint32_t cap = loop->cap_tasks;
    if (loop->cap_names >= cap)
        return 0;
    a = co__alloc(loop, cap * sizeof *a);
    if (a == NULL)
        return CO_ENOMEM;
    co__zero(a, cap * sizeof *a);
    if (loop->names)
        co__bytecopy(a, loop->names, loop->cap_names * sizeof *a);
    co__free(loop, loop->names, loop->cap_names * sizeof *a);
    loop->names = a;
    loop->cap_names = cap;
    loop->unlisting = unlisting;
    loop->relisting = relisting;
    return 0;
}

int co_task_set_name(co_gen *task, const char *name)
{
    const co_task *t = listed(task);
    co_loop *loop;
    char *copy = NULL;
    size_t n;
    if (t == NULL)
        return CO_EBADARG;
    loop = co__task_loop(t);
    if (name) {
        if (names_fit(loop) < 0)
            return CO_ENOMEM;
        n = co__text_len(name) + 1;
        copy = co__alloc(loop, n);
        if (copy == NULL)
            return CO_ENOMEM;
        co__bytecopy(copy, name, n);
    }
    if (t->reg < loop->cap_names) {
        drop_name(loop, t->reg);
        loop->names[t->reg] = copy;
    }
    return 0;
}

/* Appends s to buf (size bytes, NUL kept) at *at; counts what did not fit. */
static void put(char *buf, size_t size, size_t *at, const char *s)
{
    for (; *s; s++, (*at)++)
        if (*at + 1 < size)
            buf[*at] = *s;
}

size_t co__format_uint(char *out, uint32_t v)
{
    char digits[10];
    size_t k = 0, n = 0;
    do
        digits[k++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (k)
        out[n++] = digits[--k];
    out[n] = '\0';
    return n;
}

int co_task_get_name(const co_gen *task, char *buf, size_t size)
{
    const co_task *t = listed(task);
    const co_loop *loop;
    size_t at = 0;
    if (t == NULL || (buf == NULL && size > 0))
        return CO_EBADARG;
    loop = co__task_loop(t);
    if (t->reg < loop->cap_names && loop->names[t->reg]) {
        put(buf, size, &at, loop->names[t->reg]);
    } else {
        char num[11];
        co__format_uint(num, t->id);
        put(buf, size, &at, "Task-");
        put(buf, size, &at, num);
    }
    if (size)
        buf[at < size ? at : size - 1] = '\0';
    /* INT_MAX without <limits.h>, whatever the widths of int and size_t */
    return at > (unsigned)-1 / 2u ? (int)((unsigned)-1 / 2u) : (int)at;
}

/* ------------------------------------------------------------- all_tasks */

size_t co_all_tasks(co_loop *loop, co_gen **out, size_t max)
{
    size_t n = 0;
    if (loop == NULL)
        loop = co__loop();
    if (loop == NULL || loop->state == CO__LOOP_CLOSED)
        return 0;
    for (uint32_t i = 0; i < loop->ntasks; i++) {
        co_task *t = loop->tasks[i];
        if (t == NULL || (t->flags & (CO__T_SPAWNED | CO__T_DONE)) != CO__T_SPAWNED)
            continue;
        if (out && n < max)
            out[n] = co__frame(t);
        n++;
    }
    return n;
}

/* ---------------------------------------------------------------- stacks */

const co_task *co__awaited(const co_task *t)
{
    return t->wait == CO__W_TASK && !(t->flags & CO__T_DONE) ? t->wait_on : NULL;
}

size_t co_task_get_stack(const co_gen *task, co_stack_frame *out, size_t max)
{
    const co_task *t = task && task->fn ? co__task(task) : NULL, *first = t;
    size_t n = 0;
    uint32_t hops = 0;
    while (t && !(t->flags & CO__T_DONE)) {
        const co_gen *root = (const co_gen *)(const void *)(t + 1);
        for (const co_gen *f = root; f; f = co_yieldfrom(f), n++) {
            const co_body_info *b = co__body_info(f->fn);
            if (out == NULL || n >= max)
                continue;
            out[n].task = root;
            out[n].frame = f;
            out[n].body = b ? b->name : NULL;
            out[n].file = b ? b->file : NULL;
            out[n].line = co_line(f);
        }
        /* tasks awaiting each other in a ring: one round */
        if (++hops > co__task_loop(t)->ntasks)
            break;
        t = co__awaited(t);
        if (t == first)
            break;
    }
    return n;
}
