/*
 * eyeballs.c -- CO_OPEN_CONNECTION: connecting to a host name with Happy
 * Eyeballs (RFC 8305): the addresses interleaved by family, one connection
 * attempt started every CO_DIAL_STAGGER_MS (or at once when the earlier ones
 * have all failed), the first to connect wins and the others are closed.
 *
 * The asking task keeps the race in a block from the loop's allocator (its
 * co_dial holds a pointer to it).  Each attempt is a small task of its own
 * doing a CO_CONNECT; when it ends it sets the race's `changed` event.  The
 * asker waits on that event with a deadline armed for the earlier of the
 * next stagger and the overall timeout: the deadline's expiry reaches it as
 * CO_ETIMEOUT (asyncio.timeout's rule), and it then looks at the clock to
 * tell one from the other.  An attempt that loses, or outlives the race
 * (cancellation, timeout), is cut loose: cancelled and released, it closes
 * its own socket and never touches the race again.
 */
#include "reactor.h"

#include <corio/dns.h>

#include <errno.h>
#include <string.h>

typedef struct attempt {
    co_gen gen;
    co_io io;
    co_addr addr;
    struct race *race; /* NULL once cut loose */
    int fd;            /* the connected socket, or -1 */
    int err;           /* the failure, when fd is -1  */
} attempt;

/* race.phase */
enum { PH_LOOKUP, PH_CONNECT, PH_OVER };

typedef struct race {
    co_lookup lk;
    co_addr found[CO_DIAL_MAX];   /* as the resolver ordered them */
    co_addr order[CO_DIAL_MAX];   /* interleaved by family        */
    attempt *att[CO_DIAL_MAX];    /* running or not yet collected */
    size_t n, next;               /* addresses; the next to try   */
    co_event changed;             /* an attempt ended             */
    co_deadline dl;
    bool dl_armed;
    uint8_t phase;
    int64_t end;        /* the overall deadline (ns), INT64_MAX: none */
    int64_t next_start; /* when the next attempt may start            */
    int port;
    int last_err;
    char host[]; /* copied at the start */
} race;

static co_loop *loop_of(void) { return co_running_loop(); }

/* -------------------------------------------------------- an attempt */

static int attempt_body(co_gen *g)
{
    attempt *self = (attempt *)g;
    CO_BEGIN(self);
    CO_CONNECT(self, &self->io, &self->addr, -1);
    if (self->io.result >= 0)
        self->fd = (int)self->io.result;
    else
        self->err = (int)self->io.result;
    CO_FINALLY(self)
    {
        if (self->race)
            co_event_set(&self->race->changed);
    }
    CO_END(self);
}

static int start_attempt(race *r, const co_addr *addr)
{
    attempt *a = CO_NEW(loop_of(), attempt, attempt_body);
    int rc;
    if (a == NULL)
        return CO_ENOMEM;
    a->addr = *addr;
    a->race = r;
    a->fd = -1;
    a->err = CO_ECANCELLED;
    if ((rc = co_spawn(&a->gen)) < 0) {
        co_release(&a->gen);
        return rc;
    }
    r->att[r->next++] = a;
    return 0;
}

/* Lets attempt i go: a finished one's socket is closed, a running one is
 * cancelled (its CO_CONNECT closes the socket) and freed when it ends. */
static void cut_loose(race *r, size_t i)
{
    attempt *a = r->att[i];
    if (a == NULL)
        return;
    r->att[i] = NULL;
    a->race = NULL;
    if (co_done(&a->gen)) {
        if (a->fd >= 0)
            co_fd_close(loop_of(), a->fd);
    } else
        co_cancel(&a->gen);
    co_release(&a->gen);
}

/* ------------------------------------------------------------ ordering */

/* RFC 8305 section 4: alternate families, starting with the first answer's. */
static void interleave(race *r, size_t n)
{
    size_t i6 = 0, i4 = 0, k = 0;
    int first = r->found[0].u.sa.sa_family;
    while (k < n) {
        bool want6 = (k % 2 == 0) == (first == AF_INET6);
        size_t *ia = want6 ? &i6 : &i4, *ib = want6 ? &i4 : &i6;
        int fa = want6 ? AF_INET6 : AF_INET, fb = want6 ? AF_INET : AF_INET6;
        while (*ia < n && r->found[*ia].u.sa.sa_family != fa)
            (*ia)++;
        if (*ia < n) {
            r->order[k++] = r->found[(*ia)++];
            continue;
        }
        while (*ib < n && r->found[*ib].u.sa.sa_family != fb) /* one family left */
            (*ib)++;
        if (*ib >= n)
            break;
        r->order[k++] = r->found[(*ib)++];
    }
    r->n = k;
}

/* ------------------------------------------------------------- the race */

static void free_race(co_dial *d)
{
    race *r = d->race;
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->next; i++)
        cut_loose(r, i);
    if (r->dl_armed)
        co__deadline_end(&r->dl, 0);
    d->race = NULL;
    co__free(loop_of(), r, sizeof *r + strlen(r->host) + 1);
}

static int finish(co_dial *d, int result)
{
    free_race(d);
    d->result = result;
    return 1;
}

