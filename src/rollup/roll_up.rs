//! The roll-up itself: the levels, bottom-up, one batch per depth, cache first.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use crate::record::RollupStats;

use super::echo::{ChildSays, ECHOES_ONE_CHILD, echoes_one_child};
use super::fallback::{FallbackChild, dir_fallback, file_fallback};
use super::names::{Listed, NAMES_ONLY, name_list};
use super::prompt::{ChildLine, SLOT, Subject, body, line_text, rollup_key, template_messages};
use crate::record::PipelineError;
use crate::record::{COPIED_FROM_CHILD, Kind, Reduction, SummaryRecord};
use crate::record::{ROOT_PATH, Tree};
use crate::run::Grounds;
use crate::run::answer_settled;
use crate::run::line_for;
use crate::run::{Backend, Query};
use crate::run::{Cache, CacheEntry, FAILED_RETRY, RETRY_SEPARATOR};
use crate::source::{
    Authored, AuthoredDocs, DIRECTORY_FILES, TEST_OPENING, as_test_line, is_test_dir, is_test_path,
};

/// The longest roll-up prompt body in tokens, beyond the head every roll-up prompt shares
/// (children that do not fit are named only).
pub const DEFAULT_ROLLUP_PROMPT_TOKENS: usize = 1024;

/// How the answer about a directory of tests begins: the words are given, the model goes on
/// from them. Asked what a folder of tests is for, a small model calls it "a testing
/// framework"; asked to finish "Tests for", it says what they test.
pub const TEST_LEAD: &str = "Tests for";

/// Names of folders that hold what tests use rather than tests (`tests/support`,
/// `tests/fixtures/source`): a line of one of them, or of a folder inside one, says it is for
/// tests, but does not begin with [`TEST_LEAD`].
const TEST_HELPER_DIRS: &[&str] = &[
    "support",
    "helpers",
    "helper",
    "util",
    "utils",
    "common",
    "fixtures",
    "mocks",
    "mock",
    "testutil",
    "testutils",
    "test_utils",
    "harness",
];

/// The `view` of roll-up records.
pub const ROLLUP_VIEW: &str = "rollup";

/// Which levels to roll up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Levels {
    /// File lines only (a shard run: directories may span shards).
    Files,
    /// Directory and root lines only, from file records already made (after a merge).
    Dirs,
    /// Files, directories and the root.
    All,
}

/// What a roll-up needs besides the records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupSettings {
    /// The model's identity (part of every key, written in every record).
    pub model: String,
    /// What the authors wrote: the project's name (the root line's topic) and the lines of
    /// the directories and files that have their own docs.
    pub docs: AuthoredDocs,
    /// Cap on generated tokens per line.
    pub max_new_tokens: usize,
    /// Longest prompt body in tokens (the shared head comes on top, within the context).
    pub max_prompt_tokens: usize,
    /// Which levels to make.
    pub levels: Levels,
}

/// The records a roll-up made, in tree order (root, then each directory before its contents).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rollup {
    /// The new `file`, `dir` and `root` records.
    pub records: Vec<SummaryRecord>,
    /// What it took.
    pub stats: RollupStats,
}

/// One line to ask for.
struct Job {
    node: usize,
    record: SummaryRecord,
    body: String,
    topic_path: String,
    fallback: String,
    /// A directory's children's accepted lines, which its answer must not merely repeat one
    /// of (empty for a file).
    child_lines: Vec<ChildSays>,
    /// Whether it is a test file ([`is_test_path`]) or a directory of tests, whose line must
    /// say so.
    tests: bool,
    /// The children's names (a directory's files and folders, a file's items), which an
    /// answer must not merely list.
    names: Vec<String>,
    /// The words the answer begins with, given to the model ([`TEST_LEAD`] for a directory of
    /// tests; empty otherwise).
    lead: &'static str,
}

/// The shared start of every roll-up prompt.
struct Head {
    ids: Vec<u32>,
    tail: String,
}

