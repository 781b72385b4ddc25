//! `isg mcp` end to end with a real MCP client (rmcp's, over the child's stdin and stdout):
//! initialize, list the tools and the resource, call each tool and check the answers against
//! the folder's files and the matching commands (`isg search --json`, `isg map`); a path
//! outside the tree, a bad argument and a missing folder are MCP errors that name the fix; a
//! run holding the folder leaves the answers at the last complete state; nothing but the
//! vector cache is written.

use crate::prereq;
use crate::search_common;

use std::path::Path;
use std::process::Command;

use isg::output::{SUMMARIES_FILE, SUMMARY_MD_FILE, read_records};
use isg::record::Kind;
use isg::record::{OutputLock, Wait};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ErrorCode, ReadResourceRequestParams};
use rmcp::service::{RoleClient, RunningService, ServiceError};
use rmcp::transport::TokioChildProcess;
use search_common::{FILES, make_folder, set_lines, snapshot};

async fn connect(out: &Path, model: &Path) -> RunningService<RoleClient, ()> {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_isg"));
    cmd.arg("mcp")
        .arg("--out")
        .arg(out)
        .arg("--model")
        .arg(model);
    let transport = TokioChildProcess::new(cmd).expect("starting isg mcp");
    ().serve(transport).await.expect("initialize")
}

/// A tool's text, or its error: a JSON-RPC error (with its code) or a result marked `isError`
/// (no code).
async fn call_any(
    client: &RunningService<RoleClient, ()>,
    tool: &'static str,
    args: serde_json::Value,
) -> Result<String, (Option<ErrorCode>, String)> {
    let params = CallToolRequestParams::new(tool)
        .with_arguments(args.as_object().expect("an object").clone());
    let result = match client.call_tool(params).await {
        Ok(r) => r,
        Err(ServiceError::McpError(e)) => return Err((Some(e.code), e.message.to_string())),
        Err(other) => panic!("{tool} {args}: {other:?}"),
    };
    let text: String = result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect();
    if result.is_error == Some(true) {
        Err((None, text))
    } else {
        Ok(text)
    }
}

async fn call(
    client: &RunningService<RoleClient, ()>,
    tool: &'static str,
    args: serde_json::Value,
) -> Result<String, ServiceError> {
    match call_any(client, tool, args.clone()).await {
        Ok(text) => Ok(text),
        Err(e) => panic!("{tool} {args}: {e:?}"),
    }
}

/// The JSON-RPC error of a call that must fail, as (code, message).
async fn call_err(
    client: &RunningService<RoleClient, ()>,
    tool: &'static str,
    args: serde_json::Value,
) -> (ErrorCode, String) {
    match call_any(client, tool, args.clone()).await {
        Err((Some(code), msg)) => (code, msg),
        other => panic!("{tool} {args}: expected an MCP error, got {other:?}"),
    }
}

