//! Writes docs/performance.md's tables from the last criterion run and an
//! `allocs` run: `bash benches/perf.sh` runs all three.
//!
//! `cargo run --release -p steadfast-benches --bin perf_tables -- ALLOCS_FILE DOC`
//!
//! For each area, the table between `<!-- perf:AREA -->` and
//! `<!-- /perf:AREA -->` in DOC becomes one row per benchmark id: the
//! median, `steadfast` ÷ this id (the group's own `steadfast` id over the
//! row's), allocations per call, and, where the project has set one, the
//! target and whether the run met it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// The areas, in the document's order, and the group prefixes each holds.
const AREAS: [(&str, &[&str]); 9] = [
    ("core", &["baseline", "timeout_", "compose_"]),
    ("breaker", &["breaker_"]),
    ("retry", &["retry_"]),
    ("ratelimit", &["ratelimit_"]),
    ("bulkhead", &["bulkhead_"]),
    ("degrade", &["fallback_", "chaos_"]),
    ("cache", &["cache_"]),
    ("pipeline", &["pipeline_", "tower_"]),
    ("operations", &["config_", "observe_"]),
];

/// Targets: (group, peer id, the most `steadfast` ÷ peer may be).
const TARGETS: [(&str, &str, f64); 12] = [
    ("timeout_ready", "tokio", 0.5),
    ("breaker_closed", "recloser", 0.5),
    ("breaker_closed", "failsafe", 0.5),
    ("retry_first_success", "tower", 1.0),
    ("ratelimit_direct", "governor", 0.8),
    ("ratelimit_keyed_10k", "governor", 0.8),
    ("bulkhead_uncontended", "tokio", 1.0),
    ("cache_hit", "moka", 1.2),
    ("cache_hit_tagged", "moka", 1.3),
    ("cache_hit", "amalgam-cache", 1.0),
    ("pipeline_5", "tower", 0.5),
    ("pipeline_5", "tower-resilience", 0.1),
];

/// The median of one criterion case, in nanoseconds.
fn median(dir: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join("new/estimates.json")).ok()?;
    let at = text.find("\"median\"")?;
    let rest = &text[at..];
    let at = rest.find("\"point_estimate\":")? + "\"point_estimate\":".len();
    let number: String = rest[at..]
        .chars()
        .skip_while(|c| c.is_whitespace())
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
        .collect();
    number.parse().ok()
}

/// Every group's ids and medians, from `target/criterion`.
fn criterion(root: &Path) -> BTreeMap<String, Vec<(String, f64)>> {
    let mut groups = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(root) else {
        return groups;
    };
    for group in entries.flatten() {
        let name = group.file_name().to_string_lossy().into_owned();
        if name == "report" || !group.path().is_dir() {
            continue;
        }
        let mut ids: Vec<(String, f64)> = std::fs::read_dir(group.path())
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|id| {
                let id_name = id.file_name().to_string_lossy().into_owned();
                (id_name != "report")
                    .then(|| median(&id.path()).map(|m| (id_name, m)))
                    .flatten()
            })
            .collect();
        // Ours first, then the peers by name.
        ids.sort_by(|a, b| {
            (!a.0.starts_with("steadfast"), &a.0).cmp(&(!b.0.starts_with("steadfast"), &b.0))
        });
        if !ids.is_empty() {
            groups.insert(name, ids);
        }
    }
    groups
}

/// `allocs`' lines: `GROUP/ID allocs_per_call=N.NN`.
fn allocations(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let (case, rest) = line.split_once(' ')?;
            let n = rest.strip_prefix("allocs_per_call=")?;
            Some((case.to_owned(), n.trim().to_owned()))
        })
        .collect()
}

fn nanos(n: f64) -> String {
    if n >= 1_000.0 {
        format!("{:.2} µs", n / 1_000.0)
    } else if n >= 100.0 {
        format!("{n:.0} ns")
    } else {
        format!("{n:.2} ns")
    }
}

fn table(
    prefixes: &[&str],
    groups: &BTreeMap<String, Vec<(String, f64)>>,
    allocs: &BTreeMap<String, String>,
) -> String {
    let mut out = String::from(
        "| group | id | median | `steadfast` ÷ this | allocs per call | target |\n|---|---|---:|---:|---:|---|\n",
    );
    for (group, ids) in groups
        .iter()
        .filter(|(g, _)| prefixes.iter().any(|p| g.starts_with(p)))
    {
        let ours = ids
            .iter()
            .find(|(id, _)| id == "steadfast")
            .map(|(_, m)| *m);
        for (id, m) in ids {
            let ratio = match ours {
                Some(o) if id != "steadfast" => format!("{:.2}", o / m),
                _ => "—".to_owned(),
            };
            let alloc = allocs
                .get(&format!("{group}/{id}"))
                .map_or("", String::as_str);
            let target = TARGETS
                .iter()
                .find(|(g, peer, _)| g == group && peer == id)
                .map_or(String::new(), |(_, _, most)| {
                    let met = ours.is_some_and(|o| o / m <= *most);
                    format!("≤ {most}: {}", if met { "met" } else { "not met" })
                });
            let _ = writeln!(
                out,
                "| `{group}` | `{id}` | {} | {ratio} | {alloc} | {target} |",
                nanos(*m)
            );
        }
    }
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(allocs_file), Some(doc)) = (args.next(), args.next()) else {
        eprintln!("usage: perf_tables ALLOCS_FILE DOC (see benches/perf.sh)");
        std::process::exit(2);
    };
    let allocs = allocations(&std::fs::read_to_string(&allocs_file).unwrap_or_default());
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".to_owned());
    let groups = criterion(&Path::new(&target).join("criterion"));
    if groups.is_empty() {
        eprintln!("no criterion results under {target}/criterion: run the benches first");
        std::process::exit(1);
    }
    let mut text = std::fs::read_to_string(&doc).expect("the document reads");
    for (area, prefixes) in AREAS {
        let (start, end) = (
            format!("<!-- perf:{area} -->\n"),
            format!("<!-- /perf:{area} -->"),
        );
        let (Some(a), Some(b)) = (text.find(&start), text.find(&end)) else {
            eprintln!("{doc}: no markers for {area}; skipped");
            continue;
        };
        let body = table(prefixes, &groups, &allocs);
        text = format!("{}{start}{body}{}", &text[..a], &text[b..]);
    }
    std::fs::write(&doc, text).expect("the document writes");
    println!("wrote {}'s tables from {} groups", doc, groups.len());
}
