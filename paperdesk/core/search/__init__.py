"""Search: a Whoosh index derived from the library and a paper-aware query language.

Modules: `querylang` (parse, no Whoosh), `documents` (a paper's search document from SQLite),
`index` (the index folder, queue draining, rebuild and check), `compiler` (parsed query to
Whoosh query), `engine` (search, snippets, did-you-mean, similar), `saved` (saved searches).
Whoosh is imported only inside functions, so importing this package stays cheap.
"""

from paperdesk.core.search.results import SearchHit, SearchResult

__all__ = ["SearchHit", "SearchResult"]
