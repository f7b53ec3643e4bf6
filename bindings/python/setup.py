"""Build the cffi extension (eid._eid_cffi) with setuptools; metadata is in pyproject.toml."""

from setuptools import setup

setup(cffi_modules=["build_ffi.py:ffibuilder"])
