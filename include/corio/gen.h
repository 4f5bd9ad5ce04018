/*
 * corio/gen.h -- stackless generators for C, with Python's generator protocol.
 *
 * A generator is a function plus a frame.  The frame is a struct whose first
 * member is a `co_gen` header named `gen`; every local that must survive a
 * yield lives in the frame.  Frames are plain values (on the stack, static,
 * inside another frame, in a pool): this header never allocates and includes
 * nothing but <stddef.h>, <stdint.h> and <stdbool.h> (and, in a hosted build
 * on gcc/clang, <stdio.h> for CO_SCOPED's default report), so it compiles as
 * C99, freestanding, on anything from a Cortex-M to a server.
 *
 *     typedef struct { co_gen gen; int out; int in; int i; } counter;
 *
 *     static int counter_fn(co_gen *g)
 *     {
 *         counter *self = (counter *)g;
 *         CO_BEGIN(self);
 *         for (self->i = 0; self->i < 3; self->i++)
 *             CO_YIELD(self, self->i);      // the caller reads self->out
 *         CO_END(self);
 *     }
 *
 *     counter c;  CO_INIT(&c, counter_fn);
 *     while (co_next(&c.gen) == CO_YIELDED) printf("%d\n", c.out);
 *
 * Conventions the macros rely on:
 *   - `gen` is the frame's first member; a generator that yields values names
 *     them `out` (yielded) and `in` (sent), declared right after `gen`;
 *   - a generator that returns a value stores it in whatever field it likes
 *     (by convention `ret`) before CO_RETURN;
 *   - a delegated-to child frame is a member of its parent's frame.
 *
 * Resume points ("local continuations") come in two forms, chosen per
 * translation unit: the labels-as-values form, the default where the compiler
 * has it (gcc and clang), and the `switch` form (ISO C, Duff's device), the
 * default elsewhere and chosen by defining CO_USE_SWITCH before this header
 * (CO_USE_LABELS asks for labels explicitly).  CO_LABELS tells which is in
 * effect (1 or 0).  Their one difference is stated at CO_BEGIN.
 *
 * Errors are negative integers: the codes below, or any negative errno-style
 * code a user throws.  co_gen_strerror() names the codes defined here.
 */
#ifndef CORIO_GEN_H
#define CORIO_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- results */

/* What co_next, co_send and co_throw report (besides a negative error). */
#define CO_RETURNED 0 /* the body finished normally (Python: StopIteration(value)) */
#define CO_YIELDED 1  /* the body is suspended at a yield; its value is in `out`   */

/* Error codes of the generator core.  The runtime reserves -1100 .. -1199. */
#define CO_EXIT (-1001)          /* GeneratorExit: what close() throws in          */
#define CO_EEXHAUSTED (-1002)    /* resumed after it finished (StopIteration)      */
#define CO_ERUNNING (-1003)      /* resumed while running (ValueError)             */
#define CO_ENOTSTARTED (-1004)   /* a value sent to a just-started one (TypeError) */
#define CO_EIGNOREDCLOSE (-1005) /* yielded while being closed (RuntimeError)      */
#define CO_EDELEGATED (-1006)    /* resumed directly while another delegates to it */
#define CO_EBADFRAME (-1007)     /* NULL, uninitialised or corrupt frame           */
#define CO_EBADARG (-1008)       /* an argument out of range (e.g. throw of 0)     */
#define CO_ELAYOUT (-1009)       /* values cannot pass: out/in differ between the
                                    frames, or a send into a CO_AWAIT chain        */
#define CO_ELOSTRESUME (-1010)   /* resume point not found: a yield inside a
                                    `switch` statement in the switch form where the
                                    compiler cannot refuse it, or a labels-form
                                    body too large for 16-bit offsets          */
#define CO_ESTOPITERATION (-1011) /* the body let CO_EEXHAUSTED escape: PEP 479's
                                    RuntimeError("generator raised StopIteration") */
#define CO_ERECURSION (-1012)    /* the arena has no room for another child frame
                                    (RecursionError)                               */

/* inspect.getgeneratorstate() */
enum co_state { CO_CREATED, CO_RUNNING, CO_SUSPENDED, CO_CLOSED };

/* ----------------------------------------------------------------- header */

typedef struct co_gen co_gen;

/* A generator body.  It is only ever called by the functions below. */
typedef int (*co_body)(co_gen *self);

/* The resume form: labels wherever the compiler has them, unless asked not to. */
#if defined(CO_USE_LABELS) && defined(CO_USE_SWITCH)
#error "corio/gen.h: define CO_USE_LABELS or CO_USE_SWITCH, not both"
#endif
#if defined(CO_USE_LABELS) || (defined(__GNUC__) && !defined(CO_USE_SWITCH))
#define CO_LABELS 1
#else
#define CO_LABELS 0
#endif

#if UINTPTR_MAX > 0xFFFFFFFFu
/* 64-bit targets: 32-bit fields, each stored by one instruction with an
   immediate (x86-64 has no cheap 16-bit immediate store). */
typedef uint32_t co__lineno;
#if CO_LABELS
typedef int32_t co_lc; /* byte offset of the resume label from the body's start */
#else
typedef uint32_t co_lc; /* the resume point's `case` number */
#endif
#else
/* 16 bits each, so that a 32-bit header stays at 16 bytes. */
typedef uint16_t co__lineno;
#if CO_LABELS
typedef int16_t co_lc; /* byte offset of the resume label from the body's start */
#else
typedef uint16_t co_lc; /* the resume point's `case` number */
#endif
#endif

/*
 * The frame header: 16 bytes on a 32-bit target, 24 on a 64-bit one, in
 * either form.  Delegation links are 16-bit offsets, not pointers: a
 * child frame lives inside its parent's frame, so every frame of a delegation
 * tree lies within its outermost frame, which must stay under 32 KiB.
 */
struct co_gen {
    co_body fn;      /* the body                                            */
    int16_t err;     /* on resume, when CO__F_THROWN: the error thrown in;
                        in a cleanup section: the error being unwound; when
                        finished: 0 or the error it finished with         */
    int16_t sub;     /* offset to the frame this one delegates to, or 0     */
    int16_t top;     /* <0: a child; offset back to the outermost frame.
                        >0: outermost; offset to the innermost active frame */
    uint8_t flags;   /* bits 0-1: enum co_state; the rest CO__F_*.  A frame
                        suspended at a plain yield, neither delegating nor
                        delegated to, has exactly CO_SUSPENDED here: the
                        common resume tests one byte                        */
    uint8_t ctx;     /* outermost frames only: 0, or CO__CTX_ON and where
                        its co_ctx is, in pointer-sizes (co_ctx_attach)     */
    co__lineno line; /* source line of the last suspension                  */
    co_lc lc;        /* where the body resumes.  Last, so that every other
                        field sits at the same offset in both forms: code
                        built in one form (libcorio) drives bodies built in
                        the other; only the body's own code reads lc        */
};

#define CO__F_STATE 0x03   /* enum co_state                                  */
#define CO__F_LINKED 0x04  /* top != 0: a child, or an outermost frame
                              delegating                                     */
#define CO__F_FINALLY 0x08 /* the cleanup section has been entered           */
#define CO__F_THROWN 0x10  /* `err` was raised at the current resume point   */
#define CO__F_SENT 0x20    /* the current resume is a send                    */
#define CO__F_NOVALUE 0x40 /* the last yield-from met an already finished child */
#define CO__F_VALUES 0x80  /* yields and sends pass through to the outermost;
                              bit 7, so that the yield's flip of the state
                              bits also tests it (the sign of the result)    */
#define CO__CTX_ON 0x80    /* in `ctx`: a co_ctx is attached (offset: bits 0-5) */

/* Internal statuses a body returns to the driver (never seen by users). */
#define CO__DELEGATED 2
#define CO__SENT 1 /* `err` on a resume by send */

/* ------------------------------------------------------------- trace hook */

/*
 * Define CO_TRACE_HOOK(event, gen, file, line) before including this header
 * to be told of every resume, send, throw, close, yield and finish; `file` is
 * NULL except for yields.  The hook is called from this header's inline
 * functions, so declare it before the #include (with `struct co_gen;` and
 * an int for the event).  Left undefined, tracing costs nothing.
 */
enum co_trace_event {
    CO_TRACE_RESUME,
    CO_TRACE_SEND,
    CO_TRACE_THROW,
    CO_TRACE_CLOSE,
    CO_TRACE_YIELD,
    CO_TRACE_FINISH
};
#ifdef CO_TRACE_HOOK
#define CO__TRACE(ev, g, file, line) CO_TRACE_HOOK((ev), (g), (file), (line))
#else
#define CO__TRACE(ev, g, file, line) ((void)0)
#endif

/* -------------------------------------------------- frame-level helpers */

/* Through uintptr_t: the frame at a (possibly negative) offset lies inside
   the same outermost frame, which the compiler cannot see. */
#define CO__AT(g, off) ((co_gen *)(void *)((uintptr_t)(g) + (uintptr_t)(intptr_t)(off)))
#define CO__OFFSET(from, to) ((int16_t)((char *)(to) - (char *)(from)))

