"""What the tests share beyond fixtures, and the benchmarks too: generated data (synthetic.py), the
real clips and their landmarks (clips.py), real servers and waiting on a condition (servers.py)."""
