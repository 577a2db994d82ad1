"""The pure domain core: no I/O, no clock reads, Decimal money and explicit dates.

Every decision here is a function of the events applied so far, the policy and the `now`
handed in, which is what makes replay, simulation, restarts and tests trustworthy.
"""
