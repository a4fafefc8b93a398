//! Lessons built as values and written as TOML: `Lesson::to_toml` is the
//! inverse of `load_str` (a test loads, writes and loads again every
//! built-in lesson and selftest case and compares), and `Step::of` builds a
//! step from a model action without printing and re-parsing it. The
//! exercise generator, the counterexample search and the sandbox build
//! lessons this way and write TOML only to save or show one.

use crate::expect::{Cmp, Expectation, Subject, Value};
use crate::lesson::{Answer, Lesson, Narration, Question, Step};
use pinlab_model::{Action, Preset, WhatIf};
use toml::Value as V;

/// A TOML string literal (quoted and escaped by the toml crate).
fn s(text: &str) -> V {
    V::String(text.to_string())
}

fn strings(items: impl IntoIterator<Item = String>) -> V {
    V::Array(items.into_iter().map(V::String).collect())
}

/// A key as TOML writes it: bare when it can be, quoted otherwise.
fn key(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        k.to_string()
    } else {
        s(k).to_string()
    }
}

/// An inline table with its keys in the given order.
fn inline(pairs: &[(String, String)]) -> String {
    let body: Vec<String> = pairs.iter().map(|(k, v)| format!("{} = {v}", key(k))).collect();
    format!("{{ {} }}", body.join(", "))
}

/// The arguments of an action as `key = value` pairs, in catalogue order,
/// as its serde form gives them (defaults included: they load back equal).
pub fn action_args(a: &Action) -> Vec<(String, V)> {
    let Ok(V::Table(mut t)) = V::try_from(a) else {
        return Vec::new();
    };
    t.remove("action");
    let order = pinlab_model::catalogue::spec(a.kind())
        .map(|s| s.arg_names())
        .unwrap_or_default();
    let mut out: Vec<(String, V)> = Vec::new();
    for name in order {
        if let Some(v) = t.remove(name) {
            out.push((name.to_string(), v));
        }
    }
    // Anything the catalogue does not order (none, by the catalogue's test).
    out.extend(t);
    out
}

/// The arguments worth writing: those whose absence would load as a
/// different action (defaults are left out, as a person writes a lesson).
pub fn written_args(a: &Action) -> Vec<(String, V)> {
    let args = action_args(a);
    let spec = pinlab_model::catalogue::spec(a.kind());
    let load = |args: &[(String, V)]| -> Option<Action> {
        let mut t: toml::Table = args.iter().cloned().collect();
        t.insert("action".into(), s(a.kind()));
        V::Table(t).try_into().ok()
    };
    let mut kept = args.clone();
    for (k, _) in &args {
        let optional = spec.and_then(|s| s.arg(k)).is_some_and(|x| !x.required);
        if !optional {
            continue;
        }
        let without: Vec<(String, V)> = kept.iter().filter(|(x, _)| x != k).cloned().collect();
        if load(&without).as_ref() == Some(a) {
            kept = without;
        }
    }
    kept
}

/// An action as the lines of a `[[step]]` (`do = ...` and its arguments).
pub fn step_toml(a: &Action) -> String {
    let mut lines = vec![format!("do = {}", s(a.kind()))];
    lines.extend(written_args(a).into_iter().map(|(k, v)| format!("{k} = {v}")));
    lines.join("\n")
}

/// The one-line form of an action a transcript shows (`mmap pages=4 ...`).
pub fn action_text(a: &Action) -> String {
    let mut parts = vec![a.kind().to_string()];
    parts.extend(action_args(a).into_iter().map(|(k, v)| format!("{k}={v}")));
    parts.join(" ")
}

impl Step {
    /// A step that does `action`, with nothing else (no narration, checks
    /// or question); add them with the fields.
    pub fn of(action: Action) -> Step {
        Step {
            line: 0,
            kernels: Vec::new(),
            whatif: None,
            action_text: action_text(&action),
            action,
            say: Vec::new(),
            focus: Vec::new(),
            question: None,
            expect: Vec::new(),
            labels: Vec::new(),
            selftest: None,
        }
    }

    /// Adds a narration paragraph shown under every kernel.
    pub fn say(mut self, text: impl Into<String>) -> Step {
        self.say.push(Narration {
            text: text.into(),
            kernels: Vec::new(),
        });
        self
    }

    /// Adds a check.
    pub fn expect(mut self, e: Expectation) -> Step {
        self.expect.push(e);
        self
    }
}

impl Lesson {
    /// A lesson with a header and no steps yet.
    pub fn new(id: &str, title: &str, kernels: Vec<Preset>, whatif: WhatIf) -> Lesson {
        Lesson {
            id: id.to_string(),
            title: title.to_string(),
            summary: title.to_string(),
            objectives: vec![title.to_string()],
            kernels: if kernels.is_empty() {
                vec![Preset::NEWEST]
            } else {
                kernels
            },
            whatif,
            steps: Vec::new(),
            source: format!("<built {id}>"),
        }
    }

