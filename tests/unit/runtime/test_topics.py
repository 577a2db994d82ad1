"""The topic plan: every topic arpulse touches is declared, the changelog compact-only.

Creating them against a real broker, and refusing a wrong partition count, is checked in
tests/integration/test_startup.py.
"""

from __future__ import annotations

from processor.core.settings import Settings
from processor.runtime.topics import topic_plan


def test_every_topic_is_declared_and_only_the_changelog_is_compacted() -> None:
    settings = Settings(app_id="ar-test")
    plan = topic_plan(settings)
    expected = {
        *settings.input_topics,
        *settings.output_topics,
        settings.rekey_topic,
        settings.wake_topic,
        settings.changelog_topic,
    }
    assert set(plan) == expected
    compacted = {settings.changelog_topic, settings.topic_customer_profiles}
    assert all(plan[name] == {"cleanup.policy": "compact"} for name in compacted)
    assert all(config == {} for name, config in plan.items() if name not in compacted)
