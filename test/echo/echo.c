/*
 * echo.c -- the `echo` suite: samples/echo_server and samples/echo_client,
 * run as the programs they are, on loopback TCP.
 *
 * Each test starts the server on a free port (--port 0; the port is read
 * from its first line) and talks to it with the client sample or with
 * plain blocking sockets of its own, so that a client bug cannot hide a
 * server bug.  The server runs on the readiness backend named by
 * $CORIO_BACKEND, which it inherits and names in that first line.  What the
 * server prints when it stops (connections served, bytes echoed, per
 * thread) is checked against what the test sent.
 *
 * Every wait for a socket has a time limit (poll), so a server that hangs
 * fails a test instead of stalling the suite.  meson passes the binaries in
 * ECHO_SERVER and ECHO_CLIENT.
 */
#define _GNU_SOURCE /* MSG_NOSIGNAL, MSG_DONTWAIT and the POSIX calls */

#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

enum { WAIT_MS = 10000 }; /* the longest any single socket wait may take */

/* ---------------------------------------------------------- processes */

typedef struct {
    pid_t pid;
    FILE *out; /* its stdout */
} proc;

static const char *env(const char *name)
{
    const char *v = getenv(name);
    cr_assert(v && *v, "%s is not set: run this suite with `meson test`", name);
    return v;
}

/*
 * The programs a test started and has not yet waited for.  A failed
 * assertion ends the test at once, so they are killed on every exit path
 * by the suite's fini (kill_children): a server left running would hold
 * the test's output open, and meson would wait for it until its TIMEOUT
 * instead of reporting the FAIL.  Each runs in a process group of its own,
 * so what it starts in turn (the client's --with-server) goes too; on
 * Linux it also dies with the test process, should that crash.
 */
static pid_t children[8];
static size_t nchildren;

static void forget_child(pid_t pid)
{
    size_t i;
    for (i = 0; i < nchildren; i++)
        if (children[i] == pid)
            children[i] = children[--nchildren];
}

