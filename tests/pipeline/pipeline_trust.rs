//! Lines a reader can trust, at every level, with a scripted stand-in engine: the root and the
//! directories take what the authors wrote first (manifest, README, module docs); a directory
//! without docs gets a line from what its children say; an answer that says the opposite of
//! the code or restates the chunk's place is never shown; no shown line opens with "The <x>
//! module:"; a broken manifest, a missing README or an empty directory still give lines.

use std::path::Path;

use isg::output::read_records;
use isg::pipeline::summarize;
use isg::record::{Kind, SummaryRecord};
use isg::run::EchoBackend;
use isg::run::{ProgressMode, SummarizeSettings};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn settings(root: &Path, out: &Path) -> SummarizeSettings {
    let mut s = SummarizeSettings::new(root);
    s.out_dir = out.to_path_buf();
    s.max_prompt_tokens = Some(1 << 19);
    s.progress = ProgressMode::Quiet;
    s
}

/// The user's part of a prompt (after the examples).
fn last_turn(prompt: &str) -> &str {
    prompt.rsplit("<|im_start|>user\n").next().unwrap_or(prompt)
}

/// A stand-in whose answers follow the prompt's last turn: `rules` are (marker, answer) pairs,
/// the first whose marker the turn contains answers; others get a plain phrase.
fn scripted(rules: &'static [(&'static str, &'static str)]) -> EchoBackend {
    EchoBackend::new()
        .with_id("scripted")
        .with_context(1 << 20)
        .with_parallel(2)
        .with_answer(move |prompt, _| {
            let turn = last_turn(prompt);
            rules
                .iter()
                .find(|(m, _)| turn.contains(m))
                .map_or("Keeps station readings in order.", |(_, a)| a)
                .to_string()
        })
}

fn find<'a>(recs: &'a [SummaryRecord], kind: Kind, path: &str) -> &'a SummaryRecord {
    recs.iter()
        .find(|r| r.kind == kind && r.path == path)
        .unwrap_or_else(|| panic!("no {kind:?} record for {path}"))
}

const SENSOR_CODE: &str = "pub struct Dht { pin: u8 }\n\nimpl Dht {\n    pub fn read(&self) -> (f32, f32) {\n        let raw_pulse_train = self.pin as f32;\n        (raw_pulse_train, 0.0)\n    }\n}\n";

