/*
 * twins.h -- the traces of the runtime suite's ordering cases, as CPython
 * 3.11's asyncio prints them (twins_asyncio.py, on a virtual clock).  The C
 * tests (callback.c, future.c, asyncio3.c, cond.c, barrier.c, queue_more.c,
 * hops.c) assert their logs equal these; the `twins` test (twins.c) runs
 * the Python twins and checks they still print them, so C and Python are
 * compared line by line.
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

#define TWIN_COND_NOTIFY_FIFO \
    "w0 waits\n" \
    "w1 waits\n" \
    "w2 waits\n" \
    "notify 1\n" \
    "w0 woke at 5, locked 1\n" \
    "notify 2\n" \
    "w1 woke at 10, locked 1\n" \
    "w2 woke at 10, locked 1\n"

#define TWIN_COND_CANCEL_RELOCKS \
    "main releases at 5\n" \
    "a cancelled at 5, locked 1\n" \
    "a ended cancelled, locked 0\n"

#define TWIN_COND_WAIT_FOR \
    "sees 3 at 3 after 4 checks\n"

#define TWIN_COND_TIMEOUTS_EQUAL \
    "a timed out at 10, locked 1\n" \
    "notified at 10\n" \
    "b woke at 10\n"

#define TWIN_BARRIER_ROUNDS \
    "a arrives at 0, waiting 0\n" \
    "b arrives at 1, waiting 1\n" \
    "c arrives at 2, waiting 2\n" \
    "c index 2 at 2\n" \
    "d arrives at 2, waiting 0\n" \
    "a index 0 at 2\n" \
    "b index 1 at 2\n" \
    "e arrives at 5, waiting 1\n" \
    "aborted at 6, broken 1\n" \
    "d broken at 6\n" \
    "e broken at 6\n" \
    "f arrives at 7, waiting 0\n" \
    "f broken at 7\n" \
    "reset at 8, broken 0\n" \
    "g arrives at 9, waiting 0\n" \
    "h arrives at 10, waiting 1\n" \
    "h cancelled at 11, waiting 1\n" \
    "at 12 waiting 1\n" \
    "g broken at 12\n"

#define TWIN_QUEUE_JOIN \
    "all put at 0\n" \
    "w1 done 0 at 5\n" \
    "w2 done 1 at 7\n" \
    "w1 done 2 at 10\n" \
    "w2 done 3 at 14\n" \
    "w1 done 4 at 15\n" \
    "joined at 15\n" \
    "task_done too many times\n"

#define TWIN_QUEUE_PRIORITY_TIES \
    "0 1 6 2 5 10 9 15 16 17 19 23 25 32 26 27 40 21 45 47\n" \
    "50 24 41 60 49 42 65 66 69 70 44 48 63 68 28 79 80 18 78 86\n" \
    "89 90 91 81 96 97 82 100 104 95 108 98 101 111 112 120 124 125 84 61\n" \
    "132 133 135 137 140 143 144 147 150 151 157 158 160 153 156 165 62 164 166 167\n" \
    "179 174 181 184 185 178 192 194 196 199 198 188 189 190 193 183 168 171 53 52\n" \
    "134 51 116 180 107 109 87 103 176 197 195 191 55 94 93 43 118 99 102 152\n" \
    "73 58 29 67 38 7 142 169 149 173 187 177 57 131 161 163 74 12 77 110\n" \
    "8 34 83 31 72 139 141 119 56 3 35 126 127 122 121 129 117 92 115 4\n" \
    "170 30 172 13 46 114 59 175 105 76 20 162 106 39 75 14 11 159 22 71\n" \
    "145 123 54 186 113 146 85 136 64 154 37 148 36 130 88 33 128 182 155 138\n"

/* name and trace of each, in the order twins_asyncio.py runs them */
#define TWIN_GATHER_SHIELD_HOPS \
    "a ends at 3\n" \
    "s 0\n" \
    "s 1\n" \
    "gather back at 3\n" \
    "s 2\n" \
    "s 3\n" \
    "t 0\n" \
    "gather of a done task back\n" \
    "t 1\n" \
    "t 2\n" \
    "t 3\n" \
    "b ends at 8\n" \
    "u 0\n" \
    "u 1\n" \
    "gather raised at 8\n" \
    "u 2\n" \
    "u 3\n" \
    "c ends at 15\n" \
    "d ends at 21\n" \
    "v 0\n" \
    "v 1\n" \
    "shield back at 21\n" \
    "v 2\n" \
    "v 3\n"

#define TWIN_GROUP_HOPS \
    "body ends\n" \
    "s 0\n" \
    "a ends at 3\n" \
    "s 1\n" \
    "s 2\n" \
    "group back at 3\n" \
    "s 3\n"

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
    X(wait_for_forms, TWIN_WAIT_FOR_FORMS) \
    X(cond_notify_fifo, TWIN_COND_NOTIFY_FIFO) \
    X(cond_cancel_relocks, TWIN_COND_CANCEL_RELOCKS) \
    X(cond_wait_for, TWIN_COND_WAIT_FOR) \
    X(cond_timeouts_equal, TWIN_COND_TIMEOUTS_EQUAL) \
    X(barrier_rounds, TWIN_BARRIER_ROUNDS) \
    X(queue_join, TWIN_QUEUE_JOIN) \
    X(queue_priority_ties, TWIN_QUEUE_PRIORITY_TIES) \
    X(gather_shield_hops, TWIN_GATHER_SHIELD_HOPS) \
    X(group_hops, TWIN_GROUP_HOPS)

#endif /* TWINS_H */
