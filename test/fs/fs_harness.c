/*
 * fs_harness.c -- scratch directories, the loop, the gate and the process
 * probes the file-job tests share (see fs_harness.h).
 */
#include "fs_harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef FT_HAVE_LIBURING
#include <linux/io_uring.h>
#endif

ft_state ft;

/* ft_path's results, used round-robin */
static char paths[8][320];
static unsigned next_path;

void ft_init(void)
{
    const char *tmp = getenv("TMPDIR");
    memset(&ft, 0, sizeof ft);
    rt_reset();
    snprintf(ft.dir, sizeof ft.dir, "%s/corio-fs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(ft.dir), "mkdtemp: %s", strerror(errno));
    cr_assert_eq(pipe(ft.gate), 0);
    atomic_init(&ft.entered, 0);
    atomic_init(&ft.left, 0);
}

/* The scratch directory holds only files and FIFOs. */
void ft_fini(void)
{
    DIR *d;
    if (getuid() == 0 && geteuid() != 0) /* a test that gave up root failed midway */
        (void)!seteuid(0);
    d = opendir(ft.dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char path[600];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", ft.dir, e->d_name);
        if (unlink(path) != 0)
            rmdir(path);
    }
    if (d)
        closedir(d);
    rmdir(ft.dir);
    close(ft.gate[0]);
    close(ft.gate[1]);
}

co_loop *ft_loop(int workers)
{
    co_loop_options opt = rt_options();
    opt.hooks.clock = NULL; /* file jobs take real time: no fake clock, no jumps */
    opt.autojump = false;
    opt.workers = workers;
    return rt_loop_with(&opt);
}

const char *ft_path(const char *name)
{
    char *p = paths[next_path++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", ft.dir, name);
    return p;
}

void ft_write(const char *name, const void *data, size_t len)
{
    const char *path = ft_path(name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const char *p = data;
    cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
    while (len) {
        ssize_t n = write(fd, p, len);
        cr_assert(n > 0, "write %s: %s", path, strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    close(fd);
}

const char *ft_fifo(const char *name)
{
    const char *path = ft_path(name);
    cr_assert_eq(mkfifo(path, 0600), 0, "mkfifo: %s", strerror(errno));
    return path;
}

int64_t ft_gate_wait(void *arg)
{
    int64_t *slot = arg, value = *slot;
    char c;
    atomic_fetch_add(&ft.entered, 1);
    while (read(ft.gate[0], &c, 1) < 0 && errno == EINTR)
        ;
    *slot = -1; /* the worker's write into the frame */
    atomic_fetch_add(&ft.left, 1);
    return value;
}

void ft_gate_open(int n)
{
    while (n-- > 0)
        cr_assert_eq(write(ft.gate[1], "g", 1), 1);
}

int ft_threads_named(const char *comm)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;
    cr_assert_not_null(d);
    while ((e = readdir(d)) != NULL) {
        char path[300], name[64] = "";
        FILE *f;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        if (fgets(name, sizeof name, f))
            name[strcspn(name, "\n")] = '\0';
        fclose(f);
        n += strcmp(name, comm) == 0;
    }
    closedir(d);
    return n;
}

int ft_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    cr_assert_not_null(d);
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n; /* counts ., .. and the DIR's own fd: a constant offset */
}

#ifdef FT_HAVE_LIBURING
/* Whether this kernel lets a process set up an io_uring with the features
 * fs.c needs, asked with the raw system call rather than through corio. */
static bool kernel_has_io_uring(void)
{
    struct io_uring_params p;
    long fd;
    memset(&p, 0, sizeof p);
    fd = syscall(__NR_io_uring_setup, 4, &p);
    if (fd < 0)
        return false;
    close((int)fd);
    return (p.features & IORING_FEAT_NODROP) && (p.features & IORING_FEAT_RW_CUR_POS);
}
#endif

const char *ft_expected_backend(void)
{
#ifdef FT_HAVE_LIBURING
    const char *want = getenv("CORIO_FS");
    if (!(want && strcmp(want, "threads") == 0) && kernel_has_io_uring())
        return "io_uring";
#endif
    return "threads";
}
