//! Property tests: random input never panics; printed trees parse back; generated SQL is valid.

use pocketbun_filter::*;
use proptest::prelude::*;
use rusqlite::Connection;

/// Resolves every identifier, picking a shape from its text so every builder path is exercised.
struct AnyResolver;

impl FieldResolver for AnyResolver {
    fn resolve(&mut self, ident: &str, params: &mut Params) -> Result<Resolved, FilterError> {
        let h = ident
            .bytes()
            .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
        let mm = |col: &str| MultiMatch {
            target_alias: "`t`".into(),
            from_table: "`t`".into(),
            from_alias: "`__mm_t`".into(),
            value: format!("`__mm_je`.`value` || `__mm_t`.`{col}`"),
            joins: vec![MultiMatchJoin {
                table: "json_each(`__mm_t`.`c`)".into(),
                alias: "`__mm_je`".into(),
                on: None,
            }],
            params: vec![],
        };
        if ident.contains("bad") {
            return Err(FilterError::invalid("unknown field"));
        }
        Ok(match h % 9 {
            0 | 1 => Resolved::sql("`t`.`a`"),
            2 => Resolved::sql("JSON_EXTRACT(`t`.`c`, '$.x')")
                .with_null_fallback(NullFallback::Disabled),
            3 => Resolved::value(params, ident),
            4 => Resolved::value(params, ""),
            5 => Resolved::sql("`t`.`b`").with_multi_match(mm("b")),
            6 => Resolved::sql("NULL"),
            7 => Resolved::sql("`t`.`a`")
                .with_after_build(|s| format!("(({s}) AND (`t`.`b` IS NOT NULL))")),
            _ => {
                let mut m = mm("a");
                let local = params.reserve();
                m.joins.push(MultiMatchJoin {
                    table: format!("json_each({local})"),
                    alias: "`__x`".into(),
                    on: None,
                });
                m.params.push((local, SqlValue::Text("[1,2]".into())));
                Resolved::value(params, 3i64)
                    .with_null_fallback(NullFallback::Enforced)
                    .with_multi_match(m)
            }
        })
    }
}

fn build(src: &str) -> Option<(String, Params)> {
    let expr = parse(src).ok()?;
    let mut params = Params::new();
    let sql = build_where(
        &expr,
        &mut AnyResolver,
        &mut params,
        &BuildOptions::default(),
    )
    .ok()?;
    Some((sql, params))
}

const PIECES: &[&str] = &[
    "a",
    "b.c",
    "@request.auth.id",
    "@collection.x:y.z",
    "tags:each",
    "@now",
    "@todayEnd",
    "null",
    "TRUE",
    "false",
    "_",
    "@",
    "#x",
    "'x'",
    "\"y\"",
    "''",
    "'it\\'s'",
    "'\\\\'",
    "'\\u00e9'",
    "'\\x'",
    "'",
    "\"",
    "1",
    "-1",
    "1.5",
    "-.5",
    "1.",
    "-",
    "=",
    "!=",
    "~",
    "!~",
    "<",
    "<=",
    ">",
    ">=",
    "?=",
    "?!=",
    "?~",
    "?!~",
    "?<",
    "?<=",
    "?>",
    "?>=",
    "==",
    "&&",
    "||",
    "&",
    "|",
    "(",
    ")",
    "()",
    "geoDistance(",
    "strftime(",
    "f(",
    ",",
    "//",
    "// c\n",
    "\n",
    "\t",
    " ",
    "\r",
    "\0",
    "\\",
    "é",
    "%",
    "_",
    ":",
    ".",
    "@random",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..40).prop_map(|v| v.concat())
}

fn operand() -> impl Strategy<Value = Operand> {
    let leaf = prop_oneof![
        prop::sample::select(&["a", "b.c", "many", "null", "true", "@now", "@year", "x:each"][..])
            .prop_map(|s| Operand::Identifier(s.to_string())),
        any::<String>().prop_map(|s| Operand::Text(s.replace('\0', ""))),
        (-1e6f64..1e6).prop_map(Operand::Number),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        (
            prop::sample::select(&["geoDistance", "strftime", "f"][..]),
            prop::collection::vec(inner, 0..5),
        )
            .prop_map(|(n, args)| Operand::Function {
                name: n.to_string(),
                args,
            })
    })
}

/// Operands that always build: plain leaves and well-formed function calls.
fn valid_operand() -> impl Strategy<Value = Operand> {
    let ident = prop::sample::select(
        &[
            "a", "b.c", "many", "null", "true", "@now", "@year", "x:each", "q",
        ][..],
    )
    .prop_map(|s| Operand::Identifier(s.to_string()));
    let text = any::<String>().prop_map(|s| Operand::Text(s.replace('\0', "")));
    let number = (-1e6f64..1e6).prop_map(Operand::Number);
    let geo_arg = prop_oneof![ident.clone(), number.clone()];
    let time_value = prop_oneof![ident.clone(), text.clone(), number.clone()];
    prop_oneof![
        4 => ident,
        2 => text.clone(),
        2 => number,
        1 => prop::collection::vec(geo_arg, 4..=4)
            .prop_map(|args| Operand::Function { name: "geoDistance".into(), args }),
        1 => (text.clone(), prop::option::of(time_value), prop::collection::vec(text, 0..3)).prop_map(|(f, tv, mods)| {
            let mut args = vec![f];
            if let Some(tv) = tv {
                args.push(tv);
                args.extend(mods);
            }
            Operand::Function { name: "strftime".into(), args }
        }),
    ]
}

