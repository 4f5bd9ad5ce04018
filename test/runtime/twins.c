/*
 * twins.c -- C against CPython: runs twins_asyncio.py, the asyncio twins of
 * the ordering cases, and checks each prints the trace of twins.h, which
 * the C tests assert for their own logs.  Python 3.11 is what the traces
 * were taken from (/usr/bin/python3); without a python3 the test is skipped
 * with the reason.  Not on the bare build: it has no processes.
 */
#ifndef RT_BARE
#define _POSIX_C_SOURCE 200809L

#include "testloop.h"
#include "twins.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TWINS_SCRIPT
#error "TWINS_SCRIPT must be the path of twins_asyncio.py (test/runtime/meson.build sets it)"
#endif

TestSuite(twins);

static const char *python(void)
{
    if (access("/usr/bin/python3", X_OK) == 0)
        return "/usr/bin/python3";
    return system("python3 -c '' 2>/dev/null") == 0 ? "python3" : NULL;
}

/* The script's whole output. */
static char *run_script(const char *py)
{
    static char out[32768];
    char cmd[4096];
    size_t n = 0, got;
    FILE *p;
    snprintf(cmd, sizeof cmd, "%s '%s'", py, TWINS_SCRIPT);
    p = popen(cmd, "r");
    cr_assert_not_null(p, "cannot run %s", cmd);
    while (n < sizeof out - 1 && (got = fread(out + n, 1, sizeof out - 1 - n, p)) > 0)
        n += got;
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0, "%s failed:\n%s", cmd, out);
    return out;
}

/* The lines after "== name" up to the next "== " or the end. */
static void section(const char *all, const char *name, char *buf, size_t cap)
{
    char head[128];
    const char *s, *e;
    size_t len;
    snprintf(head, sizeof head, "== %s\n", name);
    s = strstr(all, head);
    cr_assert_not_null(s, "the Python twins print no scenario %s", name);
    s += strlen(head);
    e = strstr(s, "\n== ");
    len = e ? (size_t)(e - s) + 1 : strlen(s);
    cr_assert_lt(len, cap);
    memcpy(buf, s, len);
    buf[len] = '\0';
}

Test(twins, cpython_prints_the_traces_the_c_tests_assert)
{
    const char *py = python();
    const char *all;
    char got[4096];
    if (py == NULL)
        cr_skip_test("no python3 to run the asyncio twins");
    all = run_script(py);
#define CHECK(name, trace)                                                            \
    section(all, #name, got, sizeof got);                                             \
    cr_expect_str_eq(got, trace, "scenario " #name ": CPython printed\n%s", got);
    TWIN_LIST(CHECK)
#undef CHECK
}
#else
typedef int twins_not_on_bare; /* ISO C wants something in a file */
#endif
