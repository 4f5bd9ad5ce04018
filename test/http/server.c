/*
 * server.c -- the server sample, run as a program and spoken to over raw
 * sockets (suite `server`): routes and files, keep-alive and pipelining,
 * and every error status, smuggling shapes included.  Most tests are
 * tables of exchanges played on one connection.  Every wait for the server
 * is bounded (WAIT_MS); server_edges.c has the timeouts and the stop.
 */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(server, .init = http_setup, .fini = http_teardown, .timeout = 30);

/*
 * One request and what its response must be: the tests below are tables
 * of these, played in order on one connection.  A response that closes
 * the connection must say "Connection: close" and be the last thing on it;
 * the next request then goes on a new connection.
 */
typedef struct exchange {
    const char *request;
    int status;
    const char *body;         /* NULL: not checked                        */
    const char *name, *value; /* a header to check; value NULL: absent    */
    bool head;                /* a HEAD request: no body follows          */
    bool closes;              /* the server closes after the response     */
} exchange;

/* Plays x on p, which it closes (and connects again) when x closes it. */
static void play(peer *p, const exchange *x)
{
    response r = ask(p, x->request, x->head);
    const char *conn = header(&r, "Connection");
    cr_assert_eq(r.status, x->status, "%d, not %d, for: %s", r.status, x->status, x->request);
    if (x->body)
        cr_assert(r.body_len == strlen(x->body) && memcmp(r.body, x->body, r.body_len) == 0,
                  "body \"%s\" for: %s", r.body, x->request);
    if (x->name && x->value)
        cr_assert(header(&r, x->name) && strcmp(header(&r, x->name), x->value) == 0,
                  "%s: %s, not %s, for: %s", x->name, header(&r, x->name), x->value, x->request);
    else if (x->name)
        cr_assert_null(header(&r, x->name), "a %s header for: %s", x->name, x->request);
    if (x->closes) {
        cr_assert(conn && strcmp(conn, "close") == 0, "no Connection: close for: %s", x->request);
        cr_assert(peer_wait_eof(p, WAIT_MS), "the connection stayed open after: %s", x->request);
        cr_assert_eq(p->len, 0, "more after the response to %s: %.*s", x->request, (int)p->len,
                     p->buf);
        peer_close(p);
        *p = peer_connect(srv.port);
    }
    response_free(&r);
}

