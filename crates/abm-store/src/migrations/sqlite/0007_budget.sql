-- Budget lines (issue 7), kept whole as JSON documents; an import replaces them all.
CREATE TABLE budget_lines (
    line_key TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
