/*
 * tls.c -- TLS over streams with OpenSSL: the client and server contexts,
 * a session over a stream's fd, and the raw reads, writes, handshake
 * steps and close_notify that stream.c and stream_write.c call instead of
 * recv/send when a stream has a session.
 *
 * The session works on the non-blocking fd itself: every OpenSSL call
 * either moves bytes or says which readiness it waits for (WANT_READ,
 * WANT_WRITE), and the stream waits for that on the reactor like any
 * other read or write, so nothing ever blocks the loop.  Failures become
 * codes, with OpenSSL's reason text kept in the session.  Built without
 * OpenSSL, the same calls exist and return CO_ENOTLS.
 */
#include "stream_impl.h"

#include <corio/tls.h>

#include <errno.h>
#include <string.h>

#ifdef CORIO_HAVE_OPENSSL

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct co_tls {
    SSL_CTX *ctx;
    bool server;
};

typedef struct session {
    SSL *ssl;
    bool shut; /* close_notify sent */
    char reason[200];
} session;

/* This thread's last context failure, for co_tls_reason(NULL). */
static _Thread_local char ctx_reason[200];

static session *sess(const stream *s) { return s->tls; }

/* The transport a session gives its stream (stream_impl.h). */
static ssize_t tls_rd(stream *s, void *buf, size_t n, unsigned *want);
static ssize_t tls_wr(stream *s, const void *buf, size_t n, unsigned *want);
static int tls_handshake_step(stream *s, unsigned *want);
static int tls_shutdown(stream *s);
static void tls_free(stream *s);
static const co__transport tls_transport = {tls_rd, tls_wr, tls_handshake_step, tls_shutdown,
                                            tls_free};

/* OpenSSL's text for its oldest queued error (or `fallback`), into buf. */
static void take_reason(char *buf, size_t n, const char *fallback)
{
    unsigned long e = ERR_peek_error();
    if (e)
        ERR_error_string_n(e, buf, n);
    else
        snprintf(buf, n, "%s", fallback);
    ERR_clear_error();
}

/* ----------------------------------------------------------- contexts */

static int new_ctx(co_tls **out, bool server)
{
    co_tls *t;
    *out = NULL;
    ERR_clear_error();
    t = calloc(1, sizeof *t);
    if (t == NULL)
        return CO_ENOMEM;
    t->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (t->ctx == NULL) {
        take_reason(ctx_reason, sizeof ctx_reason, "SSL_CTX_new failed");
        free(t);
        return CO_ENOMEM;
    }
    t->server = server;
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    *out = t;
    return 0;
}

static int ctx_failed(co_tls **out, const char *what)
{
    take_reason(ctx_reason, sizeof ctx_reason, what);
    co_tls_free(*out);
    *out = NULL;
    return CO_ETLS;
}

int co_tls_client(co_tls **out, const char *ca_file)
{
    int rc;
    if (out == NULL)
        return CO_EBADARG;
    if (ca_file && access(ca_file, R_OK) < 0)
        return -errno;
    if ((rc = new_ctx(out, false)) < 0)
        return rc;
    SSL_CTX_set_verify((*out)->ctx, SSL_VERIFY_PEER, NULL);
    if (ca_file ? SSL_CTX_load_verify_locations((*out)->ctx, ca_file, NULL) != 1
                : SSL_CTX_set_default_verify_paths((*out)->ctx) != 1)
        return ctx_failed(out, "cannot load the CA certificates");
    return 0;
}

int co_tls_insecure(co_tls *t)
{
    if (t == NULL || t->server)
        return CO_EBADARG;
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL); /* a failed check is noted, not fatal */
    return 0;
}

