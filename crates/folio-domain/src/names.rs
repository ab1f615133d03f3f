//! The string forms of the domain's closed sets of values. Each enum's
//! forms come from its strum derives alone; [`named!`] adds what every one
//! of them has (`ALL`, `as_str`, `TryFrom<String>`), and [`UnknownName`] is
//! what parsing a form no variant has answers.

/// A string that names no variant of an enum: what it should have named,
/// the string, and the forms that exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{value}'; expected {expected}")]
pub struct UnknownName {
    pub what: &'static str,
    pub value: String,
    pub expected: String,
}

impl UnknownName {
    pub fn new(what: &'static str, value: &str, expected: impl Into<String>) -> Self {
        Self {
            what,
            value: value.to_owned(),
            expected: expected.into(),
        }
    }
}

/// For an enum deriving `strum::{EnumString, IntoStaticStr, VariantArray}`
/// with `parse_err_ty = UnknownName, parse_err_fn = $err_fn`: its `ALL`,
/// `as_str`, `TryFrom<String>` and the parse error function, which says
/// `unknown $what 'x'; expected one of ...`.
macro_rules! named {
    ($ty:ident, $what:literal, $err_fn:ident) => {
        impl $ty {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$ty] = <$ty as strum::VariantArray>::VARIANTS;

            /// Its string form.
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }

        fn $err_fn(s: &str) -> $crate::names::UnknownName {
            $crate::names::UnknownName::new(
                $what,
                s,
                format!(
                    "one of {}",
                    $crate::provider::names($ty::ALL.iter().map(|v| v.as_str()))
                ),
            )
        }

        impl TryFrom<String> for $ty {
            type Error = $crate::names::UnknownName;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }
    };
}
pub(crate) use named;
