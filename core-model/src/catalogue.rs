//! The action catalogue: for every action its name, its arguments (kind,
//! whether required, the default or meaning shown in docs) and what it does
//! in the kernel. The one place an action is described: the lesson loader
//! checks arguments against it, the sandbox builds its palette and forms
//! from it, `pinlab actions` and the web API list it, and
//! docs/lesson-format.md's action table is generated from it (a test fails
//! when the doc is stale). A test checks it against the `Action` enum's
//! serde form for every variant.
//!
//! Adding an action: the `Action` variant, its rule, and one entry here.

use serde::Serialize;
use strum::VariantNames;

/// What kind of name an argument takes (for suggestions in the sandbox).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameOf {
    NewProcess,
    Process,
    NewMapping,
    Mapping,
    NewFile,
    File,
    NewHolder,
    Holder,
    Pipe,
    NewKbuf,
    Kbuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ArgKind {
    /// A whole number from `min` to `max`.
    Number {
        min: u64,
        max: u64,
    },
    Bool,
    Name {
        of: NameOf,
    },
    /// One of these words.
    OneOf {
        values: &'static [&'static str],
    },
    /// A tag: the text a page holds.
    Tag,
    /// An array of tags, one per page.
    TagList,
    /// One tag (stored in every page) or an array of tags.
    TagOrList,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Arg {
    pub name: &'static str,
    pub kind: ArgKind,
    pub required: bool,
    /// The default and what the value means, as docs show it in
    /// parentheses after the name ("" for nothing to say).
    pub doc: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ActionSpec {
    /// The `do = "..."` name (the serde tag of `Action`).
    pub name: &'static str,
    pub args: &'static [Arg],
    /// What it does, with the kernel path.
    pub does: &'static str,
}

impl ActionSpec {
    pub fn arg(&self, name: &str) -> Option<&'static Arg> {
        self.args.iter().find(|a| a.name == name)
    }

    pub fn arg_names(&self) -> Vec<&'static str> {
        self.args.iter().map(|a| a.name).collect()
    }
}

const PAGES_MAX: u64 = crate::vma_ops::MAX_MAP_PAGES;
const INDEX_MAX: u64 = crate::vma_ops::MAX_MAP_PAGES - 1;
const COUNT_MAX: u64 = crate::gup::MAX_GRAB_COUNT;

const fn req(name: &'static str, kind: ArgKind) -> Arg {
    Arg {
        name,
        kind,
        required: true,
        doc: "",
    }
}

const fn req_doc(name: &'static str, kind: ArgKind, doc: &'static str) -> Arg {
    Arg {
        name,
        kind,
        required: true,
        doc,
    }
}

const fn opt(name: &'static str, kind: ArgKind, doc: &'static str) -> Arg {
    Arg {
        name,
        kind,
        required: false,
        doc,
    }
}

const fn name(of: NameOf) -> ArgKind {
    ArgKind::Name { of }
}

const fn num(min: u64, max: u64) -> ArgKind {
    ArgKind::Number { min, max }
}

const BOOL: ArgKind = ArgKind::Bool;
const PROC: Arg = req("proc", name(NameOf::Process));
const VMA: Arg = req("vma", name(NameOf::Mapping));
const START: Arg = opt("start", num(0, INDEX_MAX), "0");
const PAGES_TO_END: Arg = opt("pages", num(1, PAGES_MAX), "to the end");
const PAGES_ONE: Arg = opt("pages", num(1, PAGES_MAX), "1");
const FILE: Arg = req("file", name(NameOf::File));
// The value lists are the enums' own (strum's VariantNames, spelled as
// serde spells them): a new variant is listed, documented and tested here
// without an edit.
const ADVICE: &[&str] = crate::vma_ops::Advice::VARIANTS;
const FS: &[&str] = crate::file::FsKind::VARIANTS;
const ZONES: &[&str] = crate::folio::Zone::VARIANTS;
const ITERS: &[&str] = crate::iov_iter::IterKind::VARIANTS;
const KERNEL_ITERS: &[&str] = crate::direct_io::KernelIter::VARIANTS;

