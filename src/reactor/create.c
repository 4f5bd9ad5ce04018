/*
 * create.c -- co_loop_new and co_loop_free: a loop and its reactor in one
 * block, on the backend asked for (or $CORIO_BACKEND, or the best there is),
 * with the signal subsystem attached.
 *
 * This is the one file that names the backends and the subsystems a new
 * loop starts with; the reactor itself knows them only through their
 * interfaces.
 */
#include "reactor.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const co_backend *const backends[] = {
#if defined(__linux__)
    &co__epoll_backend,
#endif
#if defined(CORIO_HAVE_KQUEUE)
    &co__kqueue_backend,
#endif
    &co__poll_backend,
};

static const co_backend *pick_backend(const char *name)
{
    size_t n = sizeof backends / sizeof backends[0];
    if (name == NULL || *name == '\0')
        name = getenv("CORIO_BACKEND");
    if (name == NULL || *name == '\0')
        return backends[0];
    for (size_t i = 0; i < n; i++)
        if (strcmp(backends[i]->name, name) == 0)
            return backends[i];
    return NULL;
}

typedef struct loop_block { /* the loop and its reactor, allocated together */
    co_loop loop;
    co_reactor reactor;
} loop_block;

static void free_block(loop_block *b)
{
    co_loop *loop = &b->loop;
    co__free(loop, b, sizeof *b);
}

int co_loop_new(co_loop **out, const co_loop_options *opt)
{
    co_hooks hooks = {0};
    loop_block *b;
    const co_backend *backend;
    int rc;
    if (out == NULL)
        return CO_EBADARG;
    *out = NULL;
    backend = pick_backend(opt ? opt->backend : NULL);
    if (backend == NULL)
        return CO_EBADARG;
    if (opt)
        hooks = opt->hooks;
    b = hooks.alloc ? hooks.alloc(hooks.ctx, sizeof *b) : malloc(sizeof *b);
    if (b == NULL)
        return CO_ENOMEM;
    memset(b, 0, sizeof *b);
    if ((rc = co__loop_init(&b->loop, opt)) < 0) {
        free_block(b);
        return rc;
    }
    if ((rc = co__reactor_init(&b->reactor, &b->loop, backend, opt ? opt->workers : 0)) < 0) {
        co__loop_fini(&b->loop);
        free_block(b);
        return rc;
    }
    co__signals_attach(&b->reactor); /* the first attachment: it cannot fail */
    b->loop.on_error_default = co_default_exception_handler;
    /* like Python: a write to a closed pipe or socket is an EPIPE, not a death */
    {
        struct sigaction sa;
        if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
            signal(SIGPIPE, SIG_IGN);
    }
    *out = &b->loop;
    return 0;
}

void co_loop_free(co_loop *loop)
{
    if (loop == NULL || loop->state == CO__LOOP_RUNNING)
        return;
    loop->io->fini(loop);
    co__loop_fini(loop);
    free_block((loop_block *)(void *)loop);
}
