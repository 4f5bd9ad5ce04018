/*
 * addr.c -- addresses and listeners: what co_addr_ip accepts without a
 * lookup, Unix paths, SO_REUSEPORT, and a Unix listener taking over the
 * socket file a dead server left.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static void fini(void)
{
    if (net.dir[0]) {
        unlink(unix_path("server.sock"));
        unlink(unix_path("file"));
        rmdir(net.dir);
    }
}

TestSuite(addr, .init = net_reset, .fini = fini, .timeout = 30);

static void assert_ipv4(const co_addr *a, const char *text, int port)
{
    char buf[INET_ADDRSTRLEN];
    cr_assert_eq(a->u.sa.sa_family, AF_INET);
    cr_assert_eq(a->len, sizeof(struct sockaddr_in));
    cr_assert_not_null(inet_ntop(AF_INET, &a->u.in4.sin_addr, buf, sizeof buf));
    cr_assert_str_eq(buf, text);
    cr_assert_eq(co_addr_port(a), port);
}

Test(addr, numeric_ipv4_localhost_and_any)
{
    co_addr a;
    cr_assert_eq(co_addr_ip(&a, "127.0.0.1", 8080), 0);
    assert_ipv4(&a, "127.0.0.1", 8080);
    cr_assert_eq(co_addr_ip(&a, "localhost", 65535), 0);
    assert_ipv4(&a, "127.0.0.1", 65535);
    cr_assert_eq(co_addr_ip(&a, NULL, 0), 0);
    assert_ipv4(&a, "0.0.0.0", 0);
    cr_assert_eq(co_addr_ip(&a, "", 1), 0);
    assert_ipv4(&a, "0.0.0.0", 1);
}

Test(addr, numeric_ipv6_with_and_without_scope)
{
    co_addr a;
    struct in6_addr loop6 = IN6ADDR_LOOPBACK_INIT;
    cr_assert_eq(co_addr_ip(&a, "::1", 443), 0);
    cr_assert_eq(a.u.sa.sa_family, AF_INET6);
    cr_assert_eq(a.len, sizeof(struct sockaddr_in6));
    cr_assert_arr_eq(&a.u.in6.sin6_addr, &loop6, sizeof loop6);
    cr_assert_eq(co_addr_port(&a), 443);
    cr_assert_eq(a.u.in6.sin6_scope_id, 0);
    cr_assert_eq(co_addr_ip(&a, "fe80::1%7", 1), 0);
    cr_assert_eq(a.u.in6.sin6_scope_id, 7);
    cr_assert_eq(co_addr_ip(&a, "fe80::1%lo", 1), 0, "an interface name as scope");
    cr_assert_gt(a.u.in6.sin6_scope_id, 0);
}

Test(addr, names_that_need_a_lookup_and_bad_ports_are_refused)
{
    co_addr a;
    cr_assert_eq(co_addr_ip(&a, "example.com", 80), -EINVAL);
    cr_assert_eq(co_addr_ip(&a, "localhost.localdomain", 80), -EINVAL);
    cr_assert_eq(co_addr_ip(&a, "1.2.3", 80), -EINVAL);
    cr_assert_eq(co_addr_ip(&a, "::1%no-such-interface", 80), -EINVAL);
    cr_assert_eq(co_addr_ip(&a, "127.0.0.1", -1), -EINVAL);
    cr_assert_eq(co_addr_ip(&a, "127.0.0.1", 65536), -EINVAL);
}

Test(addr, unix_paths)
{
    co_addr a;
    char longer[sizeof a.u.un.sun_path + 1];
    cr_assert_eq(co_addr_unix(&a, "/tmp/x.sock"), 0);
    cr_assert_eq(a.u.sa.sa_family, AF_UNIX);
    cr_assert_str_eq(a.u.un.sun_path, "/tmp/x.sock");
    cr_assert_eq(co_addr_port(&a), -EAFNOSUPPORT);
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    cr_assert_eq(co_addr_unix(&a, longer), -ENAMETOOLONG);
    cr_assert_eq(co_addr_unix(&a, ""), -EINVAL);
}

Test(addr, listeners_are_nonblocking_and_report_their_port)
{
    co_addr a;
    int fd = tcp_listener(8, &a);
    cr_assert_gt(co_addr_port(&a), 0, "port 0 became the port picked");
    cr_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
    cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    close(fd);
}

Test(addr, reuseport_lets_listeners_share_a_port)
{
    co_addr a;
    int first, second, third;
    cr_assert_eq(co_addr_ip(&a, "127.0.0.1", 0), 0);
    first = co_listen(&a, 8, CO_LISTEN_REUSEPORT);
    cr_assert_geq(first, 0, "%s", co_strerror(first));
    cr_assert_eq(co_sockname(first, &a), 0);
    second = co_listen(&a, 8, CO_LISTEN_REUSEPORT);
    cr_assert_geq(second, 0, "a second listener on the port: %s", co_strerror(second));
    third = co_listen(&a, 8, 0);
    cr_assert_eq(third, -EADDRINUSE, "without the flag the port is taken: %s",
                 co_strerror(third));
    cr_assert_eq(co_listen(&a, 8, 0x100), -EINVAL, "unknown flags");
    close(first);
    close(second);
}

Test(addr, a_unix_listener_replaces_a_stale_socket_file_only)
{
    co_addr a;
    int fd, again, file;
    cr_assert_eq(co_addr_unix(&a, unix_path("server.sock")), 0);
    fd = co_listen(&a, 8, 0);
    cr_assert_geq(fd, 0, "%s", co_strerror(fd));
    close(fd); /* the server dies; its socket file stays */
    cr_assert_eq(access(a.u.un.sun_path, F_OK), 0);
    again = co_listen(&a, 8, 0);
    cr_assert_geq(again, 0, "the stale socket file was not replaced: %s", co_strerror(again));
    close(again);
    /* a file that is not a socket is never removed */
    cr_assert_eq(co_addr_unix(&a, unix_path("file")), 0);
    file = open(a.u.un.sun_path, O_CREAT | O_WRONLY, 0600);
    cr_assert_geq(file, 0);
    close(file);
    cr_assert_eq(co_listen(&a, 8, 0), -EADDRINUSE);
    cr_assert_eq(access(a.u.un.sun_path, F_OK), 0);
}