fn valid_expr() -> impl Strategy<Value = Expr> {
    let cmp = (valid_operand(), op(), valid_operand()).prop_map(|(left, op, right)| {
        Expr::Compare(Comparison {
            left,
            op,
            right,
            pos: 0,
            right_pos: 0,
        })
    });
    cmp.prop_recursive(4, 24, 4, |inner| {
        prop::collection::vec(
            (prop::sample::select(&[Join::And, Join::Or][..]), inner),
            1..4,
        )
        .prop_map(|v| {
            Expr::Group(
                v.into_iter()
                    .map(|(join, expr)| Joined { join, expr })
                    .collect(),
            )
        })
    })
}

fn op() -> impl Strategy<Value = Op> {
    (
        prop::sample::select(
            &[
                OpKind::Eq,
                OpKind::Neq,
                OpKind::Like,
                OpKind::NotLike,
                OpKind::Lt,
                OpKind::Lte,
                OpKind::Gt,
                OpKind::Gte,
            ][..],
        ),
        any::<bool>(),
    )
        .prop_map(|(k, any)| Op::new(k, any))
}

fn expr() -> impl Strategy<Value = Expr> {
    let cmp = (operand(), op(), operand()).prop_map(|(left, op, right)| {
        Expr::Compare(Comparison {
            left,
            op,
            right,
            pos: 0,
            right_pos: 0,
        })
    });
    let joined = |e: BoxedStrategy<Expr>| {
        prop::collection::vec((prop::sample::select(&[Join::And, Join::Or][..]), e), 1..4).prop_map(
            |v| {
                Expr::Group(
                    v.into_iter()
                        .enumerate()
                        .map(|(i, (j, expr))| Joined {
                            join: if i == 0 { Join::And } else { j },
                            expr,
                        })
                        .collect(),
                )
            },
        )
    };
    let leaf = cmp.boxed();
    leaf.prop_recursive(4, 24, 4, move |inner| joined(inner.boxed()).boxed())
        .prop_map(|e| match e {
            g @ Expr::Group(_) => g,
            c => Expr::Group(vec![Joined {
                join: Join::And,
                expr: c,
            }]),
        })
}


fn sqlite() -> Connection {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch("CREATE TABLE t (id TEXT, a TEXT, b NUMERIC, c JSON);")
        .unwrap();
    for name in ["acos", "cos", "sin", "radians"] {
        db.create_scalar_function(
            name,
            1,
            rusqlite::functions::FunctionFlags::SQLITE_UTF8,
            |ctx| ctx.get::<Option<f64>>(0),
        )
        .unwrap();
    }
    db
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_strings_never_panic(s in any::<String>()) {
        let _ = build(&s);
        let _ = parse_sort(&s);
    }

    #[test]
    fn token_soup_never_panics(s in soup()) {
        let _ = build(&s);
        let _ = build(&format!("({s})"));
        let _ = build(&format!("a = 1 && {s}"));
    }

    #[test]
    fn printed_trees_parse_back(e in expr()) {
        let printed = e.to_string();
        let reparsed = parse_with(&printed, &ParseOptions::without_length_limit())
            .map_err(|err| TestCaseError::fail(format!("{printed:?}: {err}")))?;
        prop_assert_eq!(reparsed.without_positions(), e.without_positions());
    }

    #[test]
    fn generated_sql_is_valid_sqlite(e in valid_expr()) {
        let mut params = Params::new();
        let sql = build_where(&e, &mut AnyResolver, &mut params, &BuildOptions::default())
            .map_err(|err| TestCaseError::fail(format!("{e}: {err}")))?;
        let full = format!("SELECT `t`.`id` FROM `t` WHERE {sql}");
        let db = sqlite();
        let mut stmt = db.prepare(&full).map_err(|err| TestCaseError::fail(format!("{err}: {full}")))?;
        let used = params.used_in(&full);
        prop_assert_eq!(stmt.parameter_count(), used.len());
        prop_assert_eq!(params.len(), used.len());
        // and it runs (on an empty table; values bound by name)
        for (name, value) in used {
            let idx = stmt.parameter_index(name).ok().flatten().ok_or_else(|| TestCaseError::fail(name.to_string()))?;
            let v = match value {
                SqlValue::Null => rusqlite::types::Value::Null,
                SqlValue::Integer(i) => rusqlite::types::Value::Integer(*i),
                SqlValue::Real(f) => rusqlite::types::Value::Real(*f),
                SqlValue::Text(t) => rusqlite::types::Value::Text(t.clone()),
            };
            stmt.raw_bind_parameter(idx, v).map_err(|err| TestCaseError::fail(err.to_string()))?;
        }
        let mut rows = stmt.raw_query();
        prop_assert!(rows.next().is_ok());
    }
}
