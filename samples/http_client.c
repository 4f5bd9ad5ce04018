/*
 * http_client.c -- fetches several URLs at once, at most N connections at
 * a time, each request under a timeout: the C twin of the aiohttp client
 * that lecture 2 starts.
 *
 * The Python it mirrors (see docs/http.md for the two side by side):
 *
 *     async def fetch(session, limit, url):
 *         async with limit:                                 # a Semaphore(N)
 *             start = time.monotonic()
 *             try:
 *                 async with asyncio.timeout(timeout):
 *                     async with session.get(url) as response:
 *                         body = await response.read()
 *                 return response.status, len(body), time.monotonic() - start
 *             except TimeoutError:
 *                 return "err", None, time.monotonic() - start
 *
 *     async def main(urls):
 *         limit = asyncio.Semaphore(N)
 *         async with aiohttp.ClientSession() as session:
 *             tasks = [asyncio.create_task(fetch(session, limit, u)) for u in urls]
 *             for url, task in zip(urls, tasks):
 *                 status, size, took = await task
 *                 print(status, size, f"{took * 1000:.1f} ms", url)
 *
 * Every URL gets a task at once; a semaphore lets --connections of them
 * talk at a time, and each request (connect, send, response) runs under
 * --timeout-ms.  The lines come out in the order of the arguments, each as
 * soon as it and those before it are done:
 *
 *     200        13      0.4 ms  http://127.0.0.1:8080/
 *     err         -   2000.1 ms  http://127.0.0.1:9/  (timed out)
 *
 * then a summary.  With --keep-alive a connection is reused for the next
 * request to the same host, as a ClientSession does; a reused connection
 * that the server had closed meanwhile is replaced once.  Bodies may come
 * with a Content-Length, chunked, or until the server closes.  Hosts are
 * numeric (IPv4, [IPv6]) or localhost: corio does no DNS lookups.  The
 * exit status is 0 when every URL got a response, 1 otherwise.
 */
#define _POSIX_C_SOURCE 200809L

#include "http/http_parse.h"

#include <corio/corio.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RESPONSE_BUF 16384

typedef struct pooled {
    co_addr addr;
    int fd;
} pooled;

typedef struct client {
    int64_t timeout_ms;
    bool keep_alive, head;
    co_sem slots;  /* requests that may talk at once */
    pooled *pool;  /* idle connections, for --keep-alive: at most one per slot */
    int npool, pool_cap;
    int connections;      /* connections opened */
} client;

/* time.monotonic() in ns: the times printed are the wall clock's, not the
 * loop's, which is read once per turn of the loop. */
static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---------------------------------------------------------------- URLs */

typedef struct url {
    char host[72]; /* for the Host field: as written, port included */
    co_addr addr;
    const char *target; /* the path and query, into the argument */
} url;

/* "http://" host [":" port] [path]; NULL or what is wrong with it. */
static const char *parse_url(const char *text, url *u)
{
    char name[64];
    const char *host, *end, *port_at = NULL;
    long port = 80;
    size_t n;

    if (strncmp(text, "http://", 7) != 0)
        return strncmp(text, "https://", 8) == 0 ? "https is not supported" : "not an http:// URL";
    host = text + 7;
    end = host + strcspn(host, "/?#");
    if (*end == '#')
        return "a fragment is not sent";
    if (*host == '[') { /* [IPv6]:port */
        const char *close = memchr(host, ']', (size_t)(end - host));
        if (close == NULL)
            return "no ']' after an IPv6 address";
        n = (size_t)(close - host - 1);
        if (n >= sizeof name)
            return "bad host";
        memcpy(name, host + 1, n);
        name[n] = '\0';
        if (close + 1 < end && close[1] == ':')
            port_at = close + 2;
        else if (close + 1 != end)
            return "bad host";
    } else {
        const char *colon = memchr(host, ':', (size_t)(end - host));
        n = (size_t)((colon ? colon : end) - host);
        if (n == 0 || n >= sizeof name)
            return "bad host";
        memcpy(name, host, n);
        name[n] = '\0';
        if (colon)
            port_at = colon + 1;
    }
    if (port_at) {
        char *stop;
        port = strtol(port_at, &stop, 10);
        if (stop != end || port_at == end || port < 1 || port > 65535)
            return "bad port";
    }
    if ((size_t)(end - host) >= sizeof u->host)
        return "bad host";
    memcpy(u->host, host, (size_t)(end - host));
    u->host[end - host] = '\0';
    memset(&u->addr, 0, sizeof u->addr);
    if (co_addr_ip(&u->addr, name, (int)port) < 0)
        return "not a numeric host (corio does no DNS lookups)";
    u->target = *end ? end : "/";
    if (*u->target == '?')
        return "a query needs a path";
    return NULL;
}

