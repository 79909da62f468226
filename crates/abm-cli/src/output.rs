//! Printing reads as an aligned table (for people), JSON (for scripts) or CSV (for spreadsheets).

use anyhow::Result;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Print rows in the chosen format; JSON prints `json` instead of the rows.
pub fn print_rows(format: Format, header: &[&str], rows: &[Vec<String>], json: &impl serde::Serialize) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, json)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(header)?;
            for r in rows {
                w.write_record(r)?;
            }
            w.flush()?;
            return Ok(());
        }
        Format::Table => write_table(&mut out, header, rows)?,
    }
    out.flush()?;
    Ok(())
}

/// An aligned table; cells over 48 characters are clipped, except in the last column, which
/// aligns nothing after it and is printed whole.
pub fn write_table(out: &mut impl Write, header: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    const MAX: usize = 48;
    let last = header.len().saturating_sub(1);
    let clip = |s: &str| -> String {
        if s.chars().count() > MAX {
            format!("{}…", s.chars().take(MAX - 1).collect::<String>())
        } else {
            s.to_string()
        }
    };
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < last {
                widths[i] = widths[i].max(clip(c).chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{:<w$}", c, w = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    writeln!(out, "{}", line(header.iter().map(|h| h.to_uppercase()).collect()))?;
    for r in rows {
        let cells = r
            .iter()
            .enumerate()
            .map(|(i, c)| if i >= last { c.clone() } else { clip(c) })
            .collect();
        writeln!(out, "{}", line(cells))?;
    }
    Ok(())
}
