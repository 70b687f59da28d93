package avrocodec

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestSplitConfluent(t *testing.T) {
	tests := []struct {
		name     string
		value    []byte
		wantID   uint32
		wantBody []byte
		wantErr  error
	}{
		{"id and body", []byte{0, 0, 0, 1, 2, 0xAA, 0xBB}, 258, []byte{0xAA, 0xBB}, nil},
		{"largest id, empty body", []byte{0, 0xFF, 0xFF, 0xFF, 0xFF}, 0xFFFFFFFF, []byte{}, nil},
		{"big-endian id", []byte{0, 0x01, 0x02, 0x03, 0x04, 7}, 0x01020304, []byte{7}, nil},
		{"nil", nil, 0, nil, ErrNotConfluent},
		{"short header", []byte{0, 0, 0, 1}, 0, nil, ErrNotConfluent},
		{"single-object marker", []byte{0xC3, 0x01, 0, 0, 0, 0, 0, 0, 0, 0}, 0, nil, ErrNotConfluent},
		{"JSON", []byte(`{"id":1}`), 0, nil, ErrNotConfluent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, body, err := SplitConfluent(tc.value)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if id != tc.wantID || !bytes.Equal(body, tc.wantBody) {
				t.Fatalf("got id %d body %x, want id %d body %x", id, body, tc.wantID, tc.wantBody)
			}
		})
	}
}

func TestAppendConfluentRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		dst  []byte
		id   uint32
		body []byte
		want []byte
	}{
		{"empty dst", nil, 1, []byte{9, 8}, []byte{0, 0, 0, 0, 1, 9, 8}},
		{"appends to dst", []byte{0xEE}, 0x01020304, []byte{5}, []byte{0xEE, 0, 1, 2, 3, 4, 5}},
		{"empty body", nil, 0, nil, []byte{0, 0, 0, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendConfluent(tc.dst, tc.id, tc.body)
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("AppendConfluent = %x, want %x", got, tc.want)
			}
			id, body, err := SplitConfluent(got[len(tc.dst):])
			if err != nil || id != tc.id || !bytes.Equal(body, tc.body) {
				t.Fatalf("SplitConfluent = %d, %x, %v; want %d, %x", id, body, err, tc.id, tc.body)
			}
		})
	}
}

// A record re-framed in the Confluent format decodes, through DecodeRowBody, to exactly
// what DecodeRow gives for its single-object form; a bad body fails like DecodeRow.
func TestDecodeRowBodyMatchesDecodeRow(t *testing.T) {
	reg, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := NewEncoder(mustEntity(t, "tickets"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := enc.Encode([]byte(ticketJSON), Meta{Domain: "acme"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, want, err := reg.DecodeRow(rec.Value)
	if err != nil {
		t.Fatal(err)
	}
	body := rec.Value[10:]
	tests := []struct {
		name    string
		value   []byte
		wantErr error
	}{
		{"whole body", AppendConfluent(nil, 7, body), nil},
		{"truncated", AppendConfluent(nil, 7, body[:len(body)-3]), ErrCorruptRecord},
		{"trailing bytes", AppendConfluent(nil, 7, append(append([]byte{}, body...), 0, 0)), ErrCorruptRecord},
		{"empty body", AppendConfluent(nil, 7, nil), ErrCorruptRecord},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, b, err := SplitConfluent(tc.value)
			if err != nil || id != 7 {
				t.Fatalf("split: %d, %v", id, err)
			}
			got, err := reg.DecodeRowBody(s, b)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("DecodeRowBody differs from DecodeRow:\n got %v\nwant %v", got, want)
			}
		})
	}
}
