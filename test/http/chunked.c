/*
 * chunked.c -- the HTTP samples' chunked-body decoder on tricky input
 * (suite `parse`).  Every body is decoded whole, split at every point and
 * one byte at a time, each piece in a buffer of its own, and all three
 * must agree: the bytes used, the data, and the outcome.  The framing is
 * RFC 9112's section 7.1 read strictly -- CR LF and nothing else ends its
 * lines, and chunk extensions follow section 7.1.1 -- because a decoder
 * that guesses where a body ends can be made to read a second request out
 * of a first one's body.
 */
#include "http/http_parse.h"

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

/* What decoding gave: the outcome, the input used, and the data. */
typedef struct decoded {
    int rc;
    size_t used, len;
    char data[4096];
} decoded;

/* Feeds s[0..n) as a first piece of `first` bytes, then pieces of `step`,
 * each copied into a buffer of exactly its size, until the decoder is done
 * or fails. */
static decoded decode_pieces(const char *s, size_t n, size_t first, size_t step)
{
    http_chunked c;
    decoded d = {HTTP_MORE, 0, 0, {0}};
    size_t at = 0, len = first < n ? first : n;
    http_chunked_init(&c);
    for (;;) {
        char *piece = malloc(len ? len : 1);
        size_t used, got;
        cr_assert_not_null(piece);
        memcpy(piece, s + at, len);
        d.rc = http_chunked_decode(&c, piece, len, &used, &got);
        cr_assert(used <= len && got <= used);
        cr_assert(d.rc != HTTP_MORE || used == len, "MORE, but not all of the input used");
        cr_assert_leq(d.len + got, sizeof d.data);
        memcpy(d.data + d.len, piece, got);
        free(piece);
        d.len += got;
        d.used += used;
        at += len;
        if (d.rc != HTTP_MORE || at == n)
            return d;
        len = n - at < step ? n - at : step;
    }
}

static void assert_same(const decoded *a, const decoded *whole, const char *how, size_t at)
{
    cr_assert_eq(a->rc, whole->rc, "%s (%zu): rc %d, whole %d", how, at, a->rc, whole->rc);
    cr_assert_eq(a->used, whole->used, "%s (%zu): used %zu, whole %zu", how, at, a->used,
                 whole->used);
    cr_assert(a->len == whole->len && memcmp(a->data, whole->data, a->len) == 0,
              "%s (%zu): other data", how, at);
}

/* Decodes s whole, byte by byte and split at every point: one outcome.
 * Past 2 KiB (the limit tests), at every 61st point and the last 64:
 * each split costs the whole body, and under valgrind all of them would
 * take minutes. */
static decoded decode_with(const char *s, size_t n)
{
    decoded whole = decode_pieces(s, n, n, n), d;
    size_t split;
    d = decode_pieces(s, n, 1, 1);
    assert_same(&d, &whole, "byte by byte", 1);
    for (split = 0; split <= n; split += n <= 2048 || split + 64 >= n ? 1 : 61) {
        d = decode_pieces(s, n, split, n);
        assert_same(&d, &whole, "split", split);
    }
    return whole;
}

/* The body decodes to `want_rc` and `want_data`, using `want_used` bytes. */
static void decodes(const char *s, int want_rc, const char *want_data, size_t want_used)
{
    decoded d = decode_with(s, strlen(s));
    cr_assert_eq(d.rc, want_rc, "rc %d for: %s", d.rc, s);
    cr_assert(d.len == strlen(want_data) && memcmp(d.data, want_data, d.len) == 0,
              "other data for: %s", s);
    cr_assert_eq(d.used, want_used, "%zu bytes used, not %zu, for: %s", d.used, want_used, s);
}

/* The body decodes to `want_data`, and ends with s. */
static void decodes_all(const char *s, const char *want_data)
{
    decodes(s, HTTP_DONE, want_data, strlen(s));
}

/* The body is refused; at the n-th byte when `at` is not 0. */
static void refused_at(const char *s, size_t n, size_t at)
{
    decoded d = decode_with(s, n);
    cr_assert_eq(d.rc, HTTP_ERROR, "accepted: %s", s);
    if (at)
        cr_assert_eq(d.used, at, "refused after %zu bytes, not %zu: %s", d.used, at, s);
}

static void refused(const char *s) { refused_at(s, strlen(s), 0); }

/* Refused at the byte that shows it: the last one of s. */
static void refused_at_its_end(const char *s) { refused_at(s, strlen(s), strlen(s)); }

