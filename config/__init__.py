"""Settings per environment: default, testing, production; the environment overrides them."""
