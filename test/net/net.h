/*
 * net.h -- what the socket tests add to testloop.h: the loop a test runs
 * (its clock moves only by autojump, so timeouts are exact and instant),
 * connected socket pairs made without the loop, and an echo server, its
 * connection handlers and a client, as tasks.
 *
 * Criterion runs each test in a process of its own: the state is global.
 */
#ifndef NET_TEST_H
#define NET_TEST_H

#include <corio/corio.h>

#include "testloop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct net_state {
    co_loop *loop; /* the loop net_loop made                 */
    char dir[64];  /* a temporary directory for Unix sockets */
} net_state;

extern net_state net;

/* Clears `net` and `rt`: every suite's init. */
void net_reset(void);
/* rt_loop(), kept in net.loop. */
co_loop *net_loop(void);
/* The loop's time in ms. */
int64_t net_ms(void);

/* A connected TCP pair over 127.0.0.1 (a: the connecting side), made with
 * blocking calls before any loop runs, then made non-blocking. */
void tcp_pair(int *a, int *b);
/* A listener on 127.0.0.1, port 0: addr gets its address, port included. */
int tcp_listener(int backlog, co_addr *addr);
/* A fresh path for a Unix socket in net.dir (created on first use). */
const char *unix_path(const char *name);
/* Whether ::1 can be bound here; *why says why not. */
bool ipv6_available(const char **why);
/* Whether fd is an open descriptor. */
bool fd_open(int fd);
/* Fills buf with the byte pattern of stream offsets off.. */
void fill_pattern(unsigned char *buf, size_t n, size_t off);
/* Bounds fd's send buffer (256 KiB, doubled by Linux), so that a write of
 * MiBs comes in pieces.  Much smaller buffers make loopback TCP crawl: one
 * segment in flight waits for a delayed ACK (40 ms), and a tiny receive
 * buffer waits for the sender's persist timer. */
void small_send_buffer(int fd);
/* Closes fd with SO_LINGER 0: the peer gets a reset, not an end of stream. */
void reset_close(int fd);

/* ------------------------------------------------------------ echo kit */

/* Accepts `count` connections and spawns a handler for each. */
typedef struct echo_acceptor {
    co_gen gen;
    int lfd, count;
    co_io io;
    int accepted;
    int err; /* the first failure: an accept result, or a spawn error */
} echo_acceptor;
int echo_acceptor_fn(co_gen *g);

/* Echoes what it reads until end of stream, then closes. */
typedef struct echo_handler {
    co_gen gen;
    int fd;
    co_io io;
    char buf[512];
} echo_handler;
int echo_handler_fn(co_gen *g);

/* Connects, sends `out`, shuts its writing side, reads everything back. */
typedef struct echo_client {
    co_gen gen;
    const co_addr *addr;
    co_io io;
    int fd;
    char out[64];
    size_t out_len;
    char in[128];
    size_t in_len;
    int err; /* the first failure, else 0 */
} echo_client;
int echo_client_fn(co_gen *g);

/* A task blocked in one operation of a kind (recv, accept, connect to
 * addr, send_all of data); its cleanup records that it ran.  new_blocked
 * makes one on net.loop, not yet spawned. */
enum op_kind { OP_RECV, OP_ACCEPT, OP_CONNECT, OP_SEND };
typedef struct blocked {
    co_gen gen;
    int kind;
    int fd;
    const co_addr *addr;
    const unsigned char *data;
    size_t len;
    co_io io;
    char buf[8];
    bool cleaned;
} blocked;
blocked *new_blocked(int kind, int fd);

/* One CO_RECV of up to 8 bytes from fd: the child that the misuse and
 * timeout tests run outside a task and under a wait-for. */
typedef struct recv_child {
    co_gen gen;
    int fd;
    co_io io;
    char buf[8];
} recv_child;
int recv_child_fn(co_gen *g);

/* Runs an echo server on listener lfd (bound to addr) and n clients
 * against it in one loop; asserts every client got back what it sent. */
void run_echo(int lfd, const co_addr *addr, int n);

#endif /* NET_TEST_H */
