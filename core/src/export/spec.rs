//! What to export: an sObject, its fields, and an optional filter.

use crate::describe::SObjectDescribe;
use crate::error::{Error, ErrorKind, Result};
use crate::query::source::RecordQuery;
use crate::soql::{BoundCondition, Condition, FieldPath, Params, SObjectName, SoqlDateTime};

/// The seed's HTTP message for an export type other than `contacts`, `deals`, `notes`, kept
/// verbatim for HTTP layers that keep the seed's contract (the Express service answers it with its
/// 400). The SDK's own error says more: [`unknown_type_message`].
pub const UNKNOWN_TYPE_MESSAGE: &str = "Please provide valid type. Example contacts and deals";

/// The message of the `UnknownExportType` error for `type_name` (quoted, escaped): it names the
/// three built-in types and says that any other sObject is exported with the fields to select
/// (issue 16: the seed's text named two types and not the raw form).
pub fn unknown_type_message(type_name: &str) -> String {
    format!(
        "unknown export type {type_name:?}: the built-in types are contacts, deals and notes; to export \
         any other sObject (Account, Invoice__c, ...), give its API name with the fields to select"
    )
}

/// An export specification: the sObject, the fields selected (validated [`FieldPath`]s, kept in
/// the order given, or every field: [`ExportSpec::all_fields`]) and an optional WHERE condition.
///
/// **Every field** (`ExportSpec::all_fields("Account")`, or `ExportSpec::custom("Account",
/// &["*"])`): the field list is read from the sObject's describe when the stream, page or file
/// export starts (one describe call, cached per client for `describe_cache_ttl`; see
/// [`crate::Client::describe`]). Compound fields and their components never both appear: the
/// components are selected (`BillingStreet`, `BillingCity`, …, `Location__Latitude__s`,
/// `Location__Longitude__s`) and the compound field itself (`BillingAddress`, `Location__c`)
/// is not, because components are what filters, CSV cells and Bulk API 2.0 can carry (Bulk API
/// 2.0 refuses compound fields [salesforce-api.md §6]); see [`SObjectDescribe::all_fields`].
/// A wide object whose SELECT would exceed the query URI limit is read in several queries joined
/// by Id (`max_query_uri_bytes`; see `query/joined.rs`), costing one query call per group.
///
/// Built-ins reproduce the seed's queries, written in canonical case:
/// - `contacts`: `SELECT Name, Account.Name, Title, Phone, Email, Owner.Alias FROM Contact`
/// - `deals`: `SELECT Name, Account.Name, Amount, CloseDate, StageName, Owner.Alias FROM Opportunity`
/// - `notes`: `SELECT Body, IsDeleted, IsPrivate, OwnerId, ParentId, Title, Owner.Alias FROM Note`
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSpec {
    type_name: Option<&'static str>,
    sobject: SObjectName,
    fields: Vec<FieldPath>,
    all_fields: bool,
    filter: Option<Condition>,
}

impl ExportSpec {
    /// A built-in type: `contacts`, `deals` or `notes` (exact, as the seed compared them).
    /// Anything else is `UnknownExportType` with [`unknown_type_message`]; no request is made
    /// (seed defect D13).
    pub fn builtin(type_name: &str) -> Result<Self> {
        let (name, sobject, fields): (&'static str, &str, &[&str]) = match type_name {
            "contacts" => (
                "contacts",
                "Contact",
                &["Name", "Account.Name", "Title", "Phone", "Email", "Owner.Alias"],
            ),
            "deals" => (
                "deals",
                "Opportunity",
                &["Name", "Account.Name", "Amount", "CloseDate", "StageName", "Owner.Alias"],
            ),
            "notes" => (
                "notes",
                "Note",
                &["Body", "IsDeleted", "IsPrivate", "OwnerId", "ParentId", "Title", "Owner.Alias"],
            ),
            _ => return Err(Error::new(ErrorKind::UnknownExportType, unknown_type_message(type_name))),
        };
        let mut spec = ExportSpec::custom(sobject, fields)?;
        spec.type_name = Some(name);
        Ok(spec)
    }

    /// Any sObject with caller-chosen fields. Every identifier is validated
    /// (`InvalidIdentifier` naming the bad one); at least one field; a field listed twice (ignoring
    /// case, as Salesforce does) is `InvalidArgument`. `["*"]` alone selects every field (see
    /// [`ExportSpec::all_fields`]); `*` beside other fields is `InvalidArgument`.
    pub fn custom<S: AsRef<str>>(sobject: &str, fields: &[S]) -> Result<Self> {
        if fields.iter().any(|f| f.as_ref().trim() == "*") {
            if fields.len() > 1 {
                return Err(Error::invalid_argument(
                    "\"*\" selects every field: list it alone, or list the fields without it",
                ));
            }
            return ExportSpec::all_fields(sobject);
        }
        let sobject = SObjectName::new(sobject)?;
        if fields.is_empty() {
            return Err(Error::invalid_argument("an export needs at least one field"));
        }
        let mut out: Vec<FieldPath> = Vec::with_capacity(fields.len());
        for f in fields {
            let f = FieldPath::new(f.as_ref())?;
            if out.iter().any(|g| g.eq_ignore_case(&f)) {
                return Err(Error::invalid_argument(format!("field {f} is listed twice")));
            }
            out.push(f);
        }
        Ok(ExportSpec { type_name: None, sobject, fields: out, all_fields: false, filter: None })
    }

