//! What the link looks like and how it breaks: the [`FaultPlan`] and the seeded decisions drawn
//! from it. Pure (no IO, no clock), so a schedule can be computed and compared without sockets.

use std::ops::RangeInclusive;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Shaping of one direction of the link.
///
/// Why per direction: village links are asymmetric (uploads of scans are the slow part), and
/// the interesting numbers — bytes on the wire, time ÷ (payload ÷ bandwidth) — differ per
/// direction.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkShape {
    /// Bandwidth in bytes per second, shared by all connections through the proxy (one physical
    /// link carries every lane). `None`: unlimited. 400 kbit/s is `Some(50_000)`.
    pub bytes_per_sec: Option<u64>,
    /// One-way delay added to every chunk (propagation, not serialisation: it delays bytes but
    /// does not reduce throughput). A 400 ms round trip is 200 ms each way.
    pub latency: Duration,
    /// How many bytes the token bucket lets through at once after an idle period. Small on a
    /// real 2G link; the constructors pick 1/20 s worth of bandwidth (at least 1,500 bytes).
    pub burst_bytes: u64,
}

impl LinkShape {
    /// No shaping at all: bytes pass as fast as loopback carries them, without added delay.
    /// Why: fault tests that do not care about speed should not pay for it.
    pub const UNLIMITED: LinkShape = LinkShape {
        bytes_per_sec: None,
        latency: Duration::ZERO,
        burst_bytes: 0,
    };

    /// A throttled direction: `bytes_per_sec` bandwidth and `latency` one-way delay, with a
    /// small burst (1/20 s of bandwidth, at least 1,500 bytes) so the rate holds even over
    /// short transfers.
    pub fn throttled(bytes_per_sec: u64, latency: Duration) -> LinkShape {
        LinkShape {
            bytes_per_sec: Some(bytes_per_sec.max(1)),
            latency,
            burst_bytes: (bytes_per_sec / 20).max(1_500),
        }
    }

    /// Only a one-way delay, no bandwidth limit. Why: latency tests (round trips, TLS
    /// handshakes) without waiting for a throttle.
    pub fn delayed(latency: Duration) -> LinkShape {
        LinkShape {
            latency,
            ..LinkShape::UNLIMITED
        }
    }
}

/// Probability, per accepted connection, of each fault. The sum must be at most 1; the rest of
/// the connections pass untouched.
///
/// Why separate rates: each fault exercises a different path of the sync client and server
/// (a partial request body must not be stored; a lost response after a commit must not make a
/// duplicate; a stall must hit the client's timeout; a refusal must be "server unreachable").
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultRates {
    /// Cut the client → server direction after some bytes (mid-request body), then close both
    /// sides. See [`Fault::CutRequest`].
    pub cut_request: f64,
    /// Cut the server → client direction after some bytes (mid-response). See
    /// [`Fault::CutResponse`].
    pub cut_response: f64,
    /// Forward the whole request, close the client side when the response starts. See
    /// [`Fault::DropResponse`].
    pub drop_response: f64,
    /// Accept, forward nothing, close after [`FaultPlan::stall_for`]. See [`Fault::Stall`].
    pub stall: f64,
    /// Close at once with a reset. See [`Fault::Refuse`].
    pub refuse: f64,
}

impl FaultRates {
    /// No faults. Why a constant: struct-update syntax reads well in tests
    /// (`FaultRates { refuse: 0.1, ..FaultRates::NONE }`).
    pub const NONE: FaultRates = FaultRates {
        cut_request: 0.0,
        cut_response: 0.0,
        drop_response: 0.0,
        stall: 0.0,
        refuse: 0.0,
    };

    /// "`rate` of the connections are cut": the rate is split evenly over the three mid-transfer
    /// faults (cut request, cut response, drop response), because a power cut or a lost
    /// signal can strike at any point of an exchange. Why: the issue-5 benchmark asks for
    /// "5 % connection cuts" — that is `FaultRates::cuts(0.05)`.
    pub fn cuts(rate: f64) -> FaultRates {
        let third = rate / 3.0;
        FaultRates {
            cut_request: third,
            cut_response: third,
            drop_response: third,
            ..FaultRates::NONE
        }
    }

    /// Sum of all rates: the probability that a connection gets some fault.
    pub fn total(&self) -> f64 {
        self.cut_request + self.cut_response + self.drop_response + self.stall + self.refuse
    }
}

