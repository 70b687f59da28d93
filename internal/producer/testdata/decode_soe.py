#!/usr/bin/python3
"""Independent decoder for the producer's Kafka values (Avro single-object encoding).

Usage: decode_soe.py <schemas_dir> <records.json>

records.json is a JSON list of base64 strings (Kafka record values). Every .avsc file
under schemas_dir (recursively) is parsed with Debian's python3-avro; its CRC-64-AVRO
fingerprint is computed here from the Parsing Canonical Form (not taken from the Go
side). Each value must start with C3 01, name a known fingerprint and decode with no
bytes left over. Prints a JSON list of the decoded records, with timestamps as integer
microseconds since the epoch.
"""
import base64
import io
import json
import os
import struct
import sys

import avro.io
import avro.schema

from avro_plain import plain

EMPTY = 0xC15D213AA4D7A795


def _table():
    t = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (EMPTY & -(fp & 1))
        t.append(fp)
    return t


TABLE = _table()


def rabin(data):
    fp = EMPTY
    for b in data:
        fp = (fp >> 8) ^ TABLE[(fp ^ b) & 0xFF]
    return fp


def main():
    schemas_dir, records_path = sys.argv[1], sys.argv[2]
    by_fp = {}
    for root, _, files in os.walk(schemas_dir):
        for name in files:
            if name.endswith(".avsc"):
                with open(os.path.join(root, name)) as f:
                    schema = avro.schema.parse(f.read())
                by_fp[rabin(schema.canonical_form.encode("utf-8"))] = schema
    with open(records_path) as f:
        values = json.load(f)
    out = []
    for i, b64 in enumerate(values):
        raw = base64.b64decode(b64)
        if raw[:2] != b"\xc3\x01":
            sys.exit("record %d: not single-object encoded" % i)
        (fp,) = struct.unpack("<Q", raw[2:10])
        schema = by_fp.get(fp)
        if schema is None:
            sys.exit("record %d: unknown fingerprint %016x" % (i, fp))
        body = io.BytesIO(raw[10:])
        datum = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(body))
        if body.tell() != len(raw) - 10:
            sys.exit("record %d: %d bytes left over" % (i, len(raw) - 10 - body.tell()))
        out.append(plain(datum))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
