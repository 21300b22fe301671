//! The proxy observed from outside, with real sockets on loopback: shaping, each fault at the
//! right byte, determinism, counters, the link switch, shutdown.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use loket_netem::{Fault, FaultKind, FaultPlan, FaultRates, LinkShape, Outcome, Proxy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;

const PATIENCE: Duration = Duration::from_secs(10);

/// An upstream that counts the connections it accepted.
struct Upstream {
    addr: SocketAddr,
    accepted: Arc<AtomicU64>,
}

/// Spawns an upstream running `serve` for each connection.
async fn upstream<F, Fut>(serve: F) -> Upstream
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicU64::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve(stream));
        }
    });
    Upstream { addr, accepted }
}

/// Echoes everything, forwards the half-close.
async fn echo_server() -> Upstream {
    upstream(|stream| async move {
        let (mut rd, mut wr) = stream.into_split();
        let _ = tokio::io::copy(&mut rd, &mut wr).await;
        let _ = wr.shutdown().await;
    })
    .await
}

/// Reads until EOF or error, reports how many bytes arrived, answers with that count.
async fn sink_server() -> (Upstream, mpsc::UnboundedReceiver<u64>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let up = upstream(move |mut stream| {
        let tx = tx.clone();
        async move {
            let mut buf = vec![0u8; 64 * 1024];
            let mut total = 0u64;
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                total += n as u64;
            }
            let _ = tx.send(total);
            let _ = stream.write_all(&total.to_be_bytes()).await;
        }
    })
    .await;
    (up, rx)
}

/// Sends `len` bytes on connect, then closes.
async fn source_server(len: usize) -> Upstream {
    upstream(move |mut stream| async move {
        let _ = stream.write_all(&vec![b'z'; len]).await;
        let _ = stream.shutdown().await;
    })
    .await
}

/// Reads one line, "commits" it (reports it), then answers "OK\n" and waits for EOF.
async fn commit_server() -> (Upstream, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let up = upstream(move |mut stream| {
        let tx = tx.clone();
        async move {
            let mut line = Vec::new();
            let mut byte = [0u8; 1];
            while let Ok(1) = stream.read(&mut byte).await {
                if byte[0] == b'\n' {
                    let _ = tx.send(String::from_utf8_lossy(&line).into_owned());
                    let _ = stream.write_all(b"OK\n").await;
                    line.clear();
                } else {
                    line.push(byte[0]);
                }
            }
        }
    })
    .await;
    (up, rx)
}

/// What a client saw: the bytes it received and the first error (reset, broken pipe), if any.
#[derive(Debug)]
struct Seen {
    received: Vec<u8>,
    error: Option<io::ErrorKind>,
}

/// Connects, sends `payload`, half-closes, reads until EOF or error.
async fn exchange(addr: SocketAddr, payload: &[u8]) -> Seen {
    timeout(PATIENCE, async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut error = None;
        if !payload.is_empty() {
            if let Err(e) = stream.write_all(payload).await {
                error = Some(e.kind());
            }
        }
        if error.is_none() {
            if let Err(e) = stream.shutdown().await {
                error = Some(e.kind());
            }
        }
        let (received, read_error) = read_all(&mut stream).await;
        Seen {
            received,
            error: error.or(read_error),
        }
    })
    .await
    .expect("exchange took too long")
}

async fn read_all(stream: &mut TcpStream) -> (Vec<u8>, Option<io::ErrorKind>) {
    let mut received = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => return (received, None),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) => return (received, Some(e.kind())),
        }
    }
}

/// Waits (briefly) for a condition that a proxy task sets just after the client is done.
async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < PATIENCE, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[tokio::test]
async fn clean_plan_is_transparent_and_counters_add_up() {
    let echo = echo_server().await;
    let proxy = Proxy::start(echo.addr, FaultPlan::clean(1)).unwrap();
    let payload = pattern(10_000);
    for _ in 0..5 {
        let seen = exchange(proxy.addr(), &payload).await;
        assert_eq!(seen.error, None);
        assert_eq!(seen.received, payload);
    }
    eventually("all connections completed", || {
        proxy.log().iter().all(|r| r.outcome == Outcome::Completed)
    })
    .await;
    let stats = proxy.stats();
    assert_eq!(stats.connections, 5);
    assert_eq!(stats.bytes_up, 50_000);
    assert_eq!(stats.bytes_down, 50_000);
    assert_eq!(stats.bytes_total(), 100_000);
    assert_eq!(stats.faults.total(), 0);
    assert_eq!(proxy.log().len(), 5);
}