int co_tls_server(co_tls **out, const char *cert_file, const char *key_file)
{
    int rc;
    if (out == NULL || cert_file == NULL || key_file == NULL)
        return CO_EBADARG;
    if (access(cert_file, R_OK) < 0 || access(key_file, R_OK) < 0)
        return -errno;
    if ((rc = new_ctx(out, true)) < 0)
        return rc;
    if (SSL_CTX_use_certificate_chain_file((*out)->ctx, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file((*out)->ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key((*out)->ctx) != 1)
        return ctx_failed(out, "cannot load the certificate and key");
    return 0;
}

void co_tls_free(co_tls *t)
{
    if (t == NULL)
        return;
    SSL_CTX_free(t->ctx); /* sessions still open hold their own reference */
    free(t);
}

bool co_tls_available(void) { return true; }

/* ----------------------------------------------------------- sessions */

/* The name to check: an IP address is matched as one, anything else as a
 * DNS name (which is also sent as SNI). */
static int set_peer_name(SSL *ssl, const char *name)
{
    unsigned char ip[16];
    if (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1)
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 ? 0 : CO_ETLS;
    if (SSL_set_tlsext_host_name(ssl, name) != 1 || SSL_set1_host(ssl, name) != 1)
        return CO_ETLS;
    return 0;
}

int co_stream_start_tls(co_stream *pub, co_tls *t, const char *server_name)
{
    stream *s = co__stream(pub);
    session *ss;
    if (s == NULL || t == NULL || s->tls || !s->sock || s->fd < 0 || s->rend || s->wend ||
        s->flusher || (t->server && server_name))
        return CO_EBADARG;
    ss = co__alloc(s->loop, sizeof *ss);
    if (ss == NULL)
        return CO_ENOMEM;
    memset(ss, 0, sizeof *ss);
    ERR_clear_error();
    ss->ssl = SSL_new(t->ctx);
    if (ss->ssl == NULL || SSL_set_fd(ss->ssl, s->fd) != 1 ||
        (server_name && set_peer_name(ss->ssl, server_name) < 0)) {
        SSL_free(ss->ssl);
        co__free(s->loop, ss, sizeof *ss);
        ERR_clear_error();
        return server_name ? CO_EBADARG : CO_ENOMEM;
    }
    /* a write retried after WANT_WRITE may come from a moved, shorter buffer */
    SSL_set_mode(ss->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (t->server)
        SSL_set_accept_state(ss->ssl);
    else
        SSL_set_connect_state(ss->ssl);
    s->tls = ss;
    s->tr = &tls_transport;
    return 0;
}

static void tls_free(stream *s)
{
    session *ss = sess(s);
    if (ss == NULL)
        return;
    SSL_free(ss->ssl);
    co__free(s->loop, ss, sizeof *ss);
    s->tls = NULL;
    s->tr = NULL;
}

static int tls_shutdown(stream *s)
{
    session *ss = sess(s);
    if (ss == NULL || ss->shut)
        return 0;
    ss->shut = true;
    ERR_clear_error();
    /* sends close_notify now (non-blocking: a full socket drops it, as a
       close would); the peer's answer is not awaited */
    SSL_shutdown(ss->ssl);
    ERR_clear_error();
    return 0;
}

/* ------------------------------------------------------------ failures */

static bool protocol_reason(int r)
{
    switch (r) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_LENGTH_MISMATCH:
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
        return true;
    default:
        return false;
    }
}

static bool certificate_reason(int r)
{
    switch (r) {
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
        return true;
    default:
        return false;
    }
}

/* The code for a failed call whose SSL_get_error was `e`, and its text. */
static int failure(stream *s, int e)
{
    session *ss = sess(s);
    long v = SSL_get_verify_result(ss->ssl);
    unsigned long err = ERR_peek_error();
    int reason = err ? ERR_GET_REASON(err) : 0;
    if (e == SSL_ERROR_SYSCALL && err == 0) { /* the fd failed, or EOF mid-record */
        int saved = errno;
        snprintf(ss->reason, sizeof ss->reason, "%s",
                 saved ? strerror(saved) : "the peer closed without close_notify");
        return saved ? -saved : CO_EOF;
    }
    if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && v != X509_V_OK) {
        snprintf(ss->reason, sizeof ss->reason, "certificate verify failed: %s",
                 X509_verify_cert_error_string(v));
        ERR_clear_error();
        return v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH
                   ? CO_ETLSHOST
                   : CO_ETLSCERT;
    }
    take_reason(ss->reason, sizeof ss->reason, "TLS failure");
    if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        return CO_EOF;
    if (protocol_reason(reason))
        return CO_ETLSPROTO;
    return certificate_reason(reason) ? CO_ETLSCERT : CO_ETLS;
}

/* Sorts a call's outcome: 0 done, -EAGAIN with *want, or a code. */
static int outcome(stream *s, int ret, unsigned *want)
{
    int e = SSL_get_error(sess(s)->ssl, ret);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        *want = CO_READABLE;
        return -EAGAIN;
    case SSL_ERROR_WANT_WRITE:
        *want = CO_WRITABLE;
        return -EAGAIN;
    case SSL_ERROR_ZERO_RETURN: /* close_notify: end of stream */
        return 0;
    default:
        return failure(s, e);
    }
}

