//! Kernel filters: which presets a lesson part applies to ("5.7", "5.8+",
//! "..5.18", "5.9..5.18").

use pinlab_model::Preset;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelFilter {
    pub from: Option<Preset>,
    pub to: Option<Preset>,
    pub text: String,
}

/// A kernel filter that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KernelFilterError {
    #[error("'{0}' is not a kernel release the model knows (5.7 and later)")]
    UnknownRelease(String),
    #[error("'{0}' selects every kernel; leave `kernels` out instead")]
    Everything(String),
}

impl KernelFilter {
    pub fn parse(s: &str) -> Result<KernelFilter, KernelFilterError> {
        let t = s.trim();
        let p = |v: &str| Preset::parse(v).ok_or_else(|| KernelFilterError::UnknownRelease(v.to_string()));
        let (from, to) = if let Some((a, b)) = t.split_once("..") {
            (
                if a.is_empty() { None } else { Some(p(a)?) },
                if b.is_empty() { None } else { Some(p(b)?) },
            )
        } else if let Some(a) = t.strip_suffix('+') {
            (Some(p(a)?), None)
        } else {
            let x = p(t)?;
            (Some(x), Some(x))
        };
        if from.is_none() && to.is_none() {
            return Err(KernelFilterError::Everything(s.to_string()));
        }
        Ok(KernelFilter {
            from,
            to,
            text: t.to_string(),
        })
    }

    pub fn matches(&self, p: Preset) -> bool {
        self.from.is_none_or(|f| p >= f) && self.to.is_none_or(|t| p <= t)
    }
}

/// True when the list is empty or one filter matches.
pub fn any_matches(filters: &[KernelFilter], p: Preset) -> bool {
    filters.is_empty() || filters.iter().any(|f| f.matches(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let f = KernelFilter::parse("5.8+").unwrap();
        assert!(!f.matches(Preset::V5_7) && f.matches(Preset::V6_12));
        let f = KernelFilter::parse("..5.18").unwrap();
        assert!(f.matches(Preset::V5_7) && f.matches(Preset::V5_18) && !f.matches(Preset::V5_19));
        let f = KernelFilter::parse("5.9..5.18").unwrap();
        assert!(!f.matches(Preset::V5_8) && f.matches(Preset::V5_11) && !f.matches(Preset::V5_19));
        let f = KernelFilter::parse("5.10").unwrap();
        assert!(
            f.matches(Preset::V5_9),
            "a release maps to the preset whose span holds it"
        );
        assert!(KernelFilter::parse("4.19").is_err());
        assert!(KernelFilter::parse("..").is_err());
    }
}
