//! Manifest diagnostics: every problem found in one run, each with file:line:column, the
//! source line and a caret, in the style of rustc and just.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::manifest::reference::{escape, escape_char};

/// One problem in a manifest.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub message: String,
    pub span: Option<Range<usize>>,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>, span: Range<usize>) -> Self {
        Self {
            message: message.into(),
            span: Some(span),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// A line and column, both starting at 1; the column counts characters, not bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Where byte `offset` of `text` falls. A CRLF line ending counts as the end of the line.
pub fn position(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Position {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// All problems found in one manifest.
#[derive(Debug)]
pub struct ManifestErrors {
    pub path: PathBuf,
    pub source: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl ManifestErrors {
    /// Renders one diagnostic as a multi-line block.
    fn render(&self, d: &Diagnostic, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", d.message)?;
        if let Some(span) = &d.span {
            let pos = position(&self.source, span.start);
            let line_text = self
                .source
                .split('\n')
                .nth(pos.line - 1)
                .unwrap_or("")
                .trim_end_matches('\r');
            let gutter = pos.line.to_string().len();
            writeln!(
                f,
                "{:gutter$}--> {}:{}:{}",
                "",
                display_path(&self.path),
                pos.line,
                pos.column
            )?;
            writeln!(f, "{:gutter$} |", "")?;
            let width = span_width(&self.source, span, line_text, pos.column);
            let shown = SourceLine::new(line_text, pos.column - 1, width);
            writeln!(f, "{} | {}", pos.line, shown.text)?;
            writeln!(
                f,
                "{:gutter$} | {:pad$}{}",
                "",
                "",
                "^".repeat(shown.carets),
                pad = shown.pad
            )?;
            if let Some(h) = &d.hint {
                writeln!(f, "{:gutter$} = hint: {h}", "")?;
            }
        } else {
            writeln!(f, "  --> {}", display_path(&self.path))?;
            if let Some(h) = &d.hint {
                writeln!(f, "  = hint: {h}")?;
            }
        }
        Ok(())
    }
}

fn span_width(source: &str, span: &Range<usize>, line_text: &str, column: usize) -> usize {
    let end = span.end.min(source.len());
    let start = span.start.min(end);
    let covered = source
        .get(start..end)
        .map_or(1, |s| s.split('\n').next().unwrap_or("").chars().count());
    let room = line_text.chars().count().saturating_sub(column - 1);
    covered.clamp(1, room.max(1))
}

/// A source line as shown under a diagnostic: as written, with tabs expanded and only the
/// characters that could disturb a terminal escaped, and the caret's place in what is shown.
struct SourceLine {
    text: String,
    /// Columns of shown text before the first caret, and how many carets.
    pad: usize,
    carets: usize,
}

impl SourceLine {
    const TAB: usize = 4;

    /// `line` with the characters `start..start + width` (counted in chars) underlined.
    fn new(line: &str, start: usize, width: usize) -> Self {
        let mut text = String::with_capacity(line.len());
        let (mut pad, mut carets, mut col) = (0, 0, 0);
        for (i, c) in line.chars().enumerate() {
            let before = col;
            if c == '\t' {
                let n = Self::TAB - col % Self::TAB;
                text.extend(std::iter::repeat_n(' ', n));
                col += n;
            } else if let Some(e) = escape_char(c) {
                text.push_str(&e);
                col += e.chars().count();
            } else {
                text.push(c);
                col += 1;
            }
            if i < start {
                pad = col;
            } else if i < start + width {
                carets += col - before;
            }
        }
        if start >= line.chars().count() {
            pad = col;
        }
        Self {
            text,
            pad,
            carets: carets.max(1),
        }
    }
}

/// The path as the user would type it: relative to the working directory when under it.
fn display_path(p: &Path) -> String {
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .filter(|rel| !rel.as_os_str().is_empty())
        .unwrap_or_else(|| p.to_path_buf());
    escape(&shown.display().to_string())
}

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            self.render(d, f)?;
        }
        let n = self.diagnostics.len();
        write!(
            f,
            "\n{} problem{} in {}",
            n,
            if n == 1 { "" } else { "s" },
            display_path(&self.path)
        )
    }
}

impl std::error::Error for ManifestErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let text = "a = 1\r\nbé = 2\n";
        assert_eq!(position(text, 0), Position { line: 1, column: 1 });
        let off = text.find('=').unwrap();
        assert_eq!(position(text, off), Position { line: 1, column: 3 });
        let off = text.rfind('=').unwrap();
        assert_eq!(position(text, off), Position { line: 2, column: 4 });
    }

    #[test]
    fn source_lines_are_shown_as_written_with_the_caret_under_the_span() {
        let show = |line: &str, start, width| {
            let s = SourceLine::new(line, start, width);
            format!("{}\n{}{}", s.text, " ".repeat(s.pad), "^".repeat(s.carets))
        };
        // Accented letters and backslashes as written; the caret under `bogus`.
        assert_eq!(
            show("é = \"a\\nb\" bogus", 11, 5),
            "é = \"a\\nb\" bogus\n           ^^^^^"
        );
        // A tab is expanded to the next stop of 4, and the caret follows it.
        assert_eq!(show("\tx = 1", 1, 1), "    x = 1\n    ^");
        // A control or bidi character is escaped, and the caret covers the escape.
        assert_eq!(
            show("A = \"\u{202e}x\"", 5, 1),
            "A = \"\\u{202e}x\"\n     ^^^^^^^^"
        );
        // A span at the end of the line points just past it.
        assert_eq!(show("abc", 3, 1), "abc\n   ^");
    }
}
