"""The Faust runtime: the app, its agents and loops, and the adapters onto Faust and the broker.

Everything that knows Faust lives here (its private APIs and patches in `faust_adapter` only).
"""