#[test]
fn authored_docs_come_first_at_every_level() {
    let tmp = tempfile::tempdir().unwrap();
    // A folder name that says nothing: the project is named by its manifest.
    let root = tmp.path().join("checkout-7");
    write(
        &root,
        "Cargo.toml",
        "[package]\nname = \"weather-station\"\nversion = \"0.1.0\"\ndescription = \"Reads sensors and publishes hourly weather reports\"\n",
    );
    write(
        &root,
        "README.md",
        "# weather-station\n\n[![ci](https://example.org/b.svg)](https://example.org)\n\nA small station that reads its sensors every minute.\n",
    );
    write(
        &root,
        "src/lib.rs",
        "//! The weather station: sensors in, reports out.\n\npub mod sensors;\npub mod report;\n",
    );
    write(
        &root,
        "src/sensors/mod.rs",
        "//! Drivers for the station's temperature and humidity sensors.\n\npub mod dht;\n",
    );
    write(&root, "src/sensors/dht.rs", SENSOR_CODE);
    // A directory without any doc of its own.
    write(
        &root,
        "src/report/hourly.rs",
        "pub fn hourly(xs: &[f32]) -> f32 {\n    xs.iter().sum::<f32>() / xs.len() as f32\n}\n",
    );
    write(
        &root,
        "src/report/publish.rs",
        "pub fn publish(line: &str) {\n    println!(\"{line}\");\n}\n",
    );
    let out = tmp.path().join("out");
    static RULES: &[(&str, &str)] = &[
        (
            "Directory: src/report\n",
            "Hourly averages of the readings, printed as lines.",
        ),
        (
            "What is this directory for?",
            "Keeps station readings in order.",
        ),
    ];
    let backend = scripted(RULES);
    summarize(&backend, &settings(&root, &out)).unwrap();
    let recs = read_records(&out.join("summaries.jsonl")).unwrap();

    let root_rec = find(&recs, Kind::Root, ".");
    assert_eq!(
        root_rec.summary,
        "Reads sensors and publishes hourly weather reports."
    );
    assert_eq!(root_rec.topic, "weather-station");
    assert_eq!(root_rec.origin.as_deref(), Some("manifest"));
    assert_eq!(root_rec.origin_file.as_deref(), Some("Cargo.toml"));

    let src = find(&recs, Kind::Dir, "src");
    assert_eq!(src.summary, "The weather station: sensors in, reports out.");
    assert_eq!(src.origin.as_deref(), Some("module_doc"));
    assert_eq!(src.origin_file.as_deref(), Some("src/lib.rs"));
    let sensors = find(&recs, Kind::Dir, "src/sensors");
    assert_eq!(
        sensors.summary,
        "Drivers for the station's temperature and humidity sensors."
    );
    // A file with its own module doc takes it too.
    let sensors_mod = find(&recs, Kind::File, "src/sensors/mod.rs");
    assert_eq!(sensors_mod.summary, sensors.summary);
    // The directory without docs is asked about, with its children's lines in the prompt.
    let report = find(&recs, Kind::Dir, "src/report");
    assert_eq!(
        report.summary,
        "Hourly averages of the readings, printed as lines."
    );
    assert!(report.origin.is_none() && !report.fallback);
    let asked: Vec<String> = backend
        .take_prompts()
        .iter()
        .map(|p| last_turn(p).to_string())
        .filter(|t| t.contains("What is this directory for?"))
        .collect();
    assert_eq!(asked.len(), 1, "only src/report has no doc: {asked:?}");
    assert!(asked[0].contains("- hourly.rs: "), "{}", asked[0]);

    // The project's name heads the map, and no shown line opens with the topic.
    let md = std::fs::read_to_string(out.join("SUMMARY.md")).unwrap();
    assert!(
        md.contains("Reads sensors and publishes hourly weather reports."),
        "{md}"
    );
    assert!(!md.contains(" module: "), "{md}");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(!html.contains(" module: "));
    for r in &recs {
        assert!(
            !r.summary.starts_with("The ") || !r.summary.contains(" module: "),
            "{r:?}"
        );
    }
    let run = isg::output::read_report(&out.join("run.json")).unwrap();
    let stats = run.rollup.unwrap();
    assert_eq!(stats.root_name, "weather-station");
    assert!(stats.authored >= 4, "{stats:?}");
}

