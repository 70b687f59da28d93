"""plain: a decoded python3-avro datum in the JSON form the Go tests compare
(timestamps as microseconds since the epoch), shared by decode_soe.py and
decode_confluent.py."""

import datetime


def plain(v):
    if isinstance(v, datetime.datetime):
        delta = v - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v
