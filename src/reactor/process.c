/*
 * process.c -- child processes: spawning with posix_spawn, waiting for
 * their end, signals, and closing.  (communicate's pipe pumps are in
 * pipes.c.)
 *
 * Spawning: the pipes are made close-on-exec and the child's ends are put
 * in place by posix_spawn's file actions, so nothing but fds 0-2 reaches
 * the child; signal dispositions and the mask are reset for it, since the
 * loop ignores SIGPIPE and exec would keep that.  glibc's posix_spawn
 * reports a failed exec as its own error, so "no such program" comes back
 * from co_process_spawn, not as exit status 127.
 *
 * Waiting: on Linux a pidfd, opened right after the spawn, becomes readable
 * when the child ends; the task waits on it like on a socket and then reaps
 * exactly that pid.  Without pidfds a SIGCHLD watch per loop (signal.c's
 * co_signal_watch) sets an event that every waiter wakes on, and each tries
 * waitpid on its own pid.  Neither way reaps another child of the process.
 */
#include "reactor.h"

#include <corio/process.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

extern char **environ;

/* co_process.phase (shared with pipes.c) */
enum { PH_IDLE, PH_PUMPS, PH_WAIT, PH_WAIT_FD, PH_WAIT_EV, PH_DONE };

int co__pipes_start(co_process *p);  /* pipes.c */
int co__pipes_step(co_process *p);   /* 1: the pumps are done */
void co__pipes_end(co_process *p);   /* lets the pumps go */

/* ------------------------------------------------------ pidfd or SIGCHLD */

static int pidfd_open_(pid_t pid)
{
#if defined(__linux__) && defined(SYS_pidfd_open)
    const char *env = getenv("CORIO_PIDFD");
    if (env && strcmp(env, "0") == 0)
        return -ENOSYS;
    {
        long fd = syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
            return -errno;
        /* pidfds are close-on-exec from birth */
        return (int)fd;
    }
#else
    (void)pid;
    return -ENOSYS;
#endif
}

/* One SIGCHLD watch per loop that runs children without pidfds. */
typedef struct chld_watch {
    struct chld_watch *next;
    co_loop *loop;
    co_event ev;
    int users;
} chld_watch;

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static chld_watch *watches;

static chld_watch *find_watch(co_loop *loop)
{
    for (chld_watch *w = watches; w; w = w->next)
        if (w->loop == loop)
            return w;
    return NULL;
}

static void watches_fini(co_reactor *r);

/* Frees a loop's watch with the loop, should a process never be closed. */
static const co__subsys sigchld_subsys = {.fini = watches_fini};

static int watch_acquire(co_process *p)
{
    co_loop *loop = p->loop;
    chld_watch *w;
    int rc = co__reactor_attach(co__reactor(loop), &sigchld_subsys);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&watch_lock);
    if ((w = find_watch(loop)) != NULL)
        w->users++;
    else if ((w = co__alloc(loop, sizeof *w)) == NULL)
        rc = CO_ENOMEM;
    else {
        co_event_init(&w->ev);
        w->loop = loop;
        w->users = 1;
        if ((rc = co_signal_watch(loop, SIGCHLD, &w->ev)) < 0)
            co__free(loop, w, sizeof *w);
        else {
            w->next = watches;
            watches = w;
        }
    }
    if (rc == 0)
        p->watch = w;
    pthread_mutex_unlock(&watch_lock);
    return rc;
}

static void unlink_watch(chld_watch *w)
{
    for (chld_watch **pw = &watches; *pw; pw = &(*pw)->next)
        if (*pw == w) {
            *pw = w->next;
            break;
        }
    co_signal_unwatch(w->loop, SIGCHLD);
    co__free(w->loop, w, sizeof *w);
}

static void watch_release(co_process *p)
{
    chld_watch *w = p->watch;
    if (w == NULL)
        return;
    pthread_mutex_lock(&watch_lock);
    if (--w->users == 0)
        unlink_watch(w);
    p->watch = NULL;
    pthread_mutex_unlock(&watch_lock);
}

