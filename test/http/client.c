/*
 * client.c -- the client sample against the server sample, and against a
 * server the test plays itself to control what the client sees (suite
 * `client`); then curl against the server sample (suite `curl`, skipped,
 * saying why, where curl is not installed).
 */
#include "harness.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

TestSuite(client, .init = http_setup, .fini = http_teardown, .timeout = 30);
TestSuite(curl, .init = http_setup, .fini = http_teardown, .timeout = 30);

/* ------------------------------------------------------- the client */

#define MAX_LINES 16

/* The client's output: one line per URL, then the summary. */
typedef struct report {
    char *text;
    int status; /* the client's exit status */
    int nlines;
    char *lines[MAX_LINES];
} report;

/* One URL's line: "STATUS SIZE TIME ms URL", or "err - TIME ms URL (why)". */
typedef struct line {
    int status; /* 0 for err */
    long long size;
    double ms;
    char url[256];
} line;

static void split_lines(report *r)
{
    char *s = r->text, *nl;
    r->nlines = 0;
    while (*s && (nl = strchr(s, '\n')) != NULL) {
        *nl = '\0';
        cr_assert(r->nlines < MAX_LINES, "too many lines");
        r->lines[r->nlines++] = s;
        s = nl + 1;
    }
}

/* Runs the client with `args` (NULL-ended) to its end. */
static report run_client(const char *const *args)
{
    const char *argv[40];
    report r;
    client_argv(argv, args);
    r.text = run_program(argv, &r.status);
    split_lines(&r);
    return r;
}
#define CLIENT(...) run_client((const char *const[]){__VA_ARGS__, NULL})

static proc start_client(const char *const *args)
{
    const char *argv[40];
    client_argv(argv, args);
    return program_start(argv);
}

static report finish_client(proc *p)
{
    report r;
    r.text = program_finish(p, &r.status);
    split_lines(&r);
    return r;
}

/* The whole output again, for messages (split_lines cut it into lines). */
static const char *all_of(const report *r)
{
    static char text[4096];
    int i;
    text[0] = '\0';
    for (i = 0; i < r->nlines; i++) {
        strncat(text, r->lines[i], sizeof text - strlen(text) - 2);
        strcat(text, "\n");
    }
    return text;
}

static line parse_line(const report *r, int i)
{
    line l;
    char status[8];
    const char *s;
    cr_assert(i < r->nlines, "no line %d in:\n%s", i + 1, all_of(r));
    s = r->lines[i];
    memset(&l, 0, sizeof l);
    if (strncmp(s, "err", 3) == 0) {
        const char *ms = strstr(s, " ms  ");
        l.ms = ms ? atof(ms - 9) : -1;
        sscanf(strstr(s, "http") ? strstr(s, "http") : s, "%255s", l.url);
        return l;
    }
    cr_assert_eq(sscanf(s, "%7s %lld %lf ms %255s", status, &l.size, &l.ms, l.url), 4,
                 "bad line: %s", s);
    l.status = atoi(status);
    return l;
}

static void url_of(char *out, size_t cap, int port, const char *path)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", port, path);
}