fn isg_stdout(args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_isg"))
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_client_lists_and_calls_every_tool() {
    let model = require!(prereq::embedder());
    let tmp = tempfile::tempdir().unwrap();
    let out = make_folder(tmp.path());
    let out_s = out.to_str().unwrap();
    let model_s = model.to_str().unwrap();
    // The vectors exist before the server starts, so the server writes nothing at all.
    isg_stdout(&["search", "warm up", "--out", out_s]);
    let before = snapshot(&out);

    let client = connect(&out, &model).await;
    let info = client.peer_info().expect("the server introduced itself");
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("isg")
    );
    let mut names: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| {
            assert!(t.description.is_some(), "{} is described", t.name);
            assert!(t.input_schema.contains_key("properties"), "{}", t.name);
            t.name.to_string()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["map", "search", "summary"]);

    // search: the same lines as `isg search --json`.
    let got = call(
        &client,
        "search",
        serde_json::json!({"query": "make an image smaller", "k": 3}),
    )
    .await
    .unwrap();
    let want = isg_stdout(&[
        "search",
        "make an image smaller",
        "--out",
        out_s,
        "-k",
        "3",
        "--json",
    ]);
    assert_eq!(got, want);
    let first: serde_json::Value = serde_json::from_str(got.lines().next().unwrap()).unwrap();
    assert_eq!(first["path"], "img/resize.rs");

    // summary of a directory: its line and its files' lines, as in summaries.jsonl.
    let records = read_records(&out.join(SUMMARIES_FILE)).unwrap();
    let line_of = |kind: Kind, path: &str| {
        records
            .iter()
            .find(|r| r.kind == kind && r.path == path)
            .map(|r| r.summary.clone())
            .unwrap()
    };
    let dir: serde_json::Value = serde_json::from_str(
        &call(&client, "summary", serde_json::json!({"path": "img"}))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(dir["kind"], "dir");
    assert_eq!(dir["summary"], line_of(Kind::Dir, "img"));
    let kids = dir["children"].as_array().unwrap();
    assert_eq!(kids.len(), 1, "{kids:?}");
    assert_eq!(kids[0]["path"], "img/resize.rs");
    assert_eq!(kids[0]["summary"], FILES[3].2);
    let file: serde_json::Value = serde_json::from_str(
        &call(
            &client,
            "summary",
            serde_json::json!({"path": "./net/retry.rs"}),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (file["kind"].as_str(), file["path"].as_str()),
        (Some("file"), Some("net/retry.rs"))
    );
    assert_eq!(file["children"][0]["kind"], "chunk");
    assert_eq!(file["children"][0]["lines"], "1-1");
    let root: serde_json::Value = serde_json::from_str(
        &call(&client, "summary", serde_json::json!({"path": "."}))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(root["kind"], "root");
    assert_eq!(
        root["children"].as_array().unwrap().len(),
        4,
        "four top-level directories"
    );

    // map: what `isg map` prints with the same tokenizer and budget; a subtree keeps to itself.
    let map = call(&client, "map", serde_json::json!({"tokens": 400}))
        .await
        .unwrap();
    let want = isg_stdout(&["map", "--out", out_s, "--model", model_s, "--tokens", "400"]);
    assert_eq!(map, want);
    let sub = call(&client, "map", serde_json::json!({"subtree": "net"}))
        .await
        .unwrap();
    assert!(sub.contains(FILES[0].2), "{sub}");
    assert!(!sub.contains(FILES[3].2), "{sub}");

    // The resource is SUMMARY.md.
    let resources = client.list_all_resources().await.unwrap();
    assert_eq!(resources.len(), 1);
    assert_eq!(resources[0].uri, isg::mcp::SUMMARY_URI);
    let read = client
        .read_resource(ReadResourceRequestParams::new(isg::mcp::SUMMARY_URI))
        .await
        .unwrap();
    let text = match &read.contents[0] {
        rmcp::model::ResourceContents::TextResourceContents { text, .. } => text.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        text,
        std::fs::read_to_string(out.join(SUMMARY_MD_FILE)).unwrap()
    );

    // Errors name what is wrong and the fix.
    let (code, msg) = call_err(
        &client,
        "summary",
        serde_json::json!({"path": "../../etc/passwd"}),
    )
    .await;
    assert_eq!(code, ErrorCode::INVALID_PARAMS);
    assert!(msg.contains("outside the summarized tree"), "{msg}");
    let (code, msg) = call_err(&client, "summary", serde_json::json!({"path": "/etc"})).await;
    assert_eq!(code, ErrorCode::INVALID_PARAMS, "{msg}");
    let (_, msg) = call_err(
        &client,
        "summary",
        serde_json::json!({"path": "net/nope.rs"}),
    )
    .await;
    assert!(msg.contains("not in the summarized tree"), "{msg}");
    let (code, msg) = call_err(&client, "search", serde_json::json!({"query": "x", "k": 0})).await;
    assert_eq!(code, ErrorCode::INVALID_PARAMS);
    assert!(msg.contains("1 to 200"), "{msg}");
    // Arguments of the wrong type are refused by the SDK as a tool error naming the field's type.
    match call_any(&client, "search", serde_json::json!({"query": 5})).await {
        Err((_, msg)) => assert!(msg.contains("expected a string"), "{msg}"),
        Ok(text) => panic!("a number as the query was answered: {text}"),
    }
    match call_any(
        &client,
        "summary",
        serde_json::json!({"path": "x", "depth": 2}),
    )
    .await
    {
        Err((_, msg)) => assert!(msg.contains("unknown field `depth`"), "{msg}"),
        Ok(text) => panic!("an unknown argument was accepted: {text}"),
    }
    let (code, msg) = call_err(&client, "map", serde_json::json!({"tokens": 0})).await;
    assert_eq!(code, ErrorCode::INVALID_PARAMS, "{msg}");

    // While a run holds the folder, the answers stay at the state read last; after it, the new one.
    let lock = OutputLock::acquire(&out, Wait::No).unwrap();
    set_lines(&out, &[("img/resize.rs", "Draws charts of sales figures.")]);
    let during = call(
        &client,
        "summary",
        serde_json::json!({"path": "img/resize.rs"}),
    )
    .await
    .unwrap();
    assert!(during.contains(FILES[3].2), "{during}");
    drop(lock);
    let after = call(
        &client,
        "summary",
        serde_json::json!({"path": "img/resize.rs"}),
    )
    .await
    .unwrap();
    assert!(after.contains("Draws charts of sales figures."), "{after}");
    let hits = call(
        &client,
        "search",
        serde_json::json!({"query": "plot revenue", "k": 1}),
    )
    .await
    .unwrap();
    assert!(hits.contains("img/resize.rs"), "{hits}");
    client.cancel().await.unwrap();

    set_lines(&out, &[("img/resize.rs", FILES[3].2)]);
    let mut after = snapshot(&out);
    let mut before = before;
    // summaries.jsonl was edited by this test; everything else is as it was.
    after.remove(&out.join(SUMMARIES_FILE));
    before.remove(&out.join(SUMMARIES_FILE));
    assert_eq!(
        after, before,
        "the server wrote nothing but the vector cache"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_folder_is_an_mcp_error_that_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-output-here");
    let client = connect(&missing, tmp.path()).await;
    for (tool, args) in [
        ("map", serde_json::json!({})),
        ("summary", serde_json::json!({"path": "."})),
        ("search", serde_json::json!({"query": "anything"})),
    ] {
        let (code, msg) = call_err(&client, tool, args).await;
        assert_eq!(code, ErrorCode::INVALID_PARAMS, "{tool}: {msg}");
        assert!(
            msg.contains("no-output-here: no such output folder"),
            "{tool}: {msg}"
        );
        assert!(msg.contains("isg summarize"), "{msg}");
    }
    assert!(!missing.exists(), "nothing was created");
    client.cancel().await.unwrap();
}
