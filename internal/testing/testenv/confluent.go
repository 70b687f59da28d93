package testenv

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/gorgias-kafka/gorgias-kafka/internal/avrocodec"
)

// SingleObject returns value in single-object encoding, so that the checks of this
// package (written for it) also read records in the Confluent wire format: a value
// starting with 0x00 is split into its schema id and body, the writer schema is fetched
// through e.SchemaByID (the test fails when it is nil), registered in e.Reg under
// ent's name, and the body is framed with that schema's fingerprint. Any other value
// is returned as is.
func (e *Env) SingleObject(t testing.TB, entity string, value []byte) []byte {
	t.Helper()
	if len(value) == 0 || value[0] != avrocodec.ConfluentMagic {
		return value
	}
	id, body, err := avrocodec.SplitConfluent(value)
	if err != nil {
		t.Fatalf("confluent value: %v", err)
	}
	if e.SchemaByID == nil {
		t.Fatalf("a Confluent wire-format value (schema id %d) but no Env.SchemaByID to resolve it", id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	text, err := e.SchemaByID(ctx, int(id))
	if err != nil {
		t.Fatalf("schema id %d: %v", id, err)
	}
	s, err := e.Reg.Register(entity, text)
	if err != nil {
		t.Fatalf("schema id %d: %v", id, err)
	}
	out := make([]byte, 10, 10+len(body))
	out[0], out[1] = 0xC3, 0x01
	binary.LittleEndian.PutUint64(out[2:], s.Fingerprint)
	return append(out, body...)
}