static void watches_fini(co_reactor *r)
{
    chld_watch *w;
    pthread_mutex_lock(&watch_lock);
    if ((w = find_watch(r->loop)) != NULL)
        unlink_watch(w);
    pthread_mutex_unlock(&watch_lock);
}

static co_event *watch_event(co_process *p) { return &((chld_watch *)p->watch)->ev; }

/* --------------------------------------------------------------- reaping */

static void mark_exited(co_process *p)
{
    p->exited = true;
    if (p->pidfd >= 0) {
        co_fd_close(p->loop, p->pidfd);
        p->pidfd = -1;
    } else
        watch_release(p);
}

/* 1 reaped (returncode set), 0 still running, <0 it cannot be reaped. */
static int reap(co_process *p, int options)
{
    int st = 0;
    pid_t r;
    do
        r = waitpid(p->pid, &st, options);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return 0;
    if (r < 0) {
        int err = -errno; /* ECHILD: SIGCHLD ignored, or reaped by someone else */
        mark_exited(p);
        return err;
    }
    p->returncode = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? -WTERMSIG(st) : 0;
    mark_exited(p);
    return 1;
}

/* ----------------------------------------------------------- spawning */

static void init(co_process *p, co_loop *loop)
{
    memset(p, 0, sizeof *p);
    p->pid = -1;
    p->in = p->out = p->err = -1;
    p->pidfd = -1;
    p->loop = loop;
    p->exited = true; /* nothing to reap until a spawn succeeds */
}

/* A pipe for child stream `target`: the parent's end non-blocking, the
 * child's end above 2 (a dup2 onto itself would keep close-on-exec). */
static int make_pipe(int target, int *parent, int *child)
{
    int fds[2], ours, theirs;
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    ours = target == 0 ? fds[1] : fds[0];
    theirs = target == 0 ? fds[0] : fds[1];
    if (theirs <= 2) {
        int moved = fcntl(theirs, F_DUPFD_CLOEXEC, 3);
        close(theirs);
        if (moved < 0) {
            int err = -errno;
            close(ours);
            return err;
        }
        theirs = moved;
    }
    if (fcntl(ours, F_SETFL, fcntl(ours, F_GETFL) | O_NONBLOCK) < 0) {
        int err = -errno;
        close(ours);
        close(theirs);
        return err;
    }
    *parent = ours;
    *child = theirs;
    return 0;
}

typedef struct spawn_plan {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int child[3]; /* the child's pipe ends, closed in the parent afterwards */
} spawn_plan;

static int plan_stream(spawn_plan *s, co_process *p, int target, uint8_t mode, int fd)
{
    int *parent = target == 0 ? &p->in : target == 1 ? &p->out : &p->err, rc;
    switch (mode) {
    case CO_STDIO_INHERIT: return 0;
    case CO_STDIO_DEVNULL:
        return -posix_spawn_file_actions_addopen(&s->fa, target, "/dev/null",
                                                 target == 0 ? O_RDONLY : O_WRONLY, 0);
    case CO_STDIO_FD:
        if (fd < 0)
            return -EBADF;
        if (fd == target) /* already in place; make sure exec keeps it */
            return fcntl(fd, F_SETFD, 0) < 0 ? -errno : 0;
        return -posix_spawn_file_actions_adddup2(&s->fa, fd, target);
    case CO_STDIO_PIPE:
        if ((rc = make_pipe(target, parent, &s->child[target])) < 0)
            return rc;
        return -posix_spawn_file_actions_adddup2(&s->fa, s->child[target], target);
    default: return -EINVAL;
    }
}

