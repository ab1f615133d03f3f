//! Keeping the process's memory small and its allocations uncontended.
//!
//! Rust's allocations go to jemalloc (`tikv-jemallocator`): each thread
//! allocates from a cache of its own. glibc's malloc, held to one arena
//! (below), made the runtime's threads, the SQLite workers and the blob
//! writers queue on that arena's lock during a sync of many small files;
//! glibc with more arenas avoided the lock but kept so much freed memory
//! that a 100,000-file sync came too close to the 150 MiB target
//! (docs/benchmarks.md).
//!
//! C code (SQLite) still calls glibc's malloc. glibc gives each thread that
//! allocates concurrently an arena of its own (up to 8 per core) and keeps
//! freed memory in each, which raised a 100,000-file sync's peak by about
//! a quarter. Folio keeps glibc to one arena unless `MALLOC_ARENA_MAX` is
//! set, which glibc then applies itself and this leaves alone.

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Has jemalloc return freed memory to the system from a thread of its
/// own, not inside whichever allocation crosses a purge deadline: there it
/// lands in a request's latency (jemalloc's TUNING.md advises it for
/// latency-sensitive services); without it the API's p99 latency
/// (`folio-bench api`) went past its 5 ms target in some runs. Call before
/// the runtime starts; a failure only costs that latency.
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