#[test]
fn a_whole_file_with_a_module_doc_takes_its_line_without_a_request() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("station");
    write(
        &root,
        "src/sensors.rs",
        &format!("//! Drivers for the station's humidity sensors.\n\n{SENSOR_CODE}"),
    );
    // A file of several chunks: its module doc speaks for the file, not for each part.
    let long: String = (0..40)
        .map(|i| format!("pub fn reading_{i}() -> u32 {{\n    {i}\n}}\n\n"))
        .collect();
    write(
        &root,
        "src/readings.rs",
        &format!("//! Fixed readings used by the station's self test.\n\n{long}"),
    );
    write(&root, "src/plain.rs", SENSOR_CODE);
    let asked_about = |backend: &EchoBackend, path: &str| {
        backend
            .take_prompts()
            .iter()
            .filter(|p| last_turn(p).contains(&format!("File: {path}")))
            .count()
    };

    let out = tmp.path().join("out");
    let mut s = settings(&root, &out);
    s.max_lines = 30;
    let backend = scripted(&[]);
    let report = summarize(&backend, &s).unwrap();
    let recs = read_records(&out.join("summaries.jsonl")).unwrap();
    let chunk = find(&recs, Kind::Chunk, "src/sensors.rs");
    assert_eq!(chunk.summary, "Drivers for the station's humidity sensors.");
    assert_eq!(chunk.origin.as_deref(), Some("module_doc"));
    assert_eq!(chunk.origin_file.as_deref(), Some("src/sensors.rs"));
    assert_eq!((chunk.prompt_tokens, chunk.attempts), (0, 0));
    assert!(chunk.grounded && !chunk.fallback && !chunk.cached);
    let parts: Vec<&SummaryRecord> = recs
        .iter()
        .filter(|r| r.kind == Kind::Chunk && r.path == "src/readings.rs")
        .collect();
    assert!(parts.len() > 1, "{parts:?}");
    assert!(
        parts
            .iter()
            .all(|r| r.origin.is_none() && r.prompt_tokens > 0)
    );
    assert_eq!(find(&recs, Kind::Chunk, "src/plain.rs").origin, None);
    assert_eq!(report.totals.authored, 1);
    assert_eq!(
        report.totals.computed,
        recs.iter().filter(|r| r.kind == Kind::Chunk).count()
    );
    let prompts = backend.prompts();
    assert!(
        !prompts
            .iter()
            .any(|p| last_turn(p).contains("File: src/sensors.rs")),
        "the documented file was asked about"
    );
    assert!(asked_about(&backend, "src/readings.rs") > 1);

    // Asked for, the model answers for it too, in a fresh folder.
    let out = tmp.path().join("out-asked");
    let mut s = settings(&root, &out);
    s.max_lines = 30;
    s.ask_documented = true;
    let backend = scripted(&[]);
    let report = summarize(&backend, &s).unwrap();
    let recs = read_records(&out.join("summaries.jsonl")).unwrap();
    let chunk = find(&recs, Kind::Chunk, "src/sensors.rs");
    assert_eq!(chunk.summary, "Keeps station readings in order.");
    assert!(chunk.origin.is_none() && chunk.prompt_tokens > 0);
    assert_eq!(report.totals.authored, 0);
    assert_eq!(asked_about(&backend, "src/sensors.rs"), 1);
}

/// `src/parts/`: a number parser and a value type, two files whose lines differ.
fn write_parts(root: &Path) {
    write(
        root,
        "src/parts/numbers.rs",
        "pub fn parse_float(s: &str) -> f64 {\n    s.parse().unwrap()\n}\n",
    );
    write(
        root,
        "src/parts/value.rs",
        "pub enum Value {\n    Null,\n    Number(f64),\n}\n",
    );
}

#[test]
fn a_directory_line_that_only_repeats_one_child_is_not_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("station");
    write_parts(&root);
    write(
        &root,
        "src/parts/io.rs",
        "pub fn read_all(r: &mut dyn std::io::Read) -> Vec<u8> {\n    let mut v = Vec::new();\n    r.read_to_end(&mut v).unwrap();\n    v\n}\n",
    );
    write(
        &root,
        "src/whole/mod.rs",
        "pub fn start() {\n    println!(\"station starting\");\n}\n",
    );
    write(
        &root,
        "src/whole/clock.rs",
        "pub fn now() -> u64 {\n    0\n}\n",
    );
    static RULES: &[(&str, &str)] = &[
        (
            "File: src/parts/numbers.rs",
            "Parsing floating-point numbers from decimal text.",
        ),
        (
            "File: src/parts/value.rs",
            "A JSON value that is null or a number.",
        ),
        (
            "File: src/parts/io.rs",
            "Reading a whole stream into memory.",
        ),
        (
            "File: src/whole/mod.rs",
            "Starting the weather station and its services.",
        ),
        (
            "File: src/whole/clock.rs",
            "A clock that reads the station's time.",
        ),
        // Each directory's answer repeats one child: a plain file's, and the mod.rs that
        // stands for its directory.
        (
            "Directory: src/parts\n",
            "Parsing floating-point numbers from decimal text.",
        ),
        (
            "Directory: src/whole\n",
            "Starting the weather station and its services.",
        ),
    ];
    let out = tmp.path().join("out");
    summarize(&scripted(RULES), &settings(&root, &out)).unwrap();
    let recs = read_records(&out.join("summaries.jsonl")).unwrap();
    let parts = find(&recs, Kind::Dir, "src/parts");
    assert!(parts.fallback, "{parts:?}");
    // Asked again with a note, it repeated the child again: the fallback.
    assert_eq!(parts.rejected.as_deref(), Some("one child, one child"));
    assert_ne!(
        parts.summary,
        "Parsing floating-point numbers from decimal text."
    );
    // The fallback joins two children's lines: it covers more than the one.
    assert_eq!(parts.summary.matches("; ").count(), 1, "{}", parts.summary);
    let whole = find(&recs, Kind::Dir, "src/whole");
    assert!(!whole.fallback && whole.rejected.is_none(), "{whole:?}");
    assert_eq!(
        whole.summary,
        "Starting the weather station and its services."
    );
}