int co__dial_start(co_dial *d, const char *host, int port, int64_t timeout_ms)
{
    co_loop *loop = loop_of();
    size_t hlen;
    race *r;
    if (d == NULL)
        return CO_EBADARG;
    d->result = 0;
    d->attempts = 0;
    d->race = NULL;
    memset(&d->peer, 0, sizeof d->peer);
    if (loop == NULL || co_current_task() == NULL)
        return CO_ENOTASK;
    if (host == NULL)
        host = "localhost";
    hlen = strlen(host) + 1;
    r = co__alloc(loop, sizeof *r + hlen);
    if (r == NULL) {
        d->result = CO_ENOMEM;
        return 0; /* the step reports it */
    }
    memset(r, 0, sizeof *r);
    memcpy(r->host, host, hlen);
    co_event_init(&r->changed);
    r->port = port;
    r->phase = PH_LOOKUP;
    r->last_err = -ECONNREFUSED;
    r->end = timeout_ms < 0 ? INT64_MAX : co_now(loop) + co__ms_to_ns(timeout_ms);
    if (r->end < 0) /* overflow */
        r->end = INT64_MAX;
    d->race = r;
    return 0;
}

/* The current task waits on r->changed until the earlier of `until` and
 * the overall deadline. */
static int wait_until(race *r, int64_t until)
{
    int64_t now = co_now(loop_of()), at = until < r->end ? until : r->end;
    int rc;
    if (at != INT64_MAX) {
        if ((rc = co__deadline_arm(&r->dl, NULL, at > now ? at - now : 0)) < 0)
            return rc;
        r->dl_armed = true;
    }
    rc = co__event_wait(&r->changed);
    if (rc != 0 && r->dl_armed) { /* set already: no wait */
        co__deadline_end(&r->dl, 0);
        r->dl_armed = false;
    }
    return rc;
}

/* Collects finished attempts: 1 and d->result set when one connected or
 * all failed, else 0. */
static int collect(co_dial *d, race *r)
{
    size_t running = 0;
    for (size_t i = 0; i < r->next; i++) {
        attempt *a = r->att[i];
        if (a == NULL)
            continue;
        if (!co_done(&a->gen)) {
            running++;
            continue;
        }
        if (a->fd >= 0) { /* the winner: keep its socket, drop the rest */
            int fd = a->fd;
            d->peer = a->addr;
            a->fd = -1;
            cut_loose(r, i);
            free_race(d);
            d->result = fd;
            return 1;
        }
        r->last_err = a->err;
        cut_loose(r, i);
        r->next_start = 0; /* a failure starts the next one at once */
    }
    if (running == 0 && r->next == r->n)
        return finish(d, r->last_err);
    return 0;
}

static int connect_step(co_dial *d, race *r)
{
    co_loop *loop = loop_of();
    for (;;) {
        int rc = collect(d, r);
        if (rc)
            return rc;
        if (r->next < r->n && co_now(loop) >= r->next_start) {
            if ((rc = start_attempt(r, &r->order[r->next])) < 0)
                return finish(d, rc);
            d->attempts++;
            r->next_start = co_now(loop) + co__ms_to_ns(CO_DIAL_STAGGER_MS);
        }
        co_event_clear(&r->changed);
        rc = wait_until(r, r->next < r->n ? r->next_start : INT64_MAX);
        if (rc < 0)
            return finish(d, rc);
        if (rc == 0)
            return 0; /* the task waits */
    }
}

int co__dial_step(co_dial *d)
{
    race *r = d->race;
    int rc;
    if (r == NULL)
        return 1; /* over, or out of memory at the start */
    if (r->phase == PH_LOOKUP) {
        /* the overall deadline covers the lookup: armed before it starts,
           so that nothing can fail once the task waits on the lookup */
        if (r->end != INT64_MAX) {
            int64_t now = co_now(loop_of());
            if ((rc = co__deadline_arm(&r->dl, NULL, r->end > now ? r->end - now : 0)) < 0)
                return finish(d, rc);
            r->dl_armed = true;
        }
        rc = co__lookup_start(&r->lk, r->host, r->port, AF_UNSPEC, r->found, CO_DIAL_MAX);
        if (rc == 0)
            return 0; /* the task waits for the lookup */
        if (r->dl_armed) {
            co__deadline_end(&r->dl, 0);
            r->dl_armed = false;
        }
        if (rc < 0) {
            finish(d, rc);
            return rc;
        }
        r->phase = PH_CONNECT;
        if (r->lk.result < 0)
            return finish(d, r->lk.result);
        interleave(r, (size_t)r->lk.result);
    }
    return connect_step(d, r);
}

int co__dial_resumed(co_dial *d, int thrown)
{
    race *r = d->race;
    int err = thrown;
    if (r == NULL)
        return thrown < 0 ? thrown : 1;
    if (r->dl_armed) {
        r->dl_armed = false;
        err = co__deadline_end(&r->dl, thrown);
    }
    if (r->phase == PH_LOOKUP) {
        int rc = co__lookup_resumed(&r->lk, err);
        if (err == CO_ETIMEOUT)
            return finish(d, CO_ETIMEOUT);
        if (rc < 0) {
            finish(d, rc);
            return rc;
        }
        r->phase = PH_CONNECT;
        if (r->lk.result < 0)
            return finish(d, r->lk.result);
        interleave(r, (size_t)r->lk.result);
        return 0;
    }
    if (err == CO_ETIMEOUT) {
        if (co_now(loop_of()) >= r->end)
            return finish(d, CO_ETIMEOUT);
        return 0; /* the stagger: start the next attempt */
    }
    if (err < 0) { /* cancelled: every attempt goes */
        finish(d, err);
        return err;
    }
    co__event_wait(&r->changed); /* takes the wake-up handed over */
    return 0;
}