#[tokio::test]
async fn upload_is_throttled_to_the_bandwidth() {
    let (sink, mut counts) = sink_server().await;
    let plan = FaultPlan {
        up: LinkShape::throttled(50_000, Duration::from_millis(50)),
        ..FaultPlan::clean(2)
    };
    let proxy = Proxy::start(sink.addr, plan).unwrap();
    let start = Instant::now();
    let seen = exchange(proxy.addr(), &pattern(100_000)).await;
    let elapsed = start.elapsed();
    assert_eq!(seen.received, 100_000u64.to_be_bytes());
    assert_eq!(counts.recv().await, Some(100_000));
    // 100 KB at 50 KB/s is 2 s; generous bounds: this checks the shaper, not the machine.
    assert!(
        elapsed >= Duration::from_millis(1_400),
        "too fast: {elapsed:?}"
    );
    assert!(
        elapsed <= Duration::from_secs(8),
        "far too slow: {elapsed:?}"
    );
    assert_eq!(proxy.stats().bytes_up, 100_000);
}

#[tokio::test]
async fn download_is_throttled_to_the_bandwidth() {
    let source = source_server(100_000).await;
    let plan = FaultPlan {
        down: LinkShape::throttled(50_000, Duration::from_millis(50)),
        ..FaultPlan::clean(3)
    };
    let proxy = Proxy::start(source.addr, plan).unwrap();
    let start = Instant::now();
    let seen = exchange(proxy.addr(), b"").await;
    let elapsed = start.elapsed();
    assert_eq!(seen.received.len(), 100_000);
    assert!(
        elapsed >= Duration::from_millis(1_400),
        "too fast: {elapsed:?}"
    );
    assert!(
        elapsed <= Duration::from_secs(8),
        "far too slow: {elapsed:?}"
    );
    assert_eq!(proxy.stats().bytes_down, 100_000);
}

#[tokio::test]
async fn latency_and_connect_delay_add_round_trips() {
    let echo = echo_server().await;
    let plan = FaultPlan {
        up: LinkShape::delayed(Duration::from_millis(100)),
        down: LinkShape::delayed(Duration::from_millis(100)),
        connect_delay: Duration::from_millis(150),
        ..FaultPlan::clean(4)
    };
    let proxy = Proxy::start(echo.addr, plan).unwrap();
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    let start = Instant::now();
    stream.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    stream.read_exact(&mut buf).await.unwrap();
    let first = start.elapsed();
    assert!(
        first >= Duration::from_millis(350),
        "first round trip {first:?}"
    );
    // On an open connection only the 200 ms round trip is charged.
    let start = Instant::now();
    stream.write_all(b"pong").await.unwrap();
    stream.read_exact(&mut buf).await.unwrap();
    let second = start.elapsed();
    assert_eq!(&buf, b"pong");
    assert!(
        second >= Duration::from_millis(200),
        "round trip {second:?}"
    );
    assert!(
        second < Duration::from_millis(350),
        "connect delay charged twice: {second:?}"
    );
}

#[tokio::test]
async fn cut_request_delivers_exactly_n_bytes_then_closes() {
    let (sink, mut counts) = sink_server().await;
    let proxy = Proxy::start(sink.addr, FaultPlan::clean(5)).unwrap();
    proxy.force_next(
        1,
        Fault::CutRequest {
            after_bytes: 10_000,
        },
    );
    let seen = exchange(proxy.addr(), &pattern(100_000)).await;
    // The server read a truncated request: exactly the first 10,000 bytes, then EOF.
    assert_eq!(counts.recv().await, Some(10_000));
    // The client got no answer: EOF or reset (its unsent bytes make the kernel reset).
    assert!(seen.received.is_empty(), "{seen:?}");
    eventually("cut counted", || proxy.stats().faults.cut_request == 1).await;
    assert_eq!(proxy.stats().bytes_up, 10_000);
    assert_eq!(proxy.log()[0].outcome, Outcome::Faulted);
}

#[tokio::test]
async fn cut_response_delivers_exactly_n_bytes_then_eof() {
    let source = source_server(100_000).await;
    let proxy = Proxy::start(source.addr, FaultPlan::clean(6)).unwrap();
    proxy.force_next(1, Fault::CutResponse { after_bytes: 7_777 });
    let seen = exchange(proxy.addr(), b"").await;
    assert_eq!(seen.received.len(), 7_777, "{:?}", seen.error);
    eventually("cut counted", || proxy.stats().faults.cut_response == 1).await;
    assert_eq!(proxy.stats().bytes_down, 7_777);
}

