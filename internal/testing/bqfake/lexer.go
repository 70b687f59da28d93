package bqfake

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a GoogleSQL token.
type tokKind int

const (
	tkSpace      tokKind = iota // whitespace and comments (dropped by the translator)
	tkIdent                     // unquoted identifier or keyword
	tkQIdent                    // `backquoted` identifier; val is the unescaped name
	tkString                    // string literal; val is the decoded value
	tkBytes                     // bytes literal; val is the decoded value
	tkNumber                    // numeric literal
	tkParam                     // @name; val is name
	tkSysVar                    // @@name
	tkPositional                // ?
	tkPunct                     // operator or punctuation
)

// token is one lexical token of a GoogleSQL script.
type token struct {
	kind tokKind
	val  string // identifier name, decoded literal, or punctuation text
	raw  string // the source text
}

func (t token) is(kw string) bool   { return t.kind == tkIdent && strings.EqualFold(t.val, kw) }
func (t token) punct(p string) bool { return t.kind == tkPunct && t.val == p }

// lex splits a GoogleSQL script into tokens. Comments (--, #, /* */) become tkSpace.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			for i < len(src) && strings.IndexByte(" \t\n\r\f\v", src[i]) >= 0 {
				i++
			}
			toks = append(toks, token{kind: tkSpace, raw: src[start:i]})
		case c == '#' || (c == '-' && strings.HasPrefix(src[i:], "--")):
			for i < len(src) && src[i] != '\n' {
				i++
			}
			toks = append(toks, token{kind: tkSpace, raw: " "})
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("Syntax error: Unclosed comment at [%s]", pos(src, i))
			}
			i += 2 + end + 2
			toks = append(toks, token{kind: tkSpace, raw: " "})
		case c == '`':
			end := strings.IndexByte(src[i+1:], '`')
			if end < 0 {
				return nil, fmt.Errorf("Syntax error: Unclosed identifier literal at [%s]", pos(src, i))
			}
			i += 1 + end + 1
			toks = append(toks, token{kind: tkQIdent, val: src[start+1 : i-1], raw: src[start:i]})
		case c == '\'' || c == '"' || isStringPrefix(src[i:]):
			// optional r/b prefixes
			raw, isBytes := false, false
			for src[i] != '\'' && src[i] != '"' {
				switch src[i] {
				case 'r', 'R':
					raw = true
				case 'b', 'B':
					isBytes = true
				}
				i++
			}
			val, n, err := lexString(src[i:], raw)
			if err != nil {
				return nil, fmt.Errorf("Syntax error: %v at [%s]", err, pos(src, start))
			}
			i += n
			k := tkString
			if isBytes {
				k = tkBytes
			}
			toks = append(toks, token{kind: k, val: val, raw: src[start:i]})
		case isIdentStart(c):
			for i < len(src) && isIdentPart(src[i]) {
				i++
			}
			toks = append(toks, token{kind: tkIdent, val: src[start:i], raw: src[start:i]})
		case c >= '0' && c <= '9' || (c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9'):
			for i < len(src) && (isIdentPart(src[i]) || src[i] == '.' ||
				((src[i] == '+' || src[i] == '-') && (src[i-1] == 'e' || src[i-1] == 'E'))) {
				i++
			}
			toks = append(toks, token{kind: tkNumber, val: src[start:i], raw: src[start:i]})
		case c == '@':
			if strings.HasPrefix(src[i:], "@@") {
				i += 2
				for i < len(src) && (isIdentPart(src[i]) || src[i] == '.') {
					i++
				}
				toks = append(toks, token{kind: tkSysVar, val: src[start+2 : i], raw: src[start:i]})
				break
			}
			i++
			if i < len(src) && src[i] == '`' {
				end := strings.IndexByte(src[i+1:], '`')
				if end < 0 {
					return nil, fmt.Errorf("Syntax error: Unclosed identifier literal at [%s]", pos(src, i))
				}
				i += 1 + end + 1
				toks = append(toks, token{kind: tkParam, val: src[start+2 : i-1], raw: src[start:i]})
				break
			}
			for i < len(src) && isIdentPart(src[i]) {
				i++
			}
			if i == start+1 {
				return nil, fmt.Errorf("Syntax error: Unexpected \"@\" at [%s]", pos(src, start))
			}
			toks = append(toks, token{kind: tkParam, val: src[start+1 : i], raw: src[start:i]})
		case c == '?':
			i++
			toks = append(toks, token{kind: tkPositional, val: "?", raw: "?"})
		default:
			n := 1
			for _, op := range []string{"<=", ">=", "<>", "!=", "||", "::", "=>"} {
				if strings.HasPrefix(src[i:], op) {
					n = 2
					break
				}
			}
			if n == 1 && c >= utf8.RuneSelf {
				_, n = utf8.DecodeRuneInString(src[i:])
			}
			i += n
			toks = append(toks, token{kind: tkPunct, val: src[start:i], raw: src[start:i]})
		}
	}
	return toks, nil
}

