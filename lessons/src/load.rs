//! The lesson loader. Every error names the file, line and column, and says
//! what was expected; nothing a file contains can panic the loader.

use crate::address::Address;
use crate::expect::{Cmp, Expectation, Subject, Value, ValueKind, What};
use crate::kernels::KernelFilter;
use crate::lesson::{Answer, Lesson, Narration, Question, SelftestRole, Step};
use pinlab_model::catalogue;
use pinlab_model::{Action, Errno, HazardKind, Preset, WhatIf};
use std::fmt;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A load error at a place in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.col, self.message)
    }
}

impl std::error::Error for LoadError {}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
    /// Byte offset of the start of every line: each step records its line,
    /// and scanning the text from the top for each was quadratic (a lesson
    /// of 10^5 steps took minutes to load).
    line_starts: Vec<usize>,
}

type R<T> = Result<T, LoadError>;

impl Ctx<'_> {
    fn err<T>(&self, span: &Range<usize>, msg: impl Into<String>) -> R<T> {
        let (line, col) = line_col(self.text, span.start);
        Err(LoadError {
            file: self.file.to_string(),
            line,
            col,
            message: msg.into(),
        })
    }

    fn line(&self, span: &Range<usize>) -> usize {
        self.line_starts.partition_point(|&start| start <= span.start)
    }
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

fn type_name(v: &DeValue) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// A table with its span, and helpers that check keys and types.
struct Tbl<'t, 'i> {
    t: &'t DeTable<'i>,
    span: Range<usize>,
    what: String,
}

impl<'t, 'i> Tbl<'t, 'i> {
    fn get(&self, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
        self.t.iter().find(|(k, _)| k.get_ref().as_ref() == key).map(|(_, v)| v)
    }

    fn unknown_keys(&self, c: &Ctx, allowed: &[&str]) -> R<()> {
        for (k, _) in self.t.iter() {
            if !allowed.contains(&k.get_ref().as_ref()) {
                return c.err(
                    &k.span(),
                    format!(
                        "unknown key '{}' in {}; expected one of: {}",
                        k.get_ref(),
                        self.what,
                        allowed.join(", ")
                    ),
                );
            }
        }
        Ok(())
    }

    fn string(&self, c: &Ctx, key: &str) -> R<Option<(String, Range<usize>)>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.get_ref() {
                DeValue::String(s) => Ok(Some((s.to_string(), v.span()))),
                other => c.err(
                    &v.span(),
                    format!("'{key}' in {} must be a string, found {}", self.what, type_name(other)),
                ),
            },
        }
    }

    fn req_string(&self, c: &Ctx, key: &str) -> R<(String, Range<usize>)> {
        match self.string(c, key)? {
            Some(s) => Ok(s),
            None => c.err(&self.span, format!("{} needs '{key}'", self.what)),
        }
    }

    fn strings(&self, c: &Ctx, key: &str) -> R<Vec<(String, Range<usize>)>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(v) => match v.get_ref() {
                DeValue::Array(a) => a
                    .iter()
                    .map(|e| match e.get_ref() {
                        DeValue::String(s) => Ok((s.to_string(), e.span())),
                        other => c.err(
                            &e.span(),
                            format!("'{key}' must list strings, found {}", type_name(other)),
                        ),
                    })
                    .collect(),
                DeValue::String(s) => Ok(vec![(s.to_string(), v.span())]),
                other => c.err(
                    &v.span(),
                    format!("'{key}' must be an array of strings, found {}", type_name(other)),
                ),
            },
        }
    }

    fn tables(&self, c: &Ctx, key: &str) -> R<Vec<Tbl<'t, 'i>>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(v) => match v.get_ref() {
                DeValue::Array(a) => a
                    .iter()
                    .map(|e| match e.get_ref() {
                        DeValue::Table(t) => Ok(Tbl {
                            t,
                            span: e.span(),
                            what: format!("an entry of '{key}'"),
                        }),
                        other => c.err(
                            &e.span(),
                            format!("'{key}' must list tables, found {}", type_name(other)),
                        ),
                    })
                    .collect(),
                DeValue::Table(t) => Ok(vec![Tbl {
                    t,
                    span: v.span(),
                    what: format!("'{key}'"),
                }]),
                other => c.err(
                    &v.span(),
                    format!(
                        "'{key}' must be a table or an array of tables, found {}",
                        type_name(other)
                    ),
                ),
            },
        }
    }
}

