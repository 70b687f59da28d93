package gorgias

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestDecodeList(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantData []string
		wantNext string
		wantPrev string
		wantErr  bool
	}{
		{"full envelope", `{"object":"list","uri":"/api/tickets","data":[{"id":1},{"id":2}],"meta":{"next_cursor":"WyJuZXh0IiwgMjksIDkyOV0=","prev_cursor":"p"}}`,
			[]string{`{"id":1}`, `{"id":2}`}, "WyJuZXh0IiwgMjksIDkyOV0=", "p", false},
		{"null cursor", `{"data":[{"id":1}],"meta":{"next_cursor":null,"prev_cursor":null}}`, []string{`{"id":1}`}, "", "", false},
		{"missing cursor", `{"data":[{"id":1}],"meta":{}}`, []string{`{"id":1}`}, "", "", false},
		{"missing meta", `{"data":[{"id":1}]}`, []string{`{"id":1}`}, "", "", false},
		{"empty data", `{"data":[],"meta":{"next_cursor":null}}`, []string{}, "", "", false},
		{"whitespace and tricky strings", " {\n \"data\" : [ {\"a\":\"]}\\\"[{,\"} ,\n\t{\"b\":[1,{\"c\":null}],\"d\":\"\\\\\"} ] , \"meta\":{\"next_cursor\":\"n\"}}\n",
			[]string{`{"a":"]}\"[{,"}`, `{"b":[1,{"c":null}],"d":"\\"}`}, "n", "", false},
		{"scalars in data", `{"data":[1, "x", null, true, -2.5e3]}`, []string{`1`, `"x"`, `null`, `true`, `-2.5e3`}, "", "", false},
		{"bare array", `[{"id":1},{"id":2}]`, []string{`{"id":1}`, `{"id":2}`}, "", "", false},
		{"truncated", `{"data":[{"id":1},{"id":`, nil, "", "", true},
		{"html", `<html>502 Bad Gateway</html>`, nil, "", "", true},
		{"empty body", ``, nil, "", "", true},
		{"no data", `{"object":"list","meta":{}}`, nil, "", "", true},
		{"null data", `{"data":null}`, nil, "", "", true},
		{"object data", `{"data":{"id":1}}`, nil, "", "", true},
		{"cursor not string", `{"data":[],"meta":{"next_cursor":5}}`, nil, "", "", true},
		{"bad bare array", `[{"id":1},]`, nil, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := decodeList([]byte(tt.body))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("want error, got %+v", p)
				}
				if !errors.Is(err, ErrMalformedResponse) {
					t.Errorf("error %v does not wrap ErrMalformedResponse", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeList: %v", err)
			}
			if len(p.Data) != len(tt.wantData) {
				t.Fatalf("got %d items, want %d: %q", len(p.Data), len(tt.wantData), p.Data)
			}
			for i, d := range p.Data {
				if string(d) != tt.wantData[i] {
					t.Errorf("item %d = %q, want %q", i, d, tt.wantData[i])
				}
				if !json.Valid(d) {
					t.Errorf("item %d invalid JSON", i)
				}
			}
			if p.NextCursor != tt.wantNext || p.PrevCursor != tt.wantPrev {
				t.Errorf("cursors = %q/%q, want %q/%q", p.NextCursor, p.PrevCursor, tt.wantNext, tt.wantPrev)
			}
		})
	}
}

