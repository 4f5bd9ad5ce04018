/*
 * stream.c -- buffered streams, the reading side: opening a stream over a
 * socket or a pipe, and the state machines behind CO_READLINE,
 * CO_READUNTIL, CO_READEXACTLY, CO_READ and CO_READ_TO_EOF.
 *
 * Every read is "complete it from the buffer if the buffer holds the
 * answer; else read more from the fd, or wait for the fd and try again".
 * The answer is handed out in place (data/len point into the buffer) and
 * dropped from the buffer when the next read starts, so a line costs no
 * copy.  A read that can finish at once does so without suspending, but a
 * reader that keeps finding data yields to the other tasks now and then
 * (CO_STREAM_FAIR_READS), so one busy peer cannot starve the loop.
 */
#include "stream_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MSG_NOSIGNAL /* where it is missing, SO_NOSIGPIPE does its work */
#define MSG_NOSIGNAL 0
#endif

#define DEFAULT_LIMIT (64u << 10)
#define DEFAULT_HIGH (64u << 10)
#define FIRST_BUFFER (16u << 10)

/* ------------------------------------------------------------- opening */

static int make_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -errno;
    if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}

int co_stream_open(co_loop *loop, int fd, const co_stream_options *opt, co_stream **out)
{
    co_stream_options o = {0};
    struct stat st;
    stream *s;
    int rc;
    if (out == NULL || loop == NULL)
        return CO_EBADARG;
    *out = NULL;
    if (opt)
        o = *opt;
    if (o.limit == 0)
        o.limit = DEFAULT_LIMIT;
    if (o.limit > SIZE_MAX - CO_STREAM_SEP_MAX) /* limit + a separator must not wrap */
        o.limit = SIZE_MAX - CO_STREAM_SEP_MAX;
    if (o.high_water == 0)
        o.high_water = DEFAULT_HIGH;
    if (o.low_water == 0)
        o.low_water = o.high_water / 4;
    if (o.low_water > o.high_water)
        return CO_EBADARG;
    if (fstat(fd, &st) < 0)
        return -errno;
    if ((rc = make_nonblocking(fd)) < 0)
        return rc;
    s = co__alloc(loop, sizeof *s);
    if (s == NULL)
        return CO_ENOMEM;
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->fd = fd;
    s->sock = S_ISSOCK(st.st_mode);
    s->limit = o.limit;
    s->high = o.high_water;
    s->low = o.low_water;
    co_event_init(&s->flushed);
    *out = &s->pub;
    return 0;
}

int co_stream_fd(const co_stream *pub) { return pub ? ((const stream *)(const void *)pub)->fd : -1; }

bool co_stream_at_eof(const co_stream *pub)
{
    const stream *s = (const stream *)(const void *)pub;
    return s->eof && s->rend - s->rstart == s->consume;
}


/* ------------------------------------------------------ a read's outcome */

/* Ends the read op: `len` bytes at the buffer's front are the answer, of
 * which `consume` leave the buffer when the next read starts. */
static int finish(stream *s, ssize_t result, size_t len, size_t consume)
{
    s->pub.result = result;
    s->pub.data = s->rbuf ? s->rbuf + s->rstart : NULL;
    s->pub.len = len;
    s->consume = consume;
    s->reader = NULL;
    s->rop = ROP_NONE;
    s->streak++;
    s->streak_bytes += len;
    return 1;
}

/* The first `seplen`-byte separator at or after byte `from` of the
 * buffered data, or -1. */
static ssize_t find_sep(const stream *s, size_t from)
{
    size_t avail = s->rend - s->rstart;
    if (s->rbuf == NULL) /* nothing buffered yet (NULL + 0 is undefined) */
        return -1;
    const char *p = s->rbuf + s->rstart;
    while (from + s->seplen <= avail) {
        const char *hit = memchr(p + from, s->sep[0], avail - from - s->seplen + 1);
        if (hit == NULL)
            return -1;
        if (memcmp(hit, s->sep, s->seplen) == 0)
            return hit - p;
        from = (size_t)(hit - p) + 1;
    }
    return -1;
}

/* The limit counts the bytes before the separator, as asyncio's does: a
 * line of `limit` bytes and its separator is taken, one byte more is an
 * overrun (and the buffer grows to limit + seplen to tell them apart). */
