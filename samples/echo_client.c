/*
 * echo_client.c -- asyncio's TCP echo client, many times over: N messages
 * sent over C connections at once, each message read back and checked
 * byte for byte.
 *
 * The Python it mirrors (asyncio's streams example, with a gather around
 * it):
 *
 *     async def tcp_echo_client(messages):
 *         reader, writer = await asyncio.open_connection("127.0.0.1", 8888)
 *         for message in messages:
 *             writer.write(message)
 *             await writer.drain()
 *             data = await reader.readexactly(len(message))
 *             assert data == message
 *         writer.close()
 *
 *     async def main():
 *         await asyncio.gather(*(tcp_echo_client(part) for part in parts))
 *
 * A connection task connects, then for each of its messages sends it and
 * reads back exactly as many bytes.  Every message has contents of its own
 * (a pseudo-random stream seeded by the connection and the message number),
 * so an echo that comes back short, reordered, or from another connection
 * is caught.  A message is sent in pieces of at most 64 KiB, each read back
 * before the next goes out: a client that wrote a whole large message
 * before reading would deadlock with a server that echoes as it reads, once
 * the socket buffers both ways were full.
 *
 * It prints one line per failed connection and a summary; its exit status
 * is 0 only when every message came back intact.
 *
 * --with-server starts samples/echo_server (the one built beside this
 * program) on a free port, runs against it, then stops it with SIGTERM and
 * shows what the server printed; --threads K is passed on to it, and
 * --server-program PATH runs another build of the server.
 */
#define _POSIX_C_SOURCE 200809L /* fdopen, kill, clock_gettime */

#include <corio/corio.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { PIECE = 64 * 1024, MAX_CONNECTIONS = 10000 };

#define MISMATCH (-1) /* client.error: an echo differed from its message */

typedef struct {
    const char *host;
    int port;
    long connections;
    long messages; /* in all, spread over the connections */
    long size;     /* bytes per message */
    bool with_server;
    int threads;          /* for --with-server */
    const char *program;  /* the server to start; NULL: the one beside us */
} options;

static options opt = {"127.0.0.1", 8888, 10, 1000, 64, false, 1, NULL};

/* ------------------------------------------------------- the contents */

/* Fills buf with message `msg` of connection `conn`: xorshift64*, seeded
 * by both numbers, so no two messages anywhere in a run are alike. */
static void fill_message(unsigned char *buf, size_t n, long conn, long msg)
{
    uint64_t x = ((uint64_t)conn << 32 ^ (uint64_t)msg) * 0x9E3779B97F4A7C15u + 1;
    for (size_t i = 0; i < n; i++) {
        if (i % 8 == 0) {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
        }
        buf[i] = (unsigned char)((x * 0x2545F4914F6CDD1Du) >> (8 * (i % 8)));
    }
}

/* --------------------------------------------------------- a connection */

typedef struct {
    co_gen gen;
    const co_addr *addr;
    long id, messages;
    long echoed;         /* messages that came back intact        */
    long msg;            /* the one under way                     */
    size_t off, piece;   /* the piece of it under way             */
    int fd;
    int error;           /* 0, -errno, CO_EOF, or MISMATCH         */
    size_t bad_at;       /* MISMATCH: the first byte that differed */
    unsigned char *out, *in;
    co_io io;
} client;

static void failed(client *self, int error) { self->error = error; }

/* tcp_echo_client: send each message, read it back, compare. */
static int client_fn(co_gen *g)
{
    client *self = (client *)g;
    size_t size = (size_t)opt.size;
    CO_BEGIN(self);
    self->fd = -1;
    CO_CONNECT(self, &self->io, self->addr, 10000);
    if (self->io.result < 0) {
        failed(self, (int)self->io.result);
        CO_RETURN_VOID(self);
    }
    self->fd = (int)self->io.result;
    for (self->msg = 0; self->msg < self->messages; self->msg++) {
        fill_message(self->out, size, self->id, self->msg);
        for (self->off = 0; self->off < size; self->off += self->piece) {
            self->piece = size - self->off < PIECE ? size - self->off : PIECE;
            CO_SEND_ALL(self, &self->io, self->fd, self->out + self->off, self->piece);
            if (self->io.result < 0)
                break;
            CO_RECV_EXACTLY(self, &self->io, self->fd, self->in + self->off, self->piece);
            if (self->io.result < 0)
                break;
        }
        if (self->io.result < 0) {
            failed(self, (int)self->io.result);
            break;
        }
        if (memcmp(self->out, self->in, size) != 0) {
            while (self->out[self->bad_at] == self->in[self->bad_at])
                self->bad_at++;
            failed(self, MISMATCH);
            break;
        }
        self->echoed++;
    }
    CO_FINALLY(self) {
        if (self->fd >= 0)
            co_fd_close(co_running_loop(), self->fd);
    }
    CO_END(self);
}

