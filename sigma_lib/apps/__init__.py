"""The applications, on top of every other layer: the ``sigma`` command line (:mod:`.cli`), the
Hugging Face Trainer and Lightning callbacks (:mod:`.callback`, :mod:`.lightning`) and sharded
scoring on Dask (:mod:`.sharded`)."""
