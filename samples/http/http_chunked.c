/*
 * http_chunked.c -- the decoder of chunked bodies (see http_parse.h), a
 * byte at a time outside the data.  The framing is RFC 9112's section 7.1,
 * read strictly: CR LF and nothing else ends its lines (a bare LF is an
 * error wherever it stands), and a chunk extension follows section 7.1.1,
 *
 *     chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )
 *
 * so ";" without a name, an unbalanced quote, or white space that leads to
 * neither ";" nor "=" (white space just before the line's end, say) is
 * refused.  Two decoders that disagree on where a body ends are how a
 * request is smuggled inside another one's body, so nothing is guessed.
 */
#include "http_chars.h"
#include "http_parse.h"

#include <string.h>

enum {
    C_SIZE_FIRST,   /* the first hex digit of a chunk size          */
    C_SIZE,         /* more hex digits, ';', BWS, or the CR         */
    C_SIZE_BWS,     /* white space after the size or a value: ';'   */
    C_NAME_BWS,     /* after ';': white space, then a name          */
    C_NAME,         /* an extension's name                          */
    C_NAME_BWS_END, /* white space after a name: ';' or '='         */
    C_VALUE_BWS,    /* after '=': white space, then the value       */
    C_TOKEN,        /* a token value                                */
    C_QUOTED,       /* inside a quoted-string value                 */
    C_ESCAPE,       /* after a backslash inside it                  */
    C_QUOTE_END,    /* after the closing quote                      */
    C_SIZE_LF,      /* a CR ended the size line: LF must follow     */
    C_DATA,         /* `left` data bytes to go                      */
    C_DATA_CR,      /* the CR LF after a chunk's data               */
    C_DATA_LF,
    C_TRAILER,      /* at the start of a trailer line (or the end)  */
    C_TRAILER_IN,   /* inside a trailer line                        */
    C_TRAILER_LF,
    C_END_LF,       /* the final CR: LF must follow                 */
    C_DONE,
    C_FAILED
};

void http_chunked_init(http_chunked *c)
{
    memset(c, 0, sizeof *c);
    c->state = C_SIZE_FIRST;
}

static int chunk_fail(http_chunked *c, const char *why)
{
    c->state = C_FAILED;
    c->why = why;
    return HTTP_ERROR;
}

/* The end of a size line: a chunk of data, or the trailer after size 0. */
static void size_line_done(http_chunked *c)
{
    c->line = 0;
    c->digits = 0;
    c->state = c->left > 0 ? C_DATA : C_TRAILER;
}

/* Moves to `next`; false if ch is not the byte it needs. */
static int go(http_chunked *c, bool ok, uint8_t next, const char *why)
{
    if (!ok)
        return chunk_fail(c, why);
    c->state = next;
    return HTTP_MORE;
}

/* A hex digit of the size: zeros in front do not count towards the 16
 * digits a 64-bit size holds (the line limit bounds them). */
static int size_digit(http_chunked *c, int v)
{
    if ((c->left > 0 || v > 0) && ++c->digits > 16)
        return chunk_fail(c, "chunk size too large");
    c->left = c->left * 16 + (uint64_t)v;
    c->state = C_SIZE;
    return HTTP_MORE;
}

/* Where ';', white space or the CR may follow: after the size, a name, a
 * token value or a quoted one. */
static int after_item(http_chunked *c, unsigned char ch, const char *why)
{
    if (ch == ';')
        return go(c, true, C_NAME_BWS, why);
    if (ch == '\r')
        return go(c, true, C_SIZE_LF, why);
    return go(c, http_is_blank(ch), C_SIZE_BWS, why);
}

