"""The application core: the pipeline, its ports and everything it needs, with no Faust or Redis.

Between the pure domain and the adapters: validate at the edge, order, decide through the domain,
turn decisions into contract bytes, encode state, schedule wake-ups. Tested in memory.
"""
