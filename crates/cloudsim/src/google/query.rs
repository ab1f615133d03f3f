//! Drive's search query language (`files.list?q=`), for the file fields
//! Drive documents: `name` (`=`, `!=`, `contains`), `mimeType` (`=`, `!=`,
//! `contains`), `'ID' in parents`, `trashed` and `starred` (`=`, `!=`),
//! `modifiedTime` and `createdTime` (`<`, `<=`, `=`, `!=`, `>`, `>=` against
//! an RFC 3339 string), combined with `and`, `or`, `not` and parentheses.
//!
//! A hand-written recursive-descent parser over a small tokenizer:
//!
//! ```text
//! query   := or
//! or      := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | "(" query ")" | term
//! term    := STRING "in" FIELD | FIELD OP VALUE
//! ```
//!
//! `and`, `or`, `not`, `in`, `contains`, `true` and `false` are matched
//! without regard to case; field names are case-sensitive, as Drive's are.
//! What Drive refuses (a malformed query, an operator a field does not take,
//! a value of the wrong type) is Drive's 400 `invalid` "Invalid Value" at
//! location `q`. Terms Drive accepts but cloudsim does not model
//! (`fullText`, `owners`, `properties`, `sharedWithMe`, ...) are a 400 at
//! `q` too, whose message names the term, so a client hitting one knows it
//! met a limit of the emulator and not a malformed query.

use chrono::{DateTime, Utc};

use super::error::GoogleError;
use crate::world::Item;

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    And(Vec<Query>),
    Or(Vec<Query>),
    Not(Box<Query>),
    Term(Term),
}

/// One search term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// `'ID' in parents` (`'root'` is resolved by the caller).
    InParents(String),
    /// `trashed = true` (`!=` is stored negated).
    Trashed(bool),
    /// `starred = true`; cloudsim stars nothing, so only `false` matches.
    Starred(bool),
    Name(TextOp, String),
    MimeType(TextOp, String),
    ModifiedTime(Compare, DateTime<Utc>),
    CreatedTime(Compare, DateTime<Utc>),
}

/// Operators on text fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOp {
    Equal,
    NotEqual,
    Contains,
}

/// Operators on dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    Less,
    LessOrEqual,
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
}

/// Parses `q` (400 at location `q` on anything Drive would refuse).
pub fn parse(q: &str) -> Result<Query, GoogleError> {
    let tokens = tokenize(q).ok_or_else(invalid)?;
    let mut parser = Parser { tokens, at: 0 };
    let query = parser.or()?;
    if parser.at != parser.tokens.len() {
        return Err(invalid());
    }
    Ok(query)
}

/// Drive's answer to a query it cannot read.
fn invalid() -> GoogleError {
    GoogleError::invalid_parameter("q", "Invalid Value")
}

/// A valid query term cloudsim does not model.
fn unsupported(term: &str) -> GoogleError {
    GoogleError::invalid_parameter(
        "q",
        format!("Invalid Value: cloudsim does not support the query term '{term}'"),
    )
}

// ----- tokens ----------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    /// A quoted string, unescaped.
    Text(String),
    /// A bare word: a field, a keyword, `true`/`false`, a number.
    Word(String),
    /// `=`, `!=`, `<`, `<=`, `>`, `>=`.
    Op(&'static str),
}

/// Splits `q` into tokens; None on an unterminated string or a stray
/// character.
fn tokenize(q: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = q.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '\'' => {
                chars.next();
                tokens.push(Token::Text(quoted(&mut chars)?));
            }
            '=' => {
                chars.next();
                tokens.push(Token::Op("="));
            }
            '!' | '<' | '>' => {
                chars.next();
                let with_equal = chars.next_if_eq(&'=').is_some();
                tokens.push(Token::Op(match (c, with_equal) {
                    ('!', true) => "!=",
                    ('!', false) => return None,
                    ('<', true) => "<=",
                    ('<', false) => "<",
                    ('>', true) => ">=",
                    _ => ">",
                }));
            }
            c if is_word_char(c) => {
                let mut word = String::new();
                while let Some(c) = chars.next_if(|c| is_word_char(*c)) {
                    word.push(c);
                }
                tokens.push(Token::Word(word));
            }
            _ => return None,
        }
    }
    Some(tokens)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | ':')
}

