/*
 * inspect.h -- what inspect.c shares with inspect_write.c: the body records,
 * the task a task awaits, and the two text helpers a scheduler without libc
 * needs (length, decimal digits).
 */
#ifndef CORIO_SCHED_INSPECT_H
#define CORIO_SCHED_INSPECT_H

#include "loop.h"

/* The record of body fn (CO_ASYNC, CO_BODY_NAME), or NULL. */
const co_body_info *co__body_info(co_body fn);
/* The task t awaits (CO_AWAIT_TASK), or NULL. */
const co_task *co__awaited(const co_task *t);
/* strlen, as a loop the compiler keeps. */
size_t co__text_len(const char *s);
/* v in decimal into out (room for 11 bytes); returns the digits written. */
size_t co__format_uint(char *out, uint32_t v);

#endif /* CORIO_SCHED_INSPECT_H */