/* Starts the server with `args`, plays the n exchanges, and stops it. */
static void converse(const char *const *args, const exchange *x, size_t n)
{
    peer p;
    size_t i;
    server_start(args);
    p = peer_connect(srv.port);
    for (i = 0; i < n; i++)
        play(&p, &x[i]);
    peer_close(&p);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

#define CONVERSE(args, table) converse(args, table, sizeof table / sizeof table[0])

/* The request gets `status` and the connection is closed after it. */
static void refused_with(const char *request, int status)
{
    exchange x = {request, status, NULL, NULL, NULL, false, true};
    peer p = peer_connect(srv.port);
    play(&p, &x);
    peer_close(&p);
}

/* A server of its own refuses each of the n requests with a 400. */
static void all_refused(const char *const *requests, size_t n)
{
    size_t i;
    server_start(NULL);
    for (i = 0; i < n; i++)
        refused_with(requests[i], 400);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

/* -------------------------------------------------------------- routes */

Test(server, hello)
{
    const char *paths[] = {"/", "/hello", "//hello/", "/?q=1", "http://x/hello"};
    size_t i;
    server_start(NULL);
    for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        response r = get(paths[i]);
        cr_assert_eq(r.status, 200, "%s", paths[i]);
        cr_assert_str_eq(r.body, "Hello, world!");
        cr_assert_str_eq(header(&r, "Content-Type"), "text/plain; charset=utf-8");
        cr_assert_str_eq(header(&r, "Content-Length"), "13");
        cr_assert_not_null(header(&r, "Date"));
        response_free(&r);
    }
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(server, static_files_with_their_types)
{
    static const struct {
        const char *path, *body, *type;
    } files[] = {
        {"/index.html", "<h1>corio</h1>\n", "text/html; charset=utf-8"},
        {"/style.css", "body { color: teal }\n", "text/css; charset=utf-8"},
        {"/app.js", "console.log('hi');\n", "text/javascript; charset=utf-8"},
        {"/data.json", "{\"answer\": 42}\n", "application/json"},
        {"/notes.txt", "plain text\n", "text/plain; charset=utf-8"},
        {"/photo.PNG", "\x89PNG\r\n\x1a\n", "image/png"},
        {"/blob.xyz", "what is this\n", "application/octet-stream"},
        {"/README", "no extension\n", "application/octet-stream"},
        {"/sub/deep/file.txt", "deep inside\n", "text/plain; charset=utf-8"},
        {"/sub//deep/./file.txt", NULL, NULL},
        {"/with%20space.txt", "a space\n", "text/plain; charset=utf-8"},
        {"/empty.txt", "", "text/plain; charset=utf-8"},
    };
    size_t i;
    server_start(NULL);
    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
        response r = get(files[i].path);
        if (files[i].body == NULL) { /* "." segments are refused */
            cr_assert_eq(r.status, 400, "%s", files[i].path);
            response_free(&r);
            continue;
        }
        cr_assert_eq(r.status, 200, "%s: %d", files[i].path, r.status);
        cr_assert_eq(r.body_len, strlen(files[i].body), "%s", files[i].path);
        cr_assert(memcmp(r.body, files[i].body, r.body_len) == 0, "%s", files[i].path);
        cr_assert_str_eq(header(&r, "Content-Type"), files[i].type, "%s", files[i].path);
        response_free(&r);
    }
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(server, a_large_file_arrives_whole)
{
    size_t n = 3 * 1024 * 1024 + 12345, i;
    response r;
    make_file("big.bin", n);
    server_start(NULL);
    r = get("/big.bin");
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.body_len, n);
    for (i = 0; i < n; i++)
        if ((unsigned char)r.body[i] != pattern_byte(i))
            cr_assert_fail("byte %zu differs", i);
    response_free(&r);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(server, what_is_not_a_regular_file_is_not_found)
{
    /* a directory, a FIFO (opening it must not hang the worker), a hidden
       file, a missing one; the connection stays usable after each */
    const char *paths[] = {"/dir", "/dir/", "/sub", "/fifo", "/.secret", "/sub/.x/y", "/nope",
                           "/index.html/x"};
    peer p;
    size_t i;
    char req[256];
    server_start(NULL);
    p = peer_connect(srv.port);
    for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        response r;
        snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", paths[i]);
        r = ask(&p, req, false);
        cr_assert_eq(r.status, 404, "%s: %d", paths[i], r.status);
        cr_assert_null(header(&r, "Connection"), "a 404 keeps the connection");
        response_free(&r);
    }
    peer_close(&p);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(server, no_path_leaves_the_root)
{
    const char *bad[] = {"/../outside.txt", "/%2e%2e/outside.txt", "/sub/../../outside.txt",
                         "/sub/%2E%2E/%2e%2e/outside.txt", "/sub%2F..%2F..%2Foutside.txt",
                         "/./index.html", "http://x/../outside.txt", "/index.html%00.txt"};
    size_t i;
    response r;
    server_start(NULL);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = get(bad[i]);
        cr_assert_eq(r.status, 400, "%s: %d", bad[i], r.status);
        cr_assert_null(strstr(r.body, "not for the web"));
        response_free(&r);
    }
    /* an absolute file system path is a path under the root */
    r = get("//etc/passwd");
    cr_assert_eq(r.status, 404);
    response_free(&r);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(server, head_sends_the_head_only)
{
    /* had a body been sent, the GET would read it as its response */
    const exchange x[] = {
        {"HEAD /style.css HTTP/1.1\r\nHost: x\r\n\r\n", 200, NULL, "Content-Length", "21", true,
         false},
        {"HEAD /style.css HTTP/1.1\r\nHost: x\r\n\r\n", 200, NULL, "Content-Type",
         "text/css; charset=utf-8", true, false},
        {"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", 200, NULL, "Content-Length", "13", true, false},
        {"GET /notes.txt HTTP/1.1\r\nHost: x\r\n\r\n", 200, "plain text\n", NULL, NULL, false,
         false},
    };
    CONVERSE(NULL, x);
}

Test(server, other_methods_get_405_and_keep_the_connection)
{
    /* the bodies are read and dropped: the stream stays in step */
    const exchange x[] = {
        {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 405, NULL, "Allow",
         "GET, HEAD", false, false},
        {"PUT /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405, NULL, "Allow",
         "GET, HEAD", false, false},
        {"DELETE /index.html HTTP/1.1\r\nHost: x\r\n\r\n", 405, NULL, "Allow", "GET, HEAD", false,
         false},
        {"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 405, NULL, "Allow", "GET, HEAD", false, false},
        {"get / HTTP/1.1\r\nHost: x\r\n\r\n", 405, NULL, "Allow", "GET, HEAD", false, false},
        {"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         "4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\nT: 1\r\n\r\n",
         405, NULL, "Allow", "GET, HEAD", false, false},
        {"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 200, "Hello, world!", NULL, NULL, false, false},
    };
    CONVERSE(NULL, x);
}

/* ---------------------------------------------------------- keep-alive */

Test(server, several_requests_on_one_connection)
{
    const exchange x[] = {
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 200, "Hello, world!", "Connection", NULL, false,
         false},
        {"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", 200, "<h1>corio</h1>\n", "Connection",
         NULL, false, false},
    };
    peer p;
    int i;
    server_start(NULL);
    p = peer_connect(srv.port);
    for (i = 0; i < 20; i++)
        play(&p, &x[i % 2]);
    peer_close(&p);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(server, pipelined_requests_are_answered_in_order)
{
    const char *three = "GET /notes.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                        "HEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\n"
                        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                        "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    peer p;
    response r;
    server_start(NULL);
    p = peer_connect(srv.port);
    peer_send(&p, three);
    r = read_response(&p, false);
    cr_assert_str_eq(r.body, "plain text\n");
    response_free(&r);
    r = read_response(&p, true);
    cr_assert_str_eq(header(&r, "Content-Length"), "15");
    response_free(&r);
    r = read_response(&p, false);
    cr_assert_eq(r.status, 405);
    response_free(&r);
    r = read_response(&p, false);
    cr_assert_str_eq(r.body, "Hello, world!");
    cr_assert_str_eq(header(&r, "Connection"), "close");
    response_free(&r);
    cr_assert(peer_wait_eof(&p, WAIT_MS));
    cr_assert_eq(p.len, 0, "nothing after the last response");
    peer_close(&p);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(server, a_request_in_one_byte_pieces)
{
    const char *req = "GET /data.json HTTP/1.1\r\nHost: x\r\nX-Long: 0123456789\r\n\r\n";
    peer p;
    response r;
    size_t i;
    server_start(NULL);
    p = peer_connect(srv.port);
    for (i = 0; req[i]; i++) {
        peer_send_bytes(&p, req + i, 1);
        cr_assert_eq(peer_read_some(&p, 0), -1, "an answer before the head was whole");
    }
    r = read_response(&p, false);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "{\"answer\": 42}\n");
    response_free(&r);
    peer_close(&p);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(server, connection_close_and_http_1_0)
{
    /* Connection: close is honoured; HTTP/1.0 is closed after the response
       unless it asks for keep-alive, which it then gets, and is told */
    const exchange x[] = {
        {"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200, "Hello, world!", NULL,
         NULL, false, true},
        {"GET /notes.txt HTTP/1.0\r\n\r\n", 200, "plain text\n", NULL, NULL, false, true},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, NULL, "Connection",
         "keep-alive", false, false},
        {"GET /notes.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, "plain text\n",
         "Connection", "keep-alive", false, false},
    };
    CONVERSE(NULL, x);
}

/* -------------------------------------------------------------- errors */

Test(server, malformed_requests_get_400_and_a_close)
{
    const char *bad[] = {
        "garbage\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n", /* no Host */
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\rHost: x\r\n\r\n",
        "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    };
    all_refused(bad, sizeof bad / sizeof bad[0]);
}

Test(server, bare_lf_framing_smuggles_no_request)
{
    /* a proxy in front that reads CR LF only sees one request in each of
       these; a server that took the bare LFs would answer a second one,
       unchecked.  Each gets a 400, a close, and nothing more */
    const char *smuggled[] = {
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         "3\nabc\n0\n\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         "3\r\nabc\r\n0\r\n\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("POST / HTTP/1.1\r\nHost: x\r\nX: y\nContent-Length: 32\r\n\r\n"
         "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"),
        "GET /hello HTTP/1.1\nHost: x\n\n",
    };
    all_refused(smuggled, sizeof smuggled / sizeof smuggled[0]);
}

Test(server, other_error_statuses)
{
    char *line = malloc(6000), *head = malloc(12000);
    size_t i;
    cr_assert(line && head);
    server_start(SERVER_ARGS("--max-body", "1000"));
    refused_with("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505);
    refused_with("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501);
    refused_with("PUT / HTTP/1.1\r\nHost: x\r\nExpect: tea\r\n\r\n", 417);
    refused_with("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n", 413);
    refused_with("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                 413);
    /* a chunked body is counted as it comes */
    refused_with("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "3e9\r\n",
                 413);
    /* a long URI: 414 */
    strcpy(line, "GET /");
    memset(line + 5, 'a', 5000);
    strcpy(line + 5005, " HTTP/1.1\r\nHost: x\r\n\r\n");
    refused_with(line, 414);
    /* a head of more than 8 KiB, or too many fields: 431 */
    strcpy(head, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (i = 0; i < 100; i++)
        strcat(head, "X-Padding: 01234567890123456789012345678901234567890123456789"
                     "012345678901234567890\r\n");
    strcat(head, "\r\n");
    refused_with(head, 431);
    strcpy(head, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (i = 0; i < 70; i++)
        strcat(head, "X: y\r\n");
    strcat(head, "\r\n");
    refused_with(head, 431);
    free(line);
    free(head);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(server, a_body_just_under_the_limit_is_read)
{
    char req[1200];
    const exchange x[] = {
        {req, 405, NULL, NULL, NULL, false, false},
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 200, "Hello, world!", NULL, NULL, false, false},
    };
    snprintf(req, sizeof req, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n%01000d",
             7);
    CONVERSE(SERVER_ARGS("--max-body", "1000"), x);
}

Test(server, expect_100_continue_is_answered_then_closed)
{
    /* the final status, without a 100 first */
    const exchange x[] = {
        {"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n",
         405, NULL, NULL, NULL, false, true},
    };
    CONVERSE(NULL, x);
}
