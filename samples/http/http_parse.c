/*
 * http_parse.c -- the HTTP/1.1 head parser, the chunked-body decoder, the
 * path-to-file mapping and the response helpers of the HTTP samples (see
 * http_parse.h).  The grammar is RFC 9112's, read strictly: what a lenient
 * server would guess at (a space before a colon, a folded line, a bare CR,
 * two Content-Lengths that differ, Transfer-Encoding beside Content-Length)
 * is refused, because two servers that guess differently are how requests
 * get smuggled past a proxy.
 */
#include "http_parse.h"

#include <stdio.h>
#include <string.h>

enum { KIND_REQUEST, KIND_RESPONSE };
enum { S_START, S_FIELDS, S_DONE, S_ERROR };

/* ------------------------------------------------------- characters */

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static bool is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static int hex_value(unsigned char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 9110's tchar: what a method, a field name or a list token is made of. */
static bool is_tchar(unsigned char c)
{
    return is_digit(c) || is_alpha(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A byte of a field value: HTAB, SP, VCHAR and obs-text; no other control. */
static bool is_field_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }

/* What may stand unescaped in a path or a query: RFC 3986's pchar, '/', '?'. */
static bool is_uri_char(unsigned char c)
{
    return is_digit(c) || is_alpha(c) || (c != 0 && strchr("-._~!$&'()*+,;=:@/?", c) != NULL);
}

/* An authority (host, port, user info): unreserved, sub-delims, ':', '@' and
 * the brackets of an IPv6 literal. */
static bool is_authority_char(unsigned char c)
{
    return is_digit(c) || is_alpha(c) || (c != 0 && strchr("-._~!$&'()*+,;=:@[]", c) != NULL);
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Whether s[0..n) is `word`, ignoring ASCII case. */
static bool same_ci(const char *s, size_t n, const char *word)
{
    size_t i;
    if (strlen(word) != n)
        return false;
    for (i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != (unsigned char)word[i])
            return false;
    return true;
}

/* Whether s[0..n) is `word`, exactly. */
static bool same(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* Whether s[0..n) is made of chars passing ok(), %XX escapes allowed when
 * `escapes` is set. */
static bool valid_chars(const char *s, size_t n, bool (*ok)(unsigned char), bool escapes)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && escapes) {
            if (n - i < 3 || hex_value((unsigned char)s[i + 1]) < 0 ||
                hex_value((unsigned char)s[i + 2]) < 0)
                return false;
            i += 2;
        } else if (!ok(c)) {
            return false;
        }
    }
    return true;
}

/* ---------------------------------------------------------------- lists */

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
    while (b < e && (s[b] == ' ' || s[b] == '\t'))
        b++;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
        e--;
    *start = b;
    *end = e;
    return true;
}

/* ---------------------------------------------------------------- parser */

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

/*
 * The limits, for the line from p->line whose content (CR LF excluded) ends
 * at content_end and whose bytes so far end at bytes_end.  Of two limits
 * crossed, the one crossed at the earlier byte is reported, so that the
 * outcome does not depend on how the bytes were split into reads.  With
 * cr_pending the line's last byte is a CR that may yet start its CR LF:
 * if that byte decides which limit is crossed first, the answer waits for
 * the next byte.
 */
static int check_limits(http_parser *p, size_t content_end, size_t bytes_end, bool cr_pending)
{
    size_t line_at = SIZE_MAX; /* the first byte over the line limit */
    bool line_over, head_over;

    if (p->state == S_START && p->lim.max_line < SIZE_MAX - p->line)
        line_at = p->line + p->lim.max_line;
    line_over = content_end > line_at;
    head_over = bytes_end > p->lim.max_head;
    if (head_over && !line_over && cr_pending && content_end + 1 > line_at &&
        line_at <= p->lim.max_head)
        return HTTP_MORE; /* a CR that is content crosses the line limit first */
    if (line_over && (!head_over || line_at <= p->lim.max_head))
        return fail(p, 414,
                    p->kind == KIND_REQUEST ? "request line too long" : "status line too long");
    if (head_over)
        return fail(p, 431, "head too large");
    return HTTP_MORE;
}

