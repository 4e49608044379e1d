//! Rebuilds the crate when a migration changes and fingerprints the migration folder, so test
//! templates are re-created exactly when the schema they hold would differ.

use std::fs;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let migrations = Path::new("../../migrations");
    println!("cargo:rerun-if-changed=../../migrations");
    let mut files = Vec::new();
    collect(migrations, &mut files)?;
    files.sort();
    // FNV-1a over paths and contents: stable, dependency-free, and enough to tell versions apart.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let name = file.strip_prefix(migrations).unwrap_or(file);
        let bytes = name.to_string_lossy().into_owned().into_bytes();
        for byte in bytes.iter().chain(fs::read(file)?.iter()) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=CLONES_MIGRATIONS_FINGERPRINT={hash:016x}");
    Ok(())
}