impl Head {
    fn new(backend: &dyn Backend) -> Result<Head, PipelineError> {
        let rendered = backend
            .render_chat(&template_messages())
            .map_err(|e| PipelineError::Prompt(e.to_string()))?;
        let mut parts = rendered.split(SLOT);
        let (Some(head), Some(tail), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(PipelineError::Prompt(
                "the chat template dropped or repeated the user message; cannot place the \
                 roll-up in it"
                    .into(),
            ));
        };
        let ids = backend
            .encode_start(head)
            .map_err(|e| PipelineError::Prompt(e.to_string()))?;
        Ok(Head {
            ids,
            tail: tail.to_string(),
        })
    }
}

/// Rolls `records` up into file, directory and root lines (see the module docs).
pub fn roll_up(
    backend: &dyn Backend,
    records: &[SummaryRecord],
    settings: &RollupSettings,
    cache: &mut Cache,
) -> Result<Rollup, PipelineError> {
    let start = Instant::now();
    let base: Vec<SummaryRecord> = records
        .iter()
        .filter(|r| {
            r.kind == Kind::Chunk || (settings.levels == Levels::Dirs && r.kind == Kind::File)
        })
        .cloned()
        .collect();
    let tree = Tree::build(&base);
    let mut run = Runner {
        backend,
        settings,
        head: Head::new(backend)?,
        tree: &tree,
        base: &base,
        made: HashMap::new(),
        test_dirs: HashSet::new(),
        stats: RollupStats::default(),
    };
    {
        let files: Vec<usize> = (0..tree.nodes.len())
            .filter(|&n| tree.nodes[n].kind == Kind::File)
            .collect();
        let mut jobs = Vec::new();
        for n in files {
            // After a merge, only files whose shard left no file record (older outputs).
            if settings.levels == Levels::Dirs && tree.nodes[n].record.is_some() {
                continue;
            }
            run.stats.files += 1;
            if let Some(job) = run.file_job(n) {
                jobs.push(job);
            }
        }
        run.level(jobs, cache)?;
    }
    if settings.levels != Levels::Files {
        // A directory needs only its children's lines, so directories go by height (the longest
        // way down to a file), not by depth: every directory of files alone is in the first
        // batch, whatever its depth, and the engine's streams are fuller.
        let heights = dir_heights(&tree);
        let max_height = heights.iter().copied().max().unwrap_or(0);
        for height in 1..=max_height {
            let jobs: Vec<Job> = (0..tree.nodes.len())
                .filter(|&n| {
                    let node = &tree.nodes[n];
                    heights[n] == height && matches!(node.kind, Kind::Dir | Kind::Root)
                })
                .collect::<Vec<usize>>()
                .into_iter()
                .filter_map(|n| {
                    run.stats.dirs += 1;
                    run.dir_job(n)
                })
                .collect();
            run.level(jobs, cache)?;
        }
    }
    let mut made = std::mem::take(&mut run.made);
    let mut stats = run.stats;
    stats.seconds = start.elapsed().as_secs_f64();
    stats.root_name = settings.docs.name.clone();
    stats.version = super::prompt::ROLLUP_PROMPT_VERSION.to_string();
    stats.docs = settings.docs.clone();
    let records = tree
        .preorder()
        .into_iter()
        .filter_map(|n| made.remove(&n))
        .collect();
    Ok(Rollup { records, stats })
}

/// The state of one roll-up.
struct Runner<'a> {
    backend: &'a dyn Backend,
    settings: &'a RollupSettings,
    head: Head,
    tree: &'a Tree,
    base: &'a [SummaryRecord],
    /// Records made so far, by node.
    made: HashMap<usize, SummaryRecord>,
    /// Directories of tests seen so far (their parents are asked later).
    test_dirs: HashSet<usize>,
    stats: RollupStats,
}