static int complete_until(stream *s, size_t avail)
{
    size_t from = s->scanned >= s->seplen ? s->scanned - s->seplen + 1 : 0;
    ssize_t at = find_sep(s, from);
    if (at >= 0) {
        size_t len = (size_t)at + s->seplen;
        if ((size_t)at > s->limit) /* found, but past the limit: nothing is consumed */
            return finish(s, CO_ELIMIT, avail, 0);
        return finish(s, (ssize_t)len, len, len);
    }
    s->scanned = avail;
    if (avail >= s->limit + s->seplen)
        return finish(s, CO_ELIMIT, avail, 0);
    if (s->eof) /* readline gives the last line; readuntil an IncompleteReadError */
        return s->rop == ROP_LINE ? finish(s, (ssize_t)avail, avail, avail)
                                  : finish(s, CO_EOF, avail, avail);
    if (s->rerr) /* what came before the error stays in the buffer */
        return finish(s, s->rerr, avail, 0);
    return 0;
}

/* Completes the op from what is buffered (1), or says more is needed (0). */
static int complete(stream *s)
{
    size_t avail = s->rend - s->rstart;
    switch (s->rop) {
    case ROP_READ:
        if (s->n == 0)
            return finish(s, 0, 0, 0);
        if (avail) {
            size_t len = avail < s->n ? avail : s->n;
            return finish(s, (ssize_t)len, len, len);
        }
        if (s->eof)
            return finish(s, 0, 0, 0);
        return s->rerr ? finish(s, s->rerr, 0, 0) : 0;
    case ROP_EXACTLY:
        if (avail >= s->n)
            return finish(s, (ssize_t)s->n, s->n, s->n);
        if (s->eof)
            return finish(s, CO_EOF, avail, avail);
        return s->rerr ? finish(s, s->rerr, avail, 0) : 0;
    case ROP_ALL:
        if (s->eof)
            return finish(s, (ssize_t)avail, avail, avail);
        if (avail >= s->limit)
            return finish(s, CO_ELIMIT, avail, 0);
        return s->rerr ? finish(s, s->rerr, avail, 0) : 0;
    default:
        return complete_until(s, avail);
    }
}

/* ------------------------------------------------------------- filling */

/* Room for at least one more byte at the buffer's end: compacts, or grows
 * towards what the op may need.  0 or CO_ENOMEM. */
static int make_room(stream *s)
{
    size_t need = s->rop == ROP_EXACTLY && s->n > s->limit ? s->n
                  : s->rop == ROP_LINE || s->rop == ROP_UNTIL ? s->limit + s->seplen
                                                               : s->limit;
    size_t cap;
    char *b;
    if (s->rend < s->rcap)
        return 0;
    if (s->rstart > 0) {
        memmove(s->rbuf, s->rbuf + s->rstart, s->rend - s->rstart);
        s->rend -= s->rstart;
        s->rstart = 0;
        return 0;
    }
    cap = s->rcap ? s->rcap * 2 : FIRST_BUFFER;
    if (cap > need)
        cap = need > s->rcap ? need : s->rcap + 1;
    b = co__alloc(s->loop, cap);
    if (b == NULL)
        return CO_ENOMEM;
    if (s->rend)
        memcpy(b, s->rbuf, s->rend);
    co__free(s->loop, s->rbuf, s->rcap);
    s->rbuf = b;
    s->rcap = cap;
    return 0;
}

/* The read op waits for the fd to be ready for `want`: 0 (suspend), 1 it
 * could not (the error is the outcome), <0 misuse to raise. */
static int wait_fd(stream *s, unsigned want)
{
    int rc = co__fd_wait(s->loop, s->fd, want);
    if (rc == CO_EBUSY || rc == CO_ENOTASK) {
        finish(s, rc, s->rend - s->rstart, 0);
        return rc;
    }
    if (rc < 0) {
        s->rerr = rc;
        return 1;
    }
    s->rstate = RS_WAITING;
    s->streak = 0;
    s->streak_bytes = 0;
    return 0;
}

/* Reads what the fd has into the buffer: 1 something changed (bytes, end
 * of stream, an error), 0 the task now waits for the fd, <0 raise.  A
 * plain fd that a short read left drained is waited for first (reactor.h);
 * TLS keeps bytes of its own above the fd, so it always tries. */
