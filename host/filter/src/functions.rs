//! Filter functions: `geoDistance(lonA, latA, lonB, latB)` and
//! `strftime(format[, timeValue[, modifier…]])`, with PocketBase's argument validation.

use crate::ast::Operand;
use crate::error::FilterError;
use crate::resolver::NullFallback;
use crate::sql::{Builder, Side};

/// Names of the supported functions (case-sensitive).
pub const FUNCTIONS: [&str; 2] = ["geoDistance", "strftime"];

/// Maximum number of `strftime` arguments.
pub const MAX_STRFTIME_ARGS: usize = 10;

pub(crate) fn call(b: &mut Builder<'_>, name: &str, args: &[Operand]) -> Result<Side, FilterError> {
    match name {
        "geoDistance" => geo_distance(b, args),
        "strftime" => strftime(b, args),
        _ => Err(FilterError::invalid(format!("unknown function {name:?}"))),
    }
}

fn resolve_arg(b: &mut Builder<'_>, arg: &Operand, what: &str) -> Result<Side, FilterError> {
    let side = b
        .operand(arg)
        .map_err(|e| e.context(format_args!("{what}: ")))?;
    if side.sql.is_empty() {
        return Err(FilterError::invalid(format!(
            "{what}: empty SQL expression"
        )));
    }
    Ok(side)
}

/// Great-circle distance in km (spherical law of cosines, Earth radius 6371 km). Arguments are
/// identifiers or numbers; their multi-match/after-build parts are ignored (any-match semantics).
fn geo_distance(b: &mut Builder<'_>, args: &[Operand]) -> Result<Side, FilterError> {
    if args.len() != 4 {
        return Err(FilterError::invalid(format!(
            "[geoDistance] expected 4 arguments, got {}",
            args.len()
        )));
    }
    let mut resolved = Vec::with_capacity(4);
    for (i, arg) in args.iter().enumerate() {
        if !matches!(arg, Operand::Identifier(_) | Operand::Number(_)) {
            return Err(FilterError::invalid(format!(
                "[geoDistance] argument {i} must be an identifier or number"
            )));
        }
        resolved.push(resolve_arg(
            b,
            arg,
            &format!("[geoDistance] failed to resolve argument {i}"),
        )?);
    }
    let (lon_a, lat_a, lon_b, lat_b) = (
        &resolved[0].sql,
        &resolved[1].sql,
        &resolved[2].sql,
        &resolved[3].sql,
    );
    let sql = format!(
        "(6371 * acos(cos(radians({lat_a})) * cos(radians({lat_b})) * cos(radians({lon_b}) - radians({lon_a})) + sin(radians({lat_a})) * sin(radians({lat_b}))))"
    );
    let params = resolved.into_iter().flat_map(|s| s.params).collect();
    Ok(Side {
        params,
        null_fallback: NullFallback::Disabled,
        ..Side::plain(sql)
    })
}

/// SQLite `strftime` with PocketBase's rules: text format, optional text/identifier/number
/// time-value, text modifiers, at most 10 arguments; a multi-valued time-value keeps its
/// multi-match sub-query (with the value wrapped in the same `strftime` call).
fn strftime(b: &mut Builder<'_>, args: &[Operand]) -> Result<Side, FilterError> {
    if args.is_empty() {
        return Err(FilterError::invalid(
            "[strftime] expected at least 1 arguments, got 0",
        ));
    }
    if args.len() > MAX_STRFTIME_ARGS {
        return Err(FilterError::invalid(format!(
            "[strftime] too many arguments (max allowed {MAX_STRFTIME_ARGS}, got {})",
            args.len()
        )));
    }
    if !matches!(args[0], Operand::Text(_)) {
        return Err(FilterError::invalid(
            "[strftime] expects the first argument to be a format string",
        ));
    }
    let format = resolve_arg(b, &args[0], "[strftime] failed to resolve format argument")?;
    if args.len() == 1 {
        let sql = format!("strftime({})", format.sql);
        return Ok(Side {
            params: format.params,
            null_fallback: NullFallback::Enforced,
            ..Side::plain(sql)
        });
    }

    if !matches!(
        args[1],
        Operand::Text(_) | Operand::Identifier(_) | Operand::Number(_)
    ) {
        return Err(FilterError::invalid(
            "[strftime] expects the second argument to be of a valid time-value type",
        ));
    }
    let time_value = resolve_arg(
        b,
        &args[1],
        "[strftime] failed to resolve time-value argument",
    )?;

    let mut modifiers = Vec::with_capacity(args.len() - 2);
    for (i, arg) in args[2..].iter().enumerate() {
        if !matches!(arg, Operand::Text(_)) {
            return Err(FilterError::invalid(format!(
                "[strftime] invalid modifier argument {i} - can be only string"
            )));
        }
        modifiers.push(resolve_arg(
            b,
            arg,
            &format!("[strftime] failed to resolve modifier argument {i}"),
        )?);
    }

    let mut parts: Vec<String> = Vec::with_capacity(args.len());
    parts.push(format.sql.clone());
    parts.push(time_value.sql.clone());
    parts.extend(modifiers.iter().map(|m| m.sql.clone()));
    let sql = format!("strftime({})", parts.join(","));

    let mut params = format.params;
    params.extend(time_value.params);
    for m in modifiers {
        params.extend(m.params);
    }

    let multi_match = time_value.multi_match.map(|mut mm| {
        parts[1] = std::mem::take(&mut mm.value);
        mm.value = format!("strftime({})", parts.join(","));
        mm
    });

    Ok(Side {
        params,
        null_fallback: NullFallback::Enforced,
        multi_match,
        ..Side::plain(sql)
    })
}
