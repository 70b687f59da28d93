package tombstone

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestRoundTrip(t *testing.T) {
	at := time.Date(2026, 6, 1, 10, 0, 0, 123456789, time.UTC)
	for _, d := range []Deletion{
		{ID: 42, At: at.Truncate(time.Microsecond), Reason: Deleted, EventID: 910000006},
		{ID: 7, At: at.Truncate(time.Microsecond), Reason: Merged, MergedInto: 9, EventID: 1},
		{ID: 3, At: at.Truncate(time.Microsecond), Reason: Disappeared},
	} {
		rec := d.Record("gorgias.tickets")
		if !Is(rec) || rec.Topic != "gorgias.tickets" {
			t.Fatalf("%+v: record %+v is not a tombstone on its topic", d, rec)
		}
		got, err := Parse(rec)
		if err != nil {
			t.Fatal(err)
		}
		if got != d {
			t.Errorf("round trip: got %+v, want %+v", got, d)
		}
	}
}

func TestParseForeignTombstone(t *testing.T) {
	ts := time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)
	got, err := Parse(&kgo.Record{Key: []byte("12"), Timestamp: ts})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Deletion{ID: 12, At: ts, Reason: Deleted}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestParseMalformed(t *testing.T) {
	h := func(k, v string) []kgo.RecordHeader { return []kgo.RecordHeader{{Key: k, Value: []byte(v)}} }
	for name, rec := range map[string]*kgo.Record{
		"key not an id":       {Key: []byte("abc")},
		"null key":            {},
		"bad time":            {Key: []byte("1"), Headers: h(HeaderDeletedAt, "yesterday")},
		"unknown reason":      {Key: []byte("1"), Headers: h(HeaderReason, "lost")},
		"merged without into": {Key: []byte("1"), Headers: h(HeaderReason, "merged")},
		"other op":            {Key: []byte("1"), Headers: h(HeaderOp, "upsert")},
		"bad event id":        {Key: []byte("1"), Headers: h(HeaderEventID, "x")},
	} {
		if _, err := Parse(rec); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", name, err)
		}
	}
}