fn kernel_filters(c: &Ctx, items: &[(String, Range<usize>)]) -> R<Vec<KernelFilter>> {
    items
        .iter()
        .map(|(s, span)| KernelFilter::parse(s).or_else(|e| c.err(span, format!("in 'kernels': {e}"))))
        .collect()
}

fn address(c: &Ctx, s: &str, span: &Range<usize>) -> R<Address> {
    Address::parse(s).or_else(|e| c.err(span, e.to_string()))
}

/// An address of something smaller than a whole mapping (focus, labels).
fn page_address(c: &Ctx, s: &str, span: &Range<usize>) -> R<Address> {
    match address(c, s, span)? {
        Address::Mapping { .. } => c.err(
            span,
            format!("bad address '{s}': a process address needs a [page] index, such as '{s}[0]'"),
        ),
        a => Ok(a),
    }
}

/// Converts a DeValue to a toml::Value for serde (action arguments).
fn to_value(v: &DeValue) -> Option<toml::Value> {
    Some(match v {
        DeValue::String(s) => toml::Value::String(s.to_string()),
        DeValue::Integer(i) => {
            toml::Value::Integer(i.to_string().replace('_', "").parse::<i64>().ok().or_else(|| {
                let s = i.to_string();
                let (radix, digits) = match s.get(..2) {
                    Some("0x") => (16, &s[2..]),
                    Some("0o") => (8, &s[2..]),
                    Some("0b") => (2, &s[2..]),
                    _ => return None,
                };
                i64::from_str_radix(&digits.replace('_', ""), radix).ok()
            })?)
        }
        DeValue::Float(f) => toml::Value::Float(f.to_string().parse().ok()?),
        DeValue::Boolean(b) => toml::Value::Boolean(*b),
        DeValue::Datetime(d) => toml::Value::Datetime(*d),
        DeValue::Array(a) => toml::Value::Array(a.iter().map(|e| to_value(e.get_ref())).collect::<Option<_>>()?),
        DeValue::Table(t) => toml::Value::Table(
            t.iter()
                .map(|(k, v)| Some((k.get_ref().to_string(), to_value(v.get_ref())?)))
                .collect::<Option<_>>()?,
        ),
    })
}

const LESSON_KEYS: [&str; 8] = [
    "id",
    "title",
    "summary",
    "objectives",
    "kernels",
    "whatif",
    "step",
    "kernel",
];
const STEP_KEYS: [&str; 10] = [
    "do", "say", "focus", "question", "expect", "label", "at", "kernels", "whatif", "selftest",
];

/// Loads one lesson from TOML text; `file` names it in errors.
pub fn load_str(file: &str, text: &str) -> Result<Lesson, LoadError> {
    let c = Ctx {
        file,
        text,
        line_starts: line_starts(text),
    };
    let doc = match DeTable::parse(text) {
        Ok(d) => d,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let msg = e.message().trim().to_string();
            return c.err(&span, format!("not valid TOML: {msg}"));
        }
    };
    let top = Tbl {
        t: doc.get_ref(),
        span: doc.span(),
        what: "the lesson".into(),
    };
    top.unknown_keys(&c, &LESSON_KEYS)?;
    let (id, id_span) = top.req_string(&c, "id")?;
    if id.is_empty()
        || !id
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
    {
        return c.err(
            &id_span,
            format!("lesson id '{id}' must be letters, digits, '-' and '_'"),
        );
    }
    let (title, _) = top.req_string(&c, "title")?;
    let (summary, _) = top.req_string(&c, "summary")?;
    let objectives: Vec<String> = top.strings(&c, "objectives")?.into_iter().map(|(s, _)| s).collect();
    if objectives.is_empty() {
        return c.err(&top.span, "the lesson needs 'objectives' (an array of strings)");
    }
    let mut kernels = Vec::new();
    let mut kernel_items = top.strings(&c, "kernels")?;
    kernel_items.extend(top.strings(&c, "kernel")?);
    for (k, span) in &kernel_items {
        let Some(p) = Preset::parse(k) else {
            return c.err(
                span,
                format!("'{k}' is not a kernel release the model knows (5.7 to 6.12 and later)"),
            );
        };
        if kernels.contains(&p) {
            return c.err(span, format!("kernel '{k}' is listed twice (it selects preset {p})"));
        }
        kernels.push(p);
    }
    if kernels.is_empty() {
        kernels.push(Preset::NEWEST);
    }
    let mut whatif = WhatIf::default();
    for (name, span) in top.strings(&c, "whatif")? {
        whatif.set(&name).or_else(|e| c.err(&span, e.to_string()))?;
    }
    let step_tables = top.tables(&c, "step")?;
    if step_tables.is_empty() {
        return c.err(&top.span, "the lesson has no [[step]]");
    }
    let mut steps = Vec::new();
    let mut labels_seen: Vec<String> = Vec::new();
    for (i, st) in step_tables.into_iter().enumerate() {
        let st = Tbl {
            what: format!("step {}", i + 1),
            ..st
        };
        steps.push(load_step(&c, &st, &mut labels_seen)?);
    }
    Ok(Lesson {
        id,
        title,
        summary,
        objectives,
        kernels,
        whatif,
        steps,
        source: file.to_string(),
    })
}

