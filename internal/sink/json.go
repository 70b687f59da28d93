package sink

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendJSONString appends s to dst as a JSON string literal (RFC 8259): '"' and '\'
// are escaped, newline, carriage return and tab as \n, \r and \t, the other control
// characters (U+0000 to U+001F) as \u00XX, and every byte of invalid UTF-8 becomes
// \ufffd. Nothing else is escaped, so the result is valid UTF-8 and decodes to s (with
// its invalid bytes replaced by U+FFFD).
func AppendJSONString(dst []byte, s string) []byte {
	return appendJSONString(dst, s, false)
}

// AppendJSONStringNoNUL is AppendJSONString except that NUL (U+0000) is written as
// \ufffd too, for destinations that cannot store NUL in text (PostgreSQL's jsonb
// refuses \u0000).
func AppendJSONStringNoNUL(dst []byte, s string) []byte {
	return appendJSONString(dst, s, true)
}

const hexDigits = "0123456789abcdef"

func appendJSONString(dst []byte, s string, noNUL bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c == 0 && noNUL:
				dst = append(dst, `\ufffd`...)
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendJSONDouble appends x to dst as JSON: a finite x as the shortest number that
// reads back as x ('g' format, e.g. 1.5, 1e+21), NaN and the infinities, which JSON
// numbers cannot hold, as the strings "NaN", "Infinity" and "-Infinity", the spellings
// BigQuery and PostgreSQL read as those values.
func AppendJSONDouble(dst []byte, x float64) []byte {
	switch {
	case math.IsNaN(x):
		return append(dst, `"NaN"`...)
	case math.IsInf(x, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(x, -1):
		return append(dst, `"-Infinity"`...)
	}
	return strconv.AppendFloat(dst, x, 'g', -1, 64)
}
