/*
 * hosts.h -- a resolver for the name tests: it answers from a hosts file
 * the test writes ("address name..." lines), through co_set_resolver, so
 * that no test depends on the machine's own names or its DNS.
 *
 * It counts the answers not yet freed (every one must come back), and it
 * has a gate: while closed, a lookup on a worker waits inside getaddrinfo,
 * as a slow DNS server would keep it.
 */
#ifndef HOSTS_TEST_H
#define HOSTS_TEST_H

#include <corio/corio.h>

#include <stdatomic.h>
#include <stdbool.h>

/* Writes `text` as the hosts file (in a fresh temporary directory). */
void hosts_write(const char *text);
/* Makes lookups use the file; on_loop: answered in the task, not on a worker. */
void hosts_use(bool on_loop);
/* Back to the system's resolver; removes the file. */
void hosts_done(void);

/* The gate: lookups wait in the resolver while it is closed. */
void hosts_gate_close(void);
void hosts_gate_open(void);

extern atomic_int hosts_live;    /* answers handed out and not freed      */
extern atomic_int hosts_entered; /* lookups that reached the resolver     */
extern atomic_int hosts_left;    /* lookups that came out of the resolver */

#endif /* HOSTS_TEST_H */