/// The rest of a `'...'` string after its opening quote: `\'` and `\\`
/// are escapes.
fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<String> {
    let mut out = String::new();
    loop {
        match chars.next()? {
            '\\' => out.push(chars.next()?),
            '\'' => return Some(out),
            c => out.push(c),
        }
    }
}

// ----- parser ----------------------------------------------------------------

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    /// Consumes the keyword `word` (any case) if it comes next.
    fn keyword(&mut self, word: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word));
        if found {
            self.at += 1;
        }
        found
    }

    fn or(&mut self) -> Result<Query, GoogleError> {
        let mut parts = vec![self.and()?];
        while self.keyword("or") {
            parts.push(self.and()?);
        }
        Ok(flatten(parts, Query::Or))
    }

    fn and(&mut self) -> Result<Query, GoogleError> {
        let mut parts = vec![self.unary()?];
        while self.keyword("and") {
            parts.push(self.unary()?);
        }
        Ok(flatten(parts, Query::And))
    }

    fn unary(&mut self) -> Result<Query, GoogleError> {
        if self.keyword("not") {
            return Ok(Query::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Token::Open) {
            self.at += 1;
            let inner = self.or()?;
            if self.next() != Some(Token::Close) {
                return Err(invalid());
            }
            return Ok(inner);
        }
        self.term().map(Query::Term)
    }

    fn term(&mut self) -> Result<Term, GoogleError> {
        match self.next() {
            Some(Token::Text(value)) => self.membership(value),
            Some(Token::Word(field)) => {
                let op = self.operator()?;
                let value = self.next().ok_or_else(invalid)?;
                comparison(&field, op, value)
            }
            _ => Err(invalid()),
        }
    }

    /// `'value' in <collection>`.
    fn membership(&mut self, value: String) -> Result<Term, GoogleError> {
        if !self.keyword("in") {
            return Err(invalid());
        }
        match self.next() {
            Some(Token::Word(collection)) if collection == "parents" => Ok(Term::InParents(value)),
            Some(Token::Word(collection)) if KNOWN_COLLECTIONS.contains(&collection.as_str()) => {
                Err(unsupported(&collection))
            }
            _ => Err(invalid()),
        }
    }

    /// `=`, `!=`, `<`, `<=`, `>`, `>=`, `contains` or `has`.
    fn operator(&mut self) -> Result<&'static str, GoogleError> {
        match self.next() {
            Some(Token::Op(op)) => Ok(op),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("contains") => Ok("contains"),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("has") => Ok("has"),
            _ => Err(invalid()),
        }
    }
}

/// One part stays itself; several become `make(parts)`.
fn flatten(mut parts: Vec<Query>, make: fn(Vec<Query>) -> Query) -> Query {
    if parts.len() == 1 {
        parts.remove(0)
    } else {
        make(parts)
    }
}

/// Collections Drive documents for `in` besides `parents`.
const KNOWN_COLLECTIONS: &[&str] = &["owners", "writers", "readers"];

/// Fields Drive documents that cloudsim does not model.
const KNOWN_FIELDS: &[&str] = &[
    "fullText",
    "viewedByMeTime",
    "sharedWithMe",
    "properties",
    "appProperties",
    "visibility",
    "shortcutDetails.targetId",
    "memberCount",
    "organizerCount",
];

/// `field op value`, checked against what Drive allows for the field.
fn comparison(field: &str, op: &'static str, value: Token) -> Result<Term, GoogleError> {
    match field {
        "name" => Ok(Term::Name(text_op(op)?, text(value)?)),
        "mimeType" => Ok(Term::MimeType(text_op(op)?, text(value)?)),
        "trashed" => Ok(Term::Trashed(boolean(op, value)?)),
        "starred" => Ok(Term::Starred(boolean(op, value)?)),
        "modifiedTime" => Ok(Term::ModifiedTime(compare_op(op)?, date(value)?)),
        "createdTime" => Ok(Term::CreatedTime(compare_op(op)?, date(value)?)),
        other if KNOWN_FIELDS.contains(&other) => Err(unsupported(other)),
        _ => Err(invalid()),
    }
}

fn text_op(op: &str) -> Result<TextOp, GoogleError> {
    match op {
        "=" => Ok(TextOp::Equal),
        "!=" => Ok(TextOp::NotEqual),
        "contains" => Ok(TextOp::Contains),
        _ => Err(invalid()),
    }
}

