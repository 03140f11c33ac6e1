//! Closed sets of names: an enum, its stable strings and (optionally) a row of facts per
//! variant, declared once.
//!
//! `closed_set!` turns one declaration into the enum, `as_str`, `ALL`, `NAMES`, `named` (the inverse of
//! `as_str`), `Display`, and serde impls that read and write the same strings, so a new
//! variant is one line and its wire name, its metric label and its parse cannot disagree.
//! With `enum Name: Info { Variant = "name" => info, … }` it also gives `info()`, a constant
//! row per variant (a Chinese label, the check that reports a finding code …).

/// See the module documentation.
#[macro_export]
macro_rules! closed_set {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];

            /// Every variant's name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[ $( $text ),+ ];

            /// The stable name: on the wire, in configuration, as a metric label.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text ),+
                }
            }

            /// The variant whose [`as_str`](Self::as_str) is `text`.
            pub fn named(text: &str) -> Option<$name> {
                match text {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl $crate::closed_set::serde::Serialize for $name {
            fn serialize<S: $crate::closed_set::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::closed_set::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::closed_set::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Names;
                impl $crate::closed_set::serde::de::Visitor<'_> for Names {
                    type Value = $name;
                    fn expecting(&self, formatter: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        formatter.write_str(concat!("one of: ", $( $text, " " ),+))
                    }
                    fn visit_str<E: $crate::closed_set::serde::de::Error>(self, text: &str) -> Result<$name, E> {
                        $name::named(text).ok_or_else(|| {
                            E::unknown_variant(text, &[ $( $text ),+ ])
                        })
                    }
                }
                deserializer.deserialize_str(Names)
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $info:ty {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal => $row:expr ),+ $(,)?
        }
    ) => {
        $crate::closed_set! {
            $(#[$meta])*
            $vis enum $name {
                $( $(#[$vmeta])* $variant = $text ),+
            }
        }

        impl $name {
            /// The facts declared with this variant.
            pub const fn info(self) -> $info {
                match self {
                    $( $name::$variant => $row ),+
                }
            }
        }
    };
}

#[doc(hidden)]
pub use serde;

#[cfg(test)]
mod tests {
    closed_set! {
        /// A test set.
        enum Fruit: &'static str {
            /// Red.
            Apple = "apple" => "苹果",
            Pear = "pear" => "梨",
        }
    }

    #[test]
    fn one_declaration_gives_names_rows_and_serde() {
        assert_eq!(Fruit::ALL, &[Fruit::Apple, Fruit::Pear]);
        assert_eq!(Fruit::NAMES, &["apple", "pear"]);
        assert_eq!((Fruit::Pear.as_str(), Fruit::Pear.info()), ("pear", "梨"));
        assert_eq!(Fruit::named("apple"), Some(Fruit::Apple));
        assert_eq!(Fruit::named("Apple"), None);
        assert_eq!(serde_json::to_string(&Fruit::Apple).unwrap(), "\"apple\"");
        assert_eq!(serde_json::from_str::<Fruit>("\"pear\"").unwrap(), Fruit::Pear);
        let error = serde_json::from_str::<Fruit>("\"plum\"").unwrap_err().to_string();
        assert!(error.contains("unknown variant `plum`") && error.contains("apple"), "{error}");
        assert_eq!(Fruit::Pear.to_string(), "pear");
    }
}
