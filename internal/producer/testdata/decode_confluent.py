#!/usr/bin/python3
"""Independent decoder for the producer's Kafka values in the Confluent wire format.

Usage: decode_confluent.py <registry_url> <records.json>

records.json is a JSON list of base64 strings (Kafka record values). Each value must
start with the magic byte 0x00 and a 4-byte big-endian schema id; the writer schema is
fetched from the registry over HTTP (GET /schemas/ids/<id>, JSON {"schema": "..."}),
once per id, parsed with Debian's python3-avro, and the body must decode with no bytes
left over. Prints a JSON list of the decoded records, with timestamps as integer
microseconds since the epoch.
"""
import base64
import io
import json
import struct
import sys
import urllib.request

import avro.io
import avro.schema

from avro_plain import plain


def main():
    url, records_path = sys.argv[1].rstrip("/"), sys.argv[2]
    by_id = {}
    with open(records_path) as f:
        values = json.load(f)
    out = []
    for i, b64 in enumerate(values):
        raw = base64.b64decode(b64)
        if len(raw) < 5 or raw[0] != 0:
            sys.exit("record %d: not in the Confluent wire format" % i)
        (sid,) = struct.unpack(">I", raw[1:5])
        schema = by_id.get(sid)
        if schema is None:
            with urllib.request.urlopen("%s/schemas/ids/%d" % (url, sid), timeout=30) as r:
                schema = avro.schema.parse(json.load(r)["schema"])
            by_id[sid] = schema
        body = io.BytesIO(raw[5:])
        datum = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(body))
        if body.tell() != len(raw) - 5:
            sys.exit("record %d: %d bytes left over" % (i, len(raw) - 5 - body.tell()))
        out.append(plain(datum))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
