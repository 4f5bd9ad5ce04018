/*
 * dns.c -- CO_GETADDRINFO: host names looked up on the worker pool, and
 * the resolver hook (co_set_resolver) that tests and custom name services
 * plug in.
 *
 * A lookup that needs a worker runs in a small task of its own, allocated
 * from the loop: it carries the host name, the hints and the answer, and
 * does a CO_TO_THREAD.  The task that asked waits on an event in it.  So a
 * cancelled asker simply stops waiting: the lookup task, which the worker
 * may still be writing into, lives on until the answer arrives, frees it,
 * and is freed itself (it was released).  Nothing the worker touches is in
 * the asker's frame, and the asker's frame is written only while it waits.
 */
#include "reactor.h"

#include <corio/dns.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define NOT_RUN INT_MIN /* the worker never got to the lookup */

/* ------------------------------------------------------------ resolver */

static int system_getaddrinfo(void *ctx, const char *host, const char *service,
                              const struct addrinfo *hints, struct addrinfo **res)
{
    (void)ctx;
    return getaddrinfo(host, service, hints, res);
}

static void system_freeaddrinfo(void *ctx, struct addrinfo *res)
{
    (void)ctx;
    freeaddrinfo(res);
}

static const co_resolver system_resolver = {system_getaddrinfo, system_freeaddrinfo, NULL, false};

/* Set from any thread, read by each lookup as it starts: a copy under a lock. */
static pthread_mutex_t resolver_lock = PTHREAD_MUTEX_INITIALIZER;
static co_resolver resolver = {system_getaddrinfo, system_freeaddrinfo, NULL, false};

void co_set_resolver(const co_resolver *r)
{
    pthread_mutex_lock(&resolver_lock);
    if (r && r->getaddrinfo && r->freeaddrinfo)
        resolver = *r;
    else
        resolver = system_resolver;
    pthread_mutex_unlock(&resolver_lock);
}

static co_resolver current_resolver(void)
{
    co_resolver r;
    pthread_mutex_lock(&resolver_lock);
    r = resolver;
    pthread_mutex_unlock(&resolver_lock);
    return r;
}

/* ----------------------------------------------------- answers, codes */

/* getaddrinfo's EAI_* code (and errno, for EAI_SYSTEM) as one of ours. */
static int eai_code(int rc, int err)
{
    switch (rc) {
    case 0: return 0;
    case EAI_NONAME: return CO_EAI_NONAME;
#if defined(EAI_NODATA) && EAI_NODATA != EAI_NONAME
    case EAI_NODATA: return CO_EAI_NODATA;
#endif
#if defined(EAI_ADDRFAMILY)
    case EAI_ADDRFAMILY: return CO_EAI_NODATA;
#endif
    case EAI_AGAIN: return CO_EAI_AGAIN;
    case EAI_FAIL: return CO_EAI_FAIL;
    case EAI_FAMILY: return CO_EAI_FAMILY;
    case EAI_MEMORY: return CO_ENOMEM;
    case EAI_SYSTEM: return err > 0 ? -err : CO_EAI_FAIL;
    case EAI_SERVICE:
    case EAI_SOCKTYPE:
    case EAI_BADFLAGS: return -EINVAL;
    default: return CO_EAI_FAIL;
    }
}

static bool same_addr(const co_addr *a, const struct sockaddr *sa, socklen_t len)
{
    return a->len == len && memcmp(&a->u, sa, len) == 0;
}

/* Copies the IPv4 and IPv6 answers, once each, into lk's array. */
static void store(co_lookup *lk, const struct addrinfo *ai)
{
    size_t n = 0, found = 0;
    for (; ai; ai = ai->ai_next) {
        bool dup = false;
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) || ai->ai_addr == NULL ||
            ai->ai_addrlen > sizeof lk->addrs[0].u)
            continue;
        for (size_t i = 0; i < n && !dup; i++)
            dup = same_addr(&lk->addrs[i], ai->ai_addr, ai->ai_addrlen);
        if (dup)
            continue;
        found++;
        if (n < lk->cap) {
            memset(&lk->addrs[n], 0, sizeof lk->addrs[n]);
            memcpy(&lk->addrs[n].u, ai->ai_addr, ai->ai_addrlen);
            lk->addrs[n].len = ai->ai_addrlen;
            n++;
        }
    }
    lk->found = found;
    lk->result = n ? (int)n : CO_EAI_NODATA;
}

/* The lookup's outcome, from the resolver's code and answer. */
static void deliver(co_lookup *lk, int rc, int err, const struct addrinfo *res)
{
    int code = eai_code(rc, err);
    if (code < 0)
        lk->result = code;
    else
        store(lk, res);
}

/* ------------------------------------------------- the lookup's task */

typedef struct lookup_task {
    co_gen gen;
    co_file_job job;
    co_event done;     /* set when the answer is in the owner's co_lookup */
    co_lookup *owner;  /* NULL once the asker has gone                   */
    co_resolver resolver;
    struct addrinfo hints;
    struct addrinfo *res;
    int rc, err;
    char service[8];
    char host[]; /* copied: the caller's string need not outlive the call */
} lookup_task;

