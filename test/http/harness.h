/*
 * harness.h -- what the HTTP tests share: the server and client samples run
 * as programs (paths from meson, through HTTP_SERVER and HTTP_CLIENT), a
 * directory of files for the server to serve, plain blocking sockets on
 * 127.0.0.1 with every wait bounded, and a response reader of its own --
 * deliberately not the parser under test.
 *
 * Criterion runs each test in a process of its own, so the state is
 * global; a server still running when a test ends is killed by
 * http_teardown, and dies with the test process anyway (PR_SET_PDEATHSIG).
 */
#ifndef HTTP_HARNESS_H
#define HTTP_HARNESS_H

#include <criterion/criterion.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WAIT_MS 5000 /* the bound on any wait for something that must happen */

/* The least time a server timeout of `ms` can be seen to take from here:
 * the loop reads its clock once per turn, so a deadline set late in a turn
 * counts from that turn's start, a few ms early by the wall clock. */
#define AT_LEAST(ms) ((ms) * 4 / 5)

/* ------------------------------------------------------------ programs */

/* A sample started by the test, its stdout piped to us. */
typedef struct proc {
    pid_t pid;
    int out; /* read end of its stdout */
} proc;

/* The running server of this test. */
typedef struct server_proc {
    proc p;
    int port;
    bool tls;     /* it serves HTTPS (--cert, --key) */
    char url[64]; /* "http://127.0.0.1:PORT" (or https://) */
} server_proc;

extern server_proc srv;

/* The root directory made for the test (http_setup), with its files. */
extern char root_dir[256];

/* Makes root_dir and fills it (see harness.c for the files). */
void http_setup(void);
/* Kills what is still running and removes root_dir. */
void http_teardown(void);

/* Starts the server sample with `args` (NULL-ended) after --port 0
 * --root root_dir, and reads its port from the first line. */
void server_start(const char *const *args);
#define SERVER_ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
/* Sends sig to the server and waits for it: returns its exit status (or
 * 128 + the signal that killed it); fails the test after WAIT_MS. */
int server_stop(int sig);
/* The same, and what the server wrote on stdout after its first line
 * (malloc'd): its log. */
char *server_stop_output(int sig, int *status);
/* How many sockets and files the server has open (/proc/PID/fd): not
 * the loop's own fds, which come and go with the backends. */
int server_fds(void);
/* Waits until the server has `n` fds open; false after WAIT_MS. */
bool server_fds_become(int n);

/* argv for the client sample with `args` (NULL-ended) after its path. */
void client_argv(const char *argv[40], const char *const *args);
/* Runs argv (NULL-ended) to its end: its stdout (malloc'd) and status. */
char *run_program(const char *const *argv, int *status);
/* The same in two halves, for a test that talks to the program meanwhile. */
proc program_start(const char *const *argv);
char *program_finish(proc *p, int *status);
/* The path of a program from the environment variable `name`, or NULL. */
const char *program(const char *name);

/* The path of a file under root_dir (a static buffer). */
const char *root_path(const char *name);
/* Writes n bytes of a pattern (byte i is i * 7 + i / 251) to root_dir/name. */
void make_file(const char *name, size_t n);
/* The same pattern, for comparing. */
unsigned char pattern_byte(size_t i);

/* ------------------------------------------------------------ sockets */

/* A connection to the server, with what has been read and not yet used. */
typedef struct peer {
    int fd;
    char *buf;
    size_t len, cap;
    bool eof;
} peer;

/* Connects to 127.0.0.1:port (blocking, TCP_NODELAY). */
peer peer_connect(int port);
/* The same with a small receive buffer: a client that reads slowly. */
peer peer_connect_small(int port, int rcvbuf);
void peer_close(peer *p);
/* Closes with SO_LINGER 0: the server sees a reset. */
void peer_reset(peer *p);
/* Sends all of s (strlen) / data. */
void peer_send(peer *p, const char *s);
void peer_send_bytes(peer *p, const void *data, size_t n);
/* Reads once, waiting at most ms; returns bytes read (0: EOF, -1: none in
 * time).  What is read is appended to p->buf. */
ssize_t peer_read_some(peer *p, int ms);
/* Reads until the server closes, at most ms: true if it did. */
bool peer_wait_eof(peer *p, int ms);

/* A response as the test reads it. */
typedef struct response {
    int status;
    char head[8192];    /* the head, NUL-terminated */
    char *body;         /* malloc'd, NUL-terminated */
    size_t body_len;
    long long length;   /* Content-Length, or -1 */
} response;

/* Reads one response from p (for a HEAD request, no body is read);
 * fails the test if none completes within WAIT_MS. */
response read_response(peer *p, bool head_request);
/* The value of header `name` in r (a static buffer), or NULL. */
const char *header(const response *r, const char *name);
void response_free(response *r);

/* Sends a request on p and reads its response. */
response ask(peer *p, const char *request, bool head_request);

/* GET path on a new connection with "Connection: close": the response. */
response get(const char *path);

/* Milliseconds of a monotonic clock. */
int64_t now_ms(void);

#endif /* HTTP_HARNESS_H */
