"""Publish: stored items out as feeds.

What a feed and an entry say (feedmodel), Atom, RSS, JSON Feed and OPML bytes (render), the
pages of feeds read from the store and shared per content version (feedservice, versioned),
the agencies' catalog (catalog), the fingerprint of what shapes a page besides the store
(fingerprint), store outages (outage) and WebSub pings (websub). No Flask here.
"""