fn load_step(c: &Ctx, st: &Tbl, labels_seen: &mut Vec<String>) -> R<Step> {
    let (kind, do_span) = st.req_string(c, "do")?;
    // Action arguments: every key that is not a step key.
    let mut args = toml::Table::new();
    let mut arg_spans: Vec<(String, Range<usize>)> = Vec::new();
    for (k, v) in st.t.iter() {
        let key = k.get_ref().to_string();
        if STEP_KEYS.contains(&key.as_str()) {
            continue;
        }
        let Some(val) = to_value(v.get_ref()) else {
            return c.err(&v.span(), format!("'{key}' has a value the lesson format cannot use"));
        };
        arg_spans.push((key.clone(), k.span()));
        args.insert(key, val);
    }
    if let Some((at, span)) = st.string(c, "at")? {
        let addr = address(c, &at, &span)?;
        let Address::Page { proc, vma, page } = addr else {
            return c.err(
                &span,
                format!("'at' must be a process page such as 'parent:buf[0]', not '{at}'"),
            );
        };
        let Ok(page) = i64::try_from(page) else {
            return c.err(&span, format!("page index {page} in '{at}' is too large"));
        };
        let page_key = if matches!(kind.as_str(), "write" | "read") {
            "page"
        } else {
            "start"
        };
        for (k, v) in [
            ("proc", toml::Value::String(proc)),
            ("vma", toml::Value::String(vma)),
            (page_key, toml::Value::Integer(page)),
        ] {
            if args.contains_key(k) {
                return c.err(&span, format!("'at' already gives '{k}'; remove one of them"));
            }
            args.insert(k.to_string(), v);
        }
    }
    let action_text = {
        let mut parts = vec![kind.clone()];
        if let Some((at, _)) = st.string(c, "at")? {
            parts.push(format!("at={at}"));
        }
        for (k, _) in &arg_spans {
            if let Some(v) = args.get(k) {
                parts.push(format!("{k}={v}"));
            }
        }
        parts.join(" ")
    };
    let action = build_action(c, &kind, &do_span, args, &arg_spans)?;
    let mut say = Vec::new();
    if let Some(v) = st.get("say") {
        match v.get_ref() {
            DeValue::String(s) => say.push(Narration {
                text: s.to_string(),
                kernels: Vec::new(),
            }),
            DeValue::Array(_) => {
                for t in st.tables(c, "say")? {
                    let t = Tbl {
                        what: "a 'say' entry".into(),
                        ..t
                    };
                    t.unknown_keys(c, &["text", "kernels"])?;
                    let (text, _) = t.req_string(c, "text")?;
                    let kernels = kernel_filters(c, &t.strings(c, "kernels")?)?;
                    say.push(Narration { text, kernels });
                }
            }
            other => {
                return c.err(
                    &v.span(),
                    format!(
                        "'say' must be Markdown text or an array of {{ text, kernels }}, found {}",
                        type_name(other)
                    ),
                );
            }
        }
    }
    let focus = st
        .strings(c, "focus")?
        .iter()
        .map(|(s, span)| page_address(c, s, span))
        .collect::<R<Vec<_>>>()?;
    let question = match st.tables(c, "question")?.into_iter().next() {
        Some(q) => Some(load_question(
            c,
            &Tbl {
                what: "the question".into(),
                ..q
            },
        )?),
        None => None,
    };
    let mut labels = Vec::new();
    if let Some(v) = st.get("label") {
        let DeValue::Table(t) = v.get_ref() else {
            return c.err(
                &v.span(),
                "'label' must be a table such as { orig = \"parent:buf[0]\" }",
            );
        };
        for (k, val) in t.iter() {
            let DeValue::String(s) = val.get_ref() else {
                return c.err(
                    &val.span(),
                    format!("label '{}' must be an address string", k.get_ref()),
                );
            };
            let name = k.get_ref().to_string();
            if !name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
                || name.is_empty()
            {
                return c.err(
                    &k.span(),
                    format!("label '{name}' must be letters, digits, '-' and '_'"),
                );
            }
            labels.push((name.clone(), page_address(c, s, &val.span())?));
            labels_seen.push(name);
        }
    }
    let kernels = kernel_filters(c, &st.strings(c, "kernels")?)?;
    let whatif = match st.get("whatif") {
        None => None,
        Some(_) => {
            let mut w = WhatIf::default();
            for (name, span) in st.strings(c, "whatif")? {
                w.set(&name).or_else(|e| c.err(&span, e.to_string()))?;
            }
            Some(w)
        }
    };
    let selftest = match st.string(c, "selftest")? {
        None => None,
        Some((v, span)) => Some(SelftestRole::parse(&v).map_or_else(
            || {
                c.err(
                    &span,
                    format!(
                        "unknown selftest role '{v}'; known: {}",
                        SelftestRole::ALL.map(|(_, k)| k).join(", ")
                    ),
                )
            },
            Ok,
        )?),
    };
    let mut expect = Vec::new();
    for e in st.tables(c, "expect")? {
        let e = Tbl {
            what: "an expectation".into(),
            ..e
        };
        expect.push(load_expectation(c, &e, labels_seen)?);
    }
    Ok(Step {
        line: c.line(&st.span),
        kernels,
        whatif,
        action,
        action_text,
        say,
        focus,
        question,
        expect,
        labels,
        selftest,
    })
}

