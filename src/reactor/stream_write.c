/*
 * stream_write.c -- buffered streams, the writing side: write into the send
 * buffer, the background flush, drain with high and low water marks,
 * write_eof, wait_closed, close and abort.
 *
 * A write goes straight to the fd when nothing is queued before it; what
 * the fd does not take is copied into the send buffer, and a small task of
 * the stream's own (the flusher, made only then) sends it as the fd
 * becomes writable -- asyncio's transport does the same with a writer
 * callback.  Drainers and closers wait on the stream's `flushed` event,
 * which the flusher sets whenever it makes room and when it ends.  A
 * stream the caller has let go of (co_stream_close) is freed by whoever
 * finishes with it last: the close itself, or the flusher.
 */
#include "stream_impl.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static size_t buffered(const stream *s) { return s->wend - s->wstart; }

size_t co_stream_buffered(const co_stream *pub)
{
    return buffered((const stream *)(const void *)pub);
}

/* Writes from p until the fd would block: 0 (*done bytes went, *want the
 * direction to wait for) or a code. */
static int put(stream *s, const char *p, size_t n, size_t *done, unsigned *want)
{
    *done = 0;
    while (*done < n) {
        ssize_t k = co__stream_wr(s, p + *done, n - *done, want);
        if (k >= 0)
            *done += (size_t)k;
        else
            return k == -EAGAIN ? 0 : (int)k;
    }
    return 0;
}

/* Copies n bytes to the end of the send buffer.  0 or CO_ENOMEM. */
static int append(stream *s, const char *p, size_t n)
{
    size_t have = buffered(s);
    if (s->wcap - s->wend < n && s->wstart > 0) { /* slide what is left to the front */
        memmove(s->wbuf, s->wbuf + s->wstart, have);
        s->wstart = 0;
        s->wend = have;
    }
    if (s->wcap - s->wend < n) {
        size_t cap = s->wcap ? s->wcap : 4096;
        char *b;
        while (cap < have + n)
            cap *= 2;
        b = co__alloc(s->loop, cap);
        if (b == NULL)
            return CO_ENOMEM;
        if (have)
            memcpy(b, s->wbuf + s->wstart, have);
        co__free(s->loop, s->wbuf, s->wcap);
        s->wbuf = b;
        s->wcap = cap;
        s->wstart = 0;
        s->wend = have;
    }
    memcpy(s->wbuf + s->wend, p, n);
    s->wend += n;
    return 0;
}

/* The writing side is done: the peer reads end of stream. */
static int shut_write(stream *s)
{
    int rc = 0;
    s->wshut = true;
    if (s->fd < 0)
        return 0;
    if (s->tr) /* TLS has no half-close but close_notify: the peer reads EOF */
        rc = s->tr->shutdown(s);
    else if (!s->sock) /* a pipe's writing end has no half-close: close it */
        co__stream_close_fd(s);
    else if (shutdown(s->fd, SHUT_WR) < 0 && errno != ENOTCONN)
        rc = -errno;
    return rc;
}

/* ------------------------------------------------------------ flusher */

typedef struct flusher {
    co_gen gen;
    stream *s;
    unsigned want;
} flusher;

/* Sends what is buffered: 1 all gone, 0 the fd is full (wait for *want),
 * <0 an error. */
static int flush_some(stream *s, unsigned *want)
{
    size_t done;
    int rc;
    if (s->fd < 0)
        return -EBADF;
    rc = put(s, s->wbuf + s->wstart, buffered(s), &done, want);
    s->wstart += done;
    if (s->wstart == s->wend)
        s->wstart = s->wend = 0;
    if (rc < 0)
        return rc;
    return buffered(s) == 0;
}

static void flusher_done(stream *s, int err)
{
    s->flusher = NULL;
    if (err < 0 && s->werr == 0 && buffered(s))
        s->werr = err;
    if (s->werr) /* those bytes can never go out now */
        s->wstart = s->wend = 0;
    else if (s->eof_wanted && !s->wshut)
        s->werr = shut_write(s);
    co_event_set(&s->flushed);
    if (s->released) {
        co__stream_close_fd(s);
        co__stream_free(s);
    }
}

static int flusher_fn(co_gen *g)
{
    flusher *self = (flusher *)g;
    CO_BEGIN(self);
    for (;;) {
        int rc = flush_some(self->s, &self->want);
        if (rc < 0)
            self->s->werr = rc;
        if (rc != 0 || buffered(self->s) <= self->s->low)
            co_event_set(&self->s->flushed);
        if (rc != 0)
            break;
        rc = co__fd_wait(self->s->loop, self->s->fd, self->want);
        if (rc == CO_EBUSY) { /* TLS wants to read, and the reader waits for that */
            CO_SLEEP(self, 1);
            continue;
        }
        if (rc < 0) {
            self->s->werr = rc;
            break;
        }
        CO__SUSPEND_TASK(self, false); /* cancelled: unwinds to the cleanup */
        if (co__wait_fd_end() == -EBADF) {
            self->s->werr = -EBADF;
            break;
        }
    }
    CO_FINALLY(self) { flusher_done(self->s, CO_THROWN(self)); }
    CO_END(self);
}

