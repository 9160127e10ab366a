//! SQL produced for every operator, null handling, macros, functions and multi-match.

mod common;

use common::*;
use pocketbun_filter::*;

fn text(s: &str) -> SqlValue {
    SqlValue::Text(s.into())
}

#[test]
fn comparison_operators() {
    let cases = [
        ("a > 1", "`a` > :f0"),
        ("a >= 1", "`a` >= :f0"),
        ("a < 1", "`a` < :f0"),
        ("a <= 1", "`a` <= :f0"),
        ("a > b", "`a` > `b`"),
        ("1 < 2", ":f0 < :f1"),
    ];
    for (src, want) in cases {
        assert_eq!(sql(src), want, "{src}");
    }
    let (_, p) = build("a > 1.5").unwrap();
    assert_eq!(p.as_slice(), &[(":f0".to_string(), SqlValue::Real(1.5))]);
}

#[test]
fn any_operators_without_multi_match_are_plain() {
    let cases = [
        ("a ?= 'x'", "`a` = :f0"),
        ("a ?!= 'x'", "`a` IS NOT :f0"),
        ("a ?~ 'x'", "`a` LIKE :f0 ESCAPE '\\'"),
        ("a ?!~ 'x'", "`a` NOT LIKE :f0 ESCAPE '\\'"),
        ("a ?< 1", "`a` < :f0"),
        ("a ?<= 1", "`a` <= :f0"),
        ("a ?> 1", "`a` > :f0"),
        ("a ?>= 1", "`a` >= :f0"),
        ("a ?= b", "COALESCE(`a`, '') = COALESCE(`b`, '')"),
    ];
    for (src, want) in cases {
        assert_eq!(sql(src), want, "{src}");
    }
}

#[test]
fn equality_null_and_empty_normalisation() {
    let cases = [
        // column vs column
        ("a = b", "COALESCE(`a`, '') = COALESCE(`b`, '')"),
        ("a != b", "COALESCE(`a`, '') IS NOT COALESCE(`b`, '')"),
        // known non-empty literal
        ("a = 'x'", "`a` = :f0"),
        ("'x' = a", ":f0 = `a`"),
        ("a != 'x'", "`a` IS NOT :f0"),
        ("a = 0", "`a` = :f0"),
        ("a = true", "`a` = 1"),
        ("a != false", "`a` IS NOT 0"),
        ("a = TRUE", "`a` = 1"),
        ("a = FaLsE", "`a` = 0"),
        // empty right / left
        ("a = ''", "((`a` = '' OR `a` IS NULL))"),
        ("a != ''", "((`a` IS NOT '' AND `a` IS NOT NULL))"),
        ("a = null", "((`a` = '' OR `a` IS NULL))"),
        ("a = NULL", "((`a` = '' OR `a` IS NULL))"),
        ("a != null", "((`a` IS NOT '' AND `a` IS NOT NULL))"),
        ("'' = a", "(('' = `a` OR `a` IS NULL))"),
        ("null != a", "(('' IS NOT `a` AND `a` IS NOT NULL))"),
        ("a = \"\"", "((`a` = '' OR `a` IS NULL))"),
        // both empty
        ("null = ''", "'' = ''"),
        ("'' != null", "'' IS NOT ''"),
        ("'' = null && null != ''", "('' = '' AND '' IS NOT '')"),
        // known non-empty wins over an empty other side
        ("true = ''", "1 = ''"),
        ("'x' != null", ":f0 IS NOT ''"),
        // resolver values
        ("a = req.text", "`a` = :f0"),
        ("a = req.empty", "((`a` = '' OR `a` IS NULL))"),
        ("req.nullv = a", "(('' = `a` OR `a` IS NULL))"),
        ("req.missing = ''", "'' = ''"),
        ("req.missing != ''", "'' IS NOT ''"),
        ("req.text != ''", ":f0 IS NOT ''"),
        ("a = req.int", "`a` = :f0"),
        ("isset = true", "TRUE = 1"),
        ("req.lower = a", "LOWER(:f0) = `a`"),
        // JSON paths: no coalescing at all
        (
            "json.a = json.b",
            "JSON_EXTRACT(`json`, '$.a') IS JSON_EXTRACT(`json`, '$.b')",
        ),
        ("json.a != 'x'", "JSON_EXTRACT(`json`, '$.a') IS NOT :f0"),
        ("json.a = null", "JSON_EXTRACT(`json`, '$.a') IS NULL"),
        ("json.a = ''", "JSON_EXTRACT(`json`, '$.a') IS :f0"),
        ("a = json.b", "`a` IS JSON_EXTRACT(`json`, '$.b')"),
        // enforced fallback is never "known non-empty"
        (
            "enforced = a",
            "COALESCE(`enforced`, '') = COALESCE(`a`, '')",
        ),
        ("enforced = 'x'", "`enforced` = :f0"),
        ("enforced = ''", "((`enforced` = '' OR `enforced` IS NULL))"),
    ];
    for (src, want) in cases {
        assert_eq!(sql(src), want, "{src}");
    }
}