static void kill_children(void)
{
    while (nchildren > 0) {
        pid_t pid = children[--nchildren];
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
}

/* Starts argv with its stdout piped to us.  The child gets the default
 * actions of the signals the tests send, whatever the runner set. */
static proc spawn(char *const argv[])
{
    int fds[2];
    proc p;
    pid_t parent = getpid();
    cr_assert_lt(nchildren, sizeof children / sizeof children[0]);
    cr_assert_eq(pipe(fds), 0, "pipe: %s", strerror(errno));
    fflush(NULL);
    p.pid = fork();
    cr_assert_neq(p.pid, -1, "fork: %s", strerror(errno));
    if (p.pid == 0) {
        sigset_t none;
        setpgid(0, 0);
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127); /* the test is already gone */
#endif
        (void)parent;
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    children[nchildren++] = p.pid;
    setpgid(p.pid, p.pid); /* as the child does: whichever runs first */
    close(fds[1]);
    p.out = fdopen(fds[0], "r");
    cr_assert_not_null(p.out);
    return p;
}

/* Everything p still prints, then its exit status (128 + n: killed by n). */
static int finish(proc *p, char *text, size_t size)
{
    size_t n = fread(text, 1, size - 1, p->out);
    int status;
    text[n] = '\0';
    fclose(p->out);
    cr_assert_eq(waitpid(p->pid, &status, 0), p->pid);
    forget_child(p->pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ------------------------------------------------------------- server */

typedef struct {
    proc p;
    int port;
    int threads;
} server;

/* echo_server --port 0 --threads k: waits for its first line and checks
 * it: the address, the thread count, the backend under test. */
static server start_server(int threads)
{
    char k[16], line[256], host[64], backend[32];
    char *argv[] = {(char *)env("ECHO_SERVER"), "--port", "0", "--threads", k, NULL};
    const char *want = getenv("CORIO_BACKEND"), *tail;
    int got_threads;
    server s;
    snprintf(k, sizeof k, "%d", threads);
    s.p = spawn(argv);
    s.threads = threads;
    cr_assert_not_null(fgets(line, sizeof line, s.p.out), "the server printed nothing");
    cr_assert_eq(sscanf(line, "serving on %63[^:]:%d (%d thread", host, &s.port, &got_threads), 3,
                 "unexpected first line: %s", line);
    tail = strrchr(line, ',');
    cr_assert(tail && sscanf(tail, ", %31[^)])", backend) == 1, "no backend in: %s", line);
    cr_assert_str_eq(host, "127.0.0.1");
    cr_assert_eq(got_threads, threads, "%s", line);
    if (want && *want)
        cr_assert_str_eq(backend, want, "the server runs on %s, not %s", backend, want);
    cr_assert(s.port > 0 && s.port < 65536);
    return s;
}

/* Sends signo and collects what the server prints as it stops. */
static int stop_server(server *s, int signo, char *text, size_t size)
{
    cr_assert_eq(kill(s->p.pid, signo), 0);
    return finish(&s->p, text, size);
}

/* The totals of the server's last line. */
static void parse_totals(const char *text, unsigned long long *conns, unsigned long long *bytes)
{
    const char *line = strstr(text, "stopped: ");
    cr_assert_not_null(line, "no 'stopped:' line in: %s", text);
    cr_assert_eq(sscanf(line, "stopped: %llu connections, %llu bytes echoed", conns, bytes), 2,
                 "bad totals line: %s", line);
}

/* ------------------------------------------------------------- sockets */

static int connect_to(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    cr_assert(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0, "connect: %s", strerror(errno));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Waits at most WAIT_MS for fd to be readable. */
static void await_readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    int n;
    do
        n = poll(&p, 1, WAIT_MS);
    while (n < 0 && errno == EINTR);
    cr_assert_eq(n, 1, "nothing to read after %d ms", WAIT_MS);
}

static void send_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        cr_assert(k > 0, "send: %s", strerror(errno));
        p += k;
        n -= (size_t)k;
    }
}

/* Reads exactly n bytes; fails on end of stream or a stall. */
static void recv_exactly(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        ssize_t k;
        await_readable(fd);
        k = recv(fd, p, n, 0);
        cr_assert(k > 0, "recv: %s", k == 0 ? "end of stream" : strerror(errno));
        p += k;
        n -= (size_t)k;
    }
}

/* The peer closes: the next read, within WAIT_MS, is end of stream. */
static void expect_eof(int fd)
{
    char c;
    ssize_t k;
    await_readable(fd);
    k = recv(fd, &c, 1, 0);
    cr_assert_eq(k, 0, "expected end of stream, got %zd (%s)", k, k < 0 ? strerror(errno) : "data");
}

/* Byte i of a test stream: not periodic in any small power of two. */
static unsigned char pattern(size_t i, unsigned seed) { return (unsigned char)((i * 7 + i / 251 + seed) ^ (i >> 13)); }

/* ------------------------------------------------------------- client */

/* Runs echo_client against port; its exit status and output. */
static int run_client(int port, const char *connections, const char *messages, const char *size,
                      char *text, size_t len)
{
    char p[16];
    char *argv[] = {(char *)env("ECHO_CLIENT"), "--port", p, "--connections", (char *)connections,
                    "--messages", (char *)messages, "--size", (char *)size, NULL};
    proc c;
    snprintf(p, sizeof p, "%d", port);
    c = spawn(argv);
    return finish(&c, text, len);
}

TestSuite(echo, .timeout = 60, .fini = kill_children);

/* -------------------------------------------------------------- tests */

Test(echo, many_clients_through_the_client_sample)
{
    static char out[8192], text[8192];
    server s = start_server(1);
    unsigned long long conns, bytes;
    int rc = run_client(s.port, "200", "20000", "100", out, sizeof out);
    cr_assert_eq(rc, 0, "echo_client failed (%d):\n%s", rc, out);
    cr_assert_not_null(strstr(out, "20000 of 20000 messages of 100 bytes echoed intact over 200 "
                                   "connections"), "%s", out);
    cr_assert_not_null(strstr(out, ": all correct"), "%s", out);
    cr_assert_eq(stop_server(&s, SIGTERM, text, sizeof text), 0, "%s", text);
    parse_totals(text, &conns, &bytes);
    cr_expect_eq(conns, 200);
    cr_expect_eq(bytes, 2000000, "the server echoed %llu bytes", bytes);
}

