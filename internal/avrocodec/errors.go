package avrocodec

import "errors"

// Sentinel errors of the codec. Errors returned by Encode and Decode wrap one of these.
var (
	// ErrInvalidObject means a Gorgias object cannot become a record: it is not a JSON
	// object, or a required field (id, the sort or version field) is missing or malformed.
	ErrInvalidObject = errors.New("invalid gorgias object")
	// ErrNotSingleObject means a Kafka value does not start with the Avro single-object
	// encoding marker C3 01.
	ErrNotSingleObject = errors.New("not avro single-object encoded")
	// ErrNotConfluent means a Kafka value does not start with the Confluent wire-format
	// header: the magic byte 0x00 and a 4-byte schema id.
	ErrNotConfluent = errors.New("not in the confluent wire format")
	// ErrUnknownSchema means the value's schema fingerprint is not one of the known
	// (embedded or registered) schema versions.
	ErrUnknownSchema = errors.New("unknown schema fingerprint")
	// ErrCorruptRecord means the body did not decode with its writer schema, or left bytes over.
	ErrCorruptRecord = errors.New("corrupt avro record")
)
