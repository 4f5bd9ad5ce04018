/*
 * server_edges.c -- the server sample at its edges, run as a program and
 * spoken to over raw sockets (suite `server_edges`): the timeouts that drop
 * slow, silent and non-reading clients, clients that vanish mid-request,
 * the connection limit, and the graceful shutdown.  Timeouts are set to a
 * few tens of milliseconds, so each test takes well under a second; every
 * wait for the server is bounded (WAIT_MS).
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

TestSuite(server_edges, .init = http_setup, .fini = http_teardown, .timeout = 30);

/* ------------------------------------------------------------ timeouts */

Test(server_edges, a_slow_head_is_cut_off)
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

Test(server_edges, a_silent_connection_is_closed)
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

Test(server_edges, an_idle_kept_alive_connection_is_closed)
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

Test(server_edges, a_client_that_does_not_read_is_dropped)
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

Test(server_edges, clients_that_vanish_mid_request_leak_nothing)
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

Test(server_edges, connections_over_the_limit_wait_their_turn)
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

Test(server_edges, a_signal_stops_it_gracefully)
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

/* A server with --grace-ms `grace`, and a connection in the middle of a
 * head (which never gets the rest). */
static peer a_busy_connection(const char *grace)
{
    peer busy;
    server_start(SERVER_ARGS("--grace-ms", grace));
    busy = peer_connect(srv.port);
    peer_send(&busy, "GET / HTTP/1.1\r\n");
    cr_assert_eq(peer_read_some(&busy, 50), -1);
    return busy;
}

Test(server_edges, the_grace_period_bounds_the_stop)
{
    peer busy = a_busy_connection("100");
    int64_t start = now_ms();
    cr_assert_eq(server_stop(SIGINT), 0);
    cr_assert(now_ms() - start >= AT_LEAST(100), "stopped before the grace period was over");
    cr_assert(peer_wait_eof(&busy, WAIT_MS));
    peer_close(&busy);
}

Test(server_edges, a_second_signal_stops_it_at_once)
{
    peer busy = a_busy_connection("60000");
    int64_t start = now_ms();
    kill(srv.p.pid, SIGINT);
    /* the first signal is taken once the listener is gone */
    while (!refuses_connections(srv.port))
        cr_assert(now_ms() - start < WAIT_MS && poll(NULL, 0, 2) == 0, "no stop in sight");
    cr_assert_eq(peer_read_some(&busy, 0), -1, "the busy connection was not given time");
    cr_assert_eq(server_stop(SIGINT), 0);
    cr_assert(now_ms() - start < 2000);
    peer_close(&busy);
}
