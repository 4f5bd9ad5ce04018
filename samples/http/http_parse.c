/*
 * http_parse.c -- the HTTP/1.1 head parser of the HTTP samples (see
 * http_parse.h).  The grammar is RFC 9112's, read strictly: what a lenient
 * server would guess at (a space before a colon, a folded line, a bare CR
 * or, unless asked for, a bare LF, two Content-Lengths that differ,
 * Transfer-Encoding beside Content-Length) is refused, because two servers
 * that guess differently are how requests get smuggled past a proxy.
 *
 * The head is read a byte at a time, and every byte is checked against the
 * grammar as it arrives, so an error is found at the first byte that shows
 * it, and a limit crossed at a later byte cannot hide it.  What a field's
 * value means (Content-Length, Host, Transfer-Encoding...) is decided when
 * its line ends, and what the fields say together at the empty line.
 */
#include "http_chars.h"
#include "http_parse.h"

#include <string.h>

enum { KIND_REQUEST, KIND_RESPONSE };
enum { S_START, S_FIELDS, S_DONE, S_ERROR };

/* Where the parser is inside its line (http_parser.at). */
enum {
    L_LINE_START, /* nothing of the line yet                        */
    L_METHOD,     /* request line: the method                       */
    L_TARGET,     /* the request-target (its form in .form)         */
    L_VERSION,    /* "HTTP/1.x", .count bytes of it so far          */
    L_STATUS_VERSION,
    L_STATUS_CODE, /* status line: .count digits so far             */
    L_REASON,
    L_FIELD_START, /* the first byte of a field line, or the end    */
    L_NAME,
    L_VALUE
};

/* The request-target's form, as its first bytes show it (http_parser.form). */
enum {
    T_FIRST,     /* no byte yet                                     */
    T_ORIGIN,    /* "/" path [ "?" query ]                          */
    T_STAR,      /* "*", for OPTIONS                                */
    T_AUTHORITY, /* host:port, for CONNECT                          */
    T_SCHEME,    /* absolute-form: "http" or "https", .count bytes  */
    T_SLASHES,   /* the "//" after the scheme's ':'                 */
    T_ABS_AUTH,  /* its authority; .count is 1 once it has a byte   */
    T_ABS_PATH   /* its path and query                              */
};

/* A line may end at this byte (a CR or LF where the grammar allows it). */
#define LINE_END 2

/* ------------------------------------------------------- characters */

/* What may stand unescaped in a path or a query: RFC 3986's pchar, '/', '?'. */
static bool is_uri_char(unsigned char c)
{
    return http_is_digit(c) || http_is_alpha(c) || (http_punct(c) & HTTP_PUNCT_URI);
}

/* An authority (host, port, user info): unreserved, sub-delims, ':', '@' and
 * the brackets of an IPv6 literal. */
static bool is_authority_char(unsigned char c)
{
    return http_is_digit(c) || http_is_alpha(c) || (http_punct(c) & HTTP_PUNCT_AUTHORITY);
}

/* Whether s[0..n) is made of chars passing ok(), %XX escapes allowed when
 * `escapes` is set. */
static bool valid_chars(const char *s, size_t n, bool (*ok)(unsigned char), bool escapes)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && escapes) {
            if (n - i < 3 || http_hex_value((unsigned char)s[i + 1]) < 0 ||
                http_hex_value((unsigned char)s[i + 2]) < 0)
                return false;
            i += 2;
        } else if (!ok(c)) {
            return false;
        }
    }
    return true;
}

/* The next element of the comma-separated list s[0..n), from *at: its
 * bounds with the white space around it trimmed.  False past the end. */
static bool next_element(const char *s, size_t n, size_t *at, size_t *start, size_t *end)
{
    size_t b = *at, e;
    if (b > n)
        return false;
    e = b;
    while (e < n && s[e] != ',')
        e++;
    *at = e + 1;
    while (b < e && http_is_blank((unsigned char)s[b]))
        b++;
    while (e > b && http_is_blank((unsigned char)s[e - 1]))
        e--;
    *start = b;
    *end = e;
    return true;
}

/* ----------------------------------------------------------- set-up */