/* Starts the flusher if it is not running.  0 or an error (also kept). */
static int need_flusher(stream *s)
{
    flusher *f;
    int rc;
    if (s->flusher)
        return 0;
    f = CO_NEW(s->loop, flusher, flusher_fn);
    if (f == NULL)
        return s->werr = CO_ENOMEM;
    f->s = s;
    if ((rc = co_spawn(&f->gen)) < 0) {
        co_release(&f->gen);
        return s->werr = rc;
    }
    co_release(&f->gen); /* the loop frees it when it ends */
    s->flusher = &f->gen;
    return 0;
}

/* ------------------------------------------------------------ writing */

int co_stream_write(co_stream *pub, const void *data, size_t n)
{
    stream *s = co__stream(pub);
    size_t done = 0;
    unsigned want;
    int rc;
    if (s == NULL || (data == NULL && n))
        return CO_EBADARG;
    if (s->werr)
        return s->werr;
    if (s->eof_wanted || s->released)
        return CO_ESTREAMCLOSED;
    if (n == 0)
        return 0;
    if (s->fd < 0)
        return s->werr = -EBADF;
    if (buffered(s) == 0 && s->flusher == NULL) { /* nothing queued: straight out */
        if ((rc = put(s, data, n, &done, &want)) < 0)
            return s->werr = rc;
        if (done == n)
            return 0;
    }
    if ((rc = append(s, (const char *)data + done, n - done)) < 0)
        return s->werr = rc;
    return need_flusher(s);
}

int co_stream_write_eof(co_stream *pub)
{
    stream *s = co__stream(pub);
    if (s == NULL)
        return CO_EBADARG;
    if (s->werr)
        return s->werr;
    if (s->eof_wanted)
        return 0;
    s->eof_wanted = true;
    if (buffered(s) == 0 && s->flusher == NULL)
        return s->werr = shut_write(s);
    return 0; /* the flusher shuts it once the buffer is out */
}

/* ------------------------------------------------ drain, wait_closed */

/* Whether a waiting drainer or closer is done; a closer closes the fd. */
static bool write_wait_done(stream *s)
{
    if (s->werr == 0) {
        if (s->closing ? (s->flusher != NULL || buffered(s) > 0) : buffered(s) > s->low)
            return false;
    }
    if (s->closing)
        co__stream_close_fd(s);
    s->pub.wresult = s->werr;
    return true;
}

/* Waits on `flushed` until the condition holds.  1 done, 0 suspend. */
static int write_wait(stream *s)
{
    for (;;) {
        int rc;
        if (write_wait_done(s))
            return 1;
        co_event_clear(&s->flushed);
        if ((rc = co__event_wait(&s->flushed)) <= 0)
            return rc;
    }
}

static int write_begin(stream *s)
{
    co_loop *loop = co__loop();
    if (s == NULL)
        return CO_EBADARG;
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    s->pub.wresult = 0;
    return 0;
}

int co__stream_drain(co_stream *pub)
{
    stream *s = co__stream(pub);
    int rc = write_begin(s);
    if (rc < 0)
        return rc;
    if (s->werr || buffered(s) <= s->high) {
        s->pub.wresult = s->werr;
        return 1;
    }
    return write_wait(s);
}

int co__stream_wait_closed(co_stream *pub)
{
    stream *s = co__stream(pub);
    int rc = write_begin(s);
    if (rc < 0)
        return rc;
    s->eof_wanted = true; /* no more writes; a drainer now waits for all */
    s->closing = true;
    if (s->flusher == NULL && s->werr == 0 && buffered(s) > 0 && need_flusher(s) < 0)
        s->wstart = s->wend = 0;
    return write_wait(s);
}

int co__stream_drain_again(stream *s, int thrown)
{
    co__stream_took_wakeup(s->loop);
    if (thrown < 0) {
        s->pub.wresult = thrown;
        return thrown;
    }
    return write_wait(s);
}

/* ------------------------------------------------------- letting go */

void co_stream_close(co_stream *pub)
{
    stream *s = co__stream(pub);
    if (s == NULL || s->released)
        return;
    s->released = true;
    s->eof_wanted = true;
    if (s->flusher == NULL && s->werr == 0 && buffered(s) > 0 && need_flusher(s) < 0)
        s->wstart = s->wend = 0;
    if (s->flusher == NULL) {
        co__stream_close_fd(s);
        co__stream_free(s);
    } /* else the flusher frees it once the buffer is out */
}

void co_stream_abort(co_stream *pub)
{
    stream *s = co__stream(pub);
    if (s == NULL)
        return;
    s->released = true;
    s->eof_wanted = true;
    s->wstart = s->wend = 0;
    if (s->werr == 0)
        s->werr = CO_ESTREAMCLOSED;
    /* a flusher waiting on the fd wakes with -EBADF and frees the stream */
    co__stream_close_fd(s);
    if (s->flusher == NULL)
        co__stream_free(s);
}