#[test]
fn a_rejected_directory_answer_is_asked_again_and_a_good_second_answer_is_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("station");
    write_parts(&root);
    write(
        &root,
        "src/main.rs",
        "fn main() {\n    println!(\"station\");\n}\n",
    );
    write(
        &root,
        "build.rs",
        "fn main() {\n    println!(\"cargo:rerun-if-changed=src\");\n}\n",
    );
    static RULES: &[(&str, &str)] = &[
        // The second question carries a note on what the first answer got wrong.
        (
            "described only one of its parts",
            "Numbers and values read from the station's sensors.",
        ),
        (
            "File: src/parts/numbers.rs",
            "Parsing floating-point numbers from decimal text.",
        ),
        (
            "File: src/parts/value.rs",
            "A JSON value that is null or a number.",
        ),
        (
            "Directory: src/parts\n",
            "Parsing floating-point numbers from decimal text.",
        ),
        // The root's first answer names a path; the second question says not to.
        ("File: src/main.rs", "Starts the weather station."),
        ("File: build.rs", "Rebuilds when the sources change."),
        (
            "Directory: src\n",
            "Starting the station and reading its sensors.",
        ),
        (
            "Do not name any file, folder or path",
            "The weather station's firmware.",
        ),
        (
            "Directory: station",
            "The code in src/parts and src/main.rs.",
        ),
    ];
    let out = tmp.path().join("out");
    let backend = scripted(RULES);
    summarize(&backend, &settings(&root, &out)).unwrap();
    let recs = read_records(&out.join("summaries.jsonl")).unwrap();
    let parts = find(&recs, Kind::Dir, "src/parts");
    assert!(!parts.fallback, "{parts:?}");
    assert_eq!(parts.attempts, 2, "{parts:?}");
    assert_eq!(parts.rejected.as_deref(), Some("one child"));
    assert_eq!(
        parts.summary,
        "Numbers and values read from the station's sensors."
    );
    let root_line = find(&recs, Kind::Root, ".");
    assert!(!root_line.fallback, "{root_line:?}");
    assert_eq!(root_line.rejected.as_deref(), Some("path"));
    assert_eq!(root_line.summary, "The weather station's firmware.");
    // An answer accepted on the second question is not marked as a fallback in the map.
    let md = std::fs::read_to_string(out.join("SUMMARY.md")).unwrap();
    assert!(
        md.contains("Numbers and values read from the station's sensors.")
            && !md.contains("sensors. *(fallback)*"),
        "{md}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(report["rollup"]["asked_again"], 2, "{report}");
    assert_eq!(report["rollup"]["rejected"], 0, "{report}");
    // A second run takes both lines from the cache, with the same outcome.
    summarize(&backend, &settings(&root, &out)).unwrap();
    let again = read_records(&out.join("summaries.jsonl")).unwrap();
    let parts2 = find(&again, Kind::Dir, "src/parts");
    assert!(parts2.cached && !parts2.fallback, "{parts2:?}");
    assert_eq!(parts2.summary, parts.summary);
}

#[test]
fn a_broken_manifest_no_readme_and_an_empty_directory_still_give_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("station");
    write(&root, "Cargo.toml", "[package\nname = \"unterminated\n");
    write(&root, "README.md", "\0\0binary\0");
    std::fs::create_dir_all(root.join("empty/deeper")).unwrap();
    write(&root, "src/dht.rs", SENSOR_CODE);
    write(
        &root,
        "src/hourly.rs",
        "pub fn hourly(xs: &[f32]) -> f32 {\n    xs.iter().sum::<f32>() / xs.len() as f32\n}\n",
    );
    let out = tmp.path().join("out");
    summarize(&scripted(&[]), &settings(&root, &out)).unwrap();
    let recs = read_records(&out.join("summaries.jsonl")).unwrap();
    let root_rec = find(&recs, Kind::Root, ".");
    assert_eq!(
        root_rec.topic, "station",
        "the folder names it when nothing else does"
    );
    assert!(!root_rec.summary.is_empty());
    // The root has one child (`src/`) and takes its line.
    let src = find(&recs, Kind::Dir, "src");
    assert_eq!(root_rec.summary, src.summary);
    assert_eq!(src.summary, "Keeps station readings in order.");
    assert!(!recs.iter().any(|r| r.path.starts_with("empty")));
}