/// Builds the model action; rejects unknown arguments (serde ignores keys of
/// flattened structs, so the arguments are compared with what round-trips).
fn build_action(
    c: &Ctx,
    kind: &str,
    do_span: &Range<usize>,
    args: toml::Table,
    spans: &[(String, Range<usize>)],
) -> R<Action> {
    let Some(spec) = catalogue::spec(kind) else {
        return c.err(
            do_span,
            format!(
                "unknown action '{kind}'; known actions: {}",
                catalogue::names().join(", ")
            ),
        );
    };
    for (k, span) in spans {
        let Some(arg) = spec.arg(k) else {
            return c.err(
                span,
                format!(
                    "unknown argument '{k}' for action '{kind}'; it takes: {}",
                    spec.arg_names().join(", ")
                ),
            );
        };
        if let Some(v) = args.get(k)
            && let Err(why) = check_kind(arg, v)
        {
            return c.err(span, format!("action '{kind}': `{k}` {why}"));
        }
    }
    if let Some(a) = spec.args.iter().find(|a| a.required && !args.contains_key(a.name)) {
        return c.err(do_span, format!("action '{kind}' needs `{}`", a.name));
    }
    let mut table = args.clone();
    table.insert("action".into(), toml::Value::String(kind.to_string()));
    let action: Action = match toml::Value::Table(table).try_into() {
        Ok(a) => a,
        Err(e) => {
            let msg = e.message().trim().to_string();
            // Point at the argument the message names or quotes, if any.
            let quoted = |k: &str| match args.get(k) {
                Some(toml::Value::String(v)) => msg.contains(&format!("\"{v}\"")) || msg.contains(&format!("`{v}`")),
                Some(v) => msg.contains(&v.to_string()),
                None => false,
            };
            let span = spans
                .iter()
                .find(|(k, _)| msg.contains(&format!("`{k}`")))
                .or_else(|| spans.iter().find(|(k, _)| quoted(k)))
                .map(|(_, s)| s.clone())
                .unwrap_or(do_span.clone());
            return c.err(&span, format!("action '{kind}': {msg}"));
        }
    };
    let new_process = match &action {
        Action::Spawn { name } => Some(("name", name)),
        Action::Fork { child, .. } => Some(("child", child)),
        _ => None,
    };
    if let Some((key, name)) = new_process
        && let Some(why) = crate::address::process_name_problem(name)
    {
        let span = spans
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, s)| s.clone())
            .unwrap_or(do_span.clone());
        return c.err(&span, why);
    }
    let back = toml::Value::try_from(&action).ok();
    let back_keys: Vec<String> = match back {
        Some(toml::Value::Table(t)) => t.keys().cloned().collect(),
        _ => Vec::new(),
    };
    for (k, span) in spans {
        if !back_keys.contains(k) {
            let mut allowed: Vec<String> = action_keys(&action);
            allowed.sort();
            return c.err(
                span,
                format!(
                    "unknown argument '{k}' for action '{kind}'; it takes: {}",
                    allowed.join(", ")
                ),
            );
        }
    }
    Ok(action)
}

