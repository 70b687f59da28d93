package producer

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"maps"
	"slices"
)

// contentSet maps object ids to the content hash (avrocodec.Record.Content) of a
// snapshot entity. It is stored packed, so that the state of a list of a hundred
// thousand objects stays near a megabyte: a JSON string holding the base64 of, for
// each id in ascending order, the varint difference to the previous id and the 8-byte
// hash (about 15 characters per object).
type contentSet map[int64]uint64

// MarshalJSON implements json.Marshaler.
func (c contentSet) MarshalJSON() ([]byte, error) {
	ids := slices.Sorted(maps.Keys(c))
	buf := make([]byte, 0, len(ids)*11)
	prev := int64(0)
	for _, id := range ids {
		buf = binary.AppendVarint(buf, id-prev)
		buf = binary.LittleEndian.AppendUint64(buf, c[id])
		prev = id
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(buf))
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *contentSet) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	buf, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	out := contentSet{}
	prev := int64(0)
	for len(buf) > 0 {
		d, n := binary.Varint(buf)
		if n <= 0 || len(buf) < n+8 {
			return errors.New("truncated content set")
		}
		prev += d
		out[prev] = binary.LittleEndian.Uint64(buf[n:])
		buf = buf[n+8:]
	}
	*c = out
	return nil
}
