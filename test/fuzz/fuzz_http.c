/*
 * fuzz_http.c -- a libFuzzer target for the HTTP samples' parser
 * (samples/http/).  The first byte of an input picks what is fuzzed, the
 * second how the rest is cut into pieces:
 *
 *   0  a request head         3  a path mapped to a file
 *   1  a response head        4  a request head under tiny limits
 *   2  a chunked body
 *
 * Besides crashes and what AddressSanitizer and UBSan catch, it checks the
 * properties the server relies on, and aborts when one fails:
 *   - feeding a head in pieces gives exactly the outcome of feeding it
 *     whole, and a DONE head lies within the limits and the input;
 *   - an error carries a status the server knows how to send;
 *   - a chunked body decodes to the same bytes whole and in pieces;
 *   - a mapped path has no empty, "." or ".." segment, and no leading '/'.
 * and, differentially, against references written apart from the parser
 * (fuzz_reference.h), simple whole-input readings of the framing alone:
 *   - a head the parser takes ends where the reference finds its empty
 *     line, with CR LF ending every line before it; a head whose framing
 *     the reference refuses (a bare LF, a bare CR) is refused;
 *   - the same for the lenient parser (lenient_lf) and a lenient reading,
 *     and whatever the strict parser takes, the lenient one takes alike;
 *   - a chunked body gives the reference's outcome, bytes used and data.
 *
 * test/fuzz/run.sh builds it with clang -fsanitize=fuzzer,address,undefined
 * and runs it; test/http replays the seed corpus through it in every build
 * (replay.c stands in for libFuzzer's main there).
 */
#include "fuzz_reference.h"
#include "http/http_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_http: property broken: %s\n", what);
    abort();
}

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond))                                                                       \
            fail(#cond);                                                                   \
    } while (0)

/* A copy of exactly n bytes, so that a read past the end is caught. */
static char *exact_copy(const uint8_t *data, size_t n)
{
    char *p = malloc(n ? n : 1);
    if (p == NULL)
        abort();
    if (n)
        memcpy(p, data, n);
    return p;
}

/* ------------------------------------------------------------ heads */

typedef struct outcome {
    int rc, error;
    http_message msg;
} outcome;

static bool lenient; /* the parsers below get lenient_lf = lenient */

static void init(http_parser *p, bool request, const http_limits *lim)
{
    if (request)
        http_request_parser_init(p, lim);
    else
        http_response_parser_init(p, lim);
    p->lenient_lf = lenient;
}

static outcome whole(const uint8_t *data, size_t n, bool request, const http_limits *lim)
{
    http_parser p;
    char *buf = exact_copy(data, n);
    outcome o;
    init(&p, request, lim);
    o.rc = http_parse(&p, buf, n);
    o.error = o.rc == HTTP_ERROR ? p.error : 0;
    o.msg = p.msg;
    if (o.rc == HTTP_ERROR)
        CHECK(p.why != NULL);
    free(buf);
    return o;
}

/* Grows the buffer by `step` bytes at a time, each time a fresh buffer of
 * exactly the bytes so far; or a byte at a time in one buffer. */
