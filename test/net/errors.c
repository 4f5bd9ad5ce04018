/*
 * errors.c -- failures reported, never hidden: a peer's reset, writes to a
 * closed peer (without SIGPIPE), refused and timed-out connects, and an
 * accept that runs out of fds without spinning.
 */
#include "net.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#ifdef NET_HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

static void fini(void)
{
    if (net.dir[0]) {
        unlink(unix_path("refusing.sock"));
        rmdir(net.dir);
    }
}

TestSuite(errors, .init = net_reset, .fini = fini, .timeout = 30);

/* Counts SIGPIPEs; installed, it also keeps the loop from ignoring them,
 * so only MSG_NOSIGNAL stands between a write and the signal. */
static volatile sig_atomic_t sigpipes;
static void count_sigpipe(int signo)
{
    (void)signo;
    sigpipes++;
}

static void watch_sigpipe(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count_sigpipe;
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGPIPE, &sa, NULL), 0);
}

/* ------------------------------------------------------------ a reset */

typedef struct reader {
    co_gen gen;
    int fd;
    co_io io;
    char buf[16];
    int64_t at_ms;
} reader;

static int reader_fn(co_gen *g)
{
    reader *self = (reader *)g;
    CO_BEGIN(self);
    CO_RECV(self, &self->io, self->fd, self->buf, sizeof self->buf);
    self->at_ms = net_ms();
    CO_END(self);
}

typedef struct writer {
    co_gen gen;
    int fd;
    const unsigned char *data;
    size_t len;
    co_io io;
    int64_t at_ms;
} writer;

static int writer_fn(co_gen *g)
{
    writer *self = (writer *)g;
    CO_BEGIN(self);
    CO_SEND_ALL(self, &self->io, self->fd, self->data, self->len);
    self->at_ms = net_ms();
    CO_END(self);
}

/* Resets its socket after 10 ms. */
typedef struct resetter {
    co_gen gen;
    int fd;
} resetter;

static int resetter_fn(co_gen *g)
{
    resetter *self = (resetter *)g;
    CO_BEGIN(self);
    CO_SLEEP(self, 10);
    reset_close(self->fd);
    CO_END(self);
}

typedef struct both {
    co_gen gen;
    co_gen *tasks[2];
    co_gather gather;
} both;

static int both_fn(co_gen *g)
{
    both *self = (both *)g;
    CO_BEGIN(self);
    CO_GATHER(self, &self->gather, self->tasks, 2, CO_GATHER_ALL);
    CO_END(self);
}

/* Runs frames a and b (from CO_NEW on net.loop) to the end. */
static void run_both(co_gen *a, co_gen *b)
{
    both *m = CO_NEW(net.loop, both, both_fn);
    int rc;
    m->tasks[0] = a;
    m->tasks[1] = b;
    rc = co_run(net.loop, &m->gen);
    cr_assert_eq(rc, 0, "%s", co_strerror(rc));
}

Test(errors, peer_reset_while_receiving)
{
    co_loop *loop = net_loop();
    reader *r = CO_NEW(loop, reader, reader_fn);
    resetter *k = CO_NEW(loop, resetter, resetter_fn);
    tcp_pair(&r->fd, &k->fd);
    run_both(&r->gen, &k->gen);
    cr_assert_eq(r->io.result, -ECONNRESET, "recv: %s", co_strerror((int)r->io.result));
    cr_assert_eq(r->at_ms, 10, "the reader waited for the reset");
    co_fd_close(net.loop, r->fd);
    rt_free_loop(loop);
}

Test(errors, peer_reset_while_sending)
{
    enum { LEN = 16 << 20 }; /* far more than both socket buffers hold */
    co_loop *loop = net_loop();
    writer *w = CO_NEW(loop, writer, writer_fn);
    resetter *k = CO_NEW(loop, resetter, resetter_fn);
    unsigned char *data = calloc(1, LEN);
    cr_assert_not_null(data);
    tcp_pair(&w->fd, &k->fd);
    small_send_buffer(w->fd);
    w->data = data;
    w->len = LEN;
    run_both(&w->gen, &k->gen);
    cr_assert_eq(w->io.result, -ECONNRESET, "send-all: %s", co_strerror((int)w->io.result));
    cr_assert_eq(w->at_ms, 10, "the writer was blocked until the reset");
    cr_assert_gt(w->io.done, 0);
    cr_assert_lt(w->io.done, LEN);
    co_fd_close(net.loop, w->fd);
    free(data);
    rt_free_loop(loop);
}

