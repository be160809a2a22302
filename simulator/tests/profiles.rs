//! Version profiles: every shipped profile loads, resolves and validates against
//! the JSON Schema; every kind of bad file gets a precise error.

use std::path::Path;

use simulator::profile::{self, PagingParam, ProfileLoader, validate_against_schema};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

#[test]
fn every_shipped_profile_loads_and_matches_the_schema() {
    let dir = repo().join("profiles/versions");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if let Err(errors) = validate_against_schema(&text) {
            panic!(
                "{} violates the schema:\n{}",
                path.display(),
                errors.join("\n")
            );
        }
        let p = ProfileLoader::default().load_file(&path).unwrap();
        assert!(p.inherits.is_none(), "inheritance is resolved away");
        names.push(p.name);
    }
    names.sort();
    let mut builtin: Vec<String> = profile::builtin_names().map(String::from).collect();
    builtin.sort();
    assert_eq!(
        names, builtin,
        "every file in profiles/versions is embedded, and only those"
    );
}

#[test]
fn embedded_profiles_equal_the_files() {
    for (name, file, text) in profile::BUILTIN {
        let on_disk = std::fs::read_to_string(repo().join(file)).unwrap();
        assert_eq!(&on_disk, text, "{name}");
    }
}

#[test]
fn inheritance_resolves_the_version_differences() {
    let l = ProfileLoader::default();
    let v590 = l.load("nge-5.9.0").unwrap();
    let v592 = l.load("nge-5.9.2").unwrap();
    let office = l.load("nge-office").unwrap();
    assert!(!v590.enterprise.eal);
    assert!(v592.enterprise.eal);
    assert_eq!(v590.hl7.version, "2.3");
    assert_eq!(v592.hl7.version, "2.5.1");
    // Inherited from nge-base through nge-5.9.0.
    assert_eq!(v592.fhir.paging_param, PagingParam::MaxResults);
    assert_eq!(v592.fhir.resources.len(), v590.fhir.resources.len());
    assert!(
        v592.fhir.resources["Observation"]
            .search_params
            .contains(&"_maxresults".to_string())
    );
    assert_eq!(office.fhir.paging_param, PagingParam::Count);
    assert_eq!(office.fhir.base_path, "/api/fhir/r4");
    assert!(
        office.smart.scopes_supported.is_none(),
        "Office advertises no scopes_supported"
    );
    assert!(!office.enterprise.enabled);
    assert_eq!(office.rate_limits.fhir.as_ref().unwrap().requests, 20);
    assert!(!office.fhir.resources.contains_key("Appointment"));
    assert!(!v592.fhir.resources.contains_key("Appointment"));
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Error text with the temporary directory replaced, for stable snapshots.
fn load_err(dir: &Path, file: &Path) -> String {
    let e = ProfileLoader::default()
        .load_file(file)
        .unwrap_err()
        .to_string();
    e.replace(&dir.display().to_string(), "<dir>")
}

#[test]
fn bad_files_get_precise_errors() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let cases: &[(&str, &str)] = &[
        ("unknown-top-key", "name = \"x\"\nflavour = \"vanilla\"\n"),
        (
            "unknown-nested-key",
            "name = \"x\"\n\n[fhir]\nbase-path = \"/r4\"\npage-size = 10\n",
        ),
        (
            "bad-enum-value",
            "name = \"x\"\n[fhir]\npaging-param = \"_limit\"\n",
        ),
        (
            "bad-duration",
            "name = \"x\"\n[smart]\naccess-token-lifetime = \"soon\"\n",
        ),
        ("wrong-type", "name = \"x\"\n[enterprise]\neal = \"yes\"\n"),
        ("toml-syntax", "name = \"x\"\n[fhir\nbase-path = 1\n"),
        ("unknown-parent", "name = \"x\"\ninherits = \"nge-9.9.9\"\n"),
        (
            "bad-fault-kind",
            "name = \"x\"\n[[faults]]\nsurface = \"fhir\"\nkind = \"explode\"\n",
        ),
        (
            "bad-fault-field",
            "name = \"x\"\n[[faults]]\nsurface = \"fhir\"\nkind = \"latency\"\nmillis = 5\n",
        ),
        (
            "unknown-resource-key",
            "name = \"x\"\n[fhir.resources.Patient]\nsearch = [\"name\"]\n",
        ),
    ];
    for (label, text) in cases {
        let path = write(dir, &format!("{label}.toml"), text);
        insta::assert_snapshot!(format!("profile_error_{label}"), load_err(dir, &path));
    }
}

#[test]
fn inheritance_cycles_and_unknown_names_are_errors() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    write(dir, "a.toml", "name = \"a\"\ninherits = \"b\"\n");
    let b = write(dir, "b.toml", "name = \"b\"\ninherits = \"a\"\n");
    insta::assert_snapshot!("profile_error_cycle", load_err(dir, &b));
    let unknown = ProfileLoader::default()
        .load("nge-4.0")
        .unwrap_err()
        .to_string();
    insta::assert_snapshot!("profile_error_unknown_name", unknown);
}

#[test]
fn a_local_file_can_inherit_a_builtin() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "site.toml",
        "name = \"my-site\"\ninherits = \"nge-5.9.2\"\n[fhir]\ndefault-page-size = 7\n",
    );
    let prof = ProfileLoader::default().load_file(&p).unwrap();
    assert_eq!(prof.fhir.default_page_size, 7);
    assert!(prof.enterprise.eal, "inherited from nge-5.9.2");
}

#[test]
fn schema_rejects_what_the_loader_rejects() {
    for text in [
        "flavour = 1\n",
        "[fhir]\npaging-param = \"_limit\"\n",
        "[hl7]\nz-segments = [\"PID\"]\n",
        "[[faults]]\nsurface = \"fhir\"\nkind = \"status\"\n",
    ] {
        assert!(
            validate_against_schema(text).is_err(),
            "schema accepted {text:?}"
        );
    }
}
