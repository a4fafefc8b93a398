//! An action in the words of the person who causes it: one plain sentence
//! ("what is about to happen", shown before a question is answered) and the
//! line of C a student would write for it (the Program pane). Kernel-side
//! actions (a driver's GUP, writeback, reclaim) name their caller instead of
//! pretending a program wrote them.

use crate::action::{Action, IterArgs, Tags};
use crate::direct_io::KernelIter;
use crate::vma_ops::{Advice, MmapArgs};

/// Who performs an action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A user process, by its lesson name.
    Process(String),
    /// Code inside the kernel: a driver, the flusher, kswapd.
    Kernel(&'static str),
    /// A device doing DMA, or the disk completing a request.
    Device,
    /// A call any process may make (the lesson does not say which).
    AnyProcess,
}

impl Actor {
    pub fn label(&self) -> String {
        match self {
            Actor::Process(p) => format!("process {p}"),
            Actor::Kernel(who) => (*who).to_string(),
            Actor::Device => "the device".into(),
            Actor::AnyProcess => "a process".into(),
        }
    }
}

/// One action, said three ways.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Words {
    pub actor: Actor,
    /// A plain sentence: who does what to which pages.
    pub plain: String,
    /// The C a program (or, for kernel actors, the kernel caller) runs.
    pub c: String,
}

/// "page 3" or "pages 0-3" of a mapping.
fn pages_of(vma: &str, start: u64, pages: Option<u64>) -> String {
    match pages {
        Some(1) => format!("page {start} of {vma}"),
        Some(n) => format!("pages {start}-{} of {vma}", start.saturating_add(n).saturating_sub(1)),
        None if start == 0 => format!("all of {vma}"),
        None => format!("{vma} from page {start} to its end"),
    }
}

/// `buf + 3*4096` as a C address.
fn c_addr(vma: &str, start: u64) -> String {
    if start == 0 {
        vma.to_string()
    } else {
        format!("{vma} + {start}*4096")
    }
}

/// `buf + 3*4096, 2*4096` as a C address and length.
fn c_range(vma: &str, start: u64, pages: Option<u64>) -> String {
    let addr = c_addr(vma, start);
    match pages {
        Some(n) => format!("{addr}, {n}*4096"),
        None => format!("{addr}, {vma}_len - {start}*4096"),
    }
}

fn quoted(tags: &Tags) -> String {
    match tags {
        Tags::One(t) => format!("'{t}'"),
        Tags::Many(v) => v.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", "),
    }
}

fn advice_name(a: Advice) -> &'static str {
    match a {
        Advice::Dontfork => "MADV_DONTFORK",
        Advice::Dofork => "MADV_DOFORK",
        Advice::Hugepage => "MADV_HUGEPAGE",
        Advice::Nohugepage => "MADV_NOHUGEPAGE",
        Advice::Dontneed => "MADV_DONTNEED",
        Advice::Pageout => "MADV_PAGEOUT",
        Advice::Collapse => "MADV_COLLAPSE",
    }
}

fn advice_plain(a: Advice) -> &'static str {
    match a {
        Advice::Dontfork => "so that a fork does not copy it into the child",
        Advice::Dofork => "so that a fork copies it again",
        Advice::Hugepage => "asking for transparent huge pages",
        Advice::Nohugepage => "refusing transparent huge pages",
        Advice::Dontneed => "throwing the pages away (they read as zero or from the file afterwards)",
        Advice::Pageout => "asking the kernel to reclaim the pages now",
        Advice::Collapse => "asking the kernel to collapse the range into a huge page now",
    }
}

