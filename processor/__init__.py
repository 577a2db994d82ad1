"""arpulse: real-time accounts-receivable processing on Kafka."""

__version__ = "0.1.0"
