//! Who holds a sync run's lease, and telling that a holder is dead.
//!
//! A run's lease lapses a few seconds after its process stops renewing it
//! (`folio-app`'s `sync.rs` sets the length). Often a process can
//! do better than wait: a run left `running` by its own previous instance
//! (the server was killed and restarted on the same machine) can be proven
//! dead at once, and its library synced again without waiting for the
//! lease.
//!
//! The holder id ([`this_process`]) names the process precisely enough for
//! that proof: the host name, the kernel's boot id, the process id
//! namespace, the process id and the process's start time (in clock ticks
//! since boot), plus a random part. [`is_provably_dead`] says a holder is
//! dead only when it ran on this host, in this boot of its kernel and in
//! this process id namespace, and no process with its id and start time
//! exists any more (its id is free, or taken by a later process). Any
//! doubt (another host or container, a system without `/proc`, an id in
//! another form) leaves the holder alive, and its lease lapses as usual.

use std::sync::OnceLock;

/// What a holder id starts with.
const PREFIX: &str = "folio-process;";

/// The identity of a process, as read from `/proc` on Linux.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    host: String,
    boot: String,
    pid_namespace: String,
    pid: u32,
    /// Start time in clock ticks since boot (`/proc/PID/stat`, field 22).
    start: u64,
}

impl Identity {
    fn of_this_process() -> Option<Self> {
        let pid = std::process::id();
        Some(Self {
            host: read_trimmed("/proc/sys/kernel/hostname")?,
            boot: read_trimmed("/proc/sys/kernel/random/boot_id")?,
            pid_namespace: std::fs::read_link("/proc/self/ns/pid")
                .ok()?
                .to_string_lossy()
                .into_owned(),
            pid,
            start: start_time(pid)?,
        })
    }

    fn to_owner(&self, nonce: &str) -> String {
        format!(
            "{PREFIX}host={};boot={};pidns={};pid={};start={};run={nonce}",
            self.host, self.boot, self.pid_namespace, self.pid, self.start
        )
    }

    fn parse(owner: &str) -> Option<Self> {
        let fields = owner.strip_prefix(PREFIX)?;
        let field = |name: &str| {
            fields
                .split(';')
                .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
        };
        Some(Self {
            host: field("host")?.to_owned(),
            boot: field("boot")?.to_owned(),
            pid_namespace: field("pidns")?.to_owned(),
            pid: field("pid")?.parse().ok()?,
            start: field("start")?.parse().ok()?,
        })
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = text.trim();
    (!text.is_empty() && !text.contains(';')).then(|| text.to_owned())
}

/// The start time of process `pid`, if it exists: field 22 of
/// `/proc/PID/stat`, counted after the command name (which may hold
/// spaces and parentheses, so it is skipped up to its last `)`).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    // Fields 3 onwards; the start time is field 22.
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// This process's lease holder id: [`Identity`] and a random part where
/// `/proc` tells who we are, else only a random id (no holder of it can
/// be proven dead).
pub fn this_process() -> &'static str {
    static OWNER: OnceLock<String> = OnceLock::new();
    OWNER.get_or_init(|| {
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        match Identity::of_this_process() {
            Some(identity) => identity.to_owner(&nonce),
            None => format!("folio-{nonce}"),
        }
    })
}

/// True when the holder `owner` is a process that ran here (same host,
/// kernel boot and process id namespace) and no longer exists. False for
/// this process, a live one, or one that cannot be judged from here.
pub fn is_provably_dead(owner: &str) -> bool {
    static HERE: OnceLock<Option<Identity>> = OnceLock::new();
    let Some(here) = HERE.get_or_init(Identity::of_this_process) else {
        return false;
    };
    let Some(holder) = Identity::parse(owner) else {
        return false;
    };
    if holder.host != here.host
        || holder.boot != here.boot
        || holder.pid_namespace != here.pid_namespace
    {
        return false;
    }
    start_time(holder.pid) != Some(holder.start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_its_id_reads_back() {
        let owner = this_process();
        assert!(!is_provably_dead(owner), "{owner}");
        if cfg!(target_os = "linux") {
            let identity = Identity::parse(owner).expect("an identity on Linux");
            assert_eq!(identity.pid, std::process::id());
        }
    }

    // Only Linux can prove a process dead (it reads /proc); elsewhere the
    // test above shows nothing is judged.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_gone_process_of_this_host_is_dead_and_strangers_are_not_judged() {
        let here = Identity::of_this_process().expect("this process's identity on Linux");
        // A child that has exited (and was reaped) no longer exists.
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        let start = start_time(pid);
        child.wait().expect("reap");
        let gone = Identity {
            pid,
            start: start.unwrap_or(1),
            ..here.clone()
        };
        assert!(is_provably_dead(&gone.to_owner("x")));
        // This process at another start time: an earlier instance.
        let earlier = Identity {
            start: here.start.saturating_sub(1),
            ..here.clone()
        };
        assert!(is_provably_dead(&earlier.to_owner("x")));
        let elsewhere = Identity {
            host: format!("{}-other", here.host),
            ..gone.clone()
        };
        assert!(!is_provably_dead(&elsewhere.to_owner("x")));
        let other_boot = Identity {
            boot: "another-boot".into(),
            ..gone
        };
        assert!(!is_provably_dead(&other_boot.to_owner("x")));
        assert!(!is_provably_dead("folio-0123"));
        assert!(!is_provably_dead("test-process"));
    }
}
