"""Data: checking, staging and sharding the user's data, and streamed sources."""

from ._dataset import check_row_broadcast as check_row_broadcast
from ._dataset import checked_device as checked_device
from ._dataset import checked_view as checked_view
from ._dataset import is_traced as is_traced
from ._dataset import leading_nobs as leading_nobs
from ._dataset import prepare_data as prepare_data
from ._shard import resolve_devices as resolve_devices
from ._shard import shard_observations as shard_observations
from ._source import ArraySource as ArraySource
from ._source import DataSource as DataSource
from ._source import ParquetSource as ParquetSource
from ._source import is_source as is_source
