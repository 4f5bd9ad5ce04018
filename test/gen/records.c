/*
 * Error records: a tree's context (co_ctx) and the co_error it points to,
 * Python's exception object -- code and int payload (ValueError(7)), a
 * formatted message, file:line where raised, and the traceback of frames
 * the error unwound through, innermost first.  Also what attaching a
 * context refuses, and that frames without one are unaffected.
 */
#include <criterion/criterion.h>
#include <string.h>

#include <corio/gen.h>

#define VALUE_ERROR (-22)
#define KEY_ERROR (-2)

typedef struct {
    co_gen gen;
    int out;
    int in;
    int fail;    /* 0: returns; 1: raises with a record; 2: plain raise */
    int line;    /* the line it raised at */
    int ret;
} leaf;

static int leaf_fn(co_gen *g)
{
    leaf *self = (leaf *)g;
    CO_BEGIN(self);
    CO_YIELD(self, 1);
    if (self->fail == 1) {
        self->line = __LINE__ + 1;
        CO_RAISE_WITH(self, VALUE_ERROR, 7, "invalid literal %d in %s", "walk");
    }
    if (self->fail == 2) {
        self->line = __LINE__ + 1;
        CO_RAISE(self, KEY_ERROR);
    }
    CO_RETURN(self, 3);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    int out;
    int in;
    leaf kid;
    int line;
    int ret;
} mid;

static int mid_fn(co_gen *g)
{
    mid *self = (mid *)g;
    CO_BEGIN(self);
    self->line = __LINE__ + 1;
    CO_YIELD_FROM(self, kid);
    CO_END(self);
}

typedef struct {
    co_gen gen;
    int out;
    int in;
    co_ctx ctx;
    co_try tries[1];
    mid m;
    int line;
    int catch_it;
    int caught;
    int ret;
} top;

static int top_fn(co_gen *g)
{
    top *self = (top *)g;
    CO_BEGIN(self);
    CO_TRY(self)
    {
        self->line = __LINE__ + 1;
        CO_YIELD_FROM(self, m);
    }
    CO_EXCEPT(self, self->catch_it)
    {
        self->caught = CO_CAUGHT(self);
    }
    CO_TRY_END(self);
    CO_END(self);
}

static void top_init(top *t, co_error *rec, int fail)
{
    memset(t, 0, sizeof *t);
    co_init(&t->gen, top_fn);
    co_init(&t->m.gen, mid_fn);
    co_init(&t->m.kid.gen, leaf_fn);
    t->m.kid.fail = fail;
    cr_assert_eq(co_ctx_attach(&t->gen, &t->ctx), 0);
    t->ctx.error = rec;
}

static void expect_tb(const co_error *e, unsigned k, const char *body, int line)
{
    cr_assert_lt(k, e->depth);
    cr_assert_str_eq(e->tb[k].body, body, "traceback line %u", k);
    cr_assert_eq(e->tb[k].line, (unsigned)line, "traceback line %u of %s", k, body);
}

Test(records, a_raise_with_value_message_place_and_traceback)
{
    top t;
    co_error rec;
    memset(&rec, 0, sizeof rec);
    top_init(&t, &rec, 1);
    cr_assert_eq(co_next(&t.gen), CO_YIELDED);
    cr_assert_eq(co_next(&t.gen), VALUE_ERROR);
    cr_assert_eq(rec.code, VALUE_ERROR);
    cr_assert_eq(rec.value, 7);
    cr_assert_str_eq(rec.message, "invalid literal 7 in walk");
    cr_assert_str_eq(co_error_text(&rec), "invalid literal 7 in walk");
    cr_assert_not_null(strstr(rec.file, "records.c"));
    cr_assert_eq(rec.line, (unsigned)t.m.kid.line);
    cr_assert_eq(rec.depth, 3);
    expect_tb(&rec, 0, "leaf_fn", t.m.kid.line);
    expect_tb(&rec, 1, "mid_fn", t.m.line);
    expect_tb(&rec, 2, "top_fn", t.line);
}