/// Everything the proxy needs to know about the link: shaping per direction, fault rates and
/// fault parameters, and the seed that makes the fault schedule reproducible.
///
/// Why one value: a failing soak run is reproduced by logging its plan (it is `Debug`) and
/// running again with the same plan.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultPlan {
    /// Seed of the fault RNG. Same seed and same connection order → same faults (for the `rand`
    /// version pinned by `Cargo.lock`).
    pub seed: u64,
    /// Client → server shaping ("up" from the village).
    pub up: LinkShape,
    /// Server → client shaping ("down" to the village).
    pub down: LinkShape,
    /// Delay before the proxy connects upstream and starts forwarding: the TCP handshake round
    /// trip a real link charges for every new connection (the proxy itself accepts at once on
    /// loopback). Why: it makes "one request per connection" visibly expensive, as on 2G.
    pub connect_delay: Duration,
    /// Fault probabilities per connection.
    pub rates: FaultRates,
    /// Range of the byte count after which [`Fault::CutRequest`]/[`Fault::CutResponse`] cut
    /// (drawn uniformly per connection, counted over the connection's whole life, so a
    /// keep-alive connection carrying many requests is cut somewhere in one of them).
    pub cut_after: RangeInclusive<u64>,
    /// How long a [`Fault::Stall`] holds the connection before closing it. Above the client's
    /// read timeout it exercises the timeout; below it, a slow but working server.
    pub stall_for: Duration,
}

impl FaultPlan {
    /// A transparent proxy: no shaping, no faults. Why: start here and switch on only what a
    /// test is about (`FaultPlan { rates: …, ..FaultPlan::clean(seed) }`).
    pub fn clean(seed: u64) -> FaultPlan {
        FaultPlan {
            seed,
            up: LinkShape::UNLIMITED,
            down: LinkShape::UNLIMITED,
            connect_delay: Duration::ZERO,
            rates: FaultRates::NONE,
            cut_after: 1..=64 * 1024,
            stall_for: Duration::from_secs(10),
        }
    }

    /// The worst village link of issue 5, without faults: 400 kbit/s (50,000 bytes/s) each way,
    /// 200 ms each way (400 ms round trip, also charged once per new connection). Add faults
    /// with `rates`.
    pub fn village(seed: u64) -> FaultPlan {
        let latency = Duration::from_millis(200);
        FaultPlan {
            up: LinkShape::throttled(50_000, latency),
            down: LinkShape::throttled(50_000, latency),
            connect_delay: latency * 2,
            ..FaultPlan::clean(seed)
        }
    }

    /// Checks the plan: every rate in 0..=1, their sum at most 1, a non-empty cut range. Why:
    /// a typo such as `cut_request: 5.0` would otherwise silently mean "always".
    pub fn validate(&self) -> Result<(), String> {
        let r = &self.rates;
        for (name, rate) in [
            ("cut_request", r.cut_request),
            ("cut_response", r.cut_response),
            ("drop_response", r.drop_response),
            ("stall", r.stall),
            ("refuse", r.refuse),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("fault rate {name} = {rate} is not within 0..=1"));
            }
        }
        if r.total() > 1.0 + 1e-9 {
            return Err(format!("fault rates add up to {} > 1", r.total()));
        }
        if self.cut_after.is_empty() {
            return Err(format!("cut_after range {:?} is empty", self.cut_after));
        }
        Ok(())
    }

    /// The faults the first `connections` connections would get (no forced faults, link up),
    /// computed without any socket. Why: tests and soak logs can state the expected schedule,
    /// and a reader can see what a seed does.
    pub fn schedule(&self, connections: usize) -> Vec<Option<Fault>> {
        let mut decider = Decider::new(self);
        (0..connections).map(|_| decider.next_fault()).collect()
    }
}

/// The kind of a fault, without its parameters. Why: counters and forcing by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// See [`Fault::CutRequest`].
    CutRequest,
    /// See [`Fault::CutResponse`].
    CutResponse,
    /// See [`Fault::DropResponse`].
    DropResponse,
    /// See [`Fault::Stall`].
    Stall,
    /// See [`Fault::Refuse`].
    Refuse,
}

impl FaultKind {
    /// All kinds, in the order the counters list them.
    pub const ALL: [FaultKind; 5] = [
        FaultKind::CutRequest,
        FaultKind::CutResponse,
        FaultKind::DropResponse,
        FaultKind::Stall,
        FaultKind::Refuse,
    ];
}

/// One fault, with its parameters, as decided for one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Forward exactly `after_bytes` bytes of what the client sends, then close both sides:
    /// the server reads a truncated request (EOF mid-body) and must not store it; the client
    /// sees a reset or EOF while sending or waiting. If the connection never carries that many
    /// bytes, the fault does not fire.
    CutRequest {
        /// Client → server bytes delivered before the cut.
        after_bytes: u64,
    },
    /// Forward the whole request and exactly `after_bytes` bytes of the response, then close
    /// both sides: the client reads a truncated response (EOF). The server may well have
    /// committed.
    CutResponse {
        /// Server → client bytes delivered before the cut.
        after_bytes: u64,
    },
    /// Forward the whole request; when the server's response starts (so the server has
    /// committed), close both sides without forwarding a byte of it. The client cannot tell
    /// this from a request that never arrived — the case that makes duplicates if the server
    /// is not idempotent.
    DropResponse,
    /// Accept the connection but never connect upstream nor forward anything; close after
    /// `duration`. The client's timeouts must handle it.
    Stall {
        /// How long the connection hangs before it is closed.
        duration: Duration,
    },
    /// Close at once with a TCP reset, before any byte: "server unreachable".
    Refuse,
}