/* 100 connections open at once, each told apart: the echo of each comes
 * back on its own connection, whatever the order they are served in. */
Test(echo, many_connections_open_at_once)
{
    enum { N = 100, ROUNDS = 3 };
    static char text[4096];
    server s = start_server(1);
    int fds[N];
    unsigned long long conns, bytes;
    for (int i = 0; i < N; i++)
        fds[i] = connect_to(s.port);
    for (int r = 0; r < ROUNDS; r++) {
        char msg[64], back[64];
        for (int i = 0; i < N; i++) {
            int n = snprintf(msg, sizeof msg, "round %d, connection %03d\n", r, i);
            send_all(fds[i], msg, (size_t)n);
        }
        for (int i = N - 1; i >= 0; i--) { /* read in the other order */
            int n = snprintf(msg, sizeof msg, "round %d, connection %03d\n", r, i);
            recv_exactly(fds[i], back, (size_t)n);
            cr_assert_arr_eq(back, msg, (size_t)n, "connection %d got the wrong echo", i);
        }
    }
    for (int i = 0; i < N; i++)
        close(fds[i]);
    cr_assert_eq(stop_server(&s, SIGTERM, text, sizeof text), 0, "%s", text);
    parse_totals(text, &conns, &bytes);
    cr_expect_eq(conns, N);
    cr_expect_eq(bytes, (unsigned long long)ROUNDS * N * strlen("round 0, connection 000\n"));
}

/* A writer thread pushes 16 MiB while the test reads the echo: more than
 * every socket buffer on the way holds, so the server must wait out full
 * buffers in both directions without losing or reordering a byte. */
typedef struct {
    int fd;
    size_t n;
} writer_job;

static void *writer(void *arg)
{
    writer_job *j = arg;
    static unsigned char chunk[65536];
    for (size_t off = 0; off < j->n; off += sizeof chunk) {
        size_t k = j->n - off < sizeof chunk ? j->n - off : sizeof chunk;
        for (size_t i = 0; i < k; i++)
            chunk[i] = pattern(off + i, 1);
        send_all(j->fd, chunk, k);
    }
    shutdown(j->fd, SHUT_WR);
    return NULL;
}

Test(echo, a_large_stream_comes_back_whole)
{
    static unsigned char buf[65536];
    static char text[4096];
    server s = start_server(1);
    writer_job job = {connect_to(s.port), (size_t)16 << 20};
    unsigned long long conns, bytes;
    pthread_t t;
    size_t got = 0;
    cr_assert_eq(pthread_create(&t, NULL, writer, &job), 0);
    for (;;) {
        ssize_t k;
        await_readable(job.fd);
        k = recv(job.fd, buf, sizeof buf, 0);
        cr_assert(k >= 0, "recv: %s", strerror(errno));
        if (k == 0) /* we shut our side: the server then closed its own */
            break;
        for (ssize_t i = 0; i < k; i++)
            if (buf[i] != pattern(got + (size_t)i, 1))
                cr_assert_fail("byte %zu differs", got + (size_t)i);
        got += (size_t)k;
    }
    pthread_join(t, NULL);
    cr_assert_eq(got, job.n, "got %zu of %zu bytes back", got, job.n);
    close(job.fd);
    cr_assert_eq(stop_server(&s, SIGTERM, text, sizeof text), 0, "%s", text);
    parse_totals(text, &conns, &bytes);
    cr_expect_eq(conns, 1);
    cr_expect_eq(bytes, job.n);
}

