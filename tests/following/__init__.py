"""Tests of following gov.kz (feeds.following) against a fake portal."""
