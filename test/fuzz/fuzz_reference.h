/*
 * fuzz_reference.h -- reference readings of HTTP/1.1 framing, for the
 * fuzzer's differential checks (fuzz_http.c).  They are written apart from
 * the samples' parser and in another style: each reads the whole input at
 * once with a cursor, by RFC 9112's grammar and nothing else, and decides
 * only where the framing puts the end of a head or of a chunked body.
 * Slow and plain on purpose: they are the parser's second opinion, so
 * they share none of its code.
 */
#ifndef FUZZ_REFERENCE_H
#define FUZZ_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { REF_MORE, REF_DONE, REF_BAD };

/* --------------------------------------------------------------- heads */

/*
 * Where the head in s[0..n) ends, by its line ends alone (RFC 9112 2.1,
 * 2.2): empty lines before the first line are skipped, and the head ends
 * with the first empty line after it.  A line ends with CR LF, or with a
 * bare LF when `bare_lf`; any other CR or LF is bad framing.  REF_DONE
 * (*end: the head's length), REF_BAD (a bad line end before the head's
 * end), or REF_MORE (no end yet).
 */
static int ref_head_end(const char *s, size_t n, bool request, bool bare_lf, size_t *end)
{
    size_t i, line = 0;
    bool started = false; /* the first line has begun */
    (void)request;        /* both kinds frame their heads alike */
    for (i = 0; i < n; i++) {
        size_t content;
        if (s[i] == '\r') {
            if (i + 1 == n)
                return REF_MORE;
            if (s[i + 1] != '\n')
                return REF_BAD;
            content = i - line;
            i++;
        } else if (s[i] == '\n') {
            if (!bare_lf)
                return REF_BAD;
            content = i - line;
        } else {
            continue;
        }
        /* a line [line, line + content) ended at i */
        if (content == 0 && started) {
            *end = i + 1;
            return REF_DONE;
        }
        if (content > 0)
            started = true;
        line = i + 1;
    }
    return REF_MORE;
}

/* ------------------------------------------------------- chunked bodies */

/* The limits the samples put on a chunked body (http_parse.h): a size line
 * up to its CR, the trailer's lines up to their CRs, a size's value. */
#define REF_CHUNK_LINE 1024
#define REF_TRAILER 8192

static bool ref_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool ref_vchar_or_blank(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }

static int ref_hex(unsigned char c)
{
    const char *digits = "0123456789abcdef";
    const char *at = c ? strchr(digits, c >= 'A' && c <= 'F' ? c + 32 : c) : NULL;
    return at ? (int)(at - digits) : -1;
}

/* A cursor over s[0..end), `end` being where this line may reach. */
typedef struct ref_cursor {
    const char *s;
    size_t at, end;
} ref_cursor;

/* The next byte, or -1 at the end. */
static int ref_peek(const ref_cursor *c) { return c->at < c->end ? (unsigned char)c->s[c->at] : -1; }

static size_t ref_blanks(ref_cursor *c)
{
    size_t from = c->at;
    while (ref_peek(c) == ' ' || ref_peek(c) == '\t')
        c->at++;
    return c->at - from;
}

static size_t ref_token(ref_cursor *c)
{
    size_t from = c->at;
    while (ref_peek(c) >= 0 && ref_tchar((unsigned char)ref_peek(c)))
        c->at++;
    return c->at - from;
}

/* DQUOTE *( qdtext / "\" octet ) DQUOTE: REF_DONE, REF_BAD or REF_MORE. */
static int ref_quoted(ref_cursor *c)
{
    c->at++; /* the opening quote */
    for (;;) {
        int ch = ref_peek(c);
        if (ch < 0)
            return REF_MORE;
        c->at++;
        if (ch == '"')
            return REF_DONE;
        if (ch == '\\') {
            if ((ch = ref_peek(c)) < 0)
                return REF_MORE;
            c->at++;
        }
        if (!ref_vchar_or_blank((unsigned char)ch))
            return REF_BAD;
    }
}

/*
 * chunk-size [ chunk-ext ] CR, up to c->end: *size is the size.
 *   chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )
 */