fn compare_op(op: &str) -> Result<Compare, GoogleError> {
    match op {
        "<" => Ok(Compare::Less),
        "<=" => Ok(Compare::LessOrEqual),
        "=" => Ok(Compare::Equal),
        "!=" => Ok(Compare::NotEqual),
        ">" => Ok(Compare::Greater),
        ">=" => Ok(Compare::GreaterOrEqual),
        _ => Err(invalid()),
    }
}

fn text(value: Token) -> Result<String, GoogleError> {
    match value {
        Token::Text(s) => Ok(s),
        _ => Err(invalid()),
    }
}

/// `= true`, `!= false`, ... as the value the field must have.
fn boolean(op: &str, value: Token) -> Result<bool, GoogleError> {
    let value = match value {
        Token::Word(w) if w.eq_ignore_ascii_case("true") => true,
        Token::Word(w) if w.eq_ignore_ascii_case("false") => false,
        _ => return Err(invalid()),
    };
    match op {
        "=" => Ok(value),
        "!=" => Ok(!value),
        _ => Err(invalid()),
    }
}

/// An RFC 3339 date in quotes; a bare date (`'2012-06-04'`) is midnight UTC.
fn date(value: Token) -> Result<DateTime<Utc>, GoogleError> {
    let raw = text(value)?;
    if let Ok(t) = DateTime::parse_from_rfc3339(&raw) {
        return Ok(t.with_timezone(&Utc));
    }
    // Drive's default time zone is UTC: a time without an offset is UTC.
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(&raw, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(t.and_utc());
    }
    chrono::NaiveDate::parse_from_str(&raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(invalid)
}

// ----- evaluation --------------------------------------------------------------

impl Query {
    /// True when `item` matches.
    pub fn matches(&self, item: &Item) -> bool {
        match self {
            Query::And(parts) => parts.iter().all(|q| q.matches(item)),
            Query::Or(parts) => parts.iter().any(|q| q.matches(item)),
            Query::Not(inner) => !inner.matches(item),
            Query::Term(term) => term.matches(item),
        }
    }

    /// The same query with every `'ID' in parents` id passed through `f`
    /// (to resolve the `root` alias).
    pub fn map_parents(self, f: &impl Fn(&str) -> String) -> Query {
        match self {
            Query::And(parts) => Query::And(parts.into_iter().map(|q| q.map_parents(f)).collect()),
            Query::Or(parts) => Query::Or(parts.into_iter().map(|q| q.map_parents(f)).collect()),
            Query::Not(inner) => Query::Not(Box::new(inner.map_parents(f))),
            Query::Term(Term::InParents(id)) => Query::Term(Term::InParents(f(&id))),
            other => other,
        }
    }

    /// The folders every match must be a child of, when the query says so
    /// (`'a' in parents and ...`, `'a' in parents or 'b' in parents`), in
    /// the order they first appear; None when a match may be anywhere. Lets
    /// a search walk those folders only instead of whole drives.
    pub fn parent_scope(&self) -> Option<Vec<String>> {
        match self {
            Query::Term(Term::InParents(id)) => Some(vec![id.clone()]),
            Query::Term(_) | Query::Not(_) => None,
            // Any constrained part constrains the whole; take the narrowest.
            Query::And(parts) => parts
                .iter()
                .filter_map(Query::parent_scope)
                .min_by_key(Vec::len),
            // Every part must be constrained; the union of their folders.
            Query::Or(parts) => {
                let mut all: Vec<String> = Vec::new();
                for part in parts {
                    for id in part.parent_scope()? {
                        if !all.contains(&id) {
                            all.push(id);
                        }
                    }
                }
                Some(all)
            }
        }
    }
}

impl Term {
    fn matches(&self, item: &Item) -> bool {
        match self {
            Term::InParents(p) => item.parent_id.as_deref() == Some(p.as_str()),
            Term::Trashed(v) => item.trashed == *v,
            Term::Starred(v) => !*v,
            Term::Name(op, value) => text_matches(*op, &item.name, value),
            Term::MimeType(op, value) => text_matches(*op, &item.mime_type, value),
            Term::ModifiedTime(op, at) => compare(*op, item.modified, *at),
            Term::CreatedTime(op, at) => compare(*op, item.created, *at),
        }
    }
}

/// `=`/`!=` compare exactly; `contains` ignores case, as Drive's does.
fn text_matches(op: TextOp, field: &str, value: &str) -> bool {
    match op {
        TextOp::Equal => field == value,
        TextOp::NotEqual => field != value,
        TextOp::Contains => field.to_lowercase().contains(&value.to_lowercase()),
    }
}

fn compare(op: Compare, field: DateTime<Utc>, value: DateTime<Utc>) -> bool {
    match op {
        Compare::Less => field < value,
        Compare::LessOrEqual => field <= value,
        Compare::Equal => field == value,
        Compare::NotEqual => field != value,
        Compare::Greater => field > value,
        Compare::GreaterOrEqual => field >= value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(t: Term) -> Query {
        Query::Term(t)
    }

    #[test]
    fn and_chain_without_spaces_around_operators() {
        let q = parse("'abc' in parents and trashed=false and mimeType != 'x/y'").unwrap();
        assert_eq!(
            q,
            Query::And(vec![
                term(Term::InParents("abc".into())),
                term(Term::Trashed(false)),
                term(Term::MimeType(TextOp::NotEqual, "x/y".into())),
            ])
        );
    }

    #[test]
    fn rclone_folder_lookup() {
        let q = parse(
            "trashed=false and ('P' in parents) and (name='x') and \
             (mimeType='application/vnd.google-apps.folder' or mimeType='application/vnd.google-apps.shortcut')",
        )
        .unwrap();
        let Query::And(parts) = &q else {
            panic!("{q:?}")
        };
        assert_eq!(parts.len(), 4);
        assert!(matches!(&parts[3], Query::Or(or) if or.len() == 2));
        assert_eq!(q.parent_scope(), Some(vec!["P".to_string()]));
    }

    #[test]
    fn or_of_parents_scopes_to_all_of_them() {
        let q = parse("('a' in parents or 'b' in parents or 'a' in parents) and trashed=false")
            .unwrap();
        assert_eq!(
            q.parent_scope(),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        let q = parse("'a' in parents or name = 'x'").unwrap();
        assert_eq!(q.parent_scope(), None);
        let q = parse("not 'a' in parents").unwrap();
        assert_eq!(q.parent_scope(), None);
    }

    #[test]
    fn precedence_and_binds_tighter_than_or() {
        let q = parse("name = 'a' or name = 'b' and trashed = true").unwrap();
        assert_eq!(
            q,
            Query::Or(vec![
                term(Term::Name(TextOp::Equal, "a".into())),
                Query::And(vec![
                    term(Term::Name(TextOp::Equal, "b".into())),
                    term(Term::Trashed(true)),
                ]),
            ])
        );
    }

    #[test]
    fn keywords_ignore_case_and_strings_keep_escapes() {
        let q = parse(r"NOT name Contains 'rock \'n\' roll and more' AND starred != TRUE").unwrap();
        assert_eq!(
            q,
            Query::And(vec![
                Query::Not(Box::new(term(Term::Name(
                    TextOp::Contains,
                    "rock 'n' roll and more".into()
                )))),
                term(Term::Starred(false)),
            ])
        );
    }

    #[test]
    fn dates_compare() {
        let q = parse("modifiedTime > '2012-06-04T12:00:00-08:00' and createdTime <= '2030-01-01'")
            .unwrap();
        let Query::And(parts) = q else { panic!() };
        let Query::Term(Term::ModifiedTime(Compare::Greater, at)) = &parts[0] else {
            panic!("{parts:?}")
        };
        assert_eq!(at.to_rfc3339(), "2012-06-04T20:00:00+00:00");
    }

    #[test]
    fn refusals() {
        for bad in [
            "",
            "name",
            "name = ",
            "name = 'unterminated",
            "name < 'a'",
            "trashed contains true",
            "trashed = 'true'",
            "modifiedTime > 'x'",
            "modifiedTime contains '2020-01-01'",
            "(name = 'a'",
            "name = 'a')",
            "name = 'a' and",
            "name = 'a' or or name = 'b'",
            "'a' in children",
            "bogus = 'a'",
            "name = 'a' ; drop",
            "name ! 'a'",
        ] {
            let err = parse(bad).expect_err(bad);
            assert_eq!(err.status, 400, "{bad}");
            assert_eq!(err.message, "Invalid Value", "{bad}");
            assert_eq!(err.location, Some(("parameter", "q".to_string())), "{bad}");
        }
        let err = parse("fullText contains 'x'").unwrap_err();
        assert!(err.message.contains("fullText"), "{}", err.message);
        let err = parse("'me' in owners").unwrap_err();
        assert!(err.message.contains("owners"), "{}", err.message);
    }
}
