//! Reading the domain's enums out of text columns.
//!
//! A row field holding one is declared
//! `#[sqlx(try_from = "Text<Table, Enum>")]` (or `NullableText` for a
//! nullable column): the column is read as text and parsed with the enum's
//! own string forms (`folio-domain`, where each
//! is written once); the store writes them with `as_str()`/`to_stored()`.
//! A value this version does not know (a newer version wrote it, or a hand
//! edit) is a [`StoreError::Decode`](crate::StoreError::Decode) naming the
//! table, the column and the value: never dropped, never a panic.

use std::fmt::Display;
use std::marker::PhantomData;
use std::str::FromStr;

use folio_domain::{
    ContentKind, ContentState, FetchFailure, LibraryType, ProviderKind, RemoteHash, RunPhase,
    RunStatus, RunTrigger, ShareLevel,
};
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Type};

/// A table whose rows carry enums, named in decode errors.
pub trait Table {
    const NAME: &'static str;
}

macro_rules! tables {
    ($($ty:ident = $name:literal),* $(,)?) => {
        $(
            #[doc = concat!("The `", $name, "` table.")]
            pub struct $ty;
            impl Table for $ty {
                const NAME: &'static str = $name;
            }
        )*
    };
}

tables!(
    Libraries = "libraries",
    Shares = "library_shares",
    Integrations = "integrations",
    SyncRuns = "sync_runs",
    RemoteItems = "remote_items",
);

/// A value of type `V` read from a text column of table `T`: its decode
/// parses the text, so a value no variant names fails the read (sqlx names
/// the column).
pub struct Text<T, V>(V, PhantomData<T>);

/// [`Text`] of a nullable column.
pub struct NullableText<T, V>(Option<V>, PhantomData<T>);

impl<T, V, DB: Database> Type<DB> for Text<T, V>
where
    String: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as Type<DB>>::compatible(ty)
    }
}

impl<'r, T, V, DB: Database> Decode<'r, DB> for Text<T, V>
where
    T: Table,
    V: FromStr,
    V::Err: Display,
    String: Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = String::decode(value)?;
        Ok(Self(parse::<V, T>(text)?, PhantomData))
    }
}

impl<T, V, DB: Database> Type<DB> for NullableText<T, V>
where
    String: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as Type<DB>>::compatible(ty)
    }
}

impl<'r, T, V, DB: Database> Decode<'r, DB> for NullableText<T, V>
where
    T: Table,
    V: FromStr,
    V::Err: Display,
    Option<String>: Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = Option::<String>::decode(value)?;
        Ok(Self(text.map(parse::<V, T>).transpose()?, PhantomData))
    }
}

/// A stored value no variant names. sqlx wraps it with the column's name;
/// `StoreError`'s conversion turns the pair into `StoreError::Decode`.
#[derive(Debug, thiserror::Error)]
#[error("{table}: {reason}")]
pub struct UnknownValue {
    pub table: &'static str,
    pub value: String,
    pub reason: String,
}

fn parse<V, T>(text: String) -> Result<V, UnknownValue>
where
    V: FromStr,
    V::Err: Display,
    T: Table,
{
    text.parse().map_err(|err: V::Err| UnknownValue {
        table: T::NAME,
        reason: err.to_string(),
        value: text,
    })
}

/// Takes `$ty` out of a [`Text`] and `Option<$ty>` out of a
/// [`NullableText`] (the parsing happened in their decode: a `TryFrom`
/// error would reach sqlx's `ColumnDecode` unprintable).
macro_rules! stored_as_text {
    ($($ty:ty),* $(,)?) => {
        $(
            impl<T: Table> From<Text<T, $ty>> for $ty {
                fn from(text: Text<T, $ty>) -> Self {
                    text.0
                }
            }

            impl<T: Table> From<NullableText<T, $ty>> for Option<$ty> {
                fn from(text: NullableText<T, $ty>) -> Self {
                    text.0
                }
            }
        )*
    };
}

stored_as_text!(
    LibraryType,
    ProviderKind,
    ShareLevel,
    RunStatus,
    RunPhase,
    RunTrigger,
    FetchFailure,
    ContentKind,
    ContentState,
    RemoteHash,
);