#[test]
fn an_answer_that_contradicts_the_code_or_restates_its_place_is_not_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("conv");
    // The body holds a word the interface view leaves out, so the second request (in the code
    // view) can be told apart.
    write(
        &root,
        "src/weights.rs",
        "/// Converts a GGUF file's tensors to ONNX initializers.\npub fn gguf_to_onnx(src: &str) -> usize {\n    let code_view_marker = src.len();\n    code_view_marker\n}\n",
    );
    write(
        &root,
        "src/place.rs",
        "/// Counts the sensors on the bus.\npub fn count_sensors(bus: &[u8]) -> usize {\n    bus.len()\n}\n",
    );
    static RULES: &[(&str, &str)] = &[
        (
            "code_view_marker",
            "Converts GGUF tensors to ONNX initializers.",
        ),
        ("gguf_to_onnx", "Converts ONNX weights to GGUF format."),
        ("count_sensors", "Part 2 of the file."),
    ];
    let out = tmp.path().join("out");
    let mut s = settings(&root, &out);
    s.second_look = false;
    summarize(&scripted(RULES), &s).unwrap();
    let recs = read_records(&out.join("summaries.jsonl")).unwrap();
    let weights = find(&recs, Kind::Chunk, "src/weights.rs");
    assert_eq!(
        weights.rejected.as_deref(),
        Some("contradicts"),
        "{weights:?}"
    );
    assert_eq!(
        weights.summary,
        "Converts GGUF tensors to ONNX initializers."
    );
    assert_eq!(weights.attempts, 2);
    let place = find(&recs, Kind::Chunk, "src/place.rs");
    assert_eq!(
        place.rejected.as_deref(),
        Some("boilerplate, boilerplate"),
        "{place:?}"
    );
    assert!(place.fallback);
    assert_eq!(place.summary, "Counts the sensors on the bus.");
}

#[test]
fn a_poorly_supported_line_gets_a_second_look() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("look");
    write(
        &root,
        "src/dht.rs",
        "/// A DHT22 humidity sensor on one pin.\npub struct Dht { pin: u8 }\n\nimpl Dht {\n    pub fn read_humidity(&self) -> f32 {\n        let code_view_marker = self.pin as f32;\n        code_view_marker\n    }\n}\n",
    );
    static RULES: &[(&str, &str)] = &[
        ("code_view_marker", "Reads humidity from a DHT sensor pin."),
        ("Dht", "Parses configuration files from disk."),
    ];
    let out = tmp.path().join("out");
    let backend = scripted(RULES);
    let mut s = settings(&root, &out);
    s.second_look = true;
    summarize(&backend, &s).unwrap();
    let recs = read_records(&out.join("summaries.jsonl")).unwrap();
    let chunk = find(&recs, Kind::Chunk, "src/dht.rs");
    assert_eq!(chunk.summary, "Reads humidity from a DHT sensor pin.");
    assert!(chunk.rejected.is_none() && !chunk.fallback, "{chunk:?}");
    // Without the second look (the default) the first answer stands.
    let out2 = tmp.path().join("out2");
    summarize(&scripted(RULES), &settings(&root, &out2)).unwrap();
    let recs = read_records(&out2.join("summaries.jsonl")).unwrap();
    assert_eq!(
        find(&recs, Kind::Chunk, "src/dht.rs").summary,
        "Parses configuration files from disk."
    );
}

