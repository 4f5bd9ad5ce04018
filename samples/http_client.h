/*
 * http_client.h -- what the HTTP client sample's two files share: the
 * client's settings and its pool of idle connections, a parsed URL, and a
 * fetch with the exchange it runs.  http_client.c is the program (URLs,
 * the fetch tasks, the output, the options); http_client_exchange.c one
 * request and its response on a connection -- plain, or through TLS for
 * https:// -- and the pool that keeps connections for the next one.
 */
#ifndef HTTP_CLIENT_H
#define HTTP_CLIENT_H

#include "http/http_parse.h"

#include <corio/corio.h>

#include <stdbool.h>
#include <stdint.h>

#define RESPONSE_BUF 16384

typedef struct url {
    bool tls;      /* https:// */
    char host[72]; /* for the Host field: as written, port included */
    char name[64]; /* the host alone: the name TLS verifies and sends as SNI */
    co_addr addr;
    const char *target; /* the path and query, into the argument */
} url;

/* An idle connection, for --keep-alive: to whom, and its stream. */
typedef struct pooled {
    url to;
    co_stream *stream;
} pooled;

typedef struct client {
    int64_t timeout_ms;
    bool keep_alive, head;
    co_tls *tls;   /* for https:// (NULL: corio has no TLS, or none is needed) */
    int tls_error; /* why there is no tls context: a code for each https URL */
    co_sem slots;  /* requests that may talk at once */
    pooled *pool;  /* idle connections, for --keep-alive: at most one per slot */
    int npool, pool_cap;
    int connections; /* connections opened */
} client;

typedef struct fetch fetch;

enum body_mode { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_UNTIL_CLOSE };

/* One request and its response on one connection: what the timeout
 * covers.  `retry` is set when a reused connection turned out closed. */
typedef struct exchange {
    co_gen gen;
    fetch *f;
    co_io io;
    co_stream *stream;
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
    char why[320]; /* an error's text with TLS's reason, where error points */
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

/* http_client_exchange.c: the body of an exchange (run it under a deadline
 * with timed_exchange_fn); closing what the pool still holds. */
int exchange_fn(co_gen *g);
int timed_exchange_fn(co_gen *g);
void pool_close_all(client *cl);

#endif /* HTTP_CLIENT_H */
