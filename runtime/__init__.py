"""What both analysis/ and report/ use to run a build: the worker processes (runtime.executor)."""
