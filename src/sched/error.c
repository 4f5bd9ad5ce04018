/*
 * error.c -- co_strerror: one text for every code a corio call returns.
 */
#include <corio/sched.h>

#include <string.h>

const char *co_strerror(int code)
{
    switch (code) {
    case CO_ECANCELLED: return "task cancelled";
    case CO_ETIMEOUT: return "timed out";
    case CO_ENOTASK: return "await outside a running task";
    case CO_ESELF: return "a task cannot await itself";
    case CO_ELOOPRUNNING: return "a loop is already running in this thread";
    case CO_ELOOPCLOSED: return "the loop is closed";
    case CO_ENOMEM: return "out of memory (allocator hook)";
    case CO_EBADYIELD: return "a task suspended without awaiting anything";
    case CO_ENOTLOCKED: return "lock is not acquired";
    case CO_EQFULL: return "queue is full";
    case CO_EQEMPTY: return "queue is empty";
    case CO_EQSHUTDOWN: return "queue is shut down";
    case CO_ESEMOVER: return "bounded semaphore released too many times";
    case CO_EINTERRUPTED: return "interrupted (SIGINT)";
    case CO_EOF: return "end of stream before the data expected";
    case CO_ENOTDONE: return "task is not done";
    case CO_EBUSY: return "already in use (another waiter, gather or group)";
    case CO_EGROUPDONE: return "task group is finished or shutting down";
    case CO_ESTACKARG: return "argument points into the C stack, which does not survive an await";
    default: break;
    }
    if (code <= -1000 && code > -1100)
        return co_gen_strerror(code);
    if (code < 0 && code > -4096)
        return strerror(-code);
    return code == 0 ? "success" : "unknown error";
}