static void parser_init(http_parser *p, const http_limits *lim, uint8_t kind)
{
    memset(p, 0, sizeof *p);
    if (lim) {
        p->lim = *lim;
    } else {
        p->lim.max_line = HTTP_MAX_LINE;
        p->lim.max_head = HTTP_MAX_HEAD;
        p->lim.max_fields = HTTP_MAX_FIELDS;
    }
    p->kind = kind;
    p->state = S_START;
    p->at = L_LINE_START;
    p->msg.content_length = HTTP_NO_LENGTH;
}

void http_request_parser_init(http_parser *p, const http_limits *lim)
{
    parser_init(p, lim, KIND_REQUEST);
}

void http_response_parser_init(http_parser *p, const http_limits *lim)
{
    parser_init(p, lim, KIND_RESPONSE);
}

static int fail(http_parser *p, int status, const char *why)
{
    p->state = S_ERROR;
    p->error = status;
    p->why = why;
    return HTTP_ERROR;
}

/* ------------------------------------------------ the request-target */

/* The path of a whole target, without its query: the bytes were checked as
 * they came, so this only finds where it lies.  "*" and an authority have
 * none; "http://host" and "http://host?q" ask for "/" (an empty path). */
static void target_path(http_parser *p, const char *buf)
{
    http_message *m = &p->msg;
    size_t at = m->target_off, end = m->target_off + m->target_len;
    const char *q;
    if (p->form == T_ABS_AUTH || p->form == T_ABS_PATH) {
        at = (size_t)((const char *)memchr(buf + at, ':', end - at) - buf) + 3;
        while (at < end && buf[at] != '/' && buf[at] != '?')
            at++;
    } else if (p->form != T_ORIGIN) {
        at = end;
    }
    m->path_off = p->form == T_STAR || p->form == T_AUTHORITY ? m->target_off : at;
    q = memchr(buf + at, '?', end - at);
    m->path_len = q ? (size_t)(q - buf) - at : end - at;
}

/* 1*DIGIT; more than 18 significant digits is HTTP_HUGE_LENGTH. */
static int parse_length(http_parser *p, const char *v, size_t n)
{
    int64_t value = 0;
    size_t i, digits = 0;
    if (n == 0)
        return fail(p, 400, "a bad Content-Length");
    for (i = 0; i < n; i++) {
        if (!http_is_digit((unsigned char)v[i]))
            return fail(p, 400, "a bad Content-Length");
        if (digits > 0 || v[i] != '0')
            digits++;
        if (digits <= 18)
            value = value * 10 + (v[i] - '0');
    }
    if (digits > 18)
        value = HTTP_HUGE_LENGTH;
    if (p->msg.content_length != HTTP_NO_LENGTH && p->msg.content_length != value)
        return fail(p, 400, "two different Content-Lengths");
    p->msg.content_length = value;
    return HTTP_MORE;
}

/* Transfer-Encoding: only "chunked", alone, is understood; a list is
 * remembered to be refused (or, in a response, read until the close). */
static int parse_transfer_encoding(http_parser *p, const char *v, size_t n)
{
    size_t at = 0, b, e;
    p->te_seen = true;
    while (next_element(v, n, &at, &b, &e)) {
        if (b == e)
            continue;
        if (!valid_chars(v + b, e - b, http_is_tchar, false))
            return fail(p, 400, "a bad Transfer-Encoding");
        if (p->te_codings < UINT8_MAX)
            p->te_codings++;
        p->te_chunked_last = http_same_ci(v + b, e - b, "chunked");
    }
    return HTTP_MORE;
}

/* Connection: the options "close" and "keep-alive"; others are ignored. */
static int parse_connection(http_parser *p, const char *v, size_t n)
{
    size_t at = 0, b, e;
    while (next_element(v, n, &at, &b, &e)) {
        if (b == e)
            continue;
        if (!valid_chars(v + b, e - b, http_is_tchar, false))
            return fail(p, 400, "a bad Connection option");
        if (http_same_ci(v + b, e - b, "close"))
            p->connection_close = true;
        else if (http_same_ci(v + b, e - b, "keep-alive"))
            p->connection_keep_alive = true;
    }
    return HTTP_MORE;
}

