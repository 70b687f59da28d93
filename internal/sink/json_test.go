package sink_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gorgias-kafka/gorgias-kafka/internal/sink"
)

func TestAppendJSONString(t *testing.T) {
	for _, tc := range []struct {
		name, in    string
		want, noNUL string // noNUL "" means the same as want
	}{
		{"empty", "", `""`, ""},
		{"plain", "hello", `"hello"`, ""},
		{"quote and backslash", `a"b\c`, `"a\"b\\c"`, ""},
		{"named controls", "a\nb\rc\td", `"a\nb\rc\td"`, ""},
		{"other controls", "\x01\x1f", `"\u0001\u001f"`, ""},
		{"NUL", "a\x00b", `"a\u0000b"`, `"a\ufffdb"`},
		{"multibyte kept", "é日😀", `"é日😀"`, ""},
		{"HTML and separators not escaped", "<>&\u2028", "\"<>&\u2028\"", ""},
		{"DEL kept", "\x7f", "\"\x7f\"", ""},
		{"invalid UTF-8, one replacement per byte", "a\xff\xfeb", `"a\ufffd\ufffdb"`, ""},
		{"truncated sequence", "日\xe6\x97", `"日\ufffd\ufffd"`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.noNUL == "" {
				tc.noNUL = tc.want
			}
			for _, f := range []struct {
				name string
				fn   func([]byte, string) []byte
				want string
			}{
				{"AppendJSONString", sink.AppendJSONString, tc.want},
				{"AppendJSONStringNoNUL", sink.AppendJSONStringNoNUL, tc.noNUL},
			} {
				got, ok := strings.CutPrefix(string(f.fn([]byte("prefix:"), tc.in)), "prefix:")
				if !ok || got != f.want {
					t.Errorf("%s(%q) = %s, want %s (after what dst held)", f.name, tc.in, got, f.want)
				}
				var back string
				if err := json.Unmarshal([]byte(got), &back); err != nil {
					t.Errorf("%s: %s is not a JSON string: %v", f.name, got, err)
				} else if utf8.ValidString(tc.in) && !strings.ContainsRune(tc.in, 0) && back != tc.in {
					t.Errorf("%s: %s decodes to %q, want %q", f.name, got, back, tc.in)
				}
			}
		})
	}
}

func TestAppendJSONDouble(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "-0"},
		{1.5, "1.5"},
		{-2, "-2"},
		{0.1, "0.1"},
		{1e21, "1e+21"},
		{1e-7, "1e-07"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{math.NaN(), `"NaN"`},
		{math.Inf(1), `"Infinity"`},
		{math.Inf(-1), `"-Infinity"`},
	} {
		got, ok := strings.CutPrefix(string(sink.AppendJSONDouble([]byte("prefix:"), tc.in)), "prefix:")
		if !ok || got != tc.want {
			t.Errorf("AppendJSONDouble(%v) = %s, want %s", tc.in, got, tc.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("AppendJSONDouble(%v) = %s: not JSON", tc.in, got)
		}
	}
}
