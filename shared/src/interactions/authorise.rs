//! Who may do what from an alert: an allow-list of Slack user ids (`U…`, `W…`) and user-group
//! ids (`S…`) per action (`RESPONDER_SLACK_APPROVERS` for Contain, `RESPONDER_SLACK_RELEASERS`
//! for Release; Acknowledge needs either). Group membership is asked of Slack
//! (`usergroups.users.list`, with the bot token) at each click, so removing someone from
//! the group takes effect at once. A group that cannot be read authorises nobody.

use super::request::is_user_id;
use crate::interaction::ButtonAction;
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllowList {
    pub users: Vec<String>,
    pub groups: Vec<String>,
}

fn is_group_id(v: &str) -> bool {
    v.len() >= 3
        && v.len() <= 32
        && v.starts_with('S')
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

impl AllowList {
    /// Ids separated by commas or white space; anything else is a configuration error.
    pub fn parse(text: &str) -> Result<AllowList, String> {
        let mut list = AllowList::default();
        for id in text.split([',', ' ', '\n', '\t']).filter(|s| !s.is_empty()) {
            if is_user_id(id) {
                list.users.push(id.to_owned());
            } else if is_group_id(id) {
                list.groups.push(id.to_owned());
            } else {
                return Err(format!(
                    "{:?} is not a Slack user (U…, W…) or user-group (S…) id",
                    crate::sanitize::ascii_line(id, 40)
                ));
            }
        }
        Ok(list)
    }
}

/// Both allow-lists and, when a list names groups, how to read their members.
pub struct Authoriser {
    pub approvers: AllowList,
    pub releasers: AllowList,
    pub groups: Option<GroupLookup>,
}

/// Slack's `usergroups.users.list`.
pub struct GroupLookup {
    pub http: reqwest::Client,
    /// `https://slack.com/api` (a loopback server in tests).
    pub api_base: String,
    pub token: SecretString,
}

/// The authorisation decision, for the reply and the audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Named directly, or a member of the named group.
    Allowed(String),
    Refused,
}

impl Authoriser {
    fn lists(&self, action: ButtonAction) -> Vec<&AllowList> {
        match action {
            ButtonAction::Contain => vec![&self.approvers],
            ButtonAction::Release => vec![&self.releasers],
            ButtonAction::Acknowledge => vec![&self.approvers, &self.releasers],
        }
    }

    /// May `user` take `action`?
    pub async fn check(&self, user: &str, action: ButtonAction) -> Verdict {
        let lists = self.lists(action);
        if lists.iter().any(|l| l.users.iter().any(|u| u == user)) {
            return Verdict::Allowed(format!("user {user}"));
        }
        let Some(lookup) = &self.groups else {
            return Verdict::Refused;
        };
        for group in lists.iter().flat_map(|l| &l.groups) {
            match lookup.members(group).await {
                Ok(members) if members.iter().any(|m| m == user) => {
                    return Verdict::Allowed(format!("member of {group}"));
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(group = %group, error = %e, "user group unreadable: authorises nobody")
                }
            }
        }
        Verdict::Refused
    }
}

impl GroupLookup {
    async fn members(&self, group: &str) -> Result<Vec<String>, String> {
        let url = format!(
            "{}/usergroups.users.list?usergroup={group}",
            self.api_base.trim_end_matches('/')
        );
        let reply: serde_json::Value = self
            .http
            .get(url)
            .bearer_auth(self.token.expose_secret())
            .send()
            .await
            .map_err(|e| crate::sanitize::ascii_line(&e.without_url().to_string(), 200))?
            .json()
            .await
            .map_err(|e| crate::sanitize::ascii_line(&e.without_url().to_string(), 200))?;
        if reply["ok"] != serde_json::Value::Bool(true) {
            let error = reply["error"].as_str().unwrap_or("not ok");
            return Err(crate::sanitize::ascii_line(error, 80));
        }
        Ok(reply["users"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|u| u.as_str())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_hold_users_and_groups_only() {
        let l = AllowList::parse("U024BE7LH, W012A3CDE S0614TZR7\n").unwrap();
        assert_eq!(l.users, ["U024BE7LH", "W012A3CDE"]);
        assert_eq!(l.groups, ["S0614TZR7"]);
        for bad in ["u024be7lh", "@here", "C012AB3CD", "U1<!channel>"] {
            assert!(AllowList::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(AllowList::parse(""), Ok(AllowList::default()));
    }

    #[tokio::test]
    async fn each_action_has_its_own_list() {
        let a = Authoriser {
            approvers: AllowList::parse("UAPPROVE").unwrap(),
            releasers: AllowList::parse("URELEASE").unwrap(),
            groups: None,
        };
        use ButtonAction::*;
        assert!(matches!(
            a.check("UAPPROVE", Contain).await,
            Verdict::Allowed(_)
        ));
        assert_eq!(a.check("UAPPROVE", Release).await, Verdict::Refused);
        assert_eq!(a.check("URELEASE", Contain).await, Verdict::Refused);
        assert!(matches!(
            a.check("URELEASE", Acknowledge).await,
            Verdict::Allowed(_)
        ));
        assert_eq!(a.check("USTRANGER", Acknowledge).await, Verdict::Refused);
    }
}
