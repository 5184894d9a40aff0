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

/// The candidate `word` is most likely a typo of, if one is close: for "did you mean" hints.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
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
                "{:gutter$} | {}{}",
                "",
                " ".repeat(shown.pad),
                "^".repeat(shown.carets)
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
/// A long line is cut to the part around the caret, marked with `…` where cut.
struct SourceLine {
    text: String,
    /// Columns of shown text before the first caret, and how many carets.
    pad: usize,
    carets: usize,
}

impl SourceLine {
    const TAB: usize = 4;
    /// Characters shown on each side of the span when a line is cut.
    const CONTEXT: usize = 60;
    /// Lines up to this many shown columns are shown whole.
    const WIDTH: usize = 160;

    /// `line` with the characters `start..start + width` (counted in chars) underlined.
    fn new(line: &str, start: usize, width: usize) -> Self {
        if Self::columns(line) <= Self::WIDTH {
            let (text, pad, carets) = Self::render(line, start, width);
            return Self {
                text,
                pad,
                carets: carets.max(1),
            };
        }
        // Only a window around the span is rendered, so a huge line (a minified blob, a
        // file of NULs) costs no more than a short one.
        let lo = start.saturating_sub(Self::CONTEXT);
        let hi = start + width.min(Self::CONTEXT) + Self::CONTEXT;
        let byte = |n: usize| line.char_indices().nth(n).map_or(line.len(), |(b, _)| b);
        let (from, to) = (byte(lo), byte(hi));
        let (text, pad, carets) = Self::render(&line[from..to], start - lo, width);
        // Escapes widen what is shown: keep the columns around the caret.
        let chars: Vec<char> = text.chars().collect();
        let carets = carets.clamp(1, Self::CONTEXT);
        let a = pad.saturating_sub(Self::CONTEXT);
        let b = (pad + carets + Self::CONTEXT).min(chars.len());
        let (cut_left, cut_right) = (from > 0 || a > 0, to < line.len() || b < chars.len());
        let mut shown = String::new();
        if cut_left {
            shown.push('…');
        }
        shown.extend(&chars[a..b]);
        if cut_right {
            shown.push('…');
        }
        Self {
            text: shown,
            pad: pad - a + usize::from(cut_left),
            carets,
        }
    }

    /// How many columns `line` takes when shown (escapes counted as they are shown).
    fn columns(line: &str) -> usize {
        if line.len() > 4 * Self::WIDTH {
            return usize::MAX;
        }
        Self::render(line, 0, 0).0.chars().count()
    }

    /// The shown text, the caret's column and width, for the chars `start..start + width`.
    fn render(line: &str, start: usize, width: usize) -> (String, usize, usize) {
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
        (text, pad, carets)
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
        // A long line shows the part around the caret, however far along it is.
        let long = format!("X = {{ value = \"{}\", bogus = 1 }}", "a".repeat(70_000));
        let at = long.find("bogus").unwrap();
        assert_eq!(
            show(&long, at, 5),
            format!(
                "…{}\", bogus = 1 }}\n{}^^^^^",
                "a".repeat(57),
                " ".repeat(61)
            )
        );
        assert_eq!(
            show(&long, 0, 1),
            format!("X = {{ value = \"{}…\n^", "a".repeat(46))
        );
    }
}