/* ------------------------------------------------------- closed peers */

typedef struct pipe_writer {
    co_gen gen;
    int fd;
    co_io io;
    ssize_t first, next;
    int sent;
} pipe_writer;

/* Writes small pieces until one fails, then one more. */
static int pipe_writer_fn(co_gen *g)
{
    pipe_writer *self = (pipe_writer *)g;
    CO_BEGIN(self);
    for (self->sent = 0; self->sent < 100; self->sent++) {
        CO_SEND_ALL(self, &self->io, self->fd, "x", 1);
        if (self->io.result < 0)
            break;
    }
    self->first = self->io.result;
    CO_SEND_ALL(self, &self->io, self->fd, "x", 1);
    self->next = self->io.result;
    CO_END(self);
}

typedef struct solo {
    co_gen gen;
    co_gen *task;
} solo;

static int solo_fn(co_gen *g)
{
    solo *self = (solo *)g;
    CO_BEGIN(self);
    CO_AWAIT_TASK(self, self->task);
    CO_END(self);
}

static void run_one(co_gen *task)
{
    solo *m = CO_NEW(net.loop, solo, solo_fn);
    int rc;
    m->task = task;
    rc = co_run(net.loop, &m->gen);
    cr_assert_eq(rc, 0, "%s", co_strerror(rc));
}

Test(errors, epipe_after_the_unix_peer_closed_and_no_sigpipe)
{
    int sv[2];
    co_loop *loop;
    pipe_writer *w;
    watch_sigpipe();
    loop = net_loop();
    w = CO_NEW(loop, pipe_writer, pipe_writer_fn);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    close(sv[1]);
    w->fd = sv[0];
    run_one(&w->gen);
    cr_assert_eq(w->sent, 0);
    cr_assert_eq(w->first, -EPIPE, "%s", co_strerror((int)w->first));
    cr_assert_eq(w->next, -EPIPE);
    cr_assert_eq(sigpipes, 0, "a write raised SIGPIPE");
    co_fd_close(net.loop, sv[0]);
    rt_free_loop(loop);
}

Test(errors, epipe_after_the_tcp_peer_closed_and_no_sigpipe)
{
    co_loop *loop;
    pipe_writer *w;
    int peer;
    watch_sigpipe();
    loop = net_loop();
    w = CO_NEW(loop, pipe_writer, pipe_writer_fn);
    tcp_pair(&w->fd, &peer);
    close(peer);
    run_one(&w->gen);
    /* the first write after a close reaches the peer, which answers with a
       reset: that reset is reported once, then the pipe is broken */
    cr_assert_lt(w->sent, 100);
    cr_assert(w->first == -ECONNRESET || w->first == -EPIPE, "%s", co_strerror((int)w->first));
    cr_assert_eq(w->next, -EPIPE, "%s", co_strerror((int)w->next));
    cr_assert_eq(sigpipes, 0, "a write raised SIGPIPE");
    co_fd_close(net.loop, w->fd);
    rt_free_loop(loop);
}

/* ------------------------------------------------------------ connect */

typedef struct connector {
    co_gen gen;
    const co_addr *addr;
    int64_t timeout_ms;
    co_io io;
    int64_t at_ms;
} connector;

static int connector_fn(co_gen *g)
{
    connector *self = (connector *)g;
    CO_BEGIN(self);
    CO_CONNECT(self, &self->io, self->addr, self->timeout_ms);
    self->at_ms = net_ms();
    if (self->io.result >= 0)
        co_fd_close(co_running_loop(), (int)self->io.result);
    CO_END(self);
}

static ssize_t connect_once(const co_addr *addr, int *fd)
{
    connector *c = CO_NEW(net_loop(), connector, connector_fn);
    ssize_t res;
    c->addr = addr;
    c->timeout_ms = 1000;
    run_one(&c->gen);
    res = c->io.result;
    *fd = c->io.fd;
    rt_free_loop(net.loop);
    return res;
}

Test(errors, connect_refused_over_tcp)
{
    co_addr addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0), used;
    ssize_t res;
    /* bound but not listening: the port is ours, and refuses */
    cr_assert_eq(co_addr_ip(&addr, "127.0.0.1", 0), 0);
    cr_assert_eq(bind(fd, &addr.u.sa, addr.len), 0);
    cr_assert_eq(co_sockname(fd, &addr), 0);
    res = connect_once(&addr, &used);
    cr_assert_eq(res, -ECONNREFUSED, "%s", co_strerror((int)res));
    cr_assert_not(fd_open(used), "the failed socket was left open");
    close(fd);
}

