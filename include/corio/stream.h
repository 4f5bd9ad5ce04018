/*
 * corio/stream.h -- buffered streams and a stream server: asyncio's
 * StreamReader / StreamWriter and start_server, over a connected socket or
 * a pipe.
 *
 *     typedef struct { co_gen gen; co_stream *stream; } client;  // a connection
 *
 *     static int client_fn(co_gen *g)          // async def handle(reader, writer):
 *     {
 *         client *self = (client *)g;
 *         CO_BEGIN(self);
 *         for (;;) {
 *             CO_READLINE(self, stream);       //     line = await reader.readline()
 *             if (self->stream->result <= 0)   //     if not line: break
 *                 break;
 *             co_stream_write(self->stream, self->stream->data, self->stream->len);
 *             CO_DRAIN(self, stream);          //     writer.write(line); await writer.drain()
 *         }
 *         CO_END(self);
 *     }
 *
 * A stream is named in an await by its member in the frame (`stream` above
 * is a `co_stream *` member of self), like CO_AWAIT's child: an await
 * re-reads nothing but `self` after it resumes, every other argument is
 * evaluated once when it starts, and what it needs later is kept in the
 * stream.  A C local can therefore never be used after a suspension.
 *
 * A read's outcome lands in the stream: `result` is the byte count (0 at
 * end of stream) or a negative code, `data` and `len` the bytes, which stay
 * in the stream's buffer until the next read on it.  As in net.h, I/O
 * failures are results and are never raised; only cancellation
 * (CO_ECANCELLED) and misuse are: an await outside a task (CO_ENOTASK), or a
 * second task reading one stream while a read is in flight (CO_EBUSY).
 *
 * Memory (the stream, its buffers, the task that flushes in the
 * background) comes from the loop's allocator hook; when it says no, the
 * outcome is CO_ENOMEM.
 */
#ifndef CORIO_STREAM_H
#define CORIO_STREAM_H

#include <corio/net.h>
#include <corio/sync.h>

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Streams' error codes, CO_ELIMIT and CO_ESTREAMCLOSED, are in sched.h. */

/* The longest separator CO_READUNTIL takes. */
#define CO_STREAM_SEP_MAX 32

/* Fairness: a reader that finds data waiting yields to the other ready
 * tasks (asyncio.sleep(0)) after this many reads or bytes in a row. */
#define CO_STREAM_FAIR_READS 32
#define CO_STREAM_FAIR_BYTES (256u << 10)

typedef struct co_stream_options {
    size_t limit;      /* read buffer limit, asyncio's limit= (0: 64 KiB)  */
    size_t high_water; /* drain waits above this many bytes buffered (0: 64 KiB) */
    size_t low_water;  /* ... until it is back to this many (0: high / 4)   */
} co_stream_options;

/* A stream.  Read `result`, `data`, `len` and `wresult`; the rest is
 * private.  Made by co_stream_open, given back with co_stream_close. */
typedef struct co_stream {
    ssize_t result;   /* the last read: bytes, 0 at end of stream, or a code  */
    const char *data; /* its bytes, valid until the next read of the stream   */
    size_t len;       /* bytes at data: also for CO_EOF and CO_ELIMIT         */
    int wresult;      /* the last CO_DRAIN / CO_WAIT_CLOSED: 0 or a code      */
} co_stream;

/*
 * A stream over fd (a connected socket, or either end of a pipe), which it
 * now owns: a non-blocking fd is made so.  opt may be NULL.
 * 0 and *out, or CO_ENOMEM, -EBADF, CO_EBADARG (low water above high).
 * Python: reader, writer = await asyncio.open_connection(sock=sock)
 *         (or loop.connect_read_pipe / connect_write_pipe)
 */
CO_API int co_stream_open(co_loop *loop, int fd, const co_stream_options *opt, co_stream **out);

/* The fd under the stream (-1 once it is closed). */
CO_API int co_stream_fd(const co_stream *s);

