"""Which per-snapshot values stack into one array along time (files.load and the xarray form
both ask; here so that neither module imports the other)."""
import numpy as np


def stackable(values):
    """Numbers or numeric arrays of one shape (not Records, text or missing entries)."""
    if any(v is None or isinstance(v, (dict, str)) for v in values):
        return False
    dtypes = [v.dtype if hasattr(v, "dtype") else np.asarray(v).dtype for v in values]  # (a lazy array: unread)
    return len({np.shape(v) for v in values}) == 1 and all(d.kind in "biuf" for d in dtypes)
