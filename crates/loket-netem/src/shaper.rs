//! Moving bytes one way through the link: a shared token bucket for bandwidth, a per-chunk
//! delivery time for latency, and an optional byte budget after which the direction is cut.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, Mutex};
use tokio::time::{sleep, sleep_until, Instant};

use crate::plan::LinkShape;

/// Chunks in flight per direction and connection (between reading and delivery). Bounds memory
/// while letting a delayed link stay full: at 16 KiB chunks that is 4 MiB per latency period.
const IN_FLIGHT_CHUNKS: usize = 256;

/// One direction of the link, shared by every connection (one physical link carries them all).
#[derive(Debug)]
pub(crate) struct Direction {
    latency: Duration,
    chunk: usize,
    bucket: Option<Mutex<Bucket>>,
    /// Bytes delivered in this direction ("on the wire").
    pub(crate) delivered: AtomicU64,
}

#[derive(Debug)]
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Direction {
    pub(crate) fn new(shape: &LinkShape) -> Direction {
        // Small chunks when throttled (≈ 1/50 s of bandwidth) so delivery is smooth rather than
        // bursty; large ones otherwise, for speed.
        let chunk = match shape.bytes_per_sec {
            Some(rate) => (rate / 50).clamp(512, 16 * 1024) as usize,
            None => 16 * 1024,
        };
        Direction {
            latency: shape.latency,
            chunk,
            bucket: shape.bytes_per_sec.map(|rate| {
                let burst = shape.burst_bytes as f64;
                Mutex::new(Bucket {
                    rate: rate.max(1) as f64,
                    burst,
                    tokens: burst,
                    last: Instant::now(),
                })
            }),
            delivered: AtomicU64::new(0),
        }
    }

    /// Waits until the link may carry `n` more bytes. The bucket may go into debt (a chunk
    /// larger than the burst is allowed, then paid for by waiting), which keeps the long-run
    /// rate exact. The lock is held while waiting: senders queue in FIFO order, as on a link.
    async fn take(&self, n: usize) {
        let Some(bucket) = &self.bucket else { return };
        let mut b = bucket.lock().await;
        let now = Instant::now();
        let refill = now.duration_since(b.last).as_secs_f64() * b.rate;
        b.tokens = (b.tokens + refill).min(b.burst);
        b.last = now;
        b.tokens -= n as f64;
        if b.tokens < 0.0 {
            let wait = Duration::from_secs_f64(-b.tokens / b.rate);
            sleep(wait).await;
        }
    }
}

/// How a direction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// The source closed; everything was delivered and the destination was shut down for
    /// writing (half-close forwarded).
    Eof,
    /// The byte budget ran out: the budget was delivered, the connection must now be cut.
    Cut,
    /// Reading or writing failed (the peer reset, …).
    Failed,
}

enum Msg {
    Data(Instant, Vec<u8>),
    Cut(Instant),
    Eof(Instant),
    Failed,
}

/// Carries bytes from `src` to `dst` through `dir`: bandwidth when read, latency until written.
/// With `budget = Some(n)`, exactly `n` bytes are delivered and then [`End::Cut`] is returned
/// at the moment the cut would reach the destination; `Some(0)` cuts on the first byte read
/// (which is discarded).
pub(crate) async fn pump<R, W>(
    src: &mut R,
    dst: &mut W,
    dir: &Direction,
    budget: Option<u64>,
) -> End
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (tx, mut rx) = mpsc::channel::<Msg>(IN_FLIGHT_CHUNKS);
    let reader = async move {
        let mut remaining = budget;
        let mut buf = vec![0u8; dir.chunk];
        loop {
            let n = match src.read(&mut buf).await {
                Ok(0) => {
                    let _ = tx.send(Msg::Eof(Instant::now() + dir.latency)).await;
                    break;
                }
                Ok(n) => n,
                Err(_) => {
                    let _ = tx.send(Msg::Failed).await;
                    break;
                }
            };
            let (take, cut) = match remaining {
                Some(r) if n as u64 >= r => (r as usize, true),
                Some(r) => {
                    remaining = Some(r - n as u64);
                    (n, false)
                }
                None => (n, false),
            };
            if take > 0 {
                dir.take(take).await;
                let msg = Msg::Data(Instant::now() + dir.latency, buf[..take].to_vec());
                if tx.send(msg).await.is_err() {
                    break;
                }
            }
            if cut {
                let _ = tx.send(Msg::Cut(Instant::now() + dir.latency)).await;
                break;
            }
        }
        // Keep the channel open: the writer ends on the terminal message, not on a hang-up.
        std::future::pending::<()>().await
    };
    let writer = async {
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Data(at, bytes) => {
                    sleep_until(at).await;
                    let mut rest = &bytes[..];
                    while !rest.is_empty() {
                        match dst.write(rest).await {
                            Ok(0) | Err(_) => return End::Failed,
                            Ok(n) => {
                                dir.delivered.fetch_add(n as u64, Ordering::Relaxed);
                                rest = &rest[n..];
                            }
                        }
                    }
                }
                Msg::Cut(at) => {
                    sleep_until(at).await;
                    return End::Cut;
                }
                Msg::Eof(at) => {
                    sleep_until(at).await;
                    let _ = dst.shutdown().await;
                    return End::Eof;
                }
                Msg::Failed => return End::Failed,
            }
        }
        End::Failed
    };
    tokio::select! {
        end = writer => end,
        () = reader => End::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn budget_delivers_exactly_then_cuts() {
        let dir = Direction::new(&LinkShape::UNLIMITED);
        let data = vec![7u8; 10_000];
        let mut src = &data[..];
        let mut out = Vec::new();
        assert_eq!(pump(&mut src, &mut out, &dir, Some(1_234)).await, End::Cut);
        assert_eq!(out.len(), 1_234);
        assert_eq!(dir.delivered.load(Ordering::Relaxed), 1_234);
    }

    #[tokio::test]
    async fn zero_budget_delivers_nothing() {
        let dir = Direction::new(&LinkShape::UNLIMITED);
        let mut src = &b"response"[..];
        let mut out = Vec::new();
        assert_eq!(pump(&mut src, &mut out, &dir, Some(0)).await, End::Cut);
        assert!(out.is_empty());
    }

    #[tokio::test]
    async fn budget_larger_than_stream_ends_in_eof() {
        let dir = Direction::new(&LinkShape::UNLIMITED);
        let mut src = &b"short"[..];
        let mut out = Vec::new();
        assert_eq!(pump(&mut src, &mut out, &dir, Some(100)).await, End::Eof);
        assert_eq!(out, b"short");
    }

    #[tokio::test]
    async fn latency_delays_delivery() {
        let dir = Direction::new(&LinkShape::delayed(Duration::from_millis(150)));
        let mut src = &b"x"[..];
        let mut out = Vec::new();
        let start = Instant::now();
        assert_eq!(pump(&mut src, &mut out, &dir, None).await, End::Eof);
        assert!(start.elapsed() >= Duration::from_millis(150));
    }
}
