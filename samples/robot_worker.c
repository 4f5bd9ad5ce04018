/*
 * robot_worker.c -- the "interactive robot" of lecture 2: send, close,
 * catching the close, and delegation with yield from.
 *
 * The Python it mirrors (samples/robot_worker.py, the lecture's own example):
 *
 *     def robot_setting():
 *         yield from range(20)
 *
 *     def robot_worker() -> Iterator[int]:
 *         while True:
 *             try:
 *                 task = yield  # None
 *                 if isinstance(task, int):
 *                     print(task * 10)
 *                 elif task == "clear cache":
 *                     print("Cache cleared")
 *                 elif task == "self-diagnosis":
 *                     yield from robot_setting()
 *             except GeneratorExit:
 *                 print("You turned the ROBOT off!")
 *                 return
 *
 *     robot = robot_worker()
 *     if inspect.getgeneratorstate(robot) == 'GEN_CREATED':
 *         print("Ready to work")
 *     next(robot)          # prime it
 *     robot.send(4)
 *     robot.send(2)
 *     next(robot)          # yield None
 *     robot.send("clear cache")
 *     robot.send("self-diagnosis")
 *     for _ in range(20):
 *         print(next(robot))
 *     robot.send(4)
 *     robot.close()
 *
 * Below is its C twin; it prints the same lines.  Where Python's values carry
 * their type, C needs small tagged structs: the robot yields "an int or None"
 * and is sent "None, an int or a command".
 */
#include <corio/gen.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the robot yields: Python's `int | None`. */
typedef struct {
    bool some; /* false: None */
    int value;
} maybe_int;

/* What the robot is sent: Python's `task`, whose type it tests at run time. */
typedef struct {
    enum { TASK_NUMBER, TASK_COMMAND } kind;
    int number;
    const char *command;
} task;

static const maybe_int none = {false, 0};

static maybe_int some(int value)
{
    maybe_int m = {true, value};
    return m;
}

static task number(int n)
{
    task t = {TASK_NUMBER, n, NULL};
    return t;
}

static task command(const char *text)
{
    task t = {TASK_COMMAND, 0, text};
    return t;
}

static bool is_command(const task *t, const char *text)
{
    return t->kind == TASK_COMMAND && strcmp(t->command, text) == 0;
}

/*
 * robot_setting(): counts 0..19.  A generator's locals live in its frame,
 * since the C function returns at every yield.  Its `out` and `in` match the
 * robot's exactly: that is what lets the robot delegate to it.
 */
typedef struct {
    co_gen gen;
    maybe_int out;
    task in;
    int step;
} robot_setting;

static int robot_setting_fn(co_gen *g)
{
    robot_setting *self = (robot_setting *)g;
    CO_BEGIN(self);
    for (self->step = 0; self->step < 20; self->step++)
        CO_YIELD(self, some(self->step));
    CO_END(self);
}

/* robot_worker(): the sub-generator's frame is a member of the robot's. */
typedef struct {
    co_gen gen;
    maybe_int out;
    task in;
    robot_setting diagnosis;
} robot_worker;

static int robot_worker_fn(co_gen *g)
{
    robot_worker *self = (robot_worker *)g;
    CO_BEGIN(self);
    for (;;) {
        /* task = yield.  The _CATCH form is the `try`: an error thrown in
           (close() throws CO_EXIT, Python's GeneratorExit) lands in
           CO_THROWN(self) instead of ending the body. */
        CO_YIELD_CATCH(self, none);
        if (CO_THROWN(self))
            break;
        if (!CO_SENT(self)) /* resumed by next(): task is None */
            continue;
        if (self->in.kind == TASK_NUMBER) {
            printf("%d\n", self->in.number * 10);
        } else if (is_command(&self->in, "clear cache")) {
            puts("Cache cleared");
        } else if (is_command(&self->in, "self-diagnosis")) {
            /* Python's robot_setting() call: make a fresh sub-generator */
            CO_INIT(&self->diagnosis, robot_setting_fn);
            CO_YIELD_FROM_CATCH(self, diagnosis);
            if (CO_THROWN(self)) /* closed while it was delegating */
                break;
        }
    }
    /* except GeneratorExit: any other error thrown in goes on up, as in Python */
    if (CO_THROWN(self) != CO_EXIT)
        CO_RAISE(self, CO_THROWN(self));
    puts("You turned the ROBOT off!");
    CO_END(self);
}

/* Where Python would raise (StopIteration, an error), the sample stops. */
static void check(int rc, int expected)
{
    if (rc != expected) {
        fprintf(stderr, "robot_worker: got %d (%s)\n", rc, co_gen_strerror(rc));
        exit(EXIT_FAILURE);
    }
}

static void print_maybe(maybe_int m)
{
    if (m.some)
        printf("%d\n", m.value);
    else
        puts("None");
}

int main(void)
{
    robot_worker robot;
    int i;

    CO_INIT(&robot, robot_worker_fn);
    if (co_state(&robot.gen) == CO_CREATED)
        puts("Ready to work");
    check(co_next(&robot.gen), CO_YIELDED); /* prime it */
    check(CO_SEND(&robot, number(4)), CO_YIELDED);
    check(CO_SEND(&robot, number(2)), CO_YIELDED);
    check(co_next(&robot.gen), CO_YIELDED); /* yield None */
    check(CO_SEND(&robot, command("clear cache")), CO_YIELDED);
    /* the robot now delegates: this send already returns robot_setting's 0 */
    check(CO_SEND(&robot, command("self-diagnosis")), CO_YIELDED);
    for (i = 0; i < 20; i++) {
        check(co_next(&robot.gen), CO_YIELDED);
        print_maybe(robot.out); /* the sub-generator's values come out here */
    }
    check(CO_SEND(&robot, number(4)), CO_YIELDED);
    check(co_close(&robot.gen), 0);
    return 0;
}
