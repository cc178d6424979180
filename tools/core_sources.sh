#!/usr/bin/env bash
# tools/core_sources.sh — the core's C sources, one per line, relative to the repository root:
# every core/<part>/*.c except the browser boundary (core/api/). CMakeLists.txt globs the same
# set; the scripts that build without CMake (fuzzers, WASM unit tests, benchmarks) call this.
cd "$(dirname "$0")/.." && ls core/*/*.c | grep -v '^core/api/'