/* ------------------------------------------------------------ reading */

/* line = await reader.readline(): up to and including "\n".  result: the
 * line's length; a last line without "\n" at end of stream; 0 at end of
 * stream.  CO_ELIMIT: more than `limit` bytes before the "\n" (asyncio's
 * rule: the separator is not counted), nothing consumed (`len`
 * bytes are at `data`; consume them with CO_READ). */
#define CO_READLINE(self, s) CO__STREAM(self, s, co__stream_readuntil((self)->s, "\n", 1, 1))

/* data = await reader.readuntil(sep): up to and including sep (1 ..
 * CO_STREAM_SEP_MAX bytes, copied at the start).  CO_EOF at end of stream
 * (IncompleteReadError: the `len` bytes that came are at `data`, consumed);
 * CO_ELIMIT as CO_READLINE. */
#define CO_READUNTIL(self, s, sep, seplen) \
    CO__STREAM(self, s, co__stream_readuntil((self)->s, (sep), (seplen), 0))

/* data = await reader.readexactly(n): result n, or CO_EOF with the partial
 * bytes (IncompleteReadError.partial) at data / len.  The buffer grows to
 * n if it must, beyond the limit. */
#define CO_READEXACTLY(self, s, n) CO__STREAM(self, s, co__stream_read((self)->s, (n), 1))

/* data = await reader.read(n): 1..n bytes, what is buffered first; 0 at
 * end of stream (or for n == 0). */
#define CO_READ(self, s, n) CO__STREAM(self, s, co__stream_read((self)->s, (n), 0))

/* data = await reader.read(): everything up to end of stream, at most the
 * limit: CO_ELIMIT (nothing consumed) if there is more. */
#define CO_READ_TO_EOF(self, s) CO__STREAM(self, s, co__stream_read((self)->s, 0, 2))

/* reader.at_eof(): end of stream seen and nothing left in the buffer. */
CO_API bool co_stream_at_eof(const co_stream *s);

/* ------------------------------------------------------------ writing */

/*
 * writer.write(data): n bytes are sent at once as far as the fd takes
 * them, the rest copied into the send buffer and flushed in the
 * background.  0, or the error that broke the writing side (-EPIPE...,
 * sticky), CO_ESTREAMCLOSED after write_eof / close, CO_ENOMEM.
 */
CO_API int co_stream_write(co_stream *s, const void *data, size_t n);

/* transport.get_write_buffer_size(): bytes buffered, not yet sent. */
CO_API size_t co_stream_buffered(const co_stream *s);

/* await writer.drain(): waits while more than high_water bytes are
 * buffered, until low_water are left.  wresult: 0 or the writing error. */
#define CO_DRAIN(self, s) CO__STREAM(self, s, co__stream_drain((self)->s))

/* writer.write_eof(): once the buffer is flushed the peer reads end of
 * stream (shutdown(SHUT_WR); a pipe's writing end is closed).  0 or a code. */
CO_API int co_stream_write_eof(co_stream *s);

/*
 * writer.close(); await writer.wait_closed(): flushes the buffer (no more
 * writes), then closes the fd.  wresult: 0, or the error that lost data.
 * The stream stays readable until co_stream_close: what was buffered,
 * then end of stream (also for a read waiting as the fd closes).
 */
#define CO_WAIT_CLOSED(self, s) CO__STREAM(self, s, co__stream_wait_closed((self)->s))

/* writer.close(), and the caller lets go of s: what is buffered is flushed
 * in the background, then the fd is closed and s is freed.  A reader still
 * waiting on s must be stopped first. */
CO_API void co_stream_close(co_stream *s);

/* writer.transport.abort(): closes the fd now and frees s; unsent bytes
 * are dropped. */
CO_API void co_stream_abort(co_stream *s);

/* ------------------------------------------------------------- server */

