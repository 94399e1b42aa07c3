//! Plain-text tables with aligned columns, for terminals and logs alike.

use std::fmt::Write as _;

/// Longest cell shown; longer text is cut with an ellipsis.
const MAX_CELL_CHARS: usize = 48;

/// A table of text cells: a header row, then rows, columns padded to their widest cell.
/// Columns listed in `right_aligned` (numbers) are aligned right.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    right_aligned: Vec<usize>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&str]) -> Self {
        Self {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            ..Self::default()
        }
    }

    /// Aligns column `index` to the right.
    pub fn right_align(mut self, index: usize) -> Self {
        self.right_aligned.push(index);
        self
    }

    /// Adds a row; missing cells are blank and long ones are shortened.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells.into_iter().map(shorten).collect());
    }

    /// The table as text, each line indented by `indent` spaces and ending in a newline.
    pub fn render(&self, indent: usize) -> String {
        let columns = self.headers.len();
        let width = |column: usize| {
            std::iter::once(&self.headers)
                .chain(&self.rows)
                .filter_map(|row| row.get(column))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..columns).map(width).collect();
        let mut out = String::new();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = " ".repeat(indent);
            for (column, width) in widths.iter().enumerate() {
                let cell = row.get(column).map_or("", String::as_str);
                if column > 0 {
                    line.push_str("  ");
                }
                if self.right_aligned.contains(&column) {
                    let _ = write!(line, "{cell:>width$}");
                } else {
                    let _ = write!(line, "{cell:<width$}");
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

fn shorten(cell: String) -> String {
    if cell.chars().count() <= MAX_CELL_CHARS {
        return cell;
    }
    let mut short: String = cell.chars().take(MAX_CELL_CHARS - 1).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns_and_shortens_long_cells() {
        let mut table = Table::new(&["type", "count"]).right_align(1);
        table.row(vec!["user.created".into(), "2".into()]);
        table.row(vec!["x".repeat(60), "100".into()]);
        let text = table.render(2);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], format!("  type{}  count", " ".repeat(44)));
        assert_eq!(lines[1], format!("  user.created{}      2", " ".repeat(36)));
        assert!(lines[2].contains(&format!("{}…", "x".repeat(47))));
        assert!(lines[2].ends_with("    100"));
    }
}
