"""The whole benchmark suite behind ``python -m tests.benchmarks``: servers, load, cases and
the table of figures beside their references and the goals of issue 17."""
