//! Benchmark and test data generator, the same bytes for the same arguments:
//!   `abm-gen accounts ROWS OUT.csv [SEED]`   a CRM account export of exactly ROWS accounts in families
//!   `abm-gen requests ROWS OUT.json [SEED]`  a GitLab issues export of ROWS requests with label history

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: abm-gen accounts|requests ROWS OUT [SEED]";
    if args.len() < 4 || !["accounts", "requests"].contains(&args[1].as_str()) {
        eprintln!("{usage}");
        std::process::exit(1);
    }
    let rows: usize = args[2].replace('_', "").parse().unwrap_or_else(|_| {
        eprintln!("ROWS must be a whole number; {usage}");
        std::process::exit(1)
    });
    let seed: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).expect("valid date");
    let out = std::path::Path::new(&args[3]);
    let written = match args[1].as_str() {
        "accounts" => abm_demo::write_accounts_csv(out, seed, rows, today),
        _ => abm_demo::write_requests_json(out, seed, rows as u32, today),
    };
    match written {
        Ok(n) => println!("wrote {n} {} to {}", args[1], args[3]),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
