"""Indexes over hash lists: exact lookup of cryptographic hashes and a Hamming range index for PDQ.

`opspoor.index.pdq.PDQIndex` returns every stored PDQ hash within a distance of a query (exact, no
misses); `opspoor.index.exact.ExactIndex` looks up md5/sha1/sha256 values. Both grow and shrink in
place and persist as a directory of NumPy arrays with a small versioned JSON header (see persist.py).
"""
