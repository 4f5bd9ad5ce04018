/*
 * exception.c -- the default exception handler of a loop with the reactor:
 * asyncio's "Task exception was never retrieved" report, on stderr, with
 * the error record's message, place and traceback when the task has one.
 */
#include "reactor.h"

#include <stdio.h>

static void print_record(FILE *f, const co_error *r)
{
    unsigned kept = r->depth < CO_TRACEBACK ? r->depth : CO_TRACEBACK;
    if (kept)
        fprintf(f, "Traceback (most recent call last):\n");
    if (r->depth > kept)
        fprintf(f, "  ... %u frames more\n", r->depth - kept);
    for (unsigned i = kept; i-- > 0;)
        fprintf(f, "  in %s, line %u\n", r->tb[i].body ? r->tb[i].body : "?", r->tb[i].line);
    if (r->file)
        fprintf(f, "  raised at %s:%u\n", r->file, r->line);
    fprintf(f, "  %s\n", co_error_text(r));
}

void co_default_exception_handler(co_loop *loop, const co_exception *e, void *arg)
{
    (void)loop;
    (void)arg;
    fprintf(stderr, "Task exception was never retrieved\ntask %p: error %d (%s)\n",
            (void *)e->task, e->code, e->text);
    if (e->record)
        print_record(stderr, e->record);
}
