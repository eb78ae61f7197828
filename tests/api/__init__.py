"""Tests of the HTTP service against real ``grader serve`` processes."""
