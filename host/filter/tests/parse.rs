//! Lexer/parser tests: every token kind, escapes, quirks kept from fexpr, errors and limits.

use pocketbun_filter::*;

fn cmp(left: Operand, op: &str, right: Operand) -> (Operand, Op, Operand) {
    (left, Op::from_symbol(op).unwrap(), right)
}

fn id(s: &str) -> Operand {
    Operand::Identifier(s.to_string())
}
fn text(s: &str) -> Operand {
    Operand::Text(s.to_string())
}
fn num(n: f64) -> Operand {
    Operand::Number(n)
}

/// The single comparison of a one-item filter.
fn single(src: &str) -> (Operand, Op, Operand) {
    let expr = parse(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
    let Expr::Group(items) = expr else {
        panic!("top level is a group")
    };
    assert_eq!(items.len(), 1, "{src:?}");
    let Expr::Compare(c) = &items[0].expr else {
        panic!("{src:?}: not a comparison")
    };
    (c.left.clone(), c.op, c.right.clone())
}

fn err(src: &str) -> FilterError {
    match parse(src) {
        Ok(e) => panic!("{src:?} parsed: {e:?}"),
        Err(e) => e,
    }
}

fn assert_err(src: &str, pos: usize, contains: &str) {
    let e = err(src);
    assert_eq!(e.pos, Some(pos), "{src:?}: {e}");
    assert!(e.message.contains(contains), "{src:?}: {e}");
}

#[test]
fn identifiers() {
    for ident in [
        "a",
        "a.b.c",
        "@request.auth.id",
        "@request.body.tags:each",
        "@collection.posts:alias.title",
        "tags:length",
        "name:lower",
        "field:isset",
        "field:changed",
        "field:each",
        "_a",
        "#b",
        "a_1.b2",
        "a..b",
        "null",
        "TRUE",
        "@now",
    ] {
        assert_eq!(
            single(&format!("{ident} = 1")),
            cmp(id(ident), "=", num(1.0))
        );
        assert_eq!(
            single(&format!("1 = {ident}")),
            cmp(num(1.0), "=", id(ident))
        );
    }
}

#[test]
fn invalid_identifiers() {
    assert_err("a. = 1", 0, "invalid identifier \"a.\"");
    assert_err("x = a:", 4, "invalid identifier \"a:\"");
    assert_err("@ = 1", 0, "invalid identifier \"@\"");
    assert_err("_ = 1", 0, "invalid identifier \"_\"");
    assert_err("# = 1", 0, "invalid identifier \"#\"");
    // `@`/`#` are only allowed first; the rest is another token
    assert_err("a@b = 1", 1, "expected a sign operator");
    // non-ASCII letters are not identifier characters
    assert_err("é = 1", 0, "unexpected character");
    assert_err("aé = 1", 1, "unexpected character");
}

#[test]
fn numbers() {
    let cases = [
        ("1", 1.0),
        ("-1", -1.0),
        ("1.5", 1.5),
        ("-0.5", -0.5),
        ("-.5", -0.5),
        ("007", 7.0),
        ("0", 0.0),
        ("123456789012", 123456789012.0),
    ];
    for (lit, v) in cases {
        assert_eq!(
            single(&format!("a = {lit}")),
            cmp(id("a"), "=", num(v)),
            "{lit}"
        );
    }
    // out of range becomes 0 like Go's cast.ToFloat64
    let huge = "9".repeat(400);
    assert_eq!(single(&format!("a = {huge}")), cmp(id("a"), "=", num(0.0)));
    // `>-1` is a sign followed by a negative number
    assert_eq!(single("a>-1"), cmp(id("a"), ">", num(-1.0)));

    assert_err("a = 1.", 4, "invalid number \"1.\"");
    assert_err("a = -", 4, "invalid number \"-\"");
    assert_err("a = -1.", 4, "invalid number \"-1.\"");
    assert_err("a = 1.2.3", 7, "unexpected character '.'");
    assert_err("a = .5", 4, "unexpected character '.'");
    assert_err("a = --1", 4, "invalid number \"-\"");
    assert_err("a-1 = 1", 1, "expected a sign operator");
    assert_err("a = 1-2", 5, "expected && or ||");
    assert_err("a = 12abc", 6, "expected && or ||");
}

#[test]
fn texts_and_escapes() {
    let cases: &[(&str, &str)] = &[
        (r"'x'", "x"),
        (r#""x""#, "x"),
        (r"''", ""),
        (r#""""#, ""),
        (r"'it\'s'", "it's"),
        (r#""say \"hi\"""#, "say \"hi\""),
        (r#""it\'s""#, "it's"),
        (r#"'say "hi"'"#, "say \"hi\""),
        (r#""it's""#, "it's"),
        (r"'a\\b'", "a\\b"),
        (r"'a\\'", "a\\"),
        (r"'a\nb'", "a\nb"),
        (r"'\t\r\b\f\v\a'", "\t\r\\b\u{c}\u{b}\u{7}"),
        (r"'\x41\x7e'", "A~"),
        (r"'\u00e9\u0001'", "é\u{1}"),
        (r"'\U0001F600'", "😀"),
        (r"'\ud83d\ude00'", "😀"),
        // unknown escapes stay verbatim (LIKE escapes keep working)
        (r"'\d\%\_\/\0'", r"\d\%\_\/\0"),
        (r"'\xZZ'", r"\xZZ"),
        (r"'\u12'", r"\u12"),
        ("'raw\nnewline\ttab'", "raw\nnewline\ttab"),
        ("'héllo wörld ✓'", "héllo wörld ✓"),
        ("'(not a group)'", "(not a group)"),
        ("'a && b || c = d // x'", "a && b || c = d // x"),
    ];
    for (lit, want) in cases {
        assert_eq!(
            single(&format!("a = {lit}")),
            cmp(id("a"), "=", text(want)),
            "{lit}"
        );
    }
    // JSON.stringify output of the JS SDK's pb.filter() decodes back to the original
    let original = "a'b'c'\"\n\\ \u{1}";
    let json = "\"a'b'c'\\\"\\n\\\\ \\u0001\"";
    assert_eq!(
        single(&format!("a = {json}")),
        cmp(id("a"), "=", text(original))
    );

    assert_err("a = 'abc", 4, "invalid quoted text");
    assert_err("a = \"abc'", 4, "invalid quoted text");
    assert_err(r"a = 'abc\'", 4, "invalid quoted text");
    assert_err("a = 'ab\0c'", 4, "invalid quoted text");
}

#[test]
fn every_operator() {
    let ops = [
        ("=", OpKind::Eq, false),
        ("!=", OpKind::Neq, false),
        ("~", OpKind::Like, false),
        ("!~", OpKind::NotLike, false),
        ("<", OpKind::Lt, false),
        ("<=", OpKind::Lte, false),
        (">", OpKind::Gt, false),
        (">=", OpKind::Gte, false),
        ("?=", OpKind::Eq, true),
        ("?!=", OpKind::Neq, true),
        ("?~", OpKind::Like, true),
        ("?!~", OpKind::NotLike, true),
        ("?<", OpKind::Lt, true),
        ("?<=", OpKind::Lte, true),
        ("?>", OpKind::Gt, true),
        ("?>=", OpKind::Gte, true),
    ];
    for (sym, kind, any) in ops {
        let (_, op, _) = single(&format!("a {sym} b"));
        assert_eq!(op, Op::new(kind, any), "{sym}");
        assert_eq!(op.symbol(), sym);
        // no spaces needed
        assert_eq!(single(&format!("a{sym}'x'")).1, op);
    }
    for bad in [
        "==", "=!", "??", "<>", "=>", "!", "?", "!==", "~~", "?!", "=<",
    ] {
        assert_err(
            &format!("a {bad} b"),
            2,
            &format!("invalid sign operator {bad:?}"),
        );
    }
}

#[test]
fn joins() {
    let e = parse("a = 1 && b = 2 || c = 3").unwrap();
    let Expr::Group(items) = &e else { panic!() };
    let joins: Vec<Join> = items.iter().map(|j| j.join).collect();
    assert_eq!(joins, vec![Join::And, Join::And, Join::Or]);
    assert_err("a = 1 & b = 2", 6, "invalid join operator \"&\"");
    assert_err("a = 1 &&& b = 2", 6, "invalid join operator \"&&&\"");
    assert_err("a = 1 |& b = 2", 6, "invalid join operator \"|&\"");
    assert_err("a = 1 | b = 2", 6, "invalid join operator \"|\"");
    assert_err("&& a = 1", 0, "expected left operand");
}

#[test]
fn groups() {
    let e = parse("((a = 1) || b = 2) && (c = 3)").unwrap();
    assert_eq!(e.comparison_count(), 3);
    assert_eq!(e.depth(), 3);
    assert_eq!(e.to_string(), "((a = 1) || b = 2) && (c = 3)");

    // quoted parentheses do not count
    assert_eq!(parse("(a = ')' )").unwrap().to_string(), "(a = ')')");
    assert_eq!(
        parse("(a = '\\')(' )").unwrap().to_string(),
        "(a = '\\')(')"
    );

    assert_err("(a = 1", 0, "missing 1 closing bracket(s)");
    assert_err("x = 1 && ((a = 1)", 9, "missing 1 closing bracket(s)");
    assert_err("a = 1)", 5, "unexpected character ')'");
    assert_err("(a = 1 && b == 2)", 12, "invalid sign operator");
    assert_err("(a = ')", 5, "invalid quoted text");

    // empty groups are errors (fexpr parses the inner text on its own)
    assert_eq!(err("()").kind, ErrorKind::Empty);
    assert_eq!(err("( )").kind, ErrorKind::Empty);
    assert_eq!(err("a = 1 && ( // c\n)").kind, ErrorKind::Empty);
}

#[test]
fn group_quirks_kept_from_fexpr() {
    // a group is accepted at any parser step; a pending partial comparison is dropped
    assert_eq!(parse("a = (b = 1)").unwrap().to_string(), "(b = 1)");
    assert_eq!(
        parse("a (b = 1) && c = 2").unwrap().to_string(),
        "(b = 1) && c = 2"
    );
    // a group right after a comparison joins with the last join operator
    let e = parse("a = 1 || b = 2 (c = 3)").unwrap();
    assert_eq!(e.to_string(), "a = 1 || b = 2 || (c = 3)");
    let e = parse("(a = 1) (b = 2)").unwrap();
    assert_eq!(e.to_string(), "(a = 1) && (b = 2)");
    // a `)` inside a comment still closes the group
    assert_err("(a = 1 // note)\n)", 16, "unexpected character ')'");
    // and a quote inside a comment inside a group starts a text
    assert_err("(a = 1 // it's\n)", 12, "invalid quoted text");
}

#[test]
fn comments_and_whitespace() {
    assert_eq!(single("a = 1 // trailing"), cmp(id("a"), "=", num(1.0)));
    assert_eq!(
        parse("a = 1 // c\n && b = 2").unwrap().comparison_count(),
        2
    );
    assert_eq!(single("\t a\n=\n1 \n"), cmp(id("a"), "=", num(1.0)));
    assert_eq!(single("// lead\na = 1"), cmp(id("a"), "=", num(1.0)));
    assert_err("a = 1 / b", 6, "invalid comment");
    assert_err("a = 1\r\n", 5, "unexpected character '\\r'");
    assert_err("a = 1 ; b", 6, "unexpected character ';'");
}

#[test]
fn nul_reads_as_end_of_input() {
    assert_eq!(
        single("a = 'x'\0 && garbage (("),
        cmp(id("a"), "=", text("x"))
    );
    // after an identifier the NUL is consumed and scanning continues (fexpr behaviour)
    assert_eq!(single("a\0= 1"), cmp(id("a"), "=", num(1.0)));
    assert_eq!(err("\0a = 1").kind, ErrorKind::Empty);
    assert_err("(a = 1\0)", 0, "missing 1 closing bracket(s)");
}

#[test]
fn functions() {
    let (l, _, r) = single("geoDistance(lon, lat, 23.3, -42.7) < 5");
    assert_eq!(
        l,
        Operand::Function {
            name: "geoDistance".into(),
            args: vec![id("lon"), id("lat"), num(23.3), num(-42.7)]
        }
    );
    assert_eq!(r, num(5.0));
    let (_, _, r) = single("'2024' = strftime('%Y', created, 'start of year')");
    assert_eq!(
        r,
        Operand::Function {
            name: "strftime".into(),
            args: vec![text("%Y"), id("created"), text("start of year")]
        }
    );
    // zero args, trailing comma, comments and whitespace inside the call
    assert_eq!(
        single("f() = 1").0,
        Operand::Function {
            name: "f".into(),
            args: vec![]
        }
    );
    assert_eq!(
        single("f(1,) = 1").0,
        Operand::Function {
            name: "f".into(),
            args: vec![num(1.0)]
        }
    );
    assert_eq!(
        single("f( 1 , // one\n 'two' ) = 1").0,
        Operand::Function {
            name: "f".into(),
            args: vec![num(1.0), text("two")]
        }
    );
    // nesting up to 3 levels
    assert_eq!(
        single("f(g(h(1))) = 1").0,
        Operand::Function {
            name: "f".into(),
            args: vec![Operand::Function {
                name: "g".into(),
                args: vec![Operand::Function {
                    name: "h".into(),
                    args: vec![num(1.0)]
                }]
            }]
        }
    );
    assert!(err("f(g(h(i(1)))) = 1")
        .message
        .contains("max nested function arguments reached (max: 3)"));
    assert_err("f(,1) = 1", 2, "unexpected comma");
    assert_err("f(1 2) = 1", 4, "expected comma after the last argument");
    assert_err("f(1", 1, "invalid or incomplete function \"f\"");
    assert_err("f(() = 1", 2, "unsupported argument character '('");
    assert_err("f(a.) = 1", 2, "invalid identifier \"a.\"");
    assert_err("f(1.) = 1", 2, "invalid number");
    assert_err("f('x) = 1", 2, "invalid quoted text");
    assert_err("f(1 / 2) = 1", 4, "invalid comment");
    assert_err("a.(1) = 1", 0, "invalid function name \"a.\"");
    // a space before `(` makes it an identifier followed by a group
    assert_eq!(err("f (1) = 1").pos, Some(4));
    // groups inside groups with functions
    assert_eq!(
        parse("(f(1, ')') = 1)").unwrap().to_string(),
        "(f(1, ')') = 1)"
    );
}

#[test]
fn structural_errors() {
    assert_eq!(err("").kind, ErrorKind::Empty);
    assert_eq!(err("   ").kind, ErrorKind::Empty);
    assert_eq!(err("\n// only a comment").kind, ErrorKind::Empty);
    assert!(err("").is_empty_expression());
    for src in ["a", "a =", "a = 1 &&", "a = 1 ||", "'x'", "f(1)"] {
        let e = err(src);
        assert_eq!(e.kind, ErrorKind::Syntax, "{src}");
        assert_eq!(e.pos, Some(src.len()), "{src}");
        assert!(e.message.contains("incomplete"), "{src}: {e}");
    }
    assert_err(
        "= 1",
        0,
        "expected left operand (identifier, function, text or number), got \"=\" (sign)",
    );
    assert_err("a 1", 2, "expected a sign operator, got \"1\" (number)");
    assert_err("a = =", 4, "expected right operand");
    assert_err(
        "a = 1 b = 2",
        6,
        "expected && or ||, got \"b\" (identifier)",
    );
    assert_err("a = 1 && && b = 1", 9, "expected left operand");
    // literals on the left are fine
    assert_eq!(single("'x' = a"), cmp(text("x"), "=", id("a")));
    assert_eq!(single("1 = 1"), cmp(num(1.0), "=", num(1.0)));
}

#[test]
fn error_display_has_position() {
    let e = err("a == 1");
    assert_eq!(e.to_string(), "invalid sign operator \"==\" (at byte 2)");
}

#[test]
fn length_limit() {
    let ok = format!("a = '{}'", "x".repeat(MAX_FILTER_LENGTH - 6));
    assert_eq!(ok.len(), MAX_FILTER_LENGTH);
    assert!(parse(&ok).is_ok());
    let long = format!("a = '{}'", "x".repeat(MAX_FILTER_LENGTH - 5));
    assert_eq!(err(&long).kind, ErrorKind::TooLong);
    // multi-byte characters count as bytes, like Go's len()
    let long = format!("a = '{}'", "é".repeat(1750));
    assert_eq!(err(&long).kind, ErrorKind::TooLong);
    // rules have no length limit
    assert!(parse_with(
        &format!("a = '{}'", "x".repeat(10_000)),
        &ParseOptions::without_length_limit()
    )
    .is_ok());
}

#[test]
fn depth_limit() {
    let nest = |n: usize| format!("{}a = 1{}", "(".repeat(n), ")".repeat(n));
    let e = parse(&nest(MAX_GROUP_DEPTH - 1)).unwrap();
    assert_eq!(e.depth(), MAX_GROUP_DEPTH);
    let e = err(&nest(MAX_GROUP_DEPTH));
    assert_eq!(e.kind, ErrorKind::TooDeep);
    assert_eq!(e.pos, Some(MAX_GROUP_DEPTH - 1));
    // a pathological input without length limit is rejected, not a stack overflow
    let deep = "(".repeat(100_000);
    assert!(parse_with(&deep, &ParseOptions::without_length_limit()).is_err());
}


#[test]
fn display_round_trips() {
    for src in [
        "a = 1 && b != 'x' || (c ~ \"y\" && (d ?!~ 'it\\'s' || e >= -1.5))",
        "@request.auth.id != '' && author = @request.auth.id",
        "geoDistance(lon, lat, 1, 2) < 5 && strftime('%Y', created) = '2024'",
        "tags:each ?= 'a' || tags:length > 2",
        "a = 'back\\\\slash \\\\' && b = 'nul\\x00'",
        "a = 1 && (b = 'x\\'y' || c ?~ \"%z\")",
    ] {
        let e = parse(src).unwrap();
        let printed = e.to_string();
        assert_eq!(parse(&printed).unwrap().without_positions(), e.without_positions(), "{printed}");
    }
}

#[test]
fn positions() {
    let e = parse("x = 1 && (yy != 'z')").unwrap();
    let Expr::Group(items) = e else { panic!() };
    let Expr::Group(inner) = &items[1].expr else {
        panic!()
    };
    let Expr::Compare(c) = &inner[0].expr else {
        panic!()
    };
    assert_eq!((c.pos, c.right_pos), (10, 16));
}
