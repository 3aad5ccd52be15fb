//! The containment budgets in DynamoDB (moto), through the real SDK: concurrent takes
//! admit exactly the limit, an account's budget is its own while the global one remains,
//! windows roll over and expire, and an unreachable table fails open. The handler's side
//! (downgrade, alert, the CloudWatch attacker) is in `rate_limit_handler.rs`.

use integration_tests::proxy::Proxy;
use integration_tests::{moto, rate_table, world};
use responder::lambda::rate_limit::{Admission, Budgets, RateLimit, Scope, Window};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const A: &str = "111111111111";
const B: &str = "222222222222";
const C: &str = "333333333333";

async fn sdk() -> aws_config::SdkConfig {
    world::sdk_config(&moto::shared().endpoint(), "us-east-1").await
}

async fn limiter(global: Option<u32>, per_account: Option<u32>) -> (RateLimit, String) {
    let sdk = sdk().await;
    let table = rate_table::create(&sdk).await;
    let budgets = Budgets {
        global,
        per_account,
    };
    (RateLimit::new(&sdk, Some(table.clone()), budgets), table)
}

async fn count(table: &str, scope: &str, now: SystemTime) -> Option<i64> {
    rate_table::number(&sdk().await, table, scope, Window::of(now).start, "count").await
}

fn refused_scope(a: &Admission) -> Option<Scope> {
    match a {
        Admission::Refused(t) => Some(t.scope.clone()),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_takes_from_many_tasks_admit_exactly_the_limit() {
    let limit = 7u32;
    let tasks = 40;
    let (rate, table) = limiter(Some(limit), None).await;
    let rate = Arc::new(rate);
    let now = SystemTime::now();
    let mut handles = Vec::new();
    for i in 0..tasks {
        let rate = Arc::clone(&rate);
        let account = if i % 2 == 0 { A } else { B };
        handles.push(tokio::spawn(async move { rate.admit(account, now).await }));
    }
    let mut admitted = 0;
    let mut refused = 0;
    for h in handles {
        match h.await.unwrap() {
            Admission::Admitted(_) => admitted += 1,
            Admission::Refused(t) => {
                assert_eq!(t.scope, Scope::Global);
                refused += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((admitted, refused), (limit, tasks - limit));
    assert_eq!(count(&table, "global", now).await, Some(i64::from(limit)));
}

#[tokio::test]
async fn one_account_exhausting_its_budget_does_not_block_another_while_the_global_remains() {
    let (rate, table) = limiter(Some(3), Some(2)).await;
    let now = SystemTime::now();
    for _ in 0..2 {
        assert!(matches!(rate.admit(A, now).await, Admission::Admitted(_)));
    }
    // A's third (and tenth) attempt is refused by A's budget and never touches the global one.
    for _ in 0..8 {
        let r = rate.admit(A, now).await;
        assert_eq!(refused_scope(&r), Some(Scope::account(A)), "{r:?}");
    }
    assert_eq!(count(&table, "global", now).await, Some(2));
    assert!(matches!(rate.admit(B, now).await, Admission::Admitted(_)));
    // Now the global budget is used up: B and C are refused by it, and their own
    // counters are given back.
    for account in [B, C] {
        let r = rate.admit(account, now).await;
        assert_eq!(refused_scope(&r), Some(Scope::Global), "{account}: {r:?}");
    }
    assert_eq!(count(&table, "global", now).await, Some(3));
    assert_eq!(count(&table, &format!("account#{A}"), now).await, Some(2));
    assert_eq!(count(&table, &format!("account#{B}"), now).await, Some(1));
    assert_eq!(count(&table, &format!("account#{C}"), now).await, Some(0));
}

#[tokio::test]
async fn a_released_containment_gives_its_budget_back() {
    let (rate, table) = limiter(Some(1), Some(1)).await;
    let now = SystemTime::now();
    let Admission::Admitted(token) = rate.admit(A, now).await else {
        panic!("first take")
    };
    assert!(matches!(rate.admit(A, now).await, Admission::Refused(_)));
    rate.release(token).await;
    assert_eq!(count(&table, "global", now).await, Some(0));
    assert!(matches!(rate.admit(A, now).await, Admission::Admitted(_)));
}

#[tokio::test]
async fn the_next_hour_has_a_fresh_budget_and_old_windows_expire() {
    let (rate, table) = limiter(Some(1), None).await;
    let now = SystemTime::now();
    let next_hour = now + Duration::from_secs(3600);
    assert!(matches!(rate.admit(A, now).await, Admission::Admitted(_)));
    let r = rate.admit(A, now).await;
    let Admission::Refused(trip) = &r else {
        panic!("{r:?}")
    };
    assert!(trip.first, "the first refusal of the window alerts");
    let Admission::Refused(again) = rate.admit(A, now).await else {
        panic!("second refusal")
    };
    assert!(!again.first, "one alert per scope and window");
    assert!(matches!(
        rate.admit(A, next_hour).await,
        Admission::Admitted(_)
    ));
    let Admission::Refused(next) = rate.admit(A, next_hour).await else {
        panic!("refusal in the next hour")
    };
    assert!(next.first, "a new window alerts again");
    let window = Window::of(now);
    let expires =
        rate_table::number(&sdk().await, &table, "global", window.start, "expires_at").await;
    assert_eq!(
        expires,
        Some(i64::try_from(window.end() + 2 * 3600).unwrap())
    );
    assert_eq!(count(&table, "global", next_hour).await, Some(1));
}

#[tokio::test]
async fn an_unreachable_table_fails_open_and_says_so() {
    let proxy = Proxy::start(&moto::shared().endpoint()).await;
    let sdk = world::sdk_config(&proxy.endpoint(), "us-east-1").await;
    let table = rate_table::create(&sdk).await;
    let budgets = Budgets {
        global: Some(1),
        per_account: Some(1),
    };
    // Denied (an IAM or KMS mistake), then a table that does not exist.
    proxy.fail("UpdateItem", 400, "AccessDeniedException", None);
    let rate = RateLimit::new(&sdk, Some(table.clone()), budgets);
    for _ in 0..3 {
        let r = rate.admit(A, SystemTime::now()).await;
        let Admission::Unavailable { reason, token } = &r else {
            panic!("{r:?}")
        };
        assert!(reason.contains("AccessDenied"), "{reason}");
        assert!(token.taken.is_empty());
    }
    proxy.clear_faults();
    let missing = RateLimit::new(&sdk, Some(format!("{table}-gone")), budgets);
    let r = missing.admit(A, SystemTime::now()).await;
    assert!(
        matches!(&r, Admission::Unavailable { reason, .. } if reason.contains("ResourceNotFound")),
        "{r:?}"
    );
    // Budgets without a table at all: the same.
    let unset = RateLimit::new(&sdk, None, budgets);
    assert!(matches!(
        unset.admit(A, SystemTime::now()).await,
        Admission::Unavailable { .. }
    ));
}
