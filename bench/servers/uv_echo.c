/*
 * uv_echo.c -- the benchmark's TCP echo server on libuv, the baseline for
 * samples/echo_server.c.
 *
 *     uv_echo PORT        listens on 127.0.0.1:PORT (0: any free port)
 *
 * Written the way a libuv server is written for speed: one static read
 * buffer handed out by the alloc callback, and a uv_try_write of what was
 * read; only what the socket would not take at once is copied, into a
 * write request of its own, and reading pauses until it is written (as
 * the corio server, which waits in CO_SEND_ALL, reads no more meanwhile).
 */
#include <uv.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uv_write_t req;
    char data[]; /* the bytes the socket did not take at once */
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

static void close_client(uv_stream_t *s)
{
    if (!uv_is_closing((uv_handle_t *)s))
        uv_close((uv_handle_t *)s, on_closed);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void on_written(uv_write_t *req, int status)
{
    uv_stream_t *s = req->handle;
    free(req);
    if (status < 0 || uv_read_start(s, on_alloc, on_read) < 0)
        close_client(s);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    uv_buf_t b;
    int n;
    if (nread < 0) {
        close_client(s);
        return;
    }
    if (nread == 0)
        return;
    b = uv_buf_init(buf->base, (unsigned)nread);
    n = uv_try_write(s, &b, 1);
    if (n == nread)
        return;
    if (n < 0 && n != UV_EAGAIN) {
        close_client(s);
        return;
    }
    {
        size_t done = n > 0 ? (size_t)n : 0, rest = (size_t)nread - done;
        pending_write *w = malloc(sizeof *w + rest);
        if (w == NULL) {
            close_client(s);
            return;
        }
        memcpy(w->data, buf->base + done, rest);
        b = uv_buf_init(w->data, (unsigned)rest);
        uv_read_stop(s);
        if (uv_write(&w->req, s, &b, 1, on_written) < 0) {
            free(w);
            close_client(s);
        }
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    uv_tcp_t *c;
    if (status < 0)
        return;
    c = malloc(sizeof *c);
    if (c == NULL)
        return;
    uv_tcp_init(loop, c);
    if (uv_accept(server, (uv_stream_t *)c) < 0) {
        uv_close((uv_handle_t *)c, on_closed);
        return;
    }
    uv_tcp_nodelay(c, 1); /* as corio and asyncio set it */
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