impl Runner<'_> {
    /// The record of `node`: made by this roll-up, or given.
    fn record(&self, node: usize) -> Option<&SummaryRecord> {
        self.made
            .get(&node)
            .or_else(|| self.tree.nodes[node].record.map(|i| &self.base[i]))
    }

    /// A record for `node` of `kind` with everything but the location empty.
    fn blank(&self, node: usize, kind: Kind) -> SummaryRecord {
        let n = &self.tree.nodes[node];
        SummaryRecord {
            kind,
            path: n.path.clone(),
            start_line: 0,
            end_line: 0,
            language: String::new(),
            symbols: Vec::new(),
            summary: String::new(),
            hash: String::new(),
            model: self.settings.model.clone(),
            prompt_tokens: 0,
            generated_tokens: 0,
            ms: 0.0,
            view: ROLLUP_VIEW.to_string(),
            reduction: Reduction::None,
            elided_lines: None,
            cached: false,
            rejected: None,
            attempts: 0,
            grounded: false,
            fallback: false,
            error: None,
            topic: String::new(),
            origin: None,
            origin_file: None,
        }
    }

    /// The job of a file with several chunks; a one-chunk file gets its chunk's line at once,
    /// and a file with its own module doc gets that doc's first sentence.
    fn file_job(&mut self, node: usize) -> Option<Job> {
        let n = &self.tree.nodes[node];
        let chunks: Vec<&SummaryRecord> = n
            .children
            .iter()
            .filter_map(|&c| self.tree.nodes[c].record)
            .map(|i| &self.base[i])
            .collect();
        let mut record = self.blank(node, Kind::File);
        record.topic = crate::record::file_topic(&n.path);
        record.start_line = chunks.iter().map(|c| c.start_line).min().unwrap_or(1);
        record.end_line = chunks.iter().map(|c| c.end_line).max().unwrap_or(0);
        record.language = chunks
            .first()
            .map(|c| c.language.clone())
            .unwrap_or_default();
        // A set beside the list: a minified file can define tens of thousands of names.
        let mut seen: HashSet<&str> = HashSet::new();
        for c in &chunks {
            for s in &c.symbols {
                if seen.insert(s) {
                    record.symbols.push(s.clone());
                }
            }
        }
        if let Some(doc) = self.settings.docs.file_line(&n.path) {
            self.stats.authored += 1;
            self.made.insert(node, authored_record(record, doc));
            return None;
        }
        if let [only] = chunks[..] {
            self.stats.copied += 1;
            let mut copy = only.clone();
            copy.kind = Kind::File;
            copy.symbols = record.symbols;
            self.made.insert(node, copy);
            return None;
        }
        let children: Vec<ChildLine> = chunks
            .iter()
            .map(|c| ChildLine {
                label: c
                    .symbols
                    .iter()
                    .take(4)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                text: if usable(c) {
                    line_text(c.shown_line())
                } else {
                    String::new()
                },
            })
            .collect();
        let fallback_children: Vec<FallbackChild> = chunks
            .iter()
            .map(|c| FallbackChild {
                name: c.symbols.first().cloned().unwrap_or_default(),
                line: c.shown_line().to_string(),
                accepted: usable(c),
                lines: c.end_line + 1 - c.start_line.min(c.end_line + 1),
            })
            .collect();
        let path = n.path.clone();
        let tests = is_test_path(&path);
        let body = self.body(Subject::File, &path, tests, &record.symbols, &children);
        let fallback = file_fallback(&fallback_children);
        Some(Job {
            node,
            fallback: if tests {
                as_test_line(&fallback)
            } else {
                fallback
            },
            tests,
            names: record.symbols.clone(),
            lead: "",
            topic_path: path,
            record,
            body,
            child_lines: Vec::new(),
        })
    }

    /// The job of a directory (or the root), from its children's records; `None` when its
    /// line needs no request: the authors' own doc, or the line of its only child.
    fn dir_job(&mut self, node: usize) -> Option<Job> {
        let n = &self.tree.nodes[node];
        let is_root = n.kind == Kind::Root;
        let mut record = self.blank(node, if is_root { Kind::Root } else { Kind::Dir });
        record.topic = if is_root {
            self.settings.docs.name.clone()
        } else {
            n.name.trim_end_matches('/').to_string()
        };
        record.symbols = n
            .children
            .iter()
            .map(|&c| self.tree.nodes[c].name.clone())
            .collect();
        // A directory of tests: in a test folder, or every child a test file or directory.
        let tests = !is_root
            && (is_test_dir(&n.path)
                || (!n.children.is_empty()
                    && n.children.iter().all(|&c| {
                        let child = &self.tree.nodes[c];
                        match child.kind {
                            Kind::Dir => self.test_dirs.contains(&c),
                            _ => is_test_path(&child.path),
                        }
                    })));
        if tests {
            self.test_dirs.insert(node);
        }
        if let Some(doc) = self.settings.docs.line(&n.path) {
            self.stats.authored += 1;
            self.made.insert(node, authored_record(record, doc));
            return None;
        }
        if let [only] = n.children[..]
            && let Some(child) = self.record(only).filter(|r| usable(r))
        {
            let line = child.shown_line().to_string();
            record.summary = line;
            record.origin = Some(COPIED_FROM_CHILD.to_string());
            record.grounded = true;
            self.stats.only_child += 1;
            self.made.insert(node, record);
            return None;
        }
        // Larger children first: they are the ones shown when the budget runs out.
        let mut kids = n.children.clone();
        kids.sort_by(|&a, &b| self.tree.nodes[b].lines.cmp(&self.tree.nodes[a].lines));
        let mut children = Vec::new();
        let mut fallback_children = Vec::new();
        let mut child_lines = Vec::new();
        for c in kids {
            let child = &self.tree.nodes[c];
            let rec = self.record(c);
            let ok = rec.is_some_and(usable);
            if let Some(r) = rec.filter(|_| ok) {
                child_lines.push(ChildSays {
                    line: r.shown_line().to_string(),
                    speaks_for_dir: child.kind == Kind::File
                        && DIRECTORY_FILES.contains(&child.name.as_str()),
                });
            }
            children.push(ChildLine {
                label: child.name.clone(),
                text: rec
                    .filter(|_| ok)
                    .map(|r| line_text(r.shown_line()))
                    .unwrap_or_default(),
            });
            fallback_children.push(FallbackChild {
                name: crate::record::file_topic(&topic_path_of(
                    &child.path,
                    child.kind == Kind::Dir,
                )),
                // A test directory's line gets the test opening once, not once per child.
                line: rec
                    .map(|r| {
                        let line = r.shown_line();
                        match line.strip_prefix(TEST_OPENING) {
                            Some(rest) if tests => rest.to_string(),
                            _ => line.to_string(),
                        }
                    })
                    .unwrap_or_default(),
                accepted: ok,
                lines: child.lines,
            });
        }
        let shown_path = if is_root {
            self.settings.docs.name.clone()
        } else {
            n.path.clone()
        };
        let topic_path = if is_root {
            topic_path_of(&self.settings.docs.name, true)
        } else {
            topic_path_of(&n.path, true)
        };
        let body = self.body(Subject::Dir, &shown_path, tests, &[], &children);
        let fallback = dir_fallback(&fallback_children);
        Some(Job {
            node,
            fallback: if tests {
                as_test_line(&fallback)
            } else {
                fallback
            },
            topic_path,
            names: record.symbols.clone(),
            lead: if tests && !n.path.split('/').any(|d| TEST_HELPER_DIRS.contains(&d)) {
                TEST_LEAD
            } else {
                ""
            },
            record,
            body,
            child_lines,
            tests,
        })
    }

    /// The prompt body within the token budget.
    fn body(
        &self,
        subject: Subject,
        path: &str,
        tests: bool,
        items: &[String],
        children: &[ChildLine],
    ) -> String {
        // The shared head (instructions, examples) is computed once; the budget is the body's,
        // within what the context leaves.
        let room = self
            .backend
            .context()
            .saturating_sub(self.settings.max_new_tokens + self.head.ids.len());
        let budget = self.settings.max_prompt_tokens.min(room);
        let tail = &self.head.tail;
        let backend = self.backend;
        let mut fits = |text: &str| {
            backend
                .encode(&format!("{text}{tail}"))
                .map_or(true, |ids| ids.len() <= budget)
        };
        body(subject, path, tests, items, children, &mut fits)
    }

    /// Asks for every line of one level at once, asks again (all at once) for those whose
    /// answer was rejected, then records the outcomes.
    fn level(&mut self, jobs: Vec<Job>, cache: &mut Cache) -> Result<(), PipelineError> {
        let mut waiting = Vec::new();
        for mut job in jobs {
            job.record.hash = rollup_key(
                &job.body,
                &self.settings.model,
                self.settings.max_new_tokens,
            );
            if let Some(entry) = cache.get(&job.record.hash) {
                self.stats.cached += 1;
                let mut r = job.record;
                apply_entry(&mut r, entry);
                r.cached = true;
                self.made.insert(job.node, r);
                continue;
            }
            match self.ask(&job.body, job.lead) {
                Ok(asked) => waiting.push((job, asked)),
                Err(e) => self.fail(job, e),
            }
        }
        // First answers: accepted ones are done; rejected ones are asked again with a note.
        let mut again = Vec::new();
        for (job, asked) in waiting {
            let first = match self.answer(asked, &job) {
                Ok(a) => a,
                Err(e) => {
                    self.fail(job, e);
                    continue;
                }
            };
            match &first.verdict {
                Ok(_) => self.settle(job, first, None, cache)?,
                Err(reason) => {
                    let body = retry_body(&job.body, reason);
                    match self.ask(&body, job.lead) {
                        Ok(asked) => again.push((job, first, asked)),
                        Err(e) => {
                            let second = Answered::failed(e);
                            self.settle(job, first, Some(second), cache)?;
                        }
                    }
                }
            }
        }
        for (job, first, asked) in again {
            self.stats.asked_again += 1;
            let second = self.answer(asked, &job).unwrap_or_else(Answered::failed);
            self.settle(job, first, Some(second), cache)?;
        }
        Ok(())
    }

    /// Submits one roll-up question (`body` after the shared head), the answer to begin with
    /// `lead`.
    fn ask(&self, body: &str, lead: &str) -> Result<Asked, String> {
        let ids = self
            .backend
            .encode(&format!("{body}{}{lead}", self.head.tail))
            .map_err(|e| format!("tokenizing the roll-up prompt: {e}"))?;
        let mut prompt = self.head.ids.clone();
        prompt.extend(ids);
        let request = Query {
            prompt,
            max_new_tokens: self.settings.max_new_tokens,
            shared_prefix: self.head.ids.len(),
            done_when: Some(answer_settled),
            sampled: 0,
            seed: 0,
        };
        let ticket = self.backend.submit(request.clone());
        Ok(Asked {
            request,
            ticket,
            started: Instant::now(),
        })
    }

    /// Waits for an answer (submitting once more when the engine failed it) and judges it.
    fn answer(&self, asked: Asked, job: &Job) -> Result<Answered, String> {
        let completion = match (asked.ticket)() {
            Ok(c) => Ok(c),
            Err(_) => (self.backend.submit(asked.request))(),
        };
        let ms = asked.started.elapsed().as_secs_f64() * 1e3;
        let completion = completion.map_err(|e| e.to_string())?;
        let raw = self
            .backend
            .decode(&completion.tokens)
            .map(|text| format!("{}{text}", job.lead))
            .map_err(|e| format!("decoding the answer: {e}"))?;
        let grounds = Grounds {
            text: &job.body,
            path: &job.topic_path,
            context: None,
        };
        let verdict = line_for(&raw, &grounds)
            .map_err(|r| r.name().to_string())
            .and_then(|line| match name_list(&line, &job.names) {
                Listed::Plain => Ok(line),
                Listed::Cut(cut) => Ok(cut),
                Listed::OnlyNames => Err(NAMES_ONLY.to_string()),
            })
            .and_then(|line| {
                if echoes_one_child(&line, &job.child_lines) {
                    Err(ECHOES_ONE_CHILD.to_string())
                } else if job.tests {
                    Ok(as_test_line(&line))
                } else {
                    Ok(line)
                }
            });
        Ok(Answered {
            raw,
            verdict,
            prompt_tokens: completion.prompt_tokens,
            generated_tokens: completion.tokens.len(),
            ms,
        })
    }

    /// Caches and records the outcome of one job: the accepted line (first answer or the
    /// second), else the fallback, with every rejection named.
    fn settle(
        &mut self,
        job: Job,
        first: Answered,
        second: Option<Answered>,
        cache: &mut Cache,
    ) -> Result<(), PipelineError> {
        let mut reasons = Vec::new();
        let mut summary = None;
        let mut raw = first.raw.clone();
        let (mut prompt_tokens, mut generated_tokens, mut ms) =
            (first.prompt_tokens, first.generated_tokens, first.ms);
        for a in std::iter::once(&first).chain(second.as_ref()) {
            match &a.verdict {
                Ok(line) if summary.is_none() => summary = Some(line.clone()),
                Ok(_) => {}
                Err(reason) => reasons.push(reason.clone()),
            }
        }
        if let Some(a) = &second {
            raw = format!("{raw}\n{RETRY_SEPARATOR}\n{}", a.raw);
            prompt_tokens += a.prompt_tokens;
            generated_tokens += a.generated_tokens;
            ms += a.ms;
        }
        let entry = CacheEntry {
            key: job.record.hash.clone(),
            summary: summary.unwrap_or_else(|| job.fallback.clone()),
            raw,
            rejected: (!reasons.is_empty()).then(|| reasons.join(", ")),
            prompt_tokens,
            generated_tokens,
            ms,
            view: ROLLUP_VIEW.to_string(),
            reduction: Reduction::None,
            elided_lines: None,
        };
        cache.append(entry.clone())?;
        self.stats.computed += 1;
        self.stats.prompt_tokens += entry.prompt_tokens as u64;
        self.stats.generated_tokens += entry.generated_tokens as u64;
        let mut r = job.record;
        apply_entry(&mut r, &entry);
        self.stats.rejected += usize::from(r.fallback);
        self.made.insert(job.node, r);
        Ok(())
    }

    /// Records a job whose request failed: the fallback line, with the error.
    fn fail(&mut self, job: Job, error: String) {
        self.stats.failed += 1;
        let mut r = job.record;
        r.summary = job.fallback;
        r.error = Some(error);
        r.attempts = 1;
        r.fallback = true;
        self.made.insert(job.node, r);
    }
}

