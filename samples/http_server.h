/*
 * http_server.h -- what the HTTP server sample's three files share: its
 * options, the server's state, and a connection's frame with the steps it
 * runs.  http_server.c is the program (options, the acceptor, signals and
 * the graceful stop), http_server_conn.c a connection's task (its I/O
 * steps under deadlines), http_server_routes.c what a request is answered
 * with.
 */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include "http/http_parse.h"

#include <corio/corio.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ options */

typedef struct server_options {
    const char *host, *root;
    const char *cert, *key; /* --cert, --key: serve HTTPS */
    int port, max_conns;
    int64_t header_timeout_ms, idle_timeout_ms, send_timeout_ms, grace_ms, max_body;
    bool log;
} server_options;

#define FILE_CHUNK (64 * 1024)      /* bytes of a file read and sent at a time */
#define LINGER_BYTES (256 * 1024)   /* read at most this much from a closing client */
#define LINGER_MS_MAX 2000          /* and for at most this long */
#define PATH_CAP 1024               /* a file's path under the root */

/* ------------------------------------------------------------- server */

typedef struct conn conn;

typedef struct server {
    server_options opt;
    http_limits limits;
    int lfd, root_fd; /* the listener; the root directory (-1: none) */
    co_tls *tls;      /* the certificate and key, for HTTPS (NULL: plain HTTP) */
    co_sem slots;     /* connections that may still be opened */
    co_event signal;  /* SIGINT or SIGTERM came */
    co_event changed; /* a connection ended, or a signal was counted */
    conn *conns;      /* the live connections, newest first */
    struct request *spare; /* request blocks kept for the next requests */
    int nconns, signals, nspare;
    bool stopping;
} server;

/* --------------------------------------------------------- connection */

/* What a step of a connection does; each runs under its own deadline. */
enum step_op {
    STEP_HANDSHAKE, /* HTTPS: the TLS handshake, before the first request  */
    STEP_WAIT,    /* the first bytes of a request (idle: shutdown may end it) */
    STEP_HEAD,    /* the rest of the head, until the parser is done          */
    STEP_BODY,    /* drop a body of known length                             */
    STEP_CHUNKED, /* drop a chunked body                                     */
    STEP_SEND,    /* send out[0..out_len)                                    */
    STEP_LINGER   /* read and drop until the client closes, before we do     */
};

/* A step's result, besides 0 (done) and -errno. */
#define PEER_CLOSED 1 /* the client closed its side              */
#define BODY_BAD 2    /* a chunked body that does not parse      */
#define BODY_LARGE 3  /* a chunked body longer than --max-body   */

typedef struct step {
    co_gen gen;
    conn *c;
    uint8_t op;
    co_io io;        /* plain HTTP: the fd's own reads and sends          */
    co_stream *stream; /* HTTPS: the same through the TLS stream         */
    ssize_t got;     /* the last read's outcome, either way               */
    const char *out; /* STEP_SEND */
    size_t out_len;
    int64_t budget; /* STEP_LINGER: bytes still to read */
    int result;
} step;

/* A step under a deadline: asyncio.wait_for(step, ms / 1000). */
typedef struct timed {
    co_gen gen;
    co_deadline deadline;
    int64_t ms;
    step step;
} timed;

/* An open file to send, from the open job. */
typedef struct file_open {
    int dir_fd;
    const char *path;
    int fd;
    int64_t size;
} file_open;

#define OUT_CAP 1024  /* a response head, and an in-memory body after it */
#define LINE_CAP 160  /* the request line, as the log shows it */

/*
 * What a request needs from its first byte until it is answered: the
 * bytes received, the parser, the route, the response.  A connection takes
 * one when a request's first byte is there and gives it back once it has
 * answered with nothing more received, so that an idle keep-alive
 * connection holds only its task (http_server_conn.c keeps a few spare).
 */
typedef struct request {
    struct request *next_spare;
    http_parser parser;
    http_chunked chunked;
    int64_t body_left, body_seen;
    int method, minor, status;
    bool keep_alive;
    char line[LINE_CAP]; /* --log: the request line */
    char file[PATH_CAP];
    /* the response: its head, then (when it fits) an in-memory body */
    char out[OUT_CAP];
    size_t head_len, out_len, body_len;
    const char *body; /* the body when it did not go into out */
    char text[64];    /* an error page's body */
    int64_t sent;
    co_file_job job;
    file_open open;
    char *chunk;
    char buf[]; /* received and not yet used: server.limits.max_head + 1 */
} request;

struct conn {
    co_gen gen;
    server *srv;
    conn *prev, *next;
    int fd;
    bool secure; /* the handshake is done: I/O goes through stream */
    bool idle;   /* waiting for a request to start */
    co_stream *stream; /* HTTPS: the TLS stream over fd, which it owns */
    request *rq; /* the request being read or answered, or NULL */
    char *buf;   /* rq->buf: bytes received and not yet used */
    size_t len, cap;
    unsigned served;
    int thrown; /* what the last step raised: 0, CO_ETIMEOUT, CO_ECANCELLED */
    timed t;
};

/* ------------------------------------------------------------- shared */

/* http_server_conn.c: a task for the accepted fd, false (the fd closed)
 * when none can be had; the idle connections closed, for a stop; a peer's
 * address as text ("127.0.0.1:80", "[::1]:80"), and a connection's; the
 * spare request blocks freed. */
bool conn_start(server *srv, int fd);
void conn_close_idle(server *srv);
void format_peer(const co_addr *a, char *out, size_t cap);
void conn_peer(const conn *c, char *out, size_t cap);
void server_free_spares(server *srv);
/* Drops the first n bytes of what c has received. */
void conn_drop(conn *c, size_t n);

/* http_server_routes.c: a request's head taken in, its answer made. */
void take_request(conn *c);
void make_response(conn *c);
enum http_connection connection_of(const conn *c);
bool keeps_stream(int status);
void log_request(const conn *c, int64_t bytes);
int64_t open_regular(void *arg);
size_t chunk_size(int64_t left);

#endif /* HTTP_SERVER_H */