static int ref_size_line(ref_cursor *c, uint64_t *size)
{
    size_t digits = 0, significant = 0;
    int v, rc;
    *size = 0;
    while ((v = ref_peek(c) >= 0 ? ref_hex((unsigned char)ref_peek(c)) : -1) >= 0) {
        if ((*size > 0 || v > 0) && ++significant > 16)
            return REF_BAD;
        *size = *size * 16 + (uint64_t)v;
        digits++;
        c->at++;
    }
    if (ref_peek(c) < 0)
        return REF_MORE;
    if (digits == 0)
        return REF_BAD;
    for (;;) {
        size_t ws = ref_blanks(c);
        if (ref_peek(c) < 0)
            return REF_MORE;
        if (ref_peek(c) != ';')
            return ws == 0 && ref_peek(c) == '\r' ? REF_DONE : REF_BAD;
        c->at++;
        ref_blanks(c);
        if (ref_token(c) == 0)
            return ref_peek(c) < 0 ? REF_MORE : REF_BAD;
        ws = ref_blanks(c);
        if (ref_peek(c) < 0)
            return REF_MORE;
        if (ref_peek(c) != '=') {
            if (ws > 0 && ref_peek(c) != ';')
                return REF_BAD;
            continue;
        }
        c->at++;
        ref_blanks(c);
        if (ref_peek(c) == '"') {
            if ((rc = ref_quoted(c)) != REF_DONE)
                return rc;
        } else if (ref_token(c) == 0) {
            return ref_peek(c) < 0 ? REF_MORE : REF_BAD;
        }
    }
}

/* One trailer line or the final empty line, from c->at: CR LF-ended
 * field-ish lines (a token byte first, then VCHAR and blanks); *count is
 * the bytes counted against REF_TRAILER (all but the LFs). */
static int ref_trailer(const char *s, size_t n, size_t *at, size_t *count, bool *last)
{
    size_t i = *at;
    *last = i < n && s[i] == '\r';
    for (; i < n && s[i] != '\r'; i++) {
        bool ok = i == *at ? ref_tchar((unsigned char)s[i])
                           : ref_vchar_or_blank((unsigned char)s[i]);
        if (++*count > REF_TRAILER || !ok)
            return REF_BAD;
    }
    if (i == n)
        return REF_MORE;
    if (++*count > REF_TRAILER)
        return REF_BAD; /* the CR */
    if (i + 1 == n)
        return REF_MORE;
    if (s[i + 1] != '\n')
        return REF_BAD;
    *at = i + 2;
    return REF_DONE;
}

/* Reads size line number k from *at: REF_DONE with *at past its LF. */
static int ref_chunk_head(const char *s, size_t n, size_t *at, uint64_t *size)
{
    size_t lim = n - *at > REF_CHUNK_LINE ? *at + REF_CHUNK_LINE : n;
    ref_cursor c = {s, *at, lim};
    int rc = ref_size_line(&c, size);
    if (rc == REF_MORE)
        return lim < n ? REF_BAD : REF_MORE; /* past the line limit */
    if (rc == REF_BAD)
        return REF_BAD;
    /* c.at is the CR, within the limit; the LF may lie past it */
    if (c.at + 1 == n)
        return REF_MORE;
    if (s[c.at + 1] != '\n')
        return REF_BAD;
    *at = c.at + 2;
    return REF_DONE;
}

/*
 * A chunked body in s[0..n) (RFC 9112 7.1): its data, copied to out
 * (*out_len bytes, whatever the outcome), and REF_DONE with *used the
 * body's length, REF_BAD, or REF_MORE.
 */
static int ref_chunked(const char *s, size_t n, char *out, size_t *used, size_t *out_len)
{
    size_t at = 0, count = 0;
    uint64_t size;
    bool last;
    int rc;
    *out_len = 0;
    for (;;) {
        size_t take;
        if ((rc = ref_chunk_head(s, n, &at, &size)) != REF_DONE)
            return rc;
        if (size == 0)
            break;
        take = (uint64_t)(n - at) < size ? n - at : (size_t)size;
        memcpy(out + *out_len, s + at, take);
        *out_len += take;
        at += take;
        if ((uint64_t)take < size || at == n)
            return REF_MORE;
        if (s[at] != '\r')
            return REF_BAD;
        if (at + 1 == n)
            return REF_MORE;
        if (s[at + 1] != '\n')
            return REF_BAD;
        at += 2;
    }
    do {
        if ((rc = ref_trailer(s, n, &at, &count, &last)) != REF_DONE)
            return rc;
    } while (!last);
    *used = at;
    return REF_DONE;
}

#endif /* FUZZ_REFERENCE_H */
