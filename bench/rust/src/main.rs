//! `abm-bench calendar-offsets PAIRS.csv HOLIDAYS.txt OUT.txt`: load (date, offset) pairs and a
//! holiday list (untimed), compute every busday offset with abm-core's calendar (timed), write the
//! results one a line for the caller to compare with its peer, print {"seconds": …} as JSON.

use abm_core::{BusinessCalendar, Roll};
use chrono::NaiveDate;
use std::io::{BufRead, Write};
use std::time::Instant;

fn die(msg: String) -> ! {
    eprintln!("abm-bench: {msg}");
    std::process::exit(1)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 || args[1] != "calendar-offsets" {
        die("usage: abm-bench calendar-offsets PAIRS.csv HOLIDAYS.txt OUT.txt".into());
    }
    let open = |p: &str| std::io::BufReader::new(std::fs::File::open(p).unwrap_or_else(|e| die(format!("{p}: {e}"))));
    let parse = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|_| die(format!("bad date {s:?}")));
    let holidays: Vec<NaiveDate> = open(&args[3]).lines().map(|l| parse(l.expect("read").trim())).collect();
    let mut pairs: Vec<(NaiveDate, i64)> = Vec::new();
    for line in open(&args[2]).lines().skip(1) {
        let line = line.expect("read");
        let (d, n) = line
            .split_once(',')
            .unwrap_or_else(|| die(format!("bad pair {line:?}")));
        pairs.push((
            parse(d),
            n.trim().parse().unwrap_or_else(|_| die(format!("bad offset {n:?}"))),
        ));
    }
    let cal = BusinessCalendar::weekdays().with_holidays(holidays);
    let started = Instant::now();
    let out: Vec<NaiveDate> = pairs.iter().map(|&(d, n)| cal.offset(d, n, Roll::Forward)).collect();
    let seconds = started.elapsed().as_secs_f64();
    let mut w =
        std::io::BufWriter::new(std::fs::File::create(&args[4]).unwrap_or_else(|e| die(format!("{}: {e}", args[4]))));
    for d in &out {
        writeln!(w, "{d}").expect("write");
    }
    println!("{}", serde_json::json!({ "seconds": seconds, "pairs": pairs.len() }));
}
