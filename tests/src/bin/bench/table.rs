//! The table every section adds rows to, and the statistics the rows use.

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

pub(crate) fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank - 1]
}

pub(crate) struct Row {
    pub(crate) group: &'static str,
    pub(crate) what: String,
    pub(crate) value: f64,
    pub(crate) unit: &'static str,
    pub(crate) ratio: String,
}

/// Lines printed under the table: how to rerun a row by hand, what is missing.
static NOTES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Add a line under the table.
pub(crate) fn note(line: String) {
    NOTES.lock().unwrap().push(line);
}

pub(crate) fn print_table(rows: &[Row]) {
    println!("\n| benchmark | subject | median | unit | ratio |");
    println!("|---|---|---:|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {:.2} | {} | {} |",
            r.group, r.what, r.value, r.unit, r.ratio
        );
    }
    let notes = NOTES.lock().unwrap();
    if !notes.is_empty() {
        println!("\nCommand lines (each reruns its row by hand, as printed):");
        for n in notes.iter() {
            println!("- {n}");
        }
    }
}

// ---------------------------------------------------------------- echo servers
