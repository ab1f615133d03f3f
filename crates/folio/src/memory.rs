//! Keeping the process's memory small.
//!
//! glibc's malloc gives each thread that allocates concurrently an arena of
//! its own (up to 8 per core) and keeps freed memory in each, so a sync
//! whose downloads and commits hop between runtime threads leaves several
//! partly used copies of its heap resident. Measured with `folio-bench sync
//! --scenarios many` (a full sync of 100,000 files, data on tmpfs): peak
//! RSS 169 MiB with the default, 155 MiB with 2 arenas, 134 MiB with one,
//! the sync no slower (51 s, 48 s, 53 s on a shared machine). Folio uses
//! one arena unless `MALLOC_ARENA_MAX` is set, which glibc then applies
//! itself and this leaves alone.

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
