"""Tests of the scheduler runtime."""