/* On a worker thread: only the task's own fields are touched. */
static int64_t resolve_on_worker(void *arg)
{
    lookup_task *t = arg;
    errno = 0;
    t->rc = t->resolver.getaddrinfo(t->resolver.ctx, t->host, t->service, &t->hints, &t->res);
    t->err = errno;
    return 0;
}

/* Back on the loop, answer or not: tell the owner, if any, and let go. */
static void lookup_over(lookup_task *t)
{
    if (t->owner) {
        if (t->rc != NOT_RUN)
            deliver(t->owner, t->rc, t->err, t->res);
        else
            t->owner->result = t->job.result < 0 ? (int)t->job.result : CO_ECANCELLED;
    }
    if (t->rc == 0 && t->res)
        t->resolver.freeaddrinfo(t->resolver.ctx, t->res);
    t->res = NULL;
    co_event_set(&t->done);
}

static int lookup_body(co_gen *g)
{
    lookup_task *self = (lookup_task *)g;
    CO_BEGIN(self);
    CO_TO_THREAD(self, &self->job, resolve_on_worker, self);
    CO_FINALLY(self) { lookup_over(self); }
    CO_END(self);
}

/* ------------------------------------------------------------- awaits */

static int over(co_lookup *lk, int code)
{
    lk->result = code;
    return 1;
}

/* A numeric host (or NULL) is answered at once, as asyncio does. */
static bool numeric(co_lookup *lk, const char *host, const char *service,
                    const struct addrinfo *hints)
{
    struct addrinfo h = *hints, *res = NULL;
    int rc;
    h.ai_flags |= AI_NUMERICHOST;
    rc = getaddrinfo(host, service, &h, &res);
    if (rc == EAI_NONAME && host != NULL)
        return false; /* a name: ask the resolver */
    deliver(lk, rc, errno, res);
    if (rc == 0)
        freeaddrinfo(res);
    return true;
}

/* A task that will ask the resolver on the pool; lk waits on its event. */
static int start_task(co_loop *loop, co_lookup *lk, const char *host, const char *service,
                      const struct addrinfo *hints, const co_resolver *r)
{
    size_t hlen = strlen(host) + 1;
    lookup_task *t;
    int rc;
    if (hlen > NI_MAXHOST)
        return over(lk, CO_EAI_NONAME);
    t = co_task_new(loop, sizeof *t + hlen, lookup_body);
    if (t == NULL)
        return over(lk, CO_ENOMEM);
    co_event_init(&t->done);
    t->owner = lk;
    t->resolver = *r;
    t->hints = *hints;
    t->rc = NOT_RUN;
    memcpy(t->service, service, sizeof t->service);
    memcpy(t->host, host, hlen);
    if ((rc = co_spawn(&t->gen)) < 0) {
        co_release(&t->gen);
        return over(lk, rc);
    }
    lk->job = t;
    return co__event_wait(&t->done); /* 0: the asker now waits */
}

int co__lookup_start(co_lookup *lk, const char *host, int port, int family, co_addr *addrs,
                     size_t cap)
{
    co_loop *loop = co_running_loop();
    struct addrinfo hints;
    char service[8];
    co_resolver r;
    if (lk == NULL)
        return CO_EBADARG;
    lk->result = 0;
    lk->found = 0;
    lk->addrs = addrs;
    lk->cap = cap;
    lk->job = NULL;
    if (loop == NULL || co_current_task() == NULL)
        return CO_ENOTASK;
    if (co__on_stack(loop, addrs))
        return CO_ESTACKARG; /* filled after the task suspends */
    if (port < 0 || port > 65535 || addrs == NULL || cap == 0 || cap > INT_MAX)
        return over(lk, -EINVAL);
    if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
        return over(lk, CO_EAI_FAMILY);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM; /* one answer per address, not per socket type */
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(service, sizeof service, "%d", port);
    if (numeric(lk, host, service, &hints))
        return 1;
    r = current_resolver();
    if (r.on_loop) {
        struct addrinfo *res = NULL;
        int rc;
        errno = 0;
        rc = r.getaddrinfo(r.ctx, host, service, &hints, &res);
        deliver(lk, rc, errno, res);
        if (rc == 0 && res)
            r.freeaddrinfo(r.ctx, res);
        return 1;
    }
    return start_task(loop, lk, host, service, &hints, &r);
}

int co__lookup_resumed(co_lookup *lk, int thrown)
{
    lookup_task *t = lk->job;
    lk->job = NULL;
    if (t == NULL)
        return thrown;
    if (thrown < 0) {
        t->owner = NULL; /* its answer, whenever it comes, is freed unseen */
        lk->result = thrown;
    } else
        co__event_wait(&t->done); /* takes the wake-up handed over */
    co_release(&t->gen);
    return thrown < 0 ? thrown : 0;
}
