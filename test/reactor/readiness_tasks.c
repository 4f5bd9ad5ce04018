/*
 * readiness_tasks.c -- the tasks the readiness tests run: a reader that
 * waits before each byte, a waiter that only waits, and a script whose
 * steps are a test's own function.
 */
#include "readiness_tasks.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>


static int reader_fn(co_gen *g)
{
    reader *self = (reader *)g;
    CO_BEGIN(self);
    while (self->got < self->want && !self->eof) {
        CO_WAIT_READABLE(self, self->fd);
        self->wakes++;
        {
            ssize_t n = read(self->fd, self->buf + self->got, 1);
            if (n == 0)
                self->eof = true;
            else if (n == 1)
                self->got++;
            else if (errno != EAGAIN)
                CO_RAISE(self, -errno);
        }
    }
    CO_END(self);
}

reader *spawn_reader(co_loop *loop, int fd, size_t want)
{
    reader *r = CO_NEW(loop, reader, reader_fn);
    cr_assert_not_null(r);
    cr_assert_lt(want, sizeof r->buf);
    r->fd = fd;
    r->want = want;
    cr_assert_eq(co_spawn(&r->gen), 0);
    return r;
}


static int waiter_fn(co_gen *g)
{
    waiter *self = (waiter *)g;
    CO_BEGIN(self);
    while (self->wakes < self->times) {
        if (self->dir == CO_READABLE)
            CO_WAIT_READABLE(self, self->fd);
        else
            CO_WAIT_WRITABLE(self, self->fd);
        self->wakes++;
    }
    CO_END(self);
}

waiter *spawn_waiter(co_loop *loop, int fd, unsigned dir, int times)
{
    waiter *w = CO_NEW(loop, waiter, waiter_fn);
    cr_assert_not_null(w);
    w->fd = fd;
    w->dir = dir;
    w->times = times;
    cr_assert_eq(co_spawn(&w->gen), 0);
    return w;
}


static int script_fn(co_gen *g)
{
    script *self = (script *)g;
    CO_BEGIN(self);
    for (self->n = 0; (self->pause = self->step(self, self->n)) >= 0; self->n++)
        CO_SLEEP(self, self->pause);
    CO_END(self);
}

int run_script(co_loop *loop, int (*step)(script *, int), void *ctx)
{
    script *s = CO_NEW(loop, script, script_fn);
    cr_assert_not_null(s);
    s->step = step;
    s->ctx = ctx;
    return rx_run(loop, &s->gen);
}

void put(int fd, const char *text)
{
    size_t len = strlen(text);
    cr_assert_eq(write(fd, text, len), (ssize_t)len, "write: %s", strerror(errno));
}
