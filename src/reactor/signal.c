/*
 * signal.c -- signals as awaitable events, and Ctrl-C during co_run.
 *
 * A handler may do almost nothing safely: it sets the signal's bit in the
 * watching loop's pending mask and wakes the loop (an atomic exchange and a
 * write).  The loop, back in its own thread, sets the events.
 *
 * While co_run runs, SIGINT (if nobody else handles it) behaves like in
 * Python's asyncio.run: the first Ctrl-C cancels the main task, whose
 * cleanup runs, and co_run returns CO_EINTERRUPTED; a second one restores
 * the default action and re-raises the signal, ending the process at once.
 */
#include "reactor.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#define NSIGS 32

/* The loop watching each signal, for the handler to find. */
static co_reactor *_Atomic owner[NSIGS];
static struct sigaction saved[NSIGS];
static atomic_int sigint_presses;

static void on_signal(int signo)
{
    int saved_errno = errno;
    co_reactor *r = atomic_load(&owner[signo]);
    if (signo == SIGINT && r && r->sigint_installed && r->sig_events[SIGINT] == NULL &&
        atomic_fetch_add(&sigint_presses, 1) >= 1) {
        /* the second Ctrl-C: stop hard, as the default action would */
        signal(SIGINT, SIG_DFL);
        raise(SIGINT);
    }
    if (r) {
        atomic_fetch_or(&r->signals, 1u << signo);
        co_loop_wake(r->loop);
    }
    errno = saved_errno;
}

static int install(co_reactor *r, int signo)
{
    struct sigaction sa;
    co_reactor *none = NULL;
    if (!atomic_compare_exchange_strong(&owner[signo], &none, r))
        return none == r ? 0 : CO_EBUSY;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(signo, &sa, &saved[signo]) < 0) {
        int err = -errno;
        atomic_store(&owner[signo], NULL);
        return err;
    }
    return 0;
}

static void uninstall(co_reactor *r, int signo)
{
    co_reactor *me = r;
    if (atomic_compare_exchange_strong(&owner[signo], &me, NULL))
        sigaction(signo, &saved[signo], NULL);
}

int co_signal_watch(co_loop *loop, int signo, co_event *ev)
{
    co_reactor *r;
    int rc;
    if (loop == NULL || ev == NULL || signo <= 0 || signo >= NSIGS || signo == SIGKILL ||
        signo == SIGSTOP || loop->reactor == NULL)
        return CO_EBADARG;
    r = loop->reactor;
    if (r->sig_events[signo])
        return CO_EBUSY;
    if (!(signo == SIGINT && r->sigint_installed) && (rc = install(r, signo)) < 0)
        return rc;
    r->sig_events[signo] = ev;
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
    if (install(r, SIGINT) == 0)
        r->sigint_installed = true;
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

int co__signals_attach(co_reactor *r) { return co__reactor_attach(r, &signals); }
