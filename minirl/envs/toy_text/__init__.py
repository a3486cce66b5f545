"""Tabular (toy-text) environments; each registers itself with `minirl.envs.register`."""