/* ---------------------------------------------------------- all of them */

typedef struct {
    co_gen gen;
    co_addr addr;
    co_gen **clients; /* each a client's frame */
    co_gather gather;
} main_task;

/* await asyncio.gather(*(tcp_echo_client(part) for part in parts)) */
static int main_fn(co_gen *g)
{
    main_task *self = (main_task *)g;
    CO_BEGIN(self);
    for (long i = 0; i < opt.connections; i++) {
        client *c = CO_NEW(co_running_loop(), client, client_fn);
        if (c == NULL)
            CO_RAISE(self, CO_ENOMEM);
        c->addr = &self->addr;
        c->id = i;
        c->messages = opt.messages / opt.connections + (i < opt.messages % opt.connections);
        c->out = malloc((size_t)opt.size);
        c->in = malloc((size_t)opt.size);
        self->clients[i] = &c->gen;
        if (c->out == NULL || c->in == NULL)
            CO_RAISE(self, CO_ENOMEM);
    }
    CO_GATHER(self, &self->gather, self->clients, (size_t)opt.connections, CO_GATHER_ALL);
    CO_END(self);
}

static void say_failure(const client *c)
{
    if (c->error == MISMATCH)
        printf("connection %ld: message %ld came back different from byte %zu on\n", c->id,
               c->msg, c->bad_at);
    else if (c->fd < 0)
        printf("connection %ld: cannot connect: %s\n", c->id, co_strerror(c->error));
    else
        printf("connection %ld: message %ld: %s\n", c->id, c->msg, co_strerror(c->error));
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Runs the clients; prints failures and the summary.  0 when all passed. */
static int run_clients(const char *prog)
{
    co_loop *loop;
    main_task *m;
    co_gen **clients = calloc((size_t)opt.connections, sizeof *clients);
    long echoed = 0, failures = 0;
    struct timespec t0;
    double secs;
    int rc = clients ? co_loop_new(&loop, NULL) : CO_ENOMEM;

    if (rc < 0 || (m = CO_NEW(loop, main_task, main_fn)) == NULL ||
        (rc = co_addr_ip(&m->addr, opt.host, opt.port)) < 0) {
        fprintf(stderr, "%s: %s\n", prog, co_strerror(rc < 0 ? rc : CO_ENOMEM));
        return 1;
    }
    m->clients = clients;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = co_run(loop, &m->gen);
    secs = seconds_since(&t0);
    for (long i = 0; i < opt.connections && clients[i]; i++) {
        client *c = (client *)clients[i];
        if (c->error)
            say_failure(c);
        failures += c->error != 0;
        echoed += c->echoed;
        free(c->out);
        free(c->in);
    }
    co_loop_free(loop);
    free(clients);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", prog, co_strerror(rc));
        return 1;
    }
    printf("%ld of %ld messages of %ld bytes echoed intact over %ld connections"
           " in %.3f s (%.0f round trips/s)%s\n",
           echoed, opt.messages, opt.size, opt.connections, secs, secs > 0 ? echoed / secs : 0.0,
           failures ? "" : ": all correct");
    return failures || echoed != opt.messages;
}

/* --------------------------------------------------- --with-server */

typedef struct {
    pid_t pid;
    FILE *out; /* its stdout */
} server_process;

/* echo_server, from the directory this program was started from. */
static void server_path(char *buf, size_t size, const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    int dir = slash ? (int)(slash - argv0) : 1;
    snprintf(buf, size, "%.*s/echo_server", dir, slash ? argv0 : ".");
}

