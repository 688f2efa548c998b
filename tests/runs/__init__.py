"""Tests of whole runs: the command line, the scheduler, deployments, crashes."""
