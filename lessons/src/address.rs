//! Addresses as a student writes them: `parent:buf[2]`, `file:data[0]`,
//! `disk:data[0]`, `pipe:p`, `pin:dma1`, `mr:rdma1[0]`, `bio:io1`,
//! `kbuf:k[0]`, `@label`.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// What page `page` of mapping `vma` of process `proc` maps now.
    Page {
        proc: String,
        vma: String,
        page: u64,
    },
    /// The page-cache folio of a file at an index.
    Cache {
        file: String,
        index: u64,
    },
    /// A block on disk (data only).
    Disk {
        file: String,
        block: u64,
    },
    Pipe(String),
    /// A holder (GUP holder, io_uring ring, RDMA region, bio, iterator) and
    /// optionally one of its pages.
    Holder {
        name: String,
        index: Option<u64>,
    },
    KernelBuf {
        name: String,
        index: u64,
    },
    /// A folio captured by a label.
    Label(String),
    /// A process (for has_pinned).
    Process(String),
    /// A process's mapping as a whole, `parent:buf` (for `mapped`).
    Mapping {
        proc: String,
        vma: String,
    },
}

/// Holder prefixes accepted (they all name the same kind of object).
pub const HOLDER_PREFIXES: [&str; 6] = ["pin", "ref", "mr", "bio", "ring", "holder"];

/// Address prefixes that are not process names: a process called one of
/// these could not be addressed.
pub const RESERVED_PREFIXES: [&str; 11] = [
    "file", "disk", "pipe", "kbuf", "proc", "pin", "ref", "mr", "bio", "ring", "holder",
];

/// Why a process name could not be used in addresses, if it could not.
pub fn process_name_problem(name: &str) -> Option<String> {
    if RESERVED_PREFIXES.contains(&name) {
        return Some(format!(
            "'{name}' is an address prefix and cannot name a process (reserved: {})",
            RESERVED_PREFIXES.join(", ")
        ));
    }
    if !name_ok(name) || name.contains(':') {
        return Some(format!(
            "'{name}' cannot name a process: use letters, digits, '-', '_' and '.'"
        ));
    }
    None
}

