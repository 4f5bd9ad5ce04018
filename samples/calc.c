/*
 * calc.c -- a recursive-descent evaluator fed by a send-driven tokenizer,
 * beside calc.py.  The tokenizer is sent one character at a time and yields
 * a token when one is complete.  Each grammar rule is a generator that takes
 * its tokens with a bare yield (the caller sends them) and returns its value;
 * the rules delegate to each other recursively, with child frames taken
 * from an arena the outermost frame carries.  A parse error is raised with
 * a message in the tree's error record (co_ctx, co_error), as Python raises
 * ParseError("...").
 *
 *   statement = expr ";"       expr = term { ("+" | "-") term }
 *   term = factor { ("*" | "/") factor }
 *   factor = number | "(" expr ")" | "-" factor
 */
#include <corio/gen.h>

#include <stdio.h>
#include <string.h>

#define PARSE_ERROR (-200)

/* A token: kind 0 is None, 'n' a number, else the character itself. */
typedef struct {
    char kind;
    long value;
} token;

static token tk(char kind, long value)
{
    token t;
    t.kind = kind;
    t.value = value;
    return t;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* ---------------------------------------------------------- the tokenizer */

typedef struct {
    co_gen gen;
    token out; /* the token completed, or kind 0 */
    char in;   /* the character sent             */
    co_ctx ctx;
    long n;
    char bad[2]; /* the bad character, as a string */
} tokenizer;

static int tokenizer_fn(co_gen *g)
{
    tokenizer *self = (tokenizer *)g;
    CO_BEGIN(self);
    CO_YIELD(self, tk(0, 0));                      /* ch = yield None */
    for (;;) {
        if (is_digit(self->in)) {
            self->n = 0;
            while (is_digit(self->in)) {
                self->n = self->n * 10 + (self->in - '0');
                CO_YIELD(self, tk(0, 0));
            }
            CO_YIELD(self, tk('n', self->n));       /* then on with the character that ended it */
        } else if (self->in && strchr("+-*/();", self->in)) {
            CO_YIELD(self, tk(self->in, 0));
            CO_YIELD(self, tk(0, 0));
        } else if (self->in == ' ') {
            CO_YIELD(self, tk(0, 0));
        } else {
            self->bad[0] = self->in;
            CO_RAISE_WITH(self, PARSE_ERROR, 0, "bad character '%s'", self->bad);
        }
    }
    CO_END(self);
}

/* ------------------------------------------------------------ the rules */

typedef struct {
    token tok;     /* the lookahead, Python's p.tok */
    char name[24]; /* a token's name, for messages  */
} parser;

static const char *name(parser *p)
{
    if (p->tok.kind == ';')
        return "end";
    if (p->tok.kind == 'n')
        snprintf(p->name, sizeof p->name, "%ld", p->tok.value);
    else
        snprintf(p->name, sizeof p->name, "'%c'", p->tok.kind);
    return p->name;
}

/* One frame type for every rule: the body picks the rule. */
typedef struct rule rule;
struct rule {
    co_gen gen;
    int out;   /* nothing is yielded but control */
    token in;  /* the token sent */
    parser *p;
    rule *kid; /* the rule it delegates to, in the arena */
    long v, r;
    char op;
    long ret;
};

static int statement_fn(co_gen *g);
static int expr_fn(co_gen *g);
static int term_fn(co_gen *g);
static int factor_fn(co_gen *g);

/* p.tok = yield */
#define NEXT_TOKEN(self)                                                                   \
    do {                                                                                   \
        CO_YIELD(self, 0);                                                                 \
        (self)->p->tok = (self)->in;                                                       \
    } while (0)

/* v = yield from rule(p) */
#define CALL(self, body, v)                                                                \
    do {                                                                                   \
        CO_ARENA_NEW(self, kid, body);                                                     \
        (self)->kid->p = (self)->p;                                                        \
        CO_YIELD_FROM_ARENA(self, kid);                                                    \
        (v) = (self)->kid->ret;                                                            \
    } while (0)

static long floor_div(long a, long b)
{
    long q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int statement_fn(co_gen *g)
{
    rule *self = (rule *)g;
    CO_BEGIN(self);
    NEXT_TOKEN(self);
    CALL(self, expr_fn, self->v);
    if (self->p->tok.kind != ';')
        CO_RAISE_WITH(self, PARSE_ERROR, 0, "unexpected %s", name(self->p));
    CO_RETURN(self, self->v);
    CO_END(self);
}

static int expr_fn(co_gen *g)
{
    rule *self = (rule *)g;
    CO_BEGIN(self);
    CALL(self, term_fn, self->v);
    while (self->p->tok.kind == '+' || self->p->tok.kind == '-') {
        self->op = self->p->tok.kind;
        NEXT_TOKEN(self);
        CALL(self, term_fn, self->r);
        self->v = self->op == '+' ? self->v + self->r : self->v - self->r;
    }
    CO_RETURN(self, self->v);
    CO_END(self);
}

static int term_fn(co_gen *g)
{
    rule *self = (rule *)g;
    CO_BEGIN(self);
    CALL(self, factor_fn, self->v);
    while (self->p->tok.kind == '*' || self->p->tok.kind == '/') {
        self->op = self->p->tok.kind;
        NEXT_TOKEN(self);
        CALL(self, factor_fn, self->r);
        if (self->op == '*')
            self->v *= self->r;
        else if (self->r == 0)
            CO_RAISE_WITH(self, PARSE_ERROR, 0, "division by zero", NULL);
        else
            self->v = floor_div(self->v, self->r);
    }
    CO_RETURN(self, self->v);
    CO_END(self);
}

static int factor_fn(co_gen *g)
{
    rule *self = (rule *)g;
    CO_BEGIN(self);
    if (self->p->tok.kind == '(') {
        NEXT_TOKEN(self);
        CALL(self, expr_fn, self->v);
        if (self->p->tok.kind != ')')
            CO_RAISE_WITH(self, PARSE_ERROR, 0, "expected ')', got %s", name(self->p));
        NEXT_TOKEN(self);
        CO_RETURN(self, self->v);
    }
    if (self->p->tok.kind == '-') {
        NEXT_TOKEN(self);
        CALL(self, factor_fn, self->v);
        CO_RETURN(self, -self->v);
    }
    if (self->p->tok.kind == 'n') {
        self->v = self->p->tok.value;
        NEXT_TOKEN(self);
        CO_RETURN(self, self->v);
    }
    CO_RAISE_WITH(self, PARSE_ERROR, 0, "unexpected %s", name(self->p));
    CO_END(self);
}

/* ------------------------------------------------------------ the driver */

/* The outermost rule, its context and the arena of its recursion, in one
 * block so that every frame is within 16-bit offsets of the first. */
typedef struct {
    rule top;
    co_ctx ctx;
    co_arena arena;
    unsigned char frames[4096];
} evaluator;

static int evaluate(const char *text, long *value, co_error *why)
{
    static evaluator e;
    static tokenizer t;
    static parser p;
    size_t i, n = strlen(text) + 1;
    int rc;

    CO_INIT(&t, tokenizer_fn);
    co_ctx_attach(&t.gen, &t.ctx);
    t.ctx.error = why;
    co_next(&t.gen);
    CO_INIT(&e.top, statement_fn);
    e.top.p = &p;
    co_ctx_attach(&e.top.gen, &e.ctx);
    co_arena_init(&e.arena, e.frames, sizeof e.frames);
    e.ctx.arena = &e.arena;
    e.ctx.error = why;
    co_next(&e.top.gen);
    for (i = 0; i < n; i++) {
        rc = CO_SEND(&t, i < n - 1 ? text[i] : ';');
        while (rc == CO_YIELDED && t.out.kind) {
            rc = CO_SEND(&e.top, t.out);
            if (rc == CO_RETURNED) {
                *value = e.top.ret;
                return 0;
            }
            if (rc < 0)
                return rc;
            rc = co_next(&t.gen);
        }
        if (rc < 0)
            return rc;
    }
    return PARSE_ERROR;
}

int main(void)
{
    static const char *const texts[] = {
        "1 + 2 * 3", "(1 + 2) * 3", "2 * (3 + 4) * 5 - 6 / 2", "-(-7) - -3",
        "100 / 7 / 2", "-7 / 2", "((((((((((42))))))))))", "1 + * 2", "(1 + 2",
        "6 / (3 - 3)", "2 $ 3", "4 4"};
    size_t k;
    for (k = 0; k < sizeof texts / sizeof texts[0]; k++) {
        co_error why;
        long v;
        int rc = evaluate(texts[k], &v, &why);
        if (rc == 0)
            printf("%s = %ld\n", texts[k], v);
        else if (rc == PARSE_ERROR)
            printf("%s: ParseError: %s\n", texts[k], co_error_text(&why));
        else
            printf("%s: %s\n", texts[k], co_gen_strerror(rc));
    }
    return 0;
}
