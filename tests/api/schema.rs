//! `schema.graphql` is the served schema, exported by the same builder.

#[test]
fn schema_graphql_matches_the_served_schema() {
    let served = securescore::graphql::schema_sdl();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    if checked_in != served {
        std::fs::write(path, &served).expect("write schema.graphql");
        panic!("schema.graphql was out of date and has been rewritten; review and commit it");
    }
}

#[test]
fn every_type_field_and_enum_value_is_described() {
    let sdl = securescore::graphql::schema_sdl();
    let lines: Vec<&str> = sdl.lines().collect();
    let mut in_description = false;
    let mut undescribed = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim() == "\"\"\"" {
            in_description = !in_description;
            continue;
        }
        let top_level = ["type ", "enum ", "input ", "scalar "]
            .iter()
            .any(|k| line.starts_with(k));
        let member = line.starts_with('\t')
            && !line.starts_with("\t\t")
            && !line.trim_start().starts_with(')');
        let in_schema_block = lines[..i]
            .iter()
            .rev()
            .find(|l| !l.starts_with('\t'))
            .is_some_and(|l| l.starts_with("schema"));
        if in_description || in_schema_block || !(top_level || member) || line.trim().is_empty() {
            continue;
        }
        let previous = lines[..i]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim());
        if previous != Some("\"\"\"") && !line.trim_start().starts_with('"') {
            undescribed.push(line.trim().to_owned());
        }
    }
    assert!(
        undescribed.is_empty(),
        "without a description: {undescribed:#?}"
    );
}