/* "HTTP/" DIGIT "." DIGIT: only major version 1 is spoken here. */
static int parse_version(http_parser *p, const char *s, size_t n)
{
    if (n != 8 || memcmp(s, "HTTP/", 5) != 0 || !is_digit((unsigned char)s[5]) || s[6] != '.' ||
        !is_digit((unsigned char)s[7]))
        return fail(p, 400, "a bad HTTP version");
    if (s[5] != '1')
        return fail(p, 505, "an HTTP version other than 1.x");
    p->msg.minor = s[7] - '0';
    return HTTP_MORE;
}

/* The path and query of an origin-form target (or what follows the
 * authority of an absolute-form one), starting at `off`. */
static int parse_path(http_parser *p, const char *buf, size_t off, size_t end)
{
    const char *q;
    if (!valid_chars(buf + off, end - off, is_uri_char, true))
        return fail(p, 400, "a character not allowed in a request-target");
    q = memchr(buf + off, '?', end - off);
    p->msg.path_off = off;
    p->msg.path_len = q ? (size_t)(q - buf) - off : end - off;
    return HTTP_MORE;
}

/* scheme "://" authority [ path ] [ "?" query ], for http and https. */
static int parse_absolute(http_parser *p, const char *buf, size_t off, size_t end)
{
    size_t i = off, auth;
    while (i < end && (is_alpha((unsigned char)buf[i]) || is_digit((unsigned char)buf[i]) ||
                       buf[i] == '+' || buf[i] == '-' || buf[i] == '.'))
        i++;
    if (!(same_ci(buf + off, i - off, "http") || same_ci(buf + off, i - off, "https")) ||
        end - i < 3 || memcmp(buf + i, "://", 3) != 0)
        return fail(p, 400, "a bad request-target");
    auth = i + 3;
    i = auth;
    while (i < end && buf[i] != '/' && buf[i] != '?')
        i++;
    if (i == auth || !valid_chars(buf + auth, i - auth, is_authority_char, true))
        return fail(p, 400, "a bad authority in the request-target");
    if (i < end && buf[i] == '/')
        return parse_path(p, buf, i, end);
    /* "http://host" and "http://host?q" ask for "/" */
    if (!valid_chars(buf + i, end - i, is_uri_char, true))
        return fail(p, 400, "a character not allowed in a request-target");
    p->msg.path_off = i;
    p->msg.path_len = 0;
    return HTTP_MORE;
}

/* The four forms of RFC 9112 section 3.2. */
static int parse_target(http_parser *p, const char *buf)
{
    http_message *m = &p->msg;
    size_t off = m->target_off, end = m->target_off + m->target_len;
    const char *method = buf + m->method_off;

    if (buf[off] == '/')
        return parse_path(p, buf, off, end);
    if (m->target_len == 1 && buf[off] == '*') {
        if (!same(method, m->method_len, "OPTIONS"))
            return fail(p, 400, "'*' is a target for OPTIONS only");
        m->path_off = off;
        return HTTP_MORE;
    }
    if (same(method, m->method_len, "CONNECT")) {
        if (!valid_chars(buf + off, m->target_len, is_authority_char, false))
            return fail(p, 400, "a bad authority for CONNECT");
        m->path_off = off;
        return HTTP_MORE;
    }
    return parse_absolute(p, buf, off, end);
}