/// A question submitted to the backend.
struct Asked {
    request: Query,
    ticket: crate::run::Ticket,
    started: Instant,
}

/// An answer and the judge's verdict on it: the line, or why it was rejected.
struct Answered {
    raw: String,
    verdict: Result<String, String>,
    prompt_tokens: usize,
    generated_tokens: usize,
    ms: f64,
}

impl Answered {
    /// A second request that failed in the engine: no answer, rejected as failed (the
    /// error is kept where the answer would be).
    fn failed(error: String) -> Answered {
        Answered {
            raw: format!("({FAILED_RETRY}: {error})"),
            verdict: Err(FAILED_RETRY.to_string()),
            prompt_tokens: 0,
            generated_tokens: 0,
            ms: 0.0,
        }
    }
}

/// The question asked again after an answer rejected for `reason`: the same body, then a note
/// on what the first answer got wrong (without the answer itself, which a small model would
/// copy).
pub fn retry_body(body: &str, reason: &str) -> String {
    let note = match reason {
        ECHOES_ONE_CHILD => {
            "That answer described only one of its parts. Say what all of them are for together."
        }
        "path" => "Do not name any file, folder or path: say what the code is for.",
        NAMES_ONLY => "Do not list the names of its parts: say what they are for together.",
        "invented" => "Use only names that appear above.",
        _ => "Answer with one plain English phrase about what the parts do together.",
    };
    format!("{body}\n{note}")
}

