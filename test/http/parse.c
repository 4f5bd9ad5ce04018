/*
 * parse.c -- the HTTP samples' parser on tricky input (suite `parse`):
 * request and response heads, limits, chunked bodies, paths to files, and
 * the response helpers.  Every head is also fed in pieces -- one byte at a
 * time and at every split point -- and must give exactly the outcome of
 * feeding it whole: the server reads heads as they arrive.
 */
#include "http/http_parse.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The outcome of parsing a head, all of it comparable. */
typedef struct outcome {
    int rc, error;
    http_message msg;
} outcome;

/* How a head is parsed: a request or a response, the limits (NULL: the
 * defaults), and whether a bare LF may end its lines. */
typedef struct feed {
    bool request;
    const http_limits *lim;
    bool lenient_lf;
} feed;

static void start(http_parser *p, const feed *h)
{
    if (h->request)
        http_request_parser_init(p, h->lim);
    else
        http_response_parser_init(p, h->lim);
    p->lenient_lf = h->lenient_lf;
}

static outcome parse_whole(const char *s, size_t n, const feed *h)
{
    http_parser p;
    outcome o;
    start(&p, h);
    o.rc = http_parse(&p, s, n);
    o.error = o.rc == HTTP_ERROR ? p.error : 0;
    o.msg = p.msg;
    return o;
}

/* Feeds s[0..n) growing by `step` bytes at a time, then by the split at
 * `split` alone; each must match the whole. */
static outcome parse_pieces(const char *s, size_t n, const feed *h, size_t first, size_t step)
{
    http_parser p;
    outcome o;
    size_t len = first < n ? first : n;
    start(&p, h);
    o.rc = http_parse(&p, s, len);
    while (o.rc == HTTP_MORE && len < n) {
        len = len + step < n ? len + step : n;
        o.rc = http_parse(&p, s, len);
    }
    o.error = o.rc == HTTP_ERROR ? p.error : 0;
    o.msg = p.msg;
    return o;
}

/* Field by field: a struct's padding is not part of its value. */
static bool same_message(const http_message *a, const http_message *b)
{
    return a->method == b->method && a->method_off == b->method_off &&
           a->method_len == b->method_len && a->target_off == b->target_off &&
           a->target_len == b->target_len && a->path_off == b->path_off &&
           a->path_len == b->path_len && a->status == b->status && a->minor == b->minor &&
           a->content_length == b->content_length && a->chunked == b->chunked &&
           a->keep_alive == b->keep_alive && a->expect_continue == b->expect_continue &&
           a->until_close == b->until_close && a->fields == b->fields &&
           a->head_len == b->head_len;
}

static void assert_same_outcome(outcome a, outcome b, const char *how, size_t at)
{
    cr_assert_eq(a.rc, b.rc, "%s (%zu): rc %d, whole %d", how, at, a.rc, b.rc);
    cr_assert_eq(a.error, b.error, "%s (%zu): status %d, whole %d", how, at, a.error, b.error);
    cr_assert(same_message(&a.msg, &b.msg), "%s (%zu): a different message", how, at);
}

/* Parses s whole, byte by byte and split at every point: one outcome. */
static outcome parse_how(const char *s, size_t n, const feed *h)
{
    outcome whole = parse_whole(s, n, h);
    size_t split;
    assert_same_outcome(parse_pieces(s, n, h, 1, 1), whole, "byte by byte", 1);
    for (split = 0; split <= n; split++)
        assert_same_outcome(parse_pieces(s, n, h, split, n), whole, "split", split);
    return whole;
}

static outcome parse_with(const char *s, size_t n, bool request, const http_limits *lim)
{
    feed h = {request, lim, false};
    return parse_how(s, n, &h);
}

static outcome req(const char *s) { return parse_with(s, strlen(s), true, NULL); }
static outcome resp(const char *s) { return parse_with(s, strlen(s), false, NULL); }

