"""The processor's root exceptions (the domain has its own: `processor.domain.errors`)."""


class ArpulseError(Exception):
    """Root of every error the processor raises on purpose."""


class ConfigError(ArpulseError):
    """A setting or the policy file is invalid; start-up stops with this message."""
