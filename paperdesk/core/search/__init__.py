"""Search: a Whoosh index derived from the library and a paper-aware query language.

Modules: `manager` (`lib.search`, the one door: searches, saved searches, the index's upkeep),
`querylang` (parse, no Whoosh), `documents` (a paper's search document from SQLite), `index` (the
index folder, queue draining, rebuild and check), `compiler` (parsed query to Whoosh query),
`engine` (search, snippets, did-you-mean, similar).
Whoosh is imported only inside functions, so importing this package stays cheap.
"""

from paperdesk.core.search.results import SearchHit, SearchResult

__all__ = ["SearchHit", "SearchResult"]
