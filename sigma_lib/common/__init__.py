"""The foundation every layer may use: atomic writes of files and folders (:mod:`.io`), JSON lines
and file hashes (:mod:`.records`), reading response texts (:mod:`.texts`), notebook and run
parameters (:mod:`.params`) and every profile of the book (:mod:`.profiles`). Nothing here
imports another part of ``sigma_lib``."""
