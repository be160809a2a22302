use super::*;

#[test]
fn builtin_scenarios_parse_and_name_known_checks() {
    for (id, text) in BUILTIN_SCENARIOS {
        let s = Scenario::parse(id, text).unwrap();
        assert_eq!(&s.id, id);
    }
}

#[test]
fn errors_name_file_line_and_key() {
    let e = Scenario::parse(
        "s.toml",
        "id = \"x\"\ntitle = \"t\"\nchecks = []\n[[steps]]\naction = \"teleport\"\n",
    )
    .unwrap_err();
    assert_eq!(e.line, 5, "the line of the bad value");
    assert_eq!(e.key.as_deref(), Some("steps[0].action"));
    assert!(e.message.contains("unknown variant `teleport`"), "{e}");

    let e = Scenario::parse(
        "s.toml",
        "id = \"x\"\ntitle = \"t\"\nchecks = [\"ack.bogus\"]\n[[steps]]\naction = \"hook\"\nname = \"sync\"\n",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "s.toml: key `checks[0]`: unknown check `ack.bogus` (see `ngsim checks list`)"
    );

    let e = Scenario::parse(
        "s.toml",
        "id = \"x\"\ntitle = \"t\"\nchecks = []\n[[steps]]\naction = \"emit-hl7\"\nmessage = \"ADT^A04\"\nvariant = \"weird\"\n",
    )
    .unwrap_err();
    // Fields inside a tagged step are buffered by serde, so the error points
    // at the step's table: still the file, line and key path.
    assert!(
        e.to_string().starts_with(
            "s.toml:4:1: key `steps[0]`: unknown variant `weird`, expected one of `valid`"
        ),
        "{e}"
    );
}

#[test]
fn shipped_scenarios_match_the_json_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("profiles/schema/scenario.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let load_schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("profiles/schema/load-scenario.schema.json")).unwrap(),
    )
    .unwrap();
    let load_validator = jsonschema::validator_for(&load_schema).unwrap();
    for entry in std::fs::read_dir(root.join("profiles/scenarios")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let value: toml::Value = toml::from_str(&text).unwrap();
        let json = serde_json::to_value(value).unwrap();
        if json.get("load").is_some() {
            // A load scenario (`ngsim load`): its own schema and loader.
            let errors: Vec<String> = load_validator
                .iter_errors(&json)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
            let id = path.file_stem().unwrap().to_str().unwrap();
            assert!(
                crate::load::scenario::BUILTIN
                    .iter()
                    .any(|(n, t)| *n == id && *t == text),
                "{id} must be embedded"
            );
            continue;
        }
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        let id = path.file_stem().unwrap().to_str().unwrap();
        assert_eq!(
            builtin_scenario(id),
            Some(text.as_str()),
            "{id} must be embedded"
        );
    }
    let bad = serde_json::json!({"id": "x", "title": "t", "checks": ["a.b"], "steps": [{"action": "hook"}]});
    assert!(!validator.is_valid(&bad));
    let both = serde_json::json!({"id": "x", "title": "t", "load": {"rate": 5, "ramp": "1..2", "messages": 3}});
    assert!(!load_validator.is_valid(&both));
    let neither = serde_json::json!({"id": "x", "title": "t", "load": {"rate": 5}});
    assert!(!load_validator.is_valid(&neither));
}

#[test]
fn a_consent_step_names_its_state() {
    let ok = Scenario::parse(
        "s.toml",
        "id = \"x\"\ntitle = \"t\"\nchecks = [\"part2.revocation-honoured\"]\n[[steps]]\naction = \"consent\"\nstate = \"revoked\"\nall = true\n",
    )
    .unwrap();
    assert!(matches!(
        ok.steps[0],
        Step::Consent {
            state: ConsentChange::Revoked,
            all: true,
            ..
        }
    ));
    let e = Scenario::parse(
        "s.toml",
        "id = \"x\"\ntitle = \"t\"\nchecks = [\"part2.revocation-honoured\"]\n[[steps]]\naction = \"consent\"\nstate = \"maybe\"\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("unknown variant `maybe`"), "{e}");
}
