/*
 * tls.c -- HTTPS in the HTTP samples (suite `https`): the server run with
 * --cert/--key and fetched by the client sample over TLS (and by curl,
 * where installed, to check every byte of a large file), with the
 * certificate verified against a CA the test makes with the openssl
 * program at run time; then what must fail, and how: a certificate the
 * client does not trust, one for another host, --insecure taking either,
 * plain HTTP to the HTTPS port (a 400 in the clear), HTTPS to a plain
 * port, a handshake nobody answers, a silent TLS client, bad certificate
 * files.  Nothing leaves the machine.
 *
 * Built without OpenSSL (CORIO_TLS_MISSING), only the last test is here:
 * both samples must refuse HTTPS with a clear message.
 */
#include "harness.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Runs argv (NULL-ended) with its stderr sent to its stdout, where the
 * test reads it: its output and status. */
static char *run_with_stderr(const char *const *argv, int *status)
{
    const char *sh[40] = {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1"};
    size_t n = 3;
    while (*argv && n < 39)
        sh[n++] = *argv++;
    sh[n] = NULL;
    return run_program(sh, status);
}

/* Runs the client sample with `args` (NULL-ended): its output and status. */
static char *client(int *status, const char *const *args)
{
    const char *argv[40];
    client_argv(argv, args);
    return run_with_stderr(argv, status);
}
#define CLIENT(status, ...) client((status), (const char *const[]){__VA_ARGS__, NULL})

#ifndef CORIO_TLS_MISSING

static char dir[64];
static char ca[128], cert[128], key[128], other_cert[128], other_key[128];

/* A CA; a server certificate it signs for localhost and 127.0.0.1; and
 * one it signs for another name only. */
static void make_certs(void)
{
    char cmd[2048];
    snprintf(dir, sizeof dir, "/tmp/corio-https-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(cert, sizeof cert, "%s/server.pem", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    snprintf(other_cert, sizeof other_cert, "%s/other.pem", dir);
    snprintf(other_key, sizeof other_key, "%s/other.key", dir);
    snprintf(cmd, sizeof cmd,
             "cd %s && exec >log 2>&1 && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout ca.key -out ca.pem -days 2 -subj /CN=corio-https-test-ca && "
             "for n in server other; do "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout $n.key -out $n.csr -subj /CN=$n || exit 1; done && "
             "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > server.cnf && "
             "printf 'subjectAltName=DNS:other.example\\n' > other.cnf && "
             "for n in server other; do "
             "openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-out $n.pem -days 2 -extfile $n.cnf || exit 1; done",
             dir);
    cr_assert_eq(system(cmd), 0, "openssl could not make the test certificates (see %s/log)",
                 dir);
}

static void https_setup(void)
{
    http_setup();
    make_certs();
}

static void https_teardown(void)
{
    char cmd[128];
    http_teardown();
    if (dir[0]) {
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        cr_assert_eq(system(cmd), 0);
    }
}

TestSuite(https, .init = https_setup, .fini = https_teardown, .timeout = 30);

/* "https://HOST:PORT" + path, for the running server (a static buffer each). */
static const char *at(int which, const char *host, const char *path)
{
    static char urls[4][160];
    snprintf(urls[which], sizeof urls[which], "https://%s:%d%s", host, srv.port, path);
    return urls[which];
}

static void serve_tls(const char *certfile, const char *keyfile)
{
    server_start(SERVER_ARGS("--cert", certfile, "--key", keyfile, "--log"));
    cr_assert(srv.tls, "the server does not say https");
}

Test(https, the_client_fetches_over_verified_tls)
{
    int status;
    char *out;
    make_file("big.bin", 300000);
    serve_tls(cert, key);
    /* by name and by IP address, a file over several TLS records, a 404,
       on kept-alive connections: one for each name */
    out = CLIENT(&status, "--cafile", ca, "--keep-alive", "--connections", "1",
                 at(0, "localhost", "/"), at(1, "localhost", "/big.bin"),
                 at(2, "127.0.0.1", "/nope"));
    cr_assert_eq(status, 0, "%s", out);
    cr_assert(strstr(out, "200        13 "), "%s", out);
    cr_assert(strstr(out, "200    300000 "), "%s", out);
    cr_assert(strstr(out, "404 "), "%s", out);
    cr_assert(strstr(out, "3 URLs: 3 answered, 0 failed; 2 connections"), "%s", out);
    free(out);
    out = server_stop_output(SIGTERM, &status);
    cr_assert_eq(status, 0);
    cr_assert(strstr(out, "\"GET /big.bin HTTP/1.1\" 200 300000"), "log:\n%s", out);
    free(out);
}

Test(https, curl_gets_every_byte)
{
    const char *curl = program("CURL");
    char path[512], url[160], *out;
    const char *argv[16];
    FILE *f;
    size_t i, n = 0;
    int status, c;
    if (curl == NULL)
        cr_skip_test("curl is not installed (scripts/deps curl): the curl tests are not run");
    make_file("big.bin", 1000003);
    serve_tls(cert, key);
    snprintf(path, sizeof path, "%s/got.bin", dir);
    snprintf(url, sizeof url, "https://localhost:%d/big.bin", srv.port);
    argv[n++] = curl;
    argv[n++] = "--silent";
    argv[n++] = "--show-error";
    argv[n++] = "--max-time";
    argv[n++] = "10";
    argv[n++] = "--cacert";
    argv[n++] = ca;
    argv[n++] = "-o";
    argv[n++] = path;
    argv[n++] = url;
    argv[n] = NULL;
    out = run_program(argv, &status);
    cr_assert_eq(status, 0, "curl failed (%d): %s", status, out);
    free(out);
    f = fopen(path, "rb");
    cr_assert_not_null(f);
    for (i = 0; (c = getc(f)) != EOF; i++)
        cr_assert_eq((unsigned char)c, pattern_byte(i), "byte %zu differs", i);
    fclose(f);
    cr_assert_eq(i, 1000003u);
}

Test(https, an_untrusted_certificate_is_refused_unless_insecure)
{
    int status;
    char *out;
    serve_tls(cert, key);
    /* the system's store does not know the test's CA */
    out = CLIENT(&status, at(0, "127.0.0.1", "/"));
    cr_assert_eq(status, 1, "%s", out);
    cr_assert(strstr(out, "err "), "%s", out);
    cr_assert(strstr(out, "certificate not trusted: certificate verify failed"), "%s", out);
    free(out);
    out = CLIENT(&status, "--insecure", at(0, "127.0.0.1", "/hello"));
    cr_assert_eq(status, 0, "%s", out);
    cr_assert(strstr(out, "200        13 "), "%s", out);
    free(out);
    out = server_stop_output(SIGTERM, &status);
    cr_assert_eq(status, 0);
    cr_assert(strstr(out, "TLS handshake failed: "), "log:\n%s", out);
    cr_assert(strstr(out, "\"GET /hello HTTP/1.1\" 200 13"), "log:\n%s", out);
    free(out);
}

Test(https, a_certificate_for_another_host_is_refused)
{
    int status;
    char *out;
    serve_tls(other_cert, other_key);
    out = CLIENT(&status, "--cafile", ca, at(0, "127.0.0.1", "/"), at(1, "localhost", "/"));
    cr_assert_eq(status, 1, "%s", out);
    cr_assert(strstr(out, "0 answered, 2 failed"), "%s", out);
    cr_assert(strstr(out, "not for this host name: certificate verify failed: IP address mismatch"),
              "%s", out);
    cr_assert(strstr(out, "not for this host name: certificate verify failed: hostname mismatch"),
              "%s", out);
    free(out);
    out = CLIENT(&status, "--insecure", at(0, "localhost", "/"));
    cr_assert_eq(status, 0, "%s", out);
    free(out);
}

Test(https, plain_http_to_the_https_port_gets_a_400_in_the_clear)
{
    int status;
    char url[96], *out;
    peer p;
    response r;
    int base;
    serve_tls(cert, key);
    base = server_fds();
    p = peer_connect(srv.port);
    r = ask(&p, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false);
    cr_assert_eq(r.status, 400);
    cr_assert_str_eq(header(&r, "Connection"), "close");
    cr_assert(strstr(r.body, "speaks HTTPS"), "body: %s", r.body);
    cr_assert(peer_wait_eof(&p, WAIT_MS), "the server did not close");
    response_free(&r);
    peer_close(&p);
    /* the client sample sees that answer; the server goes on */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", srv.port);
    out = CLIENT(&status, "--cafile", ca, url, at(0, "127.0.0.1", "/"));
    cr_assert_eq(status, 0, "%s", out);
    cr_assert(strstr(out, "400        54 "), "%s", out);
    cr_assert(strstr(out, "200        13 "), "%s", out);
    free(out);
    cr_assert(server_fds_become(base), "%d fds open, %d before", server_fds(), base);
}

Test(https, https_to_a_plain_port_fails_cleanly)
{
    int status;
    char *out;
    server_start(NULL);
    cr_assert(!srv.tls);
    out = CLIENT(&status, "--cafile", ca, "--timeout-ms", "5000", at(0, "127.0.0.1", "/"));
    cr_assert_eq(status, 1, "%s", out);
    cr_assert(strstr(out, "TLS: protocol mismatch"), "%s", out);
    free(out);
    /* and the server still answers plain HTTP */
    {
        response r = get("/hello");
        cr_assert_eq(r.status, 200);
        response_free(&r);
    }
}

Test(https, a_handshake_that_never_ends_times_out_in_the_client)
{
    /* a listener that never accepts: the kernel completes the connection,
       and nobody ever answers the ClientHello */
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), status;
    char url[96], *out;
    cr_assert(lfd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(lfd, 4), 0);
    cr_assert_eq(getsockname(lfd, (struct sockaddr *)&a, &len), 0);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/", ntohs(a.sin_port));
    out = CLIENT(&status, "--cafile", ca, "--timeout-ms", "200", url);
    cr_assert_eq(status, 1, "%s", out);
    cr_assert(strstr(out, "(timed out)"), "%s", out);
    free(out);
    close(lfd);
}

Test(https, a_silent_tls_client_is_cut_off_and_a_stop_is_graceful)
{
    peer p;
    int64_t t0;
    int base;
    server_start(SERVER_ARGS("--cert", cert, "--key", key, "--header-timeout-ms", "200"));
    base = server_fds();
    p = peer_connect(srv.port);
    t0 = now_ms();
    cr_assert(peer_wait_eof(&p, WAIT_MS), "a client with no handshake was not closed");
    cr_assert_geq(now_ms() - t0, AT_LEAST(200));
    peer_close(&p);
    p = peer_connect(srv.port); /* half a handshake in flight when it stops */
    peer_send(&p, "\x16\x03\x01");
    cr_assert(server_fds_become(base + 1), "the connection was not accepted");
    cr_assert_eq(server_stop(SIGTERM), 0);
    peer_close(&p);
}

Test(https, bad_certificate_files_are_reported)
{
    const char *server = program("HTTP_SERVER");
    const char *argv[8] = {server, "--port", "0", "--cert", cert, "--key", NULL, NULL};
    char missing[160], *out;
    int status;
    cr_assert_not_null(server);
    snprintf(missing, sizeof missing, "%s/missing.pem", dir);
    argv[6] = other_key; /* a key that is not the certificate's */
    out = run_with_stderr(argv, &status);
    cr_assert_eq(status, 1, "%s", out);
    cr_assert(strstr(out, "cannot use --cert") && strstr(out, "key values mismatch"), "%s", out);
    free(out);
    argv[6] = missing;
    out = run_with_stderr(argv, &status);
    cr_assert_eq(status, 1, "%s", out);
    cr_assert(strstr(out, "No such file or directory"), "%s", out);
    free(out);
    argv[5] = NULL; /* --cert alone */
    out = run_with_stderr(argv, &status);
    cr_assert_eq(status, 2, "%s", out);
    cr_assert(strstr(out, "needs both --cert and --key"), "%s", out);
    free(out);
    out = CLIENT(&status, "--cafile", missing, "https://127.0.0.1:1/");
    cr_assert_eq(status, 1, "%s", out);
    cr_assert(strstr(out, "cannot set up TLS with --cafile") &&
                  strstr(out, "No such file or directory"),
              "%s", out);
    free(out);
}

#else /* corio built without OpenSSL */

TestSuite(https, .init = http_setup, .fini = http_teardown, .timeout = 30);

Test(https, without_openssl_both_samples_say_so)
{
    const char *argv[8] = {program("HTTP_SERVER"), "--port", "0", "--cert", "c.pem",
                           "--key", "k.pem", NULL};
    char *out;
    int status;
    cr_assert_not_null(argv[0]);
    out = run_with_stderr(argv, &status);
    cr_assert_eq(status, 1, "%s", out);
    cr_assert(strstr(out, "cannot serve HTTPS") && strstr(out, "built without OpenSSL"), "%s",
              out);
    free(out);
    out = CLIENT(&status, "https://127.0.0.1:1/", "http://127.0.0.1:1/");
    cr_assert_eq(status, 1, "%s", out);
    cr_assert(strstr(out, "https://127.0.0.1:1/  (TLS unavailable: corio was built without"),
              "%s", out);
    cr_assert(strstr(out, "Connection refused"), "%s", out); /* plain HTTP still works */
    free(out);
}

#endif
