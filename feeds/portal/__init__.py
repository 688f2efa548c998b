"""Portal: gov.kz itself. The HTTP clients (http, the only requests user), the one client
of the portal that owns every request to it, paced, with the news API's ticket (govkz), the
ticket's pure rules (ticket) and the reading of the API's answer into an `Enrichment`
(enrich). Following (feeds.following) drives it; the store keeps what it returns.
"""
