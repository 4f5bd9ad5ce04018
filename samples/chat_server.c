/*
 * chat_server.c -- a chat server on streams: every line a client sends
 * goes to every other client.  A client that drops, even with a reset,
 * leaves the others undisturbed; SIGTERM or SIGINT closes it cleanly.
 *
 * The C twin of chat_server.py, line for line: asyncio.start_server
 * becomes CO_SERVER_START, reader.readline() CO_READLINE, writer.write()
 * co_stream_write.  It prints "chat on 127.0.0.1:PORT" once it listens
 * (--port 0 picks a free port), "N connected" whenever a client comes or
 * goes, and "stopped" at the end.
 */
#include <corio/corio.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ a client */

static struct client *clients; /* everyone connected */
static int nclients;

/* handle(reader, writer): one per connection, with its stream */
CO_ASYNC(client, co_stream *stream; struct client *prev, *next;)
    self->next = clients; /* clients.add(writer) */
    if (clients)
        clients->prev = self;
    clients = self;
    printf("%d connected\n", ++nclients);
    for (;;) {
        CO_READLINE(self, stream);
        if (self->stream->result <= 0) /* end of stream, a reset, a line over the limit */
            break;
        for (client *other = clients; other; other = other->next)
            if (other != self)
                co_stream_write(other->stream, self->stream->data, self->stream->len);
    }
    CO_FINALLY(self) /* clients.discard(writer); the server closes the stream */
    {
        if (self->prev)
            self->prev->next = self->next;
        else
            clients = self->next;
        if (self->next)
            self->next->prev = self->prev;
        printf("%d connected\n", --nclients);
    }
CO_ASYNC_END

/* ---------------------------------------------------------- the server */

CO_ASYNC(chat, int port; co_addr addr; co_server server; co_event stop;)
    co_addr_ip(&self->addr, "127.0.0.1", self->port);
    CO_CHECK(self, CO_SERVER_START(&self->server, co_running_loop(), &self->addr, client,
                                   client_fn, NULL));
    printf("chat on 127.0.0.1:%d\n", self->server.port);
    co_event_init(&self->stop);
    co_signal_watch(co_running_loop(), SIGINT, &self->stop);
    co_signal_watch(co_running_loop(), SIGTERM, &self->stop);
    CO_EVENT_WAIT(self, &self->stop);
    co_server_close(&self->server); /* async with server: ... */
    co_server_close_clients(&self->server);
    CO_SERVER_WAIT_CLOSED(self, server);
    printf("stopped\n");
CO_ASYNC_END

int main(int argc, char **argv)
{
    co_loop *loop;
    chat *c;
    int rc;
    setvbuf(stdout, NULL, _IOLBF, 0); /* a line as soon as it is printed */
    if ((rc = co_loop_new(&loop, NULL)) < 0 || (c = CO_TASK(loop, chat, )) == NULL) {
        fprintf(stderr, "%s: %s\n", argv[0], co_strerror(rc < 0 ? rc : CO_ENOMEM));
        return 1;
    }
    c->port = argc == 3 && strcmp(argv[1], "--port") == 0 ? atoi(argv[2]) : 8888;
    rc = co_run(loop, &c->gen);
    co_loop_free(loop);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", argv[0], co_strerror(rc));
        return 1;
    }
    return 0;
}
