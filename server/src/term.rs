//! What the CLI prints goes through here: terminal escape sequences and other control characters
//! in text that came from elsewhere (a model's answer, an imported title, a name) are removed, so
//! printing it cannot move the cursor, retitle the window or hide lines.

use std::borrow::Cow;
use std::io::Write;

/// `s` without ANSI escape sequences (CSI, OSC, and two-byte ESC sequences) and without control
/// characters other than newline and tab.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                // CSI: parameters and intermediates up to a final byte in @..~.
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC (and DCS, PM, APC): up to BEL or ESC \.
                Some(']' | 'P' | '^' | '_') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `print!`/`println!` (to stdout) and `eprint!`/`eprintln!` (to stderr), cleaned.
pub fn emit(text: &str, newline: bool, to_stderr: bool) {
    let text = clean(text);
    let result = if to_stderr {
        let mut e = std::io::stderr().lock();
        e.write_all(text.as_bytes()).and_then(|()| if newline { e.write_all(b"\n") } else { Ok(()) })
    } else {
        let mut o = std::io::stdout().lock();
        o.write_all(text.as_bytes()).and_then(|()| if newline { o.write_all(b"\n") } else { Ok(()) })
    };
    // Like print!: a closed pipe ends the program quietly instead of a panic message.
    if result.is_err() {
        std::process::exit(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_controls_are_removed() {
        assert_eq!(clean("plain text\nsecond\tline"), "plain text\nsecond\tline");
        assert_eq!(clean("red \u{1b}[31mtext\u{1b}[0m"), "red text");
        assert_eq!(clean("\u{1b}]0;pwned title\u{7}after"), "after");
        assert_eq!(clean("\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\"), "link");
        assert_eq!(clean("clear\u{1b}[2J\rover\u{8}written\u{0}"), "clearoverwritten");
        assert_eq!(clean("c1 \u{9b}31m"), "c1 31m");
    }
}