#[test]
fn values_folded_into_empty_strings_are_unbound() {
    for (src, want_sql, want) in [
        (
            "a = '' && b = 'x'",
            "((`a` = '' OR `a` IS NULL) AND `b` = :f1)",
            vec![(":f1", text("x"))],
        ),
        (
            "req.text != ''",
            ":f0 IS NOT ''",
            vec![(":f0", text("hello"))],
        ),
        ("'' = null", "'' = ''", vec![]),
        ("req.empty = req.nullv", "'' = ''", vec![]),
        ("'' = a", "(('' = `a` OR `a` IS NULL))", vec![]),
        // folded away both in the comparison and inside the multi-match sub-query
        ("many.x != ''", "", vec![]),
    ] {
        let (sql, params) = build(src).unwrap();
        if !want_sql.is_empty() {
            assert_eq!(sql, want_sql, "{src}");
        }
        let got: Vec<(&str, SqlValue)> = params.iter().map(|(n, v)| (n, v.clone())).collect();
        assert_eq!(got, want, "{src}");
        assert_eq!(params.used_in(&sql).len(), params.len(), "{src}");
    }
    // values bound by the resolver outside the operand (e.g. for joins) are never touched
    let mut params = Params::new();
    let keep = params.bind("join value");
    let expr = parse("a = ''").unwrap();
    build_where(&expr, &mut Mock::default(), &mut params, &opts()).unwrap();
    assert_eq!(params.get(&keep), Some(&text("join value")));
}

#[test]
fn like_operators() {
    let (s, p) = build("a ~ 'x'").unwrap();
    assert_eq!(s, "`a` LIKE :f0 ESCAPE '\\'");
    assert_eq!(p.get(":f0"), Some(&text("%x%")));

    let (s, p) = build("a !~ 'x%'").unwrap();
    assert_eq!(s, "`a` NOT LIKE :f0 ESCAPE '\\'");
    assert_eq!(p.get(":f0"), Some(&text("x%")));

    assert_eq!(sql("a ~ b"), "`a` LIKE ('%' || `b` || '%') ESCAPE '\\'");
    assert_eq!(
        sql("a !~ b"),
        "`a` NOT LIKE ('%' || `b` || '%') ESCAPE '\\'"
    );

    // a literal on the left is never wrapped
    let (s, p) = build("'x' ~ a").unwrap();
    assert_eq!(s, ":f0 LIKE ('%' || `a` || '%') ESCAPE '\\'");
    assert_eq!(p.get(":f0"), Some(&text("x")));
    let (s, _) = build("'x' !~ a").unwrap();
    assert_eq!(s, ":f0 NOT LIKE ('%' || `a` || '%') ESCAPE '\\'");

    // non-text values are wrapped as text; escapes of % and _
    for (src, want) in [
        ("a ~ 5", "%5%"),
        ("a ~ 1.5", "%1.5%"),
        ("a ~ req.int", "%5%"),
        ("a ~ ''", "%%"),
        ("a ~ '50\\%'", "%50\\%%"),
        ("a ~ 'a_b'", "%a\\_b%"),
        ("a ~ 'a\\\\b'", "%a\\\\b%"),
        ("a ~ '%%example'", "%%example"),
        ("a ~ @year", "%2024%"),
    ] {
        let (_, p) = build(src).unwrap();
        assert_eq!(p.get(":f0"), Some(&text(want)), "{src}");
    }
    // resolver SQL with params is wrapped too (PocketBase wraps every right-side param)
    let (s, p) = build("a ~ req.lower").unwrap();
    assert_eq!(s, "`a` LIKE LOWER(:f0) ESCAPE '\\'");
    assert_eq!(p.get(":f0"), Some(&text("%HeLLo%")));
}