/* method SP request-target SP HTTP-version */
static int request_line(http_parser *p, const char *buf, size_t start, size_t end)
{
    http_message *m = &p->msg;
    size_t i = start, sp1, sp2;

    while (i < end && is_tchar((unsigned char)buf[i]))
        i++;
    if (i == start || i == end || buf[i] != ' ')
        return fail(p, 400, "a bad method");
    sp1 = i;
    sp2 = sp1 + 1;
    while (sp2 < end && buf[sp2] != ' ')
        sp2++;
    if (sp2 == end)
        return fail(p, 400, "no HTTP version");
    if (parse_version(p, buf + sp2 + 1, end - sp2 - 1) < 0)
        return HTTP_ERROR;
    m->method_off = start;
    m->method_len = sp1 - start;
    if (same(buf + start, m->method_len, "GET"))
        m->method = HTTP_METHOD_GET;
    else if (same(buf + start, m->method_len, "HEAD"))
        m->method = HTTP_METHOD_HEAD;
    m->target_off = sp1 + 1;
    m->target_len = sp2 - sp1 - 1;
    if (m->target_len == 0)
        return fail(p, 400, "an empty request-target");
    if (parse_target(p, buf) < 0)
        return HTTP_ERROR;
    p->state = S_FIELDS;
    return HTTP_MORE;
}

/* HTTP-version SP 3DIGIT [ SP reason-phrase ]; the space before an empty
 * reason may be missing, as some servers leave it out. */
static int status_line(http_parser *p, const char *buf, size_t start, size_t end)
{
    const char *s = buf + start;
    size_t n = end - start, i;

    if (n < 12 || s[8] != ' ' || (n > 12 && s[12] != ' '))
        return fail(p, 502, "a bad status line");
    if (parse_version(p, s, 8) < 0)
        return HTTP_ERROR;
    for (i = 9; i < 12; i++)
        if (!is_digit((unsigned char)s[i]))
            return fail(p, 502, "a bad status code");
    p->msg.status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    if (p->msg.status < 100)
        return fail(p, 502, "a bad status code");
    for (i = 12; i < n; i++)
        if (!is_field_char((unsigned char)s[i]))
            return fail(p, 502, "a control character in the reason phrase");
    p->state = S_FIELDS;
    return HTTP_MORE;
}

/* 1*DIGIT; more than 18 significant digits is HTTP_HUGE_LENGTH. */
static int parse_length(http_parser *p, const char *v, size_t n)
{
    int64_t value = 0;
    size_t i, digits = 0;
    if (n == 0)
        return fail(p, 400, "a bad Content-Length");
    for (i = 0; i < n; i++) {
        if (!is_digit((unsigned char)v[i]))
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
        if (!valid_chars(v + b, e - b, is_tchar, false))
            return fail(p, 400, "a bad Transfer-Encoding");
        if (p->te_codings < UINT8_MAX)
            p->te_codings++;
        p->te_chunked_last = same_ci(v + b, e - b, "chunked");
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
        if (!valid_chars(v + b, e - b, is_tchar, false))
            return fail(p, 400, "a bad Connection option");
        if (same_ci(v + b, e - b, "close"))
            p->connection_close = true;
        else if (same_ci(v + b, e - b, "keep-alive"))
            p->connection_keep_alive = true;
    }
    return HTTP_MORE;
}

/* The fields that change how the message is read. */
static int known_field(http_parser *p, const char *name, size_t nlen, const char *v, size_t n)
{
    bool request = p->kind == KIND_REQUEST;
    if (same_ci(name, nlen, "content-length"))
        return parse_length(p, v, n);
    if (same_ci(name, nlen, "transfer-encoding"))
        return parse_transfer_encoding(p, v, n);
    if (same_ci(name, nlen, "connection"))
        return parse_connection(p, v, n);
    if (request && same_ci(name, nlen, "host")) {
        if (++p->hosts > 1)
            return fail(p, 400, "two Host fields");
        if (!valid_chars(v, n, is_authority_char, true))
            return fail(p, 400, "a bad Host");
    } else if (request && same_ci(name, nlen, "expect")) {
        if (!same_ci(v, n, "100-continue"))
            return fail(p, 417, "an Expect other than 100-continue");
        p->msg.expect_continue = true;
    }
    return HTTP_MORE;
}

