//! A persistent vector for the big per-page tables (the folio arena and page
//! tables). It wraps `rpds::Vector` with 16-way nodes: changing one element
//! copies about five 16-pointer nodes (~1 KiB) instead of imbl's 64-wide
//! nodes (~4 KiB), which keeps history memory per micro-step small.

use rpds::Vector;
use rpds::vector::VectorSync;
use std::fmt;
use std::ops::Index;

const BITS: u8 = 4;

#[derive(Clone, PartialEq, Eq)]
pub struct PVec<T>(VectorSync<T>);

impl<T> Default for PVec<T> {
    fn default() -> Self {
        PVec(Vector::new_with_bits(BITS))
    }
}

impl<T: Clone> PVec<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        self.0.get(i)
    }

    /// Replaces element `i` (which must exist).
    pub fn set(&mut self, i: usize, v: T) {
        let ok = self.0.set_mut(i, v);
        debug_assert!(ok, "PVec::set out of bounds");
    }

    pub fn get_mut(&mut self, i: usize) -> &mut T {
        self.0.get_mut(i).expect("PVec index out of bounds")
    }

    pub fn push_back(&mut self, v: T) {
        self.0.push_back_mut(v);
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.0.iter()
    }

    /// Splits at `at`: self keeps [0, at), the result holds the rest.
    /// Linear in the length (only VMA splits use it).
    pub fn split_off(&mut self, at: usize) -> PVec<T> {
        let right: PVec<T> = self.0.iter().skip(at).cloned().collect();
        let left: PVec<T> = self.0.iter().take(at).cloned().collect();
        *self = left;
        right
    }
}

impl<T: Clone> FromIterator<T> for PVec<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut v = PVec::default();
        for x in iter {
            v.push_back(x);
        }
        v
    }
}

impl<T: Clone> Index<usize> for PVec<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        self.0.get(i).expect("PVec index out of bounds")
    }
}

impl<T: fmt::Debug> fmt::Debug for PVec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_split_and_share() {
        let mut a: PVec<u32> = (0..100).collect();
        let b = a.clone();
        a.set(50, 7);
        assert_eq!(a[50], 7);
        assert_eq!(b[50], 50, "the old version is untouched");
        let r = a.split_off(40);
        assert_eq!((a.len(), r.len(), r[0], r[10]), (40, 60, 40, 7));
    }
}
