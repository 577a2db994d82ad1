"""Offline what-if: a policy's decisions over a recorded history (`arpulse simulate`)."""