/* --------------------------------------------------------- moving bytes */

static ssize_t tls_rd(stream *s, void *buf, size_t n, unsigned *want)
{
    size_t got = 0;
    int ret;
    ERR_clear_error();
    errno = 0;
    ret = SSL_read_ex(sess(s)->ssl, buf, n, &got);
    if (ret == 1)
        return (ssize_t)got;
    return outcome(s, ret, want);
}

static ssize_t tls_wr(stream *s, const void *buf, size_t n, unsigned *want)
{
    size_t put = 0;
    int ret, rc;
    if (n == 0)
        return 0;
    ERR_clear_error();
    errno = 0;
    ret = SSL_write_ex(sess(s)->ssl, buf, n, &put);
    if (ret == 1)
        return (ssize_t)put;
    rc = outcome(s, ret, want);
    return rc == 0 ? -EPIPE : rc; /* the peer's close_notify: nothing more goes */
}

static int tls_handshake_step(stream *s, unsigned *want)
{
    int ret, rc;
    ERR_clear_error();
    errno = 0;
    ret = SSL_do_handshake(sess(s)->ssl);
    if (ret == 1)
        return 1;
    rc = outcome(s, ret, want);
    if (rc == -EAGAIN)
        return 0;
    return rc == 0 ? CO_EOF : rc;
}

const char *co_tls_reason(const co_stream *pub)
{
    const stream *s = (const stream *)(const void *)pub;
    if (s == NULL)
        return ctx_reason;
    return s->tls ? sess(s)->reason : "";
}

#else /* built without OpenSSL */

struct co_tls {
    int unused;
};

int co_tls_client(co_tls **out, const char *ca_file)
{
    (void)ca_file;
    if (out)
        *out = NULL;
    return CO_ENOTLS;
}

int co_tls_server(co_tls **out, const char *cert_file, const char *key_file)
{
    (void)cert_file;
    (void)key_file;
    if (out)
        *out = NULL;
    return CO_ENOTLS;
}

int co_tls_insecure(co_tls *t)
{
    (void)t;
    return CO_ENOTLS;
}

void co_tls_free(co_tls *t) { (void)t; }
bool co_tls_available(void) { return false; }

int co_stream_start_tls(co_stream *s, co_tls *t, const char *server_name)
{
    (void)s;
    (void)t;
    (void)server_name;
    return CO_ENOTLS;
}

const char *co_tls_reason(const co_stream *s)
{
    (void)s;
    return "corio was built without OpenSSL: install libssl-dev and rebuild";
}


#endif

int co__tls_handshake(co_stream *pub)
{
    stream *s = co__stream(pub);
    if (s == NULL)
        return CO_EBADARG;
    if (s->tls == NULL) /* no session: misuse, raised */
        return co_tls_available() ? CO_EBADARG : CO_ENOTLS;
    return co__stream_op(s, ROP_HANDSHAKE);
}
