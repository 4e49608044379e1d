//! The enumerator is the one read across tenants: no other source file of the crate opens a
//! cross-tenant transaction or calls the enumerator's queries.

use std::path::Path;

fn sources(dir: &Path, found: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            found.push((path.display().to_string(), text));
        }
    }
}

#[test]
fn only_the_enumerator_reads_across_tenants() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    assert!(files.len() > 5);
    for (path, text) in &files {
        let enumerator = path.ends_with("service/enumerator.rs");
        let repo = path.ends_with("repo.rs");
        let opens = text.matches("cross_tenant_transaction(").count();
        let calls = text.matches("repo::active_targets(").count()
            + text.matches("repo::stuck_owners(").count()
            + text.matches("repo::unsynced_owners(").count()
            + text.matches("repo::clob_account_owners(").count();
        if enumerator {
            assert_eq!(opens, 1, "{path}");
            assert_eq!(calls, 4, "{path}");
        } else if !repo {
            assert_eq!(opens, 0, "{path} opens a cross-tenant transaction");
            assert_eq!(calls, 0, "{path} calls the enumerator's queries");
        }
    }
}
