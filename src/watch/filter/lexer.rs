//! Splits a filter expression into tokens with their byte offsets, as
//! libpcap's scanner does: names, numbers and addresses are one "word"
//! (`tcp-syn`, `10-20`, `2001:db8::1`, `00:11:22:33:44:55`), operators
//! are punctuation. Inside `[...]` a colon is the size separator.

use super::FilterError;

/// One token and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: Tok,
    /// Byte offset in the expression.
    pub at: usize,
}

/// Token kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// A name, number or address; `escaped` after a backslash (`\tcp`).
    Word {
        /// The text.
        text: String,
        /// Preceded by `\`: a protocol name, not a keyword.
        escaped: bool,
    },
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `:`
    Colon,
    /// `/`
    Slash,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `%`
    Percent,
    /// `&`
    Amp,
    /// `|`
    Pipe,
    /// `^`
    Caret,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `&&`
    AndAnd,
    /// `||`
    OrOr,
    /// `!`
    Bang,
    /// `=` or `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        let s = match self {
            Tok::Word { text, .. } => return format!("'{text}'"),
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Colon => ":",
            Tok::Slash => "/",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Percent => "%",
            Tok::Amp => "&",
            Tok::Pipe => "|",
            Tok::Caret => "^",
            Tok::Shl => "<<",
            Tok::Shr => ">>",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
            Tok::Bang => "!",
            Tok::Eq => "=",
            Tok::Ne => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
        };
        format!("'{s}'")
    }
}

fn word_start(c: char, in_brackets: bool) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || (c == ':' && !in_brackets)
}

fn word_char(c: char, in_brackets: bool) -> bool {
    word_start(c, in_brackets) || c == '-'
}

/// Tokenizes; fails on a character no filter uses.
pub fn lex(src: &str) -> Result<Vec<Token>, FilterError> {
    let mut out = Vec::new();
    let bytes: Vec<(usize, char)> = src.char_indices().collect();
    let mut i = 0;
    let mut brackets = 0usize;
    let err = |at: usize, message: String| FilterError {
        message,
        position: Some(at),
    };
    while let Some(&(at, c)) = bytes.get(i) {
        let next = bytes.get(i + 1).map(|&(_, c)| c);
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let escaped = c == '\\';
        let start_word = if escaped {
            next.is_some_and(|n| word_start(n, brackets > 0))
        } else {
            word_start(c, brackets > 0)
        };
        if start_word {
            let from = if escaped { i + 1 } else { i };
            let mut j = from;
            let mut text = String::new();
            while let Some(&(_, ch)) = bytes.get(j) {
                if !word_char(ch, brackets > 0) {
                    break;
                }
                text.push(ch);
                j += 1;
            }
            out.push(Token {
                kind: Tok::Word { text, escaped },
                at,
            });
            i = j;
            continue;
        }
        let (kind, len) = match (c, next) {
            ('(', _) => (Tok::LParen, 1),
            (')', _) => (Tok::RParen, 1),
            ('[', _) => {
                brackets += 1;
                (Tok::LBracket, 1)
            }
            (']', _) => {
                brackets = brackets.saturating_sub(1);
                (Tok::RBracket, 1)
            }
            (':', _) => (Tok::Colon, 1),
            ('/', _) => (Tok::Slash, 1),
            ('+', _) => (Tok::Plus, 1),
            ('-', _) => (Tok::Minus, 1),
            ('*', _) => (Tok::Star, 1),
            ('%', _) => (Tok::Percent, 1),
            ('^', _) => (Tok::Caret, 1),
            ('&', Some('&')) => (Tok::AndAnd, 2),
            ('&', _) => (Tok::Amp, 1),
            ('|', Some('|')) => (Tok::OrOr, 2),
            ('|', _) => (Tok::Pipe, 1),
            ('<', Some('<')) => (Tok::Shl, 2),
            ('<', Some('=')) => (Tok::Le, 2),
            ('<', _) => (Tok::Lt, 1),
            ('>', Some('>')) => (Tok::Shr, 2),
            ('>', Some('=')) => (Tok::Ge, 2),
            ('>', _) => (Tok::Gt, 1),
            ('!', Some('=')) => (Tok::Ne, 2),
            ('!', _) => (Tok::Bang, 1),
            ('=', Some('=')) => (Tok::Eq, 2),
            ('=', _) => (Tok::Eq, 1),
            ('\\', _) => return Err(err(at, "a backslash must precede a name".to_string())),
            _ => {
                return Err(err(
                    at,
                    format!("unexpected character '{}'", c.escape_default()),
                ))
            }
        };
        out.push(Token { kind, at });
        i += len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        lex(s).expect("lexes").into_iter().map(|t| t.kind).collect()
    }

    fn w(s: &str) -> Tok {
        Tok::Word {
            text: s.to_string(),
            escaped: false,
        }
    }

    #[test]
    fn words_keep_hyphens_dots_and_colons() {
        assert_eq!(
            kinds("portrange 10-20 and host 2001:db8::1"),
            vec![
                w("portrange"),
                w("10-20"),
                w("and"),
                w("host"),
                w("2001:db8::1")
            ]
        );
        assert_eq!(kinds("::1"), vec![w("::1")]);
        assert_eq!(
            kinds("net 198.18.0.0/15"),
            vec![w("net"), w("198.18.0.0"), Tok::Slash, w("15")]
        );
    }

    #[test]
    fn colon_inside_brackets_is_the_size() {
        assert_eq!(
            kinds("tcp[13:1]&tcp-syn!=0"),
            vec![
                w("tcp"),
                Tok::LBracket,
                w("13"),
                Tok::Colon,
                w("1"),
                Tok::RBracket,
                Tok::Amp,
                w("tcp-syn"),
                Tok::Ne,
                w("0")
            ]
        );
    }

    #[test]
    fn operators() {
        assert_eq!(
            kinds("!a&&b||c<<1>>2<= >= < > == ="),
            vec![
                Tok::Bang,
                w("a"),
                Tok::AndAnd,
                w("b"),
                Tok::OrOr,
                w("c"),
                Tok::Shl,
                w("1"),
                Tok::Shr,
                w("2"),
                Tok::Le,
                Tok::Ge,
                Tok::Lt,
                Tok::Gt,
                Tok::Eq,
                Tok::Eq
            ]
        );
        assert_eq!(
            kinds("proto \\tcp"),
            vec![
                w("proto"),
                Tok::Word {
                    text: "tcp".into(),
                    escaped: true
                }
            ]
        );
    }

    #[test]
    fn junk_is_refused_with_its_position() {
        let e = lex("host 1.2.3.4 $").unwrap_err();
        assert_eq!(e.position, Some(13));
        assert!(lex("tcp \\").is_err());
        assert!(lex("port 80 é").is_err());
    }
}
