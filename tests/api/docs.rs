//! The README and `docs/` link to files and headings that exist, so a move breaks a test.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// GitHub's anchor for a heading: lower case, spaces to `-`, punctuation but `-` and `_` gone.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code blocks).
fn anchors(text: &str) -> HashSet<String> {
    let mut in_code = false;
    let mut found = HashSet::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            found.insert(anchor(line.trim_start_matches('#')));
        }
    }
    found
}

/// Every `](target)` of a Markdown text outside code blocks.
fn links(text: &str) -> Vec<String> {
    let mut in_code = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            found.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    found
}

#[test]
fn every_link_of_the_readme_and_the_docs_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages: Vec<PathBuf> = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    assert!(pages.len() > 5, "the docs are there");
    let mut broken = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        for link in links(&text) {
            if link.starts_with("http://") || link.starts_with("https://") {
                continue;
            }
            let (file, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            if !target.exists() {
                broken.push(format!("{}: {link} (no such file)", page.display()));
                continue;
            }
            if !fragment.is_empty() {
                let target_text = std::fs::read_to_string(&target).unwrap_or_default();
                if !anchors(&target_text).contains(fragment) {
                    broken.push(format!("{}: {link} (no such heading)", page.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn headings_become_githubs_anchors() {
    assert_eq!(
        anchor(" Alerts, webhooks and live updates"),
        "alerts-webhooks-and-live-updates"
    );
    assert_eq!(anchor("The pipeline: open days"), "the-pipeline-open-days");
    assert_eq!(
        links("see [a](b.md#c) and [d](https://e)\n```\n[x](y)\n```"),
        vec!["b.md#c", "https://e"]
    );
}

/// The cells of the table row whose first cell is `key` (without backticks).
fn row<'a>(text: &'a str, key: &str) -> Option<Vec<&'a str>> {
    text.lines()
        .filter(|line| line.starts_with('|'))
        .map(|line| {
            line.trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect::<Vec<_>>()
        })
        .find(|cells| cells.first().is_some_and(|c| c.trim_matches('`') == key))
}

#[test]
fn the_catalog_table_and_the_fact_table_say_what_the_data_file_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = std::fs::read_to_string(root.join("docs/catalog.md")).unwrap();
    let collectors = std::fs::read_to_string(root.join("docs/collectors.md")).unwrap();
    let catalog = securescore::service::catalog::BuiltInCatalog::shipped().unwrap();
    for action in &catalog.actions {
        let cells = row(&table, &action.id)
            .unwrap_or_else(|| panic!("{} not in docs/catalog.md", action.id));
        let max = format!("{}", action.max_score);
        assert!(cells[1].starts_with(&max), "{}: {cells:?}", action.id);
        for path in action.rule.fact_paths() {
            assert!(cells[2].contains(path), "{}: {cells:?}", action.id);
        }
        for mapping in &action.compliance {
            let column = if mapping.framework.starts_with("CIS Microsoft 365") {
                4
            } else if mapping.framework.contains("800-53") {
                5
            } else {
                6
            };
            assert_eq!(cells[column], mapping.controls.join(", "), "{}", action.id);
        }
    }
    for fact in &catalog.facts {
        let cells = row(&collectors, &fact.path)
            .unwrap_or_else(|| panic!("{} not in docs/collectors.md", fact.path));
        assert_eq!(cells[1], fact.kind, "{}", fact.path);
        assert_eq!(cells[2], fact.definition, "{}", fact.path);
    }
}
