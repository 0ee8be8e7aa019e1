"""What Nova loads: the compute drivers (``virt``) and the scheduler filter (``scheduler``)."""
