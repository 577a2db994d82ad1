"""The read side: the Redis projection, its queries, the HTTP handlers and the rebuild tool.

It reads what the runtime writes, and never imports the runtime.
"""
