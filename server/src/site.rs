//! What `pinlab serve` shows outside `/live`: a web build from a folder
//! (`--site DIR`), the one built into the binary (the `site` feature), or a
//! page that says how to get one.

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use std::path::PathBuf;

/// Where the web build comes from.
#[derive(Debug, Clone)]
pub enum Site {
    /// A folder that `web/build.sh DIR` wrote.
    Folder(PathBuf),
    /// The web build compiled into this binary (`--features site`).
    #[cfg(feature = "site")]
    BuiltIn,
    /// No web build: only rooms are hosted; `/` says how to get the app.
    Missing,
}

impl Site {
    /// `--site DIR` when given, else what this binary carries.
    pub fn chosen(folder: Option<PathBuf>) -> Site {
        match folder {
            Some(dir) => Site::Folder(dir),
            None => Site::built_in(),
        }
    }

    /// The site this binary carries: the embedded web build with the
    /// `site` feature, none without it.
    pub fn built_in() -> Site {
        #[cfg(feature = "site")]
        return Site::BuiltIn;
        #[cfg(not(feature = "site"))]
        Site::Missing
    }

    /// For the line `pinlab serve` prints when it starts.
    pub fn describe(&self) -> String {
        match self {
            Site::Folder(dir) => format!("the app from {}", dir.display()),
            #[cfg(feature = "site")]
            Site::BuiltIn => format!("the app built into this binary, {} files", built_in::files()),
            Site::Missing => "no app: this binary was built without the site; --site DIR serves a web build".into(),
        }
    }

    /// Routes every path the live class does not use to this site.
    pub(crate) fn serve_under(self, app: Router) -> Router {
        match self {
            Site::Folder(dir) => app.fallback_service(tower_http::services::ServeDir::new(dir)),
            #[cfg(feature = "site")]
            Site::BuiltIn => app.fallback(get(built_in::file)),
            Site::Missing => app.fallback(get(no_site)),
        }
    }
}

impl From<Option<PathBuf>> for Site {
    /// `Some(dir)` is that folder, `None` no site at all (not the built-in one:
    /// tests and embedders say which they want).
    fn from(dir: Option<PathBuf>) -> Site {
        dir.map_or(Site::Missing, Site::Folder)
    }
}

async fn no_site() -> Html<&'static str> {
    Html(include_str!("no_site.html"))
}

/// The web build embedded at compile time. rust-embed rather than a
/// hand-written `include_bytes!` table: it walks the folder, records each
/// file's MIME type and hash, and with `debug-embed` a debug binary carries
/// the files too, so what the tests serve is what a release serves.
#[cfg(feature = "site")]
mod built_in {
    use axum::http::{HeaderMap, StatusCode, Uri, header};
    use axum::response::{IntoResponse, Response};

    #[derive(rust_embed::Embed)]
    #[folder = "../web/dist"]
    struct WebDist;

    pub fn files() -> usize {
        WebDist::iter().count()
    }

    /// A file of the build by its path; a folder is its index.html. The
    /// build names its files by content hash, so the ETag is the file's
    /// SHA-256 and a browser that has it gets 304.
    pub async fn file(uri: Uri, headers: HeaderMap) -> Response {
        let path = uri.path().trim_start_matches('/');
        let path = if path.is_empty() || path.ends_with('/') {
            format!("{path}index.html")
        } else {
            path.to_string()
        };
        let Some(found) = WebDist::get(&path) else {
            return (StatusCode::NOT_FOUND, "not in this build of the site").into_response();
        };
        let etag = format!(
            "\"{}\"",
            found
                .metadata
                .sha256_hash()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        if headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == etag)
        {
            return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
        }
        (
            [
                (header::CONTENT_TYPE, found.metadata.mimetype().to_string()),
                (header::ETAG, etag),
            ],
            found.data,
        )
            .into_response()
    }
}
