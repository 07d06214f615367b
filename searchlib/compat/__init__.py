"""Ways over from other search libraries.

- :mod:`searchlib.compat.whoosh_import`: copies a Whoosh index into a searchlib index
  (``searchlib import-whoosh``), mapping its schema and checking the copy with queries
  run against both.

Nothing here is imported by the rest of the package: the Whoosh package itself is an
optional dependency (``pip install "searchlib[whoosh]"``), loaded only by the import.
"""