Test(records, a_plain_raise_is_described_too)
{
    top t;
    co_error rec;
    memset(&rec, 0, sizeof rec);
    top_init(&t, &rec, 2);
    cr_assert_eq(co_next(&t.gen), CO_YIELDED);
    cr_assert_eq(co_next(&t.gen), KEY_ERROR);
    cr_assert_eq(rec.code, KEY_ERROR);
    cr_assert_eq(rec.value, 0);
    cr_assert_str_eq(rec.message, "");
    cr_assert_str_eq(co_error_text(&rec), co_gen_strerror(KEY_ERROR));
    cr_assert_eq(rec.line, (unsigned)t.m.kid.line);
    cr_assert_eq(rec.depth, 3);
}

/* An except clause catches it; the record keeps the frames it unwound. */
Test(records, a_caught_error_keeps_its_record)
{
    top t;
    co_error rec;
    memset(&rec, 0, sizeof rec);
    top_init(&t, &rec, 1);
    t.catch_it = VALUE_ERROR;
    cr_assert_eq(co_next(&t.gen), CO_YIELDED);
    cr_assert_eq(co_next(&t.gen), CO_RETURNED);
    cr_assert_eq(t.caught, VALUE_ERROR);
    cr_assert_eq(rec.depth, 2, "the frame that caught it did not finish with it");
    expect_tb(&rec, 1, "mid_fn", t.m.line);
}

Test(records, a_thrown_error_has_no_file)
{
    top t;
    co_error rec;
    memset(&rec, 0, sizeof rec);
    top_init(&t, &rec, 0);
    strcpy(rec.message, "stale");
    cr_assert_eq(co_next(&t.gen), CO_YIELDED);
    cr_assert_eq(co_throw(&t.gen, KEY_ERROR), KEY_ERROR);
    cr_assert_eq(rec.code, KEY_ERROR);
    cr_assert_null(rec.file);
    cr_assert_str_eq(rec.message, "");
    cr_assert_eq(rec.depth, 3);
    expect_tb(&rec, 0, "leaf_fn", (int)co_line(&t.m.kid.gen));
}

Test(records, without_a_record_nothing_is_written)
{
    top t;
    top_init(&t, NULL, 1);
    cr_assert_eq(co_next(&t.gen), CO_YIELDED);
    cr_assert_eq(co_next(&t.gen), VALUE_ERROR);
}

Test(records, without_a_context_a_raise_with_is_a_raise)
{
    mid m;
    memset(&m, 0, sizeof m);
    co_init(&m.gen, mid_fn);
    co_init(&m.kid.gen, leaf_fn);
    m.kid.fail = 1;
    cr_assert_null(co_ctx_of(&m.gen));
    cr_assert_eq(co_next(&m.gen), CO_YIELDED);
    cr_assert_eq(co_next(&m.gen), VALUE_ERROR);
}

/* ------------------------------------------------------------- attach */

Test(records, every_frame_of_the_tree_reaches_the_context)
{
    top t;
    co_error rec;
    top_init(&t, &rec, 0);
    cr_assert_eq(co_next(&t.gen), CO_YIELDED);
    cr_assert_eq(co_ctx_of(&t.m.kid.gen), &t.ctx);
    cr_assert_eq(co_ctx_of(&t.m.gen), &t.ctx);
    cr_assert_eq(co_state(&t.gen), CO_SUSPENDED, "the context bits changed the state");
    cr_assert_eq(co_next(&t.gen), CO_RETURNED);
    cr_assert_eq(co_state(&t.gen), CO_CLOSED);
    cr_assert_null(co_ctx_of(&t.m.kid.gen), "a finished child left the tree");
}

