/*
 * harness.c -- the HTTP tests' shared pieces (see harness.h): programs run
 * as children, the served directory, bounded blocking sockets, and a small
 * independent reader of responses.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

server_proc srv = {{-1, -1}, 0, false, ""};
char root_dir[256];
static char base_dir[200]; /* root_dir's parent: a file outside the root */

int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ files */

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(data, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

const char *root_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", root_dir, name);
    return path;
}

unsigned char pattern_byte(size_t i) { return (unsigned char)(i * 7 + i / 251); }

void make_file(const char *name, size_t n)
{
    unsigned char *data = malloc(n ? n : 1);
    size_t i;
    cr_assert_not_null(data);
    for (i = 0; i < n; i++)
        data[i] = pattern_byte(i);
    write_file(root_path(name), data, n);
    free(data);
}

static void put(const char *name, const char *text)
{
    write_file(root_path(name), text, strlen(text));
}

void http_setup(void)
{
    char path[512];
    snprintf(base_dir, sizeof base_dir, "/tmp/corio-http-XXXXXX");
    cr_assert_not_null(mkdtemp(base_dir), "mkdtemp: %s", strerror(errno));
    snprintf(root_dir, sizeof root_dir, "%s/www", base_dir);
    cr_assert_eq(mkdir(root_dir, 0700), 0);
    snprintf(path, sizeof path, "%s/outside.txt", base_dir);
    write_file(path, "not for the web\n", 16);
    put("index.html", "<h1>corio</h1>\n");
    put("style.css", "body { color: teal }\n");
    put("app.js", "console.log('hi');\n");
    put("data.json", "{\"answer\": 42}\n");
    put("notes.txt", "plain text\n");
    put("photo.PNG", "\x89PNG\r\n\x1a\n");
    put("blob.xyz", "what is this\n");
    put("README", "no extension\n");
    put("empty.txt", "");
    put(".secret", "hidden\n");
    put("with space.txt", "a space\n");
    cr_assert_eq(mkdir(root_path("sub"), 0700), 0);
    cr_assert_eq(mkdir(root_path("sub/deep"), 0700), 0);
    put("sub/deep/file.txt", "deep inside\n");
    cr_assert_eq(mkdir(root_path("dir"), 0700), 0);
    cr_assert_eq(mkfifo(root_path("fifo"), 0600), 0);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* ------------------------------------------------------------ programs */

const char *program(const char *name)
{
    const char *p = getenv(name);
    return p && *p && access(p, X_OK) == 0 ? p : NULL;
}

/* Starts argv with its stdout piped back; it dies with us. */
static proc spawn(const char *const *argv)
{
    int pipefd[2];
    proc p;
    pid_t parent = getpid();
    cr_assert_eq(pipe(pipefd), 0);
    fflush(NULL);
    p.pid = fork();
    cr_assert_neq(p.pid, -1, "fork: %s", strerror(errno));
    if (p.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        dup2(pipefd[1], STDOUT_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    p.out = pipefd[0];
    return p;
}

/* Waits for pid at most ms: its status, or -1 if it is still running. */
static int wait_exit(pid_t pid, int ms)
{
    int64_t until = now_ms() + ms;
    int status, fd = (int)syscall(SYS_pidfd_open, pid, 0);
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        int64_t left = until - now_ms();
        if (r == pid)
            break;
        if (left <= 0) {
            status = -1;
            break;
        }
        if (fd >= 0) {
            struct pollfd pfd = {fd, POLLIN, 0};
            poll(&pfd, 1, (int)left);
        } else {
            poll(NULL, 0, 5); /* no pidfd (Linux < 5.3): look again soon */
        }
    }
    if (fd >= 0)
        close(fd);
    if (status == -1)
        return -1;
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* Reads fd until EOF, at most ms in all: malloc'd, NUL-terminated. */
static char *read_all(int fd, int ms)
{
    size_t len = 0, cap = 4096;
    char *out = malloc(cap);
    int64_t until = now_ms() + ms;
    cr_assert_not_null(out);
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        ssize_t n;
        int64_t left = until - now_ms();
        cr_assert(left > 0 && poll(&pfd, 1, (int)left) == 1, "no end of output in %d ms", ms);
        if (len + 1 == cap) {
            out = realloc(out, cap *= 2);
            cr_assert_not_null(out);
        }
        n = read(fd, out + len, cap - len - 1);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    out[len] = '\0';
    return out;
}

proc program_start(const char *const *argv) { return spawn(argv); }

char *program_finish(proc *p, int *status)
{
    char *out = read_all(p->out, 2 * WAIT_MS);
    close(p->out);
    *status = wait_exit(p->pid, WAIT_MS);
    cr_assert_neq(*status, -1, "pid %d did not end", (int)p->pid);
    p->pid = -1;
    return out;
}

char *run_program(const char *const *argv, int *status)
{
    proc p = spawn(argv);
    return program_finish(&p, status);
}

void client_argv(const char *argv[40], const char *const *args)
{
    size_t n = 0;
    argv[n++] = program("HTTP_CLIENT");
    cr_assert_not_null(argv[0], "HTTP_CLIENT is not set: run this suite with `meson test`");
    while (*args && n < 39)
        argv[n++] = *args++;
    argv[n] = NULL;
}

void server_start(const char *const *args)
{
    const char *argv[40];
    const char *path = program("HTTP_SERVER");
    char line[256];
    size_t n = 0, len = 0;
    const char *colon;

    cr_assert_not_null(path, "HTTP_SERVER is not set: run this suite with `meson test`");
    argv[n++] = path;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--root";
    argv[n++] = root_dir;
    while (args && *args && n < 38)
        argv[n++] = *args++;
    argv[n] = NULL;
    srv.p = spawn(argv);
    /* the first line: "listening on http://127.0.0.1:PORT/" (or https://) */
    while (len == 0 || line[len - 1] != '\n') {
        struct pollfd pfd = {srv.p.out, POLLIN, 0};
        ssize_t r;
        cr_assert_eq(poll(&pfd, 1, WAIT_MS), 1, "the server said nothing in %d ms", WAIT_MS);
        r = read(srv.p.out, line + len, 1);
        cr_assert_eq(r, 1, "the server ended before saying where it listens");
        len++;
        cr_assert(len < sizeof line, "first line too long");
    }
    line[len] = '\0';
    colon = strrchr(line, ':');
    srv.tls = strncmp(line, "listening on https://", 21) == 0;
    cr_assert(strncmp(line, srv.tls ? "listening on https://127.0.0.1:"
                                    : "listening on http://127.0.0.1:",
                      srv.tls ? 31 : 30) == 0 &&
                  colon,
              "unexpected first line: %s", line);
    srv.port = atoi(colon + 1);
    cr_assert(srv.port > 0 && srv.port < 65536, "no port in: %s", line);
    snprintf(srv.url, sizeof srv.url, "%s://127.0.0.1:%d", srv.tls ? "https" : "http", srv.port);
}

int server_stop(int sig)
{
    int status;
    cr_assert(srv.p.pid > 0, "no server running");
    kill(srv.p.pid, sig);
    status = wait_exit(srv.p.pid, WAIT_MS);
    cr_assert_neq(status, -1, "the server did not stop within %d ms", WAIT_MS);
    srv.p.pid = -1;
    close(srv.p.out);
    srv.p.out = -1;
    return status;
}

char *server_stop_output(int sig, int *status)
{
    char *out;
    cr_assert(srv.p.pid > 0, "no server running");
    kill(srv.p.pid, sig);
    out = program_finish(&srv.p, status);
    srv.p.out = -1;
    return out;
}

int server_fds(void)
{
    char dir[64], path[320], target[256];
    DIR *d;
    struct dirent *e;
    int n = 0;
    snprintf(dir, sizeof dir, "/proc/%d/fd", (int)srv.p.pid);
    d = opendir(dir);
    cr_assert_not_null(d, "cannot list %s: %s", dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        ssize_t len;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        len = readlink(path, target, sizeof target - 1);
        if (len <= 0)
            continue; /* closed meanwhile */
        target[len] = '\0';
        /* sockets and files; not the loop's epoll, eventfd or io_uring */
        if (strncmp(target, "socket:", 7) == 0 || target[0] == '/')
            n++;
    }
    closedir(d);
    return n;
}

bool server_fds_become(int n)
{
    int64_t until = now_ms() + WAIT_MS;
    while (server_fds() != n) {
        if (now_ms() > until)
            return false;
        poll(NULL, 0, 2); /* the server closes in its own time: look again */
    }
    return true;
}

void http_teardown(void)
{
    if (srv.p.pid > 0) {
        kill(srv.p.pid, SIGKILL);
        waitpid(srv.p.pid, NULL, 0);
        srv.p.pid = -1;
    }
    if (base_dir[0])
        nftw(base_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------------ sockets */

static peer connect_with(int port, int rcvbuf)
{
    struct sockaddr_in a;
    int one = 1;
    peer p = {-1, NULL, 0, 0, false};
    p.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(p.fd >= 0);
    if (rcvbuf > 0)
        setsockopt(p.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    setsockopt(p.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(p.fd, (struct sockaddr *)&a, sizeof a), 0, "connect: %s",
                 strerror(errno));
    p.cap = 65536;
    p.buf = malloc(p.cap);
    cr_assert_not_null(p.buf);
    return p;
}

peer peer_connect(int port) { return connect_with(port, 0); }

peer peer_connect_small(int port, int rcvbuf) { return connect_with(port, rcvbuf); }

void peer_close(peer *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    free(p->buf);
    p->buf = NULL;
}

void peer_reset(peer *p)
{
    struct linger lg = {1, 0};
    setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    peer_close(p);
}

void peer_send_bytes(peer *p, const void *data, size_t n)
{
    const char *d = data;
    while (n > 0) {
        ssize_t w = send(p->fd, d, n, MSG_NOSIGNAL);
        cr_assert(w > 0, "send: %s", strerror(errno));
        d += w;
        n -= (size_t)w;
    }
}

void peer_send(peer *p, const char *s) { peer_send_bytes(p, s, strlen(s)); }

ssize_t peer_read_some(peer *p, int ms)
{
    struct pollfd pfd = {p->fd, POLLIN, 0};
    ssize_t n;
    if (poll(&pfd, 1, ms) != 1)
        return -1;
    if (p->len + 4096 > p->cap) {
        p->cap *= 2;
        p->buf = realloc(p->buf, p->cap);
        cr_assert_not_null(p->buf);
    }
    n = recv(p->fd, p->buf + p->len, p->cap - p->len - 1, 0);
    if (n < 0 && errno == ECONNRESET)
        n = 0; /* a reset ends the stream too */
    cr_assert(n >= 0, "recv: %s", strerror(errno));
    if (n == 0)
        p->eof = true;
    p->len += (size_t)n;
    return n;
}

bool peer_wait_eof(peer *p, int ms)
{
    int64_t until = now_ms() + ms;
    while (!p->eof) {
        int64_t left = until - now_ms();
        if (left <= 0 || peer_read_some(p, (int)left) < 0)
            return false;
    }
    return true;
}

/* Takes n bytes from the front of p's buffer. */
static void take(peer *p, char *out, size_t n)
{
    memcpy(out, p->buf, n);
    memmove(p->buf, p->buf + n, p->len - n);
    p->len -= n;
}

const char *header(const response *r, const char *name)
{
    static char value[1024];
    size_t n = strlen(name);
    const char *line = strstr(r->head, "\r\n");
    while (line && line[2] != '\r') {
        line += 2;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1, *end = strstr(v, "\r\n");
            while (*v == ' ')
                v++;
            snprintf(value, sizeof value, "%.*s", (int)(end - v), v);
            return value;
        }
        line = strstr(line, "\r\n");
    }
    return NULL;
}

response read_response(peer *p, bool head_request)
{
    response r;
    int64_t until = now_ms() + WAIT_MS;
    char *end;
    const char *cl;
    size_t head_len;

    memset(&r, 0, sizeof r);
    p->buf[p->len] = '\0';
    while ((end = strstr(p->buf, "\r\n\r\n")) == NULL) {
        cr_assert(!p->eof, "the connection ended before a response head (%zu bytes: %.*s)",
                  p->len, (int)p->len, p->buf);
        cr_assert(peer_read_some(p, (int)(until - now_ms())) >= 0, "no response in %d ms",
                  WAIT_MS);
        p->buf[p->len] = '\0';
    }
    head_len = (size_t)(end - p->buf) + 4;
    cr_assert(head_len < sizeof r.head, "response head too long");
    take(p, r.head, head_len);
    r.head[head_len] = '\0';
    cr_assert_eq(sscanf(r.head, "HTTP/1.1 %d ", &r.status), 1, "bad status line: %s", r.head);
    cl = header(&r, "Content-Length");
    r.length = cl ? atoll(cl) : -1;
    if (head_request || r.status == 204 || r.status == 304) {
        r.body = calloc(1, 1);
        return r;
    }
    cr_assert(r.length >= 0, "a response without Content-Length: %s", r.head);
    while (p->len < (size_t)r.length) {
        cr_assert(!p->eof, "the connection ended %zu bytes into a body of %lld", p->len,
                  r.length);
        cr_assert(peer_read_some(p, (int)(until - now_ms())) >= 0,
                  "body incomplete after %d ms", WAIT_MS);
    }
    r.body = malloc((size_t)r.length + 1);
    cr_assert_not_null(r.body);
    take(p, r.body, (size_t)r.length);
    r.body[r.length] = '\0';
    r.body_len = (size_t)r.length;
    return r;
}

response ask(peer *p, const char *request, bool head_request)
{
    peer_send(p, request);
    return read_response(p, head_request);
}

void response_free(response *r)
{
    free(r->body);
    r->body = NULL;
}

response get(const char *path)
{
    char req[1024];
    peer p = peer_connect(srv.port);
    response r;
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    peer_send(&p, req);
    r = read_response(&p, false);
    peer_close(&p);
    return r;
}
