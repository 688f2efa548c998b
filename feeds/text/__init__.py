"""Text: the pure functions every stage shares for words and markup.

Cleaning lines (textclean), gov.kz links and citations (links), language detection
(language), topics from config/topics.toml (classify; its terms found by termfinder), HTML
sanitizing (sanitize), search terms, the query language and snippets (search_terms,
searchquery, snippet). Nothing here does I/O or knows a dump, the store or the web: text in,
values out.
"""
