"""The offline demo's site: a local replica of the resource centre's WordPress site.

It lives outside the core: only `fonds demo`, `fonds bench crawl` and the tests serve it.
The hostile routes (broken answers, a gzip bomb) belong to the tests (tests/hostile_site.py).
"""
