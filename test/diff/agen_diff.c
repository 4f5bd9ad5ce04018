/*
 * agen_diff.c -- differential test of the async generators (agen.h)
 * against CPython 3.11's.
 *
 * agen_twins.py draws seeded random walks of operations -- new p / next /
 * send v / throw KIND / close, with a sleep between them -- over one async
 * generator shape, runs them under asyncio and prints a neutral trace line
 * for each.  This test reads those lines in a task, replays each operation
 * on the shape's C twin below (the same awaits inside: sleeps between the
 * yields and in the cleanup) and prints its own line the same way; the two
 * must agree byte for byte.  The first disagreement is reported with the
 * line that led to it.  Without python3 the tests are skipped.
 */
#define _POSIX_C_SOURCE 200809L

#include <corio/corio.h>

#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef AGEN_SCRIPT
#error "AGEN_SCRIPT must be the absolute path of agen_twins.py (test/diff/meson.build sets it)"
#endif
#define PYTHON "/usr/bin/python3"
#define SEEDS 40
#define COUNT 200
#define LINE 1024

enum { E1 = -7001, E2 = -7002, E3 = -7003 };

/* The log the generators write, entries joined by commas. */
static char tlog_buf[LINE];
static void tlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tlog(const char *fmt, ...)
{
    size_t n = strlen(tlog_buf);
    va_list ap;
    if (n && n + 1 < sizeof tlog_buf)
        tlog_buf[n++] = ',';
    va_start(ap, fmt);
    vsnprintf(tlog_buf + n, sizeof tlog_buf - n, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ the twins */

CO_ASYNC_GEN(basic, int, int p; int i; co_try tries[2];)
    tlog("start");
    CO_TRY(self) {
        for (self->i = 0; self->i < self->p; self->i++) {
            CO_SLEEP(self, 0);
            CO_TRY(self) {
                CO_YIELD(self, self->i * 10);
                if (CO_SENT(self))
                    tlog("sent %d", self->in);
                else
                    tlog("sent None");
            } CO_EXCEPT(self, E1) {
                tlog("caught E1");
                CO_SLEEP(self, 0);
                CO_YIELD(self, -1);
            } CO_TRY_END(self);
        }
        tlog("end");
    } CO_EXCEPT(self, E2) {
        tlog("caught E2");
    } CO_TRY_FINALLY(self) {
        tlog("finally");
        CO_SLEEP(self, 0);
        tlog("cleaned");
    } CO_TRY_END(self);
CO_ASYNC_END

CO_ASYNC_GEN(stubborn, int, int p; co_try tries[1];)
    for (;;) {
        CO_TRY(self) {
            CO_YIELD(self, self->p);
        } CO_EXCEPT(self, CO_EXIT) {
            tlog("ignoring exit");
            CO_SLEEP(self, 0);
            CO_YIELD(self, self->p + 100);
        } CO_TRY_END(self);
        self->p++;
    }
    CO_FINALLY(self) {
        tlog("finally");
    }
CO_ASYNC_END

CO_ASYNC_GEN(deleg, int, int p; basic inner;)
    tlog("outer start");
    CO_AGEN(self, inner, basic, .p = self->p);
    CO_YIELD_FROM(self, inner);
    tlog("outer after");
    CO_YIELD(self, 99);
    CO_FINALLY(self) {
        tlog("outer finally");
    }
CO_ASYNC_END

/* Every twin has the same layout up to `in` (agen.h: `out` sits at the same
 * offset in every async generator), so the awaits go through `basic *`. */
typedef union twin {
    basic b;
    stubborn s;
    deleg d;
} twin;

static void twin_new(twin *t, const char *shape, int p)
{
    memset(t, 0, sizeof *t);
    if (strcmp(shape, "stubborn") == 0) {
        CO_INIT(&t->s, stubborn_fn);
        t->s.p = p;
    } else if (strcmp(shape, "deleg") == 0) {
        CO_INIT(&t->d, deleg_fn);
        t->d.p = p;
    } else {
        CO_INIT(&t->b, basic_fn);
        t->b.p = p;
    }
}

static const char *kind(int err)
{
    static char other[32];
    switch (err) {
    case E1: return "E1";
    case E2: return "E2";
    case E3: return "E3";
    case CO_EXIT: return "EXIT";
    case CO_ENOTSTARTED: return "not-started";
    case CO_EIGNOREDCLOSE: return "ignored-close";
    case CO_ESTOPITERATION: return "stop-iteration";
    default: snprintf(other, sizeof other, "error %d", err); return other;
    }
}

static int throwable(const char *name) { return name[1] == '1' ? E1 : name[1] == '2' ? E2 : E3; }

/* ------------------------------------------------------------ the replay */

#define NO_VALUE (-999999)

CO_ASYNC(replay, FILE *py; const char *shape; twin *slots; size_t used; basic *g; int v;
         int arg; int rc; size_t k; long lines; char op[16]; char line[LINE]; char mine[LINE];
         char bad[2 * LINE + 64];)
    while (fgets(self->line, sizeof self->line, self->py)) {
        self->lines++;
        if (self->line[0] == '#') { /* a new walk */
            self->g = NULL; /* its generators stay, as Python keeps them */
            continue;
        }
        self->arg = 0;
        self->op[0] = '\0';
        if (sscanf(self->line, "%*d %15s %d", self->op, &self->arg) < 1) {
            snprintf(self->bad, sizeof self->bad, "unreadable line: %s", self->line);
            break;
        }
        tlog_buf[0] = '\0';
        self->v = NO_VALUE;
        self->rc = 0;
        if (strcmp(self->op, "new") == 0) {
            cr_assert_lt(self->used, SEEDS * COUNT);
            self->g = &self->slots[self->used++].b;
            twin_new((twin *)(void *)self->g, self->shape, self->arg);
        } else if (strcmp(self->op, "next") == 0) {
            CO_ANEXT_CATCH(self, self->g, &self->v);
            self->rc = CO_THROWN(self);
        } else if (strcmp(self->op, "send") == 0) {
            CO_ASEND_CATCH(self, self->g, &self->arg, &self->v);
            self->rc = CO_THROWN(self);
        } else if (strcmp(self->op, "throw") == 0) {
            sscanf(self->line, "%*d %*s %15s", self->op);
            CO_ATHROW_CATCH(self, self->g, throwable(self->op), &self->v);
            self->rc = CO_THROWN(self);
            strcpy(self->op, "throw");
        } else {
            CO_ACLOSE_CATCH(self, self->g);
            self->rc = CO_THROWN(self);
        }
        {
            char outcome[64];
            const char *arg_end = strstr(self->line, " =>");
            if (strcmp(self->op, "new") == 0)
                snprintf(outcome, sizeof outcome, "ok");
            else if (self->rc == CO_ESTOPASYNC)
                snprintf(outcome, sizeof outcome, "stop");
            else if (self->rc < 0)
                snprintf(outcome, sizeof outcome, "raise %s", kind(self->rc));
            else if (self->v == NO_VALUE)
                snprintf(outcome, sizeof outcome, "none");
            else
                snprintf(outcome, sizeof outcome, "value %d", self->v);
            snprintf(self->mine, sizeof self->mine, "%.*s => %s | %s | %s\n",
                     arg_end ? (int)(arg_end - self->line) : 0, self->line, outcome,
                     co_state(&self->g->gen) == CO_CLOSED ? "done" : "live",
                     tlog_buf[0] ? tlog_buf : "-");
        }
        if (strcmp(self->mine, self->line) != 0) {
            snprintf(self->bad, sizeof self->bad, "python: %sC:      %s", self->line, self->mine);
            break;
        }
        CO_SLEEP(self, 0);
    }
    for (self->k = 0; self->k < self->used; self->k++)
        CO_ACLOSE_CATCH(self, &self->slots[self->k].b);
CO_ASYNC_END

static void quiet(co_loop *loop, const co_exception *e, void *arg)
{
    (void)loop;
    (void)arg;
    cr_expect_eq(e->code, CO_ESTOPASYNC, "closing one at shutdown: %d", e->code);
}

static void run_shape(const char *shape)
{
    char cmd[512];
    co_loop *loop;
    replay *r;
    FILE *py;
    if (access(PYTHON, X_OK) != 0)
        cr_skip_test("no %s to compare with", PYTHON);
    snprintf(cmd, sizeof cmd, "%s -I %s %s %d %d", PYTHON, AGEN_SCRIPT, shape, SEEDS, COUNT);
    py = popen(cmd, "r");
    cr_assert(py, "cannot run %s", cmd);
    cr_assert_eq(co_loop_new(&loop, NULL), 0);
    co_loop_set_exception_handler(loop, quiet, NULL); /* the stubborn ones, at shutdown */
    r = CO_NEW(loop, replay, replay_fn);
    cr_assert(r);
    r->py = py;
    r->shape = shape;
    r->slots = calloc(SEEDS * COUNT, sizeof *r->slots);
    cr_assert(r->slots);
    cr_expect_eq(co_run(loop, &r->gen), 0);
    while (fgets(cmd, sizeof cmd, py)) /* after a disagreement: python ends quietly */
        ;
    cr_expect_eq(pclose(py), 0, "agen_twins.py failed");
    cr_expect_str_eq(r->bad, "", "first disagreement, after %ld lines:\n%s", r->lines, r->bad);
    cr_expect_eq(r->lines, SEEDS * (COUNT + 1), "python printed %ld lines", r->lines);
    free(r->slots);
    co_loop_free(loop);
}

Test(agen_diff, basic) { run_shape("basic"); }
Test(agen_diff, stubborn) { run_shape("stubborn"); }
Test(agen_diff, delegation) { run_shape("deleg"); }
