//! `pinlab serve`: serves the web build and hosts live-class rooms.
//!
//! One tokio runtime, axum for HTTP and WebSockets. The rooms' rules are
//! `pinlab_room::Hub` (pure); this crate only moves text between sockets
//! and the hub, with the clock and the entropy the hub needs. Each
//! connection has a bounded outbox: a student whose device cannot keep up
//! is disconnected (and resumes on reconnect) instead of growing the
//! server's memory. The lecturer's room view (students and counts) is a
//! state, not a stream: only its latest value waits to be sent, so 300
//! answers arriving at once are a handful of updates, never an overflow.

use axum::Router;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use futures_util::{SinkExt, StreamExt};
use pinlab_room::limits::LECTURER_MAX_BYTES;
use pinlab_room::{ConnId, Delivery, Hub, Inputs, ServerMsg, To};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

mod site;
pub use site::Site;

/// Messages waiting for one connection before it is dropped as too slow.
const OUTBOX: usize = 256;
/// How often the server pings each connection.
const PING_EVERY: Duration = Duration::from_secs(20);
/// A connection that sends nothing (not even a pong) this long is closed:
/// a phone that left the hall's Wi-Fi without closing its socket.
const SILENT_FOR: Duration = Duration::from_secs(60);
/// The path of the live-class WebSocket.
pub const LIVE_PATH: &str = "/live";

/// What the writer task of a connection sends.
#[derive(Clone, Debug)]
enum Out {
    Text(Utf8Bytes),
    /// Send this text, then close the socket (the room ended).
    Last(Utf8Bytes),
}

/// Where a connection's messages wait for its writer task.
struct Outbox {
    queue: mpsc::Sender<Out>,
    /// The latest `room` message (the lecturer's aggregate view).
    latest: watch::Sender<Option<Utf8Bytes>>,
}

struct Inner {
    hub: Hub,
    outboxes: HashMap<ConnId, Outbox>,
}

/// The server's state, shared by every connection.
pub struct Shared {
    inner: Mutex<Inner>,
    next: AtomicU64,
    start: Instant,
}

impl Shared {
    fn new() -> Arc<Shared> {
        Arc::new(Shared {
            inner: Mutex::new(Inner {
                hub: Hub::default(),
                outboxes: HashMap::new(),
            }),
            next: AtomicU64::new(1),
            start: Instant::now(),
        })
    }

    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Runs `f` on the hub and delivers what it says (under the one lock,
    /// so every connection sees messages in the order the hub made them).
    fn with_hub(&self, f: impl FnOnce(&mut Hub, u64) -> Vec<Delivery>) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let out = f(&mut inner.hub, self.now_ms());
        let mut slow = Vec::new();
        for d in out {
            let text: Utf8Bytes = d.msg.to_json().into();
            let last = matches!(d.msg, ServerMsg::Closed { .. });
            let to = match d.to {
                To::One(c) => vec![c],
                To::Many(v) => v,
            };
            let state = matches!(d.msg, ServerMsg::Room { .. });
            for c in to {
                let Some(o) = inner.outboxes.get(&c) else { continue };
                if state {
                    o.latest.send_replace(Some(text.clone()));
                    continue;
                }
                let m = if last {
                    Out::Last(text.clone())
                } else {
                    Out::Text(text.clone())
                };
                if o.queue.try_send(m).is_err() {
                    slow.push(c);
                }
            }
        }
        // A full outbox: drop the connection; the client reconnects and catches up.
        for c in slow {
            inner.outboxes.remove(&c);
        }
    }

    /// Counts for `/live/status`.
    fn status(&self) -> (usize, usize) {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        (inner.hub.rooms(), inner.hub.connections())
    }
}

fn entropy() -> [u8; 32] {
    let mut e = [0u8; 32];
    // The OS's generator does not fail on Linux once booted; if it ever
    // did, a room code must not be predictable, so refuse to go on.
    getrandom::fill(&mut e).expect("the operating system's random number generator");
    e
}

/// What a page served here may run and reach: scripts and WebAssembly from
/// this server only (no inline script, so a lesson's text that reaches a
/// page as HTML cannot run), connections back to this server (the live
/// class's socket), no plugins, no `<base>` and no form posts. Inline
/// styles stay allowed (the loading screen's). Framing by other sites is
/// allowed: embedding pinlab in a course page is a feature (embed.html).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'none'";

/// The router: the site, the live-class socket and its status.
pub fn router(site: impl Into<Site>) -> Router {
    use axum::http::{HeaderValue, header};
    let shared = Shared::new();
    spawn_sweeper(shared.clone());
    let app = Router::new()
        .route(LIVE_PATH, get(upgrade))
        .route("/live/status", get(status))
        .with_state(shared);
    let app = site.into().serve_under(app);
    app.layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    ))
    .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ))
}

/// A browser says which page opened a socket (`Origin`); only pages served
/// by this same host may join a room, so a hostile page elsewhere cannot
/// use a student's browser to flood or spy on one. Clients that are not
/// browsers send no Origin and are let through (the room's own limits
/// apply to them).
pub fn origin_allowed(origin: Option<&str>, host: Option<&str>) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let Some(host) = host else {
        return false;
    };
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or("");
    !origin_host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

