//! Integration-test harness, shared by every test file under `tests/tests/`:
//!
//! * [`moto`]: a `moto_server` per test binary on a free loopback port, stopped with it;
//! * [`moto_data`]: what moto recorded (e.g. SNS messages), read from its data endpoint;
//! * [`proxy`]: a loopback proxy in front of it that injects errors, throttling and a fixed
//!   per-call delay, and logs every call (fault tests, round-trip benchmark);
//! * [`kube_api`]: a local HTTPS Kubernetes API server (test CA from rcgen) for the EKS
//!   executor, with stored objects, real patch semantics and a request log;
//! * [`cloudwatch_api`]: a local CloudWatch server speaking RPC v2 CBOR (moto speaks only the
//!   older protocols): `PutMetricData` and `GetMetricStatistics` with real aggregation;
//! * [`guardduty_api`]: a local GuardDuty REST-JSON server for the coverage audit (moto has none);
//! * [`eks_front`]: a front for moto's EKS API that points DescribeCluster at [`kube_api`],
//!   for function binaries (which have no test seam);
//! * [`function_env`]: moto, an SNS topic, a Slack webhook and [`cloudwatch_api`] for a
//!   function binary, the environment pointing it there, and readers for what it sent;
//! * [`eks_world`]: an EKS cluster in moto plus its objects in [`kube_api`], and findings;
//! * [`evidence_bucket`]: an evidence bucket as `evidence.tf` makes it, and downloading a
//!   bundle from it as an investigator would;
//! * [`rate_table`]: the containment rate-limit table in moto, and reads of its items;
//! * [`runtime_api`]: a local Lambda Runtime API that runs a real function binary and
//!   keeps what it prints;
//! * [`emf`]: the Embedded Metric Format specification as a checker of those lines;
//! * [`securityhub_api`]: a local Security Hub `BatchUpdateFindings` (moto has none);
//! * [`webhook`]: a local HTTP server standing in for a Slack incoming webhook;
//! * [`world`]: builders for a realistic AWS world in moto and findings pointing at it;
//! * [`admission`]: the manifests of `infra/kubernetes/` and their ValidatingAdmissionPolicy
//!   CEL expressions evaluated on admission requests;
//! * [`terraform`]: `infra/` roots in scratch copies, applied against moto (deploy test);
//! * [`deploy`]: a deployment read back from moto (inventory, routing of the samples);
//! * [`volatile_rig`]: the EC2 volatile capture's world, run through the [`proxy`].

pub mod admission;
pub mod cloudwatch_api;
pub mod deploy;
pub mod ecs_world;
pub mod eks_front;
pub mod eks_world;
pub mod emf;
pub mod evidence_bucket;
pub mod fault_matrix;
pub mod function_env;
pub mod guardduty_api;
pub mod idempotency_table;
pub mod kube_api;
pub mod local_server;
pub mod module_graph;
pub mod moto;
pub mod moto_data;
pub mod proxy;
pub mod rate_table;
pub mod runtime_api;
pub mod securityhub_api;
pub mod slack_api;
pub mod terraform;
pub mod volatile_rig;
pub mod webhook;
pub mod world;
