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
    if (!c->srv->opt.log)
        return;
    printf("%s \"%s\" %d %lld\n", c->peer, c->request, c->status, (long long)bytes);
    fflush(stdout);
}

/* The response's Connection, now that the request is known. */
enum http_connection connection_of(const conn *c)
{
    if (!c->keep_alive || c->srv->stopping)
        return HTTP_CLOSE;
    return c->minor == 0 ? HTTP_KEEP_ALIVE : HTTP_KEEP;
}

/* Whether the connection can go on after a response of this status: not
 * after an error that may leave the stream unreadable (a bad head, a body
 * not read), nor after a timeout. */
bool keeps_stream(int status)
{
    return status < 400 || status == 403 || status == 404 || status == 405;
}

/* The response head and in-memory body for c->status: the greeting, an
 * error page, or (c->open.fd open) a file's head. */
void make_response(conn *c)
{
    const char *type = "text/plain; charset=utf-8", *extra = NULL;
    int64_t length;

    c->body = "Hello, world!";
    if (c->open.fd >= 0) {
        type = http_content_type(c->file);
        c->body = "";
    } else if (c->status >= 400) {
        snprintf(c->text, sizeof c->text, "%d %s\n", c->status, http_reason(c->status));
        c->body = c->text;
    }
    if (!keeps_stream(c->status))
        c->keep_alive = false;
    if (c->status == 405)
        extra = "Allow: GET, HEAD\r\n";
    c->body_len = strlen(c->body);
    length = c->open.fd >= 0 ? c->open.size : (int64_t)c->body_len;
    c->head_len = http_response_head(c->head, sizeof c->head, c->status, type, length,
                                      connection_of(c), extra);
    if (c->method == HTTP_METHOD_HEAD)
        c->body_len = 0;
}

/* Copies what the log needs of the request line before the head goes. */
static void remember_request(conn *c)
{
    const http_message *m = &c->parser.msg;
    int target = m->target_len > 100 ? 100 : (int)m->target_len;
    snprintf(c->request, sizeof c->request, "%.*s %.*s%s HTTP/1.%d", (int)m->method_len,
             c->buf + m->method_off, target, c->buf + m->target_off,
             target < (int)m->target_len ? "..." : "", m->minor);
}

/* Where the request goes: 0 for a file to open (c->file), else the status
 * of a response held in memory. */
static int route(conn *c)
{
    const http_message *m = &c->parser.msg;
    int n;
    if (m->method == HTTP_METHOD_OTHER)
        return 405;
    n = http_path_to_file(c->buf + m->path_off, m->path_len, c->file, sizeof c->file);
    if (n == HTTP_PATH_BAD || n == HTTP_PATH_LONG)
        return -n;
    if (n == 0 || strcmp(c->file, "hello") == 0)
        return 200;
    if (n < 0 || c->srv->root_fd < 0)
        return 404;
    return 0;
}

/* Takes the parsed head in: the request's properties, its route, and the
 * way its body (if any) is to be read. */
void take_request(conn *c)
{
    const http_message *m = &c->parser.msg;
    c->method = m->method;
    c->minor = m->minor;
    c->keep_alive = m->keep_alive;
    remember_request(c);
    c->status = route(c);
    c->body_left = !m->chunked && m->content_length > 0 ? m->content_length : 0;
    c->body_seen = 0;
    http_chunked_init(&c->chunked);
    conn_drop(c, m->head_len);
    if (c->body_left > c->srv->opt.max_body) {
        c->status = 413;
    } else if (m->expect_continue && (m->chunked || c->body_left > 0)) {
        /* no "100 Continue": answer at once, and close rather than guess
           whether the client sends its body anyway */
        c->keep_alive = false;
        c->body_left = 0;
    } else if (m->chunked) {
        c->body_left = -1;
    }
}