static int plan(spawn_plan *s, co_process *p, const co_spawn_opts *o)
{
    sigset_t none, all;
    int rc;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    if ((rc = -posix_spawnattr_setsigmask(&s->attr, &none)) < 0 ||
        (rc = -posix_spawnattr_setsigdefault(&s->attr, &all)) < 0 ||
        (rc = -posix_spawnattr_setflags(&s->attr,
                                         POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) < 0)
        return rc;
    if ((rc = plan_stream(s, p, 0, o->in, o->in_fd)) < 0 ||
        (rc = plan_stream(s, p, 1, o->out, o->out_fd)) < 0 ||
        (rc = plan_stream(s, p, 2, o->err, o->err_fd)) < 0)
        return rc;
    return 0;
}

static void close_parent_ends(co_process *p)
{
    int *ends[3] = {&p->in, &p->out, &p->err};
    for (int i = 0; i < 3; i++)
        if (*ends[i] >= 0) {
            co_fd_close(p->loop, *ends[i]);
            *ends[i] = -1;
        }
}

static int launch(co_process *p, const char *const *argv, const co_spawn_opts *o)
{
    spawn_plan s;
    char *const *env = (char *const *)(uintptr_t)(o->env ? o->env : (const char *const *)environ);
    char *const *args = (char *const *)(uintptr_t)argv;
    int rc;
    s.child[0] = s.child[1] = s.child[2] = -1;
    if ((rc = -posix_spawn_file_actions_init(&s.fa)) < 0)
        return rc;
    if ((rc = -posix_spawnattr_init(&s.attr)) < 0) {
        posix_spawn_file_actions_destroy(&s.fa);
        return rc;
    }
    rc = plan(&s, p, o);
    if (rc == 0) {
        rc = strchr(argv[0], '/') ? posix_spawn(&p->pid, argv[0], &s.fa, &s.attr, args, env)
                                  : posix_spawnp(&p->pid, argv[0], &s.fa, &s.attr, args, env);
        rc = -rc;
    }
    for (int i = 0; i < 3; i++)
        if (s.child[i] >= 0)
            close(s.child[i]);
    posix_spawnattr_destroy(&s.attr);
    posix_spawn_file_actions_destroy(&s.fa);
    return rc;
}

int co_process_spawn(co_loop *loop, co_process *p, const char *const *argv,
                     const co_spawn_opts *opt)
{
    co_spawn_opts inherit = {0};
    int rc, pidfd;
    bool watching = false;
    if (p == NULL)
        return -EINVAL;
    init(p, loop);
    if (loop == NULL || argv == NULL || argv[0] == NULL || argv[0][0] == '\0')
        return -EINVAL;
    if (opt == NULL)
        opt = &inherit;
    pidfd = pidfd_open_(getpid()); /* does this kernel have them? */
    if (pidfd >= 0)
        close(pidfd);
    else if ((rc = watch_acquire(p)) < 0) /* before the child can end */
        return rc;
    else
        watching = true;
    if ((rc = launch(p, argv, opt)) < 0) {
        close_parent_ends(p);
        watch_release(p);
        p->pid = -1;
        return rc;
    }
    p->exited = false;
    if (!watching && (p->pidfd = pidfd_open_(p->pid)) < 0) {
        /* out of fds: fall back to the SIGCHLD watch for this child */
        p->pidfd = -1;
        if (watch_acquire(p) < 0) {
            kill(p->pid, SIGKILL);
            reap(p, 0);
            close_parent_ends(p);
            return CO_ENOMEM;
        }
    }
    return 0;
}

/* -------------------------------------------------------------- signals */

int co_process_send_signal(co_process *p, int signo)
{
    if (p == NULL || p->pid <= 0)
        return -EINVAL;
    if (p->exited)
        return -ESRCH;
#if defined(__linux__) && defined(SYS_pidfd_send_signal)
    if (p->pidfd >= 0) /* the pidfd names this child even if the pid were reused */
        return syscall(SYS_pidfd_send_signal, p->pidfd, signo, NULL, 0) == 0 ? 0 : -errno;
#endif
    return kill(p->pid, signo) == 0 ? 0 : -errno;
}

int co_process_terminate(co_process *p) { return co_process_send_signal(p, SIGTERM); }
int co_process_kill(co_process *p) { return co_process_send_signal(p, SIGKILL); }

void co_process_close(co_process *p)
{
    if (p == NULL || p->loop == NULL)
        return;
    close_parent_ends(p);
    if (!p->exited && p->pid > 0 && reap(p, WNOHANG) == 0) {
        co_process_kill(p);
        reap(p, 0); /* SIGKILL cannot be caught: this wait is short */
    }
    if (p->out_data)
        co__free(p->loop, p->out_data, p->out_cap);
    if (p->err_data)
        co__free(p->loop, p->err_data, p->err_cap);
    p->out_data = p->err_data = NULL;
    p->out_len = p->err_len = p->out_cap = p->err_cap = 0;
}

/* -------------------------------------------------------------- awaits */

static int start(co_process *p, uint8_t phase)
{
    co_loop *loop = co__loop();
    if (loop == NULL || loop->current == NULL)
        return CO_ENOTASK;
    if (p->loop != loop)
        return CO_EBADARG;
    p->result = 0;
    p->phase = phase;
    return 0;
}

int co__process_wait_start(co_process *p)
{
    if (p == NULL)
        return CO_EBADARG;
    return start(p, PH_WAIT);
}

int co__process_communicate_start(co_process *p, const void *input, size_t len)
{
    int rc;
    if (p == NULL)
        return CO_EBADARG;
    if (co__on_stack(co__loop(), input))
        return CO_ESTACKARG; /* written to the child after the task suspends */
    if ((rc = start(p, PH_PUMPS)) < 0)
        return rc;
    p->input = input;
    p->input_len = input ? len : 0;
    if ((rc = co__pipes_start(p)) < 0) {
        p->result = rc;
        p->phase = PH_DONE;
    }
    return 0;
}

static int done(co_process *p, int result)
{
    if (result < 0 && p->result == 0)
        p->result = result;
    p->phase = PH_DONE;
    return 1;
}

static int wait_step(co_process *p)
{
    for (;;) {
        int rc;
        if (p->exited)
            return done(p, p->pid > 0 ? 0 : -ECHILD);
        if (p->pidfd < 0)
            co_event_clear(watch_event(p)); /* before looking, so no wake-up is missed */
        if ((rc = reap(p, WNOHANG)) != 0)
            return done(p, rc < 0 ? rc : 0);
        if (p->pidfd >= 0) {
            if ((rc = co__fd_wait(p->loop, p->pidfd, CO_READABLE)) < 0)
                return rc == CO_EBUSY ? rc : done(p, rc);
            p->phase = PH_WAIT_FD;
            return 0;
        }
        p->phase = PH_WAIT_EV;
        if ((rc = co__event_wait(watch_event(p))) == 0)
            return 0;
        if (rc < 0)
            return done(p, rc);
        /* 1: a wake-up was still handed to us: look again */
    }
}

int co__process_step(co_process *p)
{
    int rc;
    switch (p->phase) {
    case PH_PUMPS:
        if ((rc = co__pipes_step(p)) <= 0)
            return rc;
        p->phase = PH_WAIT;
        return wait_step(p);
    case PH_WAIT:
    case PH_WAIT_EV: return wait_step(p);
    case PH_WAIT_FD:
        p->phase = PH_WAIT;
        return wait_step(p);
    default: return 1;
    }
}

int co__process_resumed(co_process *p, int thrown)
{
    if (thrown < 0 && p->phase == PH_PUMPS)
        co__pipes_end(p);
    if (thrown < 0) { /* as asyncio: the child is left alone */
        p->result = thrown;
        p->phase = PH_IDLE;
        return thrown;
    }
    if (p->phase == PH_WAIT_FD && co__wait_fd_end() == -EBADF)
        return done(p, -EBADF);
    return 0;
}
