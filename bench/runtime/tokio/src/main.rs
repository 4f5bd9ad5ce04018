//! tokio_bench -- bench/runtime.sh's spawn benchmark against tokio, on a
//! current-thread runtime (one thread, as corio's loop, libuv, libev and
//! asyncio run).
//!
//!   spawn N   N tasks (tokio::spawn), each sleeps 10 ms and returns its
//!             number; their JoinHandles, kept in a Vec (the gather's
//!             array), are awaited in order and the numbers summed.
//!
//! It prints the one line of bench/runtime/measure.h,
//! `result bench=spawn lib=tokio n=N wall_ns=.. cpu_ns=.. rss_kb=..`: time
//! from the first task's creation to the last join, CPU of the process over
//! that span, and the growth of its peak RSS.  A wrong sum (work that did
//! not happen) is the only failure; a bad command line exits 2.

use std::process::exit;
use std::time::{Duration, Instant};

const USAGE: &str = "tokio_bench spawn N";

/// CPU nanoseconds the whole process used, user and system, every thread.
fn cpu_ns() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as i64 * 1_000_000_000 + ts.tv_nsec as i64
}

/// The peak resident set so far, in KiB (Linux's ru_maxrss unit).
fn peak_rss_kb() -> i64 {
    // SAFETY: an all-zero rusage is a valid value for getrusage to overwrite.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: ru is a valid rusage for the call to fill.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    ru.ru_maxrss as i64
}

/// async def job(i): await asyncio.sleep(0.01); return i
async fn job(i: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(10)).await;
    i
}

/// await asyncio.gather(*(job(i) for i in range(n))), summed: the measured span.
async fn spawn(n: u64) {
    let rss0 = peak_rss_kb();
    let (t0, c0) = (Instant::now(), cpu_ns());
    let mut tasks = Vec::with_capacity(n as usize);
    for i in 0..n {
        tasks.push(tokio::spawn(job(i)));
    }
    let mut sum = 0u64;
    for t in tasks {
        sum += t.await.expect("a job panicked");
    }
    let (wall, cpu) = (t0.elapsed().as_nanos(), cpu_ns() - c0);
    let rss = peak_rss_kb() - rss0;
    if sum != n * (n - 1) / 2 {
        eprintln!("spawn: checksum {}, expected {}", sum, n * (n - 1) / 2);
        exit(1);
    }
    println!("result bench=spawn lib=tokio n={n} wall_ns={wall} cpu_ns={cpu} rss_kb={rss}");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let count = match args.as_slice() {
        [_, cmd, n] if cmd == "spawn" => n.parse::<u64>().ok(),
        _ => None,
    };
    // measure.h's parse_count: 1 .. 1e9
    let n = match count {
        Some(n) if (1..=1_000_000_000).contains(&n) => n,
        _ => {
            eprintln!("usage: {USAGE}");
            exit(2);
        }
    };
    // What #[tokio::main(flavor = "current_thread")] builds: the time and
    // I/O drivers, one thread.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("tokio runtime: {e}");
            exit(1);
        });
    rt.block_on(spawn(n));
}
