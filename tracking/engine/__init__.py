"""The analysis engine: pure Python + NumPy, no Django. Landmarks in, events out."""