    /// The lesson as a TOML file `load_str` reads back to an equal lesson
    /// (positions aside: see `Lesson::positions_cleared`).
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let line = |out: &mut String, k: &str, v: V| out.push_str(&format!("{k} = {v}\n"));
        line(&mut out, "id", s(&self.id));
        line(&mut out, "title", s(&self.title));
        line(&mut out, "summary", s(&self.summary));
        line(&mut out, "objectives", strings(self.objectives.clone()));
        line(
            &mut out,
            "kernels",
            strings(self.kernels.iter().map(|p| p.name().to_string())),
        );
        if self.whatif != WhatIf::default() {
            line(
                &mut out,
                "whatif",
                strings(self.whatif.names().into_iter().map(String::from)),
            );
        }
        for st in &self.steps {
            out.push_str("\n[[step]]\n");
            line(&mut out, "do", s(st.action.kind()));
            for (k, v) in written_args(&st.action) {
                line(&mut out, &k, v);
            }
            if !st.kernels.is_empty() {
                line(&mut out, "kernels", strings(st.kernels.iter().map(|k| k.text.clone())));
            }
            if let Some(role) = st.selftest {
                line(&mut out, "selftest", s(role.key()));
            }
            if let Some(w) = &st.whatif {
                line(&mut out, "whatif", strings(w.names().into_iter().map(String::from)));
            }
            if !st.say.is_empty() {
                let items: Vec<String> = st.say.iter().map(narration).collect();
                out.push_str("say = [\n");
                for i in items {
                    out.push_str(&format!("  {i},\n"));
                }
                out.push_str("]\n");
            }
            if !st.focus.is_empty() {
                line(&mut out, "focus", strings(st.focus.iter().map(|a| a.to_string())));
            }
            if !st.labels.is_empty() {
                let pairs: Vec<(String, String)> = st
                    .labels
                    .iter()
                    .map(|(n, a)| (n.clone(), s(&a.to_string()).to_string()))
                    .collect();
                out.push_str(&format!("label = {}\n", inline(&pairs)));
            }
            if let Some(q) = &st.question {
                out.push_str(&format!("question = {}\n", question(q)));
            }
            if !st.expect.is_empty() {
                out.push_str("expect = [\n");
                for e in &st.expect {
                    out.push_str(&format!("  {},\n", expectation(e)));
                }
                out.push_str("]\n");
            }
        }
        out
    }

    /// The lesson with what depends on its file cleared (line numbers, the
    /// action text as written, the source name): what a round trip through
    /// `to_toml` keeps equal.
    pub fn positions_cleared(&self) -> Lesson {
        let mut l = self.clone();
        l.source = String::new();
        for st in &mut l.steps {
            st.line = 0;
            st.action_text = String::new();
            for e in &mut st.expect {
                e.line = 0;
            }
        }
        l
    }
}

fn narration(n: &Narration) -> String {
    let mut pairs = vec![("text".to_string(), s(&n.text).to_string())];
    if !n.kernels.is_empty() {
        pairs.push((
            "kernels".into(),
            strings(n.kernels.iter().map(|k| k.text.clone())).to_string(),
        ));
    }
    inline(&pairs)
}

fn value(v: &Value) -> V {
    match v {
        Value::Int(n) => V::Integer(*n),
        Value::Bool(b) => V::Boolean(*b),
        Value::Str(x) => s(x),
        Value::Set(items) => strings(items.clone()),
    }
}

fn subject(sub: &Subject) -> V {
    match sub {
        Subject::At(a) => s(&a.to_string()),
        Subject::Pair(a, b) => strings([a.to_string(), b.to_string()]),
        Subject::Hazard(h) => s(h.name()),
        Subject::Errno(e) => s(e.name()),
        Subject::Vmstat(n) => s(n),
    }
}

fn expectation(e: &Expectation) -> String {
    let mut pairs = vec![(e.what.key().to_string(), subject(&e.subject).to_string())];
    match &e.cmp {
        None => {}
        Some(Cmp::Is(v)) => pairs.push(("is".into(), value(v).to_string())),
        Some(Cmp::AtLeast(n)) => pairs.push(("at_least".into(), n.to_string())),
        Some(Cmp::OneOf(vs)) => pairs.push(("one_of".into(), V::Array(vs.iter().map(value).collect()).to_string())),
    }
    if !e.kernels.is_empty() {
        pairs.push((
            "kernels".into(),
            strings(e.kernels.iter().map(|k| k.text.clone())).to_string(),
        ));
    }
    inline(&pairs)
}

fn question(q: &Question) -> String {
    let mut pairs = vec![("prompt".to_string(), s(&q.prompt).to_string())];
    if !q.choices.is_empty() {
        pairs.push(("choices".into(), strings(q.choices.clone()).to_string()));
    }
    let answer = match &q.answer {
        Answer::Fixed(n) => n.to_string(),
        Answer::PerKernel(per) => inline(
            &per.iter()
                .map(|(f, n)| (f.text.clone(), n.to_string()))
                .collect::<Vec<_>>(),
        ),
        Answer::FromModel { what, subject: sub } => inline(&[(what.key().to_string(), subject(sub).to_string())]),
    };
    pairs.push(("answer".into(), answer));
    pairs.push(("explain".into(), s(&q.explain).to_string()));
    inline(&pairs)
}
