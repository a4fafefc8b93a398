//! Load test of a live class (loopback only, bounded): starts `pinlab serve`
//! as its own process, connects one lecturer and 300 students over real
//! WebSockets, runs 20 questions (open, every student answers, reveal) and
//! prints the broadcast latency (lecturer's send to each student's receipt),
//! the answer latency (a student's send to the server's acceptance), whether
//! anything was lost, and the server process's memory.
//!
//!     cargo bench -p pinlab --bench live_load [-- STUDENTS QUESTIONS]
//!
//! docs/classroom.md records its figures.

use futures_util::{SinkExt, StreamExt};
use pinlab_room::{ClientMsg, Phase, Position, Question, ServerMsg};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What every student saw: (seq, when) per position, and answer latencies.
#[derive(Default)]
struct Seen {
    positions: Vec<(u64, Instant)>,
    answer_ms: Vec<f64>,
}

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server() -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pinlab"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("pinlab serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "pinlab serve: listening on http://127.0.0.1:PORT/ (...)"
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .expect("the address line")
        .to_string();
    Server { child, addr }
}

/// (VmRSS, VmHWM) of a process, in KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn send(ws: &mut Ws, m: &ClientMsg) {
    ws.send(Message::text(serde_json::to_string(m).unwrap())).await.unwrap();
}

async fn recv(ws: &mut Ws) -> Option<ServerMsg> {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), ws.next()).await.ok()?? {
            Ok(Message::Text(t)) => return serde_json::from_str(t.as_str()).ok(),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// One student: follows, answers every open question (choice by seat), until the room closes.
async fn student(mut ws: Ws, seat: usize, seen: Arc<Mutex<Seen>>) {
    let mut sent_at: Option<Instant> = None;
    while let Some(m) = recv(&mut ws).await {
        match m {
            ServerMsg::Position { position } => {
                seen.lock().unwrap().positions.push((position.seq, Instant::now()));
                if let Some(q) = position.question.filter(|q| q.phase == Phase::Open) {
                    let value = 1 + (seat % q.choices as usize) as i64;
                    sent_at = Some(Instant::now());
                    send(
                        &mut ws,
                        &ClientMsg::Answer {
                            step: q.step,
                            round: q.round,
                            value,
                        },
                    )
                    .await;
                }
            }
            ServerMsg::Accepted { .. } => {
                if let Some(t) = sent_at.take() {
                    seen.lock().unwrap().answer_ms.push(t.elapsed().as_secs_f64() * 1e3);
                }
            }
            ServerMsg::Closed { .. } => break,
            ServerMsg::Rejected { reason, .. } => panic!("student {seat}: refused: {reason}"),
            _ => {}
        }
    }
}

fn position(seq: u64, q: u32, phase: Phase) -> ClientMsg {
    ClientMsg::Position {
        position: Position {
            lesson: "folio-life".into(),
            kernel: "6.12".into(),
            whatif: vec![],
            step: q,
            cursor: q,
            revealed: phase == Phase::Revealed,
            question: Some(Question {
                step: q,
                round: 1,
                choices: 4,
                phase,
            }),
            seq,
        },
    }
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() - 1) as f64 * p).round() as usize]
}

