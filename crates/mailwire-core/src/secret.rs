//! [`Secret`]: credentials that never appear in `Debug` output.

use std::fmt;

/// A value that must not leak into logs: a password, a token, a SASL response.
///
/// `Debug` prints `Secret(..)` whatever the value; there is deliberately no `Display`.
/// Reach the value with [`Secret::expose`] at the one place that needs it.
///
/// ```
/// use mailwire_core::Secret;
/// let password = Secret::new(String::from("hunter2"));
/// assert_eq!(format!("{password:?}"), "Secret(..)");
/// assert_eq!(password.expose(), "hunter2");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// Borrows the wrapped value. Call this only where the secret is used, never to log it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new(b"p4ssw0rd".to_vec());
        let shown = format!("{s:?} {:#?}", Some(&s));
        assert!(!shown.contains("p4ss"), "{shown}");
        assert_eq!(s.expose(), b"p4ssw0rd");
    }
}
