/*
 * http_server_routes.c -- what the HTTP server sample answers: a parsed
 * request head taken in (its route, its body's framing, the limits), the
 * response head and in-memory body made for its status, the file opened on
 * a worker, and the log line.  No I/O on the connection here: that is
 * http_server_conn.c's.
 */
#define _POSIX_C_SOURCE 200809L /* openat */

#include "http_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens the file on a worker: open(2) may wait for a disk, or for ever on
 * a FIFO, which O_NONBLOCK and the check for a regular file rule out. */
int64_t open_regular(void *arg)
{
    file_open *f = arg;
    struct stat st;
    int fd = openat(f->dir_fd, f->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    int err = 0;
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0)
        err = -errno;
    else if (!S_ISREG(st.st_mode))
        err = -ENOENT; /* a directory, a FIFO, a device: not served */
    if (err < 0) {
        close(fd);
        return err;
    }
    f->fd = fd;
    f->size = (int64_t)st.st_size;
    return 0;
}

/* How much of the file's rest one read takes. */
size_t chunk_size(int64_t left) { return left < FILE_CHUNK ? (size_t)left : FILE_CHUNK; }

void log_request(const conn *c, int64_t bytes)
{
    char peer[64];
    if (!c->srv->opt.log)
        return;
    conn_peer(c, peer, sizeof peer);
    printf("%s \"%s\" %d %lld\n", peer, c->rq->line, c->rq->status, (long long)bytes);
    fflush(stdout);
}

/* The response's Connection, now that the request is known. */
enum http_connection connection_of(const conn *c)
{
    if (!c->rq->keep_alive || c->srv->stopping)
        return HTTP_CLOSE;
    return c->rq->minor == 0 ? HTTP_KEEP_ALIVE : HTTP_KEEP;
}

/* Whether the connection can go on after a response of this status: not
 * after an error that may leave the stream unreadable (a bad head, a body
 * not read), nor after a timeout. */
bool keeps_stream(int status)
{
    return status < 400 || status == 403 || status == 404 || status == 405;
}

/* The response for rq->status: the greeting, an error page, or (rq->open.fd
 * open) a file's head.  An in-memory body goes into rq->out right after
 * the head, so that one write sends both. */
void make_response(conn *c)
{
    request *rq = c->rq;
    const char *type = "text/plain; charset=utf-8", *extra = NULL, *body = "Hello, world!";
    int64_t length;

    if (rq->open.fd >= 0) {
        type = http_content_type(rq->file);
        body = "";
    } else if (rq->status >= 400) {
        snprintf(rq->text, sizeof rq->text, "%d %s\n", rq->status, http_reason(rq->status));
        body = rq->text;
    }
    if (!keeps_stream(rq->status))
        rq->keep_alive = false;
    if (rq->status == 405)
        extra = "Allow: GET, HEAD\r\n";
    rq->body_len = strlen(body);
    length = rq->open.fd >= 0 ? rq->open.size : (int64_t)rq->body_len;
    rq->head_len = http_response_head(rq->out, sizeof rq->out, rq->status, type, length,
                                      connection_of(c), extra);
    if (rq->method == HTTP_METHOD_HEAD)
        rq->body_len = 0;
    rq->out_len = rq->head_len;
    rq->body = NULL;
    if (rq->body_len == 0)
        return;
    if (rq->body_len <= sizeof rq->out - rq->head_len) {
        memcpy(rq->out + rq->head_len, body, rq->body_len);
        rq->out_len += rq->body_len;
    } else {
        rq->body = body; /* static, or rq->text: it outlives the send */
    }
}

/* Copies what the log needs of the request line before the head goes. */
static void remember_request(conn *c)
{
    request *rq = c->rq;
    const http_message *m = &rq->parser.msg;
    int target = m->target_len > 100 ? 100 : (int)m->target_len;
    snprintf(rq->line, sizeof rq->line, "%.*s %.*s%s HTTP/1.%d", (int)m->method_len,
             c->buf + m->method_off, target, c->buf + m->target_off,
             target < (int)m->target_len ? "..." : "", m->minor);
}

/* Where the request goes: 0 for a file to open (rq->file), else the status
 * of a response held in memory. */
static int route(conn *c)
{
    request *rq = c->rq;
    const http_message *m = &rq->parser.msg;
    int n;
    if (m->method == HTTP_METHOD_OTHER)
        return 405;
    n = http_path_to_file(c->buf + m->path_off, m->path_len, rq->file, sizeof rq->file);
    if (n == HTTP_PATH_BAD || n == HTTP_PATH_LONG)
        return -n;
    if (n == 0 || strcmp(rq->file, "hello") == 0)
        return 200;
    if (n < 0 || c->srv->root_fd < 0)
        return 404;
    return 0;
}

/* Takes the parsed head in: the request's properties, its route, and the
 * way its body (if any) is to be read.  The request line is copied for the
 * log only when there is one. */
void take_request(conn *c)
{
    request *rq = c->rq;
    const http_message *m = &rq->parser.msg;
    rq->method = m->method;
    rq->minor = m->minor;
    rq->keep_alive = m->keep_alive;
    if (c->srv->opt.log)
        remember_request(c);
    rq->status = route(c);
    rq->body_left = !m->chunked && m->content_length > 0 ? m->content_length : 0;
    rq->body_seen = 0;
    http_chunked_init(&rq->chunked);
    conn_drop(c, m->head_len);
    if (rq->body_left > c->srv->opt.max_body) {
        rq->status = 413;
    } else if (m->expect_continue && (m->chunked || rq->body_left > 0)) {
        /* no "100 Continue": answer at once, and close rather than guess
           whether the client sends its body anyway */
        rq->keep_alive = false;
        rq->body_left = 0;
    } else if (m->chunked) {
        rq->body_left = -1;
    }
}