#[tokio::test]
async fn drop_response_loses_the_answer_after_the_commit() {
    let (server, mut commits) = commit_server().await;
    let proxy = Proxy::start(server.addr, FaultPlan::clean(7)).unwrap();
    proxy.force_next(1, Fault::DropResponse);

    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    stream.write_all(b"SAVE application-1\n").await.unwrap();
    let (received, _) = timeout(PATIENCE, read_all(&mut stream)).await.unwrap();
    // The server committed, the client heard nothing: the duplicate-making case.
    assert_eq!(commits.recv().await.as_deref(), Some("SAVE application-1"));
    assert!(received.is_empty(), "{received:?}");
    eventually("drop counted", || proxy.stats().faults.drop_response == 1).await;
    assert_eq!(proxy.stats().bytes_down, 0);

    // The retry on a new connection goes through and gets its answer.
    let mut stream = TcpStream::connect(proxy.addr()).await.unwrap();
    stream.write_all(b"SAVE application-1\n").await.unwrap();
    let mut answer = [0u8; 3];
    timeout(PATIENCE, stream.read_exact(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&answer, b"OK\n");
    assert_eq!(commits.recv().await.as_deref(), Some("SAVE application-1"));
}

#[tokio::test]
async fn stall_forwards_nothing_then_closes() {
    let echo = echo_server().await;
    let proxy = Proxy::start(echo.addr, FaultPlan::clean(8)).unwrap();
    let stall = Duration::from_millis(300);
    proxy.force_next(1, Fault::Stall { duration: stall });
    let start = Instant::now();
    let seen = exchange(proxy.addr(), b"hello?").await;
    let elapsed = start.elapsed();
    assert!(seen.received.is_empty(), "{seen:?}");
    assert!(elapsed >= stall, "closed after {elapsed:?}");
    assert_eq!(echo.accepted.load(Ordering::SeqCst), 0);
    eventually("stall counted", || proxy.stats().faults.stall == 1).await;
}

#[tokio::test]
async fn refuse_resets_at_once() {
    let echo = echo_server().await;
    let proxy = Proxy::start(echo.addr, FaultPlan::clean(9)).unwrap();
    proxy.force_next(1, Fault::Refuse);
    let start = Instant::now();
    let seen = exchange(proxy.addr(), b"hello?").await;
    assert!(seen.received.is_empty(), "{seen:?}");
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(echo.accepted.load(Ordering::SeqCst), 0);
    eventually("refusal counted", || proxy.stats().faults.refuse == 1).await;
    // The connection after it is untouched.
    assert_eq!(exchange(proxy.addr(), b"hi").await.received, b"hi");
}

/// A plan where every fault kind fires whenever it is drawn (cuts come before the 1,000 bytes
/// each test connection sends; the echo server always answers, so drops fire).
fn busy_plan(seed: u64) -> FaultPlan {
    FaultPlan {
        rates: FaultRates {
            cut_request: 0.15,
            cut_response: 0.15,
            drop_response: 0.15,
            stall: 0.1,
            refuse: 0.15,
        },
        cut_after: 1..=500,
        stall_for: Duration::from_millis(10),
        ..FaultPlan::clean(seed)
    }
}

/// Runs `n` connections one after another (so accept order is connection order).
async fn run_sequentially(proxy: &Proxy, n: usize) {
    for _ in 0..n {
        exchange(proxy.addr(), &pattern(1_000)).await;
    }
    eventually("all connections ended", || {
        proxy.log().iter().all(|r| r.outcome != Outcome::Open)
    })
    .await;
}

#[tokio::test]
async fn same_seed_same_faults_and_counters_match_the_schedule() {
    let echo = echo_server().await;
    let n = 40;
    let mut sequences = Vec::new();
    for _ in 0..2 {
        let proxy = Proxy::start(echo.addr, busy_plan(2024)).unwrap();
        run_sequentially(&proxy, n).await;
        let sequence = proxy.fault_sequence();
        assert_eq!(sequence, busy_plan(2024).schedule(n));
        let stats = proxy.stats();
        assert_eq!(stats.connections, n as u64);
        for kind in FaultKind::ALL {
            let planned = sequence
                .iter()
                .filter(|f| f.as_ref().map(Fault::kind) == Some(kind))
                .count() as u64;
            assert_eq!(stats.faults.get(kind), planned, "{kind:?}");
        }
        let clean = sequence.iter().filter(|f| f.is_none()).count() as u64;
        assert_eq!(stats.faults.total() + clean, n as u64);
        for record in proxy.log() {
            let expected = match record.fault {
                Some(_) => Outcome::Faulted,
                None => Outcome::Completed,
            };
            assert_eq!(record.outcome, expected, "{record:?}");
        }
        sequences.push(sequence);
    }
    assert_eq!(sequences[0], sequences[1]);
    assert_ne!(sequences[0], busy_plan(2025).schedule(n));
    assert!(sequences[0].iter().any(Option::is_some));
}

#[tokio::test]
async fn forcing_does_not_shift_the_seeded_schedule() {
    let echo = echo_server().await;
    let proxy = Proxy::start(echo.addr, busy_plan(77)).unwrap();
    proxy.force_next(3, Fault::Refuse);
    proxy.force_clean(2);
    run_sequentially(&proxy, 10).await;
    let log = proxy.log();
    let schedule = busy_plan(77).schedule(10);
    for (i, record) in log.iter().enumerate() {
        let (fault, forced) = match i {
            0..=2 => (Some(Fault::Refuse), true),
            3..=4 => (None, true),
            _ => (schedule[i].clone(), false),
        };
        assert_eq!(
            (record.fault.clone(), record.forced),
            (fault, forced),
            "{i}"
        );
    }
}

#[tokio::test]
async fn link_down_resets_then_link_up_works_again() {
    let echo = echo_server().await;
    let proxy = Proxy::start(echo.addr, FaultPlan::clean(10)).unwrap();

    // A connection in progress when the link goes down is reset.
    let mut open = TcpStream::connect(proxy.addr()).await.unwrap();
    open.write_all(b"before").await.unwrap();
    let mut buf = [0u8; 6];
    open.read_exact(&mut buf).await.unwrap();
    proxy.set_link_up(false);
    assert!(!proxy.link_up());
    let (received, _) = timeout(PATIENCE, read_all(&mut open)).await.unwrap();
    assert!(received.is_empty());

    // New connections are refused while it is down, for as long as it is down.
    for _ in 0..3 {
        let seen = exchange(proxy.addr(), b"offline?").await;
        assert!(seen.received.is_empty(), "{seen:?}");
    }
    eventually("offline counted", || {
        let s = proxy.stats();
        s.aborted_offline == 1 && s.refused_offline == 3
    })
    .await;

    proxy.set_link_up(true);
    assert_eq!(exchange(proxy.addr(), b"online").await.received, b"online");
    let stats = proxy.stats();
    assert_eq!(stats.connections, 2, "refused ones get no fault decision");
    assert_eq!(stats.faults.total(), 0);
    assert_eq!(proxy.log()[0].outcome, Outcome::AbortedOffline);
}

#[tokio::test]
async fn unreachable_upstream_is_a_reset_and_counted() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let proxy = Proxy::start(addr, FaultPlan::clean(11)).unwrap();
    let seen = exchange(proxy.addr(), b"anyone?").await;
    assert!(seen.received.is_empty());
    eventually("counted", || proxy.stats().upstream_unreachable == 1).await;
    assert_eq!(proxy.log()[0].outcome, Outcome::UpstreamUnreachable);
}