/* field-name ":" OWS field-value OWS */
static int field_line(http_parser *p, const char *buf, size_t start, size_t end)
{
    size_t colon = start, vs, ve, i;
    while (colon < end && is_tchar((unsigned char)buf[colon]))
        colon++;
    if (colon == start || colon == end || buf[colon] != ':')
        return fail(p, 400, "a bad header field name");
    vs = colon + 1;
    ve = end;
    while (vs < ve && (buf[vs] == ' ' || buf[vs] == '\t'))
        vs++;
    while (ve > vs && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t'))
        ve--;
    for (i = vs; i < ve; i++)
        if (!is_field_char((unsigned char)buf[i]))
            return fail(p, 400, "a control character in a header field");
    return known_field(p, buf + start, colon - start, buf + vs, ve - vs);
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

/* A whole line, [start, end) without its CR LF; the next one starts at next. */
static int on_line(http_parser *p, const char *buf, size_t start, size_t end, size_t next)
{
    if (memchr(buf + start, '\r', end - start))
        return fail(p, 400, "a CR not followed by LF");
    if (p->state == S_START) {
        /* empty lines before the request line are skipped (RFC 9112 2.2) */
        if (start == end)
            return HTTP_MORE;
        return p->kind == KIND_REQUEST ? request_line(p, buf, start, end)
                                       : status_line(p, buf, start, end);
    }
    if (start == end)
        return finish(p, next);
    if (buf[start] == ' ' || buf[start] == '\t')
        return fail(p, 400, "obsolete line folding");
    if (++p->msg.fields > p->lim.max_fields)
        return fail(p, 431, "too many header fields");
    return field_line(p, buf, start, end);
}

int http_parse(http_parser *p, const char *buf, size_t len)
{
    size_t end;
    if (p->state == S_DONE)
        return HTTP_DONE;
    if (p->state == S_ERROR)
        return HTTP_ERROR;
    while (p->pos < len) {
        const char *lf = memchr(buf + p->pos, '\n', len - p->pos);
        size_t next;
        int rc;
        if (lf == NULL)
            break;
        next = (size_t)(lf - buf) + 1;
        end = next - 1;
        if (end > p->line && buf[end - 1] == '\r') /* a bare LF ends a line too */
            end--;
        if ((rc = check_limits(p, end, next, false)) != HTTP_MORE)
            return rc;
        if ((rc = on_line(p, buf, p->line, end, next)) != HTTP_MORE)
            return rc;
        p->line = p->pos = next;
    }
    p->pos = len;
    /* the line so far: a CR at its end may yet be the CR of its CR LF */
    end = len;
    if (end > p->line && buf[end - 1] == '\r')
        end--;
    return check_limits(p, end, len, end < len);
}

/* ------------------------------------------------------ chunked bodies */

enum {
    C_SIZE,       /* the hex digits of a chunk size               */
    C_SIZE_BWS,   /* white space after them: ';' or the end next  */
    C_EXT,        /* extensions, up to the line's end             */
    C_SIZE_LF,    /* a CR ended the size line: LF must follow     */
    C_DATA,       /* `left` data bytes to go                      */
    C_DATA_END,   /* the CR LF after a chunk's data               */
    C_DATA_LF,
    C_TRAILER,    /* at the start of a trailer line (or the end)  */
    C_TRAILER_IN, /* inside a trailer line                        */
    C_TRAILER_LF,
    C_END_LF,     /* the final CR: LF must follow                 */
    C_DONE,
    C_FAILED
};

void http_chunked_init(http_chunked *c)
{
    memset(c, 0, sizeof *c);
    c->state = C_SIZE;
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

/* One byte of the size line: 1*HEXDIG [ BWS ";" chunk-ext ] CR LF. */
static int size_byte(http_chunked *c, unsigned char ch)
{
    bool blank = ch == ' ' || ch == '\t';
    if (++c->line > HTTP_MAX_CHUNK_LINE)
        return chunk_fail(c, "chunk size line too long");
    if (c->state == C_SIZE && hex_value(ch) >= 0) {
        if (++c->digits > 16)
            return chunk_fail(c, "chunk size too large");
        c->left = c->left * 16 + (uint64_t)hex_value(ch);
        return HTTP_MORE;
    }
    if (c->digits == 0)
        return chunk_fail(c, "a bad chunk size");
    if (ch == '\n')
        size_line_done(c);
    else if (ch == '\r')
        c->state = C_SIZE_LF;
    else if (c->state == C_EXT && !is_field_char(ch))
        return chunk_fail(c, "a control character in a chunk extension");
    else if (c->state == C_EXT)
        return HTTP_MORE;
    else if (ch == ';')
        c->state = C_EXT;
    else if (blank)
        c->state = C_SIZE_BWS;
    else
        return chunk_fail(c, "a bad chunk size");
    return HTTP_MORE;
}

/* One byte of a trailer line, or of the empty line that ends the body. */
static int trailer_byte(http_chunked *c, unsigned char ch)
{
    if (++c->trailer > HTTP_MAX_TRAILER)
        return chunk_fail(c, "trailer too large");
    if (c->state == C_TRAILER) {
        if (ch == '\n')
            c->state = C_DONE;
        else if (ch == '\r')
            c->state = C_END_LF;
        else if (is_tchar(ch))
            c->state = C_TRAILER_IN;
        else
            return chunk_fail(c, "a bad trailer field");
    } else if (ch == '\n') {
        c->state = C_TRAILER;
    } else if (ch == '\r') {
        c->state = C_TRAILER_LF;
    } else if (!is_field_char(ch)) {
        return chunk_fail(c, "a control character in a trailer field");
    }
    return HTTP_MORE;
}

/* One byte in any state but C_DATA. */
static int chunk_byte(http_chunked *c, unsigned char ch)
{
    switch (c->state) {
    case C_SIZE:
    case C_SIZE_BWS:
    case C_EXT:
        return size_byte(c, ch);
    case C_SIZE_LF:
        if (ch != '\n')
            return chunk_fail(c, "a CR not followed by LF");
        size_line_done(c);
        return HTTP_MORE;
    case C_DATA_END:
        if (ch == '\n')
            c->state = C_SIZE;
        else if (ch == '\r')
            c->state = C_DATA_LF;
        else
            return chunk_fail(c, "no CR LF after a chunk's data");
        return HTTP_MORE;
    case C_DATA_LF:
    case C_TRAILER_LF:
    case C_END_LF:
        if (ch != '\n')
            return chunk_fail(c, "a CR not followed by LF");
        c->state = c->state == C_DATA_LF ? C_SIZE : c->state == C_TRAILER_LF ? C_TRAILER : C_DONE;
        return HTTP_MORE;
    case C_TRAILER:
    case C_TRAILER_IN:
        return trailer_byte(c, ch);
    default:
        return chunk_fail(c, "decoder misused");
    }
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
                c->state = C_DATA_END;
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

/* ------------------------------------------------------- paths to files */

/* Percent-decodes path[0..len) into out; its length, or a code. */
static int decode_path(const char *path, size_t len, char *out, size_t cap)
{
    size_t i, o = 0;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c == '%') {
            int hi, lo;
            if (len - i < 3 || (hi = hex_value((unsigned char)path[i + 1])) < 0 ||
                (lo = hex_value((unsigned char)path[i + 2])) < 0)
                return HTTP_PATH_BAD;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        /* no control character reaches a file name (or a log) */
        if (c < 0x20 || c == 0x7F)
            return HTTP_PATH_BAD;
        if (o + 1 >= cap)
            return HTTP_PATH_LONG;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return (int)o;
}

int http_path_to_file(const char *path, size_t len, char *out, size_t cap)
{
    int n, verdict = 0;
    size_t r = 0, w = 0;

    if (cap == 0 || cap > (size_t)INT32_MAX)
        return HTTP_PATH_LONG;
    if (len > 0 && path[0] != '/')
        return HTTP_PATH_BAD;
    if ((n = decode_path(path, len, out, cap)) < 0)
        return n;
    /* the segments, joined again in place (w <= r): a ".." anywhere is a
       bad request, even after a hidden segment */
    while (r < (size_t)n) {
        size_t s, e;
        while (r < (size_t)n && out[r] == '/')
            r++;
        s = r;
        while (r < (size_t)n && out[r] != '/')
            r++;
        e = r;
        if (s == e)
            continue;
        if (same(out + s, e - s, ".") || same(out + s, e - s, ".."))
            return HTTP_PATH_BAD;
        if (out[s] == '.')
            verdict = HTTP_PATH_HIDDEN;
        if (w > 0)
            out[w++] = '/';
        memmove(out + w, out + s, e - s);
        w += e - s;
    }
    out[w] = '\0';
    return verdict ? verdict : (int)w;
}

/* ------------------------------------------------------------ responses */

const char *http_reason(int status)
{
    static const struct {
        int status;
        const char *reason;
    } reasons[] = {
        {100, "Continue"},
        {200, "OK"},
        {204, "No Content"},
        {301, "Moved Permanently"},
        {304, "Not Modified"},
        {400, "Bad Request"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {413, "Content Too Large"},
        {414, "URI Too Long"},
        {417, "Expectation Failed"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {505, "HTTP Version Not Supported"},
    };
    size_t i;
    for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "Unknown";
}

const char *http_content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"json", "application/json"},
        {"txt", "text/plain; charset=utf-8"},
        {"md", "text/markdown; charset=utf-8"},
        {"c", "text/plain; charset=utf-8"},
        {"h", "text/plain; charset=utf-8"},
        {"py", "text/plain; charset=utf-8"},
        {"csv", "text/csv; charset=utf-8"},
        {"xml", "application/xml"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"ico", "image/x-icon"},
        {"pdf", "application/pdf"},
        {"wasm", "application/wasm"},
        {"zip", "application/zip"},
        {"gz", "application/gzip"},
        {"tar", "application/x-tar"},
        {"mp3", "audio/mpeg"},
        {"mp4", "video/mp4"},
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
    };
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash + 1 : name, '.');
    size_t i;
    if (dot && dot[1] != '\0')
        for (i = 0; i < sizeof types / sizeof types[0]; i++)
            if (same_ci(dot + 1, strlen(dot + 1), types[i].ext))
                return types[i].type;
    return "application/octet-stream";
}

void http_format_date(char out[HTTP_DATE_SIZE], time_t t)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    /* days since 1970-01-01 to a civil date, in the proleptic Gregorian
       calendar: no gmtime, which is neither thread-safe nor in C11 */
    int64_t secs = (int64_t)t, day = secs / 86400, rem = secs % 86400;
    int64_t era, doe, yoe, doy, mp, d, m, y;
    int wday;
    char wide[64];
    if (rem < 0) {
        rem += 86400;
        day--;
    }
    wday = (int)((day % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
    day += 719468;                    /* from 0000-03-01 */
    era = (day >= 0 ? day : day - 146096) / 146097;
    doe = day - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = yoe + era * 400 + (m <= 2);
    /* years past 9999 would not fit: the buffer is sized for four digits */
    snprintf(wide, sizeof wide, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[wday], (int)d,
             months[m - 1], (int)(y % 10000), (int)(rem / 3600), (int)(rem / 60 % 60),
             (int)(rem % 60));
    memcpy(out, wide, HTTP_DATE_SIZE - 1);
    out[HTTP_DATE_SIZE - 1] = '\0';
}

size_t http_response_head(char *out, size_t cap, int status, const char *type, int64_t length,
                          enum http_connection conn, const char *extra)
{
    char date[HTTP_DATE_SIZE], type_line[128] = "", length_line[48] = "";
    int n;
    http_format_date(date, time(NULL));
    if (type)
        snprintf(type_line, sizeof type_line, "Content-Type: %s\r\n", type);
    if (length >= 0)
        snprintf(length_line, sizeof length_line, "Content-Length: %lld\r\n", (long long)length);
    n = snprintf(out, cap, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: corio-http\r\n%s%s%s%s\r\n",
                 status, http_reason(status), date, type_line, length_line,
                 conn == HTTP_CLOSE        ? "Connection: close\r\n"
                 : conn == HTTP_KEEP_ALIVE ? "Connection: keep-alive\r\n"
                                           : "",
                 extra ? extra : "");
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
