/*
 * corio/dns.h -- host names for tasks: asyncio's loop.getaddrinfo and the
 * host-name side of asyncio.open_connection (Happy Eyeballs, RFC 8305).
 *
 *     typedef struct { co_gen gen; co_dial dial; } fetch;
 *
 *     static int fetch_fn(co_gen *g)
 *     {
 *         fetch *self = (fetch *)g;
 *         CO_BEGIN(self);
 *         CO_OPEN_CONNECTION(self, dial, "example.org", 80, 10000);
 *         if (self->dial.result < 0)       // CO_EAI_NONAME, -ECONNREFUSED, CO_ETIMEOUT...
 *             printf("%s\n", co_strerror(self->dial.result));
 *         else
 *             co_fd_close(co_running_loop(), self->dial.result);
 *         CO_END(self);
 *     }
 *
 * getaddrinfo() blocks, so a lookup runs on the loop's worker pool (fs.h's
 * CO_TO_THREAD) while the loop goes on; numeric addresses ("10.0.0.1",
 * "::1") are answered at once without the pool, as asyncio does.  A task
 * cancelled during a lookup is resumed at once: the worker may still be
 * inside getaddrinfo(), so its answer lands in a block of the loop's own and
 * is freed when it arrives -- the task's frame is never written after the
 * cancellation.
 *
 * The state argument of each await (`lk`, `dial`) names a member of the
 * frame, as in CO_GETADDRINFO(self, lk, ...) for self->lk: after a resume
 * the await finds its state there, and every other argument is read once,
 * when the await starts.
 *
 * Outcomes are results, never raised (as in net.h): `result` holds a count,
 * an fd, or a negative code.  Resolver failures have codes of their own
 * (CO_EAI_NONAME...) with co_strerror texts; only cancellation and misuse
 * (CO_ENOTASK) are raised.
 */
#ifndef CORIO_DNS_H
#define CORIO_DNS_H

#include <corio/net.h>

#include <netdb.h>

