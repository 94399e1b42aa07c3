//! Credentials given without putting them on the command line, where other users of the
//! machine can read them: from a file, or from the environment.

use std::io::Read;
use std::path::Path;

use eventgrid::core::Secret;

use crate::error::CliError;

/// A key or token file larger than this is not one (a SAS token is a few hundred bytes).
const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// clap's parser for a credential flag: the value, wrapped so that `Debug` never shows it.
pub fn secret(text: &str) -> Result<Secret, String> {
    Ok(Secret::new(text))
}

/// The credential in `path` without surrounding whitespace (so a trailing line break is fine).
/// The error names the flag and the file, never the content.
pub fn read_secret_file(flag: &str, path: &Path) -> Result<Secret, CliError> {
    let fail = |reason: String| CliError::failure(format!("{flag} {}: {reason}", path.display()));
    let file = std::fs::File::open(path).map_err(|error| fail(error.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_SECRET_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| fail(error.to_string()))?;
    if bytes.len() as u64 > MAX_SECRET_FILE_BYTES {
        return Err(fail(format!(
            "larger than {MAX_SECRET_FILE_BYTES} bytes, not a key or token"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| fail("not UTF-8 text".to_owned()))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(fail("the file is empty".to_owned()));
    }
    Ok(Secret::new(text))
}

/// The credential in the environment variable `name`; `None` when it is unset or empty.
pub fn env_secret(name: &str) -> Result<Option<Secret>, CliError> {
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => Ok(Some(Secret::new(value.trim()))),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(CliError::usage(format!("{name} is not UTF-8 text")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_trimmed_content_and_names_only_the_file() {
        let dir = std::env::temp_dir().join(format!("eventgrid-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("key");
        std::fs::write(&key, "  a2V5\n").unwrap();
        assert_eq!(
            read_secret_file("--key-file", &key).unwrap().expose(),
            "a2V5"
        );

        std::fs::write(&key, "\n").unwrap();
        let error = read_secret_file("--key-file", &key).unwrap_err();
        assert!(
            error.to_string().ends_with("key: the file is empty"),
            "{error}"
        );

        std::fs::write(&key, vec![b'k'; 70_000]).unwrap();
        let error = read_secret_file("--key-file", &key)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("larger than 65536 bytes") && !error.contains("kkk"),
            "{error}"
        );

        let missing = read_secret_file("--sas-file", &dir.join("missing")).unwrap_err();
        assert!(missing.to_string().starts_with("--sas-file "), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
