package avrocodec

import (
	"encoding/binary"
	"fmt"
)

// The Confluent wire format, which every Schema Registry aware Kafka tool reads (Kafka
// Connect's AvroConverter, ksqlDB, Flink's avro-confluent, ClickHouse's AvroConfluent):
//
//	byte 0     ConfluentMagic (0x00)
//	bytes 1-4  the writer schema's registry id, big-endian
//	bytes 5-   the Avro binary body, as in single-object encoding after its header
//
// The writer schema is not in the record: it comes from the registry by id.
const (
	// ConfluentMagic is the first byte of a Confluent wire-format value.
	ConfluentMagic byte = 0x00
	// ConfluentHeaderLen is the length of the Confluent header: the magic byte and the
	// 4-byte schema id.
	ConfluentHeaderLen = 5
)

// SplitConfluent splits a Confluent wire-format value into its schema id and Avro body
// (body aliases value). It fails with ErrNotConfluent when value is shorter than the
// header or does not start with ConfluentMagic.
func SplitConfluent(value []byte) (id uint32, body []byte, err error) {
	if len(value) < ConfluentHeaderLen {
		return 0, nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrNotConfluent, len(value), ConfluentHeaderLen)
	}
	if value[0] != ConfluentMagic {
		return 0, nil, fmt.Errorf("%w: first byte 0x%02x", ErrNotConfluent, value[0])
	}
	return binary.BigEndian.Uint32(value[1:ConfluentHeaderLen]), value[ConfluentHeaderLen:], nil
}

// AppendConfluent appends to dst the Confluent wire-format value of an Avro body written
// with the registry schema id, and returns the extended slice.
func AppendConfluent(dst []byte, id uint32, body []byte) []byte {
	dst = append(dst, ConfluentMagic)
	dst = binary.BigEndian.AppendUint32(dst, id)
	return append(dst, body...)
}