    /// Every field of `sobject`, read from its describe when the export starts (see the type's
    /// docs for the compound rule). `InvalidIdentifier` for a bad sObject name.
    pub fn all_fields(sobject: &str) -> Result<Self> {
        let sobject = SObjectName::new(sobject)?;
        Ok(ExportSpec { type_name: None, sobject, fields: Vec::new(), all_fields: true, filter: None })
    }

    /// True for an every-field spec not resolved yet ([`ExportSpec::fields`] is then empty).
    pub fn is_all_fields(&self) -> bool {
        self.all_fields
    }

    /// This spec with the every-field list of `describe` (the compound rule of
    /// [`SObjectDescribe::all_fields`]); a spec with listed fields is returned as is.
    /// `InvalidArgument` when the describe is of another sObject or has no selectable field.
    pub fn with_fields_from(&self, describe: &SObjectDescribe) -> Result<ExportSpec> {
        if !self.all_fields {
            return Ok(self.clone());
        }
        if !describe.name.eq_ignore_ascii_case(self.sobject.as_str()) {
            return Err(Error::invalid_argument(format!(
                "the describe of {} cannot list the fields of {}",
                describe.name, self.sobject
            )));
        }
        let fields = describe
            .all_fields()
            .into_iter()
            .map(|f| FieldPath::new(&f.name))
            .collect::<Result<Vec<_>>>()?;
        if fields.is_empty() {
            return Err(Error::invalid_argument(format!("the describe of {} lists no selectable field", self.sobject)));
        }
        Ok(ExportSpec { fields, all_fields: false, ..self.clone() })
    }

    /// Adds a WHERE condition (validated pieces only; see [`crate::soql::Condition`]).
    pub fn with_filter(mut self, filter: Condition) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Adds a WHERE condition written as SOQL text with `:name` bind values:
    /// `spec.with_where("Industry = :ind AND CreatedDate = LAST_N_DAYS:30", &Params::new().with("ind", "Media")?)`.
    /// The text must be one condition (see [`BoundCondition::new`]: balanced, no top-level
    /// `ORDER BY` / `LIMIT` / `GROUP BY` / …; missing or unused names refused), all
    /// `InvalidArgument` before any request. It is rendered in parentheses and combined by `AND`
    /// with an earlier filter ([`ExportSpec::with_filter`] or another `with_where`), with
    /// incremental mode's `SystemModstamp >= since` and with the keyset `Id > 'last'` of streams
    /// and checkpoints, so a filtered export streams, pages, resumes and runs incrementally like
    /// any other. [`crate::Client::export_page`] caches its COUNT per filter text.
    pub fn with_where(self, soql_condition: &str, params: &Params) -> Result<ExportSpec> {
        let bound = Condition::Bound(BoundCondition::new(soql_condition, params)?);
        Ok(self.and_filter(bound))
    }

    fn and_filter(mut self, c: Condition) -> Self {
        self.filter = Some(match self.filter.take() {
            None => c,
            Some(Condition::And(mut cs)) => {
                cs.push(c);
                Condition::And(cs)
            }
            Some(prev) => Condition::And(vec![prev, c]),
        });
        self
    }

    /// The built-in type name (`contacts`, …), `None` for a custom spec.
    pub fn type_name(&self) -> Option<&'static str> {
        self.type_name
    }
    /// The sObject exported.
    pub fn sobject(&self) -> &SObjectName {
        &self.sobject
    }
    /// The fields selected, in order (empty for an every-field spec until resolved).
    pub fn fields(&self) -> &[FieldPath] {
        &self.fields
    }
    /// The WHERE condition, if any.
    pub fn filter(&self) -> Option<&Condition> {
        self.filter.as_ref()
    }

    /// What the query layer reads for this spec: its sObject, fields and filter, incrementally
    /// from `since` when given (see [`RecordQuery::new`] for the fields added).
    pub(crate) fn record_query(&self, since: Option<SoqlDateTime>) -> Result<RecordQuery> {
        if self.all_fields {
            return Err(Error::internal("an every-field export spec was not resolved from describe"));
        }
        RecordQuery::new(self.sobject.clone(), &self.fields, self.filter.clone(), since)
    }

    /// A stable text identifying the filter (for cache keys); empty without a filter.
    pub(crate) fn filter_key(&self) -> Result<String> {
        match &self.filter {
            Some(c) => c.to_soql(),
            None => Ok(String::new()),
        }
    }
}
