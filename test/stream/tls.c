/*
 * tls.c -- TLS over streams, against the suite's own TLS server, with a CA
 * and a server certificate (for localhost and 127.0.0.1) that the openssl
 * program makes at run time in a temporary directory: the handshake, lines
 * and 256 KiB each way with every byte checked, close_notify read as end
 * of stream, and the failures -- an untrusted certificate, a wrong host
 * name, a peer that does not speak TLS, bad files -- each with its code
 * and OpenSSL's reason.  Nothing leaves the machine.
 */
#include "st.h"

#include <corio/tls.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static char ca[128], cert[128], key[128], other_key[128];

static void make_certs(void)
{
    char cmd[2048];
    net_reset();
    snprintf(dir, sizeof dir, "/tmp/corio-tls-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(cert, sizeof cert, "%s/server.pem", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    snprintf(other_key, sizeof other_key, "%s/other.key", dir);
    snprintf(cmd, sizeof cmd,
             "cd %s && exec >log 2>&1 && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout ca.key -out ca.pem -days 2 -subj /CN=corio-test-ca && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout server.key -out server.csr -subj /CN=localhost && "
             "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext.cnf && "
             "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-out server.pem -days 2 -extfile ext.cnf && "
             "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key",
             dir);
    cr_assert_eq(system(cmd), 0, "openssl could not make the test certificates (see %s/log)",
                 dir);
}

static void remove_certs(void)
{
    char cmd[128];
    if (dir[0]) {
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        cr_assert_eq(system(cmd), 0);
    }
}

TestSuite(tls, .init = make_certs, .fini = remove_certs, .timeout = 60);

#define BULK (256u << 10)

/* ------------------------------------------------------------- server */

typedef struct tls_server {
    co_gen gen;
    co_stream *s;
    co_tls *ctx;
    unsigned char *want;
    int handshake, eof;
} tls_server;

/* Handshake; echo a line; read BULK bytes and send them back; then the
 * client's close_notify must read as end of stream. */
static int tls_server_fn(co_gen *g)
{
    tls_server *self = (tls_server *)g;
    CO_BEGIN(self);
    cr_assert_eq(co_stream_start_tls(self->s, self->ctx, NULL), 0);
    CO_TLS_HANDSHAKE(self, s);
    self->handshake = (int)self->s->result;
    if (self->handshake < 0)
        CO_RETURN_VOID(self);
    CO_READLINE(self, s);
    cr_assert_eq(self->s->result, 6);
    cr_assert_eq(co_stream_write(self->s, self->s->data, self->s->len), 0);
    CO_READEXACTLY(self, s, BULK);
    cr_assert_eq(self->s->result, (ssize_t)BULK, "%s: %s", co_strerror((int)self->s->result),
                 co_tls_reason(self->s));
    cr_assert_arr_eq(self->s->data, self->want, BULK);
    cr_assert_eq(co_stream_write(self->s, self->s->data, BULK), 0);
    CO_READ(self, s, 100);
    self->eof = (int)self->s->result;
    CO_FINALLY(self) { co_stream_close(self->s); }
    CO_END(self);
}

/* ------------------------------------------------------------- client */

typedef struct tls_client {
    co_gen gen;
    co_stream *s;
    co_tls *ctx;
    const char *name;
    unsigned char *data;
    int handshake;
    char reason[200];
    tls_server *peer;
} tls_client;

static int tls_client_fn(co_gen *g)
{
    tls_client *self = (tls_client *)g;
    CO_BEGIN(self);
    cr_assert_eq(co_stream_start_tls(self->s, self->ctx, self->name), 0);
    CO_TLS_HANDSHAKE(self, s);
    self->handshake = (int)self->s->result;
    snprintf(self->reason, sizeof self->reason, "%s", co_tls_reason(self->s));
    if (self->handshake < 0)
        CO_RETURN_VOID(self);
    cr_assert_eq(co_stream_write(self->s, "hello\n", 6), 0);
    CO_READLINE(self, s);
    cr_assert_eq(self->s->result, 6);
    cr_assert_arr_eq(self->s->data, "hello\n", 6);
    cr_assert_eq(co_stream_write(self->s, self->data, BULK), 0);
    CO_DRAIN(self, s);
    CO_READEXACTLY(self, s, BULK);
    cr_assert_eq(self->s->result, (ssize_t)BULK);
    cr_assert_arr_eq(self->s->data, self->data, BULK);
    CO_WAIT_CLOSED(self, s); /* close_notify, then the fd closes */
    cr_assert_eq(self->s->wresult, 0);
    CO_FINALLY(self)
    {
        co_stream_close(self->s);
        if (self->peer)
            co_cancel(&self->peer->gen); /* a failed handshake leaves it waiting */
    }
    CO_END(self);
}

typedef struct both {
    co_gen gen;
    co_gen *tasks[2];
    co_gather gather;
} both;

static int both_fn(co_gen *g)
{
    both *self = (both *)g;
    CO_BEGIN(self);
    CO_GATHER(self, &self->gather, self->tasks, 2, CO_GATHER_ALL);
    CO_END(self);
}

/* A client (ca_file, name) against the server over a TCP pair. */
static void run_pair(const char *ca_file, const char *name, tls_client **cout,
                     tls_server **sout)
{
    int a, b;
    co_loop *loop = net_loop();
    both *m = CO_NEW(loop, both, both_fn);
    tls_client *c = CO_NEW(loop, tls_client, tls_client_fn);
    tls_server *s = CO_NEW(loop, tls_server, tls_server_fn);
    int rc;
    tcp_pair(&a, &b);
    rc = co_tls_client(&c->ctx, ca_file);
    cr_assert_eq(rc, 0, "%s: %s", co_strerror(rc), co_tls_reason(NULL));
    rc = co_tls_server(&s->ctx, cert, key);
    cr_assert_eq(rc, 0, "%s: %s", co_strerror(rc), co_tls_reason(NULL));
    c->s = st_open(loop, a, NULL);
    s->s = st_open(loop, b, NULL);
    c->name = name;
    c->data = malloc(BULK);
    fill_pattern(c->data, BULK, 0);
    s->want = c->data;
    c->peer = s;
    m->tasks[0] = &c->gen;
    m->tasks[1] = &s->gen;
    st_run(loop, &m->gen, 0);
    *cout = c;
    *sout = s;
}

static void end_pair(tls_client *c, tls_server *s)
{
    co_tls_free(c->ctx);
    co_tls_free(s->ctx);
    free(c->data);
    st_done(net.loop);
}

Test(tls, handshake_bytes_and_close_notify)
{
    tls_client *c;
    tls_server *s;
    run_pair(ca, "localhost", &c, &s);
    cr_assert_eq(c->handshake, 0, "%s: %s", co_strerror(c->handshake), c->reason);
    cr_assert_eq(s->handshake, 0);
    cr_assert_eq(co_task_result(&c->gen), 0);
    cr_assert_eq(s->eof, 0, "the close_notify read as %s", co_strerror(s->eof));
    end_pair(c, s);
}

Test(tls, an_ip_address_is_verified_as_one)
{
    tls_client *c;
    tls_server *s;
    run_pair(ca, "127.0.0.1", &c, &s);
    cr_assert_eq(c->handshake, 0, "%s: %s", co_strerror(c->handshake), c->reason);
    end_pair(c, s);
}

Test(tls, a_wrong_host_name)
{
    tls_client *c;
    tls_server *s;
    run_pair(ca, "example.com", &c, &s);
    cr_assert_eq(c->handshake, CO_ETLSHOST, "%s: %s", co_strerror(c->handshake), c->reason);
    cr_assert(strstr(c->reason, "hostname mismatch"), "reason: %s", c->reason);
    end_pair(c, s);
}

Test(tls, a_certificate_the_system_does_not_trust)
{
    tls_client *c;
    tls_server *s;
    run_pair(NULL, "localhost", &c, &s);
    cr_assert_eq(c->handshake, CO_ETLSCERT, "%s: %s", co_strerror(c->handshake), c->reason);
    cr_assert(strstr(c->reason, "certificate verify failed"), "reason: %s", c->reason);
    end_pair(c, s);
}

/* ------------------------------------------------------ not TLS at all */

typedef struct plain_peer {
    co_gen gen;
    int fd;
} plain_peer;

static int plain_peer_fn(co_gen *g)
{
    plain_peer *self = (plain_peer *)g;
    static const char reply[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    CO_BEGIN(self);
    CO_SLEEP(self, 10); /* the ClientHello has arrived */
    st_write_all(self->fd, reply, sizeof reply - 1);
    CO_END(self);
}

Test(tls, a_peer_that_does_not_speak_tls)
{
    int a, b, rc;
    co_loop *loop = net_loop();
    tls_client *c = CO_NEW(loop, tls_client, tls_client_fn);
    plain_peer *p = CO_NEW(loop, plain_peer, plain_peer_fn);
    tcp_pair(&a, &b);
    rc = co_tls_client(&c->ctx, ca);
    cr_assert_eq(rc, 0);
    c->s = st_open(loop, a, NULL);
    c->name = "localhost";
    p->fd = b;
    rt_spawn(&p->gen);
    co_release(&p->gen);
    st_run(loop, &c->gen, 0);
    cr_assert_eq(c->handshake, CO_ETLSPROTO, "%s: %s", co_strerror(c->handshake), c->reason);
    cr_assert(strstr(c->reason, "wrong version number") || strstr(c->reason, "packet length"),
              "reason: %s", c->reason);
    co_tls_free(c->ctx);
    close(b);
    st_done(loop);
}

/* ----------------------------------------------------------- bad input */

Test(tls, bad_files_and_misuse)
{
    co_tls *t = NULL;
    co_loop *loop = net_loop();
    co_stream *s;
    int p[2];
    cr_assert_eq(co_tls_client(&t, "/nonexistent/ca.pem"), -ENOENT);
    cr_assert_eq(co_tls_server(&t, cert, "/nonexistent/key"), -ENOENT);
    cr_assert_eq(co_tls_server(&t, cert, other_key), CO_ETLS);
    cr_assert_null(t);
    cr_assert(strstr(co_tls_reason(NULL), "key values mismatch"), "reason: %s",
              co_tls_reason(NULL));
    cr_assert_eq(co_tls_client(&t, key), CO_ETLS); /* a key is no CA file */
    cr_assert(co_tls_available());
    cr_assert_eq(co_tls_client(&t, ca), 0);
    cr_assert_eq(pipe(p), 0);
    s = st_open(loop, p[0], NULL);
    cr_assert_eq(co_stream_start_tls(s, t, "localhost"), CO_EBADARG, "TLS over a pipe");
    cr_assert_str_eq(co_tls_reason(s), "");
    co_stream_close(s);
    close(p[1]);
    co_tls_free(t);
    st_done(loop);
}
