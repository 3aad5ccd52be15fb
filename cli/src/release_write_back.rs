//! After `responder release … --execute`: the write-back configured by flag or environment
//! (Security Hub `RESOLVED`, GuardDuty archive), through the library's one entry point.
//! The caller's own credentials: STS names the account and the releaser. Its outcomes are
//! printed after the release's and never change the exit code.

use responder::notify::after_release::{self, AfterReleaseOutcome, Ended, Release, Settings, send};
use responder::outcome::{ReleaseOutcome, Status};
use responder::sanitize::neutralise;

#[derive(clap::Args, Clone, Copy)]
pub struct WriteBack {
    /// After a completed release, mark the finding's Security Hub counterpart RESOLVED
    /// (also RESPONDER_SECURITYHUB_RESOLVE_ON_RELEASE=on).
    #[arg(long)]
    pub resolve_in_securityhub: bool,
    /// After a completed release, archive the GuardDuty finding
    /// (also RESPONDER_GUARDDUTY_ARCHIVE_ON_RELEASE=on).
    #[arg(long)]
    pub archive_in_guardduty: bool,
}

impl WriteBack {
    fn settings(self) -> Settings {
        let env = Settings::from_env(|k| std::env::var(k).ok());
        Settings {
            resolve_in_securityhub: self.resolve_in_securityhub || env.resolve_in_securityhub,
            archive_in_guardduty: self.archive_in_guardduty || env.archive_in_guardduty,
        }
    }
}

/// What was released, for the write-back.
pub struct Done<'a, K> {
    pub finding_id: Option<&'a str>,
    pub region: &'a str,
    pub released: String,
    pub executed: bool,
    pub outcomes: &'a [ReleaseOutcome<K>],
}

pub async fn run<K>(
    sdk: &aws_config::SdkConfig,
    args: WriteBack,
    done: Done<'_, K>,
) -> Vec<AfterReleaseOutcome> {
    let settings = args.settings();
    let ended = Ended::of(done.executed, done.outcomes);
    let mut release = Release {
        finding_id: done.finding_id,
        account: "",
        region: done.region,
        released: &done.released,
        by: "",
        at: chrono::Utc::now(),
        ended,
    };
    if !settings.any() || ended != Ended::Complete || done.finding_id.is_none() {
        return send::after_release(sdk, settings, &release).await;
    }
    match send::caller(sdk).await {
        Ok(caller) => {
            release.account = &caller.account;
            release.by = &caller.arn;
            send::after_release(sdk, settings, &release).await
        }
        Err(e) => after_release::each(settings, done.finding_id, Status::Failed, &e),
    }
}

/// The outcomes as text lines, after the release's own.
pub fn text(outcomes: &[AfterReleaseOutcome]) -> String {
    outcomes
        .iter()
        .map(|o| {
            format!(
                "  after release: [{}] {} {}: {}\n",
                o.status.as_str(),
                o.kind.name(),
                o.target,
                neutralise(&o.detail, 600)
            )
        })
        .collect()
}
