/*
 * error.c -- co_strerror: one text for every code a corio call returns.
 *
 * The texts are string literals, in flash on a Cortex-M.  An AVR copies
 * every literal into its RAM at start-up (about 1 KiB for these), so there
 * the texts are left out unless -DCO_ERROR_TEXT=1: co_strerror then says
 * only "success" or "error", and firmware prints the code.  A bare build
 * (CO_BARE) has no strerror, so errno codes get one text there.
 */
#include "loop.h"

#include <corio/agen.h>

#if !CO_BARE
#include <string.h>
#endif

#ifndef CO_ERROR_TEXT
#if defined(__AVR__)
#define CO_ERROR_TEXT 0
#else
#define CO_ERROR_TEXT 1
#endif
#endif

#if !CO_ERROR_TEXT
const char *co_strerror(int code) { return code == 0 ? "success" : "error"; }
#else
const char *co_strerror(int code)
{
    switch (code) {
    case CO_ECANCELLED: return "task cancelled";
    case CO_ETIMEOUT: return "timed out";
    case CO_ENOTASK: return "await outside a running task";
    case CO_ESELF: return "a task cannot await itself";
    case CO_ELOOPRUNNING: return "a loop is already running in this thread";
    case CO_ELOOPCLOSED: return "the loop is closed";
    case CO_ENOMEM: return "out of memory (an allocation by the loop failed)";
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
    case CO_EINVALSTATE: return "invalid state: the future is already done";
    case CO_EAI_NONAME: return "name or service not known";
    case CO_EAI_NODATA: return "no address associated with the name for that family";
    case CO_EAI_AGAIN: return "temporary failure in name resolution";
    case CO_EAI_FAIL: return "non-recoverable failure in name resolution";
    case CO_EAI_FAMILY: return "address family not supported by the resolver";
    case CO_ELIMIT: return "stream buffer limit reached (LimitOverrunError); the data is kept";
    case CO_ESTREAMCLOSED: return "stream is closed for writing";
    case CO_ETLS: return "TLS failure";
    case CO_ETLSCERT: return "TLS: certificate not trusted";
    case CO_ETLSHOST: return "TLS: certificate is not for this host name";
    case CO_ETLSPROTO: return "TLS: protocol mismatch (not TLS, or no version in common)";
    case CO_ENOTLS: return "TLS unavailable: corio was built without OpenSSL (libssl-dev)";
    case CO_ESTOPASYNC: return "async generator finished (StopAsyncIteration)";
    case CO_EBROKENBARRIER: return "barrier aborted or reset (BrokenBarrierError)";
    case CO_ETASKDONE: return "task_done() called more times than items were put";
    case CO_ESTACKARG: return "argument points into the C stack, which does not survive an await";
    default: break;
    }
    if (code <= -1000 && code > -1100)
        return co_gen_strerror(code);
#if CO_BARE
    if (code < 0 && code > -4096)
        return "system error (an errno code)";
#else
    if (code < 0 && code > -4096)
        return strerror(-code);
#endif
    return code == 0 ? "success" : "unknown error";
}
#endif
