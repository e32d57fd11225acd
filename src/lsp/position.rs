//! Byte offsets into a document and the LSP's positions (a line and a column counted in
//! UTF-16 code units, the protocol's default).

use lsp_types::{Position, Range};

/// Where each line of a text starts.
pub struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    /// The lines of `text`.
    pub fn of(text: &'t str) -> Lines<'t> {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines { text, starts }
    }

    /// The position of byte `at`.
    pub fn position(&self, at: usize) -> Position {
        let at = at.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= at).saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..at)
            .map_or(0, |s| s.encode_utf16().count());
        Position::new(
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        )
    }

    /// The range of bytes `start..end`.
    pub fn range(&self, start: usize, end: usize) -> Range {
        Range::new(self.position(start), self.position(end.max(start)))
    }

    /// The range of the whole of 1-based line `line`.
    pub fn line_range(&self, line: usize) -> Range {
        let index = line.saturating_sub(1);
        let start = self.starts.get(index).copied().unwrap_or(self.text.len());
        let end = self
            .starts
            .get(index + 1)
            .map_or(self.text.len(), |next| next.saturating_sub(1));
        self.range(start, end)
    }

    /// The byte at `position` (the end of its line when the column is past it).
    pub fn offset(&self, position: Position) -> usize {
        let Some(&start) = self.starts.get(position.line as usize) else {
            return self.text.len();
        };
        let line = self
            .text
            .get(start..)
            .and_then(|rest| rest.split('\n').next())
            .unwrap_or("");
        let mut units = 0u32;
        for (i, c) in line.char_indices() {
            if units >= position.character {
                return start + i;
            }
            units += u32::try_from(c.len_utf16()).unwrap_or(2);
        }
        start + line.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units_and_come_back_to_the_same_byte() {
        let text = "a = 1\nnäme = \"€x\"\n";
        let lines = Lines::of(text);
        let at = text.find('x').unwrap_or(0);
        let position = lines.position(at);
        assert_eq!(position, Position::new(1, 9));
        assert_eq!(lines.offset(position), at);
        assert_eq!(
            lines.line_range(1),
            Range::new(Position::new(0, 0), Position::new(0, 5))
        );
    }
}