static inline unsigned co__st(const co_gen *g) { return g->flags & CO__F_STATE; }
static inline void co__set_st(co_gen *g, unsigned st)
{
    g->flags = (uint8_t)((g->flags & ~(unsigned)CO__F_STATE) | st);
}

/* Sets g's `top`, and CO__F_LINKED with it. */
static inline void co__set_top(co_gen *g, int16_t top)
{
    g->top = top;
    g->flags = (uint8_t)(top ? g->flags | CO__F_LINKED : g->flags & ~(unsigned)CO__F_LINKED);
}

/* A header is corrupt when its link bit disagrees with `top`, or its ctx
 * byte is neither 0 nor CO__CTX_ON with an offset of 1 to 63. */
static inline bool co__corrupt(const co_gen *g)
{
    return ((g->flags & CO__F_LINKED) != 0) != (g->top != 0) ||
           (g->ctx != 0 && (uint8_t)(g->ctx - (CO__CTX_ON + 1)) > 62u);
}

static inline co_gen *co__root(co_gen *g) { return g->top < 0 ? CO__AT(g, g->top) : g; }

/* The frame a resume of outermost frame `root` really runs. */
static inline co_gen *co__leaf(co_gen *root) { return root->top > 0 ? CO__AT(root, root->top) : root; }

/*
 * Copies a yielded or sent value, and never by a call to memcpy: gen.h
 * must link with no libc at any optimisation level, and compilers turn both
 * __builtin_memcpy and plain byte loops into memcpy calls when they see fit.
 * The usual sizes are one typed move (types that may alias anything and sit
 * at any address); other sizes are a byte loop through a volatile pointer,
 * which no compiler may fuse into a call.  Sizes are constants at every call
 * site, so optimised code keeps only the branch it needs.
 */
