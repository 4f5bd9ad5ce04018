/*
 * hosts.c -- the hosts-file resolver of the name tests (see hosts.h).
 */
#include "hosts.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

atomic_int hosts_live, hosts_entered, hosts_left;

static char dir[64], path[96];
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static bool gate_closed;

void hosts_write(const char *text)
{
    FILE *f;
    if (dir[0] == '\0') {
        snprintf(dir, sizeof dir, "/tmp/corio-hosts-XXXXXX");
        cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
        snprintf(path, sizeof path, "%s/hosts", dir);
    }
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

void hosts_gate_close(void)
{
    pthread_mutex_lock(&gate_lock);
    gate_closed = true;
    pthread_mutex_unlock(&gate_lock);
}

void hosts_gate_open(void)
{
    pthread_mutex_lock(&gate_lock);
    gate_closed = false;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
}

/* One answer: the addrinfo and its address in one block. */
typedef struct node {
    struct addrinfo ai;
    struct sockaddr_storage ss;
} node;

static struct addrinfo *new_node(int family, const void *addr, int port)
{
    node *n = calloc(1, sizeof *n);
    if (n == NULL)
        return NULL;
    n->ai.ai_family = family;
    n->ai.ai_socktype = SOCK_STREAM;
    n->ai.ai_addr = (struct sockaddr *)&n->ss;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&n->ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        memcpy(&in->sin_addr, addr, sizeof in->sin_addr);
        n->ai.ai_addrlen = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&n->ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        memcpy(&in6->sin6_addr, addr, sizeof in6->sin6_addr);
        n->ai.ai_addrlen = sizeof *in6;
    }
    return &n->ai;
}

static void free_chain(void *ctx, struct addrinfo *res)
{
    (void)ctx;
    while (res) {
        struct addrinfo *next = res->ai_next;
        free(res);
        res = next;
    }
    atomic_fetch_sub(&hosts_live, 1);
}

/* Does the line (after its address) name `host`? */
static bool names(char *rest, const char *host)
{
    char *save = NULL; /* lookups run on several workers at once */
    for (char *tok = strtok_r(rest, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save))
        if (strcasecmp(tok, host) == 0)
            return true;
    return false;
}

static int lookup(const char *host, int family, int port, struct addrinfo **res)
{
    char line[256];
    struct addrinfo *head = NULL, **tail = &head;
    bool known = false;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return EAI_SYSTEM;
    while (fgets(line, sizeof line, f)) {
        char text[64];
        unsigned char bin[16];
        int fam, used = 0;
        if (sscanf(line, "%63s %n", text, &used) != 1 || text[0] == '#' ||
            !names(line + used, host))
            continue;
        known = true;
        fam = strchr(text, ':') ? AF_INET6 : AF_INET;
        if ((family != AF_UNSPEC && family != fam) || inet_pton(fam, text, bin) != 1)
            continue;
        if ((*tail = new_node(fam, bin, port)) == NULL)
            break;
        tail = &(*tail)->ai_next;
    }
    fclose(f);
    if (head == NULL)
        return known ? EAI_NODATA : EAI_NONAME;
    atomic_fetch_add(&hosts_live, 1);
    *res = head;
    return 0;
}

static int resolve(void *ctx, const char *host, const char *service,
                   const struct addrinfo *hints, struct addrinfo **res)
{
    int rc;
    (void)ctx;
    atomic_fetch_add(&hosts_entered, 1);
    pthread_mutex_lock(&gate_lock);
    while (gate_closed)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    rc = lookup(host, hints ? hints->ai_family : AF_UNSPEC, service ? atoi(service) : 0, res);
    atomic_fetch_add(&hosts_left, 1);
    return rc;
}

void hosts_use(bool on_loop)
{
    co_resolver r = {resolve, free_chain, NULL, on_loop};
    co_set_resolver(&r);
}

void hosts_done(void)
{
    co_set_resolver(NULL);
    if (dir[0]) {
        unlink(path);
        rmdir(dir);
        dir[0] = '\0';
    }
}
