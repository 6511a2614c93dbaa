"""Data sets the notebooks analyse: simulated, metered through the tracker, read back, cached.

:func:`metered` runs the book's whole pipeline once (simulate -> meter -> emulator -> read the
store) and caches the result as Parquet, so Parts B-D analyse what was *metered*, and a second
run reads the cache in seconds. The cache directory is ``$SHOWCASE_DATASETS_DIR`` (default
``~/.cache/showcase_lib/datasets``, outside the repository); delete it to start afresh.

Example:
    >>> import os, tempfile
    >>> os.environ["SHOWCASE_DATASETS_DIR"] = tempfile.mkdtemp()
    >>> sim = metered("steady_growth", days=1, customers=2, seed=1)
    >>> list(sim.calls.columns[:3]), sim.params["metered"]["cache"]
    (['timestamp', 'call_id', 'provider'], 'miss')
    >>> del os.environ["SHOWCASE_DATASETS_DIR"]
"""

from ._metered import metered

__all__ = ["metered"]
