"""Feeds: subscriptions, fetching, parsing and refreshing (Qt-free; see refresh.py for threading).

- subscriptions.py: the `feeds` table (add, rename, interval, group, pause, remove, OPML in/out)
- discover.py: what an address points at (a feed, or a page linking one)
- fetch.py: one bounded, polite HTTP GET (conditional, gzip, caps, redirects, timeouts)
- parse.py: bytes → SourceBatch (RSS/Atom/arXiv via feedparser, Hugging Face JSON)
- sanitize.py: feed HTML → plain text with nh3
- opml.py: OPML read/write with nested folders as groups
- refresh.py: plan → run_job (worker threads) → apply_outcome (library thread); refresh_feeds
"""