/* The fields that change how the message is read. */
static int known_field(http_parser *p, const char *name, size_t nlen, const char *v, size_t n)
{
    bool request = p->kind == KIND_REQUEST;
    if (http_same_ci(name, nlen, "content-length"))
        return parse_length(p, v, n);
    if (http_same_ci(name, nlen, "transfer-encoding"))
        return parse_transfer_encoding(p, v, n);
    if (http_same_ci(name, nlen, "connection"))
        return parse_connection(p, v, n);
    if (request && http_same_ci(name, nlen, "host")) {
        if (++p->hosts > 1)
            return fail(p, 400, "two Host fields");
        if (!valid_chars(v, n, is_authority_char, true))
            return fail(p, 400, "a bad Host");
    } else if (request && http_same_ci(name, nlen, "expect")) {
        if (!http_same_ci(v, n, "100-continue"))
            return fail(p, 417, "an Expect other than 100-continue");
        p->msg.expect_continue = true;
    }
    return HTTP_MORE;
}

/* The empty line: what the fields say together. */
static int finish_request(http_parser *p)
{
    http_message *m = &p->msg;
    if (m->minor >= 1 && p->hosts == 0)
        return fail(p, 400, "no Host field");
    if (p->te_seen) {
        if (m->content_length != HTTP_NO_LENGTH)
            return fail(p, 400, "both Content-Length and Transfer-Encoding");
        if (m->minor == 0)
            return fail(p, 400, "Transfer-Encoding in an HTTP/1.0 request");
        if (p->te_codings == 0)
            return fail(p, 400, "an empty Transfer-Encoding");
        if (p->te_codings != 1 || !p->te_chunked_last)
            return fail(p, 501, "a transfer coding other than chunked");
        m->chunked = true;
    }
    return HTTP_DONE;
}

/* A response's body: chunked, a Content-Length, or up to the close. */
static int finish_response(http_parser *p)
{
    http_message *m = &p->msg;
    if (p->te_seen) {
        /* Transfer-Encoding overrides Content-Length (RFC 9112 6.3) */
        m->content_length = HTTP_NO_LENGTH;
        if (p->te_codings >= 1 && p->te_chunked_last)
            m->chunked = true;
        else
            m->until_close = true;
    }
    return HTTP_DONE;
}

static int finish(http_parser *p, size_t head_len)
{
    http_message *m = &p->msg;
    int rc;
    m->head_len = head_len;
    rc = p->kind == KIND_REQUEST ? finish_request(p) : finish_response(p);
    if (rc < 0)
        return rc;
    m->keep_alive = !p->connection_close && (m->minor >= 1 || p->connection_keep_alive) &&
                    !m->until_close;
    p->state = S_DONE;
    return HTTP_DONE;
}


/* ---------------------------------------------- the first line, bytewise */

/* A byte of "HTTP/" DIGIT "." DIGIT: a major version other than 1 is
 * known, and refused, at its digit.  `bad` is the status for a malformed
 * version (400 in a request, 502 in a response). */
static int version_byte(http_parser *p, unsigned char c, int bad)
{
    uint8_t i = p->count++;
    if (i < 5 && c == (unsigned char)"HTTP/"[i])
        return HTTP_MORE;
    if (i == 5 && http_is_digit(c))
        return c == '1' ? HTTP_MORE : fail(p, 505, "an HTTP version other than 1.x");
    if (i == 6 && c == '.')
        return HTTP_MORE;
    if (i == 7 && http_is_digit(c)) {
        p->msg.minor = c - '0';
        return HTTP_MORE;
    }
    return fail(p, bad, "a bad HTTP version");
}

/* An unescaped byte of the target passing ok(), or the '%' of an escape. */
static int uri_byte(http_parser *p, unsigned char c, bool (*ok)(unsigned char))
{
    if (c == '%') {
        p->pct = 2;
        return HTTP_MORE;
    }
    return ok(c) ? HTTP_MORE : fail(p, 400, "a character not allowed in a request-target");
}

/* A byte of an absolute-form target's scheme: a prefix of "https", then ':'. */
static int scheme_byte(http_parser *p, unsigned char c)
{
    if (c == ':' && p->count >= 4) {
        p->form = T_SLASHES;
        p->count = 0;
        return HTTP_MORE;
    }
    if (p->count < 5 && http_lower(c) == (unsigned char)"https"[p->count]) {
        p->count++;
        return HTTP_MORE;
    }
    return fail(p, 400, "a bad request-target");
}

