//! Dead letters: an undeliverable event with the fields the service adds
//! (`deadLetterReason`, `deliveryAttempts`, `lastDeliveryOutcome`, `lastHttpStatusCode`,
//! `publishTime`, `lastDeliveryAttemptTime`), kept for the inspection API and written as the
//! service writes blobs: `{folder}/{TOPIC}/{SUBSCRIPTION}/{yyyy}/{MM}/{dd}/{HH}/{uuid}.json`, a
//! JSON array of the batch's events.

use std::path::{Component, Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// One dead-lettered event, as the inspection API lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeadLetter {
    /// The topic the event was published to.
    pub topic: String,
    /// The subscription that could not deliver it.
    pub subscription: String,
    /// The event as delivered, with the service's dead-letter fields added.
    pub event: Value,
}

impl DeadLetter {
    /// `deadLetterReason`, e.g. `MaxDeliveryAttemptsExceeded`.
    pub fn reason(&self) -> &str {
        self.event["deadLetterReason"].as_str().unwrap_or_default()
    }

    /// `deliveryAttempts`.
    pub fn delivery_attempts(&self) -> u64 {
        self.event["deliveryAttempts"].as_u64().unwrap_or_default()
    }
}

/// Why and after what an event was given up.
pub(crate) struct Verdict<'a> {
    pub reason: &'a str,
    pub attempts: u32,
    pub last_outcome: &'a str,
    pub last_status: Option<u16>,
    pub published: OffsetDateTime,
    pub last_attempt: OffsetDateTime,
}

impl Verdict<'_> {
    /// `event` with the dead-letter fields.
    pub(crate) fn mark(&self, event: &Value) -> Value {
        let mut members = match event {
            Value::Object(members) => members.clone(),
            other => Map::from_iter([("event".to_owned(), other.clone())]),
        };
        members.insert("deadLetterReason".to_owned(), self.reason.into());
        members.insert("deliveryAttempts".to_owned(), self.attempts.into());
        members.insert("lastDeliveryOutcome".to_owned(), self.last_outcome.into());
        if let Some(status) = self.last_status {
            members.insert("lastHttpStatusCode".to_owned(), status.into());
        }
        members.insert("publishTime".to_owned(), rfc3339(self.published).into());
        members.insert(
            "lastDeliveryAttemptTime".to_owned(),
            rfc3339(self.last_attempt).into(),
        );
        Value::Object(members)
    }
}

pub(crate) fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_default()
}

/// The file one dead-lettered batch goes to under `folder`.
pub(crate) fn file_path(
    folder: &Path,
    topic: &str,
    subscription: &str,
    at: OffsetDateTime,
) -> PathBuf {
    folder
        .join(topic.to_ascii_uppercase())
        .join(subscription.to_ascii_uppercase())
        .join(format!("{:04}", at.year()))
        .join(format!("{:02}", u8::from(at.month())))
        .join(format!("{:02}", at.day()))
        .join(format!("{:02}", at.hour()))
        .join(format!("{}.json", uuid::Uuid::new_v4()))
}

/// The folder a run-time request (the control API's `deadLetterFolder`) asked for, as a path
/// under `root` (absolute, chosen at start): a relative folder is taken from the root, an
/// absolute one must lie under it, and `..` is refused anywhere, since whoever reaches the
/// control API could otherwise make the emulator write files wherever it may.
pub(crate) fn confine(root: &Path, folder: &Path) -> Result<PathBuf, String> {
    let outside = || {
        format!(
            "deadLetterFolder `{}` is outside the dead-letter root {} (set at start with \
             --dead-letter-root); give a folder relative to it",
            folder.display(),
            root.display()
        )
    };
    if folder
        .components()
        .any(|component| component == Component::ParentDir)
    {
        return Err(format!(
            "deadLetterFolder `{}`: `..` is not allowed; give a folder relative to the \
             dead-letter root {}",
            folder.display(),
            root.display()
        ));
    }
    // `join` keeps an absolute (or, on Windows, drive-relative) folder as it is, so the prefix
    // check below catches both.
    let path: PathBuf = root
        .join(folder)
        .components()
        .filter(|component| *component != Component::CurDir)
        .collect();
    if !path.starts_with(root) {
        return Err(outside());
    }
    if leaves_through_a_link(root, &path) {
        return Err(format!(
            "deadLetterFolder `{}` leads out of the dead-letter root {} through a symbolic \
             link; give a folder inside it",
            folder.display(),
            root.display()
        ));
    }
    Ok(path)
}