fn mmap_words(proc: &str, vma: &str, a: &MmapArgs) -> Words {
    let prot = if a.write { "PROT_READ|PROT_WRITE" } else { "PROT_READ" };
    let mut flags = vec![if a.shared { "MAP_SHARED" } else { "MAP_PRIVATE" }];
    if a.file.is_none() {
        flags.push("MAP_ANONYMOUS");
    }
    if a.populate {
        flags.push("MAP_POPULATE");
    }
    let (fd, off) = match &a.file {
        Some(f) => (f.clone(), format!("{}*4096", a.offset)),
        None => ("-1".into(), "0".into()),
    };
    let mut c = format!(
        "char *{vma} = mmap(NULL, {}*4096, {prot}, {}, {fd}, {off});",
        a.pages,
        flags.join("|")
    );
    if a.thp {
        let _ = std::fmt::Write::write_fmt(
            &mut c,
            format_args!(" madvise({vma}, {}*4096, MADV_HUGEPAGE);", a.pages),
        );
    }
    let what = match &a.file {
        Some(f) => format!(
            "{} {} mapping of file {f}",
            if a.shared { "a shared" } else { "a private" },
            if a.write { "writable" } else { "read-only" }
        ),
        None => format!(
            "{} {} anonymous memory",
            if a.shared { "shared" } else { "private" },
            if a.write { "writable" } else { "read-only" }
        ),
    };
    let mut plain = format!("{proc} maps {} pages of {what} as '{vma}'", a.pages);
    if a.populate {
        plain.push_str(", faulting every page in at once");
    }
    if a.thp || a.order >= 9 {
        plain.push_str(", with transparent huge pages");
    } else if a.order >= 2 {
        plain.push_str(&format!(", with order-{} anonymous folios", a.order));
    }
    plain.push('.');
    Words {
        actor: Actor::Process(proc.into()),
        plain,
        c,
    }
}

fn iter_source(i: &IterArgs) -> String {
    let s = match (
        i.proc.as_deref(),
        i.vma.as_deref(),
        i.kbuf.as_deref(),
        i.file.as_deref(),
        i.pipe.as_deref(),
    ) {
        (Some(p), Some(v), ..) => format!("{p}'s {}", pages_of(v, i.start, i.pages)),
        (_, _, Some(k), ..) => format!("kernel buffer {k}"),
        (_, _, _, Some(f), _) => format!("the page cache of {f}"),
        (_, _, _, _, Some(p)) => format!("pipe {p}"),
        _ => "nothing named".into(),
    };
    let kind = i.iter.name();
    format!(
        "an {kind} iterator over {s}{}",
        if i.dest { " (ITER_DEST)" } else { "" }
    )
}

/// An O_DIRECT read or write: pread/pwrite when waited for, else an
/// io_uring submission left in flight.
fn direct_c(op: &str, file: &str, range: &str, offset: u64, wait: bool) -> String {
    if wait {
        format!("p{op}({file}_direct, {range}, {offset}*4096); /* O_DIRECT */")
    } else {
        format!(
            "io_uring_prep_{op}(sqe, {file}_direct, {range}, {offset}*4096); io_uring_submit(&ring); /* O_DIRECT, not waited for */"
        )
    }
}

fn times(count: u64) -> String {
    if count == 1 {
        String::new()
    } else {
        format!(" {count} times over")
    }
}

