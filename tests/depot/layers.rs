//! The house in layers (README, "Layers"): every `crate::…` path in `src/` — `use` items,
//! grouped or not, and paths written inline — goes to the importer's own layer or one below
//! it; no circle runs between the modules of one layer; and outside its own directory a
//! concept is reached only through its `mod.rs` and its `service`. Reads the sources as text:
//! no database, nothing built.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lowest first. An entry is a top-level module (`"db"`), one file of a module
/// (`"auth::access"`) or that file in every concept (`"*::page"`); the most specific entry
/// wins: `a::b`, then `*::b`, then `a`.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundation",
        &[
            "lang", "i18n", "error", "domain", "href", "db", "search", "sheet", "config", "proxy",
            "scope",
        ],
    ),
    ("movement", &["movement"]),
    ("concepts", CONCEPTS),
    (
        "edge",
        &[
            "state",
            "flash",
            "extract",
            "operation",
            "origin",
            "kinds",
            "auth::access",
        ],
    ),
    (
        "pages",
        &["ui", "lines", "app", "negotiate", "*::page", "auth::admin"],
    ),
    (
        "api",
        &["*::api", "movement::api", "auth::web", "health", "openapi"],
    ),
    ("entry", &["server", "cli", "check", "demo"]),
];

/// The domain concepts: a directory each, whose files other than `mod.rs` and `service.rs`
/// are its own.
const CONCEPTS: &[&str] = &[
    "adjust",
    "auth",
    "counts",
    "events",
    "export",
    "import",
    "inbound",
    "items",
    "labels",
    "ledger",
    "locations",
    "orders",
    "outbound",
    "putaway",
    "returns",
    "scan",
    "snapshot",
    "stock",
    "transfers",
    "warehouses",
];

/// Files of a concept that every other module may use, and why.
const ALSO_PUBLIC: &[(&str, &str)] = &[
    (
        "scan::gs1",
        "the GS1 parser: items, stock, labels and the demo read carton labels",
    ),
    (
        "auth::access",
        "who asks, for every page and handler (the edge layer)",
    ),
    (
        "auth::token",
        "a token's digest, which the form-result store keys by",
    ),
    (
        "auth::known_tokens",
        "the node's memory of valid tokens, held in the app state",
    ),
];

/// Modules that name any concept's pages and handlers: they mount them.
const MOUNTERS: &[&str] = &["app", "openapi", "server", "cli", "check", "demo"];

/// Names at the crate's root that are not modules: exported macros and the generated
/// catalogue, with the module they belong to.
const ROOT_ITEMS: &[(&str, &str)] = &[("with_pool", "db"), ("with_tx", "db"), ("i18n", "lang")];

/// Known exceptions: (importing file, imported path prefix, why). Each must still be needed.
const ALLOWED: &[(&str, &str, &str)] = &[];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Module {
    top: String,
    sub: Option<String>,
}

impl Module {
    fn name(&self) -> String {
        match &self.sub {
            Some(sub) => format!("{}::{sub}", self.top),
            None => self.top.clone(),
        }
    }
}

fn layer_of(module: &Module) -> Option<usize> {
    let find = |entry: &str| LAYERS.iter().position(|(_, names)| names.contains(&entry));
    module
        .sub
        .as_ref()
        .and_then(|sub| {
            find(&format!("{}::{sub}", module.top)).or_else(|| {
                CONCEPTS
                    .contains(&module.top.as_str())
                    .then(|| find(&format!("*::{sub}")))
                    .flatten()
            })
        })
        .or_else(|| find(&module.top))
}

/// One import: where it is written and the path it names, from its first segment after
/// `crate`.
#[derive(Debug, Clone)]
struct Import {
    line: usize,
    path: Vec<String>,
}

