"""The mathematics of the paper (Secs. 2-3, App. B), in NumPy: log-determinants, Gram matrices, the
observed block, Theorems 1-3, Track I/II, Algorithm 1, the noise band, the streaming monitor, the
text-surface and spectral diversity signals, and the Monte Carlo studies of the theorem chapter.

Imports only :mod:`sigma_lib.common` (the layer test, ``tests/test_layers.py``, checks it); the
package facade :mod:`sigma_lib` re-exports the public API. Each module names the equations it
implements; the book's method page restates them."""
