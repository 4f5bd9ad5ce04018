/*
 * http_parse.h -- the HTTP/1.1 pieces the two HTTP samples share: a strict,
 * incremental parser for request and response heads, a decoder for chunked
 * bodies, the mapping of a request path to a file under the server's root,
 * and the helpers that write a response head.
 *
 * Nothing here does I/O or allocates: the samples (http_server.c,
 * http_client.c) read bytes from sockets with corio and hand them over; the
 * test suite and the fuzzer (test/http, test/fuzz) feed the same functions
 * from memory.
 *
 * The parser works on a buffer that holds every byte of the head received
 * so far, and grows as bytes arrive:
 *
 *     http_parser p;
 *     http_request_parser_init(&p, NULL);       // default limits
 *     for (;;) {
 *         len += recv(fd, buf + len, cap - len);
 *         int rc = http_parse(&p, buf, len);    // looks at the new bytes only
 *         if (rc == HTTP_DONE) break;           // p.msg describes the request
 *         if (rc == HTTP_ERROR) reply(p.error); // 400, 414, 431, 501, 505...
 *     }
 *
 * Feeding the bytes in any number of pieces gives exactly the outcome of
 * feeding them at once (the fuzzer checks it).  Every error in the head's
 * grammar is found at the byte that shows it (`GET / HTTP/5` is a 505 at
 * the 5; a bad character in a field name is a 400 even if a limit would be
 * crossed later), so a peer cannot make the parser look at more than the
 * limits allow.  What a field's value means (Content-Length, Host,
 * Transfer-Encoding, Connection, Expect) is decided when its line ends,
 * and what the fields say together at the empty line.
 *
 * Lines end with CR LF: a bare LF is refused unless lenient_lf is set, a
 * bare CR always.
 */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* What http_parse and http_chunked_decode return. */
enum { HTTP_ERROR = -1, HTTP_MORE = 0, HTTP_DONE = 1 };

/* The bounds on a head; a peer that goes past one gets the status named. */
typedef struct http_limits {
    size_t max_line;    /* the request line, CRLF excluded: 414 URI Too Long */
    size_t max_head;    /* the whole head, empty line included: 431 */
    size_t max_fields;  /* header field lines: 431 */
} http_limits;

#define HTTP_MAX_LINE 4096
#define HTTP_MAX_HEAD 8192
#define HTTP_MAX_FIELDS 64

enum http_method { HTTP_METHOD_OTHER, HTTP_METHOD_GET, HTTP_METHOD_HEAD };

#define HTTP_NO_LENGTH (-1)         /* no Content-Length field                 */
#define HTTP_HUGE_LENGTH INT64_MAX  /* a Content-Length of more than 18 digits */

/* A parsed head.  Offsets and lengths point into the buffer given to
 * http_parse, so they stay valid however the caller moves it. */
typedef struct http_message {
    int method;                     /* request: enum http_method          */
    size_t method_off, method_len;  /* request: the method as sent        */
    size_t target_off, target_len;  /* request: the request-target as sent */
    size_t path_off, path_len;      /* request: its path, without the query;
                                       path_len 0 for "*" and authority-form */
    int status;                     /* response: the status code          */
    int minor;                      /* HTTP/1.minor                       */
    int64_t content_length;         /* HTTP_NO_LENGTH when absent         */
    bool chunked;                   /* Transfer-Encoding: chunked         */
    bool keep_alive;                /* the connection may carry more      */
    bool expect_continue;           /* request: Expect: 100-continue      */
    bool until_close;               /* response: a body that ends with the
                                       connection (a coding not understood) */
    size_t fields;                  /* header field lines                 */
    size_t head_len;                /* bytes of the head, empty line included */
} http_message;

/* A parser's state: init it, then call http_parse as the head grows. */
typedef struct http_parser {
    http_limits lim;
    http_message msg;
    int error;       /* after HTTP_ERROR: the status to answer with */
    const char *why; /* after HTTP_ERROR: what was wrong, for logs and tests */
    /* The one option, false after init: set it before the first http_parse
     * to take a bare LF as the end of a head's line, as RFC 9112 2.2 lets a
     * recipient do.  Leave it false in a server behind a proxy (or in front
     * of one): a proxy that reads such a line differently sees another
     * head, and a request can be smuggled in a body.  It changes nothing
     * in chunked bodies, where CR LF is always required. */
    bool lenient_lf;
    /* private */
    size_t pos;      /* bytes of the buffer already looked at */
    size_t line;     /* where the line being read starts      */
    size_t colon;    /* a field line's colon                  */
    uint8_t kind, state;
    uint8_t at, form, count, pct; /* where in the line, bytewise */
    uint8_t hosts, te_codings;
    bool cr; /* the last byte was a CR that may end the line */
    bool te_chunked_last, te_seen, connection_close, connection_keep_alive;
} http_parser;

