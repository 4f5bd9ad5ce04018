/*
 * idle_client.c -- measures what an idle keep-alive connection costs an
 * HTTP server: opens N connections, sends one GET on each, reads each
 * reply, and reads the server's resident memory before and after.
 *
 *     idle_client PORT SERVER_PID N
 *
 * Prints `result conns=N rss_before_kb=... rss_after_kb=...`.  The "before"
 * is taken after one warm-up request on a connection of its own (closed
 * again), so that what the server allocates once, on its first request,
 * is not charged to the N.  Connections are opened in batches, each batch's
 * replies read before the next, so that the server's listen backlog never
 * overflows; at the end every connection is reset (SO_LINGER 0), leaving
 * no TIME_WAIT behind to use up the loopback's ports between runs.
 */
#define _DEFAULT_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

enum { BATCH = 256, WAIT_MS = 10000 };

static const char request[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

static void die(const char *what)
{
    fprintf(stderr, "idle_client: %s: %s\n", what, strerror(errno));
    exit(1);
}

static long vm_rss_kb(const char *pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;
    snprintf(path, sizeof path, "/proc/%s/status", pid);
    if ((f = fopen(path, "r")) == NULL)
        die(path);
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static int connect_to(const struct sockaddr_in *a)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0)
        die("socket");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)a, sizeof *a) < 0)
        die("connect");
    if (send(fd, request, sizeof request - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof request - 1))
        die("send");
    return fd;
}

/* Reads one whole reply: the head up to its blank line, then
 * Content-Length bytes of body. */
static void read_reply(int fd)
{
    char buf[4096];
    size_t got = 0, need = 0;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t n;
        if (poll(&p, 1, WAIT_MS) != 1) {
            errno = ETIMEDOUT;
            die("waiting for a reply");
        }
        n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (n <= 0) {
            if (n == 0)
                errno = ECONNRESET;
            die("recv");
        }
        got += (size_t)n;
        buf[got] = '\0';
        if (need == 0) {
            char *end = strstr(buf, "\r\n\r\n"), *cl = buf;
            long len = -1;
            if (end == NULL)
                continue;
            while ((cl = strchr(cl, '\n')) != NULL && cl < end)
                if (strncasecmp(++cl, "content-length:", 15) == 0)
                    len = strtol(cl + 15, NULL, 10);
            if (len < 0) {
                fprintf(stderr, "idle_client: a reply without Content-Length:\n%s\n", buf);
                exit(1);
            }
            need = (size_t)(end + 4 - buf) + (size_t)len;
        }
        if (got >= need)
            return;
    }
}

static void reset_close(int fd)
{
    struct linger l = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

int main(int argc, char **argv)
{
    struct sockaddr_in a;
    struct rlimit rl;
    long before, after, n;
    int *fds;

    if (argc != 4 || (n = atol(argv[3])) <= 0) {
        fprintf(stderr, "usage: idle_client PORT SERVER_PID N\n");
        return 2;
    }
    /* N sockets here, N in the server: both need the limit raised */
    rl.rlim_cur = rl.rlim_max = (rlim_t)n + 64;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_max < (rlim_t)n + 64)
            die("RLIMIT_NOFILE");
        rl.rlim_cur = (rlim_t)n + 64;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            die("RLIMIT_NOFILE");
    }
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((fds = calloc((size_t)n, sizeof *fds)) == NULL)
        die("calloc");

    fds[0] = connect_to(&a); /* the warm-up */
    read_reply(fds[0]);
    reset_close(fds[0]);
    usleep(100000); /* let the server see the reset and free that connection */
    before = vm_rss_kb(argv[2]);
    for (long i = 0; i < n; i += BATCH) {
        long end = i + BATCH < n ? i + BATCH : n;
        for (long j = i; j < end; j++)
            fds[j] = connect_to(&a);
        for (long j = i; j < end; j++)
            read_reply(fds[j]);
    }
    after = vm_rss_kb(argv[2]);
    printf("result conns=%ld rss_before_kb=%ld rss_after_kb=%ld\n", n, before, after);
    fflush(stdout);
    for (long i = 0; i < n; i++)
        reset_close(fds[i]);
    free(fds);
    return 0;
}
