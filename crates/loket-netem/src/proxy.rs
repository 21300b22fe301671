//! The proxy itself: accept loop, per-connection fault handling, runtime controls, counters.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::sleep;

use crate::plan::{Decider, Fault, FaultKind, FaultPlan};
use crate::shaper::{pump, Direction, End};

/// A running fault-injection proxy on `127.0.0.1`, forwarding every accepted connection to one
/// upstream address through the shaped, faulty link its [`FaultPlan`] describes.
///
/// Why a proxy rather than mocks: the sync client and server are tested with their real HTTP,
/// TLS and TCP stacks, so a cut really is a truncated body on the server and a lost response
/// really is an error in the client.
///
/// Dropping the proxy stops it: the listener closes and every connection through it is closed.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

/// A snapshot of the proxy's counters.
///
/// Why: a benchmark reports bytes on the wire ÷ payload bytes from `bytes_up + bytes_down`, and a
/// soak test asserts `faults.total() >= 200`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted while the link was up (each got a fault decision).
    pub connections: u64,
    /// Connections accepted while the link was down and reset at once (no fault decision).
    pub refused_offline: u64,
    /// Connections in progress when the link went down, reset then.
    pub aborted_offline: u64,
    /// Connections whose upstream could not be reached (the server is down: killed, restarting).
    pub upstream_unreachable: u64,
    /// Client → server bytes delivered to the upstream.
    pub bytes_up: u64,
    /// Server → client bytes delivered to clients.
    pub bytes_down: u64,
    /// Faults that actually took effect, by kind (a planned cut on a connection that never
    /// carried enough bytes is not counted).
    pub faults: FaultCounts,
}

impl Stats {
    /// Bytes on the wire in both directions. Why: the numerator of "wire ÷ payload".
    pub fn bytes_total(&self) -> u64 {
        self.bytes_up + self.bytes_down
    }
}

/// Faults that took effect, by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// [`Fault::CutRequest`] cuts that happened.
    pub cut_request: u64,
    /// [`Fault::CutResponse`] cuts that happened.
    pub cut_response: u64,
    /// [`Fault::DropResponse`] drops that happened (the upstream had started to answer).
    pub drop_response: u64,
    /// [`Fault::Stall`] connections held and closed.
    pub stall: u64,
    /// [`Fault::Refuse`] connections reset at once.
    pub refuse: u64,
}

impl FaultCounts {
    /// All faults that took effect.
    pub fn total(&self) -> u64 {
        self.cut_request + self.cut_response + self.drop_response + self.stall + self.refuse
    }

    /// The count for one kind.
    pub fn get(&self, kind: FaultKind) -> u64 {
        match kind {
            FaultKind::CutRequest => self.cut_request,
            FaultKind::CutResponse => self.cut_response,
            FaultKind::DropResponse => self.drop_response,
            FaultKind::Stall => self.stall,
            FaultKind::Refuse => self.refuse,
        }
    }
}

/// What the proxy decided for one connection and what became of it. Why: when a soak run
/// finds a duplicate, the log says which connection was cut where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionRecord {
    /// Accept order among connections accepted while the link was up, from 0.
    pub index: u64,
    /// The fault decided for it (`None`: pass untouched).
    pub fault: Option<Fault>,
    /// Whether the fault came from [`Proxy::force_next`]/[`Proxy::force_clean`] rather than the
    /// seeded RNG.
    pub forced: bool,
    /// What happened.
    pub outcome: Outcome,
}

/// The end of one connection through the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Still running.
    Open,
    /// Both directions ended normally (any planned fault did not fire).
    Completed,
    /// The planned fault took effect.
    Faulted,
    /// The link went down while it ran.
    AbortedOffline,
    /// The upstream refused or could not be reached.
    UpstreamUnreachable,
    /// A peer reset or an IO error ended it.
    Failed,
}

#[derive(Debug)]
struct Shared {
    upstream: SocketAddr,
    connect_delay: Duration,
    up: Direction,
    down: Direction,
    link: watch::Sender<bool>,
    control: Mutex<Control>,
    counters: Counters,
}

#[derive(Debug)]
struct Control {
    decider: Decider,
    forced: VecDeque<Option<Fault>>,
    log: Vec<ConnectionRecord>,
}

#[derive(Debug, Default)]
struct Counters {
    connections: AtomicU64,
    refused_offline: AtomicU64,
    aborted_offline: AtomicU64,
    upstream_unreachable: AtomicU64,
    faults: [AtomicU64; 5],
}

fn kind_slot(kind: FaultKind) -> usize {
    match kind {
        FaultKind::CutRequest => 0,
        FaultKind::CutResponse => 1,
        FaultKind::DropResponse => 2,
        FaultKind::Stall => 3,
        FaultKind::Refuse => 4,
    }
}

