//! `pinlab probe`: the machine's own Linux as referee. Each lesson process
//! becomes a real worker process, each userspace action the real system
//! call; after every step the kernel's view of the lesson's pages
//! (/proc/PID/pagemap, /proc/kpageflags, /proc/kpagecount, /proc/vmstat) is
//! compared with the model run under the preset that matches `uname -r`.
//! What userspace cannot do (a driver's GUP, RDMA, kernel bios) runs in the
//! model only, and what depends on it is reported as skipped, never passed.
//! See docs/probe.md.

pub mod compare;
pub mod known;
pub mod maps;
pub mod pagemap;
pub mod proto;
pub mod report;

#[cfg(target_os = "linux")]
pub mod counts;
#[cfg(target_os = "linux")]
pub mod env;
#[cfg(target_os = "linux")]
mod live;
#[cfg(target_os = "linux")]
mod observe;
#[cfg(target_os = "linux")]
mod run;
#[cfg(target_os = "linux")]
pub mod worker;

#[cfg(target_os = "linux")]
pub use run::{Probe, ProbeOptions};

pub use known::Known;
pub use report::{ProbeReport, Totals, transcript};

/// Why the probe cannot run on this system, when it cannot.
#[cfg(not(target_os = "linux"))]
pub fn unavailable() -> Option<String> {
    Some("pinlab probe runs lessons on a live Linux kernel: this is not Linux".into())
}

#[cfg(target_os = "linux")]
pub fn unavailable() -> Option<String> {
    env::Machine::detect().err()
}

/// A flag that Ctrl-C (SIGINT) and SIGTERM set instead of killing the
/// process, so that the probe can kill its workers and remove its files.
#[cfg(target_os = "linux")]
pub fn interrupt_flag() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(sig, flag.clone());
    }
    flag
}
