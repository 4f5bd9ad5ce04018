/*
 * sync_wait.h -- what the synchronisation primitives share (sync.c has it):
 * suspending the running task on a wait queue, waking the first waiter,
 * the "handed" mark of a lock or permit, and the lock's own steps, which
 * the Condition (sync_cond.c) takes again after every wait.
 */
#ifndef CORIO_SYNC_WAIT_H
#define CORIO_SYNC_WAIT_H

#include "loop.h"

/* Suspends the running task on q as a `kind` waiter for obj, the task core
 * reaching it through ops when it is cancelled: 0, CO_ENOTASK, or
 * CO_ESTACKARG when obj is on the C stack. */
int co__sync_wait(co_waitq *q, void *obj, uint8_t kind, const co__wait_ops *ops);
/* Wakes the first waiter of q; true if there was one. */
bool co__sync_wake_first(co_waitq *q);
/* Wakes every waiter of q, oldest first. */
void co__sync_wake_all(co_waitq *q);
/* Whether the running task was just handed what it waited for (the mark is
 * cleared: a lock or permit is taken once). */
bool co__sync_take_handed(void);

/* The running task takes the lock if it is free for it (free with nobody
 * queued, or handed to it by a release): 1, else 0 (nothing changed). */
int co__lock_take(co_lock *lock);
/* Promises the unlocked lock to its first waiter, if any. */
void co__lock_hand_on(co_lock *lock);

#endif /* CORIO_SYNC_WAIT_H */