#[test]
fn groups_and_joins() {
    let cases = [
        ("a = 1 && b = 2 || c = 3", "(`a` = :f0 AND `b` = :f1 OR `c` = :f2)"),
        ("(a = 1)", "`a` = :f0"),
        ("((a = 1))", "`a` = :f0"),
        ("((a = 1) || (b = 2)) && c = 3", "((`a` = :f0 OR `b` = :f1) AND `c` = :f2)"),
        (
            "((a > 1) || (b != 2)) && c ~ '%%example' && title = null",
            "((`a` > :f0 OR `b` IS NOT :f1) AND `c` LIKE :f2 ESCAPE '\\' AND (`title` = '' OR `title` IS NULL))",
        ),
        (
            "a=true && b != false && null = c || null != title",
            "(`a` = 1 AND `b` IS NOT 0 AND ('' = `c` OR `c` IS NULL) OR ('' IS NOT `title` AND `title` IS NOT NULL))",
        ),
        (
            "(a = b || b != c) && (b ~ 'example' || b !~ '%%abc') && 'switch1%%' ~ a && 'switch2' !~ b && c > 1 && c >= 0 && c <= 4 && 2 < 5",
            "((COALESCE(`a`, '') = COALESCE(`b`, '') OR COALESCE(`b`, '') IS NOT COALESCE(`c`, '')) AND (`b` LIKE :f0 ESCAPE '\\' OR `b` NOT LIKE :f1 ESCAPE '\\') AND :f2 LIKE ('%' || `a` || '%') ESCAPE '\\' AND :f3 NOT LIKE ('%' || `b` || '%') ESCAPE '\\' AND `c` > :f4 AND `c` >= :f5 AND `c` <= :f6 AND :f7 < :f8)",
        ),
        (
            "json.a = json.b || json.c != json.d",
            "(JSON_EXTRACT(`json`, '$.a') IS JSON_EXTRACT(`json`, '$.b') OR JSON_EXTRACT(`json`, '$.c') IS NOT JSON_EXTRACT(`json`, '$.d'))",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(sql(src), want, "{src}");
    }
}

#[test]
fn macros() {
    let cases: [(&str, SqlValue); 16] = [
        ("@now", text("2024-02-11 13:45:07.123Z")),
        ("@yesterday", text("2024-02-10 13:45:07.123Z")),
        ("@tomorrow", text("2024-02-12 13:45:07.123Z")),
        ("@second", SqlValue::Integer(7)),
        ("@minute", SqlValue::Integer(45)),
        ("@hour", SqlValue::Integer(13)),
        ("@weekday", SqlValue::Integer(0)),
        ("@day", SqlValue::Integer(11)),
        ("@month", SqlValue::Integer(2)),
        ("@year", SqlValue::Integer(2024)),
        ("@todayStart", text("2024-02-11 00:00:00.000Z")),
        ("@todayEnd", text("2024-02-11 23:59:59.999Z")),
        ("@monthStart", text("2024-02-01 00:00:00.000Z")),
        ("@monthEnd", text("2024-02-29 23:59:59.999Z")),
        ("@yearStart", text("2024-01-01 00:00:00.000Z")),
        ("@yearEnd", text("2024-12-31 23:59:59.999Z")),
    ];
    for (m, v) in cases {
        let mut r = Mock::default();
        let (s, p) = build_with(&format!("created > {m}"), &mut r).unwrap();
        assert_eq!(s, "`created` > :f0", "{m}");
        assert_eq!(p.as_slice(), &[(":f0".to_string(), v)], "{m}");
        // macros never reach the resolver
        assert_eq!(r.seen, vec!["created".to_string()]);
        let (s, _) = build(&format!("{m} = a")).unwrap();
        assert_eq!(s, ":f0 = `a`", "{m}");
    }
    // names are case-sensitive: anything else goes to the resolver
    let e = build_err("created > @NOW");
    assert!(e.message.contains("unknown field \"@NOW\""), "{e}");
}

#[test]
fn keywords_are_offered_to_the_resolver_first() {
    let mut r = Mock {
        null_is_field: true,
        ..Mock::default()
    };
    let (s, _) = build_with("a = null", &mut r).unwrap();
    assert_eq!(s, "COALESCE(`a`, '') = COALESCE(`null`, '')");
    assert_eq!(r.seen, vec!["a", "null"]);

    // a value bound by a failed resolution is dropped again
    let mut r = Mock {
        bind_then_fail: true,
        ..Mock::default()
    };
    let (s, p) = build_with("a = true && b = 'x'", &mut r).unwrap();
    assert_eq!(s, "(`a` = 1 AND `b` = :f1)");
    assert_eq!(p.as_slice(), &[(":f1".to_string(), text("x"))]);
}

#[test]
fn geo_distance() {
    let (s, p) = build("geoDistance(lon, lat, 23.3, 42.7) < 5").unwrap();
    assert_eq!(
        s,
        "(6371 * acos(cos(radians(`lat`)) * cos(radians(:f1)) * cos(radians(:f0) - radians(`lon`)) + sin(radians(`lat`)) * sin(radians(:f1)))) < :f2"
    );
    assert_eq!(p.get(":f0"), Some(&SqlValue::Real(23.3)));
    assert_eq!(p.get(":f2"), Some(&SqlValue::Real(5.0)));
    assert_eq!(
        sql("geoDistance(1,2,3,4) < 567"),
        "(6371 * acos(cos(radians(:f1)) * cos(radians(:f3)) * cos(radians(:f2) - radians(:f0)) + sin(radians(:f1)) * sin(radians(:f3)))) < :f4"
    );
    // coalescing is disabled for the function result
    assert!(sql("geoDistance(1,2,3,4) = null").ends_with(") IS NULL"));
    assert!(sql("geoDistance(lon,lat,null,@second) != 1").contains("radians(NULL)"));
    // multi-match of an argument is ignored (any-match semantics)
    assert!(!sql("geoDistance(many.x, lat, 1, 2) < 5").contains("EXISTS"));

    for (src, msg) in [
        (
            "geoDistance(1,2,3) < 5",
            "[geoDistance] expected 4 arguments, got 3",
        ),
        (
            "geoDistance(1,2,3,4,5) < 5",
            "[geoDistance] expected 4 arguments, got 5",
        ),
        (
            "geoDistance(1,'2',3,4) < 5",
            "[geoDistance] argument 1 must be an identifier or number",
        ),
        (
            "geoDistance(1,2,f(1),4) < 5",
            "[geoDistance] argument 2 must be an identifier or number",
        ),
        (
            "geoDistance(1,2,3,zzz) < 5",
            "[geoDistance] failed to resolve argument 3: unknown field \"zzz\"",
        ),
    ] {
        let e = build_err(src);
        assert!(e.message.contains(msg), "{src}: {e}");
        assert_eq!(e.pos, Some(0), "{src}");
    }
}

#[test]
fn strftime() {
    let cases = [
        ("strftime('%Y') = '2024'", "strftime(:f0) = :f1"),
        (
            "strftime('%Y', created) = '2024'",
            "strftime(:f0,`created`) = :f1",
        ),
        (
            "strftime('%Y-%m', created, 'start of month', '+1 month') != '2024-02'",
            "strftime(:f0,`created`,:f1,:f2) IS NOT :f3",
        ),
        ("strftime('%s', 1700000000) > 0", "strftime(:f0,:f1) > :f2"),
        (
            "strftime('%Y', @now) = a",
            "COALESCE(strftime(:f0,:f1), '') = COALESCE(`a`, '')",
        ),
        (
            "strftime('%Y', null) = ''",
            "((strftime(:f0,NULL) = '' OR strftime(:f0,NULL) IS NULL))",
        ),
        (
            "strftime('%Y', created) = ''",
            "((strftime(:f0,`created`) = '' OR strftime(:f0,`created`) IS NULL))",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(sql(src), want, "{src}");
    }
    let (_, p) = build("strftime('%Y', @now) = a").unwrap();
    assert_eq!(p.get(":f1"), Some(&text("2024-02-11 13:45:07.123Z")));

    let eleven = format!("strftime('%Y', created{}) = 1", ", 'x'".repeat(9));
    let ten = format!("strftime('%Y', created{}) = 1", ", 'x'".repeat(8));
    assert!(build(&ten).is_ok());
    for (src, msg) in [
        (
            "strftime() = 1",
            "[strftime] expected at least 1 arguments, got 0",
        ),
        (
            eleven.as_str(),
            "[strftime] too many arguments (max allowed 10, got 11)",
        ),
        (
            "strftime(created) = 1",
            "[strftime] expects the first argument to be a format string",
        ),
        (
            "strftime(1) = 1",
            "[strftime] expects the first argument to be a format string",
        ),
        (
            "strftime('%Y', f(1)) = 1",
            "[strftime] expects the second argument to be of a valid time-value type",
        ),
        (
            "strftime('%Y', zzz) = 1",
            "[strftime] failed to resolve time-value argument: unknown field \"zzz\"",
        ),
        (
            "strftime('%Y', created, 1) = 1",
            "[strftime] invalid modifier argument 0 - can be only string",
        ),
        (
            "strftime('%Y', created, 'a', b) = 1",
            "[strftime] invalid modifier argument 1 - can be only string",
        ),
        ("unknownFn(1) = 1", "unknown function \"unknownFn\""),
        ("STRFTIME('%Y') = 1", "unknown function \"STRFTIME\""),
    ] {
        let e = build_err(src);
        assert!(e.message.contains(msg), "{src}: {e}");
    }
}

#[test]
fn strftime_keeps_the_multi_match_of_its_time_value() {
    let s = sql("strftime('%Y', many.x) = '2024'");
    let sub = MANY_SUB.replace("`__mm_many`.`x` as", "strftime(:f0,`__mm_many`.`x`) as");
    assert_eq!(
        s,
        format!(
            "(((strftime(:f0,`many_x`) = :f1) AND (NOT EXISTS (SELECT 1 FROM ({sub}) `__smf0` WHERE NOT (`__smf0`.`multiMatchValue` = :f1)))))"
        )
    );
    assert_eq!(
        sql("strftime('%Y', many.x) ?= '2024'"),
        "strftime(:f0,`many_x`) = :f1"
    );
}

#[test]
fn multi_match_many_vs_one() {
    let not_exists =
        |w: &str| format!("NOT EXISTS (SELECT 1 FROM ({MANY_SUB}) `__smf0` WHERE {w})");
    let cases = [
        (
            "many.x = 'a'",
            format!("(((`many_x` = :f0) AND ({})))", not_exists("NOT (`__smf0`.`multiMatchValue` = :f0)")),
        ),
        (
            "'a' = many.x",
            format!("(((:f0 = `many_x`) AND ({})))", not_exists("NOT (:f0 = `__smf0`.`multiMatchValue`)")),
        ),
        (
            "many.x != 'a'",
            format!("(((`many_x` IS NOT :f0) AND ({})))", not_exists("NOT (`__smf0`.`multiMatchValue` IS NOT :f0)")),
        ),
        (
            "many.x > 3",
            format!("(((`many_x` > :f0) AND ({})))", not_exists("NOT (`__smf0`.`multiMatchValue` > :f0)")),
        ),
        (
            "many.x ~ 'a'",
            format!(
                "(((`many_x` LIKE :f0 ESCAPE '\\') AND ({})))",
                not_exists("NOT (`__smf0`.`multiMatchValue` LIKE :f0 ESCAPE '\\')")
            ),
        ),
        (
            "many.x != ''",
            format!(
                "((((`many_x` IS NOT '' AND `many_x` IS NOT NULL)) AND ({})))",
                not_exists("NOT ((`__smf0`.`multiMatchValue` IS NOT '' AND `__smf0`.`multiMatchValue` IS NOT NULL))")
            ),
        ),
        (
            "many.x = a",
            format!(
                "(((COALESCE(`many_x`, '') = COALESCE(`a`, '')) AND ({})))",
                not_exists("NOT (COALESCE(`__smf0`.`multiMatchValue`, '') = COALESCE(`a`, ''))")
            ),
        ),
        // the other operand loses its null-fallback preference inside the sub-query
        (
            "many.x = json.a",
            format!(
                "(((`many_x` IS JSON_EXTRACT(`json`, '$.a')) AND ({})))",
                not_exists("NOT (COALESCE(`__smf0`.`multiMatchValue`, '') = COALESCE(JSON_EXTRACT(`json`, '$.a'), ''))")
            ),
        ),
    ];
    for (src, want) in cases {
        assert_eq!(sql(src), want, "{src}");
    }
    // the LIKE pattern is wrapped once even though it is used twice
    let (_, p) = build("many.x ~ 'a'").unwrap();
    assert_eq!(p.as_slice(), &[(":f0".to_string(), text("%a%"))]);

    // the multi-valued side keeps its own preference
    let s = sql("mmjson = 'a'");
    assert!(
        s.contains("WHERE NOT (`__smf0`.`multiMatchValue` IS :f0)"),
        "{s}"
    );
}

#[test]
fn any_operators_skip_the_multi_match() {
    for (src, want) in [
        ("many.x ?= 'a'", "`many_x` = :f0"),
        ("many.x ?!= 'a'", "`many_x` IS NOT :f0"),
        ("many.x ?~ 'a'", "`many_x` LIKE :f0 ESCAPE '\\'"),
        ("many.x ?!~ 'a'", "`many_x` NOT LIKE :f0 ESCAPE '\\'"),
        ("many.x ?> 1", "`many_x` > :f0"),
        ("many.x ?>= 1", "`many_x` >= :f0"),
        ("many.x ?< 1", "`many_x` < :f0"),
        ("many.x ?<= 1", "`many_x` <= :f0"),
        (
            "many.x ?= many.y",
            "COALESCE(`many_x`, '') = COALESCE(`many_y`, '')",
        ),
    ] {
        assert_eq!(sql(src), want, "{src}");
    }
}

#[test]
fn multi_match_many_vs_many() {
    let l = MANY_SUB;
    let r = MANY_SUB.replace("`__mm_many`.`x` as", "`__mm_many`.`y` as");
    assert_eq!(
        sql("many.x = many.y"),
        format!(
            "(((COALESCE(`many_x`, '') = COALESCE(`many_y`, '')) AND (NOT EXISTS (SELECT 1 FROM ({l}) `__mlf0` LEFT JOIN ({r}) `__mrf1` WHERE NOT (COALESCE(`__mlf0`.`multiMatchValue`, '') = COALESCE(`__mrf1`.`multiMatchValue`, ''))))))"
        )
    );
    assert_eq!(
        sql("many.x !~ many.y"),
        format!(
            "(((`many_x` NOT LIKE ('%' || `many_y` || '%') ESCAPE '\\') AND (NOT EXISTS (SELECT 1 FROM ({l}) `__mlf0` LEFT JOIN ({r}) `__mrf1` WHERE NOT (`__mlf0`.`multiMatchValue` NOT LIKE ('%' || `__mrf1`.`multiMatchValue` || '%') ESCAPE '\\')))))"
        )
    );
}

#[test]
fn multi_match_private_params_are_bound_only_when_used() {
    let (s, p) = build("mmparam ?= 'a'").unwrap();
    assert_eq!(s, "`mmparam` = :f1");
    assert_eq!(p.as_slice(), &[(":f1".to_string(), text("a"))]);

    let (s, p) = build("mmparam = 'a'").unwrap();
    assert!(s.contains("LEFT JOIN json_each(:f0) `__mm_je`"), "{s}");
    assert_eq!(p.get(":f0"), Some(&text("[\"local\"]")));
    assert_eq!(p.used_in(&s).len(), 2);
}

#[test]
fn invalid_multi_match_is_an_error() {
    assert!(build_err("badmm = 1")
        .message
        .contains("invalid multi-match subquery"));
    assert!(build("badmm ?= 1").is_ok());
}

#[test]
fn after_build_wrappers() {
    assert_eq!(
        sql("email = 'x'"),
        "(((`email` = :f0) AND (`t`.`emailVisibility` = TRUE)))"
    );
    // left wrapper first, then the right one
    assert_eq!(
        sql("email != email"),
        "(((((COALESCE(`email`, '') IS NOT COALESCE(`email`, '')) AND (`t`.`emailVisibility` = TRUE))) AND (`t`.`emailVisibility` = TRUE)))"
    );
    // function arguments lose their wrappers (as in PocketBase)
    assert_eq!(
        sql("strftime('%Y', email) = '1'"),
        "strftime(:f0,`email`) = :f1"
    );
}

#[test]
fn resolution_errors_carry_positions() {
    let e = build_err("zzz = 1");
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(e.pos, Some(0));
    assert_eq!(
        e.message,
        "invalid left operand \"zzz\" - unknown field \"zzz\""
    );
    let e = build_err("a = 1 && (b = zzz)");
    assert_eq!(e.pos, Some(14));
    assert!(
        e.message.starts_with("invalid right operand \"zzz\""),
        "{e}"
    );
    assert!(build_err("a = emptysql")
        .message
        .contains("failed to resolve field \"emptysql\""));
    assert!(build_err("a = unbound")
        .message
        .contains("unbound parameter \":nope\""));
}

#[test]
fn expression_limit() {
    let filter = |n: usize| vec!["a = 1"; n].join(" && ");
    assert!(build(&filter(MAX_EXPRESSIONS)).is_ok());
    let e = build_err(&filter(MAX_EXPRESSIONS + 1));
    assert_eq!(e.kind, ErrorKind::TooManyExpressions);
    assert_eq!(e.pos, Some(MAX_EXPRESSIONS * 9));

    // counted across groups, like PocketBase's scenarios
    let expr = parse("(1=1 || 1=1) && (1=1 || (1=1 || 1=1)) && (1=1)").unwrap();
    for (limit, ok) in [(6, true), (5, false)] {
        let mut o = opts();
        o.max_expressions = limit;
        let r = build_where(&expr, &mut Mock::default(), &mut Params::new(), &o);
        assert_eq!(r.is_ok(), ok, "limit {limit}");
    }
    // errors are reported in source order: the unknown field comes before the limit
    let mut o = opts();
    o.max_expressions = 1;
    let e = build_where(
        &parse("zzz = 1 && a = 1").unwrap(),
        &mut Mock::default(),
        &mut Params::new(),
        &o,
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
}

#[test]
fn shared_parameter_bag() {
    let mut params = Params::with_prefix("p", 7);
    let mut r = Mock::default();
    let a = build_where(&parse("a = 'x'").unwrap(), &mut r, &mut params, &opts()).unwrap();
    let b = build_where(
        &parse("many.x = 'y'").unwrap(),
        &mut r,
        &mut params,
        &opts(),
    )
    .unwrap();
    assert_eq!(a, "`a` = :p7");
    assert!(b.starts_with("(((`many_x` = :p8) AND (NOT EXISTS"), "{b}");
    assert!(b.contains("`__smp0`"), "{b}");
    assert_eq!(params.next_index(), 9);
}

#[test]
fn programmatic_trees() {
    let c = Comparison {
        left: Operand::Identifier("a".into()),
        op: Op::new(OpKind::Eq, false),
        right: Operand::Text("".into()),
        pos: 0,
        right_pos: 0,
    };
    let mut p = Params::new();
    let s = build_where(
        &Expr::Compare(c.clone()),
        &mut Mock::default(),
        &mut p,
        &opts(),
    )
    .unwrap();
    assert_eq!(s, "((`a` = '' OR `a` IS NULL))");

    let e = build_where(&Expr::Group(vec![]), &mut Mock::default(), &mut p, &opts()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Empty);

    let mut deep = Expr::Compare(c);
    for _ in 0..(MAX_GROUP_DEPTH + 5) {
        deep = Expr::Group(vec![Joined {
            join: Join::And,
            expr: deep,
        }]);
    }
    let e = build_where(&deep, &mut Mock::default(), &mut p, &opts()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooDeep);
}

#[test]
fn build_filter_helper() {
    let mut p = Params::new();
    let s = build_filter(
        "a = 1",
        &ParseOptions::default(),
        &mut Mock::default(),
        &mut p,
        &opts(),
    )
    .unwrap();
    assert_eq!(s, "`a` = :f0");
}

#[test]
fn sort_parsing() {
    let f = |name: &str, d: SortDirection| SortField {
        name: name.into(),
        direction: d,
    };
    assert_eq!(
        parse_sort("-a,+b,c").unwrap(),
        vec![
            f("a", SortDirection::Desc),
            f("b", SortDirection::Asc),
            f("c", SortDirection::Asc)
        ]
    );
    assert_eq!(
        parse_sort(" -a , b ").unwrap(),
        vec![f("a", SortDirection::Desc), f("b", SortDirection::Asc)]
    );
    assert_eq!(parse_sort("").unwrap(), vec![]);
    assert_eq!(
        parse_sort("--a").unwrap(),
        vec![f("-a", SortDirection::Desc)]
    );
    assert_eq!(parse_sort("a,,").unwrap().len(), 3);
    assert_eq!(parse_sort_unchecked(""), vec![f("", SortDirection::Asc)]);

    assert_eq!(parse_sort(&["a"; 8].join(",")).unwrap().len(), 8);
    assert_eq!(
        parse_sort(&["a"; 9].join(",")).unwrap_err().kind,
        ErrorKind::SortLimit
    );
    assert!(parse_sort(&format!("-{}", "a".repeat(255))).is_ok());
    assert_eq!(
        parse_sort(&format!("-{}", "a".repeat(256)))
            .unwrap_err()
            .kind,
        ErrorKind::SortLimit
    );
    assert_eq!(f("a", SortDirection::Desc).to_string(), "-a");
}

#[test]
fn sort_building() {
    let mut r = Mock::default();
    let mut p = Params::new();
    let fields = parse_sort("-a,b,@random,-@rowid,json.x").unwrap();
    assert_eq!(
        build_order_by(&fields, &mut r, &mut p).unwrap(),
        "`a` DESC, `b` ASC, RANDOM(), `t`._rowid_ DESC, JSON_EXTRACT(`json`, '$.x') ASC"
    );
    assert!(p.is_empty());
    assert_eq!(build_order_by(&[], &mut r, &mut p).unwrap(), "");

    struct Plain;
    impl FieldResolver for Plain {
        fn resolve(&mut self, _: &str, _: &mut Params) -> Result<Resolved, FilterError> {
            Err(FilterError::invalid("nope"))
        }
    }
    assert_eq!(
        build_order_by(&parse_sort("@rowid").unwrap(), &mut Plain, &mut p).unwrap(),
        "_rowid_ ASC"
    );

    for bad in [
        "req.text",
        "req.missing",
        "zzz",
        "emptysql",
        "",
        "@now",
        "null",
    ] {
        let field = SortField {
            name: bad.into(),
            direction: SortDirection::Asc,
        };
        let e = build_sort_field(&field, &mut r, &mut p).unwrap_err();
        assert_eq!(e.message, format!("invalid sort field {bad:?}"));
        assert!(
            p.is_empty(),
            "{bad}: values of a rejected sort field are dropped"
        );
    }
}