/// Serves on `listener` until the process ends.
pub async fn serve(listener: TcpListener, site: impl Into<Site>) -> std::io::Result<()> {
    // No Nagle delay: a position is one small frame that must leave at once
    // (with Nagle and delayed ACKs a broadcast waited about 40 ms).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(
        listener,
        router(site).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

async fn status(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    let (rooms, connections) = s.status();
    axum::Json(serde_json::json!({ "rooms": rooms, "connections": connections }))
}

async fn upgrade(
    ws: WebSocketUpgrade,
    headers: axum::http::HeaderMap,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    State(s): State<Arc<Shared>>,
) -> Response {
    let text = |h| headers.get(h).and_then(|v: &axum::http::HeaderValue| v.to_str().ok());
    if !origin_allowed(text(axum::http::header::ORIGIN), text(axum::http::header::HOST)) {
        return (
            axum::http::StatusCode::FORBIDDEN,
            "a live class joins only from a page this server served",
        )
            .into_response();
    }
    // The socket's own limit is the lecturer's; the hub refuses a student's
    // message over the student limit with a reason.
    // Small buffers: tungstenite's default read buffer is 128 KiB a
    // connection, most of a 300-student room's memory; messages are tiny.
    ws.max_message_size(LECTURER_MAX_BYTES + 4096)
        .max_frame_size(LECTURER_MAX_BYTES + 4096)
        .read_buffer_size(4096)
        .write_buffer_size(4096)
        .on_upgrade(move |socket| connection(socket, addr, s))
}

async fn connection(socket: WebSocket, addr: SocketAddr, s: Arc<Shared>) {
    let id = ConnId(s.next.fetch_add(1, Ordering::Relaxed));
    let (queue, mut rx) = mpsc::channel::<Out>(OUTBOX);
    let (latest, mut latest_rx) = watch::channel(None);
    {
        let mut inner = s.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.hub.connect(id, &addr.ip().to_string());
        inner.outboxes.insert(id, Outbox { queue, latest });
    }
    let (mut sink, mut stream) = socket.split();
    let mut writer = tokio::spawn(async move {
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            // Queued messages first: a room view never overtakes the
            // `opened` made with it.
            let m = tokio::select! {
                biased;
                m = rx.recv() => match m {
                    Some(m) => m,
                    None => break,
                },
                changed = latest_rx.changed() => {
                    let now = latest_rx.borrow_and_update().clone();
                    match (changed, now) {
                        (Ok(()), Some(t)) => Out::Text(t),
                        (Ok(()), None) => continue,
                        (Err(_), _) => break,
                    }
                }
                // Browsers and tungstenite answer pings: a silent peer is gone.
                _ = ping.tick() => {
                    if sink.send(Message::Ping(Default::default())).await.is_err() {
                        break;
                    }
                    continue;
                }
            };
            let (text, last) = match m {
                Out::Text(t) => (t, false),
                Out::Last(t) => (t, true),
            };
            if sink.send(Message::Text(text)).await.is_err() || last {
                break;
            }
        }
        // The room ended, or this client was too slow and its outbox was
        // dropped: close, so that the client knows (and reconnects to catch up).
        let _ = sink.send(Message::Close(None)).await;
    });
    loop {
        let m = tokio::select! {
            // Nothing, not even a pong, for this long: a half-open connection.
            m = tokio::time::timeout(SILENT_FOR, stream.next()) => match m {
                Ok(Some(Ok(m))) => m,
                _ => break,
            },
            // The writer ended (the room closed, or this client was too slow).
            _ = &mut writer => break,
        };
        match m {
            Message::Text(t) => s.with_hub(|hub, now_ms| {
                hub.receive(
                    id,
                    t.as_str(),
                    Inputs {
                        now_ms,
                        entropy: entropy(),
                    },
                )
            }),
            Message::Binary(_) => s.with_hub(|_, _| {
                vec![Delivery {
                    to: To::One(id),
                    msg: ServerMsg::rejected("binary messages are not understood: send JSON text"),
                }]
            }),
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
    s.with_hub(|hub, now_ms| hub.disconnect(id, now_ms));
    s.inner.lock().unwrap_or_else(|p| p.into_inner()).outboxes.remove(&id);
    writer.abort();
}

fn spawn_sweeper(s: Arc<Shared>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tick.tick().await;
            s.with_hub(|hub, now_ms| hub.sweep(now_ms));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbox(s: &Shared, c: ConnId) -> (mpsc::Receiver<Out>, watch::Receiver<Option<Utf8Bytes>>) {
        let (queue, rx) = mpsc::channel(OUTBOX);
        let (latest, latest_rx) = watch::channel(None);
        s.inner.lock().unwrap().outboxes.insert(c, Outbox { queue, latest });
        (rx, latest_rx)
    }

    fn room(students: u32) -> Delivery {
        Delivery {
            to: To::One(ConnId(1)),
            msg: ServerMsg::Room { students, tally: None },
        }
    }

    /// Nothing drains the outboxes here: 1,000 room views leave the
    /// lecturer connected with only the last one waiting, while a student
    /// whose queue of positions overflows is dropped.
    #[test]
    fn room_views_keep_only_the_latest_and_never_overflow() {
        let s = Shared::new();
        let (_q1, latest) = outbox(&s, ConnId(1));
        let (_q2, _) = outbox(&s, ConnId(2));
        s.with_hub(|_, _| (1..=1000).map(room).collect());
        let last = latest.borrow().clone().unwrap();
        assert!(last.as_str().contains("\"students\":1000"), "{}", last.as_str());
        let position = ServerMsg::Lecturer { present: true };
        s.with_hub(|_, _| {
            (0..=OUTBOX)
                .map(|_| Delivery {
                    to: To::One(ConnId(2)),
                    msg: position.clone(),
                })
                .collect()
        });
        let inner = s.inner.lock().unwrap();
        assert!(inner.outboxes.contains_key(&ConnId(1)), "the lecturer stays");
        assert!(!inner.outboxes.contains_key(&ConnId(2)), "the slow student is dropped");
    }
}
