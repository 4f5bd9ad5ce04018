/*
 * echo_load.c -- the echo benchmark's load: C connections, each sending a
 * message of S bytes, waiting for its whole echo, checking it, and sending
 * the next, for a fixed time.  One thread, epoll.
 *
 *     echo_load PORT CONNECTIONS SIZE SECONDS
 *
 * Prints `result round_trips=N seconds=T` (T measured).  A wrong echo, a
 * closed connection or a stall of 10 s ends it with status 1.
 */
#define _DEFAULT_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MAX_SIZE = 65536, MAX_CONNS = 10000, STALL_MS = 10000 };

typedef struct {
    int fd;
    size_t got;
    unsigned char *out, *in;
} conn;

static size_t size;

static void die(const char *what)
{
    fprintf(stderr, "echo_load: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(1);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One message out: on loopback, with its last echo read back, the socket
 * buffer is empty and takes a message this small whole. */
static void send_message(conn *c)
{
    if (send(c->fd, c->out, size, MSG_NOSIGNAL) != (ssize_t)size)
        die("send (a partial write)");
    c->got = 0;
}

/* Reads what has arrived; 1 when a whole echo is in and checked. */
static int read_echo(conn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->in + c->got, size - c->got, 0);
        if (n > 0) {
            c->got += (size_t)n;
            if (c->got < size)
                continue;
            if (memcmp(c->in, c->out, size) != 0) {
                errno = 0;
                die("a wrong echo");
            }
            return 1;
        }
        if (n == 0) {
            errno = ECONNRESET;
            die("recv");
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        if (errno != EINTR)
            die("recv");
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_in a;
    struct epoll_event ev, events[256];
    long nconns, trips = 0;
    double secs, start, end;
    conn *conns;
    int ep;

    if (argc != 5) {
        fprintf(stderr, "usage: echo_load PORT CONNECTIONS SIZE SECONDS\n");
        return 2;
    }
    nconns = atol(argv[2]);
    size = (size_t)atol(argv[3]);
    secs = atof(argv[4]);
    if (nconns < 1 || nconns > MAX_CONNS || size < 1 || size > MAX_SIZE || secs <= 0) {
        fprintf(stderr, "echo_load: out of range\n");
        return 2;
    }
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((conns = calloc((size_t)nconns, sizeof *conns)) == NULL || (ep = epoll_create1(0)) < 0)
        die("setting up");
    for (long i = 0; i < nconns; i++) {
        conn *c = &conns[i];
        int one = 1;
        c->out = malloc(size);
        c->in = malloc(size);
        if (c->out == NULL || c->in == NULL)
            die("malloc");
        for (size_t j = 0; j < size; j++)
            c->out[j] = (unsigned char)(i * 31 + j * 7);
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0)
            die("connect");
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
        ev.events = EPOLLIN;
        ev.data.ptr = c;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
            die("epoll_ctl");
    }
    start = now();
    end = start + secs;
    for (long i = 0; i < nconns; i++)
        send_message(&conns[i]);
    for (;;) {
        int n = epoll_wait(ep, events, 256, STALL_MS);
        double t;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            errno = n == 0 ? ETIMEDOUT : errno;
            die("epoll_wait");
        }
        t = now();
        for (int i = 0; i < n; i++) {
            conn *c = events[i].data.ptr;
            if (!read_echo(c))
                continue;
            trips++;
            if (t < end)
                send_message(c);
        }
        if (t >= end)
            break;
    }
    printf("result round_trips=%ld seconds=%.3f\n", trips, now() - start);
    return 0;
}