/* The first byte of the target decides its form (RFC 9112 3.2). */
static int target_first(http_parser *p, const char *buf, unsigned char c)
{
    const char *method = buf + p->msg.method_off;
    size_t n = p->msg.method_len;
    if (c == '/') {
        p->form = T_ORIGIN;
        return HTTP_MORE;
    }
    if (c == '*') {
        p->form = T_STAR;
        return http_same(method, n, "OPTIONS") ? HTTP_MORE
                                               : fail(p, 400, "'*' is a target for OPTIONS only");
    }
    if (http_same(method, n, "CONNECT")) {
        p->form = T_AUTHORITY;
        return is_authority_char(c) ? HTTP_MORE : fail(p, 400, "a bad authority for CONNECT");
    }
    p->form = T_SCHEME;
    p->count = 0;
    return scheme_byte(p, c);
}

/* A byte of the request-target, but the space that ends it. */
static int target_byte(http_parser *p, const char *buf, unsigned char c)
{
    if (p->pct > 0) {
        p->pct--;
        return http_hex_value(c) >= 0 ? HTTP_MORE : fail(p, 400, "a bad %-escape in a request-target");
    }
    switch (p->form) {
    case T_FIRST:
        return target_first(p, buf, c);
    case T_ORIGIN:
    case T_ABS_PATH:
        return uri_byte(p, c, is_uri_char);
    case T_STAR:
        return fail(p, 400, "a bad request-target");
    case T_AUTHORITY:
        return is_authority_char(c) ? HTTP_MORE : fail(p, 400, "a bad authority for CONNECT");
    case T_SCHEME:
        return scheme_byte(p, c);
    case T_SLASHES:
        if (c != '/')
            return fail(p, 400, "a bad request-target");
        if (++p->count == 2)
            p->form = T_ABS_AUTH, p->count = 0;
        return HTTP_MORE;
    default: /* T_ABS_AUTH */
        if (c == '/' || c == '?') {
            p->form = T_ABS_PATH;
            return p->count ? HTTP_MORE : fail(p, 400, "a bad authority in the request-target");
        }
        p->count = 1;
        if (c == '%')
            return uri_byte(p, c, is_authority_char);
        return is_authority_char(c) ? HTTP_MORE
                                    : fail(p, 400, "a bad authority in the request-target");
    }
}

/* The space after the target: the target is whole. */
static int target_end(http_parser *p, const char *buf, size_t i)
{
    http_message *m = &p->msg;
    if (i == m->target_off)
        return fail(p, 400, "an empty request-target");
    if (p->form == T_SCHEME || p->form == T_SLASHES)
        return fail(p, 400, "a bad request-target");
    if (p->form == T_ABS_AUTH && p->count == 0)
        return fail(p, 400, "a bad authority in the request-target");
    m->target_len = i - m->target_off;
    target_path(p, buf);
    p->at = L_VERSION;
    p->count = 0;
    return HTTP_MORE;
}

/* The method's end: the space before the target. */
static int method_end(http_parser *p, const char *buf, size_t i)
{
    http_message *m = &p->msg;
    m->method_len = i - m->method_off;
    if (http_same(buf + m->method_off, m->method_len, "GET"))
        m->method = HTTP_METHOD_GET;
    else if (http_same(buf + m->method_off, m->method_len, "HEAD"))
        m->method = HTTP_METHOD_HEAD;
    m->target_off = i + 1;
    p->at = L_TARGET;
    p->form = T_FIRST;
    return HTTP_MORE;
}

/* method SP request-target SP HTTP-version, a byte at a time. */
static int request_byte(http_parser *p, const char *buf, size_t i)
{
    unsigned char c = (unsigned char)buf[i];
    switch (p->at) {
    case L_LINE_START:
        if (c == '\r' || c == '\n')
            return LINE_END; /* an empty line before the request line */
        p->at = L_METHOD;
        p->msg.method_off = i;
        return http_is_tchar(c) ? HTTP_MORE : fail(p, 400, "a bad method");
    case L_METHOD:
        if (http_is_tchar(c))
            return HTTP_MORE;
        return c == ' ' ? method_end(p, buf, i) : fail(p, 400, "a bad method");
    case L_TARGET:
        if (c == ' ' && p->pct == 0)
            return target_end(p, buf, i);
        return target_byte(p, buf, c);
    default: /* L_VERSION */
        if (p->count == 8)
            return c == '\r' || c == '\n' ? LINE_END : fail(p, 400, "a bad HTTP version");
        return version_byte(p, c, 400);
    }
}