/// The words for an action.
pub fn words(a: &Action) -> Words {
    let process = |p: &str, plain: String, c: String| Words {
        actor: Actor::Process(p.into()),
        plain,
        c,
    };
    let kernel = |who: &'static str, plain: String, c: String| Words {
        actor: Actor::Kernel(who),
        plain,
        c,
    };
    match a {
        Action::Spawn { name } => process(
            name,
            format!("A new process, {name}, starts."),
            format!("/* {name} is a new program */"),
        ),
        Action::Fork { parent, child } => process(
            parent,
            format!("{parent} forks: {child} is its child, with a copy of its mappings."),
            format!("pid_t {child} = fork();"),
        ),
        Action::Exit { proc } => process(proc, format!("{proc} exits."), "exit(0);".into()),
        Action::CreateFile { name, fs, pages, data } => kernel(
            "setup",
            format!(
                "A file {name} of {pages} pages is on {fs:?} (the page cache holds none of it yet){}.",
                if data.is_empty() {
                    String::new()
                } else {
                    format!(", its blocks hold {}", quoted(&Tags::Many(data.clone())))
                }
            )
            .replace("Ext4", "ext4")
            .replace("Xfs", "XFS")
            .replace("Btrfs", "btrfs")
            .replace("Tmpfs", "tmpfs")
            .replace("Hugetlbfs", "hugetlbfs"),
            format!("int {name} = open(\"{name}\", O_RDWR); /* {pages} pages, already on disk */"),
        ),
        Action::Mmap { proc, vma, args } => mmap_words(proc, vma, args),
        Action::Munmap {
            proc,
            vma,
            start,
            pages,
        } => process(
            proc,
            format!("{proc} unmaps {}.", pages_of(vma, *start, *pages)),
            format!("munmap({});", c_range(vma, *start, *pages)),
        ),
        Action::Mprotect {
            proc,
            vma,
            start,
            pages,
            write,
        } => process(
            proc,
            format!(
                "{proc} makes {} {}.",
                pages_of(vma, *start, *pages),
                if *write { "writable" } else { "read-only" }
            ),
            format!(
                "mprotect({}, {});",
                c_range(vma, *start, *pages),
                if *write { "PROT_READ|PROT_WRITE" } else { "PROT_READ" }
            ),
        ),
        Action::Madvise {
            proc,
            vma,
            start,
            pages,
            advice,
        } => process(
            proc,
            format!(
                "{proc} calls madvise({}) on {}, {}.",
                advice_name(*advice),
                pages_of(vma, *start, *pages),
                advice_plain(*advice)
            ),
            format!("madvise({}, {});", c_range(vma, *start, *pages), advice_name(*advice)),
        ),
        Action::Write {
            proc,
            vma,
            page,
            pages,
            data,
        } => {
            let n = pages.unwrap_or(match data {
                Tags::One(_) => 1,
                Tags::Many(v) => v.len() as u64,
            });
            let c = match (data, n) {
                (Tags::One(t), 1) => format!("strcpy({vma} + {page}*4096, \"{t}\");"),
                (Tags::One(t), n) => {
                    format!("for (int i = 0; i < {n}; i++) strcpy({vma} + ({page} + i)*4096, \"{t}\");")
                }
                (Tags::Many(v), _) => v
                    .iter()
                    .enumerate()
                    .map(|(i, t)| format!("strcpy({vma} + {}*4096, \"{t}\");", page.saturating_add(i as u64)))
                    .collect::<Vec<_>>()
                    .join(" "),
            };
            process(
                proc,
                format!("{proc} stores {} into {}.", quoted(data), pages_of(vma, *page, Some(n))),
                c,
            )
        }
        Action::Read { proc, vma, page } => process(
            proc,
            format!("{proc} reads {}.", pages_of(vma, *page, Some(1))),
            format!("char c = {vma}[{page}*4096];"),
        ),
        Action::Gup {
            proc,
            vma,
            start,
            pages,
            holder,
            flags,
            count,
        } => {
            let call = match (flags.pin, flags.fast) {
                (true, true) => "pin_user_pages_fast",
                (true, false) => "pin_user_pages",
                (false, true) => "get_user_pages_fast",
                (false, false) => "get_user_pages",
            };
            let mut gup = Vec::new();
            if flags.write {
                gup.push("FOLL_WRITE");
            }
            if flags.longterm {
                gup.push("FOLL_LONGTERM");
            }
            if flags.force {
                gup.push("FOLL_FORCE");
            }
            let gup = if gup.is_empty() { "0".to_string() } else { gup.join("|") };
            kernel(
                "a driver",
                format!(
                    "A driver ({holder}) calls {call} on {proc}'s {} with {}{}: it takes {} on each page{}.",
                    pages_of(vma, *start, Some(*pages)),
                    flags.describe(),
                    if flags.write { "" } else { " (read only)" },
                    if flags.pin { "a pin" } else { "a reference" },
                    times(*count)
                ),
                format!(
                    "{call}((unsigned long){}, {pages}, {gup}, {holder}_pages); /* {proc}'s memory */",
                    c_addr(vma, *start)
                ),
            )
        }
        Action::Release { holder, dirty } => kernel(
            "a driver",
            format!(
                "{holder} lets go of every page it holds{}.",
                if *dirty { ", marking them dirty" } else { "" }
            ),
            if *dirty {
                format!(
                    "unpin_user_pages_dirty_lock({holder}_pages, n, true); /* or put_page() per page for FOLL_GET */"
                )
            } else {
                format!("unpin_user_pages({holder}_pages, n); /* or put_page() per page for FOLL_GET */")
            },
        ),
        Action::DeviceRead { holder, index } => Words {
            actor: Actor::Device,
            plain: format!(
                "The device reads, by DMA, {} {holder} holds.",
                index.map_or("every page".to_string(), |i| format!("page {i} of what"))
            ),
            c: format!("/* the device DMAs from {holder}'s pages */"),
        },
        Action::DeviceWrite { holder, data, index } => Words {
            actor: Actor::Device,
            plain: format!(
                "The device writes '{data}', by DMA, into {} {holder} holds.",
                index.map_or("every page".to_string(), |i| format!("page {i} of what"))
            ),
            c: format!("/* the device DMAs '{data}' into {holder}'s pages */"),
        },
        Action::Vmsplice {
            proc,
            vma,
            start,
            pages,
            pipe,
        } => process(
            proc,
            format!(
                "{proc} vmsplices {} into pipe {pipe}.",
                pages_of(vma, *start, Some(*pages))
            ),
            format!(
                "struct iovec iov = {{ {} }}; vmsplice({pipe}[1], &iov, 1, 0);",
                c_range(vma, *start, Some(*pages))
            ),
        ),
        Action::PipeRead { proc, pipe } => process(
            proc,
            format!("{proc} reads what pipe {pipe} holds."),
            format!("read({pipe}[0], out, sizeof out);"),
        ),
        Action::IoUringRegister {
            proc,
            vma,
            start,
            pages,
            ring,
        } => process(
            proc,
            format!(
                "{proc} registers {} as a fixed buffer of io_uring {ring} (a long-term pin).",
                pages_of(vma, *start, Some(*pages))
            ),
            format!(
                "struct iovec iov = {{ {} }}; io_uring_register({ring}, IORING_REGISTER_BUFFERS, &iov, 1);",
                c_range(vma, *start, Some(*pages))
            ),
        ),
        Action::IoUringUnregister { ring } => Words {
            actor: Actor::AnyProcess,
            plain: format!("The fixed buffers of io_uring {ring} are unregistered."),
            c: format!("io_uring_register({ring}, IORING_UNREGISTER_BUFFERS, NULL, 0);"),
        },
        Action::KbufAlloc { kbuf, pages } => kernel(
            "a driver",
            format!("The kernel allocates a buffer of its own, {kbuf}, of {pages} pages."),
            format!("struct page *{kbuf}[{pages}]; /* alloc_page(GFP_KERNEL) each */"),
        ),
        Action::KbufWrite { kbuf, page, data } => kernel(
            "a driver",
            format!("The kernel stores '{data}' in page {page} of its buffer {kbuf}."),
            format!("strcpy(page_address({kbuf}[{page}]), \"{data}\");"),
        ),
        Action::KbufRead { kbuf } => kernel(
            "a driver",
            format!("The kernel reads its buffer {kbuf}."),
            format!("/* read page_address({kbuf}[i]) */"),
        ),
        Action::KbufFree { kbuf } => kernel(
            "a driver",
            format!("The kernel frees its buffer {kbuf} (put_page on each page)."),
            format!("put_page({kbuf}[i]); /* each page */"),
        ),
        Action::IovIterGetPages2 { iter, holder, count } => kernel(
            "a driver",
            format!(
                "The kernel calls iov_iter_get_pages2 on {} into {holder}{}.",
                iter_source(iter),
                times(*count)
            ),
            format!("iov_iter_get_pages2(&iter, {holder}_pages, maxsize, maxpages, &offset);"),
        ),
        Action::IovIterExtractPages { iter, holder, count } => kernel(
            "a driver",
            format!(
                "The kernel calls iov_iter_extract_pages on {} into {holder}{}.",
                iter_source(iter),
                times(*count)
            ),
            format!("iov_iter_extract_pages(&iter, &{holder}_pages, maxsize, maxpages, 0, &offset);"),
        ),
        Action::DioRead {
            proc,
            vma,
            start,
            pages,
            file,
            offset,
            bio,
            wait,
        } => process(
            proc,
            format!(
                "{proc} reads {pages} page{} of {file} from page {offset} with O_DIRECT into {} (bio {bio}){}.",
                if *pages == 1 { "" } else { "s" },
                pages_of(vma, *start, Some(*pages)),
                if *wait {
                    ""
                } else {
                    ", and does not wait for it to finish"
                }
            ),
            direct_c("read", file, &c_range(vma, *start, Some(*pages)), *offset, *wait),
        ),
        Action::DioWrite {
            proc,
            vma,
            start,
            pages,
            file,
            offset,
            bio,
            wait,
        } => process(
            proc,
            format!(
                "{proc} writes {} to {file} at page {offset} with O_DIRECT (bio {bio}){}.",
                pages_of(vma, *start, Some(*pages)),
                if *wait {
                    ""
                } else {
                    ", and does not wait for it to finish"
                }
            ),
            direct_c("write", file, &c_range(vma, *start, Some(*pages)), *offset, *wait),
        ),
        Action::KernelBio {
            kbuf,
            iter,
            file,
            offset,
            write,
            bio,
            wait,
        } => {
            let kind = match iter {
                KernelIter::Bvec => "ITER_BVEC",
                KernelIter::Kvec => "ITER_KVEC",
            };
            kernel(
                "a driver",
                format!(
                    "The kernel {} {file} at page {offset} {} its buffer {kbuf}, described as {kind} (bio {bio}){}.",
                    if *write { "writes" } else { "reads" },
                    if *write { "from" } else { "into" },
                    if *wait { "" } else { ", not waiting for it" }
                ),
                format!(
                    "iov_iter_{}(&iter, {}, ...); {}(kiocb_{file}, &iter);",
                    if *iter == KernelIter::Bvec { "bvec" } else { "kvec" },
                    if *write { "ITER_SOURCE" } else { "ITER_DEST" },
                    if *write {
                        "vfs_iocb_iter_write"
                    } else {
                        "vfs_iocb_iter_read"
                    }
                ),
            )
        }
        Action::BioComplete { bio } => Words {
            actor: Actor::Device,
            plain: format!("The disk finishes bio {bio}."),
            c: format!("/* the disk completes {bio}: bio_endio() */"),
        },
        Action::ReadFile {
            proc,
            file,
            offset,
            pages,
        } => process(
            proc,
            format!(
                "{proc} reads {pages} page{} of {file} from page {offset} with read(2), through the page cache.",
                if *pages == 1 { "" } else { "s" }
            ),
            format!("pread({file}, out, {pages}*4096, {offset}*4096);"),
        ),
        Action::WriteFile {
            proc,
            file,
            offset,
            data,
        } => process(
            proc,
            format!(
                "{proc} writes {} to {file} at page {offset} with write(2), through the page cache.",
                quoted(&Tags::Many(data.clone()))
            ),
            format!(
                "pwrite({file}, \"{}\", {}*4096, {offset}*4096);",
                data.join(""),
                data.len()
            ),
        ),
        Action::Writeback { file } => kernel(
            "the flusher thread",
            format!("Background writeback of {file} starts (the flusher thread; the bios finish later)."),
            format!("/* the flusher runs: do_writepages({file}->f_mapping) */"),
        ),
        Action::Fsync { file } => Words {
            actor: Actor::AnyProcess,
            plain: format!("A process calls fsync on {file}: write its dirty pages and wait."),
            c: format!("fsync({file});"),
        },
        Action::Reclaim { scan, passes } => kernel(
            "kswapd",
            format!(
                "Memory runs short: kswapd runs {passes} round{} of reclaim, taking up to {scan} folios from each inactive list.",
                if *passes == 1 { "" } else { "s" }
            ),
            "/* kswapd: shrink_node() */".into(),
        ),
        Action::Mlock {
            proc,
            vma,
            start,
            pages,
        } => process(
            proc,
            format!("{proc} locks {} in memory with mlock.", pages_of(vma, *start, *pages)),
            format!("mlock({});", c_range(vma, *start, *pages)),
        ),
        Action::RdmaRegMr {
            proc,
            vma,
            start,
            pages,
            mr,
            write,
        } => process(
            proc,
            format!(
                "{proc} registers {} as RDMA memory region {mr} (a long-term pin{}).",
                pages_of(vma, *start, Some(*pages)),
                if *write { ", the NIC may write" } else { ", read only" }
            ),
            format!(
                "struct ibv_mr *{mr} = ibv_reg_mr(pd, {}, {});",
                c_range(vma, *start, Some(*pages)),
                if *write {
                    "IBV_ACCESS_LOCAL_WRITE|IBV_ACCESS_REMOTE_WRITE"
                } else {
                    "0"
                }
            ),
        ),
        Action::RdmaDeregMr { mr } => Words {
            actor: Actor::AnyProcess,
            plain: format!("RDMA memory region {mr} is deregistered."),
            c: format!("ibv_dereg_mr({mr});"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GupFlags;

    #[test]
    fn a_direct_read_names_the_pages_the_file_and_o_direct() {
        let w = words(&Action::DioRead {
            proc: "p".into(),
            vma: "buf".into(),
            start: 0,
            pages: 2,
            file: "db".into(),
            offset: 3,
            bio: "io1".into(),
            wait: false,
        });
        assert_eq!(w.actor, Actor::Process("p".into()));
        assert!(w.plain.contains("pages 0-1 of buf"), "{}", w.plain);
        assert!(
            w.plain.contains("O_DIRECT") && w.plain.contains("not wait"),
            "{}",
            w.plain
        );
        assert!(w.c.contains("buf, 2*4096, 3*4096"), "{}", w.c);
    }

    #[test]
    fn a_pin_is_said_to_be_a_pin_and_a_reference_a_reference() {
        let gup = |pin| Action::Gup {
            proc: "p".into(),
            vma: "buf".into(),
            start: 1,
            pages: 1,
            holder: "nic".into(),
            flags: GupFlags {
                pin,
                write: true,
                ..Default::default()
            },
            count: 1,
        };
        let pin = words(&gup(true));
        let get = words(&gup(false));
        assert_eq!(pin.actor, Actor::Kernel("a driver"));
        assert!(
            pin.plain.contains("takes a pin") && pin.plain.contains("page 1 of buf"),
            "{}",
            pin.plain
        );
        assert!(get.plain.contains("takes a reference"), "{}", get.plain);
        assert!(
            pin.c.starts_with("pin_user_pages(") && pin.c.contains("FOLL_WRITE"),
            "{}",
            pin.c
        );
        assert!(get.c.starts_with("get_user_pages("), "{}", get.c);
    }

    #[test]
    fn every_store_tag_is_written_to_its_own_page() {
        let w = words(&Action::Write {
            proc: "p".into(),
            vma: "buf".into(),
            page: 2,
            pages: None,
            data: Tags::Many(vec!["A".into(), "B".into()]),
        });
        assert!(
            w.plain.contains("'A', 'B'") && w.plain.contains("pages 2-3"),
            "{}",
            w.plain
        );
        assert!(
            w.c.contains("buf + 2*4096, \"A\"") && w.c.contains("buf + 3*4096, \"B\""),
            "{}",
            w.c
        );
    }
}