fn name_ok(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// An address that does not parse, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad address '{address}': {problem}")]
pub struct AddressError {
    pub address: String,
    pub problem: AddressProblem,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddressProblem {
    #[error("a label is letters, digits, '-' and '_'")]
    LabelChars,
    #[error(
        "expected 'process:mapping[page]', 'file:name[i]', 'disk:name[i]', 'pipe:name', 'pin:name', 'kbuf:name[i]' or '@label'"
    )]
    Shape,
    #[error("missing ']' in '{0}'")]
    MissingBracket(String),
    #[error("'{0}' is not a page index")]
    NotAnIndex(String),
    #[error("'{0}' is not a name")]
    NotAName(String),
    /// What kind of address it is ("a page-cache address").
    #[error("{0} needs a [page] index")]
    NeedsIndex(&'static str),
    /// What has no index ("pipe", "process").
    #[error("a {0} has no index")]
    NoIndex(&'static str),
    #[error("'{0}' is not a process name")]
    NotAProcess(String),
}

/// Splits `name[3]` into ("name", Some(3)).
fn indexed(s: &str) -> Result<(String, Option<u64>), AddressProblem> {
    match s.split_once('[') {
        None => Ok((s.to_string(), None)),
        Some((name, rest)) => {
            let Some(num) = rest.strip_suffix(']') else {
                return Err(AddressProblem::MissingBracket(s.to_string()));
            };
            let i = num
                .trim()
                .parse::<u64>()
                .map_err(|_| AddressProblem::NotAnIndex(num.to_string()))?;
            Ok((name.to_string(), Some(i)))
        }
    }
}

impl Address {
    pub fn parse(s: &str) -> Result<Address, AddressError> {
        let s = s.trim();
        let bad = |problem: AddressProblem| {
            Err(AddressError {
                address: s.to_string(),
                problem,
            })
        };
        if let Some(l) = s.strip_prefix('@') {
            if !name_ok(l) {
                return bad(AddressProblem::LabelChars);
            }
            return Ok(Address::Label(l.to_string()));
        }
        let Some((head, rest)) = s.split_once(':') else {
            return bad(AddressProblem::Shape);
        };
        let (name, index) = match indexed(rest) {
            Ok(x) => x,
            Err(e) => return bad(e),
        };
        if !name_ok(&name) {
            return bad(AddressProblem::NotAName(name));
        }
        let need = |what: &'static str| -> Result<u64, AddressError> {
            index.ok_or_else(|| AddressError {
                address: s.to_string(),
                problem: AddressProblem::NeedsIndex(what),
            })
        };
        Ok(match head {
            "file" => Address::Cache {
                file: name,
                index: need("a page-cache address")?,
            },
            "disk" => Address::Disk {
                file: name,
                block: need("a disk address")?,
            },
            "pipe" => {
                if index.is_some() {
                    return bad(AddressProblem::NoIndex("pipe"));
                }
                Address::Pipe(name)
            }
            "kbuf" => Address::KernelBuf {
                name,
                index: need("a kernel-buffer address")?,
            },
            "proc" => {
                if index.is_some() {
                    return bad(AddressProblem::NoIndex("process"));
                }
                Address::Process(name)
            }
            h if HOLDER_PREFIXES.contains(&h) => Address::Holder { name, index },
            proc => {
                if !name_ok(proc) {
                    return bad(AddressProblem::NotAProcess(proc.to_string()));
                }
                match index {
                    Some(page) => Address::Page {
                        proc: proc.to_string(),
                        vma: name,
                        page,
                    },
                    None => Address::Mapping {
                        proc: proc.to_string(),
                        vma: name,
                    },
                }
            }
        })
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Page { proc, vma, page } => write!(f, "{proc}:{vma}[{page}]"),
            Address::Cache { file, index } => write!(f, "file:{file}[{index}]"),
            Address::Disk { file, block } => write!(f, "disk:{file}[{block}]"),
            Address::Pipe(p) => write!(f, "pipe:{p}"),
            Address::Holder { name, index: Some(i) } => write!(f, "holder:{name}[{i}]"),
            Address::Holder { name, index: None } => write!(f, "holder:{name}"),
            Address::KernelBuf { name, index } => write!(f, "kbuf:{name}[{index}]"),
            Address::Label(l) => write!(f, "@{l}"),
            Address::Process(p) => write!(f, "proc:{p}"),
            Address::Mapping { proc, vma } => write!(f, "{proc}:{vma}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(
            Address::parse("parent:buf[2]").unwrap(),
            Address::Page {
                proc: "parent".into(),
                vma: "buf".into(),
                page: 2
            }
        );
        assert_eq!(
            Address::parse("file:data[0]").unwrap(),
            Address::Cache {
                file: "data".into(),
                index: 0
            }
        );
        assert_eq!(
            Address::parse("disk:data[3]").unwrap(),
            Address::Disk {
                file: "data".into(),
                block: 3
            }
        );
        assert_eq!(Address::parse("pipe:p").unwrap(), Address::Pipe("p".into()));
        assert_eq!(
            Address::parse("mr:rdma1[1]").unwrap(),
            Address::Holder {
                name: "rdma1".into(),
                index: Some(1)
            }
        );
        assert_eq!(Address::parse("@orig").unwrap(), Address::Label("orig".into()));
        assert_eq!(
            Address::parse("parent:buf").unwrap(),
            Address::Mapping {
                proc: "parent".into(),
                vma: "buf".into()
            }
        );
        for bad in ["parent", "parent:buf[x]", "parent:buf[1", "pipe:p[0]", ":x[0]", "@"] {
            assert!(Address::parse(bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod error_tests {
    use super::*;

    /// Each way an address can be wrong is its own case, and says so in the
    /// words the loader prints (file, line and column come from the loader).
    #[test]
    fn each_bad_address_names_its_problem() {
        for (text, problem) in [
            ("@a b", AddressProblem::LabelChars),
            ("nocolon", AddressProblem::Shape),
            ("p:buf[1", AddressProblem::MissingBracket("buf[1".into())),
            ("p:buf[x]", AddressProblem::NotAnIndex("x".into())),
            ("p:[1]", AddressProblem::NotAName(String::new())),
            ("file:data", AddressProblem::NeedsIndex("a page-cache address")),
            ("pipe:p[0]", AddressProblem::NoIndex("pipe")),
            ("a b:buf[0]", AddressProblem::NotAProcess("a b".into())),
        ] {
            let e = Address::parse(text).unwrap_err();
            assert_eq!(e.problem, problem, "{text}");
            assert!(e.to_string().starts_with(&format!("bad address '{text}': ")), "{e}");
        }
        assert_eq!(
            Address::parse("pipe:p[0]").unwrap_err().to_string(),
            "bad address 'pipe:p[0]': a pipe has no index"
        );
    }
}