/* HTTP-version SP 3DIGIT [ SP reason-phrase ], a byte at a time; the space
 * before an empty reason may be missing, as some servers leave it out. */
static int status_byte(http_parser *p, unsigned char c)
{
    switch (p->at) {
    case L_LINE_START:
        if (c == '\r' || c == '\n')
            return LINE_END;
        p->at = L_STATUS_VERSION;
        return version_byte(p, c, 502);
    case L_STATUS_VERSION:
        if (p->count < 8)
            return version_byte(p, c, 502);
        p->at = L_STATUS_CODE;
        p->count = 0;
        return c == ' ' ? HTTP_MORE : fail(p, 502, "a bad status line");
    case L_STATUS_CODE:
        if (p->count == 3) {
            p->at = L_REASON;
            if (c == '\r' || c == '\n')
                return LINE_END;
            return c == ' ' ? HTTP_MORE : fail(p, 502, "a bad status code");
        }
        /* a first digit of 0 is a status under 100: refused at once */
        if (!http_is_digit(c) || (p->count == 0 && c == '0'))
            return fail(p, 502, "a bad status code");
        p->msg.status = p->msg.status * 10 + (c - '0');
        p->count++;
        return HTTP_MORE;
    default: /* L_REASON */
        if (c == '\r' || c == '\n')
            return LINE_END;
        return http_is_field_char(c) ? HTTP_MORE
                                     : fail(p, 502, "a control character in the reason phrase");
    }
}

/* ------------------------------------------------- field lines, bytewise */

/* field-name ":" OWS field-value OWS, a byte at a time. */
static int field_byte(http_parser *p, size_t i, unsigned char c)
{
    switch (p->at) {
    case L_FIELD_START:
        if (c == '\r' || c == '\n')
            return LINE_END; /* the empty line that ends the head */
        if (http_is_blank(c))
            return fail(p, 400, "obsolete line folding");
        if (++p->msg.fields > p->lim.max_fields)
            return fail(p, 431, "too many header fields");
        p->at = L_NAME;
        return http_is_tchar(c) ? HTTP_MORE : fail(p, 400, "a bad header field name");
    case L_NAME:
        if (http_is_tchar(c))
            return HTTP_MORE;
        if (c != ':' || i == p->line)
            return fail(p, 400, "a bad header field name");
        p->colon = i;
        p->at = L_VALUE;
        return HTTP_MORE;
    default: /* L_VALUE */
        if (c == '\r' || c == '\n')
            return LINE_END;
        return http_is_field_char(c) ? HTTP_MORE
                                     : fail(p, 400, "a control character in a header field");
    }
}

/* A field line is whole, its content ending at `end`: what it means. */
static int field_value(http_parser *p, const char *buf, size_t end)
{
    size_t vs = p->colon + 1, ve = end;
    while (vs < ve && http_is_blank((unsigned char)buf[vs]))
        vs++;
    while (ve > vs && http_is_blank((unsigned char)buf[ve - 1]))
        ve--;
    return known_field(p, buf + p->line, p->colon - p->line, buf + vs, ve - vs);
}

/* A line ended: its content is [p->line, end), and the next starts at next. */
static int line_end(http_parser *p, const char *buf, size_t end, size_t next)
{
    int rc;
    p->cr = false;
    if (p->state == S_START) {
        /* empty lines before the first line are skipped (RFC 9112 2.2) */
        if (p->at != L_LINE_START)
            p->state = S_FIELDS;
    } else if (p->at == L_FIELD_START) {
        return finish(p, next);
    } else if ((rc = field_value(p, buf, end)) != HTTP_MORE) {
        return rc;
    }
    p->line = next;
    p->at = p->state == S_START ? L_LINE_START : L_FIELD_START;
    return HTTP_MORE;
}

