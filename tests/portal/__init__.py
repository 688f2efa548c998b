"""Tests of the one client of gov.kz: its ticket, its RSS, its pace (feeds.portal)."""
