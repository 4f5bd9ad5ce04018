/*
 * st.h -- what the stream suite adds to the socket suite's kit (net.h):
 * running one main task to its end on the fake-clock loop, with every
 * allocation checked to come back, and writing or reading a peer's bytes
 * with plain calls from the test itself.
 */
#ifndef ST_TEST_H
#define ST_TEST_H

#include "net.h"

/* co_run(main); asserts its result is `want`.  The frames stay readable
 * until st_done. */
void st_run(co_loop *loop, co_gen *main, int want);
/* Frees the loop and checks that every allocation came back. */
void st_done(co_loop *loop);
/* Writes all of buf to fd (which may be non-blocking: waits with poll). */
void st_write_all(int fd, const void *buf, size_t n);
/* Reads fd until end of stream into buf (at most cap); returns the count. */
size_t st_read_all(int fd, void *buf, size_t cap);
/* A stream over fd on loop, with opt (NULL: the defaults). */
co_stream *st_open(co_loop *loop, int fd, const co_stream_options *opt);

#endif /* ST_TEST_H */
