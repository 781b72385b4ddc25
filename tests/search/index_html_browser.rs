//! `index.html` in a real browser: headless Chromium loads the page of a summarized tree with
//! a search in its URL (`#q=shard_of`), and the dumped DOM shows the matching chunk marked,
//! its ancestors open and unrelated files hidden; a screenshot is taken. Needs Debian's
//! `chromium` on the PATH (`apt-get install -y chromium`); without it the test is skipped, except
//! under `CI=true`, where it fails (see [`prereq`]).

use crate::pipeline_common;
use crate::prereq;

use std::path::Path;
use std::process::Command;

use isg::pipeline::summarize;
use isg::run::{ProgressMode, SummarizeSettings};
use pipeline_common::{REAL_FILES, copy_real_files, stand_in};

fn browser(chromium: &Path, profile: &Path, args: &[&str]) -> String {
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("running chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `class` attribute of the `<li>` with `id`.
fn class_of<'a>(dom: &'a str, id: &str) -> &'a str {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no {id} in the page"));
    let open = dom[..at].rfind("<li").unwrap();
    let tag = &dom[open..at + dom[at..].find('>').unwrap()];
    let start = tag.find("class=\"").unwrap() + 7;
    &tag[start..start + tag[start..].find('"').unwrap()]
}

#[test]
fn the_search_in_the_url_finds_an_item_in_chromium() {
    let chromium = require!(prereq::chromium());
    let tmp = tempfile::tempdir().unwrap();
    let root = copy_real_files(&tmp.path().join("tree"), &REAL_FILES);
    let out = tmp.path().join("out");
    let mut s = SummarizeSettings::new(&root);
    s.out_dir = out.clone();
    s.max_lines = 60;
    s.progress = ProgressMode::Quiet;
    summarize(&stand_in(), &s).unwrap();
    let page = out.join("index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing is fetched"
    );

    // Node ids follow the tree: find the chunk holding `shard_of` and the file `build.rs`.
    let data = &html[html.find("type=\"application/json\">").unwrap() + 24..];
    let data = &data[..data.find("</script>").unwrap()];
    let nodes: Vec<serde_json::Value> = serde_json::from_str(data).unwrap();
    let id_where =
        |f: &dyn Fn(&serde_json::Value) -> bool| format!("n{}", nodes.iter().position(f).unwrap());
    let hit = id_where(&|n| {
        n["k"] == "chunk"
            && n["i"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i == "fn shard_of")
    });
    let other = id_where(&|n| n["k"] == "file" && n["p"] == "build.rs");
    let dir = id_where(&|n| n["k"] == "dir" && n["p"] == "src");

    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}#q=shard_of", page.display());
    let dom = browser(&chromium, profile.path(), &["--dump-dom", &url]);
    // The chunk and its file (whose items are its chunks') match.
    assert!(dom.contains("<div id=\"count\">2 matches</div>"), "{dom}");
    assert!(
        class_of(&dom, &hit).split(' ').any(|c| c == "hit"),
        "{}",
        class_of(&dom, &hit)
    );
    assert!(!class_of(&dom, &hit).contains("hidden"));
    assert!(class_of(&dom, &other).split(' ').any(|c| c == "hidden"));
    assert!(!class_of(&dom, &dir).contains("hidden"));

    // Without a search nothing is hidden; a screenshot is taken.
    let plain = browser(
        &chromium,
        profile.path(),
        &["--dump-dom", &format!("file://{}", page.display())],
    );
    for id in [&hit, &other, &dir] {
        let class = class_of(&plain, id);
        assert!(
            !class.contains("hidden") && !class.contains("hit"),
            "{id}: {class}"
        );
    }
    let shot = tmp.path().join("index.png");
    browser(
        &chromium,
        profile.path(),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,900",
            &url,
        ],
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.len() > 1000 && png.starts_with(b"\x89PNG"),
        "{} bytes",
        png.len()
    );
}