#if defined(__GNUC__)
typedef uint16_t __attribute__((may_alias, aligned(1))) co__u16;
typedef uint32_t __attribute__((may_alias, aligned(1))) co__u32;
typedef uint64_t __attribute__((may_alias, aligned(1))) co__u64;
#endif
static inline void co__copy(void *dst, const void *src, size_t n)
{
    volatile unsigned char *d = (volatile unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
#if defined(__GNUC__)
    switch (n) {
    case 1: *(unsigned char *)dst = *s; return;
    case 2: *(co__u16 *)dst = *(const co__u16 *)src; return;
    case 4: *(co__u32 *)dst = *(const co__u32 *)src; return;
    case 8: *(co__u64 *)dst = *(const co__u64 *)src; return;
    default: break;
    }
#endif
    while (n--)
        *d++ = *s++;
}

/* ------------------------------------------------------------ public API */

/* Makes `g` a fresh generator running `fn`; runs nothing (CO_CREATED). */
static inline void co_init(co_gen *g, co_body fn)
{
    g->fn = fn;
    g->lc = 0;
    g->err = 0;
    g->sub = 0;
    g->top = 0;
    g->line = 0;
    g->flags = CO_CREATED;
    g->ctx = 0;
}
#define CO_INIT(frame, body) co_init(&(frame)->gen, (body))

/* inspect.getgeneratorstate(g); a child of a running delegation is RUNNING. */
static inline enum co_state co_state(const co_gen *g)
{
    if (g->top < 0 && co__st(co__root((co_gen *)g)) == CO_RUNNING)
        return CO_RUNNING;
    return (enum co_state)co__st(g);
}

/* g.gi_yieldfrom: the frame g is delegating to, or NULL. */
static inline co_gen *co_yieldfrom(const co_gen *g) { return g->sub ? CO__AT(g, g->sub) : NULL; }

/* The source line g is suspended at (0 before it first ran). */
static inline unsigned co_line(const co_gen *g) { return g->line; }

/* Once closed: 0 if it returned, else the error it finished with (CO_EXIT
 * when close() ended it); 0 while it has not finished. */
static inline int co_result(const co_gen *g) { return co__st(g) == CO_CLOSED ? g->err : 0; }

static inline const char *co_gen_strerror(int code)
{
    switch (code) {
    case CO_RETURNED: return "success";
    case CO_YIELDED: return "generator yielded a value";
    case CO_EXIT: return "generator closed (GeneratorExit)";
    case CO_EEXHAUSTED: return "generator already finished (StopIteration)";
    case CO_ERUNNING: return "generator already running";
    case CO_ENOTSTARTED: return "can't send a value to a just-started generator";
    case CO_EIGNOREDCLOSE: return "generator ignored close (it yielded while closing)";
    case CO_EDELEGATED: return "generator is being delegated to; resume the outermost one";
    case CO_EBADFRAME: return "NULL, uninitialised or corrupt generator frame";
    case CO_EBADARG: return "invalid argument";
    case CO_ELAYOUT: return "values cannot pass between these frames (out/in differ, or an await chain)";
    case CO_ELOSTRESUME: return "resume point lost (a yield inside a switch statement, or a body too large)";
    case CO_ESTOPITERATION: return "generator raised StopIteration (PEP 479)";
    case CO_ERECURSION: return "maximum recursion depth exceeded (the frame arena is full)";
    default: return "unknown error";
    }
}

/* ------------------------------------------- context and error records */

/*
 * A delegation tree can carry a context: storage that every frame of the
 * tree reaches through its outermost frame.  It is a `co_ctx` field of the
 * outermost frame, attached once after CO_INIT; only frames that attach one
 * pay for it, and the header does not grow (its place is kept in the
 * header's `ctx` byte).
 *
 *     typedef struct { co_gen gen; int out, in; co_ctx ctx; ... } job;
 *     co_error why;
 *     CO_INIT(&j, job_fn);
 *     co_ctx_attach(&j.gen, &j.ctx);
 *     j.ctx.error = &why;              // raised errors are described here
 */
typedef struct co_error co_error;
typedef struct co_arena co_arena;
typedef struct co_ctx {
    co_gen *owner;   /* the outermost frame it is attached to (set by attach) */
    co_error *error; /* where raised errors are described, or NULL            */
    co_arena *arena; /* where recursive child frames come from, or NULL       */
} co_ctx;

/* The longest message kept (with its NUL), and the frames a traceback keeps;
   define either before the include to change it. */
#ifndef CO_ERROR_MESSAGE
#define CO_ERROR_MESSAGE 64
#endif
#ifndef CO_TRACEBACK
#define CO_TRACEBACK 8
#endif

/* One line of a traceback: a body and the line it stood at. */
typedef struct co_frame_info {
    const char *body; /* the body function's name (__func__) */
    unsigned line;
} co_frame_info;

/*
 * What the last error raised in a tree was, Python's exception object: its
 * code (the class), an int payload (ValueError(7) is code VALUE_ERROR, value
 * 7), a message, where it was raised and the frames it unwound through,
 * innermost first (Python prints them outermost first).  Thrown-in errors
 * (co_throw) have no file.  `depth` counts every frame unwound through, also
 * those past CO_TRACEBACK that `tb` had no room for.
 */
struct co_error {
    int code;
    long value;
    const char *file; /* where it was raised, or NULL */
    unsigned line;
    unsigned depth;
    co_frame_info tb[CO_TRACEBACK];
    const co_gen *last_frame; /* private: the frame tb[depth - 1] is */
    char message[CO_ERROR_MESSAGE];
};

/* Attaches ctx, a field of g's frame within its first 63 pointer-sizes, to g
 * (an outermost frame, after CO_INIT).  0 or CO_EBADARG. */
static inline int co_ctx_attach(co_gen *g, co_ctx *ctx)
{
    ptrdiff_t off = (char *)ctx - (char *)g;
    ptrdiff_t unit = (ptrdiff_t)sizeof(void *);
    if (g == NULL || ctx == NULL || off <= 0 || off % unit != 0 || off / unit > 63)
        return CO_EBADARG;
    ctx->owner = g;
    g->ctx = (uint8_t)(CO__CTX_ON | (unsigned)(off / unit));
    return 0;
}

/* The context of the tree g belongs to, or NULL. */
static inline co_ctx *co_ctx_of(co_gen *g)
{
    co_gen *root;
    co_ctx *ctx;
    if (g == NULL)
        return NULL;
    root = co__root(g);
    if (!root->ctx)
        return NULL;
    ctx = (co_ctx *)(void *)((char *)root + (size_t)(root->ctx & 63u) * sizeof(void *));
    return ctx->owner == root ? ctx : NULL; /* a frame copied elsewhere has none */
}

static inline co_error *co__record(co_gen *g)
{
    co_ctx *ctx = co_ctx_of(g);
    return ctx ? ctx->error : NULL;
}

/* The message, or the code's own text when it has none. */
static inline const char *co_error_text(const co_error *e)
{
    return e->message[0] ? e->message : co_gen_strerror(e->code);
}

static inline void co__tb_add(co_error *e, const co_gen *g, const char *body, unsigned line)
{
    if (e->depth < CO_TRACEBACK) {
        e->tb[e->depth].body = body;
        e->tb[e->depth].line = line;
    }
    e->depth++;
    e->last_frame = g;
}

/* Starts describing a new error. */
static inline void co__describe(co_error *e, int code, long value, const char *file, unsigned line)
{
    e->code = code;
    e->value = value;
    e->file = file;
    e->line = line;
    e->depth = 0;
    e->last_frame = NULL;
    e->message[0] = '\0';
}

/* The message formatter gen.h carries, as it may use no libc: `%d` prints
 * the error's value, `%s` the string argument, `%%` a percent sign; the
 * rest is copied, cut to fit. */
static inline void co__format(char *out, size_t n, const char *fmt, long value, const char *str)
{
    size_t i = 0;
    while (*fmt && i + 1 < n) {
        if (fmt[0] == '%' && fmt[1] == 'd') {
            char digits[24];
            unsigned long u = value < 0 ? 0ul - (unsigned long)value : (unsigned long)value;
            int k = 0;
            do
                digits[k++] = (char)('0' + u % 10);
            while ((u /= 10) != 0);
            if (value < 0)
                digits[k++] = '-';
            while (k > 0 && i + 1 < n)
                out[i++] = digits[--k];
            fmt += 2;
        } else if (fmt[0] == '%' && fmt[1] == 's') {
            const char *p = str ? str : "(null)";
            while (*p && i + 1 < n)
                out[i++] = *p++;
            fmt += 2;
        } else {
            out[i++] = *fmt;
            fmt += fmt[0] == '%' && fmt[1] == '%' ? 2 : 1;
        }
    }
    if (n)
        out[i] = '\0';
}

/* A raise in body `body` at file:line: the record describes it. */
static inline void co__raised(co_gen *g, int code, long value, const char *fmt, const char *str,
                              const char *file, unsigned line, const char *body)
{
    co_error *e = co__record(g);
    if (e == NULL)
        return;
    co__describe(e, code, value, file, line);
    if (fmt)
        co__format(e->message, sizeof e->message, fmt, value, str);
    co__tb_add(e, g, body, line);
}

/*
 * CO__COLD marks the rare paths.  CO__OUTLINE makes a rare helper of the
 * bodies one out-of-line copy per translation unit: a body then reaches it
 * by a tail call, and its yields do not share a return path with it.
 * CO__FRESH tells gcc and clang that the frame may have changed: placed
 * before the header's tests of `flags` on the resume path, it keeps them
 * from reusing a value loaded for another test, so each is one instruction
 * on memory (a load kept in a register costs a load, a test and, at the
 * yield, a store and a test where one exclusive-or on memory does).  It
 * emits no code.
 */
#if defined(__GNUC__)
#define CO__COLD __attribute__((cold))
#define CO__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define CO__OUTLINE static __attribute__((cold, noinline, unused))
#define CO__FRESH __asm__ __volatile__("" ::: "memory")
#else
#define CO__COLD
#define CO__UNLIKELY(x) (x)
#define CO__OUTLINE static inline
#define CO__FRESH ((void)0)
#endif

static inline CO__COLD void co__unwound_slow(co_gen *g, int err, const char *body)
{
    co_error *e = co__record(g);
    if (e != NULL && e->code == err && e->last_frame != g)
        co__tb_add(e, g, body, g->line);
}

/* A frame finishes with err: the error unwound through it.  Inline, only the
 * test of whether the tree has a context at all. */
static inline void co__unwound(co_gen *g, int err, const char *body)
{
    if (err < 0 && co__root(g)->ctx)
        co__unwound_slow(g, err, body);
}

/* ------------------------------------------------- recursion: the arena */

/*
 * Recursion without malloc.  A child frame need not be a member of its
 * parent: CO_ARENA_NEW takes one from the arena of the tree's context, and
 * CO_YIELD_FROM_ARENA / CO_AWAIT_ARENA delegate to it and give it back when
 * the delegation is over.  Delegation is strictly nested, so the arena is a
 * stack: frames are taken and given back last in, first out, in O(1), and
 * resuming stays O(1) at any depth.  The arena's storage must lie within
 * reach of 16-bit offsets of the outermost frame (in practice: a field of
 * the outermost frame, whose size stays under 32 KiB); a frame that would
 * not fit, or fall out of reach, is CO_ERECURSION (Python's RecursionError)
 * raised at the CO_ARENA_NEW, and nothing is taken.
 */
struct co_arena {
    unsigned char *base;
    size_t size; /* bytes of storage                       */
    size_t used; /* bytes taken now                        */
    size_t peak; /* the most ever taken (to size a budget) */
};

/* Every frame taken is aligned for any object. */
union co__max_align {
    long long ll;
    long double ld;
    void *p;
    void (*fn)(void);
};

static inline void co_arena_init(co_arena *a, void *mem, size_t size)
{
    a->base = (unsigned char *)mem;
    a->size = mem ? size : 0;
    a->used = 0;
    a->peak = 0;
}

/* A frame of n bytes for parent p's tree, or NULL (full, out of reach). */
static inline void *co__arena_take(co_gen *p, size_t n)
{
    co_ctx *ctx = co_ctx_of(p);
    co_arena *a = ctx ? ctx->arena : NULL;
    const size_t align = sizeof(union co__max_align);
    size_t at, end;
    unsigned char *f;
    co_gen *root;
    if (a == NULL || a->base == NULL)
        return NULL;
    at = (a->used + align - 1) / align * align;
    if (at > a->size || n > a->size - at)
        return NULL;
    end = at + n;
    f = a->base + at;
    root = co__root(p);
    /* the child's links: to its parent, to and from the outermost frame */
    if ((char *)f - (char *)p < INT16_MIN || (char *)f + n - (char *)p > INT16_MAX ||
        (char *)f - (char *)root < INT16_MIN || (char *)f + n - (char *)root > INT16_MAX)
        return NULL;
    a->used = end;
    if (end > a->peak)
        a->peak = end;
    return f;
}

/* Gives back frame f and whatever was taken after it. */
static inline void co__arena_drop(co_gen *p, const void *f)
{
    co_ctx *ctx = co_ctx_of(p);
    co_arena *a = ctx ? ctx->arena : NULL;
    if (a != NULL && f != NULL && (const unsigned char *)f >= a->base &&
        (const unsigned char *)f < a->base + a->used)
        a->used = (size_t)((const unsigned char *)f - a->base);
}

/* self->kid = a fresh frame from the arena, initialised to run `body`; or
 * CO_ERECURSION raised here.  `kid` is a pointer field of the frame. */
#define CO_ARENA_NEW(self, kid, body)                                                      \
    do {                                                                                   \
        if (((self)->kid = co__arena_take(co__self, sizeof *(self)->kid)) == NULL)         \
            CO_RAISE(self, CO_ERECURSION);                                                 \
        co_init(&(self)->kid->gen, (body));                                                \
    } while (0)

/* yield from *self->kid, then the frame goes back to the arena (its fields,
 * `ret` included, stay readable until the next CO_ARENA_NEW). */
#define CO_YIELD_FROM_ARENA(self, kid)                                                     \
    CO__DELEGATE(self, *(self)->kid, CO__K, false, 1, co__arena_drop(co__self, (self)->kid))
#define CO_YIELD_FROM_ARENA_CATCH(self, kid)                                               \
    CO__DELEGATE(self, *(self)->kid, CO__K, true, 1, co__arena_drop(co__self, (self)->kid))
#define CO_AWAIT_ARENA(self, kid)                                                          \
    CO__DELEGATE(self, *(self)->kid, CO__K, false, 0, co__arena_drop(co__self, (self)->kid))
#define CO_AWAIT_ARENA_CATCH(self, kid)                                                    \
    CO__DELEGATE(self, *(self)->kid, CO__K, true, 0, co__arena_drop(co__self, (self)->kid))

/* ---------------------------------------------------------------- driver */

/* Whether g may be resumed from outside (0), or why not. */
static inline int co__usable(const co_gen *g)
{
    if (g == NULL || g->fn == NULL || co__corrupt(g))
        return CO_EBADFRAME;
    if (g->top < 0)
        return co__st(co__root((co_gen *)g)) == CO_RUNNING ? CO_ERUNNING : CO_EDELEGATED;
    if (co__st(g) == CO_RUNNING)
        return CO_ERUNNING;
    return 0;
}

/* Unlinks finished or abandoned child c from parent p; c becomes outermost. */
static inline void co__detach(co_gen *root, co_gen *p, co_gen *c)
{
    co_gen *d = c;
    p->sub = 0;
    c->flags &= (uint8_t)~CO__F_VALUES;
    co__set_top(c, 0);
    /* c's own delegates (left when c ignored a close) now hang from c */
    while (d->sub) {
        d = CO__AT(d, d->sub);
        co__set_top(d, CO__OFFSET(d, c));
    }
    if (d != c)
        co__set_top(c, CO__OFFSET(c, d));
    co__set_top(root, p == root ? 0 : CO__OFFSET(root, p));
}

static inline co_gen *co__parent(co_gen *root, co_gen *c)
{
    co_gen *p = root;
    while (CO__AT(p, p->sub) != c)
        p = CO__AT(p, p->sub);
    return p;
}

/* Frame f is about to run, resumed with `in` (0, CO__SENT or a thrown
 * error): why it is resumed, and the state CO_RUNNING. */
static inline void co__enter(co_gen *f, int in)
{
    /* in a cleanup section, a plain resume keeps the error being unwound */
    if (!((f->flags & CO__F_FINALLY) && in >= 0))
        f->err = (int16_t)in;
    f->flags = (uint8_t)((f->flags & ~(unsigned)(CO__F_STATE | CO__F_THROWN | CO__F_SENT |
                                                 CO__F_NOVALUE)) |
                         CO_RUNNING | (in < 0 ? CO__F_THROWN : in == CO__SENT ? CO__F_SENT : 0));
}

/*
 * Carries on a drive of root's tree after frame f's body returned st, until
 * a frame yields or `stop` finishes.  A frame that started delegating has
 * its child run; a finished child hands its outcome to its parent: 0 resumes
 * the parent past its yield-from, an error is raised there.  Only delegation
 * start and finish walk the tree; a plain resume goes straight to the
 * innermost frame.
 */
static inline int co__drove(co_gen *root, co_gen *f, int st, co_gen *stop)
{
    while (st != CO_YIELDED) {
        int in = 0;
        if (st == CO__DELEGATED) { /* f now waits on a child: run the child */
            f = co__leaf(root);
            co__set_st(root, CO_RUNNING);
        } else {
            co_gen *p;
            CO__TRACE(CO_TRACE_FINISH, f, (const char *)0, f->line);
            if (f == stop)
                break;
            p = co__parent(root, f);
            co__detach(root, p, f);
            f = p;
            in = st;
        }
        co__enter(f, in);
        st = f->fn(f);
    }
    if (co__st(root) == CO_RUNNING) /* root itself neither yielded nor finished */
        co__set_st(root, CO_SUSPENDED);
    return st;
}

/* Runs f, a frame of root's delegation tree, resumed with `in` (0, CO__SENT
 * or a thrown error), until a frame yields or `stop` finishes. */
static inline int co__drive(co_gen *root, co_gen *f, int in, co_gen *stop)
{
    co__set_st(root, CO_RUNNING);
    co__enter(f, in);
    return co__drove(root, f, f->fn(f), stop);
}

/* Python's close() of g, a frame of root's tree: its delegate first. */
static inline int co__close(co_gen *root, co_gen *g)
{
    int e = CO_EXIT, st;
    if (co__st(g) == CO_CREATED) { /* closing an unstarted generator runs nothing */
        co__set_st(g, CO_CLOSED);
        g->err = CO_EXIT;
        CO__TRACE(CO_TRACE_FINISH, g, (const char *)0, g->line);
        return 0;
    }
    if (co__st(g) == CO_CLOSED)
        return 0;
    if (g->sub) {
        co_gen *c = CO__AT(g, g->sub);
        int r = co__close(root, c);
        co__detach(root, g, c);
        if (r < 0)
            e = r;
    }
    st = co__drive(root, g, e, g);
    if (st == CO_YIELDED)
        return CO_EIGNOREDCLOSE;
    return st == CO_RETURNED || st == CO_EXIT ? 0 : st;
}

/* next(g): resumes g; CO_YIELDED, CO_RETURNED or an error. */
static inline int co_next(co_gen *g)
{
    int bad, st;
    if (g != NULL && g->flags == CO_SUSPENDED) {
        /* the common case, one compare: suspended at a plain yield, no error
           or send pending, not in its cleanup section, neither delegating nor
           delegated to.  co__drive's first turn with `in` 0 is then just the
           state flip (its `err` store is moot: `err` means something only
           with CO__F_THROWN or in a cleanup section) */
        CO__TRACE(CO_TRACE_RESUME, g, (const char *)0, g->line);
        g->flags = CO_RUNNING;
        st = g->fn(g);
        /* a body that yields has suspended its frame again (co__suspend) */
        return st == CO_YIELDED ? st : co__drove(g, g, st, g);
    }
    CO__FRESH; /* the test above stays one compare on memory */
    if (g != NULL && g->flags == (CO_SUSPENDED | CO__F_LINKED) && g->top > 0) {
        /* delegating: the innermost frame runs, its root RUNNING meanwhile */
        co_gen *f = CO__AT(g, g->top);
        CO__TRACE(CO_TRACE_RESUME, g, (const char *)0, g->line);
        g->flags = CO_RUNNING | CO__F_LINKED;
        /* the same one-compare case for the innermost frame, passing
           values (yield from) or not (await) */
        if (f->flags == (CO_SUSPENDED | CO__F_LINKED | CO__F_VALUES)) {
            f->flags = CO_RUNNING | CO__F_LINKED | CO__F_VALUES;
            st = f->fn(f);
        } else {
            CO__FRESH;
            if (f->flags == (CO_SUSPENDED | CO__F_LINKED))
                f->flags = CO_RUNNING | CO__F_LINKED;
            else
                co__enter(f, 0);
            st = f->fn(f);
        }
        if (st == CO_YIELDED) { /* f yielded: the tree is as it was */
            g->flags ^= (uint8_t)(CO_RUNNING ^ CO_SUSPENDED);
            return st;
        }
        return co__drove(g, f, st, g);
    }
#ifndef __OPTIMIZE_SIZE__ /* at -Os (firmware) the general path serves it */
    CO__FRESH;
    if (g != NULL && g->flags == CO_CREATED && g->top == 0 && g->ctx == 0 && g->fn != NULL) {
        /* the first resume of a frame as co_init left it: co__usable's
           checks pass (no link bit and no `top`, no co_ctx), so co__drive's
           first turn is the flip to CO_RUNNING with `err` cleared */
        CO__TRACE(CO_TRACE_RESUME, g, (const char *)0, g->line);
        g->err = 0;
        g->flags = CO_RUNNING;
        st = g->fn(g);
        return st == CO_YIELDED ? st : co__drove(g, g, st, g);
    }
#endif
    CO__FRESH;
    bad = co__usable(g);
    if (bad)
        return bad;
    CO__TRACE(CO_TRACE_RESUME, g, (const char *)0, g->line);
    if (co__st(g) == CO_CLOSED)
        return CO_EEXHAUSTED;
    return co__drive(g, co__leaf(g), 0, g);
}

/* g.send(v) after the caller stored v in the frame's `in`: see CO_SEND. */
static inline int co__send(co_gen *g, const void *in, size_t n)
{
    int bad = co__usable(g);
    co_gen *f;
    if (bad)
        return bad;
    CO__TRACE(CO_TRACE_SEND, g, (const char *)0, g->line);
    if (co__st(g) == CO_CREATED)
        return CO_ENOTSTARTED;
    if (co__st(g) == CO_CLOSED)
        return CO_EEXHAUSTED;
    f = co__leaf(g);
    if (f != g) {
        if (!(f->flags & CO__F_VALUES)) /* an await chain has no `in` to deliver to */
            return CO_ELAYOUT;
        co__copy((char *)f + ((const char *)in - (char *)g), in, n);
    }
    return co__drive(g, f, CO__SENT, g);
}
/* Why g cannot take a send now (0: it can). */
static inline int co__send_refused(const co_gen *g)
{
    int bad = co__usable(g);
    if (bad)
        return bad;
    return co__st(g) == CO_CREATED ? CO_ENOTSTARTED : co__st(g) == CO_CLOSED ? CO_EEXHAUSTED : 0;
}
/* g.send(value): stores value in the frame's `in` (only if g can take it)
 * and resumes g.  The frame expression is evaluated more than once. */
#define CO_SEND(frame, value)                                                              \
    (co__send_refused((co_gen *)(void *)(frame))                                           \
         ? co__send_refused((co_gen *)(void *)(frame))                                     \
         : ((frame)->in = (value), co__send(&(frame)->gen, &(frame)->in, sizeof (frame)->in)))

/* g.throw(err): raises err (< 0) at the yield g is suspended at. */
static inline int co_throw(co_gen *g, int err)
{
    int bad = co__usable(g);
    if (bad)
        return bad;
    if (err >= 0 || err < INT16_MIN)
        return CO_EBADARG;
    CO__TRACE(CO_TRACE_THROW, g, (const char *)0, g->line);
    if (co__st(g) != CO_CLOSED && co__record(g) != NULL) /* thrown in: no file */
        co__describe(co__record(g), err, 0, (const char *)0, 0);
    if (co__st(g) == CO_CLOSED) /* raised straight back */
        return err;
    if (co__st(g) == CO_CREATED) { /* finishes unrun, PEP 479 applying */
        co__set_st(g, CO_CLOSED);
        g->err = (int16_t)(err == CO_EEXHAUSTED ? CO_ESTOPITERATION : err);
        CO__TRACE(CO_TRACE_FINISH, g, (const char *)0, g->line);
        return g->err;
    }
    if (err == CO_EXIT && g->sub) { /* like Python: close the delegate, then raise here */
        co_gen *c = CO__AT(g, g->sub);
        int r = co__close(g, c);
        co__detach(g, g, c);
        return co__drive(g, g, r < 0 ? r : CO_EXIT, g);
    }
    return co__drive(g, co__leaf(g), err, g);
}

/* g.close(): 0, CO_EIGNOREDCLOSE (g stays suspended), or the error it raised. */
static inline int co_close(co_gen *g)
{
    int bad = co__usable(g);
    if (bad)
        return bad;
    CO__TRACE(CO_TRACE_CLOSE, g, (const char *)0, g->line);
    return co__close(g, g);
}

/* ------------------------------------------------ helpers for the macros */

/* The outermost frame already points at g: delegation start and finish
 * keep its `top` on the innermost active frame.  A body runs only in state
 * CO_RUNNING (co__drive and co_next set it before the call): flipping both
 * low bits makes it CO_SUSPENDED in one instruction, the other bits kept. */
static inline int co__suspend(co_gen *g, co_lc lc, unsigned line)
{
    g->flags ^= (uint8_t)(CO_RUNNING ^ CO_SUSPENDED);
    g->lc = lc;
    g->line = (co__lineno)line;
    return CO_YIELDED;
}

/* A yielded value also lands in the outermost frame's `out` (same offset);
 * a frame with CO__F_VALUES is a child, whose `top` leads to the outermost.
 * The flip's result is tested for CO__F_VALUES, bit 7: compilers use the
 * sign the exclusive-or left. */
static inline int co__suspend_value(co_gen *g, const void *out, size_t n, co_lc lc, unsigned line)
{
    uint8_t flags = (uint8_t)(g->flags ^ (CO_RUNNING ^ CO_SUSPENDED));
    g->flags = flags;
    if (flags & CO__F_VALUES)
        co__copy((char *)CO__AT(g, g->top) + ((const char *)out - (char *)g), out, n);
    g->lc = lc;
    g->line = (co__lineno)line;
    return CO_YIELDED;
}

/* Records err as raised at the current resume point (0: nothing raised). */
static inline void co__set_thrown(co_gen *g, int err)
{
    g->err = (int16_t)err;
    g->flags = (uint8_t)(err < 0 ? g->flags | CO__F_THROWN : g->flags & ~CO__F_THROWN);
}

/* On resume: true when a thrown error must unwind (to the innermost handler). */
static inline bool co__unwinds(const co_gen *g, bool caught)
{
    return (g->flags & CO__F_THROWN) && !caught;
}

/* Return (err 0) or raise: records the outcome the handlers will see. */
static inline void co__leave(co_gen *g, int err)
{
    if (err > 0 || err < INT16_MIN) /* raising a non-error is itself an error */
        err = CO_EBADARG;
    co__set_thrown(g, err);
}

/* raise err: 0, positive or out of range is CO_EBADARG. */
static inline void co__raise(co_gen *g, int err) { co__leave(g, err ? err : CO_EBADARG); }

/* Where an error or a return outside any CO_TRY goes: the cleanup section,
 * or, from inside it, the end. */
static inline co_lc co__body_exit(const co_gen *g, co_lc finally_lc, co_lc end_lc)
{
    return (g->flags & CO__F_FINALLY) ? end_lc : finally_lc;
}

/* The body ends (at CO_END, or through a lost resume point).  PEP 479:
 * "exhausted" escaping a body would read, to its caller, as a normal end of
 * the generator; it finishes with CO_ESTOPITERATION instead. */
CO__OUTLINE int co__finish(co_gen *g, bool lost, const char *body)
{
    if (lost)
        g->err = CO_ELOSTRESUME;
    else if (g->err == CO_EEXHAUSTED) {
        co_error *e = co__record(g);
        g->err = CO_ESTOPITERATION;
        if (e != NULL && e->code == CO_EEXHAUSTED)
            e->code = CO_ESTOPITERATION;
    }
    co__set_st(g, CO_CLOSED);
    if (g->err < 0)
        co__unwound(g, g->err, body);
    return g->err;
}

/*
 * Starts parent p's delegation to child c (a member of p's frame).  Returns
 * true when p must suspend while c runs; false when p goes on at once, with
 * p->err set to 0 (c had already finished) or to the error to raise.
 */
static inline bool co__delegate(co_gen *p, co_gen *c, bool values, bool layout_ok, co_lc lc,
                                unsigned line)
{
    co_gen *root = co__root(p), *d = c;
    p->flags &= (uint8_t)~CO__F_NOVALUE;
    if (!layout_ok) {
        co__set_thrown(p, CO_ELAYOUT);
        return false;
    }
    if (c->fn == NULL || co__corrupt(c)) {
        co__set_thrown(p, CO_EBADFRAME);
        return false;
    }
    if (co__st(c) == CO_CLOSED) {
        /* `yield from` an exhausted generator is None at once: no error, and
           in a cleanup section the error being unwound stays pending */
        if (!(p->flags & CO__F_FINALLY))
            p->err = 0;
        p->flags = (uint8_t)((p->flags & ~CO__F_THROWN) | CO__F_NOVALUE);
        return false;
    }
    if (co__st(c) == CO_RUNNING || c->top < 0) {
        co__set_thrown(p, co__st(c) == CO_RUNNING ? CO_ERUNNING : CO_EDELEGATED);
        return false;
    }
    p->sub = CO__OFFSET(p, c);
    if (values && (p == root || (p->flags & CO__F_VALUES)))
        c->flags |= CO__F_VALUES;
    else
        c->flags &= (uint8_t)~CO__F_VALUES;
    /* adopt c's own delegation chain, if it has one, into root's tree */
    for (;;) {
        co__set_top(d, CO__OFFSET(d, root));
        if (d != c && !(c->flags & CO__F_VALUES))
            d->flags &= (uint8_t)~CO__F_VALUES;
        if (!d->sub)
            break;
        d = CO__AT(d, d->sub);
    }
    co__set_top(root, CO__OFFSET(root, d));
    p->lc = lc;
    p->line = (co__lineno)line;
    /* what p was resumed with is over (the end of the delegation resumes it
       afresh): clean bits keep an outermost p on co_next's fast path */
    p->flags = (uint8_t)((p->flags & ~(unsigned)(CO__F_STATE | CO__F_THROWN | CO__F_SENT)) |
                         CO_SUSPENDED);
    return true;
}

/* ------------------------------------------------- local continuations */

#define CO__CAT2(a, b) a##b
#define CO__CAT(a, b) CO__CAT2(a, b)

/* A fresh resume-point number; several yields may share a source line
   where the compiler has __COUNTER__ (gcc, clang, MSVC, most others). */
#ifdef __COUNTER__
#define CO__K __COUNTER__
#else
#define CO__K __LINE__
#endif

#if CO_LABELS
/*
 * Labels form: `lc` is the resume label's offset from the body's start
 * (co__base, offset 0), and CO_BEGIN's dispatch is one `goto *`.  The ends
 * of a body are not resume points: the cleanup section and the end are
 * reached by plain gotos from inside the body, never through `lc`.
 */
#define CO__ADDR(label) (__extension__ && label)
#define CO__LC_DIFF(label) ((char *)CO__ADDR(label) - (char *)CO__ADDR(co__base))
#if UINTPTR_MAX > 0xFFFFFFFFu
/* The offset, read from a constant the assembler computes: compilers do not
 * fold a difference of label addresses into an immediate, and computed at
 * run time it takes two address loads and a subtraction.  (volatile keeps
 * the compiler from folding the constant back into that computation.)  The
 * static makes the body a function the compiler will not inline or clone,
 * which it is not anyway: it is only ever called through a pointer. */
#define CO__LC_OF(label)                                                                   \
    (__extension__({                                                                       \
        static const volatile co_lc co__lc_of = (co_lc)CO__LC_DIFF(label);                 \
        co__lc_of;                                                                         \
    }))
#define CO__LOST_SECTION
#else
/* A 16-bit `lc` keeps a 32-bit header at 16 bytes; a body whose code spans
 * more than 32 KiB around its start cannot say where it stopped: such a
 * resume point resumes at co__lost, which finishes the body with
 * CO_ELOSTRESUME (label offsets are known only when linking, too late for a
 * compile error). */
static inline co_lc co__lc_fit(ptrdiff_t d, ptrdiff_t lost)
{
    return d >= INT16_MIN && d <= INT16_MAX ? (co_lc)d : (co_lc)lost;
}
#define CO__LC_OF(label) co__lc_fit(CO__LC_DIFF(label), CO__LC_DIFF(co__lost))
#define CO__LOST_SECTION /* (the dead goto: a body without yields uses it not) */         \
    if (0)                                                                                 \
        goto co__lost;                                                                     \
    co__lost:                                                                              \
    co__section = 3;                                                                       \
    goto co__sections;
#endif
#define CO__CHECK_K(k) ((void)0)
#define CO__GOTO_LC(lc)                                                         \
    _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wpedantic\"") \
        goto *(void *)((char *)CO__ADDR(co__base) + (lc));                      \
    _Pragma("GCC diagnostic pop")
