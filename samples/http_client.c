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
 * numeric (IPv4, [IPv6]) or localhost: the sample does no DNS lookups.  The
 * exit status is 0 when every URL got a response, 1 otherwise.
 *
 * https:// URLs go over TLS, as aiohttp's do: the server's certificate is
 * verified against the system's store (or --cafile FILE) and for the URL's
 * host, which is also sent as SNI; --insecure takes any certificate (curl's
 * -k).  A failed handshake is the URL's error, with OpenSSL's reason:
 *
 *     err         -      3.1 ms  https://127.0.0.1:8443/  (TLS: certificate
 *         not trusted: certificate verify failed: unable to get local issuer
 *         certificate)
 */
#define _POSIX_C_SOURCE 200809L

#include "http_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* time.monotonic() in ns: the times printed are the wall clock's, not the
 * loop's, which is read once per turn of the loop. */
static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---------------------------------------------------------------- URLs */

/* ("http://" | "https://") host [":" port] [path]; NULL or what is wrong
 * with it. */
static const char *parse_url(const char *text, url *u)
{
    char *name = u->name;
    const char *host, *end, *port_at = NULL;
    long port;
    size_t n;

    u->tls = strncmp(text, "https://", 8) == 0;
    if (!u->tls && strncmp(text, "http://", 7) != 0)
        return "not an http:// or https:// URL";
    host = text + (u->tls ? 8 : 7);
    port = u->tls ? 443 : 80;
    end = host + strcspn(host, "/?#");
    if (*end == '#')
        return "a fragment is not sent";
    if (*host == '[') { /* [IPv6]:port */
        const char *close = memchr(host, ']', (size_t)(end - host));
        if (close == NULL)
            return "no ']' after an IPv6 address";
        n = (size_t)(close - host - 1);
        if (n >= sizeof u->name)
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
        if (n == 0 || n >= sizeof u->name)
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
        return "not a numeric host (the sample does no DNS lookups)";
    u->target = *end ? end : "/";
    if (*u->target == '?')
        return "a query needs a path";
    return NULL;
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
    x->stream = NULL;
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
    if (self->u.tls && self->cl->tls == NULL) {
        self->error = co_strerror(self->cl->tls_error);
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
        pool_close_all(self->cl);
        free(self->fetches);
    }
    CO_END(self);
}

static const char usage[] =
    "[--connections N] [--timeout-ms MS] [--keep-alive] [--head]\n"
    "       [--cafile FILE] [--insecure] URL...";

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

/* For https:// URLs, a TLS context that verifies the servers against the
 * system's store or --cafile (or, --insecure, takes any certificate):
 * 0, or 1 with a message.  A corio without TLS makes every https:// URL
 * fail with CO_ENOTLS instead. */
static int set_up_tls(client *cl, char **urls, int n, const char *ca_file, bool insecure,
                      const char *prog)
{
    int i, rc;
    for (i = 0; i < n && strncmp(urls[i], "https://", 8) != 0; i++)
        ;
    if (i == n && ca_file == NULL && !insecure)
        return 0; /* no TLS needed */
    rc = co_tls_client(&cl->tls, ca_file);
    if (rc == 0 && insecure)
        rc = co_tls_insecure(cl->tls);
    if (rc == CO_ENOTLS) {
        cl->tls_error = rc;
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "%s: cannot set up TLS%s%s: %s%s%s\n", prog,
                ca_file ? " with --cafile " : "", ca_file ? ca_file : "", co_strerror(rc),
                *co_tls_reason(NULL) ? ": " : "", co_tls_reason(NULL));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static client cl;
    long connections = 4;
    const char *ca_file = NULL;
    bool insecure = false;
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
        else if (strcmp(a, "--insecure") == 0)
            insecure = true;
        else if (strcmp(a, "--cafile") == 0 && i + 1 < argc)
            ca_file = argv[++i];
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
    if (set_up_tls(&cl, argv + i, argc - i, ca_file, insecure, argv[0]) != 0)
        return 1;
    co_sem_init(&cl.slots, (int)connections, 0);
    cl.pool_cap = cl.keep_alive ? (int)connections : 0;
    cl.pool = calloc((size_t)connections, sizeof *cl.pool);
    if (cl.pool == NULL || (rc = co_loop_new(&loop, NULL)) < 0) {
        fprintf(stderr, "%s: cannot make a loop: %s\n", argv[0],
                co_strerror(cl.pool ? rc : CO_ENOMEM));
        free(cl.pool);
        co_tls_free(cl.tls);
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
    co_tls_free(cl.tls);
    return rc;
}