static int fill(stream *s)
{
    int rc = make_room(s);
    co_reactor *r = s->tr ? NULL : s->loop->reactor;
    if (rc < 0) {
        finish(s, rc, s->rend - s->rstart, 0);
        return 1;
    }
    if (co__fd_drained(r, s->fd))
        return wait_fd(s, CO_READABLE);
    {
        unsigned want = CO_READABLE;
        size_t room = s->rcap - s->rend;
        ssize_t k = co__stream_rd(s, s->rbuf + s->rend, room, &want);
        if (k > 0) {
            s->rend += (size_t)k;
            if ((size_t)k < room)
                co__fd_set_drained(r, s->fd);
            return 1;
        }
        if (k == 0) {
            s->eof = true;
            return 1;
        }
        if (k != -EAGAIN) {
            s->rerr = (int)k;
            return 1;
        }
        return wait_fd(s, want);
    }
}

/* The TLS handshake, as a read op: it reads and writes until done. */
static int handshake(stream *s)
{
    for (;;) {
        unsigned want = CO_READABLE;
        int rc = s->rerr ? s->rerr : s->fd < 0 ? -EBADF : s->tr->handshake_step(s, &want);
        if (rc > 0)
            return finish(s, 0, 0, 0);
        if (rc < 0)
            return finish(s, rc, 0, 0);
        if ((rc = wait_fd(s, want)) != 1)
            return rc;
        if (s->rop == ROP_NONE)
            return 1;
        rc = s->rerr; /* the wait failed */
        s->rerr = 0;
        return finish(s, rc, 0, 0);
    }
}

static int step(stream *s)
{
    if (s->rop == ROP_HANDSHAKE)
        return handshake(s);
    for (;;) {
        int rc;
        if (s->fd < 0 && !s->eof && !s->rerr)
            s->rerr = -EBADF;
        if (complete(s))
            return 1;
        if ((rc = fill(s)) <= 0)
            return rc;
        if (s->rop == ROP_NONE) /* fill finished the op (out of memory) */
            return 1;
    }
}

/* ---------------------------------------------------------- the ops */

/* Sets up read op `op` for the current task; what the last read handed
 * out leaves the buffer now.  1 done, 0 suspend, <0 raise. */
static int begin(stream *s, uint8_t op, size_t n)
{
    co_loop *loop = co__loop();
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (s->reader)
        return CO_EBUSY;
    s->rstart += s->consume;
    s->consume = 0;
    if (s->rstart == s->rend)
        s->rstart = s->rend = 0;
    s->reader = loop->current;
    s->rop = op;
    s->n = n;
    s->scanned = 0;
    s->rstate = RS_RUN;
    if (s->streak >= CO_STREAM_FAIR_READS || s->streak_bytes >= CO_STREAM_FAIR_BYTES) {
        /* a fast peer: let the rest of the loop run before this read */
        int rc = co__sleep(0);
        s->streak = 0;
        s->streak_bytes = 0;
        if (rc == 0) {
            s->rstate = RS_YIELDED;
            return 0;
        }
    }
    return step(s);
}

int co__stream_op(stream *s, uint8_t op) { return begin(s, op, 0); }

int co__stream_readuntil(co_stream *pub, const void *sep, size_t seplen, int line)
{
    stream *s = co__stream(pub);
    if (s == NULL || sep == NULL || seplen == 0 || seplen > CO_STREAM_SEP_MAX)
        return CO_EBADARG;
    if (s->reader)
        return CO_EBUSY;
    memcpy(s->sep, sep, seplen); /* kept: the caller's bytes may not survive */
    s->seplen = seplen;
    return begin(s, line ? ROP_LINE : ROP_UNTIL, 0);
}

int co__stream_read(co_stream *pub, size_t n, int mode)
{
    stream *s = co__stream(pub);
    if (s == NULL)
        return CO_EBADARG;
    if (mode == 1 && n > (size_t)SSIZE_MAX)
        return CO_EBADARG;
    return begin(s, mode == 1 ? ROP_EXACTLY : mode == 2 ? ROP_ALL : ROP_READ, n);
}

/* A read resumed: cancelled (the op ends, nothing is consumed), woken by
 * the fd, or back from its fairness yield. */
static int read_again(stream *s, int thrown)
{
    if (thrown < 0) {
        s->reader = NULL;
        s->rop = ROP_NONE;
        s->pub.result = thrown;
        s->pub.len = 0;
        return thrown;
    }
    if (s->rstate == RS_WAITING && co__wait_fd_end() == -EBADF)
        s->rerr = -EBADF;
    s->rstate = RS_RUN;
    return step(s);
}

int co__stream_again(co_stream *pub, int thrown)
{
    stream *s = co__stream(pub);
    co_loop *loop = co__loop();
    if (s->reader && s->reader == loop->current)
        return read_again(s, thrown);
    return co__stream_drain_again(s, thrown);
}
