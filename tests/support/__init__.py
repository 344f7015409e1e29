"""What the tests share beyond fixtures: generated data."""
