/*
 * server.c -- the server sample, run as a program and spoken to over raw
 * sockets (suite `server`): routes and files, keep-alive and pipelining,
 * every error status, the timeouts that drop slow clients, clients that
 * vanish mid-request, the connection limit, and the graceful shutdown.
 * Timeouts are set to a few tens of milliseconds, so each test takes well
 * under a second; every wait for the server is bounded (WAIT_MS).
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

TestSuite(server, .init = http_setup, .fini = http_teardown, .timeout = 30);

/* Sends a request on p and reads its response. */
static response ask(peer *p, const char *request, bool head)
{
    peer_send(p, request);
    return read_response(p, head);
}

/* The request gets `status` and the connection is closed after it. */
static void refused_with(const char *request, int status)
{
    peer p = peer_connect(srv.port);
    response r = ask(&p, request, false);
    const char *conn = header(&r, "Connection");
    cr_assert_eq(r.status, status, "%d, not %d, for: %s", r.status, status, request);
    cr_assert(conn && strcmp(conn, "close") == 0, "no Connection: close for %d", status);
    cr_assert(peer_wait_eof(&p, WAIT_MS), "the connection stayed open after a %d", status);
    response_free(&r);
    peer_close(&p);
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
    peer p;
    response r;
    server_start(NULL);
    p = peer_connect(srv.port);
    r = ask(&p, "HEAD /style.css HTTP/1.1\r\nHost: x\r\n\r\n", true);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(header(&r, "Content-Length"), "21");
    cr_assert_str_eq(header(&r, "Content-Type"), "text/css; charset=utf-8");
    response_free(&r);
    r = ask(&p, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", true);
    cr_assert_str_eq(header(&r, "Content-Length"), "13");
    response_free(&r);
    /* had a body been sent, this would read it as the next response */
    r = ask(&p, "GET /notes.txt HTTP/1.1\r\nHost: x\r\n\r\n", false);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "plain text\n");
    response_free(&r);
    peer_close(&p);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(server, other_methods_get_405_and_keep_the_connection)
{
    const char *requests[] = {
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        "PUT /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "DELETE /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        "get / HTTP/1.1\r\nHost: x\r\n\r\n",
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         "4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\nT: 1\r\n\r\n"),
    };
    peer p;
    size_t i;
    server_start(NULL);
    p = peer_connect(srv.port);
    for (i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        response r = ask(&p, requests[i], false);
        cr_assert_eq(r.status, 405, "%s", requests[i]);
        cr_assert_str_eq(header(&r, "Allow"), "GET, HEAD");
        response_free(&r);
    }
    /* the bodies were read and dropped: the stream is still in step */
    {
        response r = ask(&p, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", false);
        cr_assert_eq(r.status, 200);
        cr_assert_str_eq(r.body, "Hello, world!");
        response_free(&r);
    }
    peer_close(&p);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

/* ---------------------------------------------------------- keep-alive */

Test(server, several_requests_on_one_connection)
{
    peer p;
    int i;
    server_start(NULL);
    p = peer_connect(srv.port);
    for (i = 0; i < 20; i++) {
        response r = ask(&p, i % 2 ? "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"
                                   : "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                         false);
        cr_assert_eq(r.status, 200);
        cr_assert_str_eq(r.body, i % 2 ? "<h1>corio</h1>\n" : "Hello, world!");
        cr_assert_null(header(&r, "Connection"));
        response_free(&r);
    }
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
    peer p;
    response r;
    server_start(NULL);
    /* Connection: close is honoured */
    p = peer_connect(srv.port);
    r = ask(&p, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false);
    cr_assert_str_eq(header(&r, "Connection"), "close");
    cr_assert(peer_wait_eof(&p, WAIT_MS));
    response_free(&r);
    peer_close(&p);
    /* HTTP/1.0 without keep-alive: closed after the response */
    p = peer_connect(srv.port);
    r = ask(&p, "GET /notes.txt HTTP/1.0\r\n\r\n", false);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(header(&r, "Connection"), "close");
    cr_assert(peer_wait_eof(&p, WAIT_MS));
    response_free(&r);
    peer_close(&p);
    /* HTTP/1.0 asking for keep-alive gets it, and says so */
    p = peer_connect(srv.port);
    r = ask(&p, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false);
    cr_assert_str_eq(header(&r, "Connection"), "keep-alive");
    response_free(&r);
    r = ask(&p, "GET /notes.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false);
    cr_assert_str_eq(r.body, "plain text\n");
    response_free(&r);
    peer_close(&p);
    cr_assert_eq(server_stop(SIGTERM), 0);
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
    size_t i;
    server_start(NULL);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        refused_with(bad[i], 400);
    cr_assert_eq(server_stop(SIGTERM), 0);
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
    peer p;
    response r;
    server_start(SERVER_ARGS("--max-body", "1000"));
    p = peer_connect(srv.port);
    snprintf(req, sizeof req, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n%01000d",
             7);
    r = ask(&p, req, false);
    cr_assert_eq(r.status, 405);
    response_free(&r);
    r = ask(&p, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false);
    cr_assert_eq(r.status, 200);
    response_free(&r);
    peer_close(&p);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(server, expect_100_continue_is_answered_then_closed)
{
    peer p;
    response r;
    server_start(NULL);
    p = peer_connect(srv.port);
    r = ask(&p, "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n",
            false);
    cr_assert_eq(r.status, 405, "the final status, without a 100 first");
    cr_assert_str_eq(header(&r, "Connection"), "close");
    cr_assert(peer_wait_eof(&p, WAIT_MS));
    response_free(&r);
    peer_close(&p);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

/* ------------------------------------------------------------ timeouts */

Test(server, a_slow_head_is_cut_off)
{
    /* slowloris: the head must be whole within --header-timeout-ms of its
       first byte, however steadily its bytes trickle in */
    const char *req = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 0123456789012345678901234567890\r\n";
    peer p;
    response r;
    int64_t start, took;
    size_t sent = 0;
    server_start(SERVER_ARGS("--header-timeout-ms", "150"));
    p = peer_connect(srv.port);
    start = now_ms();
    while (req[sent] && peer_read_some(&p, 10) < 0)
        peer_send_bytes(&p, req + sent++, 1);
    cr_assert(!p.eof || p.len > 0, "closed without a word");
    r = read_response(&p, false);
    took = now_ms() - start;
    cr_assert_eq(r.status, 408);
    cr_assert_str_eq(header(&r, "Connection"), "close");
    cr_assert(peer_wait_eof(&p, WAIT_MS));
    cr_assert(took >= AT_LEAST(150) && took < 1000, "cut off after %lld ms", (long long)took);
    cr_assert(sent > 5, "only %zu bytes trickled in", sent);
    response_free(&r);
    peer_close(&p);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(server, a_silent_connection_is_closed)
{
    /* no byte at all: closed after the header timeout, with no answer */
    peer p;
    int64_t start, took;
    server_start(SERVER_ARGS("--header-timeout-ms", "100"));
    p = peer_connect(srv.port);
    start = now_ms();
    cr_assert(peer_wait_eof(&p, WAIT_MS));
    took = now_ms() - start;
    cr_assert_eq(p.len, 0, "an answer to nothing: %.*s", (int)p.len, p.buf);
    cr_assert(took >= AT_LEAST(100) && took < 1000, "closed after %lld ms", (long long)took);
    peer_close(&p);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(server, an_idle_kept_alive_connection_is_closed)
{
    peer p;
    response r;
    int64_t start, took;
    server_start(SERVER_ARGS("--idle-timeout-ms", "120", "--header-timeout-ms", "5000"));
    p = peer_connect(srv.port);
    r = ask(&p, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false);
    start = now_ms();
    cr_assert_eq(r.status, 200);
    response_free(&r);
    cr_assert(peer_wait_eof(&p, WAIT_MS));
    took = now_ms() - start;
    cr_assert_eq(p.len, 0);
    cr_assert(took >= AT_LEAST(120) && took < 1000, "closed after %lld ms", (long long)took);
    peer_close(&p);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

Test(server, a_client_that_does_not_read_is_dropped)
{
    /* 16 MiB asked for and never read: the send stalls once the socket
       buffers are full, and --send-timeout-ms ends it */
    size_t n = 16 * 1024 * 1024;
    peer p;
    int base;
    int64_t start;
    make_file("huge.bin", n);
    server_start(SERVER_ARGS("--send-timeout-ms", "150", "--header-timeout-ms", "150"));
    base = server_fds();
    p = peer_connect_small(srv.port, 4096);
    peer_send(&p, "GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    start = now_ms();
    cr_assert(peer_read_some(&p, WAIT_MS) > 0, "no response at all");
    /* the server gives up by itself: its fds go back to what they were */
    cr_assert(server_fds_become(base), "still %d fds open, %d before", server_fds(), base);
    cr_assert(now_ms() - start >= AT_LEAST(150));
    while (!p.eof) {
        cr_assert(peer_read_some(&p, WAIT_MS) >= 0, "the stream did not end");
        p.len = 0; /* only the end matters */
    }
    peer_close(&p);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

/* ----------------------------------------------------- clients vanish */

Test(server, clients_that_vanish_mid_request_leak_nothing)
{
    peer p;
    response r;
    int base;
    make_file("big.bin", 8 * 1024 * 1024);
    server_start(NULL);
    base = server_fds();

    /* half a head, then a close */
    p = peer_connect(srv.port);
    peer_send(&p, "GET /index.html HTTP/1.1\r\nHo");
    peer_close(&p);
    /* half a head, then a reset */
    p = peer_connect(srv.port);
    peer_send(&p, "GET /index.html HTTP/1.1\r\n");
    peer_reset(&p);
    /* half a body, then a close */
    p = peer_connect(srv.port);
    peer_send(&p, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc");
    peer_close(&p);
    /* a large file, a little of it read, then a reset */
    p = peer_connect_small(srv.port, 8192);
    peer_send(&p, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(peer_read_some(&p, WAIT_MS) > 0);
    peer_reset(&p);
    /* a request sent, and gone before the answer */
    p = peer_connect(srv.port);
    peer_send(&p, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
    peer_reset(&p);

    cr_assert(server_fds_become(base), "%d fds open, %d before", server_fds(), base);
    r = get("/hello");
    cr_assert_eq(r.status, 200, "the server still answers");
    response_free(&r);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

/* ------------------------------------------------------- limits, stop */

Test(server, connections_over_the_limit_wait_their_turn)
{
    peer a, b;
    response r;
    server_start(SERVER_ARGS("--max-conns", "1"));
    a = peer_connect(srv.port);
    r = ask(&a, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false);
    response_free(&r);
    /* b is queued in the backlog while a holds the only slot */
    b = peer_connect(srv.port);
    peer_send(&b, "GET /notes.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert_eq(peer_read_some(&b, 100), -1, "answered while the only slot was taken");
    peer_close(&a);
    r = read_response(&b, false);
    cr_assert_str_eq(r.body, "plain text\n");
    response_free(&r);
    peer_close(&b);
    cr_assert_eq(server_stop(SIGTERM), 0);
}

static bool refuses_connections(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), rc;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    close(fd);
    return rc < 0 && errno == ECONNREFUSED;
}

Test(server, a_signal_stops_it_gracefully)
{
    /* idle connections close at once; a request in flight is finished,
       with "Connection: close"; new connections are refused; status 0 */
    peer idle, busy, fresh;
    response r;
    int status;
    server_start(NULL);
    idle = peer_connect(srv.port);
    r = ask(&idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false);
    response_free(&r);
    busy = peer_connect(srv.port);
    fresh = peer_connect(srv.port); /* connected, nothing sent: idle too */
    peer_send(&busy, "GET /notes.txt HTTP/1.1\r\nHost: x\r\n");
    cr_assert_eq(peer_read_some(&busy, 50), -1);
    kill(srv.p.pid, SIGTERM);
    cr_assert(peer_wait_eof(&idle, WAIT_MS), "the idle connection stayed open");
    cr_assert(peer_wait_eof(&fresh, WAIT_MS), "the fresh connection stayed open");
    cr_assert(refuses_connections(srv.port), "still accepting after the signal");
    peer_send(&busy, "\r\n");
    r = read_response(&busy, false);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "plain text\n");
    cr_assert_str_eq(header(&r, "Connection"), "close");
    cr_assert(peer_wait_eof(&busy, WAIT_MS));
    response_free(&r);
    status = server_stop(0); /* already signalled: just wait */
    cr_assert_eq(status, 0);
    peer_close(&idle);
    peer_close(&busy);
    peer_close(&fresh);
}

Test(server, the_grace_period_bounds_the_stop)
{
    peer busy;
    int64_t start;
    server_start(SERVER_ARGS("--grace-ms", "100"));
    busy = peer_connect(srv.port);
    peer_send(&busy, "GET / HTTP/1.1\r\n"); /* and never the rest */
    cr_assert_eq(peer_read_some(&busy, 50), -1);
    start = now_ms();
    cr_assert_eq(server_stop(SIGINT), 0);
    cr_assert(now_ms() - start >= AT_LEAST(100), "stopped before the grace period was over");
    cr_assert(peer_wait_eof(&busy, WAIT_MS));
    peer_close(&busy);
}

Test(server, a_second_signal_stops_it_at_once)
{
    peer busy;
    int64_t start;
    server_start(SERVER_ARGS("--grace-ms", "60000"));
    busy = peer_connect(srv.port);
    peer_send(&busy, "GET / HTTP/1.1\r\n");
    cr_assert_eq(peer_read_some(&busy, 50), -1);
    start = now_ms();
    kill(srv.p.pid, SIGINT);
    /* the first signal is taken once the listener is gone */
    while (!refuses_connections(srv.port))
        cr_assert(now_ms() - start < WAIT_MS && poll(NULL, 0, 2) == 0, "no stop in sight");
    cr_assert_eq(peer_read_some(&busy, 0), -1, "the busy connection was not given time");
    cr_assert_eq(server_stop(SIGINT), 0);
    cr_assert(now_ms() - start < 2000);
    peer_close(&busy);
}
