//! The real server on a loopback port, driven over real WebSockets: one
//! lecturer and several students run a question, and bad messages are
//! refused with a reason.

use futures_util::{SinkExt, StreamExt};
use pinlab_room::{ClientMsg, Phase, Position, Question, ServerMsg};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn start(site: Option<std::path::PathBuf>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(pinlab_server::serve(listener, site));
    addr
}

/// `GET /` over a plain socket: the whole response, headers included.
async fn get_root(addr: std::net::SocketAddr) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut body = String::new();
    tcp.read_to_string(&mut body).await.unwrap();
    body
}

async fn connect(addr: std::net::SocketAddr) -> Ws {
    connect_async(format!("ws://{addr}/live")).await.unwrap().0
}

async fn send(ws: &mut Ws, m: &ClientMsg) {
    ws.send(Message::text(serde_json::to_string(m).unwrap())).await.unwrap();
}

async fn send_raw(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text.to_string())).await.unwrap();
}

/// The next server message (within 5 s: a lost message fails the test).
async fn recv(ws: &mut Ws) -> ServerMsg {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message within 5 s")
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(t) = m {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

/// Reads until a message `f` accepts.
async fn until<T>(ws: &mut Ws, mut f: impl FnMut(&ServerMsg) -> Option<T>) -> T {
    loop {
        let m = recv(ws).await;
        if let Some(t) = f(&m) {
            return t;
        }
    }
}

async fn rejection(ws: &mut Ws) -> String {
    match recv(ws).await {
        ServerMsg::Rejected { reason, .. } => reason,
        m => panic!("expected a rejection, got {m:?}"),
    }
}

fn position(step: u32, q: Option<(u32, u32, Phase)>, seq: u64) -> ClientMsg {
    ClientMsg::Position {
        position: Position {
            lesson: "folio-life".into(),
            kernel: "6.12".into(),
            whatif: vec![],
            step,
            cursor: step,
            revealed: false,
            question: q.map(|(step, round, phase)| Question {
                step,
                round,
                choices: 3,
                phase,
            }),
            seq,
        },
    }
}

/// A lecturer's connection with a room open: (socket, code, key).
async fn open_room(addr: std::net::SocketAddr) -> (Ws, String, String) {
    let mut lect = connect(addr).await;
    send(&mut lect, &ClientMsg::Open {}).await;
    match recv(&mut lect).await {
        ServerMsg::Opened { code, key } => (lect, code, key),
        m => panic!("{m:?}"),
    }
}

async fn join(addr: std::net::SocketAddr, code: &str, token: Option<String>) -> (Ws, String) {
    let mut ws = connect(addr).await;
    send(
        &mut ws,
        &ClientMsg::Join {
            code: code.into(),
            token,
        },
    )
    .await;
    match recv(&mut ws).await {
        ServerMsg::Joined { token, .. } => (ws, token),
        m => panic!("{m:?}"),
    }
}

async fn students_and_answers(lect: &mut Ws, students: u32, answered: u32) {
    until(lect, |m| match m {
        ServerMsg::Room { students: s, tally }
            if *s == students && tally.as_ref().map_or(0, |t| t.answered) == answered =>
        {
            Some(())
        }
        _ => None,
    })
    .await
}

#[tokio::test]
async fn a_lecturer_and_students_run_a_question_over_real_sockets() {
    let addr = start(None).await;
    let (mut lect, code, key) = open_room(addr).await;
    send(
        &mut lect,
        &ClientMsg::Lesson {
            id: "folio-life".into(),
            source: None,
        },
    )
    .await;
    send(&mut lect, &position(1, None, 1)).await;
    // Three students; the third joins late and lands on the current step.
    let mut s = Vec::new();
    for _ in 0..3 {
        s.push(join(addr, &code, None).await);
    }
    students_and_answers(&mut lect, 3, 0).await;
    send(&mut lect, &position(2, Some((3, 1, Phase::Open)), 2)).await;
    for (ws, _) in &mut s {
        // The late joiners first got the step they landed on (seq 1).
        let q = until(ws, |m| match m {
            ServerMsg::Position { position } if position.seq == 2 => Some(position.question.clone()),
            _ => None,
        })
        .await;
        assert_eq!(
            q.map(|q| (q.step, q.phase)),
            Some((3, Phase::Open)),
            "every student follows to the question"
        );
    }
    for (i, (ws, _)) in s.iter_mut().enumerate() {
        let value = 1 + (i as i64 % 2);
        send(
            ws,
            &ClientMsg::Answer {
                step: 3,
                round: 1,
                value,
            },
        )
        .await;
        assert!(matches!(recv(ws).await, ServerMsg::Accepted { value: v, .. } if v == value));
    }
    let tally = until(&mut lect, |m| match m {
        ServerMsg::Room { tally: Some(t), .. } if t.answered == 3 => Some(t.clone()),
        _ => None,
    })
    .await;
    assert_eq!(tally.counts, vec![(1, 2), (2, 1)]);

    // Student 0 drops and comes back with its token: its answer holds.
    let (ws0, token0) = s.remove(0);
    drop(ws0);
    students_and_answers(&mut lect, 2, 3).await;
    let mut back = connect(addr).await;
    send(
        &mut back,
        &ClientMsg::Join {
            code: code.clone(),
            token: Some(token0.clone()),
        },
    )
    .await;
    assert!(matches!(recv(&mut back).await, ServerMsg::Joined { answered: Some(1), token, .. } if token == token0));
    send(
        &mut back,
        &ClientMsg::Answer {
            step: 3,
            round: 1,
            value: 2,
        },
    )
    .await;
    assert!(
        until(&mut back, |m| match m {
            ServerMsg::Rejected { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .await
        .contains("already answered")
    );

    // The lecturer drops and resumes: the room and its answers are kept.
    drop(lect);
    until(&mut back, |m| {
        matches!(m, ServerMsg::Lecturer { present: false }).then_some(())
    })
    .await;
    let mut lect = connect(addr).await;
    send(
        &mut lect,
        &ClientMsg::Resume {
            code: code.clone(),
            key,
        },
    )
    .await;
    assert!(matches!(recv(&mut lect).await, ServerMsg::Opened { .. }));
    students_and_answers(&mut lect, 3, 3).await;
    send(&mut lect, &position(3, Some((3, 1, Phase::Revealed)), 3)).await;
    let phase = until(&mut back, |m| match m {
        ServerMsg::Position { position } => position.question.as_ref().map(|q| q.phase),
        _ => None,
    })
    .await;
    assert_eq!(phase, Phase::Revealed);

    // Closing ends the room for everyone.
    send(&mut lect, &ClientMsg::Close {}).await;
    until(&mut back, |m| matches!(m, ServerMsg::Closed { .. }).then_some(())).await;
    let end = tokio::time::timeout(Duration::from_secs(5), back.next()).await.unwrap();
    assert!(
        matches!(end, None | Some(Ok(Message::Close(_))) | Some(Err(_))),
        "{end:?}"
    );
}

#[tokio::test]
async fn malformed_oversized_binary_and_out_of_role_messages_are_rejected_with_a_reason() {
    let addr = start(None).await;
    let (mut lect, code, _) = open_room(addr).await;
    send(&mut lect, &position(2, Some((3, 1, Phase::Open)), 1)).await;
    let (mut st, _) = join(addr, &code, None).await;
    until(&mut st, |m| matches!(m, ServerMsg::Lecturer { .. }).then_some(())).await;
    let big = format!(r#"{{"type":"answer","pad":"{}"}}"#, "x".repeat(4000));
    for (text, why) in [
        ("not json", "malformed message"),
        (r#"{"type":"answer","step":3}"#, "missing field"),
        (r#"{"type":"close"}"#, "only answer"),
        (
            &serde_json::to_string(&position(9, None, 9)).unwrap(),
            "only the lecturer moves the room",
        ),
        (&big, "a student may send at most 1024 bytes"),
        (r#"{"type":"answer","step":3,"round":1,"value":99}"#, "choices 1 to 3"),
    ] {
        send_raw(&mut st, text).await;
        let r = rejection(&mut st).await;
        assert!(r.contains(why), "{text:.60}: {r}");
    }
    st.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    assert!(rejection(&mut st).await.contains("binary"));
    // Nothing changed: the student still answers once, and the lecturer's
    // count goes from 0 to 1.
    send(
        &mut st,
        &ClientMsg::Answer {
            step: 3,
            round: 1,
            value: 2,
        },
    )
    .await;
    assert!(matches!(recv(&mut st).await, ServerMsg::Accepted { .. }));
    students_and_answers(&mut lect, 1, 1).await;
    // A guessed code is refused.
    let mut guess = connect(addr).await;
    send(
        &mut guess,
        &ClientMsg::Join {
            code: "ZZZZZZ".into(),
            token: None,
        },
    )
    .await;
    assert!(rejection(&mut guess).await.contains("no room 'ZZZZZZ'"));
}

#[tokio::test]
async fn the_site_is_served_and_without_one_the_page_says_how_to_build_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<title>pinlab site</title>").unwrap();
    for (site, want) in [(Some(dir.path().to_path_buf()), "pinlab site"), (None, "web/build.sh")] {
        let addr = start(site).await;
        let body = get_root(addr).await;
        assert!(body.starts_with("HTTP/1.1 200"), "{body}");
        assert!(body.contains(want), "{body}");
    }
}

/// 300 answers arrive while the lecturer reads nothing: every one is
/// counted and the lecturer's connection is still there to read the total.
/// (That a flood of room views cannot overflow the lecturer's outbox is the
/// unit test `room_views_keep_only_the_latest_and_never_overflow`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lecturer_who_reads_nothing_while_the_room_answers_keeps_the_room() {
    let addr = start(None).await;
    let (mut lect, code, _) = open_room(addr).await;
    send(&mut lect, &position(2, Some((3, 1, Phase::Open)), 1)).await;
    let mut students = Vec::new();
    for _ in 0..300 {
        students.push(join(addr, &code, None).await.0);
    }
    for (i, ws) in students.iter_mut().enumerate() {
        send(
            ws,
            &ClientMsg::Answer {
                step: 3,
                round: 1,
                value: 1 + (i as i64 % 3),
            },
        )
        .await;
    }
    for ws in &mut students {
        until(ws, |m| matches!(m, ServerMsg::Accepted { .. }).then_some(())).await;
    }
    let t = until(&mut lect, |m| match m {
        ServerMsg::Room { tally: Some(t), .. } if t.answered == 300 => Some(t.clone()),
        _ => None,
    })
    .await;
    assert_eq!(t.counts, vec![(1, 100), (2, 100), (3, 100)]);
}

#[test]
fn only_pages_of_this_host_open_a_socket() {
    use pinlab_server::origin_allowed;
    assert!(origin_allowed(Some("http://10.0.0.5:8080"), Some("10.0.0.5:8080")));
    assert!(origin_allowed(Some("https://Lab.Example.org"), Some("lab.example.org")));
    assert!(
        origin_allowed(None, Some("10.0.0.5:8080")),
        "not a browser: the room's limits apply"
    );
    assert!(!origin_allowed(Some("http://evil.example"), Some("10.0.0.5:8080")));
    assert!(
        !origin_allowed(Some("http://10.0.0.5:8081"), Some("10.0.0.5:8080")),
        "another port is another site"
    );
    assert!(
        !origin_allowed(Some("null"), Some("10.0.0.5:8080")),
        "a sandboxed or file page"
    );
    assert!(!origin_allowed(Some("http://10.0.0.5:8080"), None));
}

#[tokio::test]
async fn a_page_of_another_site_cannot_open_a_socket_and_every_page_carries_a_csp() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<title>pinlab site</title>").unwrap();
    let addr = start(Some(dir.path().to_path_buf())).await;
    let mut req = format!("ws://{addr}/live").into_client_request().unwrap();
    req.headers_mut()
        .insert("Origin", "http://evil.example".parse().unwrap());
    let refused = connect_async(req).await;
    assert!(refused.is_err(), "a foreign page's socket must be refused");
    let mut req = format!("ws://{addr}/live").into_client_request().unwrap();
    req.headers_mut()
        .insert("Origin", format!("http://{addr}").parse().unwrap());
    assert!(connect_async(req).await.is_ok(), "the server's own page joins");
    let body = get_root(addr).await;
    let csp = body
        .lines()
        .find_map(|l| l.strip_prefix("content-security-policy: "))
        .expect("a Content-Security-Policy header");
    assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'"), "{csp}");
    let script = csp.split(';').find(|d| d.trim().starts_with("script-src")).unwrap();
    assert!(!script.contains("unsafe-inline"), "no inline script may run: {csp}");
    assert!(body.to_ascii_lowercase().contains("x-content-type-options: nosniff"));
}
