/*
 * serve.c -- the start_server twin: every connection runs the handler with
 * its stream; a limit on connections served at once (the rest wait in the
 * backlog); a failing handler ends only its connection; a graceful close
 * stops accepting, cancels the handlers, sends what they wrote, and waits.
 */
#include "st.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

TestSuite(serve, .init = net_reset, .timeout = 30);

/* ---------------------------------------------------------- handlers */

static int active, max_active, handled;

/* Echoes lines; "fail\n" makes it raise; "hold\n" waits for end of stream. */
typedef struct echo_conn {
    co_gen gen;
    co_stream *stream;
} echo_conn;

static int echo_conn_fn(co_gen *g)
{
    echo_conn *self = (echo_conn *)g;
    CO_BEGIN(self);
    if (++active > max_active)
        max_active = active;
    for (;;) {
        CO_READLINE(self, stream);
        if (self->stream->result <= 0)
            break;
        if (self->stream->len == 5 && memcmp(self->stream->data, "fail\n", 5) == 0)
            CO_RAISE(self, -EPROTO);
        co_stream_write(self->stream, self->stream->data, self->stream->len);
        CO_DRAIN(self, stream);
    }
    CO_FINALLY(self)
    {
        active--;
        handled++;
    }
    CO_END(self);
}

/* --------------------------------------------------------- a client */

typedef struct client {
    co_gen gen;
    const co_addr *addr;
    const char *say; /* lines to send, then read back */
    co_io io;
    co_stream *s;
    char got[256];
    size_t got_len;
    int lines, i;
} client;

static int client_fn(co_gen *g)
{
    client *self = (client *)g;
    CO_BEGIN(self);
    CO_CONNECT(self, &self->io, self->addr, 5000);
    cr_assert(self->io.result >= 0, "connect: %s", co_strerror((int)self->io.result));
    cr_assert_eq(co_stream_open(co_running_loop(), (int)self->io.result, NULL, &self->s), 0);
    co_stream_write(self->s, self->say, strlen(self->say));
    for (self->i = 0; self->i < self->lines; self->i++) {
        CO_READLINE(self, s);
        if (self->s->result <= 0)
            break;
        memcpy(self->got + self->got_len, self->s->data, self->s->len);
        self->got_len += self->s->len;
    }
    CO_FINALLY(self)
    {
        if (self->s)
            co_stream_close(self->s);
    }
    CO_END(self);
}

typedef struct serve_main {
    co_gen gen;
    co_server srv;
    co_addr addr;
    co_server_options opt;
    client *clients[4];
    int n, i;
} serve_main;

/* Starts the server, runs the clients one after another or together,
 * then closes the server gracefully. */
static int serve_main_fn(co_gen *g)
{
    serve_main *self = (serve_main *)g;
    CO_BEGIN(self);
    co_addr_ip(&self->addr, "127.0.0.1", 0);
    CO__CHECK(self, CO_SERVER_START(&self->srv, co_running_loop(), &self->addr, echo_conn,
                                    echo_conn_fn, &self->opt));
    co_addr_ip(&self->addr, "127.0.0.1", self->srv.port);
    for (self->i = 0; self->i < self->n; self->i++) {
        self->clients[self->i]->addr = &self->addr;
        rt_spawn(&self->clients[self->i]->gen);
    }
    for (self->i = 0; self->i < self->n; self->i++)
        CO_AWAIT_TASK(self, &self->clients[self->i]->gen);
    co_server_close(&self->srv);
    CO_SERVER_WAIT_CLOSED(self, srv);
    CO_END(self);
}

static serve_main *make_main(co_loop *loop, const char *const *says, const int *lines, int n)
{
    serve_main *m = CO_NEW(loop, serve_main, serve_main_fn);
    m->n = n;
    for (int i = 0; i < n; i++) {
        m->clients[i] = CO_NEW(loop, client, client_fn);
        m->clients[i]->say = says[i];
        m->clients[i]->lines = lines[i];
    }
    return m;
}

Test(serve, every_connection_gets_its_handler_and_stream)
{
    static const char *const says[] = {"a\nb\n", "hello\nworld\n", "x\n"};
    static const int lines[] = {2, 2, 1};
    co_loop *loop = net_loop();
    serve_main *m = make_main(loop, says, lines, 3);
    co_run(loop, &m->gen);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(co_task_result(&m->clients[i]->gen), 0);
        cr_assert_eq(m->clients[i]->got_len, strlen(says[i]));
        cr_assert_arr_eq(m->clients[i]->got, says[i], strlen(says[i]));
    }
    cr_assert_eq(m->srv.served, 3);
    cr_assert_eq(m->srv.error, 0);
    cr_assert_eq(handled, 3);
    cr_assert_eq(co_task_result(&m->gen), 0);
    rt_free_loop(loop);
}

Test(serve, a_failing_handler_ends_only_its_connection)
{
    static const char *const says[] = {"one\nfail\nlost\n", "two\n"};
    static const int lines[] = {3, 1};
    co_loop *loop = net_loop();
    serve_main *m = make_main(loop, says, lines, 2);
    co_run(loop, &m->gen);
    cr_assert_eq(co_task_result(&m->gen), 0);
    /* the first got its first line back, then end of stream */
    cr_assert_eq(m->clients[0]->got_len, 4);
    cr_assert_eq(m->clients[1]->got_len, 4);
    cr_assert_arr_eq(m->clients[1]->got, "two\n", 4);
    cr_assert_eq(handled, 2);
    rt_free_loop(loop);
}

