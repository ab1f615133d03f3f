//! Keeping the process's memory small and its allocations uncontended.
//!
//! Rust's allocations go to jemalloc (`tikv-jemallocator`): each thread
//! allocates from a cache of its own. Before, everything went to glibc's
//! malloc held to one arena (below), and a profile of a sync of 10,000
//! small files showed the runtime's threads, the SQLite workers and the
//! blob writers queueing on that arena's lock (about a tenth of folio's
//! samples waking or waiting on it). Measured with `folio-bench sync`
//! (data on tmpfs, interleaved runs of both builds, 2026-12-04): the
//! 10,000-file sync 2.1-2.6x -> 1.8-2.0x the bare client, folio's CPU
//! 1.70-1.94 s -> 1.41-1.67 s; peak RSS of the 100,000-file sync
//! 127-131 MiB -> 129-130 MiB, of 10,000 files about 51-56 -> 68 MiB, of
//! one 2 GiB file 27 -> 34 MiB. glibc with 8 arenas gained about as much
//! on the small files, but peaked at 138-145 MiB at 100,000 files, too
//! close to the 150 MiB target.
//!
//! C code (SQLite) still calls glibc's malloc. glibc gives each thread that
//! allocates concurrently an arena of its own (up to 8 per core) and keeps
//! freed memory in each: measured before jemalloc, with `folio-bench sync
//! --scenarios many` (100,000 files, tmpfs), peak RSS 169 MiB with the
//! default, 155 MiB with 2 arenas, 134 MiB with one. Folio keeps glibc to
//! one arena unless `MALLOC_ARENA_MAX` is set, which glibc then applies
//! itself and this leaves alone.

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Has jemalloc return freed memory to the system from a thread of its
/// own, not inside whichever allocation crosses a purge deadline: there it
/// lands in a request's latency (jemalloc's TUNING.md advises it for
/// latency-sensitive services). Seen with `folio-bench api`: without it,
/// the p99 of `GET /api/libraries/{id}` went over 5 ms in 2 of 7 runs
/// (2.3-6.5 ms), with it 2.0-4.0 ms in 6; glibc 2.3-4.3 ms in 7. Call
/// before the runtime starts; a failure only costs that latency.
pub fn purge_in_background() {
    #[cfg(not(target_env = "msvc"))]
    if let Err(err) = tikv_jemalloc_ctl::background_thread::write(true) {
        eprintln!("warning: jemalloc's background purging is off: {err}");
    }
}

/// Limits glibc's malloc to one arena, unless `MALLOC_ARENA_MAX` says
/// otherwise. Call before any thread starts. Elsewhere (musl, other
/// systems) it does nothing.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only changes malloc's tuning; no thread exists
        // yet that could be allocating at the same time.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}

#[cfg(all(test, not(target_env = "msvc")))]
mod tests {
    #[test]
    fn purging_moves_to_a_background_thread() {
        super::purge_in_background();
        assert!(tikv_jemalloc_ctl::background_thread::read().expect("mallctl background_thread"));
    }
}
