//! Benchmark and test data generator: `abm-gen accounts ROWS OUT.csv [SEED]` writes a CRM account
//! export of exactly ROWS accounts in families, the same bytes for the same arguments.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: abm-gen accounts ROWS OUT.csv [SEED]";
    if args.len() < 4 || args[1] != "accounts" {
        eprintln!("{usage}");
        std::process::exit(1);
    }
    let rows: usize = args[2].replace('_', "").parse().unwrap_or_else(|_| {
        eprintln!("ROWS must be a whole number; {usage}");
        std::process::exit(1)
    });
    let seed: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).expect("valid date");
    match abm_demo::write_accounts_csv(std::path::Path::new(&args[3]), seed, rows, today) {
        Ok(n) => println!("wrote {n} accounts to {}", args[3]),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
