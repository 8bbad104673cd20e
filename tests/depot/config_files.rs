//! cargo-leptos reads Cargo.toml, the server reads Leptos.toml: the keys they share must agree.

fn leptos_section(path: &str) -> toml::Table {
    let text = std::fs::read_to_string(path).unwrap();
    let doc: toml::Table = text.parse().unwrap();
    doc["package"]["metadata"]["leptos"]
        .as_table()
        .unwrap()
        .clone()
}

#[test]
fn leptos_toml_agrees_with_cargo_toml() {
    let cargo = leptos_section("Cargo.toml");
    let site = leptos_section("Leptos.toml");
    assert!(!site.is_empty());
    for (key, value) in &site {
        assert_eq!(
            cargo.get(key),
            Some(value),
            "Leptos.toml's {key} differs from Cargo.toml's [package.metadata.leptos]"
        );
    }
}

#[test]
fn the_server_reads_its_site_settings_from_leptos_toml() {
    let options = depot::cli::site_options().unwrap();
    let site = leptos_section("Leptos.toml");
    assert_eq!(&*options.output_name, site["output-name"].as_str().unwrap());
    assert_eq!(
        &*options.site_pkg_dir,
        site["site-pkg-dir"].as_str().unwrap()
    );
}