func TestDecodeListItemsIndependent(t *testing.T) {
	p, err := decodeList([]byte(`{"data":[{"id":1},{"id":2}]}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = append(p.Data[0], 'X') // must not overwrite item 1
	if string(p.Data[1]) != `{"id":2}` {
		t.Fatalf("append to item 0 clobbered item 1: %q", p.Data[1])
	}
}

// realisticPage builds a list body of n ticket-like objects of ~1.5 KB.
func realisticPage(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"object":"list","uri":"/api/tickets?limit=100","data":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"uri":"/api/tickets/%d/","external_id":null,"language":"en","status":"open","priority":"normal",`+
			`"channel":"email","via":"email","from_agent":false,"spam":false,"customer":{"id":358036840,"email":"c%d@example.com",`+
			`"name":"Jane \"JD\" Doe","firstname":"Jane","lastname":"Doe","meta":{"name_set_via":"shopify"}},"assignee_user":null,`+
			`"subject":"Where is my order #%d? [urgent]","excerpt":"%s","integrations":[],"meta":{},"tags":[{"id":1,"name":"vip",`+
			`"uri":"/api/tags/1/","decoration":{"color":"#ff0000"}}],"custom_fields":{},"messages_count":3,"is_unread":true,`+
			`"created_datetime":"2024-06-20T07:39:36.514848+00:00","opened_datetime":null,`+
			`"last_received_message_datetime":"2024-06-20T07:39:36.514848+00:00","last_message_datetime":"2024-06-20T07:39:36.514848+00:00",`+
			`"updated_datetime":"2024-06-21T07:39:36.514848+00:00","closed_datetime":null,"snooze_datetime":null,"trashed_datetime":null}`,
			i, i, i, i, strings.Repeat("Hello, I ordered last week and nothing arrived \\u00e9. ", 12))
	}
	b.WriteString(`],"meta":{"prev_cursor":null,"next_cursor":"WyJuZXh0IiwgMjksIDkyOV0="}}`)
	return []byte(b.String())
}

func BenchmarkDecodeList(b *testing.B) {
	body := realisticPage(100)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeList(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeListNaive is the straightforward alternative, for comparison.
func BenchmarkDecodeListNaive(b *testing.B) {
	body := realisticPage(100)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var env struct {
			Data []json.RawMessage `json:"data"`
			Meta struct {
				NextCursor *string `json:"next_cursor"`
			} `json:"meta"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,2,{"b":null}]}`, `"\u00e9\n"`, `-0.5e+10`, `01`, `1.`, `.5`, `"\x01"`,
		`[1,]`, `{"a":1,}`, `tru`, `"\ud83d"`, `"\q"`, ` 1 `, `1 2`, `{"data":[{"id":1}],"meta":{"next_cursor":"x"}}`,
		listBody(3, "n"), `[{"id":1}]`, `{"data":[1,2],"data":[3]}`, "\"\xff\"", `-`, `1e`, `"abc`, `[[[[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := json.Valid(b)
		if got := validJSON(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid = %v", b, got, want)
		}
		// decodeList must agree with the straightforward decode whenever it succeeds
		// and must reject invalid JSON.
		p, err := decodeList(b)
		if !want {
			if err == nil {
				t.Fatalf("decodeList accepted invalid JSON %q", b)
			}
			return
		}
		var env struct {
			Data []json.RawMessage `json:"data"`
			Meta struct {
				NextCursor *string `json:"next_cursor"`
			} `json:"meta"`
		}
		var arr []json.RawMessage
		refErr := json.Unmarshal(b, &env)
		if refErr != nil && json.Unmarshal(b, &arr) == nil {
			refErr, env.Data = nil, arr
		}
		if err != nil {
			return // stricter than the reference (e.g. missing data) is fine
		}
		if refErr != nil {
			t.Fatalf("decodeList accepted %q which encoding/json rejects: %v", b, refErr)
		}
		if len(p.Data) != len(env.Data) {
			t.Fatalf("decodeList(%q): %d items, reference %d", b, len(p.Data), len(env.Data))
		}
		for i := range p.Data {
			if !bytes.Equal(bytes.TrimSpace(p.Data[i]), bytes.TrimSpace(env.Data[i])) {
				t.Fatalf("item %d: %q vs %q", i, p.Data[i], env.Data[i])
			}
		}
		if env.Meta.NextCursor != nil && *env.Meta.NextCursor != p.NextCursor {
			t.Fatalf("next cursor %q vs %q", p.NextCursor, *env.Meta.NextCursor)
		}
	})
}

// BenchmarkList measures the client's whole hot path for one 100-object page
// (request building, pacing, header parsing, body read, envelope decode)
// over an in-process transport with a budget that never makes it wait.
func BenchmarkList(b *testing.B) {
	body := string(realisticPage(100))
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		return mkResp(r, 200, body, CallLimitHeader, "1/1000000000"), nil
	})
	c := newTestClient(b, Config{Transport: rt, RateLimit: 1_000_000_000, RateWindow: time.Second})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := c.List(b.Context(), "tickets", ListParams{OrderBy: "updated_datetime:desc", Cursor: "WyJuZXh0IiwgMjksIDkyOV0="})
		if err != nil || len(p.Data) != 100 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100, "ns/record")
}
