/*
 * test_samples_agen.c -- the async generator samples (ticker, async_lines,
 * async_pipeline) print what their Python twins print: each C sample runs
 * on the fake clock, its twin under /usr/bin/python3 in real time (half a
 * second at most), and both must equal test/samples/expected/<name>.out.
 */
#include <criterion/criterion.h>

#include "samples_kit.h"

Test(asyncio_samples, ticker)
{
    check_output("SAMPLE_TICKER", ARGS("--fake-clock"), "ticker.out");
}

Test(asyncio_samples, ticker_python_twin)
{
    check_python_twin("ticker.py", "ticker.out");
}

Test(asyncio_samples, async_lines)
{
    check_output("SAMPLE_ASYNC_LINES", ARGS("--fake-clock"), "async_lines.out");
}

Test(asyncio_samples, async_lines_python_twin)
{
    check_python_twin("async_lines.py", "async_lines.out");
}

Test(asyncio_samples, async_pipeline)
{
    check_output("SAMPLE_ASYNC_PIPELINE", ARGS("--fake-clock"), "async_pipeline.out");
}

Test(asyncio_samples, async_pipeline_python_twin)
{
    check_python_twin("async_pipeline.py", "async_pipeline.out");
}