/// The markers around the action table in docs/lesson-format.md.
pub const ACTIONS_BEGIN: &str =
    "<!-- actions: generated from core-model/src/catalogue.rs (pinlab actions --markdown) -->\n";
pub const ACTIONS_END: &str = "<!-- end of actions -->";

/// The argument names an action takes (from the action catalogue).
pub fn action_args(kind: &str) -> Option<Vec<&'static str>> {
    catalogue::spec(kind).map(|s| s.arg_names())
}

/// Every action name (the action catalogue's, which is the `Action` enum's).
pub fn known_actions() -> Vec<&'static str> {
    catalogue::names()
}

/// Whether a value has the kind the catalogue gives the argument (numbers
/// in range, booleans, names, one of the listed words, tags).
fn check_kind(arg: &catalogue::Arg, v: &toml::Value) -> Result<(), String> {
    use catalogue::ArgKind as K;
    use toml::Value as V;
    match (arg.kind, v) {
        (K::Number { min, max }, V::Integer(n)) => {
            if *n < 0 || (*n as u64) < min || (*n as u64) > max {
                Err(format!("must be from {min} to {max}, not {n}"))
            } else {
                Ok(())
            }
        }
        (K::Number { .. }, other) => Err(format!("must be a whole number, not {other}")),
        (K::Bool, V::Boolean(_)) => Ok(()),
        (K::Bool, other) => Err(format!("must be true or false, not {other}")),
        (K::OneOf { values }, V::String(x)) if values.contains(&x.as_str()) => Ok(()),
        (K::OneOf { values }, other) => Err(format!("must be one of {}, not {other}", values.join(", "))),
        (K::Name { .. } | K::Tag, V::String(_)) => Ok(()),
        (K::Name { .. } | K::Tag, other) => Err(format!("must be a string, not {other}")),
        (K::TagList, V::Array(items)) | (K::TagOrList, V::Array(items)) => {
            if items.iter().all(|i| i.is_str()) {
                Ok(())
            } else {
                Err("must be an array of strings".into())
            }
        }
        (K::TagOrList, V::String(_)) => Ok(()),
        (K::TagList, other) => Err(format!("must be an array of strings, not {other}")),
        (K::TagOrList, other) => Err(format!("must be a string or an array of strings, not {other}")),
    }
}

/// The argument names an action takes (from its serialized form).
fn action_keys(a: &Action) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    if let Ok(toml::Value::Table(t)) = toml::Value::try_from(a) {
        keys.extend(t.keys().filter(|k| *k != "action").cloned());
    }
    for opt in ["pages", "index", "proc", "vma", "kbuf", "file", "pipe", "count"] {
        if !keys.iter().any(|k| k == opt) && optional_arg(a, opt) {
            keys.push(opt.to_string());
        }
    }
    keys.push("at".into());
    keys
}

/// Optional arguments that are absent from the serialized form when unset.
fn optional_arg(a: &Action, key: &str) -> bool {
    match a {
        Action::Munmap { .. } | Action::Mprotect { .. } | Action::Madvise { .. } | Action::Mlock { .. } => {
            key == "pages"
        }
        Action::DeviceRead { .. } | Action::DeviceWrite { .. } => key == "index",
        Action::IovIterGetPages2 { .. } | Action::IovIterExtractPages { .. } => {
            matches!(key, "pages" | "proc" | "vma" | "kbuf" | "file" | "pipe" | "count")
        }
        Action::Gup { .. } => key == "count",
        _ => false,
    }
}

fn load_expectation(c: &Ctx, e: &Tbl, labels_seen: &[String]) -> R<Expectation> {
    let mut allowed: Vec<&str> = What::ALL.iter().map(|(_, k, _)| *k).collect();
    allowed.extend(["is", "at_least", "one_of", "kernels"]);
    e.unknown_keys(c, &allowed)?;
    let whats: Vec<(What, &str)> = What::ALL
        .iter()
        .filter(|(_, k, _)| e.get(k).is_some())
        .map(|(w, k, _)| (*w, *k))
        .collect();
    let (what, key) = match whats.as_slice() {
        [one] => *one,
        [] => {
            return c.err(
                &e.span,
                format!(
                    "an expectation needs one of: {}",
                    What::ALL.iter().map(|(_, k, _)| *k).collect::<Vec<_>>().join(", ")
                ),
            );
        }
        _ => {
            return c.err(
                &e.span,
                format!(
                    "an expectation checks one thing; found {}",
                    whats.iter().map(|(_, k)| *k).collect::<Vec<_>>().join(" and ")
                ),
            );
        }
    };
    let subject = load_subject(c, e, what, key, labels_seen)?;
    let cmp = load_cmp(c, e, what, key)?;
    let kernels = kernel_filters(c, &e.strings(c, "kernels")?)?;
    Ok(Expectation {
        what,
        subject,
        cmp,
        kernels,
        line: c.line(&e.span),
    })
}

