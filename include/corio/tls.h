/*
 * corio/tls.h -- TLS over streams, with OpenSSL: asyncio's ssl= argument.
 *
 *     co_tls *ctx;
 *     co_tls_client(&ctx, NULL);                    // ssl.create_default_context()
 *     co_stream_open(loop, fd, NULL, &self->s);
 *     co_stream_start_tls(self->s, ctx, "example.org");
 *     CO_TLS_HANDSHAKE(self, s);                    // open_connection(..., ssl=ctx,
 *     if (self->s->result < 0)                      //   server_hostname="example.org")
 *         fprintf(stderr, "%s: %s\n", co_strerror((int)self->s->result),
 *                 co_tls_reason(self->s));
 *
 * After the handshake the stream reads and writes as before, through the
 * session; CO_WAIT_CLOSED and co_stream_close send a close_notify first,
 * co_stream_write_eof sends one at once (the peer reads end of stream),
 * and a close_notify from the peer is read as end of
 * stream.  The handshake, reads and writes never block the loop: the
 * session runs on the non-blocking fd, driven by its readiness.
 *
 * A client verifies the server's certificate against the system's store
 * (or a CA file) and its host name (a DNS name, or a numeric IP address),
 * and sends that name as SNI.  Failures are codes -- CO_ETLSCERT (not
 * trusted), CO_ETLSHOST (not for this host), CO_ETLSPROTO (the peer does
 * not speak TLS, or no version in common), CO_ETLS (anything else) -- with
 * OpenSSL's reason text from co_tls_reason.  Built without OpenSSL, every
 * call returns CO_ENOTLS.
 *
 * OpenSSL allocates its contexts and sessions with its own allocator, not
 * the loop's hooks.
 */
#ifndef CORIO_TLS_H
#define CORIO_TLS_H

#include <corio/stream.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A TLS configuration (SSL_CTX): shared by any number of streams. */
typedef struct co_tls co_tls;

/* ssl.create_default_context(cafile=ca_file): verifies the server and its
 * name; ca_file NULL: the system's store.  TLS 1.2 and later.
 * 0, or -ENOENT (no such CA file), CO_ENOMEM, CO_ETLS, CO_ENOTLS. */
CO_API int co_tls_client(co_tls **out, const char *ca_file);

/* ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE: a client
 * context that takes any certificate for any name (curl's --insecure), for
 * tests and self-signed servers only.  co_stream_start_tls's server_name
 * is still sent as SNI.  0, or CO_EBADARG (NULL, a server context), CO_ENOTLS. */
CO_API int co_tls_insecure(co_tls *ctx);

/* ctx = ssl.SSLContext(PROTOCOL_TLS_SERVER); ctx.load_cert_chain(cert, key)
 * 0, or -ENOENT, CO_ETLS (a bad file, a key that does not match), CO_ENOTLS. */
CO_API int co_tls_server(co_tls **out, const char *cert_file, const char *key_file);

/* Frees ctx once no stream uses it any more. */
CO_API void co_tls_free(co_tls *ctx);

/* Puts a TLS session of ctx over stream s, which must not have read or
 * written anything yet.  For a client, server_name is the name to verify
 * and send as SNI (NULL: no check at all, for tests only); a server passes
 * NULL.  0 or CO_EBADARG, CO_ENOMEM, CO_ENOTLS.  Then CO_TLS_HANDSHAKE. */
CO_API int co_stream_start_tls(co_stream *s, co_tls *ctx, const char *server_name);

/* The handshake.  result: 0, or CO_ETLSCERT, CO_ETLSHOST, CO_ETLSPROTO,
 * CO_ETLS, -ECONNRESET, CO_EOF (the peer hung up), ... */
#define CO_TLS_HANDSHAKE(self, s) CO__STREAM(self, s, co__tls_handshake((self)->s))

/* OpenSSL's text for the last TLS failure of s ("certificate verify
 * failed: ..."), or of this thread's last co_tls_client / co_tls_server
 * when s is NULL; "" when there was none. */
CO_API const char *co_tls_reason(const co_stream *s);

/* Whether this libcorio was built with OpenSSL. */
CO_API bool co_tls_available(void);

CO_API int co__tls_handshake(co_stream *s);

#ifdef __cplusplus
}
#endif

#endif /* CORIO_TLS_H */
