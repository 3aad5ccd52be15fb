//! One network-ACL entry the responder owns, as recorded and as created: a leaf shared by
//! the allocation ([`super::network_acl`]), the record ([`super::record`]) and the sensor
//! link's ALLOWs ([`super::sensor_allow`]).

use serde::Serialize;
use std::fmt;

/// AWS evaluates entries from the lowest number; 32767 is the fixed default `*` rule.
pub const DEFAULT_RULE: i32 = 32767;
pub const MAX_RULE: i32 = 32766;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
    pub fn parse(v: &str) -> Option<Direction> {
        match v {
            "ingress" => Some(Direction::Ingress),
            "egress" => Some(Direction::Egress),
            _ => None,
        }
    }
    pub fn egress(self) -> bool {
        self == Direction::Egress
    }
    pub const BOTH: [Direction; 2] = [Direction::Ingress, Direction::Egress];
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Direction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NaclEntry {
    pub acl_id: String,
    pub direction: Direction,
    pub rule_number: i32,
    pub cidr: String,
    /// The sensor link's tcp ALLOW ahead of the deny ([`super::sensor_allow`]), not a DENY.
    pub allow: bool,
}

impl NaclEntry {
    /// How outcomes name it: `acl-… ingress #99 10.0.1.5/32`, and what an ALLOW is for.
    pub fn label(&self) -> String {
        format!(
            "{} {} #{} {}{}",
            self.acl_id,
            self.direction,
            self.rule_number,
            self.cidr,
            if self.allow {
                " (GuardDuty sensor-link ALLOW)"
            } else {
                ""
            }
        )
    }
}

/// The IP protocol number of tcp, as the EC2 API writes it.
pub const TCP: &str = "6";

/// The destination ports each direction's sensor-link ALLOW admits ([`super::sensor_allow`]).
pub fn allow_ports(direction: Direction) -> (i32, i32) {
    match direction {
        Direction::Ingress => (443, 443),
        Direction::Egress => (1024, 65535),
    }
}