#[test]
fn the_line_of_test_code_says_it_is_about_tests() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("lines");
    write(
        &root,
        "src/read.rs",
        "/// Reads one line.\npub fn read_line(buf: &mut String) -> usize {\n    buf.len()\n}\n",
    );
    // Under tests/ by its folder; two chunks, so its file line is rolled up.
    write(
        &root,
        "tests/read.rs",
        "#[test]\nfn reads_a_line() {\n    assert_eq!(1, 1);\n}\n\n#[test]\nfn reads_an_empty_line() {\n    assert_eq!(0, 0);\n}\n",
    );
    // Beside code, by its test functions.
    write(
        &root,
        "src/checks.rs",
        "#[test]\nfn splits_words() {\n    assert!(true);\n}\n",
    );
    static RULES: &[(&str, &str)] = &[
        // Only the file's roll-up prompt holds its chunks' lines.
        (
            "Tests for empty lines.",
            "Line reading, one line at a time.",
        ),
        ("fn read_line", "Reading lines from a buffer."),
        ("reads_a_line", "Reading lines from a buffer."),
        ("reads_an_empty_line", "Tests for empty lines."),
        ("splits_words", "Splitting words."),
    ];
    let out = tmp.path().join("out");
    let mut s = settings(&root, &out);
    s.max_lines = 5;
    summarize(&scripted(RULES), &s).unwrap();
    let recs = read_records(&out.join("summaries.jsonl")).unwrap();
    let line = |kind, path: &str, start| {
        recs.iter()
            .find(|r| r.kind == kind && r.path == path && (start == 0 || r.start_line == start))
            .unwrap_or_else(|| panic!("no {kind:?} record for {path}:{start}"))
            .summary
            .clone()
    };
    for (kind, path, start, want) in [
        (
            Kind::Chunk,
            "src/read.rs",
            1,
            "Reading lines from a buffer.",
        ),
        (
            Kind::Chunk,
            "tests/read.rs",
            1,
            "Test code: reading lines from a buffer.",
        ),
        // A line that already says so is left as it is.
        (Kind::Chunk, "tests/read.rs", 6, "Tests for empty lines."),
        (
            Kind::Chunk,
            "src/checks.rs",
            1,
            "Test code: splitting words.",
        ),
        // The test file's line, rolled up from its two chunks.
        (
            Kind::File,
            "tests/read.rs",
            0,
            "Test code: line reading, one line at a time.",
        ),
        (Kind::File, "src/read.rs", 0, "Reading lines from a buffer."),
    ] {
        assert_eq!(line(kind, path, start), want, "{kind:?} {path}:{start}");
    }
}

#[test]
fn a_directory_of_tests_says_so_and_no_line_is_a_list_of_names() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("lines");
    for (rel, code) in [
        ("src/read.rs", "pub fn read_line() -> usize {\n    1\n}\n"),
        ("src/write.rs", "pub fn write_line() -> usize {\n    2\n}\n"),
        (
            "src/flush.rs",
            "pub fn flush_lines() -> usize {\n    3\n}\n",
        ),
        (
            "tests/read.rs",
            "#[test]\nfn reads_a_line() {\n    assert_eq!(1, 1);\n}\n",
        ),
        (
            "tests/write.rs",
            "#[test]\nfn writes_a_line() {\n    assert_eq!(2, 2);\n}\n",
        ),
        // What the tests read: marked as tests, but not answered from "Tests for".
        (
            "tests/fixtures/data/short.rs",
            "pub const SHORT: &str = \"a\";\n",
        ),
        (
            "tests/fixtures/data/long.rs",
            "pub const LONG: &str = \"abc\";\n",
        ),
    ] {
        write(&root, rel, code);
    }
    static RULES: &[(&str, &str)] = &[
        // The root's second question, after an answer of names only.
        (
            "Do not list the names of its parts",
            "A line reader and writer, with its tests.",
        ),
        // A test directory is marked, and its answer begins with "Tests for": the stand-in
        // answers with the rest.
        ("Directory: tests (tests)", " reading and writing lines."),
        (
            "Directory: tests/fixtures/data (tests)",
            "Sample lines read by the tests.",
        ),
        (
            "Directory: src\n",
            "The line helpers: read, write and flush.",
        ),
        ("Directory: lines", "Src, tests and more."),
        ("fn read_line", "Reads a line."),
        ("fn write_line", "Writes a line."),
        ("fn flush_lines", "Flushes the lines written."),
        ("reads_a_line", "Tests for reading a line."),
        ("writes_a_line", "Tests for writing a line."),
    ];
    let out = tmp.path().join("out");
    summarize(&scripted(RULES), &settings(&root, &out)).unwrap();
    let recs = read_records(&out.join("summaries.jsonl")).unwrap();
    // A trailing list of the children's names is cut.
    let src = find(&recs, Kind::Dir, "src");
    assert_eq!(src.summary, "The line helpers.", "{src:?}");
    assert!(!src.fallback, "{src:?}");
    let tests = find(&recs, Kind::Dir, "tests");
    assert_eq!(
        tests.summary, "Tests for reading and writing lines.",
        "{tests:?}"
    );
    let data = find(&recs, Kind::Dir, "tests/fixtures/data");
    assert_eq!(data.summary, "Sample lines read by the tests.", "{data:?}");
    // An answer of names alone is asked again, with a note.
    let top = find(&recs, Kind::Root, ".");
    assert_eq!(top.rejected.as_deref(), Some("names"), "{top:?}");
    assert_eq!(top.summary, "A line reader and writer, with its tests.");
    assert!(!top.fallback, "{top:?}");
}

