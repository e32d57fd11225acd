//! The page's files, embedded in the binary (no CDN, no network at run time). They hold no
//! data, so they load before anyone logs in; everything they show comes from the API.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// One embedded file and the path it is served at.
pub struct Asset {
    /// Its path, without the leading `/` (`""` is the page itself).
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its contents.
    pub body: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the page.
pub const ASSETS: &[Asset] = &[
    Asset {
        path: "",
        content_type: "text/html; charset=utf-8",
        body: include_str!("page.html"),
    },
    Asset {
        path: "app.js",
        content_type: JS,
        body: include_str!("page.js"),
    },
    Asset {
        path: "wizard.js",
        content_type: JS,
        body: include_str!("wizard.js"),
    },
    Asset {
        path: "rest_side.js",
        content_type: JS,
        body: include_str!("rest_side.js"),
    },
    Asset {
        path: "monitor.js",
        content_type: JS,
        body: include_str!("monitor.js"),
    },
    Asset {
        // CodeMirror 6 and the Sluice language mode, built from `editor/` by
        // `scripts/build-editor`
        path: "editor.js",
        content_type: JS,
        body: include_str!("editor.bundle.js"),
    },
    Asset {
        path: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("page.css"),
    },
    Asset {
        path: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_str!("favicon.svg"),
    },
];

/// The embedded file at `path` (without its leading `/`), if there is one.
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

/// The answer serving `asset`.
pub fn serve(asset: &'static Asset) -> Response {
    ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response()
}
