//! Feeds arbitrary bytes to the parser, the SQL builder and the sort parser: nothing may panic,
//! and every parsed tree must print to source that parses back to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pocketbun_filter::*;

struct AnyResolver;

impl FieldResolver for AnyResolver {
    fn resolve(&mut self, ident: &str, params: &mut Params) -> Result<Resolved, FilterError> {
        let h = ident
            .bytes()
            .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
        let local = params.reserve();
        let mm = MultiMatch {
            target_alias: "`t`".into(),
            from_table: "`t`".into(),
            from_alias: "`__mm_t`".into(),
            value: "`__mm_je`.`value`".into(),
            joins: vec![MultiMatchJoin {
                table: format!("json_each({local})"),
                alias: "`__mm_je`".into(),
                on: None,
            }],
            params: vec![(local, SqlValue::Text("[1]".into()))],
        };
        Ok(match h % 8 {
            0 => return Err(FilterError::invalid("unknown field")),
            1 => Resolved::sql("`t`.`a`"),
            2 => Resolved::sql("JSON_EXTRACT(`t`.`j`, '$.x')")
                .with_null_fallback(NullFallback::Disabled),
            3 => Resolved::value(params, ident),
            4 => Resolved::value(params, ""),
            5 => Resolved::sql("`t`.`b`").with_multi_match(mm),
            6 => Resolved::sql("NULL").with_after_build(|s| format!("NOT ({s})")),
            _ => Resolved::value(params, 1.5)
                .with_null_fallback(NullFallback::Enforced)
                .with_multi_match(mm),
        })
    }
}


fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(expr) = parse_with(src, &ParseOptions::without_length_limit()) {
        let printed = expr.to_string();
        match parse_with(&printed, &ParseOptions::without_length_limit()) {
            Ok(again) => assert_eq!(
                again.without_positions(),
                expr.without_positions(),
                "round trip of {src:?} via {printed:?}"
            ),
            Err(e) => panic!("printed form of {src:?} does not parse: {printed:?}: {e}"),
        }
        let mut params = Params::new();
        if let Ok(sql) = build_where(
            &expr,
            &mut AnyResolver,
            &mut params,
            &BuildOptions::default(),
        ) {
            assert_eq!(
                params.used_in(&sql).len(),
                params.len(),
                "unreferenced values for {src:?}: {sql}"
            );
        }
    }
    let _ = parse(src);
    if let Ok(fields) = parse_sort(src) {
        let _ = build_order_by(&fields, &mut AnyResolver, &mut Params::new());
    }
});
