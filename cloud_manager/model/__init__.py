"""The cloud as planners see it, and what they may ask for: plain data, no I/O.

Everything in this package is shared by every planner (evacuation today, balancing and DRS
next) and by the layers that store and show tasks; it imports nothing else of CloudManager.
"""
