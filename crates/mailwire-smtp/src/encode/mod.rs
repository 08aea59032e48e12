//! Serializers for SMTP commands and replies, the exact inverse of [`crate::parse`].

mod command;
mod reply;

pub use command::*;
pub use reply::*;

/// Appends `value` in decimal: what `write!(out, "{value}")` writes, without the
/// formatting machinery (for `SIZE=`, `BDAT` sizes and the EHLO `SIZE` line).
pub(crate) fn write_decimal(out: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        // `u64::MAX` has 20 digits: `start` never goes below 0.
        if let Some(d) = digits.get_mut(start) {
            *d = b'0' + (value % 10) as u8;
        }
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(start..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    #[test]
    fn decimal_is_display() {
        for value in [0, 7, 10, 99, 100, 10_485_760, u64::MAX / 3, u64::MAX] {
            let mut out = b"x".to_vec();
            super::write_decimal(&mut out, value);
            assert_eq!(out, format!("x{value}").into_bytes());
        }
    }
}