Test(errors, connect_refused_over_unix)
{
    co_addr addr;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0), used;
    ssize_t res;
    cr_assert_eq(co_addr_unix(&addr, unix_path("refusing.sock")), 0);
    cr_assert_eq(bind(fd, &addr.u.sa, addr.len), 0);
    res = connect_once(&addr, &used);
    cr_assert_eq(res, -ECONNREFUSED, "%s", co_strerror((int)res));
    cr_assert_not(fd_open(used));
    close(fd);
    unlink(unix_path("refusing.sock"));
    res = connect_once(&addr, &used);
    cr_assert_eq(res, -ENOENT, "%s", co_strerror((int)res));
}

Test(errors, a_full_unix_listener_refuses_at_once_with_eagain)
{
    co_addr addr;
    int lfd, used;
    ssize_t res;
    cr_assert_eq(co_addr_unix(&addr, unix_path("refusing.sock")), 0);
    lfd = co_listen(&addr, 0, 0);
    cr_assert_geq(lfd, 0, "%s", co_strerror(lfd));
    res = connect_once(&addr, &used);
    cr_assert_geq(res, 0, "the first connection fills the queue: %s", co_strerror((int)res));
    res = connect_once(&addr, &used);
    cr_assert_eq(res, -EAGAIN, "%s", co_strerror((int)res));
    cr_assert_not(fd_open(used), "the refused socket was left open");
    close(lfd);
}

/* A listener with backlog 0 that never accepts: once one connection is
 * queued, the kernel drops the next handshakes, which then hang. */
typedef struct stuck {
    co_gen gen;
    const co_addr *addr;
    co_io io;
    int fds[8], n;
    int64_t started_ms, at_ms;
    ssize_t res;
    int closed_fd;
} stuck;

static int stuck_fn(co_gen *g)
{
    stuck *self = (stuck *)g;
    CO_BEGIN(self);
    for (self->n = 0; self->n < 8; self->n++) {
        self->started_ms = net_ms();
        CO_CONNECT(self, &self->io, self->addr, 100);
        self->at_ms = net_ms();
        self->res = self->io.result;
        if (self->io.result < 0)
            break;
        self->fds[self->n] = (int)self->io.result;
    }
    self->closed_fd = self->io.fd;
    CO_FINALLY(self)
    {
        for (int i = 0; i < self->n; i++)
            co_fd_close(co_running_loop(), self->fds[i]);
    }
    CO_END(self);
}

Test(errors, connect_times_out_and_closes_its_socket)
{
    co_addr addr;
    int lfd = tcp_listener(0, &addr);
    stuck *s = CO_NEW(net_loop(), stuck, stuck_fn);
    s->addr = &addr;
    run_one(&s->gen);
    cr_assert_eq(s->res, CO_ETIMEOUT, "%s after %d connects", co_strerror((int)s->res), s->n);
    cr_assert_geq(s->n, 1, "the first connect fills the queue and succeeds");
    cr_assert_eq(s->at_ms - s->started_ms, 100, "the timeout was honoured exactly");
    cr_assert_not(fd_open(s->closed_fd), "the timed-out socket was left open");
    close(lfd);
    rt_free_loop(net.loop);
}

/* ----------------------------------------------------- out of fds */

typedef struct starved {
    co_gen gen;
    int lfd;
    co_io io;
    int emfiles;
    int64_t at_ms;
    ssize_t other;
    struct rlimit restore;
    ssize_t after;
} starved;

/* Accepts while the process has no fd to spare, for one second of the
 * loop's time; then gets fds back and accepts again. */
static int starved_fn(co_gen *g)
{
    starved *self = (starved *)g;
    CO_BEGIN(self);
    while (net_ms() < 1000 && self->emfiles <= 1000) {
        CO_ACCEPT(self, &self->io, self->lfd, NULL);
        if (self->io.result != -EMFILE) {
            self->other = self->io.result;
            break;
        }
        self->emfiles++;
    }
    self->at_ms = net_ms();
    setrlimit(RLIMIT_NOFILE, &self->restore);
    CO_ACCEPT(self, &self->io, self->lfd, NULL);
    self->after = self->io.result;
    CO_END(self);
}

