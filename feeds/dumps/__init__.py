"""Dumps: scraper dumps in, typed records out.

Bytes to text (decoding, legacy encodings), the segmenter (dumpsplit), the parser of a
segment's items (dumpparse, itemparse), identity and dates (records), the process pool that
parses large dumps (parsepool), where dumps come from (sources), the portal's official RSS
read as records (rss) and the writer that makes dumps for tests and benchmarks (dumpwrite).
Imports only text/ and the bottom modules.
"""
