package avrocodec

import (
	"encoding/binary"
	"fmt"
)

// singleObjectHeaderLen is the length of the single-object header: C3 01 and the
// 8-byte little-endian fingerprint.
const singleObjectHeaderLen = 10

// ReframeConfluent turns a single-object encoded value (as Encoder.Encode writes it)
// into the Confluent wire format with the registry schema id, in place and without
// allocating: the 10-byte single-object header is longer than the 5-byte Confluent
// header, so the Confluent header is written over the header's last 5 bytes and the
// result is value[5:], sharing value's memory. It fails with ErrNotSingleObject when
// value is not single-object encoded.
func ReframeConfluent(value []byte, id uint32) ([]byte, error) {
	if len(value) < singleObjectHeaderLen || value[0] != 0xC3 || value[1] != 0x01 {
		return nil, fmt.Errorf("%w: cannot reframe as Confluent wire format", ErrNotSingleObject)
	}
	out := value[singleObjectHeaderLen-ConfluentHeaderLen:]
	out[0] = ConfluentMagic
	binary.BigEndian.PutUint32(out[1:ConfluentHeaderLen], id)
	return out, nil
}
