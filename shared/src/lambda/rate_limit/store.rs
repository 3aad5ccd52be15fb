//! The budgets in DynamoDB: one item per (scope, window) — partition key `scope`
//! (`account#<id>` or `global`), sort key `window` (its start, epoch seconds) — with
//! `count` and the TTL attribute `expires_at`. Only `dynamodb:UpdateItem` is called.

use super::{Admission, Budgets, Scope, Token, Trip, Window};
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use std::time::SystemTime;

/// Attribute names; `count` is a DynamoDB reserved word, hence the placeholders.
const SCOPE: &str = "scope";
const WINDOW: &str = "window";
const COUNT: &str = "count";
const EXPIRES: &str = "expires_at";
const ALERTED: &str = "alerted";

pub struct RateLimit {
    client: aws_sdk_dynamodb::Client,
    /// `None`: budgets are set but no table is: every check is "unavailable" (fail open).
    table: Option<String>,
    budgets: Budgets,
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn refused(e: &SdkError<UpdateItemError>) -> bool {
    e.as_service_error()
        .is_some_and(UpdateItemError::is_conditional_check_failed_exception)
}

impl RateLimit {
    pub fn new(sdk: &aws_config::SdkConfig, table: Option<String>, budgets: Budgets) -> RateLimit {
        RateLimit {
            client: aws_sdk_dynamodb::Client::new(sdk),
            table,
            budgets,
        }
    }

    /// One `UpdateItem` on the (scope, window) item; `Ok(false)` when the condition failed.
    async fn update(
        &self,
        table: &str,
        scope: &Scope,
        window: Window,
        update: &str,
        condition: &str,
        values: &[(&str, AttributeValue)],
    ) -> Result<bool, String> {
        let mut req = self
            .client
            .update_item()
            .table_name(table)
            .key(SCOPE, AttributeValue::S(scope.key()))
            .key(WINDOW, n(window.start))
            .update_expression(update)
            .condition_expression(condition);
        for (name, attr) in [("#c", COUNT), ("#e", EXPIRES), ("#a", ALERTED)] {
            if update.contains(name) || condition.contains(name) {
                req = req.expression_attribute_names(name, attr);
            }
        }
        for (name, value) in values {
            req = req.expression_attribute_values(*name, value.clone());
        }
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e) if refused(&e) => Ok(false),
            Err(e) => Err(DisplayErrorContext(e).to_string()),
        }
    }

    /// Takes one containment from `scope`'s budget if it has one left.
    async fn take(
        &self,
        table: &str,
        scope: &Scope,
        limit: u32,
        window: Window,
    ) -> Result<bool, String> {
        self.update(
            table,
            scope,
            window,
            "ADD #c :one SET #e = :exp",
            "attribute_not_exists(#c) OR #c < :limit",
            &[
                (":one", n(1)),
                (":exp", n(window.expires_at())),
                (":limit", n(u64::from(limit))),
            ],
        )
        .await
    }

    /// Gives one back. A failure only leaves the budget stricter, so it is logged.
    async fn give_back(&self, table: &str, scope: &Scope, window: Window) {
        let r = self
            .update(
                table,
                scope,
                window,
                "ADD #c :minus",
                "#c > :zero",
                &[(":minus", AttributeValue::N("-1".into())), (":zero", n(0))],
            )
            .await;
        if let Err(e) = r {
            tracing::warn!(scope = %scope.key(), error = %e, "rate budget not given back: stricter until the window ends");
        }
    }

    /// Marks the item alerted; `true` for the first caller only (on error too: an extra
    /// alert is better than none).
    async fn first_refusal(&self, table: &str, scope: &Scope, window: Window) -> bool {
        self.update(
            table,
            scope,
            window,
            "SET #a = :t",
            "attribute_exists(#c) AND attribute_not_exists(#a)",
            &[(":t", AttributeValue::Bool(true))],
        )
        .await
        .unwrap_or(true)
    }

    async fn refuse(&self, table: &str, scope: Scope, limit: u32, window: Window) -> Admission {
        let first = self.first_refusal(table, &scope, window).await;
        Admission::Refused(Trip {
            scope,
            limit,
            window,
            first,
        })
    }

    /// Takes the account's budget, then the global one (see the module docs).
    pub async fn admit(&self, account_id: &str, now: SystemTime) -> Admission {
        let window = Window::of(now);
        let mut token = Token {
            window,
            taken: Vec::new(),
        };
        let Some(table) = self.table.as_deref() else {
            return Admission::Unavailable {
                reason: "RESPONDER_RATE_LIMIT_TABLE is not set".into(),
                token,
            };
        };
        let budgets = [
            (Scope::account(account_id), self.budgets.per_account),
            (Scope::Global, self.budgets.global),
        ];
        for (scope, limit) in budgets {
            let Some(limit) = limit else { continue };
            match self.take(table, &scope, limit, window).await {
                Ok(true) => token.taken.push(scope),
                Ok(false) => {
                    self.release(token).await;
                    return self.refuse(table, scope, limit, window).await;
                }
                Err(reason) => return Admission::Unavailable { reason, token },
            }
        }
        Admission::Admitted(token)
    }

    /// Gives back what `token` took (a containment that changed nothing).
    pub async fn release(&self, token: Token) {
        let Some(table) = self.table.as_deref() else {
            return;
        };
        for scope in &token.taken {
            self.give_back(table, scope, token.window).await;
        }
    }
}