#define CO__POINT(k) CO__CAT(co__resume_, k)
#define CO__POINT_LC(k) CO__LC_OF(CO__POINT(k))
#define CO__POINT_LABEL(k) CO__POINT(k) :
#else
#define CO__LC_START 0
#define CO__LC_FINALLY 0xFFFF
#define CO__LC_END 0xFFFE
#define CO__POINT_LC(k) ((co_lc)((k) + 1))
#define CO__POINT_LABEL(k) CO__CASE((k) + 1)
/* A resume point must fit a 16-bit `lc` and miss the reserved values. */
#define CO__CHECK_K(k)                                                                     \
    (void)sizeof(struct {                                                                  \
        char co_more_than_65533_resume_points_in_one_file_the_limit_of_16_bit_lc           \
            [(k) + 1 < 0xFFFE ? 1 : -1];                                                   \
    })
#if defined(__GNUC__)
/*
 * The switch trap, closed at compile time.  A yield inside a `switch`
 * statement of the body would put its `case` in that switch, and the body
 * could not be resumed.  So every resume point is two case labels of one
 * wider type: n and BASE + n.  The body's own switch, over __int128, tells
 * them apart; a switch of the user's, over any type of half that width or
 * less, converts both to n, and ISO C makes two equal case values a compile
 * error ("duplicate case value", naming the enum below).  With __int128 that
 * is every switch but one over __int128; on targets without it (32-bit ones)
 * the body's switch is over 64 bits, so a switch over a 64-bit type is not
 * caught there.  The body's switch is on `lc` itself, whose range the
 * compiler knows: it drops the BASE + n twins as unreachable and makes the
 * same jump table (or compares) as for a switch on `lc`.
 */