/* ---------------------------------------------------------------- pool */

static bool same_addr(const co_addr *a, const co_addr *b)
{
    return a->len == b->len && memcmp(&a->u, &b->u, a->len) == 0;
}

/* An idle connection to addr, or -1. */
static int pool_take(client *cl, const co_addr *addr)
{
    int i;
    for (i = cl->npool - 1; i >= 0; i--) {
        if (same_addr(&cl->pool[i].addr, addr)) {
            int fd = cl->pool[i].fd;
            cl->pool[i] = cl->pool[--cl->npool];
            return fd;
        }
    }
    return -1;
}

/* Keeps fd for the next request to addr; false when the pool is full. */
static bool pool_put(client *cl, const co_addr *addr, int fd)
{
    if (cl->npool == cl->pool_cap)
        return false;
    cl->pool[cl->npool].addr = *addr;
    cl->pool[cl->npool].fd = fd;
    cl->npool++;
    return true;
}

/* ---------------------------------------------------------- a request */

typedef struct fetch fetch;

enum body_mode { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_UNTIL_CLOSE };

/* One request and its response on one connection: what the timeout
 * covers.  `retry` is set when a reused connection turned out closed. */
typedef struct exchange {
    co_gen gen;
    fetch *f;
    co_io io;
    int fd;
    bool reused, retry, head_done;
    http_parser parser;
    http_chunked chunked;
    char request[1024];
    size_t request_len;
    char buf[RESPONSE_BUF];
    size_t len;
    uint8_t mode;      /* how the body ends: enum body_mode */
    int64_t body_left; /* BODY_LENGTH: bytes to go */
    const char *error;
} exchange;

typedef struct timed_exchange {
    co_gen gen;
    co_deadline deadline;
    int64_t ms;
    exchange x;
} timed_exchange;

struct fetch {
    co_gen gen;
    client *cl;
    const char *text; /* the argument */
    url u;
    bool holding, began;
    int attempt;
    int64_t started, ended; /* monotonic_ns() */
    timed_exchange t;
    /* the outcome */
    int status;
    int64_t size;
    const char *error;
};

/* What the response head says of its body. */
static void body_mode(exchange *x)
{
    const http_message *m = &x->parser.msg;
    int s = m->status;
    x->body_left = 0;
    if (x->f->cl->head || s == 204 || s == 304 || (s >= 100 && s < 200)) {
        x->mode = BODY_NONE;
    } else if (m->chunked) {
        x->mode = BODY_CHUNKED;
        http_chunked_init(&x->chunked);
    } else if (m->content_length >= 0) {
        x->mode = BODY_LENGTH;
        x->body_left = m->content_length;
    } else {
        x->mode = BODY_UNTIL_CLOSE;
    }
}

static void consume(exchange *x, size_t n)
{
    x->len -= n;
    memmove(x->buf, x->buf + n, x->len);
}

/* Counts what buf holds of the body and drops it; true at the body's end
 * (or a bad chunk: x->error).  What follows the body stays in buf. */
static bool take_body(exchange *x)
{
    fetch *f = x->f;
    size_t n;
    if (x->mode == BODY_CHUNKED) {
        size_t data;
        int rc = http_chunked_decode(&x->chunked, x->buf, x->len, &n, &data);
        f->size += (int64_t)data;
        consume(x, n);
        if (rc == HTTP_ERROR)
            x->error = x->chunked.why;
        return rc != HTTP_MORE;
    }
    if (x->mode == BODY_UNTIL_CLOSE) {
        f->size += (int64_t)x->len;
        x->len = 0;
        return false;
    }
    n = (int64_t)x->len < x->body_left ? x->len : (size_t)x->body_left;
    f->size += (int64_t)n;
    x->body_left -= (int64_t)n;
    consume(x, n);
    return x->body_left == 0;
}

/* A response head is complete: skip interim 1xx ones. */
static bool final_head(exchange *x)
{
    const http_message *m = &x->parser.msg;
    if (m->status >= 200 || m->status == 101)
        return true;
    consume(x, m->head_len);
    http_response_parser_init(&x->parser, NULL);
    return false;
}

