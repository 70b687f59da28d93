// Package tombstone is the Kafka convention for a deletion on an entity topic: a record
// whose key is the object's id (a decimal string, as for every version) and whose value
// is null, with headers that say it is a delete, when it happened, why, and which event
// caused it. The producer writes tombstones with Record; the sinks read them with Parse.
//
// Headers (all values UTF-8 text):
//
//	gorgias.op           "delete"
//	gorgias.deleted_at   when the object was deleted, RFC 3339 with microseconds, UTC
//	                     (the event's created_datetime, or the extraction time of the
//	                     snapshot that found it gone)
//	gorgias.reason       "deleted", "merged" or "disappeared"
//	gorgias.merged_into  the surviving object's id (only when the reason is "merged")
//	gorgias.event_id     the id of the Gorgias event that reported it (absent for
//	                     "disappeared")
//
// A null value on a compacted topic is also what log compaction understands as a
// delete, so a consumer that knows nothing of these headers still sees the object go.
package tombstone

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Header names of a tombstone.
const (
	HeaderOp         = "gorgias.op"
	HeaderDeletedAt  = "gorgias.deleted_at"
	HeaderReason     = "gorgias.reason"
	HeaderMergedInto = "gorgias.merged_into"
	HeaderEventID    = "gorgias.event_id"
)

// OpDelete is the value of HeaderOp on a tombstone.
const OpDelete = "delete"

// Reason says why an object was deleted.
type Reason string

// The reasons of a deletion.
const (
	// Deleted: an event reported the object deleted and its detail endpoint answers 404.
	Deleted Reason = "deleted"
	// Merged: the object was merged into another one (Deletion.MergedInto), which lives on.
	Merged Reason = "merged"
	// Disappeared: a full read of a snapshot entity no longer lists the object.
	Disappeared Reason = "disappeared"
)

// Deletion is one object's deletion.
type Deletion struct {
	// ID is the deleted object's id.
	ID int64
	// At is when it was deleted, in microseconds (UTC).
	At time.Time
	// Reason says why.
	Reason Reason
	// MergedInto is the survivor's id when Reason is Merged, else 0.
	MergedInto int64
	// EventID is the Gorgias event that reported the deletion, 0 for none.
	EventID int64
}

// ErrMalformed is returned by Parse for a null-valued record whose key is not an id or
// whose tombstone headers do not parse.
var ErrMalformed = errors.New("malformed tombstone")

// Record is the tombstone of d on topic: key d.ID, null value, the headers above.
func (d Deletion) Record(topic string) *kgo.Record {
	h := []kgo.RecordHeader{
		{Key: HeaderOp, Value: []byte(OpDelete)},
		{Key: HeaderDeletedAt, Value: []byte(d.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano))},
		{Key: HeaderReason, Value: []byte(d.Reason)},
	}
	if d.MergedInto != 0 {
		h = append(h, kgo.RecordHeader{Key: HeaderMergedInto, Value: strconv.AppendInt(nil, d.MergedInto, 10)})
	}
	if d.EventID != 0 {
		h = append(h, kgo.RecordHeader{Key: HeaderEventID, Value: strconv.AppendInt(nil, d.EventID, 10)})
	}
	return &kgo.Record{Topic: topic, Key: strconv.AppendInt(nil, d.ID, 10), Value: nil, Headers: h}
}

// Is reports whether rec is a tombstone: a null value (whatever its headers).
func Is(rec *kgo.Record) bool { return rec.Value == nil }

// Parse reads the deletion a tombstone carries. A null-valued record without our headers
// (written by another tool) is a deletion too: reason Deleted, at the record's
// timestamp. It fails with ErrMalformed when the key is not a decimal id or a header
// does not parse.
func Parse(rec *kgo.Record) (Deletion, error) {
	id, err := strconv.ParseInt(string(rec.Key), 10, 64)
	if err != nil {
		return Deletion{}, fmt.Errorf("%w: key %.40q is not an id", ErrMalformed, rec.Key)
	}
	d := Deletion{ID: id, At: rec.Timestamp.UTC().Truncate(time.Microsecond), Reason: Deleted}
	for _, h := range rec.Headers {
		if err := d.set(h.Key, string(h.Value)); err != nil {
			return Deletion{}, fmt.Errorf("%w: header %s: %v", ErrMalformed, h.Key, err)
		}
	}
	if d.Reason == Merged && d.MergedInto == 0 {
		return Deletion{}, fmt.Errorf("%w: reason merged without %s", ErrMalformed, HeaderMergedInto)
	}
	return d, nil
}

// set applies one header to d; headers of other names are ignored.
func (d *Deletion) set(key, v string) error {
	var err error
	switch key {
	case HeaderOp:
		if v != OpDelete {
			err = fmt.Errorf("%q is not %q", v, OpDelete)
		}
	case HeaderDeletedAt:
		d.At, err = time.Parse(time.RFC3339Nano, v)
		d.At = d.At.UTC().Truncate(time.Microsecond)
	case HeaderReason:
		switch r := Reason(v); r {
		case Deleted, Merged, Disappeared:
			d.Reason = r
		default:
			err = fmt.Errorf("unknown reason %q", v)
		}
	case HeaderMergedInto:
		d.MergedInto, err = strconv.ParseInt(v, 10, 64)
	case HeaderEventID:
		d.EventID, err = strconv.ParseInt(v, 10, 64)
	}
	return err
}