#ifdef __SIZEOF_INT128__
__extension__ typedef unsigned __int128 co__case;
#define CO__CASE_BASE ((co__case)1 << 64)
#else
__extension__ typedef unsigned long long co__case;
#define CO__CASE_BASE ((co__case)1 << 32)
#endif
enum { co_yield_inside_a_switch_statement_use_the_labels_form = 1 };
#define CO__CASE(n)                                                                        \
    case (co__case)(n):                                                                    \
    case CO__CASE_BASE * co_yield_inside_a_switch_statement_use_the_labels_form + (co__case)(n):
#define CO__DISPATCH(lc) ((co__case)(lc))
#else
#define CO__CASE(n) case (n):
#define CO__DISPATCH(lc) (lc)
#endif
#endif

/*
 * CO_BEGIN(self) opens a generator body; CO_END(self) closes it.
 *
 * Locals of the C function do not survive a yield: keep them in the frame.
 * The switch form's one limitation: a yield may not stand inside a `switch`
 * statement of the body (its `case` would belong to that switch).  On gcc
 * and clang that is a compile error, "duplicate case value" (see CO__CASE);
 * elsewhere it shows as CO_ELOSTRESUME on the next resume.  The labels form,
 * the default on gcc and clang, has no such limit.
 */
#if CO_LABELS
/* The body is a switch on co__section, which only the ends enter: 1 the
 * cleanup section (`default` when there is none), 2 the end, 3 a lost
 * resume point.  Every resume is the goto before it. */
