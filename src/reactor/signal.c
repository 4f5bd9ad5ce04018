/*
 * signal.c -- signals as awaitable events, and Ctrl-C during co_run.
 *
 * A handler may do almost nothing safely: it sets the signal's bit in the
 * watching loop's pending mask and wakes the loop (an atomic exchange and a
 * write).  The loop, back in its own thread, sets the events.  The table of
 * which loop watches which signal is process-wide; below is why a handler
 * in one thread is safe against co_loop_free in another, and what a forked
 * child inherits.
 *
 * While co_run runs, SIGINT (if nobody else handles it) behaves like in
 * Python's asyncio.run: the first Ctrl-C cancels the main task, whose
 * cleanup runs, and co_run returns CO_EINTERRUPTED; a second one restores
 * the default action and re-raises the signal, ending the process at once.
 */
#include "reactor.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>

#define NSIGS 32

/*
 * The process-wide table of signal ownership: which loop's reactor watches
 * each signal, for the handler to find.
 *
 * The handler runs in any thread, at any moment, while the owning loop may
 * be torn down by another thread; what keeps it from reading a freed loop
 * or writing to a closed wake fd (whose number a new file may have taken):
 *
 *   handler:   inside++;  r = owner;  if (r) use r;  inside--;
 *   uninstall: restore the old action;  owner = NULL;  wait until inside == 0;
 *
 * All four accesses are sequentially consistent, so they fall in one total
 * order.  A handler whose load of `owner` comes before the store of NULL
 * made its increment before that store too, and uninstall's later load of
 * `inside` sees it: uninstall waits until that handler is done with r.  A
 * handler whose load comes after the store reads NULL (or a later owner,
 * alive) and touches nothing of r.  So when uninstall returns no handler
 * holds r, and only then does co_loop_free close the wake fd and free the
 * memory.  The wait is short and cannot deadlock: a handler never blocks
 * (the wake fd is non-blocking), and one interrupting the uninstalling
 * thread itself has run to its end before uninstall goes on.  The counter
 * is per signal, so teardown waits only for handlers of its own signals.
 *
 * The old action is put back while the slot is still owned, so that a loop
 * installing the signal next saves the true previous action, not ours.
 */
typedef struct sig_slot {
    _Atomic(co_reactor *) owner; /* the watching loop's reactor, or NULL       */
    atomic_int inside;           /* handlers that may hold owner right now      */
    atomic_bool ctrl_c;          /* SIGINT taken by co_run for Ctrl-C (no event) */
    struct sigaction saved;      /* the action before ours, put back after      */
} sig_slot;

static sig_slot slots[NSIGS];
static atomic_int sigint_presses;

static void on_signal(int signo)
{
    int saved_errno = errno;
    sig_slot *s = &slots[signo];
    co_reactor *r;
    atomic_fetch_add(&s->inside, 1);
    r = atomic_load(&s->owner);
    if (r && signo == SIGINT && atomic_load(&s->ctrl_c) &&
        atomic_fetch_add(&sigint_presses, 1) >= 1) {
        /* the second Ctrl-C: stop hard, as the default action would (the
           signal stays blocked until this handler returns) */
        signal(SIGINT, SIG_DFL);
        raise(SIGINT);
    }
    if (r) {
        atomic_fetch_or(&r->signals, 1u << signo);
        co_loop_wake(r->loop);
    }
    atomic_fetch_sub(&s->inside, 1);
    errno = saved_errno;
}

/*
 * fork: the child has only the forking thread, and the table still names
 * the parent's loops, whose copies the child must not use (their wake fds
 * are shared with the parent).  The child therefore starts with an empty
 * table and the actions from before any loop, as a process that never had
 * one: its own loops can then watch any signal.  No handler may run in the
 * forking thread across the fork (it could find a half-reset table in the
 * child), so every signal is blocked from the prepare step to the end.
 */
static _Thread_local sigset_t fork_mask;

static void fork_prepare(void)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &fork_mask);
}

static void fork_parent(void) { pthread_sigmask(SIG_SETMASK, &fork_mask, NULL); }