/// `text` with comments and string and char literals blanked out (same length, newlines
/// kept), so that neither a path in a doc comment nor one in a message counts.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = chars.clone();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let blank = |out: &mut Vec<char>, from: usize, to: usize| {
        for c in &mut out[from..to.min(chars.len())] {
            if *c != '\n' {
                *c = ' ';
            }
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let before_ident = i > 0 && ident(chars[i - 1]);
        if c == '/' && next == Some('/') {
            let end = (i..chars.len())
                .find(|&j| chars[j] == '\n')
                .unwrap_or(chars.len());
            blank(&mut out, i, end);
            i = end;
        } else if c == '/' && next == Some('*') {
            let (mut depth, mut j) = (1, i + 2);
            while j < chars.len() && depth > 0 {
                if chars[j] == '/' && chars.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 2;
                } else if chars[j] == '*' && chars.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if !before_ident && (c == 'r' || (c == 'b' && next == Some('r'))) && {
            let start = if c == 'b' { i + 2 } else { i + 1 };
            let hashes = chars[start..].iter().take_while(|&&h| h == '#').count();
            chars.get(start + hashes) == Some(&'"')
        } {
            let start = if c == 'b' { i + 2 } else { i + 1 };
            let hashes = chars[start..].iter().take_while(|&&h| h == '#').count();
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let body = start + hashes + 1;
            let end = (body..chars.len())
                .find(|&j| chars[j..].starts_with(&close))
                .map_or(chars.len(), |j| j + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{…}'); anything else is a lifetime.
            let end = if next == Some('\\') {
                (i + 2..chars.len().min(i + 12)).find(|&j| chars[j] == '\'')
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(end) => {
                    blank(&mut out, i, end + 1);
                    i = end + 1;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    out.into_iter().collect()
}

/// Every `crate::…` path of `code` (already [`code_only`]): the leaves of each `use` tree and
/// the paths written inline (`crate::x::f(…)`, `$crate::…` in macros, paths in attributes).
fn imports(code: &str) -> Vec<Import> {
    let line_at = |text: &str, at: usize| text[..at].matches('\n').count() + 1;
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut found = Vec::new();
    let mut code = code.to_string();
    // `use` items first; each is then blanked so its paths are not read again.
    let mut from = 0;
    while let Some(at) = code[from..].find("use ").map(|at| at + from) {
        from = at + 4;
        if code[..at].chars().next_back().is_some_and(ident) {
            continue;
        }
        let mut depth = 0i32;
        let Some(end) = code[at..]
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                c == ';' && depth == 0
            })
            .map(|(n, _)| at + n)
        else {
            continue;
        };
        let tree: String = code[at + 4..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let tree = strip_renames(&tree).replace(' ', "");
        let tree = tree.trim_start_matches('$');
        if let Some(rest) = tree.strip_prefix("crate::") {
            for leaf in expand(rest) {
                found.push(Import {
                    line: line_at(&code, at),
                    path: leaf,
                });
            }
        }
        let blanked: String = code[at..end]
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' })
            .collect();
        code.replace_range(at..end, &blanked);
    }
    // Paths written inline.
    let mut from = 0;
    while let Some(at) = code[from..].find("crate").map(|at| at + from) {
        from = at + 5;
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| ident(c) || c == ':') {
            continue;
        }
        let rest = &code[at + 5..];
        let mut path = Vec::new();
        let mut tail = rest;
        loop {
            let trimmed = tail.trim_start();
            let Some(after) = trimmed.strip_prefix("::") else {
                break;
            };
            let after = after.trim_start();
            let name: String = after.chars().take_while(|&c| ident(c)).collect();
            if name.is_empty() {
                break;
            }
            tail = &after[name.len()..];
            path.push(name);
        }
        if !path.is_empty() {
            found.push(Import {
                line: line_at(&code, at),
                path,
            });
        }
    }
    found
}

/// `tree` without its `as name` renames.
fn strip_renames(tree: &str) -> String {
    let words: Vec<&str> = tree.split(' ').collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if words[i] == "as" && i + 1 < words.len() {
            // `as name,` or `as name}`: keep what follows the name.
            let name = words[i + 1];
            let keep: String = name
                .chars()
                .skip_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push(keep);
            i += 2;
        } else {
            out.push(words[i].to_string());
            i += 1;
        }
    }
    out.join(" ")
}

/// The leaves of a `use` tree (without its `crate::`): `a::{b, c::{d, self}}` → `a::b`,
/// `a::c::d`, `a::c`.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let mut leaves = Vec::new();
    for part in split_top(tree) {
        match part.find('{') {
            Some(open) => {
                let head: Vec<String> = part[..open]
                    .trim_end_matches("::")
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                let inner = &part[open + 1..part.len() - 1];
                for leaf in expand(inner) {
                    let mut path = head.clone();
                    path.extend(leaf.into_iter().filter(|s| s != "self"));
                    leaves.push(path);
                }
            }
            None => leaves.push(
                part.split("::")
                    .filter(|s| !s.is_empty() && *s != "*" && *s != "self")
                    .map(str::to_string)
                    .collect(),
            ),
        }
    }
    leaves.retain(|leaf| !leaf.is_empty());
    leaves
}

/// `tree` split at its top-level commas.
fn split_top(tree: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    for (n, c) in tree.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&tree[start..n]);
                start = n + 1;
            }
            _ => {}
        }
    }
    parts.push(&tree[start..]);
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file under `src/` is: `a.rs` and `a/mod.rs` are `a`, `a/b.rs` is `a::b`.
fn module_of(relative: &Path) -> Module {
    let parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Module {
        top: parts[0].clone(),
        sub: parts.get(1).filter(|s| *s != "mod").cloned(),
    }
}

