#!/usr/bin/env python3
"""Golden data for tests/test_json.c: random JSON strings exercising every escape (Python's
json module is the independent encoder/decoder). Prints `JSON_STRING HEX_OF_UTF8` per line."""
import json, random

r = random.Random(5)
pool = ['a', '\\', '"', '\n', '\t', '\b', '\f', '\r', '/', '\u00e9', '\u4e2d', '\U0001f600',
        '\u0000', '\u001f', '\u007f', '\u2028', '\U00010348', ' ']
for i in range(300):
    s = ''.join(r.choice(pool) for _ in range(r.randint(0, 12)))
    print(json.dumps(s, ensure_ascii=r.random() < 0.5), s.encode('utf-8').hex())