#define CO_BEGIN(self)                                                                   \
    co_gen *const co__self = &(self)->gen;                                               \
    int co__section;                                                                     \
    CO__TRY_TOP;                                                                         \
    if (0) {                                                                             \
    co__try_here: /* an error or a return outside any CO_TRY */                          \
        CO__FRESH;                                                                       \
        if (!(co__self->flags & CO__F_FINALLY))                                          \
            goto co__to_finally;                                                         \
    co__to_end:                                                                          \
        co__section = 2;                                                                 \
        goto co__sections;                                                               \
    co__to_finally:                                                                      \
        co__section = 1;                                                                 \
        goto co__sections;                                                               \
        CO__LOST_SECTION                                                                 \
    }                                                                                    \
    CO__GOTO_LC(co__self->lc); /* the start is offset 0 */                               \
co__sections:                                                                            \
    switch (co__section) {                                                               \
    case 0:                                                                              \
    if (0)                                                                               \
        goto co__try_here;                                                               \
    co__base:
#define CO__FINALLY_CASE case 1:
#define CO__TO_FINALLY goto co__to_finally
#define CO__TO_END goto co__to_end
#define CO__END_LABEL
#define CO__LOST (co__section == 3)
/* Goes to the innermost handler: a block-scoped label of the innermost
   CO_TRY, or the body's own, which leads to the cleanup section. */
#define CO__UNWIND                                                                       \
    do {                                                                                 \
        goto co__try_here;                                                               \
    } while (0)
#else
/* Only errors and returns go back to co__dispatch: the cleanup section and
 * the end are entered by forward gotos, so that the body's dispatch is not
 * the head of a loop (which compilers lay out behind a jump). */
#define CO_BEGIN(self)                   \
    co_gen *const co__self = &(self)->gen; \
    CO__TRY_TOP;                         \
    if (0)                               \
        goto co__dispatch;               \
co__dispatch:                            \
    switch (CO__DISPATCH(co__self->lc)) { \
    CO__CASE(CO__LC_START)
#define CO__FINALLY_CASE                                                                 \
    CO__CASE(CO__LC_FINALLY)                                                             \
    co__to_finally:
#define CO__TO_FINALLY goto co__to_finally
#define CO__TO_END goto co__to_end
#define CO__END_LABEL co__to_end:
#define CO__LOST (co__self->lc != CO__LC_FINALLY && co__self->lc != CO__LC_END)
/* Goes to the innermost handler: the `case` of the innermost CO_TRY, whose
   number the try's scope holds as a constant, or the cleanup section. */
#define CO__UNWIND                                                                       \
    do {                                                                                 \
        CO__FRESH;                                                                       \
        co__self->lc = co__try_d ? (co_lc)(co__try_h + 1)                                \
                                 : co__body_exit(co__self, CO__LC_FINALLY, CO__LC_END);  \
        goto co__dispatch;                                                               \
    } while (0)
#endif
/* Outside any CO_TRY: depth 0 (each CO_TRY's scope counts one more). */
#define CO__TRY_TOP enum { co__try_d = 0, co__try_h = 0 }

/*
 * CO_FINALLY(self) { ... } -- an optional cleanup section between the body and
 * CO_END.  It runs exactly once: when the body ends, returns, raises, or an
 * error thrown in (close() included) leaves it.  CO_THROWN(self) tells it why.
 * It may yield; the error it unwinds is raised again when it ends.  Its one
 * difference from Python's `finally`: an error thrown in at one of its own
 * yields and caught there (a _CATCH yield) takes the place of the error
 * being unwound, for want of a second slot in a 16-byte header.
 */
#define CO_FINALLY(self)               \
    co__self->err = 0;                 \
    CO__TO_FINALLY;                    \
    CO__FINALLY_CASE                   \
    co__set_thrown(co__self, co__self->err); \
    co__self->flags |= CO__F_FINALLY;

#define CO_END(self)                                                \
    CO__FRESH;                                                      \
    if (!(co__self->flags & CO__F_FINALLY))                         \
        co__self->err = 0;                                          \
    CO__TO_END;                                                     \
    default:                                                        \
        if (CO__LOST)                                               \
            return co__finish(co__self, true, __func__);            \
        CO__END_LABEL                                               \
        return co__finish(co__self, false, __func__);               \
    }                                                               \
    /* only a `break` out of the body (CO_BREAK outside a loop) */  \
    return co__finish(co__self, true, __func__)

/* After a _CATCH yield: the error thrown in there, else 0.  At the start of
 * the cleanup section: the error being unwound (0 for a normal end). */
#define CO_THROWN(self) (((self)->gen.flags & CO__F_THROWN) ? (int)(self)->gen.err : 0)
/* After a yield-from or await: true when the child had already finished, so
 * the expression has no value (Python's None); its `ret` is stale. */
#define CO_NO_VALUE(self) (((self)->gen.flags & CO__F_NOVALUE) != 0)
/* After a yield: true when resumed by a send (the value is in `in`). */
#define CO_SENT(self) (((self)->gen.flags & CO__F_SENT) != 0)

#define CO__RESUMED(self, k, caught)                                                       \
    CO__POINT_LABEL(k)                                                                     \
    CO__FRESH;                                                                             \
    if (CO__UNLIKELY(co__unwinds(co__self, (caught))))                                     \
    CO__UNWIND

/* yield v: stores v in `out` and suspends; an error thrown here unwinds. */
#define CO_YIELD(self, value) CO__YIELD_VALUE(self, value, CO__K, false)
/* The same, but a thrown error is caught: read it with CO_THROWN(self). */
#define CO_YIELD_CATCH(self, value) CO__YIELD_VALUE(self, value, CO__K, true)
/* A bare `yield` (no value): suspends. */
#define CO_SUSPEND(self) CO__SUSPEND(self, CO__K, false)
#define CO_SUSPEND_CATCH(self) CO__SUSPEND(self, CO__K, true)

#define CO__YIELD_VALUE(self, value, k, caught)                                            \
    do {                                                                                   \
        CO__CHECK_K(k);                                                                    \
        (self)->out = (value);                                                             \
        CO__TRACE(CO_TRACE_YIELD, co__self, __FILE__, __LINE__);                           \
        return co__suspend_value(co__self, &(self)->out, sizeof (self)->out,               \
                                 CO__POINT_LC(k), __LINE__);                               \
        CO__RESUMED(self, k, caught);                                                      \
    } while (0)

#define CO__SUSPEND(self, k, caught)                                                       \
    do {                                                                                   \
        CO__CHECK_K(k);                                                                    \
        CO__TRACE(CO_TRACE_YIELD, co__self, __FILE__, __LINE__);                           \
        return co__suspend(co__self, CO__POINT_LC(k), __LINE__);                           \
        CO__RESUMED(self, k, caught);                                                      \
    } while (0)

/* return: finishes (after the cleanup section) with value stored in `ret`. */
#define CO_RETURN(self, value)                                                             \
    do {                                                                                   \
        (self)->ret = (value);                                                             \
        CO_RETURN_VOID(self);                                                              \
    } while (0)
#define CO_RETURN_VOID(self)                                                               \
    do {                                                                                   \
        co__leave(co__self, 0);                                                            \
        CO__UNWIND;                                                                        \
    } while (0)
/* raise err: finishes (after the cleanup section) with error err (< 0). */
#define CO_RAISE(self, error) CO_RAISE_WITH(self, error, 0, (const char *)0, (const char *)0)
/* raise Error(value): the same, described in the tree's error record (if its
 * context has one): code, value, a message formatted from fmt (`%d` is
 * value, `%s` is str, `%%` a percent sign), file:line and this body. */
#define CO_RAISE_WITH(self, error, value, fmt, str)                                        \
    do {                                                                                   \
        co__raise(co__self, (error));                                                      \
        co__raised(co__self, co__self->err, (value), (fmt), (str), __FILE__, __LINE__,     \
                   __func__);                                                              \
        CO__UNWIND;                                                                        \
    } while (0)

/*
 * yield from self->member: the child frame (initialised, a member of this
 * frame) runs until it finishes; its yields come out of this generator, sends
 * and throws go in to it, close() closes it first.  Its return value is then
 * in the child's own fields.  An error it finishes with is raised here
 * (CO_YIELD_FROM_CATCH catches it into CO_THROWN).  Both frames must declare
 * `out` and `in` of the same types, right after `gen`.
 */
#define CO_YIELD_FROM(self, member) CO__DELEGATE(self, (self)->member, CO__K, false, 1, (void)0)
#define CO_YIELD_FROM_CATCH(self, member)                                                  \
    CO__DELEGATE(self, (self)->member, CO__K, true, 1, (void)0)
/* await self->member: the same delegation, with no values passed (Python's await). */
#define CO_AWAIT(self, member) CO__DELEGATE(self, (self)->member, CO__K, false, 0, (void)0)
#define CO_AWAIT_CATCH(self, member) CO__DELEGATE(self, (self)->member, CO__K, true, 0, (void)0)

#define CO__VALUES_MATCH(self, child)                                                      \
    (sizeof (self)->out == sizeof (child).out && sizeof (self)->in == sizeof (child).in &&   \
     (char *)&(self)->out - (char *)(self) == (char *)&(child).out - (char *)&(child) &&     \
     (char *)&(self)->in - (char *)(self) == (char *)&(child).in - (char *)&(child))
#define CO__LAYOUT_OK(self, child, values) CO__LAYOUT_OK_##values(self, child)
#define CO__LAYOUT_OK_1(self, child)                                                       \
    ((void)(0 && ((self)->out = (child).out, (child).in = (self)->in, 0)),                  \
     CO__VALUES_MATCH(self, child))
#define CO__LAYOUT_OK_0(self, child) true

/* A frame's size limit: every offset of a delegation tree is 16-bit. */
#define CO__FRAME_FITS(self)                                                               \
    (void)sizeof(struct {                                                                  \
        char co_frame_larger_than_32767_bytes_the_limit_of_16_bit_offsets                   \
            [sizeof *(self) <= INT16_MAX ? 1 : -1];                                        \
    })

#define CO__DELEGATE(self, child, k, caught, values, joined)                               \
    do {                                                                                   \
        CO__CHECK_K(k);                                                                    \
        CO__FRAME_FITS(self);                                                              \
        if (co__delegate(co__self, &(child).gen, values, CO__LAYOUT_OK(self, child, values), \
                         CO__POINT_LC(k), __LINE__))                                       \
            return CO__DELEGATED;                                                          \
        goto CO__CAT(co__joined_, k);                                                      \
        CO__POINT_LABEL(k)                                                                 \
        CO__CAT(co__joined_, k) :                                                          \
        joined;                                                                            \
        if (co__unwinds(co__self, (caught)))                                               \
            CO__UNWIND;                                                                    \
    } while (0)

/* ------------------------------------------- try / except / else / finally */

/*
 * Python's try statement, anywhere in a body, nested, any number of them:
 *
 *     CO_TRY(self) {                      try:
 *         ...                                 ...
 *     } CO_EXCEPT(self, E) {              except E:
 *         ...                                 ...
 *     } CO_EXCEPT_IN(self, E1, E2) {      except (E1, E2):
 *     } CO_EXCEPT_ANY(self) {             except Exception:
 *     } CO_ELSE(self) {                   else:
 *     } CO_TRY_FINALLY(self) {            finally:
 *     } CO_TRY_END(self);
 *
 * Every clause but the try block is optional; they come in this order.  An
 * error raised in the try block -- by CO_RAISE, thrown in at a yield, or
 * raised by a child at a yield-from -- goes to the first matching except
 * clause (CO_CAUGHT(self) is the code); unmatched, it is raised again after
 * the finally clause ran.  An error raised in an except or else clause runs
 * the finally clause, then goes on outward; one raised in the finally clause
 * replaces what it was unwinding.  CO_RETURN and CO_BREAK inside any clause
 * run the finally clauses of the enclosing tries, innermost first.
 * CO_EXCEPT_ANY lets CO_EXIT (GeneratorExit), the runtime's cancellation and
 * its interruption through, as `except Exception` does; CO_EXCEPT_ALL is a
 * bare `except:`.
 *
 * A frame whose body uses CO_TRY declares `co_try tries[N];`, N being how
 * deeply its try statements nest (a compile error names the field when N is
 * too small); frames that use none pay nothing.  Yields, sends, throws and
 * delegations work in every clause, in both forms.  In the switch form a
 * CO_TRY, like a yield, may not stand inside a `switch` statement.
 */
typedef struct co_try {
    int16_t code;  /* the error being handled or unwound                */
    int16_t outer; /* the error a cleanup section was unwinding at entry */
    uint8_t phase; /* CO__TRY_*                                          */
    uint8_t exit;  /* CO__EXIT_*: why the finally clause runs            */
} co_try;

enum { CO__TRY_OFF, CO__TRY_BODY, CO__TRY_MATCHING, CO__TRY_EXCEPT, CO__TRY_ELSE,
       CO__TRY_FINALLY, CO__TRY_LEAVING };
enum { CO__EXIT_NONE, CO__EXIT_RAISE, CO__EXIT_RETURN, CO__EXIT_BREAK, CO__EXIT_BREAKING };

/* The runtime's asyncio.CancelledError and KeyboardInterrupt (corio/sched.h):
   with GeneratorExit, what `except Exception` does not catch. */
#define CO__CANCELLED (-1101)
#define CO__INTERRUPTED (-1114)

static inline void co__try_enter(co_try *t, const co_gen *g)
{
    t->code = 0;
    t->outer = g->err;
    t->phase = CO__TRY_BODY;
    t->exit = CO__EXIT_NONE;
}

/* At the try's handler: a raise, return or break left one of its clauses. */
static inline void co__try_caught(co_try *t, co_gen *g)
{
    uint8_t why = (g->flags & CO__F_THROWN) ? CO__EXIT_RAISE
                  : t->exit == CO__EXIT_BREAKING ? CO__EXIT_BREAK
                                              : CO__EXIT_RETURN;
    t->code = why == CO__EXIT_RAISE ? g->err : 0;
    g->flags &= (uint8_t)~CO__F_THROWN;
    if (t->phase == CO__TRY_BODY && why == CO__EXIT_RAISE) {
        t->phase = CO__TRY_MATCHING;
        return;
    }
    t->phase = t->phase == CO__TRY_FINALLY ? CO__TRY_LEAVING : CO__TRY_FINALLY;
    t->exit = why;
}

static inline bool co__try_match(co_try *t, int code)
{
    if (t->phase != CO__TRY_MATCHING || t->code != code)
        return false;
    t->phase = CO__TRY_EXCEPT;
    return true;
}

static inline bool co__try_match_in(co_try *t, const int *codes, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (co__try_match(t, codes[i]))
            return true;
    return false;
}

/* all: a bare except; else: except Exception. */
static inline bool co__try_match_any(co_try *t, bool all)
{
    if (t->phase != CO__TRY_MATCHING)
        return false;
    if (!all && (t->code == CO_EXIT || t->code == CO__CANCELLED || t->code == CO__INTERRUPTED))
        return false;
    t->phase = CO__TRY_EXCEPT;
    return true;
}

static inline bool co__try_else(co_try *t)
{
    if (t->phase != CO__TRY_BODY)
        return false;
    t->phase = CO__TRY_ELSE;
    return true;
}

/* Whether the finally clause runs now (not when it is itself being left). */
static inline bool co__try_finally(co_try *t)
{
    if (t->phase == CO__TRY_LEAVING)
        return false;
    if (t->phase == CO__TRY_MATCHING) { /* no except clause took it */
        t->exit = CO__EXIT_RAISE;
    } else if (t->phase != CO__TRY_FINALLY) {
        /* entered by falling in, also after an except clause that handled
           its error: nothing is being unwound (Python's sys.exc_info() is
           empty in that finally), so CO_CAUGHT is 0 there */
        t->exit = CO__EXIT_NONE;
        t->code = 0;
    }
    t->phase = CO__TRY_FINALLY;
    return true;
}

/* The try is over: what goes on after it (CO__EXIT_*, also left in t->exit),
 * with g set for it. */
static inline int co__try_end(co_try *t, co_gen *g)
{
    uint8_t why = t->phase == CO__TRY_MATCHING ? CO__EXIT_RAISE
                  : t->phase >= CO__TRY_FINALLY ? t->exit
                                                : CO__EXIT_NONE;
    t->phase = CO__TRY_OFF;
    t->exit = why;
    if (why == CO__EXIT_RAISE)
        co__set_thrown(g, t->code);
    else if (why == CO__EXIT_RETURN)
        co__set_thrown(g, 0);
    else if (g->flags & CO__F_FINALLY) /* the cleanup section's error stays pending */
        g->err = t->outer;
    return why;
}

/* Makes CO_BREAK's way out known to the innermost try's handler. */
static inline void co__try_break(co_try *t, co_gen *g)
{
    t->exit = CO__EXIT_BREAKING;
    g->flags &= (uint8_t)~CO__F_THROWN;
}

#if defined(__GNUC__)
#define CO__PRAGMA(x) _Pragma(#x)
#define CO__SCOPED(...)                                                                    \
    CO__PRAGMA(GCC diagnostic push) CO__PRAGMA(GCC diagnostic ignored "-Wshadow")          \
    __VA_ARGS__ CO__PRAGMA(GCC diagnostic pop)
#else
#define CO__SCOPED(...) __VA_ARGS__
#endif

#if CO_LABELS
/* The try's scope opens with its own handler label (a GNU local label). */
#define CO__TRY_OPEN                                                                       \
    CO__PRAGMA(GCC diagnostic push) CO__PRAGMA(GCC diagnostic ignored "-Wpedantic")        \
    { __label__ co__try_here;                                                              \
    CO__PRAGMA(GCC diagnostic pop)
#define CO__TRY_HANDLER(k)                                                                 \
    if (0)                                                                                 \
        goto co__try_here;                                                                 \
    co__try_here:
#else
#define CO__TRY_OPEN {
#define CO__TRY_HANDLER(k) CO__POINT_LABEL(k)
#endif

/* This try's slot in the frame's `tries`. */
#define CO__TRY_SLOT(self) ((self)->tries[co__try_d - 1])

#define CO_TRY(self) CO__TRY(self, CO__K)
#define CO__TRY(self, k)                                                                   \
    CO__TRY_OPEN                                                                           \
    CO__SCOPED(enum { co__try_od = co__try_d };)                                           \
    CO__SCOPED(enum { co__try_d = co__try_od + 1, co__try_h = k };)                        \
    CO__CHECK_K(k);                                                                        \
    (void)sizeof(struct {                                                                  \
        char co_try_nesting_deeper_than_the_frame_s_tries_array                            \
            [sizeof (self)->tries / sizeof (self)->tries[0] >= co__try_d ? 1 : -1];        \
    });                                                                                    \
    co__try_enter(&CO__TRY_SLOT(self), co__self);                                          \
    if (0) {                                                                               \
        CO__TRY_HANDLER(k)                                                                 \
        co__try_caught(&CO__TRY_SLOT(self), co__self);                                     \
    }                                                                                      \
    if (CO__TRY_SLOT(self).phase == CO__TRY_BODY)

#define CO_EXCEPT(self, error) else if (co__try_match(&CO__TRY_SLOT(self), (error)))
#define CO_EXCEPT_IN(self, ...)                                                            \
    else if (co__try_match_in(&CO__TRY_SLOT(self), (const int[]){__VA_ARGS__},              \
                              sizeof((const int[]){__VA_ARGS__}) / sizeof(int)))
#define CO_EXCEPT_ANY(self) else if (co__try_match_any(&CO__TRY_SLOT(self), false))
#define CO_EXCEPT_ALL(self) else if (co__try_match_any(&CO__TRY_SLOT(self), true))
#define CO_ELSE(self) if (co__try_else(&CO__TRY_SLOT(self)))
#define CO_TRY_FINALLY(self) if (co__try_finally(&CO__TRY_SLOT(self)))

/* Closes the try; what left it goes on outward (a `break` leaves the loop
   around the try statement). */
#define CO_TRY_END(self)                                                                   \
    }                                                                                      \
    if (co__try_end(&(self)->tries[co__try_d], co__self) == CO__EXIT_BREAK)                \
        break;                                                                             \
    else if ((self)->tries[co__try_d].exit != CO__EXIT_NONE)                               \
    CO__UNWIND

/* In an except clause or a finally clause: the error it handles or unwinds. */
#define CO_CAUGHT(self) ((int)CO__TRY_SLOT(self).code)

/* Python's break inside a try inside a loop: the finally clause runs, then the
   loop is left.  The loop must enclose the try statement directly. */
#define CO_BREAK(self)                                                                     \
    do {                                                                                   \
        co__try_break(&CO__TRY_SLOT(self), co__self);                                      \
        CO__UNWIND;                                                                        \
    } while (0)

/* ------------------------------------------------- scoped finalization */

/*
 * Python's `del g`: on gcc and clang, a frame declared with CO_SCOPED is
 * closed when it leaves C scope, by any way out (the block's end, return,
 * break, goto).  Its cleanup runs; an error that closing reports -- one the
 * cleanup raised, CO_EIGNOREDCLOSE for a cleanup that yielded -- is never
 * raised (there is no one to raise it to) but given to the unraisable hook,
 * Python's sys.unraisablehook:
 *
 *     {
 *         CO_SCOPED(counter, c, counter_fn);   // counter c, CO_INIT'ed
 *         co_next(&c.gen);
 *     }                                        // co_close(&c.gen) here
 *
 * Define CO_UNRAISABLE_HOOK(gen, err, scope) before this header to be told
 * (scope is a const co_scope *: the variable's name and where it was
 * declared).  The default prints to stderr in a hosted build, as Python's
 * "Exception ignored in", and does nothing in a freestanding one.  The
 * declaration is a frame and a hidden companion with
 * __attribute__((cleanup)); it belongs in ordinary functions, not in a
 * generator body (whose locals do not survive a yield anyway).  Other
 * compilers have no CO_SCOPED (CO_HAVE_SCOPED is 0 there): call co_close on
 * every way out.
 */
#if defined(__GNUC__)
#define CO_HAVE_SCOPED 1
typedef struct co_scope {
    co_gen *gen;
    const char *name; /* the frame variable's name */
    const char *file; /* where it was declared     */
    unsigned line;
} co_scope;

#ifndef CO_UNRAISABLE_HOOK
#if __STDC_HOSTED__
#include <stdio.h>
/* Python's default unraisable hook, in corio's terms. */
static inline void co__unraisable_print(co_gen *g, int err, const co_scope *s)
{
    const co_error *e = co__record(g);
    fprintf(stderr, "Exception ignored in: generator frame '%s' (%s:%u), closed at scope exit\n",
            s->name, s->file, s->line);
    if (e != NULL && e->code == err) {
        unsigned i, n = e->depth < CO_TRACEBACK ? e->depth : CO_TRACEBACK;
        fprintf(stderr, "Traceback (most recent call last):\n");
        for (i = n; i-- > 0;)
            fprintf(stderr, "  in %s, line %u\n", e->tb[i].body, e->tb[i].line);
        fprintf(stderr, "error %d: %s\n", err, co_error_text(e));
    } else {
        fprintf(stderr, "error %d: %s\n", err, co_gen_strerror(err));
    }
}
#define CO_UNRAISABLE_HOOK(g, err, scope) co__unraisable_print((g), (err), (scope))
#else
#define CO_UNRAISABLE_HOOK(g, err, scope) ((void)(g), (void)(err), (void)(scope))
#endif
#endif

static inline void co__scope_end(co_scope *s)
{
    int rc = co_close(s->gen);
    if (rc < 0)
        CO_UNRAISABLE_HOOK(s->gen, rc, s);
}

/* Declares frame `name` of frame type `type`, initialised to run `body`
 * (CO_INIT), and closes it when it leaves scope. */
#define CO_SCOPED(type, name, body)                                                        \
    type name = {.gen = {.fn = (body)}};                                                   \
    __attribute__((cleanup(co__scope_end), unused)) co_scope CO__CAT(co__scope_, name) = { \
        &name.gen, #name, __FILE__, __LINE__}
#else
#define CO_HAVE_SCOPED 0
#endif

#ifdef __cplusplus
}
#endif

#endif /* CORIO_GEN_H */
