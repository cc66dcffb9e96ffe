//! Labels: the letters that name axes in a spec.

use core::fmt;

/// One axis label, a letter `a-z` or `A-Z`.
///
/// Labels order as numpy orders them when it builds an implicit output: upper case before
/// lower case, each alphabetically. [`Label::index`] is that rank, `0..52`.
///
/// ```
/// use einsum_spec::Label;
/// let j = Label::from_char('j').unwrap();
/// assert_eq!(j.as_char(), 'j');
/// assert!(Label::from_char('Z').unwrap() < j);
/// assert_eq!(Label::from_char('1'), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label(u8);

impl Label {
    /// How many distinct labels exist (`A-Z` and `a-z`).
    pub const COUNT: usize = 52;

    /// The label for `c`, or `None` when `c` is not an ASCII letter.
    ///
    /// ```
    /// assert!(einsum_spec::Label::from_char('é').is_none());
    /// ```
    #[must_use]
    pub fn from_char(c: char) -> Option<Label> {
        match c {
            'A'..='Z' => Some(Label(c as u8 - b'A')),
            'a'..='z' => Some(Label(c as u8 - b'a' + 26)),
            _ => None,
        }
    }

    /// The label at `index` in numpy order (`0` is `A`, `26` is `a`), if `index < 52`.
    ///
    /// ```
    /// assert_eq!(einsum_spec::Label::from_index(26).unwrap().as_char(), 'a');
    /// ```
    #[must_use]
    pub fn from_index(index: usize) -> Option<Label> {
        u8::try_from(index)
            .ok()
            .filter(|&i| usize::from(i) < Self::COUNT)
            .map(Label)
    }

    /// The letter this label is written as.
    ///
    /// ```
    /// assert_eq!(einsum_spec::Label::from_char('Q').unwrap().as_char(), 'Q');
    /// ```
    #[must_use]
    pub fn as_char(self) -> char {
        if self.0 < 26 {
            (b'A' + self.0) as char
        } else {
            (b'a' + self.0 - 26) as char
        }
    }

    /// The rank of this label in numpy's implicit-output order, `0..52`.
    ///
    /// ```
    /// assert_eq!(einsum_spec::Label::from_char('b').unwrap().index(), 27);
    /// ```
    #[must_use]
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Label({:?})", self.as_char())
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_letter_round_trips_and_upper_case_sorts_first() {
        let letters: Vec<char> = ('A'..='Z').chain('a'..='z').collect();
        for (i, &c) in letters.iter().enumerate() {
            let label = Label::from_char(c).unwrap();
            assert_eq!(label.as_char(), c);
            assert_eq!(label.index(), i);
            assert_eq!(Label::from_index(i), Some(label));
        }
        assert_eq!(Label::from_index(52), None);
    }

    #[test]
    fn non_letters_are_not_labels() {
        for c in ['0', '9', '_', '.', '-', '>', ' ', 'é', 'ß'] {
            assert_eq!(Label::from_char(c), None, "{c:?}");
        }
    }
}