async fn run(addr: &str, pid: u32, students: usize, questions: u32) -> bool {
    let url = format!("ws://{addr}/live");
    let (idle_rss, _) = memory(pid);
    // Browsers send WebSocket frames without Nagle's delay; so do these clients.
    let connect = |url: String| async move {
        tokio_tungstenite::connect_async_with_config(url, None, true)
            .await
            .unwrap()
            .0
    };
    let mut lect = connect(url.clone()).await;
    send(&mut lect, &ClientMsg::Open {}).await;
    let Some(ServerMsg::Opened { code, .. }) = recv(&mut lect).await else {
        panic!("no room")
    };
    let t0 = Instant::now();
    let mut seen = Vec::new();
    let mut tasks = Vec::new();
    for seat in 0..students {
        let mut ws = connect(url.clone()).await;
        send(
            &mut ws,
            &ClientMsg::Join {
                code: code.clone(),
                token: None,
            },
        )
        .await;
        let s = Arc::new(Mutex::new(Seen::default()));
        seen.push(s.clone());
        tasks.push(tokio::spawn(student(ws, seat, s)));
    }
    // Wait until the lecturer sees everyone.
    while let Some(m) = recv(&mut lect).await {
        if matches!(m, ServerMsg::Room { students: n, .. } if n as usize == students) {
            break;
        }
    }
    let join_ms = t0.elapsed().as_secs_f64() * 1e3;
    let (joined_rss, _) = memory(pid);
    let mut sent: HashMap<u64, Instant> = HashMap::new();
    let mut seq = 0;
    let mut counted = 0u64;
    let run0 = Instant::now();
    for q in 1..=questions {
        seq += 1;
        sent.insert(seq, Instant::now());
        send(&mut lect, &position(seq, q, Phase::Open)).await;
        // Until every answer is counted.
        loop {
            match recv(&mut lect).await {
                Some(ServerMsg::Room { tally: Some(t), .. }) if t.step == q && t.answered as usize == students => {
                    counted += t.answered as u64;
                    break;
                }
                Some(_) => {}
                None => panic!("the lecturer's connection ended during question {q}"),
            }
        }
        seq += 1;
        sent.insert(seq, Instant::now());
        send(&mut lect, &position(seq, q, Phase::Revealed)).await;
    }
    let run_s = run0.elapsed().as_secs_f64();
    // Let the last reveal arrive, then close the room.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (end_rss, hwm) = memory(pid);
    send(&mut lect, &ClientMsg::Close {}).await;
    for t in tasks {
        t.await.unwrap();
    }
    let mut lat = Vec::new();
    let mut ans = Vec::new();
    let mut lost = 0;
    for s in &seen {
        let s = s.lock().unwrap();
        for k in 1..=seq {
            match s.positions.iter().find(|(q, _)| *q == k) {
                Some((_, at)) => lat.push(at.duration_since(sent[&k]).as_secs_f64() * 1e3),
                None => lost += 1,
            }
        }
        ans.extend(s.answer_ms.iter().copied());
    }
    let expected = students as u64 * questions as u64;
    println!("live class load test: {students} students, {questions} questions, loopback");
    println!("  joining all students: {join_ms:.0} ms");
    println!(
        "  broadcast latency over {} deliveries: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        percentile(&mut lat, 0.5),
        percentile(&mut lat, 0.99),
        percentile(&mut lat, 1.0)
    );
    println!(
        "  answer latency over {} answers: p50 {:.2} ms, p99 {:.2} ms",
        ans.len(),
        percentile(&mut ans, 0.5),
        percentile(&mut ans, 0.99)
    );
    println!("  lost positions: {lost}; answers counted {counted} of {expected}");
    println!("  {questions} questions in {run_s:.2} s");
    println!(
        "  server memory (VmRSS): idle {:.1} MiB, {students} joined {:.1} MiB, at the end {:.1} MiB; peak (VmHWM) {:.1} MiB",
        idle_rss as f64 / 1024.0,
        joined_rss as f64 / 1024.0,
        end_rss as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
    let ok = lost == 0 && counted == expected && ans.len() as u64 == expected;
    println!("  {}", if ok { "nothing lost" } else { "SOMETHING WAS LOST" });
    ok
}

fn main() {
    // `cargo bench` passes "--bench"; numbers are positional.
    let nums: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let students = nums.first().copied().unwrap_or(300).clamp(1, 1000);
    let questions = nums.get(1).copied().unwrap_or(20).clamp(1, 200) as u32;
    let server = start_server();
    let pid = server.child.id();
    let addr = server.addr.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let ok = rt.block_on(run(&addr, pid, students, questions));
    drop(server);
    if !ok {
        std::process::exit(1);
    }
}
