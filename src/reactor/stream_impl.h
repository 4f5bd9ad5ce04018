/*
 * stream_impl.h -- a stream's insides, shared by its read side (stream.c),
 * its write side (stream_write.c) and the server (server.c).
 *
 * A read op keeps everything it needs across a suspension here: its kind,
 * its count, a copy of its separator, how far the search got.  The bytes
 * a read hands out stay at the front of the read buffer until the next
 * read starts, so a result needs no copy.
 */
#ifndef CORIO_STREAM_IMPL_H
#define CORIO_STREAM_IMPL_H

#include <corio/stream.h>

#include "reactor.h"

/* stream.rop: the read op in flight */
enum { ROP_NONE, ROP_UNTIL, ROP_LINE, ROP_READ, ROP_EXACTLY, ROP_ALL, ROP_HANDSHAKE };
/* stream.rstate */
enum { RS_RUN, RS_WAITING, RS_YIELDED };

typedef struct stream {
    co_stream pub;
    co_loop *loop;
    int fd;
    bool sock;     /* recv/send (no SIGPIPE); else read/write */
    void *tls;     /* the TLS session over fd (tls.c), or NULL */
    const struct co__transport *tr; /* its operations, set with it */
    unsigned want; /* the direction a read op waits for       */
    /* reading */
    char *rbuf;
    size_t rcap, rstart, rend; /* buffered bytes: rbuf[rstart, rend)   */
    size_t consume;            /* handed out by the last read          */
    size_t limit;
    co_task *reader;           /* the task in a read op                */
    uint8_t rop, rstate;
    bool eof;
    int rerr;                  /* the read error, after what was buffered */
    size_t n, scanned;         /* the op's count; bytes searched so far */
    char sep[CO_STREAM_SEP_MAX];
    size_t seplen;
    unsigned streak;           /* reads in a row that did not wait     */
    size_t streak_bytes;
    /* writing */
    char *wbuf;
    size_t wcap, wstart, wend; /* unsent bytes: wbuf[wstart, wend)     */
    size_t high, low;
    int werr;                  /* sticky: the error that broke writing */
    bool eof_wanted;           /* write_eof or close: no more writes   */
    bool wshut;                /* the writing side is shut             */
    bool released;             /* co_stream_close: free when flushed   */
    co_gen *flusher;           /* the background flush task, or NULL   */
    co_event flushed;          /* set when the flusher makes room or ends */
    bool closing;              /* in CO_WAIT_CLOSED: waiters wait for all */
} stream;

static inline stream *co__stream(co_stream *s) { return (stream *)(void *)s; }

/* Starts read op `op` on s for the current task (stream.c): 1 done, 0
 * suspend, <0 raise. */
int co__stream_op(stream *s, uint8_t op);

/* Moving bytes (stream.c): through TLS when the stream has it.  A count,
 * 0 at end of stream, or a code: -EAGAIN with *want the fd direction to
 * wait for (a TLS read may need the fd writable, a write readable). */
ssize_t co__stream_rd(stream *s, void *buf, size_t n, unsigned *want);
ssize_t co__stream_wr(stream *s, const void *buf, size_t n, unsigned *want);

/* TLS (tls.c): the same for a session, one handshake step (1 done, 0
 * wait for *want, <0 a code), and the end of a session: shut (sends
 * close_notify) and free. */
/* A secure transport over the fd (tls.c installs it with its session):
 * the stream reaches it only through these, so the streams' files do not
 * depend on tls.c.  The results are those of co__stream_rd and _wr. */
typedef struct co__transport {
    ssize_t (*rd)(stream *s, void *buf, size_t n, unsigned *want);
    ssize_t (*wr)(stream *s, const void *buf, size_t n, unsigned *want);
    /* 1 done, 0 wait for *want, <0 the failure */
    int (*handshake_step)(stream *s, unsigned *want);
    /* close_notify, as far as the fd takes it now */
    int (*shutdown)(stream *s);
    /* frees the session; s->tls and s->tr are NULL after */
    void (*free)(stream *s);
} co__transport;

/* The write side's pieces (stream_write.c). */
void co__stream_write_fini(stream *s);
int co__stream_drain_again(stream *s, int thrown);
/* Closes the fd (once), through the loop. */
void co__stream_close_fd(stream *s);
/* Frees the buffers and the stream. */
void co__stream_free(stream *s);

/* The current task was woken by an event: forget the hand-over flag, since
 * the stream re-checks its own condition instead of waiting again. */
static inline void co__stream_took_wakeup(co_loop *loop)
{
    if (loop->current)
        loop->current->flags &= (uint8_t)~CO__T_HANDED;
}

#endif /* CORIO_STREAM_IMPL_H */