/// Each node's height: 0 for a file or chunk, else one more than its highest child's (an empty
/// directory is 1). Children come after their parents in `tree.nodes`, so one pass from the end
/// sees every child first.
fn dir_heights(tree: &Tree) -> Vec<usize> {
    let mut heights = vec![0; tree.nodes.len()];
    for n in (0..tree.nodes.len()).rev() {
        let node = &tree.nodes[n];
        if matches!(node.kind, Kind::Dir | Kind::Root) {
            heights[n] = 1 + node.children.iter().map(|&c| heights[c]).max().unwrap_or(0);
        }
    }
    heights
}

/// The record of a line the authors wrote: no request, grounded in their own words.
fn authored_record(mut record: SummaryRecord, doc: &Authored) -> SummaryRecord {
    record.summary = doc.line.clone();
    record.origin = Some(doc.source.name().to_string());
    record.origin_file = Some(doc.file.clone());
    record.grounded = true;
    record
}

/// Whether a record's line says something of its own (not a fallback, not a failure).
fn usable(r: &SummaryRecord) -> bool {
    !r.fallback && r.error.is_none() && !r.summary.is_empty()
}

/// The path whose topic names a directory (`src/sync` → `src/sync/mod.rs`, read as `sync`),
/// or the file's own path.
fn topic_path_of(path: &str, is_dir: bool) -> String {
    if is_dir {
        format!("{path}/mod.rs")
    } else {
        path.to_string()
    }
}