/* Starts the server on a free port and reads the port from its first line. */
static int start_server(const char *argv0, server_process *s)
{
    char path[4096], threads[16], line[256];
    const char *end, *port_text;
    int fds[2], port;

    if (opt.program)
        snprintf(path, sizeof path, "%s", opt.program);
    else
        server_path(path, sizeof path, argv0);
    snprintf(threads, sizeof threads, "%d", opt.threads);
    if (pipe(fds) < 0)
        return -errno;
    fflush(stdout);
    s->pid = fork();
    if (s->pid < 0)
        return -errno;
    if (s->pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(path, path, "--host", opt.host, "--port", "0", "--threads", threads, (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    /* "serving on HOST:PORT (...)": the port follows the last ':' before " (" */
    s->out = fdopen(fds[0], "r");
    if (s->out == NULL || fgets(line, sizeof line, s->out) == NULL ||
        strncmp(line, "serving on ", 11) != 0 || (end = strstr(line, " (")) == NULL)
        return -EPROTO;
    for (port_text = end; port_text > line && port_text[-1] != ':'; port_text--)
        ;
    if (port_text == line || sscanf(port_text, "%d", &port) != 1)
        return -EPROTO;
    printf("server: %s", line);
    opt.port = port;
    return 0;
}

/* SIGTERM, then what it says as it stops; its exit status. */
static int stop_server(server_process *s)
{
    char line[256];
    int status;
    kill(s->pid, SIGTERM);
    while (fgets(line, sizeof line, s->out))
        printf("server: %s", line);
    fclose(s->out);
    if (waitpid(s->pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ----------------------------------------------------------- options */

static void usage(const char *prog, const char *why, int status)
{
    fprintf(status ? stderr : stdout,
            "%s: %s\nusage: %s [--host ADDR] [--port N] [--connections C] [--messages N]"
            " [--size BYTES] [--with-server [--threads K] [--server-program PATH]]\n",
            prog, why, prog);
    exit(status);
}

static long number_arg(const char *prog, const char *text, long lo, long hi)
{
    char *end;
    long n;
    errno = 0;
    n = strtol(text, &end, 10);
    if (errno || end == text || *end || n < lo || n > hi)
        usage(prog, "bad number", 2);
    return n;
}

static void parse_options(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            usage(argv[0], "a TCP echo client that checks every echo", 0);
        if (strcmp(a, "--with-server") == 0) {
            opt.with_server = true;
            continue;
        }
        if (i + 1 >= argc)
            usage(argv[0], "an option without its value, or an unknown one", 2);
        if (strcmp(a, "--host") == 0)
            opt.host = argv[++i];
        else if (strcmp(a, "--port") == 0)
            opt.port = (int)number_arg(argv[0], argv[++i], 1, 65535);
        else if (strcmp(a, "--connections") == 0)
            opt.connections = number_arg(argv[0], argv[++i], 1, MAX_CONNECTIONS);
        else if (strcmp(a, "--messages") == 0)
            opt.messages = number_arg(argv[0], argv[++i], 0, 1000000000);
        else if (strcmp(a, "--size") == 0)
            opt.size = number_arg(argv[0], argv[++i], 1, 256L << 20);
        else if (strcmp(a, "--threads") == 0)
            opt.threads = (int)number_arg(argv[0], argv[++i], 1, 64);
        else if (strcmp(a, "--server-program") == 0)
            opt.program = argv[++i];
        else
            usage(argv[0], "unknown option", 2);
    }
}

int main(int argc, char **argv)
{
    server_process server = {-1, NULL};
    int status, rc;

    parse_options(argc, argv);
    if (opt.with_server && (rc = start_server(argv[0], &server)) < 0) {
        fprintf(stderr, "%s: cannot start the server: %s\n", argv[0], co_strerror(rc));
        if (server.pid > 0)
            stop_server(&server);
        return 1;
    }
    status = run_clients(argv[0]);
    if (opt.with_server && stop_server(&server) != 0) {
        fprintf(stderr, "%s: the server did not stop cleanly\n", argv[0]);
        status = 1;
    }
    return status;
}