Test(parse, chunked_bodies)
{
    decodes("5\r\nhello\r\n0\r\n\r\n", HTTP_DONE, "hello", 15);
    decodes("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nGET", HTTP_DONE, "hello world", 26);
    decodes("A;name=value;x\r\n0123456789\r\n0\r\n\r\n", HTTP_DONE, "0123456789", 33);
    decodes_all("3\r\nabc\r\n0\r\nTrailer: yes\r\nMore: x\r\n\r\n", "abc");
    decodes("00000\r\n\r\n", HTTP_DONE, "", 9);
    decodes("ff\r\n", HTTP_MORE, "", 4);
}

Test(parse, bad_chunked_bodies)
{
    refused("\r\n");
    refused("g\r\n");
    refused("5 6\r\nhello\r\n");
    refused("-5\r\n");
    refused("11111111111111111\r\n"); /* 17 hex digits */
    refused("5\r\nhelloX\r\n");
    refused("5\rX");
    refused("5;a\x01\r\n");
    refused("0\r\n bad trailer\r\n\r\n");
    refused("0\r\nX: a\x01\r\n\r\n");
}

Test(parse, a_bare_lf_in_chunked_framing_is_refused_at_once)
{
    /* RFC 9112 7.1: CR LF ends every line of the framing.  A decoder that
       took a bare LF would disagree with one that does not on where the
       body ends: behind such a proxy, a request hides in a body */
    refused_at_its_end("3\n");
    refused_at_its_end("3;ext\n");
    refused_at_its_end("3;e=\"v\"\n");
    refused_at_its_end("3\r\nabc\n");
    refused_at_its_end("3\r\nabc\r\n0\n");
    refused_at_its_end("3\r\nabc\r\n0\r\n\n");
    refused_at_its_end("0\r\nTrailer: x\n");
    refused_at_its_end("0\r\nTrailer: x\r\n\n");
    refused("3\nabc\n0\n\nGET /admin HTTP/1.1\r\nHost: h\r\n\r\n");
}

Test(parse, chunk_extensions_follow_rfc_9112)
{
    /* chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ) */
    decodes("2;a\r\nab\r\n0\r\n\r\n", HTTP_DONE, "ab", 14);
    decodes("2 ;a\r\nab\r\n0\r\n\r\n", HTTP_DONE, "ab", 15);
    decodes_all("2\t; a = b ;c=\"x;y\\\"z\"\r\nab\r\n0\r\n\r\n", "ab");
    decodes_all("2;a=\"\"\r\nab\r\n0;last=1\r\n\r\n", "ab");
    /* no name after ';' */
    refused_at_its_end("2;\r");
    refused_at_its_end("2; ;");
    refused_at_its_end("2;=");
    /* a value that does not end, or is missing */
    refused_at_its_end("2;a=\"x\r");
    refused_at_its_end("2;a=\"x\\\"\r");
    refused_at_its_end("2;a=\r");
    refused_at_its_end("2;a=\"x\"y");
    /* white space after the size, a name or a value must lead to ';' or
       '=': none may end the line */
    refused_at_its_end("2 \r");
    refused_at_its_end("2\t\r");
    refused_at_its_end("2;a \r");
    refused_at_its_end("2;a=b \r");
    refused_at_its_end("2 3");
    refused_at_its_end("2;a b");
}

Test(parse, chunk_sizes_with_leading_zeros_count_by_value)
{
    /* the size is a number: zeros in front add nothing to it */
    decodes_all("0000000000000000000000000000002\r\nab\r\n0000000000000000000000\r\n\r\n", "ab");
    decodes("00000000000000000000ffffffffffffffff\r\n", HTTP_MORE, "", 38);
    refused_at_its_end("000000000000000000001ffffffffffffffff");
}

Test(parse, chunked_limits)
{
    char line[HTTP_MAX_CHUNK_LINE + 16], trailer[HTTP_MAX_TRAILER + 64];
    memset(line, 'x', sizeof line);
    memcpy(line, "1;", 2);
    refused_at(line, HTTP_MAX_CHUNK_LINE + 1, HTTP_MAX_CHUNK_LINE + 1);
    memcpy(trailer, "0\r\nX: ", 6);
    memset(trailer + 6, 'v', sizeof trailer - 6);
    refused_at(trailer, HTTP_MAX_TRAILER + 8, 0);
}
