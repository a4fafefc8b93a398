//! The socket to `pinlab serve`: ewebsock on both the desktop (tungstenite
//! on a thread) and the web (the browser's WebSocket), behind a trait so
//! that the class logic can be tested with a scripted link.

/// What a link reports.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkEvent {
    Opened,
    Text(String),
    /// The connection is gone (with why, when known).
    Closed(String),
}

pub trait Link {
    fn send(&mut self, text: String);
    /// Everything that arrived since the last poll.
    fn poll(&mut self) -> Vec<LinkEvent>;
}

pub struct WsLink {
    tx: ewebsock::WsSender,
    rx: ewebsock::WsReceiver,
}

impl WsLink {
    /// Connects to `url` (ws:// or wss://); `wake` repaints the app when
    /// something arrives, so messages are handled without user input.
    pub fn connect(url: &str, wake: Option<egui::Context>) -> Result<WsLink, String> {
        let on_event = move || {
            if let Some(c) = &wake {
                c.request_repaint();
            }
        };
        let (tx, rx) = ewebsock::connect_with_wakeup(url, ewebsock::Options::default(), on_event)
            .map_err(|e| format!("cannot connect to {url}: {e}"))?;
        Ok(WsLink { tx, rx })
    }
}

impl Link for WsLink {
    fn send(&mut self, text: String) {
        self.tx.send(ewebsock::WsMessage::Text(text));
    }

    fn poll(&mut self) -> Vec<LinkEvent> {
        let mut out = Vec::new();
        while let Some(e) = self.rx.try_recv() {
            out.push(match e {
                ewebsock::WsEvent::Opened => LinkEvent::Opened,
                ewebsock::WsEvent::Message(ewebsock::WsMessage::Text(t)) => LinkEvent::Text(t),
                ewebsock::WsEvent::Message(_) => continue,
                ewebsock::WsEvent::Error(e) => LinkEvent::Closed(e),
                ewebsock::WsEvent::Closed => LinkEvent::Closed("the server closed the connection".into()),
            });
        }
        out
    }
}

/// Host and port of what the user typed (http://host:port, host:port,
/// ws://host:port/live ...), and whether it is a secure (TLS) address.
fn host(server: &str) -> (bool, &str) {
    let s = server.trim().trim_end_matches('/');
    let s = s.strip_suffix("/live").unwrap_or(s);
    for (scheme, secure) in [
        ("https://", true),
        ("wss://", true),
        ("http://", false),
        ("ws://", false),
    ] {
        if let Some(rest) = s.strip_prefix(scheme) {
            return (secure, rest);
        }
    }
    (false, s)
}

/// The WebSocket address of a server's rooms.
pub fn ws_url(server: &str) -> String {
    let (secure, host) = host(server);
    format!("{}://{host}/live", if secure { "wss" } else { "ws" })
}

/// The page students open: the server's site with the room in the address.
pub fn join_link(server: &str, code: &str) -> String {
    let (secure, host) = host(server);
    format!("{}://{host}/#join={code}", if secure { "https" } else { "http" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_become_socket_and_join_urls() {
        for typed in ["http://10.0.0.5:8080", "10.0.0.5:8080/", "ws://10.0.0.5:8080/live"] {
            assert_eq!(ws_url(typed), "ws://10.0.0.5:8080/live", "{typed}");
            assert_eq!(
                join_link(typed, "BCDEFG"),
                "http://10.0.0.5:8080/#join=BCDEFG",
                "{typed}"
            );
        }
        assert_eq!(ws_url("https://pinlab.example"), "wss://pinlab.example/live");
        assert_eq!(
            join_link("wss://pinlab.example/live", "X"),
            "https://pinlab.example/#join=X"
        );
    }
}