Test(client, fetches_from_the_server_in_argument_order)
{
    char u[5][96];
    static const char *paths[] = {"/", "/index.html", "/missing", "/big.bin", "/hello"};
    static const int statuses[] = {200, 200, 404, 200, 200};
    static const long long sizes[] = {13, 15, 14, 1048576, 13};
    report r;
    int i;
    make_file("big.bin", 1048576);
    server_start(NULL);
    for (i = 0; i < 5; i++)
        url_of(u[i], sizeof u[i], srv.port, paths[i]);
    r = CLIENT("--connections", "3", u[0], u[1], u[2], u[3], u[4]);
    cr_assert_eq(r.status, 0, "exit status %d:\n%s", r.status, all_of(&r));
    cr_assert_eq(r.nlines, 6, "%s", all_of(&r));
    for (i = 0; i < 5; i++) {
        line l = parse_line(&r, i);
        cr_assert_str_eq(l.url, u[i], "line %d out of order:\n%s", i + 1, all_of(&r));
        cr_assert_eq(l.status, statuses[i], "%s", r.lines[i]);
        cr_assert_eq(l.size, sizes[i], "%s", r.lines[i]);
        cr_assert(l.ms >= 0 && l.ms < WAIT_MS, "%s", r.lines[i]);
    }
    cr_assert(strncmp(r.lines[5], "5 URLs: 5 answered, 0 failed; 5 connections;", 44) == 0,
              "%s", r.lines[5]);
    free(r.text);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(client, keep_alive_reuses_connections)
{
    char u[6][96];
    report r;
    int i;
    server_start(NULL);
    for (i = 0; i < 6; i++)
        url_of(u[i], sizeof u[i], srv.port, i % 2 ? "/notes.txt" : "/");
    r = CLIENT("--keep-alive", "--connections", "1", u[0], u[1], u[2], u[3], u[4], u[5]);
    cr_assert_eq(r.status, 0, "%s", all_of(&r));
    cr_assert_eq(r.nlines, 7, "%s", all_of(&r));
    cr_assert(strstr(r.lines[6], "6 answered, 0 failed; 1 connection;"), "%s", r.lines[6]);
    free(r.text);
    r = CLIENT("--keep-alive", "--connections", "2", u[0], u[1], u[2], u[3], u[4], u[5]);
    cr_assert(strstr(r.lines[6], "6 answered, 0 failed; 2 connections;"), "%s", r.lines[6]);
    free(r.text);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(client, head_requests)
{
    char u[96];
    report r;
    line l;
    server_start(NULL);
    url_of(u, sizeof u, srv.port, "/style.css");
    r = CLIENT("--head", u);
    l = parse_line(&r, 0);
    cr_assert_eq(l.status, 200);
    cr_assert_eq(l.size, 0);
    free(r.text);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(client, what_cannot_be_fetched)
{
    report r = CLIENT("ftp://127.0.0.1/", "https://127.0.0.1/", "http://example.com/",
                      "http://127.0.0.1:99999/", "http://[::1/", "http://127.0.0.1:1/");
    int i;
    cr_assert_eq(r.status, 1, "%s", all_of(&r));
    cr_assert_eq(r.nlines, 7, "%s", all_of(&r));
    for (i = 0; i < 6; i++)
        cr_assert(strncmp(r.lines[i], "err", 3) == 0, "%s", r.lines[i]);
    cr_assert(strstr(r.lines[2], "no DNS"), "%s", r.lines[2]);
    cr_assert(strstr(r.lines[5], "Connection refused"), "%s", r.lines[5]);
    cr_assert(strstr(r.lines[6], "0 answered, 6 failed"), "%s", r.lines[6]);
    free(r.text);
}

/* ------------------------------------------ a server the test plays */

static int listen_here(int *port, int backlog)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(fd, backlog), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* The next connection within ms, or -1. */
static int accept_within(int lfd, int ms)
{
    struct pollfd pfd = {lfd, POLLIN, 0};
    if (poll(&pfd, 1, ms) != 1)
        return -1;
    return accept(lfd, NULL, NULL);
}

/* Reads a request head from fd; returns its path (a static buffer). */
static const char *read_request(int fd)
{
    static char buf[4096], path[256];
    size_t len = 0;
    buf[0] = '\0';
    while (strstr(buf, "\r\n\r\n") == NULL) {
        struct pollfd pfd = {fd, POLLIN, 0};
        ssize_t n;
        cr_assert_eq(poll(&pfd, 1, WAIT_MS), 1, "no request in %d ms", WAIT_MS);
        n = read(fd, buf + len, sizeof buf - len - 1);
        cr_assert(n > 0, "the client closed before its request was whole");
        len += (size_t)n;
        buf[len] = '\0';
    }
    cr_assert_eq(sscanf(buf, "GET %255s HTTP/1.1", path), 1, "bad request: %s", buf);
    return path;
}

static void write_str(int fd, const char *s)
{
    size_t n = strlen(s);
    cr_assert_eq(write(fd, s, n), (ssize_t)n);
}

/* Answers "/N" with status 210 + N and a body of N bytes, and closes
 * (210 +: a 204 would have no body). */
static void answer_numbered(int fd, const char *path)
{
    char reply[256];
    int n = atoi(path + 1);
    snprintf(reply, sizeof reply, "HTTP/1.1 %d OK\r\nContent-Length: %d\r\n\r\n%.*s", 210 + n,
             n, n, "xxxxxxxxxx");
    write_str(fd, reply);
    close(fd);
}

Test(client, at_most_n_connections_at_once)
{
    char u[4][96];
    int lfd, port, a, b, c, d, i;
    char pa[16], pb[16], pc[16];
    proc p;
    report r;
    lfd = listen_here(&port, 16);
    for (i = 0; i < 4; i++) {
        char path[8];
        snprintf(path, sizeof path, "/%d", i + 1);
        url_of(u[i], sizeof u[i], port, path);
    }
    p = start_client((const char *const[]){"--connections", "2", u[0], u[1], u[2], u[3], NULL});
    a = accept_within(lfd, WAIT_MS);
    b = accept_within(lfd, WAIT_MS);
    cr_assert(a >= 0 && b >= 0, "the first two connections did not come");
    snprintf(pa, sizeof pa, "%s", read_request(a));
    snprintf(pb, sizeof pb, "%s", read_request(b));
    cr_assert_eq(accept_within(lfd, 100), -1, "a third connection while two are busy");
    /* the second one answered first: its slot goes to the third */
    answer_numbered(b, pb);
    c = accept_within(lfd, WAIT_MS);
    cr_assert(c >= 0);
    snprintf(pc, sizeof pc, "%s", read_request(c));
    cr_assert_eq(accept_within(lfd, 100), -1, "a third connection while two are busy");
    answer_numbered(c, pc);
    d = accept_within(lfd, WAIT_MS);
    cr_assert(d >= 0);
    answer_numbered(d, read_request(d));
    answer_numbered(a, pa);
    r = finish_client(&p);
    cr_assert_eq(r.status, 0, "%s", all_of(&r));
    /* whatever the order of the answers, the lines keep the arguments' */
    for (i = 0; i < 4; i++) {
        line l = parse_line(&r, i);
        cr_assert_str_eq(l.url, u[i], "%s", all_of(&r));
        cr_assert_eq(l.status, 211 + i, "%s", all_of(&r));
        cr_assert_eq(l.size, i + 1, "%s", all_of(&r));
    }
    free(r.text);
    close(lfd);
}

Test(client, a_request_times_out)
{
    /* a listener that never accepts: the kernel completes the handshake,
       takes the request, and nothing ever answers */
    char u[96];
    int lfd, port;
    report r;
    line l;
    int64_t start = now_ms();
    lfd = listen_here(&port, 4);
    url_of(u, sizeof u, port, "/never");
    r = CLIENT("--timeout-ms", "200", u);
    cr_assert_eq(r.status, 1, "%s", all_of(&r));
    l = parse_line(&r, 0);
    cr_assert_eq(l.status, 0, "%s", all_of(&r));
    cr_assert(strstr(r.lines[0], "(timed out)"), "%s", r.lines[0]);
    cr_assert(l.ms >= AT_LEAST(200) && l.ms < 1000, "%s", r.lines[0]);
    cr_assert(now_ms() - start < 2000);
    free(r.text);
    close(lfd);
}

Test(client, bodies_chunked_until_close_and_after_100_continue)
{
    static const char *replies[] = {
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         "5\r\nhello\r\n6;x=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n"),
        "HTTP/1.0 200 OK\r\nServer: old\r\n\r\n0123456789abcdef",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 3\r\n\r\nabc",
        "HTTP/1.1 204 No Content\r\n\r\n",
    };
    static const int statuses[] = {200, 200, 202, 204};
    static const long long sizes[] = {11, 16, 3, 0};
    char u[4][96];
    int lfd, port, i;
    proc p;
    report r;
    lfd = listen_here(&port, 16);
    for (i = 0; i < 4; i++) {
        char path[8];
        snprintf(path, sizeof path, "/%d", i);
        url_of(u[i], sizeof u[i], port, path);
    }
    p = start_client((const char *const[]){"--connections", "1", u[0], u[1], u[2], u[3], NULL});
    for (i = 0; i < 4; i++) {
        int fd = accept_within(lfd, WAIT_MS);
        cr_assert(fd >= 0);
        cr_assert_eq(atoi(read_request(fd) + 1), i);
        write_str(fd, replies[i]);
        close(fd);
    }
    r = finish_client(&p);
    cr_assert_eq(r.status, 0, "%s", all_of(&r));
    for (i = 0; i < 4; i++) {
        line l = parse_line(&r, i);
        cr_assert_eq(l.status, statuses[i], "%s", all_of(&r));
        cr_assert_eq(l.size, sizes[i], "%s", all_of(&r));
    }
    free(r.text);
    close(lfd);
}

Test(client, a_stale_kept_alive_connection_is_replaced)
{
    /* the server closes a kept-alive connection after one response: the
       client's next request on it fails before any answer, and goes again
       on a new connection */
    char u[2][96];
    int lfd, port, fd;
    proc p;
    report r;
    lfd = listen_here(&port, 16);
    url_of(u[0], sizeof u[0], port, "/1");
    url_of(u[1], sizeof u[1], port, "/2");
    p = start_client((const char *const[]){"--keep-alive", "--connections", "1", u[0], u[1], NULL});
    fd = accept_within(lfd, WAIT_MS);
    cr_assert(fd >= 0);
    cr_assert_str_eq(read_request(fd), "/1");
    answer_numbered(fd, "/1"); /* and closes: the client does not know yet */
    fd = accept_within(lfd, WAIT_MS);
    cr_assert(fd >= 0, "no second connection");
    cr_assert_str_eq(read_request(fd), "/2");
    answer_numbered(fd, "/2");
    r = finish_client(&p);
    cr_assert_eq(r.status, 0, "%s", all_of(&r));
    cr_assert_eq(parse_line(&r, 1).status, 212, "%s", all_of(&r));
    cr_assert(strstr(r.lines[2], "2 answered, 0 failed; 2 connections"), "%s", all_of(&r));
    free(r.text);
    close(lfd);
}

/* ------------------------------------------------------------- curl */

static const char *curl_or_skip(void)
{
    const char *curl = program("CURL");
    if (curl == NULL)
        cr_skip_test("curl is not installed (scripts/deps curl): the curl tests are not run");
    return curl;
}

/* Runs curl with args; returns its output, asserting it succeeded. */
static char *curl(const char *const *args)
{
    const char *argv[40];
    size_t n = 0;
    int status;
    char *out;
    argv[n++] = curl_or_skip();
    argv[n++] = "--silent";
    argv[n++] = "--show-error";
    argv[n++] = "--max-time";
    argv[n++] = "10";
    while (*args && n < 39)
        argv[n++] = *args++;
    argv[n] = NULL;
    out = run_program(argv, &status);
    cr_assert_eq(status, 0, "curl failed (%d): %s", status, out);
    return out;
}
#define CURL(...) curl((const char *const[]){__VA_ARGS__, NULL})

Test(curl, several_urls_on_one_connection)
{
    char u[3][96];
    char *out;
    curl_or_skip();
    server_start(NULL);
    url_of(u[0], sizeof u[0], srv.port, "/");
    url_of(u[1], sizeof u[1], srv.port, "/index.html");
    url_of(u[2], sizeof u[2], srv.port, "/missing");
    out = CURL("--output", "/dev/null", "--output", "/dev/null", "--output", "/dev/null",
               "--write-out", "%{http_code} %{size_download} %{num_connects}\n", u[0], u[1],
               u[2]);
    cr_assert_str_eq(out, "200 13 1\n200 15 0\n404 14 0\n");
    free(out);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(curl, head_http_1_0_and_a_large_file)
{
    char u[96], got[512];
    char *out;
    FILE *f;
    size_t n = 2 * 1024 * 1024 + 7, i;
    curl_or_skip();
    make_file("big.bin", n);
    server_start(NULL);
    url_of(u, sizeof u, srv.port, "/style.css");
    out = CURL("--head", u);
    cr_assert(strstr(out, "HTTP/1.1 200 OK\r\n"), "%s", out);
    cr_assert(strstr(out, "Content-Length: 21\r\n"), "%s", out);
    cr_assert(strstr(out, "Content-Type: text/css; charset=utf-8\r\n"), "%s", out);
    free(out);
    url_of(u, sizeof u, srv.port, "/notes.txt");
    out = CURL("--http1.0", "--include", u);
    cr_assert(strstr(out, "Connection: close\r\n"), "%s", out);
    cr_assert(strstr(out, "\r\n\r\nplain text\n"), "%s", out);
    free(out);
    url_of(u, sizeof u, srv.port, "/big.bin");
    snprintf(got, sizeof got, "%s/../got.bin", root_dir);
    out = CURL("--output", got, u);
    free(out);
    f = fopen(got, "rb");
    cr_assert_not_null(f);
    for (i = 0; i < n; i++)
        cr_assert_eq(fgetc(f), pattern_byte(i), "byte %zu", i);
    cr_assert_eq(fgetc(f), EOF);
    fclose(f);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(curl, posts_and_escapes)
{
    char u[96], data[2600];
    char *out;
    curl_or_skip();
    server_start(NULL);
    url_of(u, sizeof u, srv.port, "/");
    out = CURL("--output", "/dev/null", "--write-out", "%{http_code}", "--data", "x=1", u);
    cr_assert_str_eq(out, "405");
    free(out);
    /* a larger body: curl may send "Expect: 100-continue" first */
    memset(data, 'd', sizeof data - 1);
    data[sizeof data - 1] = '\0';
    out = CURL("--output", "/dev/null", "--write-out", "%{http_code}", "--data", data, u);
    cr_assert_str_eq(out, "405");
    free(out);
    url_of(u, sizeof u, srv.port, "/../outside.txt");
    out = CURL("--path-as-is", "--output", "/dev/null", "--write-out", "%{http_code}", u);
    cr_assert_str_eq(out, "400");
    free(out);
    cr_assert_eq(server_stop(SIGTERM), 0);
}
