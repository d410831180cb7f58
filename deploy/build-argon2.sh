#!/bin/sh
# Rebuild Argon2's C core (argon2-cffi-bindings, the version installed) for a CPU, with the
# compiler flags in $1: PyPI's wheel is built for any x86-64 and takes about twice as long
# per hash. PYTHON names the interpreter whose environment gets it (default: python).
# Used by the Makefile (for this machine) and the Dockerfile (for x86-64-v3).
set -eu

cflags="$1"
python="${PYTHON:-python}"
version="$("$python" -c 'from importlib.metadata import version; print(version("argon2-cffi-bindings"))')"
CFLAGS="$cflags" exec "$python" -m pip install --quiet --no-cache-dir --force-reinstall \
    --no-deps --no-binary argon2-cffi-bindings "argon2-cffi-bindings==$version"
