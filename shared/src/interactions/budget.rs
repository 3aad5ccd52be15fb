//! A click's containment takes the same hourly budgets as a finding function's
//! ([`crate::lambda::rate_limit`]): the finding's account's, then the global one. A person
//! clicking Contain on a burst of alerts (or an attacker who got the button pressed) cannot
//! contain past the limit the playbook path respects. A spent budget refuses the click;
//! an unreachable table does not (fail open, as the finding functions, with its metric).
//! The first refusal of a scope in an hour sends the distinct rate-limit alert when the
//! function has a notifier: it is the one alert for that scope and hour, whoever tripped it.

use crate::lambda::rate_limit::{self, Admission, RateLimit, Token, Trip};
use crate::notify::Notifier;
use std::time::SystemTime;

/// The rate limiter of the interactions function; absent when no budget is configured.
pub struct Budget {
    pub rate: Option<RateLimit>,
    /// The metrics' `Function` dimension and the alert's sender.
    pub function: String,
    pub notifier: Notifier,
}

impl Budget {
    /// No budgets: every click's containment is admitted.
    pub fn none() -> Budget {
        Budget {
            rate: None,
            function: String::new(),
            notifier: Notifier::disabled(),
        }
    }

    /// `Ok(token)` to contain (give it back with [`Budget::give_back`] if nothing changed),
    /// `Err(trip)` when a budget is spent.
    pub async fn take(&self, account_id: &str) -> Result<Option<Token>, Trip> {
        let Some(rate) = &self.rate else {
            return Ok(None);
        };
        match rate.admit(account_id, SystemTime::now()).await {
            Admission::Admitted(token) => Ok(Some(token)),
            Admission::Unavailable { reason, token } => {
                tracing::error!(error = %reason, "rate limiter unavailable: containing without it");
                rate_limit::emit(rate_limit::METRIC_UNAVAILABLE, &self.function, None);
                Ok(Some(token))
            }
            Admission::Refused(trip) => {
                let f = &self.function;
                rate_limit::emit(rate_limit::METRIC_REFUSED, f, Some(&trip.scope));
                if trip.first {
                    let n = rate_limit::trip_notification(&trip, f);
                    let (document, attributes) = rate_limit::trip_message(&trip, f, &n.text);
                    let deliveries = self.notifier.send_other(&n, document, attributes).await;
                    tracing::warn!(scope = %trip.scope.key(), limit = trip.limit, deliveries = %serde_json::to_string(&deliveries).unwrap_or_default(), "containment rate limit tripped");
                }
                Err(trip)
            }
        }
    }

    /// Gives the budget back: the containment changed nothing (already contained, every
    /// action failed, another run held the finding).
    pub async fn give_back(&self, token: Option<Token>) {
        if let (Some(rate), Some(token)) = (&self.rate, token) {
            rate.release(token).await;
        }
    }
}

/// The click's reply when a budget is spent: nothing was contained, and why.
pub fn refusal(trip: &Trip) -> String {
    format!(
        "Not contained: {}. Review the findings of this hour; contain by hand (`responder replay --execute`) where needed.",
        trip.reason().trim_end_matches(": notify only")
    )
}