impl Fault {
    /// The kind of this fault.
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::CutRequest { .. } => FaultKind::CutRequest,
            Fault::CutResponse { .. } => FaultKind::CutResponse,
            Fault::DropResponse => FaultKind::DropResponse,
            Fault::Stall { .. } => FaultKind::Stall,
            Fault::Refuse => FaultKind::Refuse,
        }
    }
}

/// The seeded source of per-connection fault decisions. It always draws the same number of
/// random values per connection, whichever fault results, so one connection's fault never
/// shifts the next one's.
#[derive(Debug)]
pub(crate) struct Decider {
    rng: StdRng,
    rates: FaultRates,
    cut_after: RangeInclusive<u64>,
    stall_for: Duration,
}

impl Decider {
    pub(crate) fn new(plan: &FaultPlan) -> Decider {
        Decider {
            rng: StdRng::seed_from_u64(plan.seed),
            rates: plan.rates.clone(),
            cut_after: plan.cut_after.clone(),
            stall_for: plan.stall_for,
        }
    }

    /// The next connection's fault (`None`: it passes untouched).
    pub(crate) fn next_fault(&mut self) -> Option<Fault> {
        let roll: f64 = self.rng.gen();
        let after_bytes = self.rng.gen_range(self.cut_after.clone());
        let r = &self.rates;
        let mut threshold = 0.0;
        let candidates = [
            (r.refuse, Fault::Refuse),
            (
                r.stall,
                Fault::Stall {
                    duration: self.stall_for,
                },
            ),
            (r.cut_request, Fault::CutRequest { after_bytes }),
            (r.cut_response, Fault::CutResponse { after_bytes }),
            (r.drop_response, Fault::DropResponse),
        ];
        for (rate, fault) in candidates {
            threshold += rate;
            if roll < threshold {
                return Some(fault);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy_plan(seed: u64) -> FaultPlan {
        FaultPlan {
            rates: FaultRates {
                cut_request: 0.1,
                cut_response: 0.1,
                drop_response: 0.1,
                stall: 0.1,
                refuse: 0.1,
            },
            ..FaultPlan::clean(seed)
        }
    }

    #[test]
    fn same_seed_same_schedule_other_seed_other_schedule() {
        let a = busy_plan(42).schedule(1_000);
        assert_eq!(a, busy_plan(42).schedule(1_000));
        assert_ne!(a, busy_plan(43).schedule(1_000));
    }

    #[test]
    fn rates_are_respected_roughly() {
        let schedule = busy_plan(7).schedule(20_000);
        for kind in FaultKind::ALL {
            let n = schedule
                .iter()
                .filter(|f| f.as_ref().map(Fault::kind) == Some(kind))
                .count();
            assert!((1_600..=2_400).contains(&n), "{kind:?}: {n} of 20000");
        }
        let clean = schedule.iter().filter(|f| f.is_none()).count();
        assert!((9_400..=10_600).contains(&clean), "clean: {clean}");
    }

    #[test]
    fn cut_points_stay_in_range() {
        let plan = FaultPlan {
            rates: FaultRates::cuts(1.0),
            cut_after: 10..=20,
            ..FaultPlan::clean(1)
        };
        for fault in plan.schedule(1_000).into_iter().flatten() {
            match fault {
                Fault::CutRequest { after_bytes } | Fault::CutResponse { after_bytes } => {
                    assert!((10..=20).contains(&after_bytes))
                }
                Fault::DropResponse => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn no_rates_no_faults() {
        assert!(FaultPlan::village(3)
            .schedule(500)
            .iter()
            .all(Option::is_none));
    }

    #[test]
    fn validate_refuses_nonsense() {
        assert!(FaultPlan::clean(0).validate().is_ok());
        let too_much = FaultPlan {
            rates: FaultRates {
                refuse: 0.6,
                stall: 0.6,
                ..FaultRates::NONE
            },
            ..FaultPlan::clean(0)
        };
        assert!(too_much.validate().is_err());
        let negative = FaultPlan {
            rates: FaultRates {
                refuse: -0.1,
                ..FaultRates::NONE
            },
            ..FaultPlan::clean(0)
        };
        assert!(negative.validate().is_err());
        #[allow(clippy::reversed_empty_ranges)]
        let empty = FaultPlan {
            cut_after: 10..=5,
            ..FaultPlan::clean(0)
        };
        assert!(empty.validate().is_err());
    }

    #[test]
    fn cuts_split_evenly_and_total() {
        let r = FaultRates::cuts(0.06);
        assert!((r.total() - 0.06).abs() < 1e-12);
        assert_eq!(r.cut_request, r.drop_response);
        assert_eq!(r.stall, 0.0);
    }
}