#[test]
fn of_several_answers_the_one_the_others_agree_on_and_the_code_supports_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("bus");
    write(
        &root,
        "src/bus.rs",
        "/// Counts the sensors on the bus.\npub fn count_sensors(bus: &[u8]) -> usize {\n    bus.len()\n}\n",
    );
    write(
        &root,
        "src/pins.rs",
        "/// Lists the pins a sensor uses.\npub fn sensor_pins(sensor: u8) -> Vec<u8> {\n    vec![sensor]\n}\n",
    );
    let backend = || {
        scripted(&[
            (
                "count_sensors",
                "Parses weather forecasts from the network.",
            ),
            ("sensor_pins", "Part 2 of the file."),
        ])
        .with_sampled(|prompt, k| {
            let turn = last_turn(prompt);
            let lines: [&str; 4] = if turn.contains("count_sensors") {
                [
                    "Counts the sensors on a bus.",
                    "Counts sensors on the bus.",
                    "Part 2 of the file.",
                    "Counting the bus sensors.",
                ]
            } else {
                [
                    "Lists the pins of a sensor.",
                    "This code.",
                    "Sensor pin lists.",
                    "Lists sensor pins.",
                ]
            };
            lines[(k - 1) % 4].to_string()
        })
    };
    let out = tmp.path().join("out");
    let mut s = settings(&root, &out);
    s.candidates = 5;
    summarize(&backend(), &s).unwrap();
    let recs = read_records(&out.join("summaries.jsonl")).unwrap();
    // The greedy answer goes its own way and uses none of the code's words: a sampled one is kept.
    let bus = find(&recs, Kind::Chunk, "src/bus.rs");
    assert!(
        bus.summary.starts_with("Count") && bus.summary.contains("sensors"),
        "{bus:?}"
    );
    assert!(
        bus.rejected.is_none() && !bus.fallback && bus.attempts == 1,
        "{bus:?}"
    );
    // A rejected greedy answer needs no second request when a sampled answer was accepted.
    let pins = find(&recs, Kind::Chunk, "src/pins.rs");
    assert!(pins.summary.contains("pin"), "{pins:?}");
    assert!(
        pins.rejected.is_none() && !pins.fallback && pins.attempts == 1,
        "{pins:?}"
    );

    // One answer asked: the greedy line stands, and the cache of five answers is not reused.
    s.candidates = 1;
    summarize(&backend(), &s).unwrap();
    let recs = read_records(&out.join("summaries.jsonl")).unwrap();
    let bus = find(&recs, Kind::Chunk, "src/bus.rs");
    assert_eq!(bus.summary, "Parses weather forecasts from the network.");
    let pins = find(&recs, Kind::Chunk, "src/pins.rs");
    assert_eq!(pins.attempts, 2, "{pins:?}");
}
