//! Turns the translation catalogues (`locales/<language>/<page>.json`, SPEC §8) into one
//! `leptos_i18n::declare_locales!` call, included by `src/lib.rs` as the `i18n` module.
//!
//! leptos_i18n reads catalogue files itself either with `load_locales!` (deprecated in 0.6, and
//! it cannot interpolate into plain text, which attributes and error messages need) or from a
//! build script through `leptos_i18n_build`, which brings ICU's data tooling, with networking,
//! into every build. Its `declare_locales!` takes the same catalogues written inline; this script
//! writes them inline from the files, so the catalogues stay one JSON file per language and page.

use std::fmt::Write as _;
use std::path::Path;

/// The default language first.
const LANGUAGES: &[&str] = &["en", "zh-CN"];

fn main() {
    println!("cargo:rerun-if-changed=locales");
    let root = Path::new("locales");
    let mut out = String::from(
        "leptos_i18n_macro::declare_locales! {\n    path: leptos_i18n,\n    interpolate_display,\n",
    );
    let _ = writeln!(out, "    default: {:?},", LANGUAGES[0]);
    let _ = writeln!(out, "    locales: {LANGUAGES:?},");
    for language in LANGUAGES {
        let dir = root.join(language);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|entry| entry.expect("directory entry").path())
            .filter(|path| path.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        let _ = writeln!(out, "    {}: {{", language.replace('-', "_"));
        for file in files {
            println!("cargo:rerun-if-changed={}", file.display());
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            let value: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", file.display()));
            let namespace = file
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("file name");
            let _ = write!(out, "        {namespace}: ");
            write_value(&mut out, &value, &file);
            out.push_str(",\n");
        }
        out.push_str("    },\n");
    }
    out.push_str("}\n");
    let target = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("i18n.rs");
    std::fs::write(&target, out).expect("write the generated catalogue");
}

/// A catalogue value as `declare_locales!` writes it: `{ key: "text", … }`.
fn write_value(out: &mut String, value: &serde_json::Value, file: &Path) {
    match value {
        serde_json::Value::String(text) => {
            let _ = write!(out, "{text:?}");
        }
        serde_json::Value::Object(entries) => {
            out.push('{');
            for (key, value) in entries {
                let _ = write!(out, " {key}: ");
                write_value(out, value, file);
                out.push(',');
            }
            out.push_str(" }");
        }
        other => panic!(
            "{}: only texts and groups of texts, not {other}",
            file.display()
        ),
    }
}