static void fork_child(void)
{
    for (int signo = 1; signo < NSIGS; signo++) {
        sig_slot *s = &slots[signo];
        if (atomic_load(&s->owner))
            sigaction(signo, &s->saved, NULL);
        atomic_store(&s->owner, NULL);
        atomic_store(&s->ctrl_c, false);
        atomic_store(&s->inside, 0); /* handlers of threads that are gone */
    }
    atomic_store(&sigint_presses, 0);
    pthread_sigmask(SIG_SETMASK, &fork_mask, NULL);
}

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static void watch_forks(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

static int install(co_reactor *r, int signo)
{
    sig_slot *s = &slots[signo];
    struct sigaction sa;
    co_reactor *none = NULL;
    if (!atomic_compare_exchange_strong(&s->owner, &none, r))
        return none == r ? 0 : CO_EBUSY;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(signo, &sa, &s->saved) < 0) {
        int err = -errno;
        atomic_store(&s->owner, NULL);
        return err;
    }
    return 0;
}

static void uninstall(co_reactor *r, int signo)
{
    sig_slot *s = &slots[signo];
    if (atomic_load(&s->owner) != r) /* only r itself gives its slots up */
        return;
    atomic_store(&s->ctrl_c, false);
    sigaction(signo, &s->saved, NULL);
    atomic_store(&s->owner, NULL);
    while (atomic_load(&s->inside) > 0)
        sched_yield();
}

int co_signal_watch(co_loop *loop, int signo, co_event *ev)
{
    co_reactor *r;
    int rc;
    if (loop == NULL || ev == NULL || signo <= 0 || signo >= NSIGS || signo == SIGKILL ||
        signo == SIGSTOP || loop->reactor == NULL)
        return CO_EBADARG;
    r = loop->reactor;
    if (co__reactor_inherited(r))
        return CO_ELOOPCLOSED;
    if (r->sig_events[signo])
        return CO_EBUSY;
    if (!(signo == SIGINT && r->sigint_installed) && (rc = install(r, signo)) < 0)
        return rc;
    r->sig_events[signo] = ev;
    if (signo == SIGINT) /* the event takes over from Ctrl-C's handling */
        atomic_store(&slots[SIGINT].ctrl_c, false);
    return 0;
}

int co_signal_unwatch(co_loop *loop, int signo)
{
    co_reactor *r;
    if (loop == NULL || signo <= 0 || signo >= NSIGS || loop->reactor == NULL)
        return CO_EBADARG;
    r = loop->reactor;
    if (r->sig_events[signo] == NULL)
        return CO_EBADARG;
    r->sig_events[signo] = NULL;
    if (!(signo == SIGINT && r->sigint_installed))
        uninstall(r, signo);
    else /* back to Ctrl-C's handling for the rest of co_run */
        atomic_store(&slots[SIGINT].ctrl_c, true);
    return 0;
}

static void signals_dispatch(co_reactor *r)
{
    unsigned pending = atomic_exchange(&r->signals, 0u);
    for (int s = 1; pending && s < NSIGS; s++) {
        if (!(pending & (1u << s)))
            continue;
        pending &= ~(1u << s);
        if (r->sig_events[s])
            co_event_set(r->sig_events[s]);
        else if (s == SIGINT && r->sigint_installed && r->loop->main) {
            r->sigint_count++;
            co_cancel(co__frame(r->loop->main));
        }
    }
}

static void sigint_begin(co_reactor *r)
{
    struct sigaction sa;
    r->sigint_count = 0;
    atomic_store(&sigint_presses, 0);
    /* only when Ctrl-C would otherwise kill us, and nobody watches it */
    if (r->sig_events[SIGINT] || sigaction(SIGINT, NULL, &sa) < 0 || sa.sa_handler != SIG_DFL)
        return;
    if (install(r, SIGINT) == 0) {
        r->sigint_installed = true;
        atomic_store(&slots[SIGINT].ctrl_c, true);
    }
}

static int sigint_end(co_reactor *r, int rc)
{
    if (!r->sigint_installed)
        return rc;
    r->sigint_installed = false;
    if (r->sig_events[SIGINT] == NULL)
        uninstall(r, SIGINT);
    return r->sigint_count && rc == CO_ECANCELLED ? CO_EINTERRUPTED : rc;
}

static void signals_fini(co_reactor *r)
{
    for (int s = 1; s < NSIGS; s++)
        if (r->sig_events[s]) {
            r->sig_events[s] = NULL;
            uninstall(r, s);
        }
}

static const co__subsys signals = {
    .drain = signals_dispatch,
    .run_begin = sigint_begin,
    .run_end = sigint_end,
    .fini = signals_fini,
};

int co__signals_attach(co_reactor *r)
{
    pthread_once(&fork_once, watch_forks);
    return co__reactor_attach(r, &signals);
}