/* The limits, before byte i: of two crossed at the same byte, the line's
 * is reported.  The CR LF that ends the first line is not part of it. */
static int check_limits(http_parser *p, size_t i, unsigned char c)
{
    if (p->state == S_START && !p->cr && c != '\r' && c != '\n' && i - p->line >= p->lim.max_line)
        return fail(p, 414,
                    p->kind == KIND_REQUEST ? "request line too long" : "status line too long");
    if (i >= p->lim.max_head)
        return fail(p, 431, "head too large");
    return HTTP_MORE;
}

/* Byte i: the grammar, then CR LF (or a bare LF, when allowed). */
static int head_byte(http_parser *p, const char *buf, size_t i)
{
    unsigned char c = (unsigned char)buf[i];
    int rc = check_limits(p, i, c);
    if (rc != HTTP_MORE)
        return rc;
    if (p->cr)
        return c == '\n' ? line_end(p, buf, i - 1, i + 1) : fail(p, 400, "a CR not followed by LF");
    if (p->state == S_FIELDS)
        rc = field_byte(p, i, c);
    else
        rc = p->kind == KIND_REQUEST ? request_byte(p, buf, i) : status_byte(p, c);
    if (rc != LINE_END)
        return rc;
    if (c == '\r') {
        p->cr = true;
        return HTTP_MORE;
    }
    /* RFC 9112 2.2 allows a bare LF; strict is the default (http_parse.h) */
    return p->lenient_lf ? line_end(p, buf, i, i + 1) : fail(p, 400, "a bare LF as a line end");
}

/* The bytes of a field value that can only go on, up to the head limit:
 * most of a head, taken without the per-byte steps (which they would pass). */
static void skim_value(http_parser *p, const char *buf, size_t len)
{
    size_t end = len < p->lim.max_head ? len : p->lim.max_head;
    while (p->pos < end && http_is_field_char((unsigned char)buf[p->pos]))
        p->pos++;
}

/* The same for a method, a field name, an origin-form target (up to a
 * '%', whose escape the per-byte steps check) and an "HTTP/1.x" version:
 * the bytes the per-byte steps would pass changing nothing, within both
 * limits (the line's too on the first line), so that any byte that could
 * fail still meets its step. */
static void skim_token(http_parser *p, const char *buf, size_t len)
{
    size_t end = len < p->lim.max_head ? len : p->lim.max_head;
    bool request_line = p->state == S_START && p->kind == KIND_REQUEST;
    if (p->state == S_START && p->line + p->lim.max_line < end)
        end = p->line + p->lim.max_line; /* (wrapped past SIZE_MAX: no skim, still right) */
    if ((p->state == S_FIELDS && p->at == L_NAME) || (request_line && p->at == L_METHOD)) {
        while (p->pos < end && http_is_tchar((unsigned char)buf[p->pos]))
            p->pos++;
    } else if (request_line && p->at == L_TARGET && p->pct == 0 &&
               (p->form == T_ORIGIN || p->form == T_ABS_PATH)) {
        while (p->pos < end && buf[p->pos] != '%' && is_uri_char((unsigned char)buf[p->pos]))
            p->pos++;
    } else if (request_line && p->at == L_VERSION && p->count == 0 && p->pos + 8 <= end &&
               memcmp(buf + p->pos, "HTTP/1.", 7) == 0 &&
               http_is_digit((unsigned char)buf[p->pos + 7])) {
        p->msg.minor = buf[p->pos + 7] - '0';
        p->count = 8;
        p->pos += 8;
    }
}

int http_parse(http_parser *p, const char *buf, size_t len)
{
    while (p->state != S_DONE && p->state != S_ERROR && p->pos < len) {
        int rc;
        if (!p->cr) {
            if (p->at == L_VALUE)
                skim_value(p, buf, len);
            else
                skim_token(p, buf, len);
            if (p->pos == len)
                break;
        }
        if ((rc = head_byte(p, buf, p->pos++)) != HTTP_MORE)
            return rc;
    }
    return p->state == S_DONE ? HTTP_DONE : p->state == S_ERROR ? HTTP_ERROR : HTTP_MORE;
}
