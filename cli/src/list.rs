//! `responder list`: what is contained right now, from the responder's own records in one
//! or more accounts and regions (and the EKS clusters given), each with its finding, age
//! and exact release command. Reads only. Another account is read through the
//! cross-account role the functions use (`--role`, `RESPONDER_CROSS_ACCOUNT_ROLE`).

use crate::Output;
use responder::inventory::scope::{Scope, list, own_account, read_all, validate};
use responder::inventory::{parse_age, table};
use responder::lambda::accounts::Accounts;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// An account to read (repeat or comma-separate; default: the caller's own).
    #[arg(long = "account", value_name = "ID")]
    pub accounts: Vec<String>,
    /// A region to read (repeat or comma-separate; default: AWS_REGION, then AWS_DEFAULT_REGION).
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// An EKS cluster to read in each region (repeat or comma-separate).
    #[arg(long = "cluster", value_name = "NAME")]
    pub clusters: Vec<String>,
    /// The role assumed in other accounts (default: RESPONDER_CROSS_ACCOUNT_ROLE).
    #[arg(long)]
    pub role: Option<String>,
    /// `sts:ExternalId` for that role (default: RESPONDER_CROSS_ACCOUNT_EXTERNAL_ID).
    #[arg(long)]
    pub external_id: Option<String>,
    /// The AWS partition (`aws`, `aws-cn`, `aws-us-gov`).
    #[arg(long, default_value = "aws")]
    pub partition: String,
    /// Only what has been contained at least this long: `30d`, `12h`, `90m`.
    #[arg(long, value_name = "AGE")]
    pub older_than: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub output: Output,
}

fn split(values: Vec<String>) -> Vec<String> {
    values.into_iter().flat_map(|v| list(Some(v))).collect()
}

pub async fn run(args: Args) -> Result<ExitCode, String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let older_than = args.older_than.as_deref().map(parse_age).transpose()?;
    let mut regions = split(args.regions);
    if regions.is_empty() {
        regions.extend(env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")));
    }
    let scope = Scope {
        accounts: split(args.accounts),
        regions,
        clusters: split(args.clusters),
        partition: args.partition,
        mac_key: env(responder::actions::ec2::record_mac::KEY_ENV),
    };
    validate(&scope).map_err(|e| format!("{e} (pass --region or set AWS_REGION)"))?;
    let sdk = responder::execute::aws::sdk_config(&scope.regions[0]).await;
    let own = own_account(&sdk).await?;
    let accounts = Accounts::new(
        sdk,
        args.role.or_else(|| env("RESPONDER_CROSS_ACCOUNT_ROLE")),
        args.external_id
            .or_else(|| env("RESPONDER_CROSS_ACCOUNT_EXTERNAL_ID")),
    );
    let now = chrono::Utc::now();
    let mut inv = read_all(&accounts, &own, &scope, now).await;
    if let Some(min) = older_than {
        inv = inv.older_than(min, now);
    }
    match args.output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&table::json(&inv, now)).map_err(|e| e.to_string())?
        ),
        Output::Text => print!("{}", table::text(&inv, now)),
    }
    Ok(if inv.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
