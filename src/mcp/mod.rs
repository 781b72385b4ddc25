//! `isg mcp`: a Model Context Protocol server over stdio that serves one output folder,
//! read-only, to coding agents and editors.
//!
//! The principal type is [`IsgServer`], an [`rmcp`] [`ServerHandler`] with three tools and one
//! resource. `map` (`tokens`, optional `subtree`) is the rolled-up tree cut to a token budget,
//! as `isg map` prints it; `search` (`query`, optional `k`) ranks lines as `isg search --json`
//! does ([`crate::search::Searcher`]); `summary` (`path`) gives the line of a file or directory
//! and the lines of its children. The folder's `SUMMARY.md` is the resource `isg://SUMMARY.md`.
//! [`serve_stdio`] runs it until the client closes the stream.
//!
//! Nothing is written into the folder but the vector cache (under the folder's lock). The
//! folder is read again when its `summaries.jsonl` changes and no run holds it, so a run that
//! summarizes while the server serves is answered with the last state read. A missing folder,
//! a path outside the tree or a bad argument is an MCP error whose message names the fix.

mod tools;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    Implementation, ListResourcesResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ReadResourceResult, Resource, ResourceContents, ServerCapabilities,
    ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt, tool, tool_handler, tool_router};

use crate::search::{FolderState, SearchError, Searcher};
pub use tools::{MapArgs, SearchArgs, SummaryArgs, map_text, summary_json};

/// The URI of `SUMMARY.md` among the server's resources.
pub const SUMMARY_URI: &str = "isg://SUMMARY.md";

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    /// The async runtime could not start.
    #[error("starting the server's runtime: {0}")]
    Runtime(std::io::Error),
    /// The MCP session failed (a broken stdio stream or a protocol error).
    #[error("the MCP session ended with an error: {0}")]
    Session(String),
}

struct Inner {
    out_dir: PathBuf,
    ort_lib: Option<PathBuf>,
    tokenizer: Option<PathBuf>,
    state: Option<FolderState>,
    searcher: Option<Searcher>,
}

impl Inner {
    /// The folder's state, read again when it changed and no run holds it.
    fn state(&mut self) -> Result<&FolderState, ErrorData> {
        let stale = tools::changed(&self.out_dir, self.state.as_ref())
            && (self.state.is_none() || crate::record::OutputLock::holder(&self.out_dir).is_none());
        if stale {
            self.state = Some(FolderState::read(&self.out_dir).map_err(folder_error)?);
        }
        Ok(self.state.as_ref().expect("read above"))
    }

    fn searcher(&mut self) -> Result<&mut Searcher, ErrorData> {
        if self.searcher.is_none() {
            FolderState::read(&self.out_dir).map_err(folder_error)?;
            let embedder = crate::search::open_embedder(self.ort_lib.as_deref(), 1)
                .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
            self.searcher = Some(Searcher::open(&self.out_dir, embedder).map_err(folder_error)?);
        }
        let s = self.searcher.as_mut().expect("opened above");
        s.refresh().map_err(folder_error)?;
        Ok(s)
    }
}

/// An MCP error for a folder that cannot be read: invalid params when it is not an output
/// folder (the client asked for the wrong thing), internal otherwise.
fn folder_error(e: SearchError) -> ErrorData {
    match e {
        SearchError::NoFolder { .. } | SearchError::NotAnOutput { .. } => {
            ErrorData::invalid_params(e.to_string(), None)
        }
        SearchError::EmptyQuery => ErrorData::invalid_params(e.to_string(), None),
        other => ErrorData::internal_error(other.to_string(), None),
    }
}

/// The server: one output folder, its tools and its resource.
#[derive(Clone)]
pub struct IsgServer {
    inner: Arc<Mutex<Inner>>,
    tool_router: ToolRouter<IsgServer>,
}

impl IsgServer {
    /// A server for `out_dir` (not read until the first request); `ort_lib` is `--ort-lib`,
    /// `tokenizer` the `tokenizer.json` (or model folder) `map` counts with (default: the one of
    /// the model that wrote the folder).
    pub fn new(out_dir: &Path, ort_lib: Option<&Path>, tokenizer: Option<&Path>) -> IsgServer {
        IsgServer {
            inner: Arc::new(Mutex::new(Inner {
                out_dir: out_dir.to_path_buf(),
                ort_lib: ort_lib.map(Path::to_path_buf),
                tokenizer: tokenizer.map(Path::to_path_buf),
                state: None,
                searcher: None,
            })),
            tool_router: Self::tool_router(),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> Result<T, ErrorData>) -> Result<T, ErrorData> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut inner)
    }
}