func pos(src string, off int) string {
	line := 1 + strings.Count(src[:off], "\n")
	col := off - strings.LastIndexByte(src[:off], '\n')
	return fmt.Sprintf("%d:%d", line, col)
}

func isStringPrefix(s string) bool {
	// r'..', b'..', rb'..', br'..' (any case)
	for n := 1; n <= 2 && n < len(s); n++ {
		p := strings.ToLower(s[:n])
		if (p == "r" || p == "b" || p == "rb" || p == "br") && (s[n] == '\'' || s[n] == '"') {
			return true
		}
	}
	return false
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// lexString decodes a quoted GoogleSQL string starting at s[0] (a quote). It returns the
// decoded value and the number of bytes consumed.
func lexString(s string, raw bool) (string, int, error) {
	q := s[:1]
	if strings.HasPrefix(s, q+q+q) {
		q = q + q + q
	}
	var b strings.Builder
	i := len(q)
	for {
		if i >= len(s) {
			return "", 0, fmt.Errorf("unclosed string literal")
		}
		if strings.HasPrefix(s[i:], q) {
			return b.String(), i + len(q), nil
		}
		c := s[i]
		if len(q) == 1 && c == '\n' {
			return "", 0, fmt.Errorf("unclosed string literal")
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return "", 0, fmt.Errorf("unclosed string literal")
		}
		if raw {
			b.WriteByte(c)
			b.WriteByte(s[i+1])
			i += 2
			continue
		}
		e := s[i+1]
		i += 2
		switch e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '\\', '\'', '"', '`', '?':
			b.WriteByte(e)
		case 'x', 'X':
			if i+2 > len(s) {
				return "", 0, fmt.Errorf("bad \\x escape")
			}
			v, err := strconv.ParseUint(s[i:i+2], 16, 8)
			if err != nil {
				return "", 0, fmt.Errorf("bad \\x escape")
			}
			b.WriteByte(byte(v))
			i += 2
		case 'u', 'U':
			n := 4
			if e == 'U' {
				n = 8
			}
			if i+n > len(s) {
				return "", 0, fmt.Errorf("bad \\%c escape", e)
			}
			v, err := strconv.ParseUint(s[i:i+n], 16, 32)
			if err != nil {
				return "", 0, fmt.Errorf("bad \\%c escape", e)
			}
			b.WriteRune(rune(v))
			i += n
		case '0', '1', '2', '3':
			if i+2 > len(s) {
				return "", 0, fmt.Errorf("bad octal escape")
			}
			v, err := strconv.ParseUint(s[i-1:i+2], 8, 8)
			if err != nil {
				return "", 0, fmt.Errorf("bad octal escape")
			}
			b.WriteByte(byte(v))
			i += 2
		default:
			return "", 0, fmt.Errorf("illegal escape sequence \\%c", e)
		}
	}
}

// splitStatements splits a token list on top-level semicolons, dropping empty statements.
func splitStatements(toks []token) [][]token {
	var out [][]token
	var cur []token
	flush := func() {
		for _, t := range cur {
			if t.kind != tkSpace {
				out = append(out, cur)
				break
			}
		}
		cur = nil
	}
	for _, t := range toks {
		if t.punct(";") {
			flush()
			continue
		}
		cur = append(cur, t)
	}
	flush()
	return out
}

// sqlString renders s as a DuckDB string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// sqlIdent renders s as a DuckDB quoted identifier.
func sqlIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