/* One byte of the size line: 1*HEXDIG [ chunk-ext ] CR LF. */
static int size_byte(http_chunked *c, unsigned char ch)
{
    int v = http_hex_value(ch);
    if (++c->line > HTTP_MAX_CHUNK_LINE)
        return chunk_fail(c, "chunk size line too long");
    switch (c->state) {
    case C_SIZE_FIRST:
        return v >= 0 ? size_digit(c, v) : chunk_fail(c, "a bad chunk size");
    case C_SIZE:
        return v >= 0 ? size_digit(c, v) : after_item(c, ch, "a bad chunk size");
    case C_SIZE_BWS:
        return go(c, ch == ';' || http_is_blank(ch), ch == ';' ? C_NAME_BWS : C_SIZE_BWS,
                  "white space in a chunk size line not followed by ';'");
    case C_NAME_BWS:
        return go(c, http_is_tchar(ch) || http_is_blank(ch),
                  http_is_tchar(ch) ? C_NAME : C_NAME_BWS, "a chunk extension without a name");
    case C_NAME:
        if (http_is_tchar(ch))
            return HTTP_MORE;
        if (ch == '=' || http_is_blank(ch))
            return go(c, true, ch == '=' ? C_VALUE_BWS : C_NAME_BWS_END, NULL);
        return after_item(c, ch, "a bad chunk extension name");
    case C_NAME_BWS_END:
        if (ch == '=')
            return go(c, true, C_VALUE_BWS, NULL);
        return go(c, ch == ';' || http_is_blank(ch), ch == ';' ? C_NAME_BWS : C_NAME_BWS_END,
                  "white space after a chunk extension name not followed by ';' or '='");
    case C_VALUE_BWS:
        if (ch == '"')
            return go(c, true, C_QUOTED, NULL);
        return go(c, http_is_tchar(ch) || http_is_blank(ch),
                  http_is_tchar(ch) ? C_TOKEN : C_VALUE_BWS, "a chunk extension without a value");
    case C_TOKEN:
        return http_is_tchar(ch) ? HTTP_MORE : after_item(c, ch, "a bad chunk extension value");
    case C_QUOTED:
        if (ch == '"' || ch == '\\')
            return go(c, true, ch == '"' ? C_QUOTE_END : C_ESCAPE, NULL);
        return go(c, http_is_field_char(ch), C_QUOTED,
                  "an unbalanced quote or a control character in a chunk extension");
    case C_ESCAPE:
        return go(c, http_is_field_char(ch), C_QUOTED, "a control character in a chunk extension");
    default: /* C_QUOTE_END */
        return after_item(c, ch, "a bad chunk extension value");
    }
}

/* One byte of a trailer line, or of the empty line that ends the body. */
static int trailer_byte(http_chunked *c, unsigned char ch)
{
    if (++c->trailer > HTTP_MAX_TRAILER)
        return chunk_fail(c, "trailer too large");
    if (c->state == C_TRAILER) {
        if (ch == '\r')
            return go(c, true, C_END_LF, NULL);
        return go(c, http_is_tchar(ch), C_TRAILER_IN, "a bad trailer field");
    }
    if (ch == '\r')
        return go(c, true, C_TRAILER_LF, NULL);
    return go(c, http_is_field_char(ch), C_TRAILER_IN, "a control character in a trailer field");
}

/* One byte in any state but C_DATA. */
static int chunk_byte(http_chunked *c, unsigned char ch)
{
    switch (c->state) {
    case C_SIZE_LF:
        if (ch != '\n')
            return chunk_fail(c, "a CR not followed by LF");
        size_line_done(c);
        return HTTP_MORE;
    case C_DATA_CR:
        return go(c, ch == '\r', C_DATA_LF, "no CR LF after a chunk's data");
    case C_DATA_LF:
        return go(c, ch == '\n', C_SIZE_FIRST, "a CR not followed by LF");
    case C_TRAILER_LF:
        return go(c, ch == '\n', C_TRAILER, "a CR not followed by LF");
    case C_END_LF:
        return go(c, ch == '\n', C_DONE, "a CR not followed by LF");
    case C_DONE:
    case C_FAILED:
        return chunk_fail(c, "decoder misused");
    default:
        break;
    }
    /* RFC 9112 7.1: every line of the framing ends with CR LF */
    if (ch == '\n')
        return chunk_fail(c, "a bare LF in chunked framing");
    if (c->state == C_TRAILER || c->state == C_TRAILER_IN)
        return trailer_byte(c, ch);
    return size_byte(c, ch);
}

int http_chunked_decode(http_chunked *c, char *buf, size_t len, size_t *used, size_t *data)
{
    size_t i = 0, out = 0;
    int rc = HTTP_MORE;

    if (c->state == C_FAILED)
        rc = HTTP_ERROR;
    while (rc == HTTP_MORE && c->state != C_DONE && i < len) {
        if (c->state == C_DATA) {
            size_t n = len - i;
            if ((uint64_t)n > c->left)
                n = (size_t)c->left;
            memmove(buf + out, buf + i, n); /* out <= i: the data only moves forward */
            out += n;
            i += n;
            c->left -= n;
            if (c->left == 0)
                c->state = C_DATA_CR;
        } else {
            rc = chunk_byte(c, (unsigned char)buf[i++]);
        }
    }
    *used = i;
    *data = out;
    if (rc == HTTP_ERROR)
        return HTTP_ERROR;
    return c->state == C_DONE ? HTTP_DONE : HTTP_MORE;
}
