/*
 * chat.c -- the `chat` suite: samples/chat_server run as the program it is
 * (and its asyncio twin, samples/chat_server.py, through the same tests),
 * with clients on plain blocking sockets.
 *
 * The server says "N connected" whenever a client comes or goes; the
 * tests wait for those lines, so that a line is sent only once everyone
 * who must hear it is in.  Every wait has a time limit.  meson passes the
 * command in CHAT_SERVER (and CHAT_PYTHON, to run it with an interpreter).
 */
#define _GNU_SOURCE

#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { WAIT_MS = 10000 };

static pid_t server_pid;
static FILE *server_out;
static int server_port;

static void expect_line(const char *want)
{
    char line[256];
    struct pollfd p = {.fd = fileno(server_out), .events = POLLIN};
    cr_assert_eq(poll(&p, 1, WAIT_MS), 1, "the server did not say \"%s\"", want);
    cr_assert_not_null(fgets(line, sizeof line, server_out), "the server ended early");
    line[strcspn(line, "\n")] = '\0';
    cr_assert_str_eq(line, want);
}

static void start_server(void)
{
    const char *cmd = getenv("CHAT_SERVER"), *py = getenv("CHAT_PYTHON");
    char line[256];
    int fds[2];
    cr_assert(cmd && *cmd, "CHAT_SERVER is not set: run this suite with `meson test`");
    cr_assert_eq(pipe(fds), 0);
    fflush(NULL);
    server_pid = fork();
    cr_assert_neq(server_pid, -1);
    if (server_pid == 0) {
        sigset_t none;
        signal(SIGTERM, SIG_DFL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        if (py && *py)
            execl(py, py, cmd, "--port", "0", (char *)NULL);
        else
            execl(cmd, cmd, "--port", "0", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    server_out = fdopen(fds[0], "r");
    cr_assert_not_null(server_out);
    setvbuf(server_out, NULL, _IONBF, 0); /* poll must see what fgets has not read */
    cr_assert_not_null(fgets(line, sizeof line, server_out), "the server printed nothing");
    cr_assert_eq(sscanf(line, "chat on 127.0.0.1:%d", &server_port), 1, "%s", line);
}

/* SIGTERM: it must say "stopped" (after the clients' "N connected" as
 * they are closed) and exit 0. */
static void stop_server(void)
{
    char line[256];
    int status;
    kill(server_pid, SIGTERM);
    for (;;) {
        struct pollfd p = {.fd = fileno(server_out), .events = POLLIN};
        cr_assert_eq(poll(&p, 1, WAIT_MS), 1, "the server did not stop");
        cr_assert_not_null(fgets(line, sizeof line, server_out), "no \"stopped\"");
        if (strcmp(line, "stopped\n") == 0)
            break;
        cr_assert(strstr(line, " connected\n"), "unexpected: %s", line);
    }
    cr_assert_eq(waitpid(server_pid, &status, 0), server_pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
    fclose(server_out);
}

static void kill_server(void)
{
    if (server_pid > 0 && waitpid(server_pid, NULL, WNOHANG) == 0) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, NULL, 0);
    }
}

TestSuite(chat, .fini = kill_server, .timeout = 60);

/* ------------------------------------------------------------ clients */

static int join(int expect_count)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)server_port)};
    char want[32];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0, "%s", strerror(errno));
    snprintf(want, sizeof want, "%d connected", expect_count);
    expect_line(want);
    return fd;
}

static void say(int fd, const char *text)
{
    size_t n = strlen(text);
    cr_assert_eq(send(fd, text, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Reads exactly strlen(want) bytes and compares them. */
static void hear(int fd, const char *want)
{
    size_t n = strlen(want), got = 0;
    char buf[512];
    cr_assert(n < sizeof buf);
    while (got < n) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t k;
        cr_assert_eq(poll(&p, 1, WAIT_MS), 1, "heard %zu of \"%s\"", got, want);
        k = recv(fd, buf + got, n - got, 0);
        cr_assert(k > 0, "the connection ended after %zu bytes", got);
        got += (size_t)k;
    }
    buf[n] = '\0';
    cr_assert_str_eq(buf, want);
}

static void hear_eof(int fd)
{
    char c;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    cr_assert_eq(poll(&p, 1, WAIT_MS), 1);
    cr_assert_eq(recv(fd, &c, 1, 0), 0, "more bytes where end of stream was due");
}

static void reset_close(int fd)
{
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

/* -------------------------------------------------------------- tests */

Test(chat, a_line_goes_to_everyone_else)
{
    int a, b, c;
    start_server();
    a = join(1);
    b = join(2);
    c = join(3);
    say(a, "hello\n");
    hear(b, "hello\n");
    hear(c, "hello\n");
    say(b, "hi a\n");
    hear(a, "hi a\n"); /* a heard nothing of its own line before this */
    hear(c, "hi a\n");
    stop_server();
    hear_eof(a);
    hear_eof(b);
    hear_eof(c);
}

Test(chat, an_abrupt_disconnect_does_not_disturb_the_rest)
{
    int a, b, c;
    start_server();
    a = join(1);
    b = join(2);
    c = join(3);
    say(c, "half a line, then a reset");
    reset_close(c);
    expect_line("2 connected");
    say(a, "still here\n");
    hear(b, "still here\n"); /* nothing of c's partial line */
    say(b, "me too\n");
    hear(a, "me too\n");
    stop_server();
    close(a);
    close(b);
}

Test(chat, a_flood_of_lines_arrives_whole_and_in_order)
{
    enum { LINES = 2000 };
    static char flood[LINES * 16];
    size_t len = 0;
    int a, b;
    start_server();
    a = join(1);
    b = join(2);
    for (int i = 0; i < LINES; i++)
        len += (size_t)sprintf(flood + len, "line %05d\n", i);
    for (size_t off = 0; off < len;) { /* as fast as the socket takes it */
        ssize_t k = send(a, flood + off, len - off, MSG_NOSIGNAL);
        cr_assert(k > 0);
        off += (size_t)k;
    }
    for (int i = 0; i < LINES; i++) {
        char want[16];
        sprintf(want, "line %05d\n", i);
        hear(b, want);
    }
    stop_server();
    close(a);
    close(b);
}