Test(echo, large_messages_through_the_client_sample)
{
    static char out[8192], text[4096];
    server s = start_server(1);
    unsigned long long conns, bytes;
    int rc = run_client(s.port, "3", "9", "3000000", out, sizeof out);
    cr_assert_eq(rc, 0, "echo_client failed (%d):\n%s", rc, out);
    cr_assert_not_null(strstr(out, "9 of 9 messages of 3000000 bytes echoed intact over 3 "
                                   "connections"), "%s", out);
    cr_assert_eq(stop_server(&s, SIGTERM, text, sizeof text), 0, "%s", text);
    parse_totals(text, &conns, &bytes);
    cr_expect_eq(conns, 3);
    cr_expect_eq(bytes, 27000000ull);
}

/* --threads 2: two loops, two SO_REUSEPORT listeners on one port.  With 64
 * connections the kernel's hash leaves a thread idle with probability
 * 2^-63; each thread's count must add up to what the clients made. */
Test(echo, two_threads_share_the_port)
{
    static char out[8192], text[8192];
    server s = start_server(2);
    unsigned long long conns, bytes, c[2], b[2];
    int rc = run_client(s.port, "64", "6400", "50", out, sizeof out);
    cr_assert_eq(rc, 0, "echo_client failed (%d):\n%s", rc, out);
    cr_assert_not_null(strstr(out, ": all correct"), "%s", out);
    cr_assert_eq(stop_server(&s, SIGTERM, text, sizeof text), 0, "%s", text);
    for (int i = 0; i < 2; i++) {
        char head[32];
        const char *line;
        snprintf(head, sizeof head, "thread %d: ", i);
        line = strstr(text, head);
        cr_assert_not_null(line, "no line for thread %d in: %s", i, text);
        cr_assert_eq(sscanf(line + strlen(head), "%llu connections, %llu bytes echoed", &c[i],
                            &b[i]), 2, "%s", line);
        cr_expect_gt(c[i], 0, "thread %d served no connection:\n%s", i, text);
    }
    parse_totals(text, &conns, &bytes);
    cr_expect_eq(conns, 64);
    cr_expect_eq(c[0] + c[1], conns);
    cr_expect_eq(bytes, 6400ull * 50);
    cr_expect_eq(b[0] + b[1], bytes);
}

/* A stop with connections open: each is closed (its client reads end of
 * stream), the listener with them, and the server exits 0. */
static void stops_cleanly_on(int signo, int threads)
{
    enum { N = 8 };
    static char text[4096];
    server s = start_server(threads);
    int fds[N];
    unsigned long long conns, bytes;
    for (int i = 0; i < N; i++) {
        char back[4];
        fds[i] = connect_to(s.port);
        send_all(fds[i], "hi\n", 3); /* served: its task is running */
        recv_exactly(fds[i], back, 3);
        cr_assert_arr_eq(back, "hi\n", 3);
    }
    cr_assert_eq(stop_server(&s, signo, text, sizeof text), 0, "the server did not exit 0:\n%s",
                 text);
    for (int i = 0; i < N; i++) {
        expect_eof(fds[i]);
        close(fds[i]);
    }
    parse_totals(text, &conns, &bytes);
    cr_expect_eq(conns, N);
    cr_expect_eq(bytes, 3 * N);
    {
        struct sockaddr_in a;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)s.port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        cr_expect_neq(connect(fd, (struct sockaddr *)&a, sizeof a), 0, "still listening");
        close(fd);
    }
}

Test(echo, sigterm_closes_every_connection) { stops_cleanly_on(SIGTERM, 1); }
Test(echo, sigint_closes_every_connection) { stops_cleanly_on(SIGINT, 1); }
Test(echo, sigint_stops_every_thread) { stops_cleanly_on(SIGINT, 3); }

/* A stop while a client is in the middle of a transfer: no hang, exit 0. */
Test(echo, sigterm_during_a_transfer)
{
    static char text[4096];
    static unsigned char chunk[65536];
    server s = start_server(1);
    int fd = connect_to(s.port);
    unsigned long long conns, bytes;
    memset(chunk, 'x', sizeof chunk);
    /* fill the server's way back: it now waits to write */
    for (int i = 0; i < 64; i++) {
        struct pollfd p = {fd, POLLOUT, 0};
        if (poll(&p, 1, 100) != 1)
            break;
        if (send(fd, chunk, sizeof chunk, MSG_NOSIGNAL | MSG_DONTWAIT) <= 0)
            break;
    }
    cr_assert_eq(stop_server(&s, SIGTERM, text, sizeof text), 0, "%s", text);
    parse_totals(text, &conns, &bytes);
    cr_expect_eq(conns, 1);
    close(fd);
}

