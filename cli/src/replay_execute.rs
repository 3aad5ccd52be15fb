//! `responder replay --execute`: carry each plan out with its surface's executor, then
//! notify through what RESPONDER_* configures.

use crate::executors::AnyExecutor;
use crate::replay_report::{DeliveryLine, Reported};
use responder::Config;
use responder::idempotency::{Idempotency, RecordSettings, respond_once};
use responder::notify::{Notifier, NotifySettings};
use responder::plan::ResponsePlan;
use responder::respond::RepeatPolicy;

pub async fn execute(plans: Vec<ResponsePlan>, config: &Config) -> Vec<Reported> {
    let settings = NotifySettings::from_env(|k| std::env::var(k).ok());
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
    let base = responder::execute::aws::sdk_config(&region).await;
    let notifier = Notifier::new(&base, &settings).await;
    // Shared with the Lambda functions (RESPONDER_IDEMPOTENCY_TABLE): a finding they are
    // containing, or have contained, is not contained again from here.
    let once =
        RecordSettings::from_env(|k| std::env::var(k).ok()).map(|s| Idempotency::new(&base, &s));
    let mut reported = Vec::with_capacity(plans.len());
    for plan in plans {
        let sdk = responder::execute::aws::sdk_config(&plan.region).await;
        let executor = AnyExecutor::for_plan(&plan, &sdk, config);
        let kept = plan.clone();
        let r = match respond_once(
            plan,
            &executor,
            &notifier,
            RepeatPolicy::Update,
            once.as_ref(),
        )
        .await
        {
            Ok(r) => r,
            Err(busy) => {
                eprintln!("{busy}");
                reported.push(Reported::busy(kept, &busy.to_string()));
                continue;
            }
        };
        reported.push(Reported {
            notification: r.notification.unwrap_or_else(|| r.plan.notification()),
            plan: r.plan,
            outcomes: r.outcomes,
            deliveries: r
                .deliveries
                .into_iter()
                .map(|d| DeliveryLine {
                    channel: d.channel,
                    ok: d.ok,
                    detail: d.detail,
                })
                .collect(),
            repeat: r.repeat,
        });
    }
    reported
}
