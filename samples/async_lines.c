/*
 * async_lines.c -- async for line in reader: an async generator yields the
 * lines of a pipe, read with the stream API (corio/stream.h), while another
 * task writes them slowly into the other end.
 *
 * The Python it mirrors (samples/async_lines.py):
 *
 *     async def write_lines(fd):
 *         for word in ['alpha', 'beta', 'gamma', 'delta']:
 *             await asyncio.sleep(0.05)
 *             os.write(fd, f'{word}\n'.encode())
 *         os.close(fd)
 *
 *     async def lines(reader):
 *         while line := await reader.readline():
 *             yield line.decode().rstrip('\n')
 *
 *     async def main():
 *         ... reader: the pipe's reading end (loop.connect_read_pipe)
 *         writer = asyncio.create_task(write_lines(wfd))
 *         n = 0
 *         async for line in lines(reader):
 *             n += 1
 *             print(f'{n}: {line}')
 *         await writer
 *         print(n, 'lines')
 *
 * --fake-clock runs it on virtual time, instantly; --trace puts the loop's
 * time in front of every line.
 */
#include "tour.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const words[] = {"alpha", "beta", "gamma", "delta"};

CO_ASYNC(write_lines, co_stream *out; size_t i;)
    for (self->i = 0; self->i < sizeof words / sizeof *words; self->i++) {
        char line[16];
        CO_SLEEP(self, 50);
        snprintf(line, sizeof line, "%s\n", words[self->i]);
        CO_CHECK(self, co_stream_write(self->out, line, strlen(line)));
    }
    CO_WAIT_CLOSED(self, out);
    CO_CHECK(self, self->out->wresult);
CO_ASYNC_END

/* Each line without its "\n", as a string in the generator's frame: valid
 * until the consumer asks for the next one. */
CO_ASYNC_GEN(lines, const char *, co_stream *reader; char line[128];)
    for (;;) {
        CO_READLINE(self, reader);
        if (self->reader->result == 0)
            break;
        snprintf(self->line, sizeof self->line, "%.*s", (int)strcspn(self->reader->data, "\n"),
                 self->reader->data);
        CO_YIELD(self, self->line);
    }
CO_ASYNC_END

CO_ASYNC(main_task, co_stream *reader; co_stream *wend; write_lines *writer; lines ls;
         const char *line; int n;)
    {
        int fds[2];
        CO_CHECK(self, pipe(fds) == 0 ? 0 : CO_EBADARG);
        CO_CHECK(self, co_stream_open(co_running_loop(), fds[0], NULL, &self->reader));
        CO_CHECK(self, co_stream_open(co_running_loop(), fds[1], NULL, &self->wend));
    }
    CO_CREATE_TASK(self, self->writer, write_lines, .out = self->wend);
    CO_AGEN(self, ls, lines, .reader = self->reader);
    CO_ASYNC_FOR(self, &self->ls, &self->line) {
        tour_say("%d: %s", ++self->n, self->line);
    } CO_ASYNC_FOR_END;
    CO_AWAIT_TASK(self, &self->writer->gen);
    co_release(&self->writer->gen);
    co_stream_close(self->wend);
    co_stream_close(self->reader);
    tour_say("%d lines", self->n);
CO_ASYNC_END

int main(int argc, char **argv)
{
    co_loop *loop;
    main_task *m;
    int rc;
    for (int i = 1; i < argc; i++)
        if (!tour_option(argv[i]))
            tour_usage_error(argv[0], "[--fake-clock] [--trace]", argv[i]);
    loop = tour_loop();
    m = CO_TASK(loop, main_task, );
    rc = m ? co_run(loop, &m->gen) : CO_ENOMEM;
    tour_loop_free(loop);
    return tour_exit_status(argv[0], rc);
}