/* The child's main task: the starved one under a guard of loop time.  An
 * accept that never completes (the waiting connection lost) then fails a
 * check at once -- the idle loop's clock jumps to the guard -- rather than
 * leaving the child in epoll_wait for ever. */
typedef struct starved_guard {
    co_gen gen;
    co_deadline deadline;
    starved child;
} starved_guard;

static int starved_guard_fn(co_gen *g)
{
    starved_guard *self = (starved_guard *)g;
    CO_BEGIN(self);
    CO_WAIT_FOR(self, &self->deadline, child, 5000);
    CO_END(self);
}

/* The child's checks: 0 when all hold, else the number of the first one
 * that failed (the reason goes to stderr). */
static int emfile_child(void)
{
    co_loop_options opt;
    co_addr addr;
    starved_guard *guard;
    starved *s;
    struct rlimit lim;
    int lfd, client, probe, rc;
    struct pollfd pfd;
    char byte = 0;
    lfd = co_listen((co_addr_ip(&addr, "127.0.0.1", 0), &addr), 8, 0);
    if (lfd < 0 || co_sockname(lfd, &addr) < 0)
        return 1;
    client = socket(AF_INET, SOCK_STREAM, 0);
    if (client < 0 || connect(client, &addr.u.sa, addr.len) < 0)
        return 2; /* now queued on the listener, waiting for an accept */
    opt = rt_options();
    if (co_loop_new(&net.loop, &opt) < 0)
        return 3;
    guard = CO_NEW(net.loop, starved_guard, starved_guard_fn);
    if (guard == NULL)
        return 4;
    s = &guard->child;
    CO_INIT(s, starved_fn);
    if (getrlimit(RLIMIT_NOFILE, &s->restore) < 0)
        return 4;
    s->lfd = lfd;
    /* no fd left: the lowest free number becomes the limit */
    probe = dup(0);
    if (probe < 0)
        return 5;
    close(probe);
    lim = s->restore;
    lim.rlim_cur = (rlim_t)probe;
    if (setrlimit(RLIMIT_NOFILE, &lim) < 0 || dup(0) >= 0 || errno != EMFILE)
        return 6;
    rc = co_run(net.loop, &guard->gen);
    if (rc != 0) {
        fprintf(stderr, "co_run: %s (%d EMFILE in %lld ms)\n", co_strerror(rc), s->emfiles,
                (long long)s->at_ms);
        return 7;
    }
    if (s->other != 0 || s->emfiles != 1000 / CO_ACCEPT_BACKOFF_MS || s->at_ms != 1000) {
        fprintf(stderr, "%d EMFILE in %lld ms, then %s\n", s->emfiles, (long long)s->at_ms,
                co_strerror((int)s->other));
        return 8;
    }
    if (s->after < 0) {
        fprintf(stderr, "accept after the limit was raised: %s\n", co_strerror((int)s->after));
        return 9;
    }
    /* the connection that waited in the backlog is the one accepted */
    pfd.fd = (int)s->after;
    pfd.events = POLLIN;
    if (write(client, "!", 1) != 1 || poll(&pfd, 1, 5000) != 1 || read(pfd.fd, &byte, 1) != 1 ||
        byte != '!')
        return 10;
    rt_free_loop(net.loop);
    return 0;
}

Test(errors, accept_backs_off_when_out_of_fds)
{
    int status;
    pid_t parent = getpid(), pid;
#ifdef NET_HAVE_VALGRIND_H
    /* Valgrind keeps RLIMIT_NOFILE to itself (the kernel's limit stays
     * high), so the kernel accepts the waiting connection and valgrind,
     * seeing an fd over its limit, closes it and returns EMFILE: the
     * backlog this test is about is gone.  The other builds run it. */
    if (RUNNING_ON_VALGRIND)
        cr_skip_test("valgrind emulates RLIMIT_NOFILE and closes what accept4 returns over it");
#endif
    pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) { /* lowering the fd limit must not touch the other tests */
#ifdef __linux__
        /* a test process Criterion kills for its timeout takes the child
         * along: an orphan would keep meson's output pipe open for ever */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
            _exit(99);
#else
        (void)parent;
#endif
        _exit(emfile_child());
    }
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "the child died (status %#x)", status);
    cr_assert_eq(WEXITSTATUS(status), 0, "check %d failed in the child", WEXITSTATUS(status));
}
