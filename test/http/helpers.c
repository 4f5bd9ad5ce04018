/*
 * helpers.c -- the HTTP samples' helpers that are not parsers (suite
 * `parse`): the mapping of request paths to files under the root, the
 * content types, the dates, and the response heads -- whole, cut at their
 * last byte, and with the Date that is formatted once a second (this file
 * defines time(), which the helpers then call, to move the second).
 */
#include "http/http_parse.h"

#include <criterion/criterion.h>

#include <string.h>
#include <time.h>

/* The wall clock the helpers see: the real one unless a test sets it. */
static time_t fake_now = (time_t)-1;

time_t time(time_t *t)
{
    struct timespec ts;
    time_t now = fake_now;
    if (now == (time_t)-1) {
        clock_gettime(CLOCK_REALTIME, &ts);
        now = ts.tv_sec;
    }
    if (t)
        *t = now;
    return now;
}

/* ------------------------------------------------------------ paths */

static void path_is(const char *path, int want, const char *file)
{
    char out[64];
    int n = http_path_to_file(path, strlen(path), out, sizeof out);
    cr_assert_eq(n, want, "%s gives %d, not %d", path, n, want);
    if (want >= 0)
        cr_assert_str_eq(out, file, "%s", path);
}

Test(parse, paths_to_files)
{
    path_is("", 0, "");
    path_is("/", 0, "");
    path_is("/a/b.txt", 7, "a/b.txt");
    path_is("//a///b/", 3, "a/b");
    path_is("/a%20b", 3, "a b");
    path_is("/caf%C3%A9", 5, "caf\xc3\xa9");
    path_is("/a..b", 4, "a..b");
    path_is("/a%2Fb", 3, "a/b");
}

