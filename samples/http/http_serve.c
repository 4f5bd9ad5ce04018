/*
 * http_serve.c -- what the HTTP server sample needs besides parsing (see
 * http_parse.h): the mapping of a request path to a file under its root,
 * which refuses every way out of the root, and the helpers that write a
 * response head (reason phrases, content types, dates).
 */
#include "http_chars.h"
#include "http_parse.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------- paths to files */

/* Percent-decodes path[0..len) into out; its length, or a code. */
static int decode_path(const char *path, size_t len, char *out, size_t cap)
{
    size_t i, o = 0;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c == '%') {
            int hi, lo;
            if (len - i < 3 || (hi = http_hex_value((unsigned char)path[i + 1])) < 0 ||
                (lo = http_hex_value((unsigned char)path[i + 2])) < 0)
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
        if (http_same(out + s, e - s, ".") || http_same(out + s, e - s, ".."))
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
            if (http_same_ci(dot + 1, strlen(dot + 1), types[i].ext))
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

/* The Date of now, formatted again only when the second changes: a busy
 * server formats it once a second, not once a request.  Per thread, so
 * that heads can be made on any thread. */
static const char *date_now(void)
{
    static _Thread_local time_t cached = (time_t)-1;
    static _Thread_local char text[HTTP_DATE_SIZE];
    time_t now = time(NULL);
    if (now != cached) {
        http_format_date(text, now);
        cached = now;
    }
    return text;
}

/* A head being written: a cursor into out, which stops at the end. */
typedef struct head_out {
    char *p, *end;
    bool over; /* something did not fit */
} head_out;

static void put(head_out *o, const char *s, size_t n)
{
    if ((size_t)(o->end - o->p) < n) {
        o->over = true;
        return;
    }
    memcpy(o->p, s, n);
    o->p += n;
}

static void put_str(head_out *o, const char *s) { put(o, s, strlen(s)); }

/* A number >= 0 in decimal. */
static void put_number(head_out *o, int64_t v)
{
    char digits[20];
    size_t i = sizeof digits;
    do
        digits[--i] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    put(o, digits + i, sizeof digits - i);
}

/* Put together piece by piece, without printf: a head is made for every
 * response, and formatting it was most of a small response's cost. */
size_t http_response_head(char *out, size_t cap, int status, const char *type, int64_t length,
                          enum http_connection conn, const char *extra)
{
    head_out o = {out, out + cap, false};
    if (cap == 0)
        return 0;
    o.end--; /* room for the NUL */
    put_str(&o, "HTTP/1.1 ");
    put_number(&o, status < 0 ? 0 : status);
    put(&o, " ", 1);
    put_str(&o, http_reason(status));
    put_str(&o, "\r\nDate: ");
    put(&o, date_now(), HTTP_DATE_SIZE - 1);
    put_str(&o, "\r\nServer: corio-http\r\n");
    if (type) {
        put_str(&o, "Content-Type: ");
        put_str(&o, type);
        put_str(&o, "\r\n");
    }
    if (length >= 0) {
        put_str(&o, "Content-Length: ");
        put_number(&o, length);
        put_str(&o, "\r\n");
    }
    if (conn == HTTP_CLOSE)
        put_str(&o, "Connection: close\r\n");
    else if (conn == HTTP_KEEP_ALIVE)
        put_str(&o, "Connection: keep-alive\r\n");
    if (extra)
        put_str(&o, extra);
    put(&o, "\r\n", 2);
    if (o.over)
        return 0;
    *o.p = '\0';
    return (size_t)(o.p - out);
}
