//! SOQL text, built safely: the only way the SDK produces a query string (seed defect D16).
//!
//! Identifiers (sObject names, field paths) cannot be quoted or escaped in SOQL, so they are
//! validated against Salesforce's naming rules and refused otherwise
//! ([`crate::ErrorKind::InvalidIdentifier`], naming the offending identifier). Literals are typed ([`SoqlValue`]): strings are escaped with
//! backslashes (SOQL has no `''` doubling), Ids are checked as 15/18 alphanumerics, dates and
//! datetimes are validated and rendered unquoted in UTC. The [`SoqlQuery`] builder only accepts
//! these validated pieces, so no caller string reaches the query text unchecked.
//!
//! Salesforce facts used here come from `salesforce-api.md` §4 (datetime formats, COUNT(), OFFSET)
//! and §8 (literal escapes, identifier rules).
//!
//! Files: `ident.rs` ([`SObjectName`], [`FieldPath`], [`SalesforceId`]), `literal.rs` (escaping,
//! [`SoqlValue`]), `temporal.rs` ([`SoqlDate`], [`SoqlDateTime`] and the calendar), `builder.rs`
//! ([`Condition`], [`LikePattern`], [`SoqlQuery`]), `bind.rs` (`:name` placeholders filled from
//! typed [`BindValue`]s: [`bind`], [`Params`]), `scan.rs` (the top-level clause scanner
//! [`SoqlScan`], [`check_condition`]) over `lex.rs` (the shared lexer: string literals, parentheses).

mod bind;
mod builder;
mod ident;
pub(crate) mod lex;
mod literal;
mod scan;
mod temporal;

pub use bind::{BindValue, Params, bind};

/// True when `soql` does not lex (an unterminated string literal, unbalanced parentheses).
pub(crate) fn lex_fails(soql: &str) -> bool {
    lex::lex(soql).is_err()
}

pub use builder::{BoundCondition, CmpOp, Condition, Direction, LikePattern, MAX_OFFSET, SoqlQuery};
pub use ident::{FieldPath, SObjectName, SalesforceId};
pub use literal::{SoqlValue, escape_like, escape_literal, quote_literal};
pub use scan::{Clause, ClauseKind, SelectItem, SelectItemKind, SoqlScan, check_condition};
pub use temporal::{SoqlDate, SoqlDateTime};