typedef struct co_server_options {
    int backlog;          /* listen backlog; < 0 or 0: SOMAXCONN                  */
    int max_connections;  /* served at once, more wait in the backlog (0: no limit) */
    unsigned listen_flags; /* co_listen's (CO_LISTEN_REUSEPORT)                    */
    co_stream_options stream;
} co_server_options;

struct co_server;
typedef struct co__server_acceptor {
    co_gen gen;
    struct co_server *srv;
    co_io io;
} co__server_acceptor;

/* A server: caller storage (in a frame, static...) that must outlive it.
 * Read `port`, `served` and `error`; the rest is private. */
typedef struct co_server {
    int port;                  /* the TCP port it listens on (0 picks one)      */
    unsigned long long served; /* connections accepted so far                  */
    int error;                 /* why accepting stopped on its own (0: it did not) */
    co_loop *loop;
    int lfd;
    co_body body;
    size_t frame_size, stream_offset;
    co_server_options opt;
    size_t active;  /* connections whose handler runs */
    void *conns;    /* their tasks, a list            */
    co_event changed; /* a connection ended, or accepting did */
    bool closing, dropping;
    CO_TASK_STORAGE(co__server_acceptor) acceptor;
} co_server;

/*
 * server = await asyncio.start_server(handle, host, port, limit=...)
 * Listens on addr and runs, for every connection, a task with a fresh
 * zeroed frame of `type` running `body`, whose member `stream` (a
 * `co_stream *`) is the connection's stream: both reader and writer.  When
 * the handler ends (returns, fails or is cancelled) the server closes the
 * stream (what is buffered is still sent): the handler may CO_WAIT_CLOSED
 * it, but never co_stream_close it.  The frame must stay under 32 KiB.
 * opt may be NULL.  0 or a code (-EADDRINUSE..., CO_ENOMEM).
 */
CO_API int co_server_start(co_server *srv, co_loop *loop, const co_addr *addr, co_body body,
                    size_t frame_size, size_t stream_offset, const co_server_options *opt);
#define CO_SERVER_START(srv, loop, addr, type, body, opt) \
    co_server_start((srv), (loop), (addr), (body), sizeof(type), offsetof(type, stream), (opt))

/* server.close(): stops accepting and closes the listening socket; the
 * connections go on. */
CO_API void co_server_close(co_server *srv);
/* server.close_clients(): cancels every connection's handler. */
CO_API void co_server_close_clients(co_server *srv);
/* await server.wait_closed(): after co_server_close, waits until every
 * connection's handler has ended.  `srv` names a co_server member of self. */
#define CO_SERVER_WAIT_CLOSED(self, srv)                                                   \
    do {                                                                                   \
        for (;;) {                                                                         \
            int co__w = co__server_wait(&(self)->srv);                                     \
            if (co__w < 0)                                                                 \
                CO_RAISE(self, co__w);                                                     \
            if (co__w > 0)                                                                 \
                break;                                                                     \
            CO__SUSPEND_TASK(self, false);                                                 \
        }                                                                                  \
    } while (0)

/* ------------------------------------------------------------ internals */

/* Start an operation: 1 done, 0 the task now waits (suspend), <0 raise. */
CO_API int co__stream_readuntil(co_stream *s, const void *sep, size_t seplen, int line);
CO_API int co__stream_read(co_stream *s, size_t n, int mode);
CO_API int co__stream_drain(co_stream *s);
CO_API int co__stream_wait_closed(co_stream *s);
/* Back from the wait with the error thrown there (0: none): the same. */
CO_API int co__stream_again(co_stream *s, int thrown);
CO_API int co__server_wait(co_server *srv);

#define CO__STREAM(self, s, start)                                                         \
    do {                                                                                   \
        int co__r = (start);                                                               \
        while (co__r == 0) {                                                               \
            CO__SUSPEND_TASK(self, true);                                                  \
            co__r = co__stream_again((self)->s, CO_THROWN(self));                          \
        }                                                                                  \
        if (co__r < 0)                                                                     \
            CO_RAISE(self, co__r);                                                         \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif /* CORIO_STREAM_H */