static outcome pieces(const uint8_t *data, size_t n, bool request, const http_limits *lim,
                      size_t step)
{
    http_parser p;
    outcome o = {HTTP_MORE, 0, {0}};
    size_t len = 0;
    init(&p, request, lim);
    while (o.rc == HTTP_MORE && len < n) {
        char *buf;
        len = n - len > step ? len + step : n;
        buf = exact_copy(data, len);
        o.rc = http_parse(&p, buf, len);
        free(buf);
    }
    if (n == 0)
        o.rc = http_parse(&p, "", 0);
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

static bool same(const outcome *a, const outcome *b)
{
    return a->rc == b->rc && a->error == b->error && same_message(&a->msg, &b->msg);
}

static bool known_status(int status)
{
    static const int statuses[] = {400, 414, 417, 431, 501, 502, 505};
    size_t i;
    for (i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (statuses[i] == status)
            return true;
    return false;
}

/* The parser against the reference reading of the framing. */
static void check_framing(const outcome *a, const uint8_t *data, size_t n, bool request)
{
    size_t end;
    int ref = ref_head_end((const char *)data, n, request, lenient, &end);
    if (a->rc == HTTP_DONE)
        CHECK(ref == REF_DONE && end == a->msg.head_len);
    if (ref == REF_BAD)
        CHECK(a->rc == HTTP_ERROR);
}

/* One head, parsed whole, in pieces of `step`, and a byte at a time. */
static outcome parse_head(const uint8_t *data, size_t n, bool request, const http_limits *lim,
                          size_t step)
{
    outcome a = whole(data, n, request, lim);
    outcome b = pieces(data, n, request, lim, step);
    outcome c = pieces(data, n, request, lim, 1);
    CHECK(same(&a, &b));
    CHECK(same(&a, &c));
    if (a.rc == HTTP_ERROR)
        CHECK(known_status(a.error));
    check_framing(&a, data, n, request);
    return a;
}

static void fuzz_head(const uint8_t *data, size_t n, bool request, const http_limits *lim,
                      size_t step)
{
    http_limits def = {HTTP_MAX_LINE, HTTP_MAX_HEAD, HTTP_MAX_FIELDS};
    const http_limits *l = lim ? lim : &def;
    outcome a, loose;
    const http_message *m;

    lenient = true;
    loose = parse_head(data, n, request, lim, step);
    lenient = false;
    a = parse_head(data, n, request, lim, step);
    m = &a.msg;
    /* strict takes a subset of what lenient takes, and reads it alike */
    if (a.rc == HTTP_DONE)
        CHECK(same(&a, &loose));
    if (a.rc != HTTP_DONE)
        return;
    CHECK(m->head_len <= n && m->head_len <= l->max_head);
    CHECK(m->fields <= l->max_fields);
    CHECK(m->minor >= 0 && m->minor <= 9);
    CHECK(m->content_length >= HTTP_NO_LENGTH);
    CHECK(!(m->chunked && m->content_length != HTTP_NO_LENGTH));
    if (request) {
        CHECK(m->method_len > 0 && m->method_off + m->method_len <= m->head_len);
        CHECK(m->target_len > 0 && m->target_off + m->target_len <= m->head_len);
        CHECK(m->path_off >= m->target_off &&
              m->path_off + m->path_len <= m->target_off + m->target_len);
        CHECK(m->target_len <= l->max_line);
    } else {
        CHECK(m->status >= 100 && m->status <= 999);
    }
}

/* ---------------------------------------------------------- chunked */

/* The decoder against the reference: the same outcome, the same bytes
 * used when done, the same data unless refused. */
static void check_chunked_reference(const uint8_t *data, size_t n, int rc, size_t used,
                                    const char *out, size_t out_len)
{
    char *want = malloc(n ? n : 1);
    size_t want_used, want_len;
    int ref;
    if (want == NULL)
        abort();
    ref = ref_chunked((const char *)data, n, want, &want_used, &want_len);
    CHECK(rc == (ref == REF_DONE ? HTTP_DONE : ref == REF_BAD ? HTTP_ERROR : HTTP_MORE));
    if (ref == REF_DONE)
        CHECK(used == want_used);
    if (ref != REF_BAD)
        CHECK(out_len == want_len && memcmp(out, want, out_len) == 0);
    free(want);
}

static void fuzz_chunked(const uint8_t *data, size_t n, size_t step)
{
    http_chunked c;
    char *a = exact_copy(data, n), *b = malloc(n ? n : 1);
    size_t used_a, data_a, used_b = 0, data_b = 0, at = 0;
    int rc_a, rc_b = HTTP_MORE;

    if (b == NULL)
        abort();
    http_chunked_init(&c);
    rc_a = http_chunked_decode(&c, a, n, &used_a, &data_a);
    CHECK(used_a <= n && data_a <= used_a);
    CHECK(rc_a != HTTP_MORE || used_a == n);
    /* the same in pieces, each decoded in a buffer of its own */
    http_chunked_init(&c);
    while (rc_b == HTTP_MORE && at < n) {
        size_t len = n - at > step ? step : n - at, used, got;
        char *piece = exact_copy(data + at, len);
        rc_b = http_chunked_decode(&c, piece, len, &used, &got);
        CHECK(used <= len && got <= used);
        CHECK(rc_b != HTTP_MORE || used == len);
        memcpy(b + data_b, piece, got);
        data_b += got;
        used_b += used;
        at += len;
        free(piece);
    }
    if (n > 0) {
        CHECK(rc_a == rc_b);
        CHECK(data_a == data_b && memcmp(a, b, data_a) == 0);
        if (rc_a == HTTP_DONE)
            CHECK(used_a == used_b);
    }
    check_chunked_reference(data, n, rc_a, used_a, a, data_a);
    free(a);
    free(b);
}

/* ------------------------------------------------------------ paths */

static void fuzz_path(const uint8_t *data, size_t n, size_t cap)
{
    char *path = exact_copy(data, n), *out = malloc(cap);
    int r;
    if (out == NULL)
        abort();
    r = http_path_to_file(path, n, out, cap);
    CHECK(r >= 0 || r == HTTP_PATH_BAD || r == HTTP_PATH_HIDDEN || r == HTTP_PATH_LONG);
    if (r >= 0) {
        size_t i, seg = 0;
        CHECK((size_t)r < cap && strlen(out) == (size_t)r);
        CHECK(r == 0 || (out[0] != '/' && out[r - 1] != '/'));
        for (i = 0; i <= (size_t)r; i++) {
            if (i < (size_t)r && out[i] != '/')
                continue;
            CHECK(i > seg || r == 0);
            CHECK(!(i - seg == 1 && out[seg] == '.'));
            CHECK(!(i - seg == 2 && out[seg] == '.' && out[seg + 1] == '.'));
            CHECK(r == 0 || out[seg] != '.');
            seg = i + 1;
        }
        for (i = 0; i < (size_t)r; i++)
            CHECK((unsigned char)out[i] >= 0x20 && out[i] != 0x7F);
    }
    free(path);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    http_limits tiny;
    uint8_t mode, step;
    if (size < 2)
        return 0;
    mode = data[0];
    step = data[1] ? data[1] : 1;
    data += 2;
    size -= 2;
    switch (mode % 5) {
    case 0:
        fuzz_head(data, size, true, NULL, step);
        break;
    case 1:
        fuzz_head(data, size, false, NULL, step);
        break;
    case 2:
        fuzz_chunked(data, size, step);
        break;
    case 3:
        fuzz_path(data, size, (size_t)step + 1);
        break;
    default:
        /* limits small enough for short inputs to reach them */
        tiny.max_line = (size_t)(mode >> 3) + 8;
        tiny.max_head = (size_t)step + 16;
        tiny.max_fields = (size_t)(mode >> 5) + 1;
        fuzz_head(data, size, true, &tiny, (size_t)(step % 7) + 1);
        break;
    }
    return 0;
}