/* The request must fail with `status`. */
static void refused(const char *s, int status)
{
    outcome o = req(s);
    cr_assert_eq(o.rc, HTTP_ERROR, "accepted: %s", s);
    cr_assert_eq(o.error, status, "status %d, not %d, for: %s", o.error, status, s);
}

/* The request must parse. */
static outcome accepted(const char *s)
{
    outcome o = req(s);
    cr_assert_eq(o.rc, HTTP_DONE, "not accepted (%d, status %d): %s", o.rc, o.error, s);
    return o;
}

static void assert_span(const char *buf, size_t off, size_t len, const char *want)
{
    cr_assert(len == strlen(want) && memcmp(buf + off, want, len) == 0,
              "got \"%.*s\", want \"%s\"", (int)len, buf + off, want);
}

/* ----------------------------------------------------------- requests */

Test(parse, a_simple_get)
{
    const char *s = "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n";
    outcome o = accepted(s);
    cr_assert_eq(o.msg.method, HTTP_METHOD_GET);
    assert_span(s, o.msg.method_off, o.msg.method_len, "GET");
    assert_span(s, o.msg.target_off, o.msg.target_len, "/index.html?x=1");
    assert_span(s, o.msg.path_off, o.msg.path_len, "/index.html");
    cr_assert_eq(o.msg.minor, 1);
    cr_assert(o.msg.keep_alive);
    cr_assert_eq(o.msg.content_length, HTTP_NO_LENGTH);
    cr_assert_not(o.msg.chunked);
    cr_assert_eq(o.msg.fields, 1);
    cr_assert_eq(o.msg.head_len, strlen(s));
}

Test(parse, head_and_other_methods)
{
    cr_assert_eq(accepted("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n").msg.method, HTTP_METHOD_HEAD);
    cr_assert_eq(accepted("POST / HTTP/1.1\r\nHost: h\r\n\r\n").msg.method, HTTP_METHOD_OTHER);
    /* methods are case-sensitive: "get" is not GET */
    cr_assert_eq(accepted("get / HTTP/1.1\r\nHost: h\r\n\r\n").msg.method, HTTP_METHOD_OTHER);
    cr_assert_eq(accepted("M-SEARCH / HTTP/1.1\r\nHost: h\r\n\r\n").msg.method,
                 HTTP_METHOD_OTHER);
}

Test(parse, the_head_ends_where_the_next_request_starts)
{
    const char *s = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    outcome o = accepted(s);
    cr_assert_eq(o.msg.head_len, strlen(s) / 2);
}

Test(parse, empty_lines_before_the_request_line_are_skipped)
{
    const char *s = "\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
    outcome o = accepted(s);
    assert_span(s, o.msg.method_off, o.msg.method_len, "GET");
    cr_assert_eq(o.msg.head_len, strlen(s));
}

Test(parse, a_bare_cr_is_refused)
{
    refused("GET / HTTP/1.1\rHost: h\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nHost: h\r\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nHo\rst: h\r\n\r\n", 400);
}

Test(parse, a_bare_lf_ending_a_line_is_refused_by_default)
{
    /* RFC 9112 2.2 lets a recipient take a bare LF as a line end, but a
       proxy in front that does not reads another head: behind one, a
       request was smuggled in a body */
    refused("GET / HTTP/1.1\nHost: h\n\n", 400);
    refused("GET / HTTP/1.1\r\nHost: h\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nHost: h\r\n\n", 400);
    refused("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    refused("POST / HTTP/1.1\r\nHost: h\r\nX: y\nContent-Length: 27\r\n\r\n"
            "GET /admin HTTP/1.1\r\n\r\n",
            400);
}

Test(parse, a_lenient_parser_takes_a_bare_lf)
{
    feed lenient = {true, NULL, true};
    const char *s = "\n\r\nGET /a HTTP/1.1\nHost: h\r\nX: y\n\nrest";
    outcome o = parse_how(s, strlen(s), &lenient);
    cr_assert_eq(o.rc, HTTP_DONE);
    cr_assert_eq(o.msg.fields, 2);
    cr_assert_eq(o.msg.head_len, strlen(s) - 4);
    assert_span(s, o.msg.target_off, o.msg.target_len, "/a");
    /* a bare CR stays refused */
    s = "GET / HTTP/1.1\r\nHost: h\r\r\n\n";
    o = parse_how(s, strlen(s), &lenient);
    cr_assert_eq(o.rc, HTTP_ERROR);
    cr_assert_eq(o.error, 400);
}

