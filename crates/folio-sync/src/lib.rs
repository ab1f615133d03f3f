//! The sync engine: planner, executor, cursor, progress, scheduler. Filled by the sync issue.