/// A vmstat counter name, checked.
fn vmstat_name(c: &Ctx, s: &str, span: &Range<usize>) -> R<Subject> {
    if !pinlab_model::world::Vmstat::NAMES.contains(&s) {
        return c.err(
            span,
            format!(
                "unknown vmstat counter '{s}'; known: {}",
                pinlab_model::world::Vmstat::NAMES.join(", ")
            ),
        );
    }
    Ok(Subject::Vmstat(s.to_string()))
}

/// Reads the subject of `what` (from `key`).
fn load_subject(c: &Ctx, e: &Tbl, what: What, key: &str, labels_seen: &[String]) -> R<Subject> {
    let v = e.get(key).expect("present");
    Ok(match what {
        What::SameFolio => {
            let items = e.strings(c, key)?;
            let [a, b] = items.as_slice() else {
                return c.err(&v.span(), "'same_folio' needs exactly two addresses");
            };
            Subject::Pair(address(c, &a.0, &a.1)?, address(c, &b.0, &b.1)?)
        }
        What::Hazard => {
            let (s, span) = e.req_string(c, key)?;
            Subject::Hazard(HazardKind::parse(&s).map_or_else(
                || {
                    c.err(
                        &span,
                        format!(
                            "unknown hazard '{s}'; known: {}",
                            HazardKind::ALL.map(|h| h.name()).join(", ")
                        ),
                    )
                },
                Ok,
            )?)
        }
        What::Errno => {
            let (s, span) = e.req_string(c, key)?;
            Subject::Errno(Errno::parse(&s).map_or_else(|| c.err(&span, format!("unknown errno '{s}'")), Ok)?)
        }
        What::Vmstat | What::VmstatDelta => {
            let (s, span) = e.req_string(c, key)?;
            vmstat_name(c, &s, &span)?
        }
        _ => {
            let (s, span) = e.req_string(c, key)?;
            let a = address(c, &s, &span)?;
            if let Address::Label(l) = &a
                && !labels_seen.contains(l)
            {
                return c.err(&span, format!("label '@{l}' is used before a step captures it"));
            }
            let fits = match (&a, what) {
                (Address::Mapping { .. }, What::Mapped) => true,
                (_, What::Mapped) => matches!(a, Address::Page { .. }),
                (Address::Mapping { .. }, _) => false,
                (_, What::BioFlags | What::WillPin) => matches!(a, Address::Holder { .. }),
                _ => true,
            };
            if !fits {
                let need = match what {
                    What::Mapped => "a process page or mapping, such as 'child:buf[0]' or 'child:buf'",
                    What::BioFlags | What::WillPin => "a bio or holder, such as 'bio:io1'",
                    _ => "a page, such as 'parent:buf[0]'",
                };
                return c.err(&span, format!("'{key}' needs {need}, not '{s}'"));
            }
            Subject::At(a)
        }
    })
}

const LRU_VALUES: [&str; 4] = ["inactive", "active", "unevictable", "none"];
const ZONE_VALUES: [&str; 3] = ["normal", "movable", "cma"];

/// One value of `what`'s kind from a TOML value.
fn value_of(c: &Ctx, what: What, key: &str, kind: ValueKind, v: &Spanned<DeValue>) -> R<Value> {
    Ok(match (kind, v.get_ref()) {
        (ValueKind::Int, DeValue::Integer(_)) => match to_value(v.get_ref()) {
            Some(toml::Value::Integer(i)) => Value::Int(i),
            _ => return c.err(&v.span(), "the number is too large"),
        },
        (ValueKind::Bool, DeValue::Boolean(b)) => Value::Bool(*b),
        (ValueKind::Str, DeValue::String(s)) => {
            let allowed: &[&str] = match what {
                What::Lru => &LRU_VALUES,
                What::Zone => &ZONE_VALUES,
                _ => &[],
            };
            if !allowed.is_empty() && !allowed.contains(&s.as_ref()) {
                return c.err(&v.span(), format!("{key} is one of {}; not '{s}'", allowed.join(", ")));
            }
            Value::Str(s.to_string())
        }
        (ValueKind::Set, DeValue::Array(items)) => {
            let mut names = Vec::new();
            for i in items {
                let DeValue::String(n) = i.get_ref() else {
                    return c.err(
                        &i.span(),
                        format!("'{key}' lists flag names, found {}", type_name(i.get_ref())),
                    );
                };
                if !BIO_FLAG_NAMES.contains(&n.as_ref()) {
                    return c.err(
                        &i.span(),
                        format!("unknown bio flag '{n}'; known: {}", BIO_FLAG_NAMES.join(", ")),
                    );
                }
                names.push(n.to_string());
            }
            names.sort();
            names.dedup();
            Value::Set(names)
        }
        (kind, other) => {
            return c.err(
                &v.span(),
                format!(
                    "'{key}' needs 'is = {}', found {}",
                    kind_example(kind),
                    type_name(other)
                ),
            );
        }
    })
}

