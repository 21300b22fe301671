//! `loket-netem`: a loopback TCP proxy that makes a link as bad as a village's — throttled,
//! delayed, cut mid-request, cut mid-response, losing responses after the server committed,
//! stalling, refusing, down for days — deterministically from a seed.
//!
//! Test tooling for issue 5 ("sync that never loses or duplicates, over the worst village
//! link"): put a [`Proxy`] between the sync client and the back office, run the real client and
//! server through it, then check exactly-once on the server and read the counters.
//!
//! ```no_run
//! # async fn demo(server: std::net::SocketAddr) -> std::io::Result<()> {
//! use loket_netem::{Fault, FaultPlan, FaultRates, Proxy};
//!
//! // 400 kbit/s, 400 ms round trips, 5 % of connections cut somewhere.
//! let plan = FaultPlan { rates: FaultRates::cuts(0.05), ..FaultPlan::village(42) };
//! let proxy = Proxy::start(server, plan)?;
//! let base_url = proxy.http_url(); // give this to the client instead of the server's URL
//!
//! proxy.force_next(1, Fault::DropResponse); // the next request is stored, its answer lost
//! proxy.set_link_up(false); // offline…
//! proxy.set_link_up(true); // …and back
//! let stats = proxy.stats();
//! println!("{} bytes on the wire, {} faults", stats.bytes_total(), stats.faults.total());
//! # let _ = base_url; Ok(()) }
//! ```
//!
//! No dependency on other Loket crates: it knows TCP, not HTTP.
#![warn(missing_docs)]

mod plan;
mod proxy;
mod shaper;

pub use plan::{Fault, FaultKind, FaultPlan, FaultRates, LinkShape};
pub use proxy::{ConnectionRecord, FaultCounts, Outcome, Proxy, Stats};