Test(serve, at_most_max_connections_at_once)
{
    static const char *const says[] = {"1\n", "2\n", "3\n", "4\n"};
    static const int lines[] = {1, 1, 1, 1};
    co_loop *loop = net_loop();
    serve_main *m = make_main(loop, says, lines, 4);
    m->opt.max_connections = 2;
    co_run(loop, &m->gen);
    cr_assert_eq(co_task_result(&m->gen), 0);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(m->clients[i]->got_len, 2, "client %d", i);
    cr_assert_eq(max_active, 2, "%d handlers ran at once", max_active);
    cr_assert_eq(m->srv.served, 4);
    rt_free_loop(loop);
}

/* ---------------------------------------------------- graceful close */

/* Greets, then waits for a line that never comes; says goodbye when
 * cancelled: the server still sends that. */
typedef struct greeter {
    co_gen gen;
    co_stream *stream;
} greeter;

static int greeter_fn(co_gen *g)
{
    greeter *self = (greeter *)g;
    CO_BEGIN(self);
    co_stream_write(self->stream, "welcome\n", 8);
    CO_READLINE(self, stream);
    CO_FINALLY(self)
    {
        rt_log("handler: %s", co_strerror(CO_THROWN(self)));
        co_stream_write(self->stream, "bye\n", 4);
    }
    CO_END(self);
}

typedef struct close_main {
    co_gen gen;
    co_server srv;
    co_addr addr;
    client *c[2];
    int i;
} close_main;

static int close_main_fn(co_gen *g)
{
    close_main *self = (close_main *)g;
    CO_BEGIN(self);
    co_addr_ip(&self->addr, "127.0.0.1", 0);
    CO__CHECK(self, CO_SERVER_START(&self->srv, co_running_loop(), &self->addr, greeter,
                                    greeter_fn, NULL));
    co_addr_ip(&self->addr, "127.0.0.1", self->srv.port);
    for (self->i = 0; self->i < 2; self->i++) {
        self->c[self->i]->addr = &self->addr;
        rt_spawn(&self->c[self->i]->gen);
    }
    CO_SLEEP(self, 100); /* both connected and greeted */
    co_server_close(&self->srv);
    co_server_close_clients(&self->srv);
    CO_SERVER_WAIT_CLOSED(self, srv);
    rt_log("closed: %llu served", self->srv.served);
    for (self->i = 0; self->i < 2; self->i++)
        CO_AWAIT_TASK(self, &self->c[self->i]->gen);
    CO_END(self);
}

Test(serve, a_graceful_close_cancels_handlers_and_sends_their_last_words)
{
    co_loop *loop = net_loop();
    close_main *m = CO_NEW(loop, close_main, close_main_fn);
    co_addr addr;
    int fd;
    for (int i = 0; i < 2; i++) {
        m->c[i] = CO_NEW(loop, client, client_fn);
        m->c[i]->say = "";
        m->c[i]->lines = 3;
    }
    st_run(loop, &m->gen, 0);
    cr_assert_str_eq(rt.log, "handler: task cancelled\nhandler: task cancelled\n"
                             "closed: 2 served\n");
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(m->c[i]->got_len, 12, "client %d got %zu bytes", i, m->c[i]->got_len);
        cr_assert_arr_eq(m->c[i]->got, "welcome\nbye\n", 12);
    }
    /* the listener is closed: its port refuses now */
    co_addr_ip(&addr, "127.0.0.1", m->srv.port);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_neq(connect(fd, &addr.u.sa, addr.len), 0);
    close(fd);
    st_done(loop);
}

Test(serve, bad_arguments_and_a_port_in_use)
{
    co_loop *loop = net_loop();
    co_server srv;
    co_addr addr;
    int lfd = tcp_listener(1, &addr);
    cr_assert_eq(co_server_start(&srv, loop, &addr, echo_conn_fn, 40000, 8, NULL), CO_EBADARG);
    cr_assert_eq(co_server_start(&srv, loop, &addr, echo_conn_fn, sizeof(echo_conn),
                                 sizeof(echo_conn), NULL), CO_EBADARG);
    cr_assert_eq(co_server_start(&srv, loop, &addr, NULL, sizeof(echo_conn), 24, NULL),
                 CO_EBADARG);
    cr_assert_eq(CO_SERVER_START(&srv, loop, &addr, echo_conn, echo_conn_fn, NULL),
                 -EADDRINUSE);
    close(lfd);
    rt_free_loop(loop);
}

typedef struct quick_main {
    co_gen gen;
    co_server srv;
    co_addr addr;
} quick_main;

/* Closed before the accept loop ever ran: the wait still ends. */
static int quick_main_fn(co_gen *g)
{
    quick_main *self = (quick_main *)g;
    CO_BEGIN(self);
    co_addr_ip(&self->addr, "127.0.0.1", 0);
    CO__CHECK(self, CO_SERVER_START(&self->srv, co_running_loop(), &self->addr, echo_conn,
                                    echo_conn_fn, NULL));
    co_server_close(&self->srv);
    co_server_close_clients(&self->srv);
    CO_SERVER_WAIT_CLOSED(self, srv);
    rt_log("closed, %llu served", self->srv.served);
    CO_END(self);
}

Test(serve, closed_at_once_after_start)
{
    co_loop *loop = net_loop();
    quick_main *m = CO_NEW(loop, quick_main, quick_main_fn);
    st_run(loop, &m->gen, 0);
    cr_assert_str_eq(rt.log, "closed, 0 served\n");
    st_done(loop);
}