/* A parser for a request head, or for a response head (the client's).
 * lim may be NULL: HTTP_MAX_LINE, HTTP_MAX_HEAD and HTTP_MAX_FIELDS. */
void http_request_parser_init(http_parser *p, const http_limits *lim);
void http_response_parser_init(http_parser *p, const http_limits *lim);

/*
 * Parses what buf[0..len) adds to the head: buf holds every byte received
 * so far, the old ones unchanged.  Returns HTTP_MORE (the head goes on),
 * HTTP_DONE (p->msg is filled in; the head is msg.head_len bytes and what
 * follows it is the body or the next request), or HTTP_ERROR (p->error,
 * p->why).  After DONE or ERROR it returns the same again.
 */
int http_parse(http_parser *p, const char *buf, size_t len);

/* ------------------------------------------------------- chunked bodies */

/* The state of a chunked body being decoded. */
typedef struct http_chunked {
    uint64_t left;   /* data bytes left in the current chunk */
    size_t line;     /* bytes of the size line or trailer line so far */
    size_t trailer;  /* bytes of trailer so far */
    const char *why; /* after HTTP_ERROR: what was wrong */
    uint8_t state, digits;
} http_chunked;

#define HTTP_MAX_CHUNK_LINE 1024   /* a size line with its extensions */
#define HTTP_MAX_TRAILER 8192      /* all trailer fields together */

void http_chunked_init(http_chunked *c);

/*
 * The framing is RFC 9112 7.1's, strictly: CR LF ends every line (a bare
 * LF is refused), chunk extensions follow 7.1.1 (a name after every ';',
 * quotes that close, white space only before ';' and around '='), and a
 * size may have any number of leading zeros within the line limit, as long
 * as its value fits in 64 bits.
 *
 * Decodes buf[0..len) in place: the data bytes it holds are moved to the
 * front, *data of them; *used bytes of input were consumed.  Returns
 * HTTP_MORE (all of the input was used: give the next bytes), HTTP_DONE
 * (the body ended after *used bytes: the rest belongs to what follows) or
 * HTTP_ERROR (c->why).
 */
int http_chunked_decode(http_chunked *c, char *buf, size_t len, size_t *used, size_t *data);

/* ------------------------------------------------------- paths to files */

#define HTTP_PATH_BAD (-400)    /* a "." or ".." segment, %00, a bad escape */
#define HTTP_PATH_HIDDEN (-404) /* a segment starting with '.': never served */
#define HTTP_PATH_LONG (-414)   /* longer than the buffer */

/*
 * The file a request path names, relative to the server's root: the path is
 * percent-decoded, split on '/' (decoded ones included), empty segments are
 * dropped, and the segments joined again with '/'.  "/" gives "".  Returns
 * the length written to out (NUL-terminated), or one of the codes above.
 */
int http_path_to_file(const char *path, size_t len, char *out, size_t cap);

/* ------------------------------------------------------------ responses */

/* The reason phrase of a status ("Not Found"); "Unknown" for others. */
const char *http_reason(int status);

/* The Content-Type for a file name, from its extension (case-insensitive):
 * "text/html; charset=utf-8", ..., "application/octet-stream" by default. */
const char *http_content_type(const char *name);

/* The IMF-fixdate of t ("Sun, 06 Nov 1994 08:49:37 GMT"): 29 characters
 * and a NUL, whatever the locale. */
#define HTTP_DATE_SIZE 30
void http_format_date(char out[HTTP_DATE_SIZE], time_t t);

/* How a response leaves the connection. */
enum http_connection {
    HTTP_KEEP,       /* HTTP/1.1's default: nothing to say       */
    HTTP_KEEP_ALIVE, /* an HTTP/1.0 client asked: "keep-alive"   */
    HTTP_CLOSE       /* "Connection: close": the server closes    */
};

/*
 * Writes a response head into out: the status line, Date, Server,
 * Content-Type (when type is not NULL), Content-Length (when length >= 0),
 * Connection as `conn` says, then `extra` (whole "Name: value\r\n" lines, or
 * NULL) and the empty line.  Returns its length, or 0 if cap is too small.
 */
size_t http_response_head(char *out, size_t cap, int status, const char *type, int64_t length,
                          enum http_connection conn, const char *extra);

#endif /* HTTP_PARSE_H */
