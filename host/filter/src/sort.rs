//! `sort` parameter: `-a,+b,c`, `@random`, `@rowid`.

use std::fmt;

use crate::error::{ErrorKind, FilterError};
use crate::params::Params;
use crate::resolver::FieldResolver;

/// PocketBase's `search.DefaultSortExprLimit`.
pub const MAX_SORT_FIELDS: usize = 8;
/// PocketBase's `search.MaxSortFieldLength` (bytes, without the `-`/`+` prefix).
pub const MAX_SORT_FIELD_LENGTH: usize = 255;

pub const RANDOM_SORT_KEY: &str = "@random";
pub const ROWID_SORT_KEY: &str = "@rowid";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortDirection {
    Asc,
    Desc,
}

impl SortDirection {
    pub fn sql(self) -> &'static str {
        match self {
            SortDirection::Asc => "ASC",
            SortDirection::Desc => "DESC",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SortField {
    pub name: String,
    pub direction: SortDirection,
}

impl fmt::Display for SortField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.direction == SortDirection::Desc {
            f.write_str("-")?;
        }
        f.write_str(&self.name)
    }
}

/// Splits a sort string without any limit check (PocketBase's `ParseSortFromString`, used as
/// is by `findRecordsByFilter`-style APIs): items are split on `,`, trimmed, a leading `-`
/// means descending and a leading `+` is dropped. Empty items are kept (they fail to build).
pub fn parse_sort_unchecked(src: &str) -> Vec<SortField> {
    src.split(',')
        .map(|item| {
            let item = item.trim();
            match item.strip_prefix('-') {
                Some(name) => SortField {
                    name: name.to_string(),
                    direction: SortDirection::Desc,
                },
                None => SortField {
                    name: item.strip_prefix('+').unwrap_or(item).to_string(),
                    direction: SortDirection::Asc,
                },
            }
        })
        .collect()
}

/// Parses a client `sort` parameter with PocketBase's limits (≤ 8 fields, each ≤ 255 bytes).
/// An empty string means "no sort".
pub fn parse_sort(src: &str) -> Result<Vec<SortField>, FilterError> {
    if src.is_empty() {
        return Ok(Vec::new());
    }
    let fields = parse_sort_unchecked(src);
    if fields.len() > MAX_SORT_FIELDS {
        return Err(FilterError::new(
            ErrorKind::SortLimit,
            None,
            format!("max sort expressions limit reached (max: {MAX_SORT_FIELDS})"),
        ));
    }
    if let Some(f) = fields.iter().find(|f| f.name.len() > MAX_SORT_FIELD_LENGTH) {
        return Err(FilterError::new(
            ErrorKind::SortLimit,
            None,
            format!(
                "max sort field length limit reached ({} > {MAX_SORT_FIELD_LENGTH} bytes)",
                f.name.len()
            ),
        ));
    }
    Ok(fields)
}

/// Builds one `ORDER BY` term: `RANDOM()` for `@random` (no direction), the resolver's rowid
/// for `@rowid`, otherwise the resolved column (no literals, parameters or `NULL` allowed).
pub fn build_sort_field(
    field: &SortField,
    resolver: &mut dyn FieldResolver,
    params: &mut Params,
) -> Result<String, FilterError> {
    if field.name == RANDOM_SORT_KEY {
        return Ok("RANDOM()".to_string());
    }
    if field.name == ROWID_SORT_KEY {
        return Ok(format!("{} {}", resolver.rowid(), field.direction.sql()));
    }
    let invalid = || FilterError::invalid(format!("invalid sort field {:?}", field.name));
    let mark = params.len();
    match resolver.resolve(&field.name, params) {
        Ok(r)
            if !r.sql.is_empty() && r.params.is_empty() && !r.sql.eq_ignore_ascii_case("null") =>
        {
            Ok(format!("{} {}", r.sql, field.direction.sql()))
        }
        _ => {
            params.truncate(mark);
            Err(invalid())
        }
    }
}

/// Builds the terms of an `ORDER BY` clause joined with `, ` (empty when `fields` is empty).
pub fn build_order_by(
    fields: &[SortField],
    resolver: &mut dyn FieldResolver,
    params: &mut Params,
) -> Result<String, FilterError> {
    let mut terms = Vec::with_capacity(fields.len());
    for f in fields {
        terms.push(build_sort_field(f, resolver, params)?);
    }
    Ok(terms.join(", "))
}
