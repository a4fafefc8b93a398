//! `pinlab serve`: the web build and the live-class rooms (pinlab-server).

use pinlab_server::Site;
use std::io::Write;
use std::path::PathBuf;

/// Starts the server and runs until the process is stopped.
pub fn serve(addr: &str, folder: Option<PathBuf>) -> Result<(), String> {
    let addr: std::net::SocketAddr = addr
        .parse()
        .map_err(|e| format!("--addr {addr}: {e} (expected IP:PORT, e.g. 127.0.0.1:8080)"))?;
    if let Some(dir) = &folder
        && !dir.join("index.html").is_file()
    {
        return Err(format!(
            "--site {}: no index.html there (build the site with web/build.sh {})",
            dir.display(),
            dir.display()
        ));
    }
    let site = Site::chosen(folder);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the server's runtime: {e}"))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        // One line a script (or the load test) can read the port from.
        println!(
            "pinlab serve: listening on http://{local}/ ({}; rooms at ws://{local}/live)",
            site.describe()
        );
        let _ = std::io::stdout().flush();
        pinlab_server::serve(listener, site)
            .await
            .map_err(|e| format!("the server stopped: {e}"))
    })
}