static int exchange_fn(co_gen *g)
{
    exchange *self = (exchange *)g;
    fetch *f = self->f;
    client *cl = f->cl;
    CO_BEGIN(self);
    self->fd = pool_take(cl, &f->u.addr);
    self->reused = self->fd >= 0;
    if (!self->reused) {
        CO_CONNECT(self, &self->io, &f->u.addr, -1); /* the timeout is around us */
        if (self->io.result < 0) {
            self->error = co_strerror((int)self->io.result);
            CO_RETURN_VOID(self);
        }
        self->fd = (int)self->io.result;
        cl->connections++;
    }
    CO_SEND_ALL(self, &self->io, self->fd, self->request, self->request_len);
    if (self->io.result < 0) {
        self->retry = self->reused;
        self->error = co_strerror((int)self->io.result);
        CO_RETURN_VOID(self);
    }

    /* the head, then the body: whatever each read brings */
    http_response_parser_init(&self->parser, NULL);
    for (;;) {
        if (!self->head_done) {
            int rc = http_parse(&self->parser, self->buf, self->len);
            if (rc == HTTP_ERROR) {
                self->error = self->parser.why;
                break;
            }
            if (rc == HTTP_DONE && final_head(self)) {
                if (self->parser.msg.status == 101) {
                    self->error = "the server switched protocols";
                    break;
                }
                self->head_done = true;
                f->status = self->parser.msg.status;
                consume(self, self->parser.msg.head_len);
                body_mode(self);
            }
            if (rc == HTTP_DONE)
                continue;
        }
        if (self->head_done && (take_body(self) || self->error))
            break;
        CO_RECV(self, &self->io, self->fd, self->buf + self->len, sizeof self->buf - self->len);
        if (self->io.result == 0 && self->head_done && self->mode == BODY_UNTIL_CLOSE)
            break; /* a body that ends with the connection */
        if (self->io.result <= 0) {
            /* a kept-alive connection the server closed meanwhile: once more */
            self->retry = self->reused && self->len == 0 && !self->head_done;
            self->error = self->io.result == 0 ? "the connection closed early"
                                               : co_strerror((int)self->io.result);
            break;
        }
        self->len += (size_t)self->io.result;
    }
    if (self->error == NULL && cl->keep_alive && self->parser.msg.keep_alive &&
        self->mode != BODY_UNTIL_CLOSE && self->len == 0 && pool_put(cl, &f->u.addr, self->fd))
        self->fd = -1;
    CO_FINALLY(self) {
        if (self->fd >= 0)
            co_fd_close(co_running_loop(), self->fd);
    }
    CO_END(self);
}

static int timed_exchange_fn(co_gen *g)
{
    timed_exchange *self = (timed_exchange *)g;
    CO_BEGIN(self);
    CO_WAIT_FOR(self, &self->deadline, x, self->ms);
    CO_END(self);
}

/* The exchange for the fetch's next attempt, with the time left. */
static void prepare_exchange(fetch *f, int64_t now)
{
    exchange *x = &f->t.x;
    int64_t spent_ms = (now - f->started) / 1000000;
    CO_INIT(&f->t, timed_exchange_fn);
    CO_INIT(x, exchange_fn);
    f->t.ms = f->cl->timeout_ms > spent_ms ? f->cl->timeout_ms - spent_ms : 0;
    x->f = f;
    x->fd = -1;
    x->reused = x->retry = x->head_done = false;
    x->len = 0;
    x->error = NULL;
    x->request_len = (size_t)snprintf(
        x->request, sizeof x->request,
        "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: corio-http-client\r\nAccept: */*\r\n%s\r\n",
        f->cl->head ? "HEAD" : "GET", f->u.target, f->u.host,
        f->cl->keep_alive ? "" : "Connection: close\r\n");
    f->status = 0;
    f->size = 0;
}

static int fetch_fn(co_gen *g)
{
    fetch *self = (fetch *)g;
    CO_BEGIN(self);
    if ((self->error = parse_url(self->text, &self->u)) != NULL)
        CO_RETURN_VOID(self);
    if (strlen(self->u.target) + strlen(self->u.host) > 900) {
        self->error = "URL too long";
        CO_RETURN_VOID(self);
    }
    /* async with limit: */
    CO_SEM_ACQUIRE(self, &self->cl->slots);
    self->holding = true;
    self->began = true;
    self->started = monotonic_ns();
    for (self->attempt = 0; self->attempt < 2; self->attempt++) {
        prepare_exchange(self, monotonic_ns());
        CO_AWAIT_CATCH(self, t);
        if (CO_THROWN(self) == CO_ECANCELLED)
            CO_RAISE(self, CO_ECANCELLED);
        self->error = CO_THROWN(self) == CO_ETIMEOUT ? "timed out" : self->t.x.error;
        if (CO_THROWN(self) != 0 && CO_THROWN(self) != CO_ETIMEOUT)
            self->error = co_strerror(CO_THROWN(self));
        if (CO_THROWN(self) != 0 || !self->t.x.retry)
            break;
    }
    self->ended = monotonic_ns();
    CO_FINALLY(self) {
        if (self->holding)
            co_sem_release(&self->cl->slots);
    }
    CO_END(self);
}

/* ---------------------------------------------------------------- main */