/// Fills a record from a cache entry.
fn apply_entry(r: &mut SummaryRecord, e: &CacheEntry) {
    r.summary = e.summary.clone();
    r.rejected = e.rejected.clone();
    // A rejected first answer was asked again; two rejections mean the line is the fallback.
    let rejections = e.rejected.as_deref().map_or(0, |r| r.split(", ").count());
    r.attempts = 1 + rejections.min(1);
    r.fallback = rejections >= 2;
    r.grounded = !r.fallback;
    r.prompt_tokens = e.prompt_tokens;
    r.generated_tokens = e.generated_tokens;
    r.ms = e.ms;
}

/// The root folder's name for the root line's topic: the last component of `root`, or `.`.
pub fn root_name(root: &std::path::Path) -> String {
    std::fs::canonicalize(root)
        .ok()
        .as_deref()
        .unwrap_or(root)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| ROOT_PATH.to_string())
}

/// Puts records in output order: chunks in source order, then the rolled-up lines in tree
/// order (the root, then each directory before its files and subdirectories).
pub fn order_records(records: &mut Vec<SummaryRecord>) {
    let (mut chunks, rest): (Vec<SummaryRecord>, Vec<SummaryRecord>) = std::mem::take(records)
        .into_iter()
        .partition(|r| r.kind == Kind::Chunk);
    crate::record::sort_source_order(&mut chunks);
    let tree = Tree::build(&rest);
    let mut slots: Vec<Option<SummaryRecord>> = rest.into_iter().map(Some).collect();
    let mut ordered: Vec<SummaryRecord> = tree
        .preorder()
        .into_iter()
        .filter_map(|n| tree.nodes[n].record)
        .filter_map(|i| slots[i].take())
        .collect();
    // Records the tree does not reach (a file record without chunks) keep their order.
    ordered.extend(slots.into_iter().flatten());
    chunks.extend(ordered);
    *records = chunks;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(path: &str) -> SummaryRecord {
        let file = crate::source::SourceFile::from_text(
            path,
            crate::source::Language::Rust,
            "fn a() {}\n".to_string(),
        );
        let c = &crate::source::chunk_file(&file, 1000)[0];
        SummaryRecord::for_chunk(c, "m")
    }

    #[test]
    fn directories_of_files_alone_come_first_whatever_their_depth() {
        let records = vec![
            chunk("a/b/c/x.rs"),
            chunk("a/y.rs"),
            chunk("d/z.rs"),
            chunk("top.rs"),
        ];
        let tree = Tree::build(&records);
        let heights = dir_heights(&tree);
        let height_of = |path: &str| {
            let n = tree
                .nodes
                .iter()
                .position(|n| n.path == path && matches!(n.kind, Kind::Dir | Kind::Root))
                .unwrap_or_else(|| panic!("no directory {path}"));
            heights[n]
        };
        // c/ (depth 3) and d/ (depth 1) hold files only: both go in the first batch.
        assert_eq!(height_of("a/b/c"), 1);
        assert_eq!(height_of("d"), 1);
        assert_eq!(height_of("a/b"), 2);
        assert_eq!(height_of("a"), 3);
        assert_eq!(heights[0], 4, "the root is last");
        // Files and chunks are no batch of their own.
        for (n, node) in tree.nodes.iter().enumerate() {
            if matches!(node.kind, Kind::File | Kind::Chunk) {
                assert_eq!(heights[n], 0);
            }
        }
    }
}
