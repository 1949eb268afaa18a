"""Plain-Python core: models, rules, registry, rotation, reports. Never imports Qt (a test checks)."""