const ITER_ARGS: &[Arg] = &[
    req("iter", ArgKind::OneOf { values: ITERS }),
    opt("dest", BOOL, "false: ITER_DEST, data flows into the pages"),
    opt("proc", name(NameOf::Process), "with `vma`: user memory"),
    opt("vma", name(NameOf::Mapping), ""),
    opt("kbuf", name(NameOf::Kbuf), "a kernel buffer"),
    opt("file", name(NameOf::File), "page cache"),
    opt("pipe", name(NameOf::Pipe), ""),
    START,
    opt("pages", num(1, PAGES_MAX), "all"),
    req("holder", name(NameOf::NewHolder)),
    opt("count", num(1, COUNT_MAX), "1: extractions per page"),
];

const DIO_ARGS: &[Arg] = &[
    PROC,
    VMA,
    START,
    PAGES_ONE,
    FILE,
    opt("offset", num(0, INDEX_MAX), "0: first block"),
    req("bio", name(NameOf::NewHolder)),
    opt("wait", BOOL, "true; false leaves the bio in flight"),
];

/// Every action, in the order docs list them.
pub const CATALOGUE: &[ActionSpec] = &[
    ActionSpec {
        name: "spawn",
        args: &[req("name", name(NameOf::NewProcess))],
        does: "a new process with an empty address space",
    },
    ActionSpec {
        name: "fork",
        args: &[
            req("parent", name(NameOf::Process)),
            req("child", name(NameOf::NewProcess)),
        ],
        does: "fork(2): copy_page_range per preset",
    },
    ActionSpec {
        name: "exit",
        args: &[PROC],
        does: "exit: zap every mapping; io_uring rings of the process are torn down",
    },
    ActionSpec {
        name: "create_file",
        args: &[
            req("name", name(NameOf::NewFile)),
            req("fs", ArgKind::OneOf { values: FS }),
            req("pages", num(1, PAGES_MAX)),
            opt(
                "data",
                ArgKind::TagList,
                "array of tags, one per page; missing ones are zeros",
            ),
        ],
        does: "a file with its blocks on disk",
    },
    ActionSpec {
        name: "mmap",
        args: &[
            PROC,
            req("vma", name(NameOf::NewMapping)),
            req("pages", num(1, PAGES_MAX)),
            opt("file", name(NameOf::File), "none: anonymous"),
            opt("offset", num(0, INDEX_MAX), "0"),
            opt("shared", BOOL, "false"),
            opt("write", BOOL, "false"),
            opt("thp", BOOL, "false: VM_HUGEPAGE, 512-page THP on a write fault"),
            opt("order", num(0, 9), "0; 2-8 = multi-size THP, 6.8+; 9 = THP"),
            opt(
                "zone",
                ArgKind::OneOf { values: ZONES },
                "`normal` if left out; `movable`: ZONE_MOVABLE, `cma`: a CMA pageblock",
            ),
            opt("movable", BOOL, "false: the same as `zone = \"movable\"`"),
            opt("populate", BOOL, "false: MAP_POPULATE"),
        ],
        does: "a new mapping named `vma`",
    },
    ActionSpec {
        name: "munmap",
        args: &[PROC, VMA, START, PAGES_TO_END],
        does: "unmap (part of) a mapping",
    },
    ActionSpec {
        name: "mprotect",
        args: &[PROC, VMA, START, PAGES_TO_END, req("write", BOOL)],
        does: "change protection",
    },
    ActionSpec {
        name: "madvise",
        args: &[
            PROC,
            VMA,
            START,
            PAGES_TO_END,
            req("advice", ArgKind::OneOf { values: ADVICE }),
        ],
        does: "madvise(2)",
    },
    ActionSpec {
        name: "mlock",
        args: &[PROC, VMA, START, PAGES_TO_END],
        does: "mlock(2): fault in, move to the unevictable list",
    },
    ActionSpec {
        name: "write",
        args: &[
            PROC,
            VMA,
            req("page", num(0, INDEX_MAX)),
            opt("pages", num(1, PAGES_MAX), "1, or as many as `data` lists"),
            req_doc(
                "data",
                ArgKind::TagOrList,
                "a tag, stored in every page, or an array of tags, one per page",
            ),
        ],
        does: "stores: takes whatever write faults the pages need, then writes the tags (`pages = 512` fills a THP in one step)",
    },
    ActionSpec {
        name: "read",
        args: &[PROC, VMA, req("page", num(0, INDEX_MAX))],
        does: "a load: faults the page in if needed; the data read is in the transcript",
    },
    ActionSpec {
        name: "gup",
        args: &[
            PROC,
            VMA,
            START,
            PAGES_ONE,
            req("holder", name(NameOf::NewHolder)),
            opt("pin", BOOL, "false: get_user_pages; true: pin_user_pages"),
            opt("write", BOOL, "false: FOLL_WRITE"),
            opt("longterm", BOOL, "false: FOLL_LONGTERM"),
            opt("fast", BOOL, "false: the *_fast variant"),
            opt("force", BOOL, "false: FOLL_FORCE, as ptrace and /proc/PID/mem use it"),
            opt("count", num(1, COUNT_MAX), "1: references or pins per page"),
        ],
        does: "a driver takes references or pins, kept by `holder`; `count = N` is the same call N times",
    },
    ActionSpec {
        name: "release",
        args: &[req("holder", name(NameOf::Holder)), opt("dirty", BOOL, "false")],
        does: "put_page / unpin_user_pages, with `dirty`: set_page_dirty_lock / unpin_user_pages_dirty_lock",
    },
    ActionSpec {
        name: "device_read",
        args: &[
            req("holder", name(NameOf::Holder)),
            opt("index", num(0, INDEX_MAX), "all pages"),
        ],
        does: "the device reads the pages it holds (what DMA sees)",
    },
    ActionSpec {
        name: "device_write",
        args: &[
            req("holder", name(NameOf::Holder)),
            req("data", ArgKind::Tag),
            opt("index", num(0, INDEX_MAX), "all pages"),
        ],
        does: "the device writes into the pages it holds (the holder must have FOLL_WRITE)",
    },
    ActionSpec {
        name: "vmsplice",
        args: &[PROC, VMA, START, PAGES_ONE, req("pipe", name(NameOf::Pipe))],
        does: "vmsplice(2): FOLL_GET references into a pipe (at most its 16 buffers)",
    },
    ActionSpec {
        name: "pipe_read",
        args: &[PROC, req("pipe", name(NameOf::Pipe))],
        does: "the process reads and empties the pipe",
    },
    ActionSpec {
        name: "io_uring_register",
        args: &[PROC, VMA, START, PAGES_ONE, req("ring", name(NameOf::NewHolder))],
        does: "IORING_REGISTER_BUFFERS: FOLL_WRITE|FOLL_LONGTERM pins",
    },
    ActionSpec {
        name: "io_uring_unregister",
        args: &[req("ring", name(NameOf::Holder))],
        does: "unpin the ring's buffers",
    },
    ActionSpec {
        name: "rdma_reg_mr",
        args: &[
            PROC,
            VMA,
            START,
            PAGES_ONE,
            req("mr", name(NameOf::NewHolder)),
            opt("write", BOOL, "true"),
        ],
        does: "ibv_reg_mr: long-term pins",
    },
    ActionSpec {
        name: "rdma_dereg_mr",
        args: &[req("mr", name(NameOf::Holder))],
        does: "unpin (dirtying the pages if writable)",
    },
    ActionSpec {
        name: "kbuf_alloc",
        args: &[req("kbuf", name(NameOf::NewKbuf)), req("pages", num(1, PAGES_MAX))],
        does: "the kernel allocates a buffer of its own",
    },
    ActionSpec {
        name: "kbuf_write",
        args: &[
            req("kbuf", name(NameOf::Kbuf)),
            req("page", num(0, INDEX_MAX)),
            req("data", ArgKind::Tag),
        ],
        does: "the kernel writes into its buffer",
    },
    ActionSpec {
        name: "kbuf_read",
        args: &[req("kbuf", name(NameOf::Kbuf))],
        does: "the kernel reads its buffer",
    },
    ActionSpec {
        name: "kbuf_free",
        args: &[req("kbuf", name(NameOf::Kbuf))],
        does: "the kernel frees its buffer",
    },
    ActionSpec {
        name: "iov_iter_get_pages2",
        args: ITER_ARGS,
        does: "take a reference on every page (`count` times); what it iterates: `proc` + `vma`, `kbuf`, `file` or `pipe`",
    },
    ActionSpec {
        name: "iov_iter_extract_pages",
        args: ITER_ARGS,
        does: "6.3+: pin user-backed pages, just list the others",
    },
    ActionSpec {
        name: "dio_read",
        args: DIO_ARGS,
        does: "O_DIRECT read into user memory; `wait = false` leaves the bio in flight",
    },
    ActionSpec {
        name: "dio_write",
        args: DIO_ARGS,
        does: "O_DIRECT write from user memory",
    },
    ActionSpec {
        name: "kernel_bio",
        args: &[
            req("kbuf", name(NameOf::Kbuf)),
            req("iter", ArgKind::OneOf { values: KERNEL_ITERS }),
            FILE,
            opt("offset", num(0, INDEX_MAX), "0"),
            opt("write", BOOL, "false"),
            req("bio", name(NameOf::NewHolder)),
            opt("wait", BOOL, "true"),
        ],
        does: "a bio over a kernel buffer",
    },
    ActionSpec {
        name: "bio_complete",
        args: &[req("bio", name(NameOf::Holder))],
        does: "the device completes a bio in flight (writeback bios are named `wb-FILE-INDEX`)",
    },
    ActionSpec {
        name: "read_file",
        args: &[PROC, FILE, opt("offset", num(0, INDEX_MAX), "0"), PAGES_ONE],
        does: "buffered read(2)",
    },
    ActionSpec {
        name: "write_file",
        args: &[
            PROC,
            FILE,
            opt("offset", num(0, INDEX_MAX), "0"),
            req_doc("data", ArgKind::TagList, "array of tags"),
        ],
        does: "buffered write(2)",
    },
    ActionSpec {
        name: "writeback",
        args: &[FILE],
        does: "background writeback: the bios stay in flight",
    },
    ActionSpec {
        name: "fsync",
        args: &[FILE],
        does: "write back and wait, then flush",
    },
    ActionSpec {
        name: "reclaim",
        args: &[req("scan", num(1, PAGES_MAX)), opt("passes", num(1, 64), "1")],
        does: "kswapd's rounds of reclaim (`passes`), each taking up to `scan` folios from every inactive list",
    },
];