#[tool_router]
impl IsgServer {
    /// The map tool.
    #[tool(
        description = "The source tree's map: root, directory, file and chunk one-line summaries, most important first, cut to a token budget (default 2000). `subtree` limits it to a directory or file, relative to the tree's root."
    )]
    pub async fn map(&self, Parameters(args): Parameters<MapArgs>) -> Result<String, ErrorData> {
        self.with(|inner| {
            let tokenizer = inner.tokenizer.clone();
            let state = inner.state()?;
            map_text(state, &args, tokenizer.as_deref())
        })
    }

    /// The search tool.
    #[tool(
        description = "Find code by meaning: the k (default 10) chunk, file and directory lines that best match the query, ranked by sentence embeddings and the words of paths and symbols. One JSON object a line: kind, path, lines, score, summary."
    )]
    pub async fn search(
        &self,
        Parameters(args): Parameters<SearchArgs>,
    ) -> Result<String, ErrorData> {
        let k = tools::check_k(args.k)?;
        if args.query.trim().is_empty() {
            return Err(ErrorData::invalid_params(
                "query is empty; give the words to search for",
                None,
            ));
        }
        self.with(|inner| {
            let hits = inner
                .searcher()?
                .search(&args.query, k)
                .map_err(folder_error)?;
            Ok(hits
                .iter()
                .map(|h| serde_json::to_string(h).expect("hits serialize") + "\n")
                .collect())
        })
    }

    /// The summary tool.
    #[tool(
        description = "The one-line summary of a file or directory (path relative to the tree's root, as in the map; `.` for the root) and the lines of its children: a directory's files and subdirectories, a file's chunks. One JSON object."
    )]
    pub async fn summary(
        &self,
        Parameters(args): Parameters<SummaryArgs>,
    ) -> Result<String, ErrorData> {
        self.with(|inner| {
            let state = inner.state()?;
            summary_json(state, &args.path)
        })
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for IsgServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("isg", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "One-line summaries of a source tree made by isg. `map` shows the tree cut to a \
             token budget, `search` finds chunks, files and directories by meaning, `summary` \
             gives a file's or directory's line and its children's. The resource \
             isg://SUMMARY.md is the whole tree.",
        )
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let size = self.with(|inner| {
            Ok(
                std::fs::metadata(inner.out_dir.join(crate::output::SUMMARY_MD_FILE))
                    .map(|m| m.len())
                    .ok(),
            )
        })?;
        let mut r = Resource::new(SUMMARY_URI, "SUMMARY.md")
            .with_description("Every directory, file and chunk line of the tree, in source order")
            .with_mime_type("text/markdown");
        if let Some(s) = size {
            r = r.with_size(s);
        }
        Ok(ListResourcesResult::with_all_items(vec![r]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if request.uri != SUMMARY_URI {
            return Err(ErrorData::resource_not_found(
                format!(
                    "no resource {}; this server has one: {SUMMARY_URI}",
                    request.uri
                ),
                None,
            ));
        }
        self.with(|inner| {
            inner.state()?;
            let path = inner.out_dir.join(crate::output::SUMMARY_MD_FILE);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                ErrorData::internal_error(
                    format!(
                        "{}: {e}; run `isg summarize PATH --out {}` again",
                        path.display(),
                        inner.out_dir.display()
                    ),
                    None,
                )
            })?;
            let contents = match ResourceContents::text(text, SUMMARY_URI) {
                ResourceContents::TextResourceContents {
                    uri, text, meta, ..
                } => ResourceContents::TextResourceContents {
                    uri,
                    mime_type: Some("text/markdown".into()),
                    text,
                    meta,
                },
                other => other,
            };
            Ok(ReadResourceResult::new(vec![contents]).into())
        })
    }
}

/// Serves `out_dir` over stdin/stdout until the client closes the stream (see
/// [`IsgServer::new`] for `ort_lib` and `tokenizer`).
pub fn serve_stdio(
    out_dir: &Path,
    ort_lib: Option<&Path>,
    tokenizer: Option<&Path>,
) -> Result<(), McpError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(McpError::Runtime)?;
    let server = IsgServer::new(out_dir, ort_lib, tokenizer);
    rt.block_on(async move {
        let running = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| McpError::Session(e.to_string()))?;
        running
            .waiting()
            .await
            .map_err(|e| McpError::Session(e.to_string()))?;
        Ok(())
    })
}
