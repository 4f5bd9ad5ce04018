/*
 * corio/inspect.h -- a debugger's view of the loop: task names
 * (Task.set_name / get_name), asyncio.all_tasks, and each task's await chain
 * (Task.get_stack / print_stack), for a dump on a signal or from gdb
 * (scripts/corio-gdb.py).
 *
 * Nothing here costs a task that is never looked at.  A task's number, for
 * its default name "Task-N", is kept in its header (a word the header had
 * spare); a name that is set lives in a table the loop allocates with the
 * first one.  A frame's body name and file come from a record made once per
 * body at program start: CO_ASYNC makes its own, CO_BODY_NAME one for a
 * body written out by hand (both on gcc and clang, whose constructor
 * functions add it to a list; elsewhere bodies stay unnamed).  The line of
 * each frame is the one gen.h records at every suspension.
 *
 * sched.h includes this header: CO_ASYNC expands to CO__BODY_INFO.
 */
#ifndef CORIO_INSPECT_H
#define CORIO_INSPECT_H

#include <corio/sched.h>

#if defined(__STDC_HOSTED__) && __STDC_HOSTED__
#include <stdio.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------- body names */

/* What a stack shows of a body: its name and the file it is written in. */
typedef struct co_body_info {
    co_body fn;
    const char *name; /* "fetch" for CO_ASYNC(fetch, ...) */
    const char *file; /* __FILE__ where it is declared     */
    struct co_body_info *next;
} co_body_info;

/* At file scope, after the body: names a written-out body (a co_body
 * function) in stacks, as CO_ASYNC names its own. */
#define CO_BODY_NAME(fn, name) CO__BODY_INFO(fn, name)

/* ----------------------------------------------------------------- names */

/* task.set_name(name): the task keeps a copy (NULL: back to the default).
 * 0, CO_EBADARG (no task, or one not in its loop's list: caller storage
 * before co_spawn or after its end) or CO_ENOMEM. */
CO_API int co_task_set_name(co_gen *task, const char *name);
/* task.get_name(): its name, or "Task-N" (N counts its loop's tasks from 1,
 * in the order they were made), written into buf and cut to size (with its
 * NUL).  Returns the name's whole length, as snprintf does, or CO_EBADARG. */
CO_API int co_task_get_name(const co_gen *task, char *buf, size_t size);

/* asyncio.all_tasks(loop): the tasks of loop (NULL: the running one) that
 * are scheduled and not done, in the order the loop listed them (a CO_NEW
 * task when made, caller storage when spawned; Python's set has no order).
 * Up to max of them go into out; returns how many there are. */
CO_API size_t co_all_tasks(co_loop *loop, co_gen **out, size_t max);

/* ---------------------------------------------------------------- stacks */

/* One frame of an await chain. */
typedef struct co_stack_frame {
    const co_gen *task;  /* the task whose tree the frame belongs to          */
    const co_gen *frame;
    const char *body;    /* its body's name, or NULL for an unnamed body      */
    const char *file;    /* where the body is written, or NULL               */
    unsigned line;       /* where it is suspended (0: it has not run yet)     */
} co_stack_frame;

/*
 * task.get_stack(): where the task is suspended, outermost frame first: its
 * own frame, each frame it delegates to (CO_AWAIT, CO_AWAIT_CALL, yield
 * from), and when the innermost awaits another task, that task's chain too,
 * and so on.  A running task shows where it last stood; a done one has no
 * stack.  Up to max frames go into out; returns how many there are.
 */
CO_API size_t co_task_get_stack(const co_gen *task, co_stack_frame *out, size_t max);

/* Where text goes: n bytes, not NUL-terminated. */
typedef void (*co_writer)(void *arg, const char *text, size_t n);
/* task.print_stack(), to a writer (no stdio needed: firmware's UART too):
 *     Stack for <Task pending name='Task-2' coro=<fetch() running at x.c:12>
 *     wait_for=<sleep, 500 ms left>> (most recent call last):
 *       File "x.c", line 12, in fetch
 *       File "x.c", line 5, in read_body
 * then, for a task awaiting another, "  awaiting <Task ...>:" and its frames. */
CO_API void co_task_write_stack(const co_gen *task, co_writer write, void *arg);
/* Every task of co_all_tasks(loop), one stack after another. */
CO_API void co_loop_write_tasks(co_loop *loop, co_writer write, void *arg);

#if defined(__STDC_HOSTED__) && __STDC_HOSTED__
/* The same to a FILE (NULL: stderr); the reactor's (libcorio), not a bare
 * scheduler's.  A signal's dump: co_signal_watch an event, and let a task
 * that waits on it print, on the loop's thread (samples/task_dump.c). */
CO_API void co_task_print_stack(const co_gen *task, FILE *f);
CO_API void co_loop_print_tasks(co_loop *loop, FILE *f);
#endif

/* ------------------------------------------------------------- internals */

CO_API void co__body_info_add(co_body_info *info);

#if defined(__GNUC__) || defined(__clang__)
#define CO__BODY_INFO(fn, name)                                                            \
    static co_body_info CO__CAT(co__info_, fn) = {fn, name, __FILE__, 0};                  \
    __attribute__((constructor)) static void CO__CAT(co__info_add_, fn)(void)              \
    {                                                                                      \
        co__body_info_add(&CO__CAT(co__info_, fn));                                        \
    }
#else
#define CO__BODY_INFO(fn, name)
#endif

#ifdef __cplusplus
}
#endif

#endif /* CORIO_INSPECT_H */
