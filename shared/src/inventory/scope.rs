//! Where to look: accounts (through the cross-account role the functions use), regions and
//! EKS clusters; the readers run for each and every failure is kept beside the results.

use super::records::Place;
use super::{Inventory, ReadError, read_aws::AwsReader, read_eks};
use crate::actions::eks::ClusterClients;
use crate::lambda::accounts::Accounts;
use aws_config::{Region, SdkConfig};
use chrono::{DateTime, Utc};

/// What `responder list` and the reminder read.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Accounts to read; empty: the caller's own.
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// EKS clusters, read in each region (a cluster absent from a region is an error there).
    pub clusters: Vec<String>,
    pub partition: String,
    /// `RESPONDER_RECORD_MAC_KEY_ID`: checks each record's seal.
    pub mac_key: Option<String>,
}

/// Splits a comma list of a setting, dropping blanks.
pub fn list(v: Option<String>) -> Vec<String> {
    v.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Refuses a scope naming anything that is not an account, a region or a cluster name.
pub fn validate(scope: &Scope) -> Result<(), String> {
    let bad = |what: &str, v: &str| Err(format!("{what} {:?}", crate::sanitize::ascii_line(v, 40)));
    if let Some(a) = scope
        .accounts
        .iter()
        .find(|a| !crate::validate::is_account_id(a))
    {
        return bad("not an account id:", a);
    }
    if let Some(r) = scope
        .regions
        .iter()
        .find(|r| !crate::validate::is_region(r))
    {
        return bad("not a region:", r);
    }
    if let Some(c) = scope
        .clusters
        .iter()
        .find(|c| !crate::target::is_cluster_name(c))
    {
        return bad("not a cluster name:", c);
    }
    if !matches!(scope.partition.as_str(), "aws" | "aws-cn" | "aws-us-gov") {
        return bad("not a partition:", &scope.partition);
    }
    if scope.regions.is_empty() {
        return Err("no region to read".into());
    }
    Ok(())
}

/// One account and region: EC2, ECS and the clusters given (through `eks`); seals are
/// verified with `home`, the responder's own credentials.
pub async fn read_place(
    sdk: &SdkConfig,
    home: &SdkConfig,
    place: &Place,
    scope: &Scope,
    eks: &ClusterClients,
) -> Inventory {
    let aws = AwsReader::new(sdk, home, scope.mac_key.clone());
    let mut inv = Inventory::default();
    let error = |surface: &'static str, cluster: Option<&str>, e: String| ReadError {
        surface,
        account: place.account.clone(),
        region: place.region.clone(),
        scope: cluster.map(str::to_owned),
        error: e,
    };
    let (ec2, ecs) = futures::join!(aws.ec2(place), aws.ecs(place));
    for (surface, r) in [("ec2", ec2), ("ecs", ecs)] {
        match r {
            Ok(c) => inv.contained.extend(c),
            Err(e) => inv.errors.push(error(surface, None, e)),
        }
    }
    for cluster in &scope.clusters {
        match read_eks::read(eks, place, cluster).await {
            Ok(c) => inv.contained.extend(c),
            Err(e) => inv.errors.push(error("eks", Some(cluster), e)),
        }
    }
    inv
}

/// Every account × region of `scope`; `own_account` is read with the base credentials.
pub async fn read_all(
    accounts: &Accounts,
    own_account: &str,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Inventory {
    let own = [own_account.to_owned()];
    let list = if scope.accounts.is_empty() {
        &own[..]
    } else {
        &scope.accounts[..]
    };
    let mut inv = Inventory::default();
    for account in list {
        if account != own_account && !accounts.assumes_roles() {
            inv.errors.push(ReadError {
                surface: "all",
                account: account.clone(),
                region: "-".into(),
                scope: None,
                error: "another account needs a cross-account role (RESPONDER_CROSS_ACCOUNT_ROLE, --role)".into(),
            });
            continue;
        }
        let base = accounts
            .for_account(account, Some(own_account), &scope.partition, "inventory")
            .await;
        for region in &scope.regions {
            let sdk = base
                .to_builder()
                .region(Region::new(region.clone()))
                .build();
            let place = Place {
                account: account.clone(),
                region: region.clone(),
                partition: scope.partition.clone(),
                now,
            };
            let eks = ClusterClients::new(&sdk);
            inv.extend(read_place(&sdk, accounts.base(), &place, scope, &eks).await);
        }
    }
    inv.sort();
    inv
}

/// The caller's account (`sts:GetCallerIdentity`, which needs no permission).
pub async fn own_account(sdk: &SdkConfig) -> Result<String, String> {
    let out = aws_sdk_sts::Client::new(sdk)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| {
            format!(
                "GetCallerIdentity: {}",
                aws_sdk_sts::error::DisplayErrorContext(e)
            )
        })?;
    out.account()
        .filter(|a| crate::validate::is_account_id(a))
        .map(str::to_owned)
        .ok_or_else(|| "GetCallerIdentity: no account".into())
}
