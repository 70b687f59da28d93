package avrocodec

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gorgias-kafka/gorgias-kafka/internal/catalog"
)

func TestReframeConfluent(t *testing.T) {
	ent, _ := catalog.Lookup("customers")
	enc, err := NewEncoder(ent)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := enc.Encode([]byte(`{"id":7,"created_datetime":"2024-01-02T03:04:05Z","updated_datetime":"2024-01-02T03:04:05Z","email":"a@b.c"}`), Meta{Domain: "d"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := append([]byte(nil), rec.Value[10:]...)
	reg, _ := NewRegistry()
	_, want, err := reg.DecodeRow(rec.Value)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ReframeConfluent(rec.Value, 0x01020304)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, AppendConfluent(nil, 0x01020304, body)) {
		t.Fatalf("reframed % x", out[:8])
	}
	id, b, err := SplitConfluent(out)
	if err != nil || id != 0x01020304 {
		t.Fatalf("split: %d %v", id, err)
	}
	got, err := reg.DecodeRowBody(enc.Schema(), b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || got[0] != want[0] {
		t.Fatalf("decoded %v, want %v", got, want)
	}
	if _, err := ReframeConfluent([]byte{0, 0, 0, 0, 1, 2}, 1); !errors.Is(err, ErrNotSingleObject) {
		t.Fatalf("err = %v", err)
	}
}
