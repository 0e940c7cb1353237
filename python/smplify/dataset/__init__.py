"""Dataset-scale fitting: sharded inputs → chunks → Parquet shards, resumable, local or Dask.

``fit_dataset(inputs, out_dir, engine="local"|"dask")`` reads keypoints (OpenPose folders,
COCO keypoint files, .npz, Parquet keypoint shards), fits them chunk by chunk (a video's
frames stay in one chunk, so each track warm-starts) and writes one Parquet shard per chunk
with a row per person-frame (``rows``). ``read_results(out_dir)`` reads them back. One job
per module:

- ``inputs``: the inputs as units, and reading a unit;
- ``sharding``: units packed into chunks, shard names;
- ``chunk_fit``: one chunk fitted into rows and its shard (the task every engine runs);
- ``rows``: the row schema, atomic shard writing, reading;
- ``manifest``: what a run depends on, checked on restart;
- ``engines``: the local thread pool and the Dask cluster;
- ``run``: ``fit_dataset`` itself;
- ``command``: ``smplify dataset`` (the CLI).
"""

from .chunk_fit import FitSpec
from .engines import ENGINES, DaskUnavailable
from .manifest import DatasetMismatchError
from .rows import STATUSES
from .run import DatasetSummary, fit_dataset, read_results, shard_paths

__all__ = ["fit_dataset", "read_results", "shard_paths", "DatasetSummary",
           "DatasetMismatchError", "DaskUnavailable", "FitSpec", "ENGINES", "STATUSES"]