/// Whether `path` (lexically under `root`) resolves outside `root`'s real location: its
/// deepest part that exists already is looked up with symbolic links followed (the rest will
/// be created as plain folders). A link that cannot be followed counts as leading out.
fn leaves_through_a_link(root: &Path, path: &Path) -> bool {
    let existing = path
        .ancestors()
        .find(|ancestor| ancestor.symlink_metadata().is_ok());
    match existing {
        // Nothing of the root exists yet: nothing under it can be a link.
        Some(existing) if !existing.starts_with(root) => false,
        Some(existing) => match (existing.canonicalize(), root.canonicalize()) {
            (Ok(real), Ok(real_root)) => !real.starts_with(real_root),
            _ => true,
        },
        None => false,
    }
}

/// Writes `records` (already marked) as one JSON array file. It appears whole: written beside
/// its name first, then renamed, so that a reader watching the folder never sees half a file.
pub(crate) fn write(path: &Path, records: &[Value]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let text = serde_json::to_vec_pretty(records).map_err(std::io::Error::other)?;
    let partial = path.with_extension("json.partial");
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn marks_events_with_the_services_fields() {
        let verdict = Verdict {
            reason: "MaxDeliveryAttemptsExceeded",
            attempts: 3,
            last_outcome: "ServiceUnavailable",
            last_status: Some(503),
            published: datetime!(2024-05-01 12:00:00 UTC),
            last_attempt: datetime!(2024-05-01 12:01:30 UTC),
        };
        let marked = verdict.mark(&json!({"id": "1", "data": {"n": 1}}));
        assert_eq!(marked["id"], "1");
        assert_eq!(marked["deadLetterReason"], "MaxDeliveryAttemptsExceeded");
        assert_eq!(marked["deliveryAttempts"], 3);
        assert_eq!(marked["lastDeliveryOutcome"], "ServiceUnavailable");
        assert_eq!(marked["lastHttpStatusCode"], 503);
        assert_eq!(marked["publishTime"], "2024-05-01T12:00:00Z");
        assert_eq!(marked["lastDeliveryAttemptTime"], "2024-05-01T12:01:30Z");
        let timed_out = Verdict {
            last_status: None,
            ..verdict
        };
        assert!(
            timed_out
                .mark(&json!({}))
                .get("lastHttpStatusCode")
                .is_none()
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_under_the_root_cannot_lead_out() {
        let base = std::env::temp_dir().join(format!("eg-confine-{}", std::process::id()));
        let root = base.join("root");
        let elsewhere = base.join("elsewhere");
        std::fs::create_dir_all(root.join("real")).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, root.join("out")).unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("in")).unwrap();
        std::os::unix::fs::symlink(base.join("missing"), root.join("dangling")).unwrap();
        let error = confine(&root, Path::new("out/letters")).unwrap_err();
        assert!(error.contains("through a symbolic link"), "{error}");
        assert!(confine(&root, Path::new("dangling/x")).is_err());
        assert_eq!(
            confine(&root, Path::new("in/letters")).unwrap(),
            root.join("in/letters")
        );
        assert_eq!(
            confine(&root, Path::new("new/letters")).unwrap(),
            root.join("new/letters")
        );
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn run_time_folders_stay_under_the_root() {
        let root = Path::new("/srv/emulator");
        assert_eq!(
            confine(root, Path::new("dead/letters")).unwrap(),
            Path::new("/srv/emulator/dead/letters")
        );
        assert_eq!(
            confine(root, Path::new("./dead")).unwrap(),
            Path::new("/srv/emulator/dead")
        );
        assert_eq!(
            confine(root, Path::new("/srv/emulator/inside")).unwrap(),
            Path::new("/srv/emulator/inside")
        );
        for escape in ["../x", "dead/../../x", "/srv/emulator/../x"] {
            let error = confine(root, Path::new(escape)).unwrap_err();
            assert!(error.contains("`..` is not allowed"), "{escape}: {error}");
        }
        for outside in ["/etc/cron.d", "/srv/emulator-other", "/srv"] {
            let error = confine(root, Path::new(outside)).unwrap_err();
            assert!(
                error.contains("outside the dead-letter root")
                    && error.contains("--dead-letter-root"),
                "{outside}: {error}"
            );
        }
    }

    #[test]
    fn files_go_where_the_service_puts_blobs() {
        let folder = std::env::temp_dir().join(format!("eg-dead-letter-{}", uuid::Uuid::new_v4()));
        let path = file_path(
            &folder,
            "orders",
            "audit",
            datetime!(2024-05-01 09:00:00 UTC),
        );
        let relative = path.strip_prefix(&folder).unwrap();
        let parts: Vec<_> = relative
            .iter()
            .map(|part| part.to_string_lossy().into_owned())
            .collect();
        assert_eq!(&parts[..6], ["ORDERS", "AUDIT", "2024", "05", "01", "09"]);
        assert!(parts[6].ends_with(".json"));
        write(&path, &[json!({"id": "1"})]).unwrap();
        let written: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(written, json!([{"id": "1"}]));
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
