/*
 * hello.h -- what the C hello servers of the benchmark share, so that they
 * do the same work: the reply, and the scan that finds where each request
 * ends.
 *
 * The servers parse just enough HTTP/1.1 to answer a GET with keep-alive:
 * a request is everything up to its blank line ("\r\n\r\n"); it has no
 * body.  The scan keeps how much of that blank line the bytes seen so far
 * ended with, so a request cut anywhere between two reads is still counted
 * once, and several pipelined in one read are each counted.
 */
#ifndef BENCH_HELLO_H
#define BENCH_HELLO_H

#include <stddef.h>
#include <string.h>

#define HELLO_REPLY                                                                        \
    "HTTP/1.1 200 OK\r\n"                                                                  \
    "Content-Type: text/plain\r\n"                                                         \
    "Content-Length: 13\r\n"                                                               \
    "\r\n"                                                                                 \
    "Hello, world!"

enum { HELLO_REPLY_LEN = sizeof HELLO_REPLY - 1, HELLO_BATCH = 32 };

/* HELLO_BATCH replies back to back: pipelined requests are answered with
 * one write of k * HELLO_REPLY_LEN bytes from here. */
static char hello_replies[HELLO_BATCH * HELLO_REPLY_LEN];

static void hello_init(void)
{
    for (int i = 0; i < HELLO_BATCH; i++)
        memcpy(hello_replies + i * HELLO_REPLY_LEN, HELLO_REPLY, HELLO_REPLY_LEN);
}

/* The requests that end in buf[0..n), given that the stream so far ended
 * with *matched bytes of "\r\n\r\n"; updates *matched. */
static unsigned hello_count_requests(unsigned char *matched, const char *buf, size_t n)
{
    static const char blank[] = "\r\n\r\n";
    unsigned count = 0, m = *matched;
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (c == blank[m])
            m++;
        else
            m = c == '\r';
        if (m == 4) {
            count++;
            m = 0;
        }
    }
    *matched = (unsigned char)m;
    return count;
}

#endif /* BENCH_HELLO_H */