/// The bio flags a `bio_flags` check may name (include/linux/blk_types.h; BIO_PAGE_REFFED
/// only under the bio_v7_modes what-if).
pub const BIO_FLAG_NAMES: [&str; 4] = ["BIO_NO_PAGE_REF", "BIO_PAGE_PINNED", "BIO_PAGE_REFFED", "BIO_CLONED"];

/// Reads `is`, `at_least` or `one_of`.
fn load_cmp(c: &Ctx, e: &Tbl, what: What, key: &str) -> R<Option<Cmp>> {
    let kind = what.value_kind();
    let given: Vec<(&str, &Spanned<DeValue>)> = ["is", "at_least", "one_of"]
        .into_iter()
        .filter_map(|k| e.get(k).map(|v| (k, v)))
        .collect();
    if given.len() > 1 {
        return c.err(
            &given[1].1.span(),
            format!(
                "use one of 'is', 'at_least' and 'one_of', not {} and {}",
                given[0].0, given[1].0
            ),
        );
    }
    Ok(Some(match (kind, given.first()) {
        (ValueKind::None, None) => return Ok(None),
        (ValueKind::None, Some((k, v))) => return c.err(&v.span(), format!("'{key}' takes no '{k}'")),
        (ValueKind::Bool, None) if matches!(what, What::Hazard | What::SameFolio) => Cmp::Is(Value::Bool(true)),
        (kind, None) => return c.err(&e.span, format!("'{key}' needs 'is = {}'", kind_example(kind))),
        (kind, Some(("is", v))) => Cmp::Is(value_of(c, what, key, kind, v)?),
        (ValueKind::Int, Some(("at_least", v))) => match value_of(c, what, key, ValueKind::Int, v)? {
            Value::Int(n) => Cmp::AtLeast(n),
            _ => unreachable!("an Int value"),
        },
        (_, Some(("at_least", v))) => {
            return c.err(&v.span(), format!("'at_least' compares numbers; '{key}' is not one"));
        }
        (kind, Some((_, v))) => {
            let DeValue::Array(items) = v.get_ref() else {
                return c.err(
                    &v.span(),
                    format!("'one_of' needs an array of values, found {}", type_name(v.get_ref())),
                );
            };
            if items.is_empty() {
                return c.err(&v.span(), "'one_of' needs at least one value");
            }
            Cmp::OneOf(
                items
                    .iter()
                    .map(|i| value_of(c, what, key, kind, i))
                    .collect::<R<Vec<_>>>()?,
            )
        }
    }))
}

fn kind_example(k: ValueKind) -> &'static str {
    match k {
        ValueKind::Int => "<integer>",
        ValueKind::Bool => "true|false",
        ValueKind::Str => "\"<text>\"",
        ValueKind::Set => "[\"<flag>\", ...]",
        ValueKind::None => "",
    }
}

