//! The asynchronous half: a verified, authorised click carried out. Nothing but the
//! [`Reference`] is trusted: the finding is fetched from GuardDuty in its own account and
//! region, re-planned with the current configuration and guardrails, then contained
//! (through the exactly-once record, like the playbook's containments) or released (the
//! CLI's release path, [`super::release`]).

use super::release::release;
use crate::Config;
use crate::actions::ec2::Ec2Executor;
use crate::actions::ecs::EcsExecutor;
use crate::actions::eks::EksExecutor;
use crate::classify::Surface;
use crate::execute::Executor;
use crate::finding::{Entry, Finding, parse_input};
use crate::interaction::{ButtonAction, Reference};
use crate::lambda::accounts::Accounts;
use crate::lambda::settings::Mode;
use crate::notify::Notifier;
use crate::notify::after_release::send::after_release;
use crate::notify::after_release::{Ended, Release, Settings};
use crate::outcome::Status;
use crate::plan::{ResponsePlan, plan, plan_approved};
use crate::playbook::Decision;
use crate::render::{SlackMessage, render};
use crate::respond::RepeatPolicy;
use crate::sanitize::slack_escape;

pub struct Worker {
    pub config: Config,
    pub mode: Mode,
    pub accounts: Accounts,
    pub once: Option<crate::idempotency::Idempotency>,
    /// The hourly containment budgets, shared with the finding functions.
    pub budget: super::budget::Budget,
}

/// What a job came to: the audit record's `result` and `detail`, and the reply.
#[derive(Debug)]
pub struct Done {
    pub result: &'static str,
    pub detail: String,
    pub reply: Reply,
}

#[derive(Debug)]
pub enum Reply {
    /// Only the clicking person sees it; the alert stays as it was.
    Ephemeral(String),
    /// The alert, re-rendered, replaces the original, under a first line of mrkdwn.
    Replace(Box<SlackMessage>, String),
    /// A line (mrkdwn) everyone in the channel sees; the alert stays as it was.
    InChannel(String),
}

fn refused(result: &'static str, text: String) -> Done {
    Done {
        result,
        detail: text.clone(),
        reply: Reply::Ephemeral(text),
    }
}

/// `3 done, 1 skipped`: how the steps went.
fn tally(statuses: impl Iterator<Item = Status>) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for s in statuses {
        match counts.iter_mut().find(|(n, _)| *n == s.as_str()) {
            Some((_, c)) => *c += 1,
            None => counts.push((s.as_str(), 1)),
        }
    }
    let parts: Vec<String> = counts.iter().map(|(n, c)| format!("{c} {n}")).collect();
    match parts.is_empty() {
        true => "nothing to do".into(),
        false => parts.join(", "),
    }
}

/// `*Contained* by <@U…> at 2026-12-01 00:20 UTC: 3 done`: `user` is a validated id.
pub fn status_line(verb: &str, user: &str, outcome: &str) -> String {
    let at = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    format!("*{verb}* by <@{user}> at {at}: {}", slack_escape(outcome))
}

impl Worker {
    /// Carries out `reference` for `user` (verified and authorised by the caller).
    /// The finding is read from this account's detector (a delegated administrator holds
    /// its members' findings); the resources are acted on in the finding's account, with
    /// the member role of the finding's surface ([`Worker::sdk_for`]).
    pub async fn run(&self, reference: &Reference, user: &str, own_account: Option<&str>) -> Done {
        let region = aws_config::Region::new(reference.region.clone());
        let own = self.accounts.base().to_builder().region(region).build();
        let finding = match self.fetch(&own, reference).await {
            Ok(f) => f,
            Err(text) => return refused("not_found", text),
        };
        match reference.action {
            ButtonAction::Contain => self.contain(finding, user, own_account).await,
            ButtonAction::Release => self.release(finding, user, own_account).await,
            ButtonAction::Acknowledge => Done {
                result: "acknowledged",
                detail: String::new(),
                reply: Reply::InChannel(status_line(
                    "Acknowledged",
                    user,
                    &format!("finding {}", finding.id.as_raw()),
                )),
            },
        }
    }

    /// Credentials to act on the plan's resources: its account's member role of its
    /// surface (both from the finding GuardDuty returned), in its region.
    async fn sdk_for(&self, p: &ResponsePlan, own_account: Option<&str>) -> aws_config::SdkConfig {
        let sdk = self
            .accounts
            .for_surface(
                &p.account_id,
                own_account,
                &p.partition,
                &p.finding_id,
                p.surface,
            )
            .await;
        sdk.to_builder()
            .region(aws_config::Region::new(p.region.clone()))
            .build()
    }

    /// The finding the reference names, from GuardDuty; it must be the same id, account
    /// and region (a forged reference names nothing GuardDuty holds there).
    async fn fetch(
        &self,
        sdk: &aws_config::SdkConfig,
        r: &Reference,
    ) -> Result<Box<Finding>, String> {
        let missing = || {
            format!(
                "No finding {} in account {} ({}): nothing was done.",
                r.finding_id, r.account, r.region
            )
        };
        let body = crate::history::get_finding(sdk, &r.finding_id)
            .await
            .map_err(|e| format!("GuardDuty could not be asked ({e}): nothing was done."))?;
        let entries = parse_input(&body).map_err(|_| missing())?;
        entries
            .into_iter()
            .find_map(|e| match e {
                Entry::Finding(f)
                    if f.id.as_raw() == r.finding_id
                        && f.account_id.as_raw() == r.account
                        && f.region.as_raw() == r.region =>
                {
                    Some(f)
                }
                _ => None,
            })
            .ok_or_else(missing)
    }

