//! Reading Rust source text: the closures the guides show are cut out of the files that compile
//! them (`include_str!`), so the code a guide shows is the code its tests run.
//!
//! This is a scanner, not a parser: it knows string, character and raw string literals,
//! comments and brackets, which is all it takes to find where an expression ends.

/// The byte index where the expression starting at `start` ends: the first `,`, `;` or closing
/// bracket outside any bracket it opened (or the end of `src`).
pub(super) fn expr_end(src: &str, start: usize) -> usize {
    let b = src.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'"' => i = string_end(b, i),
            b'r' if b.get(i + 1) == Some(&b'#') || b.get(i + 1) == Some(&b'"') => {
                let ident_before = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
                if ident_before {
                    i += 1;
                    continue;
                }
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                if b.get(i + 1 + hashes) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let close = format!("\"{}", "#".repeat(hashes));
                let from = i + 2 + hashes;
                i = src[from..]
                    .find(&close)
                    .map_or(b.len(), |j| from + j + close.len());
            }
            b'\'' if b.get(i + 1) == Some(&b'\\') || b.get(i + 2) == Some(&b'\'') => {
                let from = i + 2;
                i = src[from..].find('\'').map_or(b.len(), |j| from + j + 1);
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = src[i..].find('\n').map_or(b.len(), |j| i + j + 1);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = src[i..].find("*/").map_or(b.len(), |j| i + j + 2);
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b')' | b']' | b'}' if depth == 0 => return i,
            b')' | b']' | b'}' => {
                depth -= 1;
                i += 1;
            }
            b',' | b';' if depth == 0 => return i,
            _ => i += 1,
        }
    }
    b.len()
}

/// The index just past the string literal that opens at `i`.
fn string_end(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The index just past `marker`, which must occur in `src` after `from`.
pub(super) fn after(src: &str, from: usize, marker: &str) -> usize {
    match src[from..].find(marker) {
        Some(i) => from + i + marker.len(),
        None => panic!("`{marker}` not found in the source text"),
    }
}

/// Skip whitespace from `i`.
fn skip_ws(src: &str, i: usize) -> usize {
    i + (src.len() - i - src[i..].trim_start().len())
}

/// The closures of the array literal `[c1, c2, ...]` whose `[` is just before `start`.
pub(super) fn closures_in_array(src: &str, start: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut i = skip_ws(src, start);
    while !src[i..].starts_with(']') {
        let end = expr_end(src, i);
        out.push(src[i..end].trim());
        i = end;
        if src[i..].starts_with(',') {
            i += 1;
        }
        i = skip_ws(src, i);
    }
    out
}

/// The `up` and the hand-written `down`, if any, of the migration under test of scenario `name`
/// in `scenarios.rs`: the `Step` passed to `Scenario::new` after the setup.
pub(super) fn scenario_step<'a>(src: &'a str, name: &str) -> (&'a str, Option<&'a str>) {
    let start = after(src, 0, &format!("pub fn {name}() -> Scenario {{"));
    let args = after(src, start, "Scenario::new(");
    let setup_end = expr_end(src, args);
    let step = skip_ws(src, setup_end + 1);
    if src[step..].starts_with("Step::up_down(") {
        let up = skip_ws(src, step + "Step::up_down(".len());
        let up_end = expr_end(src, up);
        let down = skip_ws(src, up_end + 1);
        let down_end = expr_end(src, down);
        (src[up..up_end].trim(), Some(src[down..down_end].trim()))
    } else if src[step..].starts_with("Step::up(") {
        let up = step + "Step::up(".len();
        (src[up..expr_end(src, up)].trim(), None)
    } else {
        panic!("scenario `{name}`: the migration under test is not written `Step::up(..)`")
    }
}

/// The closure of `const NAME: Step = Step::up(..)`.
pub(super) fn const_step<'a>(src: &'a str, name: &str) -> &'a str {
    let up = after(src, 0, &format!("const {name}: Step = Step::up("));
    src[up..expr_end(src, up)].trim()
}

/// The statements of a closure `|s| { ... }` or `|s| expr`, dedented, one per line as written.
pub(super) fn closure_body(closure: &str) -> String {
    let Some(rest) = closure
        .strip_prefix('|')
        .and_then(|r| r.split_once('|'))
        .map(|(_, body)| body.trim())
    else {
        panic!("not a closure: {closure}")
    };
    if let Some(block) = rest.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        return dedent(block);
    }
    // `|s| expr`: the expression as a statement.
    let mut lines = rest.lines();
    let first = lines.next().unwrap_or_default().to_string();
    let others = dedent(&lines.collect::<Vec<_>>().join("\n"));
    let mut out = first;
    for line in others.lines() {
        out.push_str("\n    ");
        out.push_str(line);
    }
    out.push(';');
    out
}

/// `text` without its leading and trailing blank lines and the indentation all its lines share.
pub(super) fn dedent(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let first = lines.iter().position(|l| !l.trim().is_empty());
    let last = lines.iter().rposition(|l| !l.trim().is_empty());
    let (Some(first), Some(last)) = (first, last) else {
        return String::new();
    };
    let lines = &lines[first..=last];
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `body` as the method `fn name(&self, s: &mut Schema)`.
pub(super) fn method(name: &str, body: &str) -> String {
    let mut out = format!("fn {name}(&self, s: &mut Schema) {{\n");
    for line in body.lines() {
        if !line.is_empty() {
            out.push_str("    ");
            out.push_str(line);
        }
        out.push('\n');
    }
    out.push_str("}\n");
    out
}

#[test]
fn closures_are_cut_where_they_end() {
    let src = r#"[|s| s.f("a, b)", [1, 2]), |s| {
        // a comment (with a bracket
        s.g('}');
    }]"#;
    let list = closures_in_array(src, 1);
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(closure_body(list[0]), r#"s.f("a, b)", [1, 2]);"#);
    assert_eq!(
        closure_body(list[1]),
        "// a comment (with a bracket\ns.g('}');"
    );
}
