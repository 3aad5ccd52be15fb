//! The interactions function's user-group allow-lists against a local Slack Web API
//! (`usergroups.users.list` with the bot token): a member is authorised for the group's
//! action only, and a group that cannot be read (wrong token, unknown group, Slack down)
//! authorises nobody.

use integration_tests::slack_api::SlackApi;
use responder::interaction::ButtonAction::{Acknowledge, Contain, Release};
use responder::interactions::authorise::{AllowList, Authoriser, GroupLookup, Verdict};

fn authoriser(base: String, token: &str) -> Authoriser {
    Authoriser {
        approvers: AllowList::parse("S0APPROVE").unwrap(),
        releasers: AllowList::parse("URELEASER1, S0NOSUCH").unwrap(),
        groups: Some(GroupLookup {
            http: responder::notify::slack::client(&Default::default()),
            api_base: base,
            token: token.to_owned().into(),
        }),
    }
}

#[tokio::test]
async fn group_members_are_authorised_for_their_groups_action_only() {
    let slack = SlackApi::start("xoxb-good", &[("S0APPROVE", &["UMEMBER1", "UMEMBER2"])]).await;
    let a = authoriser(slack.base(), "xoxb-good");
    assert_eq!(
        a.check("UMEMBER1", Contain).await,
        Verdict::Allowed("member of S0APPROVE".into())
    );
    assert!(matches!(
        a.check("UMEMBER2", Acknowledge).await,
        Verdict::Allowed(_)
    ));
    assert_eq!(
        a.check("UMEMBER1", Release).await,
        Verdict::Refused,
        "S0NOSUCH is unreadable"
    );
    assert_eq!(a.check("UOUTSIDER", Contain).await, Verdict::Refused);
    // A user named directly needs no look-up.
    let before = slack.calls();
    assert!(matches!(
        a.check("URELEASER1", Release).await,
        Verdict::Allowed(_)
    ));
    assert_eq!(slack.calls(), before);
}

#[tokio::test]
async fn an_unreadable_group_authorises_nobody() {
    let slack = SlackApi::start("xoxb-good", &[("S0APPROVE", &["UMEMBER1"])]).await;
    let wrong_token = authoriser(slack.base(), "xoxb-stolen");
    assert_eq!(
        wrong_token.check("UMEMBER1", Contain).await,
        Verdict::Refused
    );
    assert!(slack.calls() > 0, "Slack was asked");
    let base = slack.base();
    drop(slack);
    let down = authoriser(base, "xoxb-good");
    assert_eq!(down.check("UMEMBER1", Contain).await, Verdict::Refused);
}
