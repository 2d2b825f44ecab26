"""Running the model: one run (``herdtrap run``, :mod:`.run`), batches of scenarios x
replicates (:mod:`.batch`, ``herdtrap demo`` in :mod:`.demo`), the pure run function every
backend calls (:mod:`.runner`), the joblib/Dask execution layer (:mod:`.execution`) and the
limits on user-given counts (:mod:`.limits`). Results folders are written here and read by
:mod:`experiments.analysis` and :mod:`experiments.report`."""
