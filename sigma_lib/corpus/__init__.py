"""The TECH corpus (App. C.2): real software documentation to 64-token contexts, frozen.

One module per stage: :mod:`.sources` (what is read, under which licence), :mod:`.html_text`
(HTML to prose), :mod:`.filters` (English and quality filters), :mod:`.bpe` (the project's
byte-level BPE tokeniser), :mod:`.windows` (64-token sliding windows), :mod:`.dedup` (exact
and near-duplicate removal), :mod:`.selection` (seeded, source-balanced choice), :mod:`.assets`
(the frozen files and their manifest), :mod:`.prompts` (the frozen prompt bank),
:mod:`.build` (the pipeline end to end), and :mod:`.new_real` (the frozen unused windows of the
``new-real`` control).
"""