Test(records, attach_refuses_a_context_outside_the_frame)
{
    /* one layout, so that "outside" does not depend on where a compiler
       (or a sanitizer's redzones) puts two locals: before the frame, and
       past the 63 pointer-sizes a context's offset can say */
    struct {
        co_ctx before;
        top t;
        void *gap[64];
        co_ctx after;
    } s;
    memset(&s, 0, sizeof s);
    co_init(&s.t.gen, top_fn);
    cr_assert_eq(co_ctx_attach(&s.t.gen, &s.before), CO_EBADARG);
    cr_assert_eq(co_ctx_attach(&s.t.gen, &s.after), CO_EBADARG);
    cr_assert_eq(co_ctx_attach(&s.t.gen, (co_ctx *)(void *)((char *)&s.t.ctx + 1)), CO_EBADARG);
    cr_assert_eq(co_ctx_attach(NULL, &s.t.ctx), CO_EBADARG);
    cr_assert_eq(co_ctx_attach(&s.t.gen, NULL), CO_EBADARG);
    cr_assert_null(co_ctx_of(&s.t.gen));
}

Test(records, a_copied_frame_has_no_context)
{
    top t, copy;
    co_error rec;
    top_init(&t, &rec, 0);
    memcpy(&copy, &t, sizeof t);
    cr_assert_null(co_ctx_of(&copy.gen));
    cr_assert_eq(co_ctx_of(&t.gen), &t.ctx);
}

Test(records, co_init_forgets_the_context)
{
    top t;
    co_error rec;
    top_init(&t, &rec, 0);
    co_init(&t.gen, top_fn);
    cr_assert_null(co_ctx_of(&t.gen));
    cr_assert_eq(co_next(&t.gen), CO_YIELDED);
}

/* ------------------------------------------------ message formatting */

typedef struct {
    co_gen gen;
    co_ctx ctx;
    long value;
    const char *fmt;
    const char *str;
} raiser;

static int raiser_fn(co_gen *g)
{
    raiser *self = (raiser *)g;
    CO_BEGIN(self);
    CO_RAISE_WITH(self, VALUE_ERROR, self->value, self->fmt, self->str);
    CO_END(self);
}

static const char *format(long value, const char *fmt, const char *str, co_error *rec)
{
    raiser r;
    memset(&r, 0, sizeof r);
    co_init(&r.gen, raiser_fn);
    cr_assert_eq(co_ctx_attach(&r.gen, &r.ctx), 0);
    r.ctx.error = rec;
    r.value = value;
    r.fmt = fmt;
    r.str = str;
    cr_assert_eq(co_next(&r.gen), VALUE_ERROR);
    cr_assert_eq(rec->depth, 1);
    cr_assert_str_eq(rec->tb[0].body, "raiser_fn");
    return rec->message;
}

Test(records, the_formatter)
{
    co_error rec;
    char longer[200];
    cr_assert_str_eq(format(-42, "x=%d", NULL, &rec), "x=-42");
    cr_assert_str_eq(format(0, "%d%%", NULL, &rec), "0%");
    cr_assert_str_eq(format(1, "%s!", NULL, &rec), "(null)!");
    cr_assert_str_eq(format(1, "50% off", NULL, &rec), "50% off");
    cr_assert_str_eq(format(-2147483647L - 1, "%d", NULL, &rec), "-2147483648");
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    cr_assert_eq(strlen(format(0, "%s", longer, &rec)), CO_ERROR_MESSAGE - 1, "cut to fit");
}

/* PEP 479 shows in the record too. */
static int exhausts_fn(co_gen *g)
{
    raiser *self = (raiser *)g;
    CO_BEGIN(self);
    CO_RAISE(self, CO_EEXHAUSTED);
    CO_END(self);
}

Test(records, pep479_converts_the_record_code)
{
    raiser r;
    co_error rec;
    memset(&r, 0, sizeof r);
    co_init(&r.gen, exhausts_fn);
    co_ctx_attach(&r.gen, &r.ctx);
    r.ctx.error = &rec;
    cr_assert_eq(co_next(&r.gen), CO_ESTOPITERATION);
    cr_assert_eq(rec.code, CO_ESTOPITERATION);
}
