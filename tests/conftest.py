"""Fixtures shared by the test modules.

The tests run torch with whatever thread count the samplers choose, as users get it: no test
forces one thread.
"""
