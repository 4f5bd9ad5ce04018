/*
 * twins.h -- the traces of the runtime suite's ordering cases, as CPython
 * 3.11's asyncio prints them (twins_asyncio.py, on a virtual clock).  The C
 * tests (callback.c, future.c, asyncio3.c) assert their logs equal these;
 * the `twins` test (twins.c) runs the Python twins and checks they still
 * print them, so C and Python are compared line by line.
 */
#ifndef TWINS_H
#define TWINS_H

#define TWIN_CALL_SOON_FIFO \
    "main waits\n" \
    "cb1 at 0\n" \
    "a step 0\n" \
    "cb2 at 0\n" \
    "main back\n" \
    "a step 1\n" \
    "cb3 at 0\n" \
    "re-armed at 0\n"

#define TWIN_CALL_LATER_HANDLES \
    "negative delay at 2\n" \
    "at +5 at 7\n" \
    "canceller at 9\n" \
    "later 10 at 12\n" \
    "main done at 22\n"

#define TWIN_SOON_CANCELLED_IN_ROUND \
    "main yields\n" \
    "canceller at 0\n" \
    "kept at 0\n" \
    "main back\n"

#define TWIN_TIMER_CALLBACKS_AND_SLEEPERS \
    "cb at 10\n" \
    "sleeper wakes at 10\n" \
    "soon from cb at 10\n" \
    "spin 0 at 10\n" \
    "spin 1 at 10\n"

#define TWIN_FUTURE_RESULT \
    "main acted\n" \
    "w0 got 42 at 5\n" \
    "w1 got 42 at 5\n" \
    "w2 got 42 at 5\n"

#define TWIN_FUTURE_EXCEPTION \
    "main acted\n" \
    "w0: end of stream before the data expected\n" \
    "w1: end of stream before the data expected\n" \
    "w2: end of stream before the data expected\n"

#define TWIN_FUTURE_CANCEL_FUTURE \
    "main acted\n" \
    "w0: task cancelled\n" \
    "w1: task cancelled\n" \
    "w2: task cancelled\n"

#define TWIN_FUTURE_CANCEL_WAITER \
    "main acted\n" \
    "w0: task cancelled\n" \
    "w1: task cancelled\n" \
    "w2: task cancelled\n"

#define TWIN_FUTURE_RESULT_THEN_CANCEL \
    "main acted\n" \
    "w0 got 42 at 5\n" \
    "w1: task cancelled\n" \
    "w2 got 42 at 5\n"

#define TWIN_FUTURE_DONE_CALLBACKS \
    "set\n" \
    "cb 1, current task none\n" \
    "w9 got 5 at 0\n" \
    "cb 2, current task none\n" \
    "cb 3, current task none\n" \
    "added late\n" \
    "cb late, current task none\n"

#define TWIN_LOCK_HAND_OFF \
    "main released, locked 0\n" \
    "a has it, locked 1\n" \
    "a released, locked 0\n" \
    "late has it, locked 1\n" \
    "late released, locked 0\n"

#define TWIN_LOCK_HAND_OFF_CANCELLED \
    "main released, locked 0\n" \
    "late has it, locked 1\n" \
    "late released, locked 0\n"

#define TWIN_WAIT_FOR_FORMS \
    "3.12 form\n" \
    "probe runs in the caller's task\n" \
    "other task steps\n" \
    "3.11 form\n" \
    "probe runs in the new task\n"

/* name and trace of each, in the order twins_asyncio.py runs them */
#define TWIN_LIST(X) \
    X(call_soon_fifo, TWIN_CALL_SOON_FIFO) \
    X(call_later_handles, TWIN_CALL_LATER_HANDLES) \
    X(soon_cancelled_in_round, TWIN_SOON_CANCELLED_IN_ROUND) \
    X(timer_callbacks_and_sleepers, TWIN_TIMER_CALLBACKS_AND_SLEEPERS) \
    X(future_result, TWIN_FUTURE_RESULT) \
    X(future_exception, TWIN_FUTURE_EXCEPTION) \
    X(future_cancel_future, TWIN_FUTURE_CANCEL_FUTURE) \
    X(future_cancel_waiter, TWIN_FUTURE_CANCEL_WAITER) \
    X(future_result_then_cancel, TWIN_FUTURE_RESULT_THEN_CANCEL) \
    X(future_done_callbacks, TWIN_FUTURE_DONE_CALLBACKS) \
    X(lock_hand_off, TWIN_LOCK_HAND_OFF) \
    X(lock_hand_off_cancelled, TWIN_LOCK_HAND_OFF_CANCELLED) \
    X(wait_for_forms, TWIN_WAIT_FOR_FORMS)

#endif /* TWINS_H */