#[test]
fn every_import_runs_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    files.sort();
    let modules: BTreeSet<Module> = files
        .iter()
        .map(|f| module_of(f.strip_prefix(&src).unwrap()))
        .collect();
    let tops: BTreeSet<&str> = modules.iter().map(|m| m.top.as_str()).collect();

    let mut problems = Vec::new();
    let mut counted = 0;
    let mut used_allowances = BTreeSet::new();
    // Edges between different top-level modules of one layer, for the circle check.
    let mut same_layer: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let shown = format!("src/{}", relative.display());
        let from = module_of(relative);
        if from.top == "lib" || from.top == "main" {
            continue;
        }
        let Some(from_layer) = layer_of(&from) else {
            problems.push(format!(
                "{shown}: in no layer; give it one in tests/depot/layers.rs"
            ));
            continue;
        };
        let code = code_only(&std::fs::read_to_string(file).unwrap());
        for import in imports(&code) {
            counted += 1;
            let mut path = import.path.clone();
            if let Some((_, home)) = ROOT_ITEMS.iter().find(|(name, _)| *name == path[0]) {
                path = vec![home.to_string()];
            }
            if !tops.contains(path[0].as_str()) {
                problems.push(format!(
                    "{shown}:{} crate::{}: neither a module nor a known root item",
                    import.line,
                    path.join("::")
                ));
                continue;
            }
            let target = Module {
                top: path[0].clone(),
                sub: path
                    .get(1)
                    .filter(|sub| {
                        modules.contains(&Module {
                            top: path[0].clone(),
                            sub: Some(sub.to_string()),
                        })
                    })
                    .cloned(),
            };
            let written = format!("crate::{}", import.path.join("::"));
            let allowed = ALLOWED
                .iter()
                .position(|(f, prefix, _)| *f == shown && written.starts_with(prefix));
            let mut refuse = |why: String| match allowed {
                Some(n) => {
                    used_allowances.insert(n);
                }
                None => problems.push(format!("{shown}:{} {written}: {why}", import.line)),
            };
            let Some(to_layer) = layer_of(&target) else {
                continue;
            };
            if to_layer > from_layer {
                refuse(format!(
                    "{} ({}) may not import {} ({})",
                    from.name(),
                    LAYERS[from_layer].0,
                    target.name(),
                    LAYERS[to_layer].0
                ));
                continue;
            }
            let private = CONCEPTS.contains(&target.top.as_str())
                && target.top != from.top
                && target.sub.as_ref().is_some_and(|sub| sub != "service")
                && !ALSO_PUBLIC.iter().any(|(name, _)| *name == target.name())
                && !MOUNTERS.contains(&from.top.as_str());
            if private {
                refuse(format!(
                    "{} is {}'s own; reach it through its mod.rs or its service",
                    target.name(),
                    target.top
                ));
                continue;
            }
            if to_layer == from_layer && target.top != from.top {
                let layer = LAYERS[from_layer].0;
                same_layer
                    .entry(format!("{}@{layer}", from.top))
                    .or_default()
                    .entry(format!("{}@{layer}", target.top))
                    .or_insert_with(|| format!("{shown}:{} {written}", import.line));
            }
        }
    }
    for (n, (file, prefix, _)) in ALLOWED.iter().enumerate() {
        if !used_allowances.contains(&n) {
            problems.push(format!(
                "ALLOWED ({file}, {prefix}) matches no import any more: remove it"
            ));
        }
    }
    problems.extend(circles(&same_layer));
    assert!(
        files.len() >= 100 && counted >= 1000,
        "the scan found {} files and {counted} imports: it reads less than the tree holds",
        files.len()
    );
    assert!(
        problems.is_empty(),
        "imports against the layers (README, \"Layers\"; the table is in tests/depot/layers.rs):\n{}",
        problems.join("\n")
    );
}

/// The circles of `edges` (module → module → where), one per line with an import at each hop.
fn circles(edges: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<String> {
    fn visit<'a>(
        node: &'a str,
        edges: &'a BTreeMap<String, BTreeMap<String, String>>,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
        found: &mut Vec<String>,
    ) {
        if let Some(at) = stack.iter().position(|n| *n == node) {
            let ring: Vec<&str> = stack[at..].iter().copied().chain([node]).collect();
            let hops: Vec<String> = ring
                .windows(2)
                .map(|w| format!("{} → {} ({})", w[0], w[1], edges[w[0]][w[1]]))
                .collect();
            found.push(format!("circle: {}", hops.join(", ")));
            return;
        }
        if !done.insert(node) {
            return;
        }
        stack.push(node);
        for next in edges.get(node).into_iter().flat_map(|e| e.keys()) {
            visit(next, edges, stack, done, found);
        }
        stack.pop();
    }
    let (mut found, mut done) = (Vec::new(), BTreeSet::new());
    for node in edges.keys() {
        visit(node, edges, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

#[test]
fn the_scanner_reads_what_rust_writes() {
    let code = code_only(
        "use crate::{a::{b, c as d},\n    e};\n\
         // crate::comment::x\n\
         let s = \"crate::string::x\"; let r = r#\"crate::raw::x\"#;\n\
         let q = '\"'; crate::y::z();\n\
         fn f<'a>(x: &'a str, r#ref: &str) { crate :: w :: v(x) }\n\
         mod tests { use super::*; }\n",
    );
    let paths: Vec<String> = imports(&code)
        .iter()
        .map(|i| format!("{}:{}", i.line, i.path.join("::")))
        .collect();
    assert_eq!(paths, ["1:a::b", "1:a::c", "1:e", "5:y::z", "6:w::v"]);
}