fn load_question(c: &Ctx, q: &Tbl) -> R<Question> {
    q.unknown_keys(c, &["prompt", "choices", "answer", "explain"])?;
    let (prompt, _) = q.req_string(c, "prompt")?;
    let (explain, _) = q.req_string(c, "explain")?;
    let choices: Vec<String> = q.strings(c, "choices")?.into_iter().map(|(s, _)| s).collect();
    if choices.len() == 1 {
        return c.err(&q.span, "a multiple-choice question needs at least two choices");
    }
    let Some(a) = q.get("answer") else {
        return c.err(&q.span, "the question needs 'answer'");
    };
    let check_choice = |n: i64, span: &Range<usize>| -> R<i64> {
        if !choices.is_empty() && (n < 1 || n as usize > choices.len()) {
            return c.err(
                span,
                format!(
                    "answer {n} is not a choice: number the choices from 1 to {}",
                    choices.len()
                ),
            );
        }
        Ok(n)
    };
    let answer = match a.get_ref() {
        DeValue::Integer(_) => match to_value(a.get_ref()) {
            Some(toml::Value::Integer(n)) => Answer::Fixed(check_choice(n, &a.span())?),
            _ => return c.err(&a.span(), "the number is too large"),
        },
        DeValue::Table(t) => {
            let tb = Tbl {
                t,
                span: a.span(),
                what: "the answer".into(),
            };
            let model_key = What::ALL.iter().map(|(_, k, _)| *k).find(|k| tb.get(k).is_some());
            if let Some(key) = model_key {
                if !choices.is_empty() {
                    return c.err(
                        &a.span(),
                        "an answer read from the model fits a number question, not a multiple-choice one",
                    );
                }
                tb.unknown_keys(c, &[key])?;
                let what = What::from_key(key).expect("known");
                if !matches!(what.value_kind(), ValueKind::Int) {
                    return c.err(&a.span(), format!("a number question cannot be answered by '{key}'"));
                }
                let subject = model_subject(c, &tb, what, key)?;
                Answer::FromModel { what, subject }
            } else {
                let mut per = Vec::new();
                for (k, v) in t.iter() {
                    let f =
                        KernelFilter::parse(k.get_ref()).or_else(|e| c.err(&k.span(), format!("answer key: {e}")))?;
                    let n = match to_value(v.get_ref()) {
                        Some(toml::Value::Integer(n)) => check_choice(n, &v.span())?,
                        _ => return c.err(&v.span(), "an answer per kernel must be a number"),
                    };
                    per.push((f, n));
                }
                if per.is_empty() {
                    return c.err(&a.span(), "the answer table is empty");
                }
                Answer::PerKernel(per)
            }
        }
        other => {
            return c.err(
                &a.span(),
                format!(
                    "'answer' must be a number, a table of kernel = number, or {{ refcount = \"addr\" }}; found {}",
                    type_name(other)
                ),
            );
        }
    };
    Ok(Question {
        prompt,
        choices,
        answer,
        explain,
    })
}

fn model_subject(c: &Ctx, t: &Tbl, what: What, key: &str) -> R<Subject> {
    let v = t.get(key).expect("present");
    let subject = match what {
        What::Vmstat | What::VmstatDelta => {
            let (s, span) = t.req_string(c, key)?;
            vmstat_name(c, &s, &span)?
        }
        _ => match v.get_ref() {
            DeValue::String(s) => Subject::At(address(c, s, &v.span())?),
            other => {
                return c.err(
                    &v.span(),
                    format!("'{key}' must be an address, found {}", type_name(other)),
                );
            }
        },
    };
    Ok(subject)
}

/// Two lessons with one id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{second}: lesson id '{id}' is already used by {first}")]
pub struct DuplicateId {
    /// Where the second one comes from.
    pub second: String,
    pub id: String,
    /// Where the first one comes from.
    pub first: String,
}

/// Loads several lessons and rejects duplicate ids.
pub fn check_unique(lessons: &[Lesson]) -> Result<(), DuplicateId> {
    for (i, a) in lessons.iter().enumerate() {
        if let Some(b) = lessons[..i].iter().find(|b| b.id == a.id) {
            return Err(DuplicateId {
                second: a.source.to_string(),
                id: a.id.clone(),
                first: b.source.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_action_table_in_the_docs_is_the_catalogue() {
        let doc = include_str!("../../docs/lesson-format.md");
        let table = doc
            .split(ACTIONS_BEGIN)
            .nth(1)
            .and_then(|rest| rest.split(ACTIONS_END).next());
        assert_eq!(
            table,
            Some(catalogue::markdown_table().as_str()),
            "docs/lesson-format.md's action table is stale: `pinlab actions --markdown` prints the new one"
        );
    }

    #[test]
    fn line_of_a_span_agrees_with_line_col() {
        let text = "a = 1\n\nb = 'é'\nc = 3";
        let c = Ctx {
            file: "t",
            text,
            line_starts: line_starts(text),
        };
        for offset in 0..=text.len() {
            assert_eq!(c.line(&(offset..offset)), line_col(text, offset).0, "{offset}");
        }
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("é\nx", 3), (2, 1));
        assert_eq!(line_col("x", 99), (1, 2));
    }
}