/// The entry for an action name.
pub fn spec(name: &str) -> Option<&'static ActionSpec> {
    CATALOGUE.iter().find(|s| s.name == name)
}

/// Every action name, in catalogue order.
pub fn names() -> Vec<&'static str> {
    CATALOGUE.iter().map(|s| s.name).collect()
}

/// docs/lesson-format.md's action table.
pub fn markdown_table() -> String {
    let mut out = String::from("| action | arguments | what it does (kernel path) |\n| --- | --- | --- |\n");
    for s in CATALOGUE {
        let args: Vec<String> = s
            .args
            .iter()
            .map(|a| {
                // A closed list shows its values, from the enum.
                let values = match a.kind {
                    ArgKind::OneOf { values } => values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", "),
                    _ => String::new(),
                };
                match (values.is_empty(), a.doc.is_empty()) {
                    (true, true) => format!("`{}`", a.name),
                    (true, false) => format!("`{}` ({})", a.name, a.doc),
                    (false, true) => format!("`{}` ({values})", a.name),
                    (false, false) => format!("`{}` ({values}; {})", a.name, a.doc),
                }
            })
            .collect();
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            s.name,
            args.join(", "),
            s.does.replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Action;
    use strum::VariantNames;

    /// A value of the argument's kind, for building an example action.
    fn sample(a: &Arg) -> toml::Value {
        match a.kind {
            ArgKind::Number { min, .. } => toml::Value::Integer(min.max(1) as i64),
            ArgKind::Bool => toml::Value::Boolean(true),
            ArgKind::Name { .. } => toml::Value::String(format!("n-{}", a.name)),
            ArgKind::OneOf { values } => toml::Value::String(values[0].to_string()),
            ArgKind::Tag | ArgKind::TagOrList => toml::Value::String("t".into()),
            ArgKind::TagList => toml::Value::Array(vec![toml::Value::String("t".into())]),
        }
    }

    #[test]
    fn every_variant_has_an_entry_and_every_entry_a_variant() {
        let variants: Vec<&str> = Action::VARIANTS.to_vec();
        let mut names = names();
        names.sort();
        let mut sorted = variants.clone();
        sorted.sort();
        assert_eq!(
            names, sorted,
            "the catalogue and the Action enum list different actions"
        );
    }

    #[test]
    fn the_catalogue_agrees_with_serde_for_every_action() {
        for s in CATALOGUE {
            // With only its required arguments (those the entry says it
            // needs), the action deserializes...
            let mut t = toml::Table::new();
            t.insert("action".into(), toml::Value::String(s.name.into()));
            for a in s.args.iter().filter(|a| a.required) {
                t.insert(a.name.into(), sample(a));
            }
            let minimal: Action = toml::Value::Table(t.clone())
                .try_into()
                .unwrap_or_else(|e| panic!("{} with its required arguments: {e}", s.name));
            assert_eq!(minimal.kind(), s.name);
            // (Some required arguments have a serde default that the model
            // refuses, such as mmap's pages = 0: the loader asks for them.)
            // With every argument, it deserializes too (no argument the
            // enum lacks), and serializes back to no key the entry lacks.
            for a in s.args {
                t.insert(a.name.into(), sample(a));
            }
            let full: Action = toml::Value::Table(t.clone())
                .try_into()
                .unwrap_or_else(|e| panic!("{} with every argument: {e}", s.name));
            // Every optional argument may be left out.
            for a in s.args.iter().filter(|a| !a.required) {
                let mut less = t.clone();
                less.remove(a.name);
                let r: Result<Action, _> = toml::Value::Table(less).try_into();
                assert!(
                    r.is_ok(),
                    "{}: `{}` is marked optional but serde needs it",
                    s.name,
                    a.name
                );
            }
            if let Ok(toml::Value::Table(back)) = toml::Value::try_from(&full) {
                for k in back.keys().filter(|k| *k != "action") {
                    assert!(
                        s.arg(k).is_some(),
                        "{}: serde writes `{k}`, which the catalogue lacks",
                        s.name
                    );
                }
            }
        }
    }

    #[test]
    fn every_listed_value_of_every_closed_argument_deserializes() {
        for s in CATALOGUE {
            for a in s.args {
                let ArgKind::OneOf { values } = a.kind else {
                    continue;
                };
                for v in values {
                    let mut t = toml::Table::new();
                    t.insert("action".into(), toml::Value::String(s.name.into()));
                    for r in s.args.iter().filter(|r| r.required) {
                        t.insert(r.name.into(), sample(r));
                    }
                    t.insert(a.name.into(), toml::Value::String(v.to_string()));
                    let r: Result<Action, _> = toml::Value::Table(t).try_into();
                    assert!(r.is_ok(), "{} {} = {v:?}: {:?}", s.name, a.name, r.err());
                }
            }
        }
    }

    #[test]
    fn names_and_arguments_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for s in CATALOGUE {
            assert!(seen.insert(s.name), "{} twice", s.name);
            let mut args = std::collections::HashSet::new();
            for a in s.args {
                assert!(args.insert(a.name), "{}: `{}` twice", s.name, a.name);
                if let ArgKind::Number { min, max } = a.kind {
                    assert!(min <= max, "{}: `{}`", s.name, a.name);
                }
            }
        }
    }
}