Test(parse, paths_that_escape_or_hide)
{
    path_is("/..", HTTP_PATH_BAD, NULL);
    path_is("/../etc/passwd", HTTP_PATH_BAD, NULL);
    path_is("/a/../b", HTTP_PATH_BAD, NULL);
    path_is("/./a", HTTP_PATH_BAD, NULL);
    path_is("/%2e%2e/x", HTTP_PATH_BAD, NULL);
    path_is("/%2E./x", HTTP_PATH_BAD, NULL);
    path_is("/a%2F..%2Fb", HTTP_PATH_BAD, NULL);
    path_is("/.x/../y", HTTP_PATH_BAD, NULL);
    path_is("/%00", HTTP_PATH_BAD, NULL);
    path_is("/a%0ab", HTTP_PATH_BAD, NULL);
    path_is("/%7f", HTTP_PATH_BAD, NULL);
    path_is("/%", HTTP_PATH_BAD, NULL);
    path_is("/%4", HTTP_PATH_BAD, NULL);
    path_is("/%zz", HTTP_PATH_BAD, NULL);
    path_is("etc/passwd", HTTP_PATH_BAD, NULL);
    path_is("/.git/config", HTTP_PATH_HIDDEN, NULL);
    path_is("/a/.b", HTTP_PATH_HIDDEN, NULL);
    path_is("/...", HTTP_PATH_HIDDEN, NULL);
    path_is("/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            HTTP_PATH_LONG, NULL);
}

/* --------------------------------------------------------- responses */

Test(parse, content_types)
{
    cr_assert_str_eq(http_content_type("index.html"), "text/html; charset=utf-8");
    cr_assert_str_eq(http_content_type("a/b/PHOTO.JPG"), "image/jpeg");
    cr_assert_str_eq(http_content_type("x.tar.gz"), "application/gzip");
    cr_assert_str_eq(http_content_type("style.css"), "text/css; charset=utf-8");
    cr_assert_str_eq(http_content_type("data.json"), "application/json");
    cr_assert_str_eq(http_content_type("README"), "application/octet-stream");
    cr_assert_str_eq(http_content_type("file."), "application/octet-stream");
    cr_assert_str_eq(http_content_type("dir.html/file"), "application/octet-stream");
}

Test(parse, dates)
{
    static const struct {
        long long t;
        const char *text;
    } dates[] = {
        {0, "Thu, 01 Jan 1970 00:00:00 GMT"},
        {784111777, "Sun, 06 Nov 1994 08:49:37 GMT"},
        {951782400, "Tue, 29 Feb 2000 00:00:00 GMT"},
        {4102444800LL, "Fri, 01 Jan 2100 00:00:00 GMT"},
        {-1, "Wed, 31 Dec 1969 23:59:59 GMT"},
        {253402300799LL, "Fri, 31 Dec 9999 23:59:59 GMT"},
    };
    char out[HTTP_DATE_SIZE];
    size_t i;
    for (i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        http_format_date(out, (time_t)dates[i].t);
        cr_assert_str_eq(out, dates[i].text);
    }
}

Test(parse, response_heads)
{
    char out[512];
    size_t n = http_response_head(out, sizeof out, 404, "text/plain", 14, HTTP_CLOSE,
                                  "Allow: GET\r\n");
    cr_assert_gt(n, 0);
    cr_assert_eq(n, strlen(out));
    cr_assert(strncmp(out, "HTTP/1.1 404 Not Found\r\nDate: ", 30) == 0, "%s", out);
    cr_assert_not_null(strstr(out, "\r\nContent-Type: text/plain\r\n"));
    cr_assert_not_null(strstr(out, "\r\nContent-Length: 14\r\n"));
    cr_assert_not_null(strstr(out, "\r\nConnection: close\r\n"));
    cr_assert(strcmp(out + n - 14, "Allow: GET\r\n\r\n") == 0, "%s", out);
    n = http_response_head(out, sizeof out, 200, NULL, -1, HTTP_KEEP_ALIVE, NULL);
    cr_assert_not_null(strstr(out, "\r\nConnection: keep-alive\r\n"));
    cr_assert_null(strstr(out, "Content-Length"));
    cr_assert_null(strstr(out, "Content-Type"));
    cr_assert_eq(http_response_head(out, 40, 200, NULL, 0, HTTP_KEEP, NULL), 0,
                 "too small a buffer");
    cr_assert_str_eq(http_reason(431), "Request Header Fields Too Large");
    cr_assert_str_eq(http_reason(299), "Unknown");
}

Test(parse, a_response_head_whole_and_cut_at_its_end)
{
    static const char want[] = "HTTP/1.1 200 OK\r\n"
                               "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                               "Server: corio-http\r\n"
                               "Content-Type: text/html; charset=utf-8\r\n"
                               "Content-Length: 1234567890123\r\n"
                               "\r\n";
    char out[256];
    size_t n;
    fake_now = 784111777;
    n = http_response_head(out, sizeof out, 200, "text/html; charset=utf-8", 1234567890123,
                           HTTP_KEEP, NULL);
    cr_assert_str_eq(out, want);
    cr_assert_eq(n, sizeof want - 1);
    /* the head and its NUL fit exactly; one byte less, and it does not */
    cr_assert_eq(http_response_head(out, sizeof want, 200, "text/html; charset=utf-8",
                                    1234567890123, HTTP_KEEP, NULL),
                 sizeof want - 1);
    cr_assert_str_eq(out, want);
    cr_assert_eq(http_response_head(out, sizeof want - 1, 200, "text/html; charset=utf-8",
                                    1234567890123, HTTP_KEEP, NULL),
                 0);
    cr_assert_eq(http_response_head(out, 0, 200, NULL, 0, HTTP_KEEP, NULL), 0);
    n = http_response_head(out, sizeof out, 413, NULL, 0, HTTP_CLOSE, NULL);
    cr_assert_str_eq(out, "HTTP/1.1 413 Content Too Large\r\n"
                          "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                          "Server: corio-http\r\n"
                          "Content-Length: 0\r\n"
                          "Connection: close\r\n"
                          "\r\n");
    cr_assert_eq(n, strlen(out));
}

/* The Date is formatted once a second and kept: the same second gives the
 * same text, the next second (or a clock set back) a new one. */
Test(parse, the_date_follows_the_second)
{
    char out[256];
    fake_now = 784111777;
    http_response_head(out, sizeof out, 200, NULL, -1, HTTP_KEEP, NULL);
    cr_assert_not_null(strstr(out, "\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"), "%s", out);
    http_response_head(out, sizeof out, 200, NULL, -1, HTTP_KEEP, NULL);
    cr_assert_not_null(strstr(out, "\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"), "%s", out);
    fake_now++;
    http_response_head(out, sizeof out, 200, NULL, -1, HTTP_KEEP, NULL);
    cr_assert_not_null(strstr(out, "\r\nDate: Sun, 06 Nov 1994 08:49:38 GMT\r\n"), "%s", out);
    fake_now = 0;
    http_response_head(out, sizeof out, 200, NULL, -1, HTTP_KEEP, NULL);
    cr_assert_not_null(strstr(out, "\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n"), "%s", out);
}