#[tokio::test]
async fn dropping_the_proxy_closes_everything() {
    let echo = echo_server().await;
    let proxy = Proxy::start(echo.addr, FaultPlan::clean(12)).unwrap();
    let addr = proxy.addr();
    let mut open = TcpStream::connect(addr).await.unwrap();
    open.write_all(b"x").await.unwrap();
    let mut buf = [0u8; 1];
    open.read_exact(&mut buf).await.unwrap();

    drop(proxy);
    let (received, _) = timeout(PATIENCE, read_all(&mut open)).await.unwrap();
    assert!(received.is_empty());
    let start = Instant::now();
    while TcpStream::connect(addr).await.is_ok() {
        assert!(start.elapsed() < PATIENCE, "still listening");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn shutdown_waits_for_the_tasks() {
    let echo = echo_server().await;
    let proxy = Proxy::start(echo.addr, FaultPlan::clean(13)).unwrap();
    let addr = proxy.addr();
    proxy.shutdown().await;
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn invalid_plan_is_refused() {
    let plan = FaultPlan {
        rates: FaultRates {
            refuse: 2.0,
            ..FaultRates::NONE
        },
        ..FaultPlan::clean(14)
    };
    let err = Proxy::start("127.0.0.1:9".parse().unwrap(), plan).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}

/// The sync client is blocking: the proxy runs on a runtime kept aside, the test thread uses
/// plain std sockets.
#[test]
fn usable_from_blocking_code() {
    use std::io::{Read, Write};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let echo = runtime.block_on(echo_server());
    let proxy = Proxy::start_on(runtime.handle(), echo.addr, FaultPlan::clean(15)).unwrap();
    let mut stream = std::net::TcpStream::connect(proxy.addr()).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.write_all(b"blocking").unwrap();
    let mut buf = [0u8; 8];
    stream.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"blocking");
    assert!(proxy.http_url().starts_with("http://127.0.0.1:"));
}