impl Shared {
    fn control(&self) -> MutexGuard<'_, Control> {
        // A panic elsewhere must not turn every later call into a panic: the data stays valid.
        self.control.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn finish(&self, index: u64, outcome: Outcome, fault: Option<&Fault>) {
        if outcome == Outcome::Faulted {
            if let Some(fault) = fault {
                self.counters.faults[kind_slot(fault.kind())].fetch_add(1, Ordering::Relaxed);
            }
        }
        match outcome {
            Outcome::AbortedOffline => {
                self.counters
                    .aborted_offline
                    .fetch_add(1, Ordering::Relaxed);
            }
            Outcome::UpstreamUnreachable => {
                self.counters
                    .upstream_unreachable
                    .fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
        if let Some(record) = self.control().log.get_mut(index as usize) {
            record.outcome = outcome;
        }
    }
}

impl Proxy {
    /// Starts a proxy on `127.0.0.1:0` forwarding to `upstream`, on the current tokio runtime.
    ///
    /// Not `async` so blocking test code can start one too (see [`Proxy::start_on`]). Fails if
    /// the plan is invalid ([`FaultPlan::validate`]) or no port can be bound.
    ///
    /// # Panics
    /// Outside a tokio runtime, like `tokio::spawn`.
    pub fn start(upstream: SocketAddr, plan: FaultPlan) -> io::Result<Proxy> {
        Proxy::start_on(&Handle::current(), upstream, plan)
    }

    /// Starts a proxy whose tasks run on `runtime`. Why: the sync client is blocking; a test
    /// keeps a multi-threaded runtime for the proxy and calls the client from its own thread.
    pub fn start_on(runtime: &Handle, upstream: SocketAddr, plan: FaultPlan) -> io::Result<Proxy> {
        plan.validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let _entered = runtime.enter();
        let listener = TcpListener::from_std(std_listener)?;
        let (link, _) = watch::channel(true);
        let shared = Arc::new(Shared {
            upstream,
            connect_delay: plan.connect_delay,
            up: Direction::new(&plan.up),
            down: Direction::new(&plan.down),
            link,
            control: Mutex::new(Control {
                decider: Decider::new(&plan),
                forced: VecDeque::new(),
                log: Vec::new(),
            }),
            counters: Counters::default(),
        });
        let accept = runtime.spawn(accept_loop(listener, shared.clone()));
        Ok(Proxy {
            addr,
            shared,
            accept,
        })
    }

    /// The address clients connect to instead of the upstream.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the base URL to give an HTTP client instead of the server's.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Switches the link up or down at runtime. Down: connections in progress are reset and new
    /// ones are reset on accept, until it is switched up again. Why: "offline for days, then
    /// online" without waiting days.
    pub fn set_link_up(&self, up: bool) {
        self.shared.link.send_replace(up);
    }

    /// Whether the link is up.
    pub fn link_up(&self) -> bool {
        *self.shared.link.borrow()
    }

    /// The next `count` connections (accepted while the link is up) get `fault`, whatever the
    /// RNG says. Queued after any forcing already pending. The RNG still advances for them, so
    /// the seeded schedule of later connections does not move. Why: a test that must see a lost
    /// response after a commit should not depend on luck.
    pub fn force_next(&self, count: usize, fault: Fault) {
        let mut control = self.shared.control();
        control
            .forced
            .extend(std::iter::repeat_n(Some(fault), count));
    }

    /// The next `count` connections pass untouched, whatever the RNG says (queued like
    /// [`Proxy::force_next`]). Why: let a setup step through a faulty link.
    pub fn force_clean(&self, count: usize) {
        let mut control = self.shared.control();
        control.forced.extend(std::iter::repeat_n(None, count));
    }

    /// Drops any forcing still pending: later connections follow the seeded RNG again.
    pub fn clear_forced(&self) {
        self.shared.control().forced.clear();
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let fault = |kind| load(&c.faults[kind_slot(kind)]);
        Stats {
            connections: load(&c.connections),
            refused_offline: load(&c.refused_offline),
            aborted_offline: load(&c.aborted_offline),
            upstream_unreachable: load(&c.upstream_unreachable),
            bytes_up: load(&self.shared.up.delivered),
            bytes_down: load(&self.shared.down.delivered),
            faults: FaultCounts {
                cut_request: fault(FaultKind::CutRequest),
                cut_response: fault(FaultKind::CutResponse),
                drop_response: fault(FaultKind::DropResponse),
                stall: fault(FaultKind::Stall),
                refuse: fault(FaultKind::Refuse),
            },
        }
    }

    /// Every connection accepted while the link was up, in accept order, with its fault and
    /// outcome. Grows by one small record per connection.
    pub fn log(&self) -> Vec<ConnectionRecord> {
        self.shared.control().log.clone()
    }

    /// The faults decided so far, in accept order (`None`: passed untouched). Why: compare with
    /// [`FaultPlan::schedule`] to check determinism.
    pub fn fault_sequence(&self) -> Vec<Option<Fault>> {
        self.shared
            .control()
            .log
            .iter()
            .map(|r| r.fault.clone())
            .collect()
    }

    /// Stops the proxy and waits until its tasks are gone (dropping it does the same without
    /// waiting).
    pub async fn shutdown(mut self) {
        self.accept.abort();
        // Cancelled is the expected result; `Drop` then aborts again, harmlessly.
        let _ = (&mut self.accept).await;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // The accept task owns the listener and the JoinSet of connection tasks: aborting it
        // drops them all, closing every socket.
        self.accept.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((client, _)) = accepted else {
                    // Out of file descriptors or similar: back off instead of spinning.
                    sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = client.set_nodelay(true);
                if !*shared.link.borrow() {
                    shared.counters.refused_offline.fetch_add(1, Ordering::Relaxed);
                    reset(client);
                    continue;
                }
                let (index, fault) = decide(&shared);
                tasks.spawn(connection(client, index, fault, shared.clone()));
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
}

/// Decides the next accepted connection's fault and logs it.
fn decide(shared: &Shared) -> (u64, Option<Fault>) {
    let mut control = shared.control();
    let random = control.decider.next_fault();
    let (fault, forced) = match control.forced.pop_front() {
        Some(forced) => (forced, true),
        None => (random, false),
    };
    let index = control.log.len() as u64;
    control.log.push(ConnectionRecord {
        index,
        fault: fault.clone(),
        forced,
        outcome: Outcome::Open,
    });
    shared.counters.connections.fetch_add(1, Ordering::Relaxed);
    (index, fault)
}

/// Closes with a TCP reset rather than a FIN: what a refused or vanished path looks like.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

async fn connection(client: TcpStream, index: u64, fault: Option<Fault>, shared: Arc<Shared>) {
    let outcome = run(client, fault.as_ref(), &shared).await;
    shared.finish(index, outcome, fault.as_ref());
}

async fn link_down(link: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, i.e. the proxy is shutting down: never resolve then,
    // the task is about to be aborted.
    if link.wait_for(|up| !*up).await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn run(client: TcpStream, fault: Option<&Fault>, shared: &Shared) -> Outcome {
    let mut link = shared.link.subscribe();
    let (up_budget, down_budget) = match fault {
        Some(Fault::Refuse) => {
            reset(client);
            return Outcome::Faulted;
        }
        Some(Fault::Stall { duration }) => {
            tokio::select! {
                () = sleep(*duration) => {
                    drop(client);
                    return Outcome::Faulted;
                }
                () = link_down(&mut link) => {
                    reset(client);
                    return Outcome::AbortedOffline;
                }
            }
        }
        Some(Fault::CutRequest { after_bytes }) => (Some(*after_bytes), None),
        Some(Fault::CutResponse { after_bytes }) => (None, Some(*after_bytes)),
        Some(Fault::DropResponse) => (None, Some(0)),
        None => (None, None),
    };

    let connect = async {
        sleep(shared.connect_delay).await;
        TcpStream::connect(shared.upstream).await
    };
    let server = tokio::select! {
        connected = connect => match connected {
            Ok(server) => server,
            Err(_) => {
                reset(client);
                return Outcome::UpstreamUnreachable;
            }
        },
        () = link_down(&mut link) => {
            reset(client);
            return Outcome::AbortedOffline;
        }
    };
    let _ = server.set_nodelay(true);

    let (mut client_rd, mut client_wr) = client.into_split();
    let (mut server_rd, mut server_wr) = server.into_split();
    let outcome = {
        let up = pump(&mut client_rd, &mut server_wr, &shared.up, up_budget);
        let down = pump(&mut server_rd, &mut client_wr, &shared.down, down_budget);
        tokio::pin!(up, down);
        let (mut up_done, mut down_done) = (false, false);
        loop {
            let end = tokio::select! {
                end = &mut up, if !up_done => { up_done = true; end }
                end = &mut down, if !down_done => { down_done = true; end }
                () = link_down(&mut link) => break Outcome::AbortedOffline,
            };
            match end {
                End::Eof if up_done && down_done => break Outcome::Completed,
                End::Eof => {}
                End::Cut => break Outcome::Faulted,
                End::Failed => break Outcome::Failed,
            }
        }
    };
    if outcome == Outcome::AbortedOffline {
        // The path vanished: reset both peers instead of a tidy FIN.
        if let Ok(client) = client_rd.reunite(client_wr) {
            reset(client);
        }
        if let Ok(server) = server_rd.reunite(server_wr) {
            reset(server);
        }
    }
    // Otherwise dropping the halves closes both sides with a FIN, so after a cut the peer reads
    // exactly the bytes delivered, then EOF.
    outcome
}
