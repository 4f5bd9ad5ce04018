/*
 * uv_http.c -- the benchmark's HTTP hello server on libuv, the baseline for
 * corio_http.c: the same replies, the same scan (hello.h).
 *
 *     uv_http PORT        listens on 127.0.0.1:PORT (0: any free port)
 *
 * Written the way a libuv server is written for speed: one static read
 * buffer handed out by the alloc callback, a uv_try_write of the replies
 * first, and a uv_write (with a request from malloc) only for what the
 * socket would not take at once.  The replies are static, so nothing is
 * copied.
 */
#include <uv.h>

#include <stdio.h>
#include <stdlib.h>

#include "hello.h"

typedef struct {
    uv_tcp_t tcp; /* first: the handle's address is the client's */
    unsigned char matched;
} client;

typedef struct {
    uv_write_t req;
    unsigned owed; /* replies still to write after this one */
} pending_write;

static uv_loop_t *loop;
static char inbuf[65536];

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(inbuf, sizeof inbuf);
}

static void on_closed(uv_handle_t *h) { free(h); }

static void reply(client *c, unsigned owed);

static void on_written(uv_write_t *req, int status)
{
    pending_write *w = (pending_write *)req;
    client *c = req->data;
    unsigned owed = w->owed;
    free(w);
    if (status < 0) {
        if (!uv_is_closing((uv_handle_t *)c))
            uv_close((uv_handle_t *)c, on_closed);
        return;
    }
    if (owed > 0)
        reply(c, owed);
}

/* Writes `owed` replies, HELLO_BATCH at a time; what the socket does not
 * take now goes through uv_write, which continues the rest when done. */
static void reply(client *c, unsigned owed)
{
    while (owed > 0) {
        unsigned k = owed < HELLO_BATCH ? owed : HELLO_BATCH;
        size_t len = (size_t)k * HELLO_REPLY_LEN;
        uv_buf_t b = uv_buf_init(hello_replies, (unsigned)len);
        int n = uv_try_write((uv_stream_t *)c, &b, 1);
        owed -= k;
        if (n == (int)len)
            continue;
        if (n < 0 && n != UV_EAGAIN) {
            uv_close((uv_handle_t *)c, on_closed);
            return;
        }
        {
            pending_write *w = malloc(sizeof *w);
            size_t done = n > 0 ? (size_t)n : 0;
            if (w == NULL) {
                uv_close((uv_handle_t *)c, on_closed);
                return;
            }
            w->owed = owed;
            w->req.data = c;
            b = uv_buf_init(hello_replies + done, (unsigned)(len - done));
            if (uv_write(&w->req, (uv_stream_t *)c, &b, 1, on_written) < 0) {
                free(w);
                uv_close((uv_handle_t *)c, on_closed);
            }
            return;
        }
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    client *c = (client *)s;
    if (nread < 0) {
        if (!uv_is_closing((uv_handle_t *)s))
            uv_close((uv_handle_t *)s, on_closed);
        return;
    }
    if (nread > 0)
        reply(c, hello_count_requests(&c->matched, buf->base, (size_t)nread));
}

static void on_connection(uv_stream_t *server, int status)
{
    client *c;
    if (status < 0)
        return;
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    uv_tcp_init(loop, &c->tcp);
    if (uv_accept(server, (uv_stream_t *)c) < 0) {
        uv_close((uv_handle_t *)c, on_closed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1); /* as corio and asyncio set it */
    uv_read_start((uv_stream_t *)c, on_alloc, on_read);
}

int main(int argc, char **argv)
{
    static uv_tcp_t server;
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof bound, rc;

    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    hello_init();
    loop = uv_default_loop();
    uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
    uv_tcp_init(loop, &server);
    if ((rc = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0)) < 0 ||
        (rc = uv_listen((uv_stream_t *)&server, SOMAXCONN, on_connection)) < 0 ||
        (rc = uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len)) < 0) {
        fprintf(stderr, "%s: %s\n", argv[0], uv_strerror(rc));
        return 1;
    }
    printf("listening on %d\n", ntohs(((struct sockaddr_in *)&bound)->sin_port));
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}