#ifdef __cplusplus
extern "C" {
#endif

struct addrinfo; /* <netdb.h> shows it only to POSIX programs (-std=c11 hides it) */

/* ------------------------------------------------------------ resolver */

/*
 * Where lookups go.  `getaddrinfo` has getaddrinfo(3)'s contract (0, or an
 * EAI_* code with *res untouched; EAI_SYSTEM leaves errno set) and
 * `freeaddrinfo` frees what it returned.  Unless `on_loop` is set it runs on
 * a worker thread, so it may block but must not touch the loop.  A resolver
 * that answers from memory at once (a table, a test's hosts file read
 * beforehand) may set `on_loop`: it is then called in the awaiting task,
 * with no trip to a worker.
 */
typedef struct co_resolver {
    int (*getaddrinfo)(void *ctx, const char *host, const char *service,
                       const struct addrinfo *hints, struct addrinfo **res);
    void (*freeaddrinfo)(void *ctx, struct addrinfo *res);
    void *ctx;
    bool on_loop;
} co_resolver;

/* Makes every later lookup of the process use `r` (copied); NULL goes back
 * to the system's getaddrinfo.  Set it before loops run (tests, a custom
 * name service); lookups already in flight keep the one they started with. */
CO_API void co_set_resolver(const co_resolver *r);

/* -------------------------------------------------------------- lookup */

/* One lookup's state, in the frame.  Read `result` and `found`. */
typedef struct co_lookup {
    int result;   /* addresses stored (>= 1), or a negative code      */
    size_t found; /* addresses the name has: more than cap were cut    */
    /* private */
    co_addr *addrs;
    size_t cap;
    void *job; /* the task running the lookup on the pool */
} co_lookup;

/*
 * infos = await loop.getaddrinfo(host, port, family=family, type=SOCK_STREAM)
 *
 * Stores up to cap addresses of host (each with `port`) in addrs, in the
 * resolver's order, without duplicates.  family: AF_UNSPEC, AF_INET or
 * AF_INET6.  host NULL means the loopback addresses.  result: how many were
 * stored, or CO_EAI_NONAME (no such name), CO_EAI_NODATA (the name has no
 * address of that family), CO_EAI_AGAIN, CO_EAI_FAIL, CO_EAI_FAMILY,
 * CO_ENOMEM, -EINVAL (a port outside 0..65535, cap 0), or a -errno.  host
 * is copied at the start: it need not outlive the call.  addrs must stay
 * valid until the await returns.
 */
#define CO_GETADDRINFO(self, lk, host, port, family, addrs, cap)                           \
    CO__LOOKUP(self, &(self)->lk,                                                          \
               co__lookup_start(&(self)->lk, (host), (port), (family), (addrs), (cap)))

/* --------------------------------------------------------- connecting */

/* The addresses CO_OPEN_CONNECTION tries at most (the rest are dropped). */
#define CO_DIAL_MAX 16
/* RFC 8305's "Connection Attempt Delay" */
#define CO_DIAL_STAGGER_MS 250

/* One connection by name, in the frame.  Read `result` and `peer`. */
typedef struct co_dial {
    int result;   /* the connected socket, or a negative code */
    co_addr peer; /* the address it connected to             */
    int attempts; /* connection attempts started             */
    /* private */
    void *race;
} co_dial;

/*
 * reader, writer = await asyncio.wait_for(
 *     asyncio.open_connection(host, port, happy_eyeballs_delay=0.25,
 *                             interleave=1), timeout_ms / 1000)
 *
 * Looks host up (as CO_GETADDRINFO, both families), orders the addresses
 * alternating by family (starting with the resolver's first), and connects:
 * each attempt starts CO_DIAL_STAGGER_MS after the one before, or at once
 * when every earlier one has failed; the first to connect wins and every
 * other is closed.  result: the connected socket (non-blocking,
 * close-on-exec, TCP_NODELAY), or the lookup's error, or the last attempt's
 * -errno when all fail, or CO_ETIMEOUT when timeout_ms (< 0: no limit) runs
 * out first, lookup included.  A cancellation closes every attempt.  host
 * is copied at the start.
 */
#define CO_OPEN_CONNECTION(self, dial, host, port, timeout_ms)                             \
    CO__IO_LOOP(self, co__dial_start(&(self)->dial, (host), (port), (int64_t)(timeout_ms)), \
                co__dial_step(&(self)->dial), co__dial_resumed(&(self)->dial, CO_THROWN(self)))

/* ----------------------------------------------------------- internals */

/* <0 raise, 0 the task waits (suspend), 1 done */
CO_API int co__lookup_start(co_lookup *lk, const char *host, int port, int family, co_addr *addrs,
                     size_t cap);
/* back from the wait: <0 raise it */
CO_API int co__lookup_resumed(co_lookup *lk, int thrown);
CO_API int co__dial_start(co_dial *d, const char *host, int port, int64_t timeout_ms);
/* 1 finished, 0 suspend, <0 raise */
CO_API int co__dial_step(co_dial *d);
/* 1 finished, 0 step again, <0 raise */
CO_API int co__dial_resumed(co_dial *d, int thrown);

#define CO__LOOKUP(self, lk, start)                                                        \
    do {                                                                                   \
        int co__l = (start);                                                               \
        if (co__l < 0)                                                                     \
            CO_RAISE(self, co__l);                                                         \
        if (co__l == 0) {                                                                  \
            CO__SUSPEND_TASK(self, true);                                                  \
            CO__CHECK(self, co__lookup_resumed((lk), CO_THROWN(self)));                     \
        }                                                                                  \
    } while (0)

/* start once; then step, suspend, resumed until one says finished */
#define CO__IO_LOOP(self, start, step, resumed)                                            \
    do {                                                                                   \
        CO__CHECK(self, (start));                                                          \
        for (;;) {                                                                         \
            int co__s = (step);                                                            \
            if (co__s < 0)                                                                 \
                CO_RAISE(self, co__s);                                                     \
            if (co__s > 0)                                                                 \
                break;                                                                     \
            CO__SUSPEND_TASK(self, true);                                                  \
            co__s = (resumed);                                                             \
            if (co__s < 0)                                                                 \
                CO_RAISE(self, co__s);                                                     \
            if (co__s > 0)                                                                 \
                break;                                                                     \
        }                                                                                  \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif /* CORIO_DNS_H */
