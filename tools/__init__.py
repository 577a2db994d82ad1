"""Developer tools that are not part of the shipped worker.

`python -m tools.soak` (what `make soak` runs) puts one worker under sustained load and reports
throughput, consumer lag and resident memory over time. Nothing here is installed with the
package: run it from the repository root.
"""