    async fn contain(&self, finding: Box<Finding>, user: &str, own_account: Option<&str>) -> Done {
        let reason = format!("contained on approval by Slack user {user}");
        let p = plan_approved(finding, &self.config, reason);
        if p.decision != Decision::Contain || p.actions.is_empty() {
            return refused(
                "refused_by_guardrail",
                format!("Not contained: {}", p.reason),
            );
        }
        if self.mode == Mode::DryRun {
            let kinds: Vec<&str> = p.actions.iter().map(|a| a.kind.name()).collect();
            let text = format!(
                "Dry run: would run {} (RESPONDER_MODE is dry-run).",
                kinds.join(", ")
            );
            return refused("dry_run", text);
        }
        let token = match self.budget.take(&p.account_id).await {
            Ok(token) => token,
            Err(trip) => return refused("refused_rate_limit", super::budget::refusal(&trip)),
        };
        let c = &self.config;
        let sdk = &self.sdk_for(&p, own_account).await;
        let response = match p.surface {
            Surface::Ec2 => {
                self.contain_with(p, &Ec2Executor::from_config(sdk, c))
                    .await
            }
            Surface::Ecs => {
                self.contain_with(p, &EcsExecutor::from_config(sdk, c))
                    .await
            }
            Surface::Eks => {
                self.contain_with(p, &EksExecutor::from_config(sdk, c))
                    .await
            }
            Surface::Unknown => Err("no executor for this surface".into()),
        };
        let (plan, outcomes) = match response {
            Ok(r) => r,
            Err(text) => {
                self.budget.give_back(token).await;
                return refused("failed", format!("Not contained: {text}"));
            }
        };
        if !crate::lambda::rate_limit::changed_something(&outcomes) {
            self.budget.give_back(token).await;
        }
        let failed = crate::outcome::any_failed(&outcomes);
        let summary = tally(outcomes.iter().map(|o| o.status));
        let verb = if failed {
            "Containment FAILED"
        } else {
            "Contained"
        };
        let alert = render(&plan, Some(&outcomes)).slack;
        Done {
            result: if failed { "failed" } else { "contained" },
            detail: summary.clone(),
            reply: Reply::Replace(Box::new(alert), status_line(verb, user, &summary)),
        }
    }

    async fn contain_with<E: Executor>(
        &self,
        p: ResponsePlan,
        executor: &E,
    ) -> Result<(ResponsePlan, Vec<crate::outcome::Outcome>), String> {
        let silent = Notifier::disabled();
        let once = crate::idempotency::respond_once(
            p,
            executor,
            &silent,
            RepeatPolicy::Full,
            self.once.as_ref(),
        );
        match Box::pin(once).await {
            Ok(r) => Ok((r.plan, r.outcomes)),
            Err(busy) => Err(format!("another run is containing this finding ({busy})")),
        }
    }

    async fn release(&self, finding: Box<Finding>, user: &str, own_account: Option<&str>) -> Done {
        let execute = self.mode == Mode::Enforce;
        let mut p = plan(finding, &self.config);
        let sdk = &self.sdk_for(&p, own_account).await;
        let released = release(sdk, &p.finding, &self.config, execute).await;
        let (statuses, notes) = match released {
            Ok(r) => r,
            Err(text) => return refused("failed", format!("Not released: {text}")),
        };
        let failed = statuses.contains(&Status::Failed);
        let ended = match (execute, failed) {
            (false, _) => Ended::DryRun,
            (true, true) => Ended::Incomplete,
            (true, false) => Ended::Complete,
        };
        let mut summary = tally(statuses.into_iter());
        if !notes.is_empty() {
            summary = format!("{summary}; {}", notes.join("; "));
        }
        // The same write-back as `responder release` (opt-in each): the finding as
        // GuardDuty returned it, the clicking user as the releaser. Written where the
        // finding was read (this account's detector and hub), not with the member role.
        let settings = Settings::from_env(|k| std::env::var(k).ok());
        if settings.any() {
            let by = format!("Slack user {user}");
            let released = format!("the resources of finding {}", p.finding.id.as_raw());
            let release = Release {
                finding_id: Some(p.finding.id.as_raw()),
                account: p.finding.account_id.as_raw(),
                region: p.finding.region.as_raw(),
                released: &released,
                by: &by,
                at: chrono::Utc::now(),
                ended,
            };
            let region = aws_config::Region::new(p.region.clone());
            let own = self.accounts.base().to_builder().region(region).build();
            for o in after_release(&own, settings, &release).await {
                summary = format!(
                    "{summary}; {}: {} {}",
                    o.kind.name(),
                    o.status.as_str(),
                    o.detail
                );
            }
        }
        let verb = match (execute, failed) {
            (false, _) => "Dry run of a release",
            (true, true) => "Release FAILED",
            (true, false) => "Released",
        };
        if execute && !failed {
            p.downgrade(format!("released by Slack user {user}"));
        }
        Done {
            result: if failed {
                "failed"
            } else if execute {
                "released"
            } else {
                "dry_run"
            },
            detail: summary.clone(),
            reply: Reply::Replace(
                Box::new(p.notification().slack),
                status_line(verb, user, &summary),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_and_status_lines_are_plain() {
        assert_eq!(
            tally([Status::Done, Status::Done, Status::Failed].into_iter()),
            "2 done, 1 FAILED"
        );
        assert_eq!(tally(std::iter::empty()), "nothing to do");
        let line = status_line("Contained", "U1", "<!channel> & *x*");
        assert!(line.starts_with("*Contained* by <@U1> at "), "{line}");
        assert!(!line.contains("<!channel>"), "{line}");
    }
}