Test(parse, versions)
{
    outcome o = accepted("GET / HTTP/1.0\r\n\r\n");
    cr_assert_eq(o.msg.minor, 0);
    cr_assert_not(o.msg.keep_alive, "HTTP/1.0 closes unless asked");
    cr_assert_eq(accepted("GET / HTTP/1.2\r\nHost: h\r\n\r\n").msg.minor, 2);
    refused("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
    refused("GET / HTTP/0.9\r\n\r\n", 505);
    refused("GET / http/1.1\r\nHost: h\r\n\r\n", 400);
    refused("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400);
    refused("GET / HTTP/11.1\r\nHost: h\r\n\r\n", 400);
    refused("GET / HTTP/1\r\nHost: h\r\n\r\n", 400);
    refused("GET /\r\n\r\n", 400); /* HTTP/0.9's simple request */
}

Test(parse, bad_request_lines)
{
    refused("G@T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    refused(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    refused("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    refused("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    refused("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    refused("GET / HTTP/1.1\t\r\nHost: h\r\n\r\n", 400);
    refused("\x01GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

Test(parse, request_targets)
{
    const char *abs = "GET http://example.com:80/a/b?c HTTP/1.1\r\nHost: example.com\r\n\r\n";
    const char *bare = "GET HTTP://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n";
    outcome o = accepted(abs);
    assert_span(abs, o.msg.path_off, o.msg.path_len, "/a/b");
    o = accepted(bare);
    cr_assert_eq(o.msg.path_len, 0, "no path: \"/\"");
    o = accepted("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    cr_assert_eq(o.msg.path_len, 0);
    accepted("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    accepted("GET /%41%7e?q=%20&r=/x?y HTTP/1.1\r\nHost: h\r\n\r\n");
    accepted("GET /a:b@c!$&'()*+,;=-._~ HTTP/1.1\r\nHost: h\r\n\r\n");
    refused("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    refused("GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    refused("GET ftp://h/x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    refused("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    refused("GET http://h<>/x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    refused("GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    refused("GET /%4 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    refused("GET /<script> HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    refused("GET /a\"b HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    refused("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    refused("GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

Test(parse, header_fields)
{
    outcome o = accepted("GET / HTTP/1.1\r\nHost:h\r\nX-A: \t spaced value \t\r\n"
                         "X-Empty:\r\nX-Obs: caf\xc3\xa9\r\nX-Tab: a\tb\r\n\r\n");
    cr_assert_eq(o.msg.fields, 5);
    refused("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);         /* space before the colon */
    refused("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", 400); /* obs-fold */
    refused("GET / HTTP/1.1\r\nHost: h\r\n\tfolded\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\n: no name\r\nHost: h\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nNo colon\r\nHost: h\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nBad(name): x\r\nHost: h\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nX: a\x7f\r\nHost: h\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nX: a\x01z\r\nHost: h\r\n\r\n", 400);
}

Test(parse, a_nul_anywhere_is_refused)
{
    static const char s[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
    outcome o = parse_with(s, sizeof s - 1, true, NULL);
    cr_assert_eq(o.rc, HTTP_ERROR);
    cr_assert_eq(o.error, 400);
}

Test(parse, host)
{
    refused("GET / HTTP/1.1\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
    refused("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
    accepted("GET / HTTP/1.1\r\nHost:\r\n\r\n"); /* empty is allowed */
    accepted("GET / HTTP/1.1\r\nHOST: [::1]:8080\r\n\r\n");
    accepted("GET / HTTP/1.0\r\n\r\n"); /* HTTP/1.0 needs none */
}

Test(parse, connection)
{
    cr_assert_not(
        accepted("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").msg.keep_alive);
    cr_assert_not(
        accepted("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n").msg.keep_alive);
    cr_assert(accepted("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").msg.keep_alive);
    cr_assert(accepted("GET / HTTP/1.0\r\nConnection: x, , keep-alive\r\n\r\n").msg.keep_alive);
    cr_assert_not(
        accepted("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n")
            .msg.keep_alive);
    refused("GET / HTTP/1.1\r\nHost: h\r\nConnection: clo se\r\n\r\n", 400);
}

Test(parse, content_length)
{
    cr_assert_eq(accepted("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n")
                     .msg.content_length,
                 12);
    cr_assert_eq(accepted("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
                     .msg.content_length,
                 0);
    cr_assert_eq(accepted("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
                          "content-length: 5\r\n\r\n")
                     .msg.content_length,
                 5);
    cr_assert_eq(accepted("POST / HTTP/1.1\r\nHost: h\r\n"
                          "Content-Length: 0000000000000000000000007\r\n\r\n")
                     .msg.content_length,
                 7);
    cr_assert_eq(accepted("POST / HTTP/1.1\r\nHost: h\r\n"
                          "Content-Length: 123456789012345678901234567890\r\n\r\n")
                     .msg.content_length,
                 HTTP_HUGE_LENGTH);
    cr_assert_eq(accepted("POST / HTTP/1.1\r\nHost: h\r\n"
                          "Content-Length: 999999999999999999\r\n\r\n")
                     .msg.content_length,
                 INT64_C(999999999999999999));
    refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400);
    refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n", 400);
    refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1a\r\n\r\n", 400);
    refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400);
    refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n", 400);
    refused("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400);
}

Test(parse, transfer_encoding)
{
    outcome o = accepted("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n");
    cr_assert(o.msg.chunked);
    cr_assert_eq(o.msg.content_length, HTTP_NO_LENGTH);
    cr_assert(accepted("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , chunked\r\n\r\n")
                  .msg.chunked);
    refused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
            "Content-Length: 5\r\n\r\n",
            400);
    refused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501);
    refused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
    refused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
            "Transfer-Encoding: chunked\r\n\r\n",
            501);
    refused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 501);
    refused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n", 400);
    refused("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chun ked\r\n\r\n", 400);
    refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
}

Test(parse, expect)
{
    cr_assert(accepted("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
                       "Content-Length: 3\r\n\r\n")
                  .msg.expect_continue);
    refused("PUT / HTTP/1.1\r\nHost: h\r\nExpect: teapot\r\n\r\n", 417);
}

Test(parse, done_and_error_stay)
{
    http_parser p;
    const char *ok = "GET / HTTP/1.1\r\nHost: h\r\n\r\nJUNK";
    http_request_parser_init(&p, NULL);
    cr_assert_eq(http_parse(&p, ok, strlen(ok)), HTTP_DONE);
    cr_assert_eq(http_parse(&p, ok, strlen(ok)), HTTP_DONE);
    http_request_parser_init(&p, NULL);
    cr_assert_eq(http_parse(&p, "BAD\r\n", 5), HTTP_ERROR);
    cr_assert_eq(http_parse(&p, "BAD\r\nmore", 9), HTTP_ERROR);
    cr_assert_eq(p.error, 400);
    cr_assert_not_null(p.why);
}

/* s is refused with `status` at its last byte, and not a byte before:
 * without it, the parser asks for more. */
static void refused_at_its_end(const char *s, bool request, int status)
{
    size_t n = strlen(s);
    outcome o = parse_with(s, n, request, NULL);
    cr_assert_eq(o.rc, HTTP_ERROR, "not refused: %s", s);
    cr_assert_eq(o.error, status, "status %d, not %d, for: %s", o.error, status, s);
    o = parse_with(s, n - 1, request, NULL);
    cr_assert_eq(o.rc, HTTP_MORE, "refused before its last byte: %s", s);
}

Test(parse, errors_are_found_at_the_byte_that_shows_them)
{
    static const struct {
        const char *s;
        int status;
    } requests[] = {
        {"GET / HTTP/5", 505},
        {"GET / HTTP/0", 505},
        {"GET / HTTP/1.1x", 400},
        {"G@", 400},
        {"GET  ", 400},
        {"GET /\x01", 400},
        {"GET /a\r", 400},
        {"GET /%z", 400},
        {"GET /%4\r", 400},
        {"GET f", 400},
        {"GET http:/x", 400},
        {"GET http://?", 400},
        {"GET *", 400},
        {"OPTIONS *x", 400},
        {"CONNECT h%", 400},
        {"GET / HTTP/1.1\r\nFo@", 400},
        {"GET / HTTP/1.1\r\nHost ", 400},
        {"GET / HTTP/1.1\r\n:", 400},
        {"GET / HTTP/1.1\r\n ", 400},
        {"GET / HTTP/1.1\r\nX: a\x01", 400},
        {"GET / HTTP/1.1\rX", 400},
        {"GET / HTTP/1.1\n", 400},
    };
    size_t i;
    for (i = 0; i < sizeof requests / sizeof requests[0]; i++)
        refused_at_its_end(requests[i].s, true, requests[i].status);
    refused_at_its_end("HTTP/1.1 0", false, 502);
    refused_at_its_end("HTTP/2", false, 505);
    refused_at_its_end("HTTP/1.1 2000", false, 502);
}

Test(parse, an_early_error_is_not_hidden_by_a_limit)
{
    /* without a line end, a 505 at once, not a 408 ten seconds later */
    char *s = malloc(10000);
    size_t n;
    cr_assert_not_null(s);
    refused("GET / HTTP/5.6", 505);
    /* a bad field name, then more than the head may hold: the name was
       wrong first */
    n = (size_t)snprintf(s, 10000, "GET / HTTP/1.1\r\nHost: h\r\nFo@: x");
    memset(s + n, 'x', 9 * 1024);
    s[n + 9 * 1024] = '\0';
    refused(s, 400);
    free(s);
}

/* ------------------------------------------------------------- limits */

/* "GET /xxx... HTTP/1.1" of exactly `line` bytes, then the fields. */
static char *request_of(size_t line, const char *rest)
{
    size_t path = line - strlen("GET  HTTP/1.1"), n = line + strlen(rest) + 3;
    char *s = malloc(n);
    cr_assert_not_null(s);
    memcpy(s, "GET /", 5);
    memset(s + 5, 'a', path - 1);
    snprintf(s + 4 + path, n - 4 - path, " HTTP/1.1\r\n%s", rest);
    return s;
}

/* Under lim, `at` passes and `over` (a byte more) gets `status`. */
static void limit_is(const http_limits *lim, const char *at, const char *over, int status)
{
    outcome o = parse_with(at, strlen(at), true, lim);
    cr_assert_eq(o.rc, HTTP_DONE, "refused at the limit (%d)", o.error);
    o = parse_with(over, strlen(over), true, lim);
    cr_assert_eq(o.rc, HTTP_ERROR, "accepted over the limit");
    cr_assert_eq(o.error, status);
}

Test(parse, the_request_line_limit)
{
    http_limits lim = {64, 1024, 8};
    char *at = request_of(64, "Host: h\r\n\r\n"), *over = request_of(65, "Host: h\r\n\r\n");
    limit_is(&lim, at, over, 414);
    free(at);
    free(over);
}

Test(parse, an_over_long_line_is_refused_before_its_end)
{
    /* the server must not wait for (or buffer) a line it will refuse */
    http_limits lim = {64, 1024, 8};
    http_parser p;
    char buf[100];
    memset(buf, 'a', sizeof buf);
    memcpy(buf, "GET /", 5);
    http_request_parser_init(&p, &lim);
    cr_assert_eq(http_parse(&p, buf, 64), HTTP_MORE);
    cr_assert_eq(http_parse(&p, buf, 65), HTTP_ERROR);
    cr_assert_eq(p.error, 414);
}

Test(parse, a_cr_at_the_limit_is_not_yet_over_it)
{
    http_limits lim = {64, 1024, 8};
    char *s = request_of(64, "Host: h\r\n\r\n");
    http_parser p;
    http_request_parser_init(&p, &lim);
    cr_assert_eq(http_parse(&p, s, 65), HTTP_MORE, "64 bytes and the CR");
    cr_assert_eq(http_parse(&p, s, strlen(s)), HTTP_DONE);
    free(s);
}

/* A request head of exactly n bytes: its last field is padded. */
static char *head_of(size_t n)
{
    const char *start = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
    size_t fill = n - strlen(start) - 4;
    char *s = malloc(n + 1);
    cr_assert_not_null(s);
    memcpy(s, start, strlen(start));
    memset(s + strlen(start), 'v', fill);
    memcpy(s + n - 4, "\r\n\r\n", 5);
    return s;
}

Test(parse, the_head_limit)
{
    /* a head of exactly max_head bytes passes; one more byte is a 431 */
    http_limits lim = {64, 100, 8};
    char *at = head_of(100), *over = head_of(101);
    limit_is(&lim, at, over, 431);
    free(at);
    free(over);
}

Test(parse, the_field_count_limit)
{
    http_limits lim = {64, 1024, 3};
    limit_is(&lim, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n",
             "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431);
}

Test(parse, of_two_limits_the_one_crossed_first_counts)
{
    /* empty lines eat into the head before a request line that is too
       long: which limit is reported depends on the bytes, never on how
       they were split (parse_with checks every split) */
    http_limits lim = {40, 60, 8};
    char s[200];
    outcome o;
    snprintf(s, sizeof s, "%s", "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
                                "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n");
    o = parse_with(s, strlen(s), true, &lim);
    cr_assert_eq(o.rc, HTTP_ERROR);
    cr_assert_eq(o.error, 431, "the head limit is crossed at byte 60, the line's at byte 70");
    snprintf(s, sizeof s, "%s", "\r\n\r\n"
                                "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n");
    o = parse_with(s, strlen(s), true, &lim);
    cr_assert_eq(o.rc, HTTP_ERROR);
    cr_assert_eq(o.error, 414, "the line limit is crossed at byte 44, the head's at 60");
}

/* ---------------------------------------------------------- responses */

Test(parse, responses)
{
    outcome o = resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    cr_assert_eq(o.rc, HTTP_DONE);
    cr_assert_eq(o.msg.status, 200);
    cr_assert_eq(o.msg.content_length, 5);
    cr_assert(o.msg.keep_alive);
    cr_assert_eq(o.msg.head_len, 38);
    o = resp("HTTP/1.1 204\r\n\r\n");
    cr_assert_eq(o.msg.status, 204, "a status line without a reason");
    o = resp("HTTP/1.1 404 \r\n\r\n");
    cr_assert_eq(o.msg.status, 404);
    o = resp("HTTP/1.0 200 OK\r\n\r\n");
    cr_assert_not(o.msg.keep_alive);
    o = resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n");
    cr_assert(o.msg.chunked);
    cr_assert_eq(o.msg.content_length, HTTP_NO_LENGTH, "Transfer-Encoding overrides");
    o = resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
    cr_assert(o.msg.until_close);
    cr_assert_not(o.msg.keep_alive);
    cr_assert_eq(resp("HTTP/1.1 20 OK\r\n\r\n").rc, HTTP_ERROR);
    cr_assert_eq(resp("HTTP/1.1 2000 OK\r\n\r\n").rc, HTTP_ERROR);
    cr_assert_eq(resp("HTTP/1.1 abc OK\r\n\r\n").rc, HTTP_ERROR);
    cr_assert_eq(resp("HTTP/1.1 099 OK\r\n\r\n").rc, HTTP_ERROR);
    cr_assert_eq(resp("HTTP/2 200 OK\r\n\r\n").rc, HTTP_ERROR);
    cr_assert_eq(resp("ICY 200 OK\r\n\r\n").rc, HTTP_ERROR);
}