typedef struct main_task {
    co_gen gen;
    client *cl;
    int n;
    char **urls;
    fetch **fetches;
    int i, answered;
    int64_t started;
} main_task;

static void print_result(const fetch *f)
{
    double ms = (double)(f->ended - f->started) / 1e6;
    if (f->error && !f->began)
        printf("err %9s %9s     %s  (%s)\n", "-", "-", f->text, f->error);
    else if (f->error)
        printf("err %9s %9.1f ms  %s  (%s)\n", "-", ms, f->text, f->error);
    else
        printf("%3d %9lld %9.1f ms  %s\n", f->status, (long long)f->size, ms, f->text);
    fflush(stdout);
}

static int main_fn(co_gen *g)
{
    main_task *self = (main_task *)g;
    co_loop *loop = co_running_loop();
    CO_BEGIN(self);
    self->started = monotonic_ns();
    self->fetches = calloc((size_t)self->n, sizeof *self->fetches);
    if (self->fetches == NULL)
        CO_RAISE(self, CO_ENOMEM);
    /* tasks = [asyncio.create_task(fetch(...)) for url in urls] */
    for (self->i = 0; self->i < self->n; self->i++) {
        fetch *f = CO_NEW(loop, fetch, fetch_fn);
        if (f == NULL)
            CO_RAISE(self, CO_ENOMEM);
        f->cl = self->cl;
        f->text = self->urls[self->i];
        self->fetches[self->i] = f;
        co_spawn(&f->gen);
    }
    /* for task in tasks: print(await task) -- in the order given */
    for (self->i = 0; self->i < self->n; self->i++) {
        CO_AWAIT_TASK(self, &self->fetches[self->i]->gen);
        print_result(self->fetches[self->i]);
        if (self->fetches[self->i]->error == NULL)
            self->answered++;
    }
    printf("%d URL%s: %d answered, %d failed; %d connection%s; %.1f ms\n", self->n,
           self->n == 1 ? "" : "s", self->answered, self->n - self->answered,
           self->cl->connections, self->cl->connections == 1 ? "" : "s",
           (double)(monotonic_ns() - self->started) / 1e6);
    CO_FINALLY(self) {
        while (self->cl->npool > 0)
            co_fd_close(loop, self->cl->pool[--self->cl->npool].fd);
        free(self->fetches);
    }
    CO_END(self);
}

static const char usage[] =
    "[--connections N] [--timeout-ms MS] [--keep-alive] [--head] URL...";

static void usage_error(const char *prog, const char *what, const char *arg)
{
    fprintf(stderr, "%s: %s '%s'\nusage: %s %s\n", prog, what, arg, prog, usage);
    exit(2);
}

static long number(const char *prog, const char *text, long min, long max)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
        usage_error(prog, "bad number", text);
    return v;
}

int main(int argc, char **argv)
{
    static client cl;
    long connections = 4;
    int i, rc;
    co_loop *loop;
    main_task *m;

    cl.timeout_ms = 10000;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--keep-alive") == 0)
            cl.keep_alive = true;
        else if (strcmp(a, "--head") == 0)
            cl.head = true;
        else if (strcmp(a, "--connections") == 0 && i + 1 < argc)
            connections = number(argv[0], argv[++i], 1, 10000);
        else if (strcmp(a, "--timeout-ms") == 0 && i + 1 < argc)
            cl.timeout_ms = number(argv[0], argv[++i], 1, 86400000);
        else if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else
            usage_error(argv[0], "unexpected argument", a);
    }
    if (i == argc) {
        fprintf(stderr, "%s: no URL\nusage: %s %s\n", argv[0], argv[0], usage);
        return 2;
    }
    co_sem_init(&cl.slots, (int)connections, 0);
    cl.pool_cap = cl.keep_alive ? (int)connections : 0;
    cl.pool = calloc((size_t)connections, sizeof *cl.pool);
    if (cl.pool == NULL) {
        fprintf(stderr, "%s: out of memory\n", argv[0]);
        return 1;
    }
    if ((rc = co_loop_new(&loop, NULL)) < 0) {
        fprintf(stderr, "%s: cannot make a loop: %s\n", argv[0], co_strerror(rc));
        free(cl.pool);
        return 1;
    }
    m = CO_NEW(loop, main_task, main_fn);
    if (m) {
        m->cl = &cl;
        m->n = argc - i;
        m->urls = argv + i;
    }
    rc = m ? co_run(loop, &m->gen) : CO_ENOMEM;
    if (rc == 0)
        rc = m->answered == m->n ? 0 : 1;
    else if (rc == CO_EINTERRUPTED)
        rc = 130;
    else {
        fprintf(stderr, "%s: %s\n", argv[0], co_strerror(rc));
        rc = 1;
    }
    co_loop_free(loop);
    free(cl.pool);
    return rc;
}
