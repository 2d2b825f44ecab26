"""The model's processes, one module each, in the order of :data:`model.schedule.SCHEDULE`.

Every module holds pure functions of numpy arrays (the equations of docs/ODD.md §7)
and one thin adapter per process, ``name(model)``, that reads the household
columns, draws its random numbers from the named streams and writes the results
back. The adapters are what the schedule calls.
"""