/* ------------------------------------------------ the client's checks */

/* A server that echoes like the real one but flips byte `bad` of the
 * stream, so that the client must notice. */
typedef struct {
    int lfd;
    size_t bad;
} liar;

static void *liar_main(void *arg)
{
    liar *l = arg;
    char buf[4096];
    size_t off = 0;
    int fd = accept(l->lfd, NULL, NULL);
    ssize_t n;
    if (fd < 0)
        return NULL;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
        if (l->bad >= off && l->bad < off + (size_t)n)
            buf[l->bad - off] ^= 0x20;
        off += (size_t)n;
        if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
            break;
    }
    close(fd);
    return NULL;
}

Test(echo, the_client_catches_a_wrong_echo)
{
    static char out[4096];
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    liar l = {socket(AF_INET, SOCK_STREAM, 0), 2500}; /* message 2, byte 500 */
    pthread_t t;
    int rc;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(l.lfd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(l.lfd, 1), 0);
    cr_assert_eq(getsockname(l.lfd, (struct sockaddr *)&a, &len), 0);
    cr_assert_eq(pthread_create(&t, NULL, liar_main, &l), 0);
    rc = run_client(ntohs(a.sin_port), "1", "5", "1000", out, sizeof out);
    pthread_join(t, NULL);
    close(l.lfd);
    cr_expect_eq(rc, 1, "echo_client exited %d:\n%s", rc, out);
    cr_expect_not_null(strstr(out, "connection 0: message 2 came back different from byte 500"),
                       "%s", out);
    cr_expect_not_null(strstr(out, "2 of 5 messages"), "%s", out);
}

Test(echo, the_client_reports_a_refused_connection)
{
    static char out[4096];
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), rc;
    /* a port that was just free: bound, never listened on */
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    rc = run_client(ntohs(a.sin_port), "2", "10", "10", out, sizeof out);
    close(fd);
    cr_expect_eq(rc, 1, "%s", out);
    cr_expect_not_null(strstr(out, "connection 0: cannot connect: Connection refused"), "%s", out);
    cr_expect_not_null(strstr(out, "connection 1: cannot connect: Connection refused"), "%s", out);
    cr_expect_not_null(strstr(out, "0 of 10 messages"), "%s", out);
}

/* The client's own --with-server: it starts the server, runs, stops it. */
Test(echo, the_client_runs_its_own_server)
{
    static char out[8192];
    char *argv[] = {(char *)env("ECHO_CLIENT"), "--with-server", "--threads", "2",
                    "--server-program", (char *)env("ECHO_SERVER"),
                    "--connections", "20", "--messages", "2000", NULL};
    proc c = spawn(argv);
    int rc = finish(&c, out, sizeof out);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect_not_null(strstr(out, "server: serving on 127.0.0.1:"), "%s", out);
    cr_expect_not_null(strstr(out, "2000 of 2000 messages"), "%s", out);
    cr_expect_not_null(strstr(out, "server: stopped: 20 connections, 128000 bytes echoed"), "%s",
                       out);
}

Test(echo, a_port_in_use_is_an_error)
{
    static char text[4096];
    server s = start_server(1);
    char p[16];
    char *argv[] = {(char *)env("ECHO_SERVER"), "--port", p, NULL};
    proc second;
    int rc;
    snprintf(p, sizeof p, "%d", s.port);
    second = spawn(argv);
    rc = finish(&second, text, sizeof text);
    cr_expect_eq(rc, 1, "a second server on port %d exited %d: %s", s.port, rc, text);
    cr_expect_eq(stop_server(&s, SIGTERM, text, sizeof text), 0, "%s", text);
}
